"""Freezes and silences end to end: the real `shipmate serve` over signed HTTP, the private engine, the Slack
stand-in. While an engine is frozen (by the policy file or by `/docker freeze`) changes are refused and nothing
changes on the engine, reads answer; a freeze ends when lifted or by itself. A silence mutes crash alerts of the
containers it matches, notes it once on the message already posted, and alerts post again after it ends."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docker
import pytest

from bot.freezes import Freezes
from bot.store import open_store
from bot.store.freezes import FreezeRecords
from tests.blockkit import assert_valid_message
from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.private_postgres import PrivatePostgres
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import CONFIRM_ACTION, SlackUser, asks_to_confirm, audit_records, text_of, wait_until

ADMIN, OPERATOR, VIEWER = "U0ADMIN", "U0OPS", "U0VIEW"
MEMBERS = f"""members:
  {ADMIN}: admin
  {OPERATOR}: operator
  "*": viewer
"""
CHANNEL = "C0ALERTS"
RULES = f"""\
alerts:
  - channel: {CHANNEL}
    events: [die]
    containers: ["crash*", "flap*"]
    logs: 0
"""
WATCHING = "watching the events of engine default"


@pytest.fixture
def api(clean_engine: PrivateEngine) -> docker.APIClient:
    client = clean_engine.api()
    yield client
    client.close()


@pytest.fixture
def start_bot(bot_server: Callable[..., BotProcess], tmp_path: Path) -> Callable[..., BotProcess]:
    """`start_bot(policy_extra)` serves with MEMBERS plus `policy_extra`, its audit in tmp_path/audit.db."""

    def start(policy_extra: str = "", **env: str) -> BotProcess:
        policy = tmp_path / "policy.yml"
        policy.write_text(MEMBERS + policy_extra)
        return bot_server(SHIPMATE_POLICY=str(policy), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"), **env)

    return start


def users(bot: BotProcess, slack: SlackStandin, secret: str) -> tuple[SlackUser, SlackUser, SlackUser]:
    client = SignedClient(bot.url, secret)
    return SlackUser(client, slack, ADMIN), SlackUser(client, slack, OPERATOR), SlackUser(client, slack, VIEWER)


def sleeper(api: docker.APIClient, name: str) -> str:
    created = api.create_container("busybox", ["sleep", "600"], name=name)
    api.start(created["Id"])
    return created["Id"]


def names(api: docker.APIClient) -> set[str]:
    return {c["Names"][0].lstrip("/") for c in api.containers(all=True)}


def said(message: dict[str, Any]) -> str:
    assert_valid_message(message)
    return text_of(message)


def test_a_freeze_from_chat_refuses_changes_keeps_reads_and_ends_when_lifted(
    start_bot: Callable[..., BotProcess],
    api: docker.APIClient,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    admin, operator, viewer = users(start_bot(), slack, signing_secret)
    assert "web1" in said(operator.answer("/run", "-d --name web1 busybox sleep 600"))  # the operator's own

    refused = said(operator.answer("/docker", 'freeze --context default 1h "not mine to freeze"'))
    assert "`freeze.set` needs admin" in refused
    assert "default is frozen" not in said(viewer.answer("/docker", "freezes"))

    asked_before = operator.answer("/rm", "-f web1")
    assert asks_to_confirm(asked_before)
    frozen = said(admin.answer("/docker", "freeze --context 'def*' 1h \"release 4.2\""))
    assert "def* frozen until" in frozen and "release 4.2" in frozen
    assert "default is frozen until" in said(operator.click(asked_before, CONFIRM_ACTION))  # decided again at the click

    ends = (datetime.now(UTC) + timedelta(hours=1)).strftime("%H:%M UTC")
    for user, slash, text in [
        (operator, "/rm", "-f web1"),
        (operator, "/run", "-d --name web2 busybox sleep 30"),
        (admin, "/service", "update --image busybox:latest api"),
        (admin, "/docker", "stop web1"),
    ]:
        refusal = said(user.answer(slash, text))
        assert "default is frozen until" in refusal, refusal
        assert f"(release 4.2, frozen by @{ADMIN}): changes wait; reads work" in refusal
        assert "--break-glass" in refusal
        assert ends[:2] in refusal  # the hour it ends, in UTC
    assert names(api) == {"web1"} and api.inspect_container("web1")["State"]["Running"]

    assert "web1" in said(viewer.answer("/ps", "-a"))  # reads work
    listed = said(viewer.answer("/docker", "freezes"))
    assert "def*" in listed and "release 4.2" in listed and f"@{ADMIN}" in listed and "now" in listed

    assert "`freeze.set` needs admin" in said(operator.answer("/docker", "unfreeze --context 'def*'"))
    lifted = said(admin.answer("/docker", "unfreeze --context 'def*'"))
    assert "unfrozen" in lifted and "release 4.2" in lifted
    assert "no freezes in force" in said(viewer.answer("/docker", "freezes"))

    removed = said(operator.confirmed("/rm", "-f web1"))
    assert "web1" in removed and "frozen" not in removed
    assert names(api) == set()
    updated = said(admin.answer("/service", "update --image busybox:latest api"))
    assert "frozen" not in updated  # it reached Docker: this engine is no swarm manager

    records = audit_records(tmp_path / "audit.db")
    refusals = [r for r in records if r["decision"] == "refused" and "frozen" in r["detail"]]
    assert {r["action"] for r in refusals} == {"container.rm", "container.run", "service.update", "container.stop"}
    assert any(r["action"] == "freeze.set" and r["user_id"] == ADMIN and r["decision"] == "allowed" for r in records)


def test_a_short_freeze_ends_by_itself(
    start_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin, signing_secret: str
) -> None:
    admin, operator, _ = users(start_bot(), slack, signing_secret)
    said(admin.answer("/docker", '--context default freeze 3s "quick check"'))
    assert "quick check" in said(operator.answer("/run", "-d --name early busybox sleep 30"))
    assert "early" not in names(api)
    time.sleep(3)
    started = said(operator.answer("/run", "-d --name late busybox sleep 30"))
    assert "frozen" not in started and api.inspect_container("late")["State"]["Running"]


def test_a_weekly_freeze_in_the_policy_covering_now_in_tokyo_refuses_changes(
    start_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin, signing_secret: str
) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    now = datetime.now(tokyo).replace(second=0, microsecond=0)
    starts, ends = now - timedelta(hours=1), now + timedelta(hours=2)  # `until` may be past midnight: the next day
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[starts.weekday()]
    policy = f"""freezes:
  - engines: ["*"]
    weekly: {{days: [{day}], from: "{starts:%H:%M}", until: "{ends:%H:%M}", tz: Asia/Tokyo}}
    reason: "quiet hours in Tokyo"
