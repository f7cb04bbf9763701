"""Every request leaves a record: in SQLite (survives restarts), as one JSON log line, and in any extra sinks.

Writing never blocks the request: `record()` masks the record and queues it; one writer thread stores it,
logs it and hands it to the sinks (the optional audit channel). `flush()` waits for the queue to drain.
The same database remembers which confirmation tokens were used, so a Confirm runs at most once across
restarts and across replicas that share the file.
"""

import fnmatch
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bot.config import ConfigError
from bot.results import ConfirmationRequest, Failure, FleetAnswer, FromEngine, Outcomes, PullDone, Result, RunDone
from bot.secrets import mask_command_text

log = logging.getLogger("shipmate.audit")

# What the authorize stage (or the confirmation step) said.
ALLOWED = "allowed"
REFUSED = "refused"
CONFIRM = "confirm"  # asked the requester to confirm; nothing done yet
CONFIRMED = "confirmed"  # done after a Confirm click
CANCELLED = "cancelled"
REJECTED = "rejected"  # a click that could not count: someone else's, expired, forged, already used
INVALID = "invalid"  # the text did not parse
ALERT = "alert"  # an alert the bot posted (or updated) on its own, from an engine event

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    command TEXT NOT NULL,
    action TEXT NOT NULL,
    changes INTEGER NOT NULL,
    decision TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit (user_id, id);
