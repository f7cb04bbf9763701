"""Executor for `run`: pull if missing, create, start (removing what a failed start leaves), then wait or detach."""

import contextlib

import docker.errors
import requests.exceptions

from bot.engine.containers import inspected_ports, read_logs
from bot.engine.errors import EngineError, explain
from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.engine.images import pull
from bot.grammar.commands import ContainerRun
from bot.grammar.images import pull_of
from bot.results import RunDone

OUTPUT_TAIL_LINES = 1000
STOP_ON_LIMIT_GRACE = 2


def _ensure_image(ctx: Context, image: str) -> bool:
    """True when the image had to be pulled first, as `docker run` does."""
    with ctx.engine.errors(image):
        try:
            ctx.engine.api.inspect_image(image)
            return False
        except docker.errors.NotFound:
            pass
    pull(pull_of(image), ctx)
    return True


def _create(ctx: Context, command: ContainerRun) -> str:
    api = ctx.engine.api
    bindings: dict[str, list] = {}
    for port in command.ports:
        host = (port.host_ip, port.host_port) if port.host_ip else port.host_port
        bindings.setdefault(f"{port.container_port}/{port.protocol}", []).append(host)
    limits = ctx.limits
    host_config = api.create_host_config(
        port_bindings=bindings or None,
        auto_remove=command.remove and command.detach,  # a foreground --rm is removed by us, after its output is read
        mem_limit=limits.memory,
        nano_cpus=int(limits.cpus * 1e9) if limits.cpus else None,
    )
    with ctx.engine.errors(command.name or command.image):
        created = api.create_container(
            command.image,
            command=list(command.command) or None,
            name=command.name,
            environment=[f"{key}={value}" for key, value in command.env],
            ports=[(port.container_port, port.protocol) for port in command.ports],
            labels=dict(ctx.labels),
            host_config=host_config,
            detach=True,
        )
    return created["Id"]


def _remove_quietly(ctx: Context, container_id: str) -> None:
    with contextlib.suppress(Exception):
        ctx.engine.api.remove_container(container_id, force=True)


def _wait(ctx: Context, container_id: str, name: str) -> tuple[int | None, float | None]:
    """Exit code, or the limit in seconds when the container was still running then (and got stopped)."""
    limit = ctx.limits.wait_seconds
    try:
        status = ctx.engine.api.wait(container_id, timeout=limit)
        return status.get("StatusCode"), None
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as error:
        if "timed out" not in str(error).lower() and not isinstance(error, requests.exceptions.ReadTimeout):
            raise explain(error, name, ctx.engine.docker_host) from error
    with ctx.engine.errors(name):
        ctx.engine.api.stop(container_id, timeout=STOP_ON_LIMIT_GRACE)
    return None, limit


@execute.register
def _run(command: ContainerRun, ctx: Context) -> RunDone:
    pulled = _ensure_image(ctx, command.image)
    container_id = _create(ctx, command)
    subject = command.name or container_id[:12]
    try:
        with ctx.engine.errors(subject):
            ctx.engine.api.start(container_id)
    except EngineError as error:
        _remove_quietly(ctx, container_id)  # never leave a half-created container behind
        raise EngineError(f"{error} (nothing was left running)") from error
    exit_code = timed_out = None
    output, cut = "", False
    if not command.detach:
        exit_code, timed_out = _wait(ctx, container_id, subject)
        output, cut = read_logs(ctx, container_id, OUTPUT_TAIL_LINES)
    with ctx.engine.errors(subject):
        data = ctx.engine.api.inspect_container(container_id)
    if command.remove and not command.detach:
        with ctx.engine.errors(subject):
            ctx.engine.api.remove_container(container_id, force=True)
    state = data.get("State") or {}
    return RunDone(
        name=data.get("Name", "").lstrip("/"),
        short_id=container_id[:12],
        image=command.image,
        state=state.get("Status", "unknown"),
        ports=inspected_ports(data),
        detached=command.detach,
        exit_code=exit_code if exit_code is not None else (None if command.detach else state.get("ExitCode")),
        output=output,
        output_truncated=cut or output.count("\n") >= OUTPUT_TAIL_LINES,
        timed_out_after=timed_out,
        removed=command.remove and not command.detach,
        pulled=pulled,
    )
