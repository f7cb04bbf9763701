"""parse → choose engine(s) → authorize → confirm → execute → render, with an audit record of each request: the
only place that knows the order.

The engine is chosen right after parsing (the command's `--context`, else the request's, else the fleet's
default), so authorization, confirmation, execution, the audit record and the reply's buttons all see it. A read
that names several engines runs on each at once and comes back as one answer; a change names exactly one.

Every way in (slash command, button click, terminal) builds a Request and gets a Reply; nothing here knows
how the request arrived or how the reply travels. Confirm and Cancel clicks come in through `confirm()` and
`cancel()` with the token their button carried, and are checked and recorded the same way.
"""

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Generic, Protocol, TypeVar

from bot import metrics
from bot.about import answer
from bot.audit import (
    ALLOWED,
    CANCELLED,
    CONFIRM,
    CONFIRMED,
    INVALID,
    REFUSED,
    REJECTED,
    STARTED,
    AuditLog,
    AuditRecord,
    describe,
)
from bot.confirm import (
    Confirmation,
    Confirmer,
    InvalidToken,
    Pending,
    TokenTooLong,
    confirmation_for,
    may_ask,
    wants_plan,
    wants_targets,
)
from bot.engine import Context, Engine, EngineError, RunLimits, execute
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL
from bot.engine.follow_registry import Follows
from bot.engine.prune import prune_plan
from bot.engine.targets import find_containers
from bot.fleet.fanout import context_table, merge, run_on_each
from bot.fleet.registry import Fleet, Selection, UnknownEngine
from bot.fleet.spec import ALL
from bot.grammar import Command, ParseError, parse
from bot.grammar.clean import clean_slack_text
from bot.grammar.commands import ContextList, Help
from bot.grammar.shipmate import AboutShipmate, Whoami
from bot.policy import Decision, LocalAdmin
from bot.results import (
    ConfirmationRequest,
    Convergences,
    Failure,
    FleetAnswer,
    FromEngine,
    Identity,
    LogText,
    Notice,
    Outcome,
    Outcomes,
    PolicySummary,
    Progress,
    Result,
)
from bot.secrets import mask_text
from bot.store import Claim, StoreRejected, StoreUnavailable

log = logging.getLogger(__name__)
Rendered = TypeVar("Rendered")
DATABASE_DOWN = (
    "the audit database is not answering, so Shipmate makes no changes for now (reads still work): "
    "try again in a moment"
)
_QUOTED = re.compile(r"`([^`]*)`")
_QUOTING = re.compile(r"""[\s\\"'“”„‟‘’‚‛]""")  # what shell quoting adds or takes away between typed and parsed


def _mask_typed(reason: str, typed: str) -> str:
    """A parse error quotes the words it refused: a secret-looking `NAME=value` the user typed is masked there
    (the error's own hints, such as `--env KEY=VALUE`, stay as they are)."""
    squeezed = _QUOTING.sub("", clean_slack_text(typed))

    def mask(quoted: re.Match[str]) -> str:
        words = quoted.group(1)
        if _QUOTING.sub("", words) not in squeezed:
            return quoted.group(0)
        # One quoted span is one word to mask: everything after a secret-looking `NAME=`, spaces and all.
        return f"`{mask_text(words.replace(' ', chr(0))).replace(chr(0), ' ')}`"

    return _QUOTED.sub(mask, reason)


@dataclass(frozen=True)
class Caller:
    """Who asked, and where. Local mode is the user "local" with no team or channel."""

    user_id: str = "local"
    team_id: str = ""
    channel_id: str = ""
    user_name: str = ""


@dataclass(frozen=True)
class Request:
    text: str
    slash: str = "/docker"
    caller: Caller = field(default_factory=Caller)
    progress: Callable[[Progress], None] | None = None
    context: str | None = None  # the engine(s) when the text names none (`shipmate local --context`)


class Authorizer(Protocol):
    def authorize(self, command: Command, caller: Caller, engine: str) -> Decision: ...
    def identity(self, caller: Caller, engines: tuple[str, ...]) -> Identity: ...
    def has_a_role(self, caller: Caller) -> bool: ...
    def summary(self) -> PolicySummary: ...


