"""5. `/docker stats --no-stream` over running containers: the Engine API requests behind it (one stats request per
container, nothing more) and the time to the complete reply against `docker stats --no-stream` on the same ones."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import docker

from bench.listing import ReplyTiming, cli_environment, count_requests
from bench.report import Row
from bench.stack import Stack, ack_problem, slash
from bench.stats import median, ms
from tests.bot_process import BotProcess

STATS_PREFIX = "bench-stats-"
STATS_TEXT = "stats --no-stream"
CLI_ARGS = ("stats", "--no-stream")


def start_containers(api: docker.APIClient, count: int, image: str = "busybox:latest") -> None:
    """`count` running containers that idle (stats samples only running ones)."""

    def start(index: int) -> None:
        created = api.create_container(image, command=["sleep", "3600"], name=f"{STATS_PREFIX}{index:02d}")
        api.start(created["Id"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(start, range(1, count + 1)))


def remove_containers(api: docker.APIClient) -> None:
    for item in api.containers(all=True, filters={"name": STATS_PREFIX}):
        api.remove_container(item["Id"], force=True)


def _complete_reply(stack: Stack, bot: BotProcess, name: str) -> tuple[float, str]:
    """Seconds from sending the command to its complete answer (in the ack, or posted after a ⏳ ack) and its text."""
    client = stack.client(bot)
    started = time.perf_counter()
    reply = slash(client, stack.slack, "/docker", STATS_TEXT, name)
    problem = ack_problem(reply)
    if problem == "deferred":
        body = stack.slack.wait_for_response(name, timeout=60)
    elif problem is None:
        body = reply.body
    else:
        raise RuntimeError(f"/docker {STATS_TEXT}: {problem}")
    elapsed = time.perf_counter() - started
    text = str(body.get("text", ""))
    if "one sample" not in text:
        raise RuntimeError(f"/docker {STATS_TEXT}: not a stats table: {text[:120]}")
    return elapsed, text


@dataclass(frozen=True)
class StatsCount:
    containers: int
    total: int
    stats_requests: int
    by_kind: dict[str, int]
    reply: str

    @property
    def one_each(self) -> bool:
        """One stats request per container, plus the one listing that names them; nothing else."""
        return self.stats_requests == self.containers and self.total == self.containers + 1


def stats_request_count(stack: Stack, bot: BotProcess, containers: int, repeats: int = 3) -> StatsCount:
    names = iter(range(1_000_000))

    def send() -> str:
        return _complete_reply(stack, bot, f"stats-count-{next(names)}")[1]

    send()  # the first command of a fresh client also asks the engine its API version
    counts, line = count_requests(stack.proxy, send, repeats)
    return StatsCount(containers, sum(counts.values()), counts["container stats"], dict(counts), line)


def cli_stats_count(stack: Stack, docker_cli: str) -> dict[str, int]:
    stack.proxy.reset()
    subprocess.run(
        [docker_cli, *CLI_ARGS], env=cli_environment(stack.proxy.docker_host), check=True, capture_output=True
    )
    return dict(Counter(stack.proxy.counts()))


def stats_timing(stack: Stack, bot: BotProcess, docker_cli: str, runs: int) -> ReplyTiming:
    """Both `runs` times, interleaved, on the engine's own socket; one warm-up each, not counted."""
    env = cli_environment(stack.engine.docker_host)
    bot_times, cli_times = [], []
    for index in range(runs + 1):
        elapsed, _ = _complete_reply(stack, bot, f"stats-time-{index}")
        started = time.perf_counter()
        subprocess.run([docker_cli, *CLI_ARGS], env=env, check=True, stdout=subprocess.DEVNULL)
        if index:
            bot_times.append(elapsed)
            cli_times.append(time.perf_counter() - started)
    return ReplyTiming(
        f"/docker {STATS_TEXT}", "docker " + " ".join(CLI_ARGS), ms(median(bot_times)), ms(median(cli_times)), runs
    )


STATS_RATIO = 1.2


@dataclass(frozen=True)
class StatsFigures:
    count: StatsCount
    cli_count: dict[str, int]
    timing: ReplyTiming

    def rows(self) -> list[Row]:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self.count.by_kind.items()))
        return [
            Row(
                f"Engine API requests per /docker {STATS_TEXT} over {self.count.containers} running containers",
                f"{self.count.total} ({kinds})",
                "1 listing + 1 stats per container",
                self.count.one_each,
            ),
            Row(
                f"{self.timing.command} reply vs {self.timing.cli}, {self.count.containers} containers"
                f" (median of {self.timing.runs})",
                f"{self.timing.bot_ms:.0f} ms vs {self.timing.cli_ms:.0f} ms = {self.timing.ratio:.2f}×",
                f"≤ {STATS_RATIO}×",
                self.timing.ratio <= STATS_RATIO,
            ),
        ]


def measure_stats(stack: Stack, docker_cli: str, containers: int, runs: int, step: Callable) -> StatsFigures:
    """Start the containers, count and time, and remove them again (later figures see the engine as before)."""
    api = stack.engine.api()
    try:
        step(f"starting {containers} containers for stats", lambda: start_containers(api, containers))
        counted = step(
            "starting shipmate serve behind the counting proxy", lambda: stack.start_bot("stats-counted", counted=True)
        )
        count = step("counting Engine API requests of stats", lambda: stats_request_count(stack, counted, containers))
        cli_count = cli_stats_count(stack, docker_cli)
        stack.stop_bots()
        bot = step("starting shipmate serve", lambda: stack.start_bot("stats"))
        timing = step(f"timing stats ×{runs} against {docker_cli}", lambda: stats_timing(stack, bot, docker_cli, runs))
        stack.stop_bots()
        remove_containers(api)
    finally:
        api.close()
    return StatsFigures(count, cli_count, timing)
