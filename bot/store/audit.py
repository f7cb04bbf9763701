"""The audit records in the shared database: append a batch, read the newest (bot/audit.py queues and masks them)."""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from bot.store import Store
from bot.store.schema import AUDIT_COLUMNS

# A record's decision: what the authorize stage (or the confirmation step) said; STARTED is an outcome.
ALLOWED = "allowed"
REFUSED = "refused"
CONFIRM = "confirm"  # asked the requester to confirm; nothing done yet
CONFIRMED = "confirmed"  # done after a Confirm click
CANCELLED = "cancelled"
REJECTED = "rejected"  # a click that could not count: someone else's, expired, forged, already used
INVALID = "invalid"  # the text did not parse
ALERT = "alert"  # an alert the bot posted (or updated) on its own, from an engine event
APPROVAL_REQUESTED = "approval-requested"  # waits for an approver; nothing done yet
APPROVAL_YES = "approval-yes"  # one approver said yes; more must before it runs
APPROVED = "approved"  # done after approval (the record names the approver)
DENIED = "denied"
WITHDRAWN = "withdrawn"  # the requester took the request back
EXPIRED = "expired"  # an approval request clicked after its ttl
STARTED = "started"  # the outcome of a change's first record, stored before the change reaches Docker
DRY_RUN = "dry-run"  # a change's `--dry-run`: what it would do was shown, nothing was done


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
    decision: str  # ALLOWED, REFUSED, CONFIRM, CONFIRMED, CANCELLED, REJECTED, INVALID or DRY_RUN
    outcome: str  # ok, failed, refused, pending, cancelled
    detail: str = ""  # the refusal or error, or what was done
    duration_ms: int = 0
    engine: str = ""  # the engine(s) it ran on, comma-separated; "" when it needed none

    def json(self) -> str:
        fields = asdict(self)
        fields["at"] = datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds")
        return json.dumps(fields, ensure_ascii=False)


def _column(value: object) -> object:
    return int(value) if isinstance(value, bool) else value


def _row(record: AuditRecord) -> tuple[object, ...]:
    return tuple(_column(getattr(record, column)) for column in AUDIT_COLUMNS)


class AuditRecords:
    def __init__(self, database: Store) -> None:
        self.database = database

    def append(self, records: Sequence[AuditRecord]) -> None:
        """All the records or none: StoreUnavailable when the database cannot write now, StoreRejected when it
        refuses one of them."""
        self.database.append_audit([_row(record) for record in records])

    def latest(self, user_id: str | None, limit: int, offset: int = 0) -> list[AuditRecord]:
        """Newest first, optionally of one user."""
        rows = self.database.latest_audit(user_id, limit, offset)
        return [AuditRecord(**dict(zip(AUDIT_COLUMNS, row, strict=True))) for row in rows]
