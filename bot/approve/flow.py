"""An approval request and its clicks: asked (stored, with its preview and its targets' fingerprint), approved
(by an approver who is not the requester, at click time; the policy checked again as the requester; the targets
unchanged; once across replicas; before it expires), denied with a reason, or withdrawn by the requester.

An approved command runs as the requester, without asking for a confirmation as well: the approvers saw what a
confirmation would have asked."""

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.approve.fingerprint import differences, fingerprint
from bot.approve.preview import ApprovalPreview, approval_preview
from bot.audit import AuditLog
from bot.engine import EngineError
from bot.fleet.engines import Selection, UnknownEngine
from bot.grammar import Command, ParseError, parse
from bot.grammar.shipmate import AccessRequest
from bot.pipeline import Allowed, NeedsApproval, Pipeline, Refused
from bot.policy import GroupLookup, GroupLookupFailed
from bot.request import Caller
from bot.results import ApprovalRequest, ApprovalWaiting, Failure, Notice, Progress, Result
from bot.store import Claim, StoreUnavailable
from bot.store.approvals import PENDING, ApprovalRecord, ApprovalRequests, ApprovalState
from bot.store.audit import APPROVAL_YES, APPROVED, DENIED, EXPIRED, REFUSED, REJECTED, WITHDRAWN
from bot.trail import DATABASE_DOWN, Trail


@dataclass(frozen=True)
class Clicked:
    """What a click on a request (or a deny reason) came to."""

    answer: Result  # for the clicker; the command's result when it ran (then for the channel)
    request: ApprovalRequest | None = None  # the request message as it reads now; None: leave it as it is
    where: tuple[str, str] | None = None  # (channel, ts) of the request message, once posted
    ran: Command | None = None  # the command that ran on approval
    line: str = ""  # the command line that ran
    requester: str = ""  # user id
    approvers: tuple[str, ...] = ()  # who approved what ran
    tell_requester: Result | None = None  # a direct message to the requester (denied)


def _named(ids: tuple[str, ...]) -> str:
    """Users and user groups by id, as plain text (answers are escaped where they are shown)."""
    return ", ".join(ids)


