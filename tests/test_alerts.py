"""Alerts without Slack: the rules file, event classification, claims and incidents in the audit database, the
message, and the watcher's comparison of states after a reconnect (a fake engine stands in for dockerd there)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.alerter import Alerter
from bot.alerts.events import Classifier, ContainerEvent
from bot.alerts.load import AlertsError, load_alerts, parse_alerts
from bot.alerts.rules import AlertRule, UpdatesRule
from bot.alerts.source import AlertsSource
from bot.alerts.watcher import Watcher, engine_clock
from bot.alerts.watches import FleetWatch
from bot.audit import AuditLog
from bot.config import ConfigError, CoreSettings
from bot.fleet.engines import Fleet
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import Alert
from bot.store import StoreUnavailable, open_store
from bot.store.alerts import AlertState
from tests.blockkit import assert_valid_message
from tests.test_store import Backend

REPO = Path(__file__).resolve().parent.parent


def parse(text: str) -> list[AlertRule]:
    return list(parse_alerts(text, Path("alerts.yml")).rules)


# -- the file --------------------------------------------------------------------------------------


def test_the_example_file_loads_with_every_key() -> None:
    first, second = load_alerts(REPO / "alerts.example.yml").rules
    assert first.channel == "C0ALERTS" and first.events == {"die", "oom", "unhealthy"}
    assert first.containers == ("web*", "api-*") and first.labels == (("team", "payments"),)
    assert first.mention == "<!subteam^S0ONCALL>" and first.logs == 10 and first.engines == ("*",)
    assert second.events == {"start", "stop"} and second.logs == 0 and second.containers == ("*",)


def test_the_example_file_has_an_updates_rule() -> None:
    (rule,) = load_alerts(REPO / "alerts.example.yml").updates
    assert (rule.channel, rule.every, rule.containers, rule.engines) == ("C0DEPLOYS", 86400.0, ("*",), ("*",))
    assert rule.mention == "<!subteam^S0ONCALL>"


def test_updates_rules_alone_or_listed_with_their_defaults() -> None:
    alone = parse_alerts("updates: {channel: C0DEPLOYS}\n", Path("alerts.yml"))
    assert alone.rules == () and alone.updates == (UpdatesRule("C0DEPLOYS", line=1),)
    listed = parse_alerts(
        "alerts:\n  - channel: C0A\nupdates:\n  - {channel: C0B, every: 6h, containers: [web*]}\n  - channel: C0C\n",
        Path("alerts.yml"),
    )
    assert [(rule.channel, rule.every, rule.containers) for rule in listed.updates] == [
        ("C0B", 21600.0, ("web*",)),
        ("C0C", 86400.0, ("*",)),
    ]
    assert UpdatesRule("C0B", engines=("prod-*",)).watches("prod-1") and not UpdatesRule(
        "C0B", engines=("prod-*",)
    ).watches("dev")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("updates: {channel: C0A, every: 30s}\n", "line 1: `every` must be a duration of at least 1m"),
        ("updates: {channel: C0A, every: daily}\n", "line 1: `every` must be a duration of at least 1m"),
        ("updates: {channel: C0A, event: [x]}\n", "line 1: unknown key `event`: `updates` has channel, every"),
        ("updates: {every: 1h}\n", "line 1: `updates` has no `channel`"),
        ("updates: C0A\n", "line 1: `updates` must be a mapping"),
    ],
)
def test_each_updates_mistake_is_one_line(text: str, error: str) -> None:
    with pytest.raises(AlertsError) as raised:
        parse_alerts(text, Path("/etc/shipmate/alerts.yml"))
    assert str(raised.value).startswith(f"/etc/shipmate/alerts.yml, {error}"), str(raised.value)


def test_defaults_apply_to_a_rule_with_only_a_channel() -> None:
    (rule,) = parse("alerts:\n  - channel: C0ALERTS\n")
    assert rule == AlertRule(channel="C0ALERTS", line=2)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "alerts:\n  - channel: C0A\n    event: [die]\n",
            "line 3: unknown key `event`: an alert has channel, events, "
            "containers, labels, engines, mention, logs (did you mean `events`?)",
        ),
        ("alerts:\n  - channel: '#ops'\n", "line 2: `#ops` is not a channel id (C… or G…)"),
        ("alerts:\n  - channel: C0A\n    events: [die, crashed]\n", "line 3: unknown event `crashed`"),
        ("alerts:\n  - channel: C0A\n    logs: 500\n", "line 3: `logs` must be a number of lines from 0 to 100"),
        ("alerts:\n  - channel: C0A\n    mention: oncall\n", "line 3: `oncall` is not a mention"),
        (
            "alerts:\n  - channel: C0A\n    channel: C0B\n",
            "line 3: `channel` appears twice in an alert (first on line 2)",
        ),
        ("alerts:\n  - events: [die]\n", "line 2: this alert has no `channel`"),
        ("alerts:\n", "line 1: `alerts` is empty"),
        (
            "alert:\n  - channel: C0A\n",
            "line 1: unknown key `alert`: the file has `alerts` and `updates` (did you mean",
        ),
        ("alerts:\n  - channel: C0A\n    containers: [web*\n", "line 4: not valid YAML"),
        ("alerts:\n  - channel: C0A\n    labels: {team: }\n", "line 3: label `team` needs a value"),
        ("alerts:\n  - channel: C0A\n    containers: []\n", "line 3: `containers` is empty"),
    ],
)
def test_each_mistake_is_one_line_naming_the_file_and_line(text: str, error: str) -> None:
    with pytest.raises(AlertsError) as raised:
        parse_alerts(text, Path("/etc/shipmate/alerts.yml"))
    assert isinstance(raised.value, ConfigError)
    assert str(raised.value).startswith(f"/etc/shipmate/alerts.yml, {error}")
    assert "\n" not in str(raised.value)


def test_a_broken_edit_keeps_the_rules_in_force_and_a_fixed_one_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yml"
    path.write_text("alerts:\n  - channel: C0ONE\n")
    source = AlertsSource(path)
    path.write_text("alerts:\n  - channel: nope\n")
    source.request_reload()
    assert [rule.channel for rule in source.current().rules] == ["C0ONE"]
    path.write_text("alerts:\n  - channel: C0TWO\n    logs: 3\n")
    source.request_reload()
    assert [rule.channel for rule in source.current().rules] == ["C0TWO"]


def test_rules_match_by_event_name_label_and_engine_once_per_channel() -> None:
    rules = parse_alerts(
        "alerts:\n"
        "  - {channel: C0A, containers: ['web*'], labels: {team: pay}}\n"
        "  - {channel: C0A, events: [die]}\n"
        "  - {channel: C0B, engines: ['prod-*'], events: [oom]}\n",
        Path("alerts.yml"),
    )
    assert [r.line for r in rules.matching("default", "die", "web1", {"team": "pay"})] == [2]
    assert [r.line for r in rules.matching("default", "die", "web1", {})] == [3]
    assert rules.matching("default", "start", "web1", {"team": "pay"}) == []
    assert [r.channel for r in rules.matching("prod-1", "oom", "api", {})] == ["C0B"]
    assert rules.matching("staging", "oom", "api", {}) == []


def test_the_alert_window_and_settle_time_read_as_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPMATE_ALERT_WINDOW", "6m")
    monkeypatch.setenv("SHIPMATE_ALERT_SETTLE", "45s")
    settings = CoreSettings.from_env()
    assert (settings.alert_window, settings.alert_settle) == (360, 45)
    monkeypatch.setenv("SHIPMATE_ALERT_WINDOW", "ten minutes")
    with pytest.raises(ConfigError, match="SHIPMATE_ALERT_WINDOW='ten minutes' is not a duration"):
        CoreSettings.from_env()


# -- what an event means -----------------------------------------------------------------------------


def raw(action: str, container: str = "c1", n: int = 0, **attributes: str) -> dict[str, Any]:
    return {
        "Type": "container",
        "Action": action,
        "id": container,
        "timeNano": 1_700_000_000_000_000_000 + n,
        "Actor": {"ID": container, "Attributes": {"name": "web1", "image": "nginx", **attributes}},
    }


def kinds(*events: dict[str, Any]) -> list[str | None]:
    classifier = Classifier("default")
    return [None if (e := classifier.take(event)) is None else e.kind for event in events]


def test_a_crash_is_a_die_and_a_clean_exit_is_nothing() -> None:
    assert kinds(raw("start"), raw("die", exitCode="3")) == ["start", "die"]
    assert kinds(raw("start"), raw("die", exitCode="0")) == ["start", None]


def test_what_follows_a_kill_or_an_oom_is_not_a_crash() -> None:
    stop = (raw("start"), raw("kill", signal="15"), raw("die", exitCode="143"), raw("stop"))
    assert kinds(*stop) == ["start", "kill", None, "stop"]
    assert kinds(raw("start"), raw("oom"), raw("die", exitCode="137")) == ["start", "oom", None]


def test_a_start_after_a_crash_is_a_restart_and_a_kill_is_forgotten_by_the_next_start() -> None:
    events = (raw("start"), raw("die", exitCode="3"), raw("start", n=1), raw("kill"), raw("die", exitCode="1"))
    assert kinds(*events, raw("start", n=2), raw("die", n=3, exitCode="2")) == [
        "start",
        "die",
        "restart",
        "kill",
        None,
        "start",
        "die",
    ]


def test_health_verdicts_and_labels() -> None:
    classifier = Classifier("default")
    event = classifier.take(raw("health_status: unhealthy", team="pay"))
    assert event is not None and event.kind == "unhealthy" and event.labels == {"team": "pay"}
    assert kinds(raw("health_status: healthy"), raw("exec_start: sh -c true")) == ["healthy", None]


# -- claims and incidents, shared by replicas ----------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def two_replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AlertState, AlertState]]:
    """Two replicas' alert state on one database: a SQLite file, and a private PostgreSQL."""
    backend = Backend(request.param, tmp_path, lambda: request.getfixturevalue("running_postgres"))
    first, second = AlertState(open_store(backend.url)), AlertState(open_store(backend.url))
    yield first, second
    first.database.close()
    second.database.close()


