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
