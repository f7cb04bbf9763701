"""policy.yml -> Policy, checked key by key; every mistake is one PolicyError naming the file and line.

The file is read as a YAML node tree (yaml.compose) rather than plain data, because only the nodes know
their lines, and because duplicate keys — which yaml.safe_load silently merges — must be an error here.
"""

import fnmatch
import re
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.grammar import ParseError
from bot.grammar.values import duration_seconds
from bot.policy.execs import ExecAllowlist, ExecRule
from bot.policy.freeze_windows import DAYS, END_OF_DAY, FreezeWindow, Weekly
from bot.policy.images import ImageAllowlist, check_pattern
from bot.policy.model import (
    ACTIONS,
    ANY_ENGINE,
    DEFAULT_APPROVAL_TTL,
    DIRECT_MESSAGES,
    EVERYONE,
    OPEN_ACTIONS,
    OWNABLE,
    STANDARD_ROLES,
    AccessRule,
    ApprovalEntry,
    ApprovalRule,
    EngineRoles,
    Policy,
    Role,
    RunDefaults,
)
from bot.words import suggest
from bot.yamlfile import NULL_TAG, FileError, NodeReader

KEYS = ("roles", "members", "channels", "images", "run", "exec", "freezes", "approvals", "access")
FREEZE_KEYS = ("engines", "from", "until", "weekly", "reason")
WEEKLY_KEYS = ("days", "from", "until", "tz")
ACCESS_KEYS = ("who", "roles", "engines", "approvers", "longest", "channel", "ttl")
APPROVAL_KEYS = ("actions", "engines", "approvers", "channel", "ttl", "needed")
RUN_KEYS = ("memory", "cpus")
_ROLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)([bkmg]?)$", re.I)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ENGINE_PATTERN = re.compile(r"^[A-Za-z0-9._*?\[\]-]+$")
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MIN_MEMORY = 6 * 1024**2  # dockerd refuses less


class PolicyError(FileError):
    pass


class _Reader(NodeReader):
    error_type = PolicyError


Written = dict[str, list[tuple[str, yaml.Node | None]]]  # role -> its entries as written, with their nodes


def _roles(reader: _Reader, node: yaml.Node) -> dict[str, Role]:
    written: Written = {}
    for name, key_node, value in reader.mapping(node, "`roles`"):
        if not _ROLE_NAME.match(name) or name in OPEN_ACTIONS:
            raise reader.error(
                key_node, f"`{name}` cannot name a role: use letters, digits, `_` and `-`, e.g. `deployer`"
            )
        items = (
            []
            if value.tag == NULL_TAG
            else reader.sequence(value, f"role `{name}`", f"{name}: [image.ls, container.ls]")
        )
        written[name] = [(reader.string(item, f"an entry of role `{name}`"), item) for item in items]
    return _expand(reader, written)


def _expand(reader: _Reader, written: Written) -> dict[str, Role]:
    grants: dict[str, dict[str, bool]] = {}
    includes: dict[str, set[str]] = {}
    star: dict[str, bool] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in grants:
            return
        mine: dict[str, bool] = {}
        inner: set[str] = set()
        starred = False
        for item, node in written[name]:
            action, colon, suffix = item.partition(":")
            if item == "*":
                starred = True
                mine.update(dict.fromkeys(ACTIONS, False))
            elif action in ACTIONS:
                if colon and suffix != "own":
                    raise reader.error(node, f"`{item}`: the only suffix is `:own` (as in `{action}:own`)")
                if colon and action not in OWNABLE:
                    raise reader.error(
                        node,
                        f"`{item}`: `:own` applies only to actions on containers and services ({', '.join(sorted(OWNABLE))})",
                    )
                mine[action] = mine.get(action, True) and bool(colon)
            elif item in OPEN_ACTIONS:
                continue  # everyone has these anyway
            elif item in written:
                if item == name:
                    raise reader.error(node, f"role `{name}` includes itself")
                if item in path:
                    cycle = " → ".join((*path[path.index(item) :], name, item))
                    raise reader.error(node, f"roles include each other in a cycle: {cycle}")
                visit(item, (*path, name))
                inner |= {item, *includes[item]}
                starred = starred or star[item]
                for included, own in grants[item].items():
                    mine[included] = mine.get(included, True) and own
            elif "." in item:
                raise reader.error(node, f"unknown action `{item}` in role `{name}`{suggest(action, ACTIONS)}")
            else:
                known = [*written]
                raise reader.error(
                    node,
                    f"`{item}` in role `{name}` is neither an action nor a role{suggest(item, known + list(ACTIONS))}",
                )
        grants[name], includes[name], star[name] = mine, inner, starred

    for name in written:
        visit(name, ())
    return {
        name: Role(name=name, grants=grants[name], includes=frozenset(includes[name]), star=star[name])
        for name in written
    }


