"""`--dry-run`: what a change would do, worked out with reads only (GET and HEAD: the Engine API calls that change
nothing), in docker-CLI terms. One `foresee` per command family, as `execute` has one executor per command.

`known` is what authorization already looked up (container name -> facts): those targets are not asked again.
"""

import copy
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import singledispatch

import docker.errors

from bot.engine.client import Engine
from bot.engine.compose import ordered_containers
from bot.engine.containers import STOP_GRACE_SECONDS
from bot.engine.converge import updated_by
from bot.engine.errors import EngineError
from bot.engine.execution import Context
from bot.engine.swarm import replicas_of
from bot.engine.targets import ContainerFacts, find_containers
from bot.engine.updates import planned_update, registry_digest
from bot.engine.volumes import volume_users
from bot.grammar.commands import (
    Command,
    ContainerExec,
    ContainerRemove,
    ContainerRestart,
    ContainerRun,
    ContainerStart,
    ContainerStop,
    ImagePull,
    ImageRemove,
)
from bot.grammar.compose import ComposeLifecycle, ComposeStop
from bot.grammar.service_commands import (
    ServiceCommand,
    ServiceCreate,
    ServiceRemove,
    ServiceRollback,
    ServiceScale,
    ServiceUpdate,
)
from bot.grammar.updates import ContainerUpdateImage
from bot.grammar.volume_commands import VolumeRemove
from bot.results import UP_TO_DATE, UPDATED, PreviewTarget
from bot.secrets import masked

Known = Mapping[str, ContainerFacts | None] | None
Change = tuple[str, str]  # (what, how): ("image", "nginx:1.27 — present locally, sha256:…")
NOT_FOUND = "no such container: docker would say so"


@dataclass(frozen=True)
class Foreseen:
    """The targets as the engine knows them now, and what the command would create or change."""

    targets: tuple[PreviewTarget, ...] = ()
    changes: tuple[Change, ...] = ()


@singledispatch
def foresee(command: Command, ctx: Context, known: Known = None) -> Foreseen:
    raise TypeError(f"no preview for {type(command).__name__}")  # tests/test_dry_run.py: every change has one


def _containers(engine: Engine, refs: tuple[str, ...], known: Known) -> tuple[PreviewTarget, ...]:
    """Each named container as authorization found it, else as one listing finds it now."""
    found = known if known is not None and all(ref in known for ref in refs) else find_containers(engine, refs)
    return tuple(
        PreviewTarget(ref, facts.id, facts.state) if facts else PreviewTarget(ref, "", NOT_FOUND)
        for ref in refs
        for facts in (found.get(ref),)
    )


def _each(targets: tuple[PreviewTarget, ...], what: str, how: dict[bool, str]) -> tuple[Change, ...]:
    """One line per target: `how[running]` for those found, docker's own answer for those not."""
    return tuple(
        (f"{what} {target.name}", how[target.state in ("running", "restarting", "paused")] if target.id else NOT_FOUND)
        for target in targets
    )


@foresee.register
def _remove(command: ContainerRemove, ctx: Context, known: Known = None) -> Foreseen:
    targets = _containers(ctx.engine, command.containers, known)
    running = "stopped (SIGKILL), then removed" + ("" if command.force else " — after you confirm, as `rm -f`")
    return Foreseen(targets, _each(targets, "rm -f" if command.force else "rm", {True: running, False: "removed"}))


@foresee.register
def _start(command: ContainerStart, ctx: Context, known: Known = None) -> Foreseen:
    targets = _containers(ctx.engine, command.containers, known)
    return Foreseen(targets, _each(targets, "start", {True: "already running: nothing changes", False: "started"}))


@foresee.register
def _stop(command: ContainerStop, ctx: Context, known: Known = None) -> Foreseen:
    targets = _containers(ctx.engine, command.containers, known)
    stopped = f"stopped (SIGTERM, then SIGKILL after {STOP_GRACE_SECONDS} s)"
    return Foreseen(targets, _each(targets, "stop", {True: stopped, False: "not running: nothing changes"}))


