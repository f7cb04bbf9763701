"""Forms and shortcuts: the modals (`/run` with no arguments, Scale…, Restart…, "Shipmate command") and the
"Open logs here" message shortcut. Unit tests check every view against slack_sdk's View model and Slack's modal
limits; the end-to-end tests drive the real `shipmate serve` over signed HTTP with Slack's own payload shapes
(`block_actions` with a trigger_id, `block_suggestion`, `view_submission`, `shortcut`, `message_action`) and
check the views opened in the Slack stand-in and the private engine's state after each submission."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.dispatcher import Caller, Dispatcher
from bot.fleet.engines import Fleet
from bot.policy.authorize import PolicyAuthorizer
from bot.policy.source import PolicySource
from bot.render import forms
from bot.render.blocks import service_buttons, to_message
from bot.render.forms import FormTarget
from bot.results import Alert, ContainerRow, ContainerTable, FromEngine, ServiceRow, ServiceTable
from bot.slack.forms import COMMAND_SHORTCUT, RunFields
from bot.slack.logs_here import LOGS_SHORTCUT, NOT_A_CONTAINER, container_of
from tests.blockkit import assert_valid_message
from tests.signed_client import SignedClient, block_actions, find_button
from tests.slack_forms import (
    MAX_OPTIONS,
    assert_valid_view,
    block_suggestion,
    global_shortcut,
    message_shortcut,
    selected,
    submitted_run_view,
    typed,
    view_submission,
)
from tests.slack_user import SlackUser, audit_records, text_of, wait_until

MANIFEST = Path(__file__).parent.parent / "manifest.yml"


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
    assert set(shortcuts) == {COMMAND_SHORTCUT, LOGS_SHORTCUT}
    assert shortcuts["shipmate_command"]["type"] == "global" and shortcuts["shipmate_logs_here"]["type"] == "message"
    for shortcut in shortcuts.values():
        assert 0 < len(shortcut["name"]) <= 24 and 0 < len(shortcut["description"]) <= 150
    assert "message_menu_options_url" in MANIFEST.read_text()  # the image type-ahead's URL, for HTTP mode


def test_what_a_form_offers_is_what_the_policy_allows_on_each_engine(tmp_path: Path):
    """engines_for and permits ask the policy, per engine and channel, and touch no engine (none is reachable)."""
    engines = tmp_path / "engines.yml"
    engines.write_text(
        "default: staging\nengines:\n"
        + "".join(
            f'  {name}: {{host: "unix:///nonexistent/{name}.sock"}}\n' for name in ("staging", "prod-1", "prod-2")
        )
    )
    policy = tmp_path / "policy.yml"
    policy.write_text(
        'members:\n  U0OPER: {staging: operator, "prod-*": viewer}\n  U0VIEW: viewer\n'
        "channels: [C0OPS]\nimages: [nginx]\n"
    )
    dispatcher = Dispatcher(Fleet(engines), PolicyAuthorizer(PolicySource(policy)))
    oper = Caller("U0OPER", "T0TEST", "C0OPS", "oper")
    assert dispatcher.pipeline.engines_for(oper, "container.run") == ("staging",)
    assert dispatcher.pipeline.engines_for(oper) == ("staging", "prod-1", "prod-2")
    assert dispatcher.pipeline.engines_for(Caller("U0VIEW", "T0TEST", "C0OPS"), "container.run") == ()
    assert dispatcher.pipeline.engines_for(Caller("U0NOBODY", "T0TEST", "C0OPS")) == ()  # no engine named to them
    assert dispatcher.pipeline.engines_for(Caller("U0OPER", "T0TEST", "C0ELSEWHERE"), "container.run") == ()
    assert dispatcher.pipeline.permits("run nginx:1.25", oper, "staging")
    assert not dispatcher.pipeline.permits("run busybox", oper, "staging")  # off the allowlist
    assert not dispatcher.pipeline.permits("run nginx", oper, "prod-1")  # a viewer there
    assert not dispatcher.pipeline.permits("run", oper, "staging")  # not a command


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
    assert not sent.ack_body.get("blocks"), sent.reply.text  # the form is the answer
    view = _opened(slack, 1)
    assert view["callback_id"] == forms.RUN_FORM
    assert json.loads(view["private_metadata"])["channel"] == "C0OPS"
    engine_field = view["blocks"][0]["element"]
    assert [option["value"] for option in engine_field["options"]] == ["default"]

    chosen = {forms.ENGINE: {forms.ENGINE: selected("default")}}
    every = _send(client, block_suggestion(view, chosen, "", "U0OPER")).body
    offered = [option["value"] for option in every["options"]]
    assert "nginx" in offered and "nginx:latest" in offered and "devwikirepo/envnodecolorapp:latest" in offered
    assert not [image for image in offered if "busybox" in image or "bigimage" in image], offered  # not allowed
    narrowed = _send(client, block_suggestion(view, chosen, "COLOR", "U0OPER")).body
    assert [option["value"] for option in narrowed["options"]] == ["devwikirepo/envnodecolorapp:latest"]
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

    good = submitted_run_view(
        "default", "devwikirepo/envnodecolorapp:latest", name="formweb", env="COLOR=blue", ports="8081:3000"
    )["state"]["values"]
    closed = _send(client, view_submission(view, good, "U0OPER"))
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

    taken = _send(
        client, view_submission(view, good, "U0OPER")
    ).body  # the same name again: Docker's answer, on the name field
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
    assert json.loads(from_home["private_metadata"])["channel"] == "D0OPER"  # answers go to the user's DM


def test_the_command_shortcut_runs_a_command_and_shows_a_parse_error_on_its_field(client, slack, clean_engine, bot):
    api = clean_engine.api()
    _send(client, global_shortcut("shipmate_command", "U0OPER"))
    view = _opened(slack, 1)
    assert view["callback_id"] == forms.COMMAND_FORM
    engine = {forms.ENGINE: {forms.ENGINE: selected("default")}}

    wrong = _send(
        client, view_submission(view, {forms.COMMAND: {forms.COMMAND: typed("frobnicate web")}} | engine, "U0OPER")
    )
    assert wrong.body["response_action"] == "errors" and set(wrong.body["errors"]) == {forms.COMMAND}
    refused = _send(
        client, view_submission(view, {forms.COMMAND: {forms.COMMAND: typed("run -d busybox")}} | engine, "U0OPER")
    )
    assert "allowlist" in refused.body["errors"][forms.COMMAND]

    line = "run -d --name viashortcut nginx"
    _send(client, view_submission(view, {forms.COMMAND: {forms.COMMAND: typed(line)}} | engine, "U0OPER"))
    wait_until(lambda: _runs(api, "viashortcut"), 30, "viashortcut created")
    posted = slack.wait_for(
        lambda: [c.body for c in slack.calls("chat.postMessage") if "viashortcut" in text_of(c.body)], timeout=30
    )[0]
    assert posted["channel"] == "D0OPER"  # no channel with a global shortcut: the user's DM
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


def test_the_restart_form_of_a_compose_project_still_asks_first_then_restarts_it(client, slack, clean_engine):
    api = clean_engine.api()
    labels = {
        "com.docker.compose.project": "formshop",
        "com.docker.compose.service": "web",
        "com.docker.compose.container-number": "1",
        "com.docker.compose.project.config_files": "/srv/formshop/compose.yaml",
        "com.docker.compose.depends_on": "",
        "com.docker.compose.oneoff": "False",
    }
    command = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
    api.start(api.create_container("busybox:latest", command, name="formshop-web-1", labels=labels)["Id"])
    before = api.inspect_container("formshop-web-1")["State"]["StartedAt"]
    oper = SlackUser(client, slack, "U0OPER")
    listed = oper.answer("/compose", "ls")
    _click_for_form(client, listed, forms.OPEN_RESTART_FORM, "U0OPER")
    view = _opened(slack, 1)
    assert "compose restart formshop" in json.dumps(view["blocks"])
    _send(client, view_submission(view, {forms.CONFIRM: {forms.CONFIRM: typed("formshop")}}, "U0OPER"))
    asked = slack.wait_for_call("chat.postEphemeral", timeout=30).body  # the question, to the submitter only
    assert asked["channel"] == "C0OPS" and asked["user"] == "U0OPER" and "Confirm" in text_of(asked)
    assert api.inspect_container("formshop-web-1")["State"]["StartedAt"] == before  # nothing before the click
    done = oper.click(asked, "shipmate.confirm")
    assert "restarted" in text_of(done), text_of(done)
    assert api.inspect_container("formshop-web-1")["State"]["StartedAt"] > before


def _replicas(api, service: str) -> int:
    return api.inspect_service(service)["Spec"]["Mode"]["Replicated"]["Replicas"]


def _click_for_form(client: SignedClient, message: dict[str, Any], action_id: str, user_id: str) -> None:
    button, block_id = find_button(message["blocks"], action_id)
    _send(client, block_actions(button, block_id, response_url="http://127.0.0.1:9/unused", user_id=user_id))


def test_scale_and_restart_forms_act_on_a_real_swarm_service(client, slack, swarm):
    """Last in this module: the swarm fixture leaves the engine a swarm manager until the module ends."""
    api = swarm.api()
    oper = SlackUser(client, slack, "U0OPER")
    created = oper.answer("/service", "create --name formsvc --replicas 1 nginx")
    assert "formsvc: 1/1 running" in created["text"], text_of(created)
    listed = oper.answer("/service", "ls")

    _click_for_form(client, listed, forms.OPEN_SCALE_FORM, "U0OPER")
    scale = _opened(slack, 1)
    assert scale["callback_id"] == forms.SCALE_FORM and "formsvc" in json.dumps(scale["blocks"])
    assert json.loads(scale["private_metadata"])["target"] == "--context default service formsvc"

    def replicas(value: str) -> dict[str, Any]:
        return {forms.REPLICAS: {forms.REPLICAS: {"type": "number_input", "value": value}}}

    negative = _send(client, view_submission(scale, replicas("-1"), "U0OPER")).body
    assert set(negative["errors"]) == {forms.REPLICAS}
    viewer = _send(client, view_submission(scale, replicas("3"), "U0VIEW")).body
    assert "`service.scale` needs operator" in viewer["errors"][forms.REPLICAS]
    assert _replicas(api, "formsvc") == 1
    _send(client, view_submission(scale, replicas("2"), "U0OPER"))
    wait_until(lambda: _replicas(api, "formsvc") == 2, 30, "formsvc scaled to 2")
    done = slack.wait_for(
        lambda: [
            c.body
            for c in [*slack.calls("chat.postMessage"), *slack.calls("chat.update")]
            if "2/2 running ✓" in text_of(c.body)
        ],
        timeout=90,
    )[0]
    assert done["channel"] == "C0OPS" and "<@U0OPER>" in text_of(done)

    _click_for_form(client, listed, forms.OPEN_RESTART_FORM, "U0OPER")
    restart = _opened(slack, 2)
    assert restart["callback_id"] == forms.RESTART_FORM and "service update --force formsvc" in json.dumps(restart)
    before = api.inspect_service("formsvc")["Spec"]["TaskTemplate"].get("ForceUpdate", 0)
    typo = _send(client, view_submission(restart, {forms.CONFIRM: {forms.CONFIRM: typed("formsv")}}, "U0OPER")).body
    assert set(typo["errors"]) == {forms.CONFIRM} and "formsvc" in typo["errors"][forms.CONFIRM]
    assert api.inspect_service("formsvc")["Spec"]["TaskTemplate"].get("ForceUpdate", 0) == before
    _send(client, view_submission(restart, {forms.CONFIRM: {forms.CONFIRM: typed("formsvc")}}, "U0OPER"))
    wait_until(
        lambda: api.inspect_service("formsvc")["Spec"]["TaskTemplate"].get("ForceUpdate", 0) == before + 1,
        30,
        "formsvc forced to update",
    )
