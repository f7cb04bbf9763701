"""The audit log: SQLite that survives reopening, one JSON log line per record, masking, a writer that never
blocks the request, sinks (the audit channel, over a Slack stand-in), and the used-confirmation ledger."""

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.audit import AuditLog, AuditRecord
from bot.config import ConfigError
from bot.secrets import mask_text
from bot.slack.audit_channel import AuditChannelSink
from bot.store import Claim
from bot.store.audit import ALLOWED, CONFIRM, REFUSED
from bot.store.claims import Confirmations
from bot.store.sqlite import SqliteStore
from tests.slack_standin import SlackStandin


def record(n: int = 0, user: str = "U0ME", command: str = "/ps -a", **changes: object) -> AuditRecord:
    fields = {
        "at": 1_700_000_000.0 + n,
        "team_id": "T0TEAM",
        "user_id": user,
        "user_name": "me",
        "channel_id": "C0OPS",
        "command": command,
        "action": "container.ls",
        "changes": False,
        "decision": ALLOWED,
        "outcome": "ok",
        "detail": "",
        "duration_ms": 12,
    }
    return AuditRecord(**(fields | changes))  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


def stored_bytes(db: Path) -> bytes:
    return b"".join(path.read_bytes() for path in db.parent.glob(db.name + "*"))


def test_records_survive_reopening(db: Path) -> None:
    audit = AuditLog(db)
    for n in range(3):
        audit.record(record(n, command=f"/logs web{n}"))
    audit.close()
    reopened = AuditLog(db)
    try:
        latest = reopened.latest()
        assert [r.command for r in latest] == ["/logs web2", "/logs web1", "/logs web0"]  # newest first
        assert latest[0] == record(2, command="/logs web2")
    finally:
        reopened.close()


def test_recording_never_waits_for_the_writer(db: Path) -> None:
    release = threading.Event()
    seen: list[str] = []

    def slow_sink(rec: AuditRecord) -> None:
        seen.append(threading.current_thread().name)
        release.wait(10)

    audit = AuditLog(db, [slow_sink])
    try:
        started = time.monotonic()
        for n in range(50):
            audit.record(record(n))
        assert time.monotonic() - started < 0.5
        assert audit.flush(timeout=0.2) is False  # the sink holds the writer
        release.set()
        assert audit.flush(timeout=10) is True
        assert len(audit.latest(limit=100)) == 50
        assert set(seen) == {"shipmate-audit"}  # sinks run on the writer thread, not the caller's
    finally:
        release.set()
        audit.close()


def test_each_record_is_one_json_log_line(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    audit = AuditLog(db)
    with caplog.at_level(logging.INFO, logger="shipmate.audit"):
        audit.record(record(1, decision=REFUSED, outcome="refused", detail="you are viewer"))
        audit.flush()
    audit.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "shipmate.audit"]
    assert len(lines) == 1 and "\n" not in lines[0]
    logged = json.loads(lines[0])
    assert logged["user_id"] == "U0ME" and logged["decision"] == "refused" and logged["detail"] == "you are viewer"
    assert logged["at"] == "2023-11-14T22:13:21.000+00:00"


def test_secret_looking_values_never_reach_the_database_log_or_sinks(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sunk: list[AuditRecord] = []
    audit = AuditLog(db, [sunk.append])
    command = "/run -d --env DB_PASSWORD=hunter2 --env=API_TOKEN=s3cr3t -e 'SECRET_KEY=two words' nginx"
    with caplog.at_level(logging.INFO, logger="shipmate.audit"):
        audit.record(record(command=command, detail="failed near DB_PASSWORD=hunter2"))
        audit.flush()
    stored = audit.latest()[0]
    audit.close()
    assert stored.command == "/run -d --env DB_PASSWORD=•••• --env=API_TOKEN=•••• -e SECRET_KEY=•••• nginx"
    for secret in ("hunter2", "s3cr3t", "two words"):
        assert secret.encode() not in stored_bytes(db)
        assert secret not in caplog.text
        assert secret not in repr(sunk)


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("-e DB_PASSWORD=hunter2", "-e DB_PASSWORD=••••"),
        ("--env=DB_PASSWORD=hunter2", "--env=DB_PASSWORD=••••"),
        ("-e=DB_PASSWORD=hunter2", "-e=DB_PASSWORD=••••"),
        ("-eDB_PASSWORD=hunter2", "-eDB_PASSWORD=••••"),
        ('--env "DB_PASSWORD=hunter 2"', "--env DB_PASSWORD=••••"),
        ("-e 'GITHUB_TOKEN=a b c'", "-e GITHUB_TOKEN=••••"),
        ('-e "API_KEY=unclosed', "-e API_KEY=••••"),
        ("-e COLOR=blue -e TOKEN=", "-e COLOR=blue -e TOKEN="),
    ],
)
def test_masking_covers_every_way_to_spell_an_env_flag(typed: str, masked: str) -> None:
    assert mask_text(typed) == masked


