"""Slack's payloads for forms and shortcuts, as Slack sends them (`view_submission` with the view's state,
`block_suggestion`, a global `shortcut`, a `message_action`), and the check every modal must pass: slack_sdk's View
model, unchanged, and Slack's modal limits (written out here, not imported from the renderer)."""

import secrets
import time
from typing import Any

from slack_sdk.models.views import View

from bot.render import forms
from tests.blockkit import block_problems
from tests.signed_client import APP_ID, TEAM_DOMAIN, TEAM_ID, VERIFICATION_TOKEN

# -- the views, against slack_sdk's View model and Slack's modal limits ----------------------------------------

MAX_MODAL_BLOCKS = 100
MAX_TITLE = 24  # title, submit and close
MAX_METADATA = 3000
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150


def assert_valid_view(view: dict[str, Any]) -> None:
    """Slack's own model accepts it unchanged, each block passes the message checks, and the modal limits hold."""
    model = View(**view)
    model.validate_json()
    assert model.to_dict() == view, "slack_sdk's View drops or changes part of the view"
    assert view["type"] == "modal" and len(view["blocks"]) <= MAX_MODAL_BLOCKS
    for key in ("title", "submit", "close"):
        if key in view:
            assert view[key]["type"] == "plain_text" and 0 < len(view[key]["text"]) <= MAX_TITLE, key
    assert len(view.get("private_metadata", "")) <= MAX_METADATA
    block_ids = [block["block_id"] for block in view["blocks"] if "block_id" in block]
    assert len(block_ids) == len(set(block_ids))
    for block in view["blocks"]:
        assert list(block_problems(block)) == [], block
        if block["type"] != "input":
            continue
        assert 0 < len(block["label"]["text"]) <= MAX_LABEL
        element = block["element"]
        assert len(element.get("placeholder", {}).get("text", "")) <= MAX_PLACEHOLDER
        choices = element.get("options", [])
        assert len(choices) <= MAX_OPTIONS
        for choice in choices:
            assert 0 < len(choice["text"]["text"]) <= MAX_OPTION_TEXT and 0 < len(choice["value"]) <= MAX_OPTION_VALUE


# -- Slack's payloads ---------------------------------------------------------------------------------------------


def _user(user_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def _trigger() -> str:
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(8)}"


def _common(kind: str, user_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_submission(view: dict[str, Any], values: dict[str, Any], user_id: str) -> dict[str, Any]:
    """What Slack sends when the user presses the modal's submit button: the view as opened, with its state."""
    submitted = view | {"state": {"values": values}, "team_id": TEAM_ID, "app_id": APP_ID, "bot_id": "B0BOT"}
    return _common("view_submission", user_id) | {"trigger_id": _trigger(), "view": submitted, "response_urls": []}


def block_suggestion(view: dict[str, Any], values: dict[str, Any], typed: str, user_id: str) -> dict[str, Any]:
    return _common("block_suggestion", user_id) | {
        "container": {"type": "view", "view_id": view["id"]},
        "action_id": forms.IMAGE_SUGGESTIONS,
        "block_id": forms.IMAGE,
        "value": typed,
        "view": view | {"state": {"values": values}},
    }


def global_shortcut(callback_id: str, user_id: str) -> dict[str, Any]:
    return _common("shortcut", user_id) | {
        "callback_id": callback_id,
        "trigger_id": _trigger(),
        "action_ts": f"{time.time():.6f}",
    }


def message_shortcut(
    message: dict[str, Any], channel_id: str, user_id: str, response_url: str, callback_id: str = "shipmate_logs_here"
) -> dict[str, Any]:
    return _common("message_action", user_id) | {
        "callback_id": callback_id,
        "trigger_id": _trigger(),
        "action_ts": f"{time.time():.6f}",
        "message_ts": message["ts"],
        "message": message,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "response_url": response_url,
    }


def selected(value: str, kind: str = "static_select") -> dict[str, Any]:
    return {"type": kind, "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


def typed(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def submitted_run_view(
    engine: str, image: str, *, name: str = "", env: str = "", ports: str = "", detach: bool = True
) -> dict[str, Any]:
    detach_option = {"text": {"type": "plain_text", "text": "-d"}, "value": forms.DETACH}
    values = {
        forms.ENGINE: {forms.ENGINE: selected(engine)},
        forms.IMAGE: {forms.IMAGE_SUGGESTIONS: selected(image, "external_select")},
        forms.NAME: {forms.NAME: typed(name)},
        forms.ENV: {forms.ENV: typed(env)},
        forms.PORTS: {forms.PORTS: typed(ports)},
        forms.DETACH: {forms.DETACH: {"type": "checkboxes", "selected_options": [detach_option] if detach else []}},
    }
    return {"state": {"values": values}}
