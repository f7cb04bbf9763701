"""The shared store on both backends — SQLite and a private PostgreSQL — through the one interface: claims once,
audit, the pending approval requests, schema upgrade from the version before versioning, a newer database refused, and a database that goes away
and comes back."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.secrets import mask_values
from bot.store import Claim, Store, StoreUnavailable, open_store
from bot.store.approvals import ApprovalRecord, ApprovalRequests
from bot.store.schema import VERSION
from tests.private_postgres import PrivatePostgres

# The schema of Shipmate before SHIPMATE_DATABASE_URL: what an existing audit file (or database) holds.
LEGACY = [
    """CREATE TABLE audit (id {id}, at {real} NOT NULL, team_id TEXT NOT NULL, user_id TEXT NOT NULL,
       user_name TEXT NOT NULL, channel_id TEXT NOT NULL, command TEXT NOT NULL, action TEXT NOT NULL,
       changes INTEGER NOT NULL, decision TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL,
       duration_ms INTEGER NOT NULL)""",
    """CREATE TABLE used_confirmations (nonce TEXT PRIMARY KEY, state TEXT NOT NULL, user_id TEXT NOT NULL,
       at {real} NOT NULL, expires_at {real} NOT NULL)""",
    """INSERT INTO audit (at, team_id, user_id, user_name, channel_id, command, action, changes, decision, outcome,
       detail, duration_ms) VALUES (1700000000.0, 'T0', 'U0OLD', 'old', 'C0OPS', '/ps', 'container.ls', 0,
       'allowed', 'ok', '', 5)""",
    "INSERT INTO used_confirmations VALUES ('nonce-old', 'confirmed', 'U0OLD', 1700000000.0, 9999999999.0)",
]
ROW = (1_700_000_001.0, "T0", "U0ME", "me", "C0OPS", "/run -d nginx", "container.run", 1, "allowed", "ok", "", 7, "")


class Backend:
    """A fresh, empty database of one kind: its URL, and raw SQL against it (to set up old schemas)."""

    def __init__(self, kind: str, tmp_path: Path, postgres: Callable[[], PrivatePostgres]) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp_path / 'shipmate.db'}"
        else:
            self.server = postgres()
            self.url = self.server.new_database()

    def execute(self, *statements: str) -> None:
        words = (
            {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL"}
            if self.kind == "sqlite"
            else {"id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "real": "DOUBLE PRECISION"}
        )
        if self.kind == "sqlite":
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as connection:
                for statement in statements:
                    connection.execute(statement.format(**words))
        else:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as connection:
                for statement in statements:
                    connection.execute(statement.format(**words))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return Backend(request.param, tmp_path, lambda: request.getfixturevalue("running_postgres"))


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    opened = open_store(backend.url)
    yield opened
    opened.close()


def test_a_key_is_claimed_once_even_by_racing_replicas(backend: Backend, store: Store) -> None:
    other = open_store(backend.url)  # a second replica on the same database
    results: list[Claim | None] = []
    barrier = threading.Barrier(8)

    def claim(replica: Store, user: str) -> None:
        barrier.wait()
        results.append(replica.claim("confirmation", "nonce-1", "confirmed", user, time.time() + 120))

    threads = [threading.Thread(target=claim, args=((store, other)[i % 2], f"U0{i}")) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 1
    winner = store.claimed("confirmation", "nonce-1")
    assert winner is not None and [r for r in results if r is not None] == [winner] * 7
    assert other.claimed("request", "nonce-1") is None  # kinds are separate
    assert other.claim("alert", "nonce-1", "sent", "", time.time() + 60) is None
    other.close()


def test_audit_rows_are_shared_and_newest_first(backend: Backend, store: Store) -> None:
    other = open_store(backend.url)
    store.append_audit([ROW])
    other.append_audit([(*ROW[:2], "U0YOU", *ROW[3:])])
    assert [row[2] for row in store.latest_audit(None, 10)] == ["U0YOU", "U0ME"]
    assert [row[2] for row in other.latest_audit("U0ME", 10)] == ["U0ME"]
    other.close()


def test_pending_approval_requests_are_the_unended_unexpired_ones_oldest_first(backend: Backend, store: Store) -> None:
    requests, other = ApprovalRequests(store), ApprovalRequests(open_store(backend.url))
    now = time.time()

    def asked(request_id: str, created: float, ttl: float) -> None:
        record = ApprovalRecord(
            request_id, "U0ME", "T0", "C0OPS", "me", "/docker", f"rm -f {request_id}", "default", "container.rm",
            ("S0LEADS",), 1, ttl, "C0OPS", "approvals rule 1", "remove it", (), created, created + ttl,
        )  # fmt: skip
        requests.add(record, {})

    asked("later", now - 10, 600)
    asked("first", now - 20, 600)
    asked("ended", now - 30, 600)
    asked("expired", now - 40, 30)
    assert other.end("ended", "withdrawn", "U0ME") is None
    pending = other.pending(now)  # another replica sees the same
    assert [state.record.id for state in pending] == ["first", "later"]
    assert pending[0].record.approvers == ("S0LEADS",) and pending[0].state == "pending"
    other.database.close()


def test_the_schema_before_versioning_is_upgraded_and_kept(backend: Backend) -> None:
    backend.execute(*LEGACY)
    store = open_store(backend.url)
    try:
        assert [row[2] for row in store.latest_audit(None, 10)] == ["U0OLD"]  # the old record is still there
        assert store.claimed("confirmation", "nonce-old") == Claim("confirmed", "U0OLD")  # and the used token
        store.append_audit([ROW])
        assert len(store.latest_audit(None, 10)) == 2
    finally:
        store.close()
    open_store(backend.url).close()  # opening an upgraded database again changes nothing
    backend.execute("SELECT version FROM shipmate_schema")


def test_an_audit_file_that_already_has_the_engine_column_is_upgraded(tmp_path: Path) -> None:
    backend = Backend("sqlite", tmp_path, lambda: pytest.fail("no server needed"))
    backend.execute(*LEGACY, "ALTER TABLE audit ADD COLUMN engine TEXT NOT NULL DEFAULT ''")  # an earlier Shipmate
    store = open_store(backend.url)
    try:
        store.append_audit([(*ROW[:-1], "prod")])
        assert [(row[2], row[-1]) for row in store.latest_audit(None, 10)] == [("U0ME", "prod"), ("U0OLD", "")]
    finally:
        store.close()


def test_a_database_newer_than_the_code_stops_start_up(backend: Backend) -> None:
    open_store(backend.url).close()
    backend.execute(f"UPDATE shipmate_schema SET version = {VERSION + 1}")
    with pytest.raises(ConfigError, match=rf"has schema version {VERSION + 1}, newer than this Shipmate knows"):
        open_store(backend.url)


def test_urls_that_cannot_be_used_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("write sqlite:///relative.db or sqlite:////absolute/path.db")):
        open_store("sqlite://shipmate.db")
    with pytest.raises(ConfigError, match=re.escape("use sqlite:///path.db or postgresql://")) as refused:
        open_store("mysql://root:hunter2@db/shipmate")
    assert "hunter2" not in str(refused.value)
    assert mask_values("postgresql://u:hunter2@db:5432/x") == "postgresql://u:••••@db:5432/x"
    with pytest.raises(ConfigError) as refused:
        open_store("mysql://db/shipmate?sslmode=require&password=hunter2")
    assert "hunter2" not in str(refused.value) and "sslmode=require&password=••••" in str(refused.value)


def test_postgres_that_does_not_answer_is_one_line(running_postgres: PrivatePostgres) -> None:
    nowhere = running_postgres.url("no_such_database")
    with pytest.raises(ConfigError, match=r"cannot use the database at .*no_such_database.*does not exist"):
        open_store(nowhere)


def test_a_password_in_the_url_shows_nowhere_the_database_is_named(running_postgres: PrivatePostgres) -> None:
    """The URL as messages, logs and /readyz's database state show it: user info and query credentials masked."""
    from bot.audit import AuditLog

    url = running_postgres.new_database().replace("://shipmate@", "://shipmate:hunter1@")
    audit = AuditLog(open_store(f"{url}?sslmode=disable&password=hunter2&application_name=shipmate"))
    try:
        assert audit.store.url.endswith("?sslmode=disable&password=••••&application_name=shipmate")
        assert "://shipmate:••••@127.0.0.1:" in audit.store.url
        running_postgres.stop()
        try:
            down = audit.ping()
        finally:
            running_postgres.start()
        assert down is not None and "password=••••" in down and "hunter" not in down
    finally:
        audit.close()


