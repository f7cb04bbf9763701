"""Swarm services without an engine: the grammar, policy and confirmations for them, `service ls` in one request,
and convergence against a scripted fake of the Engine API (the real swarm is in test_swarm_e2e.py)."""

import time
from pathlib import Path

import docker.errors
import pytest

from bot.config import ConfigError, CoreSettings
from bot.confirm.questions import confirmation_for
from bot.dispatcher import Caller
from bot.engine import Context, Engine, RunLimits, execute
from bot.engine.converge import converge as watch
from bot.engine.errors import NOT_A_MANAGER, explain
from bot.engine.holdings import container_holdings, described, service_holdings
from bot.engine.services import log_line
from bot.engine.targets import ServiceFacts
from bot.grammar import ParseError, parse, parse_line
from bot.grammar.commands import Command, PortMapping
from bot.grammar.service_commands import (
    NodeList,
    ServiceCreate,
    ServiceList,
    ServicePs,
    ServiceRemove,
    ServiceScale,
    ServiceUpdate,
    StackPs,
)
from bot.policy import PolicyAuthorizer, PolicySource
from bot.policy.model import STANDARD_ROLES
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import CONVERGED, FAILED, TIMED_OUT, Convergences, ServiceDetails, ServiceProgress
from bot.secrets import MASK

