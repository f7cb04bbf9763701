"""/healthz, /readyz and /metrics over HTTP, from `shipmate serve` and from `shipmate socket --metrics-port`,
with commands sent the way Slack sends them (signed HTTP, Socket Mode envelopes) to the real bot process."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bot_process import BotProcess, free_port
from tests.private_engine import PrivateEngine
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin, envelope
from tests.slack_user import SlackUser, bot_settings, text_of, wait_until


def get(url: str) -> tuple[int, str, str]:
    """(status, content type, body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when it is not there yet)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in metrics.splitlines():
        found = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if found and found.group(1) == name:
            have = ",".join(sorted((found.group(2) or "").split(","))) if found.group(2) else ""
            if have == wanted:
                return float(found.group(3))
    return 0.0


@pytest.fixture
def settings(tmp_path: Path) -> dict[str, str]:
    return bot_settings(tmp_path / "settings")


def test_serve_answers_health_readiness_and_metrics_that_move_with_commands(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    settings: dict[str, str],
) -> None:
    bot = bot_server(**settings)
    assert get(f"{bot.url}/healthz")[::2] == (200, "ok")
    status, content_type, body = get(f"{bot.url}/readyz")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {"ready": True, "down": [], "engines": {"default": "ok"}, "database": "ok"}

    before = get(f"{bot.url}/metrics")[2]
    user = SlackUser(SignedClient(bot.url, signing_secret), slack, "U0ALICE")
    for _ in range(3):
        assert user.answer("/ps", "-a")["blocks"]
    assert "no such container: `ghost`" in text_of(user.answer("/logs", "ghost"))

    def moved() -> str | None:
        now = get(f"{bot.url}/metrics")[2]
        done = sample(now, "shipmate_commands_total", action="container.ls", decision="allowed", outcome="ok")
        return now if done - sample(before, "shipmate_commands_total", **LS_OK) == 3 else None

    after = wait_until(moved, 10, "three /ps counted")
    assert sample(after, "shipmate_commands_total", action="container.logs", decision="allowed", outcome="failed") == 1
    assert sample(after, "shipmate_engine_errors_total", kind="not_found") >= 1
    assert (
        sample(after, "shipmate_ack_seconds_count", kind="command")
        - sample(before, "shipmate_ack_seconds_count", kind="command")
        == 4
    )
    assert sample(after, "shipmate_execution_seconds_count", action="container.ls") >= 3
    assert "shipmate_build_info{" in after and "shipmate_in_flight 0.0" in after
    assert "U0ALICE" not in after and "ghost" not in after  # no user text in the metrics


LS_OK = {"action": "container.ls", "decision": "allowed", "outcome": "ok"}


def test_readyz_names_an_engine_that_is_down(
    bot_server: Callable[..., BotProcess], settings: dict[str, str], tmp_path: Path
) -> None:
    nowhere = f"unix://{tmp_path}/no-dockerd.sock"
    metrics_port = free_port()
    bot = bot_server(
        **settings, DOCKER_HOST=nowhere, args=("--metrics-port", str(metrics_port), "--metrics-host", "127.0.0.1")
    )
    assert get(f"{bot.url}/healthz")[0] == 200  # the process serves
    status, _, body = get(f"{bot.url}/readyz")
    assert status == 503
    down = {"ready": False, "down": ["engine default"], "database": "ok"}
    assert json.loads(body) == down | {"engines": {"default": "down"}}  # the public port names no host
    status, _, body = get(f"http://127.0.0.1:{metrics_port}/readyz")  # the metrics port says why
    assert status == 503
    assert json.loads(body) == down | {
        "engines": {"default": f"Docker engine unreachable at {nowhere}: is dockerd running?"}
    }
    metrics = get(f"http://127.0.0.1:{metrics_port}/metrics")[2]
    assert sample(metrics, "shipmate_engine_errors_total", kind="unreachable") >= 1


def test_socket_mode_serves_them_on_its_metrics_port(
    bot_server: Callable[..., BotProcess], clean_engine: PrivateEngine, slack: SlackStandin, settings: dict[str, str]
) -> None:
    port = free_port()
    bot_server("socket", args=("--metrics-port", str(port), "--metrics-host", "127.0.0.1"), **settings)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: get(f"{url}/healthz")[0] == 200, 10, "the metrics port")
    assert get(f"{url}/readyz")[0] == 200
    sent = envelope(
        "slash_commands",
        {
            "team_id": "T0TEST",
            "channel_id": "C0OPS",
            "user_id": "U0ALICE",
            "user_name": "alice",
            "command": "/img",
            "text": "ls",
            "response_url": slack.response_url("socket"),
        },
    )
    slack.send_envelope(sent)
    assert slack.wait_for_ack(sent["envelope_id"]).payload["blocks"]
    counted = wait_until(
        lambda: sample(
            get(f"{url}/metrics")[2], "shipmate_commands_total", action="image.ls", decision="allowed", outcome="ok"
        ),
        10,
        "the /img ls counted",
    )
    assert counted == 1
    assert sample(get(f"{url}/metrics")[2], "shipmate_ack_seconds_count", kind="command") == 1
    assert get(f"{url}/nothing")[0] == 404
