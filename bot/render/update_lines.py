"""What both renderers show of `updates` and `update-image`: the table's cells, problems and outcome lines."""

from dataclasses import replace

from bot.render.format import ago
from bot.results import (
    NOT_UPDATED,
    ROLLED_BACK,
    UP_TO_DATE,
    UPDATED,
    ImageUpdate,
    UpdateRow,
    UpdatesAlert,
    UpdateTable,
)
from bot.secrets import mask_text

UPDATES_HEADER = ("CONTAINER", "IMAGE", "RUNNING DIGEST", "AVAILABLE", "AGE")


def short_digest(digest: str) -> str:
    """sha256:0123456789abcdef… -> sha256:0123456789ab (as docker shortens ids)."""
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}" if value else digest or "—"


def update_cells(row: UpdateRow) -> tuple[str, ...]:
    available = short_digest(row.available) if row.available else "up to date"
    cells = (row.container, row.image, short_digest(row.running_digest), available, ago(row.created))
    return (row.engine, *cells) if row.engine else cells


def answered_rows(result: UpdateTable) -> tuple[UpdateRow, ...]:
    return tuple(row for row in result.rows if not row.problem)


def problem_lines(result: UpdateTable | UpdatesAlert) -> list[str]:
    """One line per image the registry could not be asked about, naming its containers."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for row in result.rows:
        if row.problem:
            grouped.setdefault((row.engine, row.image, row.problem), []).append(row.container)
    return [
        f"{f'{engine}: ' if engine else ''}{image or '(no image name)'} ({', '.join(names)}): {mask_text(problem)}"
        for (engine, image, problem), names in grouped.items()
    ]


def updates_title(result: UpdateTable) -> str:
    outdated = sum(1 for row in result.rows if row.outdated)
    count = len(result.rows)
    if not count:
        return "no running containers"
    return f"{outdated} of {count} running container{'s' * (count != 1)} can be updated"


_MARK = {UPDATED: "✅", UP_TO_DATE: "✅", ROLLED_BACK: "↩️", NOT_UPDATED: "❌"}


def update_line(update: ImageUpdate) -> str:
    """'web: updated app:1 sha256:aaa → sha256:bbb', or why not."""
    old, new = short_digest(update.old_digest), short_digest(update.new_digest)
    reason = mask_text(update.reason)
    if update.outcome == UP_TO_DATE:
        said = f"{update.image} is up to date ({new})"
    elif update.outcome == UPDATED:
        said = f"updated {update.image} {old} → {new}"
    elif update.outcome == ROLLED_BACK:
        said = f"rolled back: the old container ({old}) runs again — the new image ({new}) failed: {reason}"
    else:
        said = f"not updated: {reason}"
    return f"{_MARK[update.outcome]} {update.container}: {said}"


def updates_alert_title(result: UpdatesAlert) -> str:
    count = len(result.outdated)
    if not count:
        return f"✅ everything on {result.engine} is up to date"
    return f"⬆️ {count} container{'s' * (count != 1)} on {result.engine} can be updated"


def alert_cells(row: UpdateRow) -> tuple[str, ...]:
    """A row of the updates alert: the engine is the message's, not a column."""
    return update_cells(replace(row, engine=""))
