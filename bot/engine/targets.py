"""The containers a command names, as the engine knows them now: one listing call, resolved as docker does.

Authorization needs each target's owner labels (for `:own`) and state (a running container's `rm` needs
confirming). One `GET /containers/json?all=1` answers that for any number of targets; names are resolved in
docker's own order — full id, then exact name (any of a container's names: a legacy link adds `/app/db` to `db`'s),
then unique id prefix.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

from bot.engine.client import Engine
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL
from bot.engine.holdings import container_holdings, service_holdings


@dataclass(frozen=True)
class ContainerFacts:
    id: str
    name: str
    state: str  # running, exited, created, …
    owner: str | None  # the Slack user who started it through Shipmate
    team: str | None
    names: tuple[str, ...] = ()  # every name docker knows it by, `name` among them
    image: str = ""  # the reference it was created from: known only to find_kept_containers
    holds: tuple[str, ...] = ()  # what its config holds that Shipmate would not create: find_kept_containers

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting", "paused")


def _facts(item: dict) -> ContainerFacts:
    labels = item.get("Labels") or {}
    names = tuple(name.lstrip("/") for name in item.get("Names") or ()) or (item["Id"][:12],)
    own = [name for name in names if "/" not in name]  # `app/db` is how a link from `app` shows `db`
    return ContainerFacts(
        id=item["Id"],
        name=own[0] if own else names[0],
        state=item.get("State", ""),
        owner=labels.get(OWNER_LABEL) or None,
        team=labels.get(TEAM_LABEL) or None,
        names=names,
    )


def find_containers(engine: Engine, refs: Iterable[str]) -> dict[str, ContainerFacts | None]:
    """Each reference -> its container, or None when docker would answer "no such container" (or "ambiguous")."""
    with engine.errors("containers"):
        listing = engine.api.containers(all=True)
    return _resolve([_facts(item) for item in listing], refs)


def find_kept_containers(engine: Engine, refs: Iterable[str]) -> dict[str, ContainerFacts | None]:
    """As find_containers, each found one also with its image reference and what its config holds (for a change
    that keeps the config, update-image): one listing and one inspect per container found."""
    found = find_containers(engine, refs)
    inspected: dict[str, ContainerFacts] = {}
    for ref, facts in found.items():
        if facts is None or facts.id in inspected:
            continue
        with engine.errors(ref):
            data = engine.api.inspect_container(facts.id)
        image = str((data.get("Config") or {}).get("Image", ""))
        inspected[facts.id] = replace(facts, image=image, holds=container_holdings(data))
    return {ref: inspected[facts.id] if facts is not None else None for ref, facts in found.items()}


class _Named(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def names(self) -> tuple[str, ...]: ...


Found = TypeVar("Found", bound=_Named)


def _resolve(items: list[Found], refs: Iterable[str]) -> dict[str, Found | None]:
    """Each reference resolved as docker does: full id, then exact name, then a unique id prefix; else None."""
    by_id = {item.id: item for item in items}
    by_name = {name: item for item in items for name in (*item.names, item.name)}
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
    holds: tuple[str, ...] = ()  # what its spec holds that Shipmate would not create (bot.engine.holdings)
    previous_image: str | None = None  # the image a rollback goes back to, as stored; None: no previous spec
    previous_holds: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,)


def _host_networks(engine: Engine, listing: list[dict]) -> frozenset[str]:
    """The ids of the `host` networks, asked only when some service names networks at all."""
    templates = [
        (item.get(key) or {}).get("TaskTemplate") or {} for item in listing for key in ("Spec", "PreviousSpec")
    ]
    if not any(template.get("Networks") for template in templates):
        return frozenset()
    with engine.errors("networks"):
        return frozenset(network["Id"] for network in engine.api.networks(filters={"driver": "host"}))


def find_services(engine: Engine, refs: Iterable[str]) -> dict[str, ServiceFacts | None]:
    """Each reference -> its service (full id, then exact name, then unique id prefix), or None: one listing call
    (two when a service names networks)."""
    with engine.errors("services"):
        listing = engine.api.services()
    host = _host_networks(engine, listing)
    services = []
    for item in listing:
        spec, previous = item.get("Spec") or {}, item.get("PreviousSpec")
        labels = spec.get("Labels") or {}
        owner, team = labels.get(OWNER_LABEL) or None, labels.get(TEAM_LABEL) or None
        before = ((previous or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}
        services.append(
            ServiceFacts(
                id=item["ID"],
                name=spec.get("Name", ""),
                owner=owner,
                team=team,
                holds=service_holdings(spec, host),
                previous_image=before.get("Image", "") if previous else None,  # a digest pinned in it counts
                previous_holds=service_holdings(previous, host) if previous else (),
            )
        )
    return _resolve(services, refs)
