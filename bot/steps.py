"""Workflow Builder steps (Slack custom functions) as Shipmate commands: a step's inputs become one docker command
line, run through the dispatcher as the workflow's user, and the Reply becomes the step's outputs.

There is no new permission path: the line is what that user could type as `/docker …`, so the policy, the audit and
the masking are the typed command's. A step that would ask for a confirmation (scaling a service to 0) fails: a
workflow cannot click, and a confirmation is a person's deliberate yes at the moment of the change — a step written
weeks earlier is not one. The step says what to type in Slack instead.

Nothing here knows Slack: bot/slack/steps.py carries the event in and the outputs out.
"""

import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.request import Caller, Reply, Request
from bot.results import ConfirmationRequest, Convergences, Failure, FromEngine, LogText, Outcomes, Result
from bot.secrets import mask_text, mask_values

RESULT = "result"  # output: what the command answered, as plain text
EXIT_CODE = "exit_code"  # output: 0 done, 1 done by Docker but failed (StepOutcome)
USER = "user"  # input: the person the step acts as
# A Slack user id; never a user group's (S…) or a policy word ("*"), which the policy's members: would match.
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
# A step's text output usually lands in a message a later step sends; Slack advises at most 4,000 characters there.
MAX_RESULT_CHARS = 4000
MAX_ERROR_CHARS = 500
DEFAULT_TAIL = 100
_NOTE_ROOM = 60  # for "(N earlier characters left out)"
CONFIRMATION_NEEDED = "this needs a confirmation, which a workflow cannot give: run `{line}` in Slack and confirm it"


class StepInputError(ValueError):
    """An input Workflow Builder should not have let through (missing, or of the wrong type): one line."""


@dataclass(frozen=True)
class Step:
    """One custom step: its callback id (as declared in manifest.yml) and how its inputs become docker words."""

    callback_id: str
    title: str
    words: Callable[[Mapping[str, object]], list[str]]


def _text(inputs: Mapping[str, object], name: str, *, required: bool = True) -> str | None:
    value = inputs.get(name)
    if value is None or value == "":
        if required:
            raise StepInputError(f"the step's `{name}` input is empty: set it in Workflow Builder")
        return None
    if not isinstance(value, str):
        raise StepInputError(f"the step's `{name}` input must be text, not {type(value).__name__}")
    return value.strip()


def _count(inputs: Mapping[str, object], name: str, *, required: bool = True) -> int | None:
    """Workflow Builder sends an integer input as a number (or, from a text variable, as its digits)."""
    value = inputs.get(name)
    if value is None or value == "":
        if required:
            raise StepInputError(f"the step's `{name}` input is empty: set it in Workflow Builder")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise StepInputError(f"the step's `{name}` input must be a whole number")
    text = str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text.isascii() or not text.isdigit():
        raise StepInputError(f"the step's `{name}` input must be a whole number of 0 or more, not `{text}`")
    return int(text)


def _arguments(*values: str) -> list[str]:
    """The values as arguments, never options: `--time=0` as a container's name is refused as a name."""
    return ["--", *values] if any(value.startswith("-") for value in values) else list(values)


def _restart(inputs: Mapping[str, object]) -> list[str]:
    return ["restart", *_arguments(str(_text(inputs, "container")))]


def _scale(inputs: Mapping[str, object]) -> list[str]:
    return ["service", "scale", *_arguments(f"{_text(inputs, 'service')}={_count(inputs, 'replicas')}")]


def _logs(inputs: Mapping[str, object]) -> list[str]:
    tail = _count(inputs, "tail", required=False)
    tail_option = ["--tail", str(DEFAULT_TAIL if tail is None else tail)]
    return ["logs", *tail_option, *_arguments(str(_text(inputs, "container")))]


STEPS: dict[str, Step] = {
    step.callback_id: step
    for step in (
        Step("restart_container", "Restart container", _restart),
        Step("scale_service", "Scale service", _scale),
        Step("get_logs", "Get logs", _logs),
    )
}


def request_for(callback_id: str, inputs: Mapping[str, object], team_id: str) -> Request:
    """The request a step makes: `/docker [--context ENGINE] …` as its `user`. Raises StepInputError.

    The command's own values (names, counts) are quoted into one word each and checked by the grammar, like typed
    text, so a refusal is audited like one."""
    step = STEPS[callback_id]
    user = str(_text(inputs, USER))
    if not _USER_ID.fullmatch(user):
        raise StepInputError(f"the step's `{USER}` input must be a person (a Slack user id), not `{user}`")
    engine = _text(inputs, "engine", required=False)
    words = (["--context", engine] if engine else []) + step.words(inputs)
    caller = Caller(user_id=user, team_id=team_id, user_name=f"workflow step {callback_id}")
    return Request(text=shlex.join(words), slash="/docker", caller=caller)


@dataclass(frozen=True)
class StepOutcome:
    """How a step ends. Completed: its outputs, with exit code 1 when Docker acted but it did not end well (a scale
    whose tasks did not converge), so the workflow can go on and test it. Not completed: the one-line reason —
    a refusal, a bad input, a question only Slack can answer, or an error before anything was done."""

    completed: bool
    text: str  # the result (plain, masked, within MAX_RESULT_CHARS), or why the step failed
    exit_code: int = 0

    @property
    def outputs(self) -> dict[str, object]:
        return {RESULT: self.text, EXIT_CODE: self.exit_code}


def _plain(reason: str) -> str:
    """Shipmate's own words quote names in backticks (mrkdwn code); a step's error is plain text on one line."""
    line = " ".join(mask_values(reason).replace("`", "").split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


def keep_tail(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """At most `limit` characters, keeping the end (the newest log lines, whole) and saying how much was left out."""
    if len(text) <= limit:
        return text
    kept = text[len(text) - (limit - _NOTE_ROOM) :]
    kept = kept.split("\n", 1)[1] if "\n" in kept else kept
    return f"({len(text) - len(kept):,} earlier characters left out)\n{kept}"


def outcome_of(reply: Reply[str]) -> StepOutcome:
    """The step's end from what the dispatcher answered (rendered as terminal text, which is masked)."""
    result: Result = reply.result.result if isinstance(reply.result, FromEngine) else reply.result
    if isinstance(result, ConfirmationRequest):
        return StepOutcome(False, _plain(CONFIRMATION_NEEDED.format(line=mask_text(result.command))))
    if isinstance(result, Failure):
        return StepOutcome(False, _plain(result.reason))
    # A container's output is shown as it is; Shipmate's own words lose the backticks they quote names in.
    text = reply.message if isinstance(result, LogText) else reply.message.replace("`", "")
    if isinstance(result, Outcomes | Convergences) and not reply.ok:  # Docker acted; the text says how it ended
        return StepOutcome(True, keep_tail(text), exit_code=1)
    if not reply.ok:
        return StepOutcome(False, _plain(text))
    return StepOutcome(True, keep_tail(text))
