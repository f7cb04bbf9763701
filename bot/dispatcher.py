"""parse → choose engine(s) → authorize → confirm → execute → render, with an audit record of each request: the
only place that knows the order. A dry run (`--dry-run`) stops after authorize and answers what would happen.

The engine is chosen right after parsing (the command's `--context`, else the request's, else the fleet's
default), so authorization, confirmation, execution, the audit record and the reply's buttons all see it. A read
that names several engines runs on each at once and comes back as one answer; a change names exactly one.

Every way in (slash command, button click, terminal) builds a Request and gets a Reply; nothing here knows
how the request arrived or how the reply travels. Confirm and Cancel clicks come in through `confirm()` and
`cancel()` with the token their button carried, and are checked and recorded the same way.

The stages live beside it: bot/pipeline.py (decide, carry out, fan out), bot/confirm/clicks.py (the clicks'
protocol), bot/trail.py (the audit records).
"""

import re
from collections.abc import Callable

from bot.approve.flow import Approvals
from bot.audit import AuditLog
from bot.confirm.clicks import Clicks, is_requester
from bot.confirm.tokens import Confirmation, Confirmer
from bot.engine import Engine, RunLimits
from bot.engine.running_follows import Follows
from bot.fleet.engines import Fleet, Selection, UnknownEngine
from bot.fleet.spec import ALL
from bot.freezes import Freezes, Silences
from bot.grammar import Command, ParseError, parse
from bot.grammar.clean import clean_slack_text
from bot.pipeline import Authorizer, NeedsApproval, Pipeline, Refused
from bot.policy import GroupLookup, LocalAdmin
from bot.request import Caller, Rendered, Reply, Request
from bot.results import (
    ApprovalWaiting,
    Failure,
    FromEngine,
    Notice,
    Progress,
    Result,
)
from bot.secrets import mask_text
from bot.store.approvals import ApprovalRequests
from bot.store.audit import (
    ALLOWED,
    APPROVAL_REQUESTED,
    CANCELLED,
    CONFIRM,
    CONFIRMED,
    DRY_RUN,
    INVALID,
    REFUSED,
    REJECTED,
)
from bot.trail import DATABASE_DOWN, Trail

__all__ = ["DATABASE_DOWN", "Authorizer", "Caller", "Dispatcher", "Reply", "Request"]

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


def _line(slash: str, text: str) -> str:
    """The command as the grammar saw it, for the audit (masked there)."""
    return f"{slash} {clean_slack_text(text)}".strip()


def _bound(result: Result, engine: str) -> Result:
    """The result as rendered: its buttons act on the engine it came from, also when that is the only one — an
    engines file written later must not turn an old button toward another default."""
    return result if isinstance(result, FromEngine) else FromEngine(engine, result, titled=False)