def test_postgres_away_and_back(running_postgres: PrivatePostgres) -> None:
    store = open_store(running_postgres.new_database())
    try:
        store.append_audit([ROW])
        running_postgres.stop()
        try:
            with pytest.raises(StoreUnavailable):
                store.ping()
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):  # right after a failure, calls give up at once
                store.claim("request", "sig", "seen", "", time.time() + 300)
            assert time.monotonic() - started < 0.5
        finally:
            running_postgres.start()
        deadline = time.monotonic() + 15
        while True:  # the pool reconnects by itself
            try:
                store.ping()
                break
            except StoreUnavailable:
                assert time.monotonic() < deadline, "the store did not reconnect"
                time.sleep(0.2)
        assert [row[2] for row in store.latest_audit(None, 10)] == ["U0ME"]
    finally:
        store.close()


def test_the_url_wins_over_the_audit_file_and_four_slashes_are_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.assembly import open_database
    from bot.config import CoreSettings

    monkeypatch.setenv("SHIPMATE_AUDIT_DB", str(tmp_path / "audit.db"))
    monkeypatch.setenv("SHIPMATE_DATABASE_URL", f"sqlite:///{tmp_path / 'shared.db'}")  # /tmp/… : four slashes
    store = open_database(CoreSettings.from_env())
    store.close()
    assert store.url == f"sqlite:////{str(tmp_path).lstrip('/')}/shared.db"
    assert (tmp_path / "shared.db").exists() and not (tmp_path / "audit.db").exists()
    monkeypatch.delenv("SHIPMATE_DATABASE_URL")
    open_database(CoreSettings.from_env()).close()  # without the URL, SHIPMATE_AUDIT_DB keeps working
    assert (tmp_path / "audit.db").exists()


