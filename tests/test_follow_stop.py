"""Stop following across replicas: a `logs -f` runs on the replica that got the slash command, and its Stop button
stops it whichever replica Slack sends the click to, through the shared database, with an answer that is true.

The unit tests run two registries (two replicas) on one SQLite file with a fake engine; the end-to-end test runs
two `shipmate serve` processes on one SQLite file against the private engine, over signed HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.assembly import make_dispatcher
from bot.config import CoreSettings
from bot.engine import Context, RunLimits, execute
from bot.engine.follow import CLICKED
from bot.engine.running_follows import Follows
from bot.grammar.commands import ContainerFollow, StopFollowing
from bot.results import FollowedLogs, Notice
from bot.store import Claim, Store, StoreUnavailable
from bot.store.follows import FOLLOW_ENDED, FOLLOWING, STOP_ASKED, FollowState
from bot.store.sqlite import SqliteStore
from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.private_postgres import PrivatePostgres
from tests.signed_client import SignedClient, block_actions
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, bot_settings, text_of
from tests.test_checks import FakeEngine, FollowApi
from tests.test_oncall_e2e import follow_message, stop_button

STOPPED = "Stopped following: the message shows why"
ALREADY = f"That follow has already ended: {CLICKED}"


class Replica(SqliteStore):
    """One replica's connection to the shared SQLite file; `down` makes it answer like a database that is away."""

    down = False

    def claim(self, kind: str, key: str, state: str, by: str, expires_at: float) -> Claim | None:
        if self.down:
            raise StoreUnavailable("connection refused")
        return super().claim(kind, key, state, by, expires_at)

    def claimed(self, kind: str, key: str) -> Claim | None:
        if self.down:
            raise StoreUnavailable("connection refused")
        return super().claimed(kind, key)


class Following:
    """A `logs -f` running on a thread, as on the replica that got the slash command; `opened` once its message
    (and Stop button) is shown."""

    def __init__(self, follows: Follows, limits: RunLimits | None = None) -> None:
        self.api = FollowApi(["one"])
        self.opened = threading.Event()
        self.follow_id = ""
        ctx = Context(engine=FakeEngine(self.api), progress=self._report, limits=limits or RunLimits(), follows=follows)
        self._pool = ThreadPoolExecutor(1)
        self.done: Future[FollowedLogs] = self._pool.submit(execute, ContainerFollow(container="web1"), ctx)
        assert self.opened.wait(10)

    def _report(self, update: object) -> None:
        assert isinstance(update, FollowedLogs)
        self.follow_id = update.follow_id
        self.opened.set()

    def result(self) -> FollowedLogs:
        try:
            return self.done.result(timeout=20)
        finally:
            self._pool.shutdown()


def click(follows: Follows, follow_id: str) -> str:
    """What a Stop following click answers on the replica that owns `follows`."""
    answer = execute(StopFollowing(follow_id=follow_id), Context(engine=FakeEngine(FollowApi([])), follows=follows))
    assert isinstance(answer, Notice)
    return answer.title


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Callable[[], Replica]]:
    """Connections to one SQLite file, as replicas on one machine share it."""
    opened: list[Replica] = []

    def connect() -> Replica:
        opened.append(Replica(tmp_path / "shared.db"))
        return opened[-1]

    yield connect
    for store in opened:
        store.close()


def stopped_from_the_other_replica(owner_store: Store, other_store: Store) -> None:
    owner, other = Follows(FollowState(owner_store)), Follows(FollowState(other_store), poll_seconds=0.05)
    following = Following(owner)
    assert click(other, following.follow_id) == STOPPED  # answered once the owner recorded the end
    done = following.result()
    assert done.ended == CLICKED and done.text == "one\n" and following.api.closed.is_set()
    assert click(other, following.follow_id) == ALREADY  # a second click, on either replica
    assert click(owner, following.follow_id) == ALREADY
    no_such = click(Follows(FollowState(other_store), wait_seconds=0.2), "0123456789abcdef")
    assert no_such == "That follow has already ended"  # no replica runs it: nothing ends it while the click waits


def test_a_stop_clicked_on_another_replica_ends_the_follow_and_says_so(shared: Callable[[], Replica]) -> None:
    stopped_from_the_other_replica(shared(), shared())


def test_the_same_on_postgresql(running_postgres: PrivatePostgres) -> None:
    from bot.store.postgres import PostgresStore  # psycopg: the `postgres` extra

    url = running_postgres.new_database()
    owner, other = PostgresStore(url), PostgresStore(url)
    try:
        stopped_from_the_other_replica(owner, other)
    finally:
        owner.close()
        other.close()


def test_the_owner_stops_its_own_follow_and_records_the_end_for_the_others(shared: Callable[[], Replica]) -> None:
    store = shared()
    owner = Follows(FollowState(store))
    following = Following(owner)
    assert store.claimed(FOLLOWING, following.follow_id) == Claim("running", "")
    assert click(owner, following.follow_id) == STOPPED
    assert following.result().ended == CLICKED
    assert store.claimed(STOP_ASKED, following.follow_id) is None  # a local stop needs no store
    assert click(Follows(FollowState(shared())), following.follow_id) == ALREADY


