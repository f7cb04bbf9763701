"""The pipeline after the engine is chosen, written once: `decide` (authorize, freezes, the audit gate for a change,
and whether it must wait for approval) for typed commands, clicks, confirmations, approvals and every engine of a
fan-out; `dry_run` (what it would do, and that verdict); `carry_out` (a change's `started` record → execute → the
outcome's record); and the fan-out of one read over several engines. `engines_for` and `permits` ask the policy
alone, for what a form may offer."""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from bot.about_shipmate import answer
from bot.audit import AuditLog
from bot.confirm.preview import DryRun, approval_terms
from bot.engine import Context, EngineError, RunLimits, execute
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL
from bot.engine.running_follows import Follows
from bot.fleet.engines import Fleet, Selection
from bot.fleet.fanout import context_table, merge, run_on_each
from bot.freezes import Freezes, Silences, refusal
from bot.freezes import answer as answer_change_safety
from bot.grammar import Command, ParseError, parse
from bot.grammar.commands import ContextList, Help
from bot.grammar.freezes import ChangeSafety
from bot.grammar.shipmate import AboutShipmate
from bot.policy import ApprovalRule, Decision
from bot.request import Caller
from bot.results import (
    Failure,
    FromEngine,
    Identity,
    LogText,
    Outcome,
    Outcomes,
    PolicySummary,
    Preview,
    Progress,
    Result,
    Verdict,
    VerdictKind,
)
from bot.store import StoreUnavailable
from bot.store.audit import ALLOWED, REFUSED
from bot.store.grants import Grants
from bot.trail import DATABASE_DOWN, Trail

log = logging.getLogger(__name__)


class Authorizer(Protocol):
    def authorize(self, command: Command, caller: Caller, engine: str) -> Decision: ...
    def identity(self, caller: Caller, engines: tuple[str, ...]) -> Identity: ...
    def has_a_role(self, caller: Caller) -> bool: ...
    def summary(self) -> PolicySummary: ...
    def grant_store(self) -> Grants | None: ...


@dataclass(frozen=True)
class Allowed:
    decision: Decision  # what runs, and how (pinned container ids, run limits, the targets looked up)


@dataclass(frozen=True)
class Refused:
    """By the policy (or its targets could not be looked up), or because the audit database is not answering."""

    failure: Failure
    decision: Decision | None = None  # the policy's, when it refused (a dry run reads the caller's roles from it)


@dataclass(frozen=True)
class NeedsApproval:
    """Allowed, but only once the rule's approvers say yes (bot/approve)."""

    decision: Decision
    rule: ApprovalRule


@dataclass(frozen=True)
class FannedOut:
    """A fan-out's answer, how the audit records it, and on which engines."""

    result: Result
    decision: str  # ALLOWED when at least one engine ran it, REFUSED when every engine refused
    engines: tuple[str, ...]


def _unpin(result: Result, pinned: Mapping[str, str]) -> Result:
    """Put back the names the caller used where the command ran on pinned container ids."""
    if not pinned:
        return result

    def named(text: str) -> str:
        for container_id, name in pinned.items():
            text = text.replace(container_id, name)
        return text

    if isinstance(result, Outcomes):
        return replace(result, outcomes=tuple(Outcome(named(o.target), o.ok, named(o.detail)) for o in result.outcomes))
    if isinstance(result, LogText):
        return replace(result, container=named(result.container))
    if isinstance(result, Failure):
        return replace(result, reason=named(result.reason))
    return result


def _refused_all(refusals: list[Failure]) -> Failure:
    """Refused on every engine named: each engine's reason, in the engines' order (the same reason once)."""
    return Failure(" · ".join(dict.fromkeys(failure.reason for failure in refusals)))


