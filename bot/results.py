"""What executing a command produced: plain values, ready for any renderer. No Docker or Slack types here."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


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
    per_engine: tuple[tuple[str, int], ...] = ()  # rows each engine gave, in a table merged from several


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
class ImageLayer:
    short_id: str  # "<missing>" for a layer built elsewhere, as `docker history` shows it
    created: datetime | None
    created_by: str
    size: int
    comment: str


@dataclass(frozen=True)
class LayerHistory(Result):
    """`image history`: how an image was built, newest layer first."""

    image: str
    layers: tuple[ImageLayer, ...]
    full: bool  # --no-trunc: CREATED BY whole


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
    per_engine: tuple[tuple[str, int], ...] = ()  # rows each engine gave, in a table merged from several


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


class VerdictKind(Enum):
    """What would become of a change asked for now: its mark and its words."""

    ALLOWED = ("✅", "would run")
    ASKS_FIRST = ("⚠️", "would ask you to confirm first")
    NEEDS_APPROVAL = ("🔐", "would wait for approval")
    REFUSED = ("⛔", "would be refused")

    @property
    def mark(self) -> str:
        return self.value[0]

    @property
    def words(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    reason: str  # which rule allows it, why it is refused, or what it would ask


@dataclass(frozen=True)
class PreviewTarget:
    """One thing a change would act on, as the engine knows it now."""

    name: str  # as the caller named it
    id: str  # "" when the engine knows nothing by that name
    state: str  # "running", "exited", "3 replicas", … ("" when unknown)


@dataclass(frozen=True)
class Preview(Result):
    """`--dry-run`: what a change would do and whether this caller may run it here; nothing was done. Also shown in
    a confirmation request (without its verdict): what people confirm is what runs."""

    command: str  # as typed
    engine: str  # "" when Shipmate has only its one engine
    targets: tuple[PreviewTarget, ...]
    changes: tuple[tuple[str, str], ...]  # (what, how) in docker-CLI terms: ("image", "nginx:1.27 @ sha256:…")
    verdict: Verdict


@dataclass(frozen=True)
class ConfirmationRequest(Result):
    """A destructive command waits for its requester's Confirm click; nothing has been done yet."""

    summary: str  # "remove `web1` (running: it will be stopped first)"
    details: tuple[str, ...]  # one line per target, when there are several
    command: str  # what Confirm runs, e.g. "/docker rm -f web1"
    token: str  # signed; both buttons carry it
    expires_in: int  # seconds
    preview: Preview | None = None  # what it would do, as a dry run shows it


@dataclass(frozen=True)
class ApprovalRequest(Result):
    """A command waiting for someone else's yes, as its request message shows it (and as it ended)."""

    id: str
    requester: str  # user id
    command: str  # exactly what runs once approved, e.g. "/docker rm -f web1"
    engine: str
    summary: str  # the preview: what it would do
    details: tuple[str, ...]
    approvers: tuple[str, ...]  # user ids (U…/W…) and user-group ids (S…)
    needed: int
    approved_by: tuple[str, ...]  # the yeses so far
    expires_at: float  # epoch seconds
    state: str  # pending, approved, denied, withdrawn, expired
    decided_by: str = ""
    reason: str = ""  # why it was denied
    why: str = ""  # which policy rule asks
    changes: tuple[str, ...] = ()  # how the targets changed since the request (approve again)


@dataclass(frozen=True)
class ApprovalWaiting(Result):
    """The requester's answer: their command waits for approval (with a Withdraw button)."""

    request: ApprovalRequest
    channel: str  # where the request was posted


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
    grants: tuple[str, ...] = ()  # temporary grants in force, each with its end


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
    """What one named engine answered: buttons act on it always, and replies name it (`titled`) when Shipmate
    drives several."""

    engine: str
    result: Result
    titled: bool = True


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


@dataclass(frozen=True)
class StatsRow:
    """One container's sample, with the docker CLI's formulas already applied."""

    name: str
    short_id: str
    cpu_percent: float
    memory_used: int  # bytes, page cache left out as the CLI does
    memory_limit: int
    memory_percent: float
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int
    running: bool = True
    error: str = ""  # this container could not be sampled


@dataclass(frozen=True)
class StatsTable(Result):
    rows: tuple[StatsRow, ...]
    all: bool


