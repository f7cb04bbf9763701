"""Alert rules as alerts.yml states them, and which rules an event matches."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path

# What a rule may listen for. die = exited with a non-zero code (not stopped on purpose); restart = a restart by the
# container's restart policy; unhealthy / healthy = its health check's verdict changed.
EVENT_KINDS = ("die", "oom", "unhealthy", "restart", "kill", "stop", "start", "healthy")
DEFAULT_EVENTS = ("die", "oom", "unhealthy")
DEFAULT_LOG_LINES = 10
MAX_LOG_LINES = 100


@dataclass(frozen=True)
class AlertRule:
    channel: str
    events: frozenset[str] = frozenset(DEFAULT_EVENTS)
    containers: tuple[str, ...] = ("*",)  # name globs
    labels: tuple[tuple[str, str], ...] = ()  # every one must be on the container
    engines: tuple[str, ...] = ("*",)  # engine name globs
    mention: str = ""  # put at the start of the message
    logs: int = DEFAULT_LOG_LINES
    line: int = 0  # where it is written, for log lines

    def matches(self, engine: str, kind: str, container: str, labels: Mapping[str, str]) -> bool:
        return (
            kind in self.events
            and any(fnmatchcase(engine, pattern) for pattern in self.engines)
            and any(fnmatchcase(container, pattern) for pattern in self.containers)
            and all(labels.get(key) == value for key, value in self.labels)
        )


MIN_UPDATES_EVERY = 60.0  # seconds: the registries are not asked more often than this
DEFAULT_UPDATES_EVERY = 24 * 3600.0


@dataclass(frozen=True)
class UpdatesRule:
    """`updates:` in alerts.yml: every `every` seconds, one message per engine listing its outdated containers."""

    channel: str
    every: float = DEFAULT_UPDATES_EVERY
    containers: tuple[str, ...] = ("*",)  # name globs
    engines: tuple[str, ...] = ("*",)
    mention: str = ""
    line: int = 0

    def watches(self, engine: str) -> bool:
        return any(fnmatchcase(engine, pattern) for pattern in self.engines)

    def covers(self, container: str) -> bool:
        return any(fnmatchcase(container, pattern) for pattern in self.containers)


@dataclass(frozen=True)
class AlertRules:
    path: Path
    rules: tuple[AlertRule, ...]
    loaded_at: datetime | None = None
    updates: tuple[UpdatesRule, ...] = ()

    def matching(self, engine: str, kind: str, container: str, labels: Mapping[str, str]) -> list[AlertRule]:
        """The rules that want this event, one per channel (the first written wins)."""
        chosen: dict[str, AlertRule] = {}
        for rule in self.rules:
            if rule.matches(engine, kind, container, labels):
                chosen.setdefault(rule.channel, rule)
        return list(chosen.values())
