"""An engine over ssh://: what one Engine API request costs through docker-py's own shell-out transport (a new
`ssh` and remote `docker system dial-stdio` per request, as Shipmate did before its relay) and through Shipmate's
Engine (one ssh kept by the relay), both against the private engine behind a private sshd on 127.0.0.1."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker

from bench.stats import median, ms
from bot.engine.client import Engine
from tests.private_engine import PrivateEngine
from tests.side_engines import SSHGateway


@dataclass(frozen=True)
class SSHFigures:
    shell_out_ms: float  # median GET /containers/json through docker-py's shell-out transport
    relay_ms: float  # the same through Shipmate's Engine
    shell_out_ssh_runs: int  # ssh runs behind `runs` requests
    relay_ssh_runs: int
    runs: int

    @property
    def ratio(self) -> float:
        return round(self.shell_out_ms / self.relay_ms, 1)


@contextmanager
def _ssh_on_path(gateway: SSHGateway) -> Iterator[None]:
    before = os.environ["PATH"]
    os.environ["PATH"] = f"{gateway.bin}:{before}"
    try:
        yield
    finally:
        os.environ["PATH"] = before


def _timed(request: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        request()
        samples.append(time.perf_counter() - started)
    return ms(median(samples))


def measure_ssh(engine: PrivateEngine, workdir: Path, runs: int) -> SSHFigures:
    """Median of `runs` listings each way, after one request that connects (and asks the API version)."""
    gateway = SSHGateway(workdir / "ssh", engine.docker_host)
    try:
        with _ssh_on_path(gateway):
            shell_out = docker.APIClient(base_url=gateway.url, version="auto", timeout=30, use_ssh_client=True)
            try:
                shell_out.containers(all=True)
                before = gateway.runs()
                shell_out_ms = _timed(lambda: shell_out.containers(all=True), runs)
                shell_out_runs = gateway.runs() - before
            finally:
                shell_out.close()
            relay = Engine(gateway.url, timeout=30, name="bench-ssh", from_environment=False)
            try:
                relay.api.containers(all=True)
                before = gateway.runs()
                relay_ms = _timed(lambda: relay.api.containers(all=True), runs)
                relay_runs = gateway.runs() - before
            finally:
                relay.close()
    finally:
        gateway.close()
    return SSHFigures(shell_out_ms, relay_ms, shell_out_runs, relay_runs, runs)