@dataclass(frozen=True)
class ProcessTable(Result):
    """`top`: the process table exactly as the engine returns it."""

    container: str
    titles: tuple[str, ...]
    processes: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class PortList(Result):
    """`port`: "80/tcp -> 0.0.0.0:8081" lines (only the host side when a private port was asked)."""

    container: str
    lines: tuple[str, ...]
    private_port: str | None = None  # "80/tcp" when one was asked


@dataclass(frozen=True)
class FileChanges(Result):
    """`diff`: (kind, path) with kind A, C or D."""

    container: str
    changes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DiskUsageRow:
    kind: str  # Images, Containers, Local Volumes, Build Cache
    total: int
    active: int
    size: int
    reclaimable: int


@dataclass(frozen=True)
class DiskImage:
    repository: str
    tag: str
    short_id: str
    created: datetime | None
    size: int
    shared_size: int  # -1 when the engine did not compute it
    containers: int


@dataclass(frozen=True)
class DiskContainer:
    short_id: str
    image: str
    command: str
    volumes: int
    size: int
    created: datetime | None
    status: str
    name: str


@dataclass(frozen=True)
class DiskVolume:
    name: str
    links: int
    size: int  # -1 when the engine did not compute it


@dataclass(frozen=True)
class DiskUsage(Result):
    """`system df`: the summary as the CLI computes it; the items too with -v."""

    rows: tuple[DiskUsageRow, ...]
    verbose: bool = False
    images: tuple[DiskImage, ...] = ()
    containers: tuple[DiskContainer, ...] = ()
    volumes: tuple[DiskVolume, ...] = ()
    build_cache: int = 0


# -- volumes and networks -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VolumeRow:
    name: str
    driver: str
    size: int  # bytes, as `system df -v` counts them; -1 when the engine does not know (not a local volume)
    links: int  # containers using it
    engine: str = ""  # set in an answer from several engines


@dataclass(frozen=True)
class VolumeTable(Result):
    rows: tuple[VolumeRow, ...]
    filters: tuple[tuple[str, str], ...] = ()
    per_engine: tuple[tuple[str, int], ...] = ()  # rows each engine gave, in a table merged from several


@dataclass(frozen=True)
class VolumeFacts:
    name: str
    driver: str
    scope: str
    mountpoint: str
    created: datetime | None
    size: int  # -1 when unknown
    used_by: tuple[str, ...]  # the containers using it (names)
    labels: tuple[tuple[str, str], ...]
    options: tuple[tuple[str, str], ...]  # the driver's options


@dataclass(frozen=True)
class VolumeDetails(Result):
    volumes: tuple[VolumeFacts, ...]
    missing: tuple[str, ...] = ()  # names asked about that the engine does not have


@dataclass(frozen=True)
class NetworkRow:
    short_id: str
    name: str
    driver: str
    scope: str
    engine: str = ""  # set in an answer from several engines


@dataclass(frozen=True)
class NetworkTable(Result):
    rows: tuple[NetworkRow, ...]
    per_engine: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class NetworkMember:
    """A container attached to a network, with its addresses there."""

    name: str
    ipv4: str
    ipv6: str


@dataclass(frozen=True)
class NetworkDetails(Result):
    name: str
    short_id: str
    driver: str
    scope: str
    internal: bool
    attachable: bool
    created: datetime | None
    subnets: tuple[tuple[str, str], ...]  # (subnet, gateway)
    members: tuple[NetworkMember, ...]
    labels: tuple[tuple[str, str], ...]
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EngineInfo(Result):
    name: str
    server_version: str
    api_version: str
    os: str
    os_type: str
    architecture: str
    kernel: str
    cpus: int
    memory: int
    storage_driver: str
    root_dir: str
    containers: int
    running: int
    paused: int
    stopped: int
    images: int
    swarm: str  # inactive, active, …


@dataclass(frozen=True)
class EngineComponent:
    name: str
    version: str
    details: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EngineVersion(Result):
    """`version`: the server part of the CLI's answer."""

    platform: str
    version: str
    api_version: str
    min_api_version: str
    go_version: str
    git_commit: str
    built: str
    os: str
    arch: str
    experimental: bool
    components: tuple[EngineComponent, ...]


@dataclass(frozen=True)
class EventRow:
    time_nano: int
    type: str
    action: str
    actor: str  # the object's id (or name, for some types)
    attributes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class EventList(Result):
    events: tuple[EventRow, ...]
    cut: bool  # more events happened in the window than are shown
    window: str  # "the last 10 minutes", …


