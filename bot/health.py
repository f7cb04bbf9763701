"""/healthz, /readyz and /metrics: what they answer, for the HTTP server (`serve`) and for the small one that
`serve --metrics-port` and `socket --metrics-port` start.

/healthz: 200 while the process serves. /readyz: 200 when every engine and the database answer, else 503 with a
JSON body naming the parts that are down. /metrics: Prometheus' text format.

The public port (`serve`'s Slack port) answers /readyz with engine names and ok/down only — no engine host, no
database URL, no error text — and /metrics only when there is no metrics port; the metrics port says why a part is
down. Each part is probed with a short timeout and its answer kept for a few seconds, one probe in flight per part:
a flood of /readyz hits costs each engine one probe every READY_CACHE_SECONDS, never a thread per hit per engine.
No hit waits longer than the probe timeout (and a margin): a probe still running then — the first one of an engine
that never answers also opens its client, which waits for the engine's own timeout — finishes in the background and
the hit answers with the part's last state.
"""

import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bot import metrics
from bot.dispatcher import Dispatcher
from bot.engine import EngineError

READY_PROBE_TIMEOUT = 1.0
READY_CACHE_SECONDS = 5.0
READY_MARGIN_SECONDS = 0.5  # a hit's wait past the probe timeout, for the answer to come back
OK = "ok"
DOWN = "down"
PROBING = "not known yet: being probed"


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


class Probe:
    """One part's last answer ("ok" or why not), asked again once it is `ttl` s old, one ask at a time: while one
    is in flight, other hits get the last answer (PROBING before the first), so no hit waits on another's probe."""

    def __init__(self, ask: Callable[[], str], ttl: float = READY_CACHE_SECONDS) -> None:
        self._ask = ask
        self._ttl = ttl
        self._answer: str | None = None
        self._at = 0.0
        self._asking = threading.Lock()

    @property
    def last(self) -> str:
        """The last answer, without asking (PROBING before the first)."""
        return PROBING if self._answer is None else self._answer

    @property
    def fresh(self) -> bool:
        return self._answer is not None and time.monotonic() - self._at < self._ttl

    def state(self) -> str:
        last = self._answer
        if self.fresh and last is not None:
            return last
        if not self._asking.acquire(blocking=False):
            return PROBING if last is None else last  # being asked right now, for another hit
        try:
            self._answer, self._at = self._ask(), time.monotonic()
            return self._answer
        finally:
            self._asking.release()


class Readiness:
    """The engines' and the database's states, probed as Probe says; shared by every port of the process."""

    def __init__(self, dispatcher: Dispatcher, timeout: float = READY_PROBE_TIMEOUT) -> None:
        self._dispatcher = dispatcher
        self._timeout = timeout
        self._engines: dict[str, Probe] = {}
        self._database = Probe(self._database_state)
        self._lock = threading.Lock()
        # Probes outlive the hit that started them when an engine hangs: one in flight per part, so a few threads.
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="shipmate-ready")

    def _engine_state(self, name: str) -> str:
        try:
            self._dispatcher.fleet.engine(name).ping(self._timeout)
        except EngineError as error:
            return str(error)
        return OK

    def _database_state(self) -> str:
        audit = self._dispatcher.audit
        return (audit.ping() or OK) if audit is not None else OK

    def _probe(self, name: str) -> Probe:
        with self._lock:  # the engines file may name new engines since the last hit
            if name not in self._engines:
                self._engines[name] = Probe(lambda: self._engine_state(name))
            return self._engines[name]

    def states(self) -> tuple[dict[str, str], str]:
        """Each engine's state and the database's; the parts whose answer is not fresh are asked at once."""
        names = self._dispatcher.fleet.names
        probes = [self._probe(name) for name in names] + [self._database]
        if all(probe.fresh for probe in probes):
            states = [probe.state() for probe in probes]
        else:
            asked = [self._pool.submit(probe.state) for probe in probes]
            wait(asked, timeout=self._timeout + READY_MARGIN_SECONDS)
            states = [
                future.result() if future.done() else probe.last for future, probe in zip(asked, probes, strict=True)
            ]
        return dict(zip(names, states[:-1], strict=True)), states[-1]

    def answer(self, public: bool) -> Answer:
        """503 names what did not answer ("engine NAME", "database"); `public`: ok/down only, no hosts or reasons."""
        engines, database = self.states()
        down = [f"engine {name}" for name, state in engines.items() if state != OK]
        down += ["database"] if database != OK else []
        if public:
            engines = {name: OK if state == OK else DOWN for name, state in engines.items()}
            database = OK if database == OK else DOWN
        body = json.dumps({"ready": not down, "down": down, "engines": engines, "database": database})
        return Answer(503 if down else 200, "application/json", body.encode())


class Operations:
    """The three paths, as one port answers them: `public` is the Slack port of `serve`; `with_metrics` says
    whether it also serves /metrics."""

    def __init__(self, readiness: Readiness, public: bool, with_metrics: bool) -> None:
        self.readiness = readiness
        self.public = public
        self.with_metrics = with_metrics

    def answer(self, path: str) -> Answer | None:
        """The answer to GET `path`, or None when this port does not serve it."""
        if path == "/healthz":
            return Answer(200, "text/plain; charset=utf-8", b"ok")
        if path == "/readyz":
            return self.readiness.answer(self.public)
        if path == "/metrics" and self.with_metrics:
            body, content_type = metrics.exposition()
            return Answer(200, content_type, body)
        return None


def serve_in_background(listener: socket.socket, operations: Operations) -> ThreadingHTTPServer:
    """Serve the three paths on an already listening socket, from a daemon thread; `shutdown()` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = operations.answer(self.path.split("?", 1)[0]) or Answer(404, "text/plain", b"not found")
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
