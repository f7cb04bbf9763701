"""Privilege end to end: a role never reaches more than its actions. The Dispatcher as `make_dispatcher` wires it,
against the private engine (and a one-node swarm on it for services), user groups from the Slack stand-in over
HTTP; every check is made on the engine's real state and on the audit database."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.types
import pytest
from slack_sdk import WebClient

from bot.assembly import make_dispatcher
from bot.audit import AuditLog, AuditRecord
from bot.config import CoreSettings
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.engine.containers import OWNER_LABEL
from bot.engine.holdings import container_holdings
from bot.policy import GroupLookup
from bot.render.blocks import to_message
from bot.results import (
    ConfirmationRequest,
    Convergences,
    Failure,
    FromEngine,
    Identity,
    LogText,
    Outcomes,
    PullDone,
    RunDone,
)
from bot.slack.groups import SlackGroups
from tests.blockkit import assert_valid_message
from tests.private_engine import PrivateEngine
from tests.slack_standin import SlackStandin

pytestmark = pytest.mark.engine

# No `roles:` key: the standard viewer, operator and admin roles.
STANDARD = """\
members:
  U0ADMIN: admin
  U0OPER: operator
  U0OPER2: operator
  U0VIEW: viewer
images: [nginx, busybox]
"""
TEAM = "T0TEAM"
SECRET = b"test-confirmation-secret-0123456789"
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]


@dataclass
class Bot:
    dispatcher: Dispatcher
    audit_db: Path

    def do(self, user: str, line: str) -> Reply:
        slash, _, text = line.partition(" ")
        caller = Caller(user_id=user, team_id=TEAM, channel_id="C0OPS", user_name=user.lower())
        reply = self.dispatcher.handle(Request(text=text, slash=slash, caller=caller), to_message)
        assert_valid_message(reply.message)
        return reply

    def confirm(self, reply: Reply, user: str) -> Reply:
        assert isinstance(reply.result, ConfirmationRequest), reply.result
        caller = Caller(user_id=user, team_id=TEAM, channel_id="C0OPS", user_name=user.lower())
        return self.dispatcher.confirm(reply.result.token, caller, to_message)

    def records(self) -> list[AuditRecord]:
        assert self.dispatcher.audit is not None and self.dispatcher.audit.flush()
        reopened = AuditLog(self.audit_db)
        try:
            return list(reversed(reopened.latest(limit=200)))
        finally:
            reopened.close()


@pytest.fixture
def make_bot(tmp_path: Path) -> Iterator:
    made: list[Dispatcher] = []

    def make(
        engine: PrivateEngine, policy: str = STANDARD, engines: str | None = None, groups: GroupLookup | None = None
    ) -> Bot:
        directory = tmp_path / f"bot-{len(made)}"
        directory.mkdir()
        (directory / "policy.yml").write_text(policy)
        engines_path = None
        if engines is not None:
            engines_path = directory / "engines.yml"
            engines_path.write_text(engines)
        settings = CoreSettings(
            docker_host=engine.docker_host,
            docker_timeout=30,
            run_timeout=20,
            policy_path=directory / "policy.yml",
            audit_db=directory / "audit.db",
            confirm_secret=SECRET,
            engines_path=engines_path,
            converge_timeout=60,
        )
        dispatcher = make_dispatcher(settings, group_lookup=groups)
        made.append(dispatcher)
        return Bot(dispatcher, settings.audit_db)

    yield make
    for dispatcher in made:
        dispatcher.close()


def _reason(reply: Reply) -> str:
    assert isinstance(reply.result, Failure), reply.result
    return reply.result.reason


# -- 4: every name a container has -------------------------------------------------------------------


def test_a_container_known_by_a_legacy_link_name_is_checked_and_asked_about(clean_engine, make_bot) -> None:
    api = clean_engine.api()
    db = api.create_container("busybox:latest", SLEEPER, name="db")
    api.start(db["Id"])
    app = api.create_container(
        "busybox:latest", SLEEPER, name="app", host_config=api.create_host_config(links={"db": "db"})
    )
    api.start(app["Id"])
    (listed,) = api.containers(filters={"id": db["Id"]})
    assert listed["Names"][0] == "/app/db" and "/db" in listed["Names"]  # the link name comes first
    bot = make_bot(clean_engine)

    refused = bot.do("U0OPER", "/rm -f db")  # container.rm:own, and `db` was started by no one through Shipmate
    assert "you may act only on containers you started, and `db` was not started through Shipmate" in _reason(refused)
    asked = bot.do("U0ADMIN", "/rm -f db")
    assert isinstance(asked.result, ConfirmationRequest) and asked.result.summary.startswith("remove container `db`")
    assert api.inspect_container("db")["State"]["Running"]  # nothing reached Docker before the click
    assert bot.confirm(asked, "U0ADMIN").ok
    assert not api.containers(all=True, filters={"id": db["Id"]})
    # the Confirm's change is recorded twice: "started" before Docker sees it, then its outcome
    assert [(r.decision, r.outcome == "started") for r in bot.records()] == [
        ("refused", False),
        ("confirm", False),
        ("confirmed", True),
        ("confirmed", False),
    ]
    api.close()


def test_what_a_container_holds_is_read_from_its_real_config(clean_engine) -> None:
    """The same check for containers, for a change that keeps a container's config: read from the engine."""
    api = clean_engine.api()
    config = api.create_host_config(binds=["/tmp:/host-tmp:ro"], cap_add=["NET_ADMIN"], pid_mode="host")
    held = api.create_container("busybox:latest", SLEEPER, name="holder", host_config=config)
    plain = api.create_container("busybox:latest", SLEEPER, name="plain")
    assert container_holdings(api.inspect_container(held["Id"])) == (
        "a bind mount of /tmp",
        "capability NET_ADMIN",
        "the host's PID namespace",
    )
    assert container_holdings(api.inspect_container(plain["Id"])) == ()
    api.close()