def _at(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M UTC")


def _requester(record: ApprovalRecord) -> Caller:
    return Caller(record.requester_user, record.requester_team, record.requester_channel, record.requester_name)


class Approvals:
    """Over the pipeline (to decide and carry out), the request store (None: no approvals here) and the user
    groups an approver may be in."""

    def __init__(
        self,
        store: ApprovalRequests | None,
        pipeline: Pipeline,
        audit: AuditLog | None,
        groups: GroupLookup | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.audit = audit
        self.groups = groups
        self.clock = clock

    # -- asking -------------------------------------------------------------------------------------------------

    def ask(self, command: Command, needs: NeedsApproval, caller: Caller, engine: str, slash: str, text: str) -> Result:
        """Store the request and answer the requester (ApprovalWaiting), or why it cannot be asked."""
        if self.store is None:
            return Failure(f"`{command.action}` on {engine} needs approval, and this Shipmate keeps no requests")
        on = self.pipeline.fleet.engine(engine)
        try:
            preview = approval_preview(
                command, needs.decision, self.pipeline.context(needs.decision, caller, engine), slash, text
            )
            state = fingerprint(on, command)
        except EngineError as error:
            return Failure(str(error))
        if not isinstance(preview, ApprovalPreview):
            return preview  # nothing to prune: nothing to approve
        rule, now = needs.rule, self.clock()
        record = ApprovalRecord(
            id=secrets.token_hex(8),
            requester_user=caller.user_id,
            requester_team=caller.team_id,
            requester_channel=caller.channel_id,
            requester_name=caller.user_name,
            slash=preview.slash,
            text=preview.text,
            engine=engine,
            action=command.action,
            approvers=tuple(sorted(rule.approvers)),
            needed=rule.needed,
            ttl_seconds=rule.ttl_seconds,
            channel=rule.channel or caller.channel_id,
            why=rule.why,
            summary=preview.summary,
            details=preview.details,
            created_at=now,
            expires_at=now + rule.ttl_seconds,
        )
        try:
            self.store.add(record, state)
        except StoreUnavailable:
            return Failure(DATABASE_DOWN)
        return ApprovalWaiting(self._view(record), record.channel)

    def posted(self, request_id: str, channel: str, ts: str) -> None:
        """Where the request message went, so a click on any replica can update it."""
        if self.store is not None:
            self.store.posted(request_id, channel, ts)

    # -- clicks -------------------------------------------------------------------------------------------------

    def approve(self, request_id: str, caller: Caller, progress: Callable[[Progress], None] | None = None) -> Clicked:
        loaded = self._load(request_id, caller)
        if not isinstance(loaded, tuple):
            return loaded
        state, trail, command = loaded
        record = state.record
        if caller.user_id == record.requester_user:
            refusal = Failure(f"you asked for this, so someone else must approve it ({_named(record.approvers)})")
            return self._refuse(trail, command, REJECTED, refusal, state)
        refusal = self.not_an_approver(record, caller)
        if refusal is not None:
            return self._refuse(trail, command, REJECTED, refusal, state)
        selection = self._selection(command, record)
        if isinstance(selection, Failure):
            return self._refuse(trail, command, REFUSED, selection, state)
        verdict = self.pipeline.decide(command, _requester(record), record.engine)  # as the requester, now
        if isinstance(verdict, Refused):
            refusal = Failure(f"the policy no longer lets {record.requester_user} do this: {verdict.failure.reason}")
            return self._refuse(trail, command, REFUSED, refusal, state)
        try:
            now_state = fingerprint(self.pipeline.fleet.engine(record.engine), command)
        except EngineError as error:
            return self._refuse(trail, command, REFUSED, Failure(str(error)), state)
        changed = differences(state.fingerprint, now_state)
        if changed:
            return self._changed(trail, command, state, now_state, changed)
        assert self.store is not None
        try:
            self.store.vote(record.id, caller.user_id)
            votes = self.store.votes(record.id)
        except StoreUnavailable:
            return self._refuse(trail, command, REFUSED, Failure(DATABASE_DOWN), state)
        if len(votes) < record.needed:
            trail.record(command, APPROVAL_YES, Notice(f"{len(votes)} of {record.needed} approvals"))
            yes = Notice(f"Your yes is recorded: {len(votes)} of {record.needed} approvals; nothing ran yet")
            return Clicked(yes, self._view(record, votes), self._where(state))
        taken = self._end(record, APPROVED, ",".join(votes))
        if taken is not None:
            return self._refuse(trail, command, REJECTED, taken, state)
        approved = f"{record.line} (approved by {', '.join(votes)})"
        ran = Trail(self.audit, _requester(record), approved)
        allowed = Allowed(verdict.decision)
        if isinstance(command, AccessRequest):  # the grant records who gave it
            command = replace(command, approved_by=votes)
        done = self.pipeline.carry_out(ran, command, allowed, APPROVED, progress, selection)
        result = done.failure if isinstance(done, Refused) else done
        view = self._view(record, votes, state=APPROVED, decided_by=",".join(votes))
        return Clicked(result, view, self._where(state), command, record.line, record.requester_user, votes)

    def deny(self, request_id: str, caller: Caller, reason: str) -> Clicked:
        loaded = self._load(request_id, caller)
        if not isinstance(loaded, tuple):
            return loaded
        state, trail, command = loaded
        record = state.record
        if caller.user_id == record.requester_user:
            refusal = Failure("you asked for this: withdraw it instead of denying it")
            return self._refuse(trail, command, REJECTED, refusal, state)
        refusal = self.not_an_approver(record, caller, "deny")
        if refusal is not None:
            return self._refuse(trail, command, REJECTED, refusal, state)
        reason = " ".join(reason.split()) or "no reason given"
        taken = self._end(record, DENIED, caller.user_id, reason)
        if taken is not None:
            return self._refuse(trail, command, REJECTED, taken, state)
        trail.record(command, DENIED, Notice("denied"), detail=reason)
        view = self._view(record, state=DENIED, decided_by=caller.user_id, reason=reason)
        told = Notice(f"Your request was denied by {caller.user_id}: {reason}", (f"`{record.line}` did not run",))
        return Clicked(
            Notice("Denied: nothing ran, and the requester was told"),
            view,
            self._where(state),
            requester=record.requester_user,
            tell_requester=told,
        )

    def withdraw(self, request_id: str, caller: Caller) -> Clicked:
        loaded = self._load(request_id, caller)
        if not isinstance(loaded, tuple):
            return loaded
        state, trail, command = loaded
        record = state.record
        if caller.user_id != record.requester_user:
            refusal = Failure(f"only {record.requester_user} can withdraw this: they asked for it")
            return self._refuse(trail, command, REJECTED, refusal, state)
        taken = self._end(record, WITHDRAWN, caller.user_id)
        if taken is not None:
            return self._refuse(trail, command, REJECTED, taken, state)
        trail.record(command, WITHDRAWN, Notice("withdrawn"))
        view = self._view(record, state=WITHDRAWN, decided_by=caller.user_id)
        return Clicked(Notice("Withdrawn: nothing ran", (record.line,)), view, self._where(state))

    # -- the steps they share -------------------------------------------------------------------------------

    def _load(self, request_id: str, caller: Caller) -> tuple[ApprovalState, Trail, Command] | Clicked:
        """The request, still pending and unexpired, its trail and command; else the answer why not."""
        trail = Trail(self.audit, caller, "(approval)")
        if self.store is None:
            return self._stop(trail, None, REJECTED, Failure("this Shipmate keeps no approval requests"))
        try:
            state = self.store.get(request_id)
            ended = self.store.ended(request_id) if state is not None else None
        except StoreUnavailable:
            return self._stop(trail, None, REFUSED, Failure(DATABASE_DOWN))
        if state is None:
            return self._stop(trail, None, REJECTED, Failure("this approval request is not known here: nothing ran"))
        trail = trail.with_line(state.record.line)
        try:
            command = parse(state.record.text, state.record.slash)
        except ParseError as error:  # a request from an older Shipmate whose grammar differed
            return self._stop(trail, None, REJECTED, Failure(f"this request no longer makes sense ({error.reason})"))
        if ended is not None:
            return self._refuse(trail, command, REJECTED, _already(ended), state)
        if self.clock() > state.record.expires_at:
            taken = self._end(state.record, EXPIRED, "")
            expired = Failure(
                f"this approval request expired at {_at(state.record.expires_at)}: nothing ran — ask again"
            )
            if taken is None:
                trail.record(command, EXPIRED, expired)
                return Clicked(expired, self._view(state.record, state=EXPIRED), self._where(state))
            return self._refuse(trail, command, REJECTED, taken, state)
        return state, trail, command

    def not_an_approver(self, record: ApprovalRecord, caller: Caller, verb: str = "approve") -> Failure | None:
        """None when the clicker is an approver now: named, or in a named user group (asked at click time)."""
        if caller.user_id in record.approvers:
            return None
        try:
            for group in (item for item in record.approvers if item.startswith("S")):
                if self.groups is not None and caller.user_id in self.groups.members_of(group):
                    return None
        except GroupLookupFailed:
            return Failure("could not check your user groups; try again")
        return Failure(f"only {_named(record.approvers)} can {verb} this request")

    def _selection(self, command: Command, record: ApprovalRecord) -> Selection | Failure:
        """The engine it was asked for, and no other (an engines file edited meanwhile cannot redirect it)."""
        try:
            selection = self.pipeline.fleet.select(command.context or record.engine)
        except UnknownEngine as error:
            return Failure(str(error))
        if selection.engines != (record.engine,):
            return Failure(f"`{record.engine}` is no longer the engine this names: nothing ran — ask again")
        return selection

    def _changed(
        self, trail: Trail, command: Command, state: ApprovalState, now: dict[str, str], changed: tuple[str, ...]
    ) -> Clicked:
        """The targets are not what was asked about: show how, and approve again to run it on them as they are."""
        assert self.store is not None
        try:
            self.store.refingerprint(state.record.id, now)
        except StoreUnavailable:
            return self._refuse(trail, command, REFUSED, Failure(DATABASE_DOWN), state)
        trail.record(command, REJECTED, Failure("the targets changed since the request"), detail="; ".join(changed))
        view = self._view(state.record, self._votes(state.record), changes=changed)
        return Clicked(view, view, self._where(state))

    def _end(self, record: ApprovalRecord, end: str, by: str, reason: str = "") -> Failure | None:
        """End the request once for every replica: None when this click did."""
        assert self.store is not None
        try:
            earlier = self.store.end(record.id, end, by, reason)
        except StoreUnavailable:
            return Failure(DATABASE_DOWN)
        return None if earlier is None else _already(earlier)

    def _votes(self, record: ApprovalRecord) -> tuple[str, ...]:
        assert self.store is not None
        try:
            return self.store.votes(record.id)
        except StoreUnavailable:
            return ()

    def _refuse(
        self, trail: Trail, command: Command | None, decision: str, refusal: Result, state: ApprovalState
    ) -> Clicked:
        """The click does nothing; the request message shows how the request ended when it has."""
        trail.record(command, decision, refusal)
        ended = self.view_of(state) if state.state != PENDING else None
        return Clicked(refusal, ended, self._where(state) if ended else None)

    @staticmethod
    def _stop(trail: Trail, command: Command | None, decision: str, refusal: Result) -> Clicked:
        trail.record(command, decision, refusal)
        return Clicked(refusal)

    @staticmethod
    def _where(state: ApprovalState) -> tuple[str, str] | None:
        return (state.message_channel, state.message_ts) if state.message_ts else None

    def view_of(self, state: ApprovalState) -> ApprovalRequest:
        return self._view(state.record, self._votes(state.record), state.state, state.decided_by, state.reason)

    @staticmethod
    def _view(
        record: ApprovalRecord,
        votes: tuple[str, ...] = (),
        state: str = PENDING,
        decided_by: str = "",
        reason: str = "",
        changes: tuple[str, ...] = (),
    ) -> ApprovalRequest:
        return ApprovalRequest(
            id=record.id,
            requester=record.requester_user,
            command=record.line,
            engine=record.engine,
            summary=record.summary,
            details=record.details,
            approvers=record.approvers,
            needed=record.needed,
            approved_by=votes,
            expires_at=record.expires_at,
            state=state,
            decided_by=decided_by,
            reason=reason,
            why=record.why,
            changes=changes,
        )


def _already(earlier: Claim) -> Failure:
    by = f" by {_named(tuple(earlier.by.split(',')))}" if earlier.by else ""
    return Failure(f"this request was already {earlier.state}{by}: nothing more runs")
