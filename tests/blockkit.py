"""Check a Slack message payload the way Slack would: slack_sdk's own block models, then Slack's documented limits.

Every test that sees a message (unit or end-to-end) passes it through `assert_valid_message(payload)`. The limits
are written out here on purpose, not imported from bot/render/kit.py: a wrong limit in the renderer must fail.
slack_sdk's models miss some of them (a 76-character button label validates) and silently drop unknown keys, so
each block is also rebuilt from its model and compared with what was sent.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.render.kit import Message

MAX_BLOCKS = 50
MAX_FALLBACK_TEXT = 4_000  # Slack shows at most this much of the top-level `text` in full
MAX_SECTION_TEXT = 3_000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2_000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 3_000
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
RESPONSE_TYPES = {"in_channel", "ephemeral"}
BUTTON_STYLES = {"primary", "danger"}


def assert_valid_message(payload: Mapping[str, Any] | Message) -> None:
    """Fail with every problem found if Slack would reject (or silently mangle) this message.

    `payload` is what goes to Slack (chat.postMessage / response_url / ack body) or a rendered `Message`.
    """
    if isinstance(payload, Message):
        payload = payload.payload()
    problems = list(message_problems(payload))
    if problems:
        raise AssertionError("invalid Slack message:\n  " + "\n  ".join(problems))


def message_problems(payload: Mapping[str, Any]) -> Iterator[str]:
    """Each way `payload` breaks Slack's rules, as one line naming where."""
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as error:
        yield f"payload is not JSON-serialisable: {error}"
        return
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        yield f"fallback `text` must be a non-empty string (notifications and screen readers use it), got {text!r}"
    elif len(text) > MAX_FALLBACK_TEXT:
        yield f"fallback `text` is {len(text)} characters; at most {MAX_FALLBACK_TEXT}"
    if "response_type" in payload and payload["response_type"] not in RESPONSE_TYPES:
        yield f"response_type {payload['response_type']!r} is not one of {sorted(RESPONSE_TYPES)}"
    blocks = payload.get("blocks", [])
    if isinstance(blocks, str):  # form-encoded Web API calls carry blocks as a JSON string
        blocks = json.loads(blocks)
    if not isinstance(blocks, list):
        yield f"`blocks` must be a list, got {type(blocks).__name__}"
        return
    if len(blocks) > MAX_BLOCKS:
        yield f"{len(blocks)} blocks; at most {MAX_BLOCKS}"
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        for problem in block_problems(block):
            yield f"block {index} ({_kind(block)}): {problem}"
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in block_ids:
                yield f"block {index} ({_kind(block)}): block_id {block_id!r} is used twice in the message"
            block_ids.add(block_id)


def block_problems(block: Any) -> Iterator[str]:
    """Each way one block breaks Slack's rules: first slack_sdk's model, then the limits it does not check."""
    if not isinstance(block, dict) or "type" not in block:
        yield f"not a block: {block!r:.200}"
        return
    try:
        model = Block.parse(block)
        if model is None:
            yield f"unknown block type {block['type']!r}"
            return
        model.validate_json()
        rebuilt = model.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError) as error:
        yield f"slack_sdk rejects it: {error}"
        return
    if rebuilt != block:
        yield f"slack_sdk's model drops or changes part of it (unknown key or empty value): sent {block!r:.300}"
    if "block_id" in block and not 0 < len(str(block["block_id"])) <= MAX_BLOCK_ID:
        yield f"block_id must be 1–{MAX_BLOCK_ID} characters"
    yield from _CHECKS.get(block["type"], _unchecked)(block)


def _kind(block: Any) -> str:
    return block.get("type", "?") if isinstance(block, dict) else type(block).__name__


def _text_problems(text: Any, where: str, limit: int, kinds: set[str]) -> Iterator[str]:
    if not isinstance(text, dict) or text.get("type") not in kinds:
        yield f"{where} must be a {' or '.join(sorted(kinds))} text object, got {text!r:.200}"
        return
    content = text.get("text")
    if not isinstance(content, str) or not content.strip():
        yield f"{where} text is empty; Slack rejects empty text"
    elif len(content) > limit:
        yield f"{where} text is {len(content)} characters; at most {limit}"


def _section(block: dict) -> Iterator[str]:
    if "text" not in block and "fields" not in block:
        yield "a section needs text or fields"
    if "text" in block:
        yield from _text_problems(block["text"], "text", MAX_SECTION_TEXT, {"mrkdwn", "plain_text"})
    fields = block.get("fields", [])
    if len(fields) > MAX_FIELDS:
        yield f"{len(fields)} fields; at most {MAX_FIELDS}"
    for number, field in enumerate(fields):
        yield from _text_problems(field, f"field {number}", MAX_FIELD_TEXT, {"mrkdwn", "plain_text"})
    if "accessory" in block:
        yield from _element_problems(block["accessory"], "accessory")


def _header(block: dict) -> Iterator[str]:
    yield from _text_problems(block.get("text"), "header", MAX_HEADER_TEXT, {"plain_text"})


def _context(block: dict) -> Iterator[str]:
    elements = block.get("elements", [])
    if not elements:
        yield "a context block needs at least one element"
    if len(elements) > MAX_CONTEXT_ELEMENTS:
        yield f"{len(elements)} context elements; at most {MAX_CONTEXT_ELEMENTS}"
    for number, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
            yield from _text_problems(element, f"element {number}", MAX_CONTEXT_TEXT, {"mrkdwn", "plain_text"})


def _actions(block: dict) -> Iterator[str]:
    elements = block.get("elements", [])
    if not elements:
        yield "an actions block needs at least one element"
    if len(elements) > MAX_ACTIONS_ELEMENTS:
        yield f"{len(elements)} elements; at most {MAX_ACTIONS_ELEMENTS}"
    action_ids: set[str] = set()
    for number, element in enumerate(elements):
        yield from _element_problems(element, f"element {number}")
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if action_id is not None:
            if action_id in action_ids:
                yield f"element {number}: action_id {action_id!r} is used twice in the block"
            action_ids.add(action_id)


def _element_problems(element: Any, where: str) -> Iterator[str]:
    if not isinstance(element, dict):
        yield f"{where} is not an element: {element!r:.200}"
        return
    if "action_id" in element and not 0 < len(str(element["action_id"])) <= MAX_ACTION_ID:
        yield f"{where}: action_id must be 1–{MAX_ACTION_ID} characters"
    if element.get("type") != "button":
        return
    yield from _text_problems(element.get("text"), f"{where} button", MAX_BUTTON_TEXT, {"plain_text"})
    value = element.get("value")
    if value is not None and not (isinstance(value, str) and len(value) <= MAX_BUTTON_VALUE):
        yield f"{where}: button value must be a string of at most {MAX_BUTTON_VALUE} characters"
    if "style" in element and element["style"] not in BUTTON_STYLES:
        yield f"{where}: button style {element['style']!r} is not one of {sorted(BUTTON_STYLES)}"


def _unchecked(block: dict) -> Iterator[str]:
    return iter(())


_CHECKS = {"section": _section, "header": _header, "context": _context, "actions": _actions}


def payload_strings(payload: Mapping[str, Any] | Message) -> str:
    """Every string in the message (fallback text, block texts, button values, ids) joined, for "appears nowhere"."""
    if isinstance(payload, Message):
        payload = payload.payload()
    return "\n".join(_strings(payload))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
