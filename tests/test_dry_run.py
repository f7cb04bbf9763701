"""Dry runs (issue 18): `--dry-run` on every change-making command executes nothing and answers what would happen
and the verdict for this caller; reads refuse the option. Against the real private engine, every Engine API call a
dry run makes goes through a counting proxy: only GET and HEAD, and the engine's state is unchanged."""

import contextlib
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import docker
import docker.errors
import docker.types
import pytest

from bot.assembly import make_dispatcher
from bot.audit import AuditLog
from bot.config import CoreSettings
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.engine import Context, Engine, execute
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL
from bot.engine.preview import foresee
from bot.engine.targets import ContainerFacts
from bot.grammar import COMMANDS, SLASH_COMMANDS, Command, Help, ParseError, parse, parse_line
from bot.grammar.commands import ContainerRemove
from bot.grammar.spec import registered
from bot.policy import LocalAdmin, PolicyAuthorizer, PolicySource
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import ConfirmationRequest, Preview, PreviewTarget, Verdict, VerdictKind
from tests.blockkit import assert_valid_message
from tests.counting_proxy import CountingProxy
from tests.private_engine import PrivateEngine
from tests.signed_client import SignedClient
from tests.swarm import remove_services
from tests.test_grammar import SPELLINGS
from tests.test_slack_e2e import Conversation, text_of

_SPELLED = {words for spec in registered() for words in spec.spellings}


def _with_option(slash: str, text: str, option: list[str]) -> str:
    """The line with `option` right after the command's words (where a command's options go, before `run`'s IMAGE)."""
    tokens = shlex.split(text)
    front = (
        2 if tokens[:1] in (["--context"], ["-c"]) else 1 if tokens[:1] and tokens[0].startswith("--context=") else 0
    )
    context, tokens = tokens[:front], tokens[front:]
    implied = list(SLASH_COMMANDS[slash])
    at = max(size for size in range(len(tokens) + 1) if tuple(implied + tokens[:size]) in _SPELLED)
    return shlex.join([*context, *tokens[:at], *option, *tokens[at:]])


_COMMANDS = [(slash, text, want) for slash, text, want in SPELLINGS if not isinstance(want, Help)]
_CHANGES = [entry for entry in _COMMANDS if entry[2].changes]
_READS = [entry for entry in _COMMANDS if not entry[2].changes]


@pytest.mark.parametrize(("slash", "text", "want"), _CHANGES, ids=[f"{s} {t}" for s, t, _ in _CHANGES])
def test_every_change_accepts_dry_run_and_break_glass(slash: str, text: str, want: Command) -> None:
    assert parse(_with_option(slash, text, ["--dry-run"]), slash) == replace(want, dry_run=True)
    glass = _with_option(slash, text, ["--break-glass", "INC-4411: the site is down"])
    assert parse(glass, slash) == replace(want, break_glass="INC-4411: the site is down")
    assert parse(_with_option(slash, text, ["--dry-run", "--break-glass=INC-1"]), slash) == replace(
        want, dry_run=True, break_glass="INC-1"
    )


@pytest.mark.parametrize(("slash", "text", "want"), _READS, ids=[f"{s} {t}" for s, t, _ in _READS])
def test_a_read_refuses_dry_run_in_one_line(slash: str, text: str, want: Command) -> None:
    with pytest.raises(ParseError) as refused:
        parse(_with_option(slash, text, ["--dry-run"]), slash)
    assert "changes nothing: --dry-run is for commands that change something" in refused.value.reason
    with pytest.raises(ParseError) as glass:
        parse(_with_option(slash, text, ["--break-glass", "why"]), slash)
    assert "changes nothing: --break-glass is for commands that change something" in glass.value.reason


def test_the_briefs_spellings() -> None:
    assert parse("--dry-run -d --name web nginx", "/run").dry_run
    assert parse("--context prod-1 rm -f --dry-run web", "/docker") == ContainerRemove(
        containers=("web",), force=True, context="prod-1", dry_run=True
    )
    assert parse("update --dry-run --image nginx:1.27 web", "/service").dry_run
    assert parse("image prune --dry-run", "/docker").dry_run
    with pytest.raises(ParseError) as refused:
        parse("-a --dry-run", "/ps")
    assert refused.value.reason == "`ps` changes nothing: --dry-run is for commands that change something"


