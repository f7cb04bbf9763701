"""Permissions end to end: the Dispatcher exactly as `make_dispatcher` wires it (policy file, audit database,
confirmations), against the private Docker engine, with every check made on Docker's real state and on the
audit database as a restarted bot would read it. User groups come from a fake lookup (Slack's side of it is
tested over HTTP in test_policy.py)."""

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from bot.assembly import make_dispatcher
from bot.audit import AuditLog, AuditRecord
from bot.config import CoreSettings
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL
from bot.render.blocks import to_message
from bot.results import AuditTrail, ConfirmationRequest, ContainerTable, Failure, Identity, Notice, Outcomes, RunDone
from bot.store.audit import STARTED
from tests.blockkit import assert_valid_message
from tests.private_engine import PrivateEngine

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parent.parent
POLICY = """\
roles:
  viewer: [image.ls, image.inspect, container.ls, container.inspect, container.logs]
  operator: [viewer, container.run, container.start, container.stop, container.restart, image.pull, container.rm:own]
  admin: ["*"]
  self-service: [container.ls:own, container.run]
members:
  U0ADMIN: admin
  U0OPER: operator
  U0OPER2: operator
  S0ONCALL: operator
  U0SELF: self-service
  "*": viewer
channels: [C0OPS, im]
images: [nginx, busybox]
run:
  memory: 64m
  cpus: 0.5
"""
TEAM = "T0TEAM"


class FakeGroups:
    def __init__(self, groups: dict[str, set[str]]) -> None:
        self.groups = groups

    def members_of(self, group_id: str) -> frozenset[str]:
        return frozenset(self.groups.get(group_id, ()))


@dataclass
class Bot:
    dispatcher: Dispatcher
    api: docker.APIClient
    audit_db: Path

    def do(self, user: str, line: str, channel: str = "C0OPS") -> Reply:
        slash, _, text = line.partition(" ")
        caller = Caller(user_id=user, team_id=TEAM, channel_id=channel, user_name=user.lower())
        reply = self.dispatcher.handle(Request(text=text, slash=slash, caller=caller), to_message)
        assert_valid_message(reply.message)
        return reply

    def click(self, reply: Reply, user: str, cancel: bool = False) -> Reply:
        assert isinstance(reply.result, ConfirmationRequest), reply.result
        caller = Caller(user_id=user, team_id=TEAM, channel_id="C0OPS", user_name=user.lower())
        answer = self.dispatcher.cancel if cancel else self.dispatcher.confirm
        clicked = answer(reply.result.token, caller, to_message)
        assert_valid_message(clicked.message)
        return clicked

    def names(self) -> set[str]:
        return {item["Names"][0].lstrip("/") for item in self.api.containers(all=True)}

    def state(self, name: str) -> str:
        return self.api.inspect_container(name)["State"]["Status"]

    def records(self) -> list[AuditRecord]:
        """The audit as a restarted bot reads it: from the database file, oldest first; a change's first record
        (outcome `started`, stored before Docker saw it) left out: the final one says how it went."""
        assert self.dispatcher.audit is not None and self.dispatcher.audit.flush()
        reopened = AuditLog(self.audit_db)
        try:
            return [r for r in reversed(reopened.latest(limit=200)) if r.outcome != STARTED]
        finally:
            reopened.close()

    def trail(self) -> list[tuple[str, str, str, str]]:
        return [(r.user_id, r.command, r.decision, r.outcome) for r in self.records()]


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
    dispatcher = make_dispatcher(settings, group_lookup=FakeGroups({"S0ONCALL": {"U0PAGER"}}))
    api = clean_engine.api()
    yield Bot(dispatcher, api, settings.audit_db)
    dispatcher.close()
    api.close()


def test_a_viewer_can_list_but_not_run(bot: Bot) -> None:
    listed = bot.do("U0VIEWER", "/ps -a")
    assert isinstance(listed.result, ContainerTable) and listed.ok
    refused = bot.do("U0VIEWER", "/run -d --name viewers-web nginx")
    assert isinstance(refused.result, Failure) and not refused.ok
    assert refused.result.reason == "you are viewer; `container.run` needs operator or self-service"
    assert refused.message.is_error
    assert bot.names() == set()
    assert bot.trail() == [
        ("U0VIEWER", "/ps -a", "allowed", "ok"),
        ("U0VIEWER", "/run -d --name viewers-web nginx", "refused", "refused"),
    ]


