"""`updates` and `update-image`: the registry's digest for each running container's image reference, and rolling a
newer image out by recreating the container with its own configuration — rolled back when the new one fails.

`updates` asks the registry once per distinct reference (`GET /distribution/{name}/json` through the engine, so
the engine's own credentials and mirrors apply), a few at a time, and remembers each answer for CACHE_SECONDS.

`update-image` renames the old container aside (`<name>-shipmate-old-<id>`), stops it, creates and starts the new
one under the real name and waits until it runs (and, with a health check, is healthy). If it does not, the new
one is removed and the old one renamed back and started: the same container, id and all.
"""

import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.engine.client import Engine
from bot.engine.containers import STOP_GRACE_SECONDS
from bot.engine.convert import timestamp
from bot.engine.errors import EngineError, EngineUnreachable
from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.engine.images import PullTracker
from bot.grammar.errors import ParseError
from bot.grammar.updates import ContainerUpdateImage, ImageUpdates
from bot.grammar.values import split_image
from bot.results import (
    NOT_UPDATED,
    ROLLED_BACK,
    UP_TO_DATE,
    UPDATED,
    ImageUpdate,
    UpdateOutcomes,
    UpdateRow,
    UpdateTable,
)

CACHE_SECONDS = 300.0  # a registry's answer is reused this long: `updates` typed twice asks once
REGISTRY_REQUESTS_AT_ONCE = 8
SETTLE_SECONDS = 3.0  # a new container without a health check must stay up this long to count as started
POLL_SECONDS = 0.25
_CACHE: dict[tuple[str, str], tuple[float, str, str]] = {}  # (engine host, reference) -> (when, digest, problem)
_CACHE_LOCK = threading.Lock()


# -- asking the registry ------------------------------------------------------------------------


def registry_digest(engine: Engine, reference: str) -> str:
    """The digest the registry serves for `reference` now (a multi-platform image's index digest)."""
    with engine.errors(reference):
        return str(engine.api.inspect_distribution(reference)["Descriptor"]["digest"])


def _cached_digest(engine: Engine, reference: str) -> tuple[str, str, bool]:
    """(digest, problem, asked): from the cache when fresh, else from the registry (a problem is cached too:
    an unreachable registry is not asked again on every `updates`)."""
    key = (engine.docker_host, reference)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1], hit[2], False
    digest, problem = "", ""
    try:
        digest = registry_digest(engine, reference)
    except EngineUnreachable:
        raise
    except EngineError as error:
        problem = str(error)
    with _CACHE_LOCK:
        _CACHE[key] = (time.monotonic(), digest, problem)
    return digest, problem, True


def _repository(reference: str) -> str:
    """The repository as RepoDigests name it: `nginx`, `127.0.0.1:5000/app` (docker.io/library/ dropped)."""
    repository = split_image(reference)[0]
    return repository.removeprefix("docker.io/").removeprefix("library/")


def _digests(image: Mapping[str, Any], reference: str) -> tuple[str, tuple[str, ...]]:
    """(the digest shown for `reference`, every digest the image is known by in registries)."""
    repo_digests = [item.partition("@") for item in image.get("RepoDigests") or ()]
    every = tuple(digest for _, _, digest in repo_digests)
    wanted = _repository(reference)
    shown = next((digest for repo, _, digest in repo_digests if repo == wanted), every[0] if every else "")
    return shown, every


def _no_registry_reason(reference: str) -> str:
    """Why a reference cannot be asked about ("" when it can)."""
    if not reference or reference.startswith("sha256:"):
        return "created from an image id, not a name: there is no reference to look up"
    try:
        _, _, digest = split_image(reference)
    except ParseError:
        return "created from an image id, not a name: there is no reference to look up"
    if digest:
        return "pinned to a digest: the registry cannot hold a newer image for it"
    return ""


def _config_image(engine: Engine, item: Mapping[str, Any]) -> str:
    """The reference a listed container was created from. The listing shows the image id instead once the tag
    has moved to another image (after a pull, exactly the case here): then its inspect data says."""
    image = str(item.get("Image", ""))
    image_id = str(item.get("ImageID", "")).removeprefix("sha256:")
    if image and not image_id.startswith(image.removeprefix("sha256:")):  # the id, full or short, is no reference
        return image
    with engine.errors(item["Id"][:12]):
        return str((engine.api.inspect_container(item["Id"]).get("Config") or {}).get("Image", ""))


