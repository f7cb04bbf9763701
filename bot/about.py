"""Executors for the commands about Shipmate itself (whoami, policy, audit): they read the policy and the audit
log, never Docker, so they run here rather than in bot/engine."""

from datetime import UTC, datetime
from typing import Protocol

from bot.audit import AuditLog
from bot.grammar.shipmate import AboutShipmate, ShowAudit, ShowPolicy, Whoami
from bot.policy import Who
from bot.results import AuditEntry, AuditTrail, Failure, Identity, PolicySummary, Result


class Describes(Protocol):
    """What an authorizer tells about itself (bot.policy.PolicyAuthorizer, bot.policy.LocalAdmin)."""

    def identity(self, caller: Who, engines: tuple[str, ...]) -> Identity: ...
    def summary(self) -> PolicySummary: ...


def answer(
    command: AboutShipmate, caller: Who, authorizer: Describes, audit: AuditLog | None, engines: tuple[str, ...]
) -> Result:
    """`engines`: those the request named (every engine, for whoami without --context)."""
    if isinstance(command, Whoami):
        return authorizer.identity(caller, engines)
    if isinstance(command, ShowPolicy):
        return authorizer.summary()
    if isinstance(command, ShowAudit):
        if audit is None:
            return Failure("this Shipmate keeps no audit log")
        records = audit.latest(command.user, command.limit, command.engines)
        entries = tuple(
            AuditEntry(
                at=datetime.fromtimestamp(record.at, UTC),
                user_id=record.user_id,
                channel_id=record.channel_id,
                command=record.command,
                decision=record.decision,
                outcome=record.outcome,
                detail=record.detail,
                duration_ms=record.duration_ms,
                engine=record.engine,
            )
            for record in records
        )
        return AuditTrail(entries=entries, user=command.user, limit=command.limit, engines=command.engines)
    raise TypeError(f"no answer for {type(command).__name__}")