def test_every_change_making_command_has_a_preview_of_its_own() -> None:
    """A new change needs a `@foresee.register` (bot/engine/preview.py) saying what it would create or change."""
    for command in (c for c in COMMANDS if c.changes):
        assert foresee.dispatch(command) is not foresee.registry[object], f"no preview for {command.__name__}"


def test_help_tells_of_dry_run() -> None:
    overview = to_text(execute(Help(), Context(engine=Engine("unix:///nonexistent/docker.sock"))))  # never called
    assert "COMMAND --dry-run …" in overview and "nothing is done" in overview


def test_after_runs_image_the_words_are_the_containers_command() -> None:
    run = parse("busybox echo --dry-run --break-glass x", "/run")
    assert run.command == ("echo", "--dry-run", "--break-glass", "x") and not run.dry_run and run.break_glass is None


def test_break_glass_needs_a_reason() -> None:
    with pytest.raises(ParseError) as empty:
        parse("rm --break-glass '' web", "/docker")
    assert empty.value.reason.startswith("`--break-glass` needs a reason")
    with pytest.raises(ParseError) as missing:
        parse("rm web --break-glass", "/docker")
    assert missing.value.reason == "`--break-glass` needs a value"


BECAUSE_POLICY = """\
roles:
  viewer: [container.ls, container.inspect]
  operator: [viewer, container.run, container.stop, container.rm:own, container.exec, container.ls:own]
  admin: ["*"]
members:
  U0ADMIN: admin
  S0ONCALL: operator
  "*": viewer
channels: [C0OPS]
images: [busybox, "nginx:1.*"]
exec:
  operator: ["nginx -t"]
"""


class _Groups:
    def members_of(self, group_id: str) -> frozenset[str]:
        return frozenset({"U0PAGER"}) if group_id == "S0ONCALL" else frozenset()


def _because(tmp_path: Path, user: str, line: str, *containers: ContainerFacts) -> str:
    (tmp_path / "policy.yml").write_text(BECAUSE_POLICY)
    by_name = {facts.name: facts for facts in containers}
    authorizer = PolicyAuthorizer(
        PolicySource(tmp_path / "policy.yml"), _Groups(), lambda engine, refs: {ref: by_name.get(ref) for ref in refs}
    )
    decision = authorizer.authorize(parse_line(line), Caller(user_id=user, team_id=TEAM, channel_id="C0OPS"))
    assert decision.allowed, decision.reason
    return decision.because


def test_an_allowed_decision_says_which_rule_allowed_it(tmp_path: Path) -> None:
    mine = ContainerFacts("c0ffee" * 10 + "abcd", "web1", "running", "U0PAGER", TEAM, ("web1",))
    assert _because(tmp_path, "U0PAGER", "/run -d nginx:1.27") == (
        "role operator grants `container.run` (members: S0ONCALL); `nginx:1.27` is on the image allowlist as `nginx:1.*`"
    )
    assert _because(tmp_path, "U0PAGER", "/rm -f web1", mine) == (
        "role operator grants `container.rm:own` (members: S0ONCALL), and you started `web1`"
    )
    assert _because(tmp_path, "U0PAGER", "/docker exec web1 nginx -t", mine) == (
        "role operator grants `container.exec` (members: S0ONCALL); exec rule `nginx -t` of role operator allows"
        " this command line"
    )
    assert _because(tmp_path, "U0ADMIN", "/rm -f web1", mine) == "role admin grants `container.rm` (members: U0ADMIN)"
    assert _because(tmp_path, "U0NEW", "/ps") == "role viewer grants `container.ls` (members: everyone (`*`))"
    assert _because(tmp_path, "U0NEW", "/docker help") == "`help` is open to everyone"
    assert LocalAdmin().authorize(parse_line("/rm -f web1"), Caller()).because.startswith("local mode without --user")


# -- against the real private engine, every Engine API call counted -------------------------------------------

