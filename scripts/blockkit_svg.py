#!/usr/bin/env python3
"""Render Block Kit JSON as an SVG that looks like Slack: the README's screenshot-like renderings in docs/.

    python3 scripts/blockkit_svg.py view.json docs/name.svg
    python3 scripts/blockkit_svg.py --steps manifest.yml docs/workflow-steps.svg

The JSON is a message (`{"blocks": [...]}`, as `shipmate local --json` prints one), a view (`{"type": "home" |
"modal", ...}`, as views.publish / views.open take it), a bare list of blocks, or a list of messages and views (drawn
side by side). `--steps` draws the workflow steps manifest.yml declares under `functions`, as Workflow Builder shows a
step's form. Text is wrapped by an estimate of Slack's font widths (no browser, no font files): lines break close to
where Slack breaks them. Standard library only, plus PyYAML for `--steps`.
"""

import argparse
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

SANS = "Lato, 'Helvetica Neue', Helvetica, Arial, sans-serif"
MONO = "Monaco, Menlo, Consolas, 'Courier New', monospace"
TEXT = "#1d1c1d"
GREY = "#616061"
LINE = "#dddddd"
BORDER = "#bbbbbb"
CODE_TEXT = "#e01e5a"
CODE_FILL = "#f8f8f8"
LINK = "#1264a3"
PRIMARY = "#007a5a"
DANGER = "#e01e5a"
PAD = 20
GAP = 12  # between blocks
CARD_WIDTH = {"message": 640, "home": 640, "modal": 500}
CARD_GAP = 32  # between cards drawn side by side


@dataclass(frozen=True)
class Run:
    """A piece of text in one style: normal, bold, italic, strike, code (inline), pre (a ``` block) or link."""

    text: str
    style: str = "normal"


# Advance widths (hundredths of an em, one byte each) of printable ASCII in DejaVu Sans and its bold: the widest of
# the fonts a Slack-like font stack falls back to, so an estimate never runs short and text never overlaps.
_REGULAR = bytes.fromhex(
    "20 28 2e 54 40 5f 4e 1b 27 27 32 54 20 24 20 22 40 40 40 40 40 40 40 40 40 40 22 22 54 54 54 35 "
    "64 44 45 46 4d 3f 3a 4d 4b 1d 1d 42 38 56 4b 4f 3c 4f 45 3f 3d 49 44 63 45 3d 45 27 22 27 54 32 "
    "32 3d 3f 37 3f 3e 23 3f 3f 1c 1c 3a 1c 61 3f 3d 3f 3f 29 34 27 3f 3b 52 3b 3b 34 40 22 40 54"
)
_BOLD = bytes.fromhex(
    "23 2e 34 54 46 64 57 1f 2e 2e 34 54 26 2a 26 25 46 46 46 46 46 46 46 46 46 46 28 28 54 54 54 3a "
    "64 4d 4c 49 53 44 44 52 54 25 25 4d 40 64 54 55 49 55 4d 48 44 51 4d 6e 4d 48 49 2e 25 2e 54 32 "
    "32 43 48 3b 48 44 2c 48 47 22 22 43 22 68 47 45 48 48 31 3c 30 47 41 5c 41 41 3a 47 25 47 54"
)
MONO_EM = 0.602
WIDE_EM = 1.2  # emoji and East Asian wide characters
OTHER_EM = 0.64


def _char_width(char: str, size: float, style: str) -> float:
    if style == "pre":
        return size * MONO_EM
    if style == "code":
        return size * 0.85 * MONO_EM  # inline code is drawn at 85 % of the text's size
    if unicodedata.east_asian_width(char) in "WF" or unicodedata.category(char) == "So":
        return size * WIDE_EM
    if " " <= char <= "~":
        table = _BOLD if style == "bold" else _REGULAR
        return size * table[ord(char) - 32] / 100
    return size * OTHER_EM


def text_width(text: str, size: float, style: str = "normal") -> float:
    return sum(_char_width(char, size, style) for char in text)


# -- mrkdwn ----------------------------------------------------------------------------------------------------

_SLACK_ENTITY = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_INLINE = re.compile(r"`([^`\n]+)`|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~|\x00(\d+)\x00")


