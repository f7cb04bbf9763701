"""The executor registry: each command family registers `execute` for its Command types."""

from collections.abc import Callable
from functools import singledispatch

from bot.engine.errors import EngineError, EngineUnreachable
from bot.engine.execution import Context
from bot.grammar.commands import Command
from bot.results import Outcome, Outcomes, Result


@singledispatch
def execute(command: Command, ctx: Context) -> Result:
    raise TypeError(f"no executor for {type(command).__name__}")


def for_each(targets: tuple[str, ...], verb: str, ctx: Context, act: Callable[[str], None]) -> Outcomes:
    """Act on each target in turn; one target's failure is its own outcome, an unreachable engine fails all."""
    outcomes = []
    for target in targets:
        try:
            with ctx.engine.errors(target):
                act(target)
            outcomes.append(Outcome(target, True))
        except EngineUnreachable:
            raise
        except EngineError as error:
            outcomes.append(Outcome(target, False, str(error)))
    return Outcomes(verb=verb, outcomes=tuple(outcomes))
