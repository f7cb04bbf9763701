"""Hostile and broken input: each gets one line saying what was wrong, and never reaches Docker.

Every refusal is checked three ways: the grammar raises ParseError (and nothing else) with a one-line
message; the real dispatcher, over an Engine whose socket does not exist, answers with that same Failure
without touching the engine; and a few go through `shipmate local` as a process.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.dispatcher import Dispatcher, Request
from bot.engine import Engine
from bot.grammar import ParseError, parse
from bot.grammar.commands import Command, ContainerList, ContainerLogs, ContainerRun, ImagePull
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import Failure
from tests.blockkit import assert_valid_message

# (slash, text, what the one-line answer must say)
HOSTILE: list[tuple[str, str, str]] = [
    # nothing typed
    ("/docker", "", "`/docker` needs a command: type `/docker help`"),
    ("/docker", "   \t  ", "`/docker` needs a command"),
    ("/img", "", "`/img` needs a command: type `/img help`"),
    ("/img", "  ", "`/img` needs a command"),
    ("/container", "", "`/container` needs a command"),
    ("/container", " \n ", "`/container` needs a command"),
    ("/run", "", "missing IMAGE"),
    ("/run", "    ", "missing IMAGE"),
    ("/rm", "", "missing CONTAINER"),
    ("/rm", "\t", "missing CONTAINER"),
    ("/logs", "", "missing CONTAINER"),
    ("/logs", "   ", "missing CONTAINER"),
    # far too long
    ("/ps", "a" * 10_000, "the command is too long (10,000 characters; at most 4,000)"),
    ("/run", "busybox echo " + "x" * 20_000, "the command is too long (20,013 characters"),
    ("/docker", " " * 12_000, "the command is too long"),
    ("/logs", "--tail 5 " + "w" * 50_000, "the command is too long"),
    # control characters
    ("/ps", "-a\x00", "control character (U+0000)"),
    ("/run", "busybox echo \x1b[31mred", "control character (U+001B)"),
    ("/logs", "web\x7f", "control character (U+007F)"),
    ("/rm", "web\x08x", "control character (U+0008)"),
    ("/docker", "ps\x85", "control character (U+0085)"),
    ("/img", "pull nginx\x07", "control character (U+0007)"),
    # quoting
    ("/run", "busybox echo 'oops", "no closing quotation: close every quote you open"),
    ("/ps", '-f "name=web', "no closing quotation"),
    ("/logs", "web\\", "no escaped character"),
    ("/run", "-e \u201cA=b nginx", "no closing quotation"),
    # shell syntax is text, and text in the wrong place is refused
    ("/ps", "; rm x", "unexpected argument `;`"),
    ("/ps", "&& rm -rf /", "unknown flag `-r`"),
    ("/ps", "&& reboot", "unexpected argument `&&`"),
    ("/ps", "| sh", "unexpected argument `|`"),
    ("/ps", "$(reboot)", "unexpected argument `$(reboot)`"),
    ("/ps", "`reboot`", "unexpected argument ``reboot``"),
    ("/docker", "ps > /etc/passwd", "unexpected argument `>`"),
    ("/docker", "ps &gt; /etc/passwd", "unexpected argument `>`"),
    ("/logs", "web1; cat /etc/passwd", "unexpected argument `cat`"),
    ("/logs", "'web1;reboot'", "`web1;reboot` is not a container name or id"),
    ("/rm", "$(docker ps)", "`$(docker` is not a container name or id"),
    ("/rm", "$(docker ps -q)", "unknown flag `-q`"),
    ("/img", "pull nginx && curl evil.example", "unexpected argument `&&`"),
    ("/run", "nginx;id", "`nginx;id` is not a valid image reference"),
    ("/run", "$(id)", "`$(id)` is not a valid image reference"),
    # env
    ("/run", "--env FOO nginx", "`--env FOO` needs a value: write `--env FOO=VALUE`"),
    ("/run", "--env =x nginx", "`(empty)` is not a valid variable name in `--env =x`"),
    ("/run", "-e= nginx", "`--env ` needs a value: write `--env KEY=VALUE`"),
    ("/run", "-e 'A B=x' nginx", "`A B` is not a valid variable name"),
    ("/run", "-e 'A\n=x' nginx", "is not a valid variable name"),
    ("/run", "--env", "`--env` needs a value"),
    # ports
    ("/run", "-p 99999:1 nginx", "`99999` is not a valid host port in `-p 99999:1`: ports are 1–65535"),
    ("/run", "-p 1:99999 nginx", "`99999` is not a valid container port"),
    ("/run", "-p abc nginx", "`-p abc` is not a port mapping: write `-p HOST:CONTAINER`"),
    ("/run", "-p : nginx", "`(empty)` is not a valid host port in `-p :`"),
    ("/run", "-p 1:2:3:4 nginx", "`-p 1:2:3:4` is not a port mapping"),
    ("/run", "-p -1:80 nginx", "`-1` is not a valid host port"),
    ("/run", "-p \u00b2:80 nginx", "`\u00b2` is not a valid host port"),
    ("/run", "-p 8080:80/xyz nginx", "`xyz` is not a protocol"),
    ("/run", "-p 999.0.0.1:80:80 nginx", "`999.0.0.1` is not an IPv4 address"),
    # names
    ("/run", "--name 'my web' nginx", "`my web` is not a valid container name"),
    ("/run", "--name a/b nginx", "`a/b` is not a valid container name"),
    ("/run", "--name ../etc nginx", "`../etc` is not a valid container name"),
    ("/run", "--name 'web\n' nginx", "is not a valid container name"),
    ("/rm", "'my web'", "`my web` is not a container name or id"),
    ("/logs", "a/b", "`a/b` is not a container name or id"),
    ("/logs", "'web\n'", "is not a container name or id"),
    ("/docker", "stop ../../x", "`../../x` is not a container name or id"),
    ("/run", "'nginx\n'", "is not a valid image reference"),
    # --tail and --since
    ("/logs", "--tail -5 web", "`--tail -5` is out of range: use 0–10000"),
    ("/logs", "--tail 10000000 web", "`--tail 10000000` is out of range: use 0–10000"),
    ("/logs", "--tail \u00b2 web", "`--tail \u00b2` is not a number of lines"),
    ("/logs", "--tail --5 web", "`--tail --5` is not a number of lines"),
    ("/logs", "--tail 1e3 web", "`--tail 1e3` is not a number of lines"),
    ("/logs", "--since -5m web", "`--since -5m` is not a duration"),
    ("/logs", "--since 5x web", "`--since 5x` is not a duration"),
    # unknown and dangerous flags
    ("/run", "--privileged nginx", "`--privileged` is not allowed: Shipmate never grants privileged containers"),
    ("/run", "--privileged=true nginx", "`--privileged` is not allowed"),
    ("/run", "-v /:/host nginx", "`-v` is not allowed: Shipmate never grants host mounts"),
    ("/run", "-dv/:/host nginx", "`-v` is not allowed"),
    ("/run", "--volume /var/run/docker.sock:/s nginx", "`--volume` is not allowed"),
    ("/run", "--network host nginx", "`--network` is not allowed: Shipmate never grants network selection"),
    ("/run", "--pid host nginx", "`--pid` is not allowed: Shipmate never grants host PID namespace"),
    ("/run", "--cap-add SYS_ADMIN nginx", "`--cap-add` is not allowed: Shipmate never grants added capabilities"),
    ("/run", "--device /dev/mem nginx", "`--device` is not allowed: Shipmate never grants host devices"),
    ("/run", "--security-opt apparmor=unconfined nginx", "`--security-opt` is not allowed"),
    ("/run", "--user 0 nginx", "`--user` is not allowed"),
    ("/run", "-it busybox sh", "`-i` is not allowed: Shipmate never grants interactive sessions"),
    ("/docker", "run --privileged nginx", "`--privileged` is not allowed"),
    ("/container", "run -v /:/h nginx", "`-v` is not allowed"),
    ("/run", "--frobnicate nginx", "unknown flag `--frobnicate`"),
    ("/run", "--entrypoint sh nginx", "unknown flag `--entrypoint`"),
    ("/ps", "--format '{{.ID}}'", "unknown flag `--format`"),
    ("/rm", "-rf web", "unknown flag `-r`"),
    # docker commands Shipmate does not do
    ("/docker", "exec -it web sh", "`-i` is not allowed"),
    ("/docker", "cp web:/etc/passwd .", "`cp` is not something Shipmate does"),
    ("/docker", "build -t x .", "`build` is not something Shipmate does"),
    ("/docker", "system prune -af", "`prune` is not something Shipmate does"),
    ("/docker", "volume create x", "`volume create` is not something Shipmate does"),
    ("/docker", "network create x", "`network create` is not something Shipmate does"),
    ("/docker", "volume rm /var/lib/docker", "`/var/lib/docker` is not a volume name"),
    ("/docker", "container exec -t web sh", "`-t` is not allowed: a chat has no terminal"),
    ("/docker", "image prune -a nginx", "`nginx` is not an image id"),
    ("/docker", "top web ';' rm", "`;` is not a ps option"),
    ("/docker", "events --until 2999-01-01", "is in the future"),
    ("/container", "attach web", "`attach` is not something Shipmate does"),
    ("/img", "push nginx", "`push` is not something Shipmate does"),
    ("/docker", "login -u admin", "`login` is not something Shipmate does"),
    ("/docker", "compose up", "unknown command `up`: type `/docker help`"),  # projects are read, never made
    ("/docker", "kill web", "`kill` is not something Shipmate does"),
    ("/docker", "frobnicate", "unknown command `frobnicate`"),
    # Slack's mangling does not smuggle anything in
    ("/run", "\u2014privileged nginx", "`--privileged` is not allowed"),
    ("/run", "\u2013volume=/:/h nginx", "`--volume` is not allowed"),
    ("/run", "-v <file:///etc|/etc>:/host nginx", "`-v` is not allowed"),
    ("/ps", "&lt;script&gt;", "unexpected argument `<script>`"),
    ("/ps", "<!channel>", "unexpected argument `!channel`"),
    ("/rm", "<@U123ABC>", "`@U123ABC` is not a container name or id"),
    ("/logs", "<http://evil.example/x|evil.example/x>", "`evil.example/x` is not a container name or id"),
    (
        "/img",
        "pull <http://evil.example/x|http://evil.example/x>",
        "`http://evil.example/x` is not a valid image reference",
    ),
]

# Hostile-looking text that is, correctly, just text: shell syntax reaches the container's argv untouched.
LITERAL: list[tuple[str, str, Command]] = [
    ("/run", "busybox echo $(id)", ContainerRun(image="busybox", command=("echo", "$(id)"))),
    ("/run", "busybox echo `id`", ContainerRun(image="busybox", command=("echo", "`id`"))),
    ("/run", "busybox echo a; rm -rf /", ContainerRun(image="busybox", command=("echo", "a;", "rm", "-rf", "/"))),
    ("/run", "busybox echo a && reboot", ContainerRun(image="busybox", command=("echo", "a", "&&", "reboot"))),
    ("/run", "busybox echo a | sh", ContainerRun(image="busybox", command=("echo", "a", "|", "sh"))),
    ("/run", "busybox echo a &amp;&amp; reboot", ContainerRun(image="busybox", command=("echo", "a", "&&", "reboot"))),
    ("/run", "-e 'X=$(id)' busybox", ContainerRun(image="busybox", env=(("X", "$(id)"),))),
    ("/run", "-e X=`id`;ls busybox", ContainerRun(image="busybox", env=(("X", "`id`;ls"),))),
    ("/run", "busybox echo '\ttab'", ContainerRun(image="busybox", command=("echo", "\ttab"))),
    ("/run", "busybox --privileged", ContainerRun(image="busybox", command=("--privileged",))),
    ("/ps", "", ContainerList()),
    ("/ps", "   ", ContainerList()),
    ("/ps", "\t\n", ContainerList()),
    ("/logs", "<http://web.1|web.1>", ContainerLogs(container="web.1")),
    # a registry host Slack turned into a link is still an image reference (the image allowlist judges it)
    ("/img", "pull <http://evil.example/x|evil.example/x>:v1", ImagePull(repository="evil.example/x", tag="v1")),
]


def _id(case: tuple) -> str:
    slash, text = case[0], case[1]
    shown = text if len(text) < 40 else f"{text[:30]}…({len(text)} chars)"
    return f"{slash} {shown!r}"


def one_line(message: str) -> bool:
    return "\n" not in message and "\r" not in message and len(message.splitlines()) <= 1


@pytest.mark.parametrize(("slash", "text", "answer"), HOSTILE, ids=[_id(case) for case in HOSTILE])
def test_grammar_refuses_with_one_line(slash: str, text: str, answer: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text, slash)
    assert type(caught.value) is ParseError
    assert answer in caught.value.reason
    assert one_line(str(caught.value)), repr(str(caught.value))


@pytest.mark.parametrize(("slash", "text", "expected"), LITERAL, ids=[_id(case) for case in LITERAL])
def test_shell_syntax_is_literal_text(slash: str, text: str, expected: Command) -> None:
    assert parse(text, slash) == expected


class WatchedEngine(Engine):
    """The real Engine, counting every reach for the Docker API."""

    def __init__(self, docker_host: str) -> None:
        super().__init__(docker_host, timeout=2)
        self.reached = 0

    @property
    def api(self):  # type: ignore[override]
        self.reached += 1
        return super().api


@pytest.fixture(scope="module")
def closed_engine(tmp_path_factory: pytest.TempPathFactory) -> WatchedEngine:
    socket = tmp_path_factory.mktemp("nodocker") / "docker.sock"  # never created: any call fails loudly
    return WatchedEngine(f"unix://{socket}")


def test_the_closed_engine_really_fails(closed_engine: WatchedEngine) -> None:
    """The check below means something only if a command that does reach Docker fails here."""
    before = closed_engine.reached
    reply = Dispatcher(closed_engine).handle(Request(text="-a", slash="/ps"), to_text)
    assert isinstance(reply.result, Failure) and "unreachable" in reply.result.reason
    assert closed_engine.reached > before


@pytest.mark.parametrize(("slash", "text", "answer"), HOSTILE, ids=[_id(case) for case in HOSTILE])
def test_dispatcher_answers_from_the_grammar_alone(
    closed_engine: WatchedEngine, slash: str, text: str, answer: str
) -> None:
    dispatcher = Dispatcher(closed_engine)
    request = Request(text=text, slash=slash)
    before = closed_engine.reached
    with pytest.raises(ParseError) as caught:
        parse(text, slash)

    assert dispatcher.pending(request) is None
    as_text = dispatcher.handle(request, to_text)
    as_blocks = dispatcher.handle(request, to_message)

    assert closed_engine.reached == before, "parsing reached for Docker"
    for reply in (as_text, as_blocks):
        assert not reply.ok and reply.command is None
        assert reply.result == Failure(caught.value.reason, caught.value.usage)
    assert as_text.message.startswith("error: ") and answer in as_text.message
    assert one_line(as_text.message), repr(as_text.message)
    assert as_blocks.message.is_error
    assert_valid_message(as_blocks.message)


CLI_CASES = [
    ("/ps ; rm x", "unexpected argument `;`"),
    ("/run --privileged nginx", "`--privileged` is not allowed"),
    ("/run -p 99999:1 nginx", "`99999` is not a valid host port"),
    ("/docker cp web:/etc/passwd .", "`cp` is not something Shipmate does"),
    ("/run busybox echo 'oops", "no closing quotation"),
    ("/logs --tail -5 web", "`--tail -5` is out of range"),
    ("/rm", "missing CONTAINER"),
]


def test_shipmate_local_refuses_in_one_line(tmp_path: Path) -> None:
    """`shipmate local` as a process: non-zero exit, one line on stderr, no traceback, nothing on stdout."""
    shipmate = Path(sys.executable).with_name("shipmate")
    assert shipmate.exists(), "the `shipmate` script is installed by `pip install -e .`"
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/docker.sock"}

    def start(line: str) -> subprocess.Popen[str]:
        command = [str(shipmate), "local", line]
        return subprocess.Popen(
            command, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    processes = [(line, answer, start(line)) for line, answer in CLI_CASES]  # side by side: each starts Python
    for line, answer, process in processes:
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 1, (line, stdout, stderr)
        assert stdout == "", line
        assert "Traceback" not in stderr, stderr
        assert stderr.endswith("\n") and stderr.count("\n") == 1, repr(stderr)
        assert stderr.startswith("error: ") and answer in stderr, (line, stderr)
