"""Socket Mode under Slack's connection management: a `disconnect` message or a closed socket gets a new
connection within 2 s, the close frame is answered at once, and the bot stops promptly — against the stand-in."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.slack_standin import SlackStandin, envelope
from tests.slack_user import bot_settings

RECONNECT_LIMIT = 2.0


def _answers_on_the_new_socket(slack: SlackStandin) -> None:
    sent = envelope(
        "slash_commands",
        {"team_id": "T0TEST", "channel_id": "C0OPS", "user_id": "U0ALICE", "command": "/docker", "text": "help"},
    )
    slack.send_envelope(sent)
    assert slack.wait_for_ack(sent["envelope_id"], timeout=5).payload["blocks"]


def _reconnected_within(slack: SlackStandin, before: int) -> float:
    started = time.monotonic()
    slack.wait_for(lambda: slack.connection_count > before and slack.open_connections == 1, timeout=15)
    return time.monotonic() - started


def test_disconnect_and_close_get_a_new_socket_at_once(
    bot_server: Callable[..., BotProcess], engine: PrivateEngine, slack: SlackStandin, tmp_path: Path
) -> None:
    bot = bot_server("socket", **bot_settings(tmp_path / "settings"))
    slack.wait_for(lambda: slack.open_connections == 1, timeout=10)
    time.sleep(0.5)
    assert slack.connection_count == 1  # one connection at start-up, not one opened and dropped for another
    assert len(slack.calls("apps.connections.open")) == 2  # the start-up check's, and the connection's
    for _ in range(4):  # the slow path was a race: try it more than once
        before = slack.connection_count
        slack.send_disconnect()
        assert _reconnected_within(slack, before) < RECONNECT_LIMIT, bot.log_text()
        _answers_on_the_new_socket(slack)
    for _ in range(3):
        before = slack.connection_count
        answered = slack.close_connections()
        assert len(answered) == 1 and answered[0] < 1.0  # the bot's close frame came back at once
        assert _reconnected_within(slack, before) < RECONNECT_LIMIT
        _answers_on_the_new_socket(slack)
    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 5
