"""7. The shared database under load: `/ps` acks of one `shipmate serve` on SQLite (the default), one on a private
PostgreSQL, and two replicas on that PostgreSQL sharing the same clients — the same closed-loop load each time.
Every ack claims its request's signature in the database (the replay guard) and every command writes a record."""

from __future__ import annotations

from dataclasses import dataclass

from bench.acks import LoadResult, closed_loop, summarize
from bench.stack import Stack, ack_problem, slash
from tests.private_postgres import PrivatePostgres
from tests.signed_client import SignedClient


@dataclass(frozen=True)
class DatabaseFigures:
    results: tuple[LoadResult, ...]  # SQLite one replica, PostgreSQL one replica, PostgreSQL two replicas


def _load(stack: Stack, clients: list[SignedClient], label: str, senders: int, seconds: float) -> LoadResult:
    def send(index: int) -> str | None:
        try:
            return ack_problem(slash(clients[index % len(clients)], stack.slack, "/ps", "", f"{label}-{index}"))
        except OSError as error:
            return type(error).__name__

    outcomes, took = closed_loop(send, senders, seconds)
    return summarize(label, outcomes, took)


def measure_database(stack: Stack, senders: int, seconds: float) -> DatabaseFigures:
    results = []
    one = stack.start_bot("db-sqlite")
    results.append(_load(stack, [stack.client(one)], "sqlite, 1 replica", senders, seconds))
    stack.stop_bots()
    with PrivatePostgres() as server:
        url = server.new_database()
        first = stack.start_bot("db-postgres-1", env={"SHIPMATE_DATABASE_URL": url})
        results.append(_load(stack, [stack.client(first)], "postgresql, 1 replica", senders, seconds))
        second = stack.start_bot("db-postgres-2", env={"SHIPMATE_DATABASE_URL": url})
        clients = [stack.client(first), stack.client(second)]
        results.append(_load(stack, clients, "postgresql, 2 replicas", senders, seconds))
        stack.stop_bots()
    return DatabaseFigures(tuple(results))
