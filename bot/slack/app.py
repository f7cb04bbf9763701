"""The Bolt app: every slash command of the grammar and the button actions, all through the one dispatcher."""

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot import metrics
from bot.dispatcher import Dispatcher
from bot.grammar import SLASH_COMMANDS
from bot.home import HomeTab
from bot.render.blocks import (
    APPROVE_ACTION,
    BUTTON_ACTION_PREFIX,
    CANCEL_ACTION,
    CONFIRM_ACTION,
    DENY_ACTION,
    DENY_REASON_CALLBACK,
    WITHDRAW_ACTION,
)
from bot.render.home import HOME_REFRESH_ACTION
from bot.slack.delivery import RETRIES, Delivery
from bot.slack.forms import Forms
from bot.slack.listeners import Listeners
from bot.slack.logs_here import LogsHere
from bot.slack.steps import Steps
from bot.slack.work import WorkPools

if TYPE_CHECKING:
    from bot.assembly import AlertWatch
    from bot.slack.grant_notices import GrantNotices

log = logging.getLogger(__name__)

WEB_API_TIMEOUT = 10
HOME_OPENED = "app_home_opened"
FUNCTION_EXECUTED = "function_executed"  # bolt routes it to the steps registered with `app.function`
EVENTS = (HOME_OPENED, FUNCTION_EXECUTED)  # the bot events the app subscribes to (manifest.yml's bot_events)


@dataclass
class SlackRuntime:
    app: App
    client: WebClient
    dispatcher: Dispatcher
    pools: WorkPools
    alerts: "AlertWatch | None" = None  # the event watchers, when an alerts file exists
    grant_notices: "GrantNotices | None" = None  # tells holders their temporary grants end

    def shutdown(self, grace_seconds: float) -> bool:
        """Let work in flight finish (or tell its users it was cut off); True when nothing is left running."""
        if self.alerts is not None:
            self.alerts.close()
        if self.grant_notices is not None:
            self.grant_notices.close()
        left = self.pools.shutdown(grace_seconds)
        if left:
            log.warning("%d command(s) were interrupted by the shutdown; their users were told", left)
        self.dispatcher.close()
        return self.pools.idle


def web_client(bot_token: str, api_url: str | None) -> WebClient:
    return WebClient(
        token=bot_token, base_url=api_url or WebClient.BASE_URL, timeout=WEB_API_TIMEOUT, retry_handlers=list(RETRIES)
    )


def _time_the_ack(body: dict, next: Callable[[], BoltResponse]) -> BoltResponse:
    """The listener runs before the response (process_before_response), so this times the whole ack."""
    started = time.monotonic()
    try:
        return next()
    finally:
        kind = "command" if "command" in body else str(body.get("type") or "other")
        metrics.acked(kind if kind in _ACK_KINDS else "other", time.monotonic() - started)


_ACK_KINDS = ("command", "block_actions", "other")


def build_app(
    client: WebClient,
    dispatcher: Dispatcher,
    pools: WorkPools,
    *,
    signing_secret: str | None,
    reads_in_channel: bool,
    home_probe_ttl: float = 10.0,
) -> App:
    # process_before_response: the listener runs on the request thread and returns quickly (the work goes to
    # our pools), so Bolt's own 5-thread listener executor is never what stands between Slack and its ack.
    app = App(
        client=client,
        token=client.token,
        signing_secret=signing_secret,
        process_before_response=True,
        request_verification_enabled=False,  # the HTTP layer verifies (and audits) signatures itself
        logger=logging.getLogger("slack_bolt"),
    )
    app.middleware(_time_the_ack)
    delivery = Delivery(client, reads_in_channel)
    listeners = Listeners(dispatcher, delivery, pools, HomeTab(dispatcher, home_probe_ttl))
    Forms(dispatcher, delivery, pools, client).register(app)  # before `/run`: its form
    LogsHere(dispatcher, delivery, pools, client).register(app)
    for slash in SLASH_COMMANDS:
        app.command(slash)(listeners.slash_command)
    app.action(re.compile(rf"^{re.escape(BUTTON_ACTION_PREFIX)}"))(listeners.button)
    app.action(CONFIRM_ACTION)(listeners.confirm)
    app.action(CANCEL_ACTION)(listeners.cancel)
    app.event(HOME_OPENED)(listeners.home_opened)
    app.action(HOME_REFRESH_ACTION)(listeners.home_refresh)
    Steps(dispatcher, pools).register(app)  # Workflow Builder's custom steps (manifest.yml: functions)
    app.action(APPROVE_ACTION)(listeners.approve)
    app.action(DENY_ACTION)(listeners.deny)
    app.action(WITHDRAW_ACTION)(listeners.withdraw)
    app.view(DENY_REASON_CALLBACK)(listeners.deny_reason)
    return app
