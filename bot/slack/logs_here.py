"""The "Open logs here" message shortcut: on a Shipmate alert or result, `logs --tail 50` of the container its buttons
act on, posted in that message's thread — run through the dispatcher as the user who used the shortcut, so the
policy applies and the request is audited; a refusal, or a message about no container, is told to that user only.
"""

import logging
import shlex
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot import metrics
from bot.dispatcher import Dispatcher, Request
from bot.grammar import Command, ParseError, parse
from bot.render.blocks import BUTTON_ACTION_PREFIX, to_message
from bot.render.kit import Message, escape, section
from bot.slack.delivery import Delivery, Origin
from bot.slack.listeners import caller_of
from bot.slack.work import Job, ShuttingDown, WorkPools

log = logging.getLogger(__name__)

LOGS_SHORTCUT = "shipmate_logs_here"
LOGS_TAIL = 50
NOT_A_CONTAINER = "this message is not about a container: use it on a Shipmate alert or a result with container buttons"


def _notice(text: str) -> Message:
    return Message(text=text, blocks=[section(text)], is_error=True)


class LogsHere:
    def __init__(self, dispatcher: Dispatcher, delivery: Delivery, pools: WorkPools, client: WebClient) -> None:
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.pools = pools
        self.client = client

    def register(self, app: App) -> None:
        app.shortcut(LOGS_SHORTCUT)(self.logs_here)

    def logs_here(self, ack: Callable[..., None], body: dict) -> None:
        """The message shortcut: `logs --tail 50` of the container the message is about, in its thread, run
        as the user who used the shortcut (a refusal is told to them only)."""
        ack()
        channel = (body.get("channel") or {}).get("id", "")
        message = body.get("message") or {}
        caller = caller_of(body, channel)
        found = container_of(message.get("blocks") or [])
        if isinstance(found, str):
            origin = Origin(caller.user_id, channel, body.get("response_url"), "Open logs here")
            self.delivery.respond(origin, self.delivery.payload(_notice(found), origin, False))
            return
        engine, container = found
        words = [*(["--context", engine] if engine else []), "logs", "--tail", str(LOGS_TAIL), container]
        request = Request(text=shlex.join(words), caller=caller)
        origin = Origin(caller.user_id, channel, body.get("response_url"), f"/docker {request.text}")
        thread = str(message.get("thread_ts") or message.get("ts") or "")
        try:
            self.pools.submit(
                Job(work=lambda: self._logs_in_thread(request, origin, thread), interrupted=lambda: None), slow=False
            )
        except ShuttingDown:
            log.warning("Open logs here dropped: shutting down")

    def _logs_in_thread(self, request: Request, origin: Origin, thread: str) -> None:
        reply = self.dispatcher.handle(request, to_message)
        if reply.ok and thread:
            body = self.delivery.payload(reply.message, origin, True)
            try:
                self.client.chat_postMessage(
                    channel=origin.channel_id, thread_ts=thread, text=body["text"], blocks=body["blocks"]
                )
                if reply.message.attachment:
                    self.client.files_upload_v2(
                        channel=origin.channel_id, thread_ts=thread, **reply.message.attachment.payload()
                    )
                return
            except (SlackClientError, OSError) as error:
                log.warning("posting logs in a thread failed (%s); answering the user only", type(error).__name__)
                metrics.slack_failure("chat.postMessage")
        self.delivery.respond(origin, self.delivery.payload(reply.message, origin, False))


def container_of(blocks: list[dict]) -> tuple[str | None, str] | str:
    """The (engine, container) a message's buttons act on — each button's value is a command line naming them —
    or why there is not exactly one."""
    found: dict[tuple[str | None, str], None] = {}
    elements = [element for block in blocks if isinstance(block, dict) for element in block.get("elements") or []]
    for element in elements:
        if not isinstance(element, dict) or not str(element.get("action_id", "")).startswith(BUTTON_ACTION_PREFIX):
            continue
        command = _command(str(element.get("value", "")))
        if command is not None:
            found[(command.context, command.targets()[0])] = None
    if not found:
        return NOT_A_CONTAINER
    if len(found) > 1:
        names = ", ".join(f"`{escape(name)}`" for _, name in list(found)[:5])
        return f"this message is about several containers ({names}): use the 📜 Logs button of the one you want"
    return next(iter(found))


def _command(value: str) -> Command | None:
    """The container command a button's value is (its Logs, Restart, Inspect…), when it names one container."""
    try:
        command = parse(value, "/docker")
    except ParseError:
        return None
    if command.action.startswith("container.") and len(command.targets()) == 1:
        return command
    return None
