"""parse → authorize → execute → render: the only place that knows the order.

Every way in (slash command, button click, terminal) builds a Request and gets a Reply; nothing here knows
how the request arrived or how the reply travels.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from bot.engine import Context, Engine, EngineError, RunLimits, execute
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL
from bot.grammar import Command, ParseError, parse
from bot.results import Failure, Outcomes, PullProgress, Result

log = logging.getLogger(__name__)
Rendered = TypeVar("Rendered")


@dataclass(frozen=True)
class Caller:
    """Who asked, and where. Local mode is the user "local" with no team or channel."""

    user_id: str = "local"
    team_id: str = ""
    channel_id: str = ""
    user_name: str = ""


@dataclass(frozen=True)
class Request:
    text: str
    slash: str = "/docker"
    caller: Caller = field(default_factory=Caller)
    progress: Callable[[PullProgress], None] | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


class Authorizer(Protocol):
    def authorize(self, command: Command, caller: Caller) -> Decision: ...


class AllowEverything:
    """The authorize stage before a policy is configured: an explicit, visible hook."""

    def authorize(self, command: Command, caller: Caller) -> Decision:
        return Decision(allowed=True)


@dataclass(frozen=True)
class Reply(Generic[Rendered]):
    message: Rendered
    result: Result
    command: Command | None

    @property
    def ok(self) -> bool:
        if isinstance(self.result, Failure):
            return False
        return not isinstance(self.result, Outcomes) or self.result.all_ok


class Dispatcher:
    def __init__(self, engine: Engine, authorizer: Authorizer | None = None, limits: RunLimits | None = None) -> None:
        self.engine = engine
        self.authorizer = authorizer or AllowEverything()
        self.limits = limits or RunLimits()

    def parse(self, request: Request) -> Command | Failure:
        try:
            return parse(request.text, request.slash)
        except ParseError as error:
            return Failure(error.reason, error.usage)

    def pending(self, request: Request) -> str | None:
        """The "working on it" line when the request is for slow work (pull, foreground run, stop), else None."""
        command = self.parse(request)
        return command.pending if isinstance(command, Command) and command.slow else None

    def handle(self, request: Request, render: Callable[[Result], Rendered]) -> Reply[Rendered]:
        command = self.parse(request)
        if isinstance(command, Failure):
            return Reply(render(command), command, None)
        result = self._authorized_result(command, request)
        return Reply(render(result), result, command)

    def _authorized_result(self, command: Command, request: Request) -> Result:
        decision = self.authorizer.authorize(command, request.caller)
        if not decision.allowed:
            return Failure(decision.reason)
        labels = {OWNER_LABEL: request.caller.user_id, TEAM_LABEL: request.caller.team_id}
        context = Context(engine=self.engine, labels=labels, progress=request.progress, limits=self.limits)
        try:
            return execute(command, context)
        except EngineError as error:
            return Failure(str(error))
        except Exception:  # a bug must cost one reply, never the bot or a traceback in chat
            log.exception("command failed unexpectedly: %s", type(command).__name__)
            return Failure("Shipmate hit an internal error; the details are in its log")
