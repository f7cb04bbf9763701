"""The embedded store: one SQLite file (WAL), which replicas on one machine may share."""

import sqlite3
import threading
import time
from pathlib import Path

from bot.config import ConfigError
from bot.store import Claim, StoreRejected, StoreUnavailable, sqlite_url
from bot.store.schema import AUDIT_COLUMNS, VERSION, VERSION_TABLE, check_version, statements

SWEEP_EVERY_SECONDS = 60
CLAIM_GRACE_SECONDS = 300  # a claim outlives its expiry by this much (clock skew between replicas)
_INSERT = f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) VALUES ({', '.join('?' * len(AUDIT_COLUMNS))})"


class SqliteStore:
    def __init__(self, path: Path, setting: str = "SHIPMATE_AUDIT_DB") -> None:
        self.path = path
        self.url = sqlite_url(path)
        self._lock = threading.Lock()
        self._swept = 0.0
        try:
            self._db = self._connect()
            self._upgrade()
        except sqlite3.Error as error:
            raise ConfigError(f"{setting}={path}: cannot use it as the audit database ({error})") from None
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")  # readers (other replicas, `/docker audit`) never wait for writers
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _open(self) -> sqlite3.Connection:
        """The connection (call with the lock held); after close(), a new one: a late record is still stored."""
        if self._closed:
            self._db, self._closed = self._connect(), False
        return self._db

    def _upgrade(self) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")  # the write lock: one replica upgrades, the others wait, then find it done
        try:
            db.execute(VERSION_TABLE)
            row = db.execute("SELECT version FROM shipmate_schema").fetchone()
            if row is None:
                columns = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
                found = (2 if "engine" in columns else 1) if columns else 0  # written before versioning
                db.execute("INSERT INTO shipmate_schema (version) VALUES (?)", (found,))
            else:
                found = int(row[0])
            check_version(found, self.url)
            for statement in statements("sqlite", found):
                db.execute(statement)
            db.execute("UPDATE shipmate_schema SET version = ?", (max(found, VERSION),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def append_audit(self, rows: list[tuple[object, ...]]) -> None:
        with self._lock:
            try:
                db = self._open()
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.executemany(_INSERT, rows)
                    db.execute("COMMIT")
                except (sqlite3.Error, ValueError):
                    db.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as error:  # locked, read-only, disk full, gone: not the rows' fault
                raise StoreUnavailable(str(error)) from None
            except (sqlite3.Error, ValueError) as error:  # a value SQLite cannot take
                raise StoreRejected(str(error)) from None

    def latest_audit(self, user_id: str | None, limit: int, offset: int = 0) -> list[tuple[object, ...]]:
        where, params = ("WHERE user_id = ?", (user_id,)) if user_id else ("", ())
        query = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit {where} ORDER BY id DESC LIMIT ? OFFSET ?"
        with self._lock:
            try:
                return self._open().execute(query, (*params, limit, offset)).fetchall()
            except sqlite3.OperationalError as error:  # locked, unreadable, gone: not a mistake in the SQL
                raise StoreUnavailable(str(error)) from None

    def claim(self, kind: str, key: str, state: str, by: str, expires_at: float) -> Claim | None:
        now = time.time()
        with self._lock:
            try:
                db = self._open()
                if now - self._swept > SWEEP_EVERY_SECONDS:
                    db.execute("DELETE FROM claims WHERE expires_at < ?", (now - CLAIM_GRACE_SECONDS,))
                    self._swept = now
                inserted = db.execute(
                    "INSERT OR IGNORE INTO claims (kind, key, state, claimed_by, at, expires_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (kind, key, state, by, now, expires_at),
                ).rowcount
                if inserted:
                    return None
                row = db.execute(
                    "SELECT state, claimed_by FROM claims WHERE kind = ? AND key = ?", (kind, key)
                ).fetchone()
            except sqlite3.OperationalError as error:  # locked, unreadable, gone: not a mistake in the SQL
                raise StoreUnavailable(str(error)) from None
        return Claim(*row) if row else Claim(state, by)  # swept in between: it was claimed all the same

    def claimed(self, kind: str, key: str) -> Claim | None:
        with self._lock:
            try:
                row = (
                    self._open()
                    .execute("SELECT state, claimed_by FROM claims WHERE kind = ? AND key = ?", (kind, key))
                    .fetchone()
                )
            except sqlite3.OperationalError as error:  # locked, unreadable, gone: not a mistake in the SQL
                raise StoreUnavailable(str(error)) from None
        return Claim(*row) if row else None

    def run(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._open().execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:  # locked, unreadable, gone: not a mistake in the SQL
                raise StoreUnavailable(str(error)) from None

    def ping(self) -> None:
        with self._lock:
            try:
                self._open().execute("SELECT version FROM shipmate_schema").fetchone()
            except sqlite3.OperationalError as error:  # locked, unreadable, gone: not a mistake in the SQL
                raise StoreUnavailable(str(error)) from None

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._db.close()
                self._closed = True
