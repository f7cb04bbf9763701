"""The engines file, `--context` selection and per-engine roles, without an engine: every mistake is one line
naming the file and line, and selection and roles follow the rules the README gives."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, CoreSettings
from bot.engine.client import Engine
from bot.engine.spec import public_host
from bot.engine.ssh_relay import ssh_argv
from bot.fleet.engines import Fleet, UnknownEngine
from bot.fleet.load import EnginesError, load_engines, parse_engines
from bot.grammar import ParseError, parse
from bot.policy import PolicyAuthorizer, PolicySource
from tests.test_policy import FakeGroups, FakeTargets, who

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("not checked until connecting\n")
    return tmp_path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "engines.yml"
    path.write_text(text)
    return path


FLEET = """\
default: staging
engines:
  staging: {host: "unix:///var/run/docker.sock"}
  prod-1:  {host: "tcp://10.0.0.5:2376", tls: {ca: ca.pem, cert: cert.pem, key: key.pem}}
  prod-2:  {host: "ssh://deploy@10.0.0.6"}
  edge-1:  {host: "tcp://10.0.9.1:2376", tls: {ca: ca.pem, cert: cert.pem, key: key.pem}, timeout: 20}
"""


def test_the_engines_file_loads(tmp_path: Path, certs: Path) -> None:
    spec = load_engines(write(tmp_path, FLEET))
    assert spec.default == "staging"
    assert spec.names == ("staging", "prod-1", "prod-2", "edge-1")
    assert spec.spec("edge-1").timeout == 20 and spec.spec("prod-1").timeout == 10
    tls = spec.spec("prod-1").tls
    assert tls is not None and tls.ca == certs / "ca.pem" and tls.verify  # relative to the file
    assert spec.spec("prod-2").shown_host == "ssh://•••@10.0.0.6"


def test_the_example_engines_file_is_valid(tmp_path: Path) -> None:
    text = (REPO / "engines.example.yml").read_text()
    for name in ("ca.pem", "cert.pem", "key.pem"):  # the example names files under /etc/shipmate
        text = text.replace(f"/etc/shipmate/{name}", str(tmp_path / name))
        (tmp_path / name).write_text("x")
    spec = parse_engines(text, tmp_path / "engines.yml")
    assert spec.default in spec.names and len(spec.names) >= 3


BAD = [
    ("engines:\n  Prod: {host: 'unix:///x.sock'}\n", 2, "`Prod` cannot name an engine"),
    ("engines:\n  all: {host: 'unix:///x.sock'}\n", 2, "cannot name an engine"),
    ("engines:\n  a: {host: 'unix:///x.sock', hots: 1}\n", 2, "unknown key `a.hots`"),
    ("engines:\n  a: {timeout: 5}\n", 2, "`a` has no `host`"),
    ("engines:\n  a:\n", 2, "`a` has no host"),
    ("engines:\n  a: {host: '10.0.0.5:2376'}\n", 2, "is not an engine address"),
    ("engines:\n  a: {host: 'unix:///x.sock', timeout: 0}\n", 2, "`a.timeout` is out of range"),
    ("default: b\nengines:\n  a: {host: 'unix:///x.sock'}\n", 1, "`default: b` names no engine"),
    ("engines:\n  a: {host: 'unix:///a'}\n  b: {host: 'unix:///b'}\n", 1, "say which engine"),
    ("engine:\n  a: {host: 'unix:///a'}\n", 1, "unknown key `engine`"),
    ("engines:\n  a: {host: 'unix:///a'}\n  a: {host: 'unix:///b'}\n", 3, "`a` appears twice"),
    ("engines:\n  a: {host: 'tcp://h:2376', tls: {cert: cert.pem, key: key.pem}}\n", 2, "has no `ca`"),
    ("engines:\n  a: {host: 'tcp://h:2376', tls: {ca: nope.pem}}\n", 2, "`a.tls.ca`"),
    ("engines:\n  a: {host: 'tcp://h:2376', tls: {ca: ca.pem, cert: cert.pem}}\n", 2, "give both `cert` and `key`"),
    ("engines:\n  a: {host: 'unix:///x', tls: {ca: ca.pem}}\n", 2, "applies only to a `tcp://` host"),
    ("engines:\n  a: {host: 'tcp://h:2376', tls: {verify: maybe}}\n", 2, "must be true or false"),
    ("engines: [a, b\n", 2, "not valid YAML"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD)
def test_a_mistake_is_one_line_naming_file_and_line(
    tmp_path: Path, certs: Path, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(EnginesError) as raised:
        load_engines(path)
    message = str(raised.value)
    assert message.startswith(f"{path}, line {line}: ") and words in message, message
    assert "\n" not in message


def test_verify_false_only_when_spelled_out(tmp_path: Path, certs: Path) -> None:
    path = write(
        tmp_path, "engines:\n  a: {host: 'tcp://h:2376', tls: {cert: cert.pem, key: key.pem, verify: false}}\n"
    )
    tls = load_engines(path).spec("a").tls
    assert tls is not None and tls.verify is False and tls.ca is None


def test_an_unreadable_certificate_is_named(tmp_path: Path, certs: Path) -> None:
    (certs / "key.pem").chmod(0)
    path = write(tmp_path, "engines:\n  a: {host: 'tcp://h:2376', tls: {ca: ca.pem, cert: cert.pem, key: key.pem}}\n")
    if os.access(certs / "key.pem", os.R_OK):  # root reads anything: make it a directory instead
        (certs / "key.pem").unlink()
        (certs / "key.pem").mkdir()
    with pytest.raises(EnginesError, match=r"line 2: `a.tls.key` `.*key.pem` cannot be read"):
        load_engines(path)


def test_without_a_file_one_engine_named_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHIPMATE_ENGINES", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/elsewhere.sock")
    settings = CoreSettings.from_env()
    assert settings.engines_path is None
    fleet = Fleet(settings.engines_path, settings.docker_host)
    assert fleet.names == ("default",) and not fleet.several
    assert fleet.engine("default").docker_host == "unix:///tmp/elsewhere.sock"


def test_engines_yml_beside_the_env_is_found_and_a_named_file_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHIPMATE_ENGINES", raising=False)
    (tmp_path / ".env").write_text("")
    write(tmp_path, "engines:\n  a: {host: 'unix:///a'}\n")
    assert CoreSettings.from_env().engines_path == tmp_path / "engines.yml"
    monkeypatch.setenv("SHIPMATE_ENGINES", str(tmp_path / "missing.yml"))
    with pytest.raises(ConfigError, match=r"SHIPMATE_ENGINES=.*missing.yml: no such file"):
        CoreSettings.from_env()


def test_a_broken_engines_file_stops_local_mode_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "engines:\n  a: {host: 'unix:///a', port: 1}\n")
    env = {**os.environ, "SHIPMATE_ENGINES": str(path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "local", "/ps"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"shipmate: configuration error: {path}, line 2: unknown key `a.port`: use host, tls, timeout"
    ]


def test_selection_by_name_list_glob_and_all(tmp_path: Path, certs: Path) -> None:
    fleet = Fleet(write(tmp_path, FLEET))
    assert fleet.select(None).engines == ("staging",)
    assert fleet.select("prod-2").engines == ("prod-2",)
    assert fleet.select("prod-2,staging").engines == ("staging", "prod-2")  # file order
    assert fleet.select("prod-*").engines == ("prod-1", "prod-2")
    assert fleet.select("all").engines == ("staging", "prod-1", "prod-2", "edge-1")
    with pytest.raises(UnknownEngine) as raised:
        fleet.select("prod-9")
    assert (
        str(raised.value)
        == "`prod-9` is not an engine; engines: staging, prod-1, prod-2, edge-1 (did you mean `prod-2`?)"
    )
    with pytest.raises(UnknownEngine, match="`db-\\*` matches no engine"):
        fleet.select("db-*")
    assert raised.value.plain == "`prod-9` is not an engine"  # for callers without a role: no names
    with pytest.raises(UnknownEngine) as empty:
        fleet.select("")
    assert empty.value.plain == "`--context` needs an engine name" and "staging" in str(empty.value)


def test_the_file_is_reloaded_when_it_changes(tmp_path: Path, certs: Path) -> None:
    path = write(tmp_path, FLEET)
    fleet = Fleet(path)
    first = fleet.engine("staging")
    path.write_text(FLEET.replace("default: staging", "default: prod-2") + "  extra: {host: 'unix:///e.sock'}\n")
    os.utime(path, ns=(1, 1))  # a different mtime, however fast the test runs
    assert fleet.default == "prod-2" and "extra" in fleet.names
    assert fleet.engine("staging") is first  # unchanged entries keep their client
    path.write_text("engines: [broken\n")
    assert fleet.default == "prod-2"  # a broken edit keeps what was loaded


def test_an_engine_without_a_timeout_takes_the_fleets_on_every_reload(tmp_path: Path, certs: Path) -> None:
    path = write(tmp_path, FLEET)
    fleet = Fleet(path, timeout=3)  # SHIPMATE_DOCKER_TIMEOUT=3
    assert [spec.timeout for spec in fleet.spec.engines] == [3, 3, 3, 20]
    path.write_text(FLEET + "  extra: {host: 'unix:///e.sock'}\n")
    os.utime(path, ns=(1, 1))
    assert fleet.names[-1] == "extra"
    assert [spec.timeout for spec in fleet.spec.engines] == [3, 3, 3, 20, 3]
    assert fleet.engine("extra").timeout == 3


@pytest.mark.parametrize(
    ("text", "slash", "context", "rest"),
    [
        ("--context prod-1 ps -a", "/docker", "prod-1", "ContainerList"),
        ("-c prod-1 logs web", "/docker", "prod-1", "ContainerLogs"),
        ("--context=prod-* -a", "/ps", "prod-*", "ContainerList"),
        ("--context prod-1,prod-2 ls", "/img", "prod-1,prod-2", "ImageList"),
        ("--context staging -d --name web nginx", "/run", "staging", "ContainerRun"),
        ("--context prod-2 --tail 20 web", "/logs", "prod-2", "ContainerLogs"),
        ("context ls", "/docker", None, "ContextList"),
    ],
)
def test_context_is_docker_global_option(text: str, slash: str, context: str | None, rest: str) -> None:
    command = parse(text, slash)
    assert command.context == context and type(command).__name__ == rest


@pytest.mark.parametrize(
    ("text", "slash", "words"),
    [
        ("-c prod-1 -a", "/ps", "unknown flag `-c`"),  # the short form only before a /docker command
        ("--context", "/docker", "`--context` needs an engine"),
        ("--context 'a;b' ps", "/docker", "is not an engine name"),
    ],
)
def test_bad_context_is_one_line(text: str, slash: str, words: str) -> None:
    with pytest.raises(ParseError, match=words):
        parse(text, slash)


def test_hosts_are_shown_without_credentials() -> None:
    assert public_host("ssh://deploy:hunter2@10.0.0.6:22") == "ssh://•••@10.0.0.6:22"
    assert public_host("tcp://10.0.0.5:2376") == "tcp://10.0.0.5:2376"
    engine = Engine("ssh://deploy:hunter2@10.0.0.6", name="prod-2")
    assert engine.docker_host == "ssh://•••@10.0.0.6" and "hunter2" not in engine.docker_host
    # The system ssh, with its keys and known_hosts, never sees the password: tests/test_ssh_relay.py runs it.
    assert ssh_argv("ssh://deploy:hunter2@10.0.0.6")[:5] == ["ssh", "-l", "deploy", "--", "10.0.0.6"]


PER_ENGINE_POLICY = """\
members:
  U0ADMIN: admin
  S0ONCALL: {"prod-*": operator, "*": viewer}
  U0INTERN: {staging: operator}
  U0MIXED: {prod-1: viewer, "prod-*": admin}
  "*": viewer