# -- 3: digests are part of the reference ------------------------------------------------------------------


def _nginx(api: docker.APIClient) -> str:
    (digest,) = [ref.partition("@")[2] for ref in api.inspect_image("nginx:latest")["RepoDigests"]]
    return digest


def test_a_tag_pinned_entry_refuses_any_digest_for_pull_and_run(clean_engine, make_bot) -> None:
    api = clean_engine.api()
    digest = _nginx(api)
    before = sorted(image["Id"] for image in api.images())
    bot = make_bot(clean_engine, "members:\n  U0ADMIN: admin\nimages: ['nginx:1.25', busybox]\n")
    for line in (f"/img pull nginx:1.25@{digest}", f"/run -d --name pinned nginx:1.25@{digest}"):
        assert _reason(bot.do("U0ADMIN", line)) == (
            f"`nginx:1.25@{digest}` is not on the image allowlist (nginx:1.25, busybox)"
        ), line
    assert sorted(image["Id"] for image in api.images()) == before and not api.containers(all=True)
    api.close()


def test_a_digest_is_pulled_and_run_as_written(clean_engine, make_bot) -> None:
    api = clean_engine.api()
    digest = _nginx(api)
    image_id = api.inspect_image("nginx:latest")["Id"]
    bot = make_bot(clean_engine, "members:\n  U0ADMIN: admin\nimages: [nginx, busybox]\n")
    try:
        api.remove_image(image_id, force=True)
        missing = bot.do("U0ADMIN", f"/img pull nginx:1.25@sha256:{'0' * 64}")  # the tag exists; this content not
        assert isinstance(missing.result, Failure) and not api.images(name="nginx"), missing.result
        pulled = bot.do("U0ADMIN", f"/img pull nginx:1.25@{digest}")
        assert isinstance(pulled.result, PullDone) and pulled.result.reference == f"nginx:1.25@{digest}"
        data = api.inspect_image(f"nginx@{digest}")
        assert data["Id"] == image_id and "nginx:1.25" not in (data["RepoTags"] or [])  # the digest, not the tag

        api.remove_image(image_id, force=True)
        ran = bot.do("U0ADMIN", f"/run -d --name by-digest nginx:1.25@{digest}")
        assert isinstance(ran.result, RunDone) and ran.result.pulled, ran.result
        container = api.inspect_container("by-digest")
        assert container["Image"] == image_id and container["Config"]["Image"] == f"nginx:1.25@{digest}"
        assert not api.images(name="nginx:1.25")
    finally:
        clean_engine.reset()
        api.pull("nginx", tag="latest")  # as the engine started: other tests expect nginx:latest at hand
        api.close()


# -- 5: a failed user-group lookup fails closed -------------------------------------------------------------


