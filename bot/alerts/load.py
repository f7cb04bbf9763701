"""alerts.yml -> AlertRules, checked key by key; every mistake is one AlertsError naming the file and line.

Read with the node-tree reader of the other settings files (bot/yamlfile.py), so all report mistakes alike.
"""

import re
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bot.alerts.rules import EVENT_KINDS, MAX_LOG_LINES, MIN_UPDATES_EVERY, AlertRule, AlertRules, UpdatesRule
from bot.words import suggest
from bot.yamlfile import NULL_TAG, FileError, NodeReader

RULE_KEYS = ("channel", "events", "containers", "labels", "engines", "mention", "logs")
UPDATES_KEYS = ("channel", "every", "containers", "engines", "mention")
FILE_KEYS = ("alerts", "updates")
_EVERY = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# <!subteam^S…> (a user group), <@U…> (a person), <!here>, <!channel>; several may be given, space-separated.
_MENTION = re.compile(r"^(?:<!subteam\^S[A-Z0-9]+(?:\|[^>]*)?>|<@[UW][A-Z0-9]+>|<!here>|<!channel>)(?:\s+|$)")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_GLOB = re.compile(r"^[A-Za-z0-9_.*?\[\]!/-]+$")


class AlertsError(FileError):
    pass


class _AlertsReader(NodeReader):
    error_type = AlertsError


def _globs(reader: _AlertsReader, node: yaml.Node, key: str, example: str) -> tuple[str, ...]:
    patterns = []
    for item in reader.sequence(node, f"`{key}`", f"{key}: [{example}]"):
        pattern = reader.string(item, f"an entry of `{key}`")
        if not _GLOB.match(pattern):
            raise reader.error(
                item, f"`{pattern}` is not a name pattern: use letters, digits, `-_.` and `*`, e.g. {example}"
            )
        patterns.append(pattern)
    if not patterns:
        raise reader.error(node, f"`{key}` is empty: list at least one pattern, or remove the key for every one")
    return tuple(patterns)


def _events(reader: _AlertsReader, node: yaml.Node) -> frozenset[str]:
    kinds = []
    for item in reader.sequence(node, "`events`", "events: [die, oom, unhealthy]"):
        kind = reader.string(item, "an event")
        if kind not in EVENT_KINDS:
            raise reader.error(
                item, f"unknown event `{kind}`: the events are {', '.join(EVENT_KINDS)}{suggest(kind, EVENT_KINDS)}"
            )
        kinds.append(kind)
    if not kinds:
        raise reader.error(node, "`events` is empty: list what to alert on, e.g. `events: [die, oom, unhealthy]`")
    return frozenset(kinds)


def _labels(reader: _AlertsReader, node: yaml.Node) -> tuple[tuple[str, str], ...]:
    pairs = []
    for key, _key_node, value in reader.mapping(node, "`labels`"):
        if not isinstance(value, yaml.ScalarNode) or value.tag == NULL_TAG:
            raise reader.error(value, f"label `{key}` needs a value, e.g. `labels: {{{key}: payments}}`")
        pairs.append((key, str(value.value)))
    return tuple(pairs)


def _logs(reader: _AlertsReader, node: yaml.Node) -> int:
    raw = node.value if isinstance(node, yaml.ScalarNode) else ""
    if not (isinstance(raw, str) and raw.isdigit() and int(raw) <= MAX_LOG_LINES):
        raise reader.error(node, f"`logs` must be a number of lines from 0 to {MAX_LOG_LINES}, not `{raw}`")
    return int(raw)


def _channel(reader: _AlertsReader, node: yaml.Node) -> str:
    channel = reader.string(node, "`channel`")
    if not _CHANNEL.match(channel):
        raise reader.error(node, f"`{channel}` is not a channel id (C… or G…): copy it from the channel's About tab")
    return channel


def _mention(reader: _AlertsReader, node: yaml.Node) -> str:
    mention = reader.string(node, "`mention`").strip()
    rest = mention
    while rest and (match := _MENTION.match(rest)):
        rest = rest[match.end() :]
    if not mention or rest:
        raise reader.error(
            node, f'`{mention}` is not a mention: write e.g. "<!subteam^S0ONCALL>", "<@U0123ABCD>" or "<!here>"'
        )
    return mention


