"""Command -> Result over the Docker Engine API. Importing this package registers every executor."""

from bot.engine import (  # noqa: F401 - registers executors
    compose,
    containers,
    context_list,
    converge,
    diagnostics,
    execs,
    follow,
    help,
    images,
    prune,
    run,
    services,
    system,
    updates,
    volumes,
)
from bot.engine.client import Engine
from bot.engine.errors import EngineError, EngineUnreachable
from bot.engine.execution import Context, RunLimits
from bot.engine.executors import execute

__all__ = ["Context", "Engine", "EngineError", "EngineUnreachable", "RunLimits", "execute"]
