"""Alert state in the shared database, one answer for every replica: which event's alert was claimed, the
incidents (the one message that later occurrences update and a recovery resolves), and how far each engine's
events were handled (the cursors a restart goes on from).

Each method is one atomic statement, written once for both databases (`?` placeholders: Store.run).
"""

import time
from dataclasses import dataclass

from bot.store import Store

ALERT_CLAIM = "alert"  # the kind of claim an alert makes: one event, one channel, posted once

_OPEN_INCIDENT = (
    "INSERT INTO alert_incidents (key, channel, opened_at, last_at, count, ts, alert, resolved)"
    " VALUES (?, ?, ?, ?, 1, '', '', 0) ON CONFLICT (key) DO UPDATE SET opened_at = excluded.opened_at,"
    " last_at = excluded.last_at, count = 1, ts = '', alert = '', resolved = 0"
    " WHERE alert_incidents.resolved = 1 OR alert_incidents.opened_at < ? RETURNING 1"
)
_READ_INCIDENT = "SELECT channel, opened_at, count, ts, alert FROM alert_incidents WHERE key = ?"
_POSTED_INCIDENT = "UPDATE alert_incidents SET ts = ?, alert = ? WHERE key = ?"
_REPEAT_INCIDENT = (
    "UPDATE alert_incidents SET count = count + 1, last_at = ? WHERE key = ? AND resolved = 0 RETURNING count"
)
_OPEN_INCIDENTS = (
    "SELECT channel, opened_at, count, ts, alert FROM alert_incidents"
    " WHERE resolved = 0 AND ts != '' AND alert != '' ORDER BY last_at DESC"
)
_RESOLVE_INCIDENT = (
    "UPDATE alert_incidents SET resolved = 1 WHERE key = ? AND resolved = 0 AND ts != ''"
    " RETURNING channel, opened_at, count, ts, alert"
)

# The engine's clock as "seconds.nanoseconds" (ten digits of seconds: text order is time order); with several
# replicas the latest one written stands.
_READ_CURSOR = "SELECT since FROM alert_cursors WHERE engine = ?"
_SAVE_CURSOR = (
    "INSERT INTO alert_cursors (engine, since, at) VALUES (?, ?, ?) ON CONFLICT (engine) DO UPDATE SET"
    " since = excluded.since, at = excluded.at WHERE alert_cursors.since < excluded.since"
)


@dataclass(frozen=True)
class Incident:
    """One alert message and the occurrences it stands for (flapping updates it instead of posting again)."""

    channel: str
    opened_at: float
    count: int
    ts: str  # the message's ts; "" while the replica that opened it is still posting
    alert: str  # what the message shows, as JSON, so any replica can redraw it


class AlertState:
    def __init__(self, database: Store) -> None:
        self.database = database

    # -- claims and incidents --------------------------------------------------------------

    def claim_alert(self, key: str, expires_at: float) -> bool:
        """Claim one event's alert for this process, atomically: True for the first claim across replicas."""
        return self.database.claim(ALERT_CLAIM, key, "posted", "", expires_at) is None

    def open_incident(self, key: str, channel: str, now: float, window: float) -> bool:
        """Open an incident unless one is open and younger than `window`: True when this call opened it (post a
        message), False when there is one to update."""
        return bool(self.database.run(_OPEN_INCIDENT, (key, channel, now, now, now - window)))

    def incident(self, key: str) -> Incident | None:
        rows = self.database.run(_READ_INCIDENT, (key,))
        return Incident(*rows[0]) if rows else None

    def incident_posted(self, key: str, ts: str, alert: str) -> None:
        self.database.run(_POSTED_INCIDENT, (ts, alert, key))

    def repeat_incident(self, key: str, now: float) -> int:
        """Count one more occurrence of an open incident; its new count (0 when there is none open)."""
        rows = self.database.run(_REPEAT_INCIDENT, (now, key))
        return int(rows[0][0]) if rows else 0

    def open_incidents(self) -> list[Incident]:
        """The unresolved incidents whose message was posted, the latest occurrence first."""
        return [Incident(*row) for row in self.database.run(_OPEN_INCIDENTS, ())]

    def resolve_incident(self, key: str) -> Incident | None:
        """Mark an open incident resolved, once: the incident when this call resolved it."""
        rows = self.database.run(_RESOLVE_INCIDENT, (key,))
        return Incident(*rows[0]) if rows else None

    # -- how far each engine's events were handled, for a restart to go on from ----------------

    def alert_cursor(self, engine: str) -> str | None:
        rows = self.database.run(_READ_CURSOR, (engine,))
        return str(rows[0][0]) if rows else None

    def save_alert_cursor(self, engine: str, since: str) -> None:
        self.database.run(_SAVE_CURSOR, (engine, since, time.time()))
