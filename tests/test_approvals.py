"""Two-person approval over signed HTTP to the real server, the Slack stand-in and the private engine: a command an
`approvals:` rule covers waits for an approver's yes — never the requester's, never a non-approver's — runs once
(across replicas), expires, is shown again when its targets changed, can be denied with a reason or withdrawn, and
never asks for a confirmation on top."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.policy import load_policy
from bot.policy.load import PolicyError
from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.private_postgres import PrivatePostgres
from tests.signed_client import TEAM_ID, SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import CONFIRM_ACTION, SlackUser, audit_records, text_of, wait_until

APPROVE = "shipmate_approve"
DENY = "shipmate_deny"
WITHDRAW = "shipmate_withdraw"

POLICY = """
members:
  U0ALICE: admin
  U0EVE: admin
  U0BOB: viewer
approvals:
  - actions: [container.rm, "*.prune"]
    approvers: [U0BOB, S0LEADS]
    ttl: 30m
  - actions: [container.restart]
    engines: ["*"]
    approvers: [U0BOB]
    ttl: 1s
  - actions: [container.stop]
    approvers: [U0BOB, S0LEADS]
    needed: 2
"""


def policy_settings(directory: Path, policy: str = POLICY) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "policy.yml").write_text(policy)
    return {"SHIPMATE_POLICY": str(directory / "policy.yml"), "SHIPMATE_AUDIT_DB": str(directory / "audit.db")}


@pytest.fixture
def settings(tmp_path: Path) -> dict[str, str]:
    return policy_settings(tmp_path / "settings")


@pytest.fixture
def bot(bot_server: Callable[..., BotProcess], settings: dict[str, str], slack: SlackStandin) -> BotProcess:
    slack.usergroups["S0LEADS"] = ["U0DAVE"]
    return bot_server(**settings)


def users(bot: BotProcess, slack: SlackStandin, signing_secret: str, *ids: str) -> list[SlackUser]:
    return [SlackUser(SignedClient(bot.url, signing_secret), slack, user) for user in ids]


def names(engine: PrivateEngine) -> set[str]:
    api = engine.api()
    try:
        return {c["Names"][0].lstrip("/") for c in api.containers(all=True)}
    finally:
        api.close()


def container_id(engine: PrivateEngine, name: str) -> str:
    api = engine.api()
    try:
        return api.inspect_container(name)["Id"]
    finally:
        api.close()


def running(engine: PrivateEngine, name: str) -> bool:
    api = engine.api()
    try:
        return bool(api.inspect_container(name)["State"]["Running"])
    finally:
        api.close()


def request_posts(slack: SlackStandin) -> list[dict[str, Any]]:
    """The approval requests the bot posted, each with its ts, oldest first."""
    return [
        {**call.body, "ts": call.reply["ts"]}
        for call in slack.calls("chat.postMessage")
        if str(call.body.get("text", "")).startswith("Approval needed")
    ]


def the_request(slack: SlackStandin, count: int = 1) -> dict[str, Any]:
    return slack.wait_for(lambda: len(request_posts(slack)) >= count and request_posts(slack)[count - 1])


def as_it_reads(slack: SlackStandin, request: dict[str, Any]) -> str:
    """The request message as it reads now (after the bot's updates)."""
    return text_of(slack.messages[(request["channel"], request["ts"])])


def has_button(message: dict[str, Any], action_id: str) -> bool:
    return any(
        element.get("action_id") == action_id
        for block in message.get("blocks", [])
        for element in block.get("elements", [])
    )


def decisions(path: Path, user: str | None = None) -> list[tuple[str, str, str]]:
    """(user, command, decision) of every stored record but a change's `started` one."""
    return [
        (r["user_id"], r["command"], r["decision"])
        for r in audit_records(path)
        if r["outcome"] != "started" and (user is None or r["user_id"] == user)
    ]


def answer_to(user: SlackUser, message: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The clicker's answer, through the click's response_url (the request message's updates are not it)."""
    sent = user.clicked(message, action_id)
    return user.slack.wait_for_response(sent.name, timeout=60)


def start_web1(alice: SlackUser, engine: PrivateEngine) -> None:
    assert "started" in text_of(alice.answer("/run", "-d --name web1 nginx"))
    assert "web1" in names(engine)


def test_the_requester_and_non_approvers_are_refused_an_approver_runs_it_once_without_confirming(
    bot: BotProcess, clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str, settings: dict[str, str]
) -> None:
    alice, eve, dave, bob = users(bot, slack, signing_secret, "U0ALICE", "U0EVE", "U0DAVE", "U0BOB")
    start_web1(alice, clean_engine)

    waiting = alice.answer("/docker", "rm -f web1")
    assert waiting["response_type"] == "ephemeral" and "Waiting for approval" in text_of(waiting)
    assert has_button(waiting, WITHDRAW) and not has_button(waiting, CONFIRM_ACTION)  # approval is the confirmation
    request = the_request(slack)
    assert request["channel"] == "C0OPS"  # no channel in the rule: where it was typed
    shown = text_of(request)
    assert "<@U0ALICE>" in shown and "/docker rm -f web1" in shown and "`default`" in shown
    assert "remove container `web1`, which is running" in shown  # the preview
    assert has_button(request, APPROVE) and has_button(request, DENY)

    assert "someone else must approve it" in text_of(answer_to(alice, request, APPROVE))
    assert "only S0LEADS, U0BOB can approve" in text_of(answer_to(eve, request, APPROVE))  # an admin, not an approver
    assert "web1" in names(clean_engine)

    ran = answer_to(dave, request, APPROVE)  # in S0LEADS, asked at click time
    assert ran["response_type"] == "in_channel" and "removed" in text_of(ran)
    assert "approved by <@U0DAVE>" in text_of(ran) and "<@U0ALICE>" in text_of(ran)
    assert "web1" not in names(clean_engine)
    wait_until(lambda: "Approved by <@U0DAVE>" in as_it_reads(slack, request), 10, "the request message updated")
    assert not has_button(slack.messages[(request["channel"], request["ts"])], APPROVE)

    assert "already approved by U0DAVE" in text_of(answer_to(bob, request, APPROVE))  # used once
    audit = Path(settings["SHIPMATE_AUDIT_DB"])
    records = wait_until(lambda: [r for r in decisions(audit) if r[2] == "approved"], 10, "the approved record")
    assert records == [("U0ALICE", "/docker rm -f web1 (approved by U0DAVE)", "approved")]  # as the requester
    assert ("U0ALICE", "/docker rm -f web1", "approval-requested") in decisions(audit)
    rejected = [r[0] for r in decisions(audit) if r[2] == "rejected"]
    assert rejected.count("U0ALICE") == 1 and rejected.count("U0EVE") == 1 and rejected.count("U0BOB") == 1


def test_a_target_replaced_since_the_request_is_shown_and_approved_again(
    bot: BotProcess, clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str
) -> None:
    alice, bob = users(bot, slack, signing_secret, "U0ALICE", "U0BOB")
    start_web1(alice, clean_engine)
    alice.answer("/docker", "rm -f web1")
    request = the_request(slack)
    before = container_id(clean_engine, "web1")
    api = clean_engine.api()
    try:
        api.remove_container("web1", force=True)
        api.create_container("nginx", name="web1")
    finally:
        api.close()
    after = container_id(clean_engine, "web1")

    shown = answer_to(bob, request, APPROVE)
    changed = text_of(shown)
    assert "targets changed since the request" in changed and before[:12] in changed and after[:12] in changed
    assert container_id(clean_engine, "web1") == after  # nothing ran
    assert "targets changed" in as_it_reads(slack, request)

    assert "removed" in text_of(answer_to(bob, shown, APPROVE))  # approved again, on the container as it is now
    assert "web1" not in names(clean_engine)


def test_an_expired_request_cannot_run_and_says_so(
    bot: BotProcess, clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str, settings: dict[str, str]
) -> None:
    alice, bob = users(bot, slack, signing_secret, "U0ALICE", "U0BOB")
    start_web1(alice, clean_engine)
    api = clean_engine.api()
    started = api.inspect_container("web1")["State"]["StartedAt"]
    assert "Waiting for approval" in text_of(alice.answer("/docker", "restart web1"))
    request = the_request(slack)
    time.sleep(1.2)  # the rule's ttl is 1s
    assert "expired" in text_of(answer_to(bob, request, APPROVE))
    assert "Expired: nothing ran" in as_it_reads(slack, request)
    assert api.inspect_container("web1")["State"]["StartedAt"] == started
    api.close()
    audit = Path(settings["SHIPMATE_AUDIT_DB"])
    wait_until(lambda: ("U0BOB", "/docker restart web1", "expired") in decisions(audit), 10, "the expired record")


def test_two_needed_means_two_distinct_approvers(
    bot: BotProcess, clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str
) -> None:
    alice, bob, dave = users(bot, slack, signing_secret, "U0ALICE", "U0BOB", "U0DAVE")
    start_web1(alice, clean_engine)
    assert "2 of" in text_of(alice.answer("/docker", "stop web1"))
    request = the_request(slack)
    assert "1 of 2 approvals" in text_of(answer_to(bob, request, APPROVE))
    wait_until(lambda: "yes so far: <@U0BOB>" in as_it_reads(slack, request), 10, "the request message updated")
    assert "1 of 2 approvals" in text_of(answer_to(bob, request, APPROVE))  # the same person counts once
    assert running(clean_engine, "web1")
    stopped = answer_to(dave, request, APPROVE)
    assert "stopped" in text_of(stopped) and "approved by <@U0BOB>, <@U0DAVE>" in text_of(stopped)
    assert not running(clean_engine, "web1")


def view_submission(request_id: str, reason: str, user_id: str) -> dict[str, Any]:
    """The deny modal submitted, as Slack sends it."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "shipmate-test"},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0SHIPMATE",
        "token": "verification-token",
        "trigger_id": "1.2.abc",
        "view": {
            "id": "V0DENY",
            "type": "modal",
            "callback_id": "shipmate_deny_reason",
            "private_metadata": request_id,
            "state": {"values": {"reason": {"reason_text": {"type": "plain_text_input", "value": reason}}}},
        },
    }


def test_deny_asks_why_then_tells_the_requester(
    bot: BotProcess, clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str
) -> None:
    alice, bob = users(bot, slack, signing_secret, "U0ALICE", "U0BOB")
    start_web1(alice, clean_engine)
    alice.answer("/docker", "rm -f web1")
    request = the_request(slack)

    bob.clicked(request, DENY)
    opened = slack.wait_for_call("views.open")
    view = opened.body["view"] if isinstance(opened.body["view"], dict) else json.loads(opened.body["view"])
    assert view["callback_id"] == "shipmate_deny_reason"
    request_id = view["private_metadata"]

    refused = bob.client.action(view_submission(request_id, "nope", "U0ALICE"))  # the requester cannot deny
    assert refused.status == 200 and "withdraw it instead" in json.dumps(refused.body)
    denied = bob.client.action(view_submission(request_id, "not during the release", "U0BOB"))
    assert denied.status == 200 and not denied.text.strip()  # the modal closes
    wait_until(lambda: "Denied by <@U0BOB>" in as_it_reads(slack, request), 10, "the request message updated")
    assert "not during the release" in as_it_reads(slack, request)
    dm = slack.wait_for(
        lambda: [c.body for c in slack.calls("chat.postMessage") if "was denied" in str(c.body.get("text"))]
    )
    assert "not during the release" in text_of(dm[0]) and "U0BOB" in text_of(dm[0])
    assert any(call.body.get("users") == "U0ALICE" for call in slack.calls("conversations.open"))
    assert "already denied by U0BOB" in text_of(answer_to(bob, request, APPROVE))
    assert "web1" in names(clean_engine)


def test_the_requester_withdraws_and_nobody_else_can(
    bot: BotProcess, clean_engine: PrivateEngine, slack: SlackStandin, signing_secret: str
) -> None:
    alice, bob = users(bot, slack, signing_secret, "U0ALICE", "U0BOB")
    start_web1(alice, clean_engine)
    waiting = alice.answer("/docker", "rm -f web1")
    request = the_request(slack)
    assert "only U0ALICE can withdraw" in text_of(answer_to(bob, waiting, WITHDRAW))
    assert "Withdrawn: nothing ran" in text_of(answer_to(alice, waiting, WITHDRAW))
    wait_until(lambda: "Withdrawn by <@U0ALICE>" in as_it_reads(slack, request), 10, "the request message updated")
    assert "already withdrawn by U0ALICE" in text_of(answer_to(bob, request, APPROVE))
    assert "web1" in names(clean_engine)


def test_the_approval_channel_of_the_rule_gets_the_request(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    policy = POLICY.replace("ttl: 30m", "ttl: 30m\n    channel: C0APPROVALS")
    bot = bot_server(**policy_settings(tmp_path / "channel", policy))
    alice, bob = users(bot, slack, signing_secret, "U0ALICE", "U0BOB")
    start_web1(alice, clean_engine)
    assert "<#C0APPROVALS>" in text_of(alice.answer("/docker", "rm -f web1"))
    request = the_request(slack)
    assert request["channel"] == "C0APPROVALS"
    assert "removed" in text_of(answer_to(bob, request, APPROVE))


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("actions: [container.rmm]\n    approvers: [U0BOB]", "`container.rmm` in approvals rule 1 matches no action"),
        ("actions: [container.rm]\n    approvers: [C0OPS]", "`C0OPS` is not a Slack user id"),
        ("actions: [container.rm]\n    approvers: [U0BOB]\n    ttl: soon", "is not a duration"),
        ("actions: [container.rm]", "approvals rule 1 has no `approvers`"),
        ("actions: [container.rm]\n    approvers: [U0BOB]\n    chanel: C0X", "unknown key `chanel`"),
        ("actions: [container.rm]\n    approvers: [U0BOB]\n    needed: 5", "must be 1, 2 or 3"),
    ],
)
def test_a_mistake_in_an_approval_rule_is_one_line(tmp_path: Path, rule: str, problem: str) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(f"members:\n  U0ALICE: admin\napprovals:\n  - {rule}\n")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert problem in str(raised.value) and "\n" not in str(raised.value)


def test_the_example_policy_documents_a_rule_that_loads(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parent.parent / "policy.example.yml").read_text()
    block = example[example.index("# approvals:\n") :].split("\n\n")[0]  # up to the next section
    path = tmp_path / "policy.yml"
    path.write_text(example + "\n".join(line.removeprefix("# ") for line in block.splitlines()) + "\n")
    (entry,) = load_policy(path).approvals
    assert entry.engines == ("prod-*",) and entry.rule.approvers == {"S0LEADS", "U0123ADMIN"}
    assert entry.rule.ttl_seconds == 1800 and entry.rule.channel == "C0APPROVALS"
    assert entry.covers("image.prune", "prod-2") and not entry.covers("image.prune", "staging")


def test_two_replicas_run_an_approved_command_once(
    bot_server: Callable[..., BotProcess],
    running_postgres: PrivatePostgres,
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    url = running_postgres.new_database()
    settings = policy_settings(tmp_path / "replicas")
    first = bot_server(**settings, SHIPMATE_DATABASE_URL=url)
    second = bot_server(**settings, SHIPMATE_DATABASE_URL=url)
    (alice,) = users(first, slack, signing_secret, "U0ALICE")
    bobs = [SlackUser(SignedClient(bot.url, signing_secret), slack, "U0BOB") for bot in (first, second)]
    start_web1(alice, clean_engine)
    alice.answer("/docker", "rm -f web1")
    request = the_request(slack)

    clicks = [bob.clicked(request, APPROVE) for bob in bobs]  # both in flight at once
    answers = [text_of(slack.wait_for_response(click.name, timeout=60)) for click in clicks]
    assert sum("already approved by U0BOB" in answer for answer in answers) == 1
    assert sum("removed" in answer for answer in answers) == 1
    assert "web1" not in names(clean_engine)
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT decision FROM audit WHERE outcome <> 'started'").fetchall()
    assert [row[0] for row in rows].count("approved") == 1
