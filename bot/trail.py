"""One request's records in the audit: every decision and outcome, and a change's `started` record stored
before the change reaches Docker."""

import logging
import time
from dataclasses import dataclass, field, replace

from bot import metrics
from bot.audit import AuditLog, AuditRecord, describe
from bot.grammar import Command
from bot.request import Caller
from bot.results import Failure, Result
from bot.store import StoreRejected, StoreUnavailable
from bot.store.audit import CANCELLED, REFUSED, REJECTED, STARTED

log = logging.getLogger(__name__)
DATABASE_DOWN = (
    "the audit database is not answering, so Shipmate makes no changes for now (reads still work): "
    "try again in a moment"
)


@dataclass(frozen=True)
class Trail:
    """Who asked, the command line as they typed it (the audit masks it), and when the request began: each
    record's duration counts from there."""

    audit: AuditLog | None
    caller: Caller
    line: str
    began: float = field(default_factory=time.monotonic)

    def with_line(self, line: str) -> "Trail":
        """The same request, recorded under another line (a click's, once its token is read)."""
        return replace(self, line=line)

    def record(
        self,
        command: Command | None,
        decision: str,
        result: Result,
        *,
        engine: str = "",
        detail: str | None = None,
    ) -> None:
        outcome, described = describe(result)
        if decision in (REFUSED, REJECTED, CANCELLED):
            outcome = decision
        record = self._record_of(command, decision, outcome, detail or described, engine)
        metrics.counted(record)  # at once, not when the audit is written: it may wait for its database
        if self.audit is not None:
            self.audit.record(record)

    def started(self, command: Command, decision: str, engine: str) -> Failure | None:
        """A change's first record, stored before the change reaches Docker; DATABASE_DOWN when it cannot be.
        A ping is not enough: a read-only replica after a failover, a full disk or a read-only file system
        answers it, and then loses the record."""
        if not command.changes or self.audit is None:
            return None
        try:
            self.audit.record_now(replace(self._record_of(command, decision, STARTED, "", engine), duration_ms=0))
        except (StoreUnavailable, StoreRejected) as error:
            log.error("a change was refused: its record could not be stored (%s)", error)
            return Failure(DATABASE_DOWN)
        return None

    def _record_of(self, command: Command | None, decision: str, outcome: str, detail: str, engine: str) -> AuditRecord:
        return AuditRecord(
            at=time.time(),
            team_id=self.caller.team_id,
            user_id=self.caller.user_id,
            user_name=self.caller.user_name,
            channel_id=self.caller.channel_id,
            command=self.line,
            action=command.action if command else "",
            changes=bool(command and command.changes),
            decision=decision,
            outcome=outcome,
            detail=detail,
            duration_ms=int((time.monotonic() - self.began) * 1000),
            engine=engine,
        )
