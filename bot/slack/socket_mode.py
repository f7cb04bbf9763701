"""Socket Mode over websocket-client, with prompt reconnection.

slack_sdk's websocket-client SocketModeClient reads each connection in one thread that waits on the socket up to
10 s at a time (websocket-client's default select timeout, used when no ping timeout is given). When the bot
closes a connection itself — after Slack's `{"type": "disconnect"}`, or at shutdown — that thread may not see it
until the wait ends, so the new connection (or the exit) waited up to 10.5 s. Here the read loop wakes every
WAKE_SECONDS (which also bounds how long a pong may take), so either happens within about a second.

And when Slack closes a connection, websocket-client answers the close frame but never closes the TCP socket
(its close() returns early once the close frame was sent), so Slack's side waited out its close timeout with
the socket half-open. Here the socket is shut once its read loop ends.

And its monitor, which reconnects when the current session has no socket, ran once at start-up before the first
session had been picked up, so every start opened a second connection and dropped the first. Here a session that
was never run is not taken for a closed one.
"""

import threading
from time import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk import WebClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websocket_client import SocketModeClient
from websocket import WebSocket, WebSocketApp

PING_INTERVAL_SECONDS = 10
WAKE_SECONDS = 1.0


class _PromptClient(SocketModeClient):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sockets: dict[WebSocketApp, WebSocket] = {}  # each session's socket, from when it opened
        self._sockets_lock = threading.Lock()
        self._ran: WebSocketApp | None = None  # the last session the read loop picked up
        self.on_open_listeners.append(self._opened)

    def _opened(self, session: WebSocketApp) -> None:
        with self._sockets_lock:
            self._sockets[session] = session.sock

    def _monitor_current_session(self) -> None:
        if self.current_session is not None and self.current_session is not self._ran:
            return  # not picked up by the read loop yet: waiting, not closed
        super()._monitor_current_session()

    def _run_current_session(self) -> None:
        session = self.current_session
        if session is None:
            return
        self._ran = session
        try:
            self.logger.info("Starting to receive messages from a new connection")
            session.run_forever(ping_interval=self.ping_interval, ping_timeout=WAKE_SECONDS)
            self.logger.info("Stopped receiving messages from a connection")
        except Exception:  # as the library does: log, close, and let its monitor connect again
            self.logger.exception("Socket Mode connection failed")
            session.close()
        finally:
            with self._sockets_lock:
                finished = self._sockets.pop(session, None)
            if finished is not None:
                finished.shutdown()  # close the TCP connection: the close handshake is over


class PromptSocketModeHandler(BaseSocketModeHandler):
    """Bolt's websocket-client handler, on the client above."""

    def __init__(self, app: App, app_token: str, web_client: WebClient, concurrency: int = 10) -> None:
        self.app = app
        self.app_token = app_token
        self.client = _PromptClient(
            app_token=app_token,
            logger=app.logger,
            web_client=web_client,
            ping_interval=PING_INTERVAL_SECONDS,
            concurrency=concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time()
        send_response(client, req, run_bolt_app(self.app, req), started)
