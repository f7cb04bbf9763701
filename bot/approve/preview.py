"""What an approval request shows its approvers, and the exact command that runs once they say yes.

The approvers see what a dry run shows (bot/confirm/preview.py): the targets as the engine knows them now and what
would change, in docker-CLI terms — built from the same targets and prune list the command will run on, so what
is approved is what runs."""

import shlex
from dataclasses import dataclass

from bot.confirm.preview import asked_preview
from bot.confirm.questions import Pending, confirmation_for, wants_plan, wants_targets
from bot.engine import Context
from bot.engine.prune import prune_plan
from bot.engine.targets import find_containers
from bot.grammar import Command
from bot.grammar.shipmate import AccessRequest
from bot.policy import Decision
from bot.policy.authorize import duration_text
from bot.render.preview_lines import preview_change_lines, preview_target_lines
from bot.results import Notice


@dataclass(frozen=True)
class ApprovalPreview:
    summary: str
    details: tuple[str, ...]
    slash: str  # with `text`: exactly what runs once approved (a prune: of the very ids listed)
    text: str


def approval_preview(
    command: Command, decision: Decision, ctx: Context, slash: str, text: str
) -> ApprovalPreview | Notice:
    """The confirmation's summary when the command would ask first (so approving is also confirming), else the
    command itself; the dry run's targets and changes as the details; a Notice when a prune finds nothing to
    remove (nothing to approve)."""
    if isinstance(command, AccessRequest):
        engines = command.context or ctx.engine.name
        why = f": {command.reason}" if command.reason else ""
        summary = f"give {command.role} on {engines} for {duration_text(command.seconds)}{why}"
        return ApprovalPreview(summary, (), slash, text)
    targets = decision.targets
    if targets is None and wants_targets(command):
        targets = find_containers(ctx.engine, command.targets())
    plan = prune_plan(ctx.engine, command) if wants_plan(command) else None
    pending = confirmation_for(command, targets, plan)
    if isinstance(pending, Notice):
        return pending
    shown = asked_preview(command, ctx, targets, plan, decision.because, f"{slash} {text}".strip(), "")
    if isinstance(pending, Pending):
        summary, slash, text = pending.summary, "/docker", _keeping_break_glass(pending.text, command)
    else:
        summary = f"`{command.action}`: {slash} {text}".strip()
    listed = pending.details if isinstance(pending, Pending) else ()  # a prune's exact list, every id of it
    if shown is None:
        return ApprovalPreview(summary, listed, slash, text)
    targets = listed or tuple(preview_target_lines(shown))
    return ApprovalPreview(summary, (*targets, *preview_change_lines(shown)), slash, text)


def _keeping_break_glass(text: str, command: Command) -> str:
    """The confirmation's command line, with the `--break-glass` it was asked with: approved during a freeze, it
    must still be let through when it runs."""
    if command.break_glass is None:
        return text
    return f"{text} {shlex.join(['--break-glass', command.break_glass])}"
