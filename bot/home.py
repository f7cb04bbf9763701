"""The App Home tab of one user: what they may read of the fleet, as a `Home` result of sections.

Which engines the viewer may read is asked of the policy through the pipeline (`container.ls` there, the read the
Home tab is made of), never checked on the side. Every section is built at once on its own thread, and every engine
within its own timeout. An engine's probe (version, running/total) is the same for every viewer: one probe per
engine per `probe_ttl` seconds, claimed in the shared database, serves every user and every replica.

The change-safety sections read what the rest of Shipmate keeps: the pending approval requests (who may decide one
is asked of the approve flow itself, bot/approve/flow.py, as a click would be), the freezes and silences
(bot/freezes.py) and the viewer's grants (the policy's grant store).

A section is one builder: a method taking the HomeInputs and returning its Result (None leaves it out), listed in
`HomeTab.sections`; its Block Kit is one `@home_blocks.register` in bot/render/home.py.
"""

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.alerts.alerter import incident_alert
from bot.dispatcher import Dispatcher
from bot.engine import Context, EngineError, execute
from bot.engine.containers import OWNER_LABEL
from bot.fleet.engines import Selection
from bot.fleet.fanout import run_on_each
from bot.grammar import Command, parse
from bot.pipeline import Allowed
from bot.policy.authorize import grant_line
from bot.policy.freeze_windows import covers
from bot.request import Caller
from bot.results import (
    Alert,
    ApprovalsToDecide,
    ApprovalWaiting,
    ContainerTable,
    EngineInfo,
    EngineStatus,
    EngineStatuses,
    FleetAnswer,
    FreezesAhead,
    Home,
    OpenAlerts,
    OwnedContainers,
    OwnedService,
    OwnedServices,
    PendingRequests,
    Result,
    ServiceTable,
    SilenceList,
    TemporaryAccess,
)
from bot.store import StoreRejected, StoreUnavailable
from bot.store.alerts import AlertState
from bot.store.approvals import ApprovalState
from bot.store.audit import ALLOWED
from bot.store.probes import EngineProbes
from bot.trail import Trail

log = logging.getLogger(__name__)

HOME_LINE = "(app home)"  # the audit's command line for a view of the Home tab
PROBE_WAIT_STEP = 0.05  # how often a viewer waiting for another's probe looks for it
FREEZES_AHEAD_SECONDS = 24 * 3600  # the Home tab shows the freezes starting within a day
_SECTIONS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="shipmate-home")


@dataclass(frozen=True)
class HomeInputs:
    caller: Caller
    engines: tuple[str, ...]  # the engines the viewer may read, in the engines file's order

    @property
    def owner_filter(self) -> str:
        return _owner_filter(self.caller)


SectionBuilder = Callable[[HomeInputs], Result | None]


