"""The `updates` rule of alerts.yml: every `every`, each engine's outdated containers in one message per engine
and channel, kept up to date in place by later checks (with an Update button per container and Update all).

Every replica runs the checks; which one reports a period is decided in the shared database (a claim per engine,
channel and period), like an event's alert. The check is `updates` itself, so its registry answers are cached
and counted the same way.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from bot.alerts.records import alert_record
from bot.alerts.rules import AlertRules, UpdatesRule
from bot.audit import AuditLog
from bot.engine import Context, EngineError, execute
from bot.fleet.engines import Fleet
from bot.grammar.updates import ImageUpdates
from bot.results import Result, UpdatesAlert, UpdateTable
from bot.store.alerts import AlertState

log = logging.getLogger(__name__)

TICK_SECONDS = 30.0  # how often the rules are looked at; a check runs once per rule's period
FOLD_SECONDS = 7 * 24 * 3600.0  # a message younger than this is updated in place; an older one is followed by a new one
NOT_POSTED = "-"


class UpdatesDelivery(Protocol):
    """bot/slack/alerts.py's ChannelAlerts: post returns the message's ts (None when it failed)."""

    def post(self, channel: str, result: Result) -> str | None: ...
    def update(self, channel: str, ts: str, result: Result) -> bool: ...


class UpdateChecks:
    def __init__(
        self,
        rules: Callable[[], AlertRules],
        store: AlertState,
        audit: AuditLog,
        delivery: UpdatesDelivery,
        fleet: Fleet,
        tick: float = TICK_SECONDS,
    ) -> None:
        self.rules = rules
        self.store = store
        self.audit = audit
        self.delivery = delivery
        self.fleet = fleet
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shipmate-update-checks", daemon=True)

    def start(self) -> "UpdateChecks":
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check(time.time())
            except Exception:  # the next tick tries again
                log.exception("alerts: the updates check failed")
            self._stop.wait(self.tick)

    def check(self, now: float) -> None:
        """Run each rule whose period this replica claims first, on each engine it watches."""
        for rule in self.rules().updates:
            period = int(now // rule.every)
            for name in self.fleet.names:
                if not rule.watches(name):
                    continue
                if self.store.claim_alert(f"updates:{name}:{rule.channel}:{period}", now + 2 * rule.every):
                    self._report(rule, name, now)

    def _report(self, rule: UpdatesRule, engine: str, now: float) -> None:
        try:
            table = execute(ImageUpdates(), Context(engine=self.fleet.engine(engine)))
        except (EngineError, KeyError) as error:  # unreachable, or removed from the engines file meanwhile
            log.info("alerts: updates on %s could not be checked: %s", engine, error)
            return
        assert isinstance(table, UpdateTable)
        rows = tuple(row for row in table.rows if rule.covers(row.container) and (row.outdated or row.problem))
        alert = UpdatesAlert(engine, rows, datetime.fromtimestamp(now, UTC), rule.mention)
        key = f"{engine}:updates:{rule.channel}"
        posted = self.store.incident(key)
        if posted is not None and posted.ts not in ("", NOT_POSTED) and now - posted.opened_at < FOLD_SECONDS:
            ok = self.delivery.update(rule.channel, posted.ts, alert)
            self._audit(rule.channel, alert, "updated", ok)
            return
        if not alert.outdated:
            return  # nothing to say, and no message to bring up to date
        self.store.open_incident(key, rule.channel, now, 0)
        ts = self.delivery.post(rule.channel, alert)
        self.store.incident_posted(key, ts or NOT_POSTED, "")
        self._audit(rule.channel, alert, "posted" if ts else "could not be posted", ts is not None)

    def _audit(self, channel: str, alert: UpdatesAlert, done: str, ok: bool) -> None:
        names = ", ".join(row.container for row in alert.outdated) or "nothing"
        self.audit.record(
            alert_record(
                channel,
                f"alert updates {alert.engine}",
                "alert.updates",
                ok,
                f"engine {alert.engine}: {len(alert.outdated)} outdated ({names}); {done}",
                alert.engine,
            )
        )
