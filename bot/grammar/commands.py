"""What a parsed command line means: one frozen dataclass per docker command, which declares its traits once.

The traits (class-level, read by the policy, the dispatcher and the confirmations instead of lists of their own):
`action` names the permission the command needs (the policy's actions are the ones declared here); `changes` says
whether it alters Docker's state (such results are shown to the whole channel, and such a command runs on exactly
one engine); `ownable` whether `:own` can narrow its action to what the caller created; `default_role` which
standard role gets the action; `engine_free` whether it is answered without an engine (help, policy, audit);
`fans_out` whether it may run on several engines at once; `asks_first` whether it may wait for a confirmation.

`context` is the engine(s) the command named with `--context` (None: the default engine); `dry_run` (`--dry-run`) asks
what a change would do instead of doing it, and `break_glass` (`--break-glass REASON`) why a change must run despite
a freeze: Shipmate's own options, accepted by every change-making command; `slow` says the command routinely outlives a
chat client's patience (pull, a foreground run, stop's grace period), and `pending` is the line shown meanwhile.

Every concrete command registers itself as it is defined (`declared()`); a base that only shares code between
commands says `abstract=True`.
"""

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, ClassVar, Self


class DefaultRole(Enum):
    """Which of the standard roles (a policy without `roles:`) gets a command's action."""

    EVERYONE = "everyone"  # always allowed, to everyone, even without a policy
    VIEWER = "viewer"
    OPERATOR = "operator"
    OPERATOR_OWN = "operator, on what they created"  # the operator role grants `action:own`
    ADMIN = "admin"  # only a role with "*"


_DECLARED: list[type["Command"]] = []


def declared() -> tuple[type["Command"], ...]:
    """Every concrete command, in the order defined: complete once `bot.grammar` (every family) is imported."""
    return tuple(_DECLARED)


@dataclass(frozen=True)
class Command:
    context: str | None = field(default=None, kw_only=True)
    dry_run: bool = field(default=False, kw_only=True)
    break_glass: str | None = field(default=None, kw_only=True)
    action: ClassVar[str] = ""
    changes: ClassVar[bool] = False
    ownable: ClassVar[bool] = False
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN  # a command nobody placed is for admins only
    engine_free: ClassVar[bool] = False
    fans_out: ClassVar[bool] = True  # a read runs on each engine named; a change never does
    every_engine_by_default: ClassVar[bool] = False  # about the whole fleet unless `--context` narrows it

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not abstract:
            _DECLARED.append(cls)

    @property
    def slow(self) -> bool:
        return False

    @property
    def asks_first(self) -> bool:
        """Whether the command may wait for a confirmation, known from its text alone (`bot.confirm` asks, or
        not, once it knows the state: `rm` asks only about a running container, or with `-f`)."""
        return False

    @property
    def pending(self) -> str:
        return "⏳ working on it…"

    def targets(self) -> tuple[str, ...]:
        """Containers this command acts on (for ownership checks)."""
        return ()

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        """The same command on other containers: authorization pins checked names to container ids."""
        return self

    def images(self) -> tuple[str, ...]:
        """Image references this command may pull or run (for the image allowlist)."""
        return ()

    def only_owned(self, owner_filter: str) -> "Command | None":
        """A listing narrowed to what the caller created (`:own`), given as a `label=` filter; None if no listing."""
        return None


@dataclass(frozen=True)
class Help(Command):
    topic: str | None = None  # canonical command name, or None for the overview
    action: ClassVar[str] = "help"
    default_role: ClassVar[DefaultRole] = DefaultRole.EVERYONE
    engine_free: ClassVar[bool] = True
    fans_out: ClassVar[bool] = False