def test_a_failed_group_lookup_refuses_instead_of_falling_back_to_everyone(
    clean_engine, make_bot, slack: SlackStandin
) -> None:
    policy = "members:\n  S0ONCALL: viewer\n  '*': operator\nimages: [nginx, busybox]\n"
    slack.usergroups["S0ONCALL"] = ["U0PAGER"]
    groups = SlackGroups(WebClient(base_url=slack.api_url, token=slack.bot_token, timeout=5), ttl=0.5)
    bot = make_bot(clean_engine, policy, groups=groups)
    slack.fail("usergroups.users.list", status=500)
    refused = bot.do("U0PAGER", "/run -d --name paged nginx")
    assert _reason(refused) == "could not check your user groups; try again"
    assert not clean_engine.api().containers(all=True)  # not the "*" entry's operator
    whoami = bot.do("U0PAGER", "/docker whoami")
    assert isinstance(whoami.result, Identity) and whoami.result.roles == ()
    time.sleep(0.15)  # the failure is remembered briefly; then Slack answers again
    assert _reason(bot.do("U0PAGER", "/run -d --name paged nginx")) == "you are viewer; `container.run` needs operator"
    (record, *_) = bot.records()
    assert (record.user_id, record.decision, record.detail) == (
        "U0PAGER",
        "refused",
        "could not check your user groups; try again",
    )


# -- 6 and 7: engine names, and buttons that name their engine ------------------------------------------------


def _engines(engine: PrivateEngine) -> str:
    return (
        "default: elsewhere\n"
        "engines:\n"
        "  elsewhere: {host: 'unix:///nonexistent/docker.sock', timeout: 2}\n"
        f"  default: {{host: '{engine.docker_host}'}}\n"
    )


def test_engine_names_are_told_only_to_callers_with_a_role(clean_engine, make_bot) -> None:
    bot = make_bot(clean_engine, "members:\n  U0VIEW: viewer\n", engines=_engines(clean_engine))
    assert _reason(bot.do("U0STRANGER", "/ps --context nope")) == "`nope` is not an engine"
    assert _reason(bot.do("U0STRANGER", "/rm --context all -f web")) == (
        "name one engine for `container.rm`: `--context all` names several"
    )
    stranger = bot.do("U0STRANGER", "/docker whoami")
    assert isinstance(stranger.result, Identity) and stranger.result.per_engine == ()
    assert "elsewhere" not in str(stranger.message.payload())
    assert _reason(bot.do("U0VIEW", "/ps --context nope")).startswith(
        "`nope` is not an engine; engines: elsewhere, default"
    )
    viewer = bot.do("U0VIEW", "/docker whoami")
    assert [engine for engine, _ in viewer.result.per_engine] == ["elsewhere", "default"]
    assert [r.decision for r in bot.records()][:2] == ["invalid", "invalid"]


def _command_buttons(reply: Reply) -> list[str]:
    return [
        element["value"]
        for block in reply.message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].startswith("shipmate.command:")
    ]


def test_buttons_made_with_one_engine_still_act_on_it_after_an_engines_file_appears(clean_engine, make_bot) -> None:
    api = clean_engine.api()
    created = api.create_container("busybox:latest", ["sh", "-c", "echo from the default engine; exec sleep 600"],
                                   name="web1", labels={OWNER_LABEL: "U0OPER"})  # fmt: skip
    api.start(created["Id"])
    alone = make_bot(clean_engine)  # no engines file: one engine, named `default`
    buttons = _command_buttons(alone.do("U0OPER", "/ps -a"))
    assert buttons and all(value.startswith("--context default ") for value in buttons), buttons
    asked = alone.do("U0OPER", "/rm -f web1")
    assert isinstance(asked.result, ConfirmationRequest)
    assert asked.result.command == "/docker --context default rm -f web1"

    later = make_bot(clean_engine, engines=_engines(clean_engine))  # now the default is another engine
    assert later.dispatcher.fleet.default == "elsewhere"
    (logs,) = [value for value in buttons if value.startswith("--context default logs ")]
    clicked = later.do("U0OPER", f"/docker {logs}")
    assert isinstance(clicked.result, FromEngine) and clicked.result.engine == "default"
    assert isinstance(clicked.result.result, LogText) and "from the default engine" in clicked.result.result.text
    unbound = later.do("U0OPER", "/docker logs web1").result  # without `--context`: the default of now
    assert isinstance(unbound, FromEngine) and unbound.engine == "elsewhere" and isinstance(unbound.result, Failure)
    removed = later.confirm(asked, "U0OPER")  # the same secret: a Confirm from before the file
    assert isinstance(removed.result, FromEngine) and isinstance(removed.result.result, Outcomes) and removed.ok
    assert not api.containers(all=True)
    api.close()


# -- 1 and 2: services (a one-node swarm) ------------------------------------------------------------------


