"""The silences typed with `/docker silence`, in the shared database so every replica mutes the same alerts:
added, lifted early by `/docker unsilence`, or over by their end time (kept as history). Whether a silenced
incident's message already says so is a claim (decided once for every replica)."""

from datetime import UTC, datetime

from bot.results import Silence
from bot.store import Store

SILENCE_NOTED = "silence-noted"  # the kind of claim "this incident's message says this silence" makes

_COLUMNS = "id, engines, containers, starts_at, ends_at, reason, silenced_by"
_ADD = (
    "INSERT INTO silences (engines, containers, starts_at, ends_at, reason, silenced_by) VALUES (?, ?, ?, ?, ?, ?)"
    f" RETURNING {_COLUMNS}"
)
_ACTIVE = (
    f"SELECT {_COLUMNS} FROM silences WHERE lifted_at IS NULL AND starts_at <= ? AND ends_at > ? ORDER BY ends_at, id"
)
_LIFT = (
    "UPDATE silences SET lifted_by = ?, lifted_at = ? WHERE id = ? AND lifted_at IS NULL AND ends_at > ?"
    f" RETURNING {_COLUMNS}"
)


def _moment(seconds: object) -> datetime:
    return datetime.fromtimestamp(float(str(seconds)), UTC)


def _silence(row: tuple[object, ...]) -> Silence:
    silence_id, engines, containers, starts, ends, reason, by = row
    return Silence(str(silence_id), str(engines), str(containers), _moment(starts), _moment(ends), str(reason), str(by))


class SilenceRecords:
    def __init__(self, database: Store) -> None:
        self.database = database

    def add(self, engines: str, containers: str, starts: float, ends: float, reason: str, by: str) -> Silence:
        return _silence(self.database.run(_ADD, (engines, containers, starts, ends, reason, by))[0])

    def active(self, now: float) -> list[Silence]:
        """The silences in force at `now`, the soonest to end first."""
        return [_silence(row) for row in self.database.run(_ACTIVE, (now, now))]

    def lift(self, silence_id: int, by: str, now: float) -> Silence | None:
        """End one silence now: the silence when this call lifted it (None: no such silence in force)."""
        rows = self.database.run(_LIFT, (by, now, silence_id, now))
        return _silence(rows[0]) if rows else None

    def note_once(self, silence_id: str, incident: str, expires_at: float) -> bool:
        """True for the first replica to say, in `incident`'s message, that this silence mutes it."""
        return self.database.claim(SILENCE_NOTED, f"{silence_id}:{incident}", "noted", "", expires_at) is None
