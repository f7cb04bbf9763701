"""A counting proxy in front of the Docker socket: every Engine API request that passes is recorded.

Clients (the bot, the docker CLI) dial the proxy's unix socket; each connection gets its own connection to the
engine. Requests are parsed just far enough to find where each one ends (Content-Length or chunked bodies), so
keep-alive connections carrying many requests are counted right; responses are relayed untouched. A request
that upgrades the connection (attach, exec) turns it into a plain byte pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/)")
_CHUNK = 64 * 1024
_MAX_HEAD = 1024 * 1024


@dataclass(frozen=True)
class EngineRequest:
    at: float  # time.monotonic() when its head had arrived
    method: str
    path: str  # without the API version prefix or the query, e.g. "/containers/json"
    query: str

    @property
    def kind(self) -> str:
        """What the request is for, in words the bench reports: "container list", "container inspect", …"""
        return classify(self.method, self.path)


def classify(method: str, path: str) -> str:
    parts = [part for part in path.split("/") if part]
    if path in ("/_ping", "/version", "/info"):
        return "handshake"
    if parts[:1] == ["containers"]:
        if parts == ["containers", "json"]:
            return "container list"
        if len(parts) == 3 and parts[2] == "json":
            return "container inspect"
        if len(parts) == 3 and parts[2] == "stats":
            return "container stats"
    if parts == ["services"]:
        return "service list"
    if parts[:1] == ["images"]:
        if parts == ["images", "json"]:
            return "image list"
        if len(parts) >= 3 and parts[-1] == "json":
            return "image inspect"
    return f"{method} {path}"


LISTINGS = ("container list", "image list")
INSPECTS = ("container inspect", "image inspect")


class CountingProxy:
    """`with CountingProxy(upstream_socket, listen_socket) as proxy:` — then DOCKER_HOST=proxy.docker_host."""

    def __init__(self, upstream: str | Path, path: str | Path) -> None:
        self.upstream = str(upstream).removeprefix("unix://")
        self.path = Path(path)
        self._requests: list[EngineRequest] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[asyncio.Task] = set()
        self._accepted = 0

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    # -- what passed ------------------------------------------------------------

    def requests(self) -> list[EngineRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()

    def counts(self) -> Counter[str]:
        return Counter(request.kind for request in self.requests())

    def connections_accepted(self) -> int:
        """How many connections clients have opened through the proxy since it started."""
        with self._lock:
            return self._accepted

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> CountingProxy:
        self.path.unlink(missing_ok=True)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="counting-proxy", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(asyncio.start_unix_server(self._accept, str(self.path)), self._loop)
        self._server = future.result(timeout=10)
        return self

    def close(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    # -- relaying -------------------------------------------------------------------

    async def _accept(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        with self._lock:
            self._accepted += 1
        try:
            engine_in, engine_out = await asyncio.open_unix_connection(self.upstream, limit=_MAX_HEAD)
        except OSError:
            client_out.close()
            self._connections.discard(task)
            return
        answers = asyncio.create_task(self._pipe(engine_in, client_out))
        try:
            await self._requests_from(client_in, engine_out)
            await answers  # the engine closes (or the client does) when the last answer is done
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass  # a client or the engine hung up, or the proxy is closing
        finally:
            answers.cancel()
            for writer in (engine_out, client_out):
                with contextlib.suppress(Exception):
                    writer.close()
            self._connections.discard(task)

    async def _requests_from(self, client: asyncio.StreamReader, engine: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await client.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                with contextlib.suppress(Exception):
                    engine.write_eof()
                return
            method, target, headers = _parse_head(head)
            path, _, query = target.partition("?")
            with self._lock:
                self._requests.append(EngineRequest(time.monotonic(), method, _VERSION_PREFIX.sub("", path), query))
            engine.write(head)
            if headers.get("transfer-encoding", "").lower() == "chunked":
                await _relay_chunked(client, engine)
            else:
                await _relay_exactly(client, engine, int(headers.get("content-length") or 0))
            await engine.drain()
            if "upgrade" in headers.get("connection", "").lower():
                await self._pipe(client, engine)  # attach/exec: raw bytes from here on
                return

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(_CHUNK):
            sink.write(data)
            await sink.drain()
        with contextlib.suppress(Exception):
            sink.write_eof()


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, *_ = [*lines[0].split(" ", 2), "", ""]
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return method, target, headers


async def _relay_exactly(source: asyncio.StreamReader, sink: asyncio.StreamWriter, length: int) -> None:
    while length > 0:
        data = await source.read(min(length, _CHUNK))
        if not data:
            raise asyncio.IncompleteReadError(b"", length)
        sink.write(data)
        length -= len(data)


async def _relay_chunked(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    while True:
        size_line = await source.readuntil(b"\r\n")
        sink.write(size_line)
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            # Trailers, if any, then the blank line that ends the body.
            while (line := await source.readuntil(b"\r\n")) != b"\r\n":
                sink.write(line)
            sink.write(b"\r\n")
            return
        await _relay_exactly(source, sink, size + 2)  # the chunk and its CRLF
