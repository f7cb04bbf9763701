"""policy.yml -> Policy, checked key by key; every mistake is one PolicyError naming the file and line.

The file is read as a YAML node tree (yaml.compose) rather than plain data, because only the nodes know
their lines, and because duplicate keys — which yaml.safe_load silently merges — must be an error here.
"""

import difflib
import re
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bot.config import ConfigError
from bot.policy.images import ImageAllowlist, check_pattern
from bot.policy.model import (
    ACTIONS,
    DIRECT_MESSAGES,
    EVERYONE,
    OPEN_ACTIONS,
    OWNABLE,
    STANDARD_ROLES,
    Policy,
    Role,
    RunDefaults,
)

KEYS = ("roles", "members", "channels", "images", "run")
RUN_KEYS = ("memory", "cpus")
_ROLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)([bkmg]?)$", re.I)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MIN_MEMORY = 6 * 1024**2  # dockerd refuses less
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"


class PolicyError(ConfigError):
    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}, line {line}: {message}" if line else f"{path}: {message}")


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


class _Reader:
    """Walks the node tree, raising PolicyError at the offending node's line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, node: yaml.Node | None, message: str) -> PolicyError:
        return PolicyError(self.path, node.start_mark.line + 1 if node is not None else None, message)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.ScalarNode, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of `key: value` lines")
        seen: dict[str, int] = {}
        entries = []
        for key_node, value_node in node.value:
            key = self.string(key_node, f"a key in {what}")
            if key in seen:
                raise self.error(key_node, f"`{key}` appears twice in {what} (first on line {seen[key]})")
            seen[key] = key_node.start_mark.line + 1
            entries.append((key, key_node, value_node))
        return entries

    def sequence(self, node: yaml.Node, what: str, hint: str) -> list[yaml.Node]:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            return [node]  # `admin: "*"` means `admin: ["*"]`
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list, e.g. `{hint}`")
        return list(node.value)

    def string(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            shown = node.value if isinstance(node, yaml.ScalarNode) else type(node).__name__.removesuffix("Node")
            raise self.error(node, f"{what} must be a plain word, not `{shown}`")
        return node.value


Written = dict[str, list[tuple[str, yaml.Node | None]]]  # role -> its entries as written, with their nodes


def _roles(reader: _Reader, node: yaml.Node) -> dict[str, Role]:
    written: Written = {}
    for name, key_node, value in reader.mapping(node, "`roles`"):
        if not _ROLE_NAME.match(name) or name in OPEN_ACTIONS:
            raise reader.error(
                key_node, f"`{name}` cannot name a role: use letters, digits, `_` and `-`, e.g. `deployer`"
            )
        items = (
            [] if value.tag == _NULL else reader.sequence(value, f"role `{name}`", f"{name}: [image.ls, container.ls]")
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
                raise reader.error(node, f"unknown action `{item}` in role `{name}`{_suggest(action, ACTIONS)}")
            else:
                known = [*written]
                raise reader.error(
                    node,
                    f"`{item}` in role `{name}` is neither an action nor a role{_suggest(item, known + list(ACTIONS))}",
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


def _members(reader: _Reader, node: yaml.Node, roles: dict[str, Role]) -> dict[str, tuple[str, ...]]:
    members: dict[str, tuple[str, ...]] = {}
    for key, key_node, value in reader.mapping(node, "`members`"):
        _member_key(reader, key, key_node)
        if value.tag == _NULL:
            raise reader.error(value, f"`{key}` has no role: write e.g. `{key}: operator`")
        names = []
        for item in reader.sequence(value, f"the role of `{key}`", f"{key}: [operator, deployer]"):
            role = reader.string(item, f"the role of `{key}`")
            if role not in roles:
                raise reader.error(
                    item, f"unknown role `{role}` for `{key}`: roles are {', '.join(roles)}{_suggest(role, [*roles])}"
                )
            names.append(role)
        members[key] = tuple(dict.fromkeys(names))
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


def _number(reader: _Reader, node: yaml.Node, what: str) -> float:
    if isinstance(node, yaml.ScalarNode):
        try:
            return float(node.value)
        except ValueError:
            pass
    raise reader.error(node, f"{what} must be a number")


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
            cpus = _number(reader, value, "run.cpus")
            if not 0.01 <= cpus <= 1024:
                raise reader.error(value, f"run.cpus `{value.value}` is out of range: use e.g. `0.5` or `2`")
        else:
            raise reader.error(
                key_node, f"unknown key `run.{key}`: use {' or '.join(RUN_KEYS)}{_suggest(key, RUN_KEYS)}"
            )
    return RunDefaults(memory=memory, cpus=cpus)


def _yaml_error(path: Path, error: yaml.YAMLError) -> PolicyError:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    hint = ' — a lone * must be quoted: "*"' if "while scanning an alias" in str(getattr(error, "context", "")) else ""
    return PolicyError(path, mark.line + 1 if mark else None, f"not valid YAML: {problem}{hint}")


def parse_policy(text: str, path: Path) -> Policy:
    reader = _Reader(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None
    if root is None:
        raise PolicyError(path, None, "the policy is empty: see policy.example.yml for what to write")
    sections: dict[str, yaml.Node] = {}
    for key, key_node, value in reader.mapping(root, "the policy"):
        if key not in KEYS:
            raise reader.error(key_node, f"unknown key `{key}`: the keys are {', '.join(KEYS)}{_suggest(key, KEYS)}")
        if value.tag == _NULL and key != "roles":
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
        loaded_at=datetime.now(UTC),
    )


def load_policy(path: Path) -> Policy:
    """Read and check a policy file. Raises PolicyError (a ConfigError) naming the line of the first mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PolicyError(path, None, "is not UTF-8 text") from None
    except OSError as error:
        raise PolicyError(path, None, f"cannot be read ({error.strerror or error})") from None
    return parse_policy(text, path)
