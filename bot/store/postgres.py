"""PostgreSQL, for replicas on several machines: psycopg 3 with its connection pool (the `postgres` extra).

The pool checks a connection before lending it and reconnects in the background, so a database that went away
and came back is used again without a restart. While it is away a call gives up after WAIT_SECONDS, and for
AWAY_SECONDS after that every call gives up at once: a request that only checks a signature is not slowed down.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.config import ConfigError
from bot.secrets import mask_values
from bot.store import Claim, StoreRejected, StoreUnavailable
from bot.store.schema import AUDIT_COLUMNS, VERSION, VERSION_TABLE, check_version, statements

POOL_SIZE = 10
WAIT_SECONDS = 1.5  # how long a call waits for a connection while the database is away
AWAY_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 5
SCHEMA_LOCK = 0x5_4119_0013  # pg_advisory_xact_lock key: one replica upgrades the schema at a time
SWEEP_EVERY_SECONDS = 60
CLAIM_GRACE_SECONDS = 300
_INSERT = f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({', '.join(['%s'] * len(AUDIT_COLUMNS))})"
_FAILURES = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
# SQLSTATE classes that say the database cannot write now, whatever the rows: connection (08), read-only
# transaction (25: a replica after failover, default_transaction_read_only), resources (53: disk full), operator
# intervention (57), system (58). Anything else is the rows' fault.
_CANNOT_WRITE_NOW = ("08", "25", "53", "57", "58")


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class PostgresStore:
    def __init__(self, url: str) -> None:
        self.url = mask_values(url)
        self._swept = 0.0
        self._sweep_lock = threading.Lock()
        self._away_until = 0.0  # time.monotonic() until which calls give up at once
        self._away_reason = ""
        try:  # one plain connection first: its error says why (refused, password, no such database)
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
        except psycopg.Error as error:
            raise ConfigError(f"cannot use the database at {self.url}: {_first_line(error)}") from None
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            timeout=WAIT_SECONDS,
            open=False,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            name="shipmate",
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS * 2)
            self._upgrade()
        except ConfigError:
            self._pool.close()
            raise
        except (psycopg.Error, PoolTimeout) as error:
            self._pool.close()
            raise ConfigError(f"cannot use the database at {self.url}: {_first_line(error)}") from None

    def _upgrade(self) -> None:
        with self._pool.connection() as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            connection.execute(VERSION_TABLE)
            row = connection.execute("SELECT version FROM shipmate_schema").fetchone()
            if row is None:
                legacy = connection.execute("SELECT to_regclass('audit') IS NOT NULL").fetchone()
                found = 1 if legacy and legacy[0] else 0
                connection.execute("INSERT INTO shipmate_schema (version) VALUES (%s)", (found,))
            else:
                found = int(row[0])
            check_version(found, self.url)
            for statement in statements("postgresql", found):
                connection.execute(statement)
            connection.execute("UPDATE shipmate_schema SET version = %s", (max(found, VERSION),))

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; StoreUnavailable when the database does not answer (or did not, just now)."""
        if time.monotonic() < self._away_until:
            raise StoreUnavailable(self._away_reason)
        try:
            with self._pool.connection() as connection:
                yield connection
        except _FAILURES as error:
            self._away_reason = _first_line(error)
            self._away_until = time.monotonic() + AWAY_SECONDS
            raise StoreUnavailable(self._away_reason) from None
        except psycopg.Error as error:
            if (error.sqlstate or "")[:2] in _CANNOT_WRITE_NOW:  # it answers, but cannot write: reads may still work
                raise StoreUnavailable(_first_line(error)) from None
            raise

    def append_audit(self, rows: list[tuple[object, ...]]) -> None:
        try:
            with self._connection() as connection, connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(_INSERT, rows)
        except psycopg.Error as error:  # what the database could not take of these rows
            raise StoreRejected(_first_line(error)) from None
        except ValueError as error:  # a value psycopg cannot send (a NUL byte in a text)
            raise StoreRejected(str(error)) from None

    def latest_audit(self, user_id: str | None, limit: int, offset: int = 0) -> list[tuple[object, ...]]:
        where, params = ("WHERE user_id = %s", (user_id,)) if user_id else ("", ())
        query = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit {where} ORDER BY id DESC LIMIT %s OFFSET %s"
        with self._connection() as connection:
            return [tuple(row) for row in connection.execute(query, (*params, limit, offset)).fetchall()]

    def claim(self, kind: str, key: str, state: str, by: str, expires_at: float) -> Claim | None:
        now = time.time()
        with self._connection() as connection:
            self._sweep(connection, now)
            inserted = connection.execute(
                "INSERT INTO claims (kind, key, state, claimed_by, at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (kind, key) DO NOTHING RETURNING 1",
                (kind, key, state, by, now, expires_at),
            ).fetchone()
            if inserted:
                return None
            row = connection.execute(
                "SELECT state, claimed_by FROM claims WHERE kind = %s AND key = %s", (kind, key)
            ).fetchone()
        return Claim(*row) if row else Claim(state, by)

    def _sweep(self, connection: psycopg.Connection, now: float) -> None:
        with self._sweep_lock:
            if now - self._swept <= SWEEP_EVERY_SECONDS:
                return
            self._swept = now
        connection.execute("DELETE FROM claims WHERE expires_at < %s", (now - CLAIM_GRACE_SECONDS,))

    def claimed(self, kind: str, key: str) -> Claim | None:
        with self._connection() as connection:
            row = connection.execute(
                "SELECT state, claimed_by FROM claims WHERE kind = %s AND key = %s", (kind, key)
            ).fetchone()
        return Claim(*row) if row else None

    def run(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        with self._connection() as connection:
            cursor = connection.execute(sql.replace("?", "%s"), params)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def ping(self) -> None:
        with self._connection() as connection:
            connection.execute("SELECT 1").fetchone()

    def close(self) -> None:
        self._pool.close()
