"""Workflow Builder steps: the `function_executed` event in, functions.completeSuccess / completeError out.

Bolt acks the event at once (auto_acknowledge); the command runs on Shipmate's own pools, so a scale that waits for
its tasks never holds the request thread. Bolt hands each execution a client carrying the step's own token
(`bot_access_token`, by its AttachingFunctionToken middleware): `complete` and `fail` use it, from the worker.
"""

import logging
import time
from concurrent.futures import Future

from slack_bolt import App
from slack_bolt.context.complete import Complete
from slack_bolt.context.fail import Fail
from slack_sdk.errors import SlackClientError

from bot.dispatcher import Dispatcher, Request
from bot.render.terminal import to_text
from bot.slack.work import Interrupted, Job, ShuttingDown, WorkPools
from bot.steps import STEPS, StepInputError, StepOutcome, outcome_of, request_for
from bot.store import StoreUnavailable
from bot.store.claims import StepExecutions

log = logging.getLogger(__name__)

INTERRUPTED = "Shipmate was restarted before this step finished: check the container's state with /ps -a in Slack"
BROKEN = "Shipmate could not run this step (an internal error, logged): try the command in Slack"
RESTARTING = "Shipmate is restarting: run the workflow again in a moment"
REMEMBERED_SECONDS = 24 * 3600  # Slack sends an event again within minutes; an execution never comes back later


def _finish(complete: Complete, fail: Fail, outcome: StepOutcome) -> None:
    try:
        if outcome.completed:
            complete(outputs=outcome.outputs)
        else:
            fail(outcome.text)
    except SlackClientError as error:  # the workflow shows the step as running until Slack times it out
        log.error("could not end a workflow step: %s", type(error).__name__)


class Steps:
    def __init__(self, dispatcher: Dispatcher, pools: WorkPools) -> None:
        self.dispatcher = dispatcher
        self.pools = pools
        audit = dispatcher.audit
        self.executions = StepExecutions(audit.store) if audit is not None else None

    def _taken_before(self, execution_id: str) -> bool:
        """Whether any replica already took this execution (Slack's retry of an event it thinks was lost)."""
        if self.executions is None or not execution_id:
            return False
        try:
            return self.executions.taken_before(execution_id, time.time() + REMEMBERED_SECONDS)
        except StoreUnavailable:  # run it: a change is refused anyway while the audit cannot record it
            log.warning("workflow step %s: the database did not answer; not checked for a repeat", execution_id)
            return False

    def register(self, app: App) -> None:
        for callback_id in STEPS:
            app.function(callback_id)(self.executed)

    def executed(self, body: dict, event: dict, complete: Complete, fail: Fail) -> None:
        callback_id = str((event.get("function") or {}).get("callback_id", ""))
        if self._taken_before(str(event.get("function_execution_id", ""))):
            log.info("workflow step %s: a repeated event, already taken", callback_id)
            return
        inputs = event.get("inputs")
        team_id = str(body.get("team_id", ""))
        try:
            asked: Request | StepOutcome = request_for(callback_id, inputs if isinstance(inputs, dict) else {}, team_id)
        except StepInputError as error:
            log.warning("workflow step %s: %s", callback_id, error)
            asked = StepOutcome(False, str(error).replace("`", ""))

        def work() -> StepOutcome:  # a bad input's answer too: a Web API call never runs on the ack's thread
            return asked if isinstance(asked, StepOutcome) else outcome_of(self.dispatcher.handle(asked, to_text))

        def done(finished: "Future[StepOutcome]") -> None:  # on the worker thread
            if finished.cancelled() or isinstance(finished.exception(), Interrupted):
                return  # the shutdown's notice ended the step already
            outcome = StepOutcome(False, BROKEN) if finished.exception() is not None else finished.result()
            with self.pools.delivering():
                _finish(complete, fail, outcome)

        job = Job(work=work, interrupted=lambda: _finish(complete, fail, StepOutcome(False, INTERRUPTED)))
        try:
            future = self.pools.submit(
                job, slow=isinstance(asked, Request) and self.dispatcher.pending(asked) is not None
            )
        except ShuttingDown:
            _finish(complete, fail, StepOutcome(False, RESTARTING))
            return
        future.add_done_callback(done)
