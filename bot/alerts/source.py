"""The alert rules in force, reloaded when alerts.yml changes (checked on every event) or on SIGHUP.

As with the policy: a file that breaks after start-up keeps the rules loaded before, and the error is logged once.
"""

import logging
import threading
from pathlib import Path

from bot.alerts.load import AlertsError, load_alerts
from bot.alerts.rules import AlertRules
from bot.policy.source import _signature

log = logging.getLogger(__name__)


class AlertsSource:
    def __init__(self, path: Path) -> None:
        """Load `path` now: a broken or missing file raises AlertsError (start-up stops with its line)."""
        self.path = path
        self._lock = threading.Lock()
        self._seen = _signature(path)
        self._rules = load_alerts(path)
        self._reload_requested = False

    def request_reload(self) -> None:
        """Reload on next use even if the file looks unchanged (SIGHUP); safe to call from a signal handler."""
        self._reload_requested = True

    def current(self) -> AlertRules:
        current = _signature(self.path)
        if current != self._seen or self._reload_requested:
            with self._lock:
                if current != self._seen or self._reload_requested:
                    self._seen, self._reload_requested = current, False
                    self._reload()
        return self._rules

    def _reload(self) -> None:
        try:
            self._rules = load_alerts(self.path)
        except AlertsError as error:
            log.error("alerts not reloaded: %s; the rules loaded before stay in force", error)
            return
        log.info("alert rules reloaded from %s (%d rules)", self.path, len(self._rules.rules))
