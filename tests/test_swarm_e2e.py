"""Swarm services end to end: signed HTTP to the real `shipmate serve`, the Slack stand-in, and a one-node swarm
on the private engine. Every answer is checked against the swarm's real state, every message as Block Kit."""

from pathlib import Path

import pytest

from bench.proxy import CountingProxy
from bench.run import docker_cli
from bench.stack import Stack
from bench.swarm import measure_service_ls
from tests.blockkit import assert_valid_message
from tests.signed_client import SignedClient
from tests.slack_user import SlackUser, asks_to_confirm, audit_records, text_of, wait_until
from tests.swarm import in_swarm

# No `roles:` key: the standard viewer, operator and admin roles.
POLICY = """\
members:
  U0ADMIN: admin
  U0OPER: operator
  U0OTHER: operator
  U0VIEW: viewer
images: [busybox, nosuchimage]
run: {memory: 64m, cpus: 0.5}
"""
SECRET = "hunter2-not-for-chat"
# Prints its colour once, then idles; exits at once on SIGTERM so updates do not wait out a grace period.
TALKER = "sh -c 'trap \"exit 0\" TERM; echo hello from $COLOR; while true; do sleep 1; done'"


@pytest.fixture
def users(bot_server, signing_secret, slack, tmp_path: Path) -> dict[str, SlackUser]:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    bot = bot_server(
        SHIPMATE_POLICY=str(policy), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"), SHIPMATE_CONVERGE_TIMEOUT="60"
    )
    client = SignedClient(bot.url, signing_secret)
    return {
        name: SlackUser(client, slack, user_id)
        for name, user_id in (("admin", "U0ADMIN"), ("oper", "U0OPER"), ("other", "U0OTHER"), ("viewer", "U0VIEW"))
    }


def _in(user: SlackUser, channel: str) -> SlackUser:
    """The same user in a channel of its own: a command with live progress is then surely the only one there."""
    return SlackUser(user.client, user.slack, user.user_id, channel)


def _live_tasks(api, service: str) -> list[dict]:
    return [task for task in api.tasks(filters={"service": service}) if task["DesiredState"] == "running"]


def _running(api, service: str) -> int:
    return sum(1 for task in api.tasks(filters={"service": service}) if task["Status"]["State"] == "running")


def test_not_a_manager_is_one_line_for_every_swarm_command(users, engine):
    api = engine.api()
    assert not in_swarm(api), "this test needs the engine outside a swarm: it must run before the swarm fixture"
    admin = users["admin"]
    for command, text in (
        ("/service", "ls"),
        ("/service", "scale web=3"),
        ("/docker", "node ls"),
        ("/docker", "stack ls"),
    ):
        answer = admin.answer(command, text)
        assert_valid_message(answer)
        assert answer["text"] == (
            "❌ this engine is not a swarm manager: run `docker swarm init`, or point Shipmate at a manager"
        )


