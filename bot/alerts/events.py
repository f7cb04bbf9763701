"""The engine's raw container events -> what happened, in the words of alerts.yml.

A `die` is an alert only when the container ended by itself with a non-zero code: after a `kill` (which
`docker stop`, `docker rm -f`, `docker kill`, a Shipmate `stop` and dockerd's own shutdown all send first) it
was stopped on purpose, and after an `oom` the out-of-memory alert already said why. A start that follows a
crash is a `restart` (the restart policy, or someone bringing it back).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Only these reach the watcher (exec_* events of health checks would otherwise flood the stream).
WATCHED_ACTIONS = ("start", "die", "kill", "oom", "stop", "destroy", "health_status")
# Labels Docker adds to an event's attributes besides the container's own.
_EVENT_ATTRIBUTES = {"name", "image", "exitCode", "signal"}


@dataclass(frozen=True)
class ContainerEvent:
    engine: str
    kind: str  # one of rules.EVENT_KINDS
    container_id: str
    name: str
    image: str
    at: datetime
    key: str  # unique per occurrence on this engine: what replicas claim, and what a replay repeats
    labels: Mapping[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    signal: str | None = None
    replayed: bool = False  # found by comparing states after a reconnect, not in the event stream


@dataclass
class _Life:
    """What happened to a container since it last started."""

    killed: bool = False
    oom: bool = False
    crashed: bool = False  # its last end was a crash (kept across the start that follows)


def event_time(raw: Mapping) -> datetime:
    nanos = raw.get("timeNano") or int(raw.get("time", 0)) * 1_000_000_000
    return datetime.fromtimestamp(nanos / 1e9, UTC)


def since_value(raw: Mapping) -> str:
    """The event's time as the `since` parameter takes it: seconds.nanoseconds."""
    nanos = int(raw.get("timeNano") or int(raw.get("time", 0)) * 1_000_000_000)
    return f"{nanos // 1_000_000_000}.{nanos % 1_000_000_000:09d}"


def event_key(raw: Mapping) -> str:
    return f"{raw.get('id', '')}:{raw.get('Action', '')}:{raw.get('timeNano') or raw.get('time')}"


class Classifier:
    """Turns one engine's container events, in order, into ContainerEvents (or None: nothing to alert on)."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self._lives: dict[str, _Life] = {}

    def forget(self, container_id: str) -> None:
        self._lives.pop(container_id, None)

    def take(self, raw: Mapping) -> ContainerEvent | None:
        if raw.get("Type") != "container":
            return None
        action = str(raw.get("Action", ""))
        container_id = str(raw.get("id", ""))
        attributes = (raw.get("Actor") or {}).get("Attributes") or {}
        life = self._lives.setdefault(container_id, _Life())
        exit_code = None
        kind: str | None
        if action == "start":
            kind = "restart" if life.crashed else "start"
            self._lives[container_id] = _Life()
        elif action == "kill":
            kind, life.killed = "kill", True
        elif action == "oom":
            kind, life.oom = "oom", True
        elif action == "die":
            exit_code = _int(attributes.get("exitCode"))
            crashed = not life.killed and not life.oom and exit_code not in (None, 0)
            life.crashed = crashed
            kind = "die" if crashed else None
        elif action == "stop":
            kind = "stop"
        elif action.startswith("health_status"):
            verdict = action.partition(":")[2].strip()
            kind = verdict if verdict in ("healthy", "unhealthy") else None
        elif action == "destroy":
            self.forget(container_id)
            kind = None
        else:
            kind = None
        if kind is None:
            return None
        return ContainerEvent(
            engine=self.engine,
            kind=kind,
            container_id=container_id,
            name=str(attributes.get("name", container_id[:12])),
            image=str(attributes.get("image", "")),
            at=event_time(raw),
            key=event_key(raw),
            labels={k: str(v) for k, v in attributes.items() if k not in _EVENT_ATTRIBUTES},
            exit_code=exit_code,
            signal=attributes.get("signal"),
        )


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
