"""The Home tab's engine probes in the shared database: one probe per engine per interval serves every user and
every replica opening Home in that interval.

Each method is one atomic statement, written once for both databases (`?` placeholders: Store.run).
"""

from bot.results import EngineStatus
from bot.store import Store

PROBE_CLAIM = "engine-probe"  # the kind of claim a probe makes: one engine, one interval, probed once

_READ = "SELECT answering, version, running, total, problem FROM engine_probes WHERE engine = ? AND at >= ?"
_SAVE = (
    "INSERT INTO engine_probes (engine, at, answering, version, running, total, problem) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (engine) DO UPDATE SET at = excluded.at, answering = excluded.answering,"
    " version = excluded.version, running = excluded.running, total = excluded.total, problem = excluded.problem"
    " WHERE engine_probes.at < excluded.at"
)


class EngineProbes:
    def __init__(self, database: Store) -> None:
        self.database = database

    def fresh(self, engine: str, since: float) -> EngineStatus | None:
        """The engine's latest probe when it was taken at `since` or later, else None."""
        rows = self.database.run(_READ, (engine, since))
        if not rows:
            return None
        answering, version, running, total, problem = rows[0]
        return EngineStatus(engine, bool(answering), str(version), int(running), int(total), str(problem))

    def save(self, status: EngineStatus, at: float) -> None:
        """Keep a probe taken at `at` (an older one never replaces a newer one)."""
        row = (status.engine, at, int(status.answering), status.version, status.running, status.total, status.problem)
        self.database.run(_SAVE, row)

    def claim(self, engine: str, interval: int, expires_at: float) -> bool:
        """Claim probing `engine` in `interval`, for every replica: True for the first claim only."""
        return self.database.claim(PROBE_CLAIM, f"{engine}:{interval}", "probing", "", expires_at) is None
