"""A private Docker engine for the test suite.

Runs its own registry, containerd and dockerd out of one temp dir so tests never
touch a developer's Docker: own sockets, data root, exec root and pid files, and
its own network namespace. Docker Hub is unreachable here, so the fixture images
are built from busybox-static, pushed to the private registry and served to
dockerd as its registry mirror: ``docker pull nginx:1.25`` works as on a host.

The network namespace holds docker0, the registry's 127.0.0.1 and every
published port (docker-proxy binds there), so `-p 8081:3000` never takes a host
port and two test sessions on one machine cannot collide. Clients reach dockerd
through its unix socket only. No traffic goes to containers or published ports.

Run ``python -m tests.private_engine up`` for an engine in the foreground.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import docker

BUSYBOX = Path("/bin/busybox")
REGISTRY_BIN = "/usr/bin/docker-registry"
TMP_PREFIX = "shm-"
REGISTRY_ADDR = "127.0.0.1:5000"  # inside the engine's own network namespace
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
BIG_LAYERS = 3
BIG_LAYER_BYTES = 20 * 1024 * 1024

NGINX_HTML = b"""<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>Shipmate test stand-in for nginx, served by busybox httpd.</p>
</body>
</html>
"""

# busybox httpd as PID 1 ignores SIGTERM (no handler), so `docker stop` would
# wait 10 s for SIGKILL. Both servers run as a child of a shell that exits on
# the stop signal, as the real nginx and a well-behaved app do.
NGINX_ENTRYPOINT = b"""#!/bin/sh
# Stand-in for nginx's docker-entrypoint.sh.
if [ "$1" = httpd ]; then
    trap 'exit 0' TERM QUIT INT
    "$@" &
    wait $!
    exit $?
fi
exec "$@"
"""

# The colour app writes its page at start so `-e COLOR=blue` shows up in it.
COLOR_APP_CMD = (
    "trap 'exit 0' TERM INT; mkdir -p /www;"
    ' echo "<h1 style=\\"color:$COLOR\\">$COLOR</h1>" > /www/index.html;'
    " httpd -f -p 3000 -h /www & wait $!"
)


@dataclass(frozen=True)
class FixtureImage:
    """One image built into the private registry at start."""

    repository: str  # path in the registry, e.g. "library/nginx"
    tags: tuple[str, ...]
    dockerfile: str
    files: Callable[[], dict[str, bytes]] = dict
    pull_back: tuple[str, ...] = ()  # plain names pulled via the mirror afterwards


def _big_layers() -> dict[str, bytes]:
    # Random data does not compress, so every layer really is ~20 MB on the wire.
    return {f"blob{i}": os.urandom(BIG_LAYER_BYTES) for i in range(1, BIG_LAYERS + 1)}


FIXTURE_IMAGES: tuple[FixtureImage, ...] = (
    # Slowest first: it is built in parallel with the rest.
    FixtureImage(
        repository="library/bigimage",
        tags=("latest",),
        dockerfile="""\
FROM scratch
COPY rootfs/ /
COPY blob1 /data/blob1
COPY blob2 /data/blob2
COPY blob3 /data/blob3
ENV PATH=/bin
CMD ["sh"]
""",
        files=_big_layers,
    ),
    FixtureImage(
        repository="library/nginx",
        tags=("latest", "1.25"),
        dockerfile="""\
FROM scratch
COPY rootfs/ /
COPY index.html /usr/share/nginx/html/index.html
COPY docker-entrypoint.sh /docker-entrypoint.sh
ENV NGINX_VERSION=1.25.0 PATH=/bin
EXPOSE 80
ENTRYPOINT ["/docker-entrypoint.sh"]
STOPSIGNAL SIGQUIT
CMD ["httpd","-f","-p","80","-h","/usr/share/nginx/html"]
""",
        files=lambda: {"index.html": NGINX_HTML, "docker-entrypoint.sh": NGINX_ENTRYPOINT},
        pull_back=("nginx:latest",),
    ),
    FixtureImage(
        repository="devwikirepo/envnodecolorapp",
        tags=("latest",),
        dockerfile=f"""\
