"""3. Local mode start: `shipmate local '/ps'` against the floor of any docker-py program, interleaved, and what
the local path imports."""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stats import median, ms

FLOOR = "import docker; docker.from_env().api.containers()"
# What only `serve` / `socket` need, and docker-py's own ssh transport (Shipmate relays ssh through a unix socket):
# none of it may be imported to answer one command in the terminal.
NOT_FOR_LOCAL = (
    "slack_bolt",
    "slack_sdk",
    "flask",
    "werkzeug",
    "gunicorn",
    "websocket",
    "jinja2",
    "bot.slack",
    "paramiko",
)


def shipmate_script() -> list[str]:
    """The installed `shipmate` entry point beside this interpreter (not a pyenv/asdf shim, which adds its own
    start-up); `python -m bot` when there is none."""
    script = Path(sys.executable).parent / "shipmate"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


@dataclass(frozen=True)
class LocalStart:
    shipmate_ms: float  # median wall time
    floor_ms: float
    shipmate_cpu_ms: float  # median user+sys CPU time, steadier than wall time on a busy machine
    floor_cpu_ms: float
    runs: int
    modules: int  # modules the local path imports
    floor_modules: int
    not_for_local: list[str]  # Slack / HTTP-server modules it imported (should be none)

    @property
    def ratio(self) -> float:
        return round(self.shipmate_ms / self.floor_ms, 2)

    @property
    def cpu_ratio(self) -> float:
        return round(self.shipmate_cpu_ms / self.floor_cpu_ms, 2)


def _timed(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run; the run must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {process.returncode}: {stderr[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _imported(argv: list[str], env: dict[str, str], cwd: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return [
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ][1:]  # the first line is the header


def measure_local_start(docker_host: str, runs: int, code: Path) -> LocalStart:
    # Bytecode as any installed package has it (pip compiles on install; an editable checkout gets it on first
    # import unless PYTHONDONTWRITEBYTECODE is set): both sides then start from .pyc files.
    compileall.compile_dir(str(code / "bot"), quiet=1)
    # PYTHONPATH: `code`'s bot/, whichever checkout `pip install -e` last pointed at (the floor gets it too).
    env = {**os.environ, "DOCKER_HOST": docker_host, "PYTHONPATH": str(code)}
    for name in list(env):
        if name.startswith(("SLACK_", "SHIPMATE_")):
            del env[name]
    cwd = tempfile.mkdtemp(prefix="bench-local-")  # no .env, no policy: the README's "Try it" path
    shipmate = [*shipmate_script(), "local", "/ps"]
    floor = [sys.executable, "-c", FLOOR]
    try:
        for _ in range(2):  # warm the page cache and the audit database
            _timed(shipmate, env, cwd)
            _timed(floor, env, cwd)
        walls: dict[str, list[float]] = {"shipmate": [], "floor": []}
        cpus: dict[str, list[float]] = {"shipmate": [], "floor": []}
        for _ in range(runs):
            for name, argv in (("shipmate", shipmate), ("floor", floor)):
                wall, cpu = _timed(argv, env, cwd)
                walls[name].append(wall)
                cpus[name].append(cpu)
        modules = _imported(["-m", "bot", "local", "/ps"], env, cwd)
        floor_modules = _imported(["-c", FLOOR], env, cwd)
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    return LocalStart(
        shipmate_ms=ms(median(walls["shipmate"])),
        floor_ms=ms(median(walls["floor"])),
        shipmate_cpu_ms=ms(median(cpus["shipmate"])),
        floor_cpu_ms=ms(median(cpus["floor"])),
        runs=runs,
        modules=len(modules),
        floor_modules=len(floor_modules),
        not_for_local=sorted({m for m in modules if any(m == p or m.startswith(p + ".") for p in NOT_FOR_LOCAL)}),
    )
