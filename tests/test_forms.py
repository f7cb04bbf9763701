"""Forms and shortcuts: the modals (`/run` with no arguments, Scale…, Restart…, "Shipmate command") and the
"Open logs here" message shortcut. Unit tests check every view against slack_sdk's View model and Slack's modal
limits; the end-to-end tests drive the real `shipmate serve` over signed HTTP with Slack's own payload shapes
(`block_actions` with a trigger_id, `block_suggestion`, `view_submission`, `shortcut`, `message_action`) and
check the views opened in the Slack stand-in and the private engine's state after each submission."""

import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk.models.views import View

from bot.render import forms
from bot.render.blocks import service_buttons, to_message
from bot.render.forms import FormTarget
from bot.results import Alert, ContainerRow, ContainerTable, FromEngine, ServiceRow, ServiceTable
from bot.slack.forms import NOT_A_CONTAINER, SHORTCUTS, RunFields, container_of
from tests.blockkit import assert_valid_message, block_problems
from tests.signed_client import APP_ID, TEAM_DOMAIN, TEAM_ID, VERIFICATION_TOKEN, SignedClient, block_actions
from tests.slack_user import SlackUser, audit_records, text_of, wait_until

MANIFEST = Path(__file__).parent.parent / "manifest.yml"

# -- the views, against slack_sdk's View model and Slack's modal limits ----------------------------------------

MAX_MODAL_BLOCKS = 100
MAX_TITLE = 24  # title, submit and close
MAX_METADATA = 3000
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150


def assert_valid_view(view: dict[str, Any]) -> None:
    """Slack's own model accepts it unchanged, each block passes the message checks, and the modal limits hold."""
    model = View(**view)
    model.validate_json()
    assert model.to_dict() == view, "slack_sdk's View drops or changes part of the view"
    assert view["type"] == "modal" and len(view["blocks"]) <= MAX_MODAL_BLOCKS
    for key in ("title", "submit", "close"):
        if key in view:
            assert view[key]["type"] == "plain_text" and 0 < len(view[key]["text"]) <= MAX_TITLE, key
    assert len(view.get("private_metadata", "")) <= MAX_METADATA
    block_ids = [block["block_id"] for block in view["blocks"] if "block_id" in block]
    assert len(block_ids) == len(set(block_ids))
    for block in view["blocks"]:
        assert list(block_problems(block)) == [], block
        if block["type"] != "input":
            continue
        assert 0 < len(block["label"]["text"]) <= MAX_LABEL
        element = block["element"]
        assert len(element.get("placeholder", {}).get("text", "")) <= MAX_PLACEHOLDER
        choices = element.get("options", [])
        assert len(choices) <= MAX_OPTIONS
        for choice in choices:
            assert 0 < len(choice["text"]["text"]) <= MAX_OPTION_TEXT and 0 < len(choice["value"]) <= MAX_OPTION_VALUE


def test_every_form_is_a_valid_modal_within_slacks_limits():
    many = tuple(f"edge-{index:03d}-{'x' * 60}" for index in range(150))
    metadata = json.dumps({"channel": "C0OPS", "engine": many[0]})
    target = FormTarget(forms.SERVICE, "web", "prod-1")
    project = FormTarget(forms.COMPOSE, "shop-with-a-long-name-for-a-title", "prod-1")
    views = [
        forms.run_form(("default",), "default", metadata),
        forms.run_form(many, many[3], metadata),
        forms.scale_form(target, json.dumps({"target": target.value})),
        forms.restart_form(target, "{}"),
        forms.restart_form(project, "{}"),
        forms.command_form(many, many[0], metadata),
        forms.notice_form("you may not <!channel> run containers"),
    ]
    for view in views:
        assert_valid_view(view)
    picked = views[1]["blocks"][0]["element"]
    assert len(picked["options"]) == MAX_OPTIONS and picked["initial_option"]["value"] == many[3]
    assert "&lt;!channel&gt;" in json.dumps(views[-1]) and "submit" not in views[-1]  # a notice has nothing to submit


