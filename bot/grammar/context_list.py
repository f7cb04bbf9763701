"""`context ls`: the engines Shipmate drives (docker's own word for a named engine is context)."""

from bot.grammar.commands import ContextList
from bot.grammar.options import OptionParser, Parsed
from bot.grammar.spec import CommandSpec, exactly, register


def _context_ls(parsed: Parsed) -> ContextList:
    exactly(parsed.args, 0, "")
    return ContextList()


SPECS = register(
    CommandSpec(
        name="context ls",
        aliases=("context list",),
        usage="",
        summary="the engines Shipmate drives: host, default, reachable, version, containers",
        options=OptionParser(()),
        build=_context_ls,
    ),
)
