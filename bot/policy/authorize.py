"""The authorize stage: may this caller run this command here? A Decision says yes, or says what was missing.

Checks run cheapest first — open commands, a policy at all, the channel, the caller's roles, the image
allowlist — and only an `:own` grant on named containers, or a change that keeps a service's spec (update,
rollback) by someone who is not an admin, costs an engine call (one listing for all targets); a container
recreated with its config (update-image) costs one inspect per target besides.
"""

import fnmatch
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from bot.engine.containers import OWNER_LABEL
from bot.engine.holdings import described
from bot.engine.spec import IMPLICIT
from bot.engine.targets import ContainerFacts, ServiceFacts
from bot.grammar.commands import Command, ContainerExec
from bot.grammar.service_commands import ServiceCommand, ServiceRollback
from bot.grammar.shipmate import AccessRequest
from bot.grammar.updates import ContainerUpdateImage
from bot.policy.images import IMAGE_ID
from bot.policy.model import (
    ACTIONS,
    ANY_ENGINE,
    DIRECT_MESSAGES,
    EVERYONE,
    OPEN_ACTIONS,
    ApprovalRule,
    GroupLookup,
    GroupLookupFailed,
    Policy,
    RunDefaults,
    roles_on,
)
from bot.policy.source import PolicySource, PolicyState
from bot.results import Identity, PolicySummary, RoleSummary
from bot.store import StoreUnavailable
from bot.store.grants import Grant, Grants

log = logging.getLogger(__name__)
TargetLookup = Callable[[str, tuple[str, ...]], Mapping[str, ContainerFacts | None]]  # (engine, refs) -> facts
ServiceLookup = Callable[[str, tuple[str, ...]], Mapping[str, ServiceFacts | None]]  # (engine, refs) -> facts
MAX_LISTED = 6  # channels or image patterns quoted in a refusal
GROUPS_UNCHECKED = "could not check your user groups; try again"


class Who(Protocol):
    """The caller as authorization sees it (bot.dispatcher.Caller)."""

    @property
    def user_id(self) -> str: ...
    @property
    def team_id(self) -> str: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def user_name(self) -> str: ...


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # for a refusal: what was missing, in one line
    roles: tuple[str, ...] = ()
    command: Command | None = None  # what to execute instead, when narrowed to the caller's own containers
    pinned: Mapping[str, str] = field(default_factory=dict)  # container id -> the name asked for
    targets: Mapping[str, ContainerFacts | None] | None = None  # looked up for the decision, when it had to be
    run: RunDefaults = field(default_factory=RunDefaults)
    because: str = ""  # for an allowed decision, which rule allowed it (dry runs and approval requests show it)
    approval: ApprovalRule | None = None  # set when the command may run only after approval
    grant: str = ""  # the id of the temporary grant the decision relied on


