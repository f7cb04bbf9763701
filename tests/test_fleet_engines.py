"""Several engines at once, for real: the private engine (`staging`), a side engine reached over TCP with TLS and
client certificates generated here (`prod-1`), a side engine on its own socket (`prod-2`), a stopped one and a
hung one. Every check is made on the engines' own state and on the messages as Slack would get them."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from slack_sdk import WebClient

from bot.assembly import make_dispatcher
from bot.config import CoreSettings
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import ConfirmationRequest, ContainerTable, FleetAnswer, FromEngine
from bot.slack.delivery import Delivery, Origin
from bot.slack.listeners import Listeners
from bot.slack.work import WorkPools
from tests.blockkit import assert_valid_message
from tests.private_engine import PrivateEngine
from tests.side_engines import (
    Certificates,
    HungEngine,
    SideEngine,
    SSHGateway,
    containers_on,
    free_port,
    make_certificates,
)
from tests.signed_client import SignedClient
from tests.slack_user import SlackUser, asks_to_confirm, wait_until

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parent.parent
IMAGES = ("nginx:latest", "busybox:latest")
POLICY = """\
members:
  U0ADMIN: admin
  S0ONCALL: {"prod-*": operator, "*": viewer}
  U0INTERN: {staging: operator}
"""


@dataclass
class Side:
    certs: Certificates
    prod1: SideEngine  # TLS over tcp://127.0.0.1
    prod2: SideEngine

    def tls(self) -> dict:
        return {
            "tls": docker.tls.TLSConfig(
                client_cert=(str(self.certs.client_cert), str(self.certs.client_key)),
                ca_cert=str(self.certs.ca),
                verify=str(self.certs.ca),
            )
        }


@pytest.fixture(scope="module")
def side(engine: PrivateEngine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Side]:
    certs = make_certificates(tmp_path_factory.mktemp("certs"))
    prod1 = SideEngine(engine, IMAGES, tls=certs)
    prod2 = SideEngine(engine, IMAGES)
    try:
        prod1.start()
        prod2.start()
        yield Side(certs, prod1, prod2)
    finally:
        prod1.close()
        prod2.close()


@pytest.fixture
def fleet(clean_engine: PrivateEngine, side: Side, tmp_path: Path) -> Iterator[Path]:
    """engines.yml naming the three live engines; every engine starts the test empty."""
    side.prod1.reset()
    side.prod2.reset()
    c = side.certs
    path = tmp_path / "engines.yml"
    path.write_text(
        f"""\
default: staging
engines:
  staging: {{host: "{clean_engine.docker_host}", timeout: 5}}
  prod-1:
    host: "{side.prod1.tcp_host}"
    tls: {{ca: "{c.ca}", cert: "{c.client_cert}", key: "{c.client_key}"}}
    timeout: 5
  prod-2: {{host: "{side.prod2.docker_host}", timeout: 5}}
"""
    )
    yield path
    side.prod1.reset()
    side.prod2.reset()


def add_engines(path: Path, extra: str) -> None:
    path.write_text(path.read_text() + extra)
    os.utime(path, ns=(time.time_ns(), time.time_ns()))


@dataclass
class Bot:
    dispatcher: Dispatcher
    audit_db: Path

    def do(self, user: str, line: str, render=to_text) -> Reply:
        slash, _, text = line.partition(" ")
        return self.dispatcher.handle(Request(text=text, slash=slash, caller=caller(user)), render)


def caller(user: str) -> Caller:
    return Caller(user_id=user, team_id="T0TEAM", channel_id="C0OPS", user_name=user.lower())


class Groups:
    def members_of(self, group_id: str) -> frozenset[str]:
        return frozenset({"U0PAGER"}) if group_id == "S0ONCALL" else frozenset()


@pytest.fixture
def bot(fleet: Path, tmp_path: Path) -> Iterator[Bot]:
    (tmp_path / "policy.yml").write_text(POLICY)
    settings = CoreSettings(
        docker_host=None,
        docker_timeout=5,
        run_timeout=20,
        policy_path=tmp_path / "policy.yml",
        audit_db=tmp_path / "audit.db",
        confirm_secret=b"test-confirmation-secret-0123456789",
        engines_path=fleet,
    )
    dispatcher = make_dispatcher(settings, group_lookup=Groups())
    yield Bot(dispatcher, settings.audit_db)
    dispatcher.close()


def start_container(docker_host: str, name: str, line: str = "", **tls: object) -> None:
    """A container started behind Shipmate's back, printing one line, then sleeping."""
    client = docker.APIClient(base_url=docker_host, version="1.41", timeout=30, **tls)
    client.trust_env = False
    try:
        script = f"echo '{line or name}'; exec sleep 300"
        created = client.create_container("busybox:latest", ["sh", "-c", script], name=name)
        client.start(created["Id"])
    finally:
        client.close()