POLICY = """\
roles:
  viewer: [image.ls, container.ls, container.inspect]
  operator: [viewer, container.run, container.start, container.stop, container.rm:own, service.update]
  admin: ["*"]
members:
  U0ADMIN: admin
  U0OPER: operator
  U0VIEW: viewer
channels: [C0OPS]
images: [nginx, busybox]
run:
  memory: 64m
  cpus: 0.5
"""
TEAM = "T0TEAM"
VOLUMES = ("dry-data", "kept-data", "free-data")


@dataclass
class DryBot:
    dispatcher: Dispatcher
    proxy: CountingProxy
    api: docker.APIClient
    audit_db: Path

    def do(self, user: str, line: str) -> Reply:
        slash, _, text = line.partition(" ")
        caller = Caller(user_id=user, team_id=TEAM, channel_id="C0OPS", user_name=user.lower())
        self.proxy.reset()
        reply = self.dispatcher.handle(Request(text=text, slash=slash, caller=caller), to_message)
        assert_valid_message(reply.message)
        assert self.proxy.unframed == 0
        return reply

    def preview(self, user: str, line: str) -> Preview:
        """A dry run's answer, with proof that it changed nothing: only GET and HEAD reached the engine."""
        reply = self.do(user, line)
        assert isinstance(reply.result, Preview), reply.result
        assert reply.command is None  # answered like a read: to the requester, not the channel
        assert self.proxy.calls and self.proxy.changing() == [], self.proxy.calls
        return reply.result

    def decisions(self) -> list[tuple[str, str, str]]:
        assert self.dispatcher.audit is not None and self.dispatcher.audit.flush()
        reopened = AuditLog(self.audit_db)
        try:
            return [(r.user_id, r.command, r.decision) for r in reversed(reopened.latest(limit=200))]
        finally:
            reopened.close()


def _make_bot(engine: PrivateEngine, tmp_path: Path, policy: str = POLICY) -> DryBot:
    (tmp_path / "policy.yml").write_text(policy)
    proxy = CountingProxy(engine.docker_host.removeprefix("unix://"), tmp_path / "counted.sock").start()
    settings = CoreSettings(
        docker_host=proxy.docker_host,
        docker_timeout=30,
        run_timeout=20,
        policy_path=tmp_path / "policy.yml",
        audit_db=tmp_path / "audit.db",
        confirm_secret=b"test-confirmation-secret-0123456789",
        confirm_ttl=90,
    )
    return DryBot(make_dispatcher(settings), proxy, engine.api(), settings.audit_db)


@pytest.fixture
def bot(clean_engine: PrivateEngine, tmp_path: Path) -> Iterator[DryBot]:
    made = _make_bot(clean_engine, tmp_path)
    yield made
    made.dispatcher.close()
    made.proxy.close()
    clean_engine.reset()
    for volume in VOLUMES:  # the rest of the suite expects no volumes of ours
        with contextlib.suppress(docker.errors.NotFound):
            made.api.remove_volume(volume)
    made.api.close()


def _start(api: docker.APIClient, name: str, owner: str = "U0OPER") -> str:
    labels = {OWNER_LABEL: owner, TEAM_LABEL: TEAM}
    created = api.create_container("nginx:latest", name=name, labels=labels)
    api.start(created["Id"])
    return created["Id"]


def _changes(preview: Preview) -> dict[str, str]:
    return dict(preview.changes)


@pytest.mark.engine
def test_a_dry_run_of_run_names_image_digest_masked_env_limits_and_labels_and_creates_nothing(bot: DryBot) -> None:
    line = "/run --dry-run -d --name web -e DB_PASSWORD=hunter2 -e COLOR=blue -p 8080:80 nginx"
    preview = bot.preview("U0OPER", line)
    local = bot.api.inspect_image("nginx:latest")
    digest = local["RepoDigests"][0].partition("@")[2]
    changes = _changes(preview)
    assert changes["image"] == f"nginx — present locally: {digest}"
    assert changes["env"] == "DB_PASSWORD=••••, COLOR=blue"
    assert changes["-p"] == "8080→80/tcp"
    assert (changes["--memory"], changes["--cpus"]) == ("64m", "0.5")
    assert changes["--label"] == f"{OWNER_LABEL}=U0OPER, {TEAM_LABEL}={TEAM}"
    assert preview.verdict == Verdict(
        VerdictKind.ALLOWED,
        "role operator grants `container.run` (members: U0OPER); `nginx` is on the image allowlist as `nginx`",
    )
    assert "hunter2" not in to_text(preview) and "hunter2" not in str(to_message(preview).payload())
    assert bot.api.containers(all=True) == []
    assert any(path.endswith("/images/nginx/json") for path in bot.proxy.paths()), bot.proxy.calls
    # an image not here yet: the registry's digest, asked without pulling
    elsewhere = _changes(bot.preview("U0OPER", "/run --dry-run --name web nginx:1.25"))
    assert elsewhere["image"].startswith("nginx:1.25 — pulled first: the registry serves sha256:"), elsewhere
    with pytest.raises(docker.errors.ImageNotFound):
        bot.api.inspect_image("nginx:1.25")
    assert [decision for _, _, decision in bot.decisions()] == ["dry-run", "dry-run"]


