"""docker container …: ls/ps, rm, inspect, logs, start, stop, restart."""

import re

from bot.grammar.commands import (
    ContainerFollow,
    ContainerInspect,
    ContainerLifecycle,
    ContainerList,
    ContainerLogs,
    ContainerRemove,
    ContainerRestart,
    ContainerStart,
    ContainerStop,
    StopFollowing,
)
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, at_least_one, exactly, register
from bot.grammar.values import container_ref, duration_seconds, ps_filter, tail_lines

MAX_TARGETS = 20


def _targets(parsed: Parsed) -> tuple[str, ...]:
    names = at_least_one(parsed.args, "CONTAINER")
    if len(names) > MAX_TARGETS:
        raise ParseError(f"too many containers ({len(names)}); name at most {MAX_TARGETS} at a time")
    return tuple(dict.fromkeys(container_ref(name) for name in names))


def _list(parsed: Parsed) -> ContainerList:
    if parsed.args:
        raise ParseError(f"unexpected argument `{parsed.args[0]}`")
    filters = tuple(ps_filter(value) for value in parsed.many("filter"))
    return ContainerList(all=parsed.flag("all"), filters=filters)


def _remove(parsed: Parsed) -> ContainerRemove:
    return ContainerRemove(containers=_targets(parsed), force=parsed.flag("force"))


def _inspect(parsed: Parsed) -> ContainerInspect:
    (name,) = exactly(parsed.args, 1, "CONTAINER")
    return ContainerInspect(container=container_ref(name))


FOLLOW_TAIL = 10
_FOLLOW_ID = re.compile(r"[0-9a-f]{16}")


def _logs(parsed: Parsed) -> ContainerLogs | ContainerFollow:
    (name,) = exactly(parsed.args, 1, "CONTAINER")
    tail = parsed.value("tail")
    since = parsed.value("since")
    if parsed.flag("follow"):
        return ContainerFollow(
            container=container_ref(name),
            tail=FOLLOW_TAIL if tail is None else tail_lines(tail),
            since_seconds=None if since is None else duration_seconds(since),
        )
    return ContainerLogs(
        container=container_ref(name),
        tail=100 if tail is None else tail_lines(tail),
        since_seconds=None if since is None else duration_seconds(since),
    )


def _unfollow(parsed: Parsed) -> StopFollowing:
    (follow_id,) = exactly(parsed.args, 1, "FOLLOW_ID")
    if not _FOLLOW_ID.fullmatch(follow_id):
        raise ParseError(f"`{follow_id}` is not a follow id: it is on the message of the `logs -f` to stop")
    return StopFollowing(follow_id=follow_id)


def _lifecycle(kind: type[ContainerLifecycle]) -> CommandSpec:
    return CommandSpec(
        name=f"container {kind.verb}",
        aliases=(kind.verb,),
        usage="CONTAINER…",
        summary=f"{kind.verb} containers",
        options=OptionParser(()),
        build=lambda parsed: kind(containers=_targets(parsed)),
    )


SPECS = register(
    CommandSpec(
        name="container ls",
        aliases=("ps", "container ps", "container list"),
        usage="[-a|--all] [-f|--filter KEY=VALUE]…",
        summary="list containers (running only, unless -a)",
        options=OptionParser((Flag(("-a", "--all")), Flag(("-f", "--filter"), takes_value=True, repeat=True))),
        build=_list,
    ),
    CommandSpec(
        name="container rm",
        aliases=("rm", "container remove"),
        usage="[-f|--force] CONTAINER…",
        summary="remove containers (-f stops running ones first)",
        options=OptionParser((Flag(("-f", "--force")),)),
        build=_remove,
    ),
    CommandSpec(
        name="container inspect",
        aliases=(),
        usage="CONTAINER",
        summary="show a container's state, Cmd, Env, ports, health",
        options=OptionParser(()),
        build=_inspect,
    ),
    CommandSpec(
        name="container logs",
        aliases=("logs",),
        usage="[-f|--follow] [--tail N] [--since DURATION] CONTAINER",
        summary="show a container's output (last 100 lines unless --tail); -f follows it in one growing message",
        options=OptionParser(
            (
                Flag(("-n", "--tail"), takes_value=True),
                Flag(("--since",), takes_value=True),
                Flag(("-f", "--follow")),
            )
        ),
        build=_logs,
    ),
    CommandSpec(
        name="unfollow",
        aliases=(),
        usage="FOLLOW_ID",
        summary="stop a `logs -f` (what its Stop following button runs)",
        options=OptionParser(()),
        build=_unfollow,
    ),
    _lifecycle(ContainerStart),
    _lifecycle(ContainerStop),
    _lifecycle(ContainerRestart),
)
