"""What the engines file says: named Docker engines (how to reach each: bot.engine.spec) and which is the default."""

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from bot.engine.spec import EngineSpec

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
ALL = "all"  # `--context all`: every engine


@dataclass(frozen=True)
class FleetSpec:
    default: str
    engines: tuple[EngineSpec, ...]  # in file order
    path: Path | None = None  # None: no engines file

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.engines)

    def spec(self, name: str) -> EngineSpec:
        """The entry named `name`; KeyError when there is none."""
        for spec in self.engines:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def several(self) -> bool:
        return len(self.engines) > 1


def matching(pattern: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The engines one word of `--context` names: a name, a glob, or `all`."""
    if pattern == ALL:
        return names
    if any(char in pattern for char in "*?["):
        return tuple(name for name in names if fnmatch.fnmatchcase(name, pattern))
    return tuple(name for name in names if name == pattern)