FROM scratch
COPY rootfs/ /
ENV PATH=/bin COLOR=red
EXPOSE 3000
CMD {json.dumps(["sh", "-c", COLOR_APP_CMD])}
""",
        pull_back=("devwikirepo/envnodecolorapp:latest",),
    ),
    FixtureImage(
        repository="library/busybox",
        tags=("latest",),
        dockerfile="""\
FROM scratch
COPY rootfs/ /
ENV PATH=/bin
CMD ["sh"]
""",
        pull_back=("busybox:latest",),
    ),
)


class EngineError(RuntimeError):
    """The private engine could not be started or driven."""


@dataclass
class _Service:
    """A child process with its log file."""

    name: str
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def spawn(self) -> None:
        self.stop()  # reap a crashed predecessor and close its log
        self._log = self.log_path.open("ab")
        # Own session: a Ctrl-C in the terminal must not kill it before close().
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, wait for a full exit (the pid file is released only then)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _wait_until(ready: Callable[[], bool], service: _Service, timeout: float = START_TIMEOUT) -> None:
    """Poll until ready; fail fast with the log tail if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not service.running:
            raise EngineError(f"{service.name} exited during start:\n{service.log_tail()}")
        time.sleep(0.1)
    raise EngineError(f"{service.name} not ready after {timeout:.0f}s:\n{service.log_tail()}")


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


