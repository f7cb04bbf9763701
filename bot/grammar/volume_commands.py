"""What a parsed `docker volume …` or `docker network …` line means: one dataclass each.

Volumes and networks are not created by Shipmate, so `:own` never applies to them. Removing a volume destroys its
data: `volume rm` and `volume prune` are for admins by default, and always ask first.
"""

from dataclasses import dataclass
from typing import ClassVar

from bot.grammar.commands import Command, DefaultRole, Prune


@dataclass(frozen=True)
class VolumeList(Command):
    filters: tuple[tuple[str, str], ...] = ()  # `-f dangling=true`, `-f name=…`, `-f driver=…`, `-f label=…`
    action: ClassVar[str] = "volume.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class VolumeInspect(Command):
    names: tuple[str, ...]
    action: ClassVar[str] = "volume.inspect"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class VolumeRemove(Command):
    """Never forced: a volume any container uses (running or not) is refused, naming the containers."""

    names: tuple[str, ...]
    action: ClassVar[str] = "volume.rm"
    changes: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN
    fans_out: ClassVar[bool] = False

    @property
    def asks_first(self) -> bool:
        return True


@dataclass(frozen=True)
class VolumePrune(Prune):
    """Unused volumes: with `all` every one, else those the engine's own prune takes (anonymous ones only, from
    API 1.42 on, as docker 23 and later do). `only` (from Prune) holds the names a confirmation listed."""

    all: bool = False
    action: ClassVar[str] = "volume.prune"


@dataclass(frozen=True)
class NetworkList(Command):
    filters: tuple[tuple[str, str], ...] = ()  # `-f driver=bridge`, `-f name=…`, `-f scope=…`, `-f label=…`
    action: ClassVar[str] = "network.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


@dataclass(frozen=True)
class NetworkInspect(Command):
    name: str
    action: ClassVar[str] = "network.inspect"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER
