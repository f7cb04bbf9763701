"""The App Home tab: from a signed `app_home_opened` event to the `views.publish` call reaching the Slack stand-in,
with 10 engines (10 entries of the engines file on the private engine's socket: 10 probes and 10 owned-container
listings, in parallel).

Cold: SHIPMATE_HOME_PROBE_TTL=0, every view probes every engine. Shared: the default 10 s cache, 20 users opening
Home at once (one probe per engine serves them all).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.report import Row
from bench.stack import SIGNING_SECRET, Stack
from bench.stats import median, ms
from tests.bot_process import BotProcess
from tests.slack_events import app_home_opened, signed_event

ENGINES = 10
TARGET_MS = 1000.0
VIEWERS_AT_ONCE = 20
PUBLISH_TIMEOUT = 30.0


@dataclass(frozen=True)
class HomeFigures:
    engines: int
    runs: int
    cold_ms: float  # median, every engine probed for each view
    cold_max_ms: float
    ack_ms: float  # median ack of the event
    shared_ms: float  # median over VIEWERS_AT_ONCE users at once, the probes shared
    shared_max_ms: float

    def rows(self) -> list[Row]:
        return [
            Row(
                f"Home tab published, {self.engines} engines, every engine probed (median of {self.runs})",
                f"{self.cold_ms:.0f} ms (max {self.cold_max_ms:.0f}; event acked in {self.ack_ms:.1f} ms)",
                f"≤ {TARGET_MS:.0f} ms",
                self.cold_ms <= TARGET_MS,
            ),
            Row(
                f"  {VIEWERS_AT_ONCE} users opening Home at once, probes shared (10 s)",
                f"median {self.shared_ms:.0f} ms, max {self.shared_max_ms:.0f} ms",
                f"≤ {TARGET_MS:.0f} ms",
                self.shared_ms <= TARGET_MS,
            ),
        ]


def _engines_file(stack: Stack, name: str) -> str:
    path = stack.workdir / f"{name}-engines.yml"
    lines = ["default: e0", "engines:"]
    lines += [f'  e{index}: {{host: "{stack.engine.docker_host}"}}' for index in range(ENGINES)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def start_home_bot(stack: Stack, name: str, ttl: str) -> BotProcess:
    return stack.start_bot(name, env={"SHIPMATE_ENGINES": _engines_file(stack, name), "SHIPMATE_HOME_PROBE_TTL": ttl})


def _open_home(stack: Stack, bot: BotProcess, user: str) -> tuple[float, float]:
    """(seconds to the ack, seconds to the views.publish call) of one opening of Home by `user`."""
    before = len(stack.slack.calls("views.publish"))
    sent = time.monotonic()  # the stand-in stamps each call with time.monotonic() on arrival
    reply = stack.client(bot).send(signed_event(SIGNING_SECRET, app_home_opened(user)))
    assert reply.status == 200, reply.text
    deadline = sent + PUBLISH_TIMEOUT
    while time.monotonic() < deadline:
        calls = [c for c in stack.slack.calls("views.publish")[before:] if c.body.get("user_id") == user]
        if calls:
            return reply.elapsed, calls[0].at - sent
        time.sleep(0.002)
    raise TimeoutError(f"no views.publish for {user} within {PUBLISH_TIMEOUT:g} s")


def measure_home(stack: Stack, runs: int) -> HomeFigures:
    cold_bot = start_home_bot(stack, "home-cold", "0")
    _open_home(stack, cold_bot, "U0WARMUP")  # the first view opens the engines' connections
    cold = [_open_home(stack, cold_bot, f"U0COLD{run}") for run in range(runs)]
    stack.stop_bots()
    shared_bot = start_home_bot(stack, "home-shared", "10s")
    _open_home(stack, shared_bot, "U0WARMUP")
    time.sleep(10.5)  # past the warm-up's probes: the crowd below starts with none
    with ThreadPoolExecutor(max_workers=VIEWERS_AT_ONCE) as pool:
        shared = list(pool.map(lambda n: _open_home(stack, shared_bot, f"U0CROWD{n}"), range(VIEWERS_AT_ONCE)))
    stack.stop_bots()
    published = [seconds for _ack, seconds in cold]
    crowd = [seconds for _ack, seconds in shared]
    return HomeFigures(
        engines=ENGINES,
        runs=runs,
        cold_ms=ms(median(published)),
        cold_max_ms=ms(max(published)),
        ack_ms=ms(median([ack for ack, _seconds in cold])),
        shared_ms=ms(median(crowd)),
        shared_max_ms=ms(max(crowd)),
    )
