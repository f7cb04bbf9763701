"""Start-up errors of `shipmate serve` and `shipmate socket`: one line on stderr naming the problem, exit code 2,
no traceback — run as real processes against the Slack stand-in. None of these reaches a Docker engine."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store.schema import VERSION
from tests.bot_process import BotProcess, bot_environment, free_port
from tests.slack_standin import SlackStandin

NO_ENGINE = "unix:///nonexistent/docker.sock"  # start-up never calls Docker; a bot that did would fail here
PREFIX = "shipmate: configuration error: "


def start(
    mode: str, slack: SlackStandin, signing_secret: str, workdir: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = bot_environment(slack, signing_secret, NO_ENGINE, env)
    for name in [name for name, value in env.items() if value == ""]:
        del environment[name]  # "" means: not set at all
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "bot", mode, *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(finished: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed start-up, without its prefix."""
    assert finished.returncode == 2, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(PREFIX), finished.stderr
    assert "Traceback" not in finished.stderr and finished.stdout == ""
    return lines[0].removeprefix(PREFIX)


SERVE = ("serve", "--host", "127.0.0.1", "--port", "0")


@pytest.mark.parametrize("argv", [SERVE, ("socket",)], ids=["serve", "socket"])
def test_a_broken_policy_is_one_line(argv, slack: SlackStandin, signing_secret: str, tmp_path: Path) -> None:
    (tmp_path / "policy.yml").write_text("roles:\n  viewer: [image.ls\n")
    line = one_line(start(argv[0], slack, signing_secret, tmp_path, *argv[1:]))
    assert line.startswith(f"{tmp_path / 'policy.yml'}, line ") and "not valid YAML" in line


@pytest.mark.parametrize("argv", [SERVE, ("socket",)], ids=["serve", "socket"])
def test_a_broken_engines_file_is_one_line(argv, slack: SlackStandin, signing_secret: str, tmp_path: Path) -> None:
    engines = tmp_path / "engines.yml"
    engines.write_text("engines:\n  a: {host: 'unix:///a', port: 1}\n")
    line = one_line(start(argv[0], slack, signing_secret, tmp_path, *argv[1:], SHIPMATE_ENGINES=str(engines)))
    assert line == f"{engines}, line 2: unknown key `a.port`: use host, tls, timeout"


@pytest.mark.parametrize("argv", [SERVE, ("socket",)], ids=["serve", "socket"])
def test_a_missing_or_rejected_token_is_one_line(
    argv, slack: SlackStandin, signing_secret: str, tmp_path: Path
) -> None:
    missing = one_line(start(argv[0], slack, signing_secret, tmp_path, *argv[1:], SLACK_BOT_TOKEN=""))
    assert missing == "SLACK_BOT_TOKEN is not set: see .env.example for where it comes from"
    rejected = one_line(start(argv[0], slack, signing_secret, tmp_path, *argv[1:], SLACK_BOT_TOKEN="xoxb-revoked"))
    assert rejected == "SLACK_BOT_TOKEN was rejected by Slack (invalid_auth): copy it again from the app's settings"


def test_a_rejected_app_token_is_one_line(slack: SlackStandin, signing_secret: str, tmp_path: Path) -> None:
    line = one_line(start("socket", slack, signing_secret, tmp_path, SLACK_APP_TOKEN="xapp-1-revoked"))
    assert line == "SLACK_APP_TOKEN was rejected by Slack (invalid_auth): copy it again from the app's settings"


@pytest.mark.parametrize("argv", [SERVE, ("socket",)], ids=["serve", "socket"])
def test_an_unreachable_slack_is_one_line(argv, slack: SlackStandin, signing_secret: str, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/"
    line = one_line(start(argv[0], slack, signing_secret, tmp_path, *argv[1:], SLACK_API_URL=nowhere))
    assert line == f"cannot reach Slack at {nowhere} ([Errno 111] Connection refused)"


def test_a_port_in_use_is_one_line(slack: SlackStandin, signing_secret: str, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = one_line(start("serve", slack, signing_secret, tmp_path, "--host", "127.0.0.1", "--port", str(port)))
    assert line == f"port {port} on 127.0.0.1 is already in use: stop what uses it or pick another --port"
    wrong = one_line(start("serve", slack, signing_secret, tmp_path, "--port", "70000"))
    assert wrong == "--port 70000 is not a port number: use 1–65535, or 0 for any free port"


def test_port_0_binds_a_free_port_and_says_which(slack: SlackStandin, signing_secret: str, tmp_path: Path) -> None:
    env = bot_environment(slack, signing_secret, NO_ENGINE, {})
    bot = BotProcess(
        [sys.executable, "-m", "bot", *SERVE], env, tmp_path, ready=lambda: "listening on" in bot.log_text()
    )
    bot.start().wait_ready()
    try:
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", bot.log_text())
        assert found is not None and int(found.group(1)) > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{found.group(1)}/healthz", timeout=10) as answer:
            assert answer.status == 200
    finally:
        assert bot.stop() == 0


@pytest.mark.parametrize("argv", [SERVE, ("socket",)], ids=["serve", "socket"])
def test_a_database_that_cannot_be_used_is_one_line(
    argv, slack: SlackStandin, signing_secret: str, tmp_path: Path
) -> None:
    nowhere = f"postgresql://shipmate:hunter2@127.0.0.1:{free_port()}/shipmate"
    finished = start(argv[0], slack, signing_secret, tmp_path, *argv[1:], SHIPMATE_DATABASE_URL=nowhere)
    line = one_line(finished)
    assert line.startswith("cannot use the database at postgresql://shipmate:••••@127.0.0.1:") and "refused" in line
    assert "hunter2" not in finished.stderr
    in_query = f"postgresql://shipmate@127.0.0.1:{free_port()}/shipmate?sslmode=disable&password=hunter2"
    finished = start(argv[0], slack, signing_secret, tmp_path, *argv[1:], SHIPMATE_DATABASE_URL=in_query)
    assert "/shipmate?sslmode=disable&password=•••• " in one_line(finished) and "hunter2" not in finished.stderr

    newer = tmp_path / "newer.db"
    open_store(f"sqlite:///{newer}").close()
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE shipmate_schema SET version = version + 1")
    line = one_line(
        start(argv[0], slack, signing_secret, tmp_path, *argv[1:], SHIPMATE_DATABASE_URL=f"sqlite:///{newer}")
    )
    assert f"has schema version {VERSION + 1}, newer than this Shipmate knows ({VERSION})" in line


def test_a_worker_that_fails_after_the_checks_is_one_line_too(
    slack: SlackStandin, signing_secret: str, tmp_path: Path
) -> None:
    # The start-up check's auth.test passes; the worker's own one (Bolt's, after gunicorn forks) is refused.
    # Its log lines up to then are there as in any start, but gunicorn adds nothing: no traceback, no lines of its own.
    slack.delay("auth.test", 0.0)
    slack.fail("auth.test", error="token_revoked")
    finished = start("serve", slack, signing_secret, tmp_path, *SERVE[1:])
    assert finished.returncode == 2, finished.stderr
    errors = [line for line in finished.stderr.splitlines() if line.startswith(PREFIX)]
    assert errors == [f"{PREFIX}could not verify SLACK_BOT_TOKEN with Slack (BoltError)"]
    assert "Traceback" not in finished.stderr and "[ERROR]" not in finished.stderr, finished.stderr
    assert len(slack.calls("auth.test")) == 2
