"""What a parsed command line means: one frozen dataclass per docker command.

`action` names the permission the command needs (see the policy); `changes` says whether it alters
Docker's state (such results are shown to the whole channel, and such a command runs on exactly one engine);
`context` is the engine(s) the command named with `--context` (None: the default engine); `slow` says the command routinely outlives a
chat client's patience (pull, a foreground run, stop's grace period), and `pending` is the line shown meanwhile.
"""

from dataclasses import dataclass, field, replace
from typing import ClassVar, Self


@dataclass(frozen=True)
class Command:
    context: str | None = field(default=None, kw_only=True)
    action: ClassVar[str] = ""
    changes: ClassVar[bool] = False

    @property
    def slow(self) -> bool:
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


@dataclass(frozen=True)
class Help(Command):
    topic: str | None = None  # canonical command name, or None for the overview
    action: ClassVar[str] = "help"


@dataclass(frozen=True)
class ContextList(Command):
    """`context ls`: every engine (or those `--context` names), each checked for an answer."""

    action: ClassVar[str] = "context.ls"


@dataclass(frozen=True)
class ImageList(Command):
    reference: str | None = None
    action: ClassVar[str] = "image.ls"


@dataclass(frozen=True)
class ImageInspect(Command):
    image: str
    action: ClassVar[str] = "image.inspect"


@dataclass(frozen=True)
class ImagePull(Command):
    repository: str
    tag: str = "latest"
    action: ClassVar[str] = "image.pull"
    changes: ClassVar[bool] = True

    @property
    def reference(self) -> str:
        separator = "@" if self.tag.startswith("sha256:") else ":"  # `tag` holds the digest of `pull IMAGE@sha256:…`
        return f"{self.repository}{separator}{self.tag}"

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
class ContainerList(Command):
    all: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    action: ClassVar[str] = "container.ls"


@dataclass(frozen=True)
class ContainerRemove(Command):
    containers: tuple[str, ...]
    force: bool = False
    action: ClassVar[str] = "container.rm"
    changes: ClassVar[bool] = True

    def targets(self) -> tuple[str, ...]:
        return self.containers

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        return replace(self, containers=targets)


@dataclass(frozen=True)
class ContainerInspect(Command):
    container: str
    action: ClassVar[str] = "container.inspect"

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

    def targets(self) -> tuple[str, ...]:
        return (self.container,)

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        (container,) = targets
        return replace(self, container=container)


@dataclass(frozen=True)
class ContainerLifecycle(Command):
    """start / stop / restart of one or more containers."""

    containers: tuple[str, ...] = field(default=())
    verb: ClassVar[str] = ""
    doing: ClassVar[str] = ""
    changes: ClassVar[bool] = True

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


@dataclass(frozen=True)
class ContainerRestart(ContainerLifecycle):
    verb: ClassVar[str] = "restart"
    doing: ClassVar[str] = "restarting"
    action: ClassVar[str] = "container.restart"