@foresee.register
def _restart(command: ContainerRestart, ctx: Context, known: Known = None) -> Foreseen:
    targets = _containers(ctx.engine, command.containers, known)
    restarted = f"restarted (stopped within {STOP_GRACE_SECONDS} s, then started)"
    return Foreseen(targets, _each(targets, "restart", {True: restarted, False: "started (it is not running)"}))


@foresee.register
def _exec(command: ContainerExec, ctx: Context, known: Known = None) -> Foreseen:
    targets = _containers(ctx.engine, (command.container,), known)
    line = f"`{shlex.join(command.argv)}` would run in it, as typed (no shell)"
    return Foreseen(targets, _each(targets, "exec in", {True: line, False: "not running: docker would refuse"}))


def _local_image(engine: Engine, reference: str) -> dict | None:
    """The image as the engine has it (GET /images/{name}/json), or None when it has none by that name."""
    with engine.errors(reference):
        try:
            return engine.api.inspect_image(reference)
        except docker.errors.NotFound:
            return None


def _image_line(engine: Engine, reference: str) -> str:
    """Which image content a run or pull would use: the local one's digest, else the registry's (a GET to the
    registry's distribution endpoint through the engine: nothing is pulled)."""
    local = _local_image(engine, reference)
    if local is not None:
        digests = [item.partition("@")[2] for item in local.get("RepoDigests") or ()]
        return f"{reference} — present locally: {digests[0] if digests else local['Id']}"
    try:
        return f"{reference} — pulled first: the registry serves {registry_digest(engine, reference)}"
    except EngineError as error:
        return f"{reference} — pulled first; the registry did not say which digest ({error})"


def _env(pairs: tuple[tuple[str, str], ...]) -> tuple[Change, ...]:
    return (("env", ", ".join(f"{key}={masked(key, value)}" for key, value in pairs)),) if pairs else ()


def _limits_and_labels(ctx: Context) -> tuple[Change, ...]:
    """What Shipmate adds to everything it creates: the policy's limits and who asked (the `:own` labels)."""
    limits = ctx.limits
    added = [("--memory", limits.memory)] if limits.memory else []
    added += [("--cpus", f"{limits.cpus:g}")] if limits.cpus else []
    added.append(("--label", ", ".join(f"{key}={value}" for key, value in ctx.labels.items() if value)))
    return tuple(added)


@foresee.register
def _run(command: ContainerRun, ctx: Context, known: Known = None) -> Foreseen:
    engine = ctx.engine
    targets: tuple[PreviewTarget, ...] = ()
    if command.name:
        taken = find_containers(engine, (command.name,)).get(command.name)
        if taken is not None and command.name in taken.names:
            targets = (PreviewTarget(command.name, taken.id, f"{taken.state}: the name is taken, docker would refuse"),)
    mode = (
        "-d: detached" if command.detach else f"foreground: its output is awaited up to {ctx.limits.wait_seconds:g} s"
    )
    changes = [
        ("create", f"container {command.name or '(a name docker picks)'}"),
        ("image", _image_line(engine, command.image)),
        *((("command", shlex.join(command.command)),) if command.command else ()),
        *_env(command.env),
        *((("-p", ", ".join(str(port) for port in command.ports)),) if command.ports else ()),
        ("mode", mode + (", --rm: removed when it exits" if command.remove else "")),
        *_limits_and_labels(ctx),
    ]
    return Foreseen(targets, tuple(changes))


@foresee.register
def _pull(command: ImagePull, ctx: Context, known: Known = None) -> Foreseen:
    engine = ctx.engine
    local = _local_image(engine, command.pulled)
    have = [item.partition("@")[2] for item in (local or {}).get("RepoDigests") or ()]
    try:
        serves = registry_digest(engine, command.pulled)
    except EngineError as error:
        return Foreseen((), (("pull", f"{command.pulled}: the registry did not answer ({error})"),))
    if serves in have:
        return Foreseen((), (("pull", f"{command.pulled}: already present as {serves}: nothing new"),))
    before = f" (replacing {have[0]} here)" if have else " (not present here yet)"
    return Foreseen((), (("pull", f"{command.pulled}: {serves}{before}"),))


