"""How to reach one Docker engine: its name, host, TLS files and timeout (an entry of the engines file)."""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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


def public_host(host: str) -> str:
    """The host as it may be shown: any user name or password in the URL is hidden."""
    parts = urlsplit(host)
    if "@" not in parts.netloc:
        return host
    return parts._replace(netloc="•••@" + parts.netloc.rpartition("@")[2]).geturl()
