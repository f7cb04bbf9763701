"""The policy in force, reloaded when its file changes (checked on every use) or on SIGHUP.

A file that breaks after start-up never takes the bot down: the last good policy stays in force, the error
is logged once per change, and `/docker policy` shows it to admins.
"""

import logging
import os
import signal
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.policy.model import Policy

log = logging.getLogger(__name__)

_Signature = tuple[int, int, int] | None  # (mtime_ns, size, inode) of the file; None when it does not exist


def _signature(path: Path) -> _Signature:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def _load(path: Path) -> Policy:
    # Imported here: the YAML reader is a tenth of `shipmate local`'s start-up, and is needed only for a file.
    from bot.policy.load import load_policy

    return load_policy(path)


@dataclass(frozen=True)
class PolicyState:
    policy: Policy | None  # None: there is no policy file (and never was one since start-up)
    problem: str | None  # why the file on disk is not the policy in force, when it is not


class PolicySource:
    def __init__(self, path: Path) -> None:
        """Load `path` now; a broken file raises PolicyError, a missing one means "no policy yet"."""
        self.path = path
        self._lock = threading.Lock()
        self._seen = _signature(path)
        self._policy = _load(path) if self._seen is not None else None
        self._problem: str | None = None
        self._reload_requested = False

    def request_reload(self) -> None:
        """Reload on next use even if the file looks unchanged (SIGHUP); safe to call from a signal handler."""
        self._reload_requested = True

    def state(self) -> PolicyState:
        current = _signature(self.path)
        if current != self._seen or self._reload_requested:
            with self._lock:
                if current != self._seen or self._reload_requested:
                    self._reload(current)
        return PolicyState(self._policy, self._problem)

    def current(self) -> Policy | None:
        return self.state().policy

    def _reload(self, signature: _Signature) -> None:
        self._seen, self._reload_requested = signature, False
        if signature is None:
            if self._policy is not None:
                self._problem = f"{self.path} is gone; the policy loaded before stays in force"
                log.error("policy: %s", self._problem)
            return
        from bot.policy.load import PolicyError

        try:
            self._policy = _load(self.path)
        except PolicyError as error:
            kept = "the policy loaded before stays in force" if self._policy else "until it is fixed there is no policy"
            self._problem = f"{error}; {kept}"
            log.error("policy not reloaded: %s", self._problem)
            return
        self._problem = None
        log.info("policy reloaded from %s", self.path)


class Reloadable(Protocol):
    def request_reload(self) -> None: ...


_watched: "weakref.WeakSet[Reloadable]" = weakref.WeakSet()


def _on_sighup(signum: int, frame: object) -> None:
    for source in list(_watched):
        source.request_reload()


def reload_on_sighup(source: Reloadable) -> None:
    """Make SIGHUP reload `source` (the policy, the alert rules) (only the main thread may install signal handlers; elsewhere mtime suffices)."""
    _watched.add(source)
    if hasattr(signal, "SIGHUP") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, _on_sighup)