@dataclass(frozen=True)
class ExecDone(Result):
    """`exec`: what the command printed and how it ended, like a foreground `run`."""

    container: str
    command: str  # the command line, secret-looking values masked
    exit_code: int | None
    output: str
    output_truncated: bool = False
    timed_out_after: float | None = None  # seconds, when Shipmate stopped waiting


@dataclass(frozen=True)
class FollowedLogs(Result):
    """`logs -f`: the newest lines so far; `ended` says why following stopped (None while it goes on)."""

    container: str
    follow_id: str  # what its Stop following button sends
    text: str
    lines: int  # lines seen since the follow began (the tail included)
    ended: str | None = None


# -- Compose projects -----------------------------------------------------------------


@dataclass(frozen=True)
class ComposeProjectRow:
    name: str
    status: str  # as `docker compose ls` writes it: "exited(1), running(3)"
    config_files: str  # comma-separated, as the labels hold them
    engine: str = ""  # set in an answer from several engines


@dataclass(frozen=True)
class ComposeProjectTable(Result):
    rows: tuple[ComposeProjectRow, ...]
    per_engine: tuple[tuple[str, int], ...] = ()  # rows each engine gave, in a table merged from several


@dataclass(frozen=True)
class ComposeProcesses(Result):
    """`compose top`: each running container's process table, in the project's order."""

    project: str
    tables: tuple[ProcessTable, ...]


@dataclass(frozen=True)
class ComposeProgress:
    """A compose restart/stop/start on its way: the step under way, and how the ones before it went."""

    project: str
    doing: str  # restarting, stopping, starting
    verb: str  # restarted, stopped, started: how the steps before this one went
    step: int  # 1-based
    total: int
    container: str
    done: tuple[Outcome, ...]


# What slow work reports while it runs (the Slack layer draws each one into the message it updates in place): a
# pull's percentage, a service's converging tasks, a follow's lines, a Compose project's steps.
Progress = PullProgress | ServiceProgress | FollowedLogs | ComposeProgress

# -- alerts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert(Result):
    """Something happened to a container that an alert rule asked to hear about: one message per incident."""

    engine: str
    container: str
    short_id: str
    image: str
    kind: str  # die, oom, unhealthy, restart, kill, stop, start, healthy
    what: str  # "died with exit code 3", "killed: out of memory", "unhealthy: <the last health check output>"
    at: datetime  # the latest occurrence
    state: str  # the container's state when the alert was drawn: running, exited, … ("" when it is gone)
    restart_count: int | None = None
    logs: str = ""  # the last lines, secret-looking values masked
    log_lines: int = 0  # how many were asked for; 0 shows none
    mention: str = ""
    count: int = 1  # occurrences within the window, all in this one message
    first_at: datetime | None = None  # the first occurrence, when there were several
    resolved: str = ""  # why it is over: "healthy again", "running again"
    silenced: str = ""  # "silenced by @U… until 18:00 UTC: reason": later occurrences are muted meanwhile


# -- the App Home tab ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineStatus:
    """One engine as the Home tab shows it: answering or not, its version and how many containers run."""

    engine: str
    answering: bool
    version: str = ""
    running: int = 0
    total: int = 0
    problem: str = ""  # why it did not answer


@dataclass(frozen=True)
class EngineStatuses(Result):
    """The engines the viewer may read."""

    rows: tuple[EngineStatus, ...]


@dataclass(frozen=True)
class OpenAlerts(Result):
    """The unresolved incidents on the engines the viewer may read, newest first."""

    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class OwnedContainers(Result):
    """The containers the viewer owns (the owner label is their user id), with the engine on each row."""

    owner_filter: str  # `label=io.shipmate.user=U…`: the filter that lists them all
    rows: tuple[ContainerRow, ...]
    unanswered: tuple[Unanswered, ...] = ()


@dataclass(frozen=True)
class OwnedService:
    engine: str
    row: ServiceRow


@dataclass(frozen=True)
class OwnedServices(Result):
    """The swarm services the viewer owns, on the engines that are swarm managers."""

    owner_filter: str
    rows: tuple[OwnedService, ...]


@dataclass(frozen=True)
class Home(Result):
    """One user's App Home tab: a result per section, in the order shown."""

    user_id: str
    sections: tuple[Result, ...]


# -- image updates (`updates`, `update-image`) ------------------------------------------------