def _unescape(text: str) -> str:
    """Slack's three entities back to characters (the SVG writer escapes them again for XML)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _entity(target: str, label: str | None) -> Run:
    if target.startswith("@"):
        return Run("@" + (label or target[1:]), "link")
    if target.startswith("#"):
        return Run("#" + (label or target[1:]), "link")
    if target.startswith("!subteam^"):
        return Run("@" + (label or target.split("^", 1)[1]), "link")
    if target.startswith("!"):
        return Run("@" + target[1:].split("^", 1)[0], "link")
    return Run(label or target, "link")


def _inline(line: str) -> list[Run]:
    entities: list[Run] = []

    def hold(match: re.Match[str]) -> str:
        entities.append(_entity(match.group(1), match.group(2)))
        return f"\x00{len(entities) - 1}\x00"

    line = _SLACK_ENTITY.sub(hold, line)
    runs: list[Run] = []
    position = 0
    for match in _INLINE.finditer(line):
        if match.start() > position:
            runs.append(Run(_unescape(line[position : match.start()])))
        code, bold, italic, strike, held = match.groups()
        if held is not None:
            runs.append(entities[int(held)])
        else:
            style = "code" if code else "bold" if bold else "italic" if italic else "strike"
            runs.append(Run(_unescape(code or bold or italic or strike), style))
        position = match.end()
    if position < len(line):
        runs.append(Run(_unescape(line[position:])))
    return runs


@dataclass
class Paragraph:
    """Lines of runs; `pre` for a ``` block (monospace, on a grey panel, never re-wrapped at spaces)."""

    lines: list[list[Run]]
    pre: bool = False


def paragraphs(text: str, mrkdwn: bool = True) -> list[Paragraph]:
    if not mrkdwn:
        return [Paragraph([[Run(line)] for line in text.split("\n")])]
    found: list[Paragraph] = []
    for index, part in enumerate(text.split("```")):
        if index % 2:
            body = part.removeprefix("\n").removesuffix("\n")
            found.append(Paragraph([[Run(_unescape(line), "pre")] for line in body.split("\n")], pre=True))
        elif part.strip("\n"):
            found.append(Paragraph([_inline(line) for line in part.strip("\n").split("\n")]))
    return found


def _pieces(run: Run) -> list[Run]:
    """A run cut into words with their trailing spaces, the points where a line may break."""
    return [Run(word, run.style) for word in re.findall(r"\S+\s*|\s+", run.text)]


def _fitting(run: Run, size: float, width: float) -> int:
    """How many of the run's characters fit in `width` (at least one)."""
    used = 0.0
    for count, char in enumerate(run.text):
        used += _char_width(char, size, run.style)
        if used > width:
            return max(count, 1)
    return len(run.text)


def wrap(line: list[Run], width: float, size: float) -> list[list[Run]]:
    """One logical line as display lines no wider than `width` (a word wider than a line is cut)."""
    lines: list[list[Run]] = [[]]
    used = 0.0
    for run in line:
        for piece in _pieces(run):
            needed = text_width(piece.text.rstrip(), size, piece.style)
            if used and used + needed > width:
                lines.append([])
                used = 0.0
                piece = Run(piece.text.lstrip(), piece.style)
            while text_width(piece.text.rstrip(), size, piece.style) > width:  # one very long word
                cut = _fitting(piece, size, width)
                lines[-1].append(Run(piece.text[:cut], piece.style))
                lines.append([])
                piece = Run(piece.text[cut:], piece.style)
            lines[-1].append(piece)
            used += text_width(piece.text, size, piece.style)
    return lines


# -- drawing -----------------------------------------------------------------------------------------------------


@dataclass
class Canvas:
    """SVG elements, with the top of the next block at `y` and the drawable band between `left` and `right`."""

    left: float
    right: float
    y: float
    parts: list[str] = field(default_factory=list)

    @property
    def width(self) -> float:
        return self.right - self.left

    def add(self, element: str) -> None:
        self.parts.append(element)

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str = "none", stroke: str = "none", r: float = 4):
        self.add(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{r}" fill="{fill}" stroke="{stroke}"/>'
        )

    def text(self, x: float, y: float, text: str, *, size: float = 15, color: str = TEXT, weight: str = "normal"):
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-family={quoteattr(SANS)} font-size="{size}" fill="{color}"'
            f' font-weight="{weight}">{xml_escape(text)}</text>'
        )

    def runs(self, x: float, baseline: float, line: list[Run], *, size: float, color: str = TEXT) -> None:
        """One display line: inline code on its grey chip, links blue, bold/italic/strike as Slack shows them."""
        spans = []
        cursor = x
        after_code = True  # the line's first run is placed at x
        for run in _merged(line):
            is_code = run.style == "code"
            if is_code and run.text.strip():
                code_width = text_width(run.text.rstrip(), size, "code")
                self.rect(cursor - 2, baseline - size + 1, code_width + 4, size + 5, fill=CODE_FILL, stroke=LINE, r=3)
            # Only a chip and what follows it are placed by the estimate; other text flows as the font spaces it.
            spans.append(_tspan(run, size, cursor if is_code or after_code else None))
            cursor += text_width(run.text, size, run.style)
            after_code = is_code
        self.add(
            f'<text y="{baseline:.1f}" font-family={quoteattr(SANS)} font-size="{size}" fill="{color}"'
            f' xml:space="preserve">{"".join(spans)}</text>'
        )


