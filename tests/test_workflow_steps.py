"""Workflow Builder steps end to end: a signed `function_executed` event to the real `shipmate serve`, the Slack
stand-in's functions.completeSuccess / completeError calls, and the private engine's real state."""

import json
import secrets
import time
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from bot.steps import MAX_RESULT_CHARS, STEPS
from tests.signed_client import SignedClient, SignedRequest, signature
from tests.slack_standin import APP_ID, TEAM_ID, SlackStandin, envelope
from tests.slack_user import audit_records, wait_until

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"
# No `roles:` key: the standard roles (an operator restarts and scales, a viewer reads).
POLICY = """\
members:
  U0OPER: operator
  U0VIEW: viewer
"""
IDLER = "trap 'exit 0' TERM; while true; do sleep 1; done"  # stops at once on SIGTERM


def function_executed(callback_id: str, inputs: dict[str, Any], token: str) -> dict[str, Any]:
    """An Events API `function_executed` callback as Slack sends it for one step of a workflow run."""
    manifest = yaml.safe_load(MANIFEST.read_text())["functions"].get(callback_id, {})
    parameters = lambda kind: [  # noqa: E731
        {"name": name, **{k: v for k, v in spec.items() if k != "name"}}
        for name, spec in manifest.get(kind, {}).items()
    ]
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": {
            "type": "function_executed",
            "function": {
                "id": f"Fn{secrets.token_hex(5).upper()}",
                "callback_id": callback_id,
                "title": manifest.get("title", callback_id),
                "description": manifest.get("description", ""),
                "type": "app",
                "input_parameters": parameters("input_parameters"),
                "output_parameters": parameters("output_parameters"),
                "app_id": APP_ID,
                "date_created": 1_700_000_000,
                "date_updated": 1_700_000_000,
                "date_deleted": 0,
            },
            "inputs": inputs,
            "function_execution_id": f"Fx{secrets.token_hex(5).upper()}",
            "workflow_execution_id": f"Wx{secrets.token_hex(5).upper()}",
            "event_ts": f"{time.time():.6f}",
            "bot_access_token": token,
        },
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }


class Workflow:
    """Runs steps as Slack's workflow engine would: one signed event per step, then waits for the step's end."""

    def __init__(self, client: SignedClient, slack: SlackStandin, signing_secret: str) -> None:
        self.client = client
        self.slack = slack
        self.secret = signing_secret

    def send(self, callback_id: str, **inputs: Any) -> tuple[dict[str, Any], Any]:
        payload = function_executed(callback_id, inputs, self.slack.function_token())
        return payload, self.post(payload)

    def post(self, payload: dict[str, Any], retry: int = 0) -> Any:
        """Sign and send an event; `retry` > 0 is Slack sending it again (newly signed, with X-Slack-Retry-Num)."""
        body = json.dumps(payload).encode()
        timestamp = str(int(time.time()) + retry)  # a retry is signed at a later second (Slack waits a minute)
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(self.secret, timestamp, body),
        }
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.client.send(SignedRequest("/slack/events", body, headers))

    def run(self, callback_id: str, timeout: float = 60, **inputs: Any) -> tuple[str, dict[str, Any]]:
        """("completeSuccess" or "completeError", the call's body), after checking the ack and the token used."""
        payload, reply = self.send(callback_id, **inputs)
        self.acked_at = time.monotonic()
        assert reply.status == 200, reply.text
        assert reply.elapsed < 3, f"ack took {reply.elapsed:.2f}s"
        execution = payload["event"]["function_execution_id"]
        call = self.slack.wait_for(
            lambda: next(
                (
                    c
                    for c in self.slack.calls()
                    if c.method.startswith("functions.complete") and c.body.get("function_execution_id") == execution
                ),
                None,
            ),
            timeout,
        )
        assert call.reply["ok"] is True
        self.ended_at = call.at
        # Ended with the step's own token, as Slack requires, not the bot's.
        assert call.headers.get("Authorization") == f"Bearer {payload['event']['bot_access_token']}"
        return call.method.removeprefix("functions."), call.body


