"""Thin Bolt listeners: Slack payload in, dispatcher call, reply out.

Every slash command is acked within Slack's 3 s: slow work (pull, foreground run, stop) acks at once with a
"⏳" line; anything else gets ACK_BUDGET_SECONDS to answer in the ack itself, after which it too acks with a
"⏳" line and answers later. The work itself always runs on Shipmate's own pools (bot/slack/work.py).
"""

import logging
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace

from slack_sdk.errors import SlackClientError

from bot.approve.flow import Clicked
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.home import HomeTab
from bot.render.blocks import DENY_REASON_BLOCK, DENY_REASON_INPUT, approved_by, deny_reason_view, to_message
from bot.render.home import home_view
from bot.render.kit import Message, section
from bot.results import ApprovalWaiting, Progress
from bot.slack.delivery import Delivery, LiveMessage, Origin
from bot.slack.work import Interrupted, Job, ShuttingDown, WorkPools

log = logging.getLogger(__name__)

ACK_BUDGET_SECONDS = 2.0
WORKING = "⏳ working on it…"
INTERRUPTED = "⚠️ Shipmate was restarted before this finished; check `/ps -a` for the state it left"
RESTARTING = "⚠️ Shipmate is restarting; try again in a moment"
FROM_HOME = " home"  # after a request id in a deny modal's metadata: Deny was clicked on the Home tab


def _notice(text: str) -> Message:
    return Message(text=text, blocks=[section(text)], is_error=True)


