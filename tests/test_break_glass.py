"""Break glass over signed HTTP to the real server, the Slack stand-in and the private engine: during a freeze a
change is refused, unless asked for with `--break-glass "reason"` — then it becomes an approval request in the audit
channel that needs two approvers other than the requester (those who may lift the freeze), and runs once both said
yes. A dry run says so before anyone asks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, audit_records, text_of, wait_until
from tests.test_approvals import APPROVE, answer_to, has_button, names, the_request

AUDIT_CHANNEL = "C0AUDIT"
POLICY = """
members:
  U0ALICE: admin
  U0EVE: admin
  U0OPER: operator
"""


@pytest.fixture
def bot(bot_server: Callable[..., BotProcess], tmp_path: Path) -> BotProcess:
    (tmp_path / "policy.yml").write_text(POLICY)
    return bot_server(
        SHIPMATE_POLICY=str(tmp_path / "policy.yml"),
        SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"),
        SHIPMATE_AUDIT_CHANNEL=AUDIT_CHANNEL,
    )


def test_break_glass_turns_a_freeze_refusal_into_a_two_person_approval_in_the_audit_channel(
    bot: BotProcess, clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str, tmp_path: Path
) -> None:
    alice, eve, oper = (
        SlackUser(SignedClient(bot.url, signing_secret), slack, u) for u in ("U0ALICE", "U0EVE", "U0OPER")
    )
    assert "started" in text_of(oper.answer("/run", "-d --name web1 nginx"))
    assert "frozen" in text_of(alice.answer("/docker", 'freeze --context default 1h "release 4.2"'))

    refused = text_of(oper.answer("/docker", "rm -f web1"))
    assert "default is frozen until" in refused and "release 4.2" in refused and "--break-glass" in refused
    assert "web1" in names(clean_engine)

    dry = text_of(oper.answer("/docker", 'rm -f web1 --dry-run --break-glass "INC-7: site down"'))
    assert "would wait for approval" in dry and "a yes from 2 of U0ALICE, U0EVE, never you" in dry
    assert "break glass on frozen default (release 4.2): INC-7: site down" in dry

    waiting = text_of(oper.answer("/docker", 'rm -f web1 --break-glass "INC-7: site down"'))
    assert "Waiting for approval from 2 of" in waiting and f"<#{AUDIT_CHANNEL}>" in waiting
    request = the_request(slack)
    assert request["channel"] == AUDIT_CHANNEL and has_button(request, APPROVE)
    assert "break glass on frozen default" in text_of(request) and "web1" in text_of(request)

    assert "someone else must approve it" in text_of(answer_to(oper, request, APPROVE))
    assert "1 of 2 approvals" in text_of(answer_to(alice, request, APPROVE))
    assert "web1" in names(clean_engine)  # one yes is not enough
    removed = answer_to(eve, request, APPROVE)
    assert "removed" in text_of(removed) and "approved by <@U0ALICE>, <@U0EVE>" in text_of(removed)
    assert "web1" not in names(clean_engine)

    audit = tmp_path / "audit.db"
    approved = wait_until(
        lambda: [r for r in audit_records(audit) if r["decision"] == "approved" and r["outcome"] != "started"],
        10,
        "the approved record",
    )
    assert [r["user_id"] for r in approved] == ["U0OPER"]  # it ran as the requester, glass broken and audited
    assert "--break-glass" in approved[0]["command"]


def test_without_anyone_to_approve_break_glass_is_refused(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    freezes = "freezes:\n  - engines: [default]\n    from: 2020-01-01T00:00:00Z\n    until: 2100-01-01T00:00:00Z\n    reason: forever\n"
    (tmp_path / "policy.yml").write_text("members:\n  '*': operator\n" + freezes)  # nobody may lift it
    bot = bot_server(SHIPMATE_POLICY=str(tmp_path / "policy.yml"), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"))
    oper = SlackUser(SignedClient(bot.url, signing_secret), slack, "U0OPER")
    answer = text_of(oper.answer("/run", '-d --name web2 --break-glass "INC-8" nginx'))
    assert "nobody could approve breaking the glass" in answer and "ask an admin to unfreeze it" in answer
    assert "web2" not in names(clean_engine)
