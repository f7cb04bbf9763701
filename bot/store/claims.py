"""One-time claims decided once for every replica: a Confirm/Cancel token's use, a signed request's signature
(the replay guard), and a workflow step's execution."""

from bot.store import Claim, Store

CONFIRMATION = "confirmation"  # the kind of claim a Confirm/Cancel token makes
REQUEST = "request"  # the kind of claim a signed request makes
STEP = "step"  # the kind of claim a workflow step's execution makes


class Confirmations:
    """Which confirmation tokens were used (and by whom), so a Confirm runs at most once."""

    def __init__(self, database: Store) -> None:
        self.database = database

    def used(self, nonce: str) -> Claim | None:
        """What became of a confirmation token (and who), or None while it is unused."""
        return self.database.claimed(CONFIRMATION, nonce)

    def claim(self, nonce: str, state: str, user_id: str, expires_at: float) -> Claim | None:
        """Mark a token used, atomically: None when this call claimed it, else the use that came first."""
        return self.database.claim(CONFIRMATION, nonce, state, user_id, expires_at)


class SeenRequests:
    """The signatures of the signed requests any replica took, so a replayed request is refused everywhere."""

    def __init__(self, database: Store) -> None:
        self.database = database

    def seen_before(self, signature: str, expires_at: float) -> bool:
        """Remember a signature until `expires_at`: True when a replica had already taken it."""
        return self.database.claim(REQUEST, signature, "seen", "", expires_at) is not None


class StepExecutions:
    """The workflow step executions any replica took: Slack sends an event again when its ack was late or lost, and
    a step must run once (a restart twice is two restarts)."""

    def __init__(self, database: Store) -> None:
        self.database = database

    def taken_before(self, execution_id: str, expires_at: float) -> bool:
        """Remember an execution until `expires_at`: True when a replica had already taken it."""
        return self.database.claim(STEP, execution_id, "taken", "", expires_at) is not None