class HomeTab:
    def __init__(self, dispatcher: Dispatcher, probe_ttl: float = 10.0) -> None:
        self.pipeline = dispatcher.pipeline
        self.approvals = dispatcher.approvals
        self.fleet = dispatcher.fleet
        self.audit = dispatcher.audit
        self.probe_ttl = probe_ttl
        database = dispatcher.audit.store if dispatcher.audit is not None else None
        self.probes = EngineProbes(database) if database is not None else None
        self.incidents = AlertState(database) if database is not None else None
        self.sections: tuple[SectionBuilder, ...] = (
            self.engine_statuses,
            self.approvals_to_decide,
            self.open_alerts,
            self.freezes_ahead,
            self.silences_in_force,
            self.pending_requests,
            self.temporary_access,
            self.owned_containers,
            self.owned_services,
        )

    def build(self, caller: Caller) -> Home:
        """The viewer's Home tab, recorded in the audit as one read."""
        trail = Trail(self.audit, caller, HOME_LINE)
        inputs = HomeInputs(caller, self._readable(caller))
        futures = [_SECTIONS.submit(_guarded, section, inputs) for section in self.sections]
        sections = tuple(section for section in (future.result() for future in futures) if section is not None)
        home = Home(caller.user_id, sections)
        trail.record(None, ALLOWED, home, detail=f"home tab: {len(inputs.engines)} engine(s) readable")
        return home

    def _readable(self, caller: Caller) -> tuple[str, ...]:
        listing = _owned("ps -a", caller)
        return tuple(
            engine for engine in self.fleet.names if isinstance(self.pipeline.decide(listing, caller, engine), Allowed)
        )

    # -- sections ----------------------------------------------------------------------------

    def engine_statuses(self, inputs: HomeInputs) -> Result:
        """Each readable engine: answering or not, its version and running/total containers (probed in parallel)."""
        answered, missed = run_on_each(
            {engine: self._probe_job(engine) for engine in inputs.engines},
            {engine: self.fleet.engine(engine).timeout for engine in inputs.engines},
        )
        rows = []
        for engine in inputs.engines:
            status = answered.get(engine)
            if isinstance(status, EngineStatuses):
                rows += status.rows
            else:
                rows.append(EngineStatus(engine, False, problem=missed.get(engine, "no answer")))
        return EngineStatuses(tuple(rows))

    def open_alerts(self, inputs: HomeInputs) -> Result | None:
        """The unresolved incidents on the readable engines, one per container (its latest), newest first."""
        if self.incidents is None:
            return None
        latest: dict[tuple[str, str], Alert] = {}
        for incident in self.incidents.open_incidents():
            alert = incident_alert(incident)
            if alert.engine in inputs.engines:
                latest.setdefault((alert.engine, alert.container), alert)
        return OpenAlerts(tuple(latest.values()))

    def owned_containers(self, inputs: HomeInputs) -> Result:
        answer = self._fan_out(inputs, "ps -a")
        rows = answer.merged.rows if answer is not None and isinstance(answer.merged, ContainerTable) else ()
        return OwnedContainers(inputs.owner_filter, rows, answer.unanswered if answer is not None else ())

    def owned_services(self, inputs: HomeInputs) -> Result | None:
        """Left out when no readable engine is a swarm manager that lets the viewer list services."""
        answer = self._fan_out(inputs, "service ls")
        if answer is None:
            return None
        tables = [part for part in answer.parts if isinstance(part.result, ServiceTable)]
        if not tables:
            return None
        rows = tuple(OwnedService(part.engine, row) for part in tables for row in part.result.rows)  # type: ignore[attr-defined]
        return OwnedServices(inputs.owner_filter, rows)

    def approvals_to_decide(self, inputs: HomeInputs) -> Result | None:
        """The requests the viewer may approve or deny now, by the approve flow's own check (named, or in a named
        user group; never the requester), but not those they already said yes to (one of several needed). Left out
        when there are none."""
        caller = inputs.caller
        decidable = (
            self.approvals.view_of(state)
            for state in self._pending()
            if state.record.requester_user != caller.user_id
            and self.approvals.not_an_approver(state.record, caller) is None
        )
        waiting = tuple(request for request in decidable if caller.user_id not in request.approved_by)
        return ApprovalsToDecide(waiting) if waiting else None

    def pending_requests(self, inputs: HomeInputs) -> Result | None:
        """The viewer's own requests still waiting, with Withdraw. Left out when there are none."""
        mine = tuple(
            ApprovalWaiting(self.approvals.view_of(state), state.record.channel)
            for state in self._pending()
            if state.record.requester_user == inputs.caller.user_id
        )
        return PendingRequests(mine) if mine else None

    def freezes_ahead(self, inputs: HomeInputs) -> Result | None:
        """The freezes in force and starting within a day on the readable engines (the policy's and typed ones)."""
        freezes = self.pipeline.freezes
        if freezes is None:
            return None
        now = time.time()
        horizon = _moment(now + FREEZES_AHEAD_SECONDS)
        shown = tuple(
            freeze
            for freeze in freezes.listing(now)
            if freeze.starts <= horizon and _on_any(freeze.engines, inputs.engines)
        )
        return FreezesAhead(shown, _moment(now))

    def silences_in_force(self, inputs: HomeInputs) -> Result | None:
        """The silences muting alerts on the readable engines now."""
        silences = self.pipeline.silences
        if silences is None:
            return None
        now = time.time()
        shown = tuple(silence for silence in silences.records.active(now) if _on_any(silence.engines, inputs.engines))
        return SilenceList(shown, _moment(now))

    def temporary_access(self, inputs: HomeInputs) -> Result | None:
        """The viewer's temporary grants in force, with their end. Left out when they hold none."""
        grants = self.pipeline.authorizer.grant_store()
        held = grants.of(inputs.caller.user_id) if grants is not None else ()
        return TemporaryAccess(tuple(grant_line(grant) for grant in held)) if held else None

    # -- helpers -------------------------------------------------------------------------------

    def _pending(self) -> tuple[ApprovalState, ...]:
        store = self.approvals.store
        return store.pending(time.time()) if store is not None else ()

    def _fan_out(self, inputs: HomeInputs, verb: str) -> FleetAnswer | None:
        """The viewer's own `verb` on every readable engine, decided per engine by the policy."""
        if not inputs.engines:
            return None
        fanned = self.pipeline.fan_out(_owned(verb, inputs.caller), inputs.caller, None, Selection(inputs.engines, "*"))
        return fanned.result if isinstance(fanned.result, FleetAnswer) else None

    def _probe_job(self, engine: str) -> Callable[[], Result]:
        return lambda: EngineStatuses((self.probe(engine),))  # a Result, as run_on_each takes

    def probe(self, engine: str) -> EngineStatus:
        """The engine's status from a probe at most `probe_ttl` old. Of the viewers who find the last probe stale
        (on any replica), the one who claims the next probe takes it; the others wait for it, within the engine's
        timeout."""
        if self.probes is None or self.probe_ttl <= 0:
            return self._probed(engine)
        try:
            latest = self.probes.latest(engine)
            last = latest[1] if latest is not None else 0.0
            if latest is not None and last >= time.time() - self.probe_ttl:
                return latest[0]
            timeout = self.fleet.engine(engine).timeout
            if not self.probes.claim(engine, last, time.time() + timeout + self.probe_ttl):
                waited = self._wait_for_probe(engine, last, timeout)
                if waited is not None:
                    return waited
        except (StoreUnavailable, StoreRejected) as error:
            log.warning("home: the probe cache is not answering (%s); probing %s directly", error, engine)
            return self._probed(engine)
        status = self._probed(engine)
        try:
            self.probes.save(status, time.time())
        except (StoreUnavailable, StoreRejected) as error:
            log.warning("home: the probe of %s could not be kept (%s)", engine, error)
        return status

    def _wait_for_probe(self, engine: str, after: float, timeout: float) -> EngineStatus | None:
        """The probe taken after `after` by the viewer who claimed it; None when it did not come in `timeout`."""
        assert self.probes is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(PROBE_WAIT_STEP)
            latest = self.probes.latest(engine)
            if latest is not None and latest[1] > after:
                return latest[0]
        return None

    def _probed(self, engine: str) -> EngineStatus:
        try:
            info = execute(parse("info"), Context(engine=self.fleet.engine(engine)))
        except EngineError as error:
            return EngineStatus(engine, False, problem=str(error))
        if not isinstance(info, EngineInfo):
            return EngineStatus(engine, False, problem="the engine gave no information")
        return EngineStatus(engine, True, info.server_version, info.running, info.containers)


def _guarded(section: SectionBuilder, inputs: HomeInputs) -> Result | None:
    """A section's result; a bug in one costs that section (logged), never the whole tab."""
    try:
        return section(inputs)
    except Exception:
        log.exception("home: the section %s failed", getattr(section, "__name__", section))
        return None


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _on_any(engines: str, readable: tuple[str, ...]) -> bool:
    """Whether a freeze's or silence's engines (a name, glob or comma list) cover an engine the viewer may read."""
    return any(covers(engines, engine) for engine in readable)


def _owner_filter(caller: Caller) -> str:
    return f"label={OWNER_LABEL}={caller.user_id}"


def _owned(verb: str, caller: Caller) -> Command:
    """The viewer's own listing (`ps -a`, `service ls`) of what carries their user id as its owner label, as if
    they had typed it: the policy decides it like any read."""
    return parse(f"{verb} --filter {_owner_filter(caller)}")