def test_an_event_is_claimed_once_across_replicas(two_replicas: tuple[AlertState, AlertState]) -> None:
    first, second = two_replicas
    assert first.claim_alert("default:c1:die:1:C0A", 2e9) is True
    assert second.claim_alert("default:c1:die:1:C0A", 2e9) is False
    assert second.claim_alert("default:c1:die:1:C0B", 2e9) is True


def test_an_incident_is_opened_once_repeated_within_its_window_and_resolved_once(
    two_replicas: tuple[AlertState, AlertState],
) -> None:
    first, second = two_replicas
    assert first.open_incident("k", "C0A", now=1000, window=600) is True
    assert second.open_incident("k", "C0A", now=1001, window=600) is False
    first.incident_posted("k", "1.0001", '{"x": 1}')
    assert second.repeat_incident("k", now=1002) == 2
    assert first.incident("k") == second.incident("k") and second.incident("k").ts == "1.0001"
    assert first.resolve_incident("k") is not None and second.resolve_incident("k") is None
    assert second.repeat_incident("k", now=1003) == 0
    assert second.open_incident("k", "C0A", now=1004, window=600) is True  # resolved: a new one
    first.incident_posted("k", "2.0002", "{}")
    assert first.open_incident("k", "C0A", now=1700, window=600) is True  # older than the window: a new one