def _merged(line: list[Run]) -> list[Run]:
    """Neighbouring pieces of one style as one run: the font then spaces the words, not the estimate."""
    merged: list[Run] = []
    for run in line:
        if merged and merged[-1].style == run.style:
            merged[-1] = Run(merged[-1].text + run.text, run.style)
        else:
            merged.append(run)
    return merged


def _tspan(run: Run, size: float, x: float | None) -> str:
    attributes = {
        "bold": ' font-weight="bold"',
        "italic": ' font-style="italic"',
        "strike": ' text-decoration="line-through"',
        "link": f' fill="{LINK}"',
        "code": f' font-family={quoteattr(MONO)} font-size="{size * 0.85:.1f}" fill="{CODE_TEXT}"',
    }.get(run.style, "")
    place = "" if x is None else f' x="{x:.1f}"'
    return f"<tspan{place}{attributes}>{xml_escape(run.text)}</tspan>"


def draw_text(canvas: Canvas, x: float, width: float, text: str, *, size: float = 15, color: str = TEXT,
              mrkdwn: bool = True, style: str = "normal") -> float:  # fmt: skip
    """Wrapped (m)rkdwn from canvas.y down; returns the height it took."""
    top = canvas.y
    y = top
    line_height = size * 1.45
    for paragraph in paragraphs(text, mrkdwn):
        if paragraph.pre:
            code_size = size * 0.8
            shown = [wrap(line, width - 16, code_size) for line in paragraph.lines]
            rows = [row for rows in shown for row in rows]
            height = len(rows) * code_size * 1.5 + 14
            canvas.rect(x, y + 2, width, height, fill=CODE_FILL, stroke=LINE)
            for index, row in enumerate(rows):
                baseline = y + 9 + (index + 1) * code_size * 1.5 - 3
                canvas.add(
                    f'<text x="{x + 8:.1f}" y="{baseline:.1f}" font-family={quoteattr(MONO)}'
                    f' font-size="{code_size:.1f}" fill="{TEXT}" xml:space="preserve">'
                    f"{xml_escape(''.join(run.text for run in row))}</text>"
                )
            y += height + 6
            continue
        for line in paragraph.lines:
            styled = [Run(run.text, style) if style != "normal" and run.style == "normal" else run for run in line]
            for row in wrap(styled, width, size):
                y += line_height
                canvas.runs(x, y - size * 0.35, row, size=size, color=color)
    return y - top


def _plain(element: dict | None) -> str:
    if not isinstance(element, dict):
        return ""
    text = element.get("text", "")
    return text.get("text", "") if isinstance(text, dict) else str(text)


def _button(canvas: Canvas, x: float, y: float, element: dict) -> float:
    """A button at (x, y); returns its width."""
    label = _plain(element) or "Button"
    width = text_width(label, 14, "bold") + 26
    style = element.get("style")
    fill, stroke, color = {
        "primary": (PRIMARY, PRIMARY, "#ffffff"),
        "danger": (DANGER, DANGER, "#ffffff"),
    }.get(style or "", ("#ffffff", BORDER, TEXT))
    canvas.rect(x, y, width, 32, fill=fill, stroke=stroke)
    canvas.text(x + 13, y + 21, label, size=14, color=color, weight="bold")
    return width