@execute.register
def _updates(command: ImageUpdates, ctx: Context) -> UpdateTable:
    engine = ctx.engine
    with engine.errors("containers"):
        listing = engine.api.containers()
        references = {item["Id"]: _config_image(engine, item) for item in listing}
        images = {image_id: engine.api.inspect_image(image_id) for image_id in {item["ImageID"] for item in listing}}
    askable = sorted({ref for ref in references.values() if not _no_registry_reason(ref)})
    answers: dict[str, tuple[str, str, bool]] = {}
    if askable:
        with ThreadPoolExecutor(max_workers=min(REGISTRY_REQUESTS_AT_ONCE, len(askable))) as pool:
            answers = dict(zip(askable, pool.map(lambda ref: _cached_digest(engine, ref), askable), strict=True))
    rows = []
    for item in listing:
        reference, image = references[item["Id"]], images[item["ImageID"]]
        name = (item.get("Names") or ["/" + item["Id"][:12]])[0].lstrip("/")
        running, every = _digests(image, reference)
        digest, problem, _ = answers.get(reference, ("", _no_registry_reason(reference), False))
        available = digest if digest and digest not in every else ""
        rows.append(UpdateRow(name, reference, running, available, timestamp(image.get("Created")), problem))
    rows.sort(key=lambda row: (not row.outdated, bool(row.problem), row.container))
    return UpdateTable(rows=tuple(rows), asked=sum(1 for answer in answers.values() if answer[2]))


# -- recreating a container ---------------------------------------------------------------------

_LEFT_TO_THE_IMAGE = ("Cmd", "Entrypoint", "WorkingDir", "User", "StopSignal", "Healthcheck", "Shell", "OnBuild")


def recreated_config(old: Mapping[str, Any], old_image: Mapping[str, Any], reference: str) -> dict[str, Any]:
    """The body of `POST /containers/create` for the same container on `reference`'s new image. What the old
    image supplied (its env, cmd, labels, …) is left out so the new image's own defaults apply; everything set
    on the container itself is kept, host config (ports, mounts, restart policy, limits, …) verbatim."""
    config = dict(old.get("Config") or {})
    image_config = old_image.get("Config") or {}
    config["Image"] = reference
    config["Env"] = [item for item in config.get("Env") or () if item not in (image_config.get("Env") or ())]
    for key in _LEFT_TO_THE_IMAGE:
        if config.get(key) == image_config.get(key):
            config.pop(key, None)
    for key in ("ExposedPorts", "Volumes"):
        extra = {k: v for k, v in (config.get(key) or {}).items() if k not in (image_config.get(key) or {})}
        config[key] = extra or None
    image_labels = image_config.get("Labels") or {}
    config["Labels"] = {k: v for k, v in (config.get("Labels") or {}).items() if image_labels.get(k) != v}
    if config.get("Hostname") == old["Id"][:12]:
        config.pop("Hostname")  # docker's default, the old id: the new container gets its own
    config.pop("MacAddress", None)
    host = dict(old.get("HostConfig") or {})
    host["Binds"] = [*(host.get("Binds") or ()), *_anonymous_volumes(old, host)] or None
    body: dict[str, Any] = {**config, "HostConfig": host}
    primary, _ = _networks(old)
    if primary is not None:
        body["NetworkingConfig"] = {"EndpointsConfig": {primary[0]: primary[1]}}
    return body


def _anonymous_volumes(old: Mapping[str, Any], host: Mapping[str, Any]) -> list[str]:
    """Volumes the container got without naming them (an image's VOLUME, `-v /data`): handed to the new container
    by name, so its data comes along instead of a fresh empty volume."""
    named = {bind.split(":")[1] for bind in host.get("Binds") or () if ":" in bind}
    named |= {mount.get("Target") for mount in host.get("Mounts") or ()}
    return [
        f"{mount['Name']}:{mount['Destination']}" + ("" if mount.get("RW", True) else ":ro")
        for mount in old.get("Mounts") or ()
        if mount.get("Type") == "volume" and mount.get("Destination") not in named and mount.get("Name")
    ]


Endpoint = tuple[str, dict[str, Any]]