@pytest.mark.engine
def test_a_dry_run_of_rm_f_and_stop_names_the_ids_and_leaves_them_running(bot: DryBot) -> None:
    web = _start(bot.api, "web")
    removal = bot.preview("U0OPER", "/docker rm -f --dry-run web")
    assert removal.targets == (PreviewTarget("web", web, "running"),)
    assert removal.changes == (("rm -f web", "stopped (SIGKILL), then removed"),)
    assert removal.verdict.kind is VerdictKind.ASKS_FIRST
    assert removal.verdict.reason == (
        "remove container `web`, which is running: it will be stopped first"
        " — role operator grants `container.rm:own` (members: U0OPER), and you started `web`"
    )
    stop = bot.preview("U0OPER", "/docker stop --dry-run web")
    assert stop.targets == (PreviewTarget("web", web, "running"),)
    assert stop.verdict == Verdict(VerdictKind.ALLOWED, "role operator grants `container.stop` (members: U0OPER)")
    data = bot.api.inspect_container("web")
    assert data["Id"] == web and data["State"]["Running"]
    # confirming shows the same preview: what people confirm is what runs
    asked = bot.do("U0OPER", "/docker rm -f web")
    assert isinstance(asked.result, ConfirmationRequest) and asked.result.preview is not None
    assert asked.result.preview.targets == removal.targets and asked.result.preview.changes == removal.changes
    assert f"web ({web[:12]}): running" in to_text(asked.result)
    assert bot.api.inspect_container("web")["State"]["Running"]


@pytest.mark.engine
def test_a_refused_caller_sees_the_refusal_as_the_verdict(bot: DryBot, tmp_path: Path) -> None:
    web = _start(bot.api, "web", owner="U0ADMIN")
    mine_not = bot.preview("U0OPER", "/docker rm -f --dry-run web")
    assert mine_not.verdict.kind is VerdictKind.REFUSED
    assert "you may act only on containers you started, and `web` was started by U0ADMIN" in mine_not.verdict.reason
    assert mine_not.targets == (PreviewTarget("web", web, "running"),)
    viewer = bot.preview("U0VIEW", "/docker stop --dry-run web")
    assert viewer.verdict == Verdict(VerdictKind.REFUSED, "you are viewer; `container.stop` needs operator")
    # no role at all on this engine: only the refusal, and nothing looked up on the engine for them
    bot.proxy.reset()
    nobody = bot.do("U0NOBODY", "/docker rm -f --dry-run web").result
    assert isinstance(nobody, Preview) and nobody.targets == () and nobody.changes == ()
    assert nobody.verdict.kind is VerdictKind.REFUSED and nobody.verdict.reason.startswith("you have no Shipmate role")
    assert not any("/containers" in path for path in bot.proxy.paths()), bot.proxy.calls
    assert bot.api.inspect_container("web")["State"]["Running"]
    assert [decision for _, _, decision in bot.decisions()] == ["dry-run", "dry-run", "dry-run"]


