"""/healthz, /readyz and /metrics: what they answer, for the HTTP server (`serve`) and for the small one that
`socket --metrics-port` starts.

/healthz: 200 while the process serves. /readyz: 200 when the engine and the database answer, else 503 with a
JSON body naming the part that is down. /metrics: Prometheus' text format.
"""

import json
import logging
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot import metrics
from bot.dispatcher import Dispatcher
from bot.engine import EngineError

log = logging.getLogger(__name__)
READY_PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def readiness(dispatcher: Dispatcher) -> Answer:
    parts: dict[str, str] = {}
    try:
        dispatcher.engine.ping(READY_PROBE_TIMEOUT)
        parts["engine"] = "ok"
    except EngineError as error:
        parts["engine"] = str(error)
    if dispatcher.audit is not None:
        parts["database"] = dispatcher.audit.ping() or "ok"
    down = sorted(part for part, state in parts.items() if state != "ok")
    body = json.dumps({"ready": not down, "down": down, **parts}).encode()
    return Answer(503 if down else 200, "application/json", body)


def answer(path: str, dispatcher: Dispatcher) -> Answer | None:
    """The answer to GET `path`, or None when it is not one of these three."""
    if path == "/healthz":
        return Answer(200, "text/plain; charset=utf-8", b"ok")
    if path == "/readyz":
        return readiness(dispatcher)
    if path == "/metrics":
        body, content_type = metrics.exposition()
        return Answer(200, content_type, body)
    return None


def serve_in_background(listener: socket.socket, dispatcher: Dispatcher) -> ThreadingHTTPServer:
    """Serve the three paths on an already listening socket, from a daemon thread; `shutdown()` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = answer(self.path.split("?", 1)[0], dispatcher) or Answer(404, "text/plain", b"not found")
            self.send_response(found.status)
            self.send_header("Content-Type", found.content_type)
            self.send_header("Content-Length", str(len(found.body)))
            self.end_headers()
            self.wfile.write(found.body)

        def log_message(self, format: str, *args: object) -> None:  # probes every few seconds: not worth a line
            pass

    server = ThreadingHTTPServer(listener.getsockname()[:2], Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = listener
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.5,), name="shipmate-metrics", daemon=True).start()
    return server
