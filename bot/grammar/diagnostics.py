"""docker container stats, top, port, diff: what on-call engineers ask a running container first."""

import re

from bot.grammar.commands import ContainerDiff, ContainerExec, ContainerPort, ContainerStats, ContainerTop
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, exactly, register
from bot.grammar.values import container_ref

MAX_STATS_TARGETS = 50
MAX_PS_WORDS = 6
# `ps` runs on the engine's host with these words, so only a fixed set is passed on: flags that choose processes
# and layouts, and columns to show. Nothing that prints a process's environment (BSD `e`, the environment after
# the command, where DB_PASSWORD=… lives), nothing that takes a free argument, nothing a shell would read.
_PS_BSD_FLAGS = frozenset("afjlmrsuvwxHS")  # `ps aux`
_PS_UNIX_FLAGS = frozenset("AadefFHjlLTwy")  # `ps -ef`; here `-e` means every process
_PS_LONG_FLAGS = frozenset({"--forest"})
_PS_COLUMN_OPTIONS = frozenset({"-o", "o", "-O", "O", "--format"})  # each followed by a list of columns
_PS_COLUMNS = frozenset(
    {
        "pid",
        "ppid",
        "pgid",
        "pgrp",
        "sid",
        "sess",
        "tid",
        "lwp",
        "nlwp",
        "uid",
        "euid",
        "ruid",
        "user",
        "euser",
        "ruser",
        "uname",
        "gid",
        "egid",
        "group",
        "egroup",
        "tty",
        "tt",
        "tname",
        "stat",
        "state",
        "s",
        "pcpu",
        "%cpu",
        "c",
        "pmem",
        "%mem",
        "vsz",
        "vsize",
        "rss",
        "rsz",
        "sz",
        "size",
        "ni",
        "nice",
        "pri",
        "priority",
        "psr",
        "time",
        "cputime",
        "etime",
        "etimes",
        "lstart",
        "start",
        "start_time",
        "stime",
        "bsdstart",
        "bsdtime",
        "wchan",
        "comm",
        "ucomm",
        "ucmd",
        "args",
        "cmd",
        "command",
        "f",
        "flags",
        "class",
        "cls",
        "rtprio",
        "policy",
        "sched",
    }
)
PS_ALLOWED = (
    f"ps flags from `{''.join(sorted(_PS_BSD_FLAGS))}` (e.g. `aux`) or `-{''.join(sorted(_PS_UNIX_FLAGS))}` "
    "(e.g. `-ef`), `--forest`, and `-o COLUMNS` (e.g. `-o pid,user,%cpu,etime,args`)"
)
_PORT = re.compile(r"([0-9]{1,5})(?:/(tcp|udp|sctp))?")


def _stats(parsed: Parsed) -> ContainerStats:
    if len(parsed.args) > MAX_STATS_TARGETS:
        raise ParseError(f"too many containers ({len(parsed.args)}); name at most {MAX_STATS_TARGETS} at a time")
    names = tuple(dict.fromkeys(container_ref(name) for name in parsed.args))
    return ContainerStats(containers=names, all=parsed.flag("all"))


def _ps_flag_refusal(word: str) -> str | None:
    """Why one flag word is not passed on to ps, or None when it may be."""
    if word in _PS_LONG_FLAGS:
        return None
    letters, allowed = (
        (word[1:], _PS_UNIX_FLAGS) if word.startswith("-") and word[1:2] != "-" else (word, _PS_BSD_FLAGS)
    )
    if not letters.isalpha() or not letters.isascii():
        return f"`{word}` is not a ps option Shipmate passes on"
    if "e" in letters and allowed is _PS_BSD_FLAGS:
        return f"`{word}`: ps's `e` prints every process's environment, secrets and all"
    unknown = "".join(dict.fromkeys(letter for letter in letters if letter not in allowed))
    return f"`{word}`: `{unknown}` is not a ps flag Shipmate passes on" if unknown else None


def _ps_columns_refusal(option: str, columns: str | None) -> str | None:
    if columns is None:
        return f"`{option}` needs a list of columns after it"
    unknown = [column for column in columns.split(",") if column not in _PS_COLUMNS]
    if unknown:
        return f"`{option} {columns}`: `{unknown[0]}` is not a ps column Shipmate shows"
    return None


