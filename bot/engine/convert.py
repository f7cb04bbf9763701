"""Small conversions of Engine API values shared by the executors."""

from collections.abc import Iterable
from datetime import UTC, datetime


def short_id(object_id: str) -> str:
    return object_id.removeprefix("sha256:")[:12]


def env_pairs(env: Iterable[str] | None) -> tuple[tuple[str, str], ...]:
    """["A=1", "B=x=y"] -> (("A", "1"), ("B", "x=y"))."""
    return tuple((name, value) for name, _, value in (item.partition("=") for item in env or ()))


def timestamp(value: object) -> datetime | None:
    """Engine times: epoch seconds in listings, RFC 3339 with nanoseconds in inspect data."""
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value and not value.startswith("0001-"):
        head, _, fraction = value.rstrip("Z").partition(".")
        try:
            # fromisoformat takes at most microseconds; the engine sends nanoseconds.
            return datetime.fromisoformat(f"{head}.{fraction[:6] or '0'}+00:00")
        except ValueError:
            return None
    return None
