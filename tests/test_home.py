"""The App Home tab: built from what the policy lets the viewer read on the real private engine, published with
views.publish to the Slack stand-in when the real server gets a signed `app_home_opened` event, within Slack's
limits; the engines' probes shared by every viewer and replica."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.audit import AuditLog
from bot.dispatcher import Dispatcher
from bot.fleet.engines import Fleet
from bot.home import HomeTab
from bot.policy.authorize import PolicyAuthorizer
from bot.policy.source import PolicySource
from bot.render.blocks import to_message
from bot.render.home import HOME_REFRESH_ACTION, MAX_HOME_BLOCKS, OPEN_RUN_FORM_ACTION, home_view
from bot.render.terminal import to_text
from bot.request import Caller, Request
from bot.results import ApprovalsToDecide, ApprovalWaiting, EngineStatuses, Home, OwnedContainers, PendingRequests
from bot.store.approvals import ApprovalRequests
from tests.blockkit import block_problems
from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.signed_client import VERIFICATION_TOKEN, SignedClient, find_button
from tests.slack_events import app_home_opened, signed_event
from tests.slack_forms import typed, view_submission
from tests.slack_standin import APP_ID, TEAM_DOMAIN, TEAM_ID, SlackStandin
from tests.slack_user import SlackUser, audit_records, wait_until
from tests.slack_user import text_of as message_text
from tests.test_render import EXAMPLES

POLICY = """
roles:
  viewer: [container.ls, container.inspect, container.logs]
  admin: ["*"]
members:
  U0ALICE: admin
  U0BOB: {alpha: viewer}
"""
ALERTS = """
alerts:
  - channel: C0ALERTS
    events: [die]
    containers: ["crash*"]
