"""The Confirm and Cancel buttons' protocol: asking (a signed token on the button), reading a click's token,
who may click it, when it can no longer be used, and using it once across replicas.

bot/confirm.py says which commands ask first and signs the tokens; this is the conversation around them."""

from dataclasses import dataclass, replace

from bot.confirm.preview import asked_preview
from bot.confirm.questions import Pending, confirmation_for, wants_plan, wants_targets
from bot.confirm.tokens import Confirmation, Confirmer, InvalidToken, TokenTooLong
from bot.engine import Context, EngineError
from bot.engine.prune import prune_plan
from bot.engine.targets import find_containers
from bot.engine.volumes import removal_refused
from bot.fleet.engines import Fleet
from bot.grammar import Command, ParseError, parse
from bot.grammar.volume_commands import VolumeRemove
from bot.policy import Decision
from bot.request import Caller
from bot.results import ConfirmationRequest, Failure, Notice, Preview, Result
from bot.store import Claim, StoreUnavailable
from bot.store.audit import CANCELLED, REFUSED, REJECTED
from bot.trail import DATABASE_DOWN


@dataclass(frozen=True)
class Unclaimed:
    """Why a click did not get its token, and how the audit records it."""

    answer: Result
    decision: str  # REFUSED while the database is not answering, REJECTED when another click got there first
    detail: str | None = None


def is_requester(confirmation: Confirmation, caller: Caller) -> bool:
    same_team = not confirmation.team_id or not caller.team_id or confirmation.team_id == caller.team_id
    return caller.user_id == confirmation.user_id and same_team


def _already(earlier: Claim, confirmation: Confirmation) -> Result:
    if earlier.state == CANCELLED:
        return Notice(f"Already cancelled by {earlier.by}: nothing was done", (confirmation.line,))
    return Notice(f"Already confirmed by {earlier.by}: a confirmation runs only once", (confirmation.line,))


@dataclass(frozen=True)
class Clicks:
    """Over the fleet's engines (a question may look at the targets first); without a confirmer this Shipmate
    asks nothing, and a click is answered that nothing was done."""

    confirmer: Confirmer | None
    fleet: Fleet

    def ask(self, command: Command, decision: Decision, caller: Caller, engine: str) -> Result | None:
        """A ConfirmationRequest when the command must wait for a click (a Failure if that cannot be asked or
        must not be done, a Notice when a prune finds nothing), None when it runs at once."""
        if self.confirmer is None:
            return None
        targets = decision.targets
        plan = None
        try:
            if targets is None and wants_targets(command):
                targets = find_containers(self.fleet.engine(engine), command.targets())
            if wants_plan(command):
                plan = prune_plan(self.fleet.engine(engine), command)
            if isinstance(command, VolumeRemove):  # a volume in use is refused before any question, users named
                refused = removal_refused(self.fleet.engine(engine), command.names)
                if refused is not None:
                    return refused
        except EngineError as error:
            return Failure(str(error))
        pending = confirmation_for(command, targets, plan)
        if not isinstance(pending, Pending):
            return pending  # nothing to ask (None), or nothing to prune (a Notice)
        # The click runs on the engine it was asked for, whatever the default is by then (even with one engine:
        # an engines file may appear before the click).
        summary = f"{pending.summary} on `{engine}`" if self.fleet.several else pending.summary
        text = f"--context {engine} {pending.text}"
        ctx = Context(engine=self.fleet.engine(engine))
        shown_engine = engine if self.fleet.several else ""
        preview = asked_preview(command, ctx, targets, plan, decision.because, f"/docker {text}", shown_engine)
        return self._question(self.confirmer, replace(pending, summary=summary, text=text), caller, preview)

    @staticmethod
    def _question(confirmer: Confirmer, pending: Pending, caller: Caller, preview: Preview | None) -> Result:
        try:
            token = confirmer.issue("/docker", pending.text, caller.user_id, caller.team_id)
        except TokenTooLong:
            return Failure("this command is too long to confirm with a button: name fewer at a time")
        return ConfirmationRequest(
            summary=pending.summary,
            details=pending.details,
            command=f"/docker {pending.text}",
            token=token,
            expires_in=int(confirmer.ttl),
            preview=preview,
        )

    def open(self, token: str) -> tuple[Confirmation, Command] | Failure:
        """The confirmation and its command, or why the token cannot be used."""
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

    def unusable(self, confirmation: Confirmation, caller: Caller) -> Result | None:
        """Why this click cannot run the command: someone else's, already used, or expired."""
        assert self.confirmer is not None
        if not is_requester(confirmation, caller):
            return Failure(f"only {confirmation.user_id} can confirm this: they asked for it. Nothing was done")
        try:
            earlier = self.confirmer.store.used(confirmation.nonce)
        except StoreUnavailable:
            return Failure(DATABASE_DOWN)
        if earlier is not None:
            return _already(earlier, confirmation)
        if self.confirmer.expired(confirmation):
            minutes = max(1, round(self.confirmer.ttl / 60))
            return Failure(
                f"this confirmation expired (they last {minutes} min): nothing was done — run the command again"
            )
        return None

    def claim(self, confirmation: Confirmation, state: str, caller: Caller) -> Unclaimed | None:
        """Use the token once (as CONFIRMED or CANCELLED): None when this click won it."""
        assert self.confirmer is not None
        try:
            earlier = self.confirmer.store.claim(confirmation.nonce, state, caller.user_id, confirmation.expires_at)
        except StoreUnavailable:
            return Unclaimed(Failure(DATABASE_DOWN), REFUSED)
        if earlier is None:
            return None
        # another click (or replica) got there first
        return Unclaimed(_already(earlier, confirmation), REJECTED, f"already {earlier.state} by {earlier.by}")
