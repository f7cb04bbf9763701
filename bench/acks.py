"""2. Ack latency of `shipmate serve`: signed `/ps` commands, open loop and closed loop, with and without slow pulls
in flight."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import docker

from bench.fixtures import remove_image_quietly
from bench.stack import Stack, ack_problem, slash
from bench.stats import ms, percentile
from tests.bot_process import BotProcess
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin

PULL_TIMEOUT = 180.0
_pull_numbers = itertools.count(1)  # each pull gets its own channel and response_url, across rounds


@dataclass(frozen=True)
class Outcome:
    latency: float  # seconds to the last byte of the ack
    problem: str | None  # None: a complete answer in the ack


@dataclass(frozen=True)
class LoadResult:
    scenario: str
    commands: int
    seconds: float
    errors: int
    deferred: int  # acked with ⏳ and answered later (over the 2 s ack budget)
    p50_ms: float
    p99_ms: float
    max_ms: float
    problems: dict[str, int]

    @property
    def rate(self) -> float:
        return round(self.commands / self.seconds, 1)


def summarize(scenario: str, outcomes: list[Outcome], seconds: float) -> LoadResult:
    latencies = [outcome.latency for outcome in outcomes]
    problems = Counter(outcome.problem for outcome in outcomes if outcome.problem)
    deferred = problems.get("deferred", 0)
    return LoadResult(
        scenario=scenario,
        commands=len(outcomes),
        seconds=round(seconds, 2),
        errors=sum(problems.values()) - deferred,
        deferred=deferred,
        p50_ms=ms(percentile(latencies, 0.50)),
        p99_ms=ms(percentile(latencies, 0.99)),
        max_ms=ms(max(latencies, default=0.0)),
        problems=dict(problems),
    )


def _ps_sender(client: SignedClient, slack: SlackStandin, label: str) -> Callable[[int], str | None]:
    def send(index: int) -> str | None:
        try:
            return ack_problem(slash(client, slack, "/ps", "", f"{label}-{index}"))
        except OSError as error:
            return f"{type(error).__name__}"

    return send


def _help_sender(client: SignedClient, slack: SlackStandin, label: str) -> Callable[[int], str | None]:
    def send(index: int) -> str | None:
        try:
            return ack_problem(slash(client, slack, "/docker", "help", f"{label}-{index}"))
        except OSError as error:
            return f"{type(error).__name__}"

    return send


def _engine_sender(api: docker.APIClient) -> Callable[[int], str | None]:
    """The listing `/ps` makes, straight to the engine: what the engine alone takes to answer it."""

    def send(index: int) -> str | None:
        try:
            api.containers()
        except (docker.errors.DockerException, OSError) as error:
            return f"{type(error).__name__}"
        return None

    return send


def open_loop(send: Callable[[int], str | None], rate: float, seconds: float) -> tuple[list[Outcome], float]:
    """Send at a fixed rate whatever the answers do; latency counts from when each command was due."""
    count = int(rate * seconds)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def one(index: int, due: float) -> None:
        problem = send(index)
        finished = time.perf_counter()
        with lock:
            outcomes.append(Outcome(finished - due, problem))

    with ThreadPoolExecutor(max_workers=100, thread_name_prefix="open-loop") as pool:
        start = time.perf_counter() + 0.05
        for index in range(count):
            due = start + index / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            pool.submit(one, index, due)
    return outcomes, time.perf_counter() - start


def closed_loop(send: Callable[[int], str | None], clients: int, seconds: float) -> tuple[list[Outcome], float]:
    """`clients` senders, each sending its next command as soon as the last is answered."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    start = time.perf_counter()
    deadline = start + seconds

    def client() -> None:
        while time.perf_counter() < deadline:
            with lock:
                index = next(counter)
            sent = time.perf_counter()
            problem = send(index)
            latency = time.perf_counter() - sent
            with lock:
                outcomes.append(Outcome(latency, problem))

    threads = [threading.Thread(target=client, name=f"closed-loop-{n}") for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, time.perf_counter() - start


class SlowPulls:
    """Keeps one `/img pull` of each reference in flight: pull (through the bot), wait for its final message at
    the stand-in, remove the image from the engine, pull again — until stopped."""

    def __init__(self, stack: Stack, bot: BotProcess, references: list[str]) -> None:
        self.stack = stack
        self.client = stack.client(bot)
        self.references = references
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._started = threading.Semaphore(0)
        self.durations: list[float] = []
        self.failures: list[str] = []
        self._threads = [
            threading.Thread(target=self._slot, args=(slot, ref), name=f"pull-{slot}")
            for slot, ref in enumerate(references, 1)
        ]

    def __enter__(self) -> SlowPulls:
        for thread in self._threads:
            thread.start()
        for _ in self._threads:  # every slot has its first pull acked and running
            if not self._started.acquire(timeout=30):
                raise RuntimeError("the slow pulls did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(PULL_TIMEOUT)

    def _slot(self, slot: int, reference: str) -> None:
        api = docker.APIClient(base_url=self.stack.engine.docker_host, version="auto", timeout=60)
        slack = self.stack.slack
        announced = False
        try:
            while not self._stop.is_set():
                number = next(_pull_numbers)
                channel, name = f"CPULL{number}", f"pull-{number}"
                started = time.perf_counter()
                reply = slash(self.client, slack, "/img", f"pull {reference}", name, channel_id=channel)
                problem = ack_problem(reply)
                if problem != "deferred":  # a pull always acks at once with ⏳ and answers later
                    self._fail(f"pull ack: {problem or 'answered in the ack'}")
                    return
                if not announced:
                    announced = True
                    self._started.release()
                final = slack.wait_for(lambda c=channel, n=name: _final_text(slack, c, n), PULL_TIMEOUT)
                if not final.startswith(("pulled", "✅", "👌")):
                    self._fail(f"pull answered: {final[:120]}")
                with self._lock:
                    self.durations.append(time.perf_counter() - started)
                remove_image_quietly(api, reference)
        except Exception as error:  # noqa: BLE001 - reported with the figures: a broken pull must not hang the bench
            self._fail(f"{type(error).__name__}: {error}")
        finally:
            if not announced:
                self._started.release()
            api.close()

    def _fail(self, problem: str) -> None:
        with self._lock:
            self.failures.append(problem)


def _final_text(slack: SlackStandin, channel: str, name: str) -> str | None:
    """The text of a pull's final message (in its channel, or through its response_url); None while in progress.

    Called by SlackStandin.wait_for, which holds the stand-in's lock.
    """
    texts = [message.get("text", "") for (where, _), message in slack.messages.items() if where == channel]
    texts += [body.get("text", "") for body in slack.responses(name)]
    return next((text for text in texts if text and not text.startswith("pulling ")), None)


@dataclass(frozen=True)
class AckRun:
    results: list[LoadResult]
    pulls_completed: int
    pull_seconds_median: float | None
    pull_failures: list[str]


def _scenarios(
    stack: Stack, client: SignedClient, api: docker.APIClient, rate: float, clients: int, seconds: float, suffix: str
) -> list[LoadResult]:
    """The /ps scenarios, and beside the open loop two floors at the same rate: an ack that makes no Engine API
    call (`/docker help`), and the engine answering the same listing to a client of its own."""
    label = suffix.replace(" ", "").replace("+", "-")
    runs = (
        ("open loop", lambda: open_loop(_ps_sender(client, stack.slack, f"open{label}"), rate, seconds)),
        ("help acks", lambda: open_loop(_help_sender(client, stack.slack, f"help{label}"), rate, seconds)),
        ("engine alone", lambda: open_loop(_engine_sender(api), rate, seconds)),
        ("saturation", lambda: closed_loop(_ps_sender(client, stack.slack, f"sat{label}"), clients, seconds)),
    )
    results = []
    for name, run in runs:
        outcomes, took = run()
        results.append(summarize(name + suffix, outcomes, took))
    return results


def run_acks(
    stack: Stack, bot: BotProcess, pull_refs: list[str], *, rate: float, clients: int, seconds: float
) -> AckRun:
    client = stack.client(bot)
    api = docker.APIClient(base_url=stack.engine.docker_host, version="auto", timeout=30, max_pool_size=100)
    try:
        results = _scenarios(stack, client, api, rate, clients, seconds, "")
        with SlowPulls(stack, bot, pull_refs) as pulls:
            results += _scenarios(stack, client, api, rate, clients, seconds, " + pulls")
    finally:
        api.close()
    durations = sorted(pulls.durations)
    return AckRun(
        results=results,
        pulls_completed=len(durations),
        pull_seconds_median=round(durations[len(durations) // 2], 2) if durations else None,
        pull_failures=pulls.failures,
    )