def _standard_roles(path: Path) -> dict[str, Role]:
    return _expand(_Reader(path), {name: [(item, None) for item in items] for name, items in STANDARD_ROLES.items()})


def _member_key(reader: _Reader, key: str, node: yaml.Node) -> None:
    if key == EVERYONE or _USER.match(key) or _GROUP.match(key):
        return
    if _CHANNEL.match(key):
        raise reader.error(node, f'`{key}` is a channel id: members are users (U…/W…), user groups (S…) or "*"')
    raise reader.error(
        node,
        f"`{key}` is not a Slack user id (U…/W…) or user group id (S…): in Slack, open the profile, "
        '⋮ → Copy member ID; or write "*" for everyone else',
    )


_ENGINE_PATTERN = re.compile(r"^[a-z0-9*?\[][a-z0-9._*?\[\]-]*$")


def _role_names(reader: _Reader, value: yaml.Node, key: str, roles: dict[str, Role]) -> tuple[str, ...]:
    if value.tag == NULL_TAG:
        raise reader.error(value, f"`{key}` has no role: write e.g. `{key}: operator`")
    names = []
    for item in reader.sequence(value, f"the role of `{key}`", f"{key}: [operator, deployer]"):
        role = reader.string(item, f"the role of `{key}`")
        if role not in roles:
            raise reader.error(
                item, f"unknown role `{role}` for `{key}`: roles are {', '.join(roles)}{suggest(role, [*roles])}"
            )
        names.append(role)
    return tuple(dict.fromkeys(names))


def _engine_roles(reader: _Reader, value: yaml.Node, key: str, roles: dict[str, Role]) -> EngineRoles:
    """`U0ADMIN: admin` (every engine) or `S0ONCALL: {"prod-*": operator, "*": viewer}` (per engine pattern)."""
    if not isinstance(value, yaml.MappingNode):
        return ((ANY_ENGINE, _role_names(reader, value, key, roles)),)
    grants = []
    for pattern, pattern_node, roles_node in reader.mapping(value, f"the roles of `{key}`"):
        if not _ENGINE_PATTERN.match(pattern):
            raise reader.error(
                pattern_node,
                f'`{pattern}` is not an engine name or pattern: write e.g. `prod-1`, `"prod-*"` or `"*"`',
            )
        grants.append((pattern, _role_names(reader, roles_node, f"{key}` on `{pattern}", roles)))
    if not grants:
        raise reader.error(value, f'`{key}` has no role: write e.g. `{key}: {{"prod-*": operator}}`')
    return tuple(grants)


def _members(reader: _Reader, node: yaml.Node, roles: dict[str, Role]) -> dict[str, EngineRoles]:
    members: dict[str, EngineRoles] = {}
    for key, key_node, value in reader.mapping(node, "`members`"):
        _member_key(reader, key, key_node)
        members[key] = _engine_roles(reader, value, key, roles)
    return members


def _channels(reader: _Reader, node: yaml.Node) -> frozenset[str]:
    channels = set()
    for item in reader.sequence(node, "`channels`", "channels: [C0123OPS, im]"):
        channel = reader.string(item, "a channel")
        if channel.startswith("#"):
            raise reader.error(
                item,
                f"`{channel}`: write the channel's id (C…), not its name — it is at the bottom of the channel's About tab",
            )
        if channel.startswith("D"):
            raise reader.error(item, f"`{channel}` is one direct message: write `im` to accept every direct message")
        if channel != DIRECT_MESSAGES and not _CHANNEL.match(channel):
            raise reader.error(item, f"`{channel}` is not a channel id (C… or G…) or `im` (direct messages)")
        channels.add(channel)
    return frozenset(channels)


