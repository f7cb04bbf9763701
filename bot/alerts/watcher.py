"""One engine's event stream, followed for as long as Shipmate runs: nothing lost, nothing doubled.

On every (re)connection the watcher asks the engine for its clock, replays the events since the last one it
handled (the engine keeps a short history), then compares the containers' states with what it last saw, so a
crash that is no longer in the history still counts, and follows the live stream from that clock. A stream that
breaks is reopened with backoff. While the engine was unreachable its containers were stopped by its shutdown:
not crashes.

How far the events were handled is kept in the shared database (the cursor), so a Shipmate that restarts replays
what came while it was away — up to REPLAY_AFTER_RESTART back; older is history, not an alert. An event handled
twice around a restart is posted once all the same: each alert is claimed in the database.
"""

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from bot.alerts.events import WATCHED_ACTIONS, Classifier, ContainerEvent, event_key, since_value
from bot.engine import Engine, EngineError
from bot.engine.errors import EngineUnreachable
from bot.store import StoreUnavailable

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.5  # seconds before the first reconnection attempt; doubled after each failure
BACKOFF_MAX = 8.0
_RECENT = 2000  # event keys remembered, so a replay overlapping what was seen is not handled twice
_FILTERS = {"type": ["container"], "event": list(WATCHED_ACTIONS)}
REPLAY_AFTER_RESTART = 3600.0  # seconds of missed events a restarted Shipmate still alerts
CURSOR_INTERVAL = 2.0  # seconds between writes of the cursor while events flow

Handler = Callable[[ContainerEvent], None]


class Cursors(Protocol):
    """Where each engine's cursor is kept (the shared database)."""

    def alert_cursor(self, engine: str) -> str | None: ...
    def save_alert_cursor(self, engine: str, since: str) -> None: ...


_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


def engine_clock(info: dict) -> str:
    """The engine's SystemTime (RFC 3339 with nanoseconds, in its own time zone) as seconds.nanoseconds."""
    match = _RFC3339.match(str(info.get("SystemTime", "")))
    if not match:
        return f"{time.time():.9f}"
    zone = match[3] if match[3] and match[3] != "Z" else "+00:00"
    seconds = int(datetime.fromisoformat(match[1] + zone).timestamp())
    return f"{seconds}.{((match[2] or '') + '0' * 9)[:9]}"


def _finished_at(state: dict) -> datetime | None:
    text = str(state.get("FinishedAt", ""))
    if not text or text.startswith("0001"):
        return None
    try:
        return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)
    except ValueError:
        return None


