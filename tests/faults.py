"""Engines that misbehave, for the robustness tests: one that never answers, one whose registry is gone.

    with HungEngine() as hung:          # DOCKER_HOST=hung.docker_host: every call hangs until its timeout
        ...
    with registry_down(engine):         # the private engine's registry stopped, dockerd still up
        ...

The hung engine listens on a unix socket of its own under /tmp (socket paths are limited to 108 bytes) and
counts the connections it took, so a test can tell that the bot really tried.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from tests.private_engine import PrivateEngine


class HungEngine:
    """Accepts every connection and reads what it is sent, but never answers a byte: a wedged dockerd."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="shm-fault-", dir="/tmp"))
        self.path = self._dir / "docker.sock"
        self.connections = 0
        self._lock = threading.Lock()
        self._held: list[socket.socket] = []
        self._closing = threading.Event()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._thread = threading.Thread(target=self._accept_loop, name=type(self).__name__, daemon=True)

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> HungEngine:
        self._listener.bind(str(self.path))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            held, self._held = self._held, []
        for conn in held:
            conn.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> HungEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._held.append(conn)
            threading.Thread(target=self._swallow, args=(conn,), daemon=True).start()

    def _swallow(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        while not self._closing.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return


@contextlib.contextmanager
def registry_down(engine: PrivateEngine) -> Iterator[None]:
    """The private engine's registry stopped for the block (dockerd stays up), then started again."""
    registry = engine._registry  # the harness has no public switch for the registry alone
    assert registry is not None and registry.running, "the private engine's registry is not running"
    registry.stop()
    try:
        yield
    finally:
        engine._start_registry()
