"""A dry run's answer: what a change would do (bot/engine/preview.py, reads only) and the verdict for this caller on
this engine — allowed by which rule, refused and why, or asked first and what. A confirmation request shows the same
preview, so what people confirm is what runs."""

import logging
from dataclasses import dataclass

from bot.confirm.questions import Pending, confirmation_for, wants_plan, wants_targets
from bot.engine import Context, EngineError
from bot.engine.preview import Foreseen, Known, foresee
from bot.engine.prune import PruneItem, prune_plan
from bot.engine.targets import find_containers
from bot.engine.volumes import removal_refused
from bot.grammar.commands import Command, Prune
from bot.grammar.volume_commands import VolumeRemove
from bot.policy import Decision
from bot.policy.model import ApprovalRule
from bot.render.format import size
from bot.results import Failure, Notice, Preview, PreviewTarget, Verdict, VerdictKind
from bot.secrets import mask_text

log = logging.getLogger(__name__)


def _planned(command: Prune, plan: tuple[PruneItem, ...]) -> Foreseen:
    """The exact list a confirmation shows (and a confirmed prune removes: those ids, no others)."""
    question = confirmation_for(command, None, plan)
    if not isinstance(question, Pending):
        return Foreseen((), (("prune", question.title if isinstance(question, Notice) else "nothing to remove"),))
    targets = tuple(
        PreviewTarget(item.name, item.id, ", ".join([*([item.state] if item.state else []), size(item.size)]))
        for item in plan
    )
    return Foreseen(targets, (("prune", question.summary),))


@foresee.register
def _prune(command: Prune, ctx: Context, known: Known = None) -> Foreseen:
    return _planned(command, prune_plan(ctx.engine, command))


def _question(
    command: Command, ctx: Context, known: Known, plan: tuple[PruneItem, ...] | None, confirms: bool
) -> Pending | Failure | None:
    """What a confirmation would ask before this command runs (None: it would run at once; `confirms`: this
    Shipmate asks at all), or why it would be refused first: a volume in use, as the confirmation and the executor
    both refuse it."""
    if isinstance(command, VolumeRemove):
        refused = removal_refused(ctx.engine, command.names)
        if refused is not None:
            return refused
    if not confirms:
        return None
    if known is None and wants_targets(command):
        known = find_containers(ctx.engine, command.targets())
    question = confirmation_for(command, known, plan)
    return question if isinstance(question, Pending) else None


def asked_preview(
    command: Command,
    ctx: Context,
    known: Known,
    plan: tuple[PruneItem, ...] | None,
    because: str,
    line: str,
    engine: str,
) -> Preview | None:
    """What a confirmation request shows of the command it asks about, from the targets and the prune plan the
    question looked at (None when the engine cannot say now: the question itself still stands)."""
    try:
        seen = (
            _planned(command, plan) if isinstance(command, Prune) and plan is not None else foresee(command, ctx, known)
        )
    except EngineError:
        return None
    return DryRun(line, engine).shown(seen, Verdict(VerdictKind.ASKS_FIRST, because))


def approval_terms(rule: ApprovalRule) -> str:
    """Who must say yes first, as a dry run's verdict says it: "a yes from 2 of U0A, S0LEADS (why)"."""
    approvers = ", ".join(sorted(rule.approvers))
    count = f"{rule.needed} of " if rule.needed > 1 else "one of "
    return f"a yes from {count}{approvers}, never you ({rule.why})"


@dataclass(frozen=True)
class DryRun:
    """One dry run: the command as typed, and the engine it names ("" when Shipmate has only the one)."""

    line: str
    engine: str

    def refused(
        self, reason: str, command: Command | None = None, ctx: Context | None = None, known: Known = None
    ) -> Preview:
        """The refusal as the verdict; with `ctx` (the caller has a role on the engine) also what it would do."""
        seen = self._seen(command, ctx, known) if command is not None and ctx is not None else Foreseen()
        return self.shown(seen, Verdict(VerdictKind.REFUSED, reason))

    def allowed(self, command: Command, ctx: Context, decision: Decision, confirms: bool) -> Preview:
        """Allowed by `decision.because`; `confirms`: this Shipmate asks first where a command may need it. A prune's
        list is worked out once: the preview and the question show the same one."""
        try:
            plan = prune_plan(ctx.engine, command) if wants_plan(command) else None
        except EngineError as error:
            return self.shown(Foreseen(), Verdict(VerdictKind.REFUSED, str(error)))
        seen = _planned(command, plan) if plan is not None else self._seen(command, ctx, decision.targets)
        try:
            question = _question(command, ctx, decision.targets, plan, confirms)
        except EngineError as error:
            return self.shown(seen, Verdict(VerdictKind.REFUSED, str(error)))
        if isinstance(question, Failure):
            return self.shown(seen, Verdict(VerdictKind.REFUSED, question.reason))
        if question is not None:
            return self.shown(seen, Verdict(VerdictKind.ASKS_FIRST, f"{question.summary} — {decision.because}"))
        return self.shown(seen, Verdict(VerdictKind.ALLOWED, decision.because))

    @staticmethod
    def _seen(command: Command, ctx: Context, known: Known) -> Foreseen:
        try:
            return foresee(command, ctx, known)
        except EngineError as error:
            return Foreseen((), (("engine", str(error)),))
        except Exception:  # a bug costs the preview's details, never the answer or a traceback in chat
            log.exception("dry run failed unexpectedly: %s", type(command).__name__)
            return Foreseen((), (("shipmate", "an internal error kept it from working this out; see its log"),))

    def shown(self, seen: Foreseen, verdict: Verdict) -> Preview:
        return Preview(mask_text(self.line), self.engine, seen.targets, seen.changes, verdict)
