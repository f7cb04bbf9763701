"""Executors for Compose projects, read from the labels Compose puts on its containers (no compose file, no CLI).

`compose ls` is one Engine API listing. restart and start go through the services in dependency order (what a
service's `com.docker.compose.depends_on` label names comes first), stop in the reverse order, one container at a
time, each step reported as progress; the first failure stops the rest, as Compose does.
"""

from collections.abc import Callable, Mapping

from bot.engine.containers import MAX_LOG_BYTES, STOP_GRACE_SECONDS, read_logs
from bot.engine.errors import EngineError, EngineUnreachable
from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.grammar.commands import ContainerList
from bot.grammar.compose import (
    ComposeLifecycle,
    ComposeList,
    ComposeLogs,
    ComposePs,
    ComposeRestart,
    ComposeStart,
    ComposeStop,
    ComposeTop,
)
from bot.results import (
    ComposeProcesses,
    ComposeProgress,
    ComposeProjectRow,
    ComposeProjectTable,
    ContainerTable,
    LogText,
    Outcome,
    Outcomes,
    ProcessTable,
)

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
NUMBER_LABEL = "com.docker.compose.container-number"
DEPENDS_ON_LABEL = "com.docker.compose.depends_on"
ONEOFF_LABEL = "com.docker.compose.oneoff"
# Compose labels a service's containers oneoff=False, and `docker compose run` containers (not the project's
# services) oneoff=True.
_NOT_ONEOFF = f"{ONEOFF_LABEL}=False"


def combined_status(states: list[str]) -> str:
    """As `docker compose ls`: each state with its count, states in alphabetical order."""
    return ", ".join(f"{state}({states.count(state)})" for state in sorted(set(states)))


def _config_files(containers: list[dict]) -> str:
    files: dict[str, None] = {}
    for item in containers:
        for name in (_labels(item).get(CONFIG_FILES_LABEL) or "").split(","):
            if name:
                files.setdefault(name)
    return ",".join(files)


def _name(item: dict) -> str:
    return (item.get("Names") or ["/" + item["Id"][:12]])[0].lstrip("/")


def _labels(item: dict) -> dict[str, str]:
    return item.get("Labels") or {}


@execute.register
def _list(command: ComposeList, ctx: Context) -> ComposeProjectTable:
    with ctx.engine.errors("containers"):
        containers = ctx.engine.api.containers(all=True, filters={"label": [PROJECT_LABEL, _NOT_ONEOFF]})
    projects: dict[str, list[dict]] = {}
    for item in containers:
        projects.setdefault(_labels(item)[PROJECT_LABEL], []).append(item)
    rows = tuple(
        ComposeProjectRow(
            name=name,
            status=combined_status([item.get("State", "") for item in members]),
            config_files=_config_files(members),
        )
        for name, members in sorted(projects.items())
    )
    return ComposeProjectTable(rows=rows)


def _project_containers(ctx: Context, project: str) -> list[dict]:
    """The project's service containers (one-off `run` containers left out); an error when there are none."""
    with ctx.engine.errors(project):
        containers = ctx.engine.api.containers(all=True, filters={"label": [f"{PROJECT_LABEL}={project}", _NOT_ONEOFF]})
    if not containers:
        raise EngineError(f"no Compose project `{project}` on this engine: `/compose ls` lists the projects")
    return containers


def depends_on(label: str) -> tuple[str, ...]:
    """`db:service_started:false,cache:service_healthy:true` -> ("db", "cache")."""
    services = (part.partition(":")[0].strip() for part in label.split(","))
    return tuple(dict.fromkeys(service for service in services if service))


def _number(item: dict) -> int:
    """The container's number within its service (a label: anything but digits counts as 0)."""
    number = _labels(item).get(NUMBER_LABEL) or ""
    return int(number) if number.isascii() and number.isdigit() else 0