"""


def assert_valid_home(view: dict[str, Any]) -> None:
    """Slack's own model of a view (100 blocks at most on Home), and every block as a message's would be."""
    assert view["type"] == "home" and len(view["blocks"]) <= MAX_HOME_BLOCKS
    View(type="home", blocks=view["blocks"]).validate_json()
    problems = [problem for block in view["blocks"] for problem in block_problems(block)]
    assert not problems, problems


def text_of(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def mrkdwn_texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") == "mrkdwn" else []
        return found + [text for item in value.values() for text in mrkdwn_texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in mrkdwn_texts(item)]
    return []


# -- the view (fast) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["home everything", "home change safety", "home nothing readable"])
def test_the_home_view_is_valid_block_kit_within_100_blocks(name: str) -> None:
    view = home_view(EXAMPLES[name])
    assert_valid_home(view)
    find_button(view["blocks"], HOME_REFRESH_ACTION)
    find_button(view["blocks"], OPEN_RUN_FORM_ACTION)


def test_a_long_section_says_how_many_more_and_the_command_that_lists_them_all() -> None:
    shown = text_of(home_view(EXAMPLES["home everything"]))
    assert "… and 485 more — `/ps -a --filter label=io.shipmate.user=U0ALICE --context '*'`" in shown
    assert "… and 30 more — the alert channels have them all" in shown
    mrkdwn = " ".join(mrkdwn_texts(home_view(EXAMPLES["home everything"])["blocks"]))
    assert "&lt;!channel&gt;" in mrkdwn and "<!channel>" not in mrkdwn  # engine strings are escaped


def test_sections_that_do_not_fit_in_100_blocks_are_named_in_a_last_line() -> None:
    many = EXAMPLES["home containers 500"]
    view = home_view(Home("U0ALICE", (many, many, many, many)))
    assert_valid_home(view)
    assert view["blocks"][-1]["elements"][0]["text"].startswith("… and 2 more sections that did not fit")


# -- the probes, shared (real engine, one database for two replicas) --------------------------------------


def test_many_viewers_on_two_replicas_cost_one_probe_per_engine(engine: PrivateEngine, tmp_path: Path) -> None:
    engines = tmp_path / "engines.yml"
    names = [f"e{i}" for i in range(10)]
    engines.write_text(
        "default: e0\nengines:\n" + "".join(f'  {name}: {{host: "{engine.docker_host}"}}\n' for name in names)
    )
    probed: Counter[str] = Counter()
    tabs = []
    for _replica in range(2):
        tab = HomeTab(Dispatcher(Fleet(engines), audit=AuditLog(tmp_path / "audit.db")), probe_ttl=60)
        probe = tab._probed

        def counted(name: str, probe: Callable = probe) -> Any:
            probed[name] += 1
            return probe(name)

        tab._probed = counted  # type: ignore[method-assign]
        tabs.append(tab)
    homes: list[Home] = []
    viewers = [
        threading.Thread(target=lambda tab=tab, n=n: homes.append(tab.build(Caller(f"U{n}"))))
        for n in range(10)
        for tab in tabs
    ]
    for viewer in viewers:
        viewer.start()
    for viewer in viewers:
        viewer.join()
    assert probed == Counter({name: 1 for name in names})
    for tab in tabs:
        assert tab.audit is not None and tab.audit.flush()
    for home in homes:
        (statuses,) = [part for part in home.sections if isinstance(part, EngineStatuses)]
        assert [s.engine for s in statuses.rows] == names and all(s.answering and s.version for s in statuses.rows)
    records = [r for r in AuditLog(tmp_path / "audit.db").latest(None, 100) if r.command == "(app home)"]
    assert len(records) == 20 and {r.decision for r in records} == {"allowed"}  # one record per view


def test_a_probe_serves_until_it_is_older_than_the_ttl(engine: PrivateEngine, tmp_path: Path) -> None:
    tab = HomeTab(Dispatcher(Fleet(None, engine.docker_host), audit=AuditLog(tmp_path / "audit.db")), probe_ttl=0.5)
    probed: list[str] = []
    probe = tab._probed
    tab._probed = lambda name: probed.append(name) or probe(name)  # type: ignore[method-assign]
    first, again = tab.probe("default"), tab.probe("default")
    assert probed == ["default"] and first == again and first.answering
    time.sleep(0.6)
    assert tab.probe("default").answering and probed == ["default", "default"]


def test_owned_containers_are_the_viewers_own(clean_engine: PrivateEngine, tmp_path: Path) -> None:
    api = clean_engine.api()
    for name, owner in (("mine", "U0ME"), ("theirs", "U0THEM")):
        api.create_container("busybox", ["true"], name=name, labels={"io.shipmate.user": owner})
    tab = HomeTab(Dispatcher(Fleet(None, clean_engine.docker_host), audit=AuditLog(tmp_path / "audit.db")))
    (owned,) = [part for part in tab.build(Caller("U0ME")).sections if isinstance(part, OwnedContainers)]
    assert [(row.name, row.engine) for row in owned.rows] == [("mine", "default")]


def test_who_said_yes_to_a_request_needing_two_no_longer_has_it_to_decide(
    clean_engine: PrivateEngine, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "members:\n  U0ALICE: admin\napprovals:\n  - actions: [container.rm]\n    approvers: [U0DAVE, U0ERIN]\n"
        "    needed: 2\n"
    )
    audit = AuditLog(tmp_path / "audit.db")
    dispatcher = Dispatcher(
        Fleet(None, clean_engine.docker_host),
        PolicyAuthorizer(PolicySource(policy)),
        audit=audit,
        approval_requests=ApprovalRequests(audit.store),
    )
    api = clean_engine.api()
    api.start(api.create_container("busybox", ["sleep", "600"], name="web1")["Id"])
    alice = Caller("U0ALICE", "T0", "C0OPS", "alice")
    asked = dispatcher.handle(Request("rm -f web1", "/docker", alice), to_message).result
    assert isinstance(asked, ApprovalWaiting)
    tab = HomeTab(dispatcher)

    def sections(user: str) -> dict[type, Any]:
        return {type(part): part for part in tab.build(Caller(user, "T0")).sections}

    def to_decide(user: str) -> list[str]:
        found = sections(user).get(ApprovalsToDecide)
        return [request.id for request in found.requests] if found is not None else []

    assert to_decide("U0DAVE") == to_decide("U0ERIN") == [asked.request.id]
    assert to_decide("U0ALICE") == [] and to_decide("U0NOBODY") == []
    mine = sections("U0ALICE")[PendingRequests]
    assert [waiting.request.id for waiting in mine.waiting] == [asked.request.id]

    assert "1 of 2 approvals" in to_text(dispatcher.approvals.approve(asked.request.id, Caller("U0DAVE", "T0")).answer)
    assert to_decide("U0DAVE") == [] and to_decide("U0ERIN") == [asked.request.id]
    assert api.containers(filters={"name": "^/web1$"})  # one yes of two: nothing ran


# -- the real server over signed HTTP ----------------------------------------------------------------------


def click_in_home(view: dict[str, Any], action_id: str, user: str) -> dict[str, Any]:
    """A `block_actions` payload for a button of a Home tab: no response_url, the view instead."""
    button, block_id = find_button(view["blocks"], action_id)
    clicked = {k: button[k] for k in ("action_id", "text", "value", "type") if k in button}
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": f"{secrets.randbelow(10**13)}.{secrets.token_hex(16)}",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [clicked | {"block_id": block_id, "action_ts": f"{time.time():.6f}"}],
    }


def published(slack: SlackStandin, user: str, count: int = 1) -> dict[str, Any]:
    """The `count`-th Home tab published for `user`, as sent."""

    def found() -> list[dict[str, Any]]:
        calls = [c for c in slack.calls("views.publish") if c.body.get("user_id") == user and c.reply.get("ok")]
        return calls[count - 1].reply["view"] if len(calls) >= count else None

    return slack.wait_for(found, timeout=30)


def test_home_over_signed_http_shows_what_each_viewer_may_read_and_refresh_publishes_it_again(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "policy.yml").write_text(POLICY)
    (settings / "alerts.yml").write_text(ALERTS)
    (settings / "engines.yml").write_text(
        "default: alpha\nengines:\n"
        f'  alpha: {{host: "{clean_engine.docker_host}"}}\n  beta: {{host: "{clean_engine.docker_host}"}}\n'
    )
    bot = bot_server(
        SHIPMATE_POLICY=str(settings / "policy.yml"),
        SHIPMATE_AUDIT_DB=str(settings / "audit.db"),
        SHIPMATE_ALERTS=str(settings / "alerts.yml"),
        SHIPMATE_ENGINES=str(settings / "engines.yml"),
    )
    wait_until(lambda: "watching the events of engine beta" in bot.log_text(), 20, "the watchers")
    client = SignedClient(bot.url, signing_secret)
    api = clean_engine.api()
    ran = client.slash("/run", "-d --name homeweb busybox sleep 600", response_url=slack.response_url("run"))
    assert ran.status == 200
    wait_until(lambda: api.containers(filters={"name": "homeweb"}), 30, "homeweb to run")
    crashed = api.create_container("busybox", ["sh", "-c", "exit 3"], name="crash-home")
    api.start(crashed["Id"])

    def alerted() -> bool:  # once from each engine's watcher: both entries are the same dockerd
        return len([c for c in slack.calls("chat.postMessage") if "crash-home" in c.body.get("text", "")]) == 2

    slack.wait_for(alerted, timeout=20)

    assert client.send(signed_event(signing_secret, app_home_opened("U0ALICE", tab="messages"))).status == 200
    opened = client.send(signed_event(signing_secret, app_home_opened("U0ALICE")))
    assert opened.status == 200 and opened.elapsed < 1.5, opened.elapsed  # acked at once, built later
    alice = published(slack, "U0ALICE")
    assert_valid_home(alice)
    shown = text_of(alice)
    assert "✓ alpha · Docker " in shown and "✓ beta · Docker " in shown
    assert "homeweb" in shown and "crash-home died with exit code 3" in shown
    find_button(alice["blocks"], "shipmate.command:--context alpha logs homeweb")  # the rows' own buttons
    find_button(alice["blocks"], "shipmate.command:--context beta restart crash-home")  # the alert's, on its engine

    assert client.send(signed_event(signing_secret, app_home_opened("U0BOB"))).status == 200
    bob = published(slack, "U0BOB")
    assert "✓ alpha" in text_of(bob) and "beta" not in text_of(bob)  # no role on beta: not shown at all
    assert "homeweb" not in text_of(bob)  # not his

    refreshed = client.action(click_in_home(alice, HOME_REFRESH_ACTION, "U0ALICE"))
    assert refreshed.status == 200 and refreshed.elapsed < 1.5
    assert_valid_home(published(slack, "U0ALICE", count=2))

    logs = client.action(click_in_home(alice, "shipmate.command:--context alpha logs homeweb", "U0ALICE"))
    assert logs.status == 200  # a row's button answers in the user's DM with Shipmate (a view has no response_url)
    slack.wait_for(lambda: [c for c in slack.calls("chat.postMessage") if c.body.get("channel") == "D0ALICE"])

    def records() -> list[str]:
        return [r["user_id"] for r in audit_records(settings / "audit.db") if r["command"] == "(app home)"]

    wait_until(lambda: len(records()) == 3, 10, "a record per view of the Home tab")
    assert records() == ["U0ALICE", "U0BOB", "U0ALICE"]
    alices = [c for c in slack.calls("views.publish") if c.body.get("user_id") == "U0ALICE"]
    assert len(alices) == 2  # the Home tab and its refresh: opening the Messages tab publishes nothing


CHANGE_SAFETY_POLICY = """
members:
  U0ALICE: admin
  U0DAVE: viewer
  U0BOB: viewer
