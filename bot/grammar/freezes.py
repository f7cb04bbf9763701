"""Freezes and silences (under /docker): `freeze`, `unfreeze`, `freezes`, `silence`, `unsilence`, `silences`.

They are answered from Shipmate's own state (the database and the policy), never from Docker: by
`bot.freezes.answer`. Their `--context` names the engines frozen or silenced (a name, a comma list, a glob, `all`),
not an engine to run on.
"""

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.grammar.commands import Command, DefaultRole
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, exactly, register
from bot.grammar.values import duration_seconds

MAX_SECONDS = 30 * 24 * 3600  # a freeze or silence typed in chat lasts at most 30 days
MAX_REASON = 200
_ENGINES = re.compile(r"[A-Za-z0-9._*?\[\],-]+")
_CONTAINERS = re.compile(r"[A-Za-z0-9_.*?\[\]-]+")
_ID = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class ChangeSafety(Command, abstract=True):
    """A command about freezes and silences, answered by `bot.freezes.answer`, never by an executor."""

    engine_free: ClassVar[bool] = True
    fans_out: ClassVar[bool] = False


@dataclass(frozen=True)
class FreezeEngines(ChangeSafety):
    seconds: int
    reason: str
    action: ClassVar[str] = "freeze.set"
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN


@dataclass(frozen=True)
class Unfreeze(ChangeSafety):
    freeze_id: int | None = None  # else every freeze typed for `context`
    action: ClassVar[str] = "freeze.set"
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN


@dataclass(frozen=True)
class ShowFreezes(ChangeSafety):
    action: ClassVar[str] = "freeze.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class SilenceAlerts(ChangeSafety):
    containers: str
    seconds: int
    reason: str
    action: ClassVar[str] = "alert.silence"
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR


@dataclass(frozen=True)
class Unsilence(ChangeSafety):
    silence_id: int
    action: ClassVar[str] = "alert.silence"
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR


@dataclass(frozen=True)
class ShowSilences(ChangeSafety):
    action: ClassVar[str] = "alert.silences"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


def _engines(parsed: Parsed) -> str | None:
    """`--context` after the command word; before it (`/docker --context prod-1 freeze …`) the parser sets it."""
    engines = parsed.value("context")
    if engines is not None and not _ENGINES.fullmatch(engines):
        raise ParseError(f"`--context {engines}` is not an engine name, list or pattern: e.g. `prod-1` or `prod-*`")
    return engines


def _duration(value: str) -> int:
    try:
        seconds = duration_seconds(value)
    except ParseError:
        raise ParseError(f"`{value}` is not a duration: write e.g. `30m`, `2h`, `1d` or `1h30m`") from None
    if not 1 <= seconds <= MAX_SECONDS:
        raise ParseError(f"`{value}` is out of range: from 1s to {MAX_SECONDS // 86400}d")
    return seconds


def _reason(words: list[str]) -> str:
    reason = " ".join(" ".join(words).split())
    if not reason:
        raise ParseError('say why, in quotes: e.g. `"release 4.2"`')
    if len(reason) > MAX_REASON:
        raise ParseError(f"the reason is {len(reason)} characters long: keep it to {MAX_REASON}")
    return reason


def _number(value: str, what: str) -> int:
    if not _ID.fullmatch(value.removeprefix("#")):
        raise ParseError(f"`{value}` is not a {what} id: `/docker {what}s` lists them with their ids")
    return int(value.removeprefix("#"))


def _freeze(parsed: Parsed) -> FreezeEngines:
    engines = _engines(parsed)
    if len(parsed.args) < 2:
        raise ParseError('missing how long and why: e.g. `2h "release 4.2"`')
    return FreezeEngines(context=engines, seconds=_duration(parsed.args[0]), reason=_reason(parsed.args[1:]))


def _unfreeze(parsed: Parsed) -> Unfreeze:
    if parsed.args:
        exactly(parsed.args, 1, "")
        return Unfreeze(context=_engines(parsed), freeze_id=_number(parsed.args[0], "freeze"))
    return Unfreeze(context=_engines(parsed))


def _silence(parsed: Parsed) -> SilenceAlerts:
    engines = _engines(parsed)
    if len(parsed.args) < 3:
        raise ParseError('missing containers, how long and why: e.g. `"web*" 1h "deploying web"`')
    containers = parsed.args[0]
    if not _CONTAINERS.fullmatch(containers):
        raise ParseError(f"`{containers}` is not a container name or pattern: e.g. `web1` or `web*`")
    return SilenceAlerts(
        context=engines, containers=containers, seconds=_duration(parsed.args[1]), reason=_reason(parsed.args[2:])
    )


def _unsilence(parsed: Parsed) -> Unsilence:
    exactly(parsed.args, 1, "the silence's id (`/docker silences` lists them)")
    return Unsilence(silence_id=_number(parsed.args[0], "silence"))


def _listing(command: type[ChangeSafety]):
    def build(parsed: Parsed) -> ChangeSafety:
        exactly(parsed.args, 0, "")
        return command()

    return build


_CONTEXT = Flag(("--context",), takes_value=True)

SPECS = register(
    CommandSpec(
        name="freeze",
        aliases=(),
        usage='--context ENGINES DURATION "REASON"',
        summary="stop changes on these engines for a while; reads still work (admins)",
        options=OptionParser((_CONTEXT,)),
        build=_freeze,
    ),
    CommandSpec(
        name="unfreeze",
        aliases=(),
        usage="--context ENGINES | ID",
        summary="end a freeze typed with freeze, by its engines or id (admins)",
        options=OptionParser((_CONTEXT,)),
        build=_unfreeze,
    ),
    CommandSpec(
        name="freezes",
        aliases=(),
        usage="",
        summary="the freezes in force and to come, from the policy and from freeze",
        options=OptionParser(()),
        build=_listing(ShowFreezes),
    ),
    CommandSpec(
        name="silence",
        aliases=(),
        usage='[--context ENGINES] CONTAINERS DURATION "REASON"',
        summary="mute alerts for the containers matching CONTAINERS (a name or glob) for a while",
        options=OptionParser((_CONTEXT,)),
        build=_silence,
    ),
    CommandSpec(
        name="unsilence",
        aliases=(),
        usage="ID",
        summary="end a silence now, by its id",
        options=OptionParser(()),
        build=_unsilence,
    ),
    CommandSpec(
        name="silences",
        aliases=(),
        usage="",
        summary="the silences in force",
        options=OptionParser(()),
        build=_listing(ShowSilences),
    ),
)
