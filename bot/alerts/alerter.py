"""ContainerEvent -> rules -> claim once -> Alert -> delivery, with flapping folded into one message.

Every replica watches every engine; what one of them must do alone is decided in the shared database: the
claim of an event for a channel, and the incident (the one message that later occurrences update and a recovery
marks resolved). Work runs on one thread per alerter, in the order the events came, never on the watcher's.
"""

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Protocol

from bot.alerts.events import ContainerEvent
from bot.alerts.records import alert_record
from bot.alerts.rules import AlertRule, AlertRules
from bot.audit import AuditLog
from bot.engine import Context, Engine, EngineError
from bot.engine.containers import read_logs
from bot.freezes import Silences, silence_note
from bot.results import Alert, Silence
from bot.secrets import mask_text
from bot.store.alerts import AlertState, Incident

log = logging.getLogger(__name__)

CLAIM_SECONDS = 24 * 3600  # an event's claim outlives any replay of it
POSTED_WAIT_SECONDS = 10.0  # how long a repeat waits for the replica that opened the incident to post it
NOT_POSTED = "-"  # the ts of an incident whose first message Slack refused: its repeats are posted on their own
# What ends an incident, and what a recovery resolves.
RESOLVES = {"healthy": ("unhealthy",), "start": ("die", "oom"), "restart": ("die", "oom")}


class AlertDelivery(Protocol):
    """Where alerts go (bot/slack/alerts.py): post returns the message's ts, or None when it failed."""

    def post(self, channel: str, alert: Alert) -> str | None: ...
    def update(self, channel: str, ts: str, alert: Alert) -> bool: ...


def _what(event: ContainerEvent, data: Mapping) -> str:
    if event.kind == "die":
        return f"died with exit code {event.exit_code}"
    if event.kind == "oom":
        return "killed: out of memory"
    if event.kind == "unhealthy":
        checks = ((data.get("State") or {}).get("Health") or {}).get("Log") or [{}]
        output = mask_text(" ".join(str(checks[-1].get("Output", "")).split()))
        return f"unhealthy: {output[:300] or '(the health check printed nothing)'}"
    if event.kind == "restart":
        return "started again after a crash"
    if event.kind == "kill":
        return f"killed with signal {event.signal}" if event.signal else "killed"
    return {"stop": "stopped", "start": "started", "healthy": "healthy"}.get(event.kind, event.kind)


def _moment(value: object) -> datetime | None:
    """An engine timestamp ("2026-12-02T23:01:52.130908043Z"), to the second."""
    try:
        return datetime.fromisoformat(str(value)[:19]).replace(tzinfo=UTC)
    except ValueError:
        return None


def _dump(alert: Alert) -> str:
    return json.dumps({k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(alert).items()})


def _load(text: str) -> Alert:
    fields = json.loads(text)
    for name in ("at", "first_at"):
        if fields.get(name):
            fields[name] = datetime.fromisoformat(fields[name])
    return Alert(**fields)


def incident_alert(incident: Incident) -> Alert:
    """What an incident's message shows, as any replica can redraw it."""
    return _load(incident.alert)


