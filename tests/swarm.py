"""A single-node swarm on the private test engine, and a way back to a plain engine.

Swarm needs `docker_gwbridge`; it is created first on a subnet of its own (the default pool may overlap the
host's). The engine advertises 127.0.0.1 inside its own network namespace. There is no IPVS there, so no
routing mesh: services publish ports in host mode, or not at all. `leave()` removes every service, waits
for their task containers to go, and leaves the swarm (force), so later tests see a plain engine.
"""

from __future__ import annotations

import contextlib
import time

import docker
import docker.errors
import docker.types

GWBRIDGE_SUBNET = "10.251.0.0/24"
LEAVE_TIMEOUT = 30.0


def _gwbridge(api: docker.APIClient) -> None:
    if api.networks(names=["docker_gwbridge"]):
        return
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=GWBRIDGE_SUBNET)])
    api.create_network(
        "docker_gwbridge",
        driver="bridge",
        ipam=ipam,
        options={
            "com.docker.network.bridge.name": "docker_gwbridge",
            "com.docker.network.bridge.enable_icc": "false",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
        },
    )


def in_swarm(api: docker.APIClient) -> bool:
    return api.info()["Swarm"]["LocalNodeState"] == "active"


def join(api: docker.APIClient) -> None:
    """Make the engine the manager of a one-node swarm."""
    if in_swarm(api):
        return
    _gwbridge(api)
    api.init_swarm(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")


def remove_services(api: docker.APIClient) -> None:
    """Remove every service and wait for their task containers to be gone."""
    for service in api.services():
        with contextlib.suppress(docker.errors.NotFound):
            api.remove_service(service["ID"])
    deadline = time.monotonic() + LEAVE_TIMEOUT
    while api.containers(all=True, filters={"label": "com.docker.swarm.task"}) and time.monotonic() < deadline:
        time.sleep(0.2)


def leave(api: docker.APIClient) -> None:
    if in_swarm(api):
        remove_services(api)
        api.leave_swarm(force=True)
    for network in api.networks(names=["docker_gwbridge"]):
        with contextlib.suppress(docker.errors.APIError):
            api.remove_network(network["Id"])
