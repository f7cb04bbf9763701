"""The alert rules in force, reloaded when alerts.yml changes (checked on every event) or on SIGHUP (bot.watched):
a file that breaks after start-up keeps the rules loaded before, and the error is logged once."""

from pathlib import Path

from bot.alerts.load import load_alerts
from bot.alerts.rules import AlertRules
from bot.watched import WatchedFile


class AlertsSource(WatchedFile[AlertRules]):
    def __init__(self, path: Path) -> None:
        """Load `path` now: a broken file raises AlertsError (start-up stops with its line)."""
        super().__init__(path, load_alerts, "alert rules")

    def rules(self) -> AlertRules:
        """The rules in force (a file removed since start-up leaves the last ones)."""
        return self.current() or AlertRules(self.path, ())