def test_the_latest_cursor_written_by_any_replica_stands(two_replicas: tuple[AlertState, AlertState]) -> None:
    first, second = two_replicas
    assert first.alert_cursor("prod") is None
    first.save_alert_cursor("prod", "1796252400.000000001")
    second.save_alert_cursor("prod", "1796252300.999999999")  # a replica that is behind does not move it back
    assert second.alert_cursor("prod") == "1796252400.000000001"
    second.save_alert_cursor("prod", "1796252401.000000000")
    assert first.alert_cursor("prod") == "1796252401.000000000" and first.alert_cursor("staging") is None


# -- the message ---------------------------------------------------------------------------------------

AT = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
ALERT = Alert(
    engine="default",
    container="web1",
    short_id="0123456789ab",
    image="nginx:1.25",
    kind="die",
    what="died with exit code 3",
    at=AT,
    state="exited",
    restart_count=3,
    logs="listening\nDB_PASSWORD=••••\nboom",
    log_lines=10,
    mention="<!subteam^S0ONCALL>",
)


def test_an_alert_is_valid_block_kit_with_its_facts_and_buttons() -> None:
    message = to_message(ALERT)
    assert_valid_message(message)
    shown = str(message.payload())
    assert message.text == "🚨 web1 died with exit code 3"
    for fact in (
        "<!subteam^S0ONCALL>",
        "`default`",
        "`nginx:1.25`",
        "2026-12-02 23:00:00 UTC",
        "*Restarts*\\n3",
        "boom",
    ):
        assert fact in shown
    values = [e["value"] for block in message.blocks if block["type"] == "actions" for e in block["elements"]]
    assert values == [f"--context default {c} web1" for c in ("logs", "restart", "container inspect", "rm")]


