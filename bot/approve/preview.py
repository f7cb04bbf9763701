"""What an approval request shows its approvers, and the exact command that runs once they say yes."""

from dataclasses import dataclass

from bot.confirm.questions import Pending, confirmation_for, wants_plan, wants_targets
from bot.engine import Engine
from bot.engine.prune import prune_plan
from bot.engine.targets import find_containers
from bot.grammar import Command
from bot.grammar.shipmate import AccessRequest
from bot.policy import Decision
from bot.policy.authorize import duration_text
from bot.results import Notice


@dataclass(frozen=True)
class ApprovalPreview:
    summary: str
    details: tuple[str, ...]
    slash: str  # with `text`: exactly what runs once approved (a prune: of the very ids listed)
    text: str


def approval_preview(
    command: Command, decision: Decision, engine: Engine, slash: str, text: str
) -> ApprovalPreview | Notice:
    """The confirmation's summary and list when the command would ask first (so approving is also confirming),
    else the command itself; a Notice when a prune finds nothing to remove (nothing to approve)."""
    if isinstance(command, AccessRequest):
        engines = command.context or engine.name
        why = f": {command.reason}" if command.reason else ""
        summary = f"give {command.role} on {engines} for {duration_text(command.seconds)}{why}"
        return ApprovalPreview(summary, (), slash, text)
    targets = decision.targets
    if targets is None and wants_targets(command):
        targets = find_containers(engine, command.targets())
    plan = prune_plan(engine, command) if wants_plan(command) else None
    pending = confirmation_for(command, targets, plan)
    if isinstance(pending, Notice):
        return pending
    if isinstance(pending, Pending):
        return ApprovalPreview(pending.summary, pending.details, "/docker", pending.text)
    return ApprovalPreview(f"`{command.action}`: {slash} {text}".strip(), (), slash, text)
