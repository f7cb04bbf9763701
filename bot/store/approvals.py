"""Approval requests in the shared database: a command waiting for someone else's yes (bot/approve).

A request's end (approved, denied, withdrawn, expired) is a claim, so exactly one replica decides it; each
approver's yes is a claim of its own (one per person), so `needed: 2` counts two distinct people on any replica.
The row keeps what the request message shows: its state, who decided, why, and where the message is.
"""

import json
import time
from dataclasses import asdict, dataclass

from bot.store import Claim, Store

APPROVAL = "approval"  # the kind of claim that ends a request
APPROVAL_VOTE = "approval-vote"  # the kind of claim one approver's yes makes (key: request id / user id)
KEPT_SECONDS = 7 * 24 * 3600  # how long an ended request's claims answer a late click
PENDING = "pending"


@dataclass(frozen=True)
class ApprovalRecord:
    """What was asked, by whom, on which engine, and who must say yes."""

    id: str
    requester_user: str
    requester_team: str
    requester_channel: str
    requester_name: str
    slash: str  # the command exactly as it runs once approved: "/docker" and "rm -f web1"
    text: str
    engine: str
    action: str
    approvers: tuple[str, ...]  # user ids and user-group ids
    needed: int
    ttl_seconds: float
    channel: str  # where the request message is posted
    why: str  # the policy rule that asks
    summary: str  # the preview shown to approvers
    details: tuple[str, ...]
    created_at: float
    expires_at: float

    @property
    def line(self) -> str:
        return f"{self.slash} {self.text}"


@dataclass(frozen=True)
class ApprovalState:
    """A request as it stands: the record, the targets' fingerprint it was last approved against, and its end."""

    record: ApprovalRecord
    fingerprint: dict[str, str]
    state: str  # PENDING, or the state of the claim that ended it
    decided_by: str
    reason: str
    message_channel: str
    message_ts: str


_STATE_COLUMNS = "request, fingerprint, state, decided_by, reason, message_channel, message_ts"


def _state(row: tuple[object, ...]) -> ApprovalState:
    request, fingerprint, state, decided_by, reason, channel, ts = row
    fields = json.loads(str(request))
    fields["approvers"], fields["details"] = tuple(fields["approvers"]), tuple(fields["details"])
    return ApprovalState(
        ApprovalRecord(**fields),
        json.loads(str(fingerprint)),
        str(state),
        str(decided_by),
        str(reason),
        str(channel),
        str(ts),
    )


class ApprovalRequests:
    def __init__(self, database: Store) -> None:
        self.database = database

    def add(self, record: ApprovalRecord, fingerprint: dict[str, str]) -> None:
        self.database.run(
            "INSERT INTO approval_requests (id, created_at, expires_at, request, fingerprint, state, decided_by,"
            " reason, message_channel, message_ts) VALUES (?, ?, ?, ?, ?, ?, '', '', '', '')",
            (
                record.id,
                record.created_at,
                record.expires_at,
                json.dumps(asdict(record)),
                json.dumps(fingerprint, sort_keys=True),
                PENDING,
            ),
        )

    def get(self, request_id: str) -> ApprovalState | None:
        rows = self.database.run(f"SELECT {_STATE_COLUMNS} FROM approval_requests WHERE id = ?", (request_id,))
        return _state(rows[0]) if rows else None

    def pending(self, now: float) -> tuple[ApprovalState, ...]:
        """The requests still waiting and not expired at `now`, oldest first (the Home tab lists them)."""
        rows = self.database.run(
            f"SELECT {_STATE_COLUMNS} FROM approval_requests WHERE state = ? AND expires_at > ? ORDER BY created_at",
            (PENDING, now),
        )
        return tuple(_state(row) for row in rows)

    def posted(self, request_id: str, channel: str, ts: str) -> None:
        """Where the request message is, so any replica can update it."""
        self.database.run(
            "UPDATE approval_requests SET message_channel = ?, message_ts = ? WHERE id = ?", (channel, ts, request_id)
        )

    def refingerprint(self, request_id: str, fingerprint: dict[str, str]) -> None:
        """The targets changed since the request: the next yes approves them as they are now."""
        self.database.run(
            "UPDATE approval_requests SET fingerprint = ? WHERE id = ?",
            (json.dumps(fingerprint, sort_keys=True), request_id),
        )

    def vote(self, request_id: str, user_id: str) -> None:
        """One approver's yes (a second click by the same person counts once)."""
        self.database.claim(APPROVAL_VOTE, f"{request_id}/{user_id}", "yes", user_id, time.time() + KEPT_SECONDS)

    def votes(self, request_id: str) -> tuple[str, ...]:
        """Who said yes so far, in order."""
        rows = self.database.run(
            "SELECT claimed_by FROM claims WHERE kind = ? AND key LIKE ? ORDER BY at",
            (APPROVAL_VOTE, f"{request_id}/%"),
        )
        return tuple(str(row[0]) for row in rows)

    def ended(self, request_id: str) -> Claim | None:
        """How the request ended (and who ended it), or None while it waits."""
        return self.database.claimed(APPROVAL, request_id)

    def end(self, request_id: str, state: str, by: str, reason: str = "") -> Claim | None:
        """End the request once for every replica: None when this call ended it, else the end that came first."""
        earlier = self.database.claim(APPROVAL, request_id, state, by, time.time() + KEPT_SECONDS)
        if earlier is None:
            self.database.run(
                "UPDATE approval_requests SET state = ?, decided_by = ?, reason = ? WHERE id = ?",
                (state, by, reason, request_id),
            )
        return earlier