@dataclass(frozen=True)
class ImageList(Command):
    reference: str | None = None
    action: ClassVar[str] = "image.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ImageInspect(Command):
    image: str
    action: ClassVar[str] = "image.inspect"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ImagePull(Command):
    repository: str
    tag: str = "latest"  # "" with a digest and no tag
    digest: str | None = None  # `pull IMAGE[:TAG]@sha256:…` pulls exactly this content, not the tag
    action: ClassVar[str] = "image.pull"
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR
    fans_out: ClassVar[bool] = False

    @property
    def reference(self) -> str:
        """As typed (what the allowlist checks): `nginx:1.25`, `nginx@sha256:…`, `nginx:1.25@sha256:…`."""
        return self.repository + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def pulled(self) -> str:
        """What the engine pulls and then knows the image by: the digest when there is one."""
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"

    @property
    def slow(self) -> bool:
        return True

    @property
    def pending(self) -> str:
        return f"⏳ pulling {self.reference}…"

    def images(self) -> tuple[str, ...]:
        return (self.reference,)


@dataclass(frozen=True)
class ImageRemove(Command):
    image_refs: tuple[str, ...]
    force: bool = False
    action: ClassVar[str] = "image.rm"
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN
    fans_out: ClassVar[bool] = False

    @property
    def asks_first(self) -> bool:
        return True


@dataclass(frozen=True)
class PortMapping:
    host_port: int
    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""

    def __str__(self) -> str:
        host = f"{self.host_ip}:{self.host_port}" if self.host_ip else str(self.host_port)
        return f"{host}→{self.container_port}/{self.protocol}"


@dataclass(frozen=True)
class ContainerList(Command):
    all: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    action: ClassVar[str] = "container.ls"
    ownable: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER

    def only_owned(self, owner_filter: str) -> Self:
        return replace(self, filters=(*self.filters, ("label", owner_filter)))


@dataclass(frozen=True)
class ContainerRemove(Command):
    containers: tuple[str, ...]
    force: bool = False
    action: ClassVar[str] = "container.rm"
    changes: ClassVar[bool] = True
    ownable: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR_OWN
    fans_out: ClassVar[bool] = False

    @property
    def asks_first(self) -> bool:
        return True

    def targets(self) -> tuple[str, ...]:
        return self.containers

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        return replace(self, containers=targets)


@dataclass(frozen=True)
class ContainerInspect(Command):
    container: str
    action: ClassVar[str] = "container.inspect"
    ownable: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER

    def targets(self) -> tuple[str, ...]:
        return (self.container,)

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        (container,) = targets
        return replace(self, container=container)


@dataclass(frozen=True)
class ContainerLogs(Command):
    container: str
    tail: int = 100
    since_seconds: int | None = None
    action: ClassVar[str] = "container.logs"
    ownable: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER

    def targets(self) -> tuple[str, ...]:
        return (self.container,)

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        (container,) = targets
        return replace(self, container=container)


@dataclass(frozen=True)
class ContainerRun(Command):
    image: str
    command: tuple[str, ...] = ()
    name: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    ports: tuple[PortMapping, ...] = ()
    detach: bool = False
    remove: bool = False
    action: ClassVar[str] = "container.run"
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR
    fans_out: ClassVar[bool] = False

    @property
    def slow(self) -> bool:
        return not self.detach

    @property
    def pending(self) -> str:
        what = f" {self.name}" if self.name else ""
        return f"⏳ running{what} from {self.image}…"

    def images(self) -> tuple[str, ...]:
        return (self.image,)


@dataclass(frozen=True)
class ContainerLifecycle(Command, abstract=True):
    """start / stop / restart of one or more containers."""

    containers: tuple[str, ...] = field(default=())
    verb: ClassVar[str] = ""
    doing: ClassVar[str] = ""
    changes: ClassVar[bool] = True
    ownable: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR
    fans_out: ClassVar[bool] = False

    @property
    def pending(self) -> str:
        return f"⏳ {self.doing} {', '.join(self.containers)}…"

    def targets(self) -> tuple[str, ...]:
        return self.containers

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        return replace(self, containers=targets)


@dataclass(frozen=True)
class ContainerStart(ContainerLifecycle):
    verb: ClassVar[str] = "start"
    doing: ClassVar[str] = "starting"
    action: ClassVar[str] = "container.start"