@pytest.mark.engine
def test_a_dry_run_of_prunes_lists_exactly_what_would_go_and_removes_nothing(bot: DryBot) -> None:
    bot.api.create_volume("dry-data")
    stopped = bot.api.create_container("busybox:latest", name="stopped-one")["Id"]
    images = {image["Id"] for image in bot.api.images()}
    container_prune = bot.preview("U0ADMIN", "/docker container prune --dry-run")
    assert [(t.name, t.id) for t in container_prune.targets] == [("stopped-one", stopped[:12])]
    assert container_prune.verdict.kind is VerdictKind.ASKS_FIRST
    volumes = bot.preview("U0ADMIN", "/docker volume prune --dry-run -a")
    assert "dry-data" in [target.name for target in volumes.targets]
    assert _changes(volumes)["prune"].startswith("remove ")
    pruned_images = bot.preview("U0ADMIN", "/docker image prune --dry-run -a")
    assert pruned_images.targets and pruned_images.verdict.kind is VerdictKind.ASKS_FIRST
    assert "role admin grants `image.prune`" in pruned_images.verdict.reason
    assert {image["Id"] for image in bot.api.images()} == images
    assert bot.api.inspect_volume("dry-data")["Name"] == "dry-data"
    assert bot.api.inspect_container("stopped-one")["Id"] == stopped


@pytest.mark.engine
def test_a_dry_run_of_volume_rm_says_a_volume_in_use_would_be_refused(bot: DryBot) -> None:
    bot.api.create_volume("kept-data")
    bot.api.create_container(
        "busybox:latest", name="holder", host_config=bot.api.create_host_config(binds=["kept-data:/data"])
    )
    bot.api.create_volume("free-data")
    preview = bot.preview("U0ADMIN", "/docker volume rm --dry-run kept-data")
    assert preview.targets == (
        PreviewTarget("kept-data", "kept-data", "local volume, used by holder (created): refused"),
    )
    assert preview.verdict.kind is VerdictKind.REFUSED and "holder" in preview.verdict.reason
    free = bot.preview("U0ADMIN", "/docker volume rm --dry-run free-data")
    assert free.changes == (("volume rm free-data", "removed with the data in it"),)
    assert free.verdict.kind is VerdictKind.ASKS_FIRST
    assert {v["Name"] for v in bot.api.volumes()["Volumes"]} >= {"kept-data", "free-data"}


@pytest.mark.engine
def test_a_dry_run_of_service_update_shows_old_to_new_and_changes_no_spec(swarm: PrivateEngine, tmp_path: Path) -> None:
    bot = _make_bot(swarm, tmp_path)
    try:
        service = bot.api.create_service(
            docker.types.TaskTemplate(
                docker.types.ContainerSpec("nginx:latest", env=["MODE=blue", "API_TOKEN=old-secret"])
            ),
            name="dry-web",
            mode=docker.types.ServiceMode("replicated", 0),
            labels={OWNER_LABEL: "U0OPER", TEAM_LABEL: TEAM},
        )
        version = bot.api.inspect_service(service["ID"])["Version"]["Index"]
        line = "/service update --dry-run --image busybox:latest --env-add API_TOKEN=new-secret --replicas 2 dry-web"
        preview = bot.preview("U0ADMIN", line)
        assert preview.targets == (PreviewTarget("dry-web", service["ID"], "0 replicas"),)
        assert preview.changes == (
            ("--image", "nginx:latest → busybox:latest"),
            ("env API_TOKEN", "•••• → ••••"),
            ("--replicas", "0 → 2"),
        )
        assert preview.verdict == Verdict(
            VerdictKind.ALLOWED,
            "role admin grants `service.update` (members: U0ADMIN); `busybox:latest` is on the image allowlist as `busybox`",
        )
        assert "secret" not in to_text(preview)
        after = bot.api.inspect_service(service["ID"])
        assert after["Version"]["Index"] == version and "PreviousSpec" not in after
    finally:
        bot.dispatcher.close()
        bot.proxy.close()
        remove_services(bot.api)  # the swarm lives on for the module's next test
        bot.api.close()


# -- over signed HTTP, the real server ---------------------------------------------------------------------------


