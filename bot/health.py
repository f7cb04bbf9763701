"""/healthz, /readyz and /metrics: what they answer, for the HTTP server (`serve`) and for the small one that
`socket --metrics-port` starts.

/healthz: 200 while the process serves. /readyz: 200 when every engine and the database answer, else 503 with a
JSON body naming the parts that are down. /metrics: Prometheus' text format.
"""

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot import metrics
from bot.dispatcher import Dispatcher
from bot.engine import EngineError

READY_PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def _engine_state(dispatcher: Dispatcher, name: str) -> str:
    try:
        dispatcher.fleet.engine(name).ping(READY_PROBE_TIMEOUT)
    except EngineError as error:
        return str(error)
    return "ok"


def readiness(dispatcher: Dispatcher) -> Answer:
    """Every engine and the database asked at once; 503 names what did not answer ("engine NAME", "database")."""
    names = dispatcher.fleet.names
    with ThreadPoolExecutor(max_workers=len(names) + 1, thread_name_prefix="shipmate-ready") as pool:
        states = pool.map(lambda name: _engine_state(dispatcher, name), names)
        database = pool.submit(lambda: dispatcher.audit.ping() or "ok" if dispatcher.audit is not None else "ok")
        engines = dict(zip(names, states, strict=True))
        database_state = database.result()
    down = [f"engine {name}" for name, state in engines.items() if state != "ok"]
    down += ["database"] if database_state != "ok" else []
    body = json.dumps({"ready": not down, "down": down, "engines": engines, "database": database_state})
    return Answer(503 if down else 200, "application/json", body.encode())


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