def test_a_failing_sink_does_not_stop_the_audit(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken(rec: AuditRecord) -> None:
        raise RuntimeError("slack is down")

    audit = AuditLog(db, [broken])
    with caplog.at_level(logging.ERROR, logger="shipmate.audit"):
        audit.record(record(1))
        audit.record(record(2))
        assert audit.flush()
    assert len(audit.latest()) == 2
    assert "audit sink broken failed" in caplog.text
    audit.close()


def test_latest_filters_by_user_and_limits(db: Path) -> None:
    audit = AuditLog(db)
    for n in range(10):
        audit.record(record(n, user="U0AAA" if n % 2 else "U0BBB"))
    assert [r.at for r in audit.latest("U0AAA", limit=3)] == [1_700_000_009.0, 1_700_000_007.0, 1_700_000_005.0]
    assert len(audit.latest(limit=100)) == 10
    audit.close()


def test_a_record_after_close_is_still_stored(db: Path) -> None:
    audit = AuditLog(db)
    audit.close()
    audit.record(record(1, command="/ps late"))
    reopened = AuditLog(db)
    assert [r.command for r in reopened.latest()] == ["/ps late"]
    reopened.close()


def test_an_unusable_database_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"SHIPMATE_AUDIT_DB=.*cannot use it"):
        AuditLog(tmp_path / "no-such-dir" / "audit.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database, it is a text file " * 100)
    with pytest.raises(ConfigError, match="cannot use it as the audit database"):
        AuditLog(garbage)


def test_the_database_is_plain_sqlite(db: Path) -> None:
    audit = AuditLog(db)
    audit.record(record(1, decision=CONFIRM, outcome="pending"))
    audit.close()
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT user_id, decision, outcome, command FROM audit").fetchall()
    assert rows == [("U0ME", "confirm", "pending", "/ps -a")]


# -- the used-confirmation ledger -------------------------------------------------------------


def test_a_nonce_is_claimed_once_even_by_racing_replicas(db: Path) -> None:
    replicas = [Confirmations(SqliteStore(db)), Confirmations(SqliteStore(db))]
    results: list[Claim | None] = []
    barrier = threading.Barrier(8)

    def click(replica: Confirmations) -> None:
        barrier.wait()
        results.append(replica.claim("nonce-1", "confirmed", "U0ME", time.time() + 120))

    threads = [threading.Thread(target=click, args=(replicas[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(None) == 1 and results.count(Claim("confirmed", "U0ME")) == 7
    assert replicas[1].used("nonce-1") == Claim("confirmed", "U0ME") and replicas[0].used("other") is None
    for replica in replicas:
        replica.database.close()
    reopened = Confirmations(SqliteStore(db))
    assert reopened.claim("nonce-1", "cancelled", "U0ME", time.time() + 120) == Claim("confirmed", "U0ME")  # kept
    reopened.database.close()


# -- the audit channel, over a Slack stand-in -----------------------------------------------------


def test_the_audit_channel_gets_change_making_records_only(slack: SlackStandin, db: Path) -> None:
    sink = AuditChannelSink(WebClient(base_url=slack.api_url, token=slack.bot_token, timeout=5), "C0AUDIT")
    audit = AuditLog(db, [sink])
    audit.record(record(1, command="/ps -a"))  # a read: not posted
    audit.record(record(2, command="/run -d --env DB_PASSWORD=hunter2 nginx", action="container.run", changes=True))
    audit.record(
        record(3, command="/rm -f web1", action="container.rm", changes=True, decision=CONFIRM, outcome="pending")
    )
    audit.record(
        record(
            4,
            user="U0VIEW",
            command="/img rm nginx",
            action="image.rm",
            changes=True,
            decision=REFUSED,
            outcome="refused",
            detail="you are viewer; `image.rm` needs admin",
        )
    )
    assert audit.flush()
    audit.close()
    posts = [call.body for call in slack.calls("chat.postMessage")]
    assert [post["channel"] for post in posts] == ["C0AUDIT", "C0AUDIT"]
    assert posts[0]["text"].startswith("✅ <@U0ME> in <#C0OPS>: `/run -d --env DB_PASSWORD=•••• nginx` · allowed, ok")
    assert posts[1]["text"].startswith("⛔ <@U0VIEW> in <#C0OPS>: `/img rm nginx` · refused, refused")
    assert "needs admin" in posts[1]["text"]
    assert "hunter2" not in json.dumps(posts)


def test_a_failing_audit_channel_is_logged_not_raised(
    slack: SlackStandin, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail("chat.postMessage", error="not_in_channel")
    sink = AuditChannelSink(WebClient(base_url=slack.api_url, token=slack.bot_token, timeout=5), "C0AUDIT")
    with caplog.at_level(logging.WARNING):
        sink(record(1, command="/rm web1", action="container.rm", changes=True))
    assert "audit channel post failed: not_in_channel" in caplog.text
