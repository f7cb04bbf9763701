"""Commands about Shipmate itself: `whoami`, `policy` and `audit` (under /docker)."""

import re
from dataclasses import dataclass
from typing import ClassVar

from bot.grammar.commands import Command, DefaultRole
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, exactly, register

DEFAULT_AUDIT_LIMIT = 20
MAX_AUDIT_LIMIT = 200
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_ENGINES = re.compile(r"[a-z0-9._*?\[\],-]+")


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
)