class Watcher:
    def __init__(
        self, name: str, engine: Engine, handle: Handler, cursors: Cursors | None = None, resume: bool = True
    ) -> None:
        """`resume`: replay from the stored cursor (Shipmate starting); False for an engine added or changed while
        it runs, whose past is not for alerts."""
        self.name = name
        self.engine = engine
        self.handle = handle
        self._cursors = cursors
        self._resume = resume
        self._saved_at = 0.0  # time.monotonic() of the last cursor write
        self._classifier = Classifier(name)
        self._since: str | None = None  # the last handled event's time; None before the first connection
        self._running: dict[str, str] = {}  # id -> name of the containers last seen running
        self._recent: deque[str] = deque(maxlen=_RECENT)
        self._recent_set: set[str] = set()
        self._stop = threading.Event()
        self._stream_lock = threading.Lock()
        self._stream = None
        self._thread = threading.Thread(target=self._run, name=f"shipmate-events-{name}", daemon=True)

    def start(self) -> "Watcher":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._stream_lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        self._thread.join(timeout)
        self._save_cursor(force=True)

    # -- the loop -------------------------------------------------------------------

    def _run(self) -> None:
        backoff = BACKOFF_FIRST
        unreachable = False  # the engine refused connections since the stream last broke
        while not self._stop.is_set():
            try:
                clock = self._catch_up(engine_was_down=unreachable)
                unreachable = False
                backoff = BACKOFF_FIRST
                self._follow(clock)
            except EngineUnreachable as error:
                if not unreachable:
                    log.warning("events of engine %s: %s; reconnecting", self.name, error)
                unreachable = True
            except EngineError as error:
                log.warning("events of engine %s: %s; reconnecting", self.name, error)
            except Exception:  # the watcher must outlive anything one event or one connection does
                log.exception("events of engine %s failed; reconnecting", self.name)
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _catch_up(self, engine_was_down: bool) -> str:
        """Replay what was missed and compare states; return the engine's clock to follow the stream from."""
        first = self._since is None
        with self.engine.errors("events"):
            clock = engine_clock(self.engine.api.info())
            since = self._stored_cursor(clock) if first else self._since
            if since is not None:
                if first:
                    log.info("events of engine %s: replaying what came while Shipmate was away", self.name)
                for raw in self.engine.api.events(since=since, until=clock, filters=_FILTERS, decode=True):
                    self._take(raw)
            listed = self.engine.api.containers(all=True)
        now_running = {
            item["Id"]: (item.get("Names") or ["/?"])[0].lstrip("/")
            for item in listed
            if item.get("State") == "running"
        }
        if not first:
            self._compare(now_running, {item["Id"] for item in listed}, engine_was_down)
        self._running = now_running
        if first:
            log.info("watching the events of engine %s (%d containers running)", self.name, len(now_running))
        else:
            log.info("events of engine %s: reconnected", self.name)
        self._since = clock
        self._save_cursor(force=True)
        return clock

    def _stored_cursor(self, clock: str) -> str | None:
        """Where the last Shipmate left off on this engine, unless it is older than REPLAY_AFTER_RESTART."""
        if self._cursors is None or not self._resume:
            return None
        try:
            stored = self._cursors.alert_cursor(self.name)
            if stored is None or float(clock) - float(stored) > REPLAY_AFTER_RESTART:
                return None
        except (StoreUnavailable, ValueError) as error:  # without it, watch from now on
            log.warning("events of engine %s: no cursor to go on from (%s); nothing is replayed", self.name, error)
            return None
        return stored

    def _save_cursor(self, force: bool = False) -> None:
        if self._cursors is None or self._since is None:
            return
        if not force and time.monotonic() - self._saved_at < CURSOR_INTERVAL:
            return
        self._saved_at = time.monotonic()
        try:
            self._cursors.save_alert_cursor(self.name, self._since)
        except StoreUnavailable as error:  # the next write catches up; a restart meanwhile replays a little more
            log.warning("events of engine %s: the cursor could not be saved (%s)", self.name, error)

    def _compare(self, now_running: dict[str, str], present: set[str], engine_was_down: bool) -> None:
        """Containers last seen running that stopped without an event we saw: a crash unless the engine's own
        shutdown stopped them (it was unreachable meanwhile) or they are gone (removed on purpose)."""
        for container_id, name in self._running.items():
            if container_id in now_running or container_id not in present or engine_was_down:
                continue
            try:
                with self.engine.errors(name):
                    data = self.engine.api.inspect_container(container_id)
            except EngineUnreachable:
                raise
            except EngineError:  # removed since the listing
                continue
            state = data.get("State") or {}
            exit_code = state.get("ExitCode")
            if state.get("Running") or not exit_code or state.get("OOMKilled"):
                continue
            finished = _finished_at(state) or datetime.now(UTC)
            config = data.get("Config") or {}
            self._deliver(
                ContainerEvent(
                    engine=self.name,
                    kind="die",
                    container_id=container_id,
                    name=name,
                    image=str(config.get("Image", "")),
                    at=finished,
                    key=f"{container_id}:die:{state.get('FinishedAt', '')}",
                    labels=dict(config.get("Labels") or {}),
                    exit_code=int(exit_code),
                    replayed=True,
                )
            )

    def _follow(self, clock: str) -> None:
        with self.engine.errors("events"):
            stream = self.engine.api.events(since=clock, filters=_FILTERS, decode=True)
        with self._stream_lock:
            self._stream = stream
        if self._stop.is_set():
            stream.close()
            return
        try:
            for raw in stream:
                self._take(raw)
        finally:
            with self._stream_lock:
                self._stream = None
            stream.close()
        if not self._stop.is_set():
            raise EngineError("the engine closed its event stream")

    def _take(self, raw: dict) -> None:
        key = event_key(raw)
        if key in self._recent_set:
            return
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(key)
        self._recent_set.add(key)
        container_id = str(raw.get("id", ""))
        action = raw.get("Action")
        if action == "start":
            self._running[container_id] = str(((raw.get("Actor") or {}).get("Attributes") or {}).get("name", ""))
        elif action in ("die", "destroy"):
            self._running.pop(container_id, None)
        event = self._classifier.take(raw)
        if event is not None:
            self._deliver(event)
        self._since = since_value(raw)  # handled: a restart goes on after it
        self._save_cursor()

    def _deliver(self, event: ContainerEvent) -> None:
        if self._stop.is_set():  # stopped (its engine left the engines file): what it still reads is not alerted
            return
        try:
            self.handle(event)
        except Exception:
            log.exception("alert for %s %s on engine %s failed", event.kind, event.name, self.name)
