"""Freezes and silences, fast: the policy's windows (dates and weekly in a time zone, across midnight and summer
time), their mistakes stopping start-up in one line, the stores on SQLite, and Pipeline.decide over them."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.dispatcher import DATABASE_DOWN, Dispatcher
from bot.engine import Engine
from bot.freezes import Freezes, Silences, refusal
from bot.grammar import parse
from bot.pipeline import Allowed, Refused
from bot.policy import PolicyError, parse_policy
from bot.request import Caller, Request
from bot.results import FreezeList, Notice
from bot.store import StoreUnavailable
from bot.store.freezes import FreezeRecords
from bot.store.silences import SilenceRecords
from bot.store.sqlite import SqliteStore

POLICY = Path("policy.yml")
ADMIN = Caller(user_id="U0ADMIN", user_name="admin", team_id="T0", channel_id="C0OPS")


def windows(text: str):
    return parse_policy(text, POLICY).freezes


def test_a_weekly_window_follows_its_time_zone_and_summer_time() -> None:
    (friday,) = windows(
        'freezes:\n  - engines: ["prod-*"]\n    weekly: {days: [fri], from: "16:00", until: "24:00", tz: Europe/Berlin}\n'
        "    reason: weekend\n"
    )
    winter = datetime(2026, 12, 11, 15, 30, tzinfo=UTC)  # Friday 16:30 in Berlin (UTC+1)
    assert friday.covering(winter) == (datetime(2026, 12, 11, 15, tzinfo=UTC), datetime(2026, 12, 11, 23, tzinfo=UTC))
    summer = datetime(2026, 7, 10, 14, 30, tzinfo=UTC)  # Friday 16:30 in Berlin (UTC+2)
    assert friday.covering(summer) == (datetime(2026, 7, 10, 14, tzinfo=UTC), datetime(2026, 7, 10, 22, tzinfo=UTC))
    assert friday.covering(datetime(2026, 12, 11, 14, 59, tzinfo=UTC)) is None
    assert friday.covering(datetime(2026, 12, 11, 23, 0, tzinfo=UTC)) is None  # until is not included
    assert friday.names("prod-1") and not friday.names("staging")
    coming = friday.turns(datetime(2026, 12, 7, tzinfo=UTC))
    assert coming == [(datetime(2026, 12, 11, 15, tzinfo=UTC), datetime(2026, 12, 11, 23, tzinfo=UTC))]


def test_a_weekly_window_past_midnight_covers_the_next_morning() -> None:
    (night,) = windows(
        'freezes:\n  - engines: ["*"]\n    weekly: {days: [sun], from: "22:00", until: "06:00", tz: Asia/Tokyo}\n'
        "    reason: maintenance\n"
    )
    monday_morning = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)  # Monday 05:00 in Tokyo
    assert night.covering(monday_morning) == (
        datetime(2026, 12, 6, 13, tzinfo=UTC),
        datetime(2026, 12, 6, 21, tzinfo=UTC),
    )
    assert night.covering(datetime(2026, 12, 6, 21, 30, tzinfo=UTC)) is None


def test_a_dated_window() -> None:
    (year_end,) = windows(
        "freezes:\n  - engines: [prod-1, billing]\n    from: 2026-12-23T18:00:00+01:00\n"
        "    until: 2027-01-04T08:00:00Z\n    reason: year end\n"
    )
    assert year_end.covering(datetime(2026, 12, 23, 17, 0, tzinfo=UTC)) is not None
    assert year_end.covering(datetime(2026, 12, 23, 16, 59, tzinfo=UTC)) is None
    assert year_end.names("billing") and not year_end.names("prod-2")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- engines: [prod]\n    reason: x\n", "line 2: freezes entry 1 needs either `from` and `until`"),
        ("- engines: [prod]\n    from: 2026-12-01T00:00:00+01:00\n    reason: x\n", "needs both `from` and `until`"),
        (
            "- engines: [prod]\n    from: 2026-12-01T00:00:00\n    until: 2026-12-02T00:00:00Z\n    reason: x\n",
            "line 3: freezes entry 1.from `2026-12-01T00:00:00` has no UTC offset",
        ),
        (
            "- engines: [prod]\n    from: 2026-12-02T00:00:00Z\n    until: 2026-12-01T00:00:00Z\n    reason: x\n",
            "until is not after its `from`",
        ),
        ("- engines: [prod]\n    from: soon\n    until: later\n    reason: x\n", "`soon` is not a date and time"),
        (
            '- engines: [prod]\n    weekly: {days: [fry], from: "16:00", until: "18:00", tz: UTC}\n    reason: x\n',
            "`fry` is not a day",
        ),
        (
            '- engines: [prod]\n    weekly: {days: [fri], from: "16:00", until: "18:00", tz: Europe/Berln}\n'
            "    reason: x\n",
            "`Europe/Berln` is not a time zone",
        ),
        (
            '- engines: [prod]\n    weekly: {days: [fri], from: "4pm", until: "18:00", tz: UTC}\n    reason: x\n',
            "`4pm` is not a time of day",
        ),
        ('- engines: [prod]\n    weekly: {days: [fri], from: "16:00", tz: UTC}\n    reason: x\n', "needs until"),
        ("- engines: [prod]\n    weekly: {days: [fri]}\n    reason: x\n    when: now\n", "unknown key `when`"),
        ('- weekly: {days: [fri], from: "16:00", until: "18:00", tz: UTC}\n', "needs `engines` and `reason`"),
        (
            '- engines: ["prod/1"]\n    weekly: {days: [fri], from: "1:00", until: "2:00", tz: UTC}\n    reason: x\n',
            "`prod/1` is not an engine name or pattern",
        ),
    ],
)
def test_a_mistake_in_freezes_is_one_line_naming_it(entry: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy("freezes:\n  " + entry, POLICY)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.fixture
def database(tmp_path: Path):
    store = SqliteStore(tmp_path / "audit.db")
    yield store
    store.close()


def test_freezes_from_the_policy_and_the_database_are_one_answer(database: SqliteStore) -> None:
    policy = parse_policy(
        'freezes:\n  - engines: ["prod-*"]\n    from: 2000-01-01T00:00:00Z\n    until: 2100-01-01T00:00:00Z\n'
        "    reason: forever\n",
        POLICY,
    )
    freezes = Freezes(lambda: policy, FreezeRecords(database))
    now = time.time()
    typed = freezes.records.add("prod-1,staging", now, now + 60, "release", "U0ADMIN")
    assert freezes.covering("prod-2", now).id == "policy 1"
    assert freezes.covering("prod-1", now).id == "policy 1"  # the one ending last
    assert freezes.covering("staging", now).id == typed.id
    assert freezes.covering("dev", now) is None
    assert freezes.covering("staging", now + 61) is None  # over by itself
    assert [freeze.id for freeze in freezes.listing(now)] == ["policy 1", typed.id]
    assert freezes.records.lift_engines("prod-1,staging", "U0ADMIN", now + 1)[0].id == typed.id
    assert freezes.covering("staging", now + 2) is None
    text = refusal("prod-2", freezes.covering("prod-2", now), now)
    assert text.startswith("prod-2 is frozen until Fri 01 Jan 00:00 UTC (forever, from policy.yml)")


def test_silences_match_their_engines_and_containers_and_end_by_themselves(database: SqliteStore) -> None:
    silences = Silences(SilenceRecords(database))
    now = time.time()
    everywhere = silences.records.add("*", "web*", now, now + 60, "deploy", "U0OPS")
    one = silences.records.add("prod-1", "api", now, now + 30, "noisy", "U0OPS")
    assert silences.covering("staging", "web-2", now) == everywhere
    assert silences.covering("prod-1", "api", now) == one
    assert silences.covering("prod-2", "api", now) is None
    assert silences.covering("prod-1", "api", now + 31) is None
    assert silences.note_once(one, "incident") and not silences.note_once(one, "incident")
    assert silences.records.lift(int(everywhere.id), "U0OPS", now) is not None
    assert silences.covering("staging", "web-2", now + 1) is None


def test_the_pipeline_refuses_only_changes_on_a_frozen_engine(database: SqliteStore) -> None:
    freezes = Freezes(lambda: None, FreezeRecords(database))
    dispatcher = Dispatcher(Engine("unix:///nonexistent.sock"), freezes=freezes)  # never reached
    now = time.time()
    freezes.records.add("default", now, now + 60, "release", "U0ADMIN")
    decide = dispatcher.pipeline.decide
    refused = decide(parse("rm web1", "/docker"), ADMIN, "default")
    assert isinstance(refused, Refused) and "(release, frozen by @U0ADMIN)" in refused.failure.reason
    assert isinstance(decide(parse("ps", "/docker"), ADMIN, "default"), Allowed)
    assert isinstance(decide(parse("rm web1", "/docker"), ADMIN, "other"), Allowed)
    assert isinstance(decide(parse("unfreeze --context default", "/docker"), ADMIN, "default"), Allowed)


class _SilentDatabase:
    """A database that stopped answering."""

    def run(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        raise StoreUnavailable("connection refused")


def test_a_change_waits_when_the_database_cannot_say_whether_it_is_frozen() -> None:
    freezes = Freezes(lambda: None, FreezeRecords(_SilentDatabase()))  # type: ignore[arg-type]
    dispatcher = Dispatcher(Engine("unix:///nonexistent.sock"), freezes=freezes)
    refused = dispatcher.pipeline.decide(parse("rm web1", "/docker"), ADMIN, "default")
    assert isinstance(refused, Refused) and refused.failure.reason == DATABASE_DOWN
    assert isinstance(dispatcher.pipeline.decide(parse("ps", "/docker"), ADMIN, "default"), Allowed)


def test_freeze_commands_answer_through_the_dispatcher_whatever_engines_their_context_names(
    database: SqliteStore,
) -> None:
    freezes = Freezes(lambda: None, FreezeRecords(database))
    dispatcher = Dispatcher(
        Engine("unix:///nonexistent.sock"), freezes=freezes, silences=Silences(SilenceRecords(database))
    )

    def ask(text: str):
        return dispatcher.handle(Request(text, "/docker", ADMIN), lambda result: result).result

    frozen = ask("freeze --context 'prod-*' 2h \"release 4.2\"")  # no engine is called prod-anything here
    assert isinstance(frozen, Notice) and "prod-* frozen until" in frozen.title
    assert "name the engines to freeze" in ask('freeze 2h "x"').reason
    listed = ask("freezes")
    assert isinstance(listed, FreezeList) and [f.engines for f in listed.freezes] == ["prod-*"]
    assert "no freeze in force matches freeze 99" in ask("unfreeze 99").reason
    assert isinstance(ask("unfreeze --context 'prod-*'"), Notice)
    assert ask("freezes").freezes == ()
    assert isinstance(ask("silence 'web*' 10m deploy"), Notice)
    assert "web*" in ask("silences").silences[0].containers
    dispatcher.close()


def test_listing_shows_the_next_weekly_turn_within_a_week() -> None:
    in_two_days = datetime.now(UTC) + timedelta(days=2)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[in_two_days.weekday()]
    policy = parse_policy(
        f'freezes:\n  - engines: ["*"]\n    weekly: {{days: [{day}], from: "10:00", until: "11:00", tz: UTC}}\n'
        "    reason: patch day\n",
        POLICY,
    )
    freezes = Freezes(lambda: policy, None)
    (coming,) = freezes.listing(time.time())
    assert coming.starts.date() == in_two_days.date() and coming.reason == "patch day"
    assert freezes.covering("prod-1", time.time()) is None
