"""`help`: usage lines straight from the grammar, so help never drifts from what parses."""

from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.grammar import SPECS, spec_for
from bot.grammar.commands import Help
from bot.results import HelpEntry, HelpText

DRY_RUN = HelpEntry(
    usage="`COMMAND --dry-run …`",
    summary="on every command that changes something: what it would do, and whether you may (nothing is done)",
)


@execute.register
def _help(command: Help, ctx: Context) -> HelpText:
    topic = command.topic
    spec = spec_for(topic) if topic else None
    specs = (spec,) if spec else tuple(s for s in SPECS if not topic or s.name.startswith(f"{topic} "))
    title = f"docker {topic}" if topic else "Shipmate: Docker from Slack"
    entries = tuple(HelpEntry(usage=s.usage_line(f"/docker {s.name}"), summary=s.summary) for s in specs)
    return HelpText(title=title, entries=entries if topic else (*entries, DRY_RUN))
