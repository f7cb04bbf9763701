"""Executors for system df, info, version and events: the engine as a whole, each in one or two Engine API calls."""

import time
from collections import deque
from datetime import UTC, datetime

import humanize

from bot.engine.client import Engine
from bot.engine.convert import short_id, timestamp
from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.grammar.commands import SystemDiskUsage, SystemEvents, SystemInfo, SystemVersion
from bot.results import (
    DiskContainer,
    DiskImage,
    DiskUsage,
    DiskUsageRow,
    DiskVolume,
    EngineComponent,
    EngineInfo,
    EngineVersion,
    EventList,
    EventRow,
)
from bot.secrets import masked

MAX_EVENTS = 200
MAX_READ = 10_000  # a bound on the replay, whatever the engine keeps
_ACTIVE_STATES = ("running", "paused", "restarting")


def _known(size: int | None) -> int:
    return size if size is not None and size >= 0 else 0


def _image_row(images: list[dict], layers_size: int) -> DiskUsageRow:
    # The CLI: what images used by containers hold that no other image shares cannot be reclaimed.
    used = sum(
        image.get("Size", 0) - image.get("SharedSize", 0)
        for image in images
        if image.get("Containers", 0) > 0 and image.get("Size", -1) != -1 and image.get("SharedSize", -1) != -1
    )
    active = sum(1 for image in images if image.get("Containers", 0) > 0)
    return DiskUsageRow("Images", len(images), active, layers_size, max(layers_size - used, 0))


def _container_row(containers: list[dict]) -> DiskUsageRow:
    active = [c for c in containers if any(state in c.get("State", "") for state in _ACTIVE_STATES)]
    size = sum(_known(c.get("SizeRw")) for c in containers)
    reclaimable = size - sum(_known(c.get("SizeRw")) for c in active)
    return DiskUsageRow("Containers", len(containers), len(active), size, reclaimable)


def _volume_row(volumes: list[dict]) -> DiskUsageRow:
    usage = [v.get("UsageData") or {} for v in volumes]
    size = sum(_known(u.get("Size")) for u in usage)
    reclaimable = sum(_known(u.get("Size")) for u in usage if u.get("RefCount", 0) == 0)
    active = sum(1 for u in usage if u.get("RefCount", 0) > 0)
    return DiskUsageRow("Local Volumes", len(volumes), active, size, reclaimable)


def _cache_row(cache: list[dict]) -> DiskUsageRow:
    size = sum(c.get("Size", 0) for c in cache if not c.get("Shared"))
    reclaimable = sum(c.get("Size", 0) for c in cache if not c.get("Shared") and not c.get("InUse"))
    return DiskUsageRow("Build Cache", len(cache), sum(1 for c in cache if c.get("InUse")), size, reclaimable)


def _disk_image(image: dict) -> DiskImage:
    tags = [tag for tag in image.get("RepoTags") or () if tag != "<none>:<none>"]
    repository, _, tag = tags[0].rpartition(":") if tags else ("<none>", "", "<none>")
    return DiskImage(
        repository=repository,
        tag=tag,
        short_id=short_id(image.get("Id", "")),
        created=timestamp(image.get("Created")),
        size=image.get("Size", 0),
        shared_size=image.get("SharedSize", -1),
        containers=image.get("Containers", 0),
    )


def _disk_container(container: dict) -> DiskContainer:
    return DiskContainer(
        short_id=container.get("Id", "")[:12],
        image=container.get("Image", ""),
        command=container.get("Command", ""),
        volumes=sum(1 for mount in container.get("Mounts") or () if mount.get("Type") == "volume"),
        size=_known(container.get("SizeRw")),
        created=timestamp(container.get("Created")),
        status=container.get("Status", ""),
        name=(container.get("Names") or ["/"])[0].lstrip("/"),
    )


def _disk_volume(volume: dict) -> DiskVolume:
    usage = volume.get("UsageData") or {}
    return DiskVolume(volume.get("Name", ""), usage.get("RefCount", 0), usage.get("Size", -1))


def volume_usage(engine: Engine) -> dict[str, DiskVolume]:
    """Each volume's links and size as `system df -v` counts them (the engine works sizes out only there)."""
    with engine.errors("volumes"):
        volumes = engine.disk_usage().get("Volumes") or ()
    return {disk.name: disk for disk in map(_disk_volume, volumes)}


