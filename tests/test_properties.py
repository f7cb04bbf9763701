"""Properties of the grammar over any text: a Command or a one-line ParseError, and never a Docker call.

Deterministic in CI (CI=true derandomizes); elsewhere each run explores new examples.
"""

import os
import re
import shlex
import string
import unicodedata
from dataclasses import fields, is_dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dispatcher import Dispatcher, Request
from bot.grammar import SLASH_COMMANDS, ParseError, parse
from bot.grammar.commands import Command, ContainerRun, PortMapping
from bot.render.terminal import to_text
from bot.results import Failure

PROPERTY = settings(
    max_examples=500,
    deadline=None,
    derandomize=os.environ.get("CI", "").lower() == "true",
    suppress_health_check=[HealthCheck.too_slow],
)

# Words the grammar knows, values it checks, and the characters that break naive parsers.
VOCABULARY = [
    *("ls", "list", "ps", "rm", "rmi", "run", "logs", "inspect", "pull", "images", "image", "container"),
    *("start", "stop", "restart", "help", "exec", "system", "prune", "whoami", "policy", "audit"),
    *("--help", "-h", "-a", "--all", "-f", "--filter", "--force", "-d", "--detach", "--name", "--name=web"),
    *("-e", "--env", "-eA=b", "-e=A=b", "--env=A=b", "-p", "--publish", "-p=80:80", "--rm", "--tail", "-n"),
    *("--since", "--user", "--limit", "--privileged", "-v", "-it", "--network", "--", "-", "-x", "--x=1"),
    *("nginx", "busybox:latest", "nginx@sha256:" + "a" * 64, "127.0.0.1:5000/app:v1", "web1", "/web1", "3f4e5d6c7b8a"),
    *("status=exited", "name=web", "exited=0", "A=b", "DB_PASSWORD=x", "=x", "A", "8080:80", "127.0.0.1:80:80/udp"),
    *("1:2:3:4", "99999:1", ":", "10m", "1h30m", "5", "-5", "all", "10000000", "\u00b2", "\u0663"),
    *(";", "&&", "|", ">", "$(id)", "`id`", "'", '"', "\\", "\u201c", "\u201d", "\u2018", "\u2014", "\u2013"),
    *("&amp;", "&lt;", "&gt;", "<http://x.io|x.io>", "<mailto:a@b.c>", "<!channel>", "<@U123>", "\u00a0"),
    *("\x00", "\t", "\n", "\r", "\x1b", "\u2028", "\x85", "\ufeff", "🐳", "\u0301"),
]

any_text = st.text(max_size=300)
docker_ish = st.lists(st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=8)), max_size=14).map(" ".join)
command_text = st.one_of(any_text, docker_ish)
slash_command = st.sampled_from(sorted(SLASH_COMMANDS))

_CONTAINER = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def _strings(value: object):
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _strings(item)
    elif is_dataclass(value):
        for field in fields(value):
            yield from _strings(getattr(value, field.name))


def _one_line(message: str) -> bool:
    return "\n" not in message and len(message.splitlines()) <= 1


@PROPERTY
@given(slash=slash_command, text=command_text)
def test_any_text_is_a_command_or_a_one_line_parse_error(slash: str, text: str) -> None:
    try:
        command = parse(text, slash)
    except ParseError as error:
        assert error.reason.strip(), "an empty reason tells nobody anything"
        assert _one_line(str(error)), repr(str(error))
        return
    assert isinstance(command, Command)
    # What parses is safe to hand Docker: no control characters but the whitespace a shell script may hold,
    # and targets are docker container names.
    for value in _strings(command):
        assert all(unicodedata.category(c) != "Cc" or c in "\t\n\r" for c in value), repr(value)
    for target in command.targets():
        assert _CONTAINER.fullmatch(target), target


@PROPERTY
@given(slash=st.text(max_size=12), text=any_text)
def test_any_slash_command_is_answered(slash: str, text: str) -> None:
    try:
        parse(text, slash)
    except ParseError as error:
        assert _one_line(str(error))
        if slash not in SLASH_COMMANDS:
            assert "is not a Shipmate command" in error.reason