@pytest.fixture
def one_each(clean_engine: PrivateEngine, side: Side, fleet: Path) -> None:
    start_container(clean_engine.docker_host, "web-staging")
    start_container(side.prod1.tcp_host, "web-prod-1", **side.tls())
    start_container(side.prod2.docker_host, "web-prod-2", "hello from prod-2")


def test_a_command_runs_on_the_engine_it_names(bot: Bot, one_each: None, side: Side, clean_engine) -> None:
    listed = bot.do("U0ADMIN", "/docker --context prod-1 ps -a")
    assert isinstance(listed.result, FromEngine) and listed.result.engine == "prod-1", listed.message
    assert [row.name for row in listed.result.result.rows] == ["web-prod-1"], listed.message  # type: ignore[attr-defined]
    assert listed.message.startswith("prod-1 · ")
    default = bot.do("U0ADMIN", "/ps -a")
    assert [row.name for row in default.result.result.rows] == ["web-staging"]  # type: ignore[attr-defined]

    ran = bot.do("U0ADMIN", "/run --context prod-1 -d --name made-on-prod-1 nginx")
    assert ran.ok, ran.message
    assert "made-on-prod-1" in containers_on(side.prod1.tcp_host, **side.tls())
    assert "made-on-prod-1" not in containers_on(clean_engine.docker_host)
    blocks = to_message(ran.result)
    assert_valid_message(blocks.payload())
    assert "*prod-1* · " in str(blocks.blocks[0])


def test_a_read_on_several_engines_is_one_table_with_an_engine_column(bot: Bot, one_each: None) -> None:
    reply = bot.do("U0ADMIN", "/ps --context all -a")
    assert isinstance(reply.result, FleetAnswer) and reply.ok
    table = reply.result.merged
    assert isinstance(table, ContainerTable)
    assert [(row.engine, row.name) for row in table.rows] == [
        ("prod-1", "web-prod-1"),
        ("prod-2", "web-prod-2"),
        ("staging", "web-staging"),
    ]
    lines = reply.message.splitlines()
    assert lines[0].split()[:3] == ["ENGINE", "CONTAINER", "ID"]
    assert lines[1].startswith("prod-1 ") and lines[3].startswith("staging ")
    globbed = bot.do("U0ADMIN", "/docker -c prod-* ps -a")
    assert {row.engine for row in globbed.result.merged.rows} == {"prod-1", "prod-2"}  # type: ignore[union-attr]
    images = bot.do("U0ADMIN", "/img --context prod-1,prod-2 ls")
    assert {(row.engine, row.repository) for row in images.result.merged.rows} == {  # type: ignore[union-attr]
        (engine, repo) for engine in ("prod-1", "prod-2") for repo in ("nginx", "busybox")
    }