"""
    admin, operator, viewer = users(start_bot(policy), slack, signing_secret)
    sleeper(api, "web1")

    refusal = said(operator.answer("/docker", "restart web1"))
    until = ends.astimezone(UTC).strftime("%H:%M UTC")
    assert f"default is frozen until {until}" in refusal or until in refusal, refusal
    assert "(quiet hours in Tokyo, from policy.yml)" in refusal
    assert "web1" in said(viewer.answer("/ps"))
    listed = said(viewer.answer("/docker", "freezes"))
    assert "policy 1" in listed and "quiet hours in Tokyo" in listed and "policy.yml" in listed
    # A policy freeze is the file's: unfreeze from chat does not end it.
    assert "no freeze in force" in said(admin.answer("/docker", "unfreeze --context default"))
    assert "frozen" in said(admin.answer("/docker", "stop web1"))
    assert api.inspect_container("web1")["State"]["Running"]


def test_a_freeze_typed_on_one_replica_holds_on_another_on_the_same_postgresql(
    running_postgres: PrivatePostgres,
) -> None:
    url = running_postgres.new_database()
    first, second = open_store(url), open_store(url)
    try:
        on_first = Freezes(lambda: None, FreezeRecords(first))
        on_second = Freezes(lambda: None, FreezeRecords(second))
        now = time.time()
        typed = on_first.records.add("prod-*", now, now + 3600, "release 4.2", ADMIN)
        seen = on_second.covering("prod-1", time.time())
        assert seen is not None and (seen.id, seen.reason, seen.by) == (typed.id, "release 4.2", ADMIN)
        assert on_second.covering("staging", time.time()) is None
        assert [freeze.id for freeze in on_second.listing(time.time())] == [typed.id]
        assert on_second.records.lift(int(typed.id), ADMIN, time.time()) is not None
        assert on_first.covering("prod-1", time.time()) is None
        assert on_first.records.lift(int(typed.id), ADMIN, time.time()) is None  # lifted once
    finally:
        first.close()
        second.close()


def test_two_replicas_on_one_postgresql_agree_on_a_freeze_typed_on_either(
    bot_server: Callable[..., BotProcess],
    running_postgres: PrivatePostgres,
    api: docker.APIClient,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    url = running_postgres.new_database()
    policy = tmp_path / "policy.yml"
    policy.write_text(MEMBERS)
    settings = {"SHIPMATE_POLICY": str(policy), "SHIPMATE_DATABASE_URL": url}
    first, second = bot_server(**settings), bot_server(**settings)
    admin_first, _, _ = users(first, slack, signing_secret)
    admin_second, operator_second, _ = users(second, slack, signing_secret)

    said(admin_first.answer("/docker", 'freeze --context all 1h "release 4.2"'))
    refusal = said(operator_second.answer("/run", "-d --name web1 busybox sleep 30"))
    assert "default is frozen until" in refusal and f"frozen by @{ADMIN}" in refusal
    assert "web1" not in names(api)
    said(admin_second.answer("/docker", "unfreeze --context all"))
    assert "frozen" not in said(admin_first.answer("/run", "-d --name web1 busybox sleep 30"))
    assert api.inspect_container("web1")["State"]["Running"]


@pytest.fixture
def alert_bot(start_bot: Callable[..., BotProcess], tmp_path: Path) -> Callable[[], BotProcess]:
    alerts = tmp_path / "alerts.yml"
    alerts.write_text(RULES)

    def start() -> BotProcess:
        bot = start_bot(SHIPMATE_ALERTS=str(alerts))
        wait_until(lambda: WATCHING in bot.log_text(), 20, "the watcher to start")
        return bot

    return start


def crash(api: docker.APIClient, name: str, code: int) -> str:
    created = api.create_container("busybox", ["sh", "-c", f"exit {code}"], name=name)
    api.start(created["Id"])
    api.wait(created["Id"], timeout=10)
    return created["Id"]


def posts(slack: SlackStandin) -> list[dict[str, Any]]:
    """The alerts posted in the channel (not the replies in their threads)."""
    return [
        c.body
        for c in slack.calls("chat.postMessage")
        if c.body.get("channel") == CHANNEL and c.reply.get("ok") and "thread_ts" not in c.body
    ]


def thread_replies(slack: SlackStandin) -> list[dict[str, Any]]:
    return [c.body for c in slack.calls("chat.postMessage") if c.reply.get("ok") and "thread_ts" in c.body]


def updates(slack: SlackStandin) -> list[dict[str, Any]]:
    return [c.body for c in slack.calls("chat.update") if c.body.get("channel") == CHANNEL and c.reply.get("ok")]


def alert_records(path: Path) -> list[dict[str, Any]]:
    return [r for r in audit_records(path) if r["decision"] == "alert"]


def test_a_silence_mutes_crash_alerts_notes_it_once_and_ends_by_itself(
    alert_bot: Callable[[], BotProcess], api: docker.APIClient, slack: SlackStandin, signing_secret: str, tmp_path: Path
) -> None:
    _, operator, viewer = users(alert_bot(), slack, signing_secret)
    flap = crash(api, "flap1", 3)
    first = slack.wait_for(lambda: next((b for b in posts(slack) if "flap1" in b["text"]), None), timeout=15)

    assert "`alert.silence` needs operator" in said(viewer.answer("/docker", "silence 'crash*' 1h nope"))
    silenced = said(operator.answer("/docker", "silence --context default 'crash*' 12s \"deploying crash\""))
    assert "crash*" in silenced and "silenced until" in silenced
    said(operator.answer("/docker", 'silence flap1 12s "known flapper"'))  # every engine
    listed = said(viewer.answer("/docker", "silences"))
    assert "crash*" in listed and "flap1" in listed and "every engine" in listed and f"@{OPERATOR}" in listed

    crash(api, "crash1", 4)
    api.start(flap)  # the same container crashes again: its message says it is silenced, once
    api.wait(flap, timeout=10)
    noted = slack.wait_for(lambda: next((u for u in updates(slack) if "silenced by" in str(u)), None), timeout=15)
    assert noted["ts"] == slack.calls("chat.postMessage")[0].reply["ts"]
    assert f"silenced by @{OPERATOR} until" in text_of(noted) and "known flapper" in text_of(noted)
    assert_valid_message(noted)
    api.start(flap)
    api.wait(flap, timeout=10)
    muted = lambda: [r for r in alert_records(tmp_path / "audit.db") if "muted: silenced" in r["detail"]]  # noqa: E731
    wait_until(lambda: len(muted()) == 3, 15, "three muted alerts in the audit")
    assert sorted(r["command"] for r in muted()) == ["alert die crash1", "alert die flap1", "alert die flap1"]
    assert len([u for u in updates(slack) if "silenced by" in str(u)]) == 1  # noted once
    assert [b["text"] for b in posts(slack)] == [first["text"]]  # nothing posted while silenced

    wait_until(lambda: "no silences in force" in said(viewer.answer("/docker", "silences")), 30, "the silences to end")
    crash(api, "crash2", 5)
    slack.wait_for(lambda: next((b for b in posts(slack) if "crash2" in b["text"]), None), timeout=15)
    assert [b["text"] for b in posts(slack)] == ["🚨 flap1 died with exit code 3", "🚨 crash2 died with exit code 5"]
    records = audit_records(tmp_path / "audit.db")
    assert [r["user_id"] for r in records if r["action"] == "alert.silence" and r["decision"] == "allowed"] == [
        OPERATOR,
        OPERATOR,
    ]


def test_unsilence_ends_a_silence_at_once(
    alert_bot: Callable[[], BotProcess], api: docker.APIClient, slack: SlackStandin, signing_secret: str, tmp_path: Path
) -> None:
    _, operator, _ = users(alert_bot(), slack, signing_secret)
    silenced = said(operator.answer("/docker", "silence 'crash*' 1h \"deploying\""))
    silence_id = re.search(r"silence (\d+), by @U0OPS", silenced)[1]
    crash(api, "crash1", 3)
    muted = lambda: [r for r in alert_records(tmp_path / "audit.db") if "muted: silenced" in r["detail"]]  # noqa: E731
    wait_until(muted, 15, "the muted alert in the audit")
    assert "ended" in said(operator.answer("/docker", f"unsilence {silence_id}"))
    assert "no silence" in said(operator.answer("/docker", f"unsilence {silence_id}"))
    crash(api, "crash2", 4)
    slack.wait_for(lambda: next((b for b in posts(slack) if "crash2" in b["text"]), None), timeout=15)
    assert [b["text"] for b in posts(slack)] == ["🚨 crash2 died with exit code 4"]