def _select(canvas: Canvas, x: float, y: float, element: dict, width: float | None = None) -> float:
    """A select menu, date picker or overflow at (x, y); returns its width."""
    kind = element.get("type", "")
    if kind == "overflow":
        canvas.rect(x, y, 32, 32, fill="#ffffff", stroke=BORDER)
        canvas.text(x + 9, y + 21, "⋯", size=16, color=GREY, weight="bold")
        return 32
    chosen = element.get("initial_option") or {}
    label = _plain(chosen) or _plain(element.get("placeholder")) or "Select an item"
    width = width or max(160.0, text_width(label, 14) + 48)
    canvas.rect(x, y, width, 32, fill="#ffffff", stroke=BORDER)
    canvas.text(x + 12, y + 21, label, size=14, color=TEXT if chosen else GREY)
    canvas.text(x + width - 22, y + 21, "▾", size=14, color=GREY)
    return width


def _element(canvas: Canvas, x: float, y: float, element: dict, width: float | None = None) -> float:
    if element.get("type") == "button":
        return _button(canvas, x, y, element)
    return _select(canvas, x, y, element, width)


def _element_width(element: dict) -> float:
    if element.get("type") == "button":
        return text_width(_plain(element) or "Button", 14, "bold") + 26
    if element.get("type") == "overflow":
        return 32
    label = _plain(element.get("initial_option") or {}) or _plain(element.get("placeholder")) or "Select an item"
    return max(160.0, text_width(label, 14) + 48)


def _header(canvas: Canvas, block: dict) -> None:
    canvas.y += draw_text(canvas, canvas.left, canvas.width, _plain(block), size=18, mrkdwn=False, style="bold")


def _section(canvas: Canvas, block: dict) -> None:
    top = canvas.y
    accessory = block.get("accessory")
    room = _element_width(accessory) + 16 if accessory and accessory.get("type") != "image" else 0
    height = 0.0
    if block.get("text"):
        text = block["text"]
        height = draw_text(canvas, canvas.left, canvas.width - room, _plain(block), mrkdwn=text.get("type") == "mrkdwn")
    items = block.get("fields") or []
    column = (canvas.width - room) / 2
    for row in range(0, len(items), 2):
        canvas.y = top + height + (8 if height else 0)
        heights = []
        for offset, item in enumerate(items[row : row + 2]):
            canvas.y = top + height + (8 if height else 0)
            heights.append(
                draw_text(
                    canvas, canvas.left + offset * column, column - 12, _plain(item), mrkdwn=item["type"] == "mrkdwn"
                )
            )
        height += max(heights) + (8 if height else 0)
    if room and accessory:
        _element(canvas, canvas.right - room + 16, top + 2, accessory)
        height = max(height, 36)
    canvas.y = top + height


def _context(canvas: Canvas, block: dict) -> None:
    texts = [_plain(element) if element.get("type") != "image" else "▪" for element in block.get("elements", [])]
    canvas.y += draw_text(canvas, canvas.left, canvas.width, "   ".join(texts), size=13, color=GREY)


def _divider(canvas: Canvas, _block: dict) -> None:
    canvas.add(
        f'<line x1="{canvas.left:.1f}" y1="{canvas.y + 6:.1f}" x2="{canvas.right:.1f}" y2="{canvas.y + 6:.1f}"'
        f' stroke="{LINE}"/>'
    )
    canvas.y += 12


def _actions(canvas: Canvas, block: dict) -> None:
    x, y = canvas.left, canvas.y + 4
    for element in block.get("elements", []):
        width = _element_width(element)
        if x > canvas.left and x + width > canvas.right:
            x, y = canvas.left, y + 40
        x += _element(canvas, x, y, element) + 8
    canvas.y = y + 36


def _input(canvas: Canvas, block: dict) -> None:
    label = _plain(block.get("label"))
    canvas.y += 2
    canvas.add(
        f'<text x="{canvas.left:.1f}" y="{canvas.y + 15:.1f}" font-family={quoteattr(SANS)} font-size="15"'
        f' fill="{TEXT}" xml:space="preserve"><tspan font-weight="bold">{xml_escape(label)}</tspan>'
        + (f'<tspan fill="{GREY}">{xml_escape("  (optional)")}</tspan>' if block.get("optional") else "")
        + "</text>"
    )
    canvas.y += 26
    element = block.get("element") or {}
    kind = element.get("type", "")
    if kind in ("checkboxes", "radio_buttons"):
        initial = [
            *element.get("initial_options", []),
            *([element["initial_option"]] if "initial_option" in element else []),
        ]
        chosen = {option.get("value") for option in initial}
        for option in element.get("options", []):
            marks = ("☐", "☑") if kind == "checkboxes" else ("○", "◉")
            mark = marks[option.get("value") in chosen]
            canvas.text(canvas.left, canvas.y + 16, f"{mark}  {_plain(option)}", size=15)
            canvas.y += 24
    elif kind.endswith("select") or kind in ("datepicker", "timepicker"):
        _select(canvas, canvas.left, canvas.y, element, canvas.width)
        canvas.y += 36
    else:  # plain_text_input, number_input, email/url inputs
        height = 80 if element.get("multiline") else 38
        canvas.rect(canvas.left, canvas.y, canvas.width, height, fill="#ffffff", stroke=BORDER)
        value = element.get("initial_value")
        shown = str(value) if value not in (None, "") else _plain(element.get("placeholder"))
        canvas.text(canvas.left + 12, canvas.y + 24, shown, size=15, color=TEXT if value not in (None, "") else GREY)
        canvas.y += height + 2
    if block.get("hint"):
        canvas.y += 2
        canvas.y += draw_text(
            canvas, canvas.left, canvas.width, _plain(block["hint"]), size=13, color=GREY, mrkdwn=False
        )