def test_image_options_leave_out_what_slack_cannot_take():
    long_name = "registry.example.com/" + "a" * 200 + ":1"
    found = forms.options(["nginx", long_name, *(f"img{index}" for index in range(120))])
    assert [option["value"] for option in found[:2]] == ["nginx", "img0"] and len(found) == MAX_OPTIONS


def test_form_buttons_on_rows_act_on_the_rows_engine():
    row = ServiceRow("id1", "web", "replicated", 1, 2, "busybox", ())
    message = to_message(FromEngine("prod-1", ServiceTable((row,)), titled=False))
    assert_valid_message(message)
    values = {element["action_id"]: element["value"] for element in message.blocks[-1]["elements"]}
    assert values[forms.OPEN_SCALE_FORM] == "--context prod-1 service web"
    assert values[forms.OPEN_RESTART_FORM] == "--context prod-1 service web"
    assert FormTarget.parse(values[forms.OPEN_SCALE_FORM]) == FormTarget(forms.SERVICE, "web", "prod-1")
    global_mode = service_buttons(ServiceRow("id2", "agent", "global", 1, 1, "busybox", ()))
    assert forms.OPEN_SCALE_FORM not in json.dumps(global_mode) and forms.OPEN_RESTART_FORM in json.dumps(global_mode)
    assert FormTarget.parse("--context prod-1 volume data") is None and FormTarget.parse("") is None


def test_the_run_line_is_shell_quoted_and_a_bad_field_is_named():
    view = submitted_run_view(
        "default", "nginx", name="web1", env="COLOR=blue\n\nGREETING=hello world", ports="8081:3000"
    )
    fields = RunFields.read(view)
    assert (
        fields.line() == "--context default -d --name web1 -e COLOR=blue -e 'GREETING=hello world' -p 8081:3000 nginx"
    )
    bad = RunFields.read(submitted_run_view("default", "nginx", ports="8081:3000 99999:1"))
    from bot.request import Reply
    from bot.results import Failure

    refused = Failure("`99999` is not a valid host port")
    assert bad.field_refused(Reply(None, refused, None), refused) == forms.PORTS
    taken = Failure("the name `web1` is already in use: pick another `--name` or remove the old container")
    assert fields.field_refused(Reply(None, taken, object()), taken) == forms.NAME  # type: ignore[arg-type]
    off_list = Failure("`busybox` is not on the image allowlist (nginx)")
    assert fields.field_refused(Reply(None, off_list, object()), off_list) == forms.IMAGE  # type: ignore[arg-type]


