"""ssh:// engines keep their connections: the private engine behind a private sshd (tests/side_engines.py
SSHGateway), reached through the system's `ssh` as Shipmate reaches any ssh:// engine. Processes are counted as
this process's children; ssh runs as the gateway's `bin/ssh` counts them."""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.client import Engine
from bot.engine.errors import EngineUnreachable
from bot.engine.ssh_relay import ssh_argv
from bot.fleet.engines import Fleet
from tests.private_engine import PrivateEngine
from tests.side_engines import SSHGateway, free_port

DIAL = ["docker", "system", "dial-stdio"]


def test_the_ssh_command_line_comes_from_the_url() -> None:
    assert ssh_argv("ssh://deploy@10.0.0.6") == ["ssh", "-l", "deploy", "--", "10.0.0.6", *DIAL]
    assert ssh_argv("ssh://ops:secret@[fd00::6]:2222") == ["ssh", "-l", "ops", "-p", "2222", "--", "fd00::6", *DIAL]
    assert ssh_argv("ssh://build-host:22") == ["ssh", "-p", "22", "--", "build-host", *DIAL]
    assert ssh_argv("ssh://-oProxyCommand=x") == ["ssh", "--", "-oProxyCommand=x", *DIAL]  # never an option


def _children(name: str, argument: str) -> list[tuple[int, str]]:
    """(pid, state) of this process's children called `name` with `argument` on their command line (a port: not
    another test's); state Z is a zombie."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:  # ended since the listing
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if comm == name and int(ppid) == os.getpid() and (argument.encode() in argv or state == "Z"):
            found.append((int(entry), state))
    return found


def _wait_for_no(name: str, argument: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while _children(name, argument) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _children(name, argument) == [], f"{name} processes left: {_children(name, argument)}"


pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def gateway(engine: PrivateEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHGateway]:
    gateway = SSHGateway(tmp_path_factory.mktemp("ssh"), engine.docker_host)
    yield gateway
    gateway.close()


@pytest.fixture
def over_ssh(gateway: SSHGateway, clean_engine: PrivateEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """An Engine for the private engine through the gateway, its `ssh` first on PATH; closed afterwards."""
    monkeypatch.setenv("PATH", f"{gateway.bin}:{os.environ['PATH']}")
    engine = Engine(gateway.url, timeout=10, pool_size=4, name="over-ssh", from_environment=False)
    yield engine
    engine.close()


def _names(containers: list[dict]) -> set[str]:
    return {item["Names"][0].lstrip("/") for item in containers}


def test_requests_share_one_ssh_and_closing_ends_it(
    over_ssh: Engine, gateway: SSHGateway, clean_engine: PrivateEngine
) -> None:
    direct = clean_engine.api()
    try:
        for name in ("alpha", "beta"):
            direct.create_container("busybox:latest", ["true"], name=name)
        runs = gateway.runs()
        for index in range(12):  # a URL of its own each time
            listed = over_ssh.api.containers(all=True, filters={"label": f"round={index}"} if index % 2 else None)
            assert _names(listed) == (set() if index % 2 else _names(direct.containers(all=True)))
            assert over_ssh.api.inspect_container("alpha")["Id"] == direct.inspect_container("alpha")["Id"]
        assert over_ssh.api.version()["ApiVersion"] == direct.version()["ApiVersion"]
    finally:
        direct.close()
    assert gateway.runs() - runs == 1
    assert len(_children("ssh", str(gateway.port))) == 1
    assert over_ssh.docker_host == f"ssh://•••@127.0.0.1:{gateway.port}"  # the public name, never the relay's

    relay = over_ssh._relay
    assert relay is not None and Path(relay.path).exists()
    over_ssh.close()
    assert _children("ssh", str(gateway.port)) == []  # ended and reaped: no zombies either
    assert not Path(relay.path).exists() and not Path(relay.path).parent.exists()
    assert not relay._thread.is_alive()


def test_a_killed_ssh_is_replaced_by_the_next_request(over_ssh: Engine, gateway: SSHGateway) -> None:
    assert over_ssh.api.containers(all=True) == []
    [(first, _)] = _children("ssh", str(gateway.port))
    os.kill(first, signal.SIGKILL)  # as if the remote end or the network went away
    _wait_for_no("ssh", str(gateway.port))  # reaped by the relay, which closes the connection the pool holds
    assert over_ssh.api.containers(all=True) == []
    [(second, _)] = _children("ssh", str(gateway.port))
    assert second != first
    assert over_ssh.api.info()["Containers"] == 0  # the new connection is kept
    assert _children("ssh", str(gateway.port)) == [(second, "S")]


def test_an_ssh_that_cannot_connect_is_one_clear_line(gateway: SSHGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{gateway.bin}:{os.environ['PATH']}")
    port = free_port()  # nothing listens there
    engine = Engine(f"ssh://root@127.0.0.1:{port}", timeout=5, name="down", from_environment=False)
    try:
        with pytest.raises(EngineUnreachable) as refused:
            engine.ping()
        assert str(refused.value) == (
            f"Docker engine unreachable at ssh://•••@127.0.0.1:{port}: ssh could not connect, or `docker system"
            " dial-stdio` failed there (Shipmate's log has ssh's own message)"
        )
    finally:
        engine.close()
    _wait_for_no("ssh", str(port))


def test_a_hung_ssh_is_bounded_by_the_timeout_and_ended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hung = tmp_path / "bin" / "ssh"
    hung.parent.mkdir()
    hung.write_text("#!/bin/sh\nexec sleep 300\n")  # connects to nothing and never answers
    hung.chmod(0o755)
    monkeypatch.setenv("PATH", f"{hung.parent}:{os.environ['PATH']}")
    engine = Engine("ssh://root@127.0.0.1:22", timeout=1, name="hung", from_environment=False)
    try:
        started = time.monotonic()
        with pytest.raises(EngineUnreachable, match="did not answer in time"):
            engine.ping(timeout=1)
        assert time.monotonic() - started < 5  # not the 300 s the ssh would hang
        _wait_for_no("sleep", "300")  # the client gave up and closed: the relay ended that ssh
    finally:
        engine.close()


def test_no_ssh_on_path_is_the_same_clear_line_and_a_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing called ssh there
    engine = Engine("ssh://deploy:hunter2@build-host:2222", timeout=5, name="no-ssh", from_environment=False)
    try:
        with pytest.raises(EngineUnreachable, match="ssh could not connect") as refused:
            engine.ping()
    finally:
        engine.close()
    assert "ssh://•••@build-host:2222" in str(refused.value) and "\n" not in str(refused.value)
    [logged] = [record.getMessage() for record in caplog.records if record.name == "bot.engine.ssh_relay"]
    assert logged.startswith("ssh to ssh://•••@build-host:2222 could not start: [Errno 2]")
    assert "hunter2" not in caplog.text and "deploy" not in caplog.text


def test_a_reload_that_changes_the_engine_and_closing_the_fleet_end_its_ssh(
    gateway: SSHGateway, clean_engine: PrivateEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{gateway.bin}:{os.environ['PATH']}")
    path = tmp_path / "engines.yml"
    path.write_text(f'default: remote\nengines:\n  remote: {{host: "{gateway.url}", timeout: 10}}\n')
    fleet = Fleet(path)
    try:
        assert fleet.engine("remote").api.containers(all=True) == []
        [(first, _)] = _children("ssh", str(gateway.port))
        path.write_text(path.read_text().replace("timeout: 10", "timeout: 9"))  # the signature changes: size
        assert fleet.engine("remote").timeout == 9  # a new client; the old one (and its ssh) closed
        assert _children("ssh", str(gateway.port)) == []
        assert fleet.engine("remote").api.containers(all=True) == []
        [(second, _)] = _children("ssh", str(gateway.port))
        assert second != first
        path.write_text(f'default: local\nengines:\n  local: {{host: "{clean_engine.docker_host}"}}\n')
        assert fleet.engine("local").api.containers(all=True) == []  # the next lookup closes the removed engine
        assert _children("ssh", str(gateway.port)) == []
    finally:
        fleet.close()
    assert _children("ssh", str(gateway.port)) == []