def test_engine_probes_keep_the_newest_and_claim_the_next_once(backend: Backend, store: Store) -> None:
    from bot.results import EngineStatus
    from bot.store.probes import EngineProbes

    probes, other = EngineProbes(store), EngineProbes(open_store(backend.url))
    assert probes.latest("prod-1") is None
    assert [probes.claim("prod-1", 0.0, time.time() + 60), other.claim("prod-1", 0.0, time.time() + 60)] == [
        True,
        False,
    ]
    probes.save(EngineStatus("prod-1", True, "24.0.7", 3, 5), 1000.5)
    other.save(EngineStatus("prod-1", False, problem="late"), 999.0)  # older: never replaces a newer probe
    assert other.latest("prod-1") == (EngineStatus("prod-1", True, "24.0.7", 3, 5), 1000.5)
    assert other.claim("prod-1", 1000.5, time.time() + 60)  # the probe after that one is a new claim
    other.database.close()


def test_open_incidents_are_the_unresolved_posted_ones_latest_first(store: Store) -> None:
    from bot.store.alerts import AlertState

    state = AlertState(store)
    for key, at in (("a", 100.0), ("b", 200.0), ("c", 300.0)):
        assert state.open_incident(key, "C0ALERTS", at, 600)
        state.incident_posted(key, f"{at}", f'{{"key": "{key}"}}')
    assert state.open_incident("unposted", "C0ALERTS", 400.0, 600)  # still being posted by its replica
    state.repeat_incident("a", 500.0)
    state.resolve_incident("b")
    assert [incident.alert for incident in state.open_incidents()] == ['{"key": "a"}', '{"key": "c"}']
