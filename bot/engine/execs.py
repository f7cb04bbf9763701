"""Executor for `exec`: the allowed argv exactly (no shell added, no tty, no other user), bounded in time and output."""

import shlex
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import docker.errors
import requests.exceptions
import urllib3.exceptions

from bot.engine.errors import EngineError, explain
from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.grammar.commands import ContainerExec
from bot.results import ExecDone
from bot.secrets import mask_text

MAX_OUTPUT_BYTES = 512 * 1024
_TRANSPORT_ERRORS = (
    OSError,
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    docker.errors.DockerException,
)
# A command that prints nothing for longer than the engine timeout ends the read with one of these.
_SILENT = (socket.timeout, requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError)


@dataclass
class _Reader:
    """Collects an exec's output on its own thread, keeping the newest MAX_OUTPUT_BYTES."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    cut: bool = False
    error: Exception | None = None

    def read(self, stream: Iterable[bytes]) -> None:
        try:
            for chunk in stream:
                self.chunks.append(chunk)
                self.size += len(chunk)
                while self.size - len(self.chunks[0]) >= MAX_OUTPUT_BYTES:
                    self.size -= len(self.chunks.pop(0))
                    self.cut = True
        except _TRANSPORT_ERRORS as error:  # handed to the request's thread, which explains it
            self.error = error

    def text(self) -> str:
        raw = b"".join(self.chunks)[-MAX_OUTPUT_BYTES:]
        text = raw.decode("utf-8", errors="replace")
        return text.partition("\n")[2] if self.cut else text


@execute.register
def _exec(command: ContainerExec, ctx: Context) -> ExecDone:
    api = ctx.engine.api
    line = mask_text(shlex.join(command.argv))
    with ctx.engine.errors(command.container):
        created = api.exec_create(
            command.container, list(command.argv), stdout=True, stderr=True, stdin=False, tty=False, privileged=False
        )
        stream = api.exec_start(created["Id"], stream=True)
    started = time.monotonic()
    reader = _Reader()
    worker = threading.Thread(target=reader.read, args=(stream,), name="exec-output", daemon=True)
    worker.start()
    worker.join(ctx.limits.wait_seconds)
    if worker.is_alive():
        return ExecDone(command.container, line, None, reader.text(), reader.cut, ctx.limits.wait_seconds)
    if isinstance(reader.error, _SILENT):
        waited = round(time.monotonic() - started)
        return ExecDone(command.container, line, None, reader.text(), reader.cut, waited)
    if reader.error is not None:
        error = explain(reader.error, command.container, ctx.engine.docker_host)
        raise EngineError(f"{error} (while reading the output of `{line}`)") from reader.error
    with ctx.engine.errors(command.container):
        state = api.exec_inspect(created["Id"])
    return ExecDone(command.container, line, state.get("ExitCode"), reader.text(), reader.cut)
