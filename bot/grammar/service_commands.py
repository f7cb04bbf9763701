"""What a parsed `docker service …`, `docker node ls` or `docker stack …` line means: one dataclass each.

Services carry their creator's labels like containers do, so `services()` names the services a command acts
on (for `:own`), and `with_services()` pins them to the ids that were checked.
"""

from dataclasses import dataclass, replace
from typing import ClassVar, Self

from bot.grammar.commands import Command, DefaultRole, PortMapping

STACK_LABEL = "com.docker.stack.namespace"


@dataclass(frozen=True)
class ServiceCommand(Command, abstract=True):
    """A command on named services. `keeps_spec`: the change keeps the rest of the service's spec (its mounts,
    capabilities, secrets…), so it is only as safe as that spec (bot.policy checks it)."""

    keeps_spec: ClassVar[bool] = False
    ownable: ClassVar[bool] = True

    def services(self) -> tuple[str, ...]:
        return ()

    def with_services(self, services: tuple[str, ...]) -> Self:
        return self


@dataclass(frozen=True)
class OneService(ServiceCommand, abstract=True):
    service: str = ""

    def services(self) -> tuple[str, ...]:
        return (self.service,)

    def with_services(self, services: tuple[str, ...]) -> Self:
        (service,) = services
        return replace(self, service=service)


@dataclass(frozen=True)
class ServiceList(ServiceCommand):
    filters: tuple[tuple[str, str], ...] = ()
    action: ClassVar[str] = "service.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER

    def only_owned(self, owner_filter: str) -> Self:
        return replace(self, filters=(*self.filters, ("label", owner_filter)))


@dataclass(frozen=True)
class ServicePs(OneService):
    no_trunc: bool = False
    filters: tuple[tuple[str, str], ...] = ()
    action: ClassVar[str] = "service.ps"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ServiceInspect(OneService):
    action: ClassVar[str] = "service.inspect"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ServiceLogs(OneService):
    tail: int = 100
    since_seconds: int | None = None
    action: ClassVar[str] = "service.logs"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class ServiceCreate(ServiceCommand):
    image: str = ""
    command: tuple[str, ...] = ()
    name: str | None = None
    replicas: int = 1
    env: tuple[tuple[str, str], ...] = ()
    ports: tuple[PortMapping, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    action: ClassVar[str] = "service.create"
    changes: ClassVar[bool] = True
    ownable: ClassVar[bool] = False  # nothing of the caller's yet
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR
    fans_out: ClassVar[bool] = False

    @property
    def slow(self) -> bool:
        return True

    @property
    def pending(self) -> str:
        return f"⏳ creating service{f' {self.name}' if self.name else ''} from {self.image}…"

    def images(self) -> tuple[str, ...]:
        return (self.image,)


@dataclass(frozen=True)
class ServiceScale(ServiceCommand):
    scales: tuple[tuple[str, int], ...] = ()  # (service, replicas)
    action: ClassVar[str] = "service.scale"
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR  # in full: on-call scales whatever is on fire
    fans_out: ClassVar[bool] = False

    @property
    def slow(self) -> bool:
        return True

    @property
    def asks_first(self) -> bool:
        return any(count == 0 for _, count in self.scales)  # it stops a service entirely

    @property
    def pending(self) -> str:
        return f"⏳ scaling {', '.join(f'{name} to {count}' for name, count in self.scales)}…"

    def services(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.scales)

    def with_services(self, services: tuple[str, ...]) -> Self:
        return replace(self, scales=tuple(zip(services, (count for _, count in self.scales), strict=True)))


@dataclass(frozen=True)
class ServiceUpdate(OneService):
    image: str | None = None
    env_add: tuple[tuple[str, str], ...] = ()
    env_rm: tuple[str, ...] = ()
    replicas: int | None = None
    force: bool = False
    action: ClassVar[str] = "service.update"
    changes: ClassVar[bool] = True
    keeps_spec: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR_OWN
    fans_out: ClassVar[bool] = False

    @property
    def slow(self) -> bool:
        return True

    @property
    def asks_first(self) -> bool:
        return self.replicas == 0

    @property
    def pending(self) -> str:
        return f"⏳ updating {self.service}…"

    def images(self) -> tuple[str, ...]:
        return (self.image,) if self.image else ()


@dataclass(frozen=True)
class ServiceRollback(OneService):
    action: ClassVar[str] = "service.rollback"
    changes: ClassVar[bool] = True
    keeps_spec: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR_OWN
    fans_out: ClassVar[bool] = False

    @property
    def slow(self) -> bool:
        return True

    @property
    def pending(self) -> str:
        return f"⏳ rolling back {self.service}…"


@dataclass(frozen=True)
class ServiceRemove(ServiceCommand):
    names: tuple[str, ...] = ()
    action: ClassVar[str] = "service.rm"
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR_OWN
    fans_out: ClassVar[bool] = False

    @property
    def asks_first(self) -> bool:
        return True

    def services(self) -> tuple[str, ...]:
        return self.names

    def with_services(self, services: tuple[str, ...]) -> Self:
        return replace(self, names=services)


@dataclass(frozen=True)
class NodeList(Command):
    action: ClassVar[str] = "node.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class StackList(ServiceList):
    """Stacks as the CLI sees them: services grouped by their stack label (covered by `service.ls`)."""


@dataclass(frozen=True)
class StackServices(ServiceList):
    stack: str = ""


@dataclass(frozen=True)
class StackPs(ServiceCommand):
    stack: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    action: ClassVar[str] = "service.ps"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER

    def only_owned(self, owner_filter: str) -> Self:
        return replace(self, filters=(*self.filters, ("label", owner_filter)))
