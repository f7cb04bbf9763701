"""docker volume ls|inspect|rm|prune and docker network ls|inspect. Creating, connecting or removing networks and
creating volumes are refused by name (bot/grammar/__init__.py's `_REFUSED`)."""

import re

from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.prune import MAX_PRUNED
from bot.grammar.spec import CommandSpec, at_least_one, exactly, register
from bot.grammar.values import split_filter
from bot.grammar.volume_commands import (
    NetworkInspect,
    NetworkList,
    VolumeInspect,
    VolumeList,
    VolumePrune,
    VolumeRemove,
)

# What the engine accepts as a volume name (and a network's name or id is no wider in practice).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
VOLUME_FILTERS = {"dangling", "driver", "label", "name"}
NETWORK_FILTERS = {"driver", "id", "label", "name", "scope", "type"}
_FILTER = Flag(("-f", "--filter"), takes_value=True, repeat=True)


def _name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value) or len(value) > 255:
        raise ParseError(
            f"`{value}` is not a {what} name: letters, digits, `_`, `.` and `-`, starting with one of the first two"
        )
    return value


def _volume_filter(value: str) -> tuple[str, str]:
    key, content = split_filter(value, VOLUME_FILTERS, "dangling=true")
    if key == "dangling" and content not in ("true", "false", "1", "0"):
        raise ParseError(f"`dangling={content}` takes `true` or `false`")
    return key, {"1": "true", "0": "false"}.get(content, content)


def _no_arguments(parsed: Parsed) -> None:
    if parsed.args:
        raise ParseError(f"unexpected argument `{parsed.args[0]}`")


def _volume_list(parsed: Parsed) -> VolumeList:
    _no_arguments(parsed)
    return VolumeList(filters=tuple(_volume_filter(value) for value in parsed.many("filter")))


def _volume_inspect(parsed: Parsed) -> VolumeInspect:
    names = at_least_one(parsed.args, "VOLUME")
    return VolumeInspect(names=tuple(dict.fromkeys(_name(name, "volume") for name in names)))


def _volume_remove(parsed: Parsed) -> VolumeRemove:
    names = at_least_one(parsed.args, "VOLUME")
    return VolumeRemove(names=tuple(dict.fromkeys(_name(name, "volume") for name in names)))


def _volume_prune(parsed: Parsed) -> VolumePrune:
    if len(parsed.args) > MAX_PRUNED:
        raise ParseError(f"too many to prune at once ({len(parsed.args)}); at most {MAX_PRUNED}")
    only = tuple(dict.fromkeys(_name(name, "volume") for name in parsed.args))
    return VolumePrune(only=only, all=parsed.flag("all"))


def _network_list(parsed: Parsed) -> NetworkList:
    _no_arguments(parsed)
    filters = tuple(split_filter(value, NETWORK_FILTERS, "driver=bridge") for value in parsed.many("filter"))
    return NetworkList(filters=filters)


def _network_inspect(parsed: Parsed) -> NetworkInspect:
    (name,) = exactly(parsed.args, 1, "NETWORK")
    return NetworkInspect(name=_name(name, "network"))


SPECS = register(
    CommandSpec(
        name="volume ls",
        aliases=("volume list",),
        usage="[-f|--filter dangling=true|name=…|driver=…|label=…]…",
        summary="list volumes, with the space each takes",
        options=OptionParser((_FILTER,)),
        build=_volume_list,
    ),
    CommandSpec(
        name="volume inspect",
        aliases=(),
        usage="VOLUME…",
        summary="show volumes' details: driver, mountpoint, labels, options, the containers using them",
        options=OptionParser(()),
        build=_volume_inspect,
    ),
    CommandSpec(
        name="volume rm",
        aliases=("volume remove",),
        usage="VOLUME…",
        summary="remove volumes no container uses (their data is gone); always asks first in chat",
        options=OptionParser(()),
        build=_volume_remove,
    ),
    CommandSpec(
        name="volume prune",
        aliases=(),
        usage="[-a|--all] [-f|--force] [VOLUME…]",
        summary="remove unused anonymous volumes (-a: every unused volume); always asks first in chat",
        options=OptionParser((Flag(("-a", "--all")), Flag(("-f", "--force")))),
        build=_volume_prune,
    ),
    CommandSpec(
        name="network ls",
        aliases=("network list",),
        usage="[-f|--filter driver=…|name=…|scope=…|label=…]…",
        summary="list networks",
        options=OptionParser((_FILTER,)),
        build=_network_list,
    ),
    CommandSpec(
        name="network inspect",
        aliases=(),
        usage="NETWORK",
        summary="show a network's driver, scope, subnets, gateways and the containers attached",
        options=OptionParser(()),
        build=_network_inspect,
    ),
)
