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

    def only_owned(self, owner_filter: str) -> "Command | None":
        """A listing narrowed to what the caller created (`:own`), given as a `label=` filter; None if no listing."""
        return None


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
    tag: str = "latest"  # "" with a digest and no tag
    digest: str | None = None  # `pull IMAGE[:TAG]@sha256:…` pulls exactly this content, not the tag
    action: ClassVar[str] = "image.pull"
    changes: ClassVar[bool] = True

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

    def only_owned(self, owner_filter: str) -> Self:
        return replace(self, filters=(*self.filters, ("label", owner_filter)))


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


@dataclass(frozen=True)
class ContainerCheck(Command):
    """A read about one named container (top, port, diff)."""

    container: str = ""

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


@dataclass(frozen=True)
class SystemInfo(Command):
    action: ClassVar[str] = "system.info"


@dataclass(frozen=True)
class SystemVersion(Command):
    action: ClassVar[str] = "system.info"


@dataclass(frozen=True)
class SystemEvents(Command):
    """Past events only: `since` and `until` are "600s" (that long before the command runs) or unix seconds."""

    since: str = "600s"
    until: str = "0s"  # when the command runs: the answer always ends
    filters: tuple[tuple[str, str], ...] = ()
    action: ClassVar[str] = "system.events"


@dataclass(frozen=True)
class ContainerExec(ContainerCheck):
    """Run one command line in a running container: exactly this argv, never through a shell."""

    argv: tuple[str, ...] = ()
    action: ClassVar[str] = "container.exec"
    changes: ClassVar[bool] = True

    @property
    def slow(self) -> bool:
        return True

    @property
    def pending(self) -> str:
        return f"⏳ running `{self.argv[0] if self.argv else ''}` in {self.container}…"


@dataclass(frozen=True)
class Prune(Command):
    """container prune / image prune: `only` is the exact list a confirmation showed (ids); empty: work it out."""

    only: tuple[str, ...] = ()
    changes: ClassVar[bool] = True


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
