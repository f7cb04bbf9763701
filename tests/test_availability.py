"""Availability and the audit, against the real server over HTTP, the real private engine and the private
PostgreSQL: refused requests cannot grow the audit without bound, no store error drops a record silently, a change
is refused unless its record is stored first, clicks are never stuck behind follows, readiness probes are cached
and show no hosts on the public port, and `logs --tail all` reads only what its reply can show."""

from __future__ import annotations

import json
import logging
import socket
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from bot import metrics
from bot.audit import AuditLog, AuditRecord
from bot.dispatcher import DATABASE_DOWN, Dispatcher, Request
from bot.engine import Engine
from bot.engine.containers import MAX_LOG_BYTES
from bot.engine.running_follows import Follows, TooManyFollows
from bot.render.terminal import to_text
from bot.store import StoreUnavailable, open_store
from tests.bot_process import BotProcess, free_port
from tests.private_engine import PrivateEngine
from tests.private_postgres import PrivatePostgres
from tests.signed_client import EVENTS_PATH, SignedClient, slash_command
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, audit_records, bot_settings, text_of, wait_until
from tests.test_operations import get, sample


def record(n: int, **changes: object) -> AuditRecord:
    fields: dict[str, object] = {
        "at": 1_700_000_000.0 + n,
        "team_id": "T0TEAM",
        "user_id": f"U0N{n}",
        "user_name": "me",
        "channel_id": "C0OPS",
        "command": "/ps -a",
        "action": "container.ls",
        "changes": False,
        "decision": "allowed",
        "outcome": "ok",
    }
    return AuditRecord(**(fields | changes))  # type: ignore[arg-type]


