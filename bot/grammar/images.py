"""docker image …: ls, inspect, pull, rm."""

from bot.grammar.commands import ImageInspect, ImageList, ImagePull, ImageRemove
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