def _images(reader: _Reader, node: yaml.Node) -> ImageAllowlist:
    patterns = []
    for item in reader.sequence(node, "`images`", 'images: [nginx, "devwikirepo/*"]'):
        pattern = reader.string(item, "an image pattern")
        problem = check_pattern(pattern)
        if problem:
            raise reader.error(item, problem)
        patterns.append(pattern)
    return ImageAllowlist(tuple(patterns))


def _run(reader: _Reader, node: yaml.Node) -> RunDefaults:
    memory: str | None = None
    cpus: float | None = None
    for key, key_node, value in reader.mapping(node, "`run`"):
        if key == "memory":
            raw = value.value if isinstance(value, yaml.ScalarNode) else ""
            match = _MEMORY.match(str(raw).strip())
            if not match:
                raise reader.error(value, f"run.memory `{raw}` is not a size: write e.g. `512m` or `2g`")
            if float(match[1]) * _UNITS[match[2].lower()] < MIN_MEMORY:
                raise reader.error(value, f"run.memory `{raw}` is below Docker's minimum of 6m")
            memory = f"{match[1]}{match[2].lower()}"
        elif key == "cpus":
            cpus = reader.number(value, "run.cpus")
            if not 0.01 <= cpus <= 1024:
                raise reader.error(value, f"run.cpus `{value.value}` is out of range: use e.g. `0.5` or `2`")
        else:
            raise reader.error(
                key_node, f"unknown key `run.{key}`: use {' or '.join(RUN_KEYS)}{suggest(key, RUN_KEYS)}"
            )
    return RunDefaults(memory=memory, cpus=cpus)


def _execs(reader: _Reader, node: yaml.Node, roles: dict[str, Role]) -> ExecAllowlist:
    rules: dict[str, tuple[ExecRule, ...]] = {}
    for role, key_node, value in reader.mapping(node, "`exec`"):
        if role not in roles:
            raise reader.error(
                key_node, f"unknown role `{role}` in `exec`: roles are {', '.join(roles)}{suggest(role, [*roles])}"
            )
        parsed = []
        for item in reader.sequence(value, f"the exec rules of `{role}`", f'{role}: ["nginx -t", "cat /etc/nginx/*"]'):
            try:
                parsed.append(ExecRule.parse(reader.string(item, f"an exec rule of `{role}`")))
            except ValueError as error:
                raise reader.error(item, str(error)) from None
        rules[role] = tuple(parsed)
    return ExecAllowlist(rules)


def _scalar(reader: _Reader, node: yaml.Node, what: str, example: str) -> str:
    """A value as written (`16:00` and a date are not strings to YAML, but are read as typed here)."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == NULL_TAG or not str(node.value).strip():
        raise reader.error(node, f"{what} needs a value, e.g. `{example}`")
    return str(node.value).strip()


def _moment(reader: _Reader, node: yaml.Node, what: str) -> datetime:
    example = "2026-12-20T18:00:00+01:00"
    raw = _scalar(reader, node, what, example)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise reader.error(node, f"{what} `{raw}` is not a date and time: write ISO 8601, e.g. `{example}`") from None
    if moment.tzinfo is None:
        raise reader.error(node, f"{what} `{raw}` has no UTC offset: add one, e.g. `{example}` (or `Z` for UTC)")
    return moment


def _clock(reader: _Reader, node: yaml.Node, what: str, ends: str = "") -> time:
    raw = _scalar(reader, node, what, '"16:00"')
    match = _CLOCK.match(raw)
    if not match:
        raise reader.error(node, f'{what} `{raw}` is not a time of day: write HH:MM in quotes, e.g. `"16:00"`{ends}')
    return time(int(match[1]), int(match[2]))


def _end_clock(reader: _Reader, node: yaml.Node, what: str) -> time | None:
    """A weekly window's end; None for `24:00`, the end of the day."""
    if isinstance(node, yaml.ScalarNode) and str(node.value).strip() == END_OF_DAY:
        return None
    return _clock(reader, node, what, f", or `{END_OF_DAY}` for the end of the day")