def test_an_operator_runs_and_removes_their_own_container_with_policy_limits(bot: Bot) -> None:
    started = bot.do("U0OPER", "/run -d --name op-web nginx")
    assert isinstance(started.result, RunDone) and started.ok
    data = bot.api.inspect_container("op-web")
    assert data["Config"]["Labels"][OWNER_LABEL] == "U0OPER" and data["Config"]["Labels"][TEAM_LABEL] == TEAM
    assert data["HostConfig"]["Memory"] == 64 * 1024 * 1024 and data["HostConfig"]["NanoCpus"] == 500_000_000

    asked = bot.do("U0OPER", "/rm -f op-web")
    assert isinstance(asked.result, ConfirmationRequest) and not asked.ok
    assert bot.state("op-web") == "running"  # nothing happens before the click
    removed = bot.click(asked, "U0OPER")
    assert isinstance(removed.result, Outcomes) and removed.ok
    assert removed.result.outcomes[0].target == "op-web"  # the typed name, though it ran on the pinned id
    assert bot.names() == set()
    assert [entry[2:] for entry in bot.trail()] == [("allowed", "ok"), ("confirm", "pending"), ("confirmed", "ok")]


def test_an_operator_cannot_touch_someone_elses_container(bot: Bot) -> None:
    assert bot.do("U0OPER2", "/run -d --name other-web nginx").ok
    for line in ("/rm -f other-web", "/rm other-web", "/rm other-web ghost"):
        refused = bot.do("U0OPER", line)
        assert isinstance(refused.result, Failure), line
        assert "you may act only on containers you started, and `other-web` was started by U0OPER2" in (
            refused.result.reason
        )
    assert bot.state("other-web") == "running"
    assert bot.do("U0OPER", "/logs other-web").ok  # logs are granted in full (through viewer)
    assert [entry[2] for entry in bot.trail()] == ["allowed", "refused", "refused", "refused", "allowed"]


def test_an_admin_removes_anyones_container(bot: Bot) -> None:
    assert bot.do("U0OPER", "/run -d --name someones-web nginx").ok
    asked = bot.do("U0ADMIN", "/rm someones-web")  # running: confirming removes it anyway
    assert "running" in asked.result.summary and asked.result.command == "/docker --context default rm -f someones-web"
    assert bot.click(asked, "U0ADMIN").ok
    assert bot.names() == set()
    assert bot.trail()[-1] == ("U0ADMIN", "/docker --context default rm -f someones-web", "confirmed", "ok")


def test_an_unlisted_channel_is_refused_and_docker_is_unchanged(bot: Bot) -> None:
    refused = bot.do("U0ADMIN", "/run -d --name elsewhere nginx", channel="C0RANDOM")
    assert refused.result.reason == "Shipmate takes commands only in C0OPS and direct messages, not in this channel"
    assert bot.names() == set()
    assert bot.do("U0ADMIN", "/run -d --name in-a-dm nginx", channel="D0DIRECT").ok  # `im` is listed
    assert bot.names() == {"in-a-dm"}
    assert [(r.channel_id, r.decision) for r in bot.records()] == [("C0RANDOM", "refused"), ("D0DIRECT", "allowed")]


def test_a_non_allowlisted_image_is_refused_and_docker_is_unchanged(bot: Bot) -> None:
    images_before = sorted(tag for image in bot.api.images() for tag in image["RepoTags"] or [])
    run = bot.do("U0ADMIN", "/run -d --name colours devwikirepo/envnodecolorapp")
    assert run.result.reason == "`devwikirepo/envnodecolorapp` is not on the image allowlist (nginx, busybox)"
    pull = bot.do("U0ADMIN", "/img pull bigimage")
    assert pull.result.reason == "`bigimage:latest` is not on the image allowlist (nginx, busybox)"
    assert bot.names() == set()
    assert sorted(tag for image in bot.api.images() for tag in image["RepoTags"] or []) == images_before
    assert [entry[2:] for entry in bot.trail()] == [("refused", "refused"), ("refused", "refused")]