class Alerter:
    def __init__(
        self,
        rules: Callable[[], AlertRules],
        store: AlertState,
        audit: AuditLog,
        delivery: AlertDelivery,
        engine: Callable[[str], Engine | None],
        *,
        window: float = 600.0,
        settle: float = 30.0,
        silences: Silences | None = None,
    ) -> None:
        self.rules = rules
        self.store = store  # claims and incidents, shared by the replicas
        self.audit = audit
        self.delivery = delivery
        self.engine = engine  # the client an engine's events come from, by name (None: no longer watched)
        self.window = window  # repeats within this many seconds of the first update its message
        self.settle = settle  # a container started again and still up after this long resolves its crash alert
        self.silences = silences  # `/docker silence`: alerts muted for a while (None: never)
        self._work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shipmate-alerts")
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._closed = False

    def handle(self, event: ContainerEvent) -> None:
        """Take an event from a watcher; returns at once."""
        with self._lock:
            if self._closed:
                return
            self._work.submit(self._guarded, self._handle, event)

    def close(self, timeout: float = 3.0) -> None:
        """Send what is queued for up to `timeout` seconds; then drop the rest (the alert being sent finishes)."""
        with self._lock:
            self._closed = True
            timers = list(self._timers)
            drained = self._work.submit(lambda: None)
        for timer in timers:
            timer.cancel()
        with contextlib.suppress(FutureTimeout):
            drained.result(timeout)
        self._work.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _guarded(work: Callable[[ContainerEvent], None], event: ContainerEvent) -> None:
        try:
            work(event)
        except Exception:  # one alert's failure must not stop the next
            log.exception("alert for %s of %s failed", event.kind, event.name)

    # -- one event ----------------------------------------------------------------------

    def _handle(self, event: ContainerEvent) -> None:
        rules = self.rules()
        resolved_channels: set[str] = set()
        if event.kind == "healthy":
            resolved_channels = self._resolve(event, rules, "healthy again")
        elif event.kind in ("start", "restart") and self._may_resolve(event, rules):
            self._after_settling(event)
        for rule in rules.matching(event.engine, event.kind, event.name, event.labels):
            if rule.channel in resolved_channels:
                continue  # the recovery marked the alert resolved instead of a new post
            if not self.store.claim_alert(f"{event.engine}:{event.key}:{rule.channel}", time.time() + CLAIM_SECONDS):
                log.info("%s of %s for %s: claimed by another replica", event.kind, event.name, rule.channel)
                continue
            self._alert(event, rule)

    def _incident_key(self, event: ContainerEvent, kind: str, channel: str) -> str:
        return f"{event.engine}:{event.container_id}:{kind}:{channel}"

    def _alert(self, event: ContainerEvent, rule: AlertRule) -> None:
        key = self._incident_key(event, event.kind, rule.channel)
        now = time.time()
        if self.silences is not None:
            silence = self.silences.covering(event.engine, event.name, now)
            if silence is not None:
                self._mute(self.silences, silence, event, rule, key, now)
                return
        alert = self._describe(event, rule)
        if self.store.open_incident(key, rule.channel, now, self.window):
            ts = self.delivery.post(rule.channel, alert)
            self.store.incident_posted(key, ts or NOT_POSTED, _dump(alert))
            self._audit(rule.channel, alert, "posted" if ts else "could not be posted", ok=ts is not None)
            return
        count = self.store.repeat_incident(key, now)
        incident = self._posted(key)
        if incident is None or incident.ts in ("", NOT_POSTED):
            log.warning("alert %s: the first message was not posted; this repeat is posted on its own", key)
            self._audit(rule.channel, alert, "posted", ok=self.delivery.post(rule.channel, alert) is not None)
            return
        first = datetime.fromtimestamp(incident.opened_at, alert.at.tzinfo)
        alert = replace(alert, count=max(count, 2), first_at=first)
        self.store.incident_posted(key, incident.ts, _dump(alert))
        ok = self.delivery.update(rule.channel, incident.ts, alert)
        self._audit(rule.channel, alert, f"updated (occurrence {alert.count})", ok=ok)

    def _mute(
        self, silences: Silences, silence: Silence, event: ContainerEvent, rule: AlertRule, key: str, now: float
    ) -> None:
        """Post nothing while a silence lasts; the incident's message, if there is one, says so once."""
        note = silence_note(silence, now)
        incident = self.store.incident(key)
        if incident is not None and incident.ts not in ("", NOT_POSTED) and silences.note_once(silence, key):
            noted = replace(_load(incident.alert), silenced=note)
            self.store.incident_posted(key, incident.ts, _dump(noted))
            ok = self.delivery.update(rule.channel, incident.ts, noted)
            self._audit(rule.channel, noted, "marked silenced", ok=ok)
        muted = Alert(
            engine=event.engine,
            container=event.name,
            short_id=event.container_id[:12],
            image=event.image,
            kind=event.kind,
            what=_what(event, {}),
            at=event.at,
            state="",
        )
        self._audit(rule.channel, muted, f"muted: {note}", ok=True)

    def _posted(self, key: str) -> Incident | None:
        """The incident once its first message is posted (another replica may be posting it right now)."""
        deadline = time.monotonic() + POSTED_WAIT_SECONDS
        while True:
            incident = self.store.incident(key)
            if incident is None or incident.ts or time.monotonic() > deadline:
                return incident
            time.sleep(0.1)

    def _describe(self, event: ContainerEvent, rule: AlertRule) -> Alert:
        engine = self.engine(event.engine)
        data: Mapping = {}
        logs = ""
        if engine is not None:
            try:
                with engine.errors(event.name):
                    data = engine.api.inspect_container(event.container_id)
                if rule.logs:
                    text, _cut = read_logs(Context(engine=engine), event.container_id, rule.logs)
                    logs = "\n".join(mask_text(line) for line in text.splitlines()[-rule.logs :])
            except EngineError as error:  # removed since, or the engine went away: alert with what the event said
                log.info("alert for %s: %s", event.name, error)
        state = str((data.get("State") or {}).get("Status", "")) if data else ""
        config = data.get("Config") or {}
        return Alert(
            engine=event.engine,
            container=event.name,
            short_id=event.container_id[:12],
            image=event.image or str(config.get("Image", "")),
            kind=event.kind,
            what=_what(event, data),
            at=event.at,
            state=state,
            restart_count=data.get("RestartCount") if data else None,
            logs=logs,
            log_lines=rule.logs if data else 0,  # a container removed since has no logs to show
            mention=rule.mention,
        )

    # -- recovery ---------------------------------------------------------------------------

    def _resolve(self, event: ContainerEvent, rules: AlertRules, why: str) -> set[str]:
        """Mark this container's open alerts that `event` ends resolved; the channels where it did."""
        channels: set[str] = set()
        for kind in RESOLVES.get(event.kind, ()):
            for rule in rules.matching(event.engine, kind, event.name, event.labels):
                incident = self.store.resolve_incident(self._incident_key(event, kind, rule.channel))
                if incident is None or incident.ts == NOT_POSTED:
                    continue
                alert = replace(_load(incident.alert), resolved=why, state="running")
                ok = self.delivery.update(rule.channel, incident.ts, alert)
                self._audit(rule.channel, alert, "marked resolved", ok=ok)
                channels.add(rule.channel)
        return channels

    def _may_resolve(self, event: ContainerEvent, rules: AlertRules) -> bool:
        """Whether this container has a crash alert that its start could resolve."""
        return any(
            self.store.incident(self._incident_key(event, kind, rule.channel)) is not None
            for kind in RESOLVES[event.kind]
            for rule in rules.matching(event.engine, kind, event.name, event.labels)
        )

    def _after_settling(self, event: ContainerEvent) -> None:
        """Resolve the crash alerts of a container that was started again, if it is still up after `settle`."""

        def check() -> None:
            with self._lock:
                self._timers.discard(timer)
                if self._closed:
                    return
                self._work.submit(self._guarded, self._settled, event)

        timer = threading.Timer(self.settle, check)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _settled(self, event: ContainerEvent) -> None:
        engine = self.engine(event.engine)
        if engine is None:
            return
        try:
            with engine.errors(event.name):
                state = engine.api.inspect_container(event.container_id).get("State") or {}
        except EngineError:
            return
        started = _moment(state.get("StartedAt"))
        same_start = started is not None and abs((started - event.at).total_seconds()) < 2
        if state.get("Running") and not state.get("Restarting") and same_start:
            self._resolve(event, self.rules(), "running again")

    # -- audit -----------------------------------------------------------------------------

    def _audit(self, channel: str, alert: Alert, done: str, ok: bool) -> None:
        self.audit.record(
            alert_record(
                channel,
                f"alert {alert.kind} {alert.container}",
                f"alert.{alert.kind}",
                ok,
                f"engine {alert.engine}: {alert.container} {alert.what}; {done}",
                alert.engine,
            )
        )
