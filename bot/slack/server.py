"""`shipmate serve` (HTTP under gunicorn) and `shipmate socket` (Socket Mode): start-up and shutdown."""

import logging
import os
import signal
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackClientError

from bot import metrics
from bot.config import ConfigError, CoreSettings, SlackSettings
from bot.secrets import mask_values
from bot.slack.app import SlackRuntime, build_app, web_client
from bot.slack.work import WorkPools

if TYPE_CHECKING:
    from bot.health import Operations

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # Slack's payloads are a few KB; anything bigger is not Slack
# After SIGTERM: up to 1 s for the server loop to notice, up to 2 s for acks in flight, then in-flight work gets
# this long before its users get an "interrupted" reply — all within 10 s, when gunicorn would kill the worker.
SHUTDOWN_GRACE_SECONDS = 5
REFUSAL_WINDOW_SECONDS = 60  # refused requests: one log line and one audit record per reason per window


def build_runtime(core: CoreSettings, slack: SlackSettings) -> SlackRuntime:
    from bot.assembly import make_dispatcher, start_alerts
    from bot.slack.alerts import ChannelAlerts
    from bot.slack.audit_channel import AuditChannelSink
    from bot.slack.delivery import Delivery
    from bot.slack.groups import SlackGroups

    pools = WorkPools(quick_workers=slack.workers * 2, slow_workers=slack.workers)
    metrics.enable(in_flight=lambda: pools.in_flight)
    client = web_client(slack.bot_token, slack.api_url)
    sinks = [AuditChannelSink(client, slack.audit_channel)] if slack.audit_channel else []
    dispatcher = make_dispatcher(
        core,
        group_lookup=SlackGroups(client),
        audit_sinks=sinks,
        break_glass_channel=slack.audit_channel,
        engine_pool_size=slack.workers * 3,
        follows_at_once=max(1, slack.workers // 2),  # each holds a slow worker: half stay free for other work
    )
    try:
        app = build_app(
            client,
            dispatcher,
            pools,
            signing_secret=slack.signing_secret or None,
            reads_in_channel=slack.reads_in_channel,
            home_probe_ttl=core.home_probe_ttl,
        )
    except (BoltError, SlackClientError, OSError) as error:  # Bolt checks the token with auth.test at start-up
        dispatcher.close()
        raise ConfigError(f"could not verify SLACK_BOT_TOKEN with Slack ({type(error).__name__})") from None
    assert dispatcher.audit is not None
    # A watcher for each engine in force (one named `default` without an engines file), following the file's edits.
    delivery = ChannelAlerts(Delivery(client, slack.reads_in_channel))
    alerts = start_alerts(core, dispatcher.audit, dispatcher.fleet, delivery)
    grants = dispatcher.authorizer.grant_store()
    notices = None
    if grants is not None:
        from bot.slack.grant_notices import GrantNotices

        notices = GrantNotices(grants, Delivery(client, slack.reads_in_channel), slack.grant_warning).start()
    return SlackRuntime(
        app=app, client=client, dispatcher=dispatcher, pools=pools, alerts=alerts, grant_notices=notices
    )


def _stop(runtime: SlackRuntime) -> None:
    """Finish or interrupt the work in flight; then, if interrupted work still holds its threads, end the process."""
    if runtime.shutdown(SHUTDOWN_GRACE_SECONDS):
        return
    # Those threads are inside Docker calls, and Python waits for pool threads at exit: past gunicorn's graceful
    # timeout, until it kills the worker. Their users were told; leave now.
    logging.shutdown()
    os._exit(0)


class Refusals:
    """Requests refused before any work (unsigned, badly signed, stale, replayed): anyone on the network can send
    them, so each is counted (metrics), but logged and audited at most once per reason a window, with how many."""

    def __init__(self, runtime: SlackRuntime, window_seconds: float = REFUSAL_WINDOW_SECONDS) -> None:
        self._runtime = runtime
        self._window = window_seconds
        self._counts: dict[str, int] = {}
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def refused(self, body: bytes, reason: str) -> None:
        metrics.refused_request(reason)
        now = time.monotonic()
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + 1
            if now - self._last.get(reason, -self._window) < self._window:
                return
            self._last[reason] = now
            count = self._counts.pop(reason)
        log.warning("refused %d HTTP request(s) since the last such line: %s", count, reason)
        self._audit(body, reason, count)

    def _audit(self, body: bytes, reason: str, count: int) -> None:
        """One record, with what this request claimed to be (unverified, so marked as such)."""
        from urllib.parse import parse_qs

        from bot.store.audit import REJECTED, AuditRecord

        audit = self._runtime.dispatcher.audit
        if audit is None:
            return
        fields = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")[:4096]).items()}
        claimed = f"{fields.get('command', '')} {fields.get('text', '')}".strip() or "(interaction or unknown body)"
        audit.record(
            AuditRecord(
                at=time.time(),
                team_id=fields.get("team_id", "")[:32],
                user_id=fields.get("user_id", "")[:32],
                user_name=fields.get("user_name", "")[:64],
                channel_id=fields.get("channel_id", "")[:32],
                command=claimed[:500],
                action="",
                changes=False,
                decision=REJECTED,
                outcome=REJECTED,
                detail=f"HTTP request refused: {reason} (claimed identity not verified;"
                f" {count} refused for this reason since the last such record)",
            )
        )


def _flask_app(runtime: SlackRuntime, signing_secret: str, operations: "Operations"):  # -> flask.Flask
    from flask import Flask, jsonify, request
    from slack_bolt.adapter.flask import SlackRequestHandler
    from werkzeug.exceptions import HTTPException, NotFound, RequestEntityTooLarge

    from bot.slack.payload_checks import malformed
    from bot.slack.verify import RequestGuard
    from bot.store.claims import SeenRequests

    flask_app = Flask("shipmate")
    flask_app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    handler = SlackRequestHandler(runtime.app)
    audit = runtime.dispatcher.audit
    guard = RequestGuard(signing_secret, SeenRequests(audit.store) if audit is not None else None)
    refusals = Refusals(runtime)

    @flask_app.post("/slack/events")
    def events():
        body = request.get_data(cache=True)
        if request.content_length is None and len(body) >= MAX_BODY_BYTES:
            raise RequestEntityTooLarge  # a chunked body is cut at the limit, not refused: refuse it here
        refusal = guard.refusal(
            body, request.headers.get("X-Slack-Request-Timestamp"), request.headers.get("X-Slack-Signature")
        )
        if refusal:
            refusals.refused(body, refusal)
            return jsonify(error=refusal), 401
        problem = malformed(body, request.content_type or "")
        if problem:
            log.warning("bad request: %s", problem)
            return jsonify(error=problem), 400
        return handler.handle(request)

    @flask_app.get("/healthz")
    @flask_app.get("/readyz")
    @flask_app.get("/metrics")
    def health_and_metrics():
        found = operations.answer(request.path)
        if found is None:  # /metrics, when it lives on the metrics port
            raise NotFound
        return found.body, found.status, {"Content-Type": found.content_type}

    @flask_app.errorhandler(Exception)
    def bad_request(error: Exception):
        # A body Slack would never send (broken form, non-JSON payload) is the sender's fault: 4xx, no work done.
        if isinstance(error, HTTPException):
            return jsonify(error=error.name), error.code
        log.warning("bad request: %s", type(error).__name__)
        return jsonify(error="bad request"), 400

    return flask_app


def _serve_http(
    core: CoreSettings, slack: SlackSettings, host: str, port: int, metrics_listener: socket.socket | None
) -> int:
    from gunicorn.app.base import BaseApplication

    from bot.slack.startup import WorkerExplained, listen

    listener = listen(host, port)  # bound here: a port in use is one line, and port 0 resolves to a real one
    log.info("listening on http://%s:%d", host, listener.getsockname()[1])
    explained = WorkerExplained()
    logging.getLogger("gunicorn.error").addFilter(explained)
    runtime_holder: list[SlackRuntime] = []

    class ShipmateServer(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"fd://{listener.fileno()}",
                "workers": 1,  # one process: the work pools and live progress messages live in it
                "worker_class": "gthread",
                "threads": max(16, slack.workers * 4),
                "graceful_timeout": 10,
                "timeout": 120,
                "keepalive": 5,
                "loglevel": "warning",
                "worker_exit": lambda _server, _worker: runtime_holder and _stop(runtime_holder[0]),
            }
            if "control_socket_disable" in self.cfg.settings:  # newer gunicorn: one $HOME/.gunicorn/gunicorn.ctl
                options["control_socket_disable"] = True  # shared by every replica on a host would collide
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            try:
                runtime = build_runtime(core, slack)
            except ConfigError as error:  # changed since the master checked it: say so once, then stop
                print(f"shipmate: configuration error: {mask_values(str(error))}", file=sys.stderr, flush=True)
                sys.exit(WorkerExplained.BOOT_ERROR)
            runtime_holder.append(runtime)
            from bot import health

            readiness = health.Readiness(runtime.dispatcher)
            if metrics_listener is not None:  # the details and /metrics there, off the public port
                health.serve_in_background(
                    metrics_listener, health.Operations(readiness, public=False, with_metrics=True)
                )
            public = health.Operations(readiness, public=True, with_metrics=metrics_listener is None)
            return _flask_app(runtime, slack.signing_secret, public)

    try:
        ShipmateServer().run()
    except SystemExit as stop:  # gunicorn's master ends with sys.exit
        if explained.explained:
            return 2
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def _serve_socket(core: CoreSettings, slack: SlackSettings, metrics_listener: socket.socket | None) -> int:
    # On websocket-client, a dropped connection is noticed at once; the built-in client spins on the dead socket
    # until five pings have failed (about a minute).
    from bot.slack.socket_mode import PromptSocketModeHandler

    assert slack.app_token is not None  # SlackSettings requires it in Socket Mode
    runtime = build_runtime(core, slack)
    handler = PromptSocketModeHandler(runtime.app, slack.app_token, runtime.client)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        handler.connect()
    except (SlackClientError, OSError) as error:
        handler.close()
        _stop(runtime)
        raise ConfigError(f"could not open a Socket Mode connection to Slack ({type(error).__name__})") from None
    log.info("connected to Slack over Socket Mode")
    operations = None
    if metrics_listener is not None:
        from bot import health

        answers = health.Operations(health.Readiness(runtime.dispatcher), public=False, with_metrics=True)
        operations = health.serve_in_background(metrics_listener, answers)
    stop.wait()
    if operations is not None:
        operations.shutdown()
    handler.close()
    _stop(runtime)
    return 0


def _check(core: CoreSettings, slack: SlackSettings) -> None:
    """Everything start-up can trip on, checked once before serving: each problem is one ConfigError line."""
    from bot.assembly import check_core
    from bot.slack.startup import check_slack

    check_core(core)
    check_slack(slack)


def run_server(mode: str, host: str, port: int | None, metrics_host: str, metrics_port: int | None) -> int:
    """`serve` on host:port; either, with /healthz, /readyz and /metrics on metrics_host:metrics_port when that
    port is given (`serve` then keeps /healthz and a /readyz without hosts on its public port)."""
    core = CoreSettings.from_env()
    slack = SlackSettings.from_env(socket_mode=mode == "socket")
    if core.alerts_path.exists():  # a broken alerts file stops start-up here, with its line, before any server
        from bot.alerts.load import load_alerts

        load_alerts(core.alerts_path)
    _check(core, slack)
    from bot.slack.startup import listen

    metrics_listener = None if metrics_port is None else listen(metrics_host, metrics_port)
    if metrics_listener is not None:
        log.info("metrics on http://%s:%d/metrics", metrics_host, metrics_listener.getsockname()[1])
    if mode == "socket":
        return _serve_socket(core, slack, metrics_listener)
    return _serve_http(core, slack, host, 3000 if port is None else port, metrics_listener)
