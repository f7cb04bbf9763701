"""Every request leaves a record: in the shared database (bot/store: SQLite or PostgreSQL), as one JSON log
line, and in any extra sinks.

Writing never blocks the request: `record()` masks the record and queues it; one writer thread stores it,
logs it and hands it to the sinks (the optional audit channel). `flush()` waits for the queue to drain. While
the database is away the writer keeps the records and tries again, up to MAX_WAITING of them; past that a
record is logged and counted as dropped (changes are refused meanwhile: see `record_now`). A record the
database refuses (a batch it cannot take is tried record by record) is logged as not stored; every record
always gets its JSON log line. What the database cannot hold (NUL bytes, over-long texts) is taken out first.
`record_now()` stores one record before returning, for a change about to be made: it raises when it could not.
The other shared state (claims, alerts, follows) has its own stores in bot/store over the same database.
"""

import fnmatch
import functools
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path

from bot.results import (
    ApprovalWaiting,
    ConfirmationRequest,
    Convergences,
    ExecDone,
    Failure,
    FleetAnswer,
    FollowedLogs,
    FromEngine,
    Outcomes,
    Preview,
    PullDone,
    Result,
    RunDone,
)
from bot.secrets import mask_text, mask_values
from bot.store import Store, StoreRejected, StoreUnavailable
from bot.store.audit import AuditRecord, AuditRecords
from bot.store.sqlite import SqliteStore

log = logging.getLogger("shipmate.audit")

BATCH = 200
MAX_DETAIL = 500
MAX_TEXT = 4000  # any text field (the claimed fields of a refused request come from anyone)
MAX_WAITING = 10_000  # records kept in memory while the database is away
FLUSH_BEFORE_CHANGE_SECONDS = 2.0  # how long a change's first record waits for the records queued before it
RETRY_SECONDS = (0.5, 1, 2, 5)  # while the database is away, the writer tries again after these pauses (then every 5 s)

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
    if isinstance(result, Preview):
        return "ok", f"{result.verdict.kind.words}: {result.verdict.reason}"
    if isinstance(result, ApprovalWaiting):
        return "pending", result.request.summary
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
    if isinstance(result, Convergences):
        detail = "; ".join(
            f"{item.service} {item.verb}: {item.outcome}, {item.running}/{item.desired} running"
            + (f" ({item.error})" if item.error else "")
            for item in result.items
        )
        return ("ok" if result.all_ok else "failed"), detail
    if isinstance(result, PullDone):
        return "ok", f"{result.reference} ({result.short_id}){'' if result.updated else ' up to date'}"
    if isinstance(result, ExecDone):
        if result.timed_out_after is not None:
            return "ok", f"still running after {result.timed_out_after:g} s"
        return ("ok" if result.exit_code == 0 else "failed"), f"exit code {result.exit_code}"
    if isinstance(result, FollowedLogs):
        return "ok", f"{result.lines} lines; {result.ended}"
    return "ok", ""


_STOP = object()
MAX_SCANNED = 20_000  # records looked through for an engine filter


def _on_engines(recorded: str, patterns: str) -> bool:
    """Whether a record ran on an engine the `--context` patterns (a name, comma list or glob) name."""
    ran = recorded.split(",") if recorded else []
    wanted = patterns.split(",")
    return any(fnmatch.fnmatchcase(engine, pattern) for engine in ran for pattern in wanted) or "all" in wanted