def _top(parsed: Parsed) -> ContainerTop:
    if not parsed.args:
        raise ParseError("missing CONTAINER")
    name, *ps_args = parsed.args
    if len(ps_args) > MAX_PS_WORDS:
        raise ParseError(f"too many ps options ({len(ps_args)}); give at most {MAX_PS_WORDS}")
    words = iter(ps_args)
    for word in words:
        columns = word in _PS_COLUMN_OPTIONS
        refusal = _ps_columns_refusal(word, next(words, None)) if columns else _ps_flag_refusal(word)
        if refusal:
            raise ParseError(f"{refusal}; allowed: {PS_ALLOWED}")
    return ContainerTop(container=container_ref(name), ps_args=tuple(ps_args))


def _port(parsed: Parsed) -> ContainerPort:
    if not parsed.args:
        raise ParseError("missing CONTAINER")
    if len(parsed.args) > 2:
        raise ParseError(f"unexpected argument `{parsed.args[2]}`")
    name = container_ref(parsed.args[0])
    if len(parsed.args) == 1:
        return ContainerPort(container=name)
    match = _PORT.fullmatch(parsed.args[1])
    if match is None or not 1 <= int(match[1]) <= 65535:
        raise ParseError(f"`{parsed.args[1]}` is not a container port: write e.g. `80` or `53/udp`")
    return ContainerPort(container=name, private_port=int(match[1]), protocol=match[2])


def _diff(parsed: Parsed) -> ContainerDiff:
    (name,) = exactly(parsed.args, 1, "CONTAINER")
    return ContainerDiff(container=container_ref(name))


MAX_EXEC_WORDS = 64
# exec options docker has and Shipmate refuses, with the reason (-i, -u and --privileged are refused everywhere).
_EXEC_REFUSED = {
    "tty": "`-t` is not allowed: a chat has no terminal",
    "detach": "`-d` is not allowed: exec answers with the command's output",
    "workdir": "`-w` is not allowed: write the path into the command, where the exec rules can see it",
    "env": "`-e` is not allowed: exec runs with the container's own environment",
}


def _exec(parsed: Parsed) -> ContainerExec:
    for key, reason in _EXEC_REFUSED.items():
        if key in parsed.values:
            raise ParseError(reason)
    if not parsed.args:
        raise ParseError("missing CONTAINER")
    name, *argv = parsed.args
    if not argv:
        raise ParseError("missing COMMAND: write the command to run, e.g. `nginx -t`")
    if len(argv) > MAX_EXEC_WORDS:
        raise ParseError(f"the command has too many words ({len(argv)}); at most {MAX_EXEC_WORDS}")
    if any("\x00" in word for word in argv):
        raise ParseError("the command contains a NUL character")
    return ContainerExec(container=container_ref(name), argv=tuple(argv))


SPECS = register(
    CommandSpec(
        name="container stats",
        aliases=("stats",),
        usage="[--no-stream] [-a|--all] [CONTAINER…]",
        summary="CPU, memory, network, disk I/O and PIDs: one sample (running containers unless -a or named)",
        options=OptionParser((Flag(("-a", "--all")), Flag(("--no-stream",)), Flag(("--no-trunc",)))),
        build=_stats,
    ),
    CommandSpec(
        name="container top",
        aliases=("top",),
        usage="CONTAINER [ps OPTIONS]",
        summary="the processes running in a container",
        options=OptionParser((), interspersed=False),
        build=_top,
    ),
    CommandSpec(
        name="container port",
        aliases=("port",),
        usage="CONTAINER [PRIVATE_PORT[/PROTO]]",
        summary="a container's published ports",
        options=OptionParser(()),
        build=_port,
    ),
    CommandSpec(
        name="container diff",
        aliases=("diff",),
        usage="CONTAINER",
        summary="files added (A), changed (C) and deleted (D) in a container's filesystem",
        options=OptionParser(()),
        build=_diff,
    ),
    CommandSpec(
        name="container exec",
        aliases=("exec",),
        usage="CONTAINER COMMAND [ARG…]",
        summary="run a command the policy allows in a running container (no shell is added)",
        options=OptionParser(
            (
                Flag(("-t", "--tty")),
                Flag(("-d", "--detach")),
                Flag(("-w", "--workdir"), takes_value=True),
                Flag(("-e", "--env"), takes_value=True, repeat=True),
            ),
            interspersed=False,
        ),
        build=_exec,
    ),
)
