"""Soak: 20 simulated users send 500 mixed commands at once over signed HTTP to `shipmate serve` on the private
engine; then SIGTERM in the middle of a burst.

Each user works like a person at a keyboard: sends a command, waits for its answer, sends the next. The mix:
reads (`/ps -a`, `/img ls`, `/logs`, inspect), detached runs of `soak-…` containers, foreground `--rm` runs,
removals (confirmed with the button the bot sends), a few pulls, and bad input. Every user removes what it
started before it stops.

"Answered exactly once", by the bot's delivery rules (bot/slack/listeners.py, delivery.py): a command is
answered either in its ack (a message that is not a "⏳" line) or, when the ack is a "⏳" line, by exactly one
later message: a post to its response_url or the chat.update that turns its live progress message (pulls) into
the result. Progress posts and updates ("⏳ pulling …") are not answers, nor are file uploads. Every command
and click gets a channel of its own, so each chat.update belongs to exactly one of them.
"""

from __future__ import annotations

import http.client
import itertools
import random
import signal
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.slack.work import Interrupted, Job, WorkPools
from tests.bot_process import BotProcess, ProcStats
from tests.private_engine import PrivateEngine
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import (
    CONFIRM_ACTION,
    Sent,
    SlackUser,
    asks_to_confirm,
    bot_settings,
    is_pending,
    text_of,
    wait_until,
)

USERS = 20
COMMANDS = 500
PER_USER = COMMANDS // USERS
SEED = 20_26
PULLS = {0: "nginx:1.25", 1: "bigimage:latest", 2: "nginx:1.25", 3: "bigimage:latest"}  # user -> a pull
BAD_INPUT = [
    ("/run", "-p 99999:1 nginx"),
    ("/ps", "--bogus"),
    ("/docker", "exec soak sh"),
    ("/rm", ""),
    ("/logs", "--tail -5 soak"),
    ("/run", "--privileged nginx"),
    ("/img", "pull 'unclosed"),
]
WARM_UP_USERS = 32  # gunicorn's threads for this bot: max(16, SHIPMATE_WORKERS * 4)
THREAD_MARGIN = 4  # pools are bounded and warmed up first: a few threads may still come or go
FD_MARGIN = 4  # the engine client keeps one bounded pool per socket, full after the warm-up

_channels = itertools.count(1)


def _channel() -> str:
    return f"C0SOAK{next(_channels):05d}"


@dataclass
class Asked:
    """One slash command or click of the soak, with what the test expects its answer to say."""

    user: SlackUser
    sent: Sent
    what: str  # e.g. "/run -d --name soak-3-7 nginx"
    expect: Callable[[dict[str, Any]], bool]
    started: float
    answer: dict[str, Any] = field(default_factory=dict)
    took: float = 0.0  # seconds from sending to the answer


