"""A Slack user talking to the running bot, for the robustness tests: send a command, get its one answer.

Where an answer shows up follows the bot's delivery rules (bot/slack/listeners.py, delivery.py): a command
done within the ack budget is answered in the ack body itself; anything slower acks with a "⏳" line and is
answered later by one response_url post — or, when progress was shown (a pull), by the chat.update that turns
the bot's live progress message into the result. Clicks are acked empty and answered through response_url.

    user = SlackUser(client, slack, "U0ALICE")
    answer = user.answer("/ps", "-a")              # the final message, wherever it came
    done = user.confirmed("/rm", "-f web1")        # clicks Confirm when the bot asks for it
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tests.signed_client import Reply, SignedClient, block_actions, find_button
from tests.slack_standin import SlackStandin

ACK_LIMIT = 3.0  # Slack's own deadline for an acknowledgement
CONFIRM_ACTION = "shipmate.confirm"
# Everyone is an admin: these tests are about robustness, not permissions (tests/test_policy.py covers those).
EVERYONE_ADMIN_POLICY = 'members:\n  "*": admin\n'

_names = itertools.count(1)
T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str = "the condition") -> T:
    """Poll predicate() until it is truthy (for things the stand-in cannot signal: logs, engine state)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout}s")
        time.sleep(0.05)
    return value


def bot_settings(directory: Path) -> dict[str, str]:
    """Environment for a bot that lets everyone do everything, with its audit database in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    policy = directory / "policy.yml"
    policy.write_text(EVERYONE_ADMIN_POLICY)
    return {
        "SHIPMATE_POLICY": str(policy),
        "SHIPMATE_AUDIT_DB": str(directory / "audit.db"),
    }


def is_pending(message: dict[str, Any]) -> bool:
    """A "⏳ …" line: an ack that promises an answer later, or a progress report; never an answer."""
    blocks = message.get("blocks") or [{}]
    first = str((blocks[0].get("text") or {}).get("text", "")) if isinstance(blocks[0], dict) else ""
    return str(message.get("text", "")).startswith("⏳") or first.startswith("⏳")


def text_of(message: dict[str, Any]) -> str:
    """Everything a person would read in a message: the fallback text and every block, as one string."""
    return "\n".join([str(message.get("text", "")), *(str(block) for block in message.get("blocks", []))])


def _ok(reply: Any) -> bool:
    return isinstance(reply, dict) and reply.get("ok") is True


def audit_records(path: Path) -> list[dict[str, Any]]:
    """Every record in the bot's audit database, oldest first ([] before the bot has created it)."""
    if not path.exists():
        return []
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute("SELECT * FROM audit ORDER BY id")]
    finally:
        connection.close()


@dataclass(frozen=True)
class Sent:
    """A slash command as sent: its ack, the response_url name and the channel its later answer goes to."""

    reply: Reply
    name: str
    channel_id: str

    @property
    def ack_body(self) -> dict[str, Any]:
        return self.reply.body if isinstance(self.reply.body, dict) else {}

    @property
    def answered_in_ack(self) -> bool:
        return bool(self.ack_body.get("blocks")) and not is_pending(self.ack_body)


class SlackUser:
    def __init__(self, client: SignedClient, slack: SlackStandin, user_id: str = "U0ALICE", channel_id: str = "C0OPS"):
        self.client = client
        self.slack = slack
        self.user_id = user_id
        self.channel_id = channel_id

    def send(self, command: str, text: str = "", *, channel_id: str | None = None, name: str | None = None) -> Sent:
        """Send a slash command; its ack must come within Slack's 3 s with HTTP 200.

        `name` names its response_url (for faults set up in advance); by default a fresh one.
        """
        name = name or self.next_name()
        channel_id = channel_id or self.channel_id
        reply = self.client.slash(
            command,
            text,
            response_url=self.slack.response_url(name),
            user_id=self.user_id,
            user_name=self.user_id.lower(),
            channel_id=channel_id,
        )
        assert reply.status == 200, f"{command} {text}: HTTP {reply.status} {reply.text[:300]}"
        assert reply.elapsed < ACK_LIMIT, f"{command} {text}: acked after {reply.elapsed:.2f}s"
        return Sent(reply, name, channel_id)

    def next_name(self) -> str:
        return f"{self.user_id.lower()}-{next(_names)}"

    def final(self, sent: Sent, timeout: float = 60) -> dict[str, Any]:
        """The answer to a sent command: the ack itself, the first non-progress post to its response_url, or
        the chat.update that turned a live progress message in its channel into the result (give a command
        that shows progress a channel of its own, so that this update is surely its own)."""
        if sent.answered_in_ack:
            return sent.ack_body
        return self.slack.wait_for(lambda: self.later_answers(sent)[:1] and self.later_answers(sent)[0], timeout)

    def later_answers(self, sent: Sent) -> list[dict[str, Any]]:
        """Every answer that came after the ack (normally none or one): response_url posts and final updates."""
        posts = [body for body in self.slack.responses(sent.name) if not is_pending(body)]
        updates = [
            call.body
            for call in self.slack.calls("chat.update")
            if call.body.get("channel") == sent.channel_id and _ok(call.reply) and not is_pending(call.body)
        ]
        return posts + updates

    def answer(self, command: str, text: str = "", timeout: float = 60) -> dict[str, Any]:
        return self.final(self.send(command, text), timeout)

    def clicked(self, message: dict[str, Any], action_id: str, *, channel_id: str | None = None) -> Sent:
        """Click a button of a message the bot sent (an ephemeral one: Slack sends the click without it); the
        click's ack must come within 3 s, and is empty: the answer follows through its response_url."""
        button, block_id = find_button(message["blocks"], action_id)
        name = f"{self.user_id.lower()}-click-{next(_names)}"
        channel_id = channel_id or self.channel_id
        payload = block_actions(
            button,
            block_id,
            response_url=self.slack.response_url(name),
            user_id=self.user_id,
            user_name=self.user_id.lower(),
            channel_id=channel_id,
        )
        reply = self.client.action(payload)
        assert reply.status == 200, f"click {action_id}: HTTP {reply.status} {reply.text[:300]}"
        assert reply.elapsed < ACK_LIMIT, f"click {action_id}: acked after {reply.elapsed:.2f}s"
        return Sent(reply, name, channel_id)

    def click(self, message: dict[str, Any], action_id: str, timeout: float = 60) -> dict[str, Any]:
        return self.final(self.clicked(message, action_id), timeout)

    def confirmed(self, command: str, text: str = "", timeout: float = 60) -> dict[str, Any]:
        """The answer, after clicking Confirm if the bot asks for a confirmation first."""
        answer = self.answer(command, text, timeout)
        return self.click(answer, CONFIRM_ACTION, timeout) if asks_to_confirm(answer) else answer


def asks_to_confirm(message: dict[str, Any]) -> bool:
    return any(
        element.get("action_id") == CONFIRM_ACTION
        for block in message.get("blocks", [])
        for element in block.get("elements", [])
    )