@foresee.register
def _image_remove(command: ImageRemove, ctx: Context, known: Known = None) -> Foreseen:
    engine = ctx.engine
    targets, changes = [], []
    for ref in command.image_refs:
        image = _local_image(engine, ref)
        if image is None:
            targets.append(PreviewTarget(ref, "", "no such image: docker would say so"))
            continue
        with engine.errors(ref):
            users = engine.api.containers(all=True, filters={"ancestor": image["Id"]})
        used = f"used by {len(users)} container{'s' * (len(users) != 1)}" if users else "used by no container"
        targets.append(PreviewTarget(ref, image["Id"], ", ".join([*(image.get("RepoTags") or ["untagged"]), used])))
        if users and not command.force:
            changes.append((f"image rm {ref}", "refused by docker: containers use it (-f removes it anyway)"))
        else:
            changes.append((f"image rm {ref}", "untagged; the image goes once no other tag names it"))
    return Foreseen(tuple(targets), tuple(changes))


def _service(engine: Engine, ref: str) -> dict | None:
    with engine.errors(ref):
        try:
            return engine.api.inspect_service(ref)
        except docker.errors.NotFound:
            return None


def _service_target(ref: str, service: dict | None) -> PreviewTarget:
    if service is None:
        return PreviewTarget(ref, "", "no such service: docker would say so")
    replicas = replicas_of(service["Spec"])
    return PreviewTarget(ref, service["ID"], "global" if replicas is None else f"{replicas} replicas")


@foresee.register
def _service_default(command: ServiceCommand, ctx: Context, known: Known = None) -> Foreseen:
    return Foreseen(tuple(_service_target(ref, _service(ctx.engine, ref)) for ref in command.services()))


def _template_of(spec: Mapping) -> Mapping:
    return spec.get("TaskTemplate") or {}


def _container_of(spec: Mapping) -> Mapping:
    return _template_of(spec).get("ContainerSpec") or {}


def _spec_changes(before: Mapping, after: Mapping) -> tuple[Change, ...]:
    """The fields of a service spec that differ, old → new (env values masked)."""
    template_of, container_of = _template_of, _container_of
    changes: list[Change] = []
    old_image, new_image = container_of(before).get("Image", ""), container_of(after).get("Image", "")
    if old_image != new_image:
        changes.append(("--image", f"{old_image} → {new_image}"))
    old_env = dict(item.partition("=")[::2] for item in container_of(before).get("Env") or ())
    new_env = dict(item.partition("=")[::2] for item in container_of(after).get("Env") or ())
    for key in sorted(old_env.keys() | new_env.keys()):
        if old_env.get(key) != new_env.get(key):
            old = masked(key, old_env[key]) if key in old_env else "(unset)"
            new = masked(key, new_env[key]) if key in new_env else "(unset)"
            changes.append((f"env {key}", f"{old} → {new}"))
    if replicas_of(before) != replicas_of(after):
        changes.append(("--replicas", f"{replicas_of(before)} → {replicas_of(after)}"))
    old_force, new_force = template_of(before).get("ForceUpdate", 0), template_of(after).get("ForceUpdate", 0)
    if old_force != new_force:
        changes.append(("--force", f"every task replaced (ForceUpdate {old_force} → {new_force})"))
    return tuple(changes) or (("spec", "nothing would change"),)


@foresee.register
def _service_update(command: ServiceUpdate, ctx: Context, known: Known = None) -> Foreseen:
    service = _service(ctx.engine, command.service)
    target = _service_target(command.service, service)
    if service is None:
        return Foreseen((target,))
    after = copy.deepcopy(service["Spec"])
    updated_by(command)(after)  # the very edit the update makes, on a copy
    return Foreseen((target,), _spec_changes(service["Spec"], after))


