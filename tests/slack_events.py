"""Events API requests as Slack sends them: a JSON `event_callback` envelope, signed like every request.

client.send(signed_event(secret, app_home_opened("U0ALICE")))
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from tests.signed_client import EVENTS_PATH, USER_AGENT, VERIFICATION_TOKEN, SignedRequest, signature
from tests.slack_standin import APP_ID, BOT_USER_ID, TEAM_ID


def app_home_opened(user: str, tab: str = "home") -> dict[str, Any]:
    """The event Slack sends when `user` opens the app's Home (or Messages) tab."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user}",
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }


def signed_event(secret: str, event: dict[str, Any]) -> SignedRequest:
    payload = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
    }
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(secret, timestamp, body),
    }
    return SignedRequest(EVENTS_PATH, body, headers)
