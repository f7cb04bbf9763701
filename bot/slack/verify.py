"""Only Slack may talk to Shipmate over HTTP: signed, fresh and never replayed.

A signature is claimed in the shared database, so a request replayed to another replica is refused too. While
the database is away, this process's own memory of signatures stands in (reads keep answering).
"""

import logging
import threading
import time
from collections import OrderedDict

from slack_sdk.signature import SignatureVerifier

from bot.store import StoreUnavailable
from bot.store.claims import SeenRequests

log = logging.getLogger(__name__)
MAX_AGE_SECONDS = 60 * 5  # Slack's own rule for X-Slack-Request-Timestamp


class RequestGuard:
    def __init__(self, signing_secret: str, shared: SeenRequests | None = None) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._shared = shared  # the signatures every replica took
        self._seen: OrderedDict[str, float] = OrderedDict()  # signature -> when first seen
        self._lock = threading.Lock()

    def refusal(self, body: bytes, timestamp: str | None, signature: str | None) -> str | None:
        """Why this request must be refused, or None when it is genuine and new."""
        if not timestamp or not signature:
            return "unsigned request"
        try:
            age = abs(time.time() - int(timestamp))
        except ValueError:
            return "malformed timestamp"
        if age > MAX_AGE_SECONDS:
            return "stale timestamp"
        if not self._verifier.is_valid(body, timestamp, signature):
            return "bad signature"
        return "replayed request" if self._replayed(signature) else None

    def _replayed(self, signature: str) -> bool:
        if self._shared is not None:
            try:
                return self._shared.seen_before(signature, time.time() + MAX_AGE_SECONDS)
            except StoreUnavailable as error:
                log.warning("replay guard: the database is not answering (%s); this replica's memory stands in", error)
        return self._remembered(signature)

    def _remembered(self, signature: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - MAX_AGE_SECONDS:
                self._seen.popitem(last=False)
            if signature in self._seen:
                return True
            self._seen[signature] = now
            return False
