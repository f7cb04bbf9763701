"""Executors for the swarm's read commands and `service rm`: `service ls` is one Engine API request."""

import time
from collections import Counter
from collections.abc import Mapping

import docker.utils

from bot.engine.containers import OWNER_LABEL
from bot.engine.convert import env_pairs, timestamp
from bot.engine.errors import EngineError
from bot.engine.execution import Context
from bot.engine.executors import execute, for_each
from bot.engine.swarm import image_name, node_names, replicas_of, spec_ports, task_name, task_rows
from bot.grammar.service_commands import (
    STACK_LABEL,
    NodeList,
    ServiceInspect,
    ServiceList,
    ServiceLogs,
    ServicePs,
    ServiceRemove,
    StackList,
    StackPs,
    StackServices,
)
from bot.results import (
    LogText,
    NodeRow,
    NodeTable,
    Outcomes,
    ServiceDetails,
    ServiceRow,
    ServiceTable,
    StackRow,
    StackTable,
    TaskTable,
)

MAX_LOG_BYTES = 512 * 1024
STATUS_API = "1.41"  # `GET /services?status=true` answers running/desired tasks itself from here on


def _filters(pairs: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for key, value in pairs:
        filters.setdefault(key, []).append(value)
    return filters


def _services(ctx: Context, filters: Mapping[str, list[str]]) -> list[dict]:
    """Services with `ServiceStatus` (running and desired tasks): one request, or on an engine older than API
    1.41 two (the services, and one task list for all of them)."""
    api = ctx.engine.api
    with ctx.engine.errors("services"):
        if docker.utils.version_gte(api.api_version, STATUS_API):
            return api.services(filters=dict(filters) or None, status=True)
        services = api.services(filters=dict(filters) or None)
        tasks = api.tasks(filters={"desired-state": "running"}) if services else []
    running = Counter(t.get("ServiceID") for t in tasks if (t.get("Status") or {}).get("State") == "running")
    wanted = Counter(t.get("ServiceID") for t in tasks)
    for service in services:
        desired = replicas_of(service.get("Spec") or {})
        service["ServiceStatus"] = {
            "RunningTasks": running[service["ID"]],
            "DesiredTasks": wanted[service["ID"]] if desired is None else desired,
        }
    return services


def _row(service: Mapping) -> ServiceRow:
    spec = service.get("Spec") or {}
    status = service.get("ServiceStatus") or {}
    container = (spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}
    return ServiceRow(
        id=service["ID"][:12],
        name=spec.get("Name", ""),
        mode="global" if replicas_of(spec) is None else "replicated",
        running=int(status.get("RunningTasks", 0)),
        desired=int(status.get("DesiredTasks", 0)),
        image=image_name(container.get("Image", "")),
        ports=spec_ports(service),
        owner=(spec.get("Labels") or {}).get(OWNER_LABEL),
        has_previous=bool(service.get("PreviousSpec")),
    )


def _table(ctx: Context, filters: dict[str, list[str]], stack: str | None = None) -> ServiceTable:
    rows = sorted((_row(service) for service in _services(ctx, filters)), key=lambda row: row.name)
    return ServiceTable(rows=tuple(rows), stack=stack)


@execute.register
def _list(command: ServiceList, ctx: Context) -> ServiceTable:
    return _table(ctx, _filters(command.filters))


@execute.register
def _stack_services(command: StackServices, ctx: Context) -> ServiceTable:
    filters = _filters((*command.filters, ("label", f"{STACK_LABEL}={command.stack}")))
    table = _table(ctx, filters, command.stack)
    if not table.rows:
        raise EngineError(f"nothing found in stack: `{command.stack}`")
    return table


@execute.register
def _stacks(command: StackList, ctx: Context) -> StackTable:
    filters = _filters((*command.filters, ("label", STACK_LABEL)))
    with ctx.engine.errors("services"):
        services = ctx.engine.api.services(filters=filters)
    counts = Counter((service["Spec"].get("Labels") or {}).get(STACK_LABEL, "") for service in services)
    return StackTable(rows=tuple(StackRow(name, count) for name, count in sorted(counts.items())))


def _inspect(ctx: Context, service: str) -> dict:
    with ctx.engine.errors(service):
        return ctx.engine.api.inspect_service(service)


@execute.register
def _ps(command: ServicePs, ctx: Context) -> TaskTable:
    service = _inspect(ctx, command.service)
    filters = _filters(command.filters)
    filters["service"] = [service["ID"]]
    with ctx.engine.errors(command.service):
        tasks = ctx.engine.api.tasks(filters=filters)
    rows = task_rows(tasks, {service["ID"]: service["Spec"]["Name"]}, node_names(ctx) if tasks else {})
    return TaskTable(subject=service["Spec"]["Name"], rows=rows, no_trunc=command.no_trunc)


@execute.register
def _stack_ps(command: StackPs, ctx: Context) -> TaskTable:
    filters = _filters((*command.filters, ("label", f"{STACK_LABEL}={command.stack}")))
    with ctx.engine.errors(command.stack):
        services = ctx.engine.api.services(filters=filters)
        if not services:
            raise EngineError(f"nothing found in stack: `{command.stack}`")
        names = {service["ID"]: service["Spec"]["Name"] for service in services}
        tasks = ctx.engine.api.tasks(filters={"service": list(names)})
    return TaskTable(subject=command.stack, rows=task_rows(tasks, names, node_names(ctx) if tasks else {}))


def _config(config: Mapping | None) -> tuple[str, ...]:
    if not config:
        return ()
    words = {
        "Parallelism": "parallelism",
        "Delay": "delay",
        "FailureAction": "on failure",
        "Monitor": "monitor",
        "MaxFailureRatio": "max failure ratio",
        "Order": "order",
    }
    shown = []
    for key, word in words.items():
        if key in config:
            value = config[key]
            if key in ("Delay", "Monitor"):
                value = f"{value / 1e9:g}s"
            shown.append(f"{word} {value}")
    return tuple(shown)


def _resources(template: Mapping) -> tuple[str, ...]:
    shown = []
    for kind in ("Limits", "Reservations"):
        values = (template.get("Resources") or {}).get(kind) or {}
        if values.get("MemoryBytes"):
            shown.append(f"memory {kind[:-1].lower()} {values['MemoryBytes'] / 2**20:g} MiB")
        if values.get("NanoCPUs"):
            shown.append(f"cpus {kind[:-1].lower()} {values['NanoCPUs'] / 1e9:g}")
    return tuple(shown)


@execute.register
def _details(command: ServiceInspect, ctx: Context) -> ServiceDetails:
    service = _inspect(ctx, command.service)
    spec = service.get("Spec") or {}
    template = spec.get("TaskTemplate") or {}
    container = template.get("ContainerSpec") or {}
    status = service.get("UpdateStatus") or {}
    labels = spec.get("Labels") or {}
    replicas = replicas_of(spec)
    return ServiceDetails(
        id=service["ID"][:12],
        name=spec.get("Name", ""),
        image=image_name(container.get("Image", "")),
        mode="global" if replicas is None else "replicated",
        replicas=replicas,
        command=tuple((container.get("Command") or []) + (container.get("Args") or [])),
        ports=spec_ports(service),
        env=env_pairs(container.get("Env")),
        labels=tuple(sorted(labels.items())),
        resources=_resources(template),
        update_config=_config(spec.get("UpdateConfig")),
        rollback_config=_config(spec.get("RollbackConfig")),
        update_status=": ".join(part for part in (status.get("State", ""), status.get("Message", "")) if part),
        created=timestamp(service.get("CreatedAt")),
        updated=timestamp(service.get("UpdatedAt")),
        has_previous=bool(service.get("PreviousSpec")),
        owner=labels.get(OWNER_LABEL),
    )


def _prefixes(ctx: Context, service: Mapping) -> dict[str, str]:
    """task id -> the CLI's prefix for its lines: `web.1.k3r737d5yioe@node`."""
    name = service["Spec"]["Name"]
    with ctx.engine.errors(name):
        tasks = ctx.engine.api.tasks(filters={"service": service["ID"]})
    nodes = node_names(ctx) if tasks else {}
    return {
        task["ID"]: f"{task_name(task, name)}.{task['ID'][:12]}@{nodes.get(task.get('NodeID', ''), '?')}"
        for task in tasks
    }


def log_line(raw: bytes, prefixes: Mapping[str, str]) -> str:
    """One line of `GET /services/{id}/logs?details=1`: `key=value,… message`, shown as `prefix | message`."""
    line = raw.decode("utf-8", errors="replace")
    details, _, message = line.partition(" ")
    attributes = dict(item.partition("=")[::2] for item in details.split(","))
    task = attributes.get("com.docker.swarm.task.id")
    if task is None:  # the engine's own words, e.g. "grabbing logs: … task … has not been scheduled"
        return f"(engine) | {line}"
    return f"{prefixes.get(task, task[:12])} | {message}"


@execute.register
def _logs(command: ServiceLogs, ctx: Context) -> LogText:
    service = _inspect(ctx, command.service)
    prefixes = _prefixes(ctx, service)
    since = int(time.time()) - command.since_seconds if command.since_seconds is not None else 0
    lines: list[str] = []
    size = 0
    cut = False
    with ctx.engine.errors(command.service):
        tty = bool(service["Spec"]["TaskTemplate"].get("ContainerSpec", {}).get("TTY"))
        stream = ctx.engine.api.service_logs(
            service["ID"], details=True, stdout=True, stderr=True, tail=command.tail, since=since, is_tty=tty
        )
        for frame in stream:
            for raw in frame.splitlines(keepends=True):
                line = log_line(raw, prefixes)
                lines.append(line)
                size += len(line)
                while size > MAX_LOG_BYTES:
                    size -= len(lines.pop(0))
                    cut = True
    text = "".join(line if line.endswith("\n") else f"{line}\n" for line in lines)
    return LogText(container=service["Spec"]["Name"], text=text, lines=len(lines), truncated=cut)


@execute.register
def _nodes(command: NodeList, ctx: Context) -> NodeTable:
    with ctx.engine.errors("nodes"):
        nodes = ctx.engine.api.nodes()
    rows = []
    for node in nodes:
        spec, status = node.get("Spec") or {}, node.get("Status") or {}
        manager = node.get("ManagerStatus") or {}
        leader = "Leader" if manager.get("Leader") else manager.get("Reachability", "").capitalize()
        rows.append(
            NodeRow(
                id=node["ID"][:25],
                hostname=(node.get("Description") or {}).get("Hostname", ""),
                status=status.get("State", "").capitalize(),
                availability=spec.get("Availability", "").capitalize(),
                manager_status=leader,
                engine_version=((node.get("Description") or {}).get("Engine") or {}).get("EngineVersion", ""),
            )
        )
    return NodeTable(rows=tuple(sorted(rows, key=lambda row: row.hostname)))


@execute.register
def _remove(command: ServiceRemove, ctx: Context) -> Outcomes:
    return for_each(command.names, "removed", ctx, lambda name: ctx.engine.api.remove_service(name))
