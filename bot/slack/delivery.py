"""How a reply travels back to Slack: in the ack, through response_url, or as a message updated in place.

Who sees what: errors, refusals and confirmations only the requester; results that changed something the whole
channel (with who did it); read-only results the requester, unless SHIPMATE_READS_IN_CHANNEL is set.
"""

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient

from bot import metrics
from bot.render.kit import Attachment, Message, context, escape
from bot.secrets import mask_text

log = logging.getLogger(__name__)


class _Counted(RetryHandler):
    """A retry handler that counts its retries for the metrics."""

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner

    def _can_retry(self, **kwargs: Any) -> bool:
        return self.inner._can_retry(**kwargs)

    def prepare_for_next_attempt(self, **kwargs: Any) -> None:
        metrics.slack_retry()
        self.inner.prepare_for_next_attempt(**kwargs)


RETRIES = tuple(
    _Counted(handler)
    for handler in (
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),
        # A post that timed out may still have landed: one more try, not two (a repeated answer beats a lost one).
        ConnectionErrorRetryHandler(max_retry_count=1, error_types=[TimeoutError]),
    )
)
RESPONSE_URL_TIMEOUT = 10
# Slack accepts 5 posts per response_url in 30 minutes: at most 2 progress posts leaves room for the answer.
RESPONSE_URL_PROGRESS_POSTS = 2
RESPONSE_URL_PROGRESS_INTERVAL = 10.0
CHAT_UPDATE_INTERVAL = 2.0  # chat.update is rate-limited per channel to about one a second


@dataclass(frozen=True)
class Origin:
    """Where a command came from, and who typed it."""

    user_id: str
    channel_id: str
    response_url: str | None
    command_line: str  # e.g. "/rm -f web1", shown (masked) under results the channel sees


class Delivery:
    def __init__(self, client: WebClient, reads_in_channel: bool) -> None:
        self.client = client
        self.reads_in_channel = reads_in_channel

    def in_channel(self, ok: bool, changes: bool, confirmation: bool) -> bool:
        if not ok or confirmation:
            return False
        return changes or self.reads_in_channel

    def payload(self, message: Message, origin: Origin, in_channel: bool) -> dict:
        body = message.payload()
        if in_channel:
            who = context(f"<@{origin.user_id}> · `{escape(mask_text(origin.command_line))}`")
            body["blocks"] = [*body["blocks"][:49], who]
        body["response_type"] = "in_channel" if in_channel else "ephemeral"
        return body

    def respond(self, origin: Origin, body: dict, replace_original: bool = False) -> bool:
        """POST to response_url with bounded retries; a failure is logged, never raised."""
        if not origin.response_url:
            return False
        webhook = WebhookClient(origin.response_url, timeout=RESPONSE_URL_TIMEOUT, retry_handlers=list(RETRIES))
        try:
            response = webhook.send_dict({**body, "replace_original": replace_original})
        except (SlackClientError, OSError) as error:
            log.error("response_url post failed: %s", type(error).__name__)
            metrics.slack_failure("response_url")
            return False
        if response.status_code != 200:
            log.error("response_url answered %s", response.status_code)
            metrics.slack_failure("response_url")
            return False
        return True

    def post(self, origin: Origin, body: dict) -> str | None:
        """chat.postMessage in the origin channel; the ts, or None when the bot cannot post there."""
        return self.post_in(origin.channel_id, body, then="; falling back to response_url")

    def post_in(self, channel_id: str, body: dict, then: str = "", thread_ts: str | None = None) -> str | None:
        """chat.postMessage (retried on 429, 5xx and connection errors), in the thread of `thread_ts` when given;
        the ts, or None when it failed."""
        try:
            response = self.client.chat_postMessage(
                channel=channel_id, text=body["text"], blocks=body["blocks"], thread_ts=thread_ts
            )
            return response["ts"]
        except (SlackClientError, OSError) as error:
            log.warning("chat.postMessage failed (%s)%s", _describe(error), then)
            metrics.slack_failure("chat.postMessage")
            return None

    def reply_in_thread(self, channel_id: str, thread_ts: str, body: dict) -> str | None:
        """A follow-up of a message (an alert's repeat or resolution, a command's outcome) in its thread, so the
        channel keeps one line per incident or command and its history sits beneath."""
        return self.post_in(channel_id, body, thread_ts=thread_ts)

    def publish_home(self, user_id: str, view: dict) -> bool:
        """views.publish: the user's Home tab."""
        try:
            self.client.views_publish(user_id=user_id, view=view)
            return True
        except (SlackClientError, OSError) as error:
            log.error("views.publish failed: %s", _describe(error))
            metrics.slack_failure("views.publish")
            return False

    def update(self, origin: Origin, ts: str, body: dict) -> bool:
        return self.update_in(origin.channel_id, ts, body)

    def update_in(self, channel_id: str, ts: str, body: dict) -> bool:
        try:
            self.client.chat_update(channel=channel_id, ts=ts, text=body["text"], blocks=body["blocks"])
            return True
        except (SlackClientError, OSError) as error:
            log.error("chat.update failed: %s", _describe(error))
            metrics.slack_failure("chat.update")
            return False

    def direct(self, user_id: str, body: dict) -> None:
        """A direct message from the bot to one user (conversations.open, then chat.postMessage)."""
        try:
            channel = self.client.conversations_open(users=user_id)["channel"]["id"]
        except (SlackClientError, OSError) as error:
            log.error("conversations.open failed: %s", _describe(error))
            metrics.slack_failure("conversations.open")
            return
        self.post_in(channel, body)

    def upload(self, origin: Origin, attachment: Attachment, in_channel: bool) -> None:
        """Files upload v2: into the channel when the channel saw the reply, else into a DM with the requester."""
        try:
            channel = origin.channel_id
            if not in_channel:
                channel = self.client.conversations_open(users=origin.user_id)["channel"]["id"]
            self.client.files_upload_v2(channel=channel, **attachment.payload())
        except (SlackClientError, OSError) as error:
            log.error("file upload failed: %s", _describe(error))
            metrics.slack_failure("files.upload")

    def deliver(self, origin: Origin, message: Message, in_channel: bool, replace_original: bool = False) -> None:
        if origin.response_url is None:  # a click on the Home tab: the answer goes to the user's DM with Shipmate
            self._direct(origin, self.payload(message, origin, in_channel))
        else:
            self.respond(origin, self.payload(message, origin, in_channel), replace_original)
        if message.attachment:
            self.upload(origin, message.attachment, in_channel)

    def _direct(self, origin: Origin, body: dict) -> None:
        try:
            channel = self.client.conversations_open(users=origin.user_id)["channel"]["id"]
        except (SlackClientError, OSError) as error:
            log.error("conversations.open failed: %s", _describe(error))
            metrics.slack_failure("conversations.open")
            return
        self.post_in(channel, body)


