"""The policy's `freezes:`: when changes on some engines wait, as fixed dates or a weekly schedule in a time zone.

A weekly window is laid on the calendar of its own zone (`Europe/Berlin`'s Friday 16:00 is 15:00 UTC in winter and
14:00 UTC in summer); one whose `until` is not after its `from` runs past midnight into the next day.
"""

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
END_OF_DAY = "24:00"  # `until: "24:00"`: to the end of the day


def covers(engines: str, engine: str) -> bool:
    """Whether an engines pattern (a name, a glob, a comma list of them, or `all`) names `engine`."""
    words = [word.strip() for word in engines.split(",")]
    return any(word in ("all", "*") or fnmatch.fnmatchcase(engine, word) for word in words)


@dataclass(frozen=True)
class Weekly:
    days: frozenset[int]  # 0 is Monday
    starts: time
    ends: time | None  # None: the end of the day
    zone: ZoneInfo

    def turns(self, around: datetime, days_ahead: int) -> Iterator[tuple[datetime, datetime]]:
        """This window's turns from the day before `around` to `days_ahead` days after it, in time order."""
        today = around.astimezone(self.zone).date()
        for offset in range(-1, days_ahead + 1):
            day = today + timedelta(days=offset)
            if day.weekday() in self.days:
                yield self._turn(day)

    def _turn(self, day: date) -> tuple[datetime, datetime]:
        starts = datetime.combine(day, self.starts, self.zone)
        if self.ends is None:
            return starts, datetime.combine(day + timedelta(days=1), time(), self.zone)
        ends = datetime.combine(day, self.ends, self.zone)
        if ends <= starts:
            ends = datetime.combine(day + timedelta(days=1), self.ends, self.zone)
        return starts, ends


@dataclass(frozen=True)
class FreezeWindow:
    """One entry of `freezes:`: `dates` (from, until) or `weekly`, never both."""

    number: int  # its place in the file, from 1 (how `/docker freezes` names it)
    engines: tuple[str, ...]
    reason: str
    dates: tuple[datetime, datetime] | None = None
    weekly: Weekly | None = None

    def names(self, engine: str) -> bool:
        return any(covers(pattern, engine) for pattern in self.engines)

    def turns(self, now: datetime, days_ahead: int = 7) -> list[tuple[datetime, datetime]]:
        """The turns of this window not over at `now` that start by `days_ahead` days later, soonest first (UTC)."""
        horizon = now + timedelta(days=days_ahead)
        spans = [self.dates] if self.dates is not None else []
        if self.weekly is not None:
            spans = list(self.weekly.turns(now, days_ahead))
        return [
            (starts.astimezone(UTC), ends.astimezone(UTC)) for starts, ends in spans if ends > now and starts <= horizon
        ]

    def covering(self, now: datetime) -> tuple[datetime, datetime] | None:
        """The turn in force at `now` (the one ending last, when turns overlap), if any."""
        return max(self.turns(now, 0), key=lambda turn: turn[1], default=None)
