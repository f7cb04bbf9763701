"""Forms: modals that gather a command line (`/run` with no arguments, Scale…, Restart…, and the "Shipmate command"
global shortcut). The "Open logs here" message shortcut is bot/slack/logs_here.py.

A form is one more way to type a command: what it submits is a command line, handed to the dispatcher as the
user who submitted it (parse, policy, audit, confirmation, the same as typed). The answer's way back:

- a bad field, or an answer that is an error within FORM_BUDGET_SECONDS, is shown on the form itself, under the
  field it is about (`response_action: errors`), and the form stays open;
- otherwise the form closes and the answer goes where the form was opened (its channel rides in the view's
  `private_metadata`): a change for the channel to see, with who asked; reads, refusals and confirmations only
  to the submitter (chat.postEphemeral). A form opened where there is no channel (the Home tab, the global
  shortcut) answers in the user's DM with Shipmate, and the policy's channel check sees that DM.
"""

import json
import logging
import shlex
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot import metrics
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.grammar import ParseError
from bot.grammar.values import container_name, env_pair, image_ref, port_mapping
from bot.render import forms
from bot.render.blocks import to_message
from bot.render.forms import FormTarget
from bot.render.kit import Message, section
from bot.results import Failure, FromEngine, ImageTable, Progress, Result
from bot.secrets import mask_text
from bot.slack.delivery import Delivery, LiveMessage, Origin
from bot.slack.listeners import caller_of
from bot.slack.work import Interrupted, Job, ShuttingDown, WorkPools

log = logging.getLogger(__name__)

RUN_SLASH = "/run"
COMMAND_SHORTCUT = "shipmate_command"
FORM_BUDGET_SECONDS = 2.0  # of Slack's 3 s for a view_submission's answer: an error in time shows on the form
SUGGESTION_BUDGET_SECONDS = 2.0  # for the engine's image list; the allowlist's entries are offered regardless
MAX_ERROR = 300  # a field's error line
WORKING = "⏳ working on it…"
INTERRUPTED = "⚠️ Shipmate was restarted before this finished; check `/ps -a` for the state it left"
RESTARTING = "⚠️ Shipmate is restarting; try again in a moment"
NO_RUN = "you may not run containers on any engine from here: `/docker whoami` shows your roles"
NO_ROLE = "you have no Shipmate role here: `/docker whoami` says how an admin grants one"


def _notice(text: str) -> Message:
    return Message(text=text, blocks=[section(text)], is_error=True)


def _failure(reply: Reply[Message]) -> Failure | None:
    result = reply.result.result if isinstance(reply.result, FromEngine) else reply.result
    return result if isinstance(result, Failure) else None


def _state(view: dict) -> dict:
    return (view.get("state") or {}).get("values") or {}


def _field(view: dict, block_id: str, action_id: str | None = None) -> dict:
    return _state(view).get(block_id, {}).get(action_id or block_id) or {}


def _text(view: dict, block_id: str) -> str:
    return (_field(view, block_id).get("value") or "").strip()


def _chosen(view: dict, block_id: str, action_id: str | None = None) -> str:
    return ((_field(view, block_id, action_id).get("selected_option") or {}).get("value") or "").strip()


def _metadata(view: dict) -> dict:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _rejects(check: Callable[[str], object], value: str) -> bool:
    try:
        check(value)
    except ParseError:
        return True
    return False


