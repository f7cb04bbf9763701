"""Temporary access over signed HTTP to the real server, the Slack stand-in and the private engine: `/docker request`
goes through approval, the grant shows in whoami, lets its holder do what the role allows until it ends (each use
audited with the grant), ends by itself or by an admin's revoke, and its holder is told by direct message."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.policy import load_policy
from bot.policy.load import PolicyError
from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, audit_records, text_of
from tests.test_approvals import APPROVE, answer_to, names, the_request

POLICY = """
members:
  U0ADMIN: admin
  U0BOB: viewer
  "*": viewer
access:
  - who: ["*"]
    roles: [operator]
    engines: ["*"]
    approvers: [U0BOB]
    longest: 1h
"""


@pytest.fixture
def setup(bot_server: Callable[..., BotProcess], tmp_path: Path) -> tuple[BotProcess, Path]:
    directory = tmp_path / "settings"
    directory.mkdir()
    (directory / "policy.yml").write_text(POLICY)
    audit = directory / "audit.db"
    bot = bot_server(
        SHIPMATE_POLICY=str(directory / "policy.yml"), SHIPMATE_AUDIT_DB=str(audit), SHIPMATE_GRANT_WARNING="1s"
    )
    return bot, audit


def user(bot: BotProcess, slack: SlackStandin, signing_secret: str, user_id: str) -> SlackUser:
    return SlackUser(SignedClient(bot.url, signing_secret), slack, user_id)


def direct_messages(slack: SlackStandin, words: str) -> list[dict[str, Any]]:
    return [c.body for c in slack.calls("chat.postMessage") if words in str(c.body.get("text", ""))]


def granted(carol: SlackUser, bob: SlackUser, slack: SlackStandin, duration: str) -> str:
    """Carol asks for operator on the default engine; Bob approves; the grant's id."""
    waiting = carol.answer("/docker", f'request operator --context default {duration} "INC-4411"')
    assert "Waiting for approval" in text_of(waiting)
    request = the_request(slack)
    assert "give operator on default for" in text_of(request)
    done = text_of(answer_to(bob, request, APPROVE))
    assert "Granted to U0CAROL: operator on default until" in done and "approved by U0BOB" in done
    return done.split("(grant ", 1)[1].split(":", 1)[0]


def test_a_grant_allows_while_it_lasts_is_audited_shows_in_whoami_and_ends_with_notices(
    setup: tuple[BotProcess, Path], clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str
) -> None:
    bot, audit = setup
    carol, bob = user(bot, slack, signing_secret, "U0CAROL"), user(bot, slack, signing_secret, "U0BOB")
    before = text_of(carol.answer("/run", "-d --name before nginx"))
    assert "needs operator" in before and "before" not in names(clean_engine)

    too_long = text_of(carol.answer("/docker", 'request operator --context default 2h "INC-4411"'))
    assert "at most 1h, not 2h" in too_long
    assert "no `access:` rule" in text_of(carol.answer("/docker", 'request admin --context default 1m "x"'))

    grant = granted(carol, bob, slack, "4s")
    shown = text_of(carol.answer("/docker", "whoami"))
    assert f"grant {grant}" in shown and "operator on default until" in shown

    assert "started" in text_of(carol.answer("/run", "-d --name during nginx"))
    assert "during" in names(clean_engine)
    used = [r for r in audit_records(audit) if r["command"].startswith("/run -d --name during")]
    assert used and all(r["command"].endswith(f"(grant {grant})") for r in used)
    assert all(r["user_id"] == "U0CAROL" for r in used)

    slack.wait_for(lambda: direct_messages(slack, "Your temporary operator on default ends at"), timeout=10)
    slack.wait_for(lambda: direct_messages(slack, "Your temporary operator on default has ended"), timeout=15)
    assert "needs operator" in text_of(carol.answer("/run", "-d --name after nginx"))
    assert "after" not in names(clean_engine)
    assert f"grant {grant}" not in text_of(carol.answer("/docker", "whoami"))
    time.sleep(1.5)  # another tick: each notice is sent once
    assert len(direct_messages(slack, "has ended")) == 1 and len(direct_messages(slack, "ends at")) == 1


def test_an_admin_revokes_a_grant(
    setup: tuple[BotProcess, Path], clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str
) -> None:
    bot, _ = setup
    carol, bob = user(bot, slack, signing_secret, "U0CAROL"), user(bot, slack, signing_secret, "U0BOB")
    admin = user(bot, slack, signing_secret, "U0ADMIN")
    grant = granted(carol, bob, slack, "30m")
    assert "U0CAROL: operator on default" in text_of(admin.answer("/docker", "grants"))
    assert "needs admin" in text_of(carol.answer("/docker", f"revoke {grant}"))
    assert "Revoked 1 grant" in text_of(admin.answer("/docker", "revoke @U0CAROL"))
    assert "needs operator" in text_of(carol.answer("/run", "-d --name revoked nginx"))
    slack.wait_for(lambda: direct_messages(slack, "was revoked by U0ADMIN"), timeout=10)
    assert "No temporary grants" in text_of(admin.answer("/docker", "grants"))


def test_the_example_policy_documents_an_access_rule_that_loads(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parent.parent / "policy.example.yml").read_text()
    block = example[example.index("# access:\n") :].split("\n\n")[0]  # up to the next section
    path = tmp_path / "policy.yml"
    path.write_text(example + "\n".join(line.removeprefix("# ") for line in block.splitlines()) + "\n")
    (rule,) = load_policy(path).access
    assert rule.requesters == {"S0ONCALL"} and rule.roles == ("operator",) and rule.longest_seconds == 4 * 3600
    assert rule.covers("operator", "prod-2") and not rule.covers("operator", "staging")


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("roles: [operatr]\n    approvers: [U0BOB]\n    longest: 1h", "unknown role `operatr`"),
        ("roles: [operator]\n    approvers: [U0BOB]", "access rule 1 has no `longest`"),
        ("roles: [operator]\n    approvers: [U0BOB]\n    longest: ever", "the `longest` of access rule 1"),
        ("roles: [operator]\n    who: [C0OPS]\n    approvers: [U0BOB]\n    longest: 1h", "`C0OPS` is not"),
    ],
)
def test_a_mistake_in_an_access_rule_is_one_line(tmp_path: Path, rule: str, problem: str) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(f"members:\n  U0ALICE: admin\naccess:\n  - {rule}\n")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert problem in str(raised.value) and "\n" not in str(raised.value)
