"""5. Alerts: from the engine's event to the Slack post, over crashes one at a time; and what watching costs the
bot's process (CPU and RSS) while idle and through a burst of events."""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import docker

from bench.stack import Stack
from bench.stats import median, ms, percentile
from tests.bot_process import BotProcess

CHANNEL = "C0BENCH"
PREFIX = "alert-"
RULES = f'alerts:\n  - channel: {CHANNEL}\n    events: [die]\n    containers: ["{PREFIX}*"]\n    logs: 10\n'
IDLE_SECONDS = 10.0
POST_TIMEOUT = 30.0


@dataclass(frozen=True)
class AlertLatency:
    crashes: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    missing: int  # crashes with no post within POST_TIMEOUT


@dataclass(frozen=True)
class WatchCost:
    idle_cpu_percent: float  # of one core, over the idle seconds with nothing happening
    idle_rss_mib: float
    burst_events: int  # watched engine events (a start and a die per crash)
    burst_cpu_seconds: float  # the bot's CPU from the first start until every crash was posted
    burst_seconds: float
    burst_rss_mib: float
    burst_posted: int


def _finished(api: docker.APIClient, name: str) -> float:
    """When the container exited, by the engine's clock (epoch seconds)."""
    text = api.inspect_container(name)["State"]["FinishedAt"]
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float(f"0.{fraction or 0}")


def _posts(stack: Stack) -> list:
    return [c for c in stack.slack.calls("chat.postMessage") if c.body.get("channel") == CHANNEL and c.status == 200]


def _crash(api: docker.APIClient, name: str) -> None:
    created = api.create_container("busybox:latest", ["sh", "-c", "echo going down; exit 3"], name=name)
    api.start(created["Id"])


def start_alert_bot(stack: Stack, name: str) -> BotProcess:
    workdir = stack.workdir / f"{name}-rules"
    workdir.mkdir(parents=True)
    (workdir / "alerts.yml").write_text(RULES)
    bot = stack.start_bot(name, env={"SHIPMATE_ALERTS": str(workdir / "alerts.yml")})
    deadline = time.monotonic() + 20
    while "watching the events of engine" not in bot.log_text():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the alert watcher did not start:\n{bot.log_tail()}")
        time.sleep(0.05)
    return bot


def measure_alert_latency(stack: Stack, crashes: int) -> AlertLatency:
    """One crash at a time: the time from its exit (the engine's FinishedAt) to its post reaching the stand-in."""
    api = stack.engine.api()
    offset = time.time() - time.monotonic()  # the stand-in stamps calls with time.monotonic() of this process
    latencies = []
    missing = 0
    try:
        for index in range(crashes):
            name = f"{PREFIX}lat-{index:03d}"
            _crash(api, name)
            try:
                call = stack.slack.wait_for(
                    lambda name=name: next((c for c in _posts(stack) if f"{name} " in c.body.get("text", "")), None),
                    POST_TIMEOUT,
                )
            except TimeoutError:
                missing += 1
                continue
            latencies.append(call.at + offset - _finished(api, name))
            api.remove_container(name, force=True)
    finally:
        api.close()
    return AlertLatency(
        crashes=crashes,
        p50_ms=ms(median(latencies)),
        p95_ms=ms(percentile(latencies, 0.95)),
        max_ms=ms(max(latencies, default=float("nan"))),
        missing=missing,
    )


def measure_watch_cost(stack: Stack, bot: BotProcess, crashes: int, idle_seconds: float = IDLE_SECONDS) -> WatchCost:
    """Idle first (nothing happens on the engine), then `crashes` containers crash at once."""
    cpu_before, started = bot.cpu_seconds(), time.monotonic()
    time.sleep(idle_seconds)
    idle_cpu = (bot.cpu_seconds() - cpu_before) / (time.monotonic() - started) * 100
    idle_rss = bot.stats().rss_kib / 1024
    before = len(_posts(stack))
    api = stack.engine.api()
    try:
        cpu_before, started = bot.cpu_seconds(), time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda index: _crash(api, f"{PREFIX}burst-{index:03d}"), range(crashes)))
        with contextlib.suppress(TimeoutError):  # what did arrive is reported as burst_posted
            stack.slack.wait_for(lambda: len(_posts(stack)) - before >= crashes, POST_TIMEOUT * 2)
        burst_seconds = time.monotonic() - started
        burst_cpu = bot.cpu_seconds() - cpu_before
    finally:
        api.close()
    return WatchCost(
        idle_cpu_percent=round(idle_cpu, 2),
        idle_rss_mib=round(idle_rss, 1),
        burst_events=crashes * 2,
        burst_cpu_seconds=round(burst_cpu, 2),
        burst_seconds=round(burst_seconds, 2),
        burst_rss_mib=round(bot.stats().rss_kib / 1024, 1),
        burst_posted=len(_posts(stack)) - before,
    )
