"""The HTTP layer of `shipmate serve`, as a real process: only well-formed, genuine, fresh Slack requests do work.

Every broken request gets a 4xx (never a 500 page) and does nothing: the engine's containers are the same
afterwards, the Slack stand-in saw no Web API call or response_url post, and the audit has no record of a
command being run. Forged, stale and replayed requests get 401 and leave an audit record of the refusal.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.bot_process import BotProcess, shipmate
from tests.private_engine import PrivateEngine
from tests.signed_client import EVENTS_PATH, SignedClient, block_actions, signature, slash_command
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, audit_records, bot_settings, text_of, wait_until

SECRET = "http-layer-signing-secret-0123456789"
FORM = "application/x-www-form-urlencoded"
VICTIM = "victim"  # a running container that a request which got through could harm
INTRUDER = "intruder"  # the container a request that got through would create


class Bot:
    """One bot for the module: every case checks what it changed, so they can share it."""

    def __init__(self, process: BotProcess, slack: SlackStandin, engine: PrivateEngine, audit_db: Path) -> None:
        self.process = process
        self.slack = slack
        self.engine = engine
        self.audit_db = audit_db
        self.client = SignedClient(process.url, SECRET)

    def post(self, body: bytes, content_type: str = FORM, *, sign: bool = True, **headers: str) -> tuple[int, str]:
        """POST raw bytes to /slack/events, signed as Slack would sign them unless told otherwise."""
        timestamp = str(int(time.time()))
        sent = {"Content-Type": content_type, "Content-Length": str(len(body))}
        if sign:
            sent |= {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature(SECRET, timestamp, body)}
        return self._send("POST", body, sent | headers)

    def _send(self, method: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.process.port, timeout=10)
        try:
            connection.request(method, EVENTS_PATH, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def containers(self) -> dict[str, str]:
        """name -> state of every container on the engine."""
        api = self.engine.api()
        try:
            return {c["Names"][0].lstrip("/"): c["State"] for c in api.containers(all=True)}
        finally:
            api.close()


@pytest.fixture(scope="module")
def bot(engine: PrivateEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    engine.start_daemon()
    engine.reset()
    api = engine.api()
    try:
        api.start(api.create_container("nginx", name=VICTIM)["Id"])
    finally:
        api.close()
    workdir = tmp_path_factory.mktemp("http-layer")
    env = bot_settings(workdir)
    with SlackStandin() as slack:
        process = shipmate(
            "serve",
            standin=slack,
            signing_secret=SECRET,
            docker_host=engine.docker_host,
            workdir=workdir,
            extra_env=env,
        )
        process.start()
        try:
            process.wait_ready()
            yield Bot(process, slack, engine, Path(env["SHIPMATE_AUDIT_DB"]))
            assert process.stop() == 0
        finally:
            if process.running:
                process.stop()
    engine.reset()


def _slash(command: str = "/run", text: str = f"-d --name {INTRUDER} nginx", drop: tuple[str, ...] = (), **more: str):
    fields = slash_command(command, text, response_url="http://127.0.0.1:9/response/never") | more
    return urlencode({key: value for key, value in fields.items() if key not in drop}).encode()


def _click(value: str = f"rm -f {VICTIM}", drop: tuple[str, ...] = (), **more: Any) -> dict[str, Any]:
    button = {"type": "button", "action_id": f"shipmate.command:{value}", "value": value}
    payload = block_actions(button, f"container:{VICTIM}", response_url="http://127.0.0.1:9/response/never") | more
    return {key: value for key, value in payload.items() if key not in drop}


def _payload(payload: Any) -> bytes:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


MALFORMED: dict[str, tuple[bytes, str]] = {
    "bytes that are not UTF-8": (b"\xff\xfe\x00command=\xff", FORM),
    "an empty body": (b"", FORM),
    "a form with no command": (urlencode({"text": "ps -a", "user_id": "U0ALICE"}).encode(), FORM),
    "a slash command without user_id": (_slash(drop=("user_id",)), FORM),
    "a slash command with an empty user_id": (_slash(user_id=""), FORM),
    "a slash command without team_id": (_slash(drop=("team_id",)), FORM),
    "a slash command without channel_id": (_slash(drop=("channel_id",)), FORM),
    "a slash command without response_url": (_slash(drop=("response_url",)), FORM),
    "a slash command without text": (_slash(drop=("text",)), FORM),
    "a slash command Shipmate does not have": (_slash("/deploy", "prod"), FORM),
    "a payload that is not JSON": (_payload("{'type': 'block_actions'"), FORM),
    "a payload that is a JSON list": (_payload([_click()]), FORM),
    "a payload that is a JSON string": (_payload("block_actions"), FORM),
    "a payload without a type": (_payload(_click(drop=("type",))), FORM),
    "a click without a user": (_payload(_click(drop=("user",))), FORM),
    "a click whose user has no id": (_payload(_click(user={"name": "mallory"})), FORM),
    "a click without actions": (_payload(_click(drop=("actions",))), FORM),
    "a click whose actions are not a list": (_payload(_click(actions="rm -f victim")), FORM),
    "a click whose action is not an object": (_payload(_click(actions=["rm -f victim"])), FORM),
    "a click without response_url": (_payload(_click(drop=("response_url",))), FORM),
    "a click whose user is a string": (_payload(_click(user="U0ALICE")), FORM),
    "broken JSON": (b'{"type": "block_actions", "user": {"id": ', "application/json"),
    "a JSON list": (b"[1, 2, 3]", "application/json"),
    "a body Slack never sends": (b"<xml>rm -f victim</xml>", "text/xml"),
}


def _nothing_done(bot: Bot, before: dict[str, str], calls_before: int, records_before: int) -> None:
    """The engine, the stand-in and the audit are as they were, proven after a later genuine command ran."""
    sentinel = SlackUser(bot.client, bot.slack).answer("/docker", "help")  # answered in the ack
    assert "Shipmate" in text_of(sentinel)
    wait_until(lambda: len(audit_records(bot.audit_db)) > records_before, 10, "the sentinel's audit record")
    new_records = audit_records(bot.audit_db)[records_before:]
    assert [r["command"] for r in new_records] == ["/docker help"], new_records
    assert bot.containers() == before
    assert bot.slack.calls()[calls_before:] == []


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_request_gets_a_4xx_and_does_nothing(bot: Bot, case: str) -> None:
    body, content_type = MALFORMED[case]
    before, calls, records = bot.containers(), len(bot.slack.calls()), len(audit_records(bot.audit_db))
    assert before[VICTIM] == "running"

    status, text = bot.post(body, content_type)

    assert 400 <= status < 500, f"{case}: {status} {text[:200]}"
    assert "<html" not in text.lower() and "Traceback" not in text
    _nothing_done(bot, before, calls, records)
    assert bot.process.running


@pytest.mark.parametrize("size", [64 * 1024 + 1, 1024 * 1024])
def test_an_oversized_body_is_refused_with_413(bot: Bot, size: int) -> None:
    before, calls, records = bot.containers(), len(bot.slack.calls()), len(audit_records(bot.audit_db))
    body = _slash(text=f"-d --name {INTRUDER} nginx " + "x" * size)

    status, text = bot.post(body)

    assert status == 413, text[:200]
    _nothing_done(bot, before, calls, records)


def test_an_oversized_chunked_body_is_refused(bot: Bot) -> None:
    """No Content-Length to go by: the limit holds while the body streams in."""
    before, calls, records = bot.containers(), len(bot.slack.calls()), len(audit_records(bot.audit_db))
    body = _slash(text=f"-d --name {INTRUDER} nginx " + "x" * (100 * 1024))
    timestamp = str(int(time.time()))
    connection = http.client.HTTPConnection("127.0.0.1", bot.process.port, timeout=10)
    try:
        connection.putrequest("POST", EVENTS_PATH)
        for name, value in {
            "Content-Type": FORM,
            "Transfer-Encoding": "chunked",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(SECRET, timestamp, body),
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        try:
            for start in range(0, len(body), 8192):
                chunk = body[start : start + 8192]
                connection.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before the whole body is sent
        response = connection.getresponse()
        status = response.status
    finally:
        connection.close()

    assert status == 413
    _nothing_done(bot, before, calls, records)


def test_only_post_is_served_on_the_events_path(bot: Bot) -> None:
    before, calls, records = bot.containers(), len(bot.slack.calls()), len(audit_records(bot.audit_db))
    for method in ("GET", "PUT", "DELETE"):
        status, text = bot._send(method, _slash() if method == "PUT" else None, {"Content-Type": FORM})
        assert status == 405, f"{method}: {status} {text[:200]}"
    _nothing_done(bot, before, calls, records)


# -- signatures -------------------------------------------------------------------------------------------


def _refused(bot: Bot, status: int, text: str, reason: str, records_before: int, audited: bool = True) -> None:
    assert status == 401, text[:200]
    assert json.loads(text) == {"error": reason}
    if not audited:
        return
    record = wait_until(
        lambda: next((r for r in audit_records(bot.audit_db)[records_before:] if r["decision"] == "rejected"), None),
        10,
        "the refusal's audit record",
    )
    assert record["detail"].startswith(f"HTTP request refused: {reason}")
    assert record["outcome"] == "rejected" and record["changes"] == 0


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("forged", "bad signature"),  # signed with another secret
        ("stale", "stale timestamp"),  # 10 minutes old
        ("tampered", "bad signature"),  # the body changed after signing
        ("unsigned", "unsigned request"),
        ("garbled timestamp", "malformed timestamp"),
    ],
)
def test_a_request_that_is_not_genuine_and_fresh_gets_401_and_an_audit_record(bot: Bot, how: str, reason: str) -> None:
    before, calls, records = bot.containers(), len(bot.slack.calls()), len(audit_records(bot.audit_db))
    fields = slash_command("/run", f"-d --name {INTRUDER} nginx", response_url=bot.slack.response_url("refused"))
    request = bot.client.prepare(fields, forge=how == "forged", stale=how == "stale")
    headers = dict(request.headers)
    body = request.body
    if how == "tampered":
        body = body.replace(b"nginx", b"busybox")
    elif how == "unsigned":
        del headers["X-Slack-Signature"], headers["X-Slack-Request-Timestamp"]
    elif how == "garbled timestamp":
        headers["X-Slack-Request-Timestamp"] = "yesterday"

    status, text = bot._send("POST", body, headers)

    # Audited once per reason a minute: the forged request's record stands for the tampered one that follows it.
    audited = how != "tampered"
    _refused(bot, status, text, reason, records, audited)
    claimed = [r for r in audit_records(bot.audit_db)[records:] if r["decision"] == "rejected"]
    assert claimed[0]["command"] == f"/run -d --name {INTRUDER} nginx" if audited else claimed == []
    _nothing_done(bot, before, calls, len(audit_records(bot.audit_db)))


def test_a_replayed_request_gets_401_and_runs_only_once(bot: Bot) -> None:
    user = SlackUser(bot.client, bot.slack, user_id="U0REPLAY")
    first = user.send("/run", "-d nginx")  # no name: a second run would make a second container
    answer = user.final(first)
    assert "started" in text_of(answer)
    before, calls, records = bot.containers(), len(bot.slack.calls()), len(audit_records(bot.audit_db))

    status, text = bot._send("POST", first.reply.request.body, first.reply.request.headers)

    _refused(bot, status, text, "replayed request", records)
    _nothing_done(bot, before, calls, len(audit_records(bot.audit_db)))
    api = bot.engine.api()
    try:
        mine = api.containers(all=True, filters={"label": "io.shipmate.user=U0REPLAY"})
    finally:
        api.close()
    assert len(mine) == 1