class AuditLog:
    def __init__(self, store: Store | Path, sinks: Sequence[AuditSink] = (), max_waiting: int = MAX_WAITING) -> None:
        """Records go to the database `store` (a SQLite file when given a path: SHIPMATE_AUDIT_DB), which this log
        closes; the other stores may share it."""
        self.store: Store = SqliteStore(store) if isinstance(store, Path) else store
        self._records = AuditRecords(self.store)
        self.sinks = tuple(sinks)
        self.max_waiting = max_waiting
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0  # queued records not yet stored, logged and sunk
        self._unstored = 0  # queued records not yet stored (or given up on)
        self._idle = threading.Condition()
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name="shipmate-audit", daemon=True)
        self._writer.start()

    # -- recording ----------------------------------------------------------------

    def record(self, record: AuditRecord) -> None:
        """Queue a record (masking its text first); returns at once."""
        record = _storable(record)
        with self._idle:
            closed, full = self._closed, self._pending >= self.max_waiting
            if not closed and not full:
                self._pending += 1
                self._unstored += 1
                self._queue.put(record)
        if closed:  # a request finishing during shutdown: store it here rather than lose it
            self._store([record], retry=False)
        elif full:  # the database has been away for long: memory is not let grow without bound
            from bot import metrics

            metrics.audit_dropped()
            log.warning("audit record dropped (%d wait for the database): %s", self.max_waiting, record.json())

    def record_now(self, record: AuditRecord) -> None:
        """Store one record (masked) before returning, and log it; StoreUnavailable or StoreRejected when it was
        not stored. For a change about to be made: no change without its record."""
        deadline = time.monotonic() + FLUSH_BEFORE_CHANGE_SECONDS
        with self._idle:  # the records queued before it come first (not their sinks: a slow Slack is no reason)
            while self._unstored:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreUnavailable("earlier records are still waiting for the database")
                self._idle.wait(left)
        record = _storable(record)
        self._records.append([record])
        log.info("%s", record.json())

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
        self.store.close()

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            records = [item for item in batch if item is not _STOP]
            try:
                self._store(records, retry=True, stored=functools.partial(self._stored, len(records)))
            except Exception:  # the writer must outlive any one batch
                log.exception("audit writer failed on %d record(s)", len(records))
            finally:
                with self._idle:
                    self._pending -= len(records)
                    self._unstored = min(self._unstored, self._pending)  # stored or given up on, either way
                    self._idle.notify_all()
            if len(records) != len(batch):
                return

    def _stored(self, count: int) -> None:
        with self._idle:
            self._unstored -= count
            self._idle.notify_all()

    def _store(self, records: list[AuditRecord], retry: bool, stored: Callable[[], None] | None = None) -> None:
        """Store a batch; while the database is away, keep it and try again (until shutdown), so nothing is lost.
        Whatever happens, each record gets its JSON log line and goes to the sinks; `stored` is called before
        the sinks."""
        if not records:
            return
        try:
            self._append(records, retry)
        except Exception:  # a bug in a store: the records still follow in the log
            log.exception("audit records not stored in %s; they follow in the log", self.store.url)
        if stored is not None:
            stored()
        for record in records:
            log.info("%s", record.json())
            for sink in self.sinks:
                try:
                    sink(record)
                except Exception:  # a sink (Slack, …) must never stop the audit
                    log.exception("audit sink %s failed", getattr(sink, "__name__", type(sink).__name__))

    def _append(self, records: list[AuditRecord], retry: bool) -> None:
        for attempt in itertools.count():
            try:
                self._records.append(records)
                return
            except StoreRejected as error:
                if len(records) == 1:
                    log.error("an audit record was refused by %s (%s); it follows in the log", self.store.url, error)
                    return
                for record in records:  # one record it cannot take must not cost the others theirs
                    self._append([record], retry)
                return
            except StoreUnavailable as error:
                if not retry or self._closed:
                    log.error("audit records not stored in %s (%s); they follow in the log", self.store.url, error)
                    return
                if attempt == 0:
                    log.error(
                        "audit database %s unreachable (%s): %d record(s) wait", self.store.url, error, len(records)
                    )
                time.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])

    # -- reading ------------------------------------------------------------------

    def latest(self, user_id: str | None = None, limit: int = 20, engines: str | None = None) -> list[AuditRecord]:
        """The newest records first, optionally of one user and of the engines a `--context` pattern names;
        includes what is still queued. StoreUnavailable when the database is away."""
        self.flush(timeout=2.0)
        found: list[AuditRecord] = []
        offset = 0
        while len(found) < limit and offset < MAX_SCANNED:
            records = self._records.latest(user_id, BATCH if engines else limit, offset)
            found += [record for record in records if engines is None or _on_engines(record.engine, engines)]
            if engines is None or len(records) < BATCH:
                break
            offset += BATCH
        return found[:limit]

    def ping(self) -> str | None:
        """None when the database answers, else what is wrong."""
        try:
            self.store.ping()
        except StoreUnavailable as error:
            return mask_values(f"the database at {self.store.url} does not answer ({error})")
        return None


def _holdable(text: str, limit: int = MAX_TEXT) -> str:
    """What any database holds: no NUL, no lone surrogate, at most `limit` characters."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:limit]


def _storable(record: AuditRecord) -> AuditRecord:
    """The record masked, and cleaned of what a database cannot hold."""
    fields = {name: _holdable(value) for name, value in asdict(record).items() if isinstance(value, str)}
    fields["command"] = _holdable(mask_text(fields["command"]))
    fields["detail"] = _holdable(mask_text(fields["detail"]), MAX_DETAIL)
    return replace(record, **fields)