def test_a_flapping_alert_counts_and_a_resolved_one_says_so() -> None:
    flapping = replace(ALERT, count=4, first_at=AT - timedelta(minutes=6))
    assert to_message(flapping).text == "🚨 web1 died 4 times in 6 min, last exit code 3"
    resolved = replace(flapping, resolved="running again", state="running")
    message = to_message(resolved)
    assert message.text == "✅ resolved: web1 died 4 times in 6 min, last exit code 3 — running again"
    assert "S0ONCALL" not in str(message.payload())  # a resolution pings nobody
    assert_valid_message(message)
    values = [e["value"] for block in message.blocks if block["type"] == "actions" for e in block["elements"]]
    assert "--context default rm web1" not in values  # running again: no Remove
    unhealthy = replace(ALERT, kind="unhealthy", what="unhealthy: connection refused", count=2, first_at=AT)
    assert to_message(unhealthy).text == "🩺 web1 unhealthy 2 times in 1 min, last: connection refused"
    oom = replace(ALERT, kind="oom", what="killed: out of memory", count=3, first_at=AT)
    assert to_message(oom).text == "🚨 web1 killed: out of memory (3 times in 1 min)"


def test_the_text_form_and_a_gone_container() -> None:
    gone = replace(ALERT, state="", restart_count=None, log_lines=0)
    assert [b for b in to_message(gone).blocks if b["type"] == "actions"] == []
    assert to_text(ALERT).splitlines()[:3] == [
        "web1 died with exit code 3",
        "engine: default   image: nginx:1.25   id: 0123456789ab",
        "when: 2026-12-02 23:00:00 UTC   state: exited   restarts: 3",
    ]


# -- the watcher after a reconnect ---------------------------------------------------------------------


class FakeApi:
    """Just what the watcher asks of the Engine API, with states a test sets."""

    def __init__(self) -> None:
        self.listed: list[dict[str, Any]] = []
        self.inspected: dict[str, dict[str, Any]] = {}
        self.replay: list[dict[str, Any]] = []
        self.asked_since: list[str] = []

    def info(self) -> dict[str, Any]:
        return {"SystemTime": "2026-12-02T23:00:00.123456789Z"}  # 1796252400.123456789

    def events(self, since: str, **_: Any) -> list[dict[str, Any]]:
        self.asked_since.append(since)
        return self.replay

    def containers(self, all: bool) -> list[dict[str, Any]]:
        return self.listed

    def inspect_container(self, container_id: str) -> dict[str, Any]:
        return self.inspected[container_id]