approvals:
  - actions: [container.rm]
    approvers: [S0LEADS]
    ttl: 30m
access:
  - who: [U0BOB]
    roles: [operator]
    engines: [alpha]
    approvers: [S0LEADS]
    longest: 2h
"""


def section_of(view: dict[str, Any], title: str) -> str:
    """The text of one section of a Home view: from its title to the next divider ("" when it is left out)."""
    blocks = view["blocks"]
    starts = [i for i, b in enumerate(blocks) if b.get("text", {}).get("text", "").startswith(f"*{title}*")]
    if not starts:
        return ""
    ends = [i for i, b in enumerate(blocks) if b["type"] == "divider" and i > starts[0]]
    return json.dumps(blocks[starts[0] : ends[0] if ends else len(blocks)], ensure_ascii=False)


def values_of(view: dict[str, Any], action_id: str) -> list[str]:
    """The values of a view's buttons with this action id, top to bottom (an approval button's is its request)."""
    return [
        element["value"]
        for block in view["blocks"]
        for element in block.get("elements", [])
        if element.get("action_id") == action_id
    ]


def click_request_in_home(view: dict[str, Any], action_id: str, request_id: str, user: str) -> dict[str, Any]:
    """A Home tab click on the Approve / Deny / Withdraw button of one request."""
    payload = click_in_home(view, action_id, user)
    payload["actions"][0]["value"] = request_id
    assert request_id in values_of(view, action_id)
    return payload


def test_home_over_signed_http_lists_approvals_requests_freezes_silences_and_grants_and_acts_on_them(
    bot_server: Callable[..., BotProcess],
    clean_engine: PrivateEngine,
    slack: SlackStandin,
    signing_secret: str,
    tmp_path: Path,
) -> None:
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "policy.yml").write_text(CHANGE_SAFETY_POLICY)
    (settings / "engines.yml").write_text(
        "default: alpha\nengines:\n"
        f'  alpha: {{host: "{clean_engine.docker_host}"}}\n  beta: {{host: "{clean_engine.docker_host}"}}\n'
    )
    slack.usergroups["S0LEADS"] = ["U0DAVE"]  # Dave approves through the user group, asked at click time
    bot = bot_server(
        SHIPMATE_POLICY=str(settings / "policy.yml"),
        SHIPMATE_AUDIT_DB=str(settings / "audit.db"),
        SHIPMATE_ENGINES=str(settings / "engines.yml"),
    )
    client = SignedClient(bot.url, signing_secret)
    alice, bob = SlackUser(client, slack, "U0ALICE"), SlackUser(client, slack, "U0BOB")
    api = clean_engine.api()
    for name in ("doomed", "spare", "keep"):
        api.start(api.create_container("busybox", ["sleep", "600"], name=name)["Id"])

    def exists(name: str) -> bool:
        return bool(api.containers(all=True, filters={"name": f"^/{name}$"}))

    assert "Waiting for approval" in message_text(alice.answer("/docker", "rm -f doomed"))
    assert "Waiting for approval" in message_text(alice.answer("/docker", "rm -f spare"))
    assert "Waiting for approval" in message_text(alice.answer("/docker", "rm -f keep"))
    assert "Waiting for approval" in message_text(
        bob.answer("/docker", 'request operator --context alpha 1h "INC-4411"')
    )
    assert "frozen until" in message_text(alice.answer("/docker", 'freeze --context beta 2h "release 4.2"'))
    silenced = alice.answer("/docker", "silence --context alpha 'web*' 1h \"deploying web\"")
    assert "silenced until" in message_text(silenced)

    def publishes(user: str) -> int:
        return len([c for c in slack.calls("views.publish") if c.body.get("user_id") == user and c.reply.get("ok")])

    def home_of(user: str, click: dict[str, Any] | None = None) -> dict[str, Any]:
        """The next Home tab published for `user`: after they open it, or after their `click` (an action payload)."""
        count = publishes(user) + 1  # counted before: the tab may be published before the click's ack returns
        if click is None:
            assert client.send(signed_event(signing_secret, app_home_opened(user))).status == 200
        else:
            assert client.action(click).status == 200
        view = published(slack, user, count)
        assert_valid_home(view)
        return view

    dave = home_of("U0DAVE")  # an approver through S0LEADS
    to_decide = section_of(dave, "Approvals waiting for you")
    assert "<@U0ALICE> asks to run `/docker rm -f doomed`" in to_decide and "on `alpha`" in to_decide
    assert "/docker rm -f spare" in to_decide and "<@U0BOB> asks to run" in to_decide
    doomed, spare, keep, access = values_of(dave, "shipmate_approve")  # oldest first
    assert values_of(dave, "shipmate_deny") == [doomed, spare, keep, access]
    assert "beta" in section_of(dave, "Freezes") and "release 4.2" in section_of(dave, "Freezes")
    assert "web*" in section_of(dave, "Silences") and "deploying web" in section_of(dave, "Silences")
    assert not section_of(dave, "Your requests") and not section_of(dave, "Your temporary access")

    mine = home_of("U0ALICE")  # the requester: her own requests, with Withdraw, and nothing to approve
    assert "/docker rm -f doomed" in section_of(mine, "Your requests")
    assert values_of(mine, "shipmate_withdraw") == [doomed, spare, keep]
    assert not section_of(mine, "Approvals waiting for you")

    bobs = home_of("U0BOB")  # a viewer, not an approver
    assert not section_of(bobs, "Approvals waiting for you") and values_of(bobs, "shipmate_withdraw") == [access]
    assert "release 4.2" in section_of(bobs, "Freezes") and not section_of(bobs, "Your temporary access")

    again = home_of("U0DAVE", click_request_in_home(dave, "shipmate_approve", doomed, "U0DAVE"))  # without it
    assert not exists("doomed")
    assert values_of(again, "shipmate_approve") == [spare, keep, access]

    assert client.action(click_request_in_home(again, "shipmate_deny", spare, "U0DAVE")).status == 200
    modal = slack.wait_for(lambda: [c for c in slack.calls("views.open") if c.reply.get("ok")])[0].reply["view"]
    assert modal["callback_id"] == "shipmate_deny_reason" and modal["private_metadata"].startswith(spare)  # why first
    reason = {"reason": {"reason_text": typed("not during the release")}}
    denied = home_of("U0DAVE", view_submission(modal, reason, "U0DAVE"))  # drawn again once denied
    assert values_of(denied, "shipmate_approve") == [keep, access] and exists("spare")

    granted = home_of("U0DAVE", click_request_in_home(denied, "shipmate_approve", access, "U0DAVE"))
    assert values_of(granted, "shipmate_approve") == [keep]
    bobs = home_of("U0BOB")
    assert "operator on alpha until" in section_of(bobs, "Your temporary access") and "INC-4411" in text_of(bobs)
    assert not section_of(bobs, "Your requests")

    withdrawn = home_of("U0ALICE", click_request_in_home(mine, "shipmate_withdraw", keep, "U0ALICE"))
    assert not section_of(withdrawn, "Your requests") and exists("keep")

    def alices_dms(words: str) -> list[Any]:
        return [
            c for c in slack.calls("chat.postMessage") if c.body.get("channel") == "D0ALICE" and words in str(c.body)
        ]

    slack.wait_for(lambda: alices_dms("Withdrawn: nothing ran"))  # the clicker's answer, in her DM
    assert alices_dms("approved by <@U0DAVE>")  # what ran on approval from the Home tab: the requester is told
    assert alices_dms("not during the release")  # and why her request was denied

    approved = [
        (r["user_id"], r["command"])
        for r in audit_records(settings / "audit.db")
        if r["decision"] == "approved" and r["outcome"] != "started"
    ]
    assert ("U0ALICE", "/docker rm -f doomed (approved by U0DAVE)") in approved and len(approved) == 2
