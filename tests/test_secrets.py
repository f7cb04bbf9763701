"""Secrets never leave the bot: not in a reply, an upload, the log or the audit — grepped after a busy session.

The bot runs with known credentials (bot token, signing secret, app token, confirmation secret) and is sent
commands that carry secret-looking env values, that show them back (inspect, the command echo under channel
replies), that fail in every way that quotes the input, and that are forged. Then everything that left the bot
is searched: every body the Slack stand-in received, every ack, every upload, the bot's log and every column of
its audit database. Env values under secret-looking names must show as ••••.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.signed_client import SignedClient, slash_command
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, audit_records, bot_settings, text_of, wait_until

CONFIRM_SECRET = "confirm-secret-5f0c2a9e81d64b7f"
PASSWORD, TOKEN, URL_PASSWORD = "hunter2", "abc123", "s3cr3t"
DATABASE_URL = f"postgres://app:{URL_PASSWORD}@db/app"
ENV = f"--env DB_PASSWORD={PASSWORD} --env API_TOKEN={TOKEN} --env DATABASE_URL={DATABASE_URL}"


def _secret_patterns(slack: SlackStandin, signing_secret: str) -> dict[str, re.Pattern[str]]:
    long_ones = {"bot token": slack.bot_token, "signing secret": signing_secret, "app token": slack.app_token}
    patterns = {what: re.compile(re.escape(value)) for what, value in long_ones.items()}
    patterns["confirmation secret"] = re.compile(re.escape(CONFIRM_SECRET))
    patterns["DB_PASSWORD value"] = re.compile(re.escape(PASSWORD))
    patterns["DATABASE_URL password"] = re.compile(re.escape(URL_PASSWORD))
    # abc123 is also hex: only a match that is not part of a longer hex run (an id or digest) counts.
    patterns["API_TOKEN value"] = re.compile(rf"(?<![0-9a-f]){TOKEN}(?![0-9a-f])")
    return patterns


def _leaks(patterns: dict[str, re.Pattern[str]], where: str, text: str) -> list[str]:
    return [
        f"{what} in {where}: …{text[max(0, m.start() - 60) : m.end() + 20]}…"
        for what, p in patterns.items()
        for m in p.finditer(text)
    ]


def test_no_secret_reaches_a_reply_an_upload_the_log_or_the_audit(
    clean_engine: PrivateEngine,
    bot_server: Callable[..., BotProcess],
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    settings = bot_settings(tmp_path / "settings")
    bot = bot_server(**settings, SHIPMATE_CONFIRM_SECRET=CONFIRM_SECRET)
    client = SignedClient(bot.url, signing_secret)
    user = SlackUser(client, slack)
    acks: list[str] = []

    def ask(command: str, text: str) -> dict:
        sent = user.send(command, text)
        acks.append(sent.reply.text)
        return user.final(sent)

    started = ask("/run", f"-d --name secretive {ENV} -p 8099:80 nginx")
    assert "started secretive" in text_of(started) and started["response_type"] == "in_channel"
    echo = text_of(started)
    assert "DB_PASSWORD=••••" in echo and "API_TOKEN=••••" in echo  # the command line under the channel reply
    assert "DATABASE_URL=postgres://app:••••@db/app" in echo

    env = clean_engine.api().inspect_container("secretive")["Config"]["Env"]
    assert f"DB_PASSWORD={PASSWORD}" in env and f"API_TOKEN={TOKEN}" in env  # the container did get them

    inspected = text_of(ask("/docker", "container inspect secretive"))
    assert "DB_PASSWORD=••••" in inspected and "API_TOKEN=••••" in inspected
    assert "DATABASE_URL=postgres://app:••••@db/app" in inspected  # where it points, without its password
    assert "NGINX_VERSION=1.25.0" in inspected  # a harmless value is shown as it is
    assert "NGINX_VERSION" in text_of(ask("/img", "inspect nginx"))
    ask("/ps", "-a")
    ask("/logs", "secretive")
    assert "exited with code 0" in text_of(ask("/run", f"--rm {ENV} busybox echo done"))
    long_output = ask("/run", f"--rm {ENV} busybox seq 1 100")
    assert "full output is attached" in text_of(long_output)

    failures = [
        ("/run", f"-d --name secretive {ENV} nginx"),  # the name is taken
        ("/run", f"{ENV} {clean_engine.registry}/shipmate/missing:1"),  # no such image
        ("/run", f"{ENV} --privileged nginx"),  # refused flag
        ("/run", f"{ENV} -p 99999:1 nginx"),  # bad port
        ("/run", f"-e DB_PASSWORD={PASSWORD}"),  # no image
        ("/ps", f"DB_PASSWORD={PASSWORD}"),  # an argument where none belongs
        ("/rm", f"DB_PASSWORD={PASSWORD}"),  # not a container name
        ("/img", f"pull API_TOKEN={TOKEN}"),  # not an image reference
        ("/logs", f"--env API_TOKEN={TOKEN} secretive"),  # unknown flag
        ("/docker", f"run --env=DB_PASSWORD={PASSWORD} --nope nginx"),
        ("/docker", f"exec -e DB_PASSWORD={PASSWORD} secretive sh"),  # not supported
        ("/docker", "top secretive auxe"),  # ps's `e` would print the environment
    ]
    for command, text in failures:
        answer = ask(command, text)
        assert answer["text"].startswith("❌"), (command, text, answer["text"])

    # A forged request carrying secrets: refused, and its audit record is masked too.
    forged = client.prepare(
        slash_command("/run", f"{ENV} nginx", response_url=slack.response_url("forged")), forge=True
    )
    assert client.send(forged).status == 401
    confirmation = ask("/rm", "-f secretive")
    assert "Confirm" in confirmation["text"]
    assert "removed" in text_of(user.click(confirmation, "shipmate.confirm"))
    ask("/docker", "audit")

    audit_db = Path(settings["SHIPMATE_AUDIT_DB"])
    wait_until(
        lambda: any(r["decision"] == "rejected" for r in audit_records(audit_db)), 10, "the forged request's record"
    )
    assert bot.stop() == 0  # the audit is flushed and the log complete

    patterns = _secret_patterns(slack, signing_secret)
    leaks: list[str] = []
    for call in slack.calls():
        leaks += _leaks(patterns, f"{call.method} body", call.raw.decode("utf-8", "replace"))
    for upload in slack.uploads:
        leaks += _leaks(patterns, f"upload {upload.filename}", (upload.data or b"").decode("utf-8", "replace"))
    for ack in acks:
        leaks += _leaks(patterns, "an ack", ack)
    leaks += _leaks(patterns, "the bot's log", bot.log_text())
    connection = sqlite3.connect(audit_db)
    try:
        for table in ("audit", "claims"):
            for row in connection.execute(f"SELECT * FROM {table}"):
                leaks += _leaks(patterns, f"audit table {table}", repr(row))
    finally:
        connection.close()
    assert leaks == [], "\n".join(leaks)

    records = audit_records(audit_db)
    assert any("DB_PASSWORD=•••• --env API_TOKEN=••••" in r["command"] for r in records if r["decision"] == "rejected")
    assert len(acks) >= 20 and len(slack.calls()) > 5 and len(records) >= 20  # the search had something to search