@dataclass(frozen=True)
class Reply(Generic[Rendered]):
    message: Rendered
    result: Result
    command: Command | None  # the command that ran; None when nothing did (bad text, a rejected click)
    line: str | None = None  # the command line that ran when it is not what was typed: the one a Confirm ran

    @property
    def ok(self) -> bool:
        """Done, and done well. Refusals, errors and confirmation requests are not: show them to the requester only."""
        result = self.result.result if isinstance(self.result, FromEngine) else self.result
        if isinstance(result, Failure | ConfirmationRequest):
            return False
        if isinstance(result, FleetAnswer):
            return bool(result.parts)
        return not isinstance(result, Outcomes | Convergences) or result.all_ok

    @property
    def needs_confirmation(self) -> bool:
        return isinstance(self.result, ConfirmationRequest)


def _line(slash: str, text: str) -> str:
    """The command as the grammar saw it, for the audit (masked there)."""
    return f"{slash} {clean_slack_text(text)}".strip()


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


def _bound(result: Result, engine: str) -> Result:
    """The result as rendered: its buttons act on the engine it came from, also when that is the only one — an
    engines file written later must not turn an old button toward another default."""
    return result if isinstance(result, FromEngine) else FromEngine(engine, result, titled=False)


def _engine_free(command: Command) -> bool:
    """Help and the answers about Shipmate itself (policy, audit) run on no engine; whoami tells roles per engine."""
    return isinstance(command, Help) or (isinstance(command, AboutShipmate) and not isinstance(command, Whoami))


