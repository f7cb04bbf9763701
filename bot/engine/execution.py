"""What an executor gets besides the command: the engine, who asked, and where progress goes."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.engine.client import Engine
from bot.engine.running_follows import Follows
from bot.results import Progress


@dataclass(frozen=True)
class RunLimits:
    wait_seconds: float = 60.0  # a foreground `run` is stopped after this long (and `exec` no longer awaited)
    follow_seconds: float = 300.0  # `logs -f` stops by itself after this long
    memory: str | None = None  # e.g. "512m", applied to every container Shipmate creates
    cpus: float | None = None
    converge_seconds: float = 120.0  # how long create/scale/update/rollback wait for a service's tasks
    update_seconds: float = 60.0  # how long update-image waits for the new container to run (and be healthy)


@dataclass(frozen=True)
class Context:
    engine: Engine
    labels: Mapping[str, str] = field(default_factory=dict)  # put on every container Shipmate creates
    progress: Callable[[Progress], None] | None = None
    limits: RunLimits = field(default_factory=RunLimits)
    follows: Follows = field(default_factory=Follows)  # the dispatcher shares one, so Stop buttons find theirs

    def report(self, progress: Progress) -> None:
        if self.progress is not None:
            self.progress(progress)