def _entry(
    reader: _Reader, node: yaml.Node, where: str, keys: tuple[str, ...]
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping entry's keys (each with its key node and value node); an unknown key stops start-up, naming the
    keys there are."""
    written = {key: (key_node, value) for key, key_node, value in reader.mapping(node, where)}
    for key, (key_node, _) in written.items():
        if key not in keys:
            raise reader.error(key_node, f"unknown key `{key}` in {where}: use {', '.join(keys)}{suggest(key, keys)}")
    return written


def _channel_of(reader: _Reader, written: dict[str, tuple[yaml.Node, yaml.Node]], where: str) -> str | None:
    """An entry's `channel` (where its requests are posted), None when it names none."""
    if "channel" not in written:
        return None
    channel = reader.string(written["channel"][1], f"the `channel` of {where}")
    if not _CHANNEL.match(channel):
        raise reader.error(written["channel"][1], f"`{channel}` is not a channel id (C… or G…)")
    return channel


def _weekly(reader: _Reader, node: yaml.Node, where: str) -> Weekly:
    written = _entry(reader, node, f"{where}.weekly", WEEKLY_KEYS)
    missing = [key for key in WEEKLY_KEYS if key not in written]
    if missing:
        example = '{days: [fri], from: "16:00", until: "24:00", tz: Europe/Berlin}'
        raise reader.error(node, f"{where}.weekly needs {', '.join(missing)}: e.g. `weekly: {example}`")
    days = set()
    for item in reader.sequence(written["days"][1], f"{where}.weekly.days", "days: [fri, sat]"):
        day = reader.string(item, f"a day of {where}.weekly").lower()[:3]
        if day not in DAYS:
            raise reader.error(item, f"`{item.value}` is not a day: use {', '.join(DAYS)}")
        days.add(DAYS.index(day))
    zone_node = written["tz"][1]
    zone_name = reader.string(zone_node, f"{where}.weekly.tz")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.error(
            zone_node, f"`{zone_name}` is not a time zone: write an IANA name, e.g. `Europe/Berlin` or `UTC`"
        ) from None
    starts = _clock(reader, written["from"][1], f"{where}.weekly.from")
    ends = _end_clock(reader, written["until"][1], f"{where}.weekly.until")
    return Weekly(frozenset(days), starts, ends, zone)


def _freeze_window(reader: _Reader, node: yaml.Node, number: int) -> FreezeWindow:
    where = f"freezes entry {number}"
    written = _entry(reader, node, where, FREEZE_KEYS)
    if "engines" not in written or "reason" not in written:
        raise reader.error(node, f'{where} needs `engines` and `reason`, e.g. `engines: ["prod-*"]`')
    engines = _engine_patterns(reader, written["engines"][1], where)
    reason = reader.string(written["reason"][1], f"{where}.reason").strip()
    if not reason:
        raise reader.error(written["reason"][1], f"{where}.reason is empty: say why changes wait")
    dated = "from" in written or "until" in written
    if dated == ("weekly" in written):
        raise reader.error(
            node, f"{where} needs either `from` and `until` (dates) or `weekly` (days, times and a time zone)"
        )
    if "weekly" in written:
        return FreezeWindow(number, tuple(engines), reason, weekly=_weekly(reader, written["weekly"][1], where))
    if "from" not in written or "until" not in written:
        raise reader.error(node, f"{where} needs both `from` and `until`, e.g. `from: 2026-12-20T18:00:00+01:00`")
    starts = _moment(reader, written["from"][1], f"{where}.from")
    ends = _moment(reader, written["until"][1], f"{where}.until")
    if ends <= starts:
        raise reader.error(written["until"][1], f"{where}.until is not after its `from`")
    return FreezeWindow(number, tuple(engines), reason, dates=(starts, ends))


def _freezes(reader: _Reader, node: yaml.Node) -> tuple[FreezeWindow, ...]:
    example = '[{engines: ["prod-*"], weekly: {...}, reason: "..."}]'
    items = reader.sequence(node, "`freezes`", example)
    return tuple(_freeze_window(reader, item, number) for number, item in enumerate(items, 1))


def _approval_actions(reader: _Reader, node: yaml.Node, where: str) -> tuple[str, ...]:
    patterns = []
    for item in reader.sequence(node, f"`actions` of {where}", 'actions: [container.rm, "*.prune"]'):
        pattern = reader.string(item, f"an action of {where}")
        if not any(fnmatch.fnmatchcase(action, pattern) for action in ACTIONS):
            raise reader.error(item, f"`{pattern}` in {where} matches no action{suggest(pattern, ACTIONS)}")
        patterns.append(pattern)
    return tuple(patterns)


def _engine_patterns(reader: _Reader, node: yaml.Node, where: str) -> tuple[str, ...]:
    patterns = []
    for item in reader.sequence(node, f"`engines` of {where}", 'engines: ["prod-*"]'):
        pattern = reader.string(item, f"an engine of {where}")
        if not _ENGINE_PATTERN.match(pattern):
            raise reader.error(item, f'`{pattern}` is not an engine name or pattern: write e.g. `prod-1` or `"prod-*"`')
        patterns.append(pattern)
    return tuple(patterns)


def _approvers(reader: _Reader, node: yaml.Node, where: str) -> frozenset[str]:
    approvers = set()
    for item in reader.sequence(node, f"`approvers` of {where}", "approvers: [S0LEADS, U0123ADMIN]"):
        approver = reader.string(item, f"an approver of {where}")
        if not (_USER.match(approver) or _GROUP.match(approver)):
            raise reader.error(item, f"`{approver}` is not a Slack user id (U…/W…) or user group id (S…)")
        approvers.add(approver)
    if not approvers:
        raise reader.error(node, f"{where} has no approvers: write e.g. `approvers: [S0LEADS]`")
    return frozenset(approvers)


def _approval_ttl(reader: _Reader, node: yaml.Node, where: str, key: str = "ttl") -> float:
    raw = node.value if isinstance(node, yaml.ScalarNode) else ""
    try:
        seconds = duration_seconds(str(raw))
    except ParseError:
        seconds = 0
    if seconds <= 0:
        raise reader.error(node, f"the `{key}` of {where}, `{raw}`, is not a duration: write e.g. `30m`, `2h` or `45s`")
    return float(seconds)


def _approval(reader: _Reader, node: yaml.Node, number: int) -> ApprovalEntry:
    where = f"approvals rule {number}"
    written = _entry(reader, node, where, APPROVAL_KEYS)
    for required in ("actions", "approvers"):
        if required not in written:
            raise reader.error(node, f"{where} has no `{required}`: see policy.example.yml")
    actions = _approval_actions(reader, written["actions"][1], where)
    engines = _engine_patterns(reader, written["engines"][1], where) if "engines" in written else (ANY_ENGINE,)
    channel = _channel_of(reader, written, where)
    needed = 1
    if "needed" in written:
        count = reader.number(written["needed"][1], f"`needed` of {where}")
        if count not in (1, 2, 3):
            raise reader.error(written["needed"][1], f"`needed` of {where} must be 1, 2 or 3 distinct approvers")
        needed = int(count)
    ttl = _approval_ttl(reader, written["ttl"][1], where) if "ttl" in written else DEFAULT_APPROVAL_TTL
    rule = ApprovalRule(
        approvers=_approvers(reader, written["approvers"][1], where),
        ttl_seconds=ttl,
        channel=channel,
        needed=needed,
        why=f"{where}: {', '.join(actions)} on {', '.join(engines)}",
    )
    return ApprovalEntry(actions, engines, rule)


def _approvals(reader: _Reader, node: yaml.Node) -> tuple[ApprovalEntry, ...]:
    items = reader.sequence(node, "`approvals`", "approvals: [{actions: [container.rm], approvers: [S0LEADS]}]")
    return tuple(_approval(reader, item, number) for number, item in enumerate(items, 1))


def _requesters(reader: _Reader, node: yaml.Node, where: str) -> frozenset[str]:
    who = set()
    for item in reader.sequence(node, f"`who` of {where}", 'who: [S0ONCALL, "*"]'):
        entry = reader.string(item, f"an entry of `who` in {where}")
        if entry != EVERYONE and not (_USER.match(entry) or _GROUP.match(entry)):
            raise reader.error(item, f'`{entry}` is not a Slack user id (U…/W…), user group id (S…) or "*"')
        who.add(entry)
    return frozenset(who)


def _access_rule(reader: _Reader, node: yaml.Node, number: int, roles: dict[str, Role]) -> AccessRule:
    where = f"access rule {number}"
    written = _entry(reader, node, where, ACCESS_KEYS)
    for required in ("roles", "approvers", "longest"):
        if required not in written:
            raise reader.error(node, f"{where} has no `{required}`: see policy.example.yml")
    granted = _role_names(reader, written["roles"][1], f"roles` of `{where}", roles)
    engines = _engine_patterns(reader, written["engines"][1], where) if "engines" in written else (ANY_ENGINE,)
    channel = _channel_of(reader, written, where)
    ttl = _approval_ttl(reader, written["ttl"][1], where) if "ttl" in written else DEFAULT_APPROVAL_TTL
    approval = ApprovalRule(
        approvers=_approvers(reader, written["approvers"][1], where),
        ttl_seconds=ttl,
        channel=channel,
        why=f"{where}: {', '.join(granted)} on {', '.join(engines)}",
    )
    return AccessRule(
        requesters=_requesters(reader, written["who"][1], where) if "who" in written else frozenset({EVERYONE}),
        roles=granted,
        engines=engines,
        approval=approval,
        longest_seconds=_approval_ttl(reader, written["longest"][1], where, "longest"),
    )


def _access(reader: _Reader, node: yaml.Node, roles: dict[str, Role]) -> tuple[AccessRule, ...]:
    items = reader.sequence(node, "`access`", "access: [{roles: [operator], approvers: [S0LEADS], longest: 4h}]")
    return tuple(_access_rule(reader, item, number, roles) for number, item in enumerate(items, 1))


def parse_policy(text: str, path: Path) -> Policy:
    reader = _Reader(path)
    root = reader.compose(text)
    if root is None:
        raise PolicyError(path, None, "the policy is empty: see policy.example.yml for what to write")
    sections: dict[str, yaml.Node] = {}
    for key, key_node, value in reader.mapping(root, "the policy"):
        if key not in KEYS:
            raise reader.error(key_node, f"unknown key `{key}`: the keys are {', '.join(KEYS)}{suggest(key, KEYS)}")
        if value.tag == NULL_TAG and key != "roles":
            raise reader.error(value, f"`{key}` is empty: list its entries, or remove the key")
        sections[key] = value
    roles = _roles(reader, sections["roles"]) if "roles" in sections else _standard_roles(path)
    return Policy(
        path=path,
        roles=roles,
        members=_members(reader, sections["members"], roles) if "members" in sections else {},
        channels=_channels(reader, sections["channels"]) if "channels" in sections else None,
        images=_images(reader, sections["images"]) if "images" in sections else None,
        run=_run(reader, sections["run"]) if "run" in sections else RunDefaults(),
        execs=_execs(reader, sections["exec"], roles) if "exec" in sections else ExecAllowlist({}),
        freezes=_freezes(reader, sections["freezes"]) if "freezes" in sections else (),
        approvals=_approvals(reader, sections["approvals"]) if "approvals" in sections else (),
        access=_access(reader, sections["access"], roles) if "access" in sections else (),
        loaded_at=datetime.now(UTC),
    )


def load_policy(path: Path) -> Policy:
    """Read and check a policy file. Raises PolicyError (a ConfigError) naming the line of the first mistake."""
    return parse_policy(_Reader(path).read(path), path)