def _every(reader: _AlertsReader, node: yaml.Node) -> float:
    raw = node.value if isinstance(node, yaml.ScalarNode) else ""
    match = _EVERY.match(str(raw))
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]] if match else 0
    if seconds < MIN_UPDATES_EVERY:
        raise reader.error(
            node, f"`every` must be a duration of at least 1m, e.g. `every: 24h` or `every: 6h`, not `{raw}`"
        )
    return float(seconds)


def _updates_rule(reader: _AlertsReader, node: yaml.Node) -> UpdatesRule:
    if not isinstance(node, yaml.MappingNode):
        raise reader.error(node, "`updates` must be a mapping, e.g. `updates: {channel: C0DEPLOYS, every: 24h}`")
    values: dict[str, object] = {}
    for key, key_node, value in reader.mapping(node, "`updates`"):
        if key not in UPDATES_KEYS:
            raise reader.error(
                key_node, f"unknown key `{key}`: `updates` has {', '.join(UPDATES_KEYS)}{suggest(key, UPDATES_KEYS)}"
            )
        if key == "channel":
            values[key] = _channel(reader, value)
        elif key == "every":
            values[key] = _every(reader, value)
        elif key == "mention":
            values[key] = _mention(reader, value)
        else:
            values[key] = _globs(reader, value, key, '"web*", "api-*"' if key == "containers" else '"prod-*"')
    if "channel" not in values:
        raise reader.error(node, "`updates` has no `channel`: write e.g. `channel: C0DEPLOYS`")
    return UpdatesRule(line=node.start_mark.line + 1, **values)  # type: ignore[arg-type]


def _rule(reader: _AlertsReader, node: yaml.Node) -> AlertRule:
    if not isinstance(node, yaml.MappingNode):
        raise reader.error(node, "each alert must be a mapping, e.g. `- channel: C0ALERTS`")
    values: dict[str, object] = {}
    for key, key_node, value in reader.mapping(node, "an alert"):
        if key not in RULE_KEYS:
            raise reader.error(
                key_node, f"unknown key `{key}`: an alert has {', '.join(RULE_KEYS)}{suggest(key, RULE_KEYS)}"
            )
        if key == "channel":
            values[key] = _channel(reader, value)
        elif key == "events":
            values[key] = _events(reader, value)
        elif key == "containers":
            values[key] = _globs(reader, value, key, '"web*", "api-*"')
        elif key == "engines":
            values[key] = _globs(reader, value, key, '"prod-*"')
        elif key == "labels":
            values[key] = _labels(reader, value)
        elif key == "mention":
            values[key] = _mention(reader, value)
        else:
            values[key] = _logs(reader, value)
    if "channel" not in values:
        raise reader.error(node, "this alert has no `channel`: write e.g. `channel: C0ALERTS`")
    return AlertRule(line=node.start_mark.line + 1, **values)  # type: ignore[arg-type]


def parse_alerts(text: str, path: Path) -> AlertRules:
    reader = _AlertsReader(path)
    root = reader.compose(text)
    if root is None:
        raise AlertsError(path, None, "the file is empty: see alerts.example.yml for what to write")
    entries = reader.mapping(root, "the alerts file")
    for key, key_node, _value in entries:
        if key not in FILE_KEYS:
            raise reader.error(
                key_node, f"unknown key `{key}`: the file has `alerts` and `updates`{suggest(key, FILE_KEYS)}"
            )
    if not entries:
        raise AlertsError(path, None, "the file has no `alerts` list")
    found = {key: value for key, _key_node, value in entries}
    rules: tuple[AlertRule, ...] = ()
    if "alerts" in found:
        node = found["alerts"]
        if node.tag == NULL_TAG:
            raise reader.error(node, "`alerts` is empty: list at least one alert, e.g. `- channel: C0ALERTS`")
        if not isinstance(node, yaml.SequenceNode):
            raise reader.error(node, "`alerts` must be a list of alerts, each starting with `- channel: C…`")
        rules = tuple(_rule(reader, item) for item in node.value)
    updates: tuple[UpdatesRule, ...] = ()
    if "updates" in found:
        node = found["updates"]
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]  # one, or a list of them
        updates = tuple(_updates_rule(reader, item) for item in items)
    return AlertRules(path=path, rules=rules, loaded_at=datetime.now(UTC), updates=updates)


def load_alerts(path: Path) -> AlertRules:
    """Read and check an alerts file. Raises AlertsError (a ConfigError) naming the line of the first mistake."""
    return parse_alerts(_AlertsReader(path).read(path), path)