class FakeEngine:
    def __init__(self) -> None:
        self.api = FakeApi()

    @contextlib.contextmanager
    def errors(self, subject: str) -> Iterator[None]:
        yield


@pytest.mark.parametrize(
    ("system_time", "since"),
    [
        ("2026-12-02T23:00:00.123456789Z", "1796252400.123456789"),
        ("2026-12-03T00:00:00.5+01:00", "1796252400.500000000"),
        ("2026-12-02T23:00:00Z", "1796252400.000000000"),
    ],
)
def test_the_engines_clock_becomes_the_since_of_its_stream(system_time: str, since: str) -> None:
    assert engine_clock({"SystemTime": system_time}) == since


def test_a_crash_missing_from_the_engines_history_is_still_alerted_but_not_a_shutdown() -> None:
    engine = FakeEngine()
    seen: list[ContainerEvent] = []
    watcher = Watcher("default", engine, seen.append)  # type: ignore[arg-type]
    engine.api.listed = [
        {"Id": "c1", "Names": ["/web1"], "State": "running"},
        {"Id": "c2", "Names": ["/db"], "State": "running"},
    ]
    assert watcher._catch_up(engine_was_down=False) == "1796252400.123456789"
    engine.api.listed = [
        {"Id": "c1", "Names": ["/web1"], "State": "exited"},
        {"Id": "c2", "Names": ["/db"], "State": "exited"},
    ]
    engine.api.inspected = {
        "c1": {
            "State": {"Running": False, "ExitCode": 2, "FinishedAt": "2026-12-02T23:00:01.5Z"},
            "Config": {"Image": "nginx"},
        },
        "c2": {"State": {"Running": False, "ExitCode": 0}, "Config": {}},
    }
    watcher._catch_up(engine_was_down=False)
    assert [(e.kind, e.name, e.exit_code, e.replayed) for e in seen] == [("die", "web1", 2, True)]
    engine.api.listed = [{"Id": "c1", "Names": ["/web1"], "State": "running"}]
    watcher._catch_up(engine_was_down=False)
    engine.api.listed = [{"Id": "c1", "Names": ["/web1"], "State": "exited"}]
    watcher._catch_up(engine_was_down=True)  # the engine's own shutdown stopped it
    assert len(seen) == 1


class Cursors:
    """The database's cursors, in a dict; `down` makes every call fail as a stopped database would."""

    def __init__(self, **stored: str) -> None:
        self.stored = stored
        self.down = False

    def alert_cursor(self, engine: str) -> str | None:
        if self.down:
            raise StoreUnavailable("the database did not answer")
        return self.stored.get(engine)

    def save_alert_cursor(self, engine: str, since: str) -> None:
        if self.down:
            raise StoreUnavailable("the database did not answer")
        self.stored[engine] = since


CRASH_WHILE_AWAY = {
    "Type": "container",
    "Action": "die",
    "id": "c9",
    "Actor": {"Attributes": {"name": "web9", "image": "nginx", "exitCode": "3"}},
    "time": 1796252300,
    "timeNano": 1796252300_000000000,
}


