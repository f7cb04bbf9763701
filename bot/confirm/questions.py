"""Which commands ask first, and what they ask: the summary, the exact list, and the command Confirm runs."""

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeGuard

from bot.engine.prune import PruneItem, nothing_to_prune, prunable_kind
from bot.engine.targets import ContainerFacts
from bot.grammar.commands import Command, ContainerRemove, ContainerStop, ImagePrune, ImageRemove, Prune
from bot.grammar.compose import ComposeRestart, ComposeStop
from bot.grammar.service_commands import ServiceRemove, ServiceScale, ServiceUpdate
from bot.grammar.updates import ContainerUpdateImage
from bot.grammar.volume_commands import VolumePrune, VolumeRemove
from bot.render.format import size
from bot.results import Notice


@dataclass(frozen=True)
class Pending:
    """What a confirmation asks, and the command Confirm runs."""

    summary: str
    details: tuple[str, ...]
    text: str  # for /docker, e.g. "rm -f web1"


def _to_zero(command: ServiceScale) -> tuple[str, ...]:
    """The services a scale stops entirely."""
    return tuple(name for name, count in command.scales if count == 0)


def _update_text(command: ServiceUpdate) -> str:
    """The update as a /docker line that parses back to the same command (what Confirm runs)."""
    words = ["service", "update"]
    if command.image:
        words += ["--image", command.image]
    for key, value in command.env_add:
        words += ["--env-add", f"{key}={value}"]
    for key in command.env_rm:
        words += ["--env-rm", key]
    if command.replicas is not None:
        words += ["--replicas", str(command.replicas)]
    if command.force:
        words.append("--force")
    return shlex.join([*words, command.service])


def wants_targets(command: Command) -> bool:
    """Whether deciding on a confirmation needs the target containers' state (one engine call): a command on
    containers that may ask says what state they are in."""
    return command.asks_first and bool(command.targets())


def wants_plan(command: Command) -> TypeGuard[Prune]:
    """Whether the confirmation lists what the command would remove (prune: one or two engine calls)."""
    return isinstance(command, Prune)


def _prune_question(command: Prune, plan: tuple[PruneItem, ...]) -> Pending | Notice:
    """The exact list, with sizes and the space it frees; Confirm runs a prune of those ids and no others."""
    if not plan:
        return nothing_to_prune(command)
    if isinstance(command, ImagePrune):
        words = ["image", "prune", *(["-a"] if command.all else [])]
        about = "about "  # each image's own layers: those shared only among the pruned ones are freed too
    elif isinstance(command, VolumePrune):
        words, about = ["volume", "prune", *(["-a"] if command.all else [])], ""
    else:
        words, about = ["container", "prune"], ""  # their writable layers, exactly
    details = tuple(
        f"`{item.id}`{'' if item.name == item.id else ' ' + item.name}"  # a volume's name is its id
        f" ({', '.join([*([item.state] if item.state else []), size(item.size)])})"
        for item in plan
    )
    kind = prunable_kind(command)
    freed = size(sum(item.size for item in plan))
    summary = f"remove {len(plan)} {kind}{'s' * (len(plan) != 1)}, freeing {about}{freed}"
    return Pending(summary, details, shlex.join([*words, *(item.id for item in plan)]))


def _names(refs: tuple[str, ...]) -> str:
    return ", ".join(f"`{ref}`" for ref in refs)


def _detail(ref: str, facts: ContainerFacts | None) -> str:
    if facts is None:
        return f"`{ref}`: no such container"
    whose = f"started by {facts.owner}" if facts.owner else "not started through Shipmate"
    return f"`{ref}`: {facts.state or 'unknown'}, {whose}"


def confirmation_for(
    command: Command,
    targets: Mapping[str, ContainerFacts | None] | None,
    plan: tuple[PruneItem, ...] | None = None,
) -> Pending | Notice | None:
    """The confirmation a command needs before it runs, or None when it can run at once (a Notice when a prune
    finds nothing: there is nothing to ask about, and nothing is done).

    `rm` of a running container, `rm -f`, `image rm`, `volume rm`, `stop` of several containers, every prune,
    `service rm`, `compose restart`, `compose stop` and scaling a service to 0 (by `service scale` or
    `service update --replicas 0`) need one.
    Confirming a plain `rm` of a running container removes it anyway (as `rm -f`): that is what the person asked for.
    """
    if not command.asks_first:
        return None
    if isinstance(command, Prune):
        return _prune_question(command, plan or ())
    if isinstance(command, ImageRemove):
        forced = " (forced: even if containers use it)" if command.force else ""
        what = "image" if len(command.image_refs) == 1 else f"{len(command.image_refs)} images:"
        text = shlex.join(["image", "rm", *(["-f"] if command.force else []), *command.image_refs])
        return Pending(f"remove {what} {_names(command.image_refs)}{forced}", (), text)
    if isinstance(command, VolumeRemove):
        # bot/confirm/clicks.py refuses first a volume in use, naming the containers: this asks about free ones.
        what = "volume" if len(command.names) == 1 else f"{len(command.names)} volumes:"
        text = shlex.join(["volume", "rm", *command.names])
        return Pending(f"remove {what} {_names(command.names)} and the data in it for good", (), text)
    if isinstance(command, ServiceRemove):
        what = "service" if len(command.names) == 1 else f"{len(command.names)} services:"
        text = shlex.join(["service", "rm", *command.names])
        return Pending(f"remove {what} {_names(command.names)} (every task of it stops)", (), text)
    if isinstance(command, ServiceScale) and _to_zero(command):
        text = shlex.join(["service", "scale", *(f"{name}={count}" for name, count in command.scales)])
        return Pending(f"scale {_names(_to_zero(command))} to 0: every task of it stops", (), text)
    if isinstance(command, ServiceUpdate) and command.replicas == 0:
        return Pending(
            f"update {_names((command.service,))} to 0 replicas: every task of it stops", (), _update_text(command)
        )
    if isinstance(command, ComposeRestart | ComposeStop):
        order = "in dependency order" if isinstance(command, ComposeRestart) else "dependents first"
        text = shlex.join(["compose", command.verb, command.project, *command.services])
        return Pending(f"{command.verb} {command.what}: one container at a time, {order}", (), text)
    found = targets or {}
    details = tuple(_detail(ref, found.get(ref)) for ref in command.targets()) if len(command.targets()) > 1 else ()
    if isinstance(command, ContainerRemove):
        existing = [ref for ref in command.containers if found.get(ref)]
        running = [ref for ref in existing if (facts := found.get(ref)) and facts.running]
        if not existing or not (command.force or running):
            return None  # nothing to remove, or nothing running without -f: docker answers for itself
        text = shlex.join(["rm", "-f", *command.containers])
        if len(command.containers) == 1:
            ref = command.containers[0]
            state = ", which is running: it will be stopped first" if running else ""
            return Pending(f"remove container `{ref}`{state}", (), text)
        stopped = f", {len(running)} of them running (stopped first)" if running else ""
        return Pending(f"remove {len(command.containers)} containers{stopped}", details, text)
    if isinstance(command, ContainerUpdateImage):
        text = shlex.join(["update-image", *command.containers])
        what = "container" if len(command.containers) == 1 else f"{len(command.containers)} containers:"
        summary = f"pull a newer image for {what} {_names(command.containers)} and recreate it with the same config"
        return Pending(summary + " (the old one comes back if the new one fails)", details, text)
    if isinstance(command, ContainerStop) and len(command.containers) > 1:
        text = shlex.join(["stop", *command.containers])
        return Pending(f"stop {len(command.containers)} containers: {_names(command.containers)}", details, text)
    return None
