"""Tells a temporary grant's holder, by direct message, shortly before it ends and when it has ended (by time or
revoked). A small timer thread on each replica; each notice is claimed once in the database, so two replicas
send it once."""

import logging
import threading
import time
from datetime import UTC, datetime

from bot.render.blocks import to_message
from bot.results import Notice
from bot.slack.delivery import Delivery
from bot.store import StoreUnavailable
from bot.store.grants import ENDED, NOTICE_WINDOW_SECONDS, WARNED, Grant, Grants

log = logging.getLogger(__name__)
LONGEST_TICK_SECONDS = 15.0


def _at(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S UTC")


class GrantNotices:
    def __init__(self, grants: Grants, delivery: Delivery, warning_seconds: float) -> None:
        self.grants = grants
        self.delivery = delivery
        self.warning_seconds = warning_seconds
        self.tick_seconds = max(0.5, min(LONGEST_TICK_SECONDS, warning_seconds / 2))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grant-notices", daemon=True)

    def start(self) -> "GrantNotices":
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                self.tick(time.time())
            except StoreUnavailable:
                log.warning("grant notices wait: the database is not answering")
            except Exception:  # a bug must not end the timer
                log.exception("grant notices failed")

    def tick(self, now: float) -> None:
        for grant in self.grants.ending_within(now, self.warning_seconds):
            if self.grants.first_notice(WARNED, grant):
                self._tell(grant, f"Your temporary {grant.role} on {grant.engines} ends at {_at(grant.ends)}")
        for grant in self.grants.ended_since(now - NOTICE_WINDOW_SECONDS, now):
            if self.grants.first_notice(ENDED, grant):
                how = f"was revoked by {grant.revoked_by}" if grant.revoked_at is not None else "has ended"
                self._tell(grant, f"Your temporary {grant.role} on {grant.engines} {how} ({_at(grant.ended_at)})")

    def _tell(self, grant: Grant, title: str) -> None:
        self.delivery.direct(grant.user_id, to_message(Notice(title, (f"grant {grant.id}: {grant.reason}",))).payload())
