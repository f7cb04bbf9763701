"""Freezes and silences: when changes wait, and which alerts are muted.

A freeze comes from the policy's `freezes:` (dates, or a weekly window in a time zone) or from `/docker freeze`
(the database, so every replica refuses the same changes and a restart forgets none). `Freezes.covering` is the one
answer over both, for `Pipeline.decide`, break glass and the Home tab. A silence (`/docker silence`) is in the
database too; the alerter asks `Silences.covering` before it posts. Both end by themselves: they are read with
the time of the question, nothing has to wake up to end them.
"""

import fnmatch
from collections.abc import Callable
from datetime import UTC, datetime
from functools import singledispatch

from bot.grammar.freezes import (
    ChangeSafety,
    FreezeEngines,
    ShowFreezes,
    ShowSilences,
    SilenceAlerts,
    Unfreeze,
    Unsilence,
)
from bot.policy import Policy, Who
from bot.policy.freeze_windows import covers
from bot.policy.model import DEFAULT_APPROVAL_TTL, EVERYONE, ApprovalRule, roles_on
from bot.render.freeze_lines import by_text, until_text
from bot.results import Failure, Freeze, FreezeList, Notice, Result, Silence, SilenceList
from bot.store import StoreUnavailable
from bot.store.freezes import FreezeRecords
from bot.store.silences import SilenceRecords

DAYS_AHEAD = 7  # `/docker freezes` shows the policy's windows starting within a week
NOTE_KEPT_SECONDS = 24 * 3600  # how long after a silence "this message says so" is remembered
DATABASE_SILENT = "the database is not answering: try again in a moment"
BREAK_GLASS_APPROVERS = 2  # a change during a freeze runs only once two people other than its requester say yes


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def refusal(engine: str, freeze: Freeze, now: float) -> str:
    """Why a change waits: the freeze's reason, who froze, when it ends, and the way out in an emergency."""
    who = f"from {freeze.by}" if freeze.from_policy else f"frozen by {by_text(freeze.by)}"
    return (
        f"{engine} is frozen until {until_text(freeze.ends, _at(now))} ({freeze.reason}, {who}): changes wait;"
        ' reads work. In an emergency: add --break-glass "reason"'
    )


class Freezes:
    """The policy's freezes and those typed in chat, as one."""

    def __init__(
        self, policy: Callable[[], Policy | None], records: FreezeRecords | None, audit_channel: str | None = None
    ) -> None:
        self.policy = policy  # the policy in force now (it is reloaded on change)
        self.records = records  # None: no database, only the policy's freezes
        self.audit_channel = audit_channel  # where a break-glass request is posted (None: where it was typed)

    def break_glass(
        self, engine: str, freeze: Freeze, reason: str, asked: ApprovalRule | None
    ) -> ApprovalRule | Failure:
        """`--break-glass REASON` on a frozen engine: the approval it needs instead of the refusal — two distinct
        approvers (more when the command's own rule asks more): the command's `approvals:` approvers, else those
        who may lift the freeze (`freeze.set` on this engine); posted to the audit channel."""
        policy = self.policy()
        approvers = asked.approvers if asked is not None else self._unfreezers(policy, engine)
        if not approvers:
            return Failure(
                f"{engine} is frozen and nobody could approve breaking the glass: no one holds `{FreezeEngines.action}`"
                " there; ask an admin to unfreeze it"
            )
        return ApprovalRule(
            approvers=approvers,
            ttl_seconds=asked.ttl_seconds if asked is not None else DEFAULT_APPROVAL_TTL,
            channel=self.audit_channel or (asked.channel if asked is not None else None),
            needed=max(BREAK_GLASS_APPROVERS, asked.needed if asked is not None else 0),
            why=f"break glass on frozen {engine} ({freeze.reason}): {reason}",
        )

    @staticmethod
    def _unfreezers(policy: Policy | None, engine: str) -> frozenset[str]:
        """The users and user groups whose roles on `engine` may lift a freeze there."""
        if policy is None:
            return frozenset()
        return frozenset(
            member
            for member, grants in policy.members.items()
            if member != EVERYONE and FreezeEngines.action in policy.grants(roles_on(grants, engine))
        )

    def _from_policy(self, now: datetime, days_ahead: int | None) -> list[Freeze]:
        """Each policy window's turn in force at `now` (`days_ahead` None), or its next one within `days_ahead`."""
        policy = self.policy()
        if policy is None:
            return []
        found = []
        for window in policy.freezes:
            turn = window.covering(now) if days_ahead is None else next(iter(window.turns(now, days_ahead)), None)
            if turn is not None:
                engines = ",".join(window.engines)
                found.append(Freeze(f"policy {window.number}", engines, *turn, window.reason, policy.path.name))
        return found

    def covering(self, engine: str, now: float) -> Freeze | None:
        """The freeze holding changes on `engine` at `now` (the one ending last, when several do), or None.
        StoreUnavailable when the database does not answer: a change must then wait, not guess."""
        found = self._from_policy(_at(now), None)
        if self.records is not None:
            found += self.records.active(now)
        holding = [freeze for freeze in found if covers(freeze.engines, engine)]
        return max(holding, key=lambda freeze: freeze.ends, default=None)

    def listing(self, now: float) -> tuple[Freeze, ...]:
        """The freezes in force and the policy's next ones within a week, soonest first."""
        found = self._from_policy(_at(now), DAYS_AHEAD)
        if self.records is not None:
            found += self.records.active(now)
        return tuple(sorted(found, key=lambda freeze: (freeze.starts, freeze.ends)))


