"""A stand-in for Slack on 127.0.0.1: Web API, response_urls, file uploads and Socket Mode.

Like bolt-python's own mock Web API server, it answers the way Slack does for the few methods the bot uses,
records every request in arrival order, and can be told to misbehave (HTTP errors, 429 with Retry-After,
`ok: false`, slow answers) so the robustness tests can check what the bot does about it.

    with SlackStandin() as slack:
        client = WebClient(base_url=slack.api_url, token=slack.bot_token)
        slack.fail("chat.postMessage", status=429, retry_after=1)
        ...
        slack.wait_for_call("chat.postMessage", count=2)

Views (views.publish/open/update/push) are kept in `views` by id (a Home tab's id is "VHOME<user>"); a
trigger_id opens one view only. functions.completeSuccess/completeError answer ok when given an execution id.

Names for recording and faults: the Web API method ("chat.update"), "response/<name>" for a response_url,
"upload" for a file upload to the URL that files.getUploadURLExternal hands out.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

TEAM_ID = "T0TEST"
TEAM_DOMAIN = "shipmate-test"
BOT_USER_ID = "UBOT"
BOT_ID = "B0BOT"
APP_ID = "A0SHIPMATE"
RESPONSE_URL_USES = 5  # Slack: a response_url works up to five times (within 30 minutes).
# Form fields that slack_sdk sends as JSON text; decoded so tests compare structures, not strings.
_JSON_FIELDS = ("blocks", "attachments", "files", "metadata")

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One request the stand-in received, with what it answered."""

    at: float  # time.monotonic() on arrival (recorded before any delay fault holds the answer back)
    method: str  # "chat.postMessage", "response/<name>", "upload"
    path: str
    body: dict[str, Any]  # query and form/JSON fields merged; {} for an upload
    raw: bytes
    headers: dict[str, str]
    status: int
    reply: Any  # the JSON object or text served


@dataclass(frozen=True)
class Fault:
    status: int = 200
    retry_after: int | None = None
    error: str | None = None
    delay: float = 0.0


@dataclass
class Upload:
    """A file the bot uploaded: bytes from the upload URL, the rest from files.completeUploadExternal."""

    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False


@dataclass(frozen=True)
class Ack:
    """A message the bot sent over the Socket Mode stand-in (normally an envelope ack)."""

    at: float
    message: dict[str, Any]
    latency: float | None  # seconds since the envelope it acknowledges was sent

    @property
    def envelope_id(self) -> str | None:
        return self.message.get("envelope_id")

    @property
    def payload(self) -> dict[str, Any] | None:
        return self.message.get("payload")


def envelope(kind: str, payload: dict[str, Any], envelope_id: str | None = None) -> dict[str, Any]:
    """A Socket Mode envelope as Slack sends it: kind is "slash_commands", "interactive" or "events_api"."""
    message: dict[str, Any] = {
        "envelope_id": envelope_id or str(uuid.uuid4()),
        "type": kind,
        "accepts_response_payload": kind != "events_api",
        "payload": payload,
    }
    if kind == "events_api":
        message |= {"retry_attempt": 0, "retry_reason": ""}
    return message


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    standin: SlackStandin


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_GET(self) -> None:
        self.server.standin._serve(self)

    def do_POST(self) -> None:
        self.server.standin._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the stand-in's record is the log."""


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {"json": parsed}
    fields: dict[str, Any] = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    for name in _JSON_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            fields[name] = json.loads(value)
    return fields


