"""docker image …: ls, inspect, history, pull, rm."""

from dataclasses import dataclass
from typing import ClassVar

from bot.grammar.commands import Command, DefaultRole, ImageInspect, ImageList, ImagePull, ImageRemove
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, at_least_one, exactly, register
from bot.grammar.values import image_ref, split_image


def _list(parsed: Parsed) -> ImageList:
    if len(parsed.args) > 1:
        raise ParseError(f"unexpected argument `{parsed.args[1]}`")
    return ImageList(reference=image_ref(parsed.args[0]) if parsed.args else None)


def _inspect(parsed: Parsed) -> ImageInspect:
    (image,) = exactly(parsed.args, 1, "IMAGE")
    return ImageInspect(image=image_ref(image))


@dataclass(frozen=True)
class ImageHistory(Command):
    """`image history`: the image's layers and the build steps that made them (a read, like inspect)."""

    image: str
    full: bool = False  # --no-trunc
    action: ClassVar[str] = "image.inspect"
    default_role: ClassVar[DefaultRole] = DefaultRole.VIEWER


def _history(parsed: Parsed) -> ImageHistory:
    (image,) = exactly(parsed.args, 1, "IMAGE")
    return ImageHistory(image=image_ref(image), full=parsed.flag("no_trunc"))


def pull_of(image: str) -> ImagePull:
    """What pulling `image` means: its tag (latest by default), or exactly its digest when it has one."""
    repository, tag, digest = split_image(image)
    return ImagePull(repository=repository, tag=tag or ("" if digest else "latest"), digest=digest)


def _pull(parsed: Parsed) -> ImagePull:
    (image,) = exactly(parsed.args, 1, "IMAGE")
    return pull_of(image)


def _remove(parsed: Parsed) -> ImageRemove:
    images = at_least_one(parsed.args, "IMAGE")
    return ImageRemove(image_refs=tuple(image_ref(image) for image in images), force=parsed.flag("force"))


SPECS = register(
    CommandSpec(
        name="image ls",
        aliases=("images", "image list"),
        usage="[REPOSITORY[:TAG]]",
        summary="list images",
        options=OptionParser(()),
        build=_list,
    ),
    CommandSpec(
        name="image inspect",
        aliases=(),
        usage="IMAGE",
        summary="show an image's details: Env, Cmd, ports, labels",
        options=OptionParser(()),
        build=_inspect,
    ),
    CommandSpec(
        name="image history",
        aliases=("history",),
        usage="[--no-trunc] IMAGE",
        summary="show how an image was built: its layers, the steps that made them, their sizes",
        options=OptionParser((Flag(("--no-trunc",)),)),
        build=_history,
    ),
    CommandSpec(
        name="image pull",
        aliases=("pull",),
        usage="IMAGE[:TAG]",
        summary="pull an image (tag defaults to latest)",
        options=OptionParser(()),
        build=_pull,
    ),
    CommandSpec(
        name="image rm",
        aliases=("rmi", "image remove"),
        usage="[-f|--force] IMAGE…",
        summary="remove images",
        options=OptionParser((Flag(("-f", "--force")),)),
        build=_remove,
    ),
)