@dataclass
class Soak:
    slack: SlackStandin
    client: SignedClient
    asked: list[Asked] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ask(self, user: SlackUser, command: str, text: str, expect: Callable[[dict[str, Any]], bool]) -> Asked:
        started = time.monotonic()
        sent = user.send(command, text, channel_id=_channel())
        return self._answered(Asked(user, sent, f"{command} {text}", expect, started))

    def click(self, user: SlackUser, message: dict[str, Any], expect: Callable[[dict[str, Any]], bool]) -> Asked:
        started = time.monotonic()
        sent = user.clicked(message, CONFIRM_ACTION, channel_id=_channel())
        return self._answered(Asked(user, sent, "Confirm", expect, started))

    def _answered(self, asked: Asked) -> Asked:
        with self.lock:
            self.asked.append(asked)
        asked.answer = asked.user.final(asked.sent, timeout=90)
        asked.took = time.monotonic() - asked.started
        assert asked.expect(asked.answer), f"{asked.what}: {asked.answer.get('text')!r}"
        return asked

    def run_user(self, index: int, commands: int) -> None:
        """One person's session: `commands` slash commands, the last of them removing what they started."""
        user = SlackUser(self.client, self.slack, f"U0SOAK{index:02d}")
        rng = random.Random(SEED * 100 + index)
        mine: list[str] = []
        for step in range(commands):
            name = f"soak-{index}-{step}"
            left = commands - step
            if mine and (left <= len(mine) or rng.random() < 0.2):
                self.remove(user, mine.pop(rng.randrange(len(mine))))
            elif step == 2 and index in PULLS:
                image = PULLS[index]
                self.ask(
                    user,
                    "/img",
                    f"pull {image}",
                    lambda a, i=image: f"{i} is up to date" in a["text"] or f"pulled {i}" in a["text"],
                )
            else:
                self.one_of_the_rest(user, rng, name, mine, left)

    def one_of_the_rest(self, user: SlackUser, rng: random.Random, name: str, mine: list[str], left: int) -> None:
        roll = rng.random()
        own = rng.choice(mine) if mine else None
        if roll < 0.15 and left > len(mine) + 1:
            self.ask(user, "/run", f"-d --name {name} nginx", lambda a: f"started {name}" in a["text"])
            mine.append(name)
        elif roll < 0.27:
            self.ask(
                user,
                "/run",
                f"--rm busybox echo {name}",
                lambda a: "exited with code 0, removed" in a["text"] and name in text_of(a),
            )
        elif roll < 0.35:
            command, text = rng.choice(BAD_INPUT)
            self.ask(user, command, text, lambda a: a["text"].startswith("❌") and a["response_type"] == "ephemeral")
        elif roll < 0.50:
            self.ask(user, "/ps", "-a", lambda a: "container" in a["text"])
        elif roll < 0.62:
            self.ask(user, "/img", "ls", lambda a: "images" in a["text"])
        elif roll < 0.74 and own:
            self.ask(user, "/logs", own, lambda a: f"no output from {own}" in a["text"] or "logs of" in a["text"])
        elif roll < 0.86 and own:
            self.ask(user, "/docker", f"container inspect {own}", lambda a: f"container {own}: running" in a["text"])
        else:
            self.ask(user, "/img", "inspect nginx", lambda a: "NGINX_VERSION=1.25.0" in text_of(a))

    def remove(self, user: SlackUser, name: str) -> None:
        asked = self.ask(user, "/rm", f"-f {name}", asks_to_confirm)
        self.click(user, asked.answer, lambda a: a["text"] == f"{name}: removed")

    # -- after the soak -------------------------------------------------------------------------------

    def answers(self, asked: Asked) -> list[dict[str, Any]]:
        """Every answer this command got: its ack (when that was the answer) and everything that came later."""
        in_ack = [asked.sent.ack_body] if asked.sent.answered_in_ack else []
        posted = [
            call.body
            for call in self.slack.calls("chat.postMessage")
            if call.body.get("channel") == asked.sent.channel_id
            and not is_pending(call.body)
            and "thread_ts" not in call.body  # the outcome again, in the live message's thread
        ]
        return in_ack + asked.user.later_answers(asked.sent) + posted

    def ack_times(self) -> list[float]:
        return sorted(asked.sent.reply.elapsed for asked in self.asked)


def _quiet(slack: SlackStandin, seconds: float = 1.5, timeout: float = 30) -> None:
    """Wait until the stand-in has heard nothing for `seconds` (late duplicates would have arrived by then)."""
    wait_until(lambda: time.monotonic() - max((c.at for c in slack.calls()), default=0) > seconds, timeout, "quiet")


def _soak_containers(engine: PrivateEngine) -> list[str]:
    api = engine.api()
    try:
        return [c["Names"][0].lstrip("/") for c in api.containers(all=True) if c["Names"][0].startswith("/soak-")]
    finally:
        api.close()


def _settled(bot: BotProcess, baseline: ProcStats) -> ProcStats:
    """The bot's resources once they are back within the margins (or the last reading, after 15 s)."""
    latest = bot.stats()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        latest = bot.stats()
        if latest.threads <= baseline.threads + THREAD_MARGIN and latest.fds <= baseline.fds + FD_MARGIN:
            break
        time.sleep(0.2)
    return latest


def _percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))]


