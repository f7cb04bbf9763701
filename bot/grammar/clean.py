"""Undo what Slack does to typed text before it reaches the grammar."""

import re

# Slack's clients "smarten" quotes as people type; shlex needs the ASCII ones.
_SMART_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        # Smart punctuation turns a typed "--" into a dash (en or em, by platform); a single "-" is never changed.
        "\u2013": "--",
        "\u2014": "--",
        "\u00a0": " ",
    }
)

# <http://x.com|x.com>, <mailto:a@b|a@b>, <#C123|general> -> the visible text (or the raw target);
# a person, <@U123> or <@U123|bob>, -> @U123: their id is what names them to Shipmate (`audit --user @bob`).
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def _link_text(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):
        return target
    if label is not None:
        return label
    if target.startswith("mailto:"):
        return target.removeprefix("mailto:")
    return target


def clean_slack_text(text: str) -> str:
    """Return the text the person typed: ASCII quotes, links unwrapped, entities decoded."""
    text = text.translate(_SMART_QUOTES)
    text = _SLACK_LINK.sub(_link_text, text)
    # Slack escapes only &, < and > — decode those after unwrapping links so a literal "&lt;" stays text.
    if "&" not in text:
        return text
    import html  # with its entity table, a few ms of every start-up: imported only when there is one to decode

    return html.unescape(text)
