"""Temporary grants in the shared database: a role on some engines for a while, given when an access request was
approved (`/docker request`), ended by time or by an admin's revoke. Every replica reads the same rows; the active
ones are cached for a moment (GRANTS_CACHE_SECONDS), and the holder's notices are claimed once (WARNED, ENDED)."""

import threading
import time
from dataclasses import dataclass

from bot.store import Store

GRANTS_CACHE_SECONDS = 1.0  # how stale a replica's view of the active grants may be
WARNED = "grant-warned"  # the kind of claim "the holder was told it ends soon" makes
ENDED = "grant-ended"  # ... and "the holder was told it ended"
NOTICE_WINDOW_SECONDS = 24 * 3600  # an end older than this is not announced (a replica that was down long)
_COLUMNS = "id, user_id, role, engines, starts, ends, reason, approved_by, revoked_at, revoked_by"


@dataclass(frozen=True)
class Grant:
    id: str
    user_id: str
    role: str
    engines: str  # a name or pattern, as requested
    starts: float  # epoch seconds
    ends: float
    reason: str
    approved_by: str  # comma-separated user ids
    revoked_at: float | None = None
    revoked_by: str = ""

    def active(self, now: float) -> bool:
        return self.revoked_at is None and self.starts <= now < self.ends

    @property
    def ended_at(self) -> float:
        return self.ends if self.revoked_at is None else min(self.ends, self.revoked_at)


def _grant(row: tuple[object, ...]) -> Grant:
    id_, user, role, engines, starts, ends, reason, approved_by, revoked_at, revoked_by = row
    return Grant(
        str(id_),
        str(user),
        str(role),
        str(engines),
        float(starts),  # type: ignore[arg-type]
        float(ends),  # type: ignore[arg-type]
        str(reason),
        str(approved_by),
        None if revoked_at is None else float(revoked_at),  # type: ignore[arg-type]
        str(revoked_by),
    )


class Grants:
    def __init__(self, database: Store, cache_seconds: float = GRANTS_CACHE_SECONDS) -> None:
        self.database = database
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, tuple[Grant, ...]] | None = None
        self._lock = threading.Lock()

    def add(self, grant: Grant) -> None:
        self.database.run(
            f"INSERT INTO access_grants ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, '')",
            (
                grant.id,
                grant.user_id,
                grant.role,
                grant.engines,
                grant.starts,
                grant.ends,
                grant.reason,
                grant.approved_by,
            ),
        )
        self._forget()

    def active(self, now: float | None = None) -> tuple[Grant, ...]:
        """Every grant in force now (cached for a moment), soonest end first."""
        now = time.time() if now is None else now
        with self._lock:
            cached = self._cached
        if cached is not None and time.monotonic() < cached[0]:
            return tuple(grant for grant in cached[1] if grant.active(now))
        rows = self.database.run(
            f"SELECT {_COLUMNS} FROM access_grants WHERE revoked_at IS NULL AND ends > ? ORDER BY ends", (now,)
        )
        grants = tuple(_grant(row) for row in rows)
        with self._lock:
            self._cached = (time.monotonic() + self.cache_seconds, grants)
        return tuple(grant for grant in grants if grant.active(now))

    def of(self, user_id: str, now: float | None = None) -> tuple[Grant, ...]:
        return tuple(grant for grant in self.active(now) if grant.user_id == user_id)

    def revoke(self, grant_id: str | None, user_id: str | None, by: str, now: float) -> tuple[Grant, ...]:
        """End now the active grant with this id, or every active grant of this user; the grants it ended."""
        ended = tuple(
            grant
            for grant in self.active(now)
            if (grant_id is not None and grant.id == grant_id) or (user_id is not None and grant.user_id == user_id)
        )
        for grant in ended:
            self.database.run(
                "UPDATE access_grants SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
                (now, by, grant.id),
            )
        self._forget()
        return ended

    def ending_within(self, now: float, lead: float) -> tuple[Grant, ...]:
        """Active grants that end within `lead` seconds (their holders are told once)."""
        return tuple(grant for grant in self.active(now) if grant.ends - lead <= now)

    def ended_since(self, since: float, now: float) -> tuple[Grant, ...]:
        """Grants that ended (by time or revoked) between `since` and now."""
        rows = self.database.run(
            f"SELECT {_COLUMNS} FROM access_grants WHERE (ends <= ? AND ends > ?) OR"
            " (revoked_at IS NOT NULL AND revoked_at > ?)",
            (now, since, since),
        )
        return tuple(_grant(row) for row in rows)

    def first_notice(self, kind: str, grant: Grant) -> bool:
        """Claim a notice about a grant once for every replica: True when this call may send it."""
        return self.database.claim(kind, grant.id, "sent", "", grant.ends + NOTICE_WINDOW_SECONDS) is None

    def _forget(self) -> None:
        with self._lock:
            self._cached = None