def post_unsigned(bot: BotProcess, fields: dict[str, str], **headers: str) -> int:
    from urllib.parse import urlencode

    request = urllib.request.Request(
        bot.url + EVENTS_PATH,
        data=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"} | headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def postgres_rows(url: str) -> list[dict[str, object]]:
    with psycopg.connect(url) as connection:
        cursor = connection.execute("SELECT user_id, command, decision, outcome, detail FROM audit ORDER BY id")
        columns = [column.name for column in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def names(engine: PrivateEngine) -> set[str]:
    api = engine.api()
    try:
        return {c["Names"][0].lstrip("/") for c in api.containers(all=True)}
    finally:
        api.close()


# -- 1. refused requests, records the store refuses, a bounded queue -----------------------------------------


def test_refused_requests_are_each_counted_but_audited_once_per_reason_a_minute(
    bot_server: Callable[..., BotProcess], clean_engine: PrivateEngine, slack: SlackStandin, tmp_path: Path
) -> None:
    settings = bot_settings(tmp_path / "settings")
    bot = bot_server(**settings)
    fields = slash_command("/run", "-d --name intruder nginx", response_url=slack.response_url("refused"))
    for _ in range(6):
        assert post_unsigned(bot, fields) == 401
    for _ in range(3):
        assert post_unsigned(bot, fields, **{"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"}) == 401

    exposition = get(f"{bot.url}/metrics")[2]
    assert sample(exposition, "shipmate_http_refused_total", reason="unsigned_request") == 6
    assert sample(exposition, "shipmate_http_refused_total", reason="stale_timestamp") == 3
    SlackUser(SignedClient(bot.url, "8f742231b10e8888abcd99yyyzzz85a5-shipmate-test"), slack).answer("/docker", "help")
    records = wait_until(
        lambda: (
            [r for r in audit_records(Path(settings["SHIPMATE_AUDIT_DB"])) if r["command"] == "/docker help"]
            and audit_records(Path(settings["SHIPMATE_AUDIT_DB"]))
        ),
        10,
        "the help's record",
    )
    refused = [r["detail"] for r in records if r["decision"] == "rejected"]
    assert len(refused) == 2, refused  # one per reason, not one per request
    assert refused[0].startswith("HTTP request refused: unsigned request")
    assert refused[1].startswith("HTTP request refused: stale timestamp")
    assert bot.log_text().count("refused 1 HTTP request(s)") == 2
    assert "intruder" not in names(clean_engine)


def test_a_nul_in_a_refused_request_costs_no_record_on_postgresql(
    bot_server: Callable[..., BotProcess],
    running_postgres: PrivatePostgres,
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    url = running_postgres.new_database()
    settings = bot_settings(tmp_path / "settings") | {"SHIPMATE_DATABASE_URL": url}
    bot = bot_server(**settings)
    user = SlackUser(SignedClient(bot.url, signing_secret), slack, "U0ALICE")
    fields = slash_command("/ps", "a\x00b", response_url=slack.response_url("nul"), user_id="U0\x00EVIL")
    assert post_unsigned(bot, fields) == 401
    assert "started" in text_of(user.answer("/run", "-d --name kept nginx"))

    rows = wait_until(lambda: (found := postgres_rows(url)) and len(found) >= 3 and found, 15, "three records")
    assert [(r["user_id"], r["decision"], r["outcome"]) for r in rows] == [
        ("U0EVIL", "rejected", "rejected"),  # the NUL taken out, the record kept
        ("U0ALICE", "allowed", "started"),
        ("U0ALICE", "allowed", "ok"),
    ]
    assert rows[0]["command"] == "/ps ab"
    assert "kept" in names(clean_engine)


def test_a_row_the_database_refuses_costs_the_others_nothing_and_is_still_logged(
    running_postgres: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    url = running_postgres.new_database()
    audit = AuditLog(open_store(url))
    caplog.set_level(logging.INFO, logger="shipmate.audit")
    try:
        for n in range(5):  # an INTEGER column cannot hold 2**40: PostgreSQL refuses that one row
            audit.record(record(n, duration_ms=2**40 if n == 2 else n))
        assert audit.flush()
    finally:
        audit.close()
    assert [row["user_id"] for row in postgres_rows(url)] == ["U0N0", "U0N1", "U0N3", "U0N4"]
    logged = [json.loads(r.getMessage())["user_id"] for r in caplog.records if r.getMessage().startswith("{")]
    assert logged == ["U0N0", "U0N1", "U0N2", "U0N3", "U0N4"]  # each record's JSON line, the refused one too
    assert any("was refused by" in r.getMessage() for r in caplog.records)


class AwayStore:
    """A store whose database has gone away: every write says so."""

    url = "sqlite:///away.db"

    def append_audit(self, rows: list[tuple[object, ...]]) -> None:
        raise StoreUnavailable("connection refused")

    def close(self) -> None:
        pass


def test_while_the_database_is_away_the_queue_is_bounded_and_what_is_dropped_is_logged_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics.enable(in_flight=lambda: 0)
    before = sample(metrics.exposition()[0].decode(), "shipmate_audit_dropped_total")
    audit = AuditLog(AwayStore(), max_waiting=3)  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, logger="shipmate.audit")
    for n in range(8):
        audit.record(record(n))
    dropped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("audit record dropped")]
    assert len(dropped) == 5 and '"user_id": "U0N7"' in dropped[-1]
    assert sample(metrics.exposition()[0].decode(), "shipmate_audit_dropped_total") - before == 5
    audit.close(timeout=0.5)


# -- 2. a change is made only once its first record is stored ---------------------------------------------


def test_a_change_is_refused_when_the_database_answers_but_cannot_write(
    bot_server: Callable[..., BotProcess],
    running_postgres: PrivatePostgres,
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    url = running_postgres.new_database()
    database = url.rsplit("/", 1)[1]
    bot = bot_server(**bot_settings(tmp_path / "settings"), SHIPMATE_DATABASE_URL=url)
    user = SlackUser(SignedClient(bot.url, signing_secret), slack, "U0ALICE")
    with psycopg.connect(running_postgres.url(), autocommit=True) as admin:
        # A replica after failover: it answers `SELECT 1`, and refuses every write.
        admin.execute(f"ALTER DATABASE {database} SET default_transaction_read_only = on")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
        refused = text_of(user.answer("/run", "-d --name unrecorded nginx"))
        assert DATABASE_DOWN in refused
        assert "unrecorded" not in names(clean_engine)  # the engine never saw it
        assert "Shipmate" in text_of(user.answer("/docker", "help"))  # reads still answer
        admin.execute(f"ALTER DATABASE {database} SET default_transaction_read_only = off")
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )
    wait_until(lambda: "started" in text_of(user.answer("/run", "-d --name recorded nginx")), 20, "a change again")
    # The outcome's record is queued after the answer (only a change's `started` record is written before it runs).
    outcomes = wait_until(
        lambda: (
            (found := [(r["command"], r["outcome"]) for r in postgres_rows(url) if "recorded" in str(r["command"])])
            and ("/run -d --name recorded nginx", "ok") in found
            and found
        ),
        10,
        "the outcome's record",
    )
    assert ("/run -d --name recorded nginx", "started") in outcomes


def test_a_changes_first_record_waits_for_earlier_records_but_not_for_a_slow_sink(tmp_path: Path) -> None:
    released = threading.Event()
    audit = AuditLog(tmp_path / "audit.db", sinks=[lambda _record: released.wait(10)])  # Slack, slow to answer
    try:
        audit.record(record(1))
        started = time.monotonic()
        audit.record_now(record(2, changes=True, outcome="started"))
        assert time.monotonic() - started < 1.0
    finally:
        released.set()
        audit.close()
    stored = AuditLog(tmp_path / "audit.db")
    try:
        assert [r.user_id for r in stored.latest()] == ["U0N2", "U0N1"]  # in the order they happened
    finally:
        stored.close()


# -- 3. clicks never wait behind follows; follows are limited per user and in all ----------------------------


def test_follows_refuse_past_either_limit_and_make_room_when_one_ends() -> None:
    follows = Follows(per_user=2, at_once=3)
    first, _ = follows.open("U0A")
    follows.open("U0A")
    with pytest.raises(TooManyFollows, match=r"^you already follow 2 logs; stop one first"):
        follows.open("U0A")
    follows.open("U0B")
    with pytest.raises(TooManyFollows, match=r"^Shipmate is following as many logs as it can \(3\); try again"):
        follows.open("U0C")
    follows.close(first, "the container stopped")
    follows.open("U0C")  # the one that ended made room


def test_follows_are_limited_and_a_confirm_is_answered_while_they_run(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    # Eight slow workers: at most four follows at once, two per user (the default).
    bot = bot_server(**bot_settings(tmp_path / "settings"), SHIPMATE_WORKERS="8", SHIPMATE_FOLLOW_MAX="120")
    client = SignedClient(bot.url, signing_secret)
    alice = SlackUser(client, slack, "U0ALICE")
    assert "started" in text_of(alice.answer("/run", "-d --name talker busybox sh -c 'echo ready; sleep 600'"))
    assert "started" in text_of(alice.answer("/run", "-d --name doomed busybox sleep 600"))

    refusals: dict[str, str] = {}
    for user, count in (("U0F1", 3), ("U0F2", 2), ("U0F3", 2), ("U0F4", 2)):  # nine asked: enough to fill eight
        for n in range(count):
            name = f"{user.lower()}-follow-{n}"
            reply = client.slash(  # in a channel of their own: their updates are not alice's answers
                "/logs", "-f talker", response_url=slack.response_url(name), user_id=user, channel_id="C0LOGS"
            )
            assert reply.status == 200
            refusals[name] = ""
    wait_until(lambda: sum("logs of" in m.get("text", "") for m in slack.messages.values()) >= 4, 20, "four follows")

    asked = alice.answer("/rm", "-f doomed")
    clicked = time.monotonic()
    done = alice.click(asked, "shipmate.confirm", timeout=15)
    assert "removed" in text_of(done) and time.monotonic() - clicked < 10
    assert "doomed" not in names(clean_engine)

    answered = {name: text_of(body) for name in refusals for body in slack.responses(name) if "follow" in text_of(body)}
    assert "you already follow 2 logs; stop one first" in answered["u0f1-follow-2"]
    for name in ("u0f3-follow-0", "u0f3-follow-1", "u0f4-follow-0", "u0f4-follow-1"):
        assert "Shipmate is following as many logs as it can (4); try again when one ends" in answered[name]
    assert sum("logs of" in m.get("text", "") for m in slack.messages.values()) == 4


# -- 4. readiness: cached probes, one in flight per engine, no hosts on the public port ----------------------


class SilentEngine:
    """A unix socket that takes connections and never answers: an engine whose probes all run to their timeout."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connections: list[socket.socket] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(128)
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self.connections.append(self._server.accept()[0])
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for connection in [*self.connections, self._server]:
            connection.close()


def _help_seconds(client: SignedClient, slack: SlackStandin) -> float:
    reply = client.slash("/docker", "help", response_url=slack.response_url("help"))
    assert reply.status == 200 and "Shipmate" in reply.text
    return reply.elapsed


def test_a_readyz_flood_probes_each_engine_once_shows_no_host_and_never_starves_slack(
    bot_server: Callable[..., BotProcess], slack: SlackStandin, signing_secret: str, tmp_path: Path
) -> None:
    silent = SilentEngine(Path(tempfile.mkdtemp(prefix="silent-")) / "docker.sock")
    metrics_port = free_port()
    try:
        bot = bot_server(
            **bot_settings(tmp_path / "settings"),
            DOCKER_HOST=f"unix://{silent.path}",
            args=("--metrics-port", str(metrics_port), "--metrics-host", "127.0.0.1"),
        )
        client = SignedClient(bot.url, signing_secret)
        quiet = statistics.median(_help_seconds(client, slack) for _ in range(5))
        answers: list[tuple[int, str]] = []
        waits: list[float] = []
        flood_ends = time.monotonic() + 3.0

        def hit() -> None:
            while time.monotonic() < flood_ends:
                # The first probe also opens the engine's client, whose API version question waits for the engine's
                # own timeout (SHIPMATE_DOCKER_TIMEOUT, 10 s): that probe goes on in the background, no hit waits it.
                asked = time.monotonic()
                try:
                    with urllib.request.urlopen(f"{bot.url}/readyz", timeout=30) as answer:
                        answers.append((answer.status, answer.read().decode()))
                except urllib.error.HTTPError as error:
                    answers.append((error.code, error.read().decode()))
                waits.append(time.monotonic() - asked)

        flood = [threading.Thread(target=hit) for _ in range(32)]
        for thread in flood:
            thread.start()
        time.sleep(0.2)
        during = statistics.median(_help_seconds(client, slack) for _ in range(9))
        for thread in flood:
            thread.join()
        print(f"/slack/events median: {quiet * 1000:.0f} ms quiet, {during * 1000:.0f} ms under 32 /readyz hits")

        assert during < max(0.5, 5 * quiet), f"{during:.2f} s under the flood, {quiet:.2f} s without"
        assert len(silent.connections) <= 2, f"{len(silent.connections)} probes of one engine in 3 s"
        assert max(waits) < 3.0, f"a /readyz hit waited {max(waits):.1f} s for a probe (1 s timeout)"
        assert answers and {status for status, _ in answers} == {503}
        for _, body in answers:  # engine names and ok/down only: no socket path, no database URL
            assert str(silent.path) not in body and "sqlite" not in body and "audit.db" not in body
        last = json.loads(answers[-1][1])  # the database is not what this test is about: ok/down, its word only
        assert last["ready"] is False and last["engines"] == {"default": "down"} and last["database"] in ("ok", "down")
        assert last["down"][0] == "engine default"
        assert get(f"{bot.url}/metrics")[0] == 404  # on the metrics port only
        status, _, detailed = get(f"http://127.0.0.1:{metrics_port}/readyz")
        assert status == 503 and json.loads(detailed)["engines"]["default"] != "down"  # says why, off the public port
        assert "shipmate_commands_total" in get(f"http://127.0.0.1:{metrics_port}/metrics")[2]
    finally:
        silent.close()


# -- 5. `logs --tail all` reads no further than its reply can show ----------------------------------------------


class CountingStream:
    """A log stream that counts the bytes the executor takes from it."""

    def __init__(self, stream: Iterator[bytes], taken: list[int]) -> None:
        self._stream = stream
        self._taken = taken

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._taken.append(len(chunk))
            yield chunk

    def close(self) -> None:
        self._stream.close()  # type: ignore[attr-defined]


def test_logs_tail_all_of_a_big_log_reads_only_up_to_the_cut(clean_engine: PrivateEngine) -> None:
    api = clean_engine.api()
    try:  # ten thousand lines of a thousand bytes: 10 MB of log, twenty times what a reply shows
        big = api.create_container("busybox", ["sh", "-c", 'yes "$(printf %01000d 0)" | head -n 10000'], name="big")
        api.start(big["Id"])
        assert api.wait(big["Id"], timeout=60)["StatusCode"] == 0
    finally:
        api.close()
    engine = Engine(clean_engine.docker_host, from_environment=False)
    taken: list[int] = []
    real_logs = engine.api.logs

    def counting_logs(*args: object, **kwargs: object) -> object:
        logs = real_logs(*args, **kwargs)
        if isinstance(logs, bytes):  # read whole, in one piece
            taken.append(len(logs))
            return logs
        return CountingStream(logs, taken)

    engine.api.logs = counting_logs  # type: ignore[method-assign]
    dispatcher = Dispatcher(engine)
    try:
        reply = dispatcher.handle(Request("logs --tail all big"), to_text)
    finally:
        dispatcher.close()
    assert reply.message.startswith("(output capped by size, ")
    shown = reply.message.split("\n", 1)[1]
    assert 0 < len(shown.encode()) <= MAX_LOG_BYTES and set(shown.split("\n")) == {"0" * 1000}
    assert sum(taken) <= MAX_LOG_BYTES + 64 * 1024, f"read {sum(taken)} bytes for a reply of {MAX_LOG_BYTES}"
