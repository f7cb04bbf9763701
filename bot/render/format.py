"""Human forms of engine values shared by both renderers: ages, sizes, states, aligned tables."""

from collections.abc import Sequence
from datetime import UTC, datetime

import humanize

STATE_EMOJI = {
    "running": "🟢",
    "restarting": "🔄",
    "paused": "⏸️",
    "created": "⚪",
    "exited": "🔴",
    "dead": "💀",
    "removing": "🗑️",
}


def ago(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return humanize.naturaltime(datetime.now(UTC) - moment)


def size(count: int) -> str:
    return humanize.naturalsize(count)  # decimal units, as `docker image ls` shows them


def state_emoji(state: str) -> str:
    return STATE_EMOJI.get(state, "⚫")


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]], gap: int = 3) -> list[str]:
    """docker-style columns: each as wide as its widest cell; the last column is not padded."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    pad = " " * gap
    return [
        pad.join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *rows)
    ]


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")


def _docker_units(count: float, base: float, units: tuple[str, ...], precision: int) -> str:
    """go-units' CustomSize: divide until below the base, then `%.<precision>g` and the unit."""
    index = 0
    while count >= base and index < len(units) - 1:
        count /= base
        index += 1
    return f"{count:.{precision}g}{units[index]}"


def binary_size(count: float) -> str:
    """As `docker stats` shows memory: 1.5MiB, 7.637GiB."""
    return _docker_units(count, 1024.0, _BINARY_UNITS, 4)


def decimal_size(count: float, precision: int = 3) -> str:
    """As `docker stats` shows network and block I/O (3 digits) and `docker system df` sizes (4 digits)."""
    return _docker_units(count, 1000.0, _DECIMAL_UNITS, precision)