@pytest.fixture
def soak_bot(bot_server: Callable[..., BotProcess], tmp_path: Path) -> BotProcess:
    return bot_server(**bot_settings(tmp_path / "settings"), SHIPMATE_DOCKER_TIMEOUT="30")


@pytest.fixture
def unpulled(clean_engine: PrivateEngine) -> Iterator[PrivateEngine]:
    """The engine without the soak's pull images, as the suite finds them (they live in the registry only), so
    the first pull of each really pulls (with progress) and the second finds it; the same afterwards."""
    for image in set(PULLS.values()):
        clean_engine.forget_image(image)
    yield clean_engine
    for image in set(PULLS.values()):
        clean_engine.forget_image(image)


def test_soak_500_commands_from_20_users(
    unpulled: PrivateEngine, soak_bot: BotProcess, slack: SlackStandin, signing_secret: str
) -> None:
    soak = Soak(slack, SignedClient(soak_bot.url, signing_secret))

    # Warm-up: the same mix from more users at once than the soak has, briefly, so that the bounded pools (HTTP
    # threads, work pools, engine connections) have grown to their size before the baseline is taken.
    with ThreadPoolExecutor(WARM_UP_USERS) as pool:
        list(pool.map(lambda index: soak.run_user(100 + index, 3), range(WARM_UP_USERS)))
    _quiet(slack)
    baseline = soak_bot.stats()
    warm_up = len(soak.asked)

    started = time.monotonic()
    with ThreadPoolExecutor(USERS) as pool:
        list(pool.map(lambda index: soak.run_user(index, PER_USER), range(USERS)))
    duration = time.monotonic() - started
    _quiet(slack)
    after = _settled(soak_bot, baseline)

    asked = soak.asked[warm_up:]
    slash_commands = [a for a in asked if a.what != "Confirm"]
    acks = sorted(a.sent.reply.elapsed for a in asked)
    took = sorted(a.took for a in asked)
    print(
        f"\nsoak: {len(slash_commands)} commands (+{len(asked) - len(slash_commands)} Confirm clicks) from {USERS} users"
        f" in {duration:.1f} s; ack p50 {statistics.median(acks):.3f} s, p99 {_percentile(acks, 0.99):.3f} s,"
        f" max {acks[-1]:.3f} s; answer p50 {statistics.median(took):.2f} s, max {took[-1]:.1f} s;"
        f" answered in the ack {sum(a.sent.answered_in_ack for a in asked)},"
        f" later {sum(not a.sent.answered_in_ack for a in asked)};"
        f" fds {baseline.fds} -> {after.fds}, threads {baseline.threads} -> {after.threads},"
        f" rss {baseline.rss_kib // 1024} -> {after.rss_kib // 1024} MiB"
    )

    assert len(slash_commands) == COMMANDS
    assert acks[-1] < 3.0  # SlackUser checks each one too
    twice = [
        (a.what, [m.get("text") for m in self_answers]) for a in soak.asked if len(self_answers := soak.answers(a)) != 1
    ]
    assert twice == [], f"answered other than exactly once: {twice[:5]}"
    assert _soak_containers(unpulled) == []
    assert after.threads <= baseline.threads + THREAD_MARGIN, (baseline, after)
    assert after.fds <= baseline.fds + FD_MARGIN, (baseline, after)
    assert soak_bot.running


# -- SIGTERM in the middle of a burst ------------------------------------------------------------------------

INTERRUPTED = "Shipmate was restarted before this finished"
RESTARTING = "Shipmate is restarting; try again in a moment"
BURST = [
    ("/ps", "-a"),
    ("/img", "ls"),
    ("/run", "--rm busybox echo burst"),
    ("/ps", "--bogus"),
    ("/img", "inspect nginx"),
]


