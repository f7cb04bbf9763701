"""A unix-socket HTTP proxy between docker-py and a private dockerd's socket that records every request's method and
path: how the dry-run tests prove that a dry run makes no Engine API call that changes state.

Each client connection gets its own connection to the engine. Requests are read one at a time (request line,
headers, a Content-Length body) and passed on whole; responses flow back untouched. A request this proxy cannot
frame (a chunked body, a connection upgrade) is recorded, and the rest of that connection is relayed as raw bytes
and counted in `unframed`: a test can then insist there were none.
"""

import contextlib
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

HEAD_END = b"\r\n\r\n"
READ_SIZE = 65536
READ_ONLY = {"GET", "HEAD"}


class CountingProxy:
    def __init__(self, engine_socket: str, path: Path) -> None:
        self.engine_socket = engine_socket
        self.path = path
        self.calls: list[tuple[str, str]] = []
        self.unframed = 0
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._open: list[socket.socket] = []

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> "CountingProxy":
        self._listener.bind(str(self.path))
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True, name="counting-proxy").start()
        return self

    def close(self) -> None:
        for sock in [self._listener, *self._open]:
            with contextlib.suppress(OSError):
                sock.close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.unframed = 0

    def changing(self) -> list[tuple[str, str]]:
        """The calls that may change the engine's state: anything but GET and HEAD."""
        with self._lock:
            return [call for call in self.calls if call[0] not in READ_ONLY]

    def paths(self) -> list[str]:
        with self._lock:
            return [path for _, path in self.calls]

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            engine.connect(self.engine_socket)
            self._open += [client, engine]
            threading.Thread(target=self._requests, args=(client, engine), daemon=True).start()
            threading.Thread(target=self._relay, args=(engine, client), daemon=True).start()

    @staticmethod
    def _relay(source: socket.socket, sink: socket.socket, buffered: bytes = b"") -> None:
        with contextlib.suppress(OSError):
            if buffered:
                sink.sendall(buffered)
            while data := source.recv(READ_SIZE):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _requests(self, client: socket.socket, engine: socket.socket) -> None:
        buffered = b""
        try:
            while True:
                while HEAD_END not in buffered:
                    data = client.recv(READ_SIZE)
                    if not data:
                        engine.shutdown(socket.SHUT_WR)
                        return
                    buffered += data
                head, _, buffered = buffered.partition(HEAD_END)
                lines = head.split(b"\r\n")
                method, target, _ = lines[0].decode("latin-1").split(" ", 2)
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.decode("latin-1").partition(":") for line in lines[1:])
                }
                with self._lock:
                    self.calls.append((method, urlsplit(target).path))
                engine.sendall(head + HEAD_END)
                if "chunked" in headers.get("transfer-encoding", "").lower() or "upgrade" in headers:
                    with self._lock:
                        self.unframed += 1
                    self._relay(client, engine, buffered)
                    return
                length = int(headers.get("content-length", "0") or 0)
                while len(buffered) < length:
                    data = client.recv(READ_SIZE)
                    if not data:
                        return
                    buffered += data
                engine.sendall(buffered[:length])
                buffered = buffered[length:]
        except OSError:
            return
