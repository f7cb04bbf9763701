"""Several engines: `/ps -a` on three engines at once against the slowest of them alone, the Engine API requests
behind it (one listing per engine), and how long the answer waits for an engine that hangs.

All of it through the Dispatcher exactly as `make_dispatcher` wires it (engines file, policy-free local admin),
so the figures are Shipmate's own: parse, choose the engines, authorize, run on each, merge, render as text.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker

from bench.fixtures import create_containers
from bench.proxy import LISTINGS, CountingProxy
from bench.stats import median, ms
from bot.assembly import make_dispatcher
from bot.config import CoreSettings
from bot.dispatcher import Dispatcher, Request
from bot.render.terminal import to_text
from bot.results import FleetAnswer
from tests.private_engine import PrivateEngine
from tests.side_engines import HungEngine, SideEngine

HUNG_TIMEOUT = 2.0


@dataclass(frozen=True)
class FleetFigures:
    engines: dict[str, int]  # engine -> containers on it
    single_ms: dict[str, float]  # engine -> median `/ps --context ENGINE -a`
    fan_out_ms: float  # median `/ps --context all -a`
    listings: dict[str, int]  # engine -> container listings behind one fan-out
    requests: dict[str, int]  # engine -> every Engine API request behind one fan-out
    hung_ms: float  # median fan-out with one engine hung (its timeout HUNG_TIMEOUT)
    hung_answered: bool  # the other engines still answered
    runs: int

    @property
    def slowest(self) -> str:
        return max(self.single_ms, key=self.single_ms.__getitem__)

    @property
    def ratio(self) -> float:
        return round(self.fan_out_ms / self.single_ms[self.slowest], 2)


def _engines_file(path: Path, hosts: dict[str, str], timeouts: dict[str, float]) -> Path:
    lines = [f"default: {next(iter(hosts))}", "engines:"]
    lines += [f'  {name}: {{host: "{host}", timeout: {timeouts.get(name, 10):g}}}' for name, host in hosts.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _dispatcher(engines: Path, workdir: Path) -> Dispatcher:
    settings = CoreSettings(
        docker_host=None,
        docker_timeout=10,
        run_timeout=60,
        policy_path=workdir / "no-policy.yml",
        audit_db=workdir / f"{engines.stem}-audit.db",
        engines_path=engines,
    )
    return make_dispatcher(settings, local_admin=True)


def _timed(dispatcher: Dispatcher, context: str) -> tuple[float, object]:
    started = time.perf_counter()
    reply = dispatcher.handle(Request(text=f"--context {context} -a", slash="/ps"), to_text)
    return time.perf_counter() - started, reply.result


@contextlib.contextmanager
def _side_engines(primary: PrivateEngine, count: int, containers: int) -> Iterator[list[SideEngine]]:
    sides = [SideEngine(primary, ("busybox:latest",)) for _ in range(count)]
    try:
        for side in sides:
            side.start()
            api = side.api()
            try:
                create_containers(api, containers)
            finally:
                api.close()
        yield sides
    finally:
        for side in sides:
            side.close()


def measure_fleet(
    primary: PrivateEngine, workdir: Path, runs: int, side_containers: int = 20, hung_runs: int = 3
) -> FleetFigures:
    """`primary` holds the big listing (the bench's 200 containers); two side engines hold `side_containers` each."""
    workdir.mkdir(parents=True, exist_ok=True)
    with _side_engines(primary, 2, side_containers) as sides, contextlib.ExitStack() as stack:
        upstreams = {"big": primary.docker_host, "side-1": sides[0].docker_host, "side-2": sides[1].docker_host}
        proxies = {
            name: stack.enter_context(CountingProxy(host, workdir / f"{name}.sock")) for name, host in upstreams.items()
        }
        counts = {name: len(_listing(host)) for name, host in upstreams.items()}
        hosts = {name: proxy.docker_host for name, proxy in proxies.items()}
        dispatcher = _dispatcher(_engines_file(workdir / "engines.yml", hosts, {}), workdir)
        stack.callback(dispatcher.close)
        singles: dict[str, list[float]] = {name: [] for name in hosts}
        fan_outs: list[float] = []
        for index in range(runs + 2):  # two warm-ups (each engine's client asks its API version once), not counted
            for name in hosts:
                took, _ = _timed(dispatcher, name)
                if index >= 2:
                    singles[name].append(took)
            took, result = _timed(dispatcher, "all")
            if not isinstance(result, FleetAnswer) or result.unanswered:
                raise RuntimeError(f"fan-out did not get every engine's answer: {result}")
            if index >= 2:
                fan_outs.append(took)
        for proxy in proxies.values():
            proxy.reset()
        _timed(dispatcher, "all")
        requests = {name: proxy.counts() for name, proxy in proxies.items()}

        hung = HungEngine(workdir / "hung.sock")
        stack.callback(hung.close)
        hung_file = _engines_file(
            workdir / "engines-hung.yml", {**hosts, "hung": hung.docker_host}, {"hung": HUNG_TIMEOUT}
        )
        hung_dispatcher = _dispatcher(hung_file, workdir)
        stack.callback(hung_dispatcher.close)
        hung_times, answered = [], True
        for _ in range(hung_runs):
            took, result = _timed(hung_dispatcher, "all")
            hung_times.append(took)
            answered = answered and isinstance(result, FleetAnswer) and len(result.parts) == len(hosts)
    return FleetFigures(
        engines=counts,
        single_ms={name: ms(median(times)) for name, times in singles.items()},
        fan_out_ms=ms(median(fan_outs)),
        listings={name: sum(count[kind] for kind in LISTINGS) for name, count in requests.items()},
        requests={name: sum(count.values()) for name, count in requests.items()},
        hung_ms=ms(median(hung_times)),
        hung_answered=answered,
        runs=runs,
    )


def _listing(docker_host: str) -> list[dict]:
    api = docker.APIClient(base_url=docker_host, version="auto", timeout=30)
    try:
        return api.containers(all=True)
    finally:
        api.close()
