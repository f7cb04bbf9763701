"""What the engines file says: named Docker engines, how to reach each, and which one is the default."""

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
ALL = "all"  # `--context all`: every engine
IMPLICIT = "default"  # the one engine of a Shipmate without an engines file (DOCKER_HOST)
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class TLSFiles:
    """Client certificate and the CA that signed the engine's certificate; verify=False only when spelled out."""

    ca: Path | None
    cert: Path | None
    key: Path | None
    verify: bool = True


@dataclass(frozen=True)
class EngineSpec:
    name: str
    host: str | None  # None: DOCKER_HOST and friends, as the docker CLI reads them (the implicit engine only)
    tls: TLSFiles | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def shown_host(self) -> str:
        return public_host(self.host or "")


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


def public_host(host: str) -> str:
    """The host as it may be shown: any user name or password in the URL is hidden."""
    parts = urlsplit(host)
    if "@" not in parts.netloc:
        return host
    return parts._replace(netloc="•••@" + parts.netloc.rpartition("@")[2]).geturl()


def matching(pattern: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The engines one word of `--context` names: a name, a glob, or `all`."""
    if pattern == ALL:
        return names
    if any(char in pattern for char in "*?["):
        return tuple(name for name in names if fnmatch.fnmatchcase(name, pattern))
    return tuple(name for name in names if name == pattern)
