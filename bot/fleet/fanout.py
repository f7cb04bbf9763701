"""One read on several engines at once, merged into one answer.

Every engine gets its own deadline (its timeout, plus a little for the work around the call): an engine that is
down or hung costs that answer one line, never the others' time. Work still running at the deadline finishes
in the background and is dropped.
"""

from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from time import monotonic
from typing import TypeVar

from bot.results import (
    ComposeProjectTable,
    ContainerTable,
    ContextRow,
    ContextTable,
    Failure,
    FleetAnswer,
    FromEngine,
    ImageTable,
    NetworkTable,
    Result,
    Unanswered,
    UpdateTable,
    VolumeTable,
)

T = TypeVar("T")
GRACE_SECONDS = 0.5  # beyond an engine's own timeout, for the work around its call
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="shipmate-fanout")


def run_on_each(
    work: Mapping[str, Callable[[], Result]], timeouts: Mapping[str, float]
) -> tuple[dict[str, Result], dict[str, str]]:
    """Run each engine's work in parallel: (engine -> result, engine -> why it gave none)."""
    started = monotonic()
    futures: dict[str, Future[Result]] = {engine: _POOL.submit(job) for engine, job in work.items()}
    answered: dict[str, Result] = {}
    missed: dict[str, str] = {}
    for engine, future in futures.items():
        left = started + timeouts[engine] + GRACE_SECONDS - monotonic()
        try:
            answered[engine] = future.result(timeout=max(0.0, left))
        except FutureTimeout:
            future.cancel()
            missed[engine] = f"did not answer within {timeouts[engine]:g} s"
    return answered, missed


def merge(answered: Mapping[str, Result], missed: Mapping[str, str], left_out: tuple[str, ...]) -> FleetAnswer:
    """Tables become one table with the engine on each row (by engine, then in the engine's own order);
    anything else stays one part per engine. Failures and silences are one line each."""
    engines = sorted(answered)
    parts = tuple(
        FromEngine(engine, answered[engine]) for engine in engines if not isinstance(answered[engine], Failure)
    )
    unanswered = [
        Unanswered(engine, result.reason) for engine, result in answered.items() if isinstance(result, Failure)
    ]
    unanswered += [Unanswered(engine, why) for engine, why in missed.items()]
    unanswered.sort(key=lambda miss: miss.engine)
    return FleetAnswer(_merged(parts), parts, tuple(unanswered), left_out)


def _on_engine(row: T, engine: str) -> T:
    """A copy of a frozen row with its engine set. dataclasses.replace() would cost a tenth of a 200-row
    fan-out's time; the row classes have no __post_init__ for it to skip."""
    tagged = object.__new__(type(row))
    tagged.__dict__.update(row.__dict__, engine=engine)
    return tagged


def _merged(parts: tuple[FromEngine, ...]) -> Result | None:
    results = [part.result for part in parts]
    if results and all(isinstance(result, ContainerTable) for result in results):
        rows = tuple(_on_engine(row, part.engine) for part in parts for row in part.result.rows)  # type: ignore[attr-defined]
        return ContainerTable(rows=rows, all=any(result.all for result in results), per_engine=_per_engine(parts))  # type: ignore[attr-defined]
    if results and all(isinstance(result, ImageTable) for result in results):
        rows = tuple(_on_engine(row, part.engine) for part in parts for row in part.result.rows)  # type: ignore[attr-defined]
        return ImageTable(rows=rows, reference=results[0].reference, per_engine=_per_engine(parts))  # type: ignore[attr-defined]
    if results and all(isinstance(result, VolumeTable) for result in results):
        rows = tuple(_on_engine(row, part.engine) for part in parts for row in part.result.rows)  # type: ignore[attr-defined]
        return VolumeTable(rows=rows, filters=results[0].filters, per_engine=_per_engine(parts))  # type: ignore[attr-defined]
    if results and all(isinstance(result, NetworkTable) for result in results):
        rows = tuple(_on_engine(row, part.engine) for part in parts for row in part.result.rows)  # type: ignore[attr-defined]
        return NetworkTable(rows=rows, per_engine=_per_engine(parts))
    if results and all(isinstance(result, ComposeProjectTable) for result in results):
        rows = tuple(_on_engine(row, part.engine) for part in parts for row in part.result.rows)  # type: ignore[attr-defined]
        return ComposeProjectTable(rows=rows, per_engine=_per_engine(parts))
    if results and all(isinstance(result, UpdateTable) for result in results):
        rows = tuple(_on_engine(row, part.engine) for part in parts for row in part.result.rows)  # type: ignore[attr-defined]
        asked = sum(result.asked for result in results)  # type: ignore[attr-defined]
        return UpdateTable(rows=rows, asked=asked, per_engine=_per_engine(parts))
    return None


def _per_engine(parts: tuple[FromEngine, ...]) -> tuple[tuple[str, int], ...]:
    """How many rows each engine's table has: the merged table's title says it when the rows are cut."""
    return tuple((part.engine, len(part.result.rows)) for part in parts)  # type: ignore[attr-defined]


def context_table(
    hosts: Mapping[str, str], default: str, answered: Mapping[str, Result], missed: Mapping[str, str]
) -> ContextTable:
    """`context ls`: every engine asked is a row (in `hosts`' order), answering or not."""
    rows = []
    for name, host in hosts.items():
        result = answered.get(name)
        if isinstance(result, ContextTable):
            rows += [replace(row, default=row.name == default) for row in result.rows]
        else:
            why = result.reason if isinstance(result, Failure) else missed.get(name, "no answer")
            rows.append(ContextRow(name, host, name == default, reachable=False, detail=why))
    return ContextTable(tuple(rows))
