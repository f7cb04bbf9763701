"""Two `shipmate serve` replicas on one private PostgreSQL behave as one bot: a replayed request is refused by the
other replica, a Confirm clicked on both runs once, the audit is shared; with the database stopped under load,
reads answer, changes are refused and nothing is lost or done unaudited, and both recover by themselves."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from bot.dispatcher import DATABASE_DOWN
from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.private_postgres import PrivatePostgres
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import CONFIRM_ACTION, SlackUser, asks_to_confirm, bot_settings, text_of, wait_until
from tests.test_operations import sample

REFUSED_RUN = {"action": "container.run", "decision": "refused", "outcome": "refused"}


def readiness(bot: BotProcess) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{bot.url}/readyz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def audit_rows(url: str) -> list[tuple[str, str, str, str]]:
    """(user, command, decision, outcome) of every stored record, oldest first."""
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT user_id, command, decision, outcome FROM audit ORDER BY id").fetchall()
    return [tuple(row) for row in rows]


def names(engine: PrivateEngine) -> set[str]:
    api = engine.api()
    try:
        return {c["Names"][0].lstrip("/") for c in api.containers(all=True)}
    finally:
        api.close()


@pytest.fixture
def replicas(
    bot_server: Callable[..., BotProcess],
    running_postgres: PrivatePostgres,
    clean_engine: PrivateEngine,
    tmp_path: Path,
) -> tuple[BotProcess, BotProcess, str]:
    url = running_postgres.new_database()
    settings = bot_settings(tmp_path / "settings")
    first = bot_server(**settings, SHIPMATE_DATABASE_URL=url, SHIPMATE_DOCKER_TIMEOUT="10")
    second = bot_server(**settings, SHIPMATE_DATABASE_URL=url, SHIPMATE_DOCKER_TIMEOUT="10")
    return first, second, url


def test_two_replicas_behave_as_one_bot(
    replicas: tuple[BotProcess, BotProcess, str], clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str
) -> None:
    first, second, url = replicas
    on_first = SlackUser(SignedClient(first.url, signing_secret), slack, "U0ALICE")
    on_second = SlackUser(SignedClient(second.url, signing_secret), slack, "U0ALICE")

    sent = on_first.send("/ps", "-a")
    replayed = SignedClient(second.url, signing_secret).send(sent.reply.request)
    assert replayed.status == 401 and replayed.body == {"error": "replayed request"}

    assert "started" in text_of(on_first.answer("/run", "-d --name shared nginx"))
    asked = on_first.answer("/rm", "-f shared")
    assert asks_to_confirm(asked)
    clicks = [on_first.clicked(asked, CONFIRM_ACTION), on_second.clicked(asked, CONFIRM_ACTION)]
    answers = sorted(text_of(user.final(click)) for user, click in zip((on_first, on_second), clicks, strict=True))
    assert sum("Already confirmed by U0ALICE" in answer for answer in answers) == 1
    assert sum("removed" in answer and "Already" not in answer for answer in answers) == 1
    assert "shared" not in names(clean_engine)

    for replica in (on_first, on_second):  # either shows both replicas' records
        trail = text_of(replica.answer("/docker", "audit --limit 50"))
        assert (
            "/run -d --name shared nginx" in trail
            and "/docker --context default rm -f shared" in trail
            and "confirmed" in trail
        )
    decisions = [row[2] for row in audit_rows(url) if row[3] != "started"]  # a change's first record, before Docker
    assert decisions.count("confirmed") == 1 and decisions.count("rejected") >= 2  # the replay and the 2nd click


def test_the_database_stopped_and_started_under_load(
    replicas: tuple[BotProcess, BotProcess, str],
    running_postgres: PrivatePostgres,
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
) -> None:
    first, second, url = replicas
    users = [SlackUser(SignedClient(bot.url, signing_secret), slack, "U0READER") for bot in (first, second)]
    changer = SlackUser(SignedClient(first.url, signing_secret), slack, "U0CHANGER")
    reads: list[str] = []
    stop = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            reads.append(text_of(users[len(reads) % 2].answer("/ps", "-a", timeout=20)))

    reader = threading.Thread(target=keep_reading, daemon=True)
    reader.start()
    try:
        wait_until(lambda: len(reads) >= 4, 20, "reads before the outage")
        running_postgres.stop()
        try:
            refused = text_of(changer.answer("/run", "-d --name while-down nginx"))
            assert DATABASE_DOWN in refused
            assert "while-down" not in names(clean_engine)  # nothing changed unaudited
            with urllib.request.urlopen(f"{first.url}/metrics", timeout=10) as answer:  # counted at once all the same
                counted = sample(answer.read().decode(), "shipmate_commands_total", **REFUSED_RUN)
            assert counted == 1
            status, body = readiness(second)
            assert status == 503 and body["down"] == ["database"] and body["engines"] == {"default": "ok"}
            during = len(reads)
            wait_until(lambda: len(reads) >= during + 4, 30, "reads while the database is away")
        finally:
            running_postgres.start()
        for bot in (first, second):
            wait_until(lambda bot=bot: readiness(bot)[0] == 200, 20, "readiness after the database is back")
        assert "started" in text_of(changer.answer("/run", "-d --name after nginx"))
    finally:
        stop.set()
        reader.join(30)
    assert all(read.startswith("no containers") or "after" in read for read in reads), reads
    assert not any("error" in read.lower() for read in reads)

    def stored() -> list[tuple[str, str, str, str]] | None:
        rows = audit_rows(url)
        return rows if sum(row[0] == "U0READER" for row in rows) == len(reads) else None

    rows = wait_until(stored, 20, "every read's record, written once the database was back")
    assert ("U0CHANGER", "/run -d --name while-down nginx", "refused", "refused") in rows
    assert ("U0CHANGER", "/run -d --name after nginx", "allowed", "ok") in rows
    assert names(clean_engine) == {"after"}
