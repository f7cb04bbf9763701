"""What every request from Slack carries. A signed request without it is not one Slack sent: refused, nothing run.

Without these checks a slash command with no user_id would run as user "", and a click whose `actions`
are not a list would crash inside Bolt as a 500.
"""

import json
from typing import Any
from urllib.parse import parse_qs

FORM = "application/x-www-form-urlencoded"
SLASH_FIELDS = ("command", "user_id", "team_id", "channel_id", "response_url")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _interaction_problem(raw: str) -> str | None:
    try:
        payload = json.loads(raw)
    except ValueError:
        return "payload is not JSON"
    if not isinstance(payload, dict) or not _text(payload.get("type")):
        return "payload is not an interaction"
    user = payload.get("user")
    if not isinstance(user, dict) or not _text(user.get("id")):
        return "interaction without a user"
    if payload["type"] == "block_actions":
        actions = payload.get("actions")
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "block_actions without actions"
        # A click in a message can always be answered there; one in a view (the Home tab, a modal) has no message.
        container = payload.get("container")
        in_view = isinstance(payload.get("view"), dict) or (
            isinstance(container, dict) and container.get("type") == "view"
        )
        if not in_view and not _text(payload.get("response_url")):
            return "block_actions without response_url"
    return None


def malformed(body: bytes, content_type: str) -> str | None:
    """Why a (verified) request body is not something Slack sends, or None when it is."""
    if not content_type.startswith(FORM):
        return None  # JSON (Events API): Bolt parses it and refuses what it does not handle
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        return "body is not a UTF-8 form"
    if "payload" in fields:
        return _interaction_problem(fields["payload"][0])
    missing = [name for name in SLASH_FIELDS if not _text(fields.get(name, [""])[0])]
    if "text" not in fields:
        missing.append("text")
    if missing:
        return f"slash command without {', '.join(missing)}"
    return None