def test_user_group_membership_grants_a_role(bot: Bot) -> None:
    assert bot.do("U0PAGER", "/run -d --name paged nginx").ok  # operator through S0ONCALL
    assert bot.api.inspect_container("paged")["Config"]["Labels"][OWNER_LABEL] == "U0PAGER"
    assert not bot.do("U0STRANGER", "/run -d --name stranger nginx").ok
    assert bot.names() == {"paged"}
    whoami = bot.do("U0PAGER", "/docker whoami")
    assert isinstance(whoami.result, Identity)
    assert whoami.result.roles == ("operator",) and whoami.result.granted_by == ("S0ONCALL",)
    assert [entry[2] for entry in bot.trail()] == ["allowed", "refused", "allowed"]


def test_a_confirmation_cannot_be_clicked_by_someone_else(bot: Bot) -> None:
    assert bot.do("U0OPER", "/run -d --name guarded nginx").ok
    asked = bot.do("U0OPER", "/rm -f guarded")
    for clicker in ("U0ADMIN", "U0OPER2"):
        refused = bot.click(asked, clicker)
        assert isinstance(refused.result, Failure) and refused.result.reason.startswith("only U0OPER can confirm")
    assert bot.state("guarded") == "running"
    assert bot.click(asked, "U0OPER").ok
    assert bot.names() == set()
    assert [(r.user_id, r.decision) for r in bot.records()][1:] == [
        ("U0OPER", "confirm"),
        ("U0ADMIN", "rejected"),
        ("U0OPER2", "rejected"),
        ("U0OPER", "confirmed"),
    ]


def test_a_confirmation_expires(bot: Bot) -> None:
    assert bot.do("U0OPER", "/run -d --name slowpoke nginx").ok
    asked = bot.do("U0OPER", "/rm -f slowpoke")
    confirmer = bot.dispatcher.confirmer
    real_clock = confirmer.clock
    confirmer.clock = lambda: real_clock() + confirmer.ttl + 1
    assert asked.result.expires_in == 90  # SHIPMATE_CONFIRM_TTL
    late = bot.click(asked, "U0OPER")
    assert isinstance(late.result, Failure) and "expired" in late.result.reason
    assert bot.state("slowpoke") == "running"
    assert bot.trail()[-1][2:] == ("rejected", "rejected")


def test_a_confirmation_runs_once(bot: Bot) -> None:
    assert bot.do("U0OPER", "/run -d --name once nginx").ok
    asked = bot.do("U0OPER", "/rm -f once")
    assert bot.click(asked, "U0OPER").ok
    assert bot.do("U0OPER", "/run -d --name once nginx").ok  # a new container with the same name
    again = bot.click(asked, "U0OPER")
    assert isinstance(again.result, Notice) and again.result.title.startswith("Already confirmed by ")
    assert bot.state("once") == "running"  # the second click removed nothing
    assert [entry[2] for entry in bot.trail()] == ["allowed", "confirm", "confirmed", "allowed", "rejected"]


def test_cancel_leaves_the_container(bot: Bot) -> None:
    assert bot.do("U0ADMIN", "/run -d --name keep-a nginx").ok and bot.do("U0ADMIN", "/run -d --name keep-b nginx").ok
    asked = bot.do("U0ADMIN", "/docker stop keep-a keep-b")
    assert asked.result.summary == "stop 2 containers: `keep-a`, `keep-b`"
    cancelled = bot.click(asked, "U0ADMIN", cancel=True)
    assert isinstance(cancelled.result, Notice) and cancelled.result.title == "Cancelled: nothing was done"
    after = bot.click(asked, "U0ADMIN")
    assert isinstance(after.result, Notice) and after.result.title.startswith("Already cancelled")
    assert bot.state("keep-a") == bot.state("keep-b") == "running"
    assert [entry[2] for entry in bot.trail()][2:] == ["confirm", "cancelled", "rejected"]


def test_ls_own_shows_only_the_callers_containers(bot: Bot) -> None:
    assert bot.do("U0SELF", "/run -d --name self-one nginx").ok
    assert bot.do("U0ADMIN", "/run -d --name admin-one nginx").ok
    listed = bot.do("U0SELF", "/ps -a")
    assert {row.name for row in listed.result.rows} == {"self-one"}
    assert {row.name for row in bot.do("U0ADMIN", "/ps -a").result.rows} == {"self-one", "admin-one"}