@dataclass(frozen=True)
class ContainerStop(ContainerLifecycle):
    verb: ClassVar[str] = "stop"
    doing: ClassVar[str] = "stopping"
    action: ClassVar[str] = "container.stop"

    @property
    def slow(self) -> bool:
        return True  # the engine waits out each container's grace period

    @property
    def asks_first(self) -> bool:
        return len(self.containers) > 1


@dataclass(frozen=True)
class ContainerRestart(ContainerLifecycle):
    verb: ClassVar[str] = "restart"
    doing: ClassVar[str] = "restarting"
    action: ClassVar[str] = "container.restart"


@dataclass(frozen=True)
class ContainerCheck(Command, abstract=True):
    """A read about one named container (top, port, diff)."""

    container: str = ""
    ownable: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER

    def targets(self) -> tuple[str, ...]:
        return (self.container,)

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        (container,) = targets
        return replace(self, container=container)


@dataclass(frozen=True)
class ContainerStats(Command):
    """One sample of resource use; no names: the running containers (all of them with `all`)."""

    containers: tuple[str, ...] = ()
    all: bool = False
    action: ClassVar[str] = "container.stats"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ContainerTop(ContainerCheck):
    ps_args: tuple[str, ...] = ()
    action: ClassVar[str] = "container.top"


@dataclass(frozen=True)
class ContainerPort(ContainerCheck):
    private_port: int | None = None
    protocol: str | None = None  # with private_port; None: tcp, as docker assumes
    action: ClassVar[str] = "container.port"


@dataclass(frozen=True)
class ContainerDiff(ContainerCheck):
    action: ClassVar[str] = "container.diff"


@dataclass(frozen=True)
class SystemDiskUsage(Command):
    verbose: bool = False
    action: ClassVar[str] = "system.df"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class SystemInfo(Command):
    action: ClassVar[str] = "system.info"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class SystemVersion(Command):
    action: ClassVar[str] = "system.info"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class SystemEvents(Command):
    """Past events only: `since` and `until` are "600s" (that long before the command runs) or unix seconds."""

    since: str = "600s"
    until: str = "0s"  # when the command runs: the answer always ends
    filters: tuple[tuple[str, str], ...] = ()
    action: ClassVar[str] = "system.events"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ContainerExec(ContainerCheck):
    """Run one command line in a running container: exactly this argv, never through a shell."""

    argv: tuple[str, ...] = ()
    action: ClassVar[str] = "container.exec"
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR
    fans_out: ClassVar[bool] = False

    @property
    def slow(self) -> bool:
        return True

    @property
    def pending(self) -> str:
        return f"⏳ running `{self.argv[0] if self.argv else ''}` in {self.container}…"


@dataclass(frozen=True)
class Prune(Command, abstract=True):
    """container prune / image prune: `only` is the exact list a confirmation showed (ids); empty: work it out."""

    only: tuple[str, ...] = ()
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN
    fans_out: ClassVar[bool] = False

    @property
    def asks_first(self) -> bool:
        return True


@dataclass(frozen=True)
class ContainerPrune(Prune):
    action: ClassVar[str] = "container.prune"


@dataclass(frozen=True)
class ImagePrune(Prune):
    all: bool = False  # every image no container uses, not only dangling ones
    action: ClassVar[str] = "image.prune"


@dataclass(frozen=True)
class ContainerFollow(ContainerCheck):
    """`logs -f`: one message that grows as lines arrive, until stopped, the container stops, or time is up."""

    tail: int = 10
    since_seconds: int | None = None
    action: ClassVar[str] = "container.logs"
    fans_out: ClassVar[bool] = False  # it runs on and on: on one engine

    @property
    def slow(self) -> bool:
        return True

    @property
    def pending(self) -> str:
        return f"⏳ following the logs of {self.container}…"


@dataclass(frozen=True)
class StopFollowing(Command):
    """What a follow's Stop following button runs."""

    follow_id: str
    action: ClassVar[str] = "container.logs"
    ownable: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ContextList(Command):
    """`context ls`: every engine (or those `--context` names), each checked for an answer."""

    action: ClassVar[str] = "context.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER
    every_engine_by_default: ClassVar[bool] = True
