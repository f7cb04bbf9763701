"""The database schema, as numbered steps; a store applies the ones it has not seen, under a lock, at start-up.

Adding a column is one more step at the end, as step 2 shows (and the column's name in AUDIT_COLUMNS). `{id}` and
`{real}` are spelled per database (DIALECTS). A database from before versioning (the audit file of earlier
Shipmates) is version 1, or 2 when its audit table already has the engine column.
"""

from bot.config import ConfigError

AUDIT_COLUMNS = (
    "at",
    "team_id",
    "user_id",
    "user_name",
    "channel_id",
    "command",
    "action",
    "changes",
    "decision",
    "outcome",
    "detail",
    "duration_ms",
    "engine",
)

DIALECTS = {
    "sqlite": {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL"},
    "postgresql": {"id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "real": "DOUBLE PRECISION"},
}

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS shipmate_schema (version INTEGER NOT NULL)"

STEPS: tuple[tuple[str, ...], ...] = (
    # 1: the audit log and the used confirmation tokens (Shipmate before SHIPMATE_DATABASE_URL)
    (
        """CREATE TABLE IF NOT EXISTS audit (
            id {id},
            at {real} NOT NULL,
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            user_name TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            command TEXT NOT NULL,
            action TEXT NOT NULL,
            changes INTEGER NOT NULL,
            decision TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL,
            duration_ms INTEGER NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS audit_by_user ON audit (user_id, id)",
        """CREATE TABLE IF NOT EXISTS used_confirmations (
            nonce TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            user_id TEXT NOT NULL,
            at {real} NOT NULL,
            expires_at {real} NOT NULL
        )""",
    ),
    # 2: the engine(s) each command ran on
    ("ALTER TABLE audit ADD COLUMN engine TEXT NOT NULL DEFAULT ''",),
    # 3: one table of claims for everything decided once (confirmations, signed requests, alerts)
    (
        """CREATE TABLE claims (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            state TEXT NOT NULL,
            claimed_by TEXT NOT NULL,
            at {real} NOT NULL,
            expires_at {real} NOT NULL,
            PRIMARY KEY (kind, key)
        )""",
        "CREATE INDEX claims_by_expiry ON claims (expires_at)",
        """INSERT INTO claims (kind, key, state, claimed_by, at, expires_at)
            SELECT 'confirmation', nonce, state, user_id, at, expires_at FROM used_confirmations""",
        "DROP TABLE used_confirmations",
    ),
    # 4: alert incidents: the first message of a container's trouble, updated while it repeats
    (
        """CREATE TABLE alert_incidents (
            key TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            opened_at {real} NOT NULL,
            last_at {real} NOT NULL,
            count INTEGER NOT NULL,
            ts TEXT NOT NULL,
            alert TEXT NOT NULL,
            resolved INTEGER NOT NULL
        )""",
    ),
    # 5: how far each engine's events have been handled, so a restarted Shipmate replays what it missed
    (
        """CREATE TABLE alert_cursors (
            engine TEXT PRIMARY KEY,
            since TEXT NOT NULL,
            at {real} NOT NULL
        )""",
    ),
    # freezes from `/docker freeze` and silences from `/docker silence`: lifted early, or ended by their time
    (
        """CREATE TABLE freezes (
            id {id},
            engines TEXT NOT NULL,
            starts_at {real} NOT NULL,
            ends_at {real} NOT NULL,
            reason TEXT NOT NULL,
            frozen_by TEXT NOT NULL,
            lifted_by TEXT NOT NULL DEFAULT '',
            lifted_at {real}
        )""",
        "CREATE INDEX freezes_by_end ON freezes (ends_at)",
        """CREATE TABLE silences (
            id {id},
            engines TEXT NOT NULL,
            containers TEXT NOT NULL,
            starts_at {real} NOT NULL,
            ends_at {real} NOT NULL,
            reason TEXT NOT NULL,
            silenced_by TEXT NOT NULL,
            lifted_by TEXT NOT NULL DEFAULT '',
            lifted_at {real}
        )""",
        "CREATE INDEX silences_by_end ON silences (ends_at)",
    ),
    # the Home tab's engine probes, shared by the replicas for a few seconds
    (
        """CREATE TABLE engine_probes (
            engine TEXT PRIMARY KEY,
            at {real} NOT NULL,
            answering INTEGER NOT NULL,
            version TEXT NOT NULL,
            running INTEGER NOT NULL,
            total INTEGER NOT NULL,
            problem TEXT NOT NULL
        )""",
    ),
    # approval requests: a command that runs only after someone else says yes (bot/store/approvals.py);
    # temporary grants of a role on some engines, given on approval (bot/store/grants.py)
    (
        """CREATE TABLE approval_requests (
            id TEXT PRIMARY KEY,
            created_at {real} NOT NULL,
            expires_at {real} NOT NULL,
            request TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            state TEXT NOT NULL,
            decided_by TEXT NOT NULL,
            reason TEXT NOT NULL,
            message_channel TEXT NOT NULL,
            message_ts TEXT NOT NULL
        )""",
        """CREATE TABLE access_grants (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            role TEXT NOT NULL,
            engines TEXT NOT NULL,
            starts {real} NOT NULL,
            ends {real} NOT NULL,
            reason TEXT NOT NULL,
            approved_by TEXT NOT NULL,
            revoked_at {real},
            revoked_by TEXT NOT NULL
        )""",
        "CREATE INDEX access_grants_by_end ON access_grants (ends)",
    ),
)
VERSION = len(STEPS)


def statements(dialect: str, since: int) -> list[str]:
    """The SQL that brings a database at version `since` to VERSION."""
    words = DIALECTS[dialect]
    return [statement.format(**words) for step in STEPS[since:] for statement in step]


def check_version(found: int, where: str) -> None:
    if found > VERSION:
        raise ConfigError(
            f"the database at {where} has schema version {found}, newer than this Shipmate knows ({VERSION}): "
            "upgrade Shipmate, or point it at another database"
        )
