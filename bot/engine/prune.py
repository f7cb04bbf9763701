"""container prune / image prune / volume prune: what would go (asked about first), and removing exactly that.

The plan is worked out the way docker prunes — stopped containers (created, exited, dead); dangling images, or with
`-a` every image no container uses; anonymous volumes no container uses, or with `-a` every unused volume — and,
when the command carries the list a confirmation showed, narrowed to it: something that became prunable after the
question is not swept up, and something listed that is in use now stays.
"""

from dataclasses import dataclass

from bot.engine.client import Engine
from bot.engine.convert import short_id
from bot.engine.execution import Context
from bot.engine.executors import execute, for_each
from bot.engine.system import volume_usage
from bot.grammar.commands import ContainerPrune, ImagePrune, Prune
from bot.grammar.prune import MAX_PRUNED
from bot.grammar.volume_commands import VolumePrune
from bot.results import Notice, Outcome, Outcomes

_STOPPED = ["created", "exited", "dead"]
# What the engine labels the volumes it makes for a container's anonymous mounts; docker 23 and later prune only
# those unless told `-a`.
ANONYMOUS_VOLUME = "com.docker.volume.anonymous"


@dataclass(frozen=True)
class PruneItem:
    id: str  # short id
    name: str
    size: int  # bytes: a container's writable layer; an image's own layers (in no other image) in a question
    state: str = ""


def _containers(engine: Engine) -> list[PruneItem]:
    with engine.errors("containers"):
        listing = engine.api.containers(all=True, size=True, filters={"status": _STOPPED})
    return [
        PruneItem(
            id=item["Id"][:12],
            name=(item.get("Names") or ["/"])[0].lstrip("/"),
            size=item.get("SizeRw") or 0,
            state=item.get("State", ""),
        )
        for item in listing
    ]


def _own_sizes(engine: Engine) -> dict[str, int]:
    """Each image's bytes in layers no other image has, as `docker system df -v` counts them (its image list
    reports no shared sizes before API 1.42)."""
    return {
        image["Id"]: max(image["Size"] - image["SharedSize"], 0)
        for image in engine.disk_usage().get("Images") or ()
        if image.get("Size", -1) >= 0 and image.get("SharedSize", -1) >= 0
    }


def _images(engine: Engine, every_unused: bool, own_sizes: bool) -> list[PruneItem]:
    with engine.errors("images"):
        if every_unused:
            images = engine.api.images()
            used = {item.get("ImageID") for item in engine.api.containers(all=True)}
            images = [image for image in images if image["Id"] not in used]
        else:
            images = engine.api.images(filters={"dangling": True})
        own = _own_sizes(engine) if own_sizes and images else {}
    return [
        PruneItem(
            id=short_id(image["Id"]),
            name=next((tag for tag in image.get("RepoTags") or () if tag != "<none>:<none>"), "<none>"),
            size=own.get(image["Id"], image.get("Size") or 0),
        )
        for image in images
    ]


def _volumes(engine: Engine, every_unused: bool, sizes: bool) -> list[PruneItem]:
    filters: dict[str, list[str]] = {"dangling": ["true"]}
    if not every_unused:
        filters["label"] = [ANONYMOUS_VOLUME]
    with engine.errors("volumes"):
        volumes = engine.api.volumes(filters=filters).get("Volumes") or ()
    usage = volume_usage(engine) if sizes and volumes else {}
    return [
        PruneItem(
            id=volume["Name"],
            name=volume["Name"],
            size=max(usage[volume["Name"]].size, 0) if volume["Name"] in usage else 0,
        )
        for volume in sorted(volumes, key=lambda volume: volume["Name"])
    ]


def _plan(engine: Engine, command: Prune, own_sizes: bool) -> tuple[PruneItem, ...]:
    if isinstance(command, ImagePrune):
        items = _images(engine, command.all, own_sizes)
    elif isinstance(command, VolumePrune):
        items = _volumes(engine, command.all, own_sizes)
    else:
        items = _containers(engine)
    if command.only:
        wanted = set(command.only)
        items = [item for item in items if item.id in wanted or item.name in wanted]
    return tuple(items[:MAX_PRUNED])


def prune_plan(engine: Engine, command: Prune) -> tuple[PruneItem, ...]:
    """What the command would remove now, with the space each frees: at most MAX_PRUNED items, only listed ones
    when it carries a list."""
    return _plan(engine, command, own_sizes=True)


def prunable_kind(command: Prune) -> str:
    if isinstance(command, ImagePrune):
        return "unused image" if command.all else "dangling image"
    if isinstance(command, VolumePrune):
        return "unused volume" if command.all else "unused anonymous volume"
    return "stopped container"


def nothing_to_prune(command: Prune) -> Notice:
    return Notice(f"Nothing to prune: no {prunable_kind(command)}s" + (" among those named" if command.only else ""))


def _shown(item: PruneItem) -> str:
    return item.name if item.name == item.id else f"{item.name} ({item.id})"  # a volume's name is its id


@execute.register
def _prune(command: Prune, ctx: Context) -> Outcomes | Notice:
    plan = {item.id: item for item in _plan(ctx.engine, command, own_sizes=False)}
    if not plan and not command.only:
        return nothing_to_prune(command)  # one line, not an empty list of what was removed
    if isinstance(command, ContainerPrune):

        def remove(target: str) -> None:
            ctx.engine.api.remove_container(target)  # never forced: one started since the question stays
    elif isinstance(command, VolumePrune):

        def remove(target: str) -> None:
            ctx.engine.api.remove_volume(target)  # never forced: one used since the question stays
    else:

        def remove(target: str) -> None:
            ctx.engine.api.remove_image(target)  # never forced: one used since the question stays

    done = for_each(tuple(plan), "removed", ctx, remove)
    gone = tuple(
        Outcome(ref, False, "no longer prunable (started, in use or gone since the question): left alone")
        for ref in command.only
        if ref not in plan and all(item.name != ref for item in plan.values())
    )
    named = tuple(Outcome(_shown(plan[o.target]), o.ok, o.detail) for o in done.outcomes)
    return Outcomes(verb="removed", outcomes=named + gone)