def test_buttons_act_on_the_engine_of_their_row(bot: Bot, one_each: None) -> None:
    message = to_message(bot.do("U0ADMIN", "/ps --context all -a").result)
    assert_valid_message(message.payload())
    logs_buttons = {
        element["value"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"].endswith("Logs")
    }
    assert logs_buttons == {f"--context {e} logs web-{e}" for e in ("prod-1", "prod-2", "staging")}
    clicked = bot.do("U0ADMIN", "/docker --context prod-2 logs web-prod-2")
    assert "hello from prod-2" in clicked.message


def test_an_engine_that_is_down_or_hung_is_one_line_and_the_others_answer(
    bot: Bot, one_each: None, fleet: Path, tmp_path: Path
) -> None:
    hung = HungEngine(tmp_path / "hung.sock")
    try:
        add_engines(
            fleet,
            f'  prod-down: {{host: "unix://{tmp_path}/nothing-here.sock", timeout: 2}}\n'
            f'  prod-hung: {{host: "{hung.docker_host}", timeout: 2}}\n',
        )
        started = time.monotonic()
        reply = bot.do("U0ADMIN", "/ps --context all -a")
        took = time.monotonic() - started
    finally:
        hung.close()
    assert took < 2 + 1, f"the answer waited {took:.1f} s for a hung engine with a 2 s timeout"
    assert isinstance(reply.result, FleetAnswer) and reply.ok
    assert {row.name for row in reply.result.merged.rows} == {"web-staging", "web-prod-1", "web-prod-2"}  # type: ignore[union-attr]
    missed = {miss.engine: miss.reason for miss in reply.result.unanswered}
    assert set(missed) == {"prod-down", "prod-hung"}
    assert "unreachable" in missed["prod-down"]
    assert "did not answer" in missed["prod-hung"]
    assert f"prod-down: {missed['prod-down']}" in reply.message.splitlines()


def test_an_engine_without_a_timeout_of_its_own_waits_shipmate_docker_timeout(
    one_each: None, fleet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SHIPMATE_DOCKER_TIMEOUT=1 and two hung engines that name no `timeout`, added after start-up (a reload):
    the fan-out answers after about a second, not after the built-in 10."""
    (tmp_path / "policy.yml").write_text(POLICY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHIPMATE_DOCKER_TIMEOUT", "1")
    monkeypatch.setenv("SHIPMATE_ENGINES", str(fleet))
    monkeypatch.setenv("SHIPMATE_POLICY", str(tmp_path / "policy.yml"))
    monkeypatch.setenv("SHIPMATE_AUDIT_DB", str(tmp_path / "audit.db"))
    monkeypatch.delenv("SHIPMATE_DATABASE_URL", raising=False)
    dispatcher = make_dispatcher(CoreSettings.from_env(), group_lookup=Groups())
    bot = Bot(dispatcher, tmp_path / "audit.db")
    hung = [HungEngine(tmp_path / f"hung-{n}.sock") for n in (1, 2)]
    try:
        assert bot.do("U0ADMIN", "/ps --context all -a").ok  # the file as it was at start-up is in force
        add_engines(fleet, "".join(f'  prod-hung-{n}: {{host: "{h.docker_host}"}}\n' for n, h in enumerate(hung, 1)))
        started = time.monotonic()
        reply = bot.do("U0ADMIN", "/ps --context all -a")
        took = time.monotonic() - started
    finally:
        for engine in hung:
            engine.close()
        dispatcher.close()
    assert took < 6, f"the answer waited {took:.1f} s for hung engines with SHIPMATE_DOCKER_TIMEOUT=1"
    assert isinstance(reply.result, FleetAnswer) and reply.ok
    assert {row.name for row in reply.result.merged.rows} == {"web-staging", "web-prod-1", "web-prod-2"}  # type: ignore[union-attr]
    missed = {miss.engine: miss.reason for miss in reply.result.unanswered}
    assert set(missed) == {"prod-hung-1", "prod-hung-2"}
    assert all("did not answer" in why for why in missed.values()), missed


def test_a_slack_request_keeps_the_engine_it_names(bot: Bot, one_each: None) -> None:
    """The Slack adapter adds its progress hook to a request on its way to the dispatcher: the engine the request
    names (its `context`) goes along, and the answer comes from that engine, not the default one."""
    pools = WorkPools(quick_workers=1, slow_workers=1)
    listeners = Listeners(bot.dispatcher, Delivery(WebClient(base_url="http://127.0.0.1:9/"), False), pools)
    request = Request(text="ps -a", caller=caller("U0ADMIN"), context="prod-2")
    origin = Origin(request.caller.user_id, request.caller.channel_id, None, "/docker ps -a")
    try:
        _, answer = listeners._submit(request, origin, slow=False, run=listeners._handle)
        reply = answer.result(timeout=60)
    finally:
        pools.shutdown(grace_seconds=5)
    assert isinstance(reply.result, FromEngine) and reply.result.engine == "prod-2", reply.message.text
    assert [row.name for row in reply.result.result.rows] == ["web-prod-2"]  # type: ignore[attr-defined]


def create_containers(docker_host: str, prefix: str, count: int, **tls: object) -> None:
    client = docker.APIClient(base_url=docker_host, version="1.41", timeout=30, **tls)
    client.trust_env = False
    try:
        for index in range(count):
            client.create_container("busybox:latest", ["true"], name=f"{prefix}-{index}")
    finally:
        client.close()


def test_a_cut_fan_out_table_says_how_many_rows_each_engine_has(
    bot: Bot, one_each: None, side: Side, clean_engine: PrivateEngine
) -> None:
    create_containers(side.prod1.tcp_host, "extra-prod-1", 10, **side.tls())
    create_containers(side.prod2.docker_host, "extra-prod-2", 11)
    own = {
        "prod-1": len(containers_on(side.prod1.tcp_host, **side.tls())),
        "prod-2": len(containers_on(side.prod2.docker_host)),
        "staging": len(containers_on(clean_engine.docker_host)),
    }
    assert own == {"prod-1": 11, "prod-2": 12, "staging": 1}
    reply = bot.do("U0ADMIN", "/ps --context all -a", render=to_message)
    assert isinstance(reply.result, FleetAnswer) and reply.ok
    payload = reply.message.payload()
    assert_valid_message(payload)
    shown = {
        button["value"].split()[1]  # "--context ENGINE …"
        for block in payload["blocks"]
        if block["type"] == "actions"
        for button in block["elements"]
    }
    assert "staging" not in shown, "more rows than fit: staging's come last and are cut"
    assert payload["text"] == "24 containers (prod-1 11 · prod-2 12 · staging 1)"
    assert payload["blocks"][0]["text"]["text"].startswith(f"*{payload['text']}*")
    whole = bot.do("U0ADMIN", "/ps --context prod-2,staging -a", render=to_message).message
    assert whole.text == "13 containers", "a table shown whole needs no count per engine"


def test_a_change_names_exactly_one_engine(bot: Bot, one_each: None, side: Side) -> None:
    refused = bot.do("U0ADMIN", "/rm --context prod-* -f web-prod-2")
    assert not refused.ok
    assert refused.message == (
        "error: name one engine for `container.rm`: `--context prod-*` names prod-1, prod-2 — e.g. `--context prod-1`"
    )
    assert "web-prod-2" in containers_on(side.prod2.docker_host)
    follow = bot.do("U0ADMIN", "/logs --context prod-* -f web-prod-2")  # slow work runs on one engine too
    assert follow.message.startswith("error: name one engine for `container.logs`: `--context prod-*` names")
    unknown = bot.do("U0ADMIN", "/ps --context prod-9")
    assert (
        unknown.message == "error: `prod-9` is not an engine; engines: staging, prod-1, prod-2 (did you mean `prod-2`?)"
    )


def test_roles_differ_per_engine(bot: Bot, one_each: None, side: Side, clean_engine) -> None:
    refused = bot.do("U0PAGER", "/run -d --name pager-web nginx")
    assert refused.message == "error: you are viewer on staging; `container.run` needs operator"
    allowed = bot.do("U0PAGER", "/run --context prod-2 -d --name pager-web nginx")
    assert allowed.ok, allowed.message
    assert "pager-web" in containers_on(side.prod2.docker_host)
    assert "pager-web" not in containers_on(clean_engine.docker_host)

    intern = bot.do("U0INTERN", "/ps --context all -a")
    assert isinstance(intern.result, FleetAnswer)
    assert {row.engine for row in intern.result.merged.rows} == {"staging"}  # type: ignore[union-attr]
    assert intern.result.left_out == ("prod-1", "prod-2")
    assert "left out (your role does not allow this there): prod-1, prod-2" in intern.message
    nowhere = bot.do("U0INTERN", "/ps --context prod-2")
    assert nowhere.message.startswith("error: you have no Shipmate role on prod-2")
    whoami = bot.do("U0PAGER", "/docker whoami")
    assert "on staging: viewer" in whoami.message and "on prod-2: operator" in whoami.message


def test_a_confirmation_runs_on_the_engine_it_was_asked_for(
    bot: Bot, one_each: None, side: Side, clean_engine, fleet: Path
) -> None:
    start_container(clean_engine.docker_host, "twin")
    start_container(side.prod2.docker_host, "twin")
    asked = bot.do("U0ADMIN", "/rm --context prod-2 twin")
    assert isinstance(asked.result, ConfirmationRequest)
    assert asked.result.command == "/docker --context prod-2 rm -f twin"
    assert asked.result.summary.endswith("on `prod-2`")
    fleet.write_text(fleet.read_text().replace("default: staging", "default: prod-1"))  # the default moves meanwhile
    os.utime(fleet, ns=(time.time_ns(), time.time_ns()))
    done = bot.dispatcher.confirm(asked.result.token, caller("U0ADMIN"), to_text)
    assert done.ok, done.message
    assert "twin" not in containers_on(side.prod2.docker_host)
    assert "twin" in containers_on(clean_engine.docker_host)


def test_audit_records_name_their_engine(bot: Bot, one_each: None) -> None:
    bot.do("U0ADMIN", "/ps --context prod-2 -a")
    bot.do("U0ADMIN", "/ps -a")
    bot.do("U0ADMIN", "/ps --context prod-* -a")
    records = bot.dispatcher.audit.latest(limit=10)  # type: ignore[union-attr]
    assert [(r.command, r.engine) for r in reversed(records)] == [
        ("/ps --context prod-2 -a", "prod-2"),
        ("/ps -a", "staging"),
        ("/ps --context prod-* -a", "prod-1,prod-2"),
    ]
    trail = bot.do("U0ADMIN", "/docker audit --context prod-2")
    rows = trail.message.splitlines()[2:]
    assert [row.split()[2] for row in rows] == ["prod-1,prod-2", "prod-2"]  # newest first, only prod-2's


def test_context_ls_checks_every_engine(bot: Bot, one_each: None, fleet: Path, tmp_path: Path, side: Side) -> None:
    add_engines(fleet, f'  prod-down: {{host: "unix://{tmp_path}/nothing-here.sock", timeout: 2}}\n')
    reply = bot.do("U0ADMIN", "/docker context ls")
    rows = {row.name: row for row in reply.result.rows}  # type: ignore[attr-defined]
    assert list(rows) == ["staging", "prod-1", "prod-2", "prod-down"]
    assert rows["staging"].default and not rows["prod-1"].default
    truth = docker.APIClient(base_url=side.prod1.tcp_host, version="1.41", **side.tls())
    truth.trust_env = False
    info = truth.info()
    assert (rows["prod-1"].reachable, rows["prod-1"].detail) == (True, info["ServerVersion"])
    assert (rows["prod-1"].running, rows["prod-1"].total) == (info["ContainersRunning"], info["Containers"]) == (1, 1)
    assert not rows["prod-down"].reachable and "unreachable" in rows["prod-down"].detail
    assert "NAME" in reply.message and "staging *" in reply.message
    message = to_message(reply.result)
    assert_valid_message(message.payload())


def test_a_tls_engine_trusts_its_own_ca_only(
    bot: Bot, one_each: None, fleet: Path, side: Side, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")  # would replace the engine's CA
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert bot.do("U0ADMIN", "/ps --context prod-1 -a").ok
    stranger = make_certificates(tmp_path / "stranger", "stranger")
    add_engines(
        fleet,
        f'  prod-1-bad-ca:\n    host: "{side.prod1.tcp_host}"\n'
        f'    tls: {{ca: "{stranger.ca}", cert: "{stranger.client_cert}", key: "{stranger.client_key}"}}\n',
    )
    refused = bot.do("U0ADMIN", "/ps --context prod-1-bad-ca")
    assert not refused.ok
    assert f"TLS with the Docker engine at {side.prod1.tcp_host} failed (certificate verify failed" in refused.message


def test_local_mode_takes_context(fleet: Path, one_each: None, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SHIPMATE_ENGINES": str(fleet),
        "PYTHONPATH": str(REPO),
        "SHIPMATE_AUDIT_DB": str(tmp_path / "local.db"),
    }
    run = [sys.executable, "-m", "bot", "local"]
    named = subprocess.run([*run, "--context", "prod-2", "/ps -a"], env=env, capture_output=True, text=True, timeout=60)
    assert named.returncode == 0, named.stderr
    assert named.stdout.startswith("prod-2 · ") and "web-prod-2" in named.stdout and "web-staging" not in named.stdout
    env["SHIPMATE_CONTEXT"] = "staging,prod-1"
    default = subprocess.run([*run, "/ps -a"], env=env, capture_output=True, text=True, timeout=60)
    assert default.returncode == 0, default.stderr
    assert "web-staging" in default.stdout and "web-prod-1" in default.stdout and "web-prod-2" not in default.stdout


def test_over_slack_rows_and_buttons_and_confirmations_keep_their_engine(
    bot_server, slack, signing_secret, fleet: Path, one_each: None, side: Side, clean_engine, tmp_path: Path
) -> None:
    (tmp_path / "slack-policy.yml").write_text(POLICY)
    running = bot_server(
        SHIPMATE_ENGINES=str(fleet),
        SHIPMATE_POLICY=str(tmp_path / "slack-policy.yml"),
        SHIPMATE_AUDIT_DB=str(tmp_path / "slack-audit.db"),
    )
    user = SlackUser(SignedClient(running.url, signing_secret), slack, "U0ADMIN")
    listing = user.answer("/ps", "--context all -a")
    assert_valid_message(listing)
    assert "prod-2" in str(listing["blocks"]) and "web-staging" in str(listing["blocks"])
    logs = user.click(listing, "shipmate.command:--context prod-2 logs web-prod-2")
    assert "hello from prod-2" in str(logs)
    assert "prod-2" in logs["text"]

    start_container(clean_engine.docker_host, "twin")
    start_container(side.prod2.docker_host, "twin")
    asked = user.answer("/rm", "--context prod-2 twin")
    assert asks_to_confirm(asked) and "on `prod-2`" in str(asked["blocks"])
    user.click(asked, "shipmate.confirm")
    wait_until(lambda: "twin" not in containers_on(side.prod2.docker_host), 30, "twin removed from prod-2")
    assert "twin" in containers_on(clean_engine.docker_host)


def test_an_engine_over_ssh(
    bot: Bot, one_each: None, fleet: Path, side: Side, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = SSHGateway(tmp_path / "ssh", side.prod2.docker_host)
    try:
        monkeypatch.setenv("PATH", f"{gateway.bin}:{os.environ['PATH']}")
        add_engines(fleet, f'  prod-ssh: {{host: "{gateway.url}", timeout: 10}}\n')
        reply = bot.do("U0ADMIN", "/ps --context prod-ssh -a")
        assert reply.ok, reply.message
        assert [row.name for row in reply.result.result.rows] == ["web-prod-2"]  # type: ignore[attr-defined]
        contexts = bot.do("U0ADMIN", "/docker context ls")
        assert f"ssh://•••@127.0.0.1:{gateway.port}" in contexts.message and "root@" not in contexts.message
        add_engines(fleet, f'  prod-ssh-down: {{host: "ssh://root@127.0.0.1:{free_port()}", timeout: 5}}\n')
        refused = bot.do("U0ADMIN", "/ps --context prod-ssh-down")
        assert not refused.ok and "ssh could not connect" in refused.message  # not "is dockerd running?"
    finally:
        gateway.close()
