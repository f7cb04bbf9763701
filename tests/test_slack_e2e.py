"""Shipmate as Slack calls it: signed HTTP to the real `shipmate serve` process, a stand-in for Slack's Web API and
response_url on 127.0.0.1, and the private Docker engine. Every message the bot sends must be valid Block Kit."""

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.grammar import SLASH_COMMANDS
from bot.slack.app import EVENTS
from bot.steps import STEPS
from tests.blockkit import assert_valid_message
from tests.signed_client import SignedClient, block_actions, find_button
from tests.slack_forms import global_shortcut, message_shortcut
from tests.slack_standin import envelope

POLICY = """
roles:
  viewer: [image.ls, image.inspect, container.ls, container.inspect, container.logs]
  admin: ["*"]
members:
  U0ALICE: admin
  "*": viewer
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def bot(bot_server, policy_file, tmp_path):
    return bot_server(SHIPMATE_POLICY=str(policy_file), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"))


@pytest.fixture
def client(bot, signing_secret) -> SignedClient:
    return SignedClient(bot.url, signing_secret)


class Conversation:
    """Sends slash commands and collects the one answer each gets, wherever Slack would show it."""

    def __init__(self, client: SignedClient, slack) -> None:
        self.client = client
        self.slack = slack
        self.count = 0

    def send(self, command: str, text: str = "", **fields: str) -> tuple[Any, str]:
        self.count += 1
        name = f"r{self.count}"
        reply = self.client.slash(command, text, response_url=self.slack.response_url(name), **fields)
        assert reply.status == 200, reply.text
        assert reply.elapsed < 3, f"ack took {reply.elapsed:.2f}s"
        return reply, name

    def answer(self, command: str, text: str = "", timeout: float = 60, **fields: str) -> dict:
        """The final answer: in the ack when it came at once, else the response_url post that follows."""
        reply, name = self.send(command, text, **fields)
        body = reply.body if isinstance(reply.body, dict) else {}
        if body.get("blocks") and not body.get("text", "").startswith("⏳"):
            assert_valid_message(body)
            return body
        posted = self.slack.wait_for_response(name, timeout=timeout)
        assert_valid_message(posted)
        return posted


@pytest.fixture
def chat(client, slack) -> Conversation:
    return Conversation(client, slack)


def text_of(message: dict) -> str:
    parts = [message.get("text", "")]
    for block in message.get("blocks", []):
        parts.append(str(block))
    return "\n".join(parts)


def container_names(api, all_: bool = False) -> set[str]:
    return {c["Names"][0].lstrip("/") for c in api.containers(all=all_)}


def test_the_walkthrough_over_signed_http(chat, clean_engine, slack):
    api = clean_engine.api()
    images = chat.answer("/img", "ls")
    assert images["response_type"] == "ephemeral"
    assert "nginx" in text_of(images) and "devwikirepo/envnodecolorapp" in text_of(images)
    only_nginx = text_of(chat.answer("/img", "ls nginx"))
    assert "nginx" in only_nginx and "busybox" not in only_nginx and "envnodecolorapp" not in only_nginx

    for index in (1, 2, 3):
        started = chat.answer("/run", f"-d --name multinginx{index} nginx")
        assert started["response_type"] == "in_channel"
        assert f"multinginx{index}" in text_of(started) and "<@U0ALICE>" in text_of(started)
    assert container_names(api) == {"multinginx1", "multinginx2", "multinginx3"}

    listed = chat.answer("/ps")
    for index in (1, 2, 3):
        assert f"multinginx{index}" in text_of(listed)
        find_button(listed["blocks"], f"shipmate.command:--context default logs multinginx{index}")

    asked = chat.answer("/rm", "-f multinginx1 multinginx2 multinginx3")
    assert asked["response_type"] == "ephemeral" and "Confirm" in asked["text"]
    assert len(container_names(api)) == 3  # nothing happens before the click
    confirm, block_id = find_button(asked["blocks"], "shipmate.confirm")
    chat.client.action(block_actions(confirm, block_id, response_url=slack.response_url("confirm")))
    removed = slack.wait_for_response("confirm", timeout=60)
    assert_valid_message(removed)
    assert text_of(removed).count("removed") >= 3 and removed["replace_original"] is True
    who = removed["blocks"][-1]["elements"][0]["text"]  # the line under it names what was confirmed
    assert who == "<@U0ALICE> · `/docker --context default rm -f multinginx1 multinginx2 multinginx3 (confirmed)`"
    assert container_names(api, all_=True) == set()

    inspected = text_of(chat.answer("/img", "inspect nginx"))
    assert "NGINX_VERSION=1.25.0" in inspected and "httpd -f -p 80" in inspected

    custom = chat.answer("/run", "--name customCmd nginx cat /usr/share/nginx/html/index.html")
    assert "Welcome to nginx!" in text_of(custom) and "exited with code 0" in text_of(custom)
    assert "customCmd" not in text_of(chat.answer("/ps"))
    assert "customCmd" in text_of(chat.answer("/ps", "-a"))
    assert "customCmd" in container_names(api, all_=True) and "customCmd" not in container_names(api)

    inspect_container = text_of(chat.answer("/docker", "container inspect customCmd"))
    assert "customCmd" in inspect_container and "exited" in inspect_container

    blue = chat.answer("/run", "-d -p 8081:3000 --name blueColorApp --env COLOR=blue devwikirepo/envnodecolorapp")
    assert "8081→3000" in text_of(blue)
    data = api.inspect_container("blueColorApp")
    assert "COLOR=blue" in data["Config"]["Env"]
    assert data["HostConfig"]["PortBindings"]["3000/tcp"][0]["HostPort"] == "8081"
    assert data["Config"]["Labels"]["io.shipmate.user"] == "U0ALICE"

    for image in api.images(name="nginx"):
        if "nginx:1.25" in (image.get("RepoTags") or []):
            api.remove_image("nginx:1.25", force=True)
    pulled = chat.answer("/img", "pull nginx:1.25")
    assert "pulled nginx:1.25" in text_of(pulled)
    assert api.inspect_image("nginx:1.25")
    for call in slack.calls("chat.postMessage") + slack.calls("chat.update"):
        assert_valid_message(call.body)


def test_a_slow_pull_acks_at_once_and_shows_progress(client, slack, clean_engine):
    api = clean_engine.api()
    for image in api.images(name="bigimage"):
        api.remove_image(image["Id"], force=True)
    reply = client.slash("/img", "pull bigimage", response_url=slack.response_url("pull"))
    assert reply.status == 200 and reply.elapsed < 3
    assert reply.body["text"].startswith("⏳ pulling bigimage:latest")
    assert reply.body["response_type"] == "ephemeral"

    def finished():
        return [m for m in slack.messages.values() if "pulled bigimage:latest" in m.get("text", "")]

    final = slack.wait_for(finished, timeout=120)[0]
    assert_valid_message(final)
    assert "<@U0ALICE>" in text_of(final)
    posts = [call for call in slack.calls("chat.postMessage") if "thread_ts" not in call.body]
    assert len(posts) == 1 and "⏳ pulling" in text_of(posts[0].body) and "%" in text_of(posts[0].body)
    assert final["ts"] == posts[0].reply["ts"]  # one message, updated in place
    (outcome,) = slack.wait_for(lambda: [c.body for c in slack.calls("chat.postMessage") if "thread_ts" in c.body])
    assert outcome["thread_ts"] == final["ts"] and "pulled bigimage:latest" in outcome["text"]  # in its thread
    for call in [*posts, *slack.calls("chat.update")]:
        assert_valid_message(call.body)
    assert api.inspect_image("bigimage:latest")


def test_buttons_act_with_the_clickers_identity_on_current_state(chat, client, slack, clean_engine):
    api = clean_engine.api()
    chat.answer("/run", "-d --name clicky nginx")
    listed = chat.answer("/ps")
    stop, block_id = find_button(listed["blocks"], "shipmate.command:--context default stop clicky")
    click = client.action(block_actions(stop, block_id, response_url=slack.response_url("stop-click")))
    assert click.status == 200 and click.elapsed < 3
    stopped = slack.wait_for_response("stop-click", timeout=60)
    assert_valid_message(stopped)
    assert "stopped" in text_of(stopped) and "<@U0ALICE>" in text_of(stopped)
    assert api.inspect_container("clicky")["State"]["Status"] == "exited"

    # A viewer clicking the (stale) Remove button is checked as themselves, not as the message's author.
    remove, block_id = find_button(listed["blocks"], "shipmate.command:--context default rm -f clicky")
    refused = client.action(
        block_actions(remove, block_id, response_url=slack.response_url("viewer-click"), user_id="U0VIEWER")
    )
    assert refused.status == 200
    answer = slack.wait_for_response("viewer-click", timeout=30)
    assert answer["response_type"] == "ephemeral" and "container.rm" in text_of(answer)
    assert "clicky" in container_names(api, all_=True)


def test_long_output_is_uploaded_as_a_file_with_a_short_tail_inline(chat, slack, clean_engine):
    chat.answer("/run", "--name chatty busybox sh -c 'seq 1 3000'")
    logs = chat.answer("/logs", "--tail 3000 chatty")
    assert "output truncated, last" in text_of(logs) and "3000" in text_of(logs)
    upload = slack.wait_for(lambda: [u for u in slack.uploads if u.completed and u.filename == "chatty.log"], 30)[0]
    assert upload.data.decode().split() == [str(n) for n in range(1, 3001)]
    assert upload.channel_id.startswith("D")  # a read-only result goes to the requester, not the channel


def test_forged_and_stale_signatures_are_rejected_and_nothing_runs(client, slack, clean_engine):
    url = slack.response_url("forged")
    forged = client.slash("/run", "-d --name forged nginx", response_url=url, forge=True)
    stale = client.slash("/run", "-d --name stale nginx", response_url=url, stale=True)
    assert (forged.status, stale.status) == (401, 401)
    good = client.slash("/ps", response_url=url)
    replay = client.send(good.request)
    assert good.status == 200 and replay.status == 401
    time.sleep(0.5)
    assert container_names(clean_engine.api(), all_=True) == set()
    assert slack.responses("forged") == []


def test_manifest_declares_exactly_the_commands_the_app_serves(chat):
    manifest = yaml.safe_load((Path(__file__).parent.parent / "manifest.yml").read_text())
    declared = {command["command"] for command in manifest["features"]["slash_commands"]}
    assert declared == set(SLASH_COMMANDS)
    for command in manifest["features"]["slash_commands"]:
        assert command["description"] and command["usage_hint"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "files:write"} <= scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] and manifest["settings"]["socket_mode_enabled"]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(EVENTS)
    assert manifest["features"]["app_home"]["home_tab_enabled"]  # app_home_opened comes only with the Home tab
    # Workflow steps: every declared function has a handler and every handler a declaration (each is driven over
    # signed HTTP in tests/test_workflow_steps.py::test_every_declared_step_is_served_and_no_other).
    assert set(manifest["functions"]) == set(STEPS)
    for slash in declared:  # each one is really registered: the app answers it with its usage, not a 404
        answer = chat.answer(slash, "--help" if slash != "/docker" else "help")
        assert answer["response_type"] == "ephemeral" and answer["blocks"]
    for shortcut in manifest["features"]["shortcuts"]:  # each one is registered: a global one opens its form,
        callback_id = shortcut["callback_id"]  # a message one answers (here: the message is not about a container)
        if shortcut["type"] == "global":
            assert chat.client.action(global_shortcut(callback_id, "U0ALICE")).status == 200
            assert chat.slack.wait_for_call("views.open", timeout=10).reply["ok"]
            continue
        url = chat.slack.response_url(callback_id)
        message = {"type": "message", "ts": "1700000000.000100", "text": "hello", "blocks": []}
        assert chat.client.action(message_shortcut(message, "C0OPS", "U0ALICE", url, callback_id)).status == 200
        assert chat.slack.wait_for_response(callback_id, timeout=10)["response_type"] == "ephemeral"


def test_socket_mode_acks_replies_and_reconnects(bot_server, slack, policy_file, clean_engine, tmp_path):
    bot_server("socket", SHIPMATE_POLICY=str(policy_file), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"))
    slack.wait_for_connection(timeout=20)
    payload = {
        "token": "x",
        "team_id": "T0TEST",
        "channel_id": "C0OPS",
        "user_id": "U0ALICE",
        "user_name": "alice",
        "command": "/img",
        "text": "ls nginx",
        "response_url": slack.response_url("socket"),
        "trigger_id": "1.2.3",
        "api_app_id": "A0SHIPMATE",
    }
    sent = envelope("slash_commands", payload)
    slack.send_envelope(sent)
    ack = slack.wait_for_ack(sent["envelope_id"], timeout=10)
    assert ack.latency is not None and ack.latency < 3
    assert_valid_message(ack.payload)
    assert "nginx" in text_of(ack.payload)

    before = slack.connection_count
    slack.drop_connections()
    slack.wait_for(lambda: slack.connection_count > before, timeout=30)
    again = envelope("slash_commands", {**payload, "command": "/ps", "text": "-a"})
    slack.send_envelope(again)
    assert slack.wait_for_ack(again["envelope_id"], timeout=10).payload["blocks"]
