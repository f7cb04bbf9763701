"""Requests to the bot's HTTP endpoint built and signed the way Slack sends them.

Slash commands are form-encoded fields; interactions are one form field, `payload`, holding JSON. Each request
is signed with the app's signing secret (`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`), and can be forged,
sent with a stale timestamp, or replayed byte for byte. Standard library only, so timings are clean.

    client = SignedClient(bot.url, signing_secret)
    reply = client.slash("/ps", "-a", response_url=slack.response_url("ps"))
    assert reply.status == 200 and reply.elapsed < 3
    client.send(reply.request)  # the same bytes again: a replay
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.slack_standin import APP_ID, TEAM_DOMAIN, TEAM_ID

EVENTS_PATH = "/slack/events"
STALE_SECONDS = 10 * 60  # Slack's libraries reject requests older than 5 minutes
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated field Slack still sends


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _trigger_id() -> str:
    return f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**13)}.{secrets.token_hex(16)}"


def _action_ts() -> str:
    return f"{time.time():.6f}"


def slash_command(
    command: str,
    text: str = "",
    *,
    response_url: str,
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    channel_id: str = "C0OPS",
    channel_name: str = "ops",
) -> dict[str, str]:
    """The fields of a slash command, in Slack's order; also the payload of a `slash_commands` envelope."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": _trigger_id(),
    }


def block_actions(
    action: Mapping[str, Any],
    block_id: str,
    *,
    response_url: str,
    message: Mapping[str, Any] | None = None,
    user_id: str = "U0ALICE",
    user_name: str = "alice",
    channel_id: str = "C0OPS",
    channel_name: str = "ops",
) -> dict[str, Any]:
    """A `block_actions` payload for a click on the button element `action`.

    With `message` (a message as the bot posted it, with `ts`) the click is on that message; without it, on an
    ephemeral reply, which Slack sends without the message.
    """
    container: dict[str, Any] = {"type": "message", "channel_id": channel_id}
    if message is not None:
        container |= {"message_ts": message["ts"], "is_ephemeral": False}
    else:
        container |= {"message_ts": _action_ts(), "is_ephemeral": True}
    clicked = {
        "action_id": action["action_id"],
        "block_id": block_id,
        "text": action.get("text", {"type": "plain_text", "text": action["action_id"]}),
        "type": "button",
        "action_ts": _action_ts(),
    }
    clicked |= {k: action[k] for k in ("value", "style") if k in action}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": _trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [clicked],
    }
    if message is not None:
        payload["message"] = dict(message)
    return payload


def find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[dict[str, Any], str]:
    """The button with action_id in a message's blocks, and its block's block_id."""
    for block in blocks:
        elements = block.get("elements", []) + ([block["accessory"]] if "accessory" in block else [])
        for element in elements:
            if element.get("type") == "button" and element.get("action_id") == action_id:
                return element, block.get("block_id", "")
    raise LookupError(f"no button {action_id!r} in blocks: {json.dumps(blocks)[:400]}")


@dataclass(frozen=True)
class SignedRequest:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    text: str
    body: Any  # parsed JSON when the reply is JSON, else the text
    elapsed: float  # seconds from connecting to the last byte of the reply
    request: SignedRequest


class SignedClient:
    def __init__(self, base_url: str, signing_secret: str, path: str = EVENTS_PATH, timeout: float = 10.0) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname != "127.0.0.1":
            raise ValueError(f"only http://127.0.0.1 is dialled in tests, not {base_url!r}")
        self._port = url.port or 80
        self._secret = signing_secret
        self._path = path
        self._timeout = timeout

    def prepare(self, fields: Mapping[str, str], *, forge: bool = False, stale: bool = False) -> SignedRequest:
        """Form-encode and sign; `forge` signs with a wrong secret, `stale` with a 10-minute-old timestamp."""
        body = urlencode(fields).encode()
        timestamp = str(int(time.time()) - (STALE_SECONDS if stale else 0))
        secret = "not-" + self._secret if forge else self._secret
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": USER_AGENT,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(secret, timestamp, body),
        }
        return SignedRequest(self._path, body, headers)

    def slash(self, command: str, text: str = "", *, forge: bool = False, stale: bool = False, **fields: str) -> Reply:
        """Send a slash command; `fields` go to slash_command() (response_url is required)."""
        return self.send(self.prepare(slash_command(command, text, **fields), forge=forge, stale=stale))

    def action(self, payload: Mapping[str, Any], *, forge: bool = False, stale: bool = False) -> Reply:
        """Send an interaction payload (e.g. from block_actions()) as Slack does: payload=<json>."""
        return self.send(self.prepare({"payload": json.dumps(payload)}, forge=forge, stale=stale))

    def send(self, request: SignedRequest) -> Reply:
        """POST a prepared request; sending one again is an exact replay."""
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=self._timeout)
        try:
            connection.request("POST", request.path, body=request.body, headers=request.headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        elapsed = time.perf_counter() - started
        text = data.decode("utf-8", errors="replace")
        headers = dict(response.getheaders())
        is_json = response.getheader("Content-Type", "").startswith("application/json") and text
        return Reply(response.status, headers, text, json.loads(text) if is_json else text, elapsed, request)
