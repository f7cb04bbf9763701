"""1. Engine cost of listings: the Engine API requests behind `/ps -a` and `/img ls`, counted at the socket,
and the time to the complete reply against the docker CLI run as a process, side by side."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bench.proxy import INSPECTS, LISTINGS, CountingProxy
from bench.stack import Stack, ack_problem, slash
from bench.stats import median, ms
from tests.bot_process import BotProcess

# (slash command, its text, the docker CLI arguments that do the same)
LISTING_COMMANDS = (("/ps", "-a", ("ps", "-a")), ("/img", "ls", ("image", "ls")))


@dataclass(frozen=True)
class RequestCount:
    command: str
    total: int  # Engine API requests per command
    listings: int
    inspects: int
    by_kind: dict[str, int]
    reply: str  # the reply's summary line, to show the listing was complete

    @property
    def one_listing(self) -> bool:
        return self.listings == 1 and self.inspects == 0 and self.total == 1


def count_requests(proxy: CountingProxy, send: Callable[[], str], repeats: int = 3) -> tuple[Counter[str], str]:
    """The Engine API requests one `send()` costs (the most any of `repeats` sends cost) and its reply line."""
    worst: Counter[str] = Counter()
    reply = ""
    for _ in range(repeats):
        proxy.reset()
        reply = send()
        counts = proxy.counts()
        if sum(counts.values()) >= sum(worst.values()):
            worst = counts
    return worst, reply


def bot_request_counts(stack: Stack, bot: BotProcess) -> list[RequestCount]:
    client = stack.client(bot)
    results = []
    for command, text, _ in LISTING_COMMANDS:

        def send(command: str = command, text: str = text) -> str:
            reply = slash(client, stack.slack, command, text, "count")
            problem = ack_problem(reply)
            if problem:
                raise RuntimeError(f"{command} {text}: {problem}")
            return str(reply.body.get("text", ""))

        send()  # the first command of a fresh client also asks the engine its API version
        counts, line = count_requests(stack.proxy, send)
        results.append(
            RequestCount(
                command=f"{command} {text}",
                total=sum(counts.values()),
                listings=sum(counts[kind] for kind in LISTINGS),
                inspects=sum(counts[kind] for kind in INSPECTS),
                by_kind=dict(counts),
                reply=line,
            )
        )
    return results


def cli_request_counts(stack: Stack, docker_cli: str) -> dict[str, dict[str, int]]:
    """What the docker CLI asks the engine for the same listings (for comparison; it pings first)."""
    env = cli_environment(stack.proxy.docker_host)
    counts = {}
    for _, _, args in LISTING_COMMANDS:
        stack.proxy.reset()
        subprocess.run([docker_cli, *args], env=env, check=True, capture_output=True)
        counts["docker " + " ".join(args)] = dict(stack.proxy.counts())
    return counts


_CLI_CONFIG = tempfile.mkdtemp(prefix="bench-docker-config-")


def cli_environment(docker_host: str) -> dict[str, str]:
    # An empty client config: no credential helpers, contexts or plugins of whoever runs the bench.
    return {**os.environ, "DOCKER_HOST": docker_host, "DOCKER_CONFIG": _CLI_CONFIG}


@dataclass(frozen=True)
class ReplyTiming:
    command: str
    cli: str
    bot_ms: float  # median, POST to the last byte of the ack that carries the complete reply
    cli_ms: float  # median wall time of the docker CLI process
    runs: int

    @property
    def ratio(self) -> float:
        return round(self.bot_ms / self.cli_ms, 2)


def reply_timings(stack: Stack, bot: BotProcess, docker_cli: str, runs: int) -> list[ReplyTiming]:
    """Each listing `runs` times through the bot and through the CLI, interleaved, both on the engine's socket."""
    client = stack.client(bot)
    env = cli_environment(stack.engine.docker_host)
    timings = []
    for command, text, args in LISTING_COMMANDS:
        bot_times, cli_times = [], []
        for index in range(runs + 2):  # two warm-ups each, not counted
            reply = slash(client, stack.slack, command, text, f"time-{index}")
            problem = ack_problem(reply)
            if problem:
                raise RuntimeError(f"{command} {text}: {problem}")
            started = time.perf_counter()
            subprocess.run([docker_cli, *args], env=env, check=True, stdout=subprocess.DEVNULL)
            elapsed = time.perf_counter() - started
            if index >= 2:
                bot_times.append(reply.elapsed)
                cli_times.append(elapsed)
        timings.append(
            ReplyTiming(
                f"{command} {text}", "docker " + " ".join(args), ms(median(bot_times)), ms(median(cli_times)), runs
            )
        )
    return timings