@dataclass(frozen=True)
class Pipeline:
    """The stages after the engines are chosen, over the fleet, the policy and the audit."""

    fleet: Fleet
    authorizer: Authorizer
    limits: RunLimits
    audit: AuditLog | None
    follows: Follows
    freezes: Freezes | None = None  # None: nothing is ever frozen
    silences: Silences | None = None

    def engines_for(self, caller: Caller, action: str | None = None) -> tuple[str, ...]:
        """The engines where the policy gives `caller` `action` (on all or only their own), in the channel they
        are in; without an action, the engines where they hold any role. What a form offers to pick from: it
        names only engines the caller may be told about."""
        found = []
        for engine in self.fleet.names:
            identity = self.authorizer.identity(caller, (engine,))
            granted = {grant.removesuffix(":own") for grant in identity.actions}
            if identity.channel_allowed and identity.roles and (action is None or action in granted):
                found.append(engine)
        return tuple(found)

    def permits(self, text: str, caller: Caller, engine: str) -> bool:
        """Whether `caller` may run the command line `text` on `engine` now, by the policy alone: nothing runs
        and nothing is recorded (a form's choices; what is chosen then goes through `handle`)."""
        try:
            command = parse(text, "/docker")
        except ParseError:
            return False
        try:
            return self.authorizer.authorize(command, caller, engine).allowed
        except EngineError:  # the targets could not be looked up: offer nothing rather than guess
            return False

    def decide(self, command: Command, caller: Caller, engine: str) -> Allowed | Refused | NeedsApproval:
        """Whether `caller` may run `command` on `engine` now: the policy, ownership and state of now; and a
        change only while the audit database answers (nothing changes the fleet unaudited)."""
        try:
            decision = self.authorizer.authorize(command, caller, engine)
        except EngineError as error:  # the targets could not be looked up: refuse rather than guess
            return Refused(Failure(str(error)))
        except Exception:  # a bug refuses one request; it never allows one
            log.exception("authorization failed unexpectedly: %s", type(command).__name__)
            return Refused(
                Failure("Shipmate hit an internal error while checking permissions; the details are in its log")
            )
        if not decision.allowed:
            return Refused(Failure(decision.reason), decision)
        frozen = self._frozen(command, engine, decision)
        if isinstance(frozen, Failure):
            return Refused(frozen, decision)
        if command.changes and self.audit is not None and self.audit.ping() is not None:
            return Refused(Failure(DATABASE_DOWN))
        rule = frozen or decision.approval
        if rule is not None:
            return NeedsApproval(replace(decision, approval=rule), rule)
        return Allowed(decision)

    def _frozen(self, command: Command, engine: str, decision: Decision) -> Failure | ApprovalRule | None:
        """Why a change must wait now on `engine` (a freeze, or a database that cannot say); with `--break-glass`,
        the two-person approval it needs instead; None when it is not frozen."""
        if not command.changes or self.freezes is None:
            return None
        now = time.time()
        try:
            freeze = self.freezes.covering(engine, now)
        except StoreUnavailable:
            return Failure(DATABASE_DOWN)
        if freeze is None:
            return None
        if command.break_glass is None:
            return Failure(refusal(engine, freeze, now))
        return self.freezes.break_glass(engine, freeze, command.break_glass, decision.approval)

    def dry_run(
        self,
        command: Command,
        verdict: Allowed | Refused | NeedsApproval,
        caller: Caller,
        engine: str,
        line: str,
        confirms: bool,
    ) -> Preview:
        """What `command` would do on `engine`, and the verdict `decide` gave (`confirms`: this Shipmate asks first
        where a command may need it); on an engine where the caller has no role at all, only the refusal (nothing
        there is looked up for them)."""
        dry = DryRun(line, engine if self.fleet.several else "")
        if isinstance(verdict, Allowed):
            return dry.allowed(command, self.context(verdict.decision, caller, engine), verdict.decision, confirms)
        if isinstance(verdict, NeedsApproval):  # approving it also confirms it: the approval is the verdict
            preview = dry.allowed(command, self.context(verdict.decision, caller, engine), verdict.decision, False)
            if preview.verdict.kind is VerdictKind.REFUSED:
                return preview
            return replace(preview, verdict=Verdict(VerdictKind.NEEDS_APPROVAL, approval_terms(verdict.rule)))
        decision = verdict.decision
        if decision is None or not decision.roles:
            return dry.refused(verdict.failure.reason)
        return dry.refused(verdict.failure.reason, command, self.context(decision, caller, engine), decision.targets)

    def carry_out(
        self,
        trail: Trail,
        command: Command,
        allowed: Allowed,
        how: str,
        progress: Callable[[Progress], None] | None,
        selection: Selection,
    ) -> Result | Refused:
        """A change's `started` record (Refused, and recorded so, when it cannot be stored), the work, and the
        record of its outcome; `how` is the audit's decision (ALLOWED, or CONFIRMED after a click)."""
        engine = selection.engines[0]
        if allowed.decision.grant:  # every use of a temporary grant names it in the audit
            trail = trail.with_line(f"{trail.line} (grant {allowed.decision.grant})")
        unrecorded = trail.started(command, how, engine)
        if unrecorded is not None:
            trail.record(command, REFUSED, unrecorded, engine=engine)
            return Refused(unrecorded)
        result = self._execute(command, allowed.decision, trail.caller, progress, selection.engines)
        trail.record(command, how, result, engine=engine)
        return result

    def _execute(
        self,
        command: Command,
        decision: Decision,
        caller: Caller,
        progress: Callable[[Progress], None] | None,
        engines: tuple[str, ...],
    ) -> Result:
        """Run on the one engine chosen; the result names it when there are several to choose from."""
        result = self._run_on(command, decision, caller, progress, engines)
        if isinstance(command, AboutShipmate | ChangeSafety | Help) or not self.fleet.several:
            return result
        return FromEngine(engines[0], result)

    def _run_on(
        self,
        command: Command,
        decision: Decision,
        caller: Caller,
        progress: Callable[[Progress], None] | None,
        engines: tuple[str, ...],
    ) -> Result:
        """`engines`: those the request named (whoami tells the roles on each); the command runs on the first."""
        try:
            if isinstance(command, AboutShipmate):
                return answer(command, caller, self.authorizer, self.audit, engines)
            if isinstance(command, ChangeSafety):
                freezes = self.freezes or Freezes(lambda: None, None)
                return answer_change_safety(command, caller, freezes, self.silences, time.time())
            context = self.context(decision, caller, engines[0], progress)
            return _unpin(execute(decision.command or command, context), decision.pinned)
        except EngineError as error:
            return _unpin(Failure(str(error)), decision.pinned)
        except Exception:  # a bug must cost one reply, never the bot or a traceback in chat
            log.exception("command failed unexpectedly: %s", type(command).__name__)
            return Failure("Shipmate hit an internal error; the details are in its log")

    def context(
        self, decision: Decision, caller: Caller, engine: str, progress: Callable[[Progress], None] | None = None
    ) -> Context:
        """What a command runs with on `engine`: who asked (the labels on what it creates) and the policy's limits."""
        return Context(
            engine=self.fleet.engine(engine),
            labels={OWNER_LABEL: caller.user_id, TEAM_LABEL: caller.team_id},
            progress=progress,
            limits=replace(
                self.limits,
                memory=decision.run.memory or self.limits.memory,
                cpus=decision.run.cpus or self.limits.cpus,
            ),
            follows=self.follows,
        )

    def fan_out(
        self, command: Command, caller: Caller, progress: Callable[[Progress], None] | None, selection: Selection
    ) -> FannedOut:
        """One read on several engines at once: each engine decides (a refusal leaves that engine out) and
        answers within its own timeout; the answers merge into one."""
        refusals: dict[str, Failure] = {}

        def on(engine: str) -> Callable[[], Result]:
            def job() -> Result:
                verdict = self.decide(command, caller, engine)
                if isinstance(verdict, NeedsApproval):  # an approval is asked for one engine at a time
                    verdict = Refused(Failure(f"`{command.action}` on {engine} needs approval: run it there alone"))
                if isinstance(verdict, Refused):
                    refusals[engine] = verdict.failure
                    return verdict.failure
                return self._run_on(command, verdict.decision, caller, progress, (engine,))

            return job

        engines = selection.engines
        answered, missed = run_on_each(
            {engine: on(engine) for engine in engines},
            {engine: self.fleet.engine(engine).timeout for engine in engines},
        )
        refusals = dict(refusals)  # an engine past its deadline may still refuse, in the background
        ran = tuple(engine for engine in engines if engine not in refusals)
        if not ran:
            return FannedOut(_refused_all([refusals[engine] for engine in engines]), REFUSED, engines)
        for engine in refusals:
            answered.pop(engine, None)
        result: Result
        if isinstance(command, ContextList):
            hosts = {engine: self.fleet.engine(engine).docker_host for engine in ran}
            result = context_table(hosts, self.fleet.default, answered, missed)
        else:
            result = merge(answered, missed, tuple(engine for engine in engines if engine in refusals))
        return FannedOut(result, ALLOWED, ran)
