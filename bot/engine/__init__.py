"""Command -> Result over the Docker Engine API. Importing this package registers every executor."""

from bot.engine import containers, contexts, help, images, run  # noqa: F401 - registers executors
from bot.engine.client import Engine
from bot.engine.context import Context, RunLimits
from bot.engine.errors import EngineError, EngineUnreachable
from bot.engine.registry import execute

__all__ = ["Context", "Engine", "EngineError", "EngineUnreachable", "RunLimits", "execute"]