@pytest.mark.engine
def test_run_dry_run_over_signed_http_answers_ephemerally_and_is_audited(
    bot_server, signing_secret, slack, clean_engine: PrivateEngine, tmp_path: Path
) -> None:
    (tmp_path / "policy.yml").write_text(POLICY)
    server = bot_server(SHIPMATE_POLICY=str(tmp_path / "policy.yml"), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"))
    chat = Conversation(SignedClient(server.url, signing_secret), slack)
    answer = chat.answer("/run", "--dry-run -d --name web -e API_TOKEN=hunter2 nginx", user_id="U0OPER")
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer)
    assert "dry run of" in shown and "nothing was done" in shown and "would run" in shown
    assert "API_TOKEN=••••" in shown and "hunter2" not in shown
    assert f"{OWNER_LABEL}=U0OPER" in shown and "--memory: 64m" in shown
    assert clean_engine.api().containers(all=True) == []
    assert slack.calls("chat.postMessage") == []  # not posted to the channel, nor to an audit channel
    reopened = AuditLog(tmp_path / "audit.db")
    try:
        deadline = time.monotonic() + 10
        while not (records := reopened.latest(limit=10)) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        reopened.close()
    assert [(r.user_id, r.action, r.decision, r.outcome) for r in records] == [
        ("U0OPER", "container.run", "dry-run", "ok")
    ]
    assert "hunter2" not in records[0].command and records[0].detail.startswith("would run: role operator grants")


EVERY_CHANGE = (
    "/img pull --dry-run nginx:1.25",
    "/img rm --dry-run nginx:latest",
    "/run --dry-run busybox echo hi",
    "/docker start --dry-run web",
    "/docker stop --dry-run web",
    "/docker restart --dry-run web",
    "/rm --dry-run -f web",
    "/docker exec --dry-run web nginx -t",
    "/docker container prune --dry-run",
    "/docker image prune --dry-run -a",
    "/docker volume prune --dry-run -a",
    "/docker volume rm --dry-run dry-data",
    "/service create --dry-run --name dry-api -e API_KEY=k busybox",
    "/service scale --dry-run dry-web=3",
    "/service update --dry-run --force dry-web",
    "/service rollback --dry-run dry-web",
    "/service rm --dry-run dry-web",
    "/docker update-image --dry-run web",
    "/compose restart --dry-run shop",
    "/compose stop --dry-run shop",
    "/compose start --dry-run shop",
)


def _state(api: docker.APIClient) -> tuple[object, ...]:
    """Everything a change could alter, as the engine reports it."""
    containers = sorted((c["Id"], c["State"], c["Status"].split()[0]) for c in api.containers(all=True))
    images = sorted(image["Id"] for image in api.images(all=True))
    volumes = sorted(volume["Name"] for volume in api.volumes()["Volumes"] or ())
    services = sorted((s["ID"], s["Version"]["Index"]) for s in api.services())
    return containers, images, volumes, services


@pytest.mark.engine
def test_every_change_commands_dry_run_makes_only_reads_and_changes_nothing(
    swarm: PrivateEngine, tmp_path: Path
) -> None:
    assert {type(parse_line(line)) for line in EVERY_CHANGE} == {c for c in COMMANDS if c.changes}
    bot = _make_bot(swarm, tmp_path)
    try:
        _start(bot.api, "web")
        compose = {"com.docker.compose.project": "shop", "com.docker.compose.service": "api"}
        compose["com.docker.compose.oneoff"] = "False"
        bot.api.start(bot.api.create_container("nginx:latest", name="shop-api-1", labels=compose)["Id"])
        bot.api.create_volume("dry-data")
        bot.api.create_service(
            docker.types.TaskTemplate(docker.types.ContainerSpec("nginx:latest")),
            name="dry-web",
            mode=docker.types.ServiceMode("replicated", 0),
        )
        before = _state(bot.api)
        for line in EVERY_CHANGE:
            preview = bot.preview("U0ADMIN", line)
            assert preview.verdict.reason, line
            assert preview.targets or preview.changes, line
            assert "engine" not in dict(preview.changes), (line, preview.changes)  # the engine answered every read
        shop = bot.preview("U0ADMIN", "/compose stop --dry-run shop")
        assert [target.name for target in shop.targets] == ["shop-api-1"]
        image = bot.preview("U0ADMIN", "/img rm --dry-run nginx:latest")
        assert image.changes == (
            ("image rm nginx:latest", "refused by docker: containers use it (-f removes it anyway)"),
        )
        assert _state(bot.api) == before
    finally:
        bot.dispatcher.close()
        bot.proxy.close()
        swarm.reset()
        remove_services(bot.api)
        bot.api.remove_volume("dry-data")
        bot.api.close()