"""


def test_roles_per_engine(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(PER_ENGINE_POLICY)
    auth = PolicyAuthorizer(PolicySource(policy), FakeGroups({"S0ONCALL": {"U0PAGER"}}), FakeTargets())
    run = parse("-d nginx", "/run")
    assert auth.authorize(run, who("U0PAGER"), "prod-1").allowed
    refused = auth.authorize(run, who("U0PAGER"), "staging")
    assert not refused.allowed and refused.reason == "you are viewer on staging; `container.run` needs operator"
    assert auth.authorize(run, who("U0INTERN"), "staging").allowed
    nothing = auth.authorize(parse("-a", "/ps"), who("U0INTERN"), "prod-1")  # "*" is for users nobody names
    assert not nothing.allowed and nothing.reason.startswith("you have no Shipmate role on prod-1")
    assert auth.authorize(parse("rm -f x", "/docker"), who("U0MIXED"), "prod-2").allowed  # admin on prod-*
    assert not auth.authorize(parse("rm -f x", "/docker"), who("U0MIXED"), "prod-1").allowed  # the exact name wins
    identity = auth.identity(who("U0PAGER"), ("staging", "prod-1"))
    assert identity.per_engine == (("staging", ("viewer",)), ("prod-1", ("operator",)))


@pytest.mark.parametrize(
    ("members", "line", "words"),
    [
        ('  U0A: {"Prod": operator}\n', 3, "`Prod` is not an engine name or pattern"),
        ("  U0A: {prod-1: wizard}\n", 3, "unknown role `wizard`"),
        ("  U0A: {}\n", 3, "`U0A` has no role"),
    ],
)
def test_per_engine_member_mistakes_name_their_line(tmp_path: Path, members: str, line: int, words: str) -> None:
    from bot.policy import PolicyError, load_policy

    policy = tmp_path / "policy.yml"
    policy.write_text("roles: {operator: [container.ls]}\nmembers:\n" + members)
    with pytest.raises(PolicyError, match=f"line {line}: .*{words}"):
        load_policy(policy)
