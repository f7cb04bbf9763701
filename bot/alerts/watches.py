"""One Watcher per engine in force, following the engines file while Shipmate runs.

Every CHECK_SECONDS the fleet's engines are read (which reloads the engines file when it changed or after a
SIGHUP; a broken edit keeps the engines in force) and compared, entry by entry, with the ones watched: an engine
added gets a watcher, a removed one has its watcher stopped, and one whose entry changed (host, tls, timeout) gets
a new watcher on its new client. A new watcher starts from the engine's clock, as at start-up: what happened there
before it was added is not alerted.
"""

import logging
import threading

from bot.alerts.watcher import Cursors, Handler, Watcher
from bot.engine import Engine
from bot.engine.spec import EngineSpec
from bot.fleet.engines import Fleet

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0


class FleetWatch:
    def __init__(self, fleet: Fleet, cursors: Cursors | None = None, check_seconds: float = CHECK_SECONDS) -> None:
        self._fleet = fleet
        self._cursors = cursors
        self._check_seconds = check_seconds
        self._handle: Handler | None = None
        self._watching: dict[str, tuple[EngineSpec, Watcher]] = {}
        self._lock = threading.Lock()  # readers (the alerter) against the one thread that changes `_watching`
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shipmate-fleet-watch", daemon=True)

    def start(self, handle: Handler) -> "FleetWatch":
        """Watch the engines in force now, and from then on follow the engines file; events go to `handle`."""
        self._handle = handle
        self.sync(started=True)
        self._thread.start()
        return self

    def engine(self, name: str) -> Engine | None:
        """The client whose events are watched under `name`; None when no engine of that name is."""
        with self._lock:
            found = self._watching.get(name)
        return found[1].engine if found is not None else None

    def sync(self, started: bool = False) -> None:
        """Start, stop or restart watchers so that each engine in force has one, on its entry as it stands."""
        wanted = {spec.name: spec for spec in self._fleet.spec.engines}
        with self._lock:
            watching = dict(self._watching)
        for name, (spec, watcher) in watching.items():
            if wanted.get(name) != spec:
                self._unwatch(name, watcher, "changed in" if name in wanted else "removed from")
        for name, spec in wanted.items():
            known = watching.get(name)
            if known is None or known[0] != spec:
                self._watch(spec, None if started else "changed in" if known is not None else "added to")

    def close(self) -> None:
        """Stop following the file and every watcher; `engine()` still answers, for the alerts being drained."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            watchers = [watcher for _, watcher in self._watching.values()]
        for watcher in watchers:
            watcher.stop()

    def _watch(self, spec: EngineSpec, why: str | None) -> None:
        """`why`: how the engines file changed (None at start-up, where each watcher says so when connected)."""
        assert self._handle is not None  # set by start()
        try:
            engine = self._fleet.engine(spec.name)
        except KeyError:  # removed by a reload since the engines were read: the next check sees it
            return
        watcher = Watcher(spec.name, engine, self._handle, self._cursors, resume=why is None)
        with self._lock:
            self._watching[spec.name] = (spec, watcher)
        watcher.start()
        if why is not None:
            log.info("alerts: engine %s %s the engines file: its watcher started", spec.name, why)

    def _unwatch(self, name: str, watcher: Watcher, why: str) -> None:
        with self._lock:
            del self._watching[name]
        watcher.stop()
        log.info("alerts: engine %s %s the engines file: its watcher stopped", name, why)

    def _run(self) -> None:
        while not self._stop.wait(self._check_seconds):
            try:
                self.sync()
            except Exception:  # the next check tries again; the watchers running meanwhile go on
                log.exception("alerts: following the engines file failed")