class Dispatcher:
    def __init__(
        self,
        engines: Fleet | Engine,
        authorizer: Authorizer | None = None,
        limits: RunLimits | None = None,
        *,
        audit: AuditLog | None = None,
        confirmer: Confirmer | None = None,
        follows: Follows | None = None,
    ) -> None:
        """Without an authorizer everything is allowed (the local admin); without a confirmer nothing waits for a click.
        One Engine is a fleet of one, named `default`. `follows` on the shared store lets a Stop following click
        reach a follow running on another replica; by default only this process's follows are known."""
        self.fleet = engines if isinstance(engines, Fleet) else Fleet.single(engines)
        self.authorizer: Authorizer = authorizer or LocalAdmin()
        self.limits = limits or RunLimits()
        self.audit = audit
        self.confirmer = confirmer
        self.follows = follows if follows is not None else Follows()  # the `logs -f` running, for their Stop buttons

    def parse(self, request: Request) -> Command | Failure:
        try:
            return parse(request.text, request.slash)
        except ParseError as error:
            return Failure(_mask_typed(error.reason, request.text), error.usage)

    def pending(self, request: Request) -> str | None:
        """The "working on it" line when the request is for slow work (pull, foreground run, stop), else None."""
        command = self.parse(request)
        if not isinstance(command, Command) or not command.slow:
            return None
        if self.confirmer is not None and may_ask(command):
            return None  # the first answer is a quick confirmation request; the slow part comes after the click
        return command.pending

    def handle(self, request: Request, render: Callable[[Result], Rendered]) -> Reply[Rendered]:
        started = time.monotonic()
        line = _line(request.slash, request.text)
        command = self.parse(request)
        if isinstance(command, Failure):
            self._record(request.caller, line, None, INVALID, command, started)
            return Reply(render(command), command, None)
        selection = self._select(command, request.context, request.caller)
        if isinstance(selection, Failure):
            self._record(request.caller, line, command, INVALID, selection, started)
            return Reply(render(selection), selection, command)
        if self._fans_out(command, selection):
            return self._fan_out(command, selection, request, render, line, started)
        engine = selection.engines[0]
        decision = self._authorize(command, request.caller, engine)
        if isinstance(decision, Failure):
            self._record(request.caller, line, command, REFUSED, decision, started, engine=engine)
            return Reply(render(decision), decision, command)
        unaudited = self._unaudited(command)
        if unaudited is not None:
            self._record(request.caller, line, command, REFUSED, unaudited, started, engine=engine)
            return Reply(render(unaudited), unaudited, command)
        if self.confirmer is not None:
            asked = self._confirmation(command, decision, request.caller, engine)
            if asked is not None:
                self._record(request.caller, line, command, CONFIRM, asked, started, engine=engine)
                return Reply(render(asked), asked, command)
        unrecorded = self._started(request.caller, line, command, ALLOWED, engine)
        if unrecorded is not None:
            self._record(request.caller, line, command, REFUSED, unrecorded, started, engine=engine)
            return Reply(render(unrecorded), unrecorded, command)
        result = self._execute(command, decision, request, selection)
        self._record(request.caller, line, command, ALLOWED, result, started, engine=engine)
        return Reply(render(_bound(result, engine)), result, command)

    def confirm(self, token: str, caller: Caller, render: Callable[[Result], Rendered]) -> Reply[Rendered]:
        """A Confirm click: the token must be genuine, the clicker its requester, and the command still allowed
        on the engine it was asked for."""
        started = time.monotonic()
        opened = self._open(token, caller, started)
        if isinstance(opened, Failure):
            return Reply(render(opened), opened, None)
        confirmation, command = opened
        rejected = self._unusable(confirmation, caller)
        if rejected is not None:
            self._record(caller, confirmation.line, command, REJECTED, rejected, started)
            return Reply(render(rejected), rejected, None)
        selection = self._select(command, None, caller)
        if isinstance(selection, Failure):
            self._record(caller, confirmation.line, command, REJECTED, selection, started)
            return Reply(render(selection), selection, None)
        engine = selection.engines[0]
        decision = self._authorize(
            command, caller, engine
        )  # the policy, ownership and state of now, not of the request
        if isinstance(decision, Failure):
            self._record(caller, confirmation.line, command, REFUSED, decision, started, engine=engine)
            return Reply(render(decision), decision, None)
        unaudited = self._unaudited(command)
        if unaudited is not None:
            self._record(caller, confirmation.line, command, REFUSED, unaudited, started, engine=engine)
            return Reply(render(unaudited), unaudited, None)
        taken = self._claim(confirmation, CONFIRMED, caller, command, started)
        if taken is not None:
            return Reply(render(taken), taken, None)
        unrecorded = self._started(caller, confirmation.line, command, CONFIRMED, engine)
        if unrecorded is not None:  # the token is used: the requester runs the command again once it answers
            self._record(caller, confirmation.line, command, REFUSED, unrecorded, started, engine=engine)
            return Reply(render(unrecorded), unrecorded, None)
        request = Request(text=confirmation.text, slash=confirmation.slash, caller=caller)
        result = self._execute(command, decision, request, selection)
        self._record(caller, confirmation.line, command, CONFIRMED, result, started, engine=engine)
        return Reply(render(_bound(result, engine)), result, command, line=f"{confirmation.line} (confirmed)")

    def cancel(self, token: str, caller: Caller, render: Callable[[Result], Rendered]) -> Reply[Rendered]:
        """A Cancel click: only the requester may cancel, and a cancelled token can never be confirmed."""
        started = time.monotonic()
        opened = self._open(token, caller, started)
        if isinstance(opened, Failure):
            return Reply(render(opened), opened, None)
        confirmation, command = opened
        if not self._requester(confirmation, caller):
            result = Failure(f"only {confirmation.user_id} can cancel this: they asked for it")
            self._record(caller, confirmation.line, command, REJECTED, result, started)
            return Reply(render(result), result, None)
        taken = self._claim(confirmation, CANCELLED, caller, command, started)
        if taken is not None:
            return Reply(render(taken), taken, None)
        result = Notice("Cancelled: nothing was done", (confirmation.line,))
        self._record(caller, confirmation.line, command, CANCELLED, result, started)
        return Reply(render(result), result, None)

    def close(self) -> None:
        """Store what the audit still has queued, and close the engines' connections (an ssh:// engine's ssh
        processes among them); call at shutdown."""
        if self.audit is not None:
            self.audit.close()
        self.fleet.close()

    # -- stages ---------------------------------------------------------------------

    def _select(self, command: Command, default: str | None, caller: Caller) -> Selection | Failure:
        """The engines the request names; a change (or slow work such as `logs -f`) must name exactly one. The
        engines' names are told only to a caller with a role somewhere: this runs before any role is checked."""
        pattern = command.context or default
        if pattern is None and isinstance(command, ContextList | Whoami):
            pattern = ALL  # about every engine unless narrowed
        try:
            selection = self.fleet.select(pattern)
        except UnknownEngine as error:
            return Failure(str(error) if self.authorizer.has_a_role(caller) else error.plain)
        if (command.changes or command.slow) and len(selection.engines) > 1:  # slow: `logs -f` runs on and on
            if not self.authorizer.has_a_role(caller):
                return Failure(f"name one engine for `{command.action}`: `--context {pattern}` names several")
            named = ", ".join(selection.engines)
            return Failure(
                f"name one engine for `{command.action}`: `--context {pattern}` names {named}"
                f" — e.g. `--context {selection.engines[0]}`"
            )
        return selection

    @staticmethod
    def _fans_out(command: Command, selection: Selection) -> bool:
        return isinstance(command, ContextList) or (
            len(selection.engines) > 1
            and not command.changes
            and not _engine_free(command)
            and not isinstance(command, Whoami)
        )

    def _authorize(self, command: Command, caller: Caller, engine: str) -> Decision | Failure:
        try:
            decision = self.authorizer.authorize(command, caller, engine)
        except EngineError as error:  # the targets could not be looked up: refuse rather than guess
            return Failure(str(error))
        except Exception:  # a bug refuses one request; it never allows one
            log.exception("authorization failed unexpectedly: %s", type(command).__name__)
            return Failure("Shipmate hit an internal error while checking permissions; the details are in its log")
        return decision if decision.allowed else Failure(decision.reason)

    def _unaudited(self, command: Command) -> Failure | None:
        """A change is made only while the audit database answers: nothing changes the fleet unaudited."""
        if not command.changes or self.audit is None:
            return None
        problem = self.audit.ping()
        return None if problem is None else Failure(DATABASE_DOWN)

    def _started(self, caller: Caller, line: str, command: Command, decision: str, engine: str) -> Failure | None:
        """A change's first record, stored before the change reaches Docker; DATABASE_DOWN when it cannot be.
        A ping is not enough: a read-only replica after a failover, a full disk or a read-only file system
        answers it, and then loses the record."""
        if not command.changes or self.audit is None:
            return None
        record = AuditRecord(
            at=time.time(),
            team_id=caller.team_id,
            user_id=caller.user_id,
            user_name=caller.user_name,
            channel_id=caller.channel_id,
            command=line,
            action=command.action,
            changes=True,
            decision=decision,
            outcome=STARTED,
            engine=engine,
        )
        try:
            self.audit.record_now(record)
        except (StoreUnavailable, StoreRejected) as error:
            log.error("a change was refused: its record could not be stored (%s)", error)
            return Failure(DATABASE_DOWN)
        return None

    def _confirmation(self, command: Command, decision: Decision, caller: Caller, engine: str) -> Result | None:
        """A ConfirmationRequest when the command must wait for a click (a Failure if that cannot be asked)."""
        assert self.confirmer is not None
        targets = decision.targets
        plan = None
        try:
            if targets is None and wants_targets(command):
                targets = find_containers(self.fleet.engine(engine), command.targets())
            if wants_plan(command):
                plan = prune_plan(self.fleet.engine(engine), command)
        except EngineError as error:
            return Failure(str(error))
        pending = confirmation_for(command, targets, plan)
        if not isinstance(pending, Pending):
            return pending  # nothing to ask (None), or nothing to prune (a Notice)
        # The click runs on the engine it was asked for, whatever the default is by then (even with one engine:
        # an engines file may appear before the click).
        summary = f"{pending.summary} on `{engine}`" if self.fleet.several else pending.summary
        return self._ask(replace(pending, summary=summary, text=f"--context {engine} {pending.text}"), caller)

    def _ask(self, pending: Pending, caller: Caller) -> Result:
        assert self.confirmer is not None
        try:
            token = self.confirmer.issue("/docker", pending.text, caller.user_id, caller.team_id)
        except TokenTooLong:
            return Failure("this command is too long to confirm with a button: name fewer at a time")
        return ConfirmationRequest(
            summary=pending.summary,
            details=pending.details,
            command=f"/docker {pending.text}",
            token=token,
            expires_in=int(self.confirmer.ttl),
        )

    def _execute(self, command: Command, decision: Decision, request: Request, selection: Selection) -> Result:
        """Run on the one engine chosen; the result names it when there are several to choose from."""
        if isinstance(command, AboutShipmate | Help):
            return self._run_on(command, decision, request, selection)
        engine = selection.engines[0]
        result = self._run_on(command, decision, request, selection)
        return FromEngine(engine, result) if self.fleet.several else result

    def _run_on(self, command: Command, decision: Decision, request: Request, selection: Selection) -> Result:
        engine = selection.engines[0]
        try:
            if isinstance(command, AboutShipmate):
                return answer(command, request.caller, self.authorizer, self.audit, selection.engines)
            labels = {OWNER_LABEL: request.caller.user_id, TEAM_LABEL: request.caller.team_id}
            limits = replace(
                self.limits,
                memory=decision.run.memory or self.limits.memory,
                cpus=decision.run.cpus or self.limits.cpus,
            )
            context = Context(
                engine=self.fleet.engine(engine),
                labels=labels,
                progress=request.progress,
                limits=limits,
                follows=self.follows,
            )
            return _unpin(execute(decision.command or command, context), decision.pinned)
        except EngineError as error:
            return _unpin(Failure(str(error)), decision.pinned)
        except Exception:  # a bug must cost one reply, never the bot or a traceback in chat
            log.exception("command failed unexpectedly: %s", type(command).__name__)
            return Failure("Shipmate hit an internal error; the details are in its log")

    def _fan_out(
        self,
        command: Command,
        selection: Selection,
        request: Request,
        render: Callable[[Result], Rendered],
        line: str,
        started: float,
    ) -> Reply[Rendered]:
        """One read on several engines at once: each engine authorizes (a refusal leaves that engine out) and
        answers within its own timeout; the answers merge into one."""
        refusals: dict[str, Failure] = {}

        def on(engine: str) -> Callable[[], Result]:
            def job() -> Result:
                decision = self._authorize(command, request.caller, engine)
                if isinstance(decision, Failure):
                    refusals[engine] = decision
                    return decision
                return self._run_on(command, decision, request, Selection((engine,), engine))

            return job

        engines = selection.engines
        answered, missed = run_on_each(
            {engine: on(engine) for engine in engines},
            {engine: self.fleet.engine(engine).timeout for engine in engines},
        )
        refusals = dict(refusals)  # an engine past its deadline may still refuse, in the background
        ran = [engine for engine in engines if engine not in refusals]
        if not ran:
            refused = self._refused_all([refusals[engine] for engine in engines])
            self._record(request.caller, line, command, REFUSED, refused, started, engine=",".join(engines))
            return Reply(render(refused), refused, command)
        for engine in refusals:
            answered.pop(engine, None)
        result: Result
        if isinstance(command, ContextList):
            hosts = {engine: self.fleet.engine(engine).docker_host for engine in ran}
            result = context_table(hosts, self.fleet.default, answered, missed)
        else:
            result = merge(answered, missed, tuple(engine for engine in engines if engine in refusals))
        self._record(request.caller, line, command, ALLOWED, result, started, engine=",".join(ran))
        return Reply(render(result), result, command)

    @staticmethod
    def _refused_all(refusals: list[Failure]) -> Failure:
        """Refused on every engine named: each engine's reason, in the engines' order (the same reason once)."""
        return Failure(" · ".join(dict.fromkeys(failure.reason for failure in refusals)))

    # -- confirmation clicks -----------------------------------------------------------

    def _open(self, token: str, caller: Caller, started: float) -> tuple[Confirmation, Command] | Failure:
        """The confirmation and its command, or the (recorded) reason the token cannot be used."""
        opened = self._read_token(token)
        if isinstance(opened, Failure):
            self._record(caller, "(confirmation)", None, REJECTED, opened, started)
        return opened

    def _read_token(self, token: str) -> tuple[Confirmation, Command] | Failure:
        if self.confirmer is None:
            return Failure("this Shipmate does not ask for confirmations; nothing was done")
        try:
            confirmation = self.confirmer.open(token)
        except InvalidToken:
            return Failure("this confirmation is not valid here (altered, or from another Shipmate); nothing was done")
        try:
            return confirmation, parse(confirmation.text, confirmation.slash)
        except ParseError as error:  # a token from an older Shipmate whose grammar differed
            return Failure(f"this confirmation no longer makes sense ({error.reason}); nothing was done")

    def _claim(
        self, confirmation: Confirmation, state: str, caller: Caller, command: Command, started: float
    ) -> Result | None:
        """Use the token once: None when this click won it, else the "already …" answer (recorded)."""
        assert self.confirmer is not None
        try:
            earlier = self.confirmer.store.claim(confirmation.nonce, state, caller.user_id, confirmation.expires_at)
        except StoreUnavailable:
            result = Failure(DATABASE_DOWN)
            self._record(caller, confirmation.line, command, REFUSED, result, started)
            return result
        if earlier is None:
            return None
        result = self._already(earlier, confirmation)  # another click (or replica) got there first
        detail = f"already {earlier.state} by {earlier.by}"
        self._record(caller, confirmation.line, command, REJECTED, result, started, detail=detail)
        return result

    @staticmethod
    def _requester(confirmation: Confirmation, caller: Caller) -> bool:
        same_team = not confirmation.team_id or not caller.team_id or confirmation.team_id == caller.team_id
        return caller.user_id == confirmation.user_id and same_team

    def _unusable(self, confirmation: Confirmation, caller: Caller) -> Result | None:
        """Why this click cannot run the command: someone else's, already used, or expired."""
        assert self.confirmer is not None
        if not self._requester(confirmation, caller):
            return Failure(f"only {confirmation.user_id} can confirm this: they asked for it. Nothing was done")
        try:
            earlier = self.confirmer.store.used(confirmation.nonce)
        except StoreUnavailable:
            return Failure(DATABASE_DOWN)
        if earlier is not None:
            return self._already(earlier, confirmation)
        if self.confirmer.expired(confirmation):
            minutes = max(1, round(self.confirmer.ttl / 60))
            return Failure(
                f"this confirmation expired (they last {minutes} min): nothing was done — run the command again"
            )
        return None

    @staticmethod
    def _already(earlier: Claim, confirmation: Confirmation) -> Result:
        if earlier.state == CANCELLED:
            return Notice(f"Already cancelled by {earlier.by}: nothing was done", (confirmation.line,))
        return Notice(f"Already confirmed by {earlier.by}: a confirmation runs only once", (confirmation.line,))

    # -- audit ------------------------------------------------------------------------

    def _record(
        self,
        caller: Caller,
        line: str,
        command: Command | None,
        decision: str,
        result: Result,
        started: float,
        detail: str | None = None,
        engine: str = "",
    ) -> None:
        outcome, described = describe(result)
        if decision in (REFUSED, REJECTED, CANCELLED):
            outcome = decision
        record = AuditRecord(
            at=time.time(),
            team_id=caller.team_id,
            user_id=caller.user_id,
            user_name=caller.user_name,
            channel_id=caller.channel_id,
            command=line,
            action=command.action if command else "",
            changes=bool(command and command.changes),
            decision=decision,
            outcome=outcome,
            detail=detail or described,
            duration_ms=int((time.monotonic() - started) * 1000),
            engine=engine,
        )
        metrics.counted(record)  # at once, not when the audit is written: it may wait for its database
        if self.audit is not None:
            self.audit.record(record)
