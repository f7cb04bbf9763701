"""The end-to-end harness checked against Slack's own client library, without the bot."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from tests.bot_process import BotProcess, free_port
from tests.signed_client import SignedClient, block_actions, find_button, slash_command
from tests.slack_standin import BOT_USER_ID, TEAM_ID, SlackStandin, envelope


def _client(slack: SlackStandin, **options: Any) -> WebClient:
    return WebClient(base_url=slack.api_url, token=slack.bot_token, **options)


def _post_json(url: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# -- Web API ------------------------------------------------------------------------


def test_post_message_is_recorded_and_answered_like_slack(slack: SlackStandin) -> None:
    client = _client(slack)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    first = client.chat_postMessage(channel="C0OPS", text="hi", blocks=blocks)
    second = client.chat_postMessage(channel="C0OPS", text="again")

    assert client.auth_test()["user_id"] == BOT_USER_ID
    assert first["ok"] and first["channel"] == "C0OPS"
    assert float(second["ts"]) > float(first["ts"])
    call = slack.wait_for_call("chat.postMessage")
    assert call.body["blocks"] == blocks and call.body["text"] == "hi"
    assert call.headers["Authorization"] == f"Bearer {slack.bot_token}"
    assert slack.messages[("C0OPS", first["ts"])]["blocks"] == blocks

    client.chat_update(channel="C0OPS", ts=first["ts"], text="edited")
    assert slack.messages[("C0OPS", first["ts"])]["text"] == "edited"
    with pytest.raises(SlackApiError, match="message_not_found"):
        client.chat_update(channel="C0OPS", ts="1.000000", text="nowhere")
    assert [c.method for c in slack.calls()][-2:] == ["chat.update", "chat.update"]


def test_tokens_and_unknown_methods_are_checked(slack: SlackStandin) -> None:
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(base_url=slack.api_url, token="xoxb-wrong").chat_postMessage(channel="C0OPS", text="hi")
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        _client(slack).apps_connections_open(app_token=slack.bot_token)
    with pytest.raises(SlackApiError, match="unknown_method"):
        _client(slack).api_call("chat.scheduleMessage", json={"channel": "C0OPS", "text": "later"})
    assert _client(slack).apps_connections_open(app_token=slack.app_token)["url"] == slack.socket_url


def test_directory_lookups_answer_from_what_the_test_set(slack: SlackStandin) -> None:
    slack.usergroups = {"S0ONCALL": ["U1", "U2"]}
    slack.users = {"U1": {"is_admin": True}}
    client = _client(slack)

    assert client.usergroups_users_list(usergroup="S0ONCALL")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        client.usergroups_users_list(usergroup="S0OTHER")
    assert client.users_info(user="U1")["user"]["is_admin"] is True
    assert client.users_info(user="U2")["user"]["team_id"] == TEAM_ID
    assert client.conversations_info(channel="C0OPS")["channel"]["id"] == "C0OPS"


def test_files_upload_v2_completes_and_keeps_the_bytes(slack: SlackStandin) -> None:
    content = "CONTAINER ID   IMAGE\n" + "x" * 5000
    result = _client(slack).files_upload_v2(
        channel="C0OPS", content=content, filename="ps.txt", title="ps -a", initial_comment="full listing"
    )

    assert result["file"]["id"] == slack.uploads[0].file_id
    upload = slack.uploads[0]
    assert upload.data == content.encode() and upload.length == len(content.encode())
    assert (upload.filename, upload.title, upload.channel_id, upload.completed) == ("ps.txt", "ps -a", "C0OPS", True)
    assert upload.initial_comment == "full listing"
    assert [c.method for c in slack.calls()] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


# -- faults -----------------------------------------------------------------------------


def test_rate_limit_fault_is_served_and_retried_after_retry_after(slack: SlackStandin) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(SlackApiError) as raised:
        _client(slack).chat_postMessage(channel="C0OPS", text="hi")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"

    slack.fail("chat.postMessage", status=429, retry_after=1)
    retrying = _client(slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert retrying.chat_postMessage(channel="C0OPS", text="hi")["ok"]
    limited, passed = slack.calls("chat.postMessage")[-2:]
    assert (limited.status, passed.status) == (429, 200)
    assert passed.at - limited.at >= 1.0


def test_status_error_and_delay_faults_run_out_after_their_count(slack: SlackStandin) -> None:
    url = slack.response_url("abc")
    slack.fail("response/abc", status=500, times=2)
    assert [_post_json(url, {"text": f"try {n}"}) for n in range(3)] == [500, 500, 200]
    assert slack.responses("abc") == [{"text": "try 2"}]

    slack.fail("users.info", error="user_not_found")
    with pytest.raises(SlackApiError, match="user_not_found"):
        _client(slack).users_info(user="U1")
    assert _client(slack).users_info(user="U1")["ok"]

    slack.delay("chat.postEphemeral", seconds=0.5)
    started = time.monotonic()
    _client(slack).chat_postEphemeral(channel="C0OPS", user="U1", text="slow")
    assert time.monotonic() - started >= 0.5
    started = time.monotonic()
    _client(slack).chat_postEphemeral(channel="C0OPS", user="U1", text="fast")
    assert time.monotonic() - started < 0.5


def test_response_url_takes_five_uses(slack: SlackStandin) -> None:
    url = slack.response_url("ps")
    assert [_post_json(url, {"text": str(n)}) for n in range(6)] == [200] * 5 + [404]
    assert [body["text"] for body in slack.responses("ps")] == ["0", "1", "2", "3", "4"]


def test_unparseable_body_is_refused_and_kept_raw(slack: SlackStandin) -> None:
    request = urllib.request.Request(slack.response_url("bad"), b'{"text": ', {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400
    assert slack.calls("response/bad")[0].raw == b'{"text": ' and slack.responses("bad") == []


def test_wait_for_gives_up_with_what_it_saw(slack: SlackStandin) -> None:
    _client(slack).auth_test()
    with pytest.raises(TimeoutError, match=r"auth.test\(200\)"):
        slack.wait_for_call("chat.postMessage", timeout=0.2)


# -- signed requests -----------------------------------------------------------------------


def test_signed_requests_verify_with_slacks_verifier(slack: SlackStandin, signing_secret: str) -> None:
    verifier = SignatureVerifier(signing_secret)
    client = SignedClient(slack.base_url, signing_secret, path="/response/signed")
    reply = client.slash("/ps", "-a --filter name=web", response_url=slack.response_url("ps"))
    assert reply.status == 200 and reply.elapsed > 0

    received = slack.wait_for_call("response/signed")
    assert verifier.is_valid_request(received.raw, received.headers)
    assert received.body["command"] == "/ps" and received.body["text"] == "-a --filter name=web"
    assert list(received.body) == list(slash_command("/ps", response_url="x"))

    forged = client.prepare(slash_command("/ps", response_url="x"), forge=True)
    stale = client.prepare(slash_command("/ps", response_url="x"), stale=True)
    assert not verifier.is_valid_request(forged.body, forged.headers)
    assert not verifier.is_valid_request(stale.body, stale.headers)

    client.send(reply.request)
    replayed = slack.wait_for_call("response/signed", count=2)
    assert (replayed.raw, replayed.headers["X-Slack-Signature"]) == (
        received.raw,
        received.headers["X-Slack-Signature"],
    )


def test_button_click_is_built_from_the_posted_message(slack: SlackStandin, signing_secret: str) -> None:
    button = {
        "type": "button",
        "action_id": "rm.confirm",
        "value": "web1",
        "text": {"type": "plain_text", "text": "Remove"},
    }
    blocks = [{"type": "actions", "block_id": "confirm", "elements": [button]}]
    posted = _client(slack).chat_postMessage(channel="C0OPS", text="Remove web1?", blocks=blocks)["message"]

    element, block_id = find_button(posted["blocks"], "rm.confirm")
    payload = block_actions(element, block_id, response_url=slack.response_url("rm"), message=posted)
    SignedClient(slack.base_url, signing_secret, path="/response/click").action(payload)

    sent = json.loads(slack.wait_for_call("response/click").body["payload"])
    assert sent["type"] == "block_actions" and sent["container"]["message_ts"] == posted["ts"]
    assert sent["actions"][0] | {"action_ts": "-"} == {
        "action_id": "rm.confirm",
        "block_id": "confirm",
        "value": "web1",
        "text": button["text"],
        "type": "button",
        "action_ts": "-",
    }
    with pytest.raises(LookupError):
        find_button(blocks, "rm.cancel")


# -- Socket Mode ------------------------------------------------------------------------------


class _AckingApp:
    """What a Socket Mode app does: ack each envelope with a reply payload, keep every message seen."""

    def __init__(self, slack: SlackStandin) -> None:
        self.messages: list[dict[str, Any]] = []
        self.client = SocketModeClient(app_token=slack.app_token, web_client=_client(slack), ping_interval=0.5)
        self.client.message_listeners.append(lambda _c, message, _raw: self.messages.append(message))
        self.client.socket_mode_request_listeners.append(self._ack)

    @staticmethod
    def _ack(client: SocketModeClient, request: SocketModeRequest) -> None:
        text = f"got {request.payload['command']} {request.payload['text']}"
        client.send_socket_mode_response(SocketModeResponse(request.envelope_id, payload={"text": text}))


def test_socket_mode_hello_envelope_ack_and_reconnect(slack: SlackStandin) -> None:
    app = _AckingApp(slack)
    try:
        app.client.connect()
        slack.wait_for_connection(1)
        sent = slack.send_envelope(envelope("slash_commands", slash_command("/ps", "-a", response_url="x")))
        ack = slack.wait_for_ack(sent)
        assert ack.payload == {"text": "got /ps -a"} and ack.latency is not None and ack.latency < 5
        assert app.messages[0]["type"] == "hello"

        assert slack.drop_connections() == 1
        slack.wait_for_connection(2, timeout=15)
        again = slack.send_envelope(envelope("slash_commands", slash_command("/img", "ls", response_url="x")))
        assert slack.wait_for_ack(again).payload == {"text": "got /img ls"}

        slack.send_disconnect()
        slack.wait_for_connection(3, timeout=15)
        assert len(slack.calls("apps.connections.open")) == 3
    finally:
        app.client.close()


# -- the process runner ----------------------------------------------------------------------


def _alive(pid: str) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_process_runner_waits_measures_and_stops(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    server = BotProcess(argv, {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}, tmp_path, port=port)
    server.start().wait_ready(timeout=10)
    try:
        stats = server.stats()
        assert stats.fds >= 3 and stats.threads >= 1 and stats.rss_kib > 0
        with urllib.request.urlopen(f"{server.url}/", timeout=5) as response:
            assert response.status == 200
    finally:
        assert server.stop() != 0  # http.server has no SIGTERM handler: killed by the signal
    assert "GET / HTTP" in server.log_text()


def test_process_runner_reports_an_early_exit_with_the_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('no token, giving up'); sys.exit(2)"]
    process = BotProcess(argv, {"PATH": "/usr/bin:/bin"}, tmp_path, port=free_port()).start()
    with pytest.raises(RuntimeError, match=r"exited with 2(.|\n)*no token, giving up"):
        process.wait_ready(timeout=10)
    assert process.stop() == 2


def test_process_runner_counts_children_and_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    # Like gunicorn under `serve`: a parent with a worker child; here both ignore SIGTERM.
    script = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        "print('child', child.pid, flush=True); time.sleep(60)"
    )
    process = BotProcess([sys.executable, "-c", script], {}, tmp_path, ready=lambda: "child" in process.log_text())
    process.start().wait_ready(timeout=10)
    child = process.log_text().split()[1]
    assert _alive(child) and process.stats().threads == 2  # one thread each: the child is counted

    with pytest.raises(TimeoutError, match=r"did not exit within 0\.5s of SIGTERM"):
        process.stop(timeout=0.5)
    assert not process.running
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:  # the orphan is reaped by init
        time.sleep(0.05)
    assert not _alive(child)


def test_stand_in_closes_while_a_delayed_answer_is_pending() -> None:
    slack = SlackStandin().start()
    slack.delay("auth.test", seconds=30)
    caller = threading.Thread(target=lambda: _post_json(f"{slack.api_url}auth.test", {}), daemon=True)
    caller.start()
    slack.wait_for_call("auth.test")
    started = time.monotonic()
    slack.close()
    caller.join(timeout=5)
    assert time.monotonic() - started < 5 and not caller.is_alive()