@pytest.fixture
def audit_db(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def workflow(bot_server, slack, signing_secret, tmp_path: Path, audit_db: Path) -> Workflow:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    bot = bot_server(SHIPMATE_POLICY=str(policy), SHIPMATE_AUDIT_DB=str(audit_db), SHIPMATE_CONVERGE_TIMEOUT="60")
    return Workflow(SignedClient(bot.url, signing_secret), slack, signing_secret)


def _start(api: docker.APIClient, name: str, script: str) -> str:
    created = api.create_container("busybox", ["sh", "-c", script], name=name)
    api.start(created["Id"])
    return created["Id"]


def _started_at(api: docker.APIClient, name: str) -> str:
    return api.inspect_container(name)["State"]["StartedAt"]


def _outputs(body: dict[str, Any]) -> dict[str, Any]:
    outputs = body["outputs"]
    return json.loads(outputs) if isinstance(outputs, str) else outputs


def _records(audit_db: Path, user_name: str) -> list[dict[str, Any]]:
    return [r for r in audit_records(audit_db) if r["user_name"] == user_name]


def test_a_restart_step_restarts_the_container_and_completes_with_its_outputs(
    workflow: Workflow, clean_engine, audit_db: Path
) -> None:
    api = clean_engine.api()
    _start(api, "web1", IDLER)
    before = _started_at(api, "web1")

    ended, body = workflow.run("restart_container", container="web1", user="U0OPER")

    assert ended == "completeSuccess"
    assert _outputs(body) == {"result": "web1: restarted", "exit_code": 0}
    assert _started_at(api, "web1") != before and api.inspect_container("web1")["State"]["Running"]
    records = wait_until(lambda: _records(audit_db, "workflow step restart_container"), 10, "the step's audit")
    assert [(r["user_id"], r["command"], r["action"], r["decision"], r["outcome"]) for r in records][-1] == (
        "U0OPER",
        "/docker restart web1",
        "container.restart",
        "allowed",
        "ok",
    )


def test_the_ack_does_not_wait_for_a_slow_restart(workflow: Workflow, clean_engine) -> None:
    api = clean_engine.api()
    _start(api, "stubborn", "exec sleep 3600")  # PID 1 ignores SIGTERM: docker waits its 10 s, then kills
    before = _started_at(api, "stubborn")

    ended, body = workflow.run("restart_container", container="stubborn", user="U0OPER")

    assert ended == "completeSuccess" and _outputs(body)["exit_code"] == 0
    assert workflow.ended_at > workflow.acked_at  # acked (within 3 s, checked in run) before the step ended
    assert _started_at(api, "stubborn") != before


def test_a_user_the_policy_refuses_fails_the_step_with_the_reason_and_nothing_changes(
    workflow: Workflow, clean_engine, audit_db: Path
) -> None:
    api = clean_engine.api()
    _start(api, "web2", IDLER)
    before = _started_at(api, "web2")

    ended, body = workflow.run("restart_container", container="web2", user="U0VIEW")

    assert ended == "completeError"
    error = body["error"]
    assert "container.restart" in error and "\n" not in error and "`" not in error
    assert _started_at(api, "web2") == before
    records = wait_until(lambda: _records(audit_db, "workflow step restart_container"), 10, "the refusal's audit")
    assert (records[-1]["user_id"], records[-1]["decision"]) == ("U0VIEW", "refused")
    # A user with no role at all is refused the same way: the step adds no permission of its own.
    ended, body = workflow.run("restart_container", container="web2", user="U0NOBODY")
    assert ended == "completeError" and _started_at(api, "web2") == before


def test_a_logs_step_keeps_the_newest_lines_within_the_limit_and_masked(workflow: Workflow, clean_engine) -> None:
    api = clean_engine.api()
    script = (
        "echo DATABASE_URL=postgres://app:sekret-pw@db/app; "
        "i=0; while [ $i -lt 3000 ]; do echo line $i of the chatty container; i=$((i+1)); done; "
        "echo API_TOKEN=abc123secret; echo the last line; " + IDLER
    )
    _start(api, "chatty", script)
    wait_until(lambda: b"the last line" in api.logs("chatty"), 20, "the container's output")

    ended, body = workflow.run("get_logs", container="chatty", tail=5000, user="U0VIEW")

    assert ended == "completeSuccess"
    outputs = _outputs(body)
    result = outputs["result"]
    assert outputs["exit_code"] == 0
    assert len(result) <= MAX_RESULT_CHARS
    assert result.startswith("(") and "earlier characters left out" in result.splitlines()[0]
    assert result.endswith("the last line") and "API_TOKEN=••••" in result and "abc123secret" not in result
    assert "sekret-pw" not in result  # far above the tail, and masked anyway

    short, body = workflow.run("get_logs", container="chatty", tail=2, user="U0VIEW")
    assert short == "completeSuccess"
    assert _outputs(body)["result"] == "API_TOKEN=••••\nthe last line"


def test_bad_inputs_fail_the_step_with_one_line_and_run_nothing(workflow: Workflow, clean_engine) -> None:
    api = clean_engine.api()
    ended, body = workflow.run("scale_service", service="web", replicas="many", user="U0OPER")
    assert (ended, body["error"]) == (
        "completeError",
        "the step's replicas input must be a whole number of 0 or more, not many",
    )
    ended, body = workflow.run("restart_container", user="U0OPER")
    assert (ended, body["error"]) == (
        "completeError",
        "the step's container input is empty: set it in Workflow Builder",
    )
    ended, body = workflow.run("restart_container", container="--time=0", user="U0OPER")
    assert (ended, body["error"]) == ("completeError", "--time=0 is not a container name or id")
    ended, body = workflow.run("get_logs", engine="prod-9", container="web1", user="U0OPER")
    assert ended == "completeError" and "prod-9" in body["error"]
    assert api.containers(all=True) == []
    # Docker was asked and said no: the step completes with exit code 1 (as `docker restart ghost` exits 1).
    ended, body = workflow.run("restart_container", container="ghost", user="U0OPER")
    assert ended == "completeSuccess"
    assert _outputs(body) == {"result": "ghost: error: no such container: ghost", "exit_code": 1}
    assert api.containers(all=True) == []


def test_every_declared_step_is_served_and_no_other(workflow: Workflow, clean_engine) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    declared = manifest["functions"]
    assert set(declared) == set(STEPS)
    assert manifest["settings"]["function_runtime"] == "remote"
    assert "function_executed" in manifest["settings"]["event_subscriptions"]["bot_events"]
    for callback_id, spec in declared.items():
        assert spec["title"] == STEPS[callback_id].title and spec["description"]
        assert spec["input_parameters"]["user"]["type"] == "slack#/types/user_id"
        assert spec["input_parameters"]["user"]["is_required"] is True
        assert {name: p["type"] for name, p in spec["output_parameters"].items()} == {
            "result": "string",
            "exit_code": "integer",
        }
        # Served: the real server ends the step (here as a user with no role: refused, nothing runs).
        inputs = {name: 1 if p["type"] == "integer" else "x1" for name, p in spec["input_parameters"].items()}
        inputs |= {"user": "U0NOBODY", "engine": ""}
        ended, body = workflow.run(callback_id, **inputs)
        assert ended == "completeError" and body["error"]
    _, reply = workflow.send("not_a_shipmate_step", user="U0OPER")
    assert reply.status == 404  # Bolt has no listener for it
    assert not any(
        c.method.startswith("functions.") and c.status == 200 and "not_a_shipmate_step" in str(c.body)
        for c in workflow.slack.calls()
    )


def test_a_scale_step_scales_the_service_and_a_scale_to_zero_asks_for_slack(
    workflow: Workflow, swarm, audit_db
) -> None:
    api = swarm.api()
    api.create_service({"ContainerSpec": {"Image": "busybox", "Args": ["sh", "-c", IDLER]}}, name="steps-web")
    try:
        ended, body = workflow.run("scale_service", service="steps-web", replicas=2, user="U0OPER", timeout=90)
        assert ended == "completeSuccess", body
        outputs = _outputs(body)
        assert outputs["exit_code"] == 0 and "steps-web" in outputs["result"]
        assert api.inspect_service("steps-web")["Spec"]["Mode"]["Replicated"]["Replicas"] == 2

        ended, body = workflow.run("scale_service", service="steps-web", replicas=0, user="U0OPER")
        assert ended == "completeError"
        assert body["error"] == (
            "this needs a confirmation, which a workflow cannot give:"
            " run /docker --context default service scale steps-web=0 in Slack and confirm it"
        )
        assert api.inspect_service("steps-web")["Spec"]["Mode"]["Replicated"]["Replicas"] == 2

        ended, body = workflow.run("scale_service", service="steps-web", replicas=3, user="U0VIEW")
        assert ended == "completeError" and "service.scale" in body["error"]
        assert api.inspect_service("steps-web")["Spec"]["Mode"]["Replicated"]["Replicas"] == 2
    finally:
        api.remove_service("steps-web")


def test_a_scale_docker_carries_out_but_that_fails_completes_with_exit_code_1(workflow: Workflow, swarm) -> None:
    api = swarm.api()
    api.create_service({"ContainerSpec": {"Image": "nosuchimage:9"}}, name="steps-broken")
    try:
        ended, body = workflow.run("scale_service", service="steps-broken", replicas=2, user="U0OPER", timeout=90)

        assert ended == "completeSuccess", body  # the workflow goes on, and can test the exit code
        outputs = _outputs(body)
        assert outputs["exit_code"] == 1
        assert "steps-broken" in outputs["result"] and "No such image: nosuchimage:9" in outputs["result"]
        assert api.inspect_service("steps-broken")["Spec"]["Mode"]["Replicated"]["Replicas"] == 2
    finally:
        api.remove_service("steps-broken")


def test_a_step_runs_over_socket_mode_too(bot_server, slack: SlackStandin, clean_engine, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    bot_server("socket", SHIPMATE_POLICY=str(policy), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"))
    slack.wait_for_connection(timeout=20)
    api = clean_engine.api()
    _start(api, "web3", IDLER)
    before = _started_at(api, "web3")
    payload = function_executed("restart_container", {"container": "web3", "user": "U0OPER"}, slack.function_token())

    sent = envelope("events_api", payload)
    slack.send_envelope(sent)

    ack = slack.wait_for_ack(sent["envelope_id"], timeout=10)
    assert ack.latency is not None and ack.latency < 3
    call = slack.wait_for_call("functions.completeSuccess", timeout=60)
    assert call.body["function_execution_id"] == payload["event"]["function_execution_id"]
    assert _outputs(call.body) == {"result": "web3: restarted", "exit_code": 0}
    assert _started_at(api, "web3") != before


def test_a_policy_with_channels_refuses_every_step(bot_server, slack, signing_secret, clean_engine, tmp_path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY + "channels: [C0OPS]\n")
    bot = bot_server(SHIPMATE_POLICY=str(policy), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"))
    workflow = Workflow(SignedClient(bot.url, signing_secret), slack, signing_secret)
    api = clean_engine.api()
    _start(api, "web4", IDLER)
    before = _started_at(api, "web4")

    ended, body = workflow.run("restart_container", container="web4", user="U0OPER")

    assert ended == "completeError"
    assert body["error"] == "Shipmate takes commands only in C0OPS, and this request came from no channel"
    assert _started_at(api, "web4") == before


def test_an_event_slack_sends_again_runs_the_step_once(workflow: Workflow, clean_engine, audit_db: Path) -> None:
    api = clean_engine.api()
    _start(api, "web5", IDLER)
    payload = function_executed(
        "restart_container", {"container": "web5", "user": "U0OPER"}, workflow.slack.function_token()
    )

    replies = [workflow.post(payload), workflow.post(payload, retry=1), workflow.post(payload, retry=2)]

    assert [reply.status for reply in replies] == [200, 200, 200]  # acked, so Slack stops sending it
    workflow.slack.wait_for_call("functions.completeSuccess", timeout=60)
    records = lambda: _records(audit_db, "workflow step restart_container")  # noqa: E731
    wait_until(lambda: any(r["outcome"] == "ok" for r in records()), 10, "the step's audit record")
    time.sleep(1)  # a second run, were there one, would have been recorded by now
    assert [r["outcome"] for r in records()] == ["started", "ok"]  # one run: its record before, its outcome after
    assert len([c for c in workflow.slack.calls() if c.method.startswith("functions.complete")]) == 1
