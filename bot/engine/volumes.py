"""Executors for volume ls|inspect|rm and network ls|inspect (volume prune is bot/engine/prune.py's).

Sizes come from `system df -v`'s count (bot/engine/system.py), the only place the engine works them out. A volume
any container uses, running or not, is never removed: the refusal names the containers, before any question.
"""

import docker.errors

from bot.engine.client import Engine
from bot.engine.convert import short_id, timestamp
from bot.engine.execution import Context
from bot.engine.executors import execute, for_each
from bot.engine.system import volume_usage
from bot.grammar.volume_commands import NetworkInspect, NetworkList, VolumeInspect, VolumeList, VolumeRemove
from bot.results import (
    Failure,
    NetworkDetails,
    NetworkMember,
    NetworkRow,
    NetworkTable,
    Outcomes,
    VolumeDetails,
    VolumeFacts,
    VolumeRow,
    VolumeTable,
)
from bot.secrets import masked


def _filters(pairs: tuple[tuple[str, str], ...]) -> dict[str, list[str]] | None:
    filters: dict[str, list[str]] = {}
    for key, value in pairs:
        filters.setdefault(key, []).append(value)
    return filters or None


def _pairs(mapping: dict | None) -> tuple[tuple[str, str], ...]:
    """Labels or driver options, secret-looking values masked where they are read."""
    return tuple(sorted((str(key), masked(str(key), str(value))) for key, value in (mapping or {}).items()))


def volume_users(engine: Engine, names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The containers (by name, with their state) using each of the named volumes: one listing."""
    wanted = set(names)
    users: dict[str, list[str]] = {}
    with engine.errors("containers"):
        listing = engine.api.containers(all=True)
    for container in listing:
        name = (container.get("Names") or ["/"])[0].lstrip("/")
        for mount in container.get("Mounts") or ():
            if mount.get("Type") == "volume" and mount.get("Name") in wanted:
                users.setdefault(mount["Name"], []).append(f"{name} ({container.get('State', '')})")
    return {volume: tuple(sorted(found)) for volume, found in users.items()}


def removal_refused(engine: Engine, names: tuple[str, ...]) -> Failure | None:
    """Why `volume rm` of these cannot go ahead (a volume missing, or in use: the containers named), or None."""
    with engine.errors("volumes"):
        known = {volume["Name"] for volume in engine.api.volumes().get("Volumes") or ()}
    missing = [name for name in names if name not in known]
    if missing:
        return Failure(f"no such volume: {', '.join(f'`{name}`' for name in missing)}; nothing was removed")
    used = volume_users(engine, names)
    if not used:
        return None
    each = "; ".join(f"`{volume}` by {', '.join(used[volume])}" for volume in names if volume in used)
    return Failure(f"in use, so not removed: {each} — remove those containers first; nothing was removed")


@execute.register
def _volume_list(command: VolumeList, ctx: Context) -> VolumeTable:
    with ctx.engine.errors("volumes"):
        volumes = ctx.engine.api.volumes(filters=_filters(command.filters)).get("Volumes") or ()
    usage = volume_usage(ctx.engine) if volumes else {}
    rows = tuple(
        VolumeRow(
            name=volume["Name"],
            driver=volume.get("Driver", ""),
            size=usage[volume["Name"]].size if volume["Name"] in usage else -1,
            links=usage[volume["Name"]].links if volume["Name"] in usage else 0,
        )
        for volume in sorted(volumes, key=lambda volume: volume["Name"])
    )
    return VolumeTable(rows=rows, filters=command.filters)


@execute.register
def _volume_inspect(command: VolumeInspect, ctx: Context) -> VolumeDetails | Failure:
    found, missing = [], []
    for name in command.names:
        with ctx.engine.errors(name):
            try:
                found.append(ctx.engine.api.inspect_volume(name))
            except docker.errors.NotFound:
                missing.append(name)
    if not found:
        return Failure(f"no such volume: {', '.join(f'`{name}`' for name in missing)}")
    usage = volume_usage(ctx.engine)
    users = volume_users(ctx.engine, tuple(volume["Name"] for volume in found))
    facts = tuple(
        VolumeFacts(
            name=volume["Name"],
            driver=volume.get("Driver", ""),
            scope=volume.get("Scope", ""),
            mountpoint=volume.get("Mountpoint", ""),
            created=timestamp(volume.get("CreatedAt")),
            size=usage[volume["Name"]].size if volume["Name"] in usage else -1,
            used_by=users.get(volume["Name"], ()),
            labels=_pairs(volume.get("Labels")),
            options=_pairs(volume.get("Options")),
        )
        for volume in found
    )
    return VolumeDetails(volumes=facts, missing=tuple(missing))


@execute.register
def _volume_remove(command: VolumeRemove, ctx: Context) -> Outcomes | Failure:
    refused = removal_refused(ctx.engine, command.names)  # asked before the question too: state may have changed
    if refused is not None:
        return refused
    # Never forced: a container that took the volume since the check keeps it (the engine refuses).
    return for_each(command.names, "removed", ctx, ctx.engine.api.remove_volume)


@execute.register
def _network_list(command: NetworkList, ctx: Context) -> NetworkTable:
    with ctx.engine.errors("networks"):
        networks = ctx.engine.api.networks(filters=_filters(command.filters))
    rows = tuple(
        NetworkRow(
            short_id(network["Id"]), network.get("Name", ""), network.get("Driver", ""), network.get("Scope", "")
        )
        for network in sorted(networks, key=lambda network: network.get("Name", ""))
    )
    return NetworkTable(rows=rows)


def _members(network: dict) -> tuple[NetworkMember, ...]:
    members = (
        NetworkMember(
            name=member.get("Name", "") or container_id[:12],
            ipv4=member.get("IPv4Address", ""),
            ipv6=member.get("IPv6Address", ""),
        )
        for container_id, member in (network.get("Containers") or {}).items()
    )
    return tuple(sorted(members, key=lambda member: member.name))


@execute.register
def _network_inspect(command: NetworkInspect, ctx: Context) -> NetworkDetails:
    with ctx.engine.errors(command.name):
        network = ctx.engine.api.inspect_network(command.name)
    ipam = network.get("IPAM") or {}
    return NetworkDetails(
        name=network.get("Name", ""),
        short_id=short_id(network.get("Id", "")),
        driver=network.get("Driver", ""),
        scope=network.get("Scope", ""),
        internal=bool(network.get("Internal")),
        attachable=bool(network.get("Attachable")),
        created=timestamp(network.get("Created")),
        subnets=tuple((pool.get("Subnet", ""), pool.get("Gateway", "")) for pool in ipam.get("Config") or ()),
        members=_members(network),
        labels=_pairs(network.get("Labels")),
        options=_pairs(network.get("Options")),
    )