@dataclass
class Burst:
    """Users sending as fast as they read answers, until the server stops taking their connections."""

    slack: SlackStandin
    client: SignedClient
    sent: list[Sent] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)  # when a user's connection was refused or cut
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run_user(self, index: int, stop: threading.Event) -> None:
        user = SlackUser(self.client, self.slack, f"U0TERM{index:02d}")
        for step in itertools.count():
            if stop.is_set():
                return
            command, text = BURST[(index + step) % len(BURST)]
            try:
                sent = user.send(command, text, channel_id=_channel())
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.refused.append(time.monotonic())
                return
            with self.lock:
                self.sent.append(sent)
            if not sent.answered_in_ack and not self.restarting(sent):
                try:
                    user.final(sent, timeout=15)
                except TimeoutError:
                    return  # checked after the burst: every ack must have had its answer

    @staticmethod
    def restarting(sent: Sent) -> bool:
        return RESTARTING in str(sent.ack_body.get("text", ""))


def _refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):  # a reset: the listener closed while our SYN waited
        return True


@pytest.fixture
def reset_after(clean_engine: PrivateEngine) -> Iterator[PrivateEngine]:
    """Interrupted runs outlive the bot: remove them after the test, whatever its outcome."""
    yield clean_engine
    clean_engine.reset()


def test_sigterm_during_a_burst_stops_accepting_finishes_or_interrupts_in_flight_work_and_exits_0(
    reset_after: PrivateEngine, soak_bot: BotProcess, slack: SlackStandin, signing_secret: str
) -> None:
    client = SignedClient(soak_bot.url, signing_secret)
    burst = Burst(slack, client)
    sleeper = SlackUser(client, slack, "U0SLEEPER")
    long_runs = [
        sleeper.send("/run", f"--name soak-long-{n} busybox sleep 120", channel_id=_channel()) for n in range(3)
    ]
    assert all(sent.ack_body["text"].startswith("⏳ running soak-long-") for sent in long_runs)

    stop = threading.Event()
    with ThreadPoolExecutor(USERS + 1) as pool:
        users = [pool.submit(burst.run_user, index, stop) for index in range(USERS)]
        try:
            wait_until(lambda: len(burst.sent) >= 60, 60, "a burst under way")
            signalled = time.monotonic()
            stopping = pool.submit(soak_bot.stop, signal.SIGTERM, 10.0)  # raises if the bot outlives 10 s
            # The listening socket closes once the requests in flight are answered (each within the ack budget);
            # the process stays up meanwhile for the work in flight.
            refused_while_running = wait_until(
                lambda: _refuses(soak_bot.port) and soak_bot.running, 8, "connections refused while shutting down"
            )
            exit_code = stopping.result()
            exited = time.monotonic() - signalled
        finally:
            stop.set()
        for user in users:
            user.result()

    _quiet(slack)
    last_answer = max(call.at for call in slack.calls()) - signalled
    print(
        f"\nSIGTERM after {len(burst.sent)} commands: exit {exit_code} after {exited:.1f} s;"
        f" last answer {last_answer:.1f} s after the signal; {len(burst.refused)} users then refused"
    )

    assert exit_code == 0 and exited < 10
    assert refused_while_running
    assert len(burst.refused) == USERS  # every user was turned away at the door, none left hanging
    everything = burst.sent + long_runs
    unanswered, twice = [], []
    for sent in everything:
        answers = ([sent.ack_body] if sent.answered_in_ack or Burst.restarting(sent) else []) + sleeper.later_answers(
            sent
        )
        (unanswered if not answers else twice if len(answers) > 1 else []).append((sent.name, answers))
    assert unanswered == [] and twice == [], (unanswered[:3], twice[:3])
    for sent in long_runs:
        assert INTERRUPTED in sleeper.later_answers(sent)[0]["text"]
    assert last_answer < 10


def test_work_that_finishes_after_its_interrupted_notice_does_not_answer_again() -> None:
    """The race the burst above can hit at the end of the grace period, made certain: the notice goes out
    first, then the work finishes; its result must not become a second answer."""
    pools = WorkPools(quick_workers=1, slow_workers=1)
    release = threading.Event()
    notices: list[str] = []
    job = Job(work=lambda: release.wait(10) and "result", interrupted=lambda: (notices.append("⚠️"), release.set()))
    finished = pools.submit(job, slow=False)

    assert pools.shutdown(grace_seconds=0.2) == 1
    with pytest.raises(Interrupted):
        finished.result(timeout=10)
    assert notices == ["⚠️"]
