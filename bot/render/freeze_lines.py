"""Freezes and silences as text: when they end, who set them, and the tables `/docker freezes` and
`/docker silences` show. Both renderers use these lines (Slack escapes them), so terminal and chat read alike."""

from datetime import UTC, datetime

from bot.render.format import aligned
from bot.results import FreezeList, Silence, SilenceList


def until_text(moment: datetime, now: datetime) -> str:
    """`18:00 UTC` today, `Fri 12 Dec 18:00 UTC` on another day (seconds when it is within a minute)."""
    moment = moment.astimezone(UTC)
    if moment.date() != now.astimezone(UTC).date():
        return moment.strftime("%a %d %b %H:%M UTC")
    return moment.strftime("%H:%M:%S UTC" if abs((moment - now).total_seconds()) < 60 else "%H:%M UTC")


def by_text(by: str) -> str:
    """`@U0123` for a person; the policy file's name as it is."""
    return f"@{by}" if by[:1] in ("U", "W") and by.isalnum() else by


def engines_text(silence: Silence) -> str:
    """The engines a silence covers: `*` reads as every engine."""
    return "every engine" if silence.engines == "*" else silence.engines


def freeze_lines(result: FreezeList) -> list[str]:
    rows = [
        (
            freeze.id,
            freeze.engines,
            "now" if freeze.starts <= result.now else until_text(freeze.starts, result.now),
            until_text(freeze.ends, result.now),
            by_text(freeze.by),
            freeze.reason,
        )
        for freeze in result.freezes
    ]
    return aligned(("ID", "ENGINES", "FROM", "UNTIL", "BY", "REASON"), rows)


def freeze_title(result: FreezeList) -> str:
    if not result.freezes:
        return "no freezes in force or within a week: changes may go ahead"
    frozen = sum(freeze.starts <= result.now for freeze in result.freezes)
    coming = len(result.freezes) - frozen
    return f"{frozen} freeze{'s' * (frozen != 1)} in force, {coming} to come within a week"


def silence_lines(result: SilenceList) -> list[str]:
    rows = [
        (
            silence.id,
            engines_text(silence),
            silence.containers,
            until_text(silence.ends, result.now),
            by_text(silence.by),
            silence.reason,
        )
        for silence in result.silences
    ]
    return aligned(("ID", "ENGINES", "CONTAINERS", "UNTIL", "BY", "REASON"), rows)


def silence_title(result: SilenceList) -> str:
    if not result.silences:
        return "no silences in force: every alert is posted"
    count = len(result.silences)
    return f"{count} silence{'s' * (count != 1)} in force"
