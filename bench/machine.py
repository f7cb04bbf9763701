"""The machine a run came from: figures mean little without it."""

import os
import platform
import subprocess
import sys
from pathlib import Path


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _docker_versions(docker_cli: str, docker_host: str) -> dict[str, str]:
    env = {**os.environ, "DOCKER_HOST": docker_host}
    versions = {}
    for side in ("Client", "Server"):
        done = subprocess.run(
            [docker_cli, "version", "--format", f"{{{{.{side}.Version}}}}"], env=env, capture_output=True, text=True
        )
        versions[side.lower()] = done.stdout.strip() or "unknown"
    return versions


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def describe(docker_cli: str, docker_host: str) -> dict:
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_gib": _ram_gib(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "docker_cli": docker_cli,
        "docker": _docker_versions(docker_cli, docker_host),
    }
