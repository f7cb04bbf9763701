"""Executors for container commands: ps in one Engine API call, per-target outcomes for rm/start/stop/restart."""

import time

from bot.engine.convert import env_pairs, timestamp
from bot.engine.execution import Context
from bot.engine.executors import execute, for_each
from bot.grammar.commands import (
    ContainerInspect,
    ContainerLifecycle,
    ContainerList,
    ContainerLogs,
    ContainerRemove,
    ContainerRestart,
    ContainerStart,
    ContainerStop,
)
from bot.results import ContainerDetails, ContainerRow, ContainerTable, LogText, Outcomes

OWNER_LABEL = "io.shipmate.user"
TEAM_LABEL = "io.shipmate.team"
MAX_LOG_BYTES = 512 * 1024
STOP_GRACE_SECONDS = 10


def listed_ports(ports: list[dict]) -> tuple[str, ...]:
    """Ports as `GET /containers/json` lists them -> "0.0.0.0:8081→3000/tcp" (IPv4/IPv6 twins shown once)."""
    shown: dict[tuple, str] = {}
    for port in ports:
        private, proto = port.get("PrivatePort"), port.get("Type", "tcp")
        if port.get("PublicPort"):
            ip = port.get("IP") or "0.0.0.0"
            key = (port["PublicPort"], private, proto)
            shown.setdefault(key, f"{'0.0.0.0' if ':' in ip else ip}:{port['PublicPort']}→{private}/{proto}")
        else:
            shown.setdefault((None, private, proto), f"{private}/{proto}")
    return tuple(shown.values())


def inspected_ports(data: dict) -> tuple[str, ...]:
    """Ports from inspect data: live bindings when running, else the requested ones."""
    bindings = (data.get("NetworkSettings") or {}).get("Ports") or (data.get("HostConfig") or {}).get("PortBindings")
    shown: dict[tuple, str] = {}
    for private, hosts in sorted((bindings or {}).items()):
        for host in hosts or []:
            ip = host.get("HostIp") or "0.0.0.0"
            key = (host.get("HostPort"), private)
            shown.setdefault(key, f"{'0.0.0.0' if ':' in ip else ip}:{host.get('HostPort')}→{private}")
        if not hosts:
            shown.setdefault((None, private), private)
    return tuple(shown.values())


@execute.register
def _list(command: ContainerList, ctx: Context) -> ContainerTable:
    filters: dict[str, list[str]] = {}
    for key, value in command.filters:
        filters.setdefault(key, []).append(value)
    with ctx.engine.errors("containers"):
        containers = ctx.engine.api.containers(all=command.all, filters=filters or None)
    rows = tuple(
        ContainerRow(
            name=(item.get("Names") or ["/" + item["Id"][:12]])[0].lstrip("/"),
            short_id=item["Id"][:12],
            image=item.get("Image", ""),
            command=item.get("Command", ""),
            state=item.get("State", ""),
            status=item.get("Status", ""),
            ports=listed_ports(item.get("Ports") or []),
            owner=(item.get("Labels") or {}).get(OWNER_LABEL),
        )
        for item in containers
    )
    return ContainerTable(rows=rows, all=command.all)


def _status_detail(state: dict) -> str:
    status = state.get("Status", "unknown")
    if status == "running":
        return f"running since {state.get('StartedAt', '?')[:19].replace('T', ' ')} UTC"
    if status in ("exited", "dead"):
        finished = state.get("FinishedAt", "?")[:19].replace("T", " ")
        return f"{status} ({state.get('ExitCode', '?')}) at {finished} UTC"
    return status


@execute.register
def _inspect(command: ContainerInspect, ctx: Context) -> ContainerDetails:
    with ctx.engine.errors(command.container):
        data = ctx.engine.api.inspect_container(command.container)
    config, state = data.get("Config") or {}, data.get("State") or {}
    health = (state.get("Health") or {}).get("Status")
    return ContainerDetails(
        name=data.get("Name", "").lstrip("/"),
        short_id=data["Id"][:12],
        image=config.get("Image", ""),
        state=state.get("Status", "unknown"),
        status_detail=_status_detail(state),
        created=timestamp(data.get("Created")),
        cmd=tuple(data.get("Path", "") and [data["Path"], *data.get("Args", [])]),
        env=env_pairs(config.get("Env")),
        ports=inspected_ports(data),
        restart_count=data.get("RestartCount", 0),
        health=health,
        owner=(config.get("Labels") or {}).get(OWNER_LABEL),
    )


def read_logs(
    ctx: Context, container: str, tail: int, since_seconds: int | None = None, timestamps: bool = False
) -> tuple[str, bool]:
    """The last `tail` lines, streamed and read no further than MAX_LOG_BYTES (the reply shows no more): the
    whole lines that fit, and True when the output was cut there. `timestamps`: each line led by its time."""
    since = int(time.time()) - since_seconds if since_seconds is not None else None
    read = bytearray()
    with ctx.engine.errors(container):
        stream = ctx.engine.api.logs(
            container,
            stdout=True,
            stderr=True,
            tail=tail,
            since=since,
            stream=True,
            follow=False,
            timestamps=timestamps,
        )
        try:
            for chunk in stream:
                read += chunk
                if len(read) > MAX_LOG_BYTES:
                    break
        finally:
            stream.close()
    cut = len(read) > MAX_LOG_BYTES
    if cut:
        end = read.rfind(b"\n", 0, MAX_LOG_BYTES)
        read = read[: end + 1] if end >= 0 else read[:MAX_LOG_BYTES]  # whole lines, unless one line is all of it
    return read.decode("utf-8", errors="replace"), cut


@execute.register
def _logs(command: ContainerLogs, ctx: Context) -> LogText:
    text, cut = read_logs(ctx, command.container, command.tail, command.since_seconds)
    lines = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    return LogText(container=command.container, text=text, lines=lines, truncated=cut)


@execute.register
def _remove(command: ContainerRemove, ctx: Context) -> Outcomes:
    return for_each(
        command.containers, "removed", ctx, lambda name: ctx.engine.api.remove_container(name, force=command.force)
    )


_ACTS = {
    ContainerStart: ("started", lambda api, name: api.start(name)),
    ContainerStop: ("stopped", lambda api, name: api.stop(name, timeout=STOP_GRACE_SECONDS)),
    ContainerRestart: ("restarted", lambda api, name: api.restart(name, timeout=STOP_GRACE_SECONDS)),
}


@execute.register
def _lifecycle(command: ContainerLifecycle, ctx: Context) -> Outcomes:
    verb, act = _ACTS[type(command)]
    return for_each(command.containers, verb, ctx, lambda name: act(ctx.engine.api, name))