@pytest.mark.parametrize(
    ("stored", "replayed_from"),
    [
        ("1796252200.000000000", ["1796252200.000000000"]),  # 200 s before: replayed
        ("1796248000.000000000", []),  # more than an hour before: history, not an alert
        (None, []),  # the first start on this engine
    ],
)
def test_a_restart_replays_what_came_since_the_stored_cursor_within_an_hour(
    stored: str | None, replayed_from: list[str]
) -> None:
    engine = FakeEngine()
    engine.api.replay = [CRASH_WHILE_AWAY]
    cursors = Cursors(**({"prod": stored} if stored else {}))
    seen: list[ContainerEvent] = []
    watcher = Watcher("prod", engine, seen.append, cursors)  # type: ignore[arg-type]
    watcher._catch_up(engine_was_down=False)
    assert engine.api.asked_since == replayed_from
    assert [(e.name, e.exit_code) for e in seen] == ([("web9", 3)] if replayed_from else [])
    assert cursors.stored == {"prod": "1796252400.123456789"}  # handled up to the engine's clock


def test_an_engine_added_while_shipmate_runs_replays_nothing_even_with_a_cursor() -> None:
    engine = FakeEngine()
    engine.api.replay = [CRASH_WHILE_AWAY]
    cursors = Cursors(prod="1796252200.000000000")  # left when the engine was removed from the file
    seen: list[ContainerEvent] = []
    Watcher("prod", engine, seen.append, cursors, resume=False)._catch_up(engine_was_down=False)  # type: ignore[arg-type]
    assert engine.api.asked_since == [] and seen == []
    assert cursors.stored == {"prod": "1796252400.123456789"}


def test_a_database_that_is_down_costs_the_replay_not_the_watch() -> None:
    engine = FakeEngine()
    cursors = Cursors(prod="1796252200.000000000")
    cursors.down = True
    watcher = Watcher("prod", engine, [].append, cursors)  # type: ignore[arg-type]
    assert watcher._catch_up(engine_was_down=False) == "1796252400.123456789"
    assert engine.api.asked_since == []
    watcher._take(CRASH_WHILE_AWAY)  # saving the cursor fails quietly too
    cursors.down = False
    watcher._save_cursor(force=True)  # as stop() does
    assert cursors.stored == {"prod": "1796252300.000000000"}


# -- the watchers follow the engines file ---------------------------------------------------------------


def write_engines(path: Path, text: str) -> None:
    """Replace the file (a new inode: seen as changed however quickly it follows the last edit)."""
    spare = path.with_suffix(".new")
    spare.write_text(text)
    spare.replace(path)


def watcher_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("shipmate-events-"))


def test_the_watchers_follow_the_engines_file_as_engines_come_go_and_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "engines.yml"
    hosts = {name: f"unix://{tmp_path}/{name}.sock" for name in ("a", "b", "c")}  # nothing listens: they back off
    write_engines(path, f"default: a\nengines:\n  a: {{host: {hosts['a']}}}\n  b: {{host: {hosts['b']}}}\n")
    fleet = Fleet(path)
    watch = FleetWatch(fleet, check_seconds=3600)  # the test checks the file itself, with sync()
    with caplog.at_level(logging.INFO, logger="bot.alerts.watches"):
        watch.start(lambda event: None)
        try:
            first_a, first_b = watch.engine("a"), watch.engine("b")
            assert first_a is fleet.engine("a") and first_b is fleet.engine("b")  # the dispatcher's own clients
            assert watch.engine("c") is None
            write_engines(path, f"default: a\nengines:\n  a: {{host: {hosts['a']}}}\n  c: {{host: {hosts['c']}}}\n")
            watch.sync()
            assert watch.engine("b") is None and watch.engine("a") is first_a
            assert watch.engine("c") is fleet.engine("c")
            assert watcher_threads() == ["shipmate-events-a", "shipmate-events-c"]
            write_engines(
                path, f"default: a\nengines:\n  a: {{host: {hosts['a']}, timeout: 20}}\n  c: {{host: {hosts['c']}}}\n"
            )
            watch.sync()
            changed = watch.engine("a")
            assert changed is not first_a and changed is fleet.engine("a")  # the new entry's client
            assert watcher_threads() == ["shipmate-events-a", "shipmate-events-c"]
            write_engines(path, "default: a\nengines:\n  a: {host: nowhere}\n")  # broken: the engines stay
            watch.sync()
            assert watch.engine("a") is changed and watch.engine("c") is not None
        finally:
            watch.close()
    assert watcher_threads() == []
    assert [r.getMessage() for r in caplog.records if r.name == "bot.alerts.watches"] == [
        "alerts: engine b removed from the engines file: its watcher stopped",
        "alerts: engine c added to the engines file: its watcher started",
        "alerts: engine a changed in the engines file: its watcher stopped",
        "alerts: engine a changed in the engines file: its watcher started",
    ]
    fleet.close()