def _image(canvas: Canvas, block: dict) -> None:
    canvas.rect(canvas.left, canvas.y, canvas.width, 120, fill="#f4f4f4", stroke=LINE)
    canvas.text(canvas.left + 12, canvas.y + 64, f"🖼  {block.get('alt_text', 'image')}", size=13, color=GREY)
    canvas.y += 120


def _rich_text(canvas: Canvas, block: dict) -> None:
    def flat(node: object) -> str:
        if isinstance(node, dict):
            return str(node.get("text", "")) + "".join(flat(child) for child in node.get("elements", []))
        return ""

    canvas.y += draw_text(canvas, canvas.left, canvas.width, flat(block), mrkdwn=False)


BLOCKS = {
    "header": _header,
    "section": _section,
    "context": _context,
    "divider": _divider,
    "actions": _actions,
    "input": _input,
    "image": _image,
    "rich_text": _rich_text,
}


def _blocks(canvas: Canvas, blocks: list[dict]) -> None:
    for index, block in enumerate(blocks):
        if index:
            canvas.y += GAP
        draw = BLOCKS.get(block.get("type", ""))
        if draw is None:
            canvas.y += draw_text(canvas, canvas.left, canvas.width, f"[{block.get('type')} block]", color=GREY)
        else:
            draw(canvas, block)


# -- cards -------------------------------------------------------------------------------------------------------


def _kind(surface: dict | list) -> str:
    if isinstance(surface, dict) and surface.get("type") in ("home", "modal"):
        return surface["type"]
    return "message"


def card(surface: dict | list, x: float) -> tuple[list[str], float, float]:
    """One message or view as a white card at x: (its SVG elements, its width, its height)."""
    kind = _kind(surface)
    blocks = surface if isinstance(surface, list) else surface.get("blocks", [])
    width = CARD_WIDTH[kind]
    canvas = Canvas(left=x + PAD, right=x + width - PAD, y=PAD)
    if kind == "modal":
        title = _plain(surface.get("title")) if isinstance(surface, dict) else ""
        canvas.text(canvas.left, canvas.y + 20, title, size=20, weight="bold")
        canvas.text(canvas.right - 14, canvas.y + 20, "✕", size=16, color=GREY)
        canvas.y += 34
        canvas.add(
            f'<line x1="{x:.1f}" y1="{canvas.y + 4:.1f}" x2="{x + width:.1f}" y2="{canvas.y + 4:.1f}" stroke="{LINE}"/>'
        )
        canvas.y += 20
    elif kind == "home":
        tabs = [("Home", True), ("Messages", False), ("About", False)]
        tab_x = canvas.left
        for name, chosen in tabs:
            canvas.text(tab_x, canvas.y + 16, name, size=15, color=TEXT if chosen else GREY, weight="bold")
            if chosen:
                canvas.rect(tab_x, canvas.y + 24, text_width(name, 15, "bold"), 3, fill=PRIMARY, r=1)
            tab_x += text_width(name, 15, "bold") + 28
        canvas.y += 28
        canvas.add(f'<line x1="{x:.1f}" y1="{canvas.y:.1f}" x2="{x + width:.1f}" y2="{canvas.y:.1f}" stroke="{LINE}"/>')
        canvas.y += 18
    elif isinstance(surface, dict) and not blocks and surface.get("text"):
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": surface["text"]}}]
    _blocks(canvas, blocks)
    canvas.y += PAD
    if kind == "modal" and isinstance(surface, dict):
        canvas.add(f'<line x1="{x:.1f}" y1="{canvas.y:.1f}" x2="{x + width:.1f}" y2="{canvas.y:.1f}" stroke="{LINE}"/>')
        canvas.y += 14
        right = canvas.right
        for element in (
            [{"type": "button", "text": surface["submit"], "style": "primary"}] if surface.get("submit") else []
        ):
            right -= _element_width(element)
            _button(canvas, right, canvas.y, element)
            right -= 10
        close = surface.get("close") or {"type": "plain_text", "text": "Cancel"}
        element = {"type": "button", "text": close}
        _button(canvas, right - _element_width(element), canvas.y, element)
        canvas.y += 32 + PAD
    frame = f'<rect x="{x + 0.5:.1f}" y="0.5" width="{width - 1}" height="{canvas.y:.1f}" rx="8" fill="#ffffff" stroke="{LINE}"/>'
    return [frame, *canvas.parts], width, canvas.y + 1