class RecordingEngine:
    """Stands in for the Engine and records anything asked of it: every such ask would be a Docker call."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> object:
        self.asked.append(name)
        raise AssertionError(f"the engine was asked for `{name}`")


@PROPERTY
@given(slash=slash_command, text=command_text)
def test_parsing_never_touches_docker(slash: str, text: str) -> None:
    engine = RecordingEngine()
    dispatcher = Dispatcher(engine)  # type: ignore[arg-type]
    request = Request(text=text, slash=slash)
    parsed = dispatcher.parse(request)
    dispatcher.pending(request)
    if isinstance(parsed, Failure):
        reply = dispatcher.handle(request, to_text)  # a refusal is answered without the engine
        assert reply.result == parsed and _one_line(reply.message)
    assert engine.asked == []


# -- whatever a person can mean with `run`, they can type, and it parses back to what they meant ----------

ALNUM = string.ascii_letters + string.digits
# (st.from_regex is far slower than building from alphabets)
names = st.builds(str.__add__, st.sampled_from(ALNUM), st.text(ALNUM + "_.-", max_size=30))
env_names = st.builds(str.__add__, st.sampled_from(string.ascii_letters + "_"), st.text(ALNUM + "_", max_size=15))
# Slack's clean-up rewrites smart quotes, dashes, no-break spaces, entities and <links>; those cannot be typed as-is.
typeable = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="“”„‟‘’‚‛«»–—\u00a0&<>")
env_values = st.text(typeable, max_size=30)
ports = st.builds(
    PortMapping,
    host_port=st.integers(1, 65535),
    container_port=st.integers(1, 65535),
    protocol=st.sampled_from(["tcp", "udp"]),
    host_ip=st.sampled_from(["", "127.0.0.1", "0.0.0.0"]),
)
images = st.sampled_from(["nginx", "busybox:1.36", "127.0.0.1:5000/team/app:v2", "devwikirepo/envnodecolorapp"])
argv = st.lists(st.text(typeable, min_size=1, max_size=12), max_size=5)


def _flag_forms(flag: str, value: str) -> st.SearchStrategy[list[str]]:
    """The spellings docker accepts for one valued flag."""
    short = {"--env": "-e", "--publish": "-p"}.get(flag)
    forms = [[flag, value], [f"{flag}={value}"]]
    if short:
        forms += [[short, value], [f"{short}={value}"], [f"{short}{value}"]]
    return st.sampled_from(forms)


@st.composite
def run_lines(draw: st.DrawFn) -> tuple[str, ContainerRun]:
    image = draw(images)
    name = draw(st.none() | names)
    env = tuple(draw(st.lists(st.tuples(env_names, env_values), max_size=4)))
    port_list = draw(st.lists(ports, max_size=3, unique_by=lambda p: (p.host_ip, p.host_port, p.protocol)))
    detach, remove = draw(st.booleans()), draw(st.booleans())
    command = tuple(draw(argv))
    options: list[list[str]] = []
    if detach:
        options.append([draw(st.sampled_from(["-d", "--detach"]))])
    if remove:
        options.append(["--rm"])
    if name is not None:
        options.append(draw(_flag_forms("--name", name)))
    env_options = [draw(_flag_forms("--env", f"{key}={value}")) for key, value in env]
    port_options = []
    for port in port_list:
        host = f"{port.host_ip}:{port.host_port}" if port.host_ip else str(port.host_port)
        suffix = draw(st.sampled_from([f"/{port.protocol}"] if port.protocol == "udp" else ["", "/tcp"]))
        port_options.append(draw(_flag_forms("--publish", f"{host}:{port.container_port}{suffix}")))
    # env and ports keep their relative order (it is the order Docker gets them in); the rest moves freely
    ordered = draw(st.permutations(options)) + env_options + port_options
    words = [word for option in ordered for word in option]
    line = shlex.join([*words, image, *command])
    expected = ContainerRun(
        image=image, command=command, name=name, env=env, ports=tuple(port_list), detach=detach, remove=remove
    )
    return line, expected


@PROPERTY
@given(case=run_lines())
def test_every_run_a_person_can_type_parses_to_what_they_meant(case: tuple[str, ContainerRun]) -> None:
    line, expected = case
    assert parse(line, "/run") == expected
    assert parse(f"run {line}", "/docker") == expected
