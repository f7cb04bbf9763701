"""docker container prune, image prune: always asked first in chat; Confirm runs the exact list that was shown."""

import re
from collections.abc import Callable

from bot.grammar.commands import ContainerPrune, ImagePrune
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, register
from bot.grammar.values import container_ref

MAX_PRUNED = 50  # per question: the Confirm button's value carries the list
_IMAGE_ID = re.compile(r"(?:sha256:)?[a-f0-9]{12,64}")


def _only(parsed: Parsed, check: Callable[[str], str]) -> tuple[str, ...]:
    if len(parsed.args) > MAX_PRUNED:
        raise ParseError(f"too many to prune at once ({len(parsed.args)}); at most {MAX_PRUNED}")
    return tuple(dict.fromkeys(check(arg) for arg in parsed.args))


def _image_id(value: str) -> str:
    if not _IMAGE_ID.fullmatch(value):
        raise ParseError(f"`{value}` is not an image id: `image prune` takes ids only, as its confirmation lists them")
    return value.removeprefix("sha256:")


def _containers(parsed: Parsed) -> ContainerPrune:
    return ContainerPrune(only=_only(parsed, container_ref))


def _images(parsed: Parsed) -> ImagePrune:
    return ImagePrune(only=_only(parsed, _image_id), all=parsed.flag("all"))


SPECS = register(
    CommandSpec(
        name="container prune",
        aliases=(),
        usage="[-f|--force] [CONTAINER…]",
        summary="remove stopped containers (only the ones named, if any); always asks first in chat",
        options=OptionParser((Flag(("-f", "--force")),)),
        build=_containers,
    ),
    CommandSpec(
        name="image prune",
        aliases=(),
        usage="[-a|--all] [-f|--force] [IMAGE_ID…]",
        summary="remove dangling images (-a: every image no container uses); always asks first in chat",
        options=OptionParser((Flag(("-a", "--all")), Flag(("-f", "--force")))),
        build=_images,
    ),
)
