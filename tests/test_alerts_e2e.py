"""Alerts end to end: containers on the private engine crash, turn unhealthy and flap, dockerd restarts, and the
real `shipmate serve` process posts what alerts.yml asks for to the Slack stand-in — once, even with two bots."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.blockkit import assert_valid_message
from tests.bot_process import REPO, BotProcess
from tests.private_engine import PrivateEngine
from tests.side_engines import SideEngine
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, audit_records, bot_settings, text_of, wait_until

CHANNEL = "C0ALERTS"
OTHER = "C0OTHER"
RULES = f"""\
alerts:
  - channel: {CHANNEL}
    events: [die, oom, unhealthy]
    containers: ["crash*", "clean*", "sick*", "flap*", "gap*", "web*"]
    mention: "<!subteam^S0ONCALL>"
    logs: 5
  - channel: {OTHER}
    events: [die]
    labels: {{team: payments}}
    logs: 0
"""
WATCHING = "watching the events of engine default"


@pytest.fixture
def alert_bot(bot_server: Callable[..., BotProcess], tmp_path: Path) -> Callable[..., BotProcess]:
    """`alert_bot()` starts `shipmate serve` with RULES; bots started by one test share one audit database."""
    settings = bot_settings(tmp_path / "settings")
    alerts = tmp_path / "settings" / "alerts.yml"
    alerts.write_text(RULES)

    def start(mode: str = "serve", **env: str) -> BotProcess:
        bot = bot_server(mode, **settings, SHIPMATE_ALERTS=str(alerts), SHIPMATE_ALERT_SETTLE="2", **env)
        wait_until(lambda: WATCHING in bot.log_text(), 20, "the watcher to start")
        return bot

    return start


@pytest.fixture
def api(clean_engine: PrivateEngine) -> docker.APIClient:
    client = clean_engine.api()
    yield client
    client.close()


def run(api: docker.APIClient, name: str, script: str, **options: Any) -> str:
    """Start a busybox container outside Shipmate, as anyone with the docker CLI would."""
    labels = options.pop("labels", None)
    host_config = api.create_host_config(**options.pop("host", {}))
    created = api.create_container(
        "busybox", ["sh", "-c", script], name=name, labels=labels, host_config=host_config, **options
    )
    api.start(created["Id"])
    return created["Id"]


def posts(slack: SlackStandin, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """The alerts posted in `channel` (not the replies in their threads)."""
    return [
        c.body
        for c in slack.calls("chat.postMessage")
        if c.body.get("channel") == channel and c.reply.get("ok") and "thread_ts" not in c.body
    ]


def thread(slack: SlackStandin, ts: str, channel: str = CHANNEL) -> list[dict[str, Any]]:
    """The replies in the thread of the message `ts`."""
    return [
        c.body
        for c in slack.calls("chat.postMessage")
        if c.body.get("channel") == channel and c.reply.get("ok") and c.body.get("thread_ts") == ts
    ]


def updates(slack: SlackStandin, channel: str = CHANNEL) -> list[dict[str, Any]]:
    return [c.body for c in slack.calls("chat.update") if c.body.get("channel") == channel and c.reply.get("ok")]


def posted_about(slack: SlackStandin, name: str, channel: str = CHANNEL, timeout: float = 15) -> dict[str, Any]:
    return slack.wait_for(
        lambda: next((body for body in posts(slack, channel) if f"{name} " in body.get("text", "")), None), timeout
    )


def test_a_crash_is_posted_once_with_its_name_exit_code_and_masked_log_tail(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin, tmp_path: Path
) -> None:
    alert_bot()
    run(api, "crash1", "echo starting; echo DB_PASSWORD=hunter2; echo boom >&2; exit 3")
    run(api, "clean1", "echo fine; exit 0")
    run(api, "unwatched1", "exit 3")  # in no rule
    run(api, "crash2", "exit 4", labels={"team": "payments"})  # both rules: one message in each channel
    message = posted_about(slack, "crash1")
    posted_about(slack, "crash2")  # events are handled in order: every earlier one is done by now
    posted_about(slack, "crash2", OTHER)

    assert [body["text"] for body in posts(slack)] == [
        "🚨 crash1 died with exit code 3",
        "🚨 crash2 died with exit code 4",
    ]
    assert len(posts(slack, OTHER)) == 1
    assert_valid_message(message)
    shown = text_of(message)
    assert "<!subteam^S0ONCALL>" in shown and "`default`" in shown and "busybox" in shown
    assert "starting" in shown and "boom" in shown and "DB_PASSWORD=••••" in shown and "hunter2" not in shown
    assert "Restarts" in shown
    buttons = [e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [f"--context default {c} crash1" for c in ("logs", "restart", "container inspect", "rm")]
    records = lambda: [r for r in audit_records(tmp_path / "settings" / "audit.db") if r["decision"] == "alert"]  # noqa: E731
    wait_until(lambda: len(records()) >= 3, 10, "the alerts' audit records")  # written after the post
    assert sorted(r["command"] for r in records()) == ["alert die crash1", "alert die crash2", "alert die crash2"]
    assert {r["channel_id"] for r in records()} == {CHANNEL, OTHER}


def test_an_unhealthy_container_is_alerted_with_its_check_output_and_resolved_when_healthy_again(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin
) -> None:
    alert_bot()
    check = {
        "test": ["CMD-SHELL", "test -f /ok || { echo not ready yet; exit 1; }"],
        "interval": 300_000_000,
        "retries": 1,
    }
    run(api, "sick1", "sleep 3; touch /ok; sleep 60", healthcheck=check)
    message = posted_about(slack, "sick1")
    assert message["text"] == "🩺 sick1 unhealthy: not ready yet"
    resolved = slack.wait_for(lambda: updates(slack) and updates(slack)[-1], timeout=20)
    assert resolved["ts"] == slack.calls("chat.postMessage")[0].reply["ts"]
    assert resolved["text"].startswith("✅ resolved: sick1 unhealthy: not ready yet — healthy again")
    assert len(posts(slack)) == 1
    replies = slack.wait_for(lambda: thread(slack, resolved["ts"]), timeout=10)
    assert [reply["text"].split(" (")[0] for reply in replies] == ["✅ resolved: healthy again"]
    for reply in replies:
        assert_valid_message(reply)


def test_a_container_that_crashes_four_times_has_one_message_that_is_updated(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin
) -> None:
    alert_bot()
    run(api, "flap1", "echo try; exit 3", host={"restart_policy": {"Name": "on-failure", "MaximumRetryCount": 3}})
    first = posted_about(slack, "flap1")
    last = slack.wait_for(lambda: next((u for u in updates(slack) if "4 times" in u["text"]), None), timeout=20)
    assert first["text"] == "🚨 flap1 died with exit code 3"
    assert last["text"].startswith("🚨 flap1 died 4 times in 1 min, last exit code 3")
    assert_valid_message(last)
    assert len(posts(slack)) == 1
    ts = slack.calls("chat.postMessage")[0].reply["ts"]
    replies = slack.wait_for(lambda: len(thread(slack, ts)) >= 3 and thread(slack, ts), timeout=10)
    assert [reply["text"].split(" (")[0] for reply in replies] == [
        f"🚨 occurrence {count}: died with exit code 3" for count in (2, 3, 4)
    ]  # each repeat beneath the one message, in order


def test_a_crash_alert_is_resolved_when_the_container_is_back_and_stays_up(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin
) -> None:
    alert_bot()  # SHIPMATE_ALERT_SETTLE=2
    script = "test -f /ran || { touch /ran; echo first run fails; exit 3; }; sleep 60"
    run(api, "flap2", script, host={"restart_policy": {"Name": "on-failure", "MaximumRetryCount": 2}})
    posted_about(slack, "flap2")
    resolved = slack.wait_for(lambda: updates(slack) and updates(slack)[-1], timeout=20)
    assert resolved["text"] == "✅ resolved: flap2 died with exit code 3 — running again"
    assert_valid_message(resolved)
    assert len(posts(slack)) == 1


def test_out_of_memory_is_one_alert_posted_through_a_rate_limit(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin
) -> None:
    alert_bot()
    slack.fail("chat.postMessage", status=429, retry_after=1)
    run(api, "crash-oom", "head -c 200m /dev/zero | tail", host={"mem_limit": "8m", "memswap_limit": "8m"})
    message = posted_about(slack, "crash-oom")
    run(api, "crash-marker", "exit 1")  # handled after everything the first container caused
    posted_about(slack, "crash-marker")
    assert message["text"] == "🚨 crash-oom killed: out of memory"  # and no second alert for its exit code 137
    posted = [c.status for c in slack.calls("chat.postMessage") if "thread_ts" not in c.body]  # not a repeat's reply
    assert posted == [429, 200, 200]
    assert len(posts(slack)) == 2


def test_dockerd_restarting_loses_no_crash_and_alerts_no_shutdown(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, clean_engine: PrivateEngine, slack: SlackStandin
) -> None:
    bot = alert_bot()
    run(api, "web1", "trap 'exit 3' TERM; sleep 600 & wait")  # its stop by dockerd's shutdown exits 3: not a crash
    clean_engine.stop_daemon()
    wait_until(lambda: "the engine closed its event stream" in bot.log_text(), 10, "the watcher to notice")
    time.sleep(4)  # down long enough for the watcher's backoff to grow past 2 s
    clean_engine.start_daemon()
    gap = clean_engine.api()
    try:
        run(gap, "gap1", "exit 5")
        gap.wait("gap1", timeout=10)
        assert "reconnected" not in bot.log_text()  # the crash came while the watcher was still away
        wait_until(lambda: "events of engine default: reconnected" in bot.log_text(), 30, "the watcher to reconnect")
        run(gap, "crash9", "exit 6")
        posted_about(slack, "gap1")
        posted_about(slack, "crash9")
    finally:
        gap.close()
    assert [body["text"] for body in posts(slack)] == [
        "🚨 gap1 died with exit code 5",
        "🚨 crash9 died with exit code 6",
    ]


def test_a_crash_while_shipmate_was_down_is_posted_when_it_is_back_and_nothing_twice(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin
) -> None:
    first = alert_bot()
    run(api, "crash1", "exit 3")
    posted_about(slack, "crash1")
    assert first.stop() == 0  # SIGTERM, as a deploy does
    run(api, "crash2", "exit 4")
    api.wait("crash2", timeout=10)
    run(api, "clean1", "exit 0")
    api.wait("clean1", timeout=10)
    again = alert_bot()
    posted_about(slack, "crash2")
    assert "replaying what came while Shipmate was away" in again.log_text()
    run(api, "crash3", "exit 5")  # and it watches on
    posted_about(slack, "crash3")
    assert [body["text"] for body in posts(slack)] == [
        "🚨 crash1 died with exit code 3",
        "🚨 crash2 died with exit code 4",
        "🚨 crash3 died with exit code 5",
    ]


def test_two_bots_on_one_audit_database_post_each_crash_once(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin, tmp_path: Path
) -> None:
    first, second = alert_bot(), alert_bot("socket")  # HTTP and Socket Mode both watch
    for index in range(5):
        run(api, f"crash{index}", f"exit {10 + index}")
    for index in range(5):
        posted_about(slack, f"crash{index}")
    # Each crash was seen by both: one posted it, the other found it claimed.
    lost = lambda: sum(bot.log_text().count("claimed by another replica") for bot in (first, second))  # noqa: E731
    wait_until(lambda: lost() == 5, 15, "the other replica to find each crash claimed")
    assert sorted(body["text"] for body in posts(slack)) == [
        f"🚨 crash{i} died with exit code {10 + i}" for i in range(5)
    ]
    records = lambda: [r for r in audit_records(tmp_path / "settings" / "audit.db") if r["decision"] == "alert"]  # noqa: E731
    wait_until(lambda: len(records()) >= 5, 10, "the alerts' audit records")  # written after the post
    assert sorted(r["command"] for r in records()) == [f"alert die crash{i}" for i in range(5)]


def test_the_logs_button_of_an_alert_answers_the_clicker(
    alert_bot: Callable[..., BotProcess], api: docker.APIClient, slack: SlackStandin, signing_secret: str
) -> None:
    bot = alert_bot()
    run(api, "crash1", "echo the-last-words; exit 3")
    message = posted_about(slack, "crash1")
    user = SlackUser(SignedClient(bot.url, signing_secret), slack, "U0ONCALL", channel_id=CHANNEL)
    answer = user.click(message, "shipmate.command:--context default logs crash1")
    assert_valid_message(answer)
    assert "the-last-words" in text_of(answer) and answer["response_type"] == "ephemeral"
    audit = text_of(user.answer("/docker", "audit --context default"))  # the alert is in the audit, with its engine
    assert "alert die crash1" in audit and "engine default: crash1 died with exit code 3; posted" in audit


def test_a_bad_alerts_file_stops_start_up_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "alerts.yml").write_text("alerts:\n  - channel: C0ALERTS\n    events: [die, crash]\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SHIPMATE_", "SLACK_", "DOCKER_"))}
    env |= {"PYTHONPATH": str(REPO), "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "x" * 32}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "9"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"shipmate: configuration error: {tmp_path}/alerts.yml, line 3: unknown event `crash`: the events are "
        "die, oom, unhealthy, restart, kill, stop, start, healthy"
    ]


@pytest.fixture(scope="module")
def prod_engine(engine: PrivateEngine) -> Iterator[SideEngine]:
    """A second dockerd (tests/side_engines.py), to be `prod-1` beside the private engine as `staging`."""
    side = SideEngine(engine, ("busybox:latest",))
    try:
        side.start()
        yield side
    finally:
        side.close()


def test_each_engine_of_the_fleet_is_watched_and_its_alerts_act_on_it(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    api: docker.APIClient,
    prod_engine: SideEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    prod_engine.reset()
    settings = bot_settings(tmp_path / "settings")
    engines = tmp_path / "settings" / "engines.yml"
    engines.write_text(
        f'default: staging\nengines:\n  staging: {{host: "{clean_engine.docker_host}"}}\n'
        f'  prod-1: {{host: "{prod_engine.docker_host}"}}\n'
    )
    alerts = tmp_path / "settings" / "alerts.yml"
    alerts.write_text(
        f'alerts:\n  - {{channel: {CHANNEL}, engines: ["prod-*"], logs: 3}}\n  - {{channel: {OTHER}, engines: [staging]}}\n'
    )
    bot = bot_server(**settings, SHIPMATE_ENGINES=str(engines), SHIPMATE_ALERTS=str(alerts))
    watching = ("watching the events of engine staging", "watching the events of engine prod-1")
    wait_until(lambda: all(line in bot.log_text() for line in watching), 20, "a watcher on each engine")
    prod = docker.APIClient(base_url=prod_engine.docker_host, version="auto")
    try:
        run(api, "crash-staging", "exit 3")  # staging's own rule only
        run(prod, "crash-prod", "echo from prod; exit 3")
        message = posted_about(slack, "crash-prod")
        posted_about(slack, "crash-staging", OTHER)
    finally:
        prod.close()
    assert "`prod-1`" in text_of(message) and len(posts(slack)) == 1 and len(posts(slack, OTHER)) == 1
    buttons = [e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0] == "--context prod-1 logs crash-prod"
    user = SlackUser(SignedClient(bot.url, signing_secret), slack, "U0ONCALL", channel_id=CHANNEL)
    answer = user.click(message, "shipmate.command:--context prod-1 logs crash-prod")
    assert "from prod" in text_of(answer)  # from prod-1, although staging is the default


def test_an_engine_added_to_the_engines_file_is_watched_and_a_removed_one_falls_silent(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    api: docker.APIClient,
    prod_engine: SideEngine,
    slack: SlackStandin,
    tmp_path: Path,
) -> None:
    prod_engine.reset()
    settings = bot_settings(tmp_path / "settings")
    engines = tmp_path / "settings" / "engines.yml"
    staging_only = f'default: staging\nengines:\n  staging: {{host: "{clean_engine.docker_host}"}}\n'
    engines.write_text(staging_only)
    alerts = tmp_path / "settings" / "alerts.yml"
    alerts.write_text(f"alerts:\n  - {{channel: {CHANNEL}, logs: 3}}\n")
    bot = bot_server(**settings, SHIPMATE_ENGINES=str(engines), SHIPMATE_ALERTS=str(alerts))
    wait_until(lambda: "watching the events of engine staging" in bot.log_text(), 20, "the watcher on staging")
    prod = docker.APIClient(base_url=prod_engine.docker_host, version="auto")
    try:
        run(prod, "crash-before", "exit 3")  # before prod-1 is in the file: never alerted
        prod.wait("crash-before", timeout=10)
        engines.write_text(staging_only + f'  prod-1: {{host: "{prod_engine.docker_host}"}}\n')  # no restart, no HUP
        wait_until(lambda: "watching the events of engine prod-1" in bot.log_text(), 10, "a watcher on prod-1")
        run(prod, "crash-added", "echo from prod; exit 4")
        message = posted_about(slack, "crash-added")
        engines.write_text(staging_only)
        stopped = "alerts: engine prod-1 removed from the engines file: its watcher stopped"
        wait_until(lambda: stopped in bot.log_text(), 10, "the watcher on prod-1 to stop")
        run(prod, "crash-removed", "exit 5")
        prod.wait("crash-removed", timeout=10)
        run(api, "crash-staging", "exit 6")  # still watched: the pipeline is live
        posted_about(slack, "crash-staging")
        time.sleep(2)  # long enough for a watcher of prod-1, were one left, to have posted crash-removed
    finally:
        prod.close()
    assert [body["text"] for body in posts(slack)] == [
        "🚨 crash-added died with exit code 4",
        "🚨 crash-staging died with exit code 6",
    ]
    assert "`prod-1`" in text_of(message) and "from prod" in text_of(message)  # inspected and read on prod-1
    assert "alerts: engine prod-1 added to the engines file: its watcher started" in bot.log_text()