def _service(api: docker.APIClient, name: str, image: str = "busybox", replicas: int = 0, **spec) -> str:
    labels = spec.pop("labels", None)
    template = docker.types.TaskTemplate(docker.types.ContainerSpec(image, args=SLEEPER, **spec))
    created = api.create_service(
        template, name=name, labels=labels, mode=docker.types.ServiceMode("replicated", replicas)
    )
    return created["ID"]


def _container_spec(api: docker.APIClient, name: str, key: str = "Spec") -> dict:
    return api.inspect_service(name)[key]["TaskTemplate"]["ContainerSpec"]


def test_a_service_holding_the_docker_socket_is_changed_only_by_admins(swarm, make_bot) -> None:
    api = swarm.api()
    socket = docker.types.Mount("/var/run/docker.sock", "/var/run/docker.sock", type="bind")
    _service(api, "sockweb", mounts=[socket], cap_add=["NET_ADMIN"])
    _service(api, "theirs", labels={OWNER_LABEL: "U0OPER2", "io.shipmate.team": TEAM})
    bot = make_bot(swarm)
    try:
        for line in ("update --env-add X=1 sockweb", "update --image busybox:latest sockweb", "rollback sockweb"):
            assert _reason(bot.do("U0OPER", f"/service {line}")) == (
                "sockweb holds a bind mount of /var/run/docker.sock and capability NET_ADMIN: only admins may change it"
            ), line
        assert "Env" not in _container_spec(api, "sockweb") and api.inspect_service("sockweb")["Version"]
        refused = bot.do("U0OPER", "/service update --env-add X=1 theirs")  # service.update:own
        assert "you may act only on services you created, and `theirs` was created by U0OPER2" in _reason(refused)
        assert "Env" not in _container_spec(api, "theirs")
        scaled = bot.do("U0OPER", "/service scale theirs=0")  # scale stays open (on-call needs it): asked, not refused
        assert isinstance(scaled.result, ConfirmationRequest)

        updated = bot.do("U0ADMIN", "/service update --env-add X=1 sockweb")
        assert isinstance(updated.result, Convergences) and updated.ok, updated.message.text
        assert _container_spec(api, "sockweb")["Env"] == ["X=1"]
        decisions = [(r.decision, r.outcome == "started") for r in bot.records()]
        assert decisions == [("refused", False)] * 4 + [("confirm", False), ("allowed", True), ("allowed", False)]
    finally:
        for name in ("sockweb", "theirs"):
            api.remove_service(name)
        api.close()


def test_a_rollback_checks_the_previous_spec_against_the_allowlist(swarm, make_bot) -> None:
    api = swarm.api()
    service_id = _service(api, "rolling", image="nginx:latest")  # made outside Shipmate, from an image it refuses
    version = api.inspect_service(service_id)["Version"]["Index"]
    api.update_service(
        service_id,
        version,
        task_template=docker.types.TaskTemplate(docker.types.ContainerSpec("busybox:latest", args=SLEEPER)),
        fetch_current_spec=True,
    )
    bot = make_bot(swarm, STANDARD.replace("images: [nginx, busybox]", "images: [busybox]"))
    try:
        refused = bot.do("U0ADMIN", "/service rollback rolling")
        assert _reason(refused) == (
            "`rolling` would roll back to an image outside the allowlist: "
            "`nginx:latest` is not on the image allowlist (busybox)"
        )
        assert _container_spec(api, "rolling")["Image"] == "busybox:latest"
    finally:
        api.remove_service(service_id)
        api.close()


def test_update_to_zero_replicas_asks_first_like_scale(swarm, make_bot) -> None:
    api = swarm.api()
    _service(api, "mine", replicas=1, labels={OWNER_LABEL: "U0OPER", "io.shipmate.team": TEAM})
    bot = make_bot(swarm)
    try:
        asked = bot.do("U0OPER", "/service update --replicas 0 mine")
        assert isinstance(asked.result, ConfirmationRequest) and "to 0 replicas" in asked.result.summary
        assert asked.result.command == "/docker --context default service update --replicas 0 mine"
        assert api.inspect_service("mine")["Spec"]["Mode"]["Replicated"]["Replicas"] == 1  # nothing before the click
        done = bot.confirm(asked, "U0OPER")
        assert isinstance(done.result, Convergences) and done.ok, done.message.text
        assert api.inspect_service("mine")["Spec"]["Mode"]["Replicated"]["Replicas"] == 0
    finally:
        api.remove_service("mine")
        api.close()