# -- grammar ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("docker service ls -f name=web", ServiceList(filters=(("name", "web"),))),
        (
            "/service ps --no-trunc -f desired-state=running web",
            ServicePs(service="web", no_trunc=True, filters=(("desired-state", "running"),)),
        ),
        ("/service scale web=3 api=0", ServiceScale(scales=(("web", 3), ("api", 0)))),
        (
            "/service update --image nginx:1.25 --env-add A=1 --env-rm B --force web",
            ServiceUpdate(service="web", image="nginx:1.25", env_add=(("A", "1"),), env_rm=("B",), force=True),
        ),
        (
            "/service create --name web --replicas 2 -p 8080:80 nginx httpd -f",
            ServiceCreate(
                image="nginx", command=("httpd", "-f"), name="web", replicas=2, ports=(PortMapping(8080, 80),)
            ),
        ),
        ("/docker stack ps demo", StackPs(stack="demo")),
        ("/docker node ls", NodeList()),
        ("/service rm web api", ServiceRemove(names=("web", "api"))),
    ],
)
def test_service_lines_parse_like_the_docker_cli(line: str, expected: Command) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("scale web", "`web` is not SERVICE=REPLICAS: write e.g. `web=3`"),
        ("scale web=1000", "`web=1000` needs a number of replicas from 0 to 100"),
        ("update web", "nothing to update"),
        (
            "create --mount type=bind,src=/,dst=/host nginx",
            "`--mount` is not allowed: Shipmate never grants host mounts",
        ),
        ("create --privileged nginx", "`--privileged` is not allowed"),
        ("create -p 127.0.0.1:80:80 nginx", "a service publishes on every address of its node"),
        ("create --label io.shipmate.user=U0BOSS nginx", "a label Shipmate or docker sets itself"),
        ("ps 'web;rm'", "is not a service name or id"),
        ("ps -f color=red web", "`color` is not a filter here"),
        ("ls extra", "unexpected argument `extra`"),
    ],
)
def test_bad_service_input_gets_one_line_and_the_usage(text: str, reason: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse(text, "/service")
    assert reason in raised.value.reason
    assert raised.value.usage and raised.value.usage.startswith("`/service ")


def test_swarm_words_are_commands_now_but_swarm_itself_is_still_refused() -> None:
    assert parse("ls", "/service") == ServiceList()
    with pytest.raises(ParseError, match="`swarm` is not something Shipmate does"):
        parse("swarm init")


# -- policy and confirmations ----------------------------------------------------------------------


def test_standard_roles_read_operate_and_remove_only_their_own_services() -> None:
    assert {"service.ls", "service.ps", "service.inspect", "service.logs", "node.ls"} <= set(STANDARD_ROLES["viewer"])
    operator = set(STANDARD_ROLES["operator"])
    assert {
        "service.create",
        "service.scale",
        "service.update:own",
        "service.rollback:own",
        "service.rm:own",
    } <= operator
    assert not {"service.update", "service.rollback"} & operator  # a service someone else made is theirs to change


class FakeServices:
    def __init__(self, *services: ServiceFacts) -> None:
        self.by_name = {facts.name: facts for facts in services}

    def __call__(self, engine: str, refs: tuple[str, ...]) -> dict[str, ServiceFacts | None]:
        return {ref: self.by_name.get(ref) for ref in refs}


def test_own_services_are_checked_pinned_and_listings_narrowed(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("roles:\n  dev: [service.ls:own, service.rm:own, service.scale:own]\nmembers:\n  U0DEV: dev\n")
    mine = ServiceFacts("a" * 25, "mine", "U0DEV", "T0")
    theirs = ServiceFacts("b" * 25, "theirs", "U0BOSS", "T0")
    auth = PolicyAuthorizer(PolicySource(policy), None, None, FakeServices(mine, theirs))
    dev = Caller("U0DEV", "T0", "C0OPS")
    listed = auth.authorize(parse("ls", "/service"), dev)
    assert listed.allowed and listed.command == ServiceList(filters=(("label", "io.shipmate.user=U0DEV"),))
    removed = auth.authorize(parse("rm mine", "/service"), dev)
    assert removed.command == ServiceRemove(names=("a" * 25,)) and removed.pinned == {"a" * 25: "mine"}
    refused = auth.authorize(parse("scale mine=2 theirs=2", "/service"), dev)
    assert not refused.allowed and "`theirs` was created by U0BOSS" in refused.reason
    blind = PolicyAuthorizer(PolicySource(policy)).authorize(parse("rm mine", "/service"), dev)
    assert not blind.allowed and "cannot check who created these services" in blind.reason


SOCKET_SPEC = {
    "Name": "web",
    "TaskTemplate": {
        "ContainerSpec": {
            "Image": "busybox",
            "Mounts": [
                {"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/var/run/docker.sock"},
                {"Type": "volume", "Source": "data", "Target": "/data"},
            ],
            "CapabilityAdd": ["CAP_NET_ADMIN"],
            "Secrets": [{"SecretName": "db_password", "SecretID": "s1"}],
            "Configs": [{"ConfigName": "nginx_conf", "ConfigID": "c1"}],
        },
        "Networks": [{"Target": "hostnetid"}],
    },
}


def test_what_a_spec_holds_is_named_for_services_and_containers() -> None:
    held = service_holdings(SOCKET_SPEC, frozenset({"hostnetid"}))
    assert held == (
        "a bind mount of /var/run/docker.sock",
        "capability NET_ADMIN",
        "the host's network",
        "secret db_password",
        "config nginx_conf",
    )
    assert service_holdings({"TaskTemplate": {"ContainerSpec": {"Image": "busybox"}}}) == ()
    inspected = {
        "Mounts": [{"Type": "bind", "Source": "/etc"}, {"Type": "volume", "Source": "x"}],
        "HostConfig": {"Privileged": True, "CapAdd": ["SYS_ADMIN"], "Devices": [{"PathOnHost": "/dev/fuse"}],
                       "NetworkMode": "host", "PidMode": "host", "IpcMode": "private", "Binds": ["/etc:/host-etc"]},
    }  # fmt: skip
    assert container_holdings(inspected) == (
        "a bind mount of /etc",
        "privileged mode",
        "capability SYS_ADMIN",
        "device /dev/fuse",
        "the host's network",
        "the host's PID namespace",
    )
    assert described("web", ("a bind mount of /var/run/docker.sock", "capability NET_ADMIN")) == (
        "web holds a bind mount of /var/run/docker.sock and capability NET_ADMIN"
    )


def test_a_change_that_keeps_a_privileged_spec_is_for_admins_and_a_rollback_checks_the_previous_spec(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "roles:\n  releaser: [service.update, service.rollback]\n  admin: ['*']\n  operator: [service.update:own, service.rollback:own]\n"
        "members:\n  U0REL: releaser\n  U0ADMIN: admin\n  U0OPER: operator\nimages: [busybox]\n"
    )
    held = ("a bind mount of /var/run/docker.sock", "capability NET_ADMIN")
    web = ServiceFacts("w" * 25, "web", None, None, holds=held)
    plain = ServiceFacts("p" * 25, "plain", None, None, previous_image="busybox")
    old = ServiceFacts("o" * 25, "old", None, None, previous_image="evilcorp/miner")
    was_bound = ServiceFacts("b" * 25, "was-bound", "U0OPER", "T0", previous_holds=("a bind mount of /",))
    auth = PolicyAuthorizer(PolicySource(policy), None, None, FakeServices(web, plain, old, was_bound))
    rel, admin, oper = (Caller(user, "T0", "C0OPS") for user in ("U0REL", "U0ADMIN", "U0OPER"))
    for line in ("update --env-add A=1 web", "update --image busybox web", "rollback web", "update --replicas 2 web"):
        refused = auth.authorize(parse(line, "/service"), rel)
        assert refused.reason == (
            "web holds a bind mount of /var/run/docker.sock and capability NET_ADMIN: only admins may change it"
        ), line
    assert auth.authorize(parse("update --env-add A=1 web", "/service"), oper).reason.startswith("web holds")
    assert auth.authorize(parse("update --env-add A=1 web", "/service"), admin).allowed
    updated = auth.authorize(parse("update --env-add A=1 plain", "/service"), rel)
    assert updated.allowed and updated.command == ServiceUpdate(service="p" * 25, env_add=(("A", "1"),))
    assert updated.pinned == {"p" * 25: "plain"}  # acts on the service that was checked
    assert auth.authorize(parse("rollback plain", "/service"), rel).allowed
    for caller in (rel, admin):  # the allowlist binds admins too
        refused = auth.authorize(parse("rollback old", "/service"), caller)
        assert refused.reason == (
            "`old` would roll back to an image outside the allowlist: "
            "`evilcorp/miner` is not on the image allowlist (busybox)"
        )
    back = auth.authorize(parse("rollback was-bound", "/service"), oper)  # their own, but the old spec held a mount
    assert back.reason == "was-bound holds a bind mount of /: only admins may change it"
    assert auth.authorize(parse("update --force was-bound", "/service"), oper).allowed  # the spec of now holds none
    not_theirs = auth.authorize(parse("update --force plain", "/service"), oper)
    assert "you may act only on services you created, and `plain` was not created through Shipmate" in (
        not_theirs.reason
    )
    blind = PolicyAuthorizer(PolicySource(policy)).authorize(parse("update --force plain", "/service"), rel)
    assert not blind.allowed and "cannot check what these services hold" in blind.reason


def test_update_to_zero_replicas_asks_first_and_confirm_runs_the_same_update() -> None:
    update = parse("update --image busybox:1.36 --env-add A='x y' --env-rm B --replicas 0 --force web", "/service")
    assert update.asks_first
    asked = confirmation_for(update, None)
    assert asked is not None and "`web` to 0 replicas: every task of it stops" in asked.summary
    assert parse(asked.text, "/docker") == update
    assert not parse("update --replicas 1 web", "/service").asks_first
    assert confirmation_for(parse("update --replicas 1 web", "/service"), None) is None


def test_service_rm_and_scaling_to_zero_ask_first() -> None:
    remove = parse("rm web api", "/service")
    assert remove.asks_first
    asked = confirmation_for(remove, None)
    assert asked is not None and asked.text == "service rm web api" and "2 services" in asked.summary
    to_zero = parse("scale web=0 api=2", "/service")
    asked = confirmation_for(to_zero, None)
    assert to_zero.asks_first and asked is not None and asked.text == "service scale web=0 api=2"
    assert (
        not parse("scale web=1", "/service").asks_first
        and confirmation_for(parse("scale web=1", "/service"), None) is None
    )


# -- the Engine API, scripted ---------------------------------------------------------------------------


def service(replicas: int = 3, image: str = "nginx", update: dict | None = None) -> dict:
    spec = {
        "Name": "web",
        "TaskTemplate": {"ContainerSpec": {"Image": image}, "ForceUpdate": 0},
        "Mode": {"Replicated": {"Replicas": replicas}},
    }
    return {"ID": "s" * 25, "Version": {"Index": 7}, "Spec": spec, **({"UpdateStatus": update} if update else {})}


def task(index: int, state: str, image: str = "nginx", err: str = "", desired: str = "running") -> dict:
    status = {"State": state, "Timestamp": "2026-12-02T23:00:00.5Z", **({"Err": err} if err else {})}
    return {
        "ID": f"t{index}".ljust(25, "0"),
        "ServiceID": "s" * 25,
        "Slot": index,
        "NodeID": "n1",
        "DesiredState": desired,
        "Status": status,
        "Spec": {"ContainerSpec": {"Image": image}},
    }


class FakeSwarmAPI:
    """Answers from a script of (service, tasks) states, one per poll; records every request."""

    def __init__(self, states: list[tuple[dict, list[dict]]], api_version: str = "1.41") -> None:
        self.states = states
        self.api_version = api_version
        self.calls: list[str] = []

    def _now(self) -> tuple[dict, list[dict]]:
        return self.states[0] if len(self.states) == 1 else self.states.pop(0)

    def inspect_service(self, ref: str) -> dict:
        self.calls.append("inspect_service")
        return self.states[0][0]

    def tasks(self, filters: dict | None = None) -> list[dict]:
        self.calls.append("tasks")
        return self._now()[1]

    def nodes(self) -> list[dict]:
        self.calls.append("nodes")
        return [{"ID": "n1", "Description": {"Hostname": "vm"}}]

    def services(self, filters: dict | None = None, status: bool | None = None) -> list[dict]:
        self.calls.append(f"services status={status}")
        listed = service()
        if status:
            listed["ServiceStatus"] = {"RunningTasks": 2, "DesiredTasks": 3}
        return [listed]


class FakeEngine(Engine):
    def __init__(self, api: FakeSwarmAPI) -> None:
        super().__init__("unix:///nonexistent.sock")
        self._api = api  # type: ignore[assignment]


def context(api: FakeSwarmAPI, seconds: float = 30) -> tuple[Context, list[ServiceProgress]]:
    reports: list[ServiceProgress] = []
    return Context(FakeEngine(api), progress=reports.append, limits=RunLimits(converge_seconds=seconds)), reports


def converge(api: FakeSwarmAPI, seconds: float = 30) -> tuple[Convergences, list[ServiceProgress]]:
    ctx, reports = context(api, seconds)
    return Convergences((watch(ctx, "s" * 25, "scaled", frozenset(), time.monotonic()),)), reports


def test_convergence_reports_each_new_count_once_and_ends_converged() -> None:
    states = [
        (service(), [task(1, "running"), task(2, "starting"), task(3, "pending")]),
        (service(), [task(1, "running"), task(2, "starting"), task(3, "pending")]),
        (service(), [task(1, "running"), task(2, "running"), task(3, "starting")]),
        (service(), [task(1, "running"), task(2, "running"), task(3, "running")]),
    ]
    result, reports = converge(FakeSwarmAPI(states))
    assert [(p.running, p.desired) for p in reports] == [(1, 3), (2, 3)]
    (item,) = result.items
    assert item.outcome == CONVERGED and (item.running, item.desired) == (3, 3)
    assert "web: 3/3 running ✓ scaled, converged in" in to_text(result)


def test_a_rejected_task_of_the_new_spec_ends_the_watch_with_its_error() -> None:
    update = {"State": "updating", "Message": "update in progress"}
    tasks = [task(1, "running"), task(2, "rejected", "nosuch:1", "No such image: nosuch:1", "shutdown")]
    result, _ = converge(FakeSwarmAPI([(service(image="nosuch:1", update=update), tasks)]))
    (item,) = result.items
    assert item.outcome == FAILED and item.error == "No such image: nosuch:1" and not result.all_ok
    assert "No such image: nosuch:1" in to_text(result) and to_message(result).is_error
    assert "web: 1/3 running ✗ scaled, but a task failed after" in to_text(result)


def test_a_service_that_does_not_converge_in_time_says_so_with_its_tasks() -> None:
    tasks = [task(1, "running"), task(2, "preparing"), task(3, "preparing")]
    result, _ = converge(FakeSwarmAPI([(service(), tasks)]), seconds=0.3)
    (item,) = result.items
    assert item.outcome == TIMED_OUT and len(item.tasks) == 3
    text = to_text(result)
    assert "web: 1/3 running ✗ scaled, but not converged within" in text and "Preparing" in text


def test_service_ls_is_one_request_and_two_on_engines_before_api_1_41() -> None:
    new = FakeSwarmAPI([(service(), [])])
    ctx, _ = context(new)
    (row,) = execute(ServiceList(), ctx).rows
    assert new.calls == ["services status=True"] and row.replicas == "2/3"
    old = FakeSwarmAPI([(service(), [task(1, "running"), task(2, "running"), task(3, "pending")])], "1.40")
    ctx, _ = context(old)
    (row,) = execute(ServiceList(), ctx).rows
    assert old.calls == ["services status=None", "tasks"] and row.replicas == "2/3"


def test_scaling_a_global_service_is_refused_in_one_line() -> None:
    glob = service()
    glob["Spec"]["Mode"] = {"Global": {}}
    ctx, _ = context(FakeSwarmAPI([(glob, [])]))
    with pytest.raises(Exception, match="is a global service: it runs one task per node and cannot be scaled"):
        execute(ServiceScale(scales=(("web", 2),)), ctx)


def test_not_a_manager_is_explained_in_one_line() -> None:
    error = docker.errors.APIError(
        "503", explanation='This node is not a swarm manager. Use "docker swarm init" or "docker swarm join"'
    )
    assert str(explain(error, "services", "unix:///x")) == NOT_A_MANAGER


def test_service_env_is_masked_in_both_renderers() -> None:
    details = ServiceDetails(
        "id", "web", "nginx", "replicated", 1, (), (), (("DB_PASSWORD", "pw-123"), ("COLOR", "blue")), (), (), (),
        (), "", None, None, False,
    )  # fmt: skip
    for rendered in (to_text(details), str(to_message(details).payload())):
        assert "pw-123" not in rendered and f"DB_PASSWORD={MASK}" in rendered and "COLOR=blue" in rendered


def test_converge_timeout_comes_from_the_environment_and_a_bad_one_stops_start_up(monkeypatch) -> None:
    monkeypatch.setenv("SHIPMATE_CONVERGE_TIMEOUT", "45")
    assert CoreSettings.from_env().converge_timeout == 45
    monkeypatch.setenv("SHIPMATE_CONVERGE_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="SHIPMATE_CONVERGE_TIMEOUT"):
        CoreSettings.from_env()


def test_service_commands_take_context_like_the_rest() -> None:
    assert parse("--context prod-1 scale web=2", "/service") == ServiceScale(scales=(("web", 2),), context="prod-1")
    assert parse("-c prod-1 service ls") == ServiceList(context="prod-1")


def test_service_log_lines_are_prefixed_by_task_like_the_cli() -> None:
    prefixes = {"t1": "web.1.t1@vm"}
    details = b"com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello world\n"
    assert log_line(details, prefixes) == "web.1.t1@vm | hello world\n"
    engine = b"grabbing logs: rpc error: task t2 has not been scheduled\n"
    assert log_line(engine, prefixes) == "(engine) | grabbing logs: rpc error: task t2 has not been scheduled\n"