def _networks(old: Mapping[str, Any]) -> tuple[Endpoint | None, list[Endpoint]]:
    """(the network the container is created on, those it is connected to afterwards), each with its endpoint
    settings (aliases, static addresses, links) — none for the host's network, `none` or another container's."""
    mode = str((old.get("HostConfig") or {}).get("NetworkMode") or "default")
    attached = (old.get("NetworkSettings") or {}).get("Networks") or {}
    if mode in ("host", "none") or mode.startswith("container:"):
        return None, []
    own_ids = (old["Id"], old["Id"][:12])
    endpoints = [
        (
            network,
            {
                "IPAMConfig": settings.get("IPAMConfig"),
                "Links": settings.get("Links"),
                "Aliases": [alias for alias in settings.get("Aliases") or () if alias not in own_ids] or None,
                "DriverOpts": settings.get("DriverOpts"),
            },
        )
        for network, settings in attached.items()
    ]
    primary_name = "bridge" if mode == "default" else mode
    primary = next((endpoint for endpoint in endpoints if endpoint[0] == primary_name), None)
    return primary, [endpoint for endpoint in endpoints if endpoint is not primary]


def kept_summary(old: Mapping[str, Any]) -> tuple[str, ...]:
    """What of the configuration the new container keeps, in words (never env values: they may be secrets)."""
    config, host = old.get("Config") or {}, old.get("HostConfig") or {}
    labels = config.get("Labels") or {}
    restart = (host.get("RestartPolicy") or {}).get("Name") or "no"
    kept = [f"name {old.get('Name', '').lstrip('/')}", f"env ({len(config.get('Env') or ())})"]
    kept += ["command"] if config.get("Cmd") else []
    ports = [
        f"{(hosts or [{}])[0].get('HostPort') or '?'}→{port}"
        for port, hosts in (host.get("PortBindings") or {}).items()
    ]
    kept += [f"ports {', '.join(sorted(ports))}"] if ports else []
    mounts = len(old.get("Mounts") or ())
    kept += [f"mounts ({mounts})"] if mounts else []
    networks = sorted((old.get("NetworkSettings") or {}).get("Networks") or {})
    kept += [f"networks {', '.join(networks)}"] if networks else []
    compose = sum(1 for key in labels if key.startswith("com.docker.compose."))
    kept += [f"labels ({len(labels)}{f', {compose} of Compose' if compose else ''})"] if labels else []
    kept.append(f"restart {restart}")
    kept += [f"memory {host['Memory'] / 2**20:g} MiB"] if host.get("Memory") else []
    kept += [f"cpus {host['NanoCpus'] / 1e9:g}"] if host.get("NanoCpus") else []
    kept += [f"{word} {config[key]}" for key, word in (("User", "user"), ("WorkingDir", "workdir")) if config.get(key)]
    return tuple(kept)


