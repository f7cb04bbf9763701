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
    engine: str = ""  # set in an answer from several engines


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
    engine: str = ""  # set in an answer from several engines


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


@dataclass(frozen=True)
class ConfirmationRequest(Result):
    """A destructive command waits for its requester's Confirm click; nothing has been done yet."""

    summary: str  # "remove `web1` (running: it will be stopped first)"
    details: tuple[str, ...]  # one line per target, when there are several
    command: str  # what Confirm runs, e.g. "/docker rm -f web1"
    token: str  # signed; both buttons carry it
    expires_in: int  # seconds


@dataclass(frozen=True)
class Identity(Result):
    """`whoami`: who Shipmate thinks the caller is, and what the policy lets them do here."""

    user_id: str
    user_name: str
    team_id: str
    channel_id: str
    roles: tuple[str, ...]
    granted_by: tuple[str, ...]  # the members entries that gave the roles: the user's id, group ids, or "*"
    actions: tuple[str, ...]  # "container.rm:own" for an action limited to the caller's own containers
    channel_allowed: bool
    note: str = ""  # local admin, no policy yet, …
    per_engine: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (engine, roles there), when Shipmate drives several


@dataclass(frozen=True)
class RoleSummary:
    name: str
    actions: tuple[str, ...]  # effective, includes expanded; "container.rm:own" when limited
    members: tuple[str, ...]  # user ids, group ids and "*" that have the role


@dataclass(frozen=True)
class PolicySummary(Result):
    """`/docker policy`: the policy in force, as Shipmate understood it."""

    path: str
    loaded_at: datetime | None  # None when there is no policy file
    roles: tuple[RoleSummary, ...]
    channels: tuple[str, ...] | None  # None: anywhere
    images: tuple[str, ...] | None  # None: any image
    run_memory: str | None
    run_cpus: float | None
    problem: str | None = None  # why the file on disk is not what is in force
    note: str = ""


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    user_id: str
    channel_id: str
    command: str  # masked
    decision: str
    outcome: str
    detail: str
    duration_ms: int
    engine: str = ""


@dataclass(frozen=True)
class AuditTrail(Result):
    """`/docker audit`: the latest records, newest first."""

    entries: tuple[AuditEntry, ...]
    user: str | None
    limit: int
    engines: str | None = None  # the `--context` filter


# -- swarm ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    id: str  # short, as `docker service ls` shows it
    name: str
    mode: str  # replicated, global
    running: int
    desired: int
    image: str
    ports: tuple[str, ...]
    owner: str | None = None
    has_previous: bool = False  # a previous spec exists: it can be rolled back

    @property
    def replicas(self) -> str:
        return f"{self.running}/{self.desired}"


@dataclass(frozen=True)
class ServiceTable(Result):
    rows: tuple[ServiceRow, ...]
    stack: str | None = None  # `stack services STACK`


@dataclass(frozen=True)
class TaskRow:
    id: str
    name: str  # web.1, or web.<node id> for a global service
    image: str
    node: str
    desired_state: str
    state: str  # running, rejected, …
    since: datetime | None  # when it reached that state
    error: str = ""


@dataclass(frozen=True)
class TaskTable(Result):
    subject: str  # the service or stack
    rows: tuple[TaskRow, ...]
    no_trunc: bool = False


@dataclass(frozen=True)
class ServiceDetails(Result):
    id: str
    name: str
    image: str
    mode: str
    replicas: int | None  # None for a global service
    command: tuple[str, ...]
    ports: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str], ...]
    resources: tuple[str, ...]  # "memory limit 512 MB", "cpus limit 1.5"
    update_config: tuple[str, ...]  # "parallelism 1", "failure action pause", …
    rollback_config: tuple[str, ...]
    update_status: str  # "" when it was never updated
    created: datetime | None
    updated: datetime | None
    has_previous: bool
    owner: str | None = None


@dataclass(frozen=True)
class NodeRow:
    id: str
    hostname: str
    status: str  # Ready, Down
    availability: str  # Active, Pause, Drain
    manager_status: str  # Leader, Reachable, Unreachable, "" for a worker
    engine_version: str


@dataclass(frozen=True)
class NodeTable(Result):
    rows: tuple[NodeRow, ...]


@dataclass(frozen=True)
class StackRow:
    name: str
    services: int


@dataclass(frozen=True)
class StackTable(Result):
    rows: tuple[StackRow, ...]


@dataclass(frozen=True)
class ServiceProgress:
    """How far a service is on its way to what was asked: `web: 2/3 running`."""

    service: str
    running: int
    desired: int
    note: str = ""  # "update in progress", a task's error, …


# What slow work reports while it runs: a pull's percentage, or a service's converging tasks.
Progress = PullProgress | ServiceProgress

CONVERGED = "converged"
FAILED = "failed"
TIMED_OUT = "timed out"


@dataclass(frozen=True)
class Convergence:
    """Where one service ended after create/scale/update/rollback."""

    service: str
    verb: str  # created, scaled, updated, rolled back
    outcome: str  # CONVERGED, FAILED or TIMED_OUT
    running: int
    desired: int
    seconds: float
    error: str = ""  # the failing task's error, or why the update stopped
    tasks: tuple[TaskRow, ...] = ()  # the tasks' states, when it did not converge

    @property
    def ok(self) -> bool:
        return self.outcome == CONVERGED


@dataclass(frozen=True)
class Convergences(Result):
    items: tuple[Convergence, ...]

    @property
    def all_ok(self) -> bool:
        return all(item.ok for item in self.items)


# -- several engines ------------------------------------------------------------------


@dataclass(frozen=True)
class ContextRow:
    name: str
    host: str  # any user or password hidden
    default: bool
    reachable: bool
    detail: str  # the server version, or why the engine did not answer
    running: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class ContextTable(Result):
    rows: tuple[ContextRow, ...]


@dataclass(frozen=True)
class FromEngine(Result):
    """What one named engine answered, when Shipmate drives several: replies name it, buttons act on it."""

    engine: str
    result: Result


@dataclass(frozen=True)
class Unanswered:
    engine: str
    reason: str  # "unreachable — …", "did not answer within 10 s"


@dataclass(frozen=True)
class FleetAnswer(Result):
    """One read run on several engines, as one answer: `merged` is a table with an engine column where the
    results are tables, else one part per engine (`parts`)."""

    merged: Result | None
    parts: tuple[FromEngine, ...]
    unanswered: tuple[Unanswered, ...] = ()
    left_out: tuple[str, ...] = ()  # engines where the caller may not run this read
