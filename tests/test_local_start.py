"""`shipmate local` answers one command in the terminal: it imports what that takes and nothing else — nothing of
Slack or HTTP servers, no YAML reader without a file to read, and not docker-py's own ssh transport (paramiko), as
ssh:// engines go through Shipmate's relay.
How fast it starts is the bench's figure (`python -m bench`, bench/local.py), not a test's."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.local import NOT_FOR_LOCAL
from tests.private_engine import PrivateEngine
from tests.side_engines import SSHGateway

pytestmark = pytest.mark.engine


def local(docker_host: str, workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -X importtime -m bot local …` in an empty directory (no .env, no policy), its audit database there."""
    environment = {**os.environ, "DOCKER_HOST": docker_host, "SHIPMATE_AUDIT_DB": str(workdir / "audit.db"), **env}
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "local", *args],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def imported(finished: subprocess.CompletedProcess[str]) -> set[str]:
    """The modules a run imported, from `-X importtime`'s lines on stderr."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in finished.stderr.splitlines()
        if line.startswith("import time:") and "|" in line and "cumulative" not in line
    }


def not_for_local(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in NOT_FOR_LOCAL)}


def test_local_ps_imports_neither_slack_nor_docker_pys_ssh_transport(
    clean_engine: PrivateEngine, tmp_path: Path
) -> None:
    api = clean_engine.api()
    try:
        api.create_container("busybox:latest", ["true"], name="listed")
    finally:
        api.close()
    finished = local(clean_engine.docker_host, tmp_path, "/ps -a")
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "listed" in finished.stdout
    modules = imported(finished)
    assert "docker" in modules and "bot.dispatcher" in modules  # the listing above is complete
    assert not_for_local(modules) == set()
    assert "yaml" not in modules  # no policy, engines or alerts file to read


def test_local_mode_reaches_an_ssh_engine_through_the_relay(
    clean_engine: PrivateEngine, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    gateway = SSHGateway(tmp_path_factory.mktemp("ssh"), clean_engine.docker_host)
    api = clean_engine.api()
    try:
        api.create_container("busybox:latest", ["true"], name="over-ssh")
        finished = local(gateway.url, tmp_path, "/ps -a", PATH=f"{gateway.bin}:{os.environ['PATH']}")
    finally:
        api.close()
        gateway.close()
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "over-ssh" in finished.stdout
    assert not_for_local(imported(finished)) == set()