def test_the_container_a_message_is_about_comes_from_its_buttons():
    alert = Alert(
        engine="prod-1",
        container="web1",
        short_id="abc123",
        image="nginx",
        kind="die",
        what="died with exit code 3",
        at=datetime(2026, 1, 1, tzinfo=UTC),
        state="exited",
    )
    assert container_of(to_message(alert).blocks) == ("prod-1", "web1")
    rows = tuple(ContainerRow(f"web{n}", f"id{n}", "nginx", "", "running", "Up", ()) for n in (1, 2))
    several = to_message(FromEngine("default", ContainerTable(rows, all=False), titled=False))
    assert "several containers" in str(container_of(several.blocks))
    assert container_of([{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]) == NOT_A_CONTAINER


def test_the_manifest_declares_the_shortcuts_the_app_registers():
    manifest = yaml.safe_load(MANIFEST.read_text())
    shortcuts = {shortcut["callback_id"]: shortcut for shortcut in manifest["features"]["shortcuts"]}
    assert set(shortcuts) == set(SHORTCUTS)
    assert shortcuts["shipmate_command"]["type"] == "global" and shortcuts["shipmate_logs_here"]["type"] == "message"
    for shortcut in shortcuts.values():
        assert 0 < len(shortcut["name"]) <= 24 and 0 < len(shortcut["description"]) <= 150
    assert "message_menu_options_url" in MANIFEST.read_text()  # the image type-ahead's URL, for HTTP mode


# -- Slack's payloads ---------------------------------------------------------------------------------------------


def _user(user_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def _trigger() -> str:
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(8)}"


def _common(kind: str, user_id: str) -> dict[str, Any]:
    return {
        "type": kind,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_submission(view: dict[str, Any], values: dict[str, Any], user_id: str) -> dict[str, Any]:
    """What Slack sends when the user presses the modal's submit button: the view as opened, with its state."""
    submitted = view | {"state": {"values": values}, "team_id": TEAM_ID, "app_id": APP_ID, "bot_id": "B0BOT"}
    return _common("view_submission", user_id) | {"trigger_id": _trigger(), "view": submitted, "response_urls": []}


def block_suggestion(view: dict[str, Any], values: dict[str, Any], typed: str, user_id: str) -> dict[str, Any]:
    return _common("block_suggestion", user_id) | {
        "container": {"type": "view", "view_id": view["id"]},
        "action_id": forms.IMAGE_SUGGESTIONS,
        "block_id": forms.IMAGE,
        "value": typed,
        "view": view | {"state": {"values": values}},
    }


def global_shortcut(callback_id: str, user_id: str) -> dict[str, Any]:
    return _common("shortcut", user_id) | {
        "callback_id": callback_id,
        "trigger_id": _trigger(),
        "action_ts": f"{time.time():.6f}",
    }


def message_shortcut(message: dict[str, Any], channel_id: str, user_id: str, response_url: str) -> dict[str, Any]:
    return _common("message_action", user_id) | {
        "callback_id": "shipmate_logs_here",
        "trigger_id": _trigger(),
        "action_ts": f"{time.time():.6f}",
        "message_ts": message["ts"],
        "message": message,
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "response_url": response_url,
    }


def _selected(value: str, kind: str = "static_select") -> dict[str, Any]:
    return {"type": kind, "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}


def _typed(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def submitted_run_view(
    engine: str, image: str, *, name: str = "", env: str = "", ports: str = "", detach: bool = True
) -> dict[str, Any]:
    detach_option = {"text": {"type": "plain_text", "text": "-d"}, "value": forms.DETACH}
    values = {
        forms.ENGINE: {forms.ENGINE: _selected(engine)},
        forms.IMAGE: {forms.IMAGE_SUGGESTIONS: _selected(image, "external_select")},
        forms.NAME: {forms.NAME: _typed(name)},
        forms.ENV: {forms.ENV: _typed(env)},
        forms.PORTS: {forms.PORTS: _typed(ports)},
        forms.DETACH: {forms.DETACH: {"type": "checkboxes", "selected_options": [detach_option] if detach else []}},
    }
    return {"state": {"values": values}}


# -- against the real server and engine ---------------------------------------------------------------------------

POLICY = """\
members:
  U0OPER: operator
  U0VIEW: viewer
images: [nginx, "devwikirepo/*"]
"""


@pytest.fixture
def bot(bot_server, tmp_path: Path):
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    audit = tmp_path / "audit.db"
    return bot_server(SHIPMATE_POLICY=str(policy), SHIPMATE_AUDIT_DB=str(audit)), audit


@pytest.fixture
def client(bot, signing_secret) -> SignedClient:
    return SignedClient(bot[0].url, signing_secret)


def _send(client: SignedClient, payload: dict[str, Any]):
    reply = client.action(payload)
    assert reply.status == 200, reply.text
    assert reply.elapsed < 3, f"acked after {reply.elapsed:.2f}s"
    return reply


def _opened(slack, count: int) -> dict[str, Any]:
    """The view of the count-th views.open, as Slack keeps it (with its id)."""
    call = slack.wait_for_call("views.open", count=count, timeout=15)
    assert call.reply["ok"], call.reply
    view = call.reply["view"]
    assert_valid_view({key: value for key, value in view.items() if key not in ("id", "hash")})
    return view


def _runs(api, name: str) -> bool:
    return any(f"/{name}" in container["Names"] for container in api.containers(all=True))


def test_run_form_from_opening_to_a_running_container(client, slack, clean_engine, bot):
    api = clean_engine.api()
    oper = SlackUser(client, slack, "U0OPER")
    sent = oper.send("/run")  # no arguments: the form
    assert sent.ack_body in ({}, "") or not sent.ack_body.get("blocks"), sent.reply.text
    view = _opened(slack, 1)
    assert view["callback_id"] == forms.RUN_FORM
    assert json.loads(view["private_metadata"])["channel"] == "C0OPS"
    engine_field = view["blocks"][0]["element"]
    assert [option["value"] for option in engine_field["options"]] == ["default"]

    chosen = {forms.ENGINE: {forms.ENGINE: _selected("default")}}
    every = _send(client, block_suggestion(view, chosen, "", "U0OPER")).body
    offered = [option["value"] for option in every["options"]]
    assert "nginx" in offered and "nginx:latest" in offered and "devwikirepo/envnodecolorapp:latest" in offered
    assert not [image for image in offered if "busybox" in image or "bigimage" in image], offered  # not allowed
    typed = _send(client, block_suggestion(view, chosen, "COLOR", "U0OPER")).body
    assert [option["value"] for option in typed["options"]] == ["devwikirepo/envnodecolorapp:latest"]
    viewer = _send(client, block_suggestion(view, chosen, "", "U0VIEW")).body
    assert viewer["options"] == []  # a viewer may run nothing, so no image is offered

    bad_port = view_submission(
        view,
        submitted_run_view("default", "nginx", name="formweb", ports="8081:3000 99999:80")["state"]["values"],
        "U0OPER",
    )
    answer = _send(client, bad_port).body
    assert answer["response_action"] == "errors" and set(answer["errors"]) == {forms.PORTS}, answer
    assert "99999" in answer["errors"][forms.PORTS]
    bad_env = view_submission(
        view, submitted_run_view("default", "nginx", name="formweb", env="COLOR")["state"]["values"], "U0OPER"
    )
    assert set(_send(client, bad_env).body["errors"]) == {forms.ENV}
    off_list = view_submission(view, submitted_run_view("default", "busybox")["state"]["values"], "U0OPER")
    refused = _send(client, off_list).body
    assert set(refused["errors"]) == {forms.IMAGE} and "allowlist" in refused["errors"][forms.IMAGE]
    assert api.containers(all=True) == []  # nothing was created

    good = view_submission(
        view,
        submitted_run_view(
            "default", "devwikirepo/envnodecolorapp:latest", name="formweb", env="COLOR=blue", ports="8081:3000"
        )["state"]["values"],
        "U0OPER",
    )
    closed = _send(client, good)
    assert closed.body in ("", {}) or "response_action" not in closed.body, closed.text
    data = wait_until(lambda: _runs(api, "formweb") and api.inspect_container("formweb"), 30, "formweb created")
    assert "COLOR=blue" in data["Config"]["Env"]
    assert data["HostConfig"]["PortBindings"]["3000/tcp"][0]["HostPort"] == "8081"
    assert data["Config"]["Labels"]["io.shipmate.user"] == "U0OPER"
    posted = slack.wait_for(
        lambda: [c.body for c in slack.calls("chat.postMessage") if "formweb" in text_of(c.body)], timeout=30
    )[0]
    assert_valid_message(posted)
    assert (
        posted["channel"] == "C0OPS"
        and "<@U0OPER>" in text_of(posted)
        and "/run --context default -d" in text_of(posted)
    )

    taken = _send(client, good).body  # the same name again: Docker's answer, on the name field
    assert set(taken["errors"]) == {forms.NAME} and "already in use" in taken["errors"][forms.NAME]
    lines = [record["command"] for record in audit_records(bot[1])]
    assert any("--name formweb" in line and "99999:80" in line for line in lines)  # the bad one is on the record
    assert sum("--name formweb" in line and "8081:3000" in line for line in lines) >= 2


def test_a_viewer_gets_no_run_form_and_the_home_button_opens_one(client, slack, clean_engine):
    _send(client, global_shortcut("shipmate_command", "U0VIEW"))
    command_form = _opened(slack, 1)
    assert command_form["callback_id"] == forms.COMMAND_FORM  # a viewer has a role: the command form

    SlackUser(client, slack, "U0VIEW").send("/run")
    notice = _opened(slack, 2)
    assert "submit" not in notice and "may not run containers" in json.dumps(notice)

    button = {
        "action_id": forms.OPEN_RUN_FORM,
        "type": "button",
        "value": "run",
        "text": {"type": "plain_text", "text": "Run…"},
    }
    home_click = block_actions(button, "home", response_url="unused", user_id="U0OPER")
    home_click["container"] = {"type": "view", "view_id": "VHOMEU0OPER"}
    for key in ("response_url", "channel"):
        home_click.pop(key)
    _send(client, home_click)
    from_home = _opened(slack, 3)
    assert from_home["callback_id"] == forms.RUN_FORM
    assert json.loads(from_home["private_metadata"])["channel"] == "DOPER"  # answers go to the user's DM


def test_the_command_shortcut_runs_a_command_and_shows_a_parse_error_on_its_field(client, slack, clean_engine, bot):
    api = clean_engine.api()
    _send(client, global_shortcut("shipmate_command", "U0OPER"))
    view = _opened(slack, 1)
    assert view["callback_id"] == forms.COMMAND_FORM
    engine = {forms.ENGINE: {forms.ENGINE: _selected("default")}}

    wrong = _send(
        client, view_submission(view, {forms.COMMAND: {forms.COMMAND: _typed("frobnicate web")}} | engine, "U0OPER")
    )
    assert wrong.body["response_action"] == "errors" and set(wrong.body["errors"]) == {forms.COMMAND}
    refused = _send(
        client, view_submission(view, {forms.COMMAND: {forms.COMMAND: _typed("run -d busybox")}} | engine, "U0OPER")
    )
    assert "allowlist" in refused.body["errors"][forms.COMMAND]

    line = "run -d --name viashortcut nginx"
    _send(client, view_submission(view, {forms.COMMAND: {forms.COMMAND: _typed(line)}} | engine, "U0OPER"))
    wait_until(lambda: _runs(api, "viashortcut"), 30, "viashortcut created")
    posted = slack.wait_for(
        lambda: [c.body for c in slack.calls("chat.postMessage") if "viashortcut" in text_of(c.body)], timeout=30
    )[0]
    assert posted["channel"] == "DOPER"  # no channel with a global shortcut: the user's DM
    assert_valid_message(posted)
    records = [record for record in audit_records(bot[1]) if "viashortcut" in record["command"]]
    assert records and records[-1]["command"] == "/docker --context default run -d --name viashortcut nginx"


def test_open_logs_here_posts_the_containers_logs_in_the_messages_thread(client, slack, clean_engine):
    api = clean_engine.api()
    oper = SlackUser(client, slack, "U0OPER")
    started = oper.answer("/run", "-d --name chatty nginx sh -c 'echo line-from-chatty; sleep 300'")
    assert started["response_type"] == "in_channel" and "chatty" in text_of(started)
    message = started | {"ts": "1700000000.000100", "type": "message"}  # as Slack sends it with the shortcut
    wait_until(lambda: b"line-from-chatty" in api.logs("chatty"), 15, "chatty logged")

    _send(client, message_shortcut(message, "C0OPS", "U0VIEW", slack.response_url("logs-here")))
    threaded = slack.wait_for(
        lambda: [c.body for c in slack.calls("chat.postMessage") if c.body.get("thread_ts") == message["ts"]],
        timeout=30,
    )[0]
    assert "line-from-chatty" in text_of(threaded) and threaded["channel"] == "C0OPS"
    assert "<@U0VIEW>" in text_of(threaded)
    assert_valid_message(threaded)

    _send(client, message_shortcut(message, "C0OPS", "U0NOBODY", slack.response_url("refused-here")))
    refusal = slack.wait_for_response("refused-here", timeout=30)
    assert refusal["response_type"] == "ephemeral" and "no Shipmate role" in text_of(refusal)
    not_about = {"ts": "1700000000.000200", "text": "lunch?", "blocks": []}
    _send(client, message_shortcut(not_about, "C0OPS", "U0VIEW", slack.response_url("not-here")))
    assert "not about a container" in text_of(slack.wait_for_response("not-here", timeout=30))
    threads = [c for c in slack.calls("chat.postMessage") if c.body.get("thread_ts")]
    assert len(threads) == 1  # only the allowed one was posted in the thread