class SlackStandin:
    def __init__(self, bot_token: str | None = None, app_token: str | None = None) -> None:
        self.bot_token = bot_token or f"xoxb-test-{secrets.token_hex(12)}"
        self.app_token = app_token or f"xapp-1-{APP_ID}-test-{secrets.token_hex(12)}"
        # Set by tests: who is in which user group, and per-user / per-channel details.
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.function_tokens: set[str] = set()  # `xwfp-` tokens handed out with function_executed events
        self._cond = threading.Condition(threading.RLock())
        self._closing = threading.Event()
        self._http: _HttpServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ws_server: Server | None = None
        self._threads: list[threading.Thread] = []
        self._sockets: list[ServerConnection] = []
        self.connection_count = 0  # sockets accepted since start, for reconnection tests
        self._epoch = int(time.time())
        self.reset()

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> SlackStandin:
        self._http = _HttpServer(("127.0.0.1", 0), _Handler)
        self._http.standin = self
        self._loop = asyncio.new_event_loop()
        self._threads = [
            threading.Thread(target=self._http.serve_forever, args=(0.05,), name="slack-standin-http", daemon=True),
            threading.Thread(target=self._loop.run_forever, name="slack-standin-socket", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._ws_server = asyncio.run_coroutine_threadsafe(self._open_sockets(), self._loop).result(timeout=10)
        return self

    def close(self) -> None:
        self._closing.set()  # releases delayed answers
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._close_sockets(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        for thread in self._threads:
            thread.join(timeout=10)
        if self._loop is not None:
            self._loop.close()

    def __enter__(self) -> SlackStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self) -> None:
        """Forget all recorded traffic, faults, messages and uploads (the servers keep running)."""
        with self._cond:
            self._calls: list[Call] = []
            self._faults: dict[str, deque[Fault]] = {}
            self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → latest message
            self.uploads: list[Upload] = []
            self.views: dict[str, dict[str, Any]] = {}  # view id → the latest view published, opened or updated
            self.used_triggers: set[str] = set()
            self.acks: list[Ack] = []
            self._sent_envelopes: dict[str, float] = {}
            self._ts = itertools.count(1)
            self._file_ids = itertools.count(1)

    def function_token(self) -> str:
        """A workflow token (`bot_access_token` of a function_executed event): valid for Web API calls, like Slack's
        for the step's execution, so a test can tell the calls made with it from those made with the bot token."""
        token = f"xwfp-test-{secrets.token_hex(12)}"
        self.function_tokens.add(token)
        return token

    # -- addresses ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._http is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/response/{name}"

    @property
    def socket_url(self) -> str:
        assert self._ws_server is not None, "start() the stand-in first"
        port = next(iter(self._ws_server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?app_id={APP_ID}"

    # -- what happened -------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def responses(self, name: str) -> list[dict[str, Any]]:
        """Bodies POSTed to response_url(name) that were answered 200, in order."""
        return [c.body for c in self.calls(f"response/{name}") if c.status == HTTPStatus.OK]

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """Wait until predicate() is truthy (re-checked on every recorded event); return its value."""
        with self._cond:
            result = self._cond.wait_for(predicate, timeout)
            if not result:
                seen = ", ".join(f"{c.method}({c.status})" for c in self._calls[-20:]) or "nothing"
                raise TimeoutError(f"not seen within {timeout}s; last requests: {seen}")
            return result

    def wait_for_call(self, method: str, count: int = 1, timeout: float = 10.0) -> Call:
        """The count-th call of method, once it has arrived."""
        return self.wait_for(lambda: len(calls := self.calls(method)) >= count and calls[count - 1], timeout)

    def wait_for_response(self, name: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """The count-th body accepted at response_url(name), once it has arrived."""
        return self.wait_for(lambda: len(bodies := self.responses(name)) >= count and bodies[count - 1], timeout)

    # -- fault injection ------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = HTTPStatus.OK,
        retry_after: int | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` requests to method get this failure: an HTTP status, or `ok: false` with error."""
        if status == HTTPStatus.OK and error is None:
            raise ValueError("a fault needs an error status or an error code")
        self._queue(method, Fault(status=status, retry_after=retry_after, error=error), times)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` requests to method are answered (normally) only after `seconds`."""
        self._queue(method, Fault(delay=seconds), times)

    def _queue(self, method: str, fault: Fault, times: int) -> None:
        with self._cond:
            self._faults.setdefault(method, deque()).extend([fault] * times)

    def _next_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        return queue.popleft() if queue else None

    # -- HTTP -------------------------------------------------------------------------

    def _serve(self, request: _Handler) -> None:
        arrived = time.monotonic()
        url = urlsplit(request.path)
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        headers = dict(request.headers.items())
        kind, _, name = url.path.strip("/").partition("/")
        method = {"api": name, "response": f"response/{name}", "upload": "upload"}.get(kind, url.path)
        body: dict[str, Any] = {}
        unparseable = False
        try:
            if kind != "upload":
                body = dict(parse_qsl(url.query, keep_blank_values=True))
                body |= _parse_body(raw, headers.get("Content-Type", ""))
        except ValueError:  # broken JSON or form: recorded (raw) and refused
            unparseable = True
        with self._cond:
            fault = self._next_fault(method)
            if unparseable:
                status, reply = HTTPStatus.BAD_REQUEST, "the stand-in could not parse this body"
            elif fault and fault.status != HTTPStatus.OK:
                status, reply = self._fault_reply(fault)
            elif fault and fault.error:
                status, reply = HTTPStatus.OK, {"ok": False, "error": fault.error}
            elif kind == "api":
                status, reply = HTTPStatus.OK, self._api(name, body, headers)
            elif kind == "response":
                status, reply = self._response_url(method)
            elif kind == "upload":
                status, reply = self._upload(name, raw)
            else:
                status, reply = HTTPStatus.NOT_FOUND, "Not Found"
            self._calls.append(Call(arrived, method, url.path, body, raw, headers, status, reply))
            self._cond.notify_all()
        if fault and fault.delay:
            self._closing.wait(fault.delay)
        self._write(request, status, reply, fault.retry_after if fault else None)

    @staticmethod
    def _fault_reply(fault: Fault) -> tuple[int, Any]:
        if fault.status == HTTPStatus.TOO_MANY_REQUESTS:
            return fault.status, {"ok": False, "error": fault.error or "ratelimited"}
        if fault.error:
            return fault.status, {"ok": False, "error": fault.error}
        return fault.status, HTTPStatus(fault.status).phrase

    @staticmethod
    def _write(request: _Handler, status: int, reply: Any, retry_after: int | None) -> None:
        is_json = not isinstance(reply, str)
        data = json.dumps(reply).encode() if is_json else reply.encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8" if is_json else "text/plain")
            request.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                request.send_header("Retry-After", str(retry_after))
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a delay fault outlasted its timeout)

    def _response_url(self, method: str) -> tuple[int, str]:
        used = sum(1 for c in self._calls if c.method == method and c.status == HTTPStatus.OK)
        if used >= RESPONSE_URL_USES:
            return HTTPStatus.NOT_FOUND, "used_url"
        return HTTPStatus.OK, "ok"

    def _upload(self, file_id: str, raw: bytes) -> tuple[int, str]:
        upload = next((u for u in self.uploads if u.file_id == file_id), None)
        if upload is None:
            return HTTPStatus.NOT_FOUND, "Not Found"
        upload.data = raw
        return HTTPStatus.OK, f"OK - {len(raw)}"

    # -- Web API ----------------------------------------------------------------------

    def _api(self, name: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        handler = self._methods().get(name)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        authorization = headers.get("Authorization", "")
        token = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else body.get("token")
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token not in (self.bot_token, self.app_token, *self.function_tokens):
            return {"ok": False, "error": "invalid_auth"}
        if (token == self.app_token) != (name == "apps.connections.open"):
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True} | handler(body)

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.delete": self._delete,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "usergroups.users.list": self._usergroup_users,
            "users.info": self._user_info,
            "conversations.info": self._conversation_info,
            "conversations.open": self._open_dm,
            "apps.connections.open": lambda _: {"url": self.socket_url},
            "views.publish": self._publish_view,
            "views.open": self._open_view,
            "views.update": self._update_view,
            "views.push": self._open_view,
            "functions.completeSuccess": self._complete_function,
            "functions.completeError": self._complete_function,
        }

    def _next_ts(self) -> str:
        return f"{self._epoch}.{next(self._ts):06d}"

    @staticmethod
    def _error(code: str) -> dict[str, Any]:
        return {"ok": False, "error": code}

    def _auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Shipmate Test",
            "user": "shipmate",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _message(self, body: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "team": TEAM_ID, "ts": ts}
        message |= {k: body[k] for k in ("text", "blocks", "attachments", "thread_ts") if k in body}
        return message

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel")
        if not channel:
            return self._error("channel_not_found")
        if not body.get("text") and not body.get("blocks") and not body.get("attachments"):
            return self._error("no_text")
        ts = self._next_ts()
        self.messages[(channel, ts)] = message = self._message(body, ts)
        return {"channel": channel, "ts": ts, "message": message}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (body.get("channel", ""), body.get("ts", ""))
        if key not in self.messages:
            return self._error("message_not_found")
        self.messages[key] = message = self._message(body, key[1])
        return {"channel": key[0], "ts": key[1], "text": message.get("text", ""), "message": message}

    def _post_ephemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("channel"):
            return self._error("channel_not_found")
        if not body.get("user"):
            return self._error("user_not_found")
        return {"message_ts": self._next_ts()}

    def _delete(self, body: dict[str, Any]) -> dict[str, Any]:
        key = (body.get("channel", ""), body.get("ts", ""))
        if self.messages.pop(key, None) is None:
            return self._error("message_not_found")
        return {"channel": key[0], "ts": key[1]}

    def _get_upload_url(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("filename") or not str(body.get("length", "")).isdigit():
            return self._error("invalid_arguments")
        file_id = f"F{next(self._file_ids):08d}"
        self.uploads.append(Upload(file_id, body["filename"], int(body["length"])))
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        wanted = body.get("files")
        by_id = {u.file_id: u for u in self.uploads if u.data is not None and not u.completed}
        if not isinstance(wanted, list) or not wanted or any(f.get("id") not in by_id for f in wanted):
            return self._error("invalid_arguments")
        files = []
        for item in wanted:
            upload = by_id[item["id"]]
            upload.title = item.get("title") or upload.filename
            upload.channel_id = body.get("channel_id")
            upload.initial_comment = body.get("initial_comment")
            upload.thread_ts = body.get("thread_ts")
            upload.completed = True
            files.append(
                {"id": upload.file_id, "name": upload.filename, "title": upload.title, "size": len(upload.data or b"")}
            )
        return {"files": files}

    def _usergroup_users(self, body: dict[str, Any]) -> dict[str, Any]:
        group = body.get("usergroup", "")
        if group not in self.usergroups:
            return self._error("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _user_info(self, body: dict[str, Any]) -> dict[str, Any]:
        user_id = body.get("user", "")
        if not user_id:
            return self._error("user_not_found")
        name = user_id.lower()
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": name.title(),
            "deleted": False,
            "is_bot": False,
            "is_admin": False,
            "tz": "UTC",
            "profile": {"display_name": name, "real_name": name.title()},
        }
        return {"user": user | self.users.get(user_id, {})}

    def _conversation_info(self, body: dict[str, Any]) -> dict[str, Any]:
        channel_id = body.get("channel", "")
        if not channel_id:
            return self._error("channel_not_found")
        channel = {
            "id": channel_id,
            "name": channel_id.lower(),
            "is_channel": True,
            "is_private": False,
            "is_im": False,
            "is_archived": False,
            "is_member": True,
        }
        return {"channel": channel | self.channels.get(channel_id, {})}

    def _open_dm(self, body: dict[str, Any]) -> dict[str, Any]:
        users = str(body.get("users", ""))
        if not users or "," in users:
            return self._error("user_not_found" if not users else "not_implemented")
        return {"channel": {"id": f"D{users.removeprefix('U').removeprefix('W')}", "is_im": True}}

    def _view(self, body: dict[str, Any], view_id: str) -> dict[str, Any] | None:
        """The view as Slack keeps it, or None when it is not JSON (Slack: invalid_arguments)."""
        view = body.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                return None
        if not isinstance(view, dict) or view.get("type") not in ("home", "modal"):
            return None
        stored = view | {"id": view_id, "hash": secrets.token_hex(8)}
        self.views[view_id] = stored
        return stored

    def _publish_view(self, body: dict[str, Any]) -> dict[str, Any]:
        """views.publish: the user's Home tab (one per user)."""
        user_id = body.get("user_id", "")
        if not user_id:
            return self._error("user_not_found")
        view = self._view(body, f"VHOME{user_id}")
        if view is None or view.get("type") != "home":
            return self._error("invalid_arguments")
        return {"view": view}

    def _open_view(self, body: dict[str, Any]) -> dict[str, Any]:
        """views.open / views.push: a modal, for a trigger_id (Slack: valid 3 s, used once)."""
        trigger = body.get("trigger_id", "")
        if not trigger:
            return self._error("invalid_trigger_id")
        if trigger in self.used_triggers:
            return self._error("expired_trigger_id")
        self.used_triggers.add(trigger)
        view = self._view(body, f"V{next(self._file_ids):08d}")
        if view is None or view.get("type") != "modal":
            return self._error("invalid_arguments")
        return {"view": view}

    def _update_view(self, body: dict[str, Any]) -> dict[str, Any]:
        view_id = body.get("view_id", "")
        if view_id not in self.views:
            return self._error("not_found")
        view = self._view(body, view_id)
        if view is None:
            return self._error("invalid_arguments")
        return {"view": view}

    @staticmethod
    def _complete_function(body: dict[str, Any]) -> dict[str, Any]:
        """functions.completeSuccess / completeError: the execution's id is required."""
        return {} if body.get("function_execution_id") else {"ok": False, "error": "invalid_arguments"}

    # -- Socket Mode --------------------------------------------------------------------

    async def _socket_session(self, connection: ServerConnection) -> None:
        with self._cond:
            self._sockets.append(connection)
            self.connection_count += 1
            self._cond.notify_all()
        try:
            await connection.send(json.dumps(self._hello()))
            async for text in connection:
                self._record_ack(json.loads(text))
        except ConnectionClosed:
            pass  # dropped by the test or by the bot: the bot's side is what the tests check
        finally:
            with self._cond:
                self._sockets.remove(connection)
                self._cond.notify_all()

    async def _open_sockets(self) -> Server:
        return await serve(self._socket_session, "127.0.0.1", 0, ping_interval=None)

    async def _close_sockets(self) -> None:
        assert self._ws_server is not None
        for connection in list(self._sockets):
            connection.transport.abort()  # no closing handshake: a stale client would hold it for seconds
        self._ws_server.close()
        await self._ws_server.wait_closed()

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }

    def _record_ack(self, message: dict[str, Any]) -> None:
        now = time.monotonic()
        with self._cond:
            sent = self._sent_envelopes.get(message.get("envelope_id", ""))
            self.acks.append(Ack(now, message, None if sent is None else now - sent))
            self._cond.notify_all()

    @property
    def open_connections(self) -> int:
        with self._cond:
            return len(self._sockets)

    def wait_for_connection(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `count` sockets have connected in all and at least one is open."""
        self.wait_for(lambda: self.connection_count >= count and self._sockets, timeout)

    def send_envelope(self, message: dict[str, Any], timeout: float = 10.0) -> str:
        """Send an envelope on the newest open socket (waiting for one); return its envelope_id."""
        connection = self.wait_for(lambda: self._sockets and self._sockets[-1], timeout)
        return self._send(connection, message, timeout)

    def send_disconnect(self, reason: str = "refresh_requested", timeout: float = 10.0) -> None:
        """Ask the bot to reconnect, as Slack does before it recycles a socket."""
        connection = self.wait_for(lambda: self._sockets and self._sockets[-1], timeout)
        self._send(
            connection, {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}, timeout
        )

    def _send(self, connection: ServerConnection, message: dict[str, Any], timeout: float) -> str:
        assert self._loop is not None
        envelope_id = message.get("envelope_id", "")
        with self._cond:
            self._sent_envelopes[envelope_id] = time.monotonic()
        asyncio.run_coroutine_threadsafe(connection.send(json.dumps(message)), self._loop).result(timeout)
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        return self.wait_for(lambda: next((a for a in self.acks if a.envelope_id == envelope_id), None), timeout)

    def close_connections(self, timeout: float = 15.0) -> list[float]:
        """Close every open socket with a close frame, as Slack does; return how long each took to be answered
        (websockets waits for the client's close frame, up to its 10 s close timeout)."""
        assert self._loop is not None
        with self._cond:
            closing = list(self._sockets)

        async def close(connection: ServerConnection) -> float:
            started = time.monotonic()
            await connection.close(1001, "going away")
            return time.monotonic() - started

        return [asyncio.run_coroutine_threadsafe(close(c), self._loop).result(timeout) for c in closing]

    def drop_connections(self, timeout: float = 10.0) -> int:
        """Cut every open socket without a close frame, as a network failure would; return how many."""
        assert self._loop is not None
        with self._cond:
            dropped = list(self._sockets)
        for connection in dropped:
            self._loop.call_soon_threadsafe(connection.transport.abort)
        self.wait_for(lambda: all(c not in self._sockets for c in dropped), timeout)
        return len(dropped)
