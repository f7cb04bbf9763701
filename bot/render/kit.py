"""Block Kit building blocks as plain dicts, cut to Slack's limits as they are built.

Plain dicts keep the core free of Slack imports (local mode starts fast); the tests check every message
against slack_sdk's own block models.
"""

from dataclasses import dataclass, field

from bot.secrets import mask_values

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 3000
_CODE_FENCE_OVERHEAD = 8  # "```\n" + "\n```"


def escape(text: str) -> str:
    """Slack's mrkdwn needs &, < and > escaped; everything else is literal. The one escaping function: every
    string from the engine (names, labels, log lines, process tables, errors quoting them) goes through it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, MAX_HEADER), "emoji": True}}


def section(mrkdwn: str, accessory: dict | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": _cut(mrkdwn, MAX_SECTION_TEXT)}}
    if accessory:
        block["accessory"] = accessory
    return block


def fields(pairs: list[tuple[str, str]]) -> dict:
    items = [
        {"type": "mrkdwn", "text": _cut(f"*{label}*\n{value}", MAX_FIELD_TEXT)} for label, value in pairs[:MAX_FIELDS]
    ]
    return {"type": "section", "fields": items}


def context(*mrkdwn: str) -> dict:
    elements = [{"type": "mrkdwn", "text": _cut(text, MAX_SECTION_TEXT)} for text in mrkdwn[:MAX_CONTEXT_ELEMENTS]]
    return {"type": "context", "elements": elements}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    element = {
        "type": "button",
        "text": {"type": "plain_text", "text": _cut(text, MAX_BUTTON_TEXT), "emoji": True},
        "action_id": action_id,
        "value": value[:MAX_BUTTON_VALUE],
    }
    if style:
        element["style"] = style
    return element


def divider() -> dict:
    return {"type": "divider"}


def actions(block_id: str | None, *elements: dict) -> dict:
    block: dict = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id[:255]
    return block


def _code_lines(text: str) -> list[str]:
    return escape(text.rstrip("\n")).replace("```", "`\u200b``").split("\n")


def fits_one_code_section(text: str) -> bool:
    """Whether `code_sections(text, max_blocks=1)` shows all of the text, no line cut short."""
    return sum(len(line) + 1 for line in _code_lines(text)) <= MAX_SECTION_TEXT - _CODE_FENCE_OVERHEAD


def code_sections(text: str, max_blocks: int = 3, keep: str = "tail") -> tuple[list[dict], int]:
    """Text in monospace sections of at most 3000 characters each, at most `max_blocks` of them.

    keep="tail" keeps the last lines (logs: the newest matter), "head" the first. Returns the blocks and
    how many lines were shown (a line too long for a section is shown cut short).
    """
    lines = _code_lines(text)
    limit = MAX_SECTION_TEXT - _CODE_FENCE_OVERHEAD
    ordered = lines if keep == "head" else list(reversed(lines))
    chunks: list[list[str]] = [[]]
    used = 0
    shown = 0
    for line in ordered:
        line = _cut(line, limit - 1) or " "
        if used + len(line) + 1 > limit:
            if len(chunks) == max_blocks:
                break
            chunks.append([])
            used = 0
        chunks[-1].append(line)
        used += len(line) + 1
        shown += 1
    if keep == "tail":
        chunks = [list(reversed(chunk)) for chunk in reversed(chunks)]
    return [section("```\n" + "\n".join(chunk) + "\n```") for chunk in chunks if chunk], shown


@dataclass(frozen=True)
class Attachment:
    """Output too long for a message: the Slack adapter uploads it as a file snippet."""

    filename: str
    content: str
    title: str

    def payload(self) -> dict:
        """What leaves for Slack (files.upload's arguments), swept for secret-shaped values as a message is."""
        return {"content": mask_values(self.content), "filename": self.filename, "title": mask_values(self.title)}


# Identifiers, not text: a button's value (a command line of names, or a signed token that must come back as it
# was sent), its action id and a block id.
_IDENTIFIERS = frozenset({"value", "action_id", "block_id"})


def _swept(value: object) -> object:
    if isinstance(value, str):
        return mask_values(value)
    if isinstance(value, dict):
        return {key: item if key in _IDENTIFIERS else _swept(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_swept(item) for item in value]
    return value


def swept(blocks: list[dict]) -> list[dict]:
    """Blocks as they leave for Slack outside a message (a Home tab's view): secret-shaped values masked."""
    return [_swept(block) for block in blocks]  # type: ignore[misc]


@dataclass(frozen=True)
class Message:
    text: str  # the fallback: notifications and screen readers
    blocks: list[dict] = field(default_factory=list)
    attachment: Attachment | None = None
    is_error: bool = False

    def payload(self) -> dict:
        """What leaves for Slack. The renderers mask what they know to be secret by name; this last sweep masks
        any secret-shaped value (a URL's password, a token, a key) that reached the message some other way."""
        # Slack reads the fallback as mrkdwn too: unescaped, a "<!channel>" in it would notify the channel.
        text = _cut(escape(self.text), MAX_FALLBACK_TEXT)
        return {"text": mask_values(text), "blocks": _swept(self.blocks[:MAX_BLOCKS])}
