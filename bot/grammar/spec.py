"""How one docker command is spelled: its words, usage line, options and the Command it builds."""

from collections.abc import Callable
from dataclasses import dataclass

from bot.grammar.commands import Command
from bot.grammar.errors import ParseError
from bot.grammar.options import OptionParser, Parsed


@dataclass(frozen=True)
class CommandSpec:
    name: str  # canonical docker spelling, e.g. "image ls"
    aliases: tuple[str, ...]  # other docker spellings, e.g. ("images", "image list")
    usage: str  # what follows the command words
    summary: str
    options: OptionParser
    build: Callable[[Parsed], Command]

    @property
    def spellings(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(words.split()) for words in (self.name, *self.aliases))

    def usage_line(self, prefix: str) -> str:
        """prefix is how the person reached the command, e.g. "/img ls" or "/docker image ls"."""
        return f"`{prefix} {self.usage}`" if self.usage else f"`{prefix}`"


_REGISTERED: list[CommandSpec] = []


def register(*specs: CommandSpec) -> tuple[CommandSpec, ...]:
    """Add a family's specs to the grammar (help lists them in the order the families are imported)."""
    known = {words for spec in _REGISTERED for words in spec.spellings}
    for spec in specs:
        taken = known.intersection(spec.spellings)
        if taken:
            raise ValueError(f"`{' '.join(min(taken))}` is spelled twice: `{spec.name}` and an earlier command")
        known.update(spec.spellings)
    _REGISTERED.extend(specs)
    return specs


def registered() -> tuple[CommandSpec, ...]:
    return tuple(_REGISTERED)


def exactly(args: list[str], count: int, what: str) -> list[str]:
    if len(args) < count:
        raise ParseError(f"missing {what}")
    if len(args) > count:
        raise ParseError(f"unexpected argument `{args[count]}`")
    return args


def at_least_one(args: list[str], what: str) -> list[str]:
    if not args:
        raise ParseError(f"missing {what}")
    return args