def _fans_out(command: Command, selection: Selection) -> bool:
    """A read named for several engines runs on each; `context ls` is a fan-out even over one (its table)."""
    return command.fans_out and (len(selection.engines) > 1 or command.every_engine_by_default)


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
        freezes: Freezes | None = None,
        silences: Silences | None = None,
        approval_requests: ApprovalRequests | None = None,
        groups: GroupLookup | None = None,
    ) -> None:
        """Without an authorizer everything is allowed (the local admin); without a confirmer nothing waits for a click.
        One Engine is a fleet of one, named `default`. `follows` on the shared store lets a Stop following click
        reach a follow running on another replica; by default only this process's follows are known. `freezes`:
        when changes wait (None: never); `silences`: the alerts muted, kept by `/docker silence`.
        `approval_requests`: where commands waiting for approval are kept (without it they are refused); `groups`:
        who is in the user groups an approval rule names."""
        self.fleet = engines if isinstance(engines, Fleet) else Fleet.single(engines)
        self.authorizer: Authorizer = authorizer or LocalAdmin()
        self.limits = limits or RunLimits()
        self.audit = audit
        self.confirmer = confirmer
        self.follows = follows if follows is not None else Follows()  # the `logs -f` running, for their Stop buttons
        self.pipeline = Pipeline(self.fleet, self.authorizer, self.limits, audit, self.follows, freezes, silences)
        self.clicks = Clicks(confirmer, self.fleet)
        self.approvals = Approvals(approval_requests, self.pipeline, audit, groups)

    def parse(self, request: Request) -> Command | Failure:
        try:
            return parse(request.text, request.slash)
        except ParseError as error:
            return Failure(_mask_typed(error.reason, request.text), error.usage)

    def pending(self, request: Request) -> str | None:
        """The "working on it" line when the request is for slow work (pull, foreground run, stop), else None."""
        command = self.parse(request)
        if not isinstance(command, Command) or not command.slow or command.dry_run:
            return None
        if self.confirmer is not None and command.asks_first:
            return None  # the first answer is a quick confirmation request; the slow part comes after the click
        return command.pending

    def handle(self, request: Request, render: Callable[[Result], Rendered]) -> Reply[Rendered]:
        trail = Trail(self.audit, request.caller, _line(request.slash, request.text))
        command = self.parse(request)
        if isinstance(command, Failure):
            return _stop(trail, None, INVALID, command, render)
        selection = self._select(command, request.context, request.caller)
        if isinstance(selection, Failure):
            return _stop(trail, command, INVALID, selection, render, command)
        if _fans_out(command, selection):
            fanned = self.pipeline.fan_out(command, request.caller, request.progress, selection)
            trail.record(command, fanned.decision, fanned.result, engine=",".join(fanned.engines))
            return Reply(render(fanned.result), fanned.result, command)
        engine = selection.engines[0]
        verdict = self.pipeline.decide(command, request.caller, engine)
        if command.dry_run:  # nothing runs: the answer is for the requester only, like a read's
            return _stop(
                trail,
                command,
                DRY_RUN,
                self.pipeline.dry_run(
                    command,
                    verdict,
                    request.caller,
                    engine,
                    _line(request.slash, request.text),
                    self.confirmer is not None,
                ),
                render,
                engine=engine,
            )
        if isinstance(verdict, Refused):
            return _stop(trail, command, REFUSED, verdict.failure, render, command, engine=engine)
        if isinstance(verdict, NeedsApproval):  # approving it also confirms it: it never asks twice
            waits = self.approvals.ask(command, verdict, request.caller, engine, request.slash, request.text)
            how = {ApprovalWaiting: APPROVAL_REQUESTED, Notice: ALLOWED}.get(type(waits), REFUSED)
            return _stop(trail, command, how, waits, render, command, engine=engine)
        asked = self.clicks.ask(command, verdict.decision, request.caller, engine)
        if asked is not None:
            return _stop(trail, command, CONFIRM, asked, render, command, engine=engine)
        done = self.pipeline.carry_out(trail, command, verdict, ALLOWED, request.progress, selection)
        if isinstance(done, Refused):
            return Reply(render(done.failure), done.failure, command)
        return Reply(render(_bound(done, engine)), done, command)

    def confirm(
        self,
        token: str,
        caller: Caller,
        render: Callable[[Result], Rendered],
        progress: Callable[[Progress], None] | None = None,
    ) -> Reply[Rendered]:
        """A Confirm click: the token must be genuine, the clicker its requester, and the command still allowed
        on the engine it was asked for. `progress`: where slow confirmed work (a compose restart) reports its steps."""
        trail = Trail(self.audit, caller, "(confirmation)")
        opened = self.clicks.open(token)
        if isinstance(opened, Failure):
            return _stop(trail, None, REJECTED, opened, render)
        confirmation, command = opened
        trail = trail.with_line(confirmation.line)
        rejected = self.clicks.unusable(confirmation, caller)
        if rejected is not None:
            return _stop(trail, command, REJECTED, rejected, render)
        selection = self._select(command, None, caller)
        if isinstance(selection, Failure):
            return _stop(trail, command, REJECTED, selection, render)
        engine = selection.engines[0]
        verdict = self.pipeline.decide(command, caller, engine)  # the policy, ownership and state of now
        if isinstance(verdict, NeedsApproval):  # a rule written since it was asked: it goes through approval now
            verdict = Refused(Failure(f"`{command.action}` now needs approval: run the command again to ask for it"))
        if isinstance(verdict, Refused):
            return _stop(trail, command, REFUSED, verdict.failure, render, engine=engine)
        taken = self._claim(trail, confirmation, CONFIRMED, command)
        if taken is not None:
            return Reply(render(taken), taken, None)
        done = self.pipeline.carry_out(trail, command, verdict, CONFIRMED, progress, selection)
        if isinstance(done, Refused):  # the token is used: the requester runs the command again once it answers
            return Reply(render(done.failure), done.failure, None)
        return Reply(render(_bound(done, engine)), done, command, line=f"{confirmation.line} (confirmed)")

    def cancel(self, token: str, caller: Caller, render: Callable[[Result], Rendered]) -> Reply[Rendered]:
        """A Cancel click: only the requester may cancel, and a cancelled token can never be confirmed."""
        trail = Trail(self.audit, caller, "(confirmation)")
        opened = self.clicks.open(token)
        if isinstance(opened, Failure):
            return _stop(trail, None, REJECTED, opened, render)
        confirmation, command = opened
        trail = trail.with_line(confirmation.line)
        if not is_requester(confirmation, caller):
            refusal = Failure(f"only {confirmation.user_id} can cancel this: they asked for it")
            return _stop(trail, command, REJECTED, refusal, render)
        taken = self._claim(trail, confirmation, CANCELLED, command)
        if taken is not None:
            return Reply(render(taken), taken, None)
        return _stop(trail, command, CANCELLED, Notice("Cancelled: nothing was done", (confirmation.line,)), render)

    def close(self) -> None:
        """Store what the audit still has queued, and close the engines' connections (an ssh:// engine's ssh
        processes among them); call at shutdown."""
        if self.audit is not None:
            self.audit.close()
        self.fleet.close()

    def _select(self, command: Command, default: str | None, caller: Caller) -> Selection | Failure:
        """The engines the request names; a change (or slow work such as `logs -f`) must name exactly one. The
        engines' names are told only to a caller with a role somewhere: this runs before any role is checked."""
        # An engine-free command's `--context` is what it is about (a freeze's engines), not where it runs.
        pattern = (None if command.engine_free else command.context) or default
        if pattern is None and command.every_engine_by_default:
            pattern = ALL
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

    def _claim(self, trail: Trail, confirmation: Confirmation, state: str, command: Command) -> Result | None:
        """Use the token once: None when this click won it, else the (recorded) answer why not."""
        unclaimed = self.clicks.claim(confirmation, state, trail.caller)
        if unclaimed is None:
            return None
        trail.record(command, unclaimed.decision, unclaimed.answer, detail=unclaimed.detail)
        return unclaimed.answer


def _stop(
    trail: Trail,
    command: Command | None,
    decision: str,
    result: Result,
    render: Callable[[Result], Rendered],
    shown: Command | None = None,
    *,
    engine: str = "",
) -> Reply[Rendered]:
    """The request ends here with `result`, recorded as `decision`; `shown` is the Reply's command."""
    trail.record(command, decision, result, engine=engine)
    return Reply(render(result), result, shown)
