"""docker compose ls / ps / logs / top / restart / stop / start: Compose projects as the engine's labels describe them
(no compose file or compose CLI is read). A project is never created by Shipmate, so `:own` does not apply."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from bot.grammar.commands import Command, DefaultRole
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, exactly, register
from bot.grammar.values import tail_lines

MAX_SERVICES = 20
# Compose's own rule for project names (it lowercases what it is given; the labels hold the result).
_PROJECT = re.compile(r"[a-z0-9][a-z0-9_-]*", re.ASCII)
_SERVICE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]*", re.ASCII)


@dataclass(frozen=True)
class ComposeList(Command):
    action: ClassVar[str] = "compose.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ComposePs(Command):
    project: str | None = None  # None: every project's containers
    action: ClassVar[str] = "compose.ps"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ComposeLogs(Command):
    project: str = ""
    services: tuple[str, ...] = ()  # empty: every service
    tail: int = 100
    action: ClassVar[str] = "compose.logs"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ComposeTop(Command):
    project: str = ""
    action: ClassVar[str] = "compose.top"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ComposeLifecycle(Command, abstract=True):
    """restart / stop / start of a project's services, one container at a time in dependency order."""

    project: str = ""
    services: tuple[str, ...] = field(default=())  # empty: every service
    verb: ClassVar[str] = ""
    doing: ClassVar[str] = ""
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR
    fans_out: ClassVar[bool] = False

    @property
    def slow(self) -> bool:
        return True  # one container after another, each with its grace period

    @property
    def pending(self) -> str:
        return f"⏳ {self.doing} {self.what}…"

    @property
    def what(self) -> str:
        """`project shop` or `api, web of project shop`."""
        return f"{', '.join(self.services)} of project {self.project}" if self.services else f"project {self.project}"


@dataclass(frozen=True)
class ComposeRestart(ComposeLifecycle):
    verb: ClassVar[str] = "restart"
    doing: ClassVar[str] = "restarting"
    action: ClassVar[str] = "compose.restart"

    @property
    def asks_first(self) -> bool:
        return True


@dataclass(frozen=True)
class ComposeStop(ComposeLifecycle):
    verb: ClassVar[str] = "stop"
    doing: ClassVar[str] = "stopping"
    action: ClassVar[str] = "compose.stop"

    @property
    def asks_first(self) -> bool:
        return True


@dataclass(frozen=True)
class ComposeStart(ComposeLifecycle):
    verb: ClassVar[str] = "start"
    doing: ClassVar[str] = "starting"
    action: ClassVar[str] = "compose.start"


def project_name(value: str) -> str:
    if len(value) > 63 or not _PROJECT.fullmatch(value):
        raise ParseError(
            f"`{value}` is not a Compose project name: lowercase letters, digits, `-` and `_` (`/compose ls` lists them)"
        )
    return value


def service_name(value: str) -> str:
    if len(value) > 63 or not _SERVICE.fullmatch(value):
        raise ParseError(f"`{value}` is not a Compose service name: letters, digits, `.`, `-` and `_`")
    return value


def _project_and_services(parsed: Parsed) -> tuple[str, tuple[str, ...]]:
    if not parsed.args:
        raise ParseError("missing PROJECT")
    project, *services = parsed.args
    if len(services) > MAX_SERVICES:
        raise ParseError(f"too many services ({len(services)}); name at most {MAX_SERVICES} at a time")
    return project_name(project), tuple(dict.fromkeys(service_name(name) for name in services))


def _list(parsed: Parsed) -> ComposeList:
    exactly(parsed.args, 0, "")
    return ComposeList()


def _ps(parsed: Parsed) -> ComposePs:
    if len(parsed.args) > 1:
        raise ParseError(f"unexpected argument `{parsed.args[1]}`")
    return ComposePs(project=project_name(parsed.args[0]) if parsed.args else None)


def _logs(parsed: Parsed) -> ComposeLogs:
    project, services = _project_and_services(parsed)
    tail = parsed.value("tail")
    return ComposeLogs(project=project, services=services, tail=100 if tail is None else tail_lines(tail))


def _top(parsed: Parsed) -> ComposeTop:
    (project,) = exactly(parsed.args, 1, "PROJECT")
    return ComposeTop(project=project_name(project))


def _lifecycle(kind: type[ComposeLifecycle]) -> Callable[[Parsed], Command]:
    def build(parsed: Parsed) -> Command:
        project, services = _project_and_services(parsed)
        return kind(project=project, services=services)

    return build


def _spec(
    name: str,
    usage: str,
    summary: str,
    build: Callable[[Parsed], Command],
    aliases: tuple[str, ...] = (),
    flags: tuple[Flag, ...] = (),
) -> CommandSpec:
    return CommandSpec(name, aliases, usage, summary, OptionParser(flags), build)


SPECS = register(
    _spec("compose ls", "", "Compose projects on the engine: status per state, config files", _list,
          aliases=("compose list",)),
    _spec("compose ps", "[PROJECT]", "a project's containers (every project's without one)", _ps),
    _spec("compose logs", "[--tail N] PROJECT [SERVICE…]", "the services' output, each line by container", _logs,
          flags=(Flag(("-n", "--tail"), takes_value=True),)),
    _spec("compose top", "PROJECT", "the processes of each of a project's running containers", _top),
    _spec("compose restart", "PROJECT [SERVICE…]", "restart services in dependency order (asks first)",
          _lifecycle(ComposeRestart)),
    _spec("compose stop", "PROJECT [SERVICE…]", "stop services, dependents first (asks first)",
          _lifecycle(ComposeStop)),
    _spec("compose start", "PROJECT [SERVICE…]", "start services in dependency order", _lifecycle(ComposeStart)),
)  # fmt: skip