def test_a_click_while_the_owner_does_not_answer_says_it_was_only_asked(shared: Callable[[], Replica]) -> None:
    store = shared()
    store.claim(FOLLOWING, "feedfacefeedface", "running", "", time.time() + 60)  # a follow on a replica that hung
    other = Follows(FollowState(shared()), wait_seconds=0.3, poll_seconds=0.05)
    assert click(other, "feedfacefeedface").startswith("Asked the Shipmate replica running this follow to stop")
    assert store.claimed(STOP_ASKED, "feedfacefeedface") == Claim("asked", "")
    assert store.claimed(FOLLOW_ENDED, "feedfacefeedface") is None


def test_a_database_that_is_away_neither_ends_a_follow_nor_its_local_stop(shared: Callable[[], Replica]) -> None:
    owner_store, other_store = shared(), shared()
    owner, other = Follows(FollowState(owner_store)), Follows(FollowState(other_store), poll_seconds=0.05)
    owner_store.down = other_store.down = True
    following = Following(owner, RunLimits(follow_seconds=2.5))
    assert click(other, following.follow_id).startswith("This follow runs on another Shipmate replica, and the")
    assert following.result().ended.startswith("followed for 2.5 s")  # it went on until its limit

    following = Following(owner)  # opened while the database is away: recorded as running once it is back
    owner_store.down = other_store.down = False
    assert click(other, following.follow_id) == STOPPED
    assert following.result().ended == CLICKED

    following = Following(owner)
    owner_store.down = True
    assert click(owner, following.follow_id) == STOPPED  # the owner stops it without the database
    assert following.result().ended == CLICKED
    owner_store.down = False
    asked = click(Follows(FollowState(other_store), wait_seconds=0.2), following.follow_id)
    assert asked.startswith("Asked the Shipmate replica")  # its end went unrecorded: no answer claims it ended


def test_the_served_dispatcher_shares_follows_through_its_database(tmp_path: Path) -> None:
    settings = CoreSettings(
        docker_host="unix:///nonexistent/docker.sock",
        docker_timeout=5,
        run_timeout=5,
        follow_max=42,
        policy_path=tmp_path / "policy.yml",
        audit_db=tmp_path / "audit.db",
    )
    dispatcher = make_dispatcher(settings)
    try:
        assert dispatcher.limits.follow_seconds == 42  # SHIPMATE_FOLLOW_MAX reaches the follows
        following = Following(Follows(FollowState(SqliteStore(tmp_path / "audit.db"))))
        assert click(dispatcher.follows, following.follow_id) == STOPPED
        assert following.result().ended == CLICKED
    finally:
        dispatcher.close()


# -- end to end: two `shipmate serve` replicas on one SQLite file, the private engine ---------------------------


@pytest.mark.engine
def test_stop_following_clicked_on_the_other_replica(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    settings = bot_settings(tmp_path / "settings")  # one SHIPMATE_AUDIT_DB: both replicas share the file
    first = bot_server(**settings, SHIPMATE_FOLLOW_MAX="120")
    second = bot_server(**settings, SHIPMATE_FOLLOW_MAX="120")
    on_first = SlackUser(SignedClient(first.url, signing_secret), slack, "U0ALICE")
    assert "started" in text_of(on_first.answer("/run", "-d --name talker busybox sh -c 'echo ready; sleep 600'"))
    reply = on_first.client.slash("/logs", "-f talker", response_url=slack.response_url("follow"))
    assert reply.status == 200 and reply.body["text"].startswith("⏳ following the logs of talker")
    opened = follow_message(slack, "ready")
    button, block_id = stop_button(opened)

    on_second = SignedClient(second.url, signing_secret)
    clicked = time.monotonic()
    ack = on_second.action(block_actions(button, block_id, response_url=slack.response_url("stop"), message=opened))
    assert ack.status == 200
    stopped = follow_message(slack, CLICKED, timeout=15)
    took = time.monotonic() - clicked
    assert stopped["ts"] == opened["ts"] and "ready" in text_of(stopped)
    assert not [block for block in stopped["blocks"] if block["type"] == "actions"]  # the Stop button is gone
    assert took < 10, f"the follow on the first replica stopped {took:.1f} s after the click on the second"
    assert STOPPED in text_of(slack.wait_for_response("stop", timeout=15))  # the second replica's answer

    for replica, name in ((on_second, "again-second"), (on_first.client, "again-first")):
        replica.action(block_actions(button, block_id, response_url=slack.response_url(name), message=opened))
        assert ALREADY in text_of(slack.wait_for_response(name, timeout=15))
    assert clean_engine.api().inspect_container("talker")["State"]["Running"]  # the container is left alone
