"""What a policy says, once loaded and checked: roles as effective grants, members, channels, images, run defaults."""

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from bot.grammar import COMMANDS
from bot.grammar.commands import DefaultRole
from bot.policy.execs import ExecAllowlist
from bot.policy.freeze_windows import FreezeWindow
from bot.policy.images import ImageAllowlist

# What a role can list, as the commands declare it (bot.grammar.commands), in the order they are defined: Docker's
# own verbs, then the ones about Shipmate itself (answered on no engine).
_RESTRICTED = tuple(command for command in COMMANDS if command.default_role is not DefaultRole.EVERYONE)
DOCKER_ACTIONS = tuple(dict.fromkeys(command.action for command in _RESTRICTED if not command.engine_free))
ADMIN_ACTIONS = tuple(dict.fromkeys(command.action for command in _RESTRICTED if command.engine_free))
ACTIONS = DOCKER_ACTIONS + ADMIN_ACTIONS
# Always allowed, everywhere, even without a policy: how to use Shipmate and who it thinks you are.
OPEN_ACTIONS = frozenset(command.action for command in COMMANDS if command.default_role is DefaultRole.EVERYONE)
# Actions on existing containers and services, which carry their creator's labels: the ones `:own` can narrow.
OWNABLE = frozenset(command.action for command in COMMANDS if command.ownable)
EVERYONE = "*"
DEFAULT_APPROVAL_TTL = 30 * 60.0  # how long an approval request waits when its rule names no `ttl`
DIRECT_MESSAGES = "im"


def _granted(*placed: DefaultRole) -> tuple[str, ...]:
    """The actions the commands place in a standard role: `action:own` for those it gets only on its own."""
    return tuple(
        dict.fromkeys(
            f"{command.action}:own" if command.default_role is DefaultRole.OPERATOR_OWN else command.action
            for command in COMMANDS
            if command.default_role in placed
        )
    )


# The roles a policy gets when it has no `roles:` key, as each command's `default_role` places it; policy.example.yml
# writes them out (tests/test_commands_complete.py keeps the two the same).
STANDARD_ROLES: Mapping[str, tuple[str, ...]] = {
    "viewer": _granted(DefaultRole.VIEWER),
    "operator": ("viewer", *_granted(DefaultRole.OPERATOR, DefaultRole.OPERATOR_OWN)),
    "admin": ("*",),
}


class GroupLookupFailed(Exception):
    """A user group's members could not be learned (an API error, a timeout, a missing scope)."""


class GroupLookup(Protocol):
    """Who is in a Slack user group (S…). A lookup that fails raises GroupLookupFailed: not knowing is not "nobody",
    which would leave the caller to the `"*"` entry — possibly wider than their group's."""

    def members_of(self, group_id: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class RunDefaults:
    """Limits put on every container Shipmate creates (`run.memory`, `run.cpus`)."""

    memory: str | None = None  # as docker takes it: "512m", "1g"
    cpus: float | None = None


@dataclass(frozen=True)
class Role:
    name: str
    grants: Mapping[str, bool]  # action -> True when only on the caller's own containers (`:own`)
    includes: frozenset[str]  # every role it includes, directly or not
    star: bool  # grants everything through "*"


ANY_ENGINE = "*"
# A member's roles, per engine name pattern: `U0ADMIN: admin` is (("*", ("admin",)),).
EngineRoles = tuple[tuple[str, tuple[str, ...]], ...]


def roles_on(grants: EngineRoles, engine: str) -> tuple[str, ...]:
    """The roles one members entry gives on an engine: an exact name wins, then every other matching
    pattern (together), then `*`."""
    exact = [roles for pattern, roles in grants if pattern == engine]
    globbed = [
        roles
        for pattern, roles in grants
        if pattern not in (engine, ANY_ENGINE) and fnmatch.fnmatchcase(engine, pattern)
    ]
    anywhere = [roles for pattern, roles in grants if pattern == ANY_ENGINE]
    chosen = exact or globbed or anywhere
    return tuple(dict.fromkeys(role for roles in chosen for role in roles))


@dataclass(frozen=True)
class ApprovalRule:
    """Who must say yes before a command runs, how many of them, where the request is posted, for how long."""

    approvers: frozenset[str]  # user ids (U…/W…) and user-group ids (S…)
    ttl_seconds: float
    channel: str | None = None  # where the request is posted; None: where the command was typed
    needed: int = 1  # distinct approvers (break glass: 2)
    why: str = ""  # which rule asks, e.g. "approvals rule 1: container.rm on prod-*"


@dataclass(frozen=True)
class ApprovalEntry:
    """One `approvals:` rule: the actions (globs such as `*.prune`) and engines (globs) it covers."""

    actions: tuple[str, ...]
    engines: tuple[str, ...]
    rule: ApprovalRule

    def covers(self, action: str, engine: str) -> bool:
        return any(fnmatch.fnmatchcase(action, pattern) for pattern in self.actions) and any(
            fnmatch.fnmatchcase(engine, pattern) for pattern in self.engines
        )


@dataclass(frozen=True)
class AccessRule:
    """One `access:` rule: who may ask for which roles on which engines, who approves, and for how long at most."""

    requesters: frozenset[str]  # user ids, user-group ids, or "*" for everyone
    roles: tuple[str, ...]
    engines: tuple[str, ...]  # patterns; a request's engines must fall within one of them
    approval: ApprovalRule
    longest_seconds: float

    def covers(self, role: str, engines: str) -> bool:
        return role in self.roles and any(fnmatch.fnmatchcase(engines, pattern) for pattern in self.engines)


@dataclass(frozen=True)
class Policy:
    path: Path
    roles: Mapping[str, Role]  # in file order
    members: Mapping[str, EngineRoles]  # user id, group id or "*" -> role names per engine pattern
    channels: frozenset[str] | None  # None: anywhere
    images: ImageAllowlist | None  # None: any image
    run: RunDefaults = field(default_factory=RunDefaults)
    loaded_at: datetime | None = None
    execs: ExecAllowlist = field(default_factory=lambda: ExecAllowlist({}))  # nothing may be executed by default
    freezes: tuple[FreezeWindow, ...] = ()  # when changes on some engines wait (`freezes:`)
    approvals: tuple[ApprovalEntry, ...] = ()  # the first rule that covers an action on an engine asks
    access: tuple[AccessRule, ...] = ()  # temporary roles that may be asked for (`/docker request`)

    def approval_for(self, action: str, engine: str) -> ApprovalRule | None:
        """Who must approve `action` on `engine` first (the first `approvals:` rule covering it), or None."""
        return next((entry.rule for entry in self.approvals if entry.covers(action, engine)), None)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(key for key in self.members if key.startswith("S"))

    def grants(self, roles: tuple[str, ...]) -> dict[str, bool]:
        """The union of some roles' grants: a full grant beats an `:own` one."""
        merged: dict[str, bool] = {}
        for name in roles:
            for action, own in self.roles[name].grants.items():
                merged[action] = merged.get(action, True) and own
        return merged

    def unbounded(self, roles: tuple[str, ...]) -> bool:
        """Whether the roles make an admin: one of them grants everything (`*`)."""
        return any(self.roles[name].star for name in roles)

    def roles_granting(self, action: str) -> tuple[str, ...]:
        """The smallest roles that grant all of `action`, as a refusal names them ("needs operator")."""
        full = [role for role in self.roles.values() if role.grants.get(action) is False]
        named = [role for role in full if not role.star] or full  # "*" grants everything; name the specific ones
        names = {role.name for role in named}
        return tuple(role.name for role in named if not (role.includes & (names - {role.name})))