@execute.register
def _df(command: SystemDiskUsage, ctx: Context) -> DiskUsage:
    with ctx.engine.errors("engine"):
        usage = ctx.engine.disk_usage()
    images, containers = usage.get("Images") or [], usage.get("Containers") or []
    volumes, cache = usage.get("Volumes") or [], usage.get("BuildCache") or []
    rows = (
        _image_row(images, usage.get("LayersSize", 0)),
        _container_row(containers),
        _volume_row(volumes),
        _cache_row(cache),
    )
    if not command.verbose:
        return DiskUsage(rows=rows)
    return DiskUsage(
        rows=rows,
        verbose=True,
        images=tuple(_disk_image(image) for image in images),
        containers=tuple(_disk_container(container) for container in containers),
        volumes=tuple(_disk_volume(volume) for volume in volumes),
        build_cache=rows[3].size,
    )


@execute.register
def _info(command: SystemInfo, ctx: Context) -> EngineInfo:
    with ctx.engine.errors("engine"):
        info = ctx.engine.api.info()
        version = ctx.engine.api.version()
    return EngineInfo(
        name=info.get("Name", ""),
        server_version=info.get("ServerVersion", ""),
        api_version=version.get("ApiVersion", ""),
        os=info.get("OperatingSystem", ""),
        os_type=info.get("OSType", ""),
        architecture=info.get("Architecture", ""),
        kernel=info.get("KernelVersion", ""),
        cpus=info.get("NCPU", 0),
        memory=info.get("MemTotal", 0),
        storage_driver=info.get("Driver", ""),
        root_dir=info.get("DockerRootDir", ""),
        containers=info.get("Containers", 0),
        running=info.get("ContainersRunning", 0),
        paused=info.get("ContainersPaused", 0),
        stopped=info.get("ContainersStopped", 0),
        images=info.get("Images", 0),
        swarm=(info.get("Swarm") or {}).get("LocalNodeState") or "inactive",
    )


@execute.register
def _version(command: SystemVersion, ctx: Context) -> EngineVersion:
    with ctx.engine.errors("engine"):
        version = ctx.engine.api.version()
    components = tuple(
        EngineComponent(
            name=component.get("Name", ""),
            version=component.get("Version", ""),
            details=tuple(sorted((str(k), str(v)) for k, v in (component.get("Details") or {}).items())),
        )
        for component in version.get("Components") or ()
    )
    return EngineVersion(
        platform=(version.get("Platform") or {}).get("Name", ""),
        version=version.get("Version", ""),
        api_version=version.get("ApiVersion", ""),
        min_api_version=version.get("MinAPIVersion", ""),
        go_version=version.get("GoVersion", ""),
        git_commit=version.get("GitCommit", ""),
        built=version.get("BuildTime", ""),
        os=version.get("Os", ""),
        arch=version.get("Arch", ""),
        experimental=bool(version.get("Experimental")),
        components=components,
    )


def _unix(value: str, now: float) -> str:
    """The Engine API takes unix times only: "600s" (ago) is worked out here, as the docker CLI does."""
    return f"{now - int(value[:-1]):.9f}" if value.endswith("s") else value


def _moment(value: str) -> str:
    if value.endswith("s"):
        seconds = int(value[:-1])
        return "now" if seconds == 0 else f"{humanize.naturaldelta(seconds)} ago"
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _event(event: dict) -> EventRow:
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    return EventRow(
        time_nano=int(event.get("timeNano") or int(event.get("time", 0)) * 1_000_000_000),
        type=event.get("Type", ""),
        action=event.get("Action", ""),
        actor=actor.get("ID", ""),
        attributes=tuple(sorted((key, masked(key, str(value))) for key, value in attributes.items())),
    )


@execute.register
def _events(command: SystemEvents, ctx: Context) -> EventList:
    filters: dict[str, list[str]] = {}
    for key, value in command.filters:
        filters.setdefault(key, []).append(value)
    latest: deque[EventRow] = deque(maxlen=MAX_EVENTS)  # the newest matter most when paged
    seen = 0
    with ctx.engine.errors("events"):
        # With `until` in the past the engine replays what it kept (its last 256 events at most) and ends the stream.
        now = time.time()
        since, until = _unix(command.since, now), _unix(command.until, now)
        stream = ctx.engine.api.events(since=since, until=until, filters=filters or None, decode=True)
        try:
            for event in stream:
                latest.append(_event(event))
                seen += 1
                if seen >= MAX_READ:
                    break
        finally:
            stream.close()
    window = f"from {_moment(command.since)} until {_moment(command.until)}"
    return EventList(events=tuple(latest), cut=seen > len(latest), window=window)
