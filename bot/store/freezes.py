"""The freezes typed with `/docker freeze`, in the shared database so every replica refuses the same changes and a
restart forgets none: added, lifted early by `/docker unfreeze`, or over by their end time (nothing deletes them:
they stay as history). The policy file's own `freezes:` are not here (bot/freezes.py joins the two)."""

from datetime import UTC, datetime

from bot.results import Freeze
from bot.store import Store

_COLUMNS = "id, engines, starts_at, ends_at, reason, frozen_by"
_ADD = (
    f"INSERT INTO freezes (engines, starts_at, ends_at, reason, frozen_by) VALUES (?, ?, ?, ?, ?) RETURNING {_COLUMNS}"
)
_ACTIVE = (
    f"SELECT {_COLUMNS} FROM freezes WHERE lifted_at IS NULL AND starts_at <= ? AND ends_at > ? ORDER BY ends_at, id"
)
_LIFT_ONE = (
    "UPDATE freezes SET lifted_by = ?, lifted_at = ? WHERE id = ? AND lifted_at IS NULL AND ends_at > ?"
    f" RETURNING {_COLUMNS}"
)
_LIFT_ENGINES = (
    "UPDATE freezes SET lifted_by = ?, lifted_at = ? WHERE engines = ? AND lifted_at IS NULL AND ends_at > ?"
    f" RETURNING {_COLUMNS}"
)


def _moment(seconds: object) -> datetime:
    return datetime.fromtimestamp(float(str(seconds)), UTC)


def _freeze(row: tuple[object, ...]) -> Freeze:
    freeze_id, engines, starts, ends, reason, by = row
    return Freeze(str(freeze_id), str(engines), _moment(starts), _moment(ends), str(reason), str(by))


class FreezeRecords:
    def __init__(self, database: Store) -> None:
        self.database = database

    def add(self, engines: str, starts: float, ends: float, reason: str, by: str) -> Freeze:
        return _freeze(self.database.run(_ADD, (engines, starts, ends, reason, by))[0])

    def active(self, now: float) -> list[Freeze]:
        """The freezes in force at `now`, the soonest to end first."""
        return [_freeze(row) for row in self.database.run(_ACTIVE, (now, now))]

    def lift(self, freeze_id: int, by: str, now: float) -> Freeze | None:
        """End one freeze now: the freeze when this call lifted it (None: no such freeze in force)."""
        rows = self.database.run(_LIFT_ONE, (by, now, freeze_id, now))
        return _freeze(rows[0]) if rows else None

    def lift_engines(self, engines: str, by: str, now: float) -> list[Freeze]:
        """End now every freeze in force typed for exactly these engines (`--context` as it was typed)."""
        return [_freeze(row) for row in self.database.run(_LIFT_ENGINES, (by, now, engines, now))]
