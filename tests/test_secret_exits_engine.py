"""Secrets and engine strings at every exit, against the private engine: a container made outside Shipmate with
secrets in its environment and its command line and a hostile owner label, asked about through the dispatcher as
`make_dispatcher` wires it; the replies (Block Kit and text), the audit database and the JSON log line searched."""

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from bot.assembly import make_dispatcher
from bot.audit import AuditLog, AuditRecord
from bot.config import CoreSettings
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.engine.containers import OWNER_LABEL
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import ContainerDetails, Failure, ProcessTable, Result, RunDone
from bot.secrets import MASK
from bot.slack.audit_channel import AuditChannelSink
from tests.blockkit import assert_valid_message
from tests.private_engine import PrivateEngine
from tests.slack_user import wait_until

pytestmark = pytest.mark.engine

POLICY = """\
members:
  U0OPER: operator
  "*": viewer
"""
URL = "postgres://app:s3cr3t@db/app"
MASKED_URL = f"postgres://app:{MASK}@db/app"
PAT = "ghp_" + "k7Pq" * 9
# Everything that must not leave Shipmate: the env values, and the secrets on the process's command line.
SECRETS = ("hunter2", "s3cr3t", "tok-9f8e7d", "k7Pq" * 9)


@dataclass
class Bot:
    dispatcher: Dispatcher
    api: docker.APIClient
    audit_db: Path

    def do(self, user: str, line: str, render: Callable[[Result], object] = to_message) -> Reply:
        slash, _, text = line.partition(" ")
        caller = Caller(user_id=user, team_id="T0TEAM", channel_id="C0OPS", user_name=user.lower())
        return self.dispatcher.handle(Request(text=text, slash=slash, caller=caller), render)

    def shown(self, user: str, line: str) -> tuple[Reply, str]:
        """The reply as Block Kit (checked as Slack would) and all that both renderers show, as one string."""
        reply = self.do(user, line)
        assert_valid_message(reply.message)
        as_text = self.do(user, line, to_text).message
        return reply, json.dumps(reply.message.payload(), ensure_ascii=False) + "\n" + str(as_text)

    def records(self) -> list[AuditRecord]:
        assert self.dispatcher.audit is not None and self.dispatcher.audit.flush()
        reopened = AuditLog(self.audit_db)
        try:
            return reopened.latest(limit=200)
        finally:
            reopened.close()


@pytest.fixture
def bot(clean_engine: PrivateEngine, tmp_path: Path) -> Iterator[Bot]:
    (tmp_path / "policy.yml").write_text(POLICY)
    settings = CoreSettings(
        docker_host=clean_engine.docker_host,
        docker_timeout=30,
        run_timeout=20,
        policy_path=tmp_path / "policy.yml",
        audit_db=tmp_path / "audit.db",
        confirm_secret=b"test-confirmation-secret-0123456789",
        confirm_ttl=90,
    )
    dispatcher = make_dispatcher(settings)
    api = clean_engine.api()
    # Made outside Shipmate: secrets in its env and on its command line, and an owner label that is mrkdwn.
    created = api.create_container(
        "busybox:latest",
        ["sh", "-c", "sleep 300; true", "API_TOKEN=tok-9f8e7d", f"--db={URL}"],
        name="db",
        environment=["DB_PASSWORD=hunter2", f"DATABASE_URL={URL}"],
        labels={OWNER_LABEL: "<!channel> <https://evil.example|click>"},
    )
    api.start(created["Id"])
    yield Bot(dispatcher, api, settings.audit_db)
    dispatcher.close()
    api.close()


def _leaks(shown: str) -> list[str]:
    return [secret for secret in SECRETS if secret in shown]


@pytest.mark.parametrize("options", ["auxe", "eww", "axe", "-o pid,args,environ"])
def test_a_viewer_cannot_make_top_print_the_environment(bot: Bot, options: str) -> None:
    refused, shown = bot.shown("U0VIEWER", f"/docker top db {options}")
    assert isinstance(refused.result, Failure) and not refused.ok
    assert "allowed: ps flags from" in refused.result.reason and "\n" not in refused.result.reason
    assert _leaks(shown) == []


def test_top_masks_secret_words_in_the_command_column(bot: Bot) -> None:
    def engine_shows_the_token() -> bool:
        return any("tok-9f8e7d" in " ".join(process) for process in bot.api.top("db", ps_args="auxww")["Processes"])

    wait_until(engine_shows_the_token, 10, "the container's shell in the engine's process table")
    # ww: the whole command line, however wide (ps cuts it to the engine's COLUMNS otherwise)
    listed, shown = bot.shown("U0VIEWER", "/docker top db auxww")
    assert isinstance(listed.result, ProcessTable) and listed.ok
    assert f"API_TOKEN={MASK}" in shown and f"--db={MASKED_URL}" in shown
    assert _leaks(shown) == []
    columns, shown = bot.shown("U0VIEWER", "/docker top db -ww -o pid,user,args")
    assert isinstance(columns.result, ProcessTable) and columns.result.titles == ("PID", "USER", "COMMAND")
    assert f"API_TOKEN={MASK}" in shown and _leaks(shown) == []


def test_inspect_masks_by_name_and_by_value_and_escapes_the_owner_label(bot: Bot) -> None:
    inspected, shown = bot.shown("U0VIEWER", "/docker container inspect db")
    assert isinstance(inspected.result, ContainerDetails)
    assert f"DATABASE_URL={MASKED_URL}" in shown and f"DB_PASSWORD={MASK}" in shown
    assert _leaks(shown) == []
    payload = json.dumps(inspected.message.payload(), ensure_ascii=False)
    assert "<!channel>" not in payload and "<https://evil" not in payload
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt;" in payload


def test_a_run_with_secrets_leaves_none_in_the_audit_or_its_log_line(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    line = f"/run -d --name app2 -e DATABASE_URL={URL} -e GITHUB_PAT={PAT} busybox sleep 300"
    with caplog.at_level(logging.INFO, logger="shipmate.audit"):
        started, shown = bot.shown("U0OPER", line)
        assert isinstance(started.result, RunDone) and started.ok
        records = bot.records()
    env = bot.api.inspect_container("app2")["Config"]["Env"]
    assert f"DATABASE_URL={URL}" in env and f"GITHUB_PAT={PAT}" in env  # the container did get them
    run = next(record for record in records if record.action == "container.run")
    assert f"DATABASE_URL={MASKED_URL}" in run.command and f"GITHUB_PAT={MASK}" in run.command
    logged = "\n".join(record.getMessage() for record in caplog.records if record.name == "shipmate.audit")
    assert MASKED_URL in logged
    for exit_text in (shown, logged, AuditChannelSink.line(run), *(r.json() for r in records)):
        assert _leaks(exit_text) == [], exit_text