class Silences:
    """The silences typed in chat, in the database."""

    def __init__(self, records: SilenceRecords) -> None:
        self.records = records

    def covering(self, engine: str, container: str, now: float) -> Silence | None:
        """The silence muting `container`'s alerts on `engine` at `now` (the one ending last), or None."""
        holding = [
            silence
            for silence in self.records.active(now)
            if covers(silence.engines, engine) and fnmatch.fnmatchcase(container, silence.containers)
        ]
        return max(holding, key=lambda silence: silence.ends, default=None)

    def note_once(self, silence: Silence, incident: str) -> bool:
        """True for the first replica to say in `incident`'s message that `silence` mutes it."""
        return self.records.note_once(silence.id, incident, silence.ends.timestamp() + NOTE_KEPT_SECONDS)


def silence_note(silence: Silence, now: float) -> str:
    """The line an incident's message gets once: `silenced by @U… until 18:00 UTC: reason`."""
    return f"silenced by {by_text(silence.by)} until {until_text(silence.ends, _at(now))}: {silence.reason}"


@singledispatch
def answer(command: ChangeSafety, caller: Who, freezes: Freezes, silences: Silences | None, now: float) -> Result:
    """Each command about freezes and silences registers its answer here."""
    raise TypeError(f"no answer for {type(command).__name__}")


@answer.register
def _freeze(
    command: FreezeEngines, caller: Who, freezes: Freezes, silences: Silences | None, now: float
) -> Notice | Failure:
    if command.context is None:
        return Failure("name the engines to freeze: e.g. `/docker freeze --context 'prod-*' 2h \"release 4.2\"`")
    if freezes.records is None:
        return Failure("this Shipmate has no database to keep a freeze in: write it in the policy's `freezes:`")
    try:
        freeze = freezes.records.add(command.context, now, now + command.seconds, command.reason, caller.user_id)
    except StoreUnavailable:
        return Failure(f"nothing was frozen: {DATABASE_SILENT}")
    until = until_text(freeze.ends, _at(now))
    return Notice(
        f"🧊 {freeze.engines} frozen until {until} ({freeze.reason}): changes wait; reads work",
        (f"freeze {freeze.id}, by {by_text(caller.user_id)}", f"end it early: /docker unfreeze {freeze.id}"),
    )


@answer.register
def _unfreeze(
    command: Unfreeze, caller: Who, freezes: Freezes, silences: Silences | None, now: float
) -> Notice | Failure:
    if freezes.records is None:
        return Failure("this Shipmate has no database: its freezes are the policy's, ended by editing the policy")
    if command.freeze_id is None and command.context is None:
        return Failure("say which freeze: `/docker unfreeze --context 'prod-*'` as it was frozen, or its id")
    try:
        if command.freeze_id is not None:
            one = freezes.records.lift(command.freeze_id, caller.user_id, now)
            lifted = [one] if one is not None else []
        else:
            lifted = freezes.records.lift_engines(str(command.context), caller.user_id, now)
    except StoreUnavailable:
        return Failure(f"nothing was unfrozen: {DATABASE_SILENT}")
    which = f"freeze {command.freeze_id}" if command.freeze_id is not None else f"`--context {command.context}`"
    if not lifted:
        return Failure(f"no freeze in force matches {which}: `/docker freezes` lists them with their ids")
    lines = tuple(f"freeze {freeze.id} on {freeze.engines} ({freeze.reason}) is over" for freeze in lifted)
    still = [freeze for freeze in freezes.listing(now) if freeze.from_policy and freeze.starts <= _at(now)]
    lines += tuple(f"the policy's {freeze.id} still holds {freeze.engines}: {freeze.reason}" for freeze in still)
    return Notice(f"🔥 unfrozen by {by_text(caller.user_id)}: changes may go ahead", lines)


@answer.register
def _freezes(
    command: ShowFreezes, caller: Who, freezes: Freezes, silences: Silences | None, now: float
) -> FreezeList | Failure:
    try:
        return FreezeList(freezes.listing(now), _at(now))
    except StoreUnavailable:
        return Failure(f"the freezes could not be read: {DATABASE_SILENT}")


@answer.register
def _silence(
    command: SilenceAlerts, caller: Who, freezes: Freezes, silences: Silences | None, now: float
) -> Notice | Failure:
    if silences is None:
        return Failure("this Shipmate has no database to keep a silence in")
    engines = command.context or "*"
    try:
        silence = silences.records.add(
            engines, command.containers, now, now + command.seconds, command.reason, caller.user_id
        )
    except StoreUnavailable:
        return Failure(f"nothing was silenced: {DATABASE_SILENT}")
    where = "every engine" if engines == "*" else engines
    return Notice(
        f"🔕 alerts for {silence.containers} on {where} silenced until {until_text(silence.ends, _at(now))}",
        (
            f"silence {silence.id}, by {by_text(caller.user_id)}: {silence.reason}",
            f"end it early: /docker unsilence {silence.id}",
        ),
    )


@answer.register
def _unsilence(
    command: Unsilence, caller: Who, freezes: Freezes, silences: Silences | None, now: float
) -> Notice | Failure:
    if silences is None:
        return Failure("this Shipmate has no database, so no silences")
    try:
        lifted = silences.records.lift(command.silence_id, caller.user_id, now)
    except StoreUnavailable:
        return Failure(f"nothing was changed: {DATABASE_SILENT}")
    if lifted is None:
        return Failure(f"no silence {command.silence_id} in force: `/docker silences` lists them")
    return Notice(f"🔔 silence {lifted.id} ended: alerts for {lifted.containers} are posted again")


@answer.register
def _silences(
    command: ShowSilences, caller: Who, freezes: Freezes, silences: Silences | None, now: float
) -> SilenceList | Failure:
    if silences is None:
        return SilenceList((), _at(now))
    try:
        return SilenceList(tuple(silences.records.active(now)), _at(now))
    except StoreUnavailable:
        return Failure(f"the silences could not be read: {DATABASE_SILENT}")
