"""What a service's or a container's spec holds beyond what Shipmate itself creates: bind mounts (the Docker socket
among them), privileged mode, added capabilities, devices, the host's network, PID or IPC namespace, secrets and
configs. A change that keeps such a spec (a new image or env under the same mounts) is as strong as the spec, so
only admins may make it; the words here are what the refusal names.
"""

from collections.abc import Mapping, Sequence
from typing import Any

_HOST_NAMESPACES = (("NetworkMode", "the host's network"), ("PidMode", "the host's PID namespace"),
                    ("IpcMode", "the host's IPC namespace"))  # fmt: skip


def _bind_mounts(mounts: Sequence[Mapping[str, Any]] | None) -> list[str]:
    return [f"a bind mount of {mount.get('Source') or '?'}" for mount in mounts or () if mount.get("Type") == "bind"]


def _capabilities(added: Sequence[str] | None) -> list[str]:
    return [f"capability {name.removeprefix('CAP_')}" for name in added or ()]


def service_holdings(spec: Mapping[str, Any], host_networks: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """What a service spec (`Spec` or `PreviousSpec`) holds; `host_networks` are the ids of the engine's networks
    with the `host` driver (a task template names its networks by id)."""
    template = spec.get("TaskTemplate") or {}
    container = template.get("ContainerSpec") or {}
    held = _bind_mounts(container.get("Mounts"))
    held += _capabilities(container.get("CapabilityAdd"))
    networks = [*(template.get("Networks") or ()), *(spec.get("Networks") or ())]  # the old place, still accepted
    if any(network.get("Target") in host_networks or network.get("Target") == "host" for network in networks):
        held.append("the host's network")
    held += [
        f"secret {secret.get('SecretName') or secret.get('SecretID')}" for secret in container.get("Secrets") or ()
    ]
    held += [
        f"config {config.get('ConfigName') or config.get('ConfigID')}" for config in container.get("Configs") or ()
    ]
    return tuple(dict.fromkeys(held))


def container_holdings(inspected: Mapping[str, Any]) -> tuple[str, ...]:
    """What a container holds, from `GET /containers/{id}/json`."""
    host = inspected.get("HostConfig") or {}
    held = _bind_mounts(inspected.get("Mounts"))
    held += [f"a bind mount of {bind.split(':', 1)[0]}" for bind in host.get("Binds") or () if bind.startswith("/")]
    if host.get("Privileged"):
        held.append("privileged mode")
    held += _capabilities(host.get("CapAdd"))
    held += [f"device {device.get('PathOnHost') or '?'}" for device in host.get("Devices") or ()]
    held += [words for key, words in _HOST_NAMESPACES if host.get(key) == "host"]
    return tuple(dict.fromkeys(held))


def described(name: str, held: Sequence[str]) -> str:
    """'web holds a bind mount of /var/run/docker.sock and capability NET_ADMIN'."""
    listed = held[0] if len(held) == 1 else f"{', '.join(held[:-1])} and {held[-1]}"
    return f"{name} holds {listed}"
