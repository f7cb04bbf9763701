"""Shared readings of swarm objects: ports, task rows, node names, labels; used by the service executors."""

from collections.abc import Iterable, Mapping

from bot.engine.convert import timestamp
from bot.engine.execution import Context
from bot.results import TaskRow


def spec_ports(service: Mapping) -> tuple[str, ...]:
    """Published ports as `*:8080→80/tcp` (host mode: `*:8080→80/tcp (host)`)."""
    endpoint = service.get("Endpoint") or {}
    ports = endpoint.get("Ports") or ((service.get("Spec") or {}).get("EndpointSpec") or {}).get("Ports") or []
    shown = []
    for port in ports:
        mode = " (host)" if port.get("PublishMode") == "host" else ""
        published = port.get("PublishedPort")
        target = f"{port.get('TargetPort')}/{port.get('Protocol', 'tcp')}"
        shown.append(f"*:{published}→{target}{mode}" if published else target)
    return tuple(dict.fromkeys(shown))


def image_name(image: str) -> str:
    """The image as it was asked for: the engine may pin it to a digest (`nginx:1.25@sha256:…`)."""
    return image.partition("@")[0]


def node_names(ctx: Context) -> dict[str, str]:
    with ctx.engine.errors("nodes"):
        return {node["ID"]: (node.get("Description") or {}).get("Hostname", "") for node in ctx.engine.api.nodes()}


def task_name(task: Mapping, service_name: str) -> str:
    slot = task.get("Slot")
    return f"{service_name}.{slot}" if slot else f"{service_name}.{task.get('NodeID', '')}"


def task_rows(tasks: Iterable[Mapping], services: Mapping[str, str], nodes: Mapping[str, str]) -> tuple[TaskRow, ...]:
    """Tasks as `docker service ps` lists them: by name, newest first within a name."""
    rows = []
    for task in tasks:
        status = task.get("Status") or {}
        container = ((task.get("Spec") or {}).get("ContainerSpec")) or {}
        node_id = task.get("NodeID", "")
        rows.append(
            TaskRow(
                id=task["ID"],
                name=task_name(task, services.get(task.get("ServiceID", ""), task.get("ServiceID", "")[:12])),
                image=image_name(container.get("Image", "")),
                node=nodes.get(node_id, node_id[:12]),
                desired_state=task.get("DesiredState", ""),
                state=status.get("State", ""),
                since=timestamp(status.get("Timestamp")),
                error=status.get("Err", "") or "",
            )
        )
    rows.sort(key=lambda row: row.since.timestamp() if row.since else 0.0, reverse=True)
    rows.sort(key=lambda row: _name_key(row.name))
    return tuple(rows)


def _name_key(name: str) -> tuple[str, int, str]:
    base, _, slot = name.rpartition(".")
    return (base, int(slot), "") if slot.isdigit() else (name, 0, "")


def replicas_of(spec: Mapping) -> int | None:
    """The replicas a replicated service asks for; None for a global one."""
    replicated = (spec.get("Mode") or {}).get("Replicated")
    return None if replicated is None else int(replicated.get("Replicas", 1))
