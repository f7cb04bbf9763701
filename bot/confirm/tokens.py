"""The signed tokens Confirm and Cancel buttons carry.

A token is stateless — the command, who asked (user and team), an expiry and a nonce, signed with HMAC-SHA256
under a server secret — so any replica that shares the secret can verify a click. Only "this nonce was used"
is stored (in the shared database), which is what makes a Confirm run at most once.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.store import Claim

DEFAULT_TTL_SECONDS = 120
MAX_TOKEN_LENGTH = 2000  # a Block Kit button value
_VERSION = "v1"


class InvalidToken(Exception):
    """The token was not made by this Shipmate (or was altered)."""


class TokenTooLong(Exception):
    pass


@dataclass(frozen=True)
class Confirmation:
    slash: str
    text: str
    user_id: str
    team_id: str
    expires_at: float
    nonce: str

    @property
    def line(self) -> str:
        return f"{self.slash} {self.text}"


class NonceStore(Protocol):
    def used(self, nonce: str) -> Claim | None: ...
    def claim(self, nonce: str, state: str, user_id: str, expires_at: float) -> Claim | None: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Confirmer:
    def __init__(
        self,
        secret: bytes,
        store: NonceStore,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the confirmation secret must be at least 16 bytes")
        self._key = hashlib.sha256(b"shipmate confirmation tokens\0" + secret).digest()
        self.store = store
        self.ttl = ttl
        self.clock = clock

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, f"{_VERSION}.{body}".encode(), hashlib.sha256).digest())

    def issue(self, slash: str, text: str, user_id: str, team_id: str) -> str:
        payload = {
            "s": slash,
            "t": text,
            "u": user_id,
            "w": team_id,
            "e": int(self.clock() + self.ttl),
            "n": secrets.token_urlsafe(12),
        }
        body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        token = f"{_VERSION}.{body}.{self._sign(body)}"
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenTooLong
        return token

    def open(self, token: str) -> Confirmation:
        """The confirmation a token carries; InvalidToken unless this server's secret signed it unchanged."""
        version, _, rest = token.partition(".")
        body, _, signature = rest.partition(".")
        if version != _VERSION or not body or not hmac.compare_digest(signature, self._sign(body)):
            raise InvalidToken
        try:
            payload = json.loads(_unb64(body))
            return Confirmation(
                slash=str(payload["s"]),
                text=str(payload["t"]),
                user_id=str(payload["u"]),
                team_id=str(payload["w"]),
                expires_at=float(payload["e"]),
                nonce=str(payload["n"]),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidToken from None

    def expired(self, confirmation: Confirmation) -> bool:
        return self.clock() > confirmation.expires_at
