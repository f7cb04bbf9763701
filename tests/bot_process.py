"""The bot as a real server process, the way it runs in production, wired to the Slack stand-in.

    bot = shipmate("serve", standin=slack, signing_secret=secret, docker_host=engine.docker_host, workdir=tmp)
    bot.start().wait_ready()
    ...
    assert bot.stop() == 0

The process gets only the environment the test builds (no SLACK_/SHIPMATE_/DOCKER_ variables or proxies from
the developer's shell) and runs in its own working directory, so no stray .env is read.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import IO

from tests.slack_standin import SlackStandin

READY_TIMEOUT = 20.0
_INHERITED_PREFIXES = ("SLACK_", "SHIPMATE_", "DOCKER_")
_PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _healthy(url: str) -> bool:
    """gunicorn's master accepts connections before its worker has loaded the app; /healthz needs the worker."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == HTTPStatus.OK
    except OSError:  # refused, reset, timed out, or an HTTP error status
        return False


def _process_tree(root: int) -> list[int]:
    """root and its descendants (under `serve`, gunicorn's master and its worker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


@dataclass(frozen=True)
class ProcStats:
    """Resource use of the process and its children, summed, from /proc, for the soak test."""

    fds: int
    threads: int
    rss_kib: int


class BotProcess:
    def __init__(
        self,
        argv: list[str],
        env: Mapping[str, str],
        workdir: Path,
        *,
        port: int | None = None,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        """`ready` says when the process is serving; by default, when `port` accepts TCP connections."""
        self.argv = argv
        self.env = dict(env)
        self.workdir = workdir
        self.port = port
        self._ready = ready or (lambda: port is not None and _accepts(port))
        self.log_path = workdir / "bot.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        assert self.port is not None, "this process has no HTTP port"
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None, "start() the process first"
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> BotProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            self.argv,
            cwd=self.workdir,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the test run is not also a signal to the bot
        )
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> BotProcess:
        deadline = time.monotonic() + timeout
        while not self._ready():
            if not self.running:
                raise RuntimeError(f"the bot exited with {self.returncode} before it was ready:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot was not ready within {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signal the process and return its exit code; a process that outstays `timeout` is killed and reported."""
        assert self._process is not None, "start() the process first"
        try:
            if self._process.poll() is None:
                self._process.send_signal(sig)
                try:
                    self._process.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(self._process.pid, signal.SIGKILL)
                    self._process.wait()
                    raise TimeoutError(
                        f"the bot did not exit within {timeout}s of {sig.name}:\n{self.log_tail()}"
                    ) from None
            return self._process.returncode
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process and its children so far (for the bench's watcher figures)."""
        ticks = 0
        for pid in _process_tree(self.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # exited between the listing and now
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stats(self) -> ProcStats:
        fds = threads = rss_kib = 0
        for pid in _process_tree(self.pid):
            proc = Path(f"/proc/{pid}")
            try:
                status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines())
                fds += len(os.listdir(proc / "fd"))
            except OSError:  # exited between the listing and now
                continue
            threads += int(status["Threads"])
            rss_kib += int(status.get("VmRSS", "0 kB").split()[0])
        return ProcStats(fds, threads, rss_kib)


def bot_environment(
    standin: SlackStandin, signing_secret: str, docker_host: str, extra: Mapping[str, str]
) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_INHERITED_PREFIXES) and name.lower() not in _PROXY_VARIABLES
    }
    env |= {
        "SLACK_BOT_TOKEN": standin.bot_token,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_APP_TOKEN": standin.app_token,
        "SLACK_API_URL": standin.api_url,
        "DOCKER_HOST": docker_host,
        "PYTHONUNBUFFERED": "1",  # log lines reach the log file as they happen
        "PYTHONPATH": str(REPO),  # this checkout's code, whichever checkout `pip install -e` last pointed at
    }
    return env | dict(extra)


def shipmate(
    mode: str,
    *,
    standin: SlackStandin,
    signing_secret: str,
    docker_host: str,
    workdir: Path,
    extra_env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> BotProcess:
    """`python -m bot serve` on a free 127.0.0.1 port (ready when /healthz answers), or `python -m bot socket`
    (ready once it has connected to the stand-in); `args` are more command-line options."""
    env = bot_environment(standin, signing_secret, docker_host, extra_env or {})
    if mode == "serve":
        port = free_port()
        argv = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
        return BotProcess(argv, env, workdir, port=port, ready=lambda: _healthy(f"http://127.0.0.1:{port}/healthz"))
    if mode == "socket":
        connected_before = standin.connection_count
        return BotProcess(
            [sys.executable, "-m", "bot", "socket", *args],
            env,
            workdir,
            ready=lambda: standin.connection_count > connected_before and standin.open_connections > 0,
        )
    raise ValueError(f"mode is 'serve' or 'socket', not {mode!r}")
