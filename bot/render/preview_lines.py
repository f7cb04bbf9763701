"""The lines both renderers show for a dry run's Preview (and the preview in a confirmation request): plain text,
masked; Block Kit escapes them."""

from bot.results import Preview, PreviewTarget, Verdict
from bot.secrets import mask_text

MAX_LISTED = 40  # targets or changes shown; a prune may name hundreds


def preview_title(preview: Preview) -> str:
    where = f" on {preview.engine}" if preview.engine else ""
    return f"🔎 dry run of `{mask_text(preview.command)}`{where}: nothing was done"


def target_line(target: PreviewTarget) -> str:
    if not target.id:
        return mask_text(f"{target.name}: {target.state}")
    short = target.id.removeprefix("sha256:")[:12]
    named = target.name if target.name == short else f"{target.name} ({short})"
    return mask_text(f"{named}: {target.state}" if target.state else named)


def change_line(what: str, how: str) -> str:
    return mask_text(f"{what}: {how}")


def verdict_line(verdict: Verdict) -> str:
    return mask_text(f"{verdict.kind.mark} {verdict.kind.words}: {verdict.reason}")


def listed(lines: list[str]) -> list[str]:
    """At most MAX_LISTED lines, and how many more there are."""
    more = len(lines) - MAX_LISTED
    return lines[:MAX_LISTED] + ([f"… and {more} more"] if more > 0 else [])


def preview_target_lines(preview: Preview) -> list[str]:
    return listed([target_line(target) for target in preview.targets])


def preview_change_lines(preview: Preview) -> list[str]:
    return listed([change_line(what, how) for what, how in preview.changes])