def duration_text(seconds: float) -> str:
    """3600 -> "1h", 5400 -> "1h30m", 45 -> "45s"."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return text or "0s"


def grant_line(grant: Grant) -> str:
    """ "operator on prod-1 until 14:05 UTC (grant 3f2a9c1d: INC-4411, approved by U0BOB)"."""
    until = datetime.fromtimestamp(grant.ends, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    why = f"{grant.reason}, " if grant.reason else ""
    return f"{grant.role} on {grant.engines} until {until} (grant {grant.id}: {why}approved by {grant.approved_by})"


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def channel_refusal(policy: Policy, channel_id: str) -> str | None:
    if policy.channels is None:
        return None
    direct = channel_id.startswith("D")
    if channel_id in policy.channels or (direct and DIRECT_MESSAGES in policy.channels):
        return None
    places = sorted(policy.channels - {DIRECT_MESSAGES})
    where = _listed(places) + (" and direct messages" if DIRECT_MESSAGES in policy.channels else "")
    if not policy.channels:
        return f"Shipmate takes commands in no channel: `channels:` in {policy.path.name} is empty"
    if not channel_id:
        return f"Shipmate takes commands only in {where}, and this request came from no channel"
    return f"Shipmate takes commands only in {where}, not in {'direct messages' if direct else 'this channel'}"


def _owns(facts: ContainerFacts | ServiceFacts, caller: Who) -> bool:
    same_team = not facts.team or not caller.team_id or facts.team == caller.team_id
    return facts.owner == caller.user_id and same_team


@dataclass(frozen=True)
class _Pinning:
    """Named targets checked for ownership: the ids to act on (names docker will not find stay as typed, for its
    own "no such …"), id -> the name asked for, and the first target someone else owns, if any."""

    to_act_on: tuple[str, ...]
    pinned: Mapping[str, str]
    foreign: tuple[str, ContainerFacts | ServiceFacts] | None = None


def _pin(refs: tuple[str, ...], found: Mapping, caller: Who | None = None) -> _Pinning:
    """Act on the very targets that were checked, so a name re-used meanwhile cannot redirect the change; with a
    `caller`, the first target someone else owns stops it."""
    pinned: dict[str, str] = {}
    to_act_on: list[str] = []
    for ref in refs:
        facts = found.get(ref)
        if facts is None:
            to_act_on.append(ref)
            continue
        if caller is not None and not _owns(facts, caller):
            return _Pinning((), {}, (ref, facts))
        pinned.setdefault(facts.id, ref)
        to_act_on.append(facts.id)
    return _Pinning(tuple(to_act_on), pinned)


def _on(engine: str) -> str:
    """ " on prod-1" in a refusal; nothing for the one engine of a Shipmate without an engines file."""
    return "" if engine == IMPLICIT else f" on {engine}"


def _actions(grants: Mapping[str, bool]) -> tuple[str, ...]:
    return tuple(f"{action}:own" if grants[action] else action for action in ACTIONS if action in grants)


def summarize(state: PolicyState, path: str, note: str = "") -> PolicySummary:
    policy = state.policy
    if policy is None:
        return PolicySummary(path, None, (), None, None, None, None, state.problem, note)
    holders: dict[str, list[str]] = {}
    for member, grants in policy.members.items():
        for pattern, roles in grants:
            for role in roles:
                holders.setdefault(role, []).append(member if pattern == ANY_ENGINE else f"{member} ({pattern})")
    roles = tuple(
        RoleSummary(name, _actions(role.grants), tuple(holders.get(name, ()))) for name, role in policy.roles.items()
    )
    return PolicySummary(
        path=path,
        loaded_at=policy.loaded_at,
        roles=roles,
        channels=tuple(sorted(policy.channels)) if policy.channels is not None else None,
        images=policy.images.patterns if policy.images is not None else None,
        run_memory=policy.run.memory,
        run_cpus=policy.run.cpus,
        problem=state.problem,
        note=note,
    )


class PolicyAuthorizer:
    """Slack users (and `shipmate local --user`): the policy file decides."""

    def __init__(
        self,
        source: PolicySource,
        groups: GroupLookup | None = None,
        targets: TargetLookup | None = None,
        services: ServiceLookup | None = None,
        kept: TargetLookup | None = None,
        grants: Grants | None = None,
    ) -> None:
        self.source = source
        self.grants = grants  # temporary roles given on approval (`/docker request`)
        self.groups = groups
        self.targets = targets
        self.services = services
        self.kept = kept  # containers with their image and holdings, for a change that keeps their config

    def _members_of(self, group: str) -> frozenset[str]:
        """A group's members; GroupLookupFailed when they cannot be known (the request is then refused)."""
        if self.groups is None:
            return frozenset()
        try:
            return self.groups.members_of(group)
        except GroupLookupFailed:
            raise
        except Exception as error:  # a lookup must never crash a request, nor grant anything
            log.exception("user group %s could not be looked up", group)
            raise GroupLookupFailed(group) from error

    def _entries(self, policy: Policy, user_id: str) -> tuple[str, ...]:
        """The members entries that name the caller; "*" only when nothing else does."""
        granted_by = [user_id] if user_id in policy.members else []
        granted_by += [group for group in policy.groups if user_id in self._members_of(group)]
        if not granted_by and EVERYONE in policy.members:
            granted_by = [EVERYONE]
        return tuple(granted_by)

    @staticmethod
    def _roles(policy: Policy, entries: tuple[str, ...], engine: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(role for entry in entries for role in roles_on(policy.members[entry], engine)))

    def _membership(self, policy: Policy, user_id: str, engine: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The caller's roles on an engine and the members entries that gave them."""
        entries = self._entries(policy, user_id)
        return self._roles(policy, entries, engine), entries

    def _missing(self, policy: Policy, roles: tuple[str, ...], action: str, user_id: str, engine: str) -> str:
        needed = policy.roles_granting(action)
        need = " or ".join(needed)
        if not roles:
            grant = f"`{user_id}: {needed[0] if needed else 'viewer'}`"
            why = f"; `{action}` needs {need}" if needed else ""
            return (
                f"you have no Shipmate role{_on(engine)}{why} — an admin can add {grant} "
                f"under `members:` in {policy.path.name}"
            )
        if not needed:
            return f"you are {' and '.join(roles)}{_on(engine)}; no role in {policy.path.name} grants `{action}`"
        return f"you are {' and '.join(roles)}{_on(engine)}; `{action}` needs {need}"

    def _image_refusal(self, policy: Policy, command: Command) -> str | None:
        return self._image_refusal_of(policy, command.images())

    @staticmethod
    def _image_refusal_of(policy: Policy, references: tuple[str, ...]) -> str | None:
        if policy.images is None:
            return None
        for reference in references:
            if IMAGE_ID.match(reference):
                return f"`{reference}` looks like an image id; the image allowlist goes by name: use the image's name"
            if not policy.images.allows(reference):
                return f"`{reference}` is not on the image allowlist ({_listed(list(policy.images.patterns))})"
        return None

    @staticmethod
    def _exec_refusal(policy: Policy, command: Command, roles: tuple[str, ...]) -> str | None:
        """exec runs only command lines an `exec:` rule of the caller's roles (or the roles they include) allows."""
        if not isinstance(command, ContainerExec):
            return None
        holders = tuple(dict.fromkeys([*roles, *(inner for role in roles for inner in policy.roles[role].includes)]))
        if policy.execs.allows(holders, command.argv):
            return None
        return policy.execs.refusal(roles, holders, command.argv, policy.path.name)

    def _own_only(
        self,
        policy: Policy,
        command: Command,
        caller: Who,
        roles: tuple[str, ...],
        engine: str,
        found: Mapping[str, ContainerFacts | None] | None = None,
    ) -> Decision:
        """The caller may act only on containers they started: narrow a listing, check and pin named targets."""
        run = policy.run
        narrowed_listing = command.only_owned(f"{OWNER_LABEL}={caller.user_id}")
        if narrowed_listing is not None:
            return Decision(True, roles=roles, command=narrowed_listing, run=run)
        if isinstance(command, ServiceCommand):
            return self._own_services(policy, command, caller, roles, engine)
        refs = command.targets()
        if not refs:
            return Decision(True, roles=roles, run=run)
        if found is None:
            if self.targets is None:  # nothing to check ownership with: fail closed
                return Decision(
                    False, f"Shipmate cannot check who started these containers; `{command.action}` needs it"
                )
            found = self.targets(engine, refs)
        pinning = _pin(refs, found, caller)
        if pinning.foreign is not None:
            refusal = self._not_yours(policy, command, roles, *pinning.foreign, engine)
            return Decision(False, refusal, roles, targets=found, run=run)
        # Act on the very containers that were checked: a name re-used meanwhile cannot redirect the command.
        narrowed = command.with_targets(tuple(dict.fromkeys(pinning.to_act_on)))
        return Decision(True, roles=roles, command=narrowed, pinned=pinning.pinned, targets=found, run=run)

    def _own_services(
        self,
        policy: Policy,
        command: ServiceCommand,
        caller: Who,
        roles: tuple[str, ...],
        engine: str,
        found: Mapping[str, ServiceFacts | None] | None = None,
    ) -> Decision:
        """The caller may act only on services they created: check the named ones and pin them to their ids."""
        refs = command.services()
        if not refs:
            return Decision(True, roles=roles, run=policy.run)
        if found is None:
            if self.services is None:
                return Decision(False, f"Shipmate cannot check who created these services; `{command.action}` needs it")
            found = self.services(engine, refs)
        pinning = _pin(refs, found, caller)
        if pinning.foreign is not None:
            refusal = self._not_yours(policy, command, roles, *pinning.foreign, engine, "service")
            return Decision(False, refusal, roles, run=policy.run)
        narrowed = command.with_services(pinning.to_act_on)
        return Decision(True, roles=roles, command=narrowed, pinned=pinning.pinned, run=policy.run)

    def _kept_spec(
        self, policy: Policy, command: ServiceCommand, caller: Who, roles: tuple[str, ...], engine: str, own: bool
    ) -> Decision:
        """A change that keeps a service's spec (update, rollback) is as strong as that spec: one holding what
        Shipmate would not create (bind mounts, capabilities, secrets, …) is for admins only, and a rollback's
        previous spec is checked like a new one — its image against the allowlist, what it holds as above."""
        admin = policy.unbounded(roles)
        rollback = isinstance(command, ServiceRollback)
        if admin and not (rollback and policy.images is not None):
            return Decision(True, roles=roles, run=policy.run)
        refs = command.services()
        if self.services is None:  # nothing to check the specs with: fail closed
            return Decision(False, f"Shipmate cannot check what these services hold; `{command.action}` needs it")
        found = self.services(engine, refs)
        for ref in refs:
            facts = found.get(ref)
            if facts is None:
                continue  # docker answers "no such service" itself
            if rollback and facts.previous_image is not None:
                refusal = self._image_refusal_of(policy, (facts.previous_image,))
                if refusal:
                    return Decision(
                        False, f"`{ref}` would roll back to an image outside the allowlist: {refusal}", roles
                    )
            held = (*facts.holds, *(facts.previous_holds if rollback else ()))
            if held and not admin:
                return Decision(
                    False, f"{described(facts.name, tuple(dict.fromkeys(held)))}: only admins may change it", roles
                )
        if own:
            return self._own_services(policy, command, caller, roles, engine, found)
        pinning = _pin(refs, found)
        narrowed = command.with_services(pinning.to_act_on)
        return Decision(True, roles=roles, command=narrowed, pinned=pinning.pinned, run=policy.run)

    def _kept_config(
        self, policy: Policy, command: Command, caller: Who, roles: tuple[str, ...], engine: str, own: bool
    ) -> Decision:
        """A container recreated with its own config (update-image) is as strong as that config: one holding what
        Shipmate would not create (bind mounts, privileged mode, …) is for admins only, and the image it is
        created from — its own reference, pulled again — must pass the allowlist."""
        admin = policy.unbounded(roles)
        if admin and policy.images is None:
            return Decision(True, roles=roles, run=policy.run)
        refs = command.targets()
        if self.kept is None:  # nothing to check the containers with: fail closed
            return Decision(False, f"Shipmate cannot check what these containers hold; `{command.action}` needs it")
        found = self.kept(engine, refs)
        for ref in refs:
            facts = found.get(ref)
            if facts is None:
                continue  # docker answers "no such container" itself
            refusal = self._image_refusal_of(policy, (facts.image,))
            if refusal:
                return Decision(False, f"`{ref}` would be recreated from its own image: {refusal}", roles)
            if facts.holds and not admin:
                return Decision(False, f"{described(facts.name, facts.holds)}: only admins may recreate it", roles)
        if own:
            return self._own_only(policy, command, caller, roles, engine, found)
        pinning = _pin(refs, found)
        narrowed = command.with_targets(pinning.to_act_on)
        return Decision(True, roles=roles, command=narrowed, pinned=pinning.pinned, targets=found, run=policy.run)

    @staticmethod
    def _not_yours(
        policy: Policy,
        command: Command,
        roles: tuple[str, ...],
        ref: str,
        facts: ContainerFacts | ServiceFacts,
        engine: str,
        kind: str = "container",
    ) -> str:
        verb = "started" if kind == "container" else "created"
        whose = f"`{ref}` was {verb} by {facts.owner}" if facts.owner else f"`{ref}` was not {verb} through Shipmate"
        needed = policy.roles_granting(command.action)
        need = f"needs {' or '.join(needed)}" if needed else "is granted to no role in full"
        you = " and ".join(roles) + _on(engine)
        return (
            f"you are {you}; `{command.action}` on `{ref}` {need} — you may act only on {kind}s you {verb}, and {whose}"
        )

    @staticmethod
    def _because(
        policy: Policy, command: Command, roles: tuple[str, ...], entries: tuple[str, ...], engine: str, own: bool
    ) -> str:
        """Which rule allows the command: the role and its grant (and who the members entry is), the image
        allowlist entry each image matched, the exec rule the command line matched."""
        granting = [role for role in roles if command.action in policy.grants((role,))]
        grant = f"`{command.action}:own`" if own else f"`{command.action}`"
        listed = ", ".join("everyone (`*`)" if entry == EVERYONE else entry for entry in entries)
        because = [f"role {' and '.join(granting)}{_on(engine)} grants {grant} (members: {listed})"]
        for reference in command.images():
            pattern = policy.images.matching(reference) if policy.images is not None else None
            if pattern is not None:
                because.append(f"`{reference}` is on the image allowlist as `{pattern}`")
        if isinstance(command, ContainerExec):
            holders = tuple(
                dict.fromkeys([*roles, *(inner for role in roles for inner in policy.roles[role].includes)])
            )
            matched = policy.execs.matching(holders, command.argv)
            if matched is not None:
                because.append(f"exec rule `{matched[1].text}` of role {matched[0]} allows this command line")
        return "; ".join(because)

    @staticmethod
    def _owned(decision: Decision, command: Command) -> str:
        """For an `:own` grant: what the command was narrowed to, or the caller's targets it was checked on."""
        if command.only_owned("") is not None:
            return ": the listing is narrowed to what you started"
        if not decision.pinned:
            return ""
        kind = "created" if isinstance(command, ServiceCommand) else "started"
        return f", and you {kind} {', '.join(f'`{name}`' for name in dict.fromkeys(decision.pinned.values()))}"

    def authorize(self, command: Command, caller: Who, engine: str = IMPLICIT) -> Decision:
        """The policy's answer, with the caller's temporary grants when the policy alone refuses (the decision
        names the grant relied on); an allowed command an `approvals:` rule covers carries that rule (it waits)."""
        if isinstance(command, AccessRequest):
            return self._access_request(command, caller, engine)
        decision = self._authorize(command, caller, engine)
        if not decision.allowed:
            decision = self._with_grants(command, caller, engine, decision)
        policy = self.source.current()
        if not decision.allowed or policy is None or command.action in OPEN_ACTIONS:
            return decision
        rule = policy.approval_for(command.action, engine)
        return decision if rule is None else replace(decision, approval=rule)

    def held(self, policy: Policy, user_id: str, engine: str) -> tuple[Grant, ...]:
        """The caller's grants in force on this engine, of roles the policy still has."""
        if self.grants is None:
            return ()
        try:
            grants = self.grants.of(user_id)
        except StoreUnavailable:  # not knowing a grant refuses what it would allow, nothing more
            log.warning("temporary grants could not be read: the database is not answering")
            return ()
        return tuple(g for g in grants if g.role in policy.roles and fnmatch.fnmatchcase(engine, g.engines))

    def _with_grants(self, command: Command, caller: Who, engine: str, refused: Decision) -> Decision:
        policy = self.source.current()
        held = self.held(policy, caller.user_id, engine) if policy is not None else ()
        if not held or policy is None:
            return refused
        widened = self._authorize(command, caller, engine, tuple(grant.role for grant in held))
        if not widened.allowed:
            return refused
        relied = next((g for g in held if policy.grants((g.role,)).get(command.action) is not None), held[0])
        return replace(widened, grant=relied.id)

    def _may_request(self, policy: Policy, user_id: str, requesters: frozenset[str]) -> bool:
        if EVERYONE in requesters or user_id in requesters:
            return True
        return any(user_id in self._members_of(group) for group in requesters if group.startswith("S"))

    def _access_request(self, command: AccessRequest, caller: Who, engine: str) -> Decision:
        """Allowed (waiting for the rule's approvers) when an `access:` rule lets the caller ask for this role on
        these engines for this long; else what the rules allow."""
        policy = self.source.current()
        if policy is None:
            return Decision(False, "Shipmate has no policy yet: there is no access to request")
        refusal = channel_refusal(policy, caller.channel_id)
        if refusal:
            return Decision(False, refusal)
        engines = command.context or engine
        try:
            rules = [
                rule
                for rule in policy.access
                if rule.covers(command.role, engines) and self._may_request(policy, caller.user_id, rule.requesters)
            ]
        except GroupLookupFailed:
            return Decision(False, GROUPS_UNCHECKED)
        if not rules:
            return Decision(
                False, f"no `access:` rule in {policy.path.name} lets you request {command.role} on {engines}"
            )
        long_enough = [rule for rule in rules if command.seconds <= rule.longest_seconds]
        if not long_enough:
            longest = max(rule.longest_seconds for rule in rules)
            return Decision(
                False,
                f"{command.role} on {engines} may be requested for at most {duration_text(longest)},"
                f" not {duration_text(command.seconds)}",
            )
        return Decision(True, run=policy.run, approval=long_enough[0].approval)

    def _authorize(self, command: Command, caller: Who, engine: str, extra: tuple[str, ...] = ()) -> Decision:
        """The policy's answer; `extra`: roles the caller holds for a while on this engine (grants)."""
        policy = self.source.current()
        if command.action in OPEN_ACTIONS:
            return Decision(
                True, run=policy.run if policy else RunDefaults(), because=f"`{command.action}` is open to everyone"
            )
        if policy is None:
            return Decision(
                False,
                f"Shipmate has no policy yet: an admin can grant you access by adding `{caller.user_id}: operator` "
                f"under `members:` in {self.source.path.name}",
            )
        refusal = channel_refusal(policy, caller.channel_id)
        try:
            roles, entries = self._membership(policy, caller.user_id, engine)
        except GroupLookupFailed:
            return Decision(False, GROUPS_UNCHECKED)
        roles = tuple(dict.fromkeys((*roles, *extra)))
        if refusal:
            return Decision(False, refusal, roles=roles)
        own = policy.grants(roles).get(command.action)
        if own is None:
            return Decision(False, self._missing(policy, roles, command.action, caller.user_id, engine), roles=roles)
        refusal = self._image_refusal(policy, command) or self._exec_refusal(policy, command, roles)
        if refusal:
            return Decision(False, refusal, roles=roles)
        if isinstance(command, ServiceCommand) and command.keeps_spec:
            decision = self._kept_spec(policy, command, caller, roles, engine, own)
        elif isinstance(command, ContainerUpdateImage):
            decision = self._kept_config(policy, command, caller, roles, engine, own)
        elif own:
            decision = self._own_only(policy, command, caller, roles, engine)
        else:
            decision = Decision(True, roles=roles, run=policy.run)
        if not decision.allowed:
            return decision
        because = self._because(policy, command, roles, entries, engine, own)
        return replace(decision, because=because + (self._owned(decision, command) if own else ""))

    def identity(self, caller: Who, engines: tuple[str, ...] = (IMPLICIT,)) -> Identity:
        """Who the caller is; roles and actions on the first engine given, and roles on each when several."""
        state = self.source.state()
        policy = state.policy
        if policy is None:
            note = f"Shipmate has no policy yet ({self.source.path.name}): everyone may use only help and whoami"
            return Identity(
                caller.user_id, caller.user_name, caller.team_id, caller.channel_id, (), (), (), False, note
            )
        try:
            roles, granted_by = self._membership(policy, caller.user_id, engines[0])
        except GroupLookupFailed:
            return Identity(
                caller.user_id, caller.user_name, caller.team_id, caller.channel_id, (), (), (), False, GROUPS_UNCHECKED
            )
        refusal = channel_refusal(policy, caller.channel_id)
        # The engines' names are for callers with a role somewhere, as in an unknown `--context`'s answer.
        shown = len(engines) > 1 and self._anywhere(policy, granted_by)
        per_engine = tuple((engine, self._roles(policy, granted_by, engine)) for engine in engines) if shown else ()
        return Identity(
            user_id=caller.user_id,
            user_name=caller.user_name,
            team_id=caller.team_id,
            channel_id=caller.channel_id,
            roles=roles,
            granted_by=granted_by,
            actions=_actions(policy.grants(roles)),
            channel_allowed=refusal is None,
            note=refusal or "",
            per_engine=per_engine,
            grants=self._grant_lines(caller.user_id),
        )

    def _grant_lines(self, user_id: str) -> tuple[str, ...]:
        """The caller's temporary grants in force, each with its end."""
        if self.grants is None:
            return ()
        try:
            held = self.grants.of(user_id)
        except StoreUnavailable:
            return ("(your temporary grants could not be read: the database is not answering)",)
        return tuple(grant_line(grant) for grant in held)

    @staticmethod
    def _anywhere(policy: Policy, entries: tuple[str, ...]) -> bool:
        return any(roles for entry in entries for _, roles in policy.members[entry])

    def has_a_role(self, caller: Who) -> bool:
        """Whether the caller holds a role on some engine (and so may be told which engines there are)."""
        policy = self.source.current()
        if policy is None:
            return False
        try:
            return self._anywhere(policy, self._entries(policy, caller.user_id))
        except GroupLookupFailed:
            return False

    def summary(self) -> PolicySummary:
        return summarize(self.source.state(), str(self.source.path))

    def grant_store(self) -> Grants | None:
        return self.grants


class LocalAdmin:
    """`shipmate local` without --user: the person at the terminal, who can reach Docker directly anyway.

    Everything is allowed; a policy file, when there is one, still supplies the run defaults.
    """

    ROLE = "local admin"

    def __init__(self, source: PolicySource | None = None) -> None:
        self.source = source

    def _policy(self) -> Policy | None:
        return self.source.current() if self.source else None

    def authorize(self, command: Command, caller: Who, engine: str = IMPLICIT) -> Decision:
        policy = self._policy()
        because = "local mode without --user: the person at the terminal acts as the local admin"
        return Decision(True, roles=(self.ROLE,), run=policy.run if policy else RunDefaults(), because=because)

    def has_a_role(self, caller: Who) -> bool:
        return True

    def identity(self, caller: Who, engines: tuple[str, ...] = (IMPLICIT,)) -> Identity:
        note = "local mode without --user: you act as the local admin (pass --user U… to apply the policy)"
        all_actions = tuple(ACTIONS)
        return Identity(caller.user_id, caller.user_name, "", "", (self.ROLE,), (), all_actions, True, note)

    def grant_store(self) -> Grants | None:
        return None

    def summary(self) -> PolicySummary:
        note = "local mode acts as the local admin; Slack users get this policy"
        if self.source is None:
            return PolicySummary("(none)", None, (), None, None, None, None, None, note)
        return summarize(self.source.state(), str(self.source.path), note)
