"""docker updates / update-image: whether the registry holds a newer image for what runs, and rolling it out.

Docker has no such commands (Watchtower did this); the spellings follow docker's style: `updates` reads,
`update-image CONTAINER…` pulls the container's own image reference again and recreates it.
"""

from dataclasses import dataclass, replace
from typing import ClassVar, Self

from bot.grammar.commands import Command, DefaultRole
from bot.grammar.containers import MAX_TARGETS
from bot.grammar.errors import ParseError
from bot.grammar.options import OptionParser, Parsed
from bot.grammar.spec import CommandSpec, at_least_one, register
from bot.grammar.values import container_ref


@dataclass(frozen=True)
class ImageUpdates(Command):
    """For every running container: its image's digest against the registry's for the same reference."""

    action: ClassVar[str] = "image.updates"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER  # not `slow`: it fans out, and answers are cached


@dataclass(frozen=True)
class ContainerUpdateImage(Command):
    """Pull each container's image reference again and recreate the container on it, config kept; rolled back
    when the new one does not come up. The image comes from the container, not the text: the authorizer checks it
    against the allowlist, and what the kept config holds, from the container itself."""

    containers: tuple[str, ...] = ()
    action: ClassVar[str] = "container.update"
    changes: ClassVar[bool] = True
    ownable: ClassVar[bool] = True
    default_role: ClassVar[DefaultRole] = DefaultRole.OPERATOR_OWN
    fans_out: ClassVar[bool] = False

    @property
    def asks_first(self) -> bool:
        return True

    @property
    def slow(self) -> bool:
        return True

    @property
    def pending(self) -> str:
        return f"⏳ updating the image of {', '.join(self.containers)}…"

    def targets(self) -> tuple[str, ...]:
        return self.containers

    def with_targets(self, targets: tuple[str, ...]) -> Self:
        return replace(self, containers=targets)


def _updates(parsed: Parsed) -> ImageUpdates:
    if parsed.args:
        raise ParseError(f"unexpected argument `{parsed.args[0]}`")
    return ImageUpdates()


def _update_image(parsed: Parsed) -> ContainerUpdateImage:
    names = at_least_one(parsed.args, "CONTAINER")
    if len(names) > MAX_TARGETS:
        raise ParseError(f"too many containers ({len(names)}); name at most {MAX_TARGETS} at a time")
    containers = tuple(dict.fromkeys(container_ref(name) for name in names))
    return ContainerUpdateImage(containers=containers)


SPECS = register(
    CommandSpec(
        name="updates",
        aliases=("image updates",),
        usage="",
        summary="which running containers' registries hold a newer image for the same reference",
        options=OptionParser(()),
        build=_updates,
    ),
    CommandSpec(
        name="update-image",
        aliases=("container update-image",),
        usage="[--dry-run] CONTAINER…",
        summary="pull a container's image again and recreate it with the same config (rolled back if it fails)",
        options=OptionParser(()),
        build=_update_image,
    ),
)
