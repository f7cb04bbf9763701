"""docker system df, info, version, events: the engine as a whole."""

import time

from bot.grammar.commands import SystemDiskUsage, SystemEvents, SystemInfo, SystemVersion
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, exactly, register
from bot.grammar.values import event_filter, past_time

DEFAULT_EVENTS_SINCE = "10m"


def _no_args(parsed: Parsed) -> None:
    exactly(parsed.args, 0, "")


def _df(parsed: Parsed) -> SystemDiskUsage:
    _no_args(parsed)
    return SystemDiskUsage(verbose=parsed.flag("verbose"))


def _info(parsed: Parsed) -> SystemInfo:
    _no_args(parsed)
    return SystemInfo()


def _version(parsed: Parsed) -> SystemVersion:
    _no_args(parsed)
    return SystemVersion()


def _events(parsed: Parsed) -> SystemEvents:
    _no_args(parsed)
    now = time.time()
    since = past_time(parsed.value("since") or DEFAULT_EVENTS_SINCE, "--since", now)
    until = parsed.value("until")
    filters = tuple(event_filter(value) for value in parsed.many("filter"))
    events = SystemEvents(since=since, filters=filters)
    if until is None:
        return events
    until_value = past_time(until, "--until", now)
    if _seconds_ago(until_value, now) > _seconds_ago(since, now):
        raise ParseError(f"`--until {until}` is before `--since`: nothing happened in between")
    return SystemEvents(since=since, until=until_value, filters=filters)


def _seconds_ago(value: str, now: float) -> float:
    return float(value[:-1]) if value.endswith("s") else now - float(value)


SPECS = register(
    CommandSpec(
        name="system df",
        aliases=(),
        usage="[-v|--verbose]",
        summary="disk used by images, containers, volumes and build cache, and how much is reclaimable",
        options=OptionParser((Flag(("-v", "--verbose")),)),
        build=_df,
    ),
    CommandSpec(
        name="system info",
        aliases=("info",),
        usage="",
        summary="the engine: version, OS, CPUs, memory, storage driver, containers, images, swarm",
        options=OptionParser(()),
        build=_info,
    ),
    CommandSpec(
        name="version",
        aliases=(),
        usage="",
        summary="the engine's version, API version and components",
        options=OptionParser(()),
        build=_version,
    ),
    CommandSpec(
        name="system events",
        aliases=("events",),
        usage="[--since TIME] [--until TIME] [-f|--filter KEY=VALUE]…",
        summary="past events (the last 10 minutes unless --since; at most 200)",
        options=OptionParser(
            (
                Flag(("--since",), takes_value=True),
                Flag(("--until",), takes_value=True),
                Flag(("-f", "--filter"), takes_value=True, repeat=True),
            )
        ),
        build=_events,
    ),
)
