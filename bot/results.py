"""What executing a command produced: plain values, ready for any renderer. No Docker or Slack types here."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Result:
    pass


@dataclass(frozen=True)
class Failure(Result):
    """The command could not be done; `reason` is one line in plain words."""

    reason: str
    usage: str | None = None


@dataclass(frozen=True)
class HelpEntry:
    usage: str
    summary: str


@dataclass(frozen=True)
class HelpText(Result):
    title: str
    entries: tuple[HelpEntry, ...]


@dataclass(frozen=True)
class ImageRow:
    repository: str
    tag: str
    short_id: str
    created: datetime
    size: int


@dataclass(frozen=True)
class ImageTable(Result):
    rows: tuple[ImageRow, ...]
    reference: str | None = None


@dataclass(frozen=True)
class ImageDetails(Result):
    short_id: str
    tags: tuple[str, ...]
    created: datetime | None
    size: int
    os: str
    architecture: str
    env: tuple[tuple[str, str], ...]
    cmd: tuple[str, ...] | None
    entrypoint: tuple[str, ...] | None
    working_dir: str
    exposed_ports: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PullProgress:
    """One overall figure folded from a pull's per-layer events."""

    reference: str
    percent: int
    layers_done: int
    layers_total: int


@dataclass(frozen=True)
class PullDone(Result):
    reference: str
    short_id: str
    size: int
    updated: bool  # False when the local image was already up to date


@dataclass(frozen=True)
class Outcome:
    """One target's result inside a multi-target command (rm, stop, …)."""

    target: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class Outcomes(Result):
    verb: str  # "removed", "stopped", …
    outcomes: tuple[Outcome, ...]

    @property
    def all_ok(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes)


@dataclass(frozen=True)
class ContainerRow:
    name: str
    short_id: str
    image: str
    command: str
    state: str  # running, exited, created, …
    status: str  # the engine's own words: "Up 5 minutes", "Exited (0) 2 minutes ago"
    ports: tuple[str, ...]
    owner: str | None = None


@dataclass(frozen=True)
class ContainerTable(Result):
    rows: tuple[ContainerRow, ...]
    all: bool


@dataclass(frozen=True)
class ContainerDetails(Result):
    name: str
    short_id: str
    image: str
    state: str
    status_detail: str  # "running since …", "exited (1) at …"
    created: datetime | None
    cmd: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    ports: tuple[str, ...]
    restart_count: int
    health: str | None
    owner: str | None = None


@dataclass(frozen=True)
class LogText(Result):
    container: str
    text: str
    lines: int
    truncated: bool  # more output exists than is shown


@dataclass(frozen=True)
class RunDone(Result):
    name: str
    short_id: str
    image: str
    state: str
    ports: tuple[str, ...]
    detached: bool
    exit_code: int | None = None
    output: str = ""
    output_truncated: bool = False
    timed_out_after: float | None = None  # seconds, when the run hit its limit and was stopped
    removed: bool = False
    pulled: bool = False


@dataclass(frozen=True)
class Notice(Result):
    """A short informational answer (whoami, policy, audit listings build on this)."""

    title: str
    lines: tuple[str, ...] = field(default_factory=tuple)