def _describe(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error", "error"))
    return type(error).__name__


class LiveMessage:
    """One message updated in place while slow work runs (pull progress), then replaced by the result.

    It opens with the first progress report, so work refused or finished at once never shows one. In a channel the bot can post to, the message is the bot's own (chat.postMessage + chat.update, about
    one update every 2 s). Where it cannot (a DM, a channel it was not invited to), response_url carries it,
    throttled hard because Slack allows only 5 posts per response_url.
    """

    def __init__(self, delivery: Delivery, origin: Origin, in_channel: bool) -> None:
        self.delivery = delivery
        self.origin = origin
        self.in_channel = in_channel
        self.ts: str | None = None
        self._opened = False
        self._response_url_posts = 0
        self._last_update = 0.0
        self._lock = threading.Lock()

    @property
    def opened(self) -> bool:
        return self._opened

    def progress(self, message: Message) -> None:
        """Show progress: the first call opens the message, later ones update it, throttled."""
        with self._lock:
            now = time.monotonic()
            if self._opened and now - self._last_update < self._interval():
                return
            if self.ts is None and self._response_url_posts >= RESPONSE_URL_PROGRESS_POSTS:
                return
            first, self._opened, self._last_update = not self._opened, True, now
            if first and self.in_channel:
                self.ts = self.delivery.post(self.origin, self.delivery.payload(message, self.origin, True))
                if self.ts is not None:
                    return
            if self.ts is None:
                self._response_url_posts += 1
            ts = self.ts
        if ts is not None:
            self.delivery.update(self.origin, ts, self.delivery.payload(message, self.origin, True))
        else:
            self.delivery.respond(
                self.origin, self.delivery.payload(message, self.origin, False), replace_original=True
            )

    def _interval(self) -> float:
        return CHAT_UPDATE_INTERVAL if self.ts is not None else RESPONSE_URL_PROGRESS_INTERVAL

    def close(self, message: Message, in_channel: bool) -> None:
        """The result replaces the live message; a channel that saw the work start also sees how it ended."""
        with self._lock:
            ts = self.ts
        if ts is not None and self.delivery.update(self.origin, ts, self.delivery.payload(message, self.origin, True)):
            self.delivery.reply_in_thread(self.origin.channel_id, ts, self.delivery.payload(message, self.origin, True))
            if message.attachment:
                self.delivery.upload(self.origin, message.attachment, True)
            return
        self.delivery.deliver(self.origin, message, in_channel)
