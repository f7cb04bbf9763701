"""Executors for `service create/scale/update/rollback`: make the change, then watch the tasks converge.

Watching is polling: the service and its tasks, about four times a second, until every wanted task runs the
service's current spec (converged), a new task is rejected or keeps failing, the update pauses (failed), or
`SHIPMATE_CONVERGE_TIMEOUT` passes (timed out). Progress goes to `ctx.report` whenever the count changes.
"""

import time
from collections.abc import Callable, Mapping

import docker.types
import docker.utils

from bot.engine.errors import EngineError
from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.engine.swarm import node_names, replicas_of, task_rows
from bot.grammar.service_commands import ServiceCreate, ServiceRollback, ServiceScale, ServiceUpdate
from bot.results import CONVERGED, FAILED, TIMED_OUT, Convergence, Convergences, ServiceProgress

POLL_SECONDS = 0.25
FAILURES_TO_GIVE_UP = 3  # tasks of the new spec that exited with an error: it will not come up
STABLE_SECONDS = 6.0  # after a task failed, its replacement must keep running this long (restart delay: 5 s)
STUCK_SECONDS = 3.0  # a task the scheduler cannot place ("no suitable node …") for this long will not be placed
_PAUSED = ("paused", "rollback_paused")
_GONE = ("shutdown", "remove", "orphaned")


def _tasks(ctx: Context, service_id: str) -> list[dict]:
    with ctx.engine.errors(service_id):
        return ctx.engine.api.tasks(filters={"service": service_id})


def _task_ids(ctx: Context, service_id: str) -> frozenset[str]:
    return frozenset(task["ID"] for task in _tasks(ctx, service_id))


def _current(task: Mapping, template: Mapping) -> bool:
    """Whether a task runs the service's current spec (the engine leaves some defaults out of a task's copy)."""
    spec = task.get("Spec") or {}
    return spec.get("ContainerSpec") == template.get("ContainerSpec") and spec.get("ForceUpdate", 0) == template.get(
        "ForceUpdate", 0
    )


def _error(failures: list[dict], status: Mapping) -> str:
    newest = max(failures, key=lambda task: (task.get("Status") or {}).get("Timestamp", ""), default=None)
    if newest is not None:
        task_status = newest.get("Status") or {}
        return task_status.get("Err") or task_status.get("Message") or task_status.get("State", "")
    return status.get("Message", "the update stopped")


def converge(ctx: Context, service_id: str, verb: str, before: frozenset[str], started: float) -> Convergence:
    """Watch one service until it converges, fails or times out; tasks in `before` were there before the change."""
    api = ctx.engine.api
    deadline = started + ctx.limits.converge_seconds
    shown: ServiceProgress | None = None
    stuck_since: float | None = None
    first_seen_running: dict[str, float] = {}
    while True:
        with ctx.engine.errors(service_id):
            service = api.inspect_service(service_id)
        tasks = _tasks(ctx, service_id)
        spec = service.get("Spec") or {}
        name, template = spec.get("Name", service_id), spec.get("TaskTemplate") or {}
        live = [task for task in tasks if task.get("DesiredState") not in _GONE]
        wanted = replicas_of(spec)
        desired = len(live) if wanted is None else wanted
        running_ids = [
            task["ID"]
            for task in live
            if _current(task, template) and (task.get("Status") or {}).get("State") == "running"
        ]
        running = len(running_ids)
        failures = [
            task
            for task in tasks
            if task["ID"] not in before and (task.get("Status") or {}).get("State") in ("failed", "rejected")
        ]
        now = time.monotonic()
        for task_id in running_ids:
            first_seen_running.setdefault(task_id, now)
        # After a failure, a task restarted in its place must stay up a while before it counts as converged.
        steady = not failures or all(now - first_seen_running[task_id] >= STABLE_SECONDS for task_id in running_ids)
        elapsed = now - started
        if running == desired and len(live) == desired and steady:
            return Convergence(name, verb, CONVERGED, running, desired, elapsed)
        status = service.get("UpdateStatus") or {}
        rejected = any(task["Status"]["State"] == "rejected" for task in failures)
        unplaced = [task for task in live if task["Status"].get("State") == "pending" and task["Status"].get("Err")]
        stuck_since = (stuck_since or time.monotonic()) if unplaced else None
        stuck = stuck_since is not None and time.monotonic() - stuck_since >= STUCK_SECONDS
        failed = status.get("State") in _PAUSED or rejected or stuck or len(failures) >= FAILURES_TO_GIVE_UP
        if failed or time.monotonic() > deadline:
            shown_tasks = {task["ID"]: task for task in [*live, *failures]}
            rows = task_rows(shown_tasks.values(), {service_id: name}, node_names(ctx))
            outcome, error = (FAILED, _error(failures or unplaced, status)) if failed else (TIMED_OUT, "")
            up = sum(1 for task in live if (task.get("Status") or {}).get("State") == "running")
            return Convergence(name, verb, outcome, up, desired, elapsed, error, rows)
        progress = ServiceProgress(name, running, desired, status.get("Message", ""))
        if progress != shown:
            ctx.report(progress)
            shown = progress
        time.sleep(POLL_SECONDS)


