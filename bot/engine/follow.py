"""Executors for `logs -f` and its Stop button.

The follow reads the engine's log stream on a thread of its own and reports the newest lines at most once a
second through the context's progress callback (the Slack layer turns that into one message updated in place).
It ends when the Stop following button is clicked (on this replica, or on another: the registry passes that on
through the shared database), when the container stops (the stream ends), or after `SHIPMATE_FOLLOW_MAX`.
A stream quiet for longer than the engine timeout is opened again from the last line's time.
"""

import contextlib
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator

import docker.errors
import requests.exceptions
import urllib3.exceptions
from docker.types import CancellableStream

from bot.engine.containers import OWNER_LABEL
from bot.engine.convert import timestamp
from bot.engine.errors import EngineError
from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.engine.running_follows import Stopped
from bot.grammar.commands import ContainerFollow, StopFollowing
from bot.results import FollowedLogs, Notice

REPORT_INTERVAL = 1.0
# Whoever shows the reports may skip one that comes too soon after the last (Slack allows about one message update
# a second): the newest state is offered again each second for this long after it changed, so it always lands.
SETTLE_SECONDS = 3.0
KEPT_LINES = 200  # the message shows the newest that fit
CLICKED = "Stop following was clicked"
_END = object()
# A stream with nothing to say for longer than the engine timeout ends its read with one of these.
_QUIET = (socket.timeout, requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError)
_BROKEN = (
    OSError,
    ValueError,
    AttributeError,  # urllib3 reading from a response whose socket was closed under it
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    docker.errors.DockerException,
)


def _lines(chunks: Iterator[bytes]) -> Iterator[str]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for line in whole:
            yield line.decode("utf-8", errors="replace")
    if pending:
        yield pending.decode("utf-8", errors="replace")


class _Reader:
    """Puts each new line on a queue, then _END; reopens a stream that went quiet past the engine timeout."""

    def __init__(self, ctx: Context, command: ContainerFollow) -> None:
        self.ctx, self.command = ctx, command
        self.out: queue.Queue[object] = queue.Queue()
        self.error: EngineError | None = None
        self._stream: CancellableStream | None = None
        self._closed = threading.Event()

    def _open(self, since: float | None, tail: int | str) -> CancellableStream:
        with self.ctx.engine.errors(self.command.container):
            self._stream = self.ctx.engine.api.logs(
                self.command.container, stream=True, follow=True, timestamps=True, tail=tail, since=since
            )
        return self._stream

    def _running(self) -> bool:
        with self.ctx.engine.errors(self.command.container):
            state = self.ctx.engine.api.inspect_container(self.command.container).get("State") or {}
        return bool(state.get("Running"))

    def run(self) -> None:
        ago = self.command.since_seconds
        since: float | None = time.time() - ago if ago is not None else None
        tail: int | str = self.command.tail
        try:
            while True:
                opened = time.time()
                try:
                    for line in _lines(self._open(since, tail)):
                        stamp, _, text = line.partition(" ")
                        self.out.put(text)
                        since = _seconds(stamp) or since
                    return  # the stream ended: the container stopped
                except _QUIET:
                    if self._closed.is_set() or not self._running():
                        return
                tail, since = "all", (since or opened) + 1e-6  # go on from the last line seen
        except EngineError as error:
            self.error = error
        except _BROKEN as error:
            if not self._closed.is_set():  # closing the stream from the other thread breaks the read: expected
                self.error = EngineError(f"the log stream of `{self.command.container}` broke ({type(error).__name__})")
        finally:
            self.out.put(_END)

    def close(self) -> None:
        self._closed.set()
        if self._stream is not None:
            with contextlib.suppress(*_BROKEN):
                self._stream.close()


def _seconds(stamp: str) -> float | None:
    moment = timestamp(stamp)
    return moment.timestamp() if moment is not None else None


@execute.register
def _follow(command: ContainerFollow, ctx: Context) -> FollowedLogs:
    with ctx.engine.errors(command.container):  # a wrong name is a plain answer, before any message opens
        running = bool((ctx.engine.api.inspect_container(command.container).get("State") or {}).get("Running"))
    stream_ended = "the container stopped" if running else "the container is not running"
    follow_id, stop = ctx.follows.open(ctx.labels.get(OWNER_LABEL, ""))  # the owner label names who asked
    reader = _Reader(ctx, command)
    thread = threading.Thread(target=reader.run, name="follow-logs", daemon=True)
    kept: deque[str] = deque(maxlen=KEPT_LINES)
    seen = 0
    deadline = time.monotonic() + ctx.limits.follow_seconds

    def snapshot(ended: str | None = None) -> FollowedLogs:
        return FollowedLogs(command.container, follow_id, "".join(f"{line}\n" for line in kept), seen, ended)

    thread.start()
    ended = None
    changed = time.monotonic()
    try:
        ctx.report(snapshot())  # opens the message, Stop button and all, before the first line
        while ended is None:
            stopped = stop.wait(REPORT_INTERVAL) or ctx.follows.stop_asked(follow_id)  # clicked here, or elsewhere
            fresh = 0
            while True:
                try:
                    item = reader.out.get_nowait()
                except queue.Empty:
                    break
                if item is _END:
                    ended = stream_ended if reader.error is None else str(reader.error)
                    break
                kept.append(item)
                seen += 1
                fresh += 1
            if stopped:
                ended = CLICKED
            elif ended is None and time.monotonic() >= deadline:
                ended = f"followed for {ctx.limits.follow_seconds:g} s, the most Shipmate follows (SHIPMATE_FOLLOW_MAX)"
            elif ended is None:
                changed = time.monotonic() if fresh else changed
                if time.monotonic() - changed <= SETTLE_SECONDS:
                    ctx.report(snapshot())
    finally:
        reader.close()
        ctx.follows.close(follow_id, ended or "Shipmate hit an internal error")
    return snapshot(ended)


@execute.register
def _stop(command: StopFollowing, ctx: Context) -> Notice:
    answer = ctx.follows.stop(command.follow_id)
    if answer.stopped is Stopped.HERE or (answer.stopped is Stopped.THERE and answer.ended == CLICKED):
        return Notice("Stopped following: the message shows why")
    if answer.stopped is Stopped.ASKED:
        return Notice(
            "Asked the Shipmate replica running this follow to stop; it has not confirmed yet: its message says when"
        )
    if answer.stopped is Stopped.UNKNOWN:
        return Notice(
            "This follow runs on another Shipmate replica, and the database that passes a Stop on is not answering:"
            " try again in a moment"
        )
    return Notice("That follow has already ended" + (f": {answer.ended}" if answer.ended else ""))