def _tar(files: dict[str, bytes], symlinks: dict[str, str]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            info.mtime = 0  # stable layer digests across builds
            tar.addfile(info, io.BytesIO(data))
        for name, target in symlinks.items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            info.mtime = 0
            tar.addfile(info)
    buf.seek(0)
    return buf


def _read_static_busybox() -> bytes:
    data = BUSYBOX.read_bytes()
    # A dynamic busybox (Debian's "busybox" package) cannot run in a scratch image.
    if b"/lib64/ld-linux" in data[:4096] or b"/lib/ld-linux" in data[:4096]:
        raise EngineError(f"{BUSYBOX} is dynamically linked; install busybox-static")
    return data


def _busybox_applets() -> list[str]:
    out = subprocess.run([str(BUSYBOX), "--list"], check=True, capture_output=True, text=True).stdout
    return [a for a in out.split() if a != "busybox"]


def _build_context(image: FixtureImage, busybox: bytes, applets: Iterable[str]) -> io.BytesIO:
    """Dockerfile + rootfs/ (busybox and its applet symlinks) + extra files.

    Symlinks are laid out here instead of a RUN --install step: no container
    runs during the build, which keeps start() fast.
    """
    files = {"Dockerfile": image.dockerfile.encode(), "rootfs/bin/busybox": busybox}
    files.update(image.files())
    return _tar(files, {f"rootfs/bin/{a}": "busybox" for a in applets})


def _check_stream(events: Iterable[dict[str, Any]], what: str) -> None:
    for event in events:
        if "error" in event or "errorDetail" in event:
            raise EngineError(f"{what}: {event.get('error') or event['errorDetail']}")


def _netns_path(tmpdir: Path) -> Path:
    # Named after the dir so a reaper can find it.
    return Path("/run/netns") / tmpdir.name


def _pid_alive(pid: int) -> bool:
    """True unless gone or a zombie (a killed owner may wait a while for its reaping)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _processes_under(tmpdir: Path) -> dict[int, bytes]:
    """Processes whose command line names the dir (registry, containerd, dockerd, shims)."""
    marker = f"{tmpdir}/".encode()
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            if marker in cmdline:
                found[int(entry)] = cmdline
    return found


def _terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM a process we do not parent, then wait for it to be gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


def _kill_processes_under(tmpdir: Path, names: tuple[bytes, ...]) -> None:
    """Stop processes of this engine by pid, in the given order of names."""
    for name in names:
        for pid, cmdline in _processes_under(tmpdir).items():
            if cmdline.split(b"\0")[0].endswith(name):
                _terminate(pid)


def _kill_shims(tmpdir: Path) -> None:
    """Shims outlive containerd if dockerd could not stop its containers.

    SIGKILL each container's init (which ends its whole pid namespace), then
    the shim itself, which would otherwise wait for a containerd that is gone.
    """
    for pid, cmdline in _processes_under(tmpdir).items():
        if b"containerd-shim" not in cmdline.split(b"\0")[0]:
            continue
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                for child in (task / "children").read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(child), signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _unmount_under(tmpdir: Path) -> None:
    prefix = f"{tmpdir}/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def _teardown_dir(tmpdir: Path) -> None:
    """Remove every trace of an engine dir: processes, mounts, files, netns."""
    # dockerd first: it stops its containers and docker-proxy port listeners.
    _kill_processes_under(tmpdir, (b"dockerd",))
    _kill_shims(tmpdir)
    _kill_processes_under(tmpdir, (b"containerd", b"docker-registry"))
    _unmount_under(tmpdir)
    shutil.rmtree(tmpdir, ignore_errors=True)
    if _netns_path(tmpdir).exists():
        _ip("netns", "del", tmpdir.name, check=False)


def reap_stale_engines(tmp_root: str = "/tmp") -> list[Path]:
    """Tear down engines whose owning process died without close() (SIGKILL)."""
    reaped = []
    for tmpdir in Path(tmp_root).glob(f"{TMP_PREFIX}*"):
        try:
            owner = int((tmpdir / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not ours, or just being created
        if not _pid_alive(owner):
            _teardown_dir(tmpdir)
            reaped.append(tmpdir)
    return reaped


class PrivateEngine:
    """Registry + containerd + dockerd under one temp dir and netns, with fixture images."""

    def __init__(self, tmp_root: str = "/tmp") -> None:
        self.tmp_root = tmp_root
        self.tmpdir: Path | None = None
        self.registry = ""
        self.docker_host = ""
        self.log_path = Path()
        self.storage_driver: str | None = None
        self.netns: Path | None = None
        self.images_ready = False
        self._registry: _Service | None = None
        self._containerd: _Service | None = None
        self._dockerd: _Service | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> PrivateEngine:
        """Start everything; build fixture images on the first start only."""
        if self.tmpdir is None:
            self._prepare()
        self._ensure_netns()
        self._start_registry()
        self._start_containerd()
        self.start_daemon()
        if not self.images_ready:
            self._build_fixture_images()
            self.images_ready = True
        return self

    def stop(self) -> None:
        """Stop all processes but keep the temp dir (images, registry data)."""
        self.stop_daemon()
        for service in (self._containerd, self._registry):
            if service is not None:
                service.stop()
        if self.tmpdir is not None:
            _kill_shims(self.tmpdir)

    def close(self) -> None:
        """Tear down everything: containers, processes, mounts, dir, netns."""
        if self.tmpdir is None:
            return
        with contextlib.suppress(docker.errors.DockerException, OSError):
            if self.daemon_running:
                self.reset()
        self.stop()
        _teardown_dir(self.tmpdir)
        self.tmpdir = None
        self.storage_driver = None
        self.images_ready = False

    def start_daemon(self) -> None:
        """(Re)start dockerd on the same data root; images survive."""
        if self.daemon_running:
            return
        if self.storage_driver is None:
            self.storage_driver = self._detect_storage_driver()
        else:
            self._spawn_dockerd(self.storage_driver)

    def stop_daemon(self) -> None:
        """Stop dockerd only, like `systemctl stop docker` (registry stays up)."""
        if self._dockerd is not None:
            self._dockerd.stop()

    @property
    def daemon_running(self) -> bool:
        return self._dockerd is not None and self._dockerd.running

    def api(self) -> docker.APIClient:
        return docker.APIClient(base_url=self.docker_host, version="auto", timeout=30)

    def forget_image(self, image: str) -> None:
        """Remove an image a test pulled, if it is there, so the next test finds the engine as it started."""
        client = self.api()
        try:
            client.remove_image(image, force=True)
        except docker.errors.ImageNotFound:
            pass
        finally:
            client.close()

    def reset(self) -> None:
        """Remove all containers (force); images stay."""
        client = self.api()
        try:
            for c in client.containers(all=True, quiet=True):
                with contextlib.suppress(docker.errors.NotFound):
                    client.remove_container(c["Id"], force=True, v=True)
        finally:
            client.close()

    def __enter__(self) -> PrivateEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- setup -------------------------------------------------------------

    def _prepare(self) -> None:
        reap_stale_engines(self.tmp_root)
        tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=self.tmp_root))
        (tmp / "owner.pid").write_text(str(os.getpid()))
        self.tmpdir = tmp
        # Unix socket paths are limited to 108 bytes, containerd's shim paths included.
        self.docker_host = f"unix://{tmp}/docker.sock"
        self.log_path = tmp / "dockerd.log"
        self.netns = _netns_path(tmp)
        self.registry = REGISTRY_ADDR
        # Our own config file: /etc/docker/daemon.json is ignored, and the trust
        # key is kept here instead of dockerd 20.10's default /etc/docker/key.json.
        (tmp / "daemon.json").write_text(json.dumps({"deprecated-key-path": f"{tmp}/key.json"}))
        (tmp / "registry.yml").write_text(self._registry_config())
        (tmp / "containerd.toml").write_text(self._containerd_config())

    def _registry_config(self) -> str:
        assert self.tmpdir is not None
        return f"""\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {self.tmpdir}/registry
  delete:
    enabled: true
http:
  addr: {self.registry}
"""

    def _containerd_config(self) -> str:
        # Our own containerd: dockerd 20.10 would otherwise attach to a system
        # containerd at /run/containerd/containerd.sock if one is running.
        assert self.tmpdir is not None
        return f"""\
version = 2
root = "{self.tmpdir}/data/containerd"
state = "{self.tmpdir}/exec/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{self.tmpdir}/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "{self.tmpdir}/data/containerd/opt"
"""

    def _in_netns(self, *argv: str) -> list[str]:
        # nsenter execs the program: the pid we hold is the real process.
        return ["nsenter", f"--net={self.netns}", "--", *argv]

    def _ensure_netns(self) -> None:
        assert self.tmpdir is not None and self.netns is not None
        if not self.netns.exists():
            _ip("netns", "add", self.tmpdir.name)
            _ip("-n", self.tmpdir.name, "link", "set", "lo", "up")

    def _start_registry(self) -> None:
        assert self.tmpdir is not None
        if self._registry is None:
            argv = self._in_netns(REGISTRY_BIN, "serve", str(self.tmpdir / "registry.yml"))
            self._registry = _Service("registry", argv, self.tmpdir / "registry.log")
        if not self._registry.running:
            self._registry.spawn()
            _wait_until(self._registry_answers, self._registry)

    def _registry_answers(self) -> bool:
        # Its 127.0.0.1 is the netns's own loopback: probe from in there.
        probe = self._in_netns(str(BUSYBOX), "wget", "-q", "-O", "/dev/null", f"http://{self.registry}/v2/")
        return subprocess.run(probe, capture_output=True, timeout=5).returncode == 0

    def _start_containerd(self) -> None:
        assert self.tmpdir is not None
        if self._containerd is None:
            argv = self._in_netns("containerd", "--config", str(self.tmpdir / "containerd.toml"))
            self._containerd = _Service("containerd", argv, self.tmpdir / "containerd.log")
        if not self._containerd.running:
            sock = self.tmpdir / "containerd.sock"
            sock.unlink(missing_ok=True)  # a crashed one's socket would look ready
            self._containerd.spawn()
            _wait_until(sock.exists, self._containerd)

    def dockerd_argv(self, driver: str) -> list[str]:
        assert self.tmpdir is not None
        tmp = self.tmpdir
        return self._in_netns(
            "dockerd",
            f"--config-file={tmp}/daemon.json",
            f"--host={self.docker_host}",
            f"--containerd={tmp}/containerd.sock",
            f"--data-root={tmp}/data",
            f"--exec-root={tmp}/exec",
            f"--pidfile={tmp}/docker.pid",
            f"--storage-driver={driver}",
            # No iptables rules: nothing outside needs to reach in, and the
            # iptables binary or kernel tables may be missing. Port allocation
            # (and its "already allocated" error) works without them, and
            # docker-proxy still binds the published ports inside the netns.
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            f"--registry-mirror=http://{self.registry}",
            f"--insecure-registry={self.registry}",
        )

    def _spawn_dockerd(self, driver: str) -> None:
        self.stop_daemon()  # reap a crashed one and close its log
        self._dockerd = _Service("dockerd", self.dockerd_argv(driver), self.log_path)
        self._dockerd.spawn()
        _wait_until(self._pings, self._dockerd)

    def _detect_storage_driver(self) -> str:
        """overlay2 where the kernel and backing fs allow it, else vfs."""
        try:
            self._spawn_dockerd("overlay2")
            return "overlay2"
        except EngineError:
            self.stop_daemon()
            # Whatever overlay2 left behind is unusable by vfs.
            assert self.tmpdir is not None
            _unmount_under(self.tmpdir)
            shutil.rmtree(self.tmpdir / "data" / "overlay2", ignore_errors=True)
            self._spawn_dockerd("vfs")
            return "vfs"

    def _pings(self) -> bool:
        sock = self.docker_host.removeprefix("unix://")
        if not os.path.exists(sock):
            return False
        try:
            client = docker.APIClient(base_url=self.docker_host, version="1.41", timeout=2)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except (docker.errors.DockerException, OSError):
            return False

    # -- fixture images ------------------------------------------------------

    def _build_fixture_images(self) -> None:
        busybox = _read_static_busybox()
        applets = _busybox_applets()
        # One at a time: the images share their busybox layer, and removing one image's registry-named copies
        # while another build or push uses that layer failed now and then ("failed to get digest …").
        for image in FIXTURE_IMAGES:
            self._build_and_push(image, busybox, applets)
        client = self.api()
        try:
            for image in FIXTURE_IMAGES:
                for name in image.pull_back:
                    repo, tag = name.rsplit(":", 1)
                    _check_stream(client.pull(repo, tag=tag, stream=True, decode=True), f"pull {name}")
        finally:
            client.close()

    def _build_and_push(self, image: FixtureImage, busybox: bytes, applets: list[str]) -> None:
        client = self.api()
        try:
            self._build_push_remove(client, image, busybox, applets)
        finally:
            client.close()

    def _build_push_remove(
        self,
        client: docker.APIClient,
        image: FixtureImage,
        busybox: bytes,
        applets: list[str],
    ) -> None:
        ref = f"{self.registry}/{image.repository}"
        first = f"{ref}:{image.tags[0]}"
        context = _build_context(image, busybox, applets)
        events = client.build(fileobj=context, custom_context=True, tag=first, rm=True, forcerm=True, decode=True)
        _check_stream(events, f"build {first}")
        for tag in image.tags:
            client.tag(first, ref, tag)
            _check_stream(client.push(ref, tag=tag, stream=True, decode=True), f"push {ref}:{tag}")
        # Drop the registry-named copies: the host should look as if only the
        # pull_back names had been pulled from Docker Hub.
        for tag in image.tags:
            client.remove_image(f"{ref}:{tag}", force=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve_forever() -> None:
    engine = PrivateEngine()
    # SIGTERM takes the same orderly path as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        started = time.monotonic()
        engine.start()
        print(f"DOCKER_HOST={engine.docker_host}")
        print(
            f"# registry={engine.registry} (in netns {engine.netns}) "
            f"storage={engine.storage_driver} tmpdir={engine.tmpdir} "
            f"started in {time.monotonic() - started:.1f}s",
            flush=True,
        )
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C/SIGTERM must not cut the teardown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        engine.close()


def main(argv: list[str]) -> int:
    if argv[1:] != ["up"]:
        print("usage: python -m tests.private_engine up", file=sys.stderr)
        return 2
    _serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