def test_services_from_create_to_rm_over_signed_http(users, swarm, slack, tmp_path: Path):
    api = swarm.api()
    oper, viewer, other = users["oper"], users["viewer"], users["other"]

    created = _in(oper, "C0CREATE").answer(
        "/service", f"create --name web --replicas 1 -e COLOR=blue -e API_TOKEN={SECRET} busybox {TALKER}"
    )
    assert "web: 1/1 running ✓ created, converged in" in created["text"], text_of(created)
    assert "<@U0OPER>" in text_of(created)  # posted in the channel, with who asked
    spec = api.inspect_service("web")["Spec"]
    assert spec["Labels"]["io.shipmate.user"] == "U0OPER" and spec["Labels"]["io.shipmate.team"]
    assert f"API_TOKEN={SECRET}" in spec["TaskTemplate"]["ContainerSpec"]["Env"]
    assert spec["TaskTemplate"]["Resources"]["Limits"] == {"MemoryBytes": 64 * 2**20, "NanoCPUs": 500_000_000}
    outside = oper.answer("/service", "create --name miner evilcorp/miner")
    assert "`evilcorp/miner` is not on the image allowlist" in outside["text"]
    assert not api.services(filters={"name": "miner"})
    assert _running(api, "web") == 1

    scaler = _in(oper, "C0SCALE")
    scaled = scaler.answer("/service", "scale web=3")
    assert "web: 3/3 running ✓ scaled, converged in" in scaled["text"], text_of(scaled)
    posted = [call for call in slack.calls("chat.postMessage") if call.body.get("channel") == "C0SCALE"]
    live = [call.body for call in posted if "thread_ts" not in call.body]
    assert len(live) == 1 and "⏳" in text_of(live[0]) and "/3 running" in text_of(live[0])  # one message, updated
    (outcome,) = slack.wait_for(  # and the outcome in its thread, posted right after the update
        lambda: [c.body for c in slack.calls("chat.postMessage") if c.body.get("channel") == "C0SCALE"][1:]
    )
    assert outcome["thread_ts"] == posted[0].reply["ts"] and "converged in" in outcome["text"]
    assert api.inspect_service("web")["Spec"]["Mode"]["Replicated"]["Replicas"] == 3 and _running(api, "web") == 3

    listed = viewer.answer("/service", "ls")
    assert "3/3" in text_of(listed) and "web" in text_of(listed) and listed["response_type"] == "ephemeral"
    for action in ("service ps web", "service logs web", "service scale web=4", "service scale web=2"):
        assert f"shipmate.command:--context default {action}" in text_of(listed)
    assert "shipmate.command:--context default service rollback web" in text_of(
        listed
    )  # the scale left a previous spec

    refused = viewer.click(listed, "shipmate.command:--context default service scale web=4")  # checked as the clicker
    assert "`service.scale` needs operator" in text_of(refused) and refused["response_type"] == "ephemeral"
    typed = viewer.answer("/service", "scale web=5")
    assert "`service.scale` needs operator" in text_of(typed)
    assert api.inspect_service("web")["Spec"]["Mode"]["Replicated"]["Replicas"] == 3

    tasks = text_of(viewer.answer("/service", "ps web"))
    assert "web.1" in tasks and "web.3" in tasks and "Running" in tasks
    inspected = text_of(viewer.answer("/service", "inspect web"))
    assert "COLOR=blue" in inspected and "API_TOKEN=••••" in inspected and SECRET not in inspected
    logs = text_of(viewer.answer("/service", "logs web"))
    assert "hello from blue" in logs and "web.1." in logs

    green = _in(oper, "C0GREEN").answer("/service", "update --env-add COLOR=green --env-rm API_TOKEN web")
    assert "web: 3/3 running ✓ updated, converged in" in green["text"], text_of(green)
    env = api.inspect_service("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert env == ["COLOR=green"]
    assert all(task["Spec"]["ContainerSpec"]["Env"] == ["COLOR=green"] for task in _live_tasks(api, "web"))

    broken = _in(oper, "C0UPDATE").answer("/service", "update --image nosuchimage:9 web")
    assert "No such image: nosuchimage:9" in text_of(broken) and "✗ updated" in broken["text"]
    assert "`service rollback web` goes back" in broken["text"]
    assert api.inspect_service("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "nosuchimage:9"

    rolled = _in(oper, "C0ROLLBACK").answer("/service", "rollback web")
    assert "web: 3/3 running ✓ rolled back, converged in" in rolled["text"], text_of(rolled)
    assert api.inspect_service("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == "busybox"

    to_zero = oper.answer("/service", "scale web=0")
    assert asks_to_confirm(to_zero) and "to 0" in to_zero["text"]
    oper.click(to_zero, "shipmate.cancel")
    assert api.inspect_service("web")["Spec"]["Mode"]["Replicated"]["Replicas"] == 3

    not_theirs = other.answer("/service", "rm web")
    assert "you may act only on services you created, and `web` was created by U0OPER" in text_of(not_theirs)
    asked = oper.answer("/service", "rm web")
    assert asks_to_confirm(asked) and api.services(filters={"name": "web"})  # nothing before the click
    removed = oper.click(asked, "shipmate.confirm")
    assert "`web` removed" in text_of(removed)
    assert not api.services(filters={"name": "web"})

    # No routing mesh here: a published port is bound on the task's node, so a second replica has nowhere to go.
    pinned = _in(oper, "C0PINNED").answer(
        "/service", f"create --name pinned --replicas 2 -p 8089:3000 busybox {TALKER}"
    )
    assert "✗ created, but a task failed" in pinned["text"]
    assert "no suitable node (host-mode port already in use on 1 node)" in pinned["text"]
    ports = api.inspect_service("pinned")["Spec"]["EndpointSpec"]["Ports"]
    assert ports == [{"Protocol": "tcp", "PublishedPort": 8089, "TargetPort": 3000, "PublishMode": "host"}]
    api.remove_service("pinned")

    for call in slack.calls():
        assert SECRET not in str(call.body)
    updates = wait_until(
        lambda: [
            r
            for r in audit_records(tmp_path / "audit.db")
            if "nosuchimage" in r["command"] and r["outcome"] != "started"
        ],
        10,
        "the audit's final record",
    )
    assert updates[0]["outcome"] == "failed" and "No such image: nosuchimage:9" in updates[0]["detail"]
    assert all(SECRET not in str(record) for record in audit_records(tmp_path / "audit.db"))


def test_nodes_and_stacks(users, swarm):
    api = swarm.api()
    template = {"ContainerSpec": {"Image": "busybox", "Args": ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]}}
    for name in ("demo_api", "demo_db"):
        api.create_service(template, name=name, labels={"com.docker.stack.namespace": "demo"})
    try:
        viewer = users["viewer"]
        nodes = text_of(viewer.answer("/docker", "node ls"))
        assert "Leader" in nodes and "Ready" in nodes and "Active" in nodes
        stacks = viewer.answer("/docker", "stack ls")
        assert "demo" in text_of(stacks) and "NAME" in text_of(stacks)
        services = text_of(viewer.answer("/docker", "stack services demo"))
        assert "demo_api" in services and "demo_db" in services
        tasks = text_of(viewer.answer("/docker", "stack ps demo"))
        assert "demo_api.1" in tasks and "demo_db.1" in tasks
        missing = viewer.answer("/docker", "stack ps nope")
        assert "nothing found in stack: `nope`" in missing["text"]
    finally:
        for name in ("demo_api", "demo_db"):
            api.remove_service(name)


def test_service_ls_is_one_engine_api_request_counted_at_the_proxy(swarm, slack, tmp_path: Path):
    api = swarm.api()
    for index in range(3):
        api.create_service({"ContainerSpec": {"Image": "busybox", "Args": ["true"]}}, name=f"counted-{index}",
                           mode={"Replicated": {"Replicas": 0}})  # fmt: skip
    try:
        with CountingProxy(swarm.docker_host, tmp_path / "engine.sock") as proxy:
            stack = Stack(swarm, proxy, slack, tmp_path)
            try:
                bot = stack.start_bot("counted", counted=True)
                listing = measure_service_ls(stack, bot, bot, docker_cli(), runs=1)
            finally:
                stack.stop_bots()
        assert listing.by_kind == {"service list": 1} and listing.reply == "3 services"
        assert listing.cli_requests["service list"] == 1  # the proxy sees the CLI's listing too
    finally:
        for index in range(3):
            api.remove_service(f"counted-{index}")