def dependency_order(dependencies: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The services, each after what it depends on (alphabetical among those ready together). A dependency on a
    service the project does not have is left out; a cycle is an EngineError naming it."""
    waiting = {service: set(needs) & set(dependencies) for service, needs in dependencies.items()}
    ordered: list[str] = []
    while waiting:
        ready = sorted(service for service, needs in waiting.items() if not needs)
        if not ready:
            raise EngineError(f"the services depend on each other in a cycle ({_cycle(waiting)}): nothing was done")
        for service in ready:
            ordered.append(service)
            del waiting[service]
        for needs in waiting.values():
            needs.difference_update(ready)
    return tuple(ordered)


def _cycle(waiting: Mapping[str, set[str]]) -> str:
    """One cycle among services none of which can go first: `api → web → api`."""
    path = [min(waiting)]
    while True:
        step = min(waiting[path[-1]])
        if step in path:
            loop = path[path.index(step) :]
            return " → ".join([*loop, step])
        path.append(step)


def ordered_containers(ctx: Context, project: str, chosen: tuple[str, ...] = (), reverse: bool = False) -> list[dict]:
    """The project's containers in dependency order (then by container number), narrowed to the services chosen;
    `reverse`: dependents first."""
    containers = _project_containers(ctx, project)
    by_service: dict[str, list[dict]] = {}
    needs: dict[str, tuple[str, ...]] = {}
    for item in containers:
        service = _labels(item).get(SERVICE_LABEL, _name(item))
        by_service.setdefault(service, []).append(item)
        needs[service] = needs.get(service, ()) + depends_on(_labels(item).get(DEPENDS_ON_LABEL, ""))
    unknown = [service for service in chosen if service not in by_service]
    if unknown:
        known = ", ".join(sorted(by_service))
        raise EngineError(f"project `{project}` has no service `{unknown[0]}`: its services are {known}")
    order = dependency_order(needs)
    if reverse:
        order = tuple(reversed(order))
    ordered = []
    for service in order:
        if not chosen or service in chosen:
            ordered += sorted(by_service[service], key=_number)
    return ordered


@execute.register
def _ps(command: ComposePs, ctx: Context) -> ContainerTable:
    project = f"{PROJECT_LABEL}={command.project}" if command.project else PROJECT_LABEL
    table = execute(ContainerList(all=True, filters=(("label", project), ("label", _NOT_ONEOFF))), ctx)
    if command.project and not table.rows:
        raise EngineError(f"no Compose project `{command.project}` on this engine: `/compose ls` lists the projects")
    return table


def sortable_time(stamp: str) -> str:
    """A log line's RFC 3339 time as a string that sorts in time order: the engine drops a fraction's trailing
    zeros (`…:05.12Z` is later than `…:05.1199Z`), so the fraction is padded back to nine digits."""
    clock, _, fraction = stamp.rstrip("Z").partition(".")
    return f"{clock}.{fraction.ljust(9, '0')}"


@execute.register
def _logs(command: ComposeLogs, ctx: Context) -> LogText:
    """Every container's last lines, merged in time order and prefixed by the container as `docker compose logs`
    does (`shop-db-1   | …`, names padded to the widest); no more than MAX_LOG_BYTES in all, the newest kept."""
    containers = ordered_containers(ctx, command.project, command.services)
    width = max(len(_name(item)) for item in containers)
    stamped: list[tuple[str, int, str]] = []
    cut = False
    for index, item in enumerate(containers):
        text, cut_here = read_logs(ctx, item["Id"], command.tail, timestamps=True)
        cut = cut or cut_here
        prefix = f"{_name(item):<{width}} | "
        for line in text.splitlines():
            stamp, _, rest = line.partition(" ")
            stamped.append((sortable_time(stamp), index, prefix + rest + "\n"))
    stamped.sort(key=lambda entry: (entry[0], entry[1]))  # sort is stable: a container's lines keep their order
    kept: list[str] = []
    size = 0
    for _, _, line in reversed(stamped):
        size += len(line.encode())
        if size > MAX_LOG_BYTES:
            cut = True
            break
        kept.append(line)
    kept.reverse()
    return LogText(container=command.project, text="".join(kept), lines=len(kept), truncated=cut)


@execute.register
def _top(command: ComposeTop, ctx: Context) -> ComposeProcesses:
    tables = []
    for item in ordered_containers(ctx, command.project):
        if item.get("State") != "running":
            continue  # as `docker compose top`: a stopped container has no processes
        with ctx.engine.errors(_name(item)):
            table = ctx.engine.api.top(item["Id"])
        titles = tuple(table.get("Titles") or ())
        processes = tuple(tuple(process) for process in table.get("Processes") or ())
        tables.append(ProcessTable(container=_name(item), titles=titles, processes=processes))
    return ComposeProcesses(project=command.project, tables=tuple(tables))


_ACTS: dict[type[ComposeLifecycle], tuple[str, Callable[..., None]]] = {
    ComposeRestart: ("restarted", lambda api, ref: api.restart(ref, timeout=STOP_GRACE_SECONDS)),
    ComposeStop: ("stopped", lambda api, ref: api.stop(ref, timeout=STOP_GRACE_SECONDS)),
    ComposeStart: ("started", lambda api, ref: api.start(ref)),
}


@execute.register
def _lifecycle(command: ComposeLifecycle, ctx: Context) -> Outcomes:
    verb, act = _ACTS[type(command)]
    containers = ordered_containers(ctx, command.project, command.services, reverse=isinstance(command, ComposeStop))
    done: list[Outcome] = []
    failed: str | None = None
    for step, item in enumerate(containers, start=1):
        name = _name(item)
        if failed is not None:
            done.append(Outcome(name, False, f"not {verb}: `{failed}` failed first"))
            continue
        ctx.report(ComposeProgress(command.project, command.doing, verb, step, len(containers), name, tuple(done)))
        try:
            with ctx.engine.errors(name):
                act(ctx.engine.api, item["Id"])
            done.append(Outcome(name, True))
        except EngineUnreachable:
            raise
        except EngineError as error:
            done.append(Outcome(name, False, str(error)))
            failed = name
    return Outcomes(verb=verb, outcomes=tuple(done))