# -- the alerter: claims, incidents and deliveries ---------------------------------------------------------


class Recorded:
    """An AlertDelivery that records what it was asked to send; `refuse` makes posts fail, as Slack down would."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.sent: list[tuple[str, str, str]] = []  # (post|update, channel, headline)

    def post(self, channel: str, alert: Alert) -> str | None:
        self.sent.append(("post", channel, to_message(alert).text))
        return None if self.refuse else f"{len(self.sent)}.0"

    def update(self, channel: str, ts: str, alert: Alert) -> bool:
        self.sent.append(("update", channel, to_message(alert).text))
        return True


def event(kind: str, n: int, exit_code: int | None = 3) -> ContainerEvent:
    return ContainerEvent(
        engine="default",
        kind=kind,
        container_id="c1",
        name="web1",
        image="nginx",
        at=AT + timedelta(seconds=n),
        key=f"c1:{kind}:{n}",
        exit_code=exit_code,
    )


def alert_run(tmp_path: Path, delivery: Recorded, events: list[ContainerEvent], replicas: int = 1) -> AuditLog:
    rules = parse_alerts("alerts:\n  - {channel: C0A, events: [die, unhealthy], logs: 0}\n", Path("alerts.yml"))
    audits = [AuditLog(tmp_path / "audit.db") for _ in range(replicas)]
    for audit in audits:
        alerter = Alerter(lambda: rules, AlertState(audit.store), audit, delivery, lambda name: None, window=600)
        for item in events:
            alerter.handle(item)
        alerter.close()
    for audit in audits[1:]:
        audit.close()
    return audits[0]


def test_repeats_update_the_first_message_and_a_recovery_resolves_it(tmp_path: Path) -> None:
    delivery = Recorded()
    events = [event("unhealthy", 0), event("unhealthy", 60), event("healthy", 90), event("unhealthy", 120)]
    alert_run(tmp_path, delivery, [event("die", 0), event("die", 30)], replicas=2).close()  # a replay: no more
    audit = alert_run(tmp_path, delivery, events)
    assert delivery.sent == [
        ("post", "C0A", "🚨 web1 died with exit code 3"),
        ("update", "C0A", "🚨 web1 died 2 times in 1 min, last exit code 3"),
        ("post", "C0A", "🩺 web1 unhealthy: (the health check printed nothing)"),
        ("update", "C0A", "🩺 web1 unhealthy 2 times in 1 min, last: (the health check printed nothing)"),
        (
            "update",
            "C0A",
            "✅ resolved: web1 unhealthy 2 times in 1 min, last: (the health check printed nothing) — healthy again",
        ),
        ("post", "C0A", "🩺 web1 unhealthy: (the health check printed nothing)"),
    ]
    assert [r.detail.rpartition("; ")[2] for r in reversed(audit.latest(limit=10))] == [
        "posted",
        "updated (occurrence 2)",
        "posted",
        "updated (occurrence 2)",
        "marked resolved",
        "posted",
    ]
    audit.close()


def test_when_slack_refused_the_first_post_each_repeat_is_posted_on_its_own(tmp_path: Path) -> None:
    delivery = Recorded(refuse=True)
    alert_run(tmp_path, delivery, [event("die", 0), event("die", 1)]).close()
    assert [kind for kind, _, _ in delivery.sent] == ["post", "post"]