def _is_surface(item: object) -> bool:
    return isinstance(item, dict) and ("blocks" in item or item.get("type") in ("home", "modal"))


def render(document: dict | list) -> str:
    """The SVG for a message, a view, a list of blocks, or a list of messages and views side by side."""
    several = isinstance(document, list) and document and all(_is_surface(item) for item in document)
    surfaces = document if several else [document]
    parts: list[str] = []
    x = 0.0
    height = 0.0
    for surface in surfaces:
        drawn, width, drawn_height = card(surface, x)
        parts += drawn
        x += width + CARD_GAP
        height = max(height, drawn_height)
    width = x - CARD_GAP
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}">\n' + "\n".join(parts) + "\n</svg>\n"
    )


# -- workflow steps from the manifest ----------------------------------------------------------------------------

_TYPE_NAMES = {"string": "text", "integer": "number", "slack#/types/user_id": "a person"}


def step_form(callback_id: str, declared: dict) -> dict:
    """A manifest function as Workflow Builder's form for the step: its inputs, then what it hands the next steps."""
    blocks: list[dict] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*Shipmate* · custom step `{callback_id}`"}]},
        {"type": "section", "text": {"type": "plain_text", "text": declared.get("description", "")}},
    ]
    for name, parameter in declared.get("input_parameters", {}).items():
        is_user = parameter["type"] == "slack#/types/user_id"
        hint = parameter.get("hint") or ("a whole number" if parameter["type"] == "integer" else "")
        element = (
            {"type": "users_select", "placeholder": {"type": "plain_text", "text": hint}}
            if is_user
            else {"type": "plain_text_input", "placeholder": {"type": "plain_text", "text": hint}}
        )
        blocks.append(
            {
                "type": "input",
                "label": {"type": "plain_text", "text": parameter.get("title", name)},
                "element": element,
                "optional": not parameter.get("is_required", False),
                "hint": {"type": "plain_text", "text": parameter.get("description", "")},
            }
        )
    outputs = [
        {
            "type": "mrkdwn",
            "text": f"*{parameter.get('title', name)}* ({_TYPE_NAMES.get(parameter['type'], parameter['type'])})\n"
            f"{parameter.get('description', '')}",
        }
        for name, parameter in declared.get("output_parameters", {}).items()
    ]
    blocks += [{"type": "divider"}, {"type": "header", "text": {"type": "plain_text", "text": "Outputs"}}]
    blocks.append({"type": "section", "fields": outputs})
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": declared.get("title", callback_id)},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": blocks,
    }


def steps_document(manifest: Path) -> list[dict]:
    import yaml  # only for --steps

    functions = yaml.safe_load(manifest.read_text()).get("functions") or {}
    return [step_form(callback_id, declared) for callback_id, declared in functions.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render Block Kit JSON as a Slack-like SVG.")
    parser.add_argument("source", type=Path, help="a JSON file (message, view, blocks, or a list of them)")
    parser.add_argument("target", type=Path, help="the SVG file to write")
    parser.add_argument("--steps", action="store_true", help="source is manifest.yml: draw its workflow steps")
    arguments = parser.parse_args(argv)
    try:
        document = steps_document(arguments.source) if arguments.steps else json.loads(arguments.source.read_text())
    except (OSError, ValueError) as error:
        print(f"blockkit_svg: cannot read {arguments.source}: {error}", file=sys.stderr)
        return 1
    arguments.target.write_text(render(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