CREATE TABLE IF NOT EXISTS used_confirmations (
    nonce TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    user_id TEXT NOT NULL,
    at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_claims (
    key TEXT PRIMARY KEY,
    at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_incidents (
    key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    opened_at REAL NOT NULL,
    last_at REAL NOT NULL,
    count INTEGER NOT NULL,
    ts TEXT NOT NULL,
    alert TEXT NOT NULL,
    resolved INTEGER NOT NULL
);
"""
_COLUMNS = (
    "at",
    "team_id",
    "user_id",
    "user_name",
    "channel_id",
    "command",
    "action",
    "changes",
    "decision",
    "outcome",
    "detail",
    "duration_ms",
    "engine",
)
# Columns added since the first schema, for databases written by an older Shipmate.
_ADDED_COLUMNS = {"engine": "TEXT NOT NULL DEFAULT ''"}
_INSERT = f"INSERT INTO audit ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
BATCH = 200
MAX_DETAIL = 500
NONCE_GRACE_SECONDS = 300  # used nonces outlive their token by this much (clock skew between replicas)


@dataclass(frozen=True)
class Incident:
    """One alert message and the occurrences it stands for (flapping updates it instead of posting again)."""

    channel: str
    opened_at: float
    count: int
    ts: str  # the message's ts; "" while the replica that opened it is still posting
    alert: str  # what the message shows, as JSON, so any replica can redraw it


@dataclass(frozen=True)
class AuditRecord:
    at: float  # epoch seconds
    team_id: str
    user_id: str
    user_name: str
    channel_id: str
    command: str  # as typed (or clicked), secret-looking values masked
    action: str  # e.g. "container.run"; "" when the text did not parse
    changes: bool  # the command alters Docker's state
    decision: str  # ALLOWED, REFUSED, CONFIRM, CONFIRMED, CANCELLED, REJECTED or INVALID
    outcome: str  # ok, failed, refused, pending, cancelled
    detail: str = ""  # the refusal or error, or what was done
    duration_ms: int = 0
    engine: str = ""  # the engine(s) it ran on, comma-separated; "" when it needed none

    def json(self) -> str:
        fields = asdict(self)
        fields["at"] = datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds")
        return json.dumps(fields, ensure_ascii=False)


AuditSink = Callable[[AuditRecord], None]


def describe(result: Result) -> tuple[str, str]:
    """(outcome, detail) of a result, for its record."""
    if isinstance(result, FromEngine):
        return describe(result.result)
    if isinstance(result, FleetAnswer):
        missed = "; ".join(f"{miss.engine}: {miss.reason}" for miss in result.unanswered)
        return ("ok" if result.parts else "failed"), missed
    if isinstance(result, Failure):
        return "failed", result.reason
    if isinstance(result, ConfirmationRequest):
        return "pending", result.summary
    if isinstance(result, Outcomes):
        done = [o.target for o in result.outcomes if o.ok]
        failed = [f"{o.target}: {o.detail}" for o in result.outcomes if not o.ok]
        detail = "; ".join(([f"{result.verb} {', '.join(done)}"] if done else []) + failed)
        return ("ok" if result.all_ok else "failed"), detail
    if isinstance(result, RunDone):
        ended = "detached" if result.detached else f"exit code {result.exit_code}"
        if result.timed_out_after is not None:
            ended = f"stopped after {result.timed_out_after:g} s"
        return "ok", f"{result.name} ({result.short_id}) from {result.image}: {ended}"
    if isinstance(result, PullDone):
        return "ok", f"{result.reference} ({result.short_id}){'' if result.updated else ' up to date'}"
    return "ok", ""


def _connect(path: Path, same_thread: bool = True) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=same_thread)
    connection.execute("PRAGMA journal_mode=WAL")  # readers (`/docker audit`, other replicas) never wait for writers
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


_STOP = object()
MAX_SCANNED = 20_000  # records looked through for an engine filter


def _on_engines(recorded: str, patterns: str) -> bool:
    """Whether a record ran on an engine the `--context` patterns (a name, comma list or glob) name."""
    ran = recorded.split(",") if recorded else []
    wanted = patterns.split(",")
    return any(fnmatch.fnmatchcase(engine, pattern) for engine in ran for pattern in wanted) or "all" in wanted


class AuditLog:
    def __init__(self, path: Path, sinks: Sequence[AuditSink] = ()) -> None:
        self.path = path
        self.sinks = tuple(sinks)
        try:
            self._direct = _connect(path, same_thread=False)  # claims and reads, from request threads
            self._direct.executescript(_SCHEMA)
            present = {row[1] for row in self._direct.execute("PRAGMA table_info(audit)")}
            for column, definition in _ADDED_COLUMNS.items():
                if column not in present:
                    self._direct.execute(f"ALTER TABLE audit ADD COLUMN {column} {definition}")
        except sqlite3.Error as error:
            raise ConfigError(f"SHIPMATE_AUDIT_DB={path}: cannot use it as the audit database ({error})") from None
        self._direct_lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name="shipmate-audit", daemon=True)
        self._writer.start()

    # -- recording ----------------------------------------------------------------

    def record(self, record: AuditRecord) -> None:
        """Queue a record (masking its text first); returns at once."""
        record = replace(
            record,
            command=mask_command_text(record.command),
            detail=mask_command_text(record.detail)[:MAX_DETAIL],
        )
        with self._idle:
            if self._closed:
                closed = True
            else:
                closed = False
                self._pending += 1
                self._queue.put(record)
        if closed:  # a request finishing during shutdown: store it here rather than lose it
            connection = _connect(self.path)
            try:
                self._store([record], connection)
            finally:
                connection.close()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued record is stored, logged and sunk. False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        with self._idle:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._writer.join(timeout)
        with self._direct_lock:
            self._direct.close()

    def _write_loop(self) -> None:
        connection = _connect(self.path)
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < BATCH and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                records = [item for item in batch if item is not _STOP]
                try:
                    self._store(records, connection)
                except Exception:  # the writer must outlive any one batch
                    log.exception("audit writer failed on %d record(s)", len(records))
                finally:
                    with self._idle:
                        self._pending -= len(records)
                        self._idle.notify_all()
                if len(records) != len(batch):
                    return
        finally:
            connection.close()

    def _store(self, records: list[AuditRecord], connection: sqlite3.Connection) -> None:
        if not records:
            return
        rows = [tuple(getattr(record, column) for column in _COLUMNS) for record in records]
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(_INSERT, rows)
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            log.error("audit records not stored in %s (%s); they follow in the log", self.path, error)
            if connection.in_transaction:
                connection.execute("ROLLBACK")
        for record in records:
            log.info("%s", record.json())
            for sink in self.sinks:
                try:
                    sink(record)
                except Exception:  # a sink (Slack, …) must never stop the audit
                    log.exception("audit sink %s failed", getattr(sink, "__name__", type(sink).__name__))

    # -- reading ------------------------------------------------------------------

    def latest(self, user_id: str | None = None, limit: int = 20, engines: str | None = None) -> list[AuditRecord]:
        """The newest records first, optionally of one user and of the engines a `--context` pattern names;
        includes what is still queued."""
        self.flush(timeout=2.0)
        where, params = ("WHERE user_id = ?", (user_id,)) if user_id else ("", ())
        query = f"SELECT {', '.join(_COLUMNS)} FROM audit {where} ORDER BY id DESC LIMIT ? OFFSET ?"
        found: list[AuditRecord] = []
        offset = 0
        while len(found) < limit and offset < MAX_SCANNED:
            with self._direct_lock:
                rows = self._direct.execute(query, (*params, BATCH, offset)).fetchall()
            records = [AuditRecord(**dict(zip(_COLUMNS, row, strict=True))) for row in rows]
            found += [record for record in records if engines is None or _on_engines(record.engine, engines)]
            if len(rows) < BATCH:
                break
            offset += BATCH
        return found[:limit]

    # -- confirmation tokens ------------------------------------------------------

    def used(self, nonce: str) -> str | None:
        """What became of a confirmation token ("confirmed", "cancelled"), or None while it is unused."""
        with self._direct_lock:
            row = self._direct.execute("SELECT state FROM used_confirmations WHERE nonce = ?", (nonce,)).fetchone()
        return row[0] if row else None

    def claim(self, nonce: str, state: str, user_id: str, expires_at: float) -> str | None:
        """Mark a token used, atomically: None when this call claimed it, else what it was already used for."""
        now = time.time()
        with self._direct_lock:
            self._direct.execute("DELETE FROM used_confirmations WHERE expires_at < ?", (now - NONCE_GRACE_SECONDS,))
            inserted = self._direct.execute(
                "INSERT OR IGNORE INTO used_confirmations (nonce, state, user_id, at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (nonce, state, user_id, now, expires_at),
            ).rowcount
            if inserted:
                return None
            row = self._direct.execute("SELECT state FROM used_confirmations WHERE nonce = ?", (nonce,)).fetchone()
        return row[0] if row else state

    # -- alerts ---------------------------------------------------------------------

    def claim_alert(self, key: str, expires_at: float) -> bool:
        """Claim one event's alert for this process, atomically: True for the first claim across replicas."""
        now = time.time()
        with self._direct_lock:
            self._direct.execute("DELETE FROM alert_claims WHERE expires_at < ?", (now,))
            return bool(
                self._direct.execute(
                    "INSERT OR IGNORE INTO alert_claims (key, at, expires_at) VALUES (?, ?, ?)", (key, now, expires_at)
                ).rowcount
            )

    def open_incident(self, key: str, channel: str, now: float, window: float) -> bool:
        """Open an incident unless one is open and younger than `window`: True when this call opened it (post a
        message), False when there is one to update."""
        with self._direct_lock:
            return bool(
                self._direct.execute(
                    "INSERT INTO alert_incidents (key, channel, opened_at, last_at, count, ts, alert, resolved)"
                    " VALUES (?, ?, ?, ?, 1, '', '', 0) ON CONFLICT (key) DO UPDATE SET opened_at = excluded.opened_at,"
                    " last_at = excluded.last_at, count = 1, ts = '', alert = '', resolved = 0"
                    " WHERE alert_incidents.resolved = 1 OR alert_incidents.opened_at < ?",
                    (key, channel, now, now, now - window),
                ).rowcount
            )

    def incident(self, key: str) -> Incident | None:
        with self._direct_lock:
            row = self._direct.execute(
                "SELECT channel, opened_at, count, ts, alert FROM alert_incidents WHERE key = ?", (key,)
            ).fetchone()
        return Incident(*row) if row else None

    def incident_posted(self, key: str, ts: str, alert: str) -> None:
        with self._direct_lock:
            self._direct.execute("UPDATE alert_incidents SET ts = ?, alert = ? WHERE key = ?", (ts, alert, key))

    def repeat_incident(self, key: str, now: float) -> int:
        """Count one more occurrence of an open incident; its new count (0 when there is none open)."""
        with self._direct_lock:
            row = self._direct.execute(
                "UPDATE alert_incidents SET count = count + 1, last_at = ? WHERE key = ? AND resolved = 0 RETURNING count",
                (now, key),
            ).fetchone()
        return row[0] if row else 0

    def resolve_incident(self, key: str) -> Incident | None:
        """Mark an open incident resolved, once: the incident when this call resolved it."""
        with self._direct_lock:
            row = self._direct.execute(
                "UPDATE alert_incidents SET resolved = 1 WHERE key = ? AND resolved = 0 AND ts != ''"
                " RETURNING channel, opened_at, count, ts, alert",
                (key,),
            ).fetchone()
        return Incident(*row) if row else None