@dataclass(frozen=True)
class RunFields:
    """The run form's fields, as typed."""

    engine: str
    image: str
    name: str
    env: tuple[str, ...]
    ports: tuple[str, ...]
    detach: bool

    @classmethod
    def read(cls, view: dict) -> "RunFields":
        checked = _field(view, forms.DETACH).get("selected_options") or []
        return cls(
            engine=_chosen(view, forms.ENGINE),
            image=_chosen(view, forms.IMAGE, forms.IMAGE_SUGGESTIONS),
            name=_text(view, forms.NAME),
            env=tuple(row.strip() for row in _text(view, forms.ENV).splitlines() if row.strip()),
            ports=tuple(_text(view, forms.PORTS).replace(",", " ").split()),
            detach=any(option.get("value") == forms.DETACH for option in checked),
        )

    def line(self) -> str:
        """The `/run` command line these fields make, every word shell-quoted."""
        words = [
            "--context",
            self.engine,
            *(["-d"] if self.detach else []),
            *(["--name", self.name] if self.name else []),
        ]
        words += [word for row in self.env for word in ("-e", row)]
        words += [word for port in self.ports for word in ("-p", port)]
        return shlex.join([*words, self.image])

    def field_refused(self, reply: Reply[Message], failure: Failure) -> str:
        """The field an error is about: for a line the grammar refused, the first field it refuses alone; for
        a refusal or an engine's error, the field its words name (the engine when none)."""
        if reply.command is None:
            if self.name and _rejects(container_name, self.name):
                return forms.NAME
            if any(_rejects(env_pair, row) for row in self.env):
                return forms.ENV
            if any(_rejects(port_mapping, port) for port in self.ports) or len(set(self.ports)) != len(self.ports):
                return forms.PORTS
            return forms.IMAGE if _rejects(image_ref, self.image) else forms.ENGINE
        reason = failure.reason.lower()
        if "allowlist" in reason:
            return forms.IMAGE
        if "port" in reason:
            return forms.PORTS
        if "already in use" in reason or "--name" in reason:
            return forms.NAME
        return forms.IMAGE if "image" in reason else forms.ENGINE


