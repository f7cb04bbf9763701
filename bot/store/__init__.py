"""The shared database: everything that must have one answer for every replica, and the only place with SQL.

`Store` is the database itself: one connection (SQLite) or pool (PostgreSQL) per process, shared, with a few
primitives — append audit rows and read the latest, claims ("this key of this kind was used, by whom, for what",
decided once for the whole deployment), and one statement written for both databases. The rest of Shipmate uses
the small store for its purpose over it, each with typed methods:

- audit.py: AuditRecords, the audit log's records (bot/audit.py queues, masks and writes them);
- claims.py: Confirmations (a Confirm/Cancel token used once) and SeenRequests (the replay guard);
- alerts.py: AlertState, an event's alert claimed once, the incidents and the engines' event cursors;
- follows.py: FollowState, the `logs -f` running, asked to stop and ended (bot/engine/running_follows.py);
- approvals.py: ApprovalRequests, commands waiting for approval, each ended once (bot/approve);
- grants.py: Grants, temporary roles given on approval, and their holders' notices claimed once.

`SHIPMATE_DATABASE_URL` picks the backend: `sqlite:///relative/path.db`, `sqlite:////absolute/path.db` (the
embedded default) or `postgresql://user:password@host/db` (needs the `postgres` extra). The schema is
versioned and upgraded when a store opens (bot/store/schema.py); a database newer than this code stops start-up.
A database that stops answering raises StoreUnavailable from any call; the store reconnects by itself.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.config import ConfigError
from bot.secrets import mask_values


class StoreUnavailable(Exception):
    """The database did not answer, or cannot write now (read-only, disk full); nothing was written."""


class StoreRejected(Exception):
    """The database refused the rows themselves (a value it cannot hold): trying them again will not help."""


@dataclass(frozen=True)
class Claim:
    state: str  # what the key was used for, e.g. "confirmed"
    by: str  # who used it (a user id), "" when nobody in particular


class Store(Protocol):
    url: str  # for messages, without a password

    def append_audit(self, rows: list[tuple[object, ...]]) -> None:
        """All the rows or none: StoreUnavailable when the database cannot write now, StoreRejected when it
        refuses one of them."""
        ...

    def latest_audit(self, user_id: str | None, limit: int, offset: int = 0) -> list[tuple[object, ...]]:
        """Audit rows (AUDIT_COLUMNS), newest first, optionally of one user."""
        ...

    def claim(self, kind: str, key: str, state: str, by: str, expires_at: float) -> Claim | None:
        """Use `key` once: None when this call claimed it, else the claim that came first."""
        ...

    def claimed(self, kind: str, key: str) -> Claim | None: ...
    def run(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        """One statement written for both databases (`?` placeholders), committed; the rows it returns. For the
        stores of this package only."""
        ...

    def ping(self) -> None: ...
    def close(self) -> None: ...


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite file, as SQLAlchemy writes it (four slashes before an absolute path)."""
    return f"sqlite:///{path}"


def open_store(url: str) -> Store:
    """The store at `url`, its schema upgraded; ConfigError (one line) when it cannot be used."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from bot.store.sqlite import SqliteStore

        if not url.startswith("sqlite:///") or url == "sqlite:///":
            raise ConfigError(
                f"SHIPMATE_DATABASE_URL={mask_values(url)!r}: write sqlite:///relative.db or sqlite:////absolute/path.db"
            )
        return SqliteStore(Path(url.removeprefix("sqlite:///")), setting="SHIPMATE_DATABASE_URL")
    if scheme in ("postgresql", "postgres"):
        try:
            from bot.store.postgres import PostgresStore
        except ImportError:
            raise ConfigError(
                "SHIPMATE_DATABASE_URL is a PostgreSQL URL, but psycopg is not installed: "
                "pip install 'shipmate[postgres]'"
            ) from None
        return PostgresStore(url)
    raise ConfigError(
        f"SHIPMATE_DATABASE_URL={mask_values(url)!r}: use sqlite:///path.db or postgresql://user:password@host/db"
    )
