"""The Home tab's engine probes in the shared database: one probe per engine per interval serves every user and
every replica opening Home in that interval.

Each method is one atomic statement, written once for both databases (`?` placeholders: Store.run).
"""

from bot.results import EngineStatus
from bot.store import Store

PROBE_CLAIM = "engine-probe"  # the kind of claim a probe makes: the probe that follows one seen stale, made once

_READ = "SELECT answering, version, running, total, problem, at FROM engine_probes WHERE engine = ?"
_SAVE = (
    "INSERT INTO engine_probes (engine, at, answering, version, running, total, problem) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (engine) DO UPDATE SET at = excluded.at, answering = excluded.answering,"
    " version = excluded.version, running = excluded.running, total = excluded.total, problem = excluded.problem"
    " WHERE engine_probes.at < excluded.at"
)


class EngineProbes:
    def __init__(self, database: Store) -> None:
        self.database = database

    def latest(self, engine: str) -> tuple[EngineStatus, float] | None:
        """The engine's latest probe and when it was taken, or None before the first."""
        rows = self.database.run(_READ, (engine,))
        if not rows:
            return None
        answering, version, running, total, problem, at = rows[0]
        return EngineStatus(engine, bool(answering), str(version), int(running), int(total), str(problem)), float(at)

    def save(self, status: EngineStatus, at: float) -> None:
        """Keep a probe taken at `at` (an older one never replaces a newer one)."""
        row = (status.engine, at, int(status.answering), status.version, status.running, status.total, status.problem)
        self.database.run(_SAVE, row)

    def claim(self, engine: str, after: float, expires_at: float) -> bool:
        """Claim the probe that replaces the one taken at `after` (0: none yet), for every replica: True for the
        first claim only. Every viewer who found the same probe stale asks for the same claim."""
        return self.database.claim(PROBE_CLAIM, f"{engine}:{after!r}", "probing", "", expires_at) is None
