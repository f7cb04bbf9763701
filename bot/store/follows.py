"""The `logs -f` follows in the shared database, so a Stop click on any replica reaches the replica running it:
that a follow runs, that a stop was asked for it, and how it ended — each a claim keyed by the follow's id,
the first one standing (bot/engine/running_follows.py)."""

import time

from bot.store import Store

FOLLOWING = "follow"
STOP_ASKED = "follow-stop"
FOLLOW_ENDED = "follow-end"
KEPT_SECONDS = 24 * 3600  # how long a follow's claims answer a late click ("already ended")


class FollowState:
    def __init__(self, database: Store) -> None:
        self.database = database

    def record_running(self, follow_id: str) -> None:
        self.database.claim(FOLLOWING, follow_id, "running", "", time.time() + KEPT_SECONDS)

    def runs(self, follow_id: str) -> bool:
        """Whether a replica recorded the follow as running (it may have ended since)."""
        return self.database.claimed(FOLLOWING, follow_id) is not None

    def ask_stop(self, follow_id: str) -> None:
        self.database.claim(STOP_ASKED, follow_id, "asked", "", time.time() + KEPT_SECONDS)

    def stop_asked(self, follow_id: str) -> bool:
        return self.database.claimed(STOP_ASKED, follow_id) is not None

    def record_end(self, follow_id: str, ended: str) -> None:
        """Why the follow ended; the first end recorded stands."""
        self.database.claim(FOLLOW_ENDED, follow_id, ended, "", time.time() + KEPT_SECONDS)

    def ended(self, follow_id: str) -> str | None:
        """Why the follow ended, or None while no end is recorded."""
        claim = self.database.claimed(FOLLOW_ENDED, follow_id)
        return claim.state if claim is not None else None
