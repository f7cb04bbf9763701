"""More Docker engines beside the private one, for the several-engines tests.

A side engine is a dockerd of its own (own data root, exec root, containerd and pid file under a temp dir) in the
host's network namespace with a Linux bridge of its own (`--bridge NAME --iptables=false`: the host's docker0 is
never touched). It has no registry: the images it needs are copied from the private engine (save, then load).
With `tls`, it also listens on tcp://127.0.0.1:PORT and asks every client for a certificate signed by the test CA.

A hung engine accepts connections and never answers; a stopped one is a socket path nothing listens on.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from tests.private_engine import PrivateEngine, _ip

_bridges = iter(range(40, 250))


@dataclass(frozen=True)
class Certificates:
    """A test CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""

    ca: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path, name: str = "test") -> Certificates:
    directory.mkdir(parents=True, exist_ok=True)
    d = directory
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name} CA",
             "-keyout", "ca-key.pem", "-out", "ca.pem", cwd=d)  # fmt: skip
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for who in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={who}", "-keyout", f"{who}-key.pem",
                 "-out", f"{who}.csr", cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                 "-days", "2", "-extfile", f"{who}.ext", "-out", f"{who}.pem", cwd=d)  # fmt: skip
    return Certificates(
        d / "ca.pem", d / "ca-key.pem", d / "server.pem", d / "server-key.pem", d / "client.pem", d / "client-key.pem"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SideEngine(PrivateEngine):
    """Another dockerd, with the private engine's images copied in; see the module docstring."""

    def __init__(
        self, source: PrivateEngine, images: tuple[str, ...], tls: Certificates | None = None, tmp_root: str = "/tmp"
    ) -> None:
        super().__init__(tmp_root)
        self.source = source
        self.images = images
        self.tls = tls
        self.port = free_port() if tls else 0
        self.bridge = ""
        self._subnet = next(_bridges)

    @property
    def tcp_host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _ensure_netns(self) -> None:
        assert self.tmpdir is not None
        self.bridge = f"shm{self.tmpdir.name[-8:]}"[:15]
        if not Path(f"/sys/class/net/{self.bridge}").exists():
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"10.213.{self._subnet}.1/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")

    def _in_netns(self, *argv: str) -> list[str]:
        return list(argv)  # the host's namespace, with a bridge of its own

    def _start_registry(self) -> None:
        """No registry: images come from the private engine."""

    def dockerd_argv(self, driver: str) -> list[str]:
        argv = [arg for arg in super().dockerd_argv(driver) if "registry" not in arg]
        argv += [f"--bridge={self.bridge}"]
        if self.tls is not None:
            argv += [
                f"--host={self.tcp_host}",
                "--tlsverify",
                f"--tlscacert={self.tls.ca}",
                f"--tlscert={self.tls.server_cert}",
                f"--tlskey={self.tls.server_key}",
            ]
        return argv

    def _build_fixture_images(self) -> None:
        source = self.source.api()
        target = self.api()
        try:
            for image in self.images:
                target.load_image(source.get_image(image))
        finally:
            source.close()
            target.close()

    def close(self) -> None:
        super().close()
        if self.bridge:
            _ip("link", "del", self.bridge, check=False)


class HungEngine:
    """A unix socket that accepts connections and never says a word: an engine that hangs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.docker_host = f"unix://{path}"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self._server.accept()
                self._held.append(connection)

    def close(self) -> None:
        self._server.close()
        for connection in self._held:
            connection.close()


def containers_on(docker_host: str, **tls: object) -> set[str]:
    """Names of every container an engine has, as the engine itself reports them."""
    client = docker.APIClient(base_url=docker_host, version="1.41", timeout=30, **tls)
    client.trust_env = False  # or REQUESTS_CA_BUNDLE would replace the test CA
    try:
        return {item["Names"][0].lstrip("/") for item in client.containers(all=True)}
    finally:
        client.close()


class SSHGateway:
    """A private sshd on 127.0.0.1 whose one authorized key runs `docker system dial-stdio` against `docker_host`
    (the way `ssh://` engines are reached), and an `ssh` on PATH that uses this gateway's keys and known_hosts
    instead of the user's: put `bin` first on PATH."""

    def __init__(self, directory: Path, docker_host: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = free_port()
        self.bin = directory / "bin"
        for key in ("host_key", "client_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / key)], check=True)
        client_key = (directory / "client_key.pub").read_text().strip()
        (directory / "authorized_keys").write_text(f'environment="DOCKER_HOST={docker_host}" {client_key}\n')
        host_key = (directory / "host_key.pub").read_text().strip()
        (directory / "known_hosts").write_text(f"[127.0.0.1]:{self.port} {host_key}\n")
        (directory / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {directory}/host_key\nPidFile {directory}/sshd.pid\n"
            f"AuthorizedKeysFile {directory}/authorized_keys\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitUserEnvironment yes\nUsePAM no\n"
            "StrictModes no\n"
        )
        (directory / "ssh_config").write_text(
            f"Host 127.0.0.1\n  IdentityFile {directory}/client_key\n  UserKnownHostsFile {directory}/known_hosts\n"
            "  StrictHostKeyChecking yes\n  BatchMode yes\n"
        )
        self.bin.mkdir(exist_ok=True)
        wrapper = self.bin / "ssh"
        # Each run appends a line to `ssh-runs`: how many ssh connections were made (see `runs`).
        wrapper.write_text(
            f'#!/bin/sh\necho "$$" >> {directory}/ssh-runs\nexec /usr/bin/ssh -F {directory}/ssh_config "$@"\n'
        )
        wrapper.chmod(0o755)
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        self._sshd = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(directory / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=(directory / "sshd.log").open("ab"),
        )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if self._sshd.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {(directory / 'sshd.log').read_text()[-500:]}")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def runs(self) -> int:
        """How many times `ssh` was run through this gateway's `bin/ssh` so far."""
        runs = self.directory / "ssh-runs"
        return len(runs.read_text().splitlines()) if runs.exists() else 0

    def close(self) -> None:
        self._sshd.terminate()
        self._sshd.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
