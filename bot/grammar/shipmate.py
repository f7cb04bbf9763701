"""Commands about Shipmate itself: `whoami`, `policy`, `audit`, and temporary access — `request`, `grants`,
`revoke` (under /docker)."""

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.grammar.commands import Command, DefaultRole
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, exactly, register
from bot.grammar.values import duration_seconds

DEFAULT_AUDIT_LIMIT = 20
MAX_AUDIT_LIMIT = 200
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_ENGINES = re.compile(r"[a-z0-9._*?\[\],-]+")
_ROLE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_GRANT_ID = re.compile(r"[0-9a-f]{6,32}")


@dataclass(frozen=True)
class AboutShipmate(Command, abstract=True):
    """A command answered from Shipmate's own state (policy, audit log), never from Docker: by `bot.about_shipmate.answer`,
    not by an executor."""

    engine_free: ClassVar[bool] = True
    fans_out: ClassVar[bool] = False


@dataclass(frozen=True)
class Whoami(AboutShipmate):
    action: ClassVar[str] = "whoami"
    default_role: ClassVar[DefaultRole] = DefaultRole.EVERYONE
    engine_free: ClassVar[bool] = False  # it tells the caller's roles per engine
    every_engine_by_default: ClassVar[bool] = True


@dataclass(frozen=True)
class ShowPolicy(AboutShipmate):
    action: ClassVar[str] = "policy.show"
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN


@dataclass(frozen=True)
class ShowAudit(AboutShipmate):
    user: str | None = None
    limit: int = DEFAULT_AUDIT_LIMIT
    engines: str | None = None  # records of these engines only: a name, a comma list or a glob
    action: ClassVar[str] = "audit.show"
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN


@dataclass(frozen=True)
class AccessRequest(AboutShipmate):
    """`request ROLE --context ENGINES DURATION REASON`: a role for a while, once an `access:` rule's approvers say
    yes. It always waits for approval; the approval flow fills `approved_by` before it runs."""

    role: str
    seconds: int
    reason: str
    approved_by: tuple[str, ...] = ()
    action: ClassVar[str] = "access.request"
    default_role: ClassVar[DefaultRole] = DefaultRole.EVERYONE  # the `access:` rules say who may ask
    engine_free: ClassVar[bool] = False  # it names the engines it asks for


@dataclass(frozen=True)
class ShowGrants(AboutShipmate):
    action: ClassVar[str] = "grant.ls"
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN


@dataclass(frozen=True)
class RevokeGrant(AboutShipmate):
    """`revoke GRANT_ID` or `revoke @user`: end a grant (or all of a user's) now."""

    grant_id: str | None = None
    user: str | None = None
    action: ClassVar[str] = "grant.revoke"
    default_role: ClassVar[DefaultRole] = DefaultRole.ADMIN


def _request(parsed: Parsed) -> AccessRequest:
    if len(parsed.args) < 3:
        raise ParseError('write the role, how long and why, e.g. `request operator --context prod-1 1h "INC-4411"`')
    role, duration, *reason = parsed.args
    if not _ROLE.fullmatch(role):
        raise ParseError(f'`{role}` is not a role name: e.g. `request operator --context prod-1 1h "INC-4411"`')
    try:
        seconds = duration_seconds(duration)
    except ParseError:
        seconds = 0
    if seconds <= 0:
        raise ParseError(f"`{duration}` is not a duration: write e.g. `30m`, `1h` or `2h30m`")
    engines = parsed.value("context")
    if engines is not None and not _ENGINES.fullmatch(engines):
        raise ParseError(f"`--context {engines}` is not an engine name or pattern: e.g. `prod-1` or `prod-*`")
    return AccessRequest(role=role, seconds=seconds, reason=" ".join(reason), context=engines)


def _revoke(parsed: Parsed) -> RevokeGrant:
    (target,) = exactly(parsed.args, 1, "the grant's id or the user, e.g. `revoke 3f2a9c1d` or `revoke @ada`")
    if target.startswith("@") or _USER_ID.fullmatch(target):
        return RevokeGrant(user=_user(target))
    if not _GRANT_ID.fullmatch(target):
        raise ParseError(f"`{target}` is neither a grant id (see `/docker grants`) nor a user")
    return RevokeGrant(grant_id=target)


def _user(value: str) -> str:
    user = value.removeprefix("@")
    if not _USER_ID.fullmatch(user):
        raise ParseError(
            f"`{value}` is not a Slack user: mention them (type @ and pick them from the list) "
            "or give their id, e.g. `--user U0123ABCD`"
        )
    return user


def _limit(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_AUDIT_LIMIT:
        raise ParseError(f"`--limit {value}` is not a number of records: use 1–{MAX_AUDIT_LIMIT}")
    return int(value)


def _audit(parsed: Parsed) -> ShowAudit:
    exactly(parsed.args, 0, "")
    user, limit, engines = parsed.value("user"), parsed.value("limit"), parsed.value("context")
    if engines is not None and not _ENGINES.fullmatch(engines):
        raise ParseError(f"`--context {engines}` is not an engine name, list or pattern: e.g. `prod-1` or `prod-*`")
    return ShowAudit(
        user=None if user is None else _user(user),
        limit=DEFAULT_AUDIT_LIMIT if limit is None else _limit(limit),
        engines=engines,
    )


def _nothing_else(command: type[AboutShipmate]):
    def build(parsed: Parsed) -> AboutShipmate:
        exactly(parsed.args, 0, "")
        return command()

    return build


SPECS = register(
    CommandSpec(
        name="whoami",
        aliases=(),
        usage="",
        summary="your Slack id, groups, role and what you may do here",
        options=OptionParser(()),
        build=_nothing_else(Whoami),
    ),
    CommandSpec(
        name="policy",
        aliases=(),
        usage="",
        summary="the permission policy in force (admins)",
        options=OptionParser(()),
        build=_nothing_else(ShowPolicy),
    ),
    CommandSpec(
        name="audit",
        aliases=(),
        usage="[--user USER] [--context ENGINE] [-n|--limit N]",
        summary=f"the latest audit records, newest first (admins; {DEFAULT_AUDIT_LIMIT} unless --limit)",
        options=OptionParser(
            (
                Flag(("--user",), takes_value=True),
                Flag(("--context",), takes_value=True),
                Flag(("-n", "--limit"), takes_value=True),
            )
        ),
        build=_audit,
    ),
    CommandSpec(
        name="request",
        aliases=(),
        usage="ROLE [--context ENGINE] DURATION REASON",
        summary="ask for a role on engines for a while; runs once an approver of the policy's `access:` says yes",
        options=OptionParser((Flag(("--context",), takes_value=True),)),
        build=_request,
    ),
    CommandSpec(
        name="grants",
        aliases=(),
        usage="",
        summary="the temporary grants in force (admins)",
        options=OptionParser(()),
        build=_nothing_else(ShowGrants),
    ),
    CommandSpec(
        name="revoke",
        aliases=(),
        usage="GRANT_ID|@USER",
        summary="end a temporary grant now (admins)",
        options=OptionParser(()),
        build=_revoke,
    ),
)