@dataclass(frozen=True)
class UpdateRow:
    """One running container against its registry: `available` is the registry's digest when it differs from what
    runs, "" when up to date; `problem` says why the registry could not be asked (the row then says only that)."""

    container: str
    image: str  # the reference the container was created from (Config.Image)
    running_digest: str  # "" when the image was never pulled from a registry (built here)
    available: str
    created: datetime | None  # the running image's
    problem: str = ""
    engine: str = ""  # set in an answer from several engines

    @property
    def outdated(self) -> bool:
        return bool(self.available) and not self.problem


@dataclass(frozen=True)
class UpdateTable(Result):
    rows: tuple[UpdateRow, ...]
    asked: int  # registry requests made for this answer (distinct references not already cached)
    per_engine: tuple[tuple[str, int], ...] = ()


UPDATED = "updated"
UP_TO_DATE = "up to date"
ROLLED_BACK = "rolled back"
NOT_UPDATED = "not updated"  # refused before anything changed: pinned by digest, not running, pull failed


@dataclass(frozen=True)
class ImageUpdate:
    """One container's update: the digests before and after, what was kept, and why it was not done."""

    container: str
    image: str
    outcome: str  # UPDATED, UP_TO_DATE, ROLLED_BACK, NOT_UPDATED; a dry run's: what would happen
    old_digest: str = ""
    new_digest: str = ""
    reason: str = ""  # for ROLLED_BACK and NOT_UPDATED, in plain words
    kept: tuple[str, ...] = ()  # what of the configuration is carried over: "env (3)", "ports 8080→80/tcp", …


@dataclass(frozen=True)
class UpdateOutcomes(Result):
    updates: tuple[ImageUpdate, ...]


@dataclass(frozen=True)
class UpdatesAlert(Result):
    """The `updates` rule's message for one engine: its outdated containers (and registries not answering), kept
    up to date in place by later checks."""

    engine: str
    rows: tuple[UpdateRow, ...]  # outdated ones and ones whose registry could not be asked
    checked_at: datetime
    mention: str = ""

    @property
    def outdated(self) -> tuple[UpdateRow, ...]:
        return tuple(row for row in self.rows if row.outdated)


# -- freezes and silences (`freeze`, `freezes`, `silence`, `silences`) ---------------------------------


@dataclass(frozen=True)
class Freeze:
    """A time when changes on some engines wait: from the policy's `freezes:` (a window, or this week's turn of a
    weekly one) or from `/docker freeze` (stored in the database)."""

    id: str  # "7" for one from `/docker freeze` (what `unfreeze` takes), "policy 2" for the policy's second entry
    engines: str  # a name, a glob or a comma list of them
    starts: datetime
    ends: datetime
    reason: str
    by: str  # the admin's user id, or the policy file's name

    @property
    def from_policy(self) -> bool:
        return self.id.startswith("policy")


@dataclass(frozen=True)
class FreezeList(Result):
    """`/docker freezes`: the freezes in force and the ones to come, soonest first."""

    freezes: tuple[Freeze, ...]
    now: datetime


@dataclass(frozen=True)
class Silence:
    """Alerts muted for the containers matching `containers` on `engines` (every engine: "*") until `ends`."""

    id: str
    engines: str
    containers: str  # a glob of container names
    starts: datetime
    ends: datetime
    reason: str
    by: str


@dataclass(frozen=True)
class SilenceList(Result):
    """`/docker silences`: the silences in force."""

    silences: tuple[Silence, ...]
    now: datetime


# -- the Home tab's change-safety sections ------------------------------------------------------


@dataclass(frozen=True)
class ApprovalsToDecide(Result):
    """The unexpired approval requests the viewer may approve or deny now (an approver, never the requester)."""

    requests: tuple[ApprovalRequest, ...]


@dataclass(frozen=True)
class PendingRequests(Result):
    """The viewer's own approval requests still waiting, each with Withdraw."""

    waiting: tuple[ApprovalWaiting, ...]


@dataclass(frozen=True)
class FreezesAhead(Result):
    """The freezes in force, and starting within a day, on the engines the viewer may read; soonest first."""

    freezes: tuple[Freeze, ...]
    now: datetime


@dataclass(frozen=True)
class TemporaryAccess(Result):
    """The viewer's temporary grants in force, a line each with its end (bot/policy/authorize.py grant_line)."""

    grants: tuple[str, ...]
