"""`context ls` on one engine: one `GET /info` says it answers, its version and its containers."""

from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.grammar.commands import ContextList
from bot.results import ContextRow, ContextTable


@execute.register
def _status(command: ContextList, ctx: Context) -> ContextTable:
    with ctx.engine.errors("engine"):
        info = ctx.engine.api.info()
    row = ContextRow(
        name=ctx.engine.name,
        host=ctx.engine.docker_host,
        default=False,  # the fleet knows which engine is its default; the engine does not
        reachable=True,
        detail=str(info.get("ServerVersion", "?")),
        running=int(info.get("ContainersRunning", 0)),
        total=int(info.get("Containers", 0)),
    )
    return ContextTable((row,))
