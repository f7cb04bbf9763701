"""Shared pytest fixtures. Add new fixtures in their own section below."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.private_engine import PrivateEngine

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
