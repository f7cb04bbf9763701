"""Executors for the commands about Shipmate itself (whoami, policy, audit, and temporary access: request, grants,
revoke): they read the policy, the audit log and the grants, never Docker, so they run here rather than in
bot/engine."""

import secrets
import time
from datetime import UTC, datetime
from functools import singledispatch
from typing import Protocol

from bot.audit import AuditLog
from bot.grammar.shipmate import AboutShipmate, AccessRequest, RevokeGrant, ShowAudit, ShowGrants, ShowPolicy, Whoami
from bot.policy import Who
from bot.policy.authorize import grant_line
from bot.results import AuditEntry, AuditTrail, Failure, Identity, Notice, PolicySummary, Result
from bot.store import StoreUnavailable
from bot.store.grants import Grant, Grants

NO_GRANTS = "this Shipmate gives no temporary grants (local mode acts as the local admin)"
GRANTS_DOWN = "the database is not answering: try again in a moment"


class Describes(Protocol):
    """What an authorizer tells about itself (bot.policy.PolicyAuthorizer, bot.policy.LocalAdmin)."""

    def identity(self, caller: Who, engines: tuple[str, ...]) -> Identity: ...
    def summary(self) -> PolicySummary: ...
    def grant_store(self) -> Grants | None: ...


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


@answer.register
def _request(
    command: AccessRequest, caller: Who, authorizer: Describes, audit: AuditLog | None, engines: tuple[str, ...]
) -> Notice | Failure:
    """An approved request becomes a grant: the role on the engines asked for, from now for the time asked."""
    grants = authorizer.grant_store()
    if grants is None:
        return Failure(NO_GRANTS)
    if not command.approved_by:
        return Failure("a request for access runs only once an approver said yes")
    now = time.time()
    grant = Grant(
        id=secrets.token_hex(4),
        user_id=caller.user_id,
        role=command.role,
        engines=command.context or engines[0],
        starts=now,
        ends=now + command.seconds,
        reason=command.reason,
        approved_by=",".join(command.approved_by),
    )
    try:
        grants.add(grant)
    except StoreUnavailable:
        return Failure(GRANTS_DOWN)
    return Notice(f"Granted to {caller.user_id}: {grant_line(grant)}")


@answer.register
def _grants(
    command: ShowGrants, caller: Who, authorizer: Describes, audit: AuditLog | None, engines: tuple[str, ...]
) -> Notice | Failure:
    grants = authorizer.grant_store()
    if grants is None:
        return Failure(NO_GRANTS)
    try:
        active = grants.active()
    except StoreUnavailable:
        return Failure(GRANTS_DOWN)
    if not active:
        return Notice("No temporary grants in force")
    return Notice(f"{len(active)} temporary grant(s) in force", tuple(f"{g.user_id}: {grant_line(g)}" for g in active))


@answer.register
def _revoke(
    command: RevokeGrant, caller: Who, authorizer: Describes, audit: AuditLog | None, engines: tuple[str, ...]
) -> Notice | Failure:
    grants = authorizer.grant_store()
    if grants is None:
        return Failure(NO_GRANTS)
    try:
        ended = grants.revoke(command.grant_id, command.user, caller.user_id, time.time())
    except StoreUnavailable:
        return Failure(GRANTS_DOWN)
    if not ended:
        named = f"grant {command.grant_id}" if command.grant_id else f"grants of {command.user}"
        return Failure(f"no {named} in force: see `/docker grants`")
    return Notice(f"Revoked {len(ended)} grant(s)", tuple(f"{g.user_id}: {grant_line(g)}" for g in ended))