class Listeners:
    def __init__(
        self, dispatcher: Dispatcher, delivery: Delivery, pools: WorkPools, home: HomeTab | None = None
    ) -> None:
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.pools = pools
        self.home = home

    def _in_channel(self, reply: Reply[Message]) -> bool:
        changes = reply.command is not None and reply.command.changes
        return self.delivery.in_channel(reply.ok, changes, reply.needs_confirmation)

    def _work(self, request: Request, live: LiveMessage, run: Callable[[Request], Reply[Message]]) -> Reply[Message]:
        def progress(update: Progress) -> None:
            live.progress(to_message(update))

        return run(replace(request, progress=progress))  # every other field as it came (the engines named, …)

    def _submit(
        self, request: Request, origin: Origin, slow: bool, run: Callable[[Request], Reply[Message]]
    ) -> tuple[LiveMessage, "Future[Reply[Message]]"]:
        # A click on the Home tab has no channel to show progress in: its answer goes to the user's DM at the end.
        live = LiveMessage(self.delivery, origin, in_channel=bool(origin.channel_id))
        job = Job(
            work=lambda: self._work(request, live, run),
            interrupted=lambda: self.delivery.deliver(origin, _notice(INTERRUPTED), in_channel=False),
        )
        return live, self.pools.submit(job, slow)

    def _finish_later(
        self, future: "Future[Reply[Message]]", live: LiveMessage, replace_original: bool = False
    ) -> None:
        def done(finished: "Future[Reply[Message]]") -> None:  # runs on the worker thread
            if finished.cancelled() or finished.exception() is not None:
                return  # cancelled by shutdown (the interrupted notice went out) or a logged bug
            reply = finished.result()
            if reply.line is not None:  # a Confirm: name the command it ran, not the click
                live.origin = replace(live.origin, command_line=reply.line)
            with self.pools.delivering():
                if live.opened:
                    live.close(reply.message, self._in_channel(reply))
                else:
                    self.delivery.deliver(live.origin, reply.message, self._in_channel(reply), replace_original)

        future.add_done_callback(done)

    def _handle(self, request: Request) -> Reply[Message]:
        reply = self.dispatcher.handle(request, to_message)
        if isinstance(reply.result, ApprovalWaiting):
            self._post_request(reply.result)
        return reply

    def _post_request(self, waiting: ApprovalWaiting) -> None:
        """The approval request goes where its rule says (else where it was typed), for the approvers to click."""
        ts = self.delivery.post_in(waiting.channel, to_message(waiting.request).payload())
        if ts is not None:
            self.dispatcher.approvals.posted(waiting.request.id, waiting.channel, ts)

    def slash_command(self, ack: Callable[..., None], command: dict) -> None:
        caller = Caller(
            user_id=command.get("user_id", ""),
            team_id=command.get("team_id", ""),
            channel_id=command.get("channel_id", ""),
            user_name=command.get("user_name", ""),
        )
        request = Request(text=command.get("text", ""), slash=command.get("command", "/docker"), caller=caller)
        origin = Origin(
            user_id=caller.user_id,
            channel_id=caller.channel_id,
            response_url=command.get("response_url"),
            command_line=f"{request.slash} {request.text}".strip(),
        )
        pending = self.dispatcher.pending(request)
        try:
            live, future = self._submit(request, origin, slow=pending is not None, run=self._handle)
        except ShuttingDown:
            ack(text=RESTARTING, response_type="ephemeral")
            return
        if pending is None:
            try:
                reply = future.result(timeout=ACK_BUDGET_SECONDS)
            except (FutureTimeout, Interrupted):
                pass
            else:
                if not live.opened:
                    in_channel = self._in_channel(reply)
                    ack(**self.delivery.payload(reply.message, origin, in_channel))
                    if reply.message.attachment:
                        self._upload_later(origin, reply.message, in_channel)
                    return
        ack(text=pending or WORKING, response_type="ephemeral")
        self._finish_later(future, live)

    def _upload_later(self, origin: Origin, message: Message, in_channel: bool) -> None:
        attachment = message.attachment
        assert attachment is not None
        job = Job(work=lambda: self.delivery.upload(origin, attachment, in_channel), interrupted=lambda: None)
        try:
            self.pools.submit(job, slow=False)
        except ShuttingDown:
            log.warning("upload dropped: shutting down")

    def _clicked(self, body: dict, clicked: Clicked) -> None:
        """After an approval click: the request message shows where it stands; the clicker (or, when the command
        ran, the channel) gets the answer; a denied requester gets a direct message."""
        if clicked.request is not None and clicked.where is not None:
            self.delivery.update_in(*clicked.where, to_message(clicked.request).payload())
        caller = caller_of(body)
        origin = Origin(caller.user_id, caller.channel_id, body.get("response_url"), clicked.line)
        message = to_message(clicked.answer)
        if clicked.ran is not None:
            ran = replace(origin, user_id=clicked.requester, command_line=clicked.line)
            self.delivery.deliver(ran, approved_by(message, clicked.approvers), in_channel=True)
        elif origin.response_url or _on_home(body):  # from the Home tab: in the clicker's DM with Shipmate
            self.delivery.deliver(origin, message, in_channel=False)
        if clicked.tell_requester is not None:
            self.delivery.direct(clicked.requester, to_message(clicked.tell_requester).payload())
        if _on_home(body):  # the tab no longer lists what was decided
            self._publish_home(caller)

    def _approval_click(self, body: dict, run: Callable[[Caller], Clicked]) -> "Future[None] | None":
        """An approval click decided on the quick pool; approving runs the command there too (as a Confirm does)."""
        job = Job(work=lambda: self._clicked(body, run(caller_of(body))), interrupted=lambda: None)
        try:
            return self.pools.submit(job, slow=False)
        except ShuttingDown:
            origin = Origin(caller_of(body).user_id, "", body.get("response_url"), "")
            self.delivery.deliver(origin, _notice(RESTARTING), in_channel=False)
            return None

    def approve(self, ack: Callable[..., None], body: dict, action: dict) -> None:
        ack()
        request_id = action.get("value", "")
        self._approval_click(body, lambda caller: self.dispatcher.approvals.approve(request_id, caller))

    def withdraw(self, ack: Callable[..., None], body: dict, action: dict) -> None:
        ack()
        request_id = action.get("value", "")
        self._approval_click(body, lambda caller: self.dispatcher.approvals.withdraw(request_id, caller))

    def deny(self, ack: Callable[..., None], body: dict, action: dict) -> None:
        """Deny asks why first: a modal, whose submission (deny_reason) denies."""
        ack()
        view = deny_reason_view(action.get("value", ""))
        if _on_home(body):  # the submission says so, to draw the tab again once denied
            view["private_metadata"] += FROM_HOME
        try:
            self.delivery.client.views_open(trigger_id=body.get("trigger_id", ""), view=view)
        except (SlackClientError, OSError) as error:
            log.error("views.open for a deny reason failed: %s", type(error).__name__)

    def deny_reason(self, ack: Callable[..., None], body: dict, view: dict) -> None:
        """The reason submitted: denied at once when it can be within the ack (a refusal shows in the modal)."""
        request_id, from_home, _ = str(view.get("private_metadata", "")).partition(FROM_HOME)
        values = (view.get("state") or {}).get("values") or {}
        reason = str(((values.get(DENY_REASON_BLOCK) or {}).get(DENY_REASON_INPUT) or {}).get("value") or "")
        decided: list[Clicked] = []

        def deny(caller: Caller) -> Clicked:
            decided.append(self.dispatcher.approvals.deny(request_id, caller, reason))
            if from_home:
                self._publish_home(caller)
            return decided[-1]

        future = self._approval_click(body, deny)
        try:
            if future is not None:
                future.result(timeout=ACK_BUDGET_SECONDS)
        except (FutureTimeout, Interrupted):
            pass
        if decided and decided[0].tell_requester is None:  # refused: say why in the modal
            ack(response_action="errors", errors={DENY_REASON_BLOCK: to_message(decided[0].answer).text[:150]})
            return
        ack()

    def _click(
        self, body: dict, run: Callable[[Request], Reply[Message]], text: str, replace: bool, slow: bool = False
    ) -> None:
        caller = caller_of(body)
        request = Request(text=text, slash="/docker", caller=caller)
        origin = Origin(caller.user_id, caller.channel_id, body.get("response_url"), f"/docker {text}")
        # Decided on the quick pool (Confirm, Cancel, Stop following): never queued behind long follows or pulls,
        # where a confirmation would expire. Only a button for slow work (a pull, a follow) runs on the slow pool.
        try:
            live, future = self._submit(request, origin, slow=slow, run=run)
        except ShuttingDown:
            self.delivery.deliver(origin, _notice(RESTARTING), in_channel=False)
            return
        self._finish_later(future, live, replace_original=replace)

    def button(self, ack: Callable[..., None], body: dict, action: dict) -> None:
        """A container button: its value is a docker command line, run with the clicker's identity."""
        ack()
        line = action.get("value", "")
        slow = self.dispatcher.pending(Request(text=line)) is not None
        self._click(body, self._handle, line, replace=False, slow=slow)

    def confirm(self, ack: Callable[..., None], body: dict, action: dict) -> None:
        """Confirm: the signed token is verified, re-authorized for the clicker, and runs at most once."""
        ack()
        token = action.get("value", "")
        self._click(
            body,
            lambda request: self.dispatcher.confirm(token, request.caller, to_message, request.progress),
            "(confirmed)",
            True,
        )

    def cancel(self, ack: Callable[..., None], body: dict, action: dict) -> None:
        ack()
        token = action.get("value", "")
        self._click(
            body, lambda request: self.dispatcher.cancel(token, request.caller, to_message), "(cancelled)", True
        )

    # -- the App Home tab -------------------------------------------------------------------------

    def home_opened(self, ack: Callable[..., None], event: dict, body: dict) -> None:
        """`app_home_opened`: acked at once; the viewer's Home tab is built and published on the quick pool."""
        ack()
        if event.get("tab") != "home":
            return  # the Messages tab
        self._publish_home(Caller(user_id=event.get("user", ""), team_id=body.get("team_id", "")))

    def home_refresh(self, ack: Callable[..., None], body: dict) -> None:
        ack()
        self._publish_home(caller_of(body, ""))

    def _publish_home(self, caller: Caller) -> None:
        home = self.home
        if home is None or not caller.user_id:
            return
        job = Job(
            work=lambda: self.delivery.publish_home(caller.user_id, home_view(home.build(caller))),
            interrupted=lambda: None,  # the tab keeps what it showed; the next visit draws it again
        )
        try:
            self.pools.submit(job, slow=False)
        except ShuttingDown:
            log.warning("home tab not published: shutting down")


def _on_home(body: dict) -> bool:
    """Whether a click came from the Home tab (a view of type home, with no response_url)."""
    return (body.get("view") or {}).get("type") == "home"


def caller_of(body: dict, channel_id: str | None = None) -> Caller:
    """Who sent an interaction (a click, a submission, a shortcut), and where: the payload's channel unless
    `channel_id` places it (a form remembers where it was opened)."""
    user = body.get("user") or {}
    return Caller(
        user_id=user.get("id", ""),
        team_id=(body.get("team") or {}).get("id", "") or user.get("team_id", ""),
        channel_id=(body.get("channel") or {}).get("id", "") if channel_id is None else channel_id,
        user_name=user.get("username", "") or user.get("name", ""),
    )
