"""7. Swarm services: the Engine API requests behind `/service ls` over many services, its reply against
`docker service ls`, and the time from `/service scale web=3` to the "converged" message against
`docker service scale web=3`, which also waits for convergence. All on a one-node swarm on the private engine."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import docker

from bench.listing import cli_environment, count_requests
from bench.stack import Stack, ack_problem, slash
from bench.stats import median, ms
from tests.bot_process import BotProcess
from tests.swarm import join, leave

SERVICE_PREFIX = "bench-svc-"
SCALED = "bench-web"
# Idles until told to stop, and stops at once (no 10 s grace period between scale runs).
IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
CONVERGE_TIMEOUT = 120.0


@contextmanager
def swarm(stack: Stack) -> Iterator[docker.APIClient]:
    """The engine as a one-node swarm manager for the block; left (services removed) afterwards."""
    api = stack.engine.api()
    try:
        join(api)
        yield api
    finally:
        leave(api)
        api.close()


def _template() -> dict:
    return {"ContainerSpec": {"Image": "busybox:latest", "Args": IDLE}}


def create_services(api: docker.APIClient, count: int) -> None:
    """`count` replicated services of one task each, and the service the scale figure scales (one replica)."""
    for index in range(1, count + 1):
        api.create_service(_template(), name=f"{SERVICE_PREFIX}{index:03d}")
    api.create_service(_template(), name=SCALED)
    _wait_running(api, count + 1)


def _wait_running(api: docker.APIClient, tasks: int) -> None:
    deadline = time.monotonic() + CONVERGE_TIMEOUT
    while time.monotonic() < deadline:
        running = api.tasks(filters={"desired-state": "running"})
        if sum(1 for task in running if task["Status"]["State"] == "running") == tasks == len(running):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the bench's services did not all run within {CONVERGE_TIMEOUT:.0f} s")


@dataclass(frozen=True)
class ServiceListing:
    requests: int
    by_kind: dict[str, int]
    reply: str
    cli_requests: dict[str, int]
    bot_ms: float  # median: POST to the last byte of the ack carrying the complete reply
    cli_ms: float  # median wall time of `docker service ls`
    runs: int

    @property
    def ratio(self) -> float:
        return round(self.bot_ms / self.cli_ms, 2)


def measure_service_ls(
    stack: Stack, counted: BotProcess, bot: BotProcess, docker_cli: str, runs: int
) -> ServiceListing:
    counted_client = stack.client(counted)

    def send() -> str:
        reply = slash(counted_client, stack.slack, "/service", "ls", "service-count")
        problem = ack_problem(reply)
        if problem:
            raise RuntimeError(f"/service ls: {problem}")
        return str(reply.body.get("text", ""))

    send()  # a fresh client's first command also asks the engine its API version
    counts, line = count_requests(stack.proxy, send)
    stack.proxy.reset()
    cli_env = cli_environment(stack.proxy.docker_host)
    subprocess.run([docker_cli, "service", "ls"], env=cli_env, check=True, capture_output=True)
    cli_counts = dict(stack.proxy.counts())

    client = stack.client(bot)
    env = cli_environment(stack.engine.docker_host)
    bot_times, cli_times = [], []
    for index in range(runs + 2):  # two warm-ups each, not counted
        reply = slash(client, stack.slack, "/service", "ls", f"service-time-{index}")
        problem = ack_problem(reply)
        if problem:
            raise RuntimeError(f"/service ls: {problem}")
        started = time.perf_counter()
        subprocess.run([docker_cli, "service", "ls"], env=env, check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        if index >= 2:
            bot_times.append(reply.elapsed)
            cli_times.append(elapsed)
    return ServiceListing(
        requests=sum(counts.values()),
        by_kind=dict(counts),
        reply=line,
        cli_requests=cli_counts,
        bot_ms=ms(median(bot_times)),
        cli_ms=ms(median(cli_times)),
        runs=runs,
    )


@dataclass(frozen=True)
class ScaleTiming:
    bot_ms: float  # median: POST of `/service scale bench-web=3` to the chat.update that says "converged"
    cli_ms: float  # median wall time of `docker service scale bench-web=3`
    runs: int

    @property
    def ratio(self) -> float:
        return round(self.bot_ms / self.cli_ms, 2)


def _scale_back(api: docker.APIClient, total_tasks: int) -> None:
    service = api.inspect_service(SCALED)
    spec = service["Spec"]
    api.update_service(
        service["ID"], service["Version"]["Index"], task_template=spec["TaskTemplate"], name=SCALED,
        mode=docker.types.ServiceMode("replicated", 1),
    )  # fmt: skip
    _wait_running(api, total_tasks)


def measure_scale(
    stack: Stack, bot: BotProcess, api: docker.APIClient, docker_cli: str, runs: int, others: int
) -> ScaleTiming:
    client = stack.client(bot)
    env = cli_environment(stack.engine.docker_host)
    bot_times, cli_times = [], []
    for index in range(runs):
        channel = f"C0SCALE{index}"
        started = time.perf_counter()
        reply = slash(client, stack.slack, "/service", f"scale {SCALED}=3", f"scale-{index}", channel_id=channel)
        if reply.status != 200:
            raise RuntimeError(f"/service scale: HTTP {reply.status}")

        def converged(channel: str = channel, name: str = f"scale-{index}") -> bool:
            return any(
                call.body.get("channel") == channel and "converged" in str(call.body.get("text", ""))
                for call in stack.slack.calls("chat.update") + stack.slack.calls("chat.postMessage")
            ) or any("converged" in str(body.get("text", "")) for body in stack.slack.responses(name))

        stack.slack.wait_for(converged, timeout=CONVERGE_TIMEOUT)
        bot_times.append(time.perf_counter() - started)
        _scale_back(api, others + 1)

        started = time.perf_counter()
        subprocess.run(
            [docker_cli, "service", "scale", f"{SCALED}=3"], env=env, check=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        cli_times.append(time.perf_counter() - started)
        _scale_back(api, others + 1)
    return ScaleTiming(ms(median(bot_times)), ms(median(cli_times)), runs)
