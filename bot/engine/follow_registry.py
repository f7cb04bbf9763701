"""The `logs -f` running in this process, each with the event its Stop following button sets."""

import secrets
import threading


class Follows:
    """The follows running in this process: each id with the event its Stop button sets."""

    def __init__(self) -> None:
        self._running: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def open(self) -> tuple[str, threading.Event]:
        follow_id, stop = secrets.token_hex(8), threading.Event()
        with self._lock:
            self._running[follow_id] = stop
        return follow_id, stop

    def close(self, follow_id: str) -> None:
        with self._lock:
            self._running.pop(follow_id, None)

    def stop(self, follow_id: str) -> bool:
        with self._lock:
            stop = self._running.get(follow_id)
        if stop is None:
            return False
        stop.set()
        return True