def _has_health_check(data: Mapping[str, Any]) -> bool:
    test = ((data.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def _why_not_up(engine: Engine, container_id: str, timeout: float) -> str:
    """ "" once the new container runs (and, with a health check, is healthy); else why not, in plain words."""
    started = time.monotonic()
    while True:
        with engine.errors(container_id[:12]):
            data = engine.api.inspect_container(container_id)
        state = data.get("State") or {}
        health = state.get("Health") or {}
        checked = _has_health_check(data)
        restarting = bool(state.get("Restarting") or data.get("RestartCount"))
        if state.get("Running") and not state.get("Restarting") and data.get("RestartCount"):
            # Started again by its restart policy: the exit code of the run that ended is no longer in its state.
            return "the new container exited at once, and its restart policy keeps restarting it"
        if restarting or state.get("Status") in ("exited", "dead"):
            error = f" ({state['Error']})" if state.get("Error") else ""
            again = ", and its restart policy keeps restarting it" if restarting else ""
            return f"the new container exited at once with code {state.get('ExitCode', '?')}{error}{again}"
        if health.get("Status") == "unhealthy":
            last = ((health.get("Log") or [{}])[-1].get("Output") or "").strip()[:200]
            return "the new container turned unhealthy" + (f": {last}" if last else "")
        elapsed = time.monotonic() - started
        if state.get("Running") and (health.get("Status") == "healthy" if checked else elapsed >= SETTLE_SECONDS):
            return ""
        if elapsed > timeout:
            return f"the new container was not {'healthy' if checked else 'running'} within {timeout:g} s"
        time.sleep(POLL_SECONDS)


def _pull(ctx: Context, reference: str) -> None:
    repository, tag, _ = split_image(reference)
    tracker = PullTracker(reference)
    with ctx.engine.errors(reference):
        for event in ctx.engine.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
            progress = tracker.feed(event)
            if progress is not None:
                ctx.report(progress)


def _unchanged(engine: Engine, target: str) -> tuple[dict, dict, ImageUpdate, bool]:
    """(the container, its image, what an update leaves it at before pulling, whether an update can go on)."""
    api = engine.api
    with engine.errors(target):
        old = api.inspect_container(target)
        old_image = api.inspect_image(old["Image"])
    name = old.get("Name", "").lstrip("/")
    reference = str((old.get("Config") or {}).get("Image", ""))
    old_digest, _ = _digests(old_image, reference)
    done = ImageUpdate(name, reference, NOT_UPDATED, old_digest, kept=kept_summary(old))
    cannot = _no_registry_reason(reference)
    if cannot:
        return old, old_image, _with(done, reason=cannot), False
    if not (old.get("State") or {}).get("Running"):
        why = "it is not running: start it first (an update waits for the new one to come up)"
        return old, old_image, _with(done, reason=why), False
    return old, old_image, done, True


def planned_update(engine: Engine, target: str) -> ImageUpdate:
    """What update-image would do to `target` now, from the registry's digest (a dry run: nothing is pulled):
    UPDATED when the registry holds another image, UP_TO_DATE when not, NOT_UPDATED with the reason it cannot."""
    _, old_image, done, can = _unchanged(engine, target)
    if not can:
        return done
    available = registry_digest(engine, done.image)
    _, every = _digests(old_image, done.image)
    return _with(done, outcome=UP_TO_DATE if available in every else UPDATED, new_digest=available)


def _update_one(ctx: Context, target: str) -> ImageUpdate:
    api = ctx.engine.api
    old, old_image, done, can = _unchanged(ctx.engine, target)
    if not can:
        return done
    reference = done.image
    _pull(ctx, reference)
    with ctx.engine.errors(reference):
        new_image = api.inspect_image(reference)
    new_digest, _ = _digests(new_image, reference)
    if new_image["Id"] == old["Image"]:
        return _with(done, outcome=UP_TO_DATE, new_digest=new_digest)
    why = _recreate(ctx, old, recreated_config(old, old_image, reference))
    if why:
        return _with(done, outcome=ROLLED_BACK, new_digest=new_digest, reason=why)
    return _with(done, outcome=UPDATED, new_digest=new_digest)


def _with(update: ImageUpdate, **changes: Any) -> ImageUpdate:
    return ImageUpdate(**{**update.__dict__, **changes})


def _recreate(ctx: Context, old: Mapping[str, Any], body: dict[str, Any]) -> str:
    """Swap the old container for a new one made from `body`: "" when the new one is up (the old one is then
    removed), else why not — with the old one back under its name and running."""
    engine, api = ctx.engine, ctx.engine.api
    old_id, name = old["Id"], old.get("Name", "").lstrip("/")
    aside = f"{name}-shipmate-old-{old_id[:12]}"
    with engine.errors(name):
        api.rename(old_id, aside)
    new_id = ""
    try:
        with engine.errors(name):
            api.stop(old_id, timeout=STOP_GRACE_SECONDS)
            new_id = api.create_container_from_config(body, name=name)["Id"]
            for network, endpoint in _networks(old)[1]:
                api.connect_container_to_network(
                    new_id,
                    network,
                    aliases=endpoint["Aliases"],
                    links=endpoint["Links"],
                    ipv4_address=(endpoint["IPAMConfig"] or {}).get("IPv4Address"),
                    ipv6_address=(endpoint["IPAMConfig"] or {}).get("IPv6Address"),
                    driver_opt=endpoint["DriverOpts"],
                )
            api.start(new_id)
        why = _why_not_up(engine, new_id, ctx.limits.update_seconds)
    except EngineUnreachable:
        raise
    except EngineError as error:
        why = str(error)
    if not why:
        with engine.errors(aside):
            api.remove_container(old_id, v=False)  # its anonymous volumes live on in the new container
        return ""
    with engine.errors(name):
        if new_id:
            api.remove_container(new_id, force=True, v=False)
        api.rename(old_id, name)
        api.start(old_id)
    return why


@execute.register
def _update_image(command: ContainerUpdateImage, ctx: Context) -> UpdateOutcomes:
    updates = []
    for target in command.containers:
        try:
            updates.append(_update_one(ctx, target))
        except EngineUnreachable:
            raise
        except EngineError as error:
            updates.append(ImageUpdate(target, "", NOT_UPDATED, reason=str(error)))
    return UpdateOutcomes(updates=tuple(updates))
