"""Executors for the commands about Shipmate itself (whoami, policy, audit): they read the policy and the audit
log, never Docker, so they run here rather than in bot/engine."""

from datetime import UTC, datetime
from functools import singledispatch
from typing import Protocol

from bot.audit import AuditLog
from bot.grammar.shipmate import AboutShipmate, ShowAudit, ShowPolicy, Whoami
from bot.policy import Who
from bot.results import AuditEntry, AuditTrail, Failure, Identity, PolicySummary, Result
from bot.store import StoreUnavailable


class Describes(Protocol):
    """What an authorizer tells about itself (bot.policy.PolicyAuthorizer, bot.policy.LocalAdmin)."""

    def identity(self, caller: Who, engines: tuple[str, ...]) -> Identity: ...
    def summary(self) -> PolicySummary: ...


@singledispatch
def answer(
    command: AboutShipmate, caller: Who, authorizer: Describes, audit: AuditLog | None, engines: tuple[str, ...]
) -> Result:
    """`engines`: those the request named (every engine, for whoami without --context). Each command about
    Shipmate registers its answer here, as each Docker command registers its executor."""
    raise TypeError(f"no answer for {type(command).__name__}")


@answer.register
def _whoami(
    command: Whoami, caller: Who, authorizer: Describes, audit: AuditLog | None, engines: tuple[str, ...]
) -> Identity:
    return authorizer.identity(caller, engines)


@answer.register
def _policy(
    command: ShowPolicy, caller: Who, authorizer: Describes, audit: AuditLog | None, engines: tuple[str, ...]
) -> PolicySummary:
    return authorizer.summary()


@answer.register
def _audit(
    command: ShowAudit, caller: Who, authorizer: Describes, audit: AuditLog | None, engines: tuple[str, ...]
) -> AuditTrail | Failure:
    if audit is None:
        return Failure("this Shipmate keeps no audit log")
    try:
        records = audit.latest(command.user, command.limit, command.engines)
    except StoreUnavailable:
        return Failure("the audit database is not answering: try `/docker audit` again in a moment")
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
