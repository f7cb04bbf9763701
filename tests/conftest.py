"""Shared pytest fixtures. Add new fixtures in their own section below."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bot_process import BotProcess, shipmate
from tests.private_engine import PrivateEngine
from tests.slack_standin import SlackStandin
from tests.swarm import join, leave

if TYPE_CHECKING:
    from tests.private_postgres import PrivatePostgres

# -- the user's own files ------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def private_state_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`shipmate local` run by a test keeps its audit database in a temp dir, never the user's ~/.local/state."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield


# -- Docker engine ------------------------------------------------------------


@pytest.fixture(scope="session")
def engine() -> Iterator[PrivateEngine]:
    """One private Docker engine per session, started only if a test asks."""
    eng = PrivateEngine()
    try:
        eng.start()
        yield eng
    finally:
        eng.close()


@pytest.fixture
def clean_engine(engine: PrivateEngine) -> PrivateEngine:
    """The session engine, running, with no containers left from earlier tests."""
    engine.start_daemon()  # a test may have left it stopped
    engine.reset()
    return engine


# -- Slack stand-in and the bot as a process ------------------------------------


@pytest.fixture
def signing_secret() -> str:
    return "8f742231b10e8888abcd99yyyzzz85a5-shipmate-test"


@pytest.fixture
def slack() -> Iterator[SlackStandin]:
    """A running Slack stand-in (Web API, response_urls, uploads, Socket Mode) on 127.0.0.1."""
    with SlackStandin() as standin:
        yield standin


@pytest.fixture
def bot_server(
    slack: SlackStandin, signing_secret: str, engine: PrivateEngine, tmp_path: Path
) -> Iterator[Callable[..., BotProcess]]:
    """Start the bot: `bot_server()` serves HTTP, `bot_server("socket")` uses Socket Mode; `args` are more
    command-line options, other keyword arguments extra environment variables. Every bot started is stopped
    after the test, and one that does not stop on SIGTERM fails it."""
    started: list[BotProcess] = []

    def start(mode: str = "serve", args: tuple[str, ...] = (), **env: str) -> BotProcess:
        workdir = tmp_path / f"bot-{len(started)}"
        bot = shipmate(
            mode,
            standin=slack,
            signing_secret=signing_secret,
            docker_host=engine.docker_host,
            workdir=workdir,
            extra_env=env,
            args=args,
        )
        started.append(bot.start())
        return bot.wait_ready()

    yield start
    with ExitStack() as stops:  # stop every bot even if one of them fails to stop
        for bot in started:
            stops.callback(bot.stop)


# -- PostgreSQL ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PrivatePostgres]:
    """One private PostgreSQL server per session, started only if a test asks; `new_database()` per test."""
    from tests.private_postgres import PrivatePostgres  # psycopg: the `postgres` extra

    with PrivatePostgres() as server:
        yield server


@pytest.fixture
def running_postgres(postgres: PrivatePostgres) -> PrivatePostgres:
    """The session server, running (a test may have left it stopped)."""
    if not postgres.running:
        postgres.start()
    return postgres


# -- Swarm ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def swarm(engine: PrivateEngine) -> Iterator[PrivateEngine]:
    """The session engine as the manager of a one-node swarm for one test module; it leaves the swarm afterwards
    (services removed), so the rest of the suite sees a plain engine."""
    engine.start_daemon()
    api = engine.api()
    try:
        join(api)
        yield engine
    finally:
        engine.start_daemon()  # a test may have stopped it
        leave(api)
        api.close()
