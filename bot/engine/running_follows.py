"""The `logs -f` running in this process, each with the event its Stop following button sets; with a shared
store, the Stop buttons of follows running on other replicas too.

A follow runs on the replica that got its slash command, but Slack may deliver its Stop click to any replica.
With a store (the follow state in the shared database: bot/store/follows.py), each follow leaves claims keyed by
its id: that it runs, that a stop was asked for it and how it ended. The owner reads the stop claim once a
second; a replica without the follow records the stop and waits briefly for the end, so its answer is true.
A store that does not answer never ends a follow, and a Stop on the owning replica works without it.

Each follow holds a slow worker for up to SHIPMATE_FOLLOW_MAX, so this process runs at most `per_user` of them for
one user and `at_once` in all (the Slack server gives half its slow workers): the rest stay free for other work.
"""

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from enum import Enum

from bot.engine.errors import EngineError
from bot.store import StoreUnavailable
from bot.store.follows import FollowState

log = logging.getLogger(__name__)

STOP_WAIT_SECONDS = 5.0  # how long a click on another replica waits for the owner to end the follow
STOP_POLL_SECONDS = 0.2


class Stopped(Enum):
    """What a Stop click did."""

    HERE = "here"  # the follow ran in this process: it stops now
    THERE = "there"  # it ran on another replica, which ended it after this click asked
    ASKED = "asked"  # asked the replica running it, which has not ended it yet
    ENDED = "ended"  # it had already ended (or no replica runs it: it ended long ago)
    UNKNOWN = "unknown"  # not here, and the store did not answer: nothing recorded


@dataclass(frozen=True)
class StopAnswer:
    stopped: Stopped
    ended: str = ""  # why it ended, when the store says


class TooManyFollows(EngineError):
    """A new follow would pass a limit: the one line says which, and what to do."""


@dataclass
class _Running:
    stop: threading.Event
    recorded: bool  # its FOLLOWING claim is in the store
    user: str


class Follows:
    """The follows running in this process; `store` shares their Stop buttons with the other replicas."""

    def __init__(
        self,
        store: FollowState | None = None,
        wait_seconds: float = STOP_WAIT_SECONDS,
        poll_seconds: float = STOP_POLL_SECONDS,
        *,
        per_user: int | None = None,
        at_once: int | None = None,
    ) -> None:
        """`per_user` and `at_once` limit the follows running here (None: no limit)."""
        self._store = store
        self._per_user = per_user
        self._at_once = at_once
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()

    def open(self, user: str = "") -> tuple[str, threading.Event]:
        """A new follow's id and its stop event, recorded as running (before its Stop button is shown);
        TooManyFollows when `user`, or this process, already runs as many as allowed."""
        follow_id, stop = secrets.token_hex(8), threading.Event()
        running = _Running(stop, recorded=self._store is None, user=user)
        with self._lock:
            mine = sum(1 for other in self._running.values() if other.user == user)
            if self._per_user is not None and mine >= self._per_user:
                raise TooManyFollows(
                    f"you already follow {mine} log{'s' if mine != 1 else ''}; stop one first"
                    " (its Stop following button)"
                )
            if self._at_once is not None and len(self._running) >= self._at_once:
                raise TooManyFollows(
                    f"Shipmate is following as many logs as it can ({self._at_once}); try again when one ends"
                )
            self._running[follow_id] = running
        self._record_running(follow_id, running)
        return follow_id, stop

    def stop_asked(self, follow_id: str) -> bool:
        """Whether another replica asked this process's follow to stop: one read of the store, False without it
        or while it does not answer."""
        with self._lock:
            running = self._running.get(follow_id)
        if self._store is None or running is None:
            return False
        self._record_running(follow_id, running)  # a no-op once recorded
        try:
            return self._store.stop_asked(follow_id)
        except StoreUnavailable:
            return False

    def close(self, follow_id: str, ended: str) -> None:
        """Forget a follow and record why it ended, so a late click anywhere answers truly."""
        with self._lock:
            self._running.pop(follow_id, None)
        if self._store is None:
            return
        try:
            self._store.record_end(follow_id, ended)
        except StoreUnavailable as error:
            log.warning("the end of follow %s is not recorded: the database does not answer (%s)", follow_id, error)

    def stop(self, follow_id: str) -> StopAnswer:
        """What a Stop click runs: stop the follow here, or ask the replica running it through the store."""
        with self._lock:
            running = self._running.get(follow_id)
        if running is not None:
            running.stop.set()
            return StopAnswer(Stopped.HERE)
        if self._store is None:
            return StopAnswer(Stopped.ENDED)
        try:
            ended = self._store.ended(follow_id)
            if ended is not None:
                return StopAnswer(Stopped.ENDED, ended)
            # One not known to run ended long ago, or opened while the database was away (its owner records it at
            # its next check, then finds this stop): either way, ask, and see whether it ends.
            known = self._store.runs(follow_id)
            self._store.ask_stop(follow_id)
            return self._await_end(follow_id, known)
        except StoreUnavailable:
            return StopAnswer(Stopped.UNKNOWN)

    def _await_end(self, follow_id: str, known: bool) -> StopAnswer:
        assert self._store is not None
        deadline = time.monotonic() + self._wait
        while time.monotonic() < deadline:
            time.sleep(self._poll)
            try:
                ended = self._store.ended(follow_id)
            except StoreUnavailable:
                continue  # the stop is recorded: the answer may still say so
            if ended is not None:
                return StopAnswer(Stopped.THERE, ended)
        return StopAnswer(Stopped.ASKED if known else Stopped.ENDED)

    def _record_running(self, follow_id: str, running: _Running) -> None:
        if running.recorded or self._store is None:
            return
        try:
            self._store.record_running(follow_id)
        except StoreUnavailable:
            return  # tried again at the next check
        running.recorded = True