def test_secrets_stay_out_of_the_audit_and_the_log(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        assert bot.do("U0OPER", "/run -d --name secretive --env DB_PASSWORD=hunter2 nginx").ok
        assert not bot.do("U0VIEWER", "/run -d --env=API_TOKEN=hunter2 nginx").ok
        assert not bot.do("U0OPER", "/run -d --env 'SECRET_KEY=hunter2 and more' --privileged nginx").ok
        records = bot.records()
    assert "DB_PASSWORD=hunter2" in bot.api.inspect_container("secretive")["Config"]["Env"]  # Docker got it
    assert [r.command for r in records] == [
        "/run -d --name secretive --env DB_PASSWORD=•••• nginx",
        "/run -d --env=API_TOKEN=•••• nginx",
        "/run -d --env SECRET_KEY=•••• --privileged nginx",
    ]
    assert [r.decision for r in records] == ["allowed", "refused", "invalid"]
    stored = b"".join(path.read_bytes() for path in bot.audit_db.parent.glob("audit.db*"))
    assert b"hunter2" not in stored
    assert "hunter2" not in caplog.text
    # One JSON line each, and one for the run's first record (outcome `started`), masked as well.
    assert sum('"decision": ' in record.getMessage() for record in caplog.records) == 4


def test_admins_read_the_policy_and_the_audit(bot: Bot) -> None:
    assert not bot.do("U0OPER", "/run -d --name nope alpine").ok
    policy = bot.do("U0ADMIN", "/docker policy")
    assert policy.ok and "self-service" in str(policy.message.blocks)
    audit = bot.do("U0ADMIN", "/docker audit --user U0OPER --limit 5")
    assert isinstance(audit.result, AuditTrail)
    assert [(e.user_id, e.decision) for e in audit.result.entries] == [("U0OPER", "refused")]
    mentioned = bot.do("U0ADMIN", "/docker audit --user <@U0OPER|oper> --limit 5")  # a mention, as Slack sends it
    assert isinstance(mentioned.result, AuditTrail) and mentioned.result.entries == audit.result.entries
    refused = bot.do("U0OPER", "/docker audit")
    assert refused.result.reason == "you are operator; `audit.show` needs admin"


# -- shipmate local ------------------------------------------------------------------------------


def shipmate_local(engine: PrivateEngine, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SHIPMATE_", "SLACK_"))}
    env |= {"DOCKER_HOST": engine.docker_host, "PYTHONPATH": str(REPO), "XDG_STATE_HOME": str(workdir / "state")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "local", *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )


def test_shipmate_local_is_the_admin_unless_given_a_user(clean_engine: PrivateEngine, tmp_path: Path) -> None:
    (tmp_path / "policy.yml").write_text(POLICY)
    api = clean_engine.api()
    as_admin = shipmate_local(clean_engine, tmp_path, "/run -d --name local-web devwikirepo/envnodecolorapp")
    assert as_admin.returncode == 0, as_admin.stderr  # the allowlist binds Slack users, not the local admin
    assert api.inspect_container("local-web")["HostConfig"]["Memory"] == 64 * 1024 * 1024  # run defaults still apply

    as_viewer = shipmate_local(clean_engine, tmp_path, "--user", "U0VIEWER", "--channel", "C0OPS", "/rm -f local-web")
    assert as_viewer.returncode == 1
    assert "you are viewer; `container.rm` needs admin" in as_viewer.stderr

    asks = shipmate_local(clean_engine, tmp_path, "--user", "U0ADMIN", "--channel", "C0OPS", "/rm -f local-web")
    assert asks.returncode == 1 and "needs confirmation" in asks.stderr
    assert api.inspect_container("local-web")["State"]["Running"]
    yes = shipmate_local(clean_engine, tmp_path, "--user", "U0ADMIN", "--channel", "C0OPS", "--yes", "/rm -f local-web")
    assert yes.returncode == 0, yes.stderr
    assert api.containers(all=True) == []

    assert not (tmp_path / "shipmate-audit.db").exists()  # not in whatever directory it was run from
    reopened = AuditLog(tmp_path / "state" / "shipmate" / "shipmate-audit.db")  # the user's state directory
    try:
        trail = [(r.user_id, r.decision) for r in reversed(reopened.latest()) if r.outcome != STARTED]
    finally:
        reopened.close()
    assert trail == [
        ("local", "allowed"),
        ("U0VIEWER", "refused"),
        ("U0ADMIN", "confirm"),
        ("U0ADMIN", "confirm"),
        ("U0ADMIN", "confirmed"),
    ]
    api.close()