class Forms:
    def __init__(self, dispatcher: Dispatcher, delivery: Delivery, pools: WorkPools, client: WebClient) -> None:
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.pools = pools
        self.client = client

    def register(self, app: App) -> None:
        """Every form's button, view, suggestion and the global shortcut. Call before the slash commands are registered:
        `/run` with no text comes here first."""
        app.command(RUN_SLASH, matchers=[lambda command: not (command.get("text") or "").strip()])(self.run_slash)
        app.action(forms.OPEN_RUN_FORM)(self.open_run_form)
        app.action(forms.OPEN_SCALE_FORM)(self.open_scale_form)
        app.action(forms.OPEN_RESTART_FORM)(self.open_restart_form)
        app.options(forms.IMAGE_SUGGESTIONS)(self.image_options)
        app.view(forms.RUN_FORM)(self.submit_run)
        app.view(forms.SCALE_FORM)(self.submit_scale)
        app.view(forms.RESTART_FORM)(self.submit_restart)
        app.view(forms.COMMAND_FORM)(self.submit_command)
        app.shortcut(COMMAND_SHORTCUT)(self.command_shortcut)

    # -- opening a form ---------------------------------------------------------------------------------

    def _soon(self, work: Callable[[], None]) -> None:
        """Off the request thread, on the quick pool: the ack is not held up by Slack calls."""
        try:
            self.pools.submit(Job(work=work, interrupted=lambda: None), slow=False)
        except ShuttingDown:
            log.warning("form not opened: shutting down")

    def _open(self, trigger_id: str, view: dict) -> None:
        try:
            self.client.views_open(trigger_id=trigger_id, view=view)
        except (SlackClientError, OSError) as error:
            log.error("views.open failed: %s", type(error).__name__)
            metrics.slack_failure("views.open")

    def _place(self, user_id: str, channel_id: str) -> str:
        """Where the form answers: its channel, else the user's DM with Shipmate ("" when that cannot be opened)."""
        if channel_id:
            return channel_id
        try:
            return self.client.conversations_open(users=user_id)["channel"]["id"]
        except (SlackClientError, OSError, KeyError, TypeError) as error:
            log.error("conversations.open failed: %s", type(error).__name__)
            metrics.slack_failure("conversations.open")
            return ""

    def run_slash(self, ack: Callable[..., None], command: dict, body: dict) -> None:
        """`/run` with no arguments: the run form."""
        ack()
        user = {"id": command.get("user_id", ""), "username": command.get("user_name", "")}
        form_body = {"user": user, "team": {"id": command.get("team_id", "")}}
        self._soon(lambda: self._open_run(form_body, command.get("channel_id", ""), command.get("trigger_id", "")))

    def open_run_form(self, ack: Callable[..., None], body: dict) -> None:
        """The Home tab's Run… button (or any other Run… button)."""
        ack()
        channel = (body.get("channel") or {}).get("id", "")
        self._soon(lambda: self._open_run(body, channel, body.get("trigger_id", "")))

    def _open_run(self, body: dict, channel_id: str, trigger_id: str) -> None:
        caller = caller_of(body, "")
        caller = replace(caller, channel_id=self._place(caller.user_id, channel_id))
        engines = self.dispatcher.pipeline.engines_for(caller, "container.run")
        if not engines:
            self._open(trigger_id, forms.notice_form(NO_RUN))
            return
        chosen = self.dispatcher.fleet.default if self.dispatcher.fleet.default in engines else engines[0]
        metadata = json.dumps({"channel": caller.channel_id, "engine": chosen})
        self._open(trigger_id, forms.run_form(engines, chosen, metadata))

    def open_scale_form(self, ack: Callable[..., None], body: dict, action: dict) -> None:
        ack()
        self._open_target(body, action, forms.scale_form)

    def open_restart_form(self, ack: Callable[..., None], body: dict, action: dict) -> None:
        ack()
        self._open_target(body, action, forms.restart_form)

    def _open_target(self, body: dict, action: dict, form: Callable[[FormTarget, str], dict]) -> None:
        target = FormTarget.parse(action.get("value", ""))
        if target is None:
            log.warning("form button without a target: %r", action.get("value", "")[:100])
            return
        target = target if target.engine else replace(target, engine=self.dispatcher.fleet.default)
        channel = (body.get("channel") or {}).get("id", "")
        trigger_id = body.get("trigger_id", "")

        def open_form() -> None:
            place = self._place((body.get("user") or {}).get("id", ""), channel)
            self._open(trigger_id, form(target, json.dumps({"channel": place, "target": target.value})))

        self._soon(open_form)

    def command_shortcut(self, ack: Callable[..., None], body: dict) -> None:
        """The global shortcut "Shipmate command": one text field, as after /docker, and the engine picker."""
        ack()

        def open_form() -> None:
            caller = caller_of(body, "")
            caller = replace(caller, channel_id=self._place(caller.user_id, ""))
            engines = self.dispatcher.pipeline.engines_for(caller)
            if not engines:
                self._open(body.get("trigger_id", ""), forms.notice_form(NO_ROLE))
                return
            chosen = self.dispatcher.fleet.default if self.dispatcher.fleet.default in engines else engines[0]
            metadata = json.dumps({"channel": caller.channel_id})
            self._open(body.get("trigger_id", ""), forms.command_form(engines, chosen, metadata))

        self._soon(open_form)

    # -- the image field's suggestions --------------------------------------------------------------------

    def image_options(self, ack: Callable[..., None], body: dict) -> None:
        """The allowlist's exact entries and the chosen engine's local images, filtered by what was typed, each
        one the user may run there. Answered in the request (Slack shows the options from the ack)."""
        view = body.get("view") or {}
        metadata = _metadata(view)
        caller = caller_of(body, str(metadata.get("channel", "")))
        engine = _chosen(view, forms.ENGINE) or str(metadata.get("engine", "")) or self.dispatcher.fleet.default
        typed = str(body.get("value", "")).strip().lower()
        candidates = [*self._allowlist_entries(), *self._local_images(caller, engine)]
        found = [
            image
            for image in dict.fromkeys(candidates)
            if typed in image.lower() and self.dispatcher.pipeline.permits(f"run {shlex.quote(image)}", caller, engine)
        ]
        ack(options=forms.options(found))

    def _allowlist_entries(self) -> list[str]:
        """The image allowlist's entries that name one image (no wildcard): those are offered as they are."""
        patterns = self.dispatcher.authorizer.summary().images or ()
        return [pattern for pattern in patterns if not any(mark in pattern for mark in "*?[")]

    def _local_images(self, caller: Caller, engine: str) -> list[str]:
        """The engine's images, by `image ls` through the dispatcher as the user (policy and audit apply); none
        when the engine does not answer within SUGGESTION_BUDGET_SECONDS (Slack waits 3 s for the options)."""
        request = Request(text=f"--context {shlex.quote(engine)} image ls", caller=caller)
        try:
            job = Job(work=lambda: self.dispatcher.handle(request, lambda found: found), interrupted=lambda: None)
            reply: Reply[Result] = self.pools.submit(job, slow=False).result(timeout=SUGGESTION_BUDGET_SECONDS)
        except (ShuttingDown, FutureTimeout, Interrupted):
            return []
        result = reply.result
        if isinstance(result, FromEngine):
            result = result.result
        if not isinstance(result, ImageTable):
            return []
        return [f"{row.repository}:{row.tag}" for row in result.rows if "<none>" not in (row.repository, row.tag)]

    # -- submitting a form --------------------------------------------------------------------------------

    def submit_run(self, ack: Callable[..., None], body: dict, view: dict) -> None:
        fields = RunFields.read(view)
        if not fields.image:
            ack(response_action="errors", errors={forms.IMAGE: "choose an image"})
            return
        self._submit(ack, body, view, "/run", fields.line(), fields.field_refused, forms.ENGINE)

    def submit_scale(self, ack: Callable[..., None], body: dict, view: dict) -> None:
        target = FormTarget.parse(str(_metadata(view).get("target", "")))
        replicas = _text(view, forms.REPLICAS)
        if target is None:
            ack(response_action="errors", errors={forms.REPLICAS: "this form has lost its service: open it again"})
            return
        line = shlex.join(["--context", target.engine or "", "service", "scale", f"{target.name}={replicas}"])
        self._submit(ack, body, view, "/docker", line, lambda _reply, _failure: forms.REPLICAS, forms.REPLICAS)

    def submit_restart(self, ack: Callable[..., None], body: dict, view: dict) -> None:
        target = FormTarget.parse(str(_metadata(view).get("target", "")))
        if target is None:
            ack(response_action="errors", errors={forms.CONFIRM: "this form has lost what it restarts: open it again"})
            return
        if _text(view, forms.CONFIRM) != target.name:
            ack(response_action="errors", errors={forms.CONFIRM: f"type {target.name} to confirm"})
            return
        line = shlex.join(["--context", target.engine or "", *forms.restart_line(target).split()])
        self._submit(ack, body, view, "/docker", line, lambda _reply, _failure: forms.CONFIRM, forms.CONFIRM)

    def submit_command(self, ack: Callable[..., None], body: dict, view: dict) -> None:
        """Any command, as after /docker; the engine picked applies unless the text names its own `--context`."""
        text = _text(view, forms.COMMAND)
        engine = _chosen(view, forms.ENGINE)
        try:
            named = "--context" in shlex.split(text)
        except ValueError:
            named = False  # the grammar says what is wrong with the quoting
        line = text if named or not engine else f"--context {shlex.quote(engine)} {text}"
        self._submit(ack, body, view, "/docker", line, lambda _reply, _failure: forms.COMMAND, forms.COMMAND)

    def _submit(
        self,
        ack: Callable[..., None],
        body: dict,
        view: dict,
        slash: str,
        line: str,
        field_of: Callable[[Reply[Message], Failure], str],
        main: str,
    ) -> None:
        """Run the form's command line through the dispatcher as the submitter; an error within the budget is
        shown on the form (on the field `field_of` names; `main` when Shipmate itself cannot take it), anything
        else closes it and goes where it belongs. Slack calls happen off the request thread: the ack is not held."""
        channel = str(_metadata(view).get("channel", ""))
        caller = caller_of(body, channel)
        request = Request(text=line, slash=slash, caller=caller)
        origin = Origin(caller.user_id, channel, None, f"{slash} {line}")
        pending = self.dispatcher.pending(request)
        live = LiveMessage(self.delivery, origin, in_channel=True)
        job = Job(
            work=lambda: self._run(request, live),
            interrupted=lambda: self.deliver(origin, _notice(INTERRUPTED), in_channel=False),
        )
        try:
            future: Future[Reply[Message]] = self.pools.submit(job, slow=pending is not None)
        except ShuttingDown:
            ack(response_action="errors", errors={main: RESTARTING})
            return
        try:
            reply = future.result(timeout=FORM_BUDGET_SECONDS)
        except (FutureTimeout, Interrupted):
            ack()
            self._soon(lambda: self.deliver(origin, _notice(pending or WORKING), in_channel=False))
            self._finish_later(future, live)
            return
        failure = _failure(reply)
        if failure is not None and not live.opened:
            ack(response_action="errors", errors={field_of(reply, failure): mask_text(failure.reason)[:MAX_ERROR]})
            return
        ack()
        self._soon(lambda: self._finish(reply, live))

    def _run(self, request: Request, live: LiveMessage) -> Reply[Message]:
        def progress(update: Progress) -> None:
            live.progress(to_message(update))

        return self.dispatcher.handle(replace(request, progress=progress), to_message)

    def _finish_later(self, future: "Future[Reply[Message]]", live: LiveMessage) -> None:
        def done(finished: "Future[Reply[Message]]") -> None:  # runs on the worker thread
            if finished.cancelled() or finished.exception() is not None:
                return  # cancelled by shutdown (the interrupted notice went out) or a logged bug
            with self.pools.delivering():
                self._finish(finished.result(), live)

        future.add_done_callback(done)

    def _finish(self, reply: Reply[Message], live: LiveMessage) -> None:
        changes = reply.command is not None and reply.command.changes
        in_channel = self.delivery.in_channel(reply.ok, changes, reply.needs_confirmation)
        origin = live.origin
        shown = self.delivery.payload(reply.message, origin, True)
        if live.ts is not None and self.delivery.update(origin, live.ts, shown):  # the live message becomes it
            if reply.message.attachment:
                self.delivery.upload(origin, reply.message.attachment, True)
            return
        self.deliver(origin, reply.message, in_channel)

    # -- answers -----------------------------------------------------------------------------------------

    def deliver(self, origin: Origin, message: Message, in_channel: bool) -> None:
        """For the channel (with who asked) or only for the user (ephemeral there, or in their DM)."""
        shown = self.delivery.payload(message, origin, True)
        if in_channel and origin.channel_id and self.delivery.post_in(origin.channel_id, shown) is not None:
            if message.attachment:
                self.delivery.upload(origin, message.attachment, True)
            return
        body = self.delivery.payload(message, origin, False)
        if not self._ephemeral(origin, body):
            self._direct(origin.user_id, body)
        if message.attachment:
            self.delivery.upload(origin, message.attachment, False)

    def _ephemeral(self, origin: Origin, body: dict) -> bool:
        if not origin.channel_id or origin.channel_id.startswith("D"):
            return False  # a DM: the message goes to the user's DM with Shipmate
        try:
            self.client.chat_postEphemeral(
                channel=origin.channel_id, user=origin.user_id, text=body["text"], blocks=body["blocks"]
            )
            return True
        except (SlackClientError, OSError) as error:
            log.warning("chat.postEphemeral failed (%s); sending a DM instead", type(error).__name__)
            metrics.slack_failure("chat.postEphemeral")
            return False

    def _direct(self, user_id: str, body: dict) -> None:
        channel = self._place(user_id, "")
        if channel:
            self.delivery.post_in(channel, body)