def _post_update(ctx: Context, service: Mapping, spec: Mapping, rollback: bool = False) -> None:
    """POST /services/{id}/update with a whole spec (docker-py's update_service drops what it is not given)."""
    api = ctx.engine.api
    params: dict[str, object] = {"version": service["Version"]["Index"]}
    if rollback:
        params["rollback"] = "previous"
    with ctx.engine.errors(service["Spec"]["Name"]):
        response = api._post_json(api._url("/services/{0}/update", service["ID"]), data=spec, params=params)
        api._raise_for_status(response)


def _inspect(ctx: Context, ref: str) -> dict:
    with ctx.engine.errors(ref):
        return ctx.engine.api.inspect_service(ref)


def _change(
    ctx: Context, ref: str, verb: str, edit: Callable[[dict], None] | None, rollback: bool = False
) -> Convergence:
    started = time.monotonic()
    service = _inspect(ctx, ref)
    before = _task_ids(ctx, service["ID"])
    spec = service["Spec"]
    if edit is not None:
        edit(spec)
    _post_update(ctx, service, spec, rollback)
    return converge(ctx, service["ID"], verb, before, started)


def _set_replicas(count: int, name: str) -> Callable[[dict], None]:
    def edit(spec: dict) -> None:
        if replicas_of(spec) is None:
            raise EngineError(f"`{name}` is a global service: it runs one task per node and cannot be scaled")
        spec["Mode"]["Replicated"]["Replicas"] = count

    return edit


@execute.register
def _scale(command: ServiceScale, ctx: Context) -> Convergences:
    return Convergences(
        tuple(_change(ctx, name, "scaled", _set_replicas(count, name)) for name, count in command.scales)
    )


def updated_by(command: ServiceUpdate) -> Callable[[dict], None]:
    """The edit `service update` makes to a spec (a dry run applies it to a copy, to show what would change)."""

    def edit(spec: dict) -> None:
        template = spec.setdefault("TaskTemplate", {})
        container = template.setdefault("ContainerSpec", {})
        if command.image:
            container["Image"] = command.image
        if command.env_add or command.env_rm:
            dropped = {*command.env_rm, *(key for key, _ in command.env_add)}
            kept = [item for item in container.get("Env") or [] if item.partition("=")[0] not in dropped]
            container["Env"] = kept + [f"{key}={value}" for key, value in command.env_add]
        if command.replicas is not None:
            _set_replicas(command.replicas, command.service)(spec)
        if command.force:
            template["ForceUpdate"] = int(template.get("ForceUpdate", 0)) + 1

    return edit


@execute.register
def _update(command: ServiceUpdate, ctx: Context) -> Convergences:
    return Convergences((_change(ctx, command.service, "updated", updated_by(command)),))


@execute.register
def _rollback(command: ServiceRollback, ctx: Context) -> Convergences:
    service = _inspect(ctx, command.service)
    if not service.get("PreviousSpec"):
        raise EngineError(f"`{command.service}` has no previous spec to roll back to")
    return Convergences((_change(ctx, command.service, "rolled back", None, rollback=True),))


@execute.register
def _create(command: ServiceCreate, ctx: Context) -> Convergences:
    started = time.monotonic()
    limits = ctx.limits
    resources = docker.types.Resources(
        cpu_limit=int(limits.cpus * 1e9) if limits.cpus else None,
        mem_limit=docker.utils.parse_bytes(limits.memory) if limits.memory else None,
    )
    template = docker.types.TaskTemplate(
        container_spec=docker.types.ContainerSpec(
            command.image,
            args=list(command.command) or None,
            env=[f"{key}={value}" for key, value in command.env] or None,
        ),
        resources=resources,
    )
    # No routing mesh is assumed: a published port is bound on the node that runs the task, as `mode=host`.
    ports = [
        {"Protocol": port.protocol, "PublishedPort": port.host_port, "TargetPort": port.container_port,
         "PublishMode": "host"}
        for port in command.ports
    ]  # fmt: skip
    with ctx.engine.errors(command.name or command.image):
        created = ctx.engine.api.create_service(
            template,
            name=command.name,
            labels={**dict(command.labels), **ctx.labels},
            mode=docker.types.ServiceMode("replicated", command.replicas),
            endpoint_spec=docker.types.EndpointSpec(ports=ports) if ports else None,
        )
    return Convergences((converge(ctx, created["ID"], "created", frozenset(), started),))
