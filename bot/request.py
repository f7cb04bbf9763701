"""What every way in (slash command, button click, terminal) hands the dispatcher, and what it gets back."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.grammar import Command
from bot.results import (
    ApprovalWaiting,
    ConfirmationRequest,
    Convergences,
    Failure,
    FleetAnswer,
    FromEngine,
    Outcomes,
    Progress,
    Result,
)

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
    progress: Callable[[Progress], None] | None = None
    context: str | None = None  # the engine(s) when the text names none (`shipmate local --context`)


@dataclass(frozen=True)
class Reply(Generic[Rendered]):
    message: Rendered
    result: Result
    command: Command | None  # the command that ran; None when nothing did (bad text, a rejected click)
    line: str | None = None  # the command line that ran when it is not what was typed: the one a Confirm ran

    @property
    def ok(self) -> bool:
        """Done, and done well. Refusals, errors, confirmation requests and commands waiting for approval are not:
        show them to the requester only."""
        result = self.result.result if isinstance(self.result, FromEngine) else self.result
        if isinstance(result, Failure | ConfirmationRequest | ApprovalWaiting):
            return False
        if isinstance(result, FleetAnswer):
            return bool(result.parts)
        return not isinstance(result, Outcomes | Convergences) or result.all_ok

    @property
    def needs_confirmation(self) -> bool:
        return isinstance(self.result, ConfirmationRequest)
