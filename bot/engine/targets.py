"""The containers a command names, as the engine knows them now: one listing call, resolved as docker does.

Authorization needs each target's owner labels (for `:own`) and state (a running container's `rm` needs
confirming). One `GET /containers/json?all=1` answers that for any number of targets; names are resolved in
docker's own order — full id, then exact name, then unique id prefix.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.engine.client import Engine
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL


@dataclass(frozen=True)
class ContainerFacts:
    id: str
    name: str
    state: str  # running, exited, created, …
    owner: str | None  # the Slack user who started it through Shipmate
    team: str | None

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting", "paused")


def _facts(item: dict) -> ContainerFacts:
    labels = item.get("Labels") or {}
    return ContainerFacts(
        id=item["Id"],
        name=(item.get("Names") or ["/" + item["Id"][:12]])[0].lstrip("/"),
        state=item.get("State", ""),
        owner=labels.get(OWNER_LABEL) or None,
        team=labels.get(TEAM_LABEL) or None,
    )


def find_containers(engine: Engine, refs: Iterable[str]) -> dict[str, ContainerFacts | None]:
    """Each reference -> its container, or None when docker would answer "no such container" (or "ambiguous")."""
    with engine.errors("containers"):
        listing = engine.api.containers(all=True)
    return _resolve([_facts(item) for item in listing], refs)


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


Found = TypeVar("Found", bound=_Named)


def _resolve(items: list[Found], refs: Iterable[str]) -> dict[str, Found | None]:
    """Each reference resolved as docker does: full id, then exact name, then a unique id prefix; else None."""
    by_id = {item.id: item for item in items}
    by_name = {item.name: item for item in items}
    found: dict[str, Found | None] = {}
    for ref in refs:
        exact = by_id.get(ref) or by_name.get(ref)
        if exact is None:
            prefixed = [item for item in items if item.id.startswith(ref)]
            exact = prefixed[0] if len(prefixed) == 1 else None
        found[ref] = exact
    return found


@dataclass(frozen=True)
class ServiceFacts:
    id: str
    name: str
    owner: str | None
    team: str | None


def find_services(engine: Engine, refs: Iterable[str]) -> dict[str, ServiceFacts | None]:
    """Each reference -> its service (full id, then exact name, then unique id prefix), or None: one listing call."""
    with engine.errors("services"):
        listing = engine.api.services()
    services = []
    for item in listing:
        spec = item.get("Spec") or {}
        labels = spec.get("Labels") or {}
        owner, team = labels.get(OWNER_LABEL) or None, labels.get(TEAM_LABEL) or None
        services.append(ServiceFacts(id=item["ID"], name=spec.get("Name", ""), owner=owner, team=team))
    return _resolve(services, refs)
