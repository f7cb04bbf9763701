"""The container image (Dockerfile), built on the private engine and run there: `shipmate local '/ps'` inside it
lists the engine's containers through the mounted socket, as the non-root user.

Containers here have no network, so the base is made offline-ready: Debian's debootstrap (from the same package
mirror apt uses) makes a root filesystem with python3, `docker import` turns it into the BASE image, and the
wheelhouse is built outside with pip. About 130 s on two shared cores (debootstrap 80 s, wheelhouse 18 s, build
15 s, import 4 s, run 1 s); it is marked `image`, so `scripts/test -m 'not image'` leaves it out while iterating.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.bot_process import REPO
from tests.private_engine import PrivateEngine

BASE = "shipmate-test-base:bookworm"
IMAGE = "shipmate:test"
MIRROR = "http://deb.debian.org/debian"


def test_compose_gives_the_docker_socket_only_to_shipmate_and_every_setting_from_env() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "compose.yml").read_text())
    shipmate, postgres = compose["services"]["shipmate"], compose["services"]["postgres"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in shipmate["volumes"]
    assert not any("docker.sock" in volume for volume in postgres.get("volumes", []))
    assert shipmate["env_file"] == "../.env" and shipmate["command"] == ["socket"]
    assert shipmate["environment"]["SHIPMATE_DATABASE_URL"].startswith("postgresql://shipmate:${POSTGRES_PASSWORD")
    assert shipmate["depends_on"]["postgres"]["condition"] == "service_healthy"


def _debootstrap(root: Path) -> Path:
    """A Debian root filesystem with python3 and venv, as a tar file for `docker import`."""
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed: apt-get install debootstrap (scripts/install-test-deps)")
    rootfs = root / "rootfs"
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=python3,python3-venv", "bookworm", str(rootfs), MIRROR],
        check=True,
        capture_output=True,
        timeout=900,
    )
    archive = root / "rootfs.tar"
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True, timeout=300)
    return archive


def _context(root: Path) -> io.BytesIO:
    """The build context: the Dockerfile and a wheelhouse of Shipmate and its dependencies for this Python
    (Debian 12's python3 is 3.11, as here)."""
    source, wheels = root / "source", root / "wheels"  # a copy: building in the checkout would leave build/ there
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels), f"{source}[postgres]"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        tar.add(REPO / "Dockerfile", arcname="Dockerfile")
        for wheel in sorted(wheels.glob("*.whl")):
            tar.add(wheel, arcname=f"deploy/wheels/{wheel.name}")
    context.seek(0)
    return context


@pytest.fixture
def built(clean_engine: PrivateEngine, tmp_path: Path) -> Iterator[tuple[PrivateEngine, dict[str, float]]]:
    api = clean_engine.api()
    took: dict[str, float] = {}
    started = time.monotonic()
    archive = _debootstrap(tmp_path)
    took["debootstrap"] = time.monotonic() - started
    started = time.monotonic()
    api.import_image_from_file(str(archive), repository=BASE.split(":")[0], tag=BASE.split(":")[1])
    took["import"] = time.monotonic() - started
    started = time.monotonic()
    context = _context(tmp_path)
    took["wheelhouse"] = time.monotonic() - started
    started = time.monotonic()
    errors = [
        event["error"]
        for event in api.build(
            fileobj=context,
            custom_context=True,
            tag=IMAGE,
            buildargs={"BASE": BASE},
            rm=True,
            forcerm=True,
            decode=True,
        )
        if "error" in event
    ]
    took["build"] = time.monotonic() - started
    assert errors == []
    try:
        yield clean_engine, took
    finally:
        api.remove_image(IMAGE, force=True)
        api.remove_image(BASE, force=True)
        api.close()


@pytest.mark.image
@pytest.mark.timeout(1200)
def test_the_image_runs_shipmate_local_against_the_engine(built: tuple[PrivateEngine, dict[str, float]]) -> None:
    engine, took = built
    api = engine.api()
    config = api.inspect_image(IMAGE)["Config"]
    assert config["User"] == "shipmate" and config["Entrypoint"] == ["shipmate"] and config["Cmd"] == ["socket"]
    assert "SHIPMATE_HEALTH_URL" in str(config["Healthcheck"]["Test"])

    web = api.create_container("nginx", name="image-test-web")
    api.start(web)
    socket_path = engine.docker_host.removeprefix("unix://")
    container = api.create_container(
        IMAGE,
        command=["local", "/ps"],
        environment={"DOCKER_HOST": "unix:///var/run/docker.sock"},
        host_config=api.create_host_config(
            binds={socket_path: {"bind": "/var/run/docker.sock", "mode": "rw"}},
            group_add=[str(os.stat(socket_path).st_gid)],
            network_mode="none",
        ),
    )
    started = time.monotonic()
    api.start(container)
    exit_code = api.wait(container, timeout=120)["StatusCode"]
    took["run"] = time.monotonic() - started
    output = api.logs(container).decode()
    api.remove_container(container, force=True)
    api.close()
    print(f"image test times: {took}")
    assert exit_code == 0, output
    assert "image-test-web" in output and "nginx" in output
