"""An ssh:// engine as a private unix socket, so its connections are kept and reused like a local engine's.

docker-py's own shell-out transport starts a new `ssh` (a handshake, and a `docker system dial-stdio` on the remote
host) for every request. Here each connection accepted on the relay's socket gets one system `ssh … docker system
dial-stdio` whose stdin and stdout are that very connection (nothing is copied in between), so the engine client's
keep-alive pool reuses ssh sessions the way it reuses unix-socket connections. `ssh` is looked up on PATH for each
connection and keeps the user's keys, ssh config and known_hosts; its stderr is Shipmate's own (the log).

One thread per relay waits on the socket, on each ssh process (a pidfd: reaped as soon as it ends, which also hands
the client its end-of-stream) and on each client (one that hangs up has its ssh ended). Linux only (epoll, pidfd).
"""

import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bot.engine.spec import public_host

log = logging.getLogger(__name__)

_STOP_SECONDS = 5.0  # how long a closing relay waits for an ssh to end after SIGTERM, before SIGKILL


def ssh_argv(url: str) -> list[str]:
    """`ssh [-l user] [-p port] -- host docker system dial-stdio` for `ssh://user@host:port`; a password in the
    URL is never passed on (ssh authenticates its own way)."""
    user, _, address = urlsplit(url).netloc.rpartition("@")
    host, port = address, ""
    if address.startswith("["):  # [v6 address]:port
        host, _, rest = address[1:].partition("]")
        port = rest.removeprefix(":")
    elif ":" in address:
        host, _, port = address.rpartition(":")
    argv = ["ssh"]
    if user:
        argv += ["-l", unquote(user.partition(":")[0])]
    if port:
        argv += ["-p", port]
    return [*argv, "--", host, "docker", "system", "dial-stdio"]


@dataclass
class _Session:
    """One accepted connection and the ssh process that serves it."""

    connection: socket.socket
    process: subprocess.Popen[bytes]
    pidfd: int
    client_gone: bool = False


class SSHRelay:
    """A unix socket in a private (0700) temp directory; see the module docstring. `close` ends everything."""

    def __init__(self, url: str, name: str) -> None:
        self._argv = ssh_argv(url)
        self._shown = public_host(url)
        self._directory = tempfile.mkdtemp(prefix="shipmate-ssh-")  # mode 0700
        self.path = os.path.join(self._directory, "engine.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(64)
        self._wake_read, self._wake_write = os.pipe()
        self._poll = select.epoll()
        self._poll.register(self._listener.fileno(), select.EPOLLIN)
        self._poll.register(self._wake_read, select.EPOLLIN)
        self._by_pidfd: dict[int, _Session] = {}
        self._by_connection: dict[int, _Session] = {}
        self._thread = threading.Thread(target=self._run, name=f"ssh relay {name}", daemon=True)
        self._thread.start()

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    @property
    def sessions(self) -> int:
        """ssh processes running (or ended and not yet reaped)."""
        return len(self._by_pidfd)

    def _run(self) -> None:
        while True:
            for fd, _ in self._poll.poll():
                if fd == self._wake_read:
                    return
                if fd == self._listener.fileno():
                    self._accept()
                elif fd in self._by_pidfd:
                    self._reap(self._by_pidfd[fd])
                elif fd in self._by_connection:
                    self._client_hung_up(self._by_connection[fd])

    def _accept(self) -> None:
        connection, _ = self._listener.accept()
        process = None
        try:
            process = subprocess.Popen(
                self._argv, stdin=connection.fileno(), stdout=connection.fileno(), start_new_session=True
            )
            pidfd = os.pidfd_open(process.pid)
        except OSError as error:  # no ssh on PATH, or out of descriptors: the client sees the stream end
            log.error("ssh to %s could not start: %s", self._shown, error)
            if process is not None:
                process.kill()
                process.wait()
            connection.close()
            return
        session = _Session(connection, process, pidfd)
        self._by_pidfd[session.pidfd] = session
        self._by_connection[connection.fileno()] = session
        self._poll.register(session.pidfd, select.EPOLLIN)
        self._poll.register(connection.fileno(), 0)  # EPOLLHUP is always reported: the client closed its end

    def _client_hung_up(self, session: _Session) -> None:
        """Nobody reads this ssh's answers any more (a timed-out or dropped connection): end it."""
        self._poll.unregister(session.connection.fileno())
        del self._by_connection[session.connection.fileno()]
        session.client_gone = True
        session.process.terminate()

    def _reap(self, session: _Session) -> None:
        status = session.process.wait()
        if status != 0 and not session.client_gone:
            log.warning("ssh to %s ended with status %s (ssh's own message is above)", self._shown, status)
        self._poll.unregister(session.pidfd)
        del self._by_pidfd[session.pidfd]
        os.close(session.pidfd)
        if not session.client_gone:
            self._poll.unregister(session.connection.fileno())
            del self._by_connection[session.connection.fileno()]
        session.connection.close()  # the last copy besides the client's: the client now sees the stream end

    def close(self) -> None:
        """Stop accepting, end every ssh (and wait for it), remove the socket and its directory."""
        os.write(self._wake_write, b"x")
        self._thread.join()
        sessions = list(self._by_pidfd.values())
        for session in sessions:
            session.process.terminate()
        for session in sessions:
            try:
                session.process.wait(_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                session.process.send_signal(signal.SIGKILL)
                session.process.wait()
            os.close(session.pidfd)
            session.connection.close()
        self._by_pidfd.clear()
        self._by_connection.clear()
        self._poll.close()
        self._listener.close()
        os.close(self._wake_read)
        os.close(self._wake_write)
        shutil.rmtree(self._directory, ignore_errors=True)
