"""The private Docker engine fixture, checked through the engine's own state."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.private_engine import PrivateEngine


@pytest.fixture
def api(clean_engine: PrivateEngine) -> Iterator[docker.APIClient]:
    client = clean_engine.api()
    yield client
    client.close()


def _daemon_pid(engine: PrivateEngine) -> int:
    assert engine.tmpdir is not None
    return int((engine.tmpdir / "docker.pid").read_text())


def _listening_ports(pid: int) -> set[int]:
    """TCP ports in LISTEN state in the network namespace of `pid` (kernel tables, no traffic)."""
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A":
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def _drain(stream: Iterator[dict]) -> list[dict]:
    events = list(stream)
    errors = [e for e in events if "error" in e]
    assert not errors, errors
    return events


def test_engine_is_private(engine: PrivateEngine) -> None:
    assert engine.tmpdir is not None
    assert engine.docker_host == f"unix://{engine.tmpdir}/docker.sock"
    assert engine.log_path.is_file()
    info = engine.api().info()
    assert info["DockerRootDir"] == f"{engine.tmpdir}/data"
    assert info["Driver"] == engine.storage_driver
    assert info["RegistryConfig"]["Mirrors"] == [f"http://{engine.registry}/"]
    # dockerd, and with it docker0 and every published port, lives in its own netns.
    assert engine.netns is not None and engine.netns.exists()
    assert os.readlink(f"/proc/{_daemon_pid(engine)}/ns/net") != os.readlink("/proc/self/ns/net")


def test_fixture_images_present_with_config(api: docker.APIClient) -> None:
    nginx = api.inspect_image("nginx:latest")["Config"]
    assert "NGINX_VERSION=1.25.0" in nginx["Env"]
    assert nginx["Cmd"] == ["httpd", "-f", "-p", "80", "-h", "/usr/share/nginx/html"]
    assert "80/tcp" in nginx["ExposedPorts"]

    color = api.inspect_image("devwikirepo/envnodecolorapp:latest")["Config"]
    assert "COLOR=red" in color["Env"]
    assert color["Cmd"][:2] == ["sh", "-c"]
    assert "3000/tcp" in color["ExposedPorts"]

    assert api.inspect_image("busybox:latest")["Config"]["Cmd"] == ["sh"]


def test_host_looks_pulled_from_docker_hub(api: docker.APIClient) -> None:
    tags = {t for image in api.images() for t in image["RepoTags"] or []}
    assert {"nginx:latest", "busybox:latest", "devwikirepo/envnodecolorapp:latest"} <= tags
    assert not [t for t in tags if t.startswith("127.0.0.1:")]
    digests = api.inspect_image("nginx:latest")["RepoDigests"]
    assert digests and digests[0].startswith("nginx@sha256:")


def test_pull_through_mirror(api: docker.APIClient) -> None:
    for ref in ("nginx:1.25", "bigimage:latest"):
        with contextlib.suppress(docker.errors.ImageNotFound):
            api.remove_image(ref)
    _drain(api.pull("nginx", tag="1.25", stream=True, decode=True))
    assert "NGINX_VERSION=1.25.0" in api.inspect_image("nginx:1.25")["Config"]["Env"]

    events = _drain(api.pull("bigimage", tag="latest", stream=True, decode=True))
    assert any(e.get("status") == "Downloading" for e in events)
    assert api.inspect_image("bigimage:latest")["Size"] > 60 * 1024 * 1024


def test_port_binding_recorded(clean_engine: PrivateEngine, api: docker.APIClient) -> None:
    host_config = api.create_host_config(port_bindings={3000: 8081})
    c = api.create_container("devwikirepo/envnodecolorapp", ports=[3000], host_config=host_config, name="app1")
    api.start(c)
    state = api.inspect_container(c)
    assert state["State"]["Running"]
    assert state["HostConfig"]["PortBindings"] == {"3000/tcp": [{"HostIp": "", "HostPort": "8081"}]}
    bound = state["NetworkSettings"]["Ports"]["3000/tcp"]
    assert {(b["HostIp"], b["HostPort"]) for b in bound} >= {("0.0.0.0", "8081")}
    assert 8081 in _listening_ports(_daemon_pid(clean_engine))  # docker-proxy, inside the netns


def test_same_host_port_twice_fails(api: docker.APIClient) -> None:
    host_config = api.create_host_config(port_bindings={3000: 8081})
    first = api.create_container("devwikirepo/envnodecolorapp", host_config=host_config)
    api.start(first)
    second = api.create_container("devwikirepo/envnodecolorapp", host_config=host_config)
    with pytest.raises(docker.errors.APIError, match="port is already allocated"):
        api.start(second)


def test_stop_is_prompt(api: docker.APIClient) -> None:
    """The stand-ins exit on SIGTERM/SIGQUIT instead of waiting for SIGKILL."""
    for image in ("nginx", "devwikirepo/envnodecolorapp"):
        c = api.create_container(image)
        api.start(c)
        api.stop(c, timeout=5)
        assert api.inspect_container(c)["State"]["ExitCode"] == 0


def test_reset_removes_containers(engine: PrivateEngine, api: docker.APIClient) -> None:
    api.start(api.create_container("nginx"))
    api.create_container("busybox")
    engine.reset()
    assert api.containers(all=True) == []
    assert api.inspect_image("nginx:latest")


def test_daemon_restart_keeps_images(clean_engine: PrivateEngine) -> None:
    api = clean_engine.api()
    policy = api.create_host_config(restart_policy={"Name": "always"})
    keeper = api.create_container("nginx", host_config=policy)
    api.start(keeper)

    clean_engine.stop_daemon()
    assert not clean_engine.daemon_running
    with pytest.raises(docker.errors.DockerException):
        clean_engine.api().ping()

    clean_engine.start_daemon()
    api = clean_engine.api()
    assert api.ping()
    assert "COLOR=red" in api.inspect_image("devwikirepo/envnodecolorapp")["Config"]["Env"]
    assert api.inspect_container(keeper)["State"]["Running"]
