"""Workflow steps without Slack or an engine: the command line a step makes, how a Reply becomes the step's
outputs, and an execution taken once per database (the end-to-end tests are in tests/test_workflow_steps.py)."""

import time
from pathlib import Path

import pytest

from bot.grammar import ParseError, parse
from bot.request import Reply
from bot.results import ConfirmationRequest, Failure, FromEngine, LogText, Notice, Outcome, Outcomes
from bot.steps import MAX_RESULT_CHARS, StepInputError, keep_tail, outcome_of, request_for
from bot.store import open_store
from bot.store.claims import StepExecutions


def test_inputs_become_one_docker_line_as_the_workflows_user() -> None:
    request = request_for("restart_container", {"container": "web1", "user": "U0OPER", "engine": "prod-1"}, "T1")
    assert (request.slash, request.text) == ("/docker", "--context prod-1 restart web1")
    assert (request.caller.user_id, request.caller.team_id, request.caller.channel_id) == ("U0OPER", "T1", "")
    assert request.caller.user_name == "workflow step restart_container"
    scale = request_for("scale_service", {"service": "web", "replicas": 3.0, "user": "U0OPER"}, "T1")
    assert scale.text == "service scale web=3"
    assert request_for("get_logs", {"container": "web1", "user": "U0OPER"}, "T1").text == "logs --tail 100 web1"
    assert (
        request_for("get_logs", {"container": "web1", "tail": "7", "user": "U0OPER"}, "T1").text == "logs --tail 7 web1"
    )


@pytest.mark.parametrize(
    "inputs",
    [
        {"container": "--time=0", "user": "U0OPER"},
        {"container": "-f", "user": "U0OPER"},
        {"container": "web1 web2", "user": "U0OPER"},
        {"container": "web1; rm -f db", "user": "U0OPER"},
    ],
)
def test_a_value_stays_one_argument_and_never_an_option(inputs: dict) -> None:
    request = request_for("restart_container", inputs, "T1")
    with pytest.raises(ParseError) as raised:  # the whole value is one word, checked as a name: never a flag
        parse(request.text, request.slash)
    assert raised.value.reason == f"`{inputs['container']}` is not a container name or id"


@pytest.mark.parametrize(
    ("callback_id", "inputs", "said"),
    [
        ("restart_container", {"user": "U0OPER"}, "`container` input is empty"),
        ("restart_container", {"container": "web1"}, "`user` input is empty"),
        ("restart_container", {"container": 7, "user": "U0OPER"}, "must be text"),
        ("restart_container", {"container": "web1", "user": "S0ONCALL"}, "must be a person"),
        ("restart_container", {"container": "web1", "user": "*"}, "not `*`"),
        ("restart_container", {"container": "web1", "user": "local"}, "a Slack user id"),
        ("scale_service", {"service": "web", "replicas": True, "user": "U0OPER"}, "whole number"),
        ("scale_service", {"service": "web", "replicas": -1, "user": "U0OPER"}, "not `-1`"),
        ("scale_service", {"service": "web", "replicas": 1.5, "user": "U0OPER"}, "not `1.5`"),
        ("get_logs", {"container": "web1", "tail": "²", "user": "U0OPER"}, "not `²`"),
    ],
)
def test_a_bad_input_is_one_line_naming_it(callback_id: str, inputs: dict, said: str) -> None:
    with pytest.raises(StepInputError) as raised:
        request_for(callback_id, inputs, "T1")
    assert said in str(raised.value) and "\n" not in str(raised.value)


def test_the_tail_is_kept_within_the_limit_in_whole_lines() -> None:
    text = "\n".join(f"line {n}" for n in range(5000))
    kept = keep_tail(text)
    lines = kept.splitlines()
    assert len(kept) <= MAX_RESULT_CHARS and lines[-1] == "line 4999"
    assert lines[0] == f"({len(text) - len(kept) + len(lines[0]) + 1:,} earlier characters left out)"
    assert lines[1].startswith("line ") and text.endswith("\n".join(lines[1:]))
    assert keep_tail("short") == "short"
    one_long_line = "x" * (MAX_RESULT_CHARS * 2)
    assert len(keep_tail(one_long_line)) <= MAX_RESULT_CHARS


def _reply(result, message: str = "") -> Reply[str]:
    return Reply(message, result, None)


def test_a_reply_becomes_outputs_or_one_plain_line() -> None:
    done = outcome_of(_reply(FromEngine("default", Outcomes("restarted", (Outcome("web1", True),))), "web1: restarted"))
    assert done.completed and done.outputs == {"result": "web1: restarted", "exit_code": 0}
    refused = outcome_of(_reply(Failure("no such container: `web9`\nreally", "`/docker restart CONTAINER`")))
    assert not refused.completed and refused.text == "no such container: web9 really"
    masked = outcome_of(_reply(Failure("could not pull postgres://app:hunter2@db/x")))
    assert "hunter2" not in masked.text
    partly = Outcomes("restarted", (Outcome("web1", True), Outcome("web2", False, "no such container")))
    failed = outcome_of(_reply(partly, "web1: restarted\nweb2: error: no such container"))
    # Docker acted and it did not end well: the step completes, with exit code 1 for the workflow to test.
    assert failed.completed and failed.outputs == {
        "result": "web1: restarted\nweb2: error: no such container",
        "exit_code": 1,
    }
    asked = ConfirmationRequest("scale `web` to 0", (), "/docker --context default service scale web=0", "t", 120)
    confirm = outcome_of(_reply(asked))
    assert not confirm.completed
    assert confirm.text == (
        "this needs a confirmation, which a workflow cannot give:"
        " run /docker --context default service scale web=0 in Slack and confirm it"
    )
    logs = outcome_of(_reply(LogText("web1", "a `tick` stays", 1, False), "a `tick` stays"))
    assert logs.outputs == {"result": "a `tick` stays", "exit_code": 0}  # a container's output, as it is
    notice = outcome_of(_reply(Notice("nothing to do", ()), "nothing to do"))
    assert notice.completed and notice.outputs == {"result": "nothing to do", "exit_code": 0}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_execution_is_taken_once_across_replicas(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = (
        f"sqlite:///{tmp_path / 'shipmate.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("running_postgres").new_database()
    )
    first, second = open_store(url), open_store(url)  # two replicas on one database
    try:
        later = time.time() + 60
        assert StepExecutions(first).taken_before("Fx1", later) is False
        assert StepExecutions(second).taken_before("Fx1", later) is True  # Slack's retry, at the other replica
        assert StepExecutions(second).taken_before("Fx2", later) is False
        assert first.claimed("confirmation", "Fx1") is None  # a kind of its own
    finally:
        first.close()
        second.close()
