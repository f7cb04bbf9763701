"""A settings file in force, reloaded when it changes (checked on every use) or on SIGHUP.

A file that breaks after start-up never takes the bot down: what was loaded last stays in force, the error
is logged once per change, and the problem is kept for whoever shows the file's state.
"""

import logging
import os
import signal
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from bot.config import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")

_Signature = tuple[int, int, int] | None  # (mtime_ns, size, inode) of the file; None when it does not exist


def _signature(path: Path) -> _Signature:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


@dataclass(frozen=True)
class Loaded(Generic[T]):
    value: T | None  # None: there is no file (and never was one since start-up)
    problem: str | None  # why the file on disk is not what is in force, when it is not


class WatchedFile(Generic[T]):
    def __init__(self, path: Path, load: Callable[[Path], T], what: str) -> None:
        """Load `path` now; a broken file raises its ConfigError, a missing one means "none yet"."""
        self.path = path
        self.what = what
        self._load = load
        self._lock = threading.Lock()
        self._seen = _signature(path)
        self._value: T | None = load(path) if self._seen is not None else None
        self._problem: str | None = None
        self._reload_requested = False

    def request_reload(self) -> None:
        """Reload on next use even if the file looks unchanged (SIGHUP); safe to call from a signal handler."""
        self._reload_requested = True

    def loaded(self) -> Loaded[T]:
        current = _signature(self.path)
        if current != self._seen or self._reload_requested:
            with self._lock:
                if current != self._seen or self._reload_requested:
                    self._reload(current)
        return Loaded(self._value, self._problem)

    def current(self) -> T | None:
        return self.loaded().value

    def _reload(self, signature: _Signature) -> None:
        self._seen, self._reload_requested = signature, False
        if signature is None:
            if self._value is not None:
                self._problem = f"{self.path} is gone; the {self.what} loaded before stays in force"
                log.error("%s: %s", self.what, self._problem)
            return
        try:
            self._value = self._load(self.path)
        except ConfigError as error:
            kept = (
                f"the {self.what} loaded before stays in force"
                if self._value
                else f"until it is fixed there is no {self.what}"
            )
            self._problem = f"{error}; {kept}"
            log.error("%s not reloaded: %s", self.what, self._problem)
            return
        self._problem = None
        log.info("%s reloaded from %s", self.what, self.path)


_watched: "weakref.WeakSet[WatchedFile]" = weakref.WeakSet()


def _on_sighup(signum: int, frame: object) -> None:
    for source in list(_watched):
        source.request_reload()


def reload_on_sighup(source: WatchedFile) -> None:
    """Make SIGHUP reload `source` (only the main thread may install signal handlers; elsewhere mtime suffices)."""
    _watched.add(source)
    if hasattr(signal, "SIGHUP") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, _on_sighup)