@foresee.register
def _service_scale(command: ServiceScale, ctx: Context, known: Known = None) -> Foreseen:
    targets, changes = [], []
    for name, count in command.scales:
        service = _service(ctx.engine, name)
        targets.append(_service_target(name, service))
        if service is None:
            continue
        before = replicas_of(service["Spec"])
        if before is None:
            changes.append((f"scale {name}", "a global service runs one task per node: docker would refuse"))
        else:
            changes.append((f"scale {name}", f"{before} → {count} replicas"))
    return Foreseen(tuple(targets), tuple(changes))


@foresee.register
def _service_rollback(command: ServiceRollback, ctx: Context, known: Known = None) -> Foreseen:
    service = _service(ctx.engine, command.service)
    target = _service_target(command.service, service)
    if service is None:
        return Foreseen((target,))
    if not service.get("PreviousSpec"):
        return Foreseen((target,), (("rollback", "no previous spec to roll back to: docker would refuse"),))
    return Foreseen((target,), _spec_changes(service["Spec"], service["PreviousSpec"]))


@foresee.register
def _service_remove(command: ServiceRemove, ctx: Context, known: Known = None) -> Foreseen:
    targets = tuple(_service_target(ref, _service(ctx.engine, ref)) for ref in command.names)
    return Foreseen(targets, tuple((f"service rm {t.name}", "removed: every task stops") for t in targets if t.id))


@foresee.register
def _service_create(command: ServiceCreate, ctx: Context, known: Known = None) -> Foreseen:
    labels = ", ".join(f"{key}={value}" for key, value in command.labels)
    changes = [
        ("create", f"service {command.name or '(a name docker picks)'}, replicas {command.replicas}"),
        ("image", _image_line(ctx.engine, command.image)),
        *((("command", shlex.join(command.command)),) if command.command else ()),
        *_env(command.env),
        *((("-p", ", ".join(str(port) for port in command.ports) + " (mode=host)"),) if command.ports else ()),
        *((("labels", labels),) if labels else ()),
        *_limits_and_labels(ctx),
    ]
    return Foreseen((), tuple(changes))


@foresee.register
def _update_image(command: ContainerUpdateImage, ctx: Context, known: Known = None) -> Foreseen:
    targets = _containers(ctx.engine, command.containers, known)
    changes = []
    for target in targets:
        if not target.id:
            continue
        update = planned_update(ctx.engine, target.id)
        if update.outcome == UPDATED:
            said = f"recreated on {update.image} {update.old_digest} → {update.new_digest}"
        elif update.outcome == UP_TO_DATE:
            said = f"{update.image} is up to date ({update.new_digest}): nothing changes"
        else:
            said = f"not updated: {update.reason}"
        changes.append((f"update-image {target.name}", said))
        if update.outcome == UPDATED and update.kept:
            changes.append(("keeps", ", ".join(update.kept)))
    return Foreseen(targets, tuple(changes))


@foresee.register
def _volume_remove(command: VolumeRemove, ctx: Context, known: Known = None) -> Foreseen:
    engine, targets = ctx.engine, []
    users = volume_users(engine, command.names)
    for name in command.names:
        with engine.errors(name):
            try:
                volume = engine.api.inspect_volume(name)
            except docker.errors.NotFound:
                targets.append(PreviewTarget(name, "", "no such volume: docker would say so"))
                continue
        using = users.get(name) or ()
        state = f"used by {', '.join(using)}: refused" if using else "used by no container"
        targets.append(PreviewTarget(name, volume["Name"], f"{volume.get('Driver', 'local')} volume, {state}"))
    gone = tuple((f"volume rm {t.name}", "removed with the data in it") for t in targets if t.id)
    return Foreseen(tuple(targets), gone)


@foresee.register
def _compose(command: ComposeLifecycle, ctx: Context, known: Known = None) -> Foreseen:
    ordered = ordered_containers(ctx, command.project, command.services, reverse=isinstance(command, ComposeStop))
    targets = tuple(
        PreviewTarget((item.get("Names") or ["/" + item["Id"][:12]])[0].lstrip("/"), item["Id"], item.get("State", ""))
        for item in ordered
    )
    order = "dependents first" if isinstance(command, ComposeStop) else "in dependency order"
    return Foreseen(targets, ((f"compose {command.verb}", f"{len(targets)} containers, one at a time, {order}"),))
