"""`/compose ls` over many Compose projects: the Engine API requests behind it, counted at the socket, and the time
to the complete reply against `docker compose ls -a` where the compose plugin exists, else the docker CLI's own
listing of the same containers (`docker ps -a --filter label=com.docker.compose.project`)."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import docker

from bench.listing import cli_environment, count_requests
from bench.stack import Stack, ack_problem, slash
from bench.stats import median, ms
from tests.bot_process import BotProcess

PROJECT_PREFIX = "bench-p"
SERVICES = ("db", "cache", "api", "worker", "web")  # each after the one before it: a depends_on chain


def create_projects(api: docker.APIClient, projects: int, per_project: int, image: str = "busybox:latest") -> None:
    """`projects` Compose projects of `per_project` containers each, labelled as Compose labels them, created and
    never started (a busy host's `docker compose ls -a`)."""

    def create(index: int) -> None:
        project = f"{PROJECT_PREFIX}{index:02d}"
        for number in range(per_project):
            service = SERVICES[number % len(SERVICES)]
            before = SERVICES[number % len(SERVICES) - 1] if number % len(SERVICES) else ""
            labels = {
                "com.docker.compose.project": project,
                "com.docker.compose.service": service,
                "com.docker.compose.container-number": str(number // len(SERVICES) + 1),
                "com.docker.compose.project.config_files": f"/srv/{project}/compose.yaml",
                "com.docker.compose.project.working_dir": f"/srv/{project}",
                "com.docker.compose.depends_on": f"{before}:service_started:false" if before else "",
                "com.docker.compose.oneoff": "False",
            }
            name = f"{project}-{service}-{number // len(SERVICES) + 1}"
            api.create_container(image, command=["true"], name=name, labels=labels)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(1, projects + 1)))


def compose_cli_arguments(docker_cli: str) -> tuple[str, ...]:
    """`compose ls -a` when the compose plugin answers, else the plain listing of the same containers."""
    plugin = subprocess.run([docker_cli, "compose", "version"], capture_output=True, check=False)
    if plugin.returncode == 0:
        return ("compose", "ls", "-a")
    return ("ps", "-a", "--filter", "label=com.docker.compose.project")


@dataclass(frozen=True)
class ComposeListing:
    requests: int
    by_kind: dict[str, int]
    reply: str
    cli: str  # the docker command compared against
    cli_requests: dict[str, int]
    bot_ms: float  # median: POST to the last byte of the ack carrying the complete reply
    cli_ms: float  # median wall time of the CLI
    runs: int

    @property
    def ratio(self) -> float:
        return round(self.bot_ms / self.cli_ms, 2)


def count_compose_ls(stack: Stack, counted: BotProcess, repeats: int = 3) -> tuple[dict[str, int], str]:
    """The Engine API requests one `/compose ls` costs (the most of `repeats`), and its reply line."""
    client = stack.client(counted)

    def send() -> str:
        reply = slash(client, stack.slack, "/compose", "ls", "compose-count")
        problem = ack_problem(reply)
        if problem:
            raise RuntimeError(f"/compose ls: {problem}")
        return str(reply.body.get("text", ""))

    send()  # a fresh client's first command also asks the engine its API version
    counts, line = count_requests(stack.proxy, send, repeats)
    return dict(counts), line


def measure_compose_ls(
    stack: Stack, counted: BotProcess, bot: BotProcess, docker_cli: str, runs: int
) -> ComposeListing:
    counts, line = count_compose_ls(stack, counted)
    args = compose_cli_arguments(docker_cli)
    stack.proxy.reset()
    subprocess.run([docker_cli, *args], env=cli_environment(stack.proxy.docker_host), check=True, capture_output=True)
    cli_counts = dict(stack.proxy.counts())

    client = stack.client(bot)
    env = cli_environment(stack.engine.docker_host)
    bot_times, cli_times = [], []
    for index in range(runs + 2):  # two warm-ups each, not counted
        reply = slash(client, stack.slack, "/compose", "ls", f"compose-time-{index}")
        problem = ack_problem(reply)
        if problem:
            raise RuntimeError(f"/compose ls: {problem}")
        started = time.perf_counter()
        subprocess.run([docker_cli, *args], env=env, check=True, stdout=subprocess.DEVNULL)
        elapsed = time.perf_counter() - started
        if index >= 2:
            bot_times.append(reply.elapsed)
            cli_times.append(elapsed)
    return ComposeListing(
        requests=sum(counts.values()),
        by_kind=counts,
        reply=line,
        cli="docker " + " ".join(args),
        cli_requests=cli_counts,
        bot_ms=ms(median(bot_times)),
        cli_ms=ms(median(cli_times)),
        runs=runs,
    )
