"""Image updates end to end on the private engine and its registry: `updates` finds a newer image pushed under the
same tag, `update-image` recreates the container on it with its configuration kept field by field, and a broken
new image (exits at once, turns unhealthy) is rolled back to the very same old container. Everything is checked
through the engine's inspect data; nothing connects to a container."""

import io
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator

import docker
import pytest

from bot.alerts.rules import AlertRules, UpdatesRule
from bot.alerts.update_checks import UpdateChecks
from bot.audit import AuditLog
from bot.engine import Context, Engine, execute
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL
from bot.fleet.engines import Fleet
from bot.grammar.updates import ContainerUpdateImage, ImageUpdates
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import (
    ROLLED_BACK,
    UP_TO_DATE,
    UPDATED,
    ConfirmationRequest,
    FleetAnswer,
    FromEngine,
    Preview,
    PreviewTarget,
    Result,
    UpdateOutcomes,
    UpdatesAlert,
    UpdateTable,
    VerdictKind,
)
from bot.store.alerts import AlertState
from tests import test_privilege
from tests.blockkit import assert_valid_message
from tests.private_engine import PrivateEngine
from tests.test_privilege import TEAM

pytestmark = pytest.mark.engine
make_bot = test_privilege.make_bot  # the fixture: a dispatcher as make_dispatcher wires it, with a policy

REPOSITORY = "127.0.0.1:5000/shipmate-updates"  # the private registry, as the engine reaches it
POLICY = f"""\
members:
  U0ADMIN: admin
  U0OPER: operator
  U0VIEW: viewer
images: [busybox, "{REPOSITORY}"]
"""
SLEEPING = '["sh", "-c", "trap \'exit 0\' TERM; sleep 600 & wait"]'


def _push(api: docker.APIClient, tag: str, version: str, extra: str = "") -> str:
    """Build an image from the fixture busybox, push it as REPOSITORY:tag and forget it here, as if another host
    had pushed it: the registry's digest."""
    dockerfile = f"FROM busybox:latest\nLABEL io.shipmate.test.version={version}\nCMD {SLEEPING}\n{extra}".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    reference = f"{REPOSITORY}:{tag}"
    for event in api.build(fileobj=context, custom_context=True, tag=reference, rm=True, decode=True):
        assert "error" not in event, event
    for event in api.push(REPOSITORY, tag=tag, stream=True, decode=True):
        assert "error" not in event, event
    digest = api.inspect_distribution(reference)["Descriptor"]["digest"]
    api.remove_image(reference, force=True)  # the tag only: a container may still run the image
    return digest


def _running_digest(api: docker.APIClient, container: str) -> str:
    image = api.inspect_image(api.inspect_container(container)["Image"])
    return next(ref.partition("@")[2] for ref in image["RepoDigests"] if ref.startswith(REPOSITORY + "@"))


def _unwrapped(result: Result | None) -> Result | None:
    return result.result if isinstance(result, FromEngine) else result


NOWHERE = "127.0.0.1:5999/nowhere:1"  # a registry nobody serves


@pytest.fixture
def tag(clean_engine: PrivateEngine) -> Iterator[str]:
    """A tag of its own per test (the registry's answers are cached by reference); afterwards the engine holds no
    registry-named image, as the other tests expect of it."""
    made = f"t{uuid.uuid4().hex[:10]}"
    yield made
    clean_engine.reset()
    for reference in (f"{REPOSITORY}:{made}", NOWHERE):
        clean_engine.forget_image(reference)


@pytest.fixture
def network(clean_engine: PrivateEngine) -> Iterator[str]:
    api = clean_engine.api()
    created = api.create_network("shipmate-updates-net")["Id"]
    yield "shipmate-updates-net"
    clean_engine.reset()
    api.remove_network(created)
    api.remove_volume("shipmate-updates-data", force=True)
    api.close()


def _start_app(api: docker.APIClient, reference: str, network: str, owner: str = "U0OPER") -> str:
    """A container set up the way people set them up: env, an explicit command, published port, a named volume,
    a user network with an alias, Compose's labels, restart policy, limits, user, workdir, hostname."""
    host_config = api.create_host_config(
        port_bindings={80: 18080},
        binds=["shipmate-updates-data:/data"],
        restart_policy={"Name": "unless-stopped"},
        mem_limit="64m",
        nano_cpus=500_000_000,
        network_mode=network,
    )
    labels = {
        "com.docker.compose.project": "shop",
        "com.docker.compose.service": "api",
        "com.docker.compose.depends_on": "db:service_started:false",
        OWNER_LABEL: owner,
        TEAM_LABEL: TEAM,
    }
    created = api.create_container(
        reference,
        ["sh", "-c", "trap 'exit 0' TERM; sleep 900 & wait"],
        name="shop-api-1",
        environment={"COLOR": "blue", "API_TOKEN": "s3cr3t-value"},
        ports=[80],
        labels=labels,
        host_config=host_config,
        networking_config=api.create_networking_config(
            {network: api.create_endpoint_config(aliases=["api", "shop-api"])}
        ),
        working_dir="/tmp",
        user="65534",
        hostname="apihost",
    )
    api.start(created["Id"])
    return created["Id"]


def _kept(data: dict) -> dict:
    """What an update must keep, from inspect data (the image's own label aside: the new image's applies)."""
    config, host = data["Config"], data["HostConfig"]
    networks = data["NetworkSettings"]["Networks"]
    return {
        "Env": sorted(config["Env"]),
        "Cmd": config["Cmd"],
        "Entrypoint": config["Entrypoint"],
        "Labels": {k: v for k, v in config["Labels"].items() if k != "io.shipmate.test.version"},
        "Image": config["Image"],
        "User": config["User"],
        "WorkingDir": config["WorkingDir"],
        "Hostname": config["Hostname"],
        "PortBindings": host["PortBindings"],
        "Binds": host["Binds"],
        "Mounts": sorted((m["Type"], m.get("Name"), m["Destination"], m["RW"]) for m in data["Mounts"]),
        "RestartPolicy": host["RestartPolicy"],
        "Memory": host["Memory"],
        "NanoCpus": host["NanoCpus"],
        "NetworkMode": host["NetworkMode"],
        "Networks": {
            name: sorted(set(settings["Aliases"] or []) & {"api", "shop-api"}) for name, settings in networks.items()
        },
        "Name": data["Name"],
    }


def test_a_newer_image_is_found_rolled_out_with_the_config_kept_and_a_broken_one_rolled_back(
    clean_engine, make_bot, network, tag
) -> None:
    api = clean_engine.api()
    old_digest = _push(api, tag, "1")
    reference = f"{REPOSITORY}:{tag}"
    api.pull(REPOSITORY, tag=tag)
    old_id = _start_app(api, reference, network)
    new_digest = _push(api, tag, "2")
    assert new_digest != old_digest and _running_digest(api, old_id) == old_digest
    before = _kept(api.inspect_container(old_id))
    bot = make_bot(clean_engine, POLICY)

    # updates: one row, outdated, both digests; one registry request for the one reference
    listed = _unwrapped(bot.do("U0VIEW", "/docker updates").result)
    assert isinstance(listed, UpdateTable), listed
    (row,) = listed.rows
    assert (row.container, row.image, row.running_digest, row.available, row.problem) == (
        "shop-api-1",
        reference,
        old_digest,
        new_digest,
        "",
    )
    assert listed.asked == 1
    text = to_text(listed)
    assert "RUNNING DIGEST" in text and old_digest[:19] in text and new_digest[:19] in text
    buttons = [e["value"] for b in to_message(listed).blocks if b["type"] == "actions" for e in b["elements"]]
    assert any(value.endswith("update-image shop-api-1") for value in buttons), buttons
    again = _unwrapped(bot.do("U0VIEW", "/docker updates").result)
    assert isinstance(again, UpdateTable) and again.asked == 0 and again.rows == listed.rows  # from the cache

    # a dry run says what would happen and changes nothing
    dry = bot.do("U0OPER", "/docker update-image --dry-run shop-api-1").result
    assert isinstance(dry, Preview), dry
    planned = dict(dry.changes)
    assert planned["update-image shop-api-1"] == f"recreated on {reference} {old_digest} → {new_digest}"
    assert "3 of Compose" in planned["keeps"] and "restart unless-stopped" in planned["keeps"]
    assert dry.targets == (PreviewTarget("shop-api-1", old_id, "running"),)
    assert dry.verdict.kind is VerdictKind.ASKS_FIRST
    assert "s3cr3t-value" not in to_text(dry)
    assert api.inspect_container("shop-api-1")["Id"] == old_id

    # the update asks first; confirmed, the container is recreated on the new image with its config kept
    asked = bot.do("U0OPER", "/docker update-image shop-api-1")
    assert isinstance(asked.result, ConfirmationRequest), asked.result
    assert api.inspect_container("shop-api-1")["Id"] == old_id  # nothing done before the click
    done = _unwrapped(bot.confirm(asked, "U0OPER").result)
    assert isinstance(done, UpdateOutcomes), done
    (update,) = done.updates
    assert (update.outcome, update.old_digest, update.new_digest) == (UPDATED, old_digest, new_digest), update
    after = api.inspect_container("shop-api-1")
    assert after["Id"] != old_id and after["State"]["Running"]
    assert _kept(after) == before
    assert after["Config"]["Labels"]["io.shipmate.test.version"] == "2"  # the new image's own defaults apply
    assert _running_digest(api, after["Id"]) == new_digest
    assert [c["Id"] for c in api.containers(all=True)] == [after["Id"]]  # the old one is gone
    up_to_date = _unwrapped(bot.confirm(bot.do("U0OPER", "/docker update-image shop-api-1"), "U0OPER").result)
    assert isinstance(up_to_date, UpdateOutcomes) and up_to_date.updates[0].outcome == UP_TO_DATE

    # a new image that exits at once: the old container comes back, same id, running, and the reply says why
    _push(api, tag, "3", extra='ENTRYPOINT ["sh", "-c", "exit 3"]\n')  # whatever command it is given
    current = after["Id"]
    failed = bot.confirm(bot.do("U0OPER", "/docker update-image shop-api-1"), "U0OPER")
    rolled = _unwrapped(failed.result)
    assert isinstance(rolled, UpdateOutcomes), rolled
    assert rolled.updates[0].outcome == ROLLED_BACK
    # Its restart policy starts it again and again: caught between runs, the state has the exit code; caught
    # running again, the code of the run that ended is gone from it.
    reason = rolled.updates[0].reason
    assert reason.startswith("the new container exited at once") and ("code" not in reason or "code 3" in reason)
    assert "exited at once" in to_text(rolled) and failed.message.is_error
    back = api.inspect_container("shop-api-1")
    assert back["Id"] == current and back["State"]["Running"] and _kept(back) == before
    assert [c["Id"] for c in api.containers(all=True)] == [current]  # the failed new one is removed
    api.close()


def test_a_health_check_is_waited_for_and_a_new_image_that_turns_unhealthy_is_rolled_back(
    clean_engine, make_bot, network, tag
) -> None:
    api = clean_engine.api()
    _push(api, tag, "1")
    reference = f"{REPOSITORY}:{tag}"
    api.pull(REPOSITORY, tag=tag)
    _start_app(api, reference, network)
    bot = make_bot(clean_engine, POLICY)
    _push(api, tag, "2", extra="HEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD true\n")
    healthy = _unwrapped(bot.confirm(bot.do("U0ADMIN", "/docker update-image shop-api-1"), "U0ADMIN").result)
    assert isinstance(healthy, UpdateOutcomes) and healthy.updates[0].outcome == UPDATED, healthy
    current = api.inspect_container("shop-api-1")
    assert current["State"]["Health"]["Status"] == "healthy"  # answered only once the check passed
    _push(api, tag, "3", extra="HEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD false\n")
    rolled = _unwrapped(bot.confirm(bot.do("U0ADMIN", "/docker update-image shop-api-1"), "U0ADMIN").result)
    assert isinstance(rolled, UpdateOutcomes), rolled
    assert rolled.updates[0].outcome == ROLLED_BACK and "turned unhealthy" in rolled.updates[0].reason
    back = api.inspect_container("shop-api-1")
    assert back["Id"] == current["Id"] and back["State"]["Running"] and back["Name"] == "/shop-api-1"
    assert [c["Id"] for c in api.containers(all=True)] == [current["Id"]]
    api.close()


def test_what_a_container_holds_and_its_image_are_checked_before_an_update(clean_engine, make_bot, tag) -> None:
    api = clean_engine.api()
    _push(api, tag, "1")
    reference = f"{REPOSITORY}:{tag}"
    api.pull(REPOSITORY, tag=tag)
    labels = {OWNER_LABEL: "U0OPER", TEAM_LABEL: TEAM}
    held = api.create_container(
        reference, name="holder", labels=labels, host_config=api.create_host_config(binds=["/tmp:/host-tmp:ro"])
    )
    api.start(held["Id"])
    bot = make_bot(clean_engine, POLICY)
    refused = bot.do("U0OPER", "/docker update-image holder")
    assert refused.result is not None and getattr(refused.result, "reason", "") == (
        "holder holds a bind mount of /tmp: only admins may recreate it"
    ), refused.result
    api.start(api.create_container(reference, name="someone-elses")["Id"])  # holds nothing, started by no one here
    foreign = bot.do("U0OPER", "/docker update-image --dry-run someone-elses").result
    assert isinstance(foreign, Preview) and foreign.verdict.kind is VerdictKind.REFUSED, foreign
    assert "you may act only on containers you started, and `someone-elses` was not started through Shipmate" in (
        foreign.verdict.reason
    ), foreign
    admin = bot.do("U0ADMIN", "/docker update-image --dry-run holder").result
    assert isinstance(admin, Preview) and dict(admin.changes)["update-image holder"].endswith("nothing changes"), admin
    strict = make_bot(clean_engine, "members:\n  U0ADMIN: admin\nimages: [busybox]\n")
    outside = strict.do("U0ADMIN", "/docker update-image --dry-run holder").result
    assert isinstance(outside, Preview) and outside.verdict.reason == (
        f"`holder` would be recreated from its own image: `{reference}` is not on the image allowlist (busybox)"
    ), outside
    assert api.inspect_container("holder")["Id"] == held["Id"]
    api.close()


def test_updates_fans_out_with_an_engine_column_and_an_unreachable_registry_is_one_line(
    clean_engine, make_bot, tag
) -> None:
    api = clean_engine.api()
    _push(api, tag, "1")
    reference = f"{REPOSITORY}:{tag}"
    api.pull(REPOSITORY, tag=tag)
    for name in ("one", "two"):
        api.start(api.create_container(reference, name=name)["Id"])
    api.tag(reference, *NOWHERE.rsplit(":", 1))
    api.start(api.create_container(NOWHERE, name="lost")["Id"])
    engines = (
        "default: default\nengines:\n"
        f"  default: {{host: '{clean_engine.docker_host}'}}\n  again: {{host: '{clean_engine.docker_host}'}}\n"
    )
    bot = make_bot(clean_engine, POLICY, engines=engines)
    answer = bot.do("U0VIEW", "/docker --context all updates").result
    assert isinstance(answer, FleetAnswer) and isinstance(answer.merged, UpdateTable), answer
    rows = answer.merged.rows
    assert sorted((row.engine, row.container) for row in rows) == sorted(
        (engine, name) for engine in ("default", "again") for name in ("one", "two", "lost")
    )
    assert all(not row.outdated and not row.problem for row in rows if row.container != "lost")
    assert all(row.problem for row in rows if row.container == "lost")
    text = to_text(answer.merged)
    assert text.splitlines()[1].split()[:2] == ["ENGINE", "CONTAINER"]
    problems = [line for line in text.splitlines() if NOWHERE in line]
    assert len(problems) == 2 and all("(lost)" in line for line in problems), text  # one line per engine
    api.close()


# -- registry requests: one per distinct reference, then the cache (a fake engine, to count them) -------------


class _CountingApi:
    """30 running containers of 10 image references; counts the registry requests."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.lock = threading.Lock()

    def containers(self) -> list[dict]:
        return [
            {"Id": f"{i:064x}", "Names": [f"/c{i}"], "Image": f"registry.test/app{i % 10}:1", "ImageID": f"img{i % 10}"}
            for i in range(30)
        ]

    def inspect_image(self, image_id: str) -> dict:
        number = image_id.removeprefix("img")
        return {"RepoDigests": [f"registry.test/app{number}@sha256:{number * 64}"[:80]], "Created": 0}

    def inspect_distribution(self, reference: str) -> dict:
        with self.lock:
            self.asked.append(reference)
        time.sleep(0.05)  # parallel requests overlap; sequential ones would take 10 × as long
        return {"Descriptor": {"digest": "sha256:" + "f" * 64}}


class _CountingEngine(Engine):
    def __init__(self, api: _CountingApi, host: str) -> None:
        super().__init__(host, pool_size=4, from_environment=False)
        self.counting = api

    @property
    def api(self) -> _CountingApi:  # type: ignore[override]
        return self.counting


def test_thirty_containers_of_ten_images_make_ten_registry_requests_and_then_none() -> None:
    api = _CountingApi()
    ctx = Context(engine=_CountingEngine(api, f"unix:///nonexistent/{uuid.uuid4().hex}.sock"))
    table = execute(ImageUpdates(), ctx)
    assert isinstance(table, UpdateTable) and len(table.rows) == 30 and all(row.outdated for row in table.rows)
    assert sorted(api.asked) == sorted(f"registry.test/app{i}:1" for i in range(10)) and table.asked == 10
    again = execute(ImageUpdates(), ctx)
    assert isinstance(again, UpdateTable) and again.asked == 0 and len(api.asked) == 10


# -- the `updates` alert rule ------------------------------------------------------------------------------


class _Recorded:
    """An UpdatesDelivery that keeps what it was asked to send (the Slack side is bot/slack/alerts.py's)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, UpdatesAlert]] = []
        self.updates: list[tuple[str, str, UpdatesAlert]] = []

    def post(self, channel: str, result: Result) -> str | None:
        assert isinstance(result, UpdatesAlert)
        self.posts.append((channel, result))
        return f"{len(self.posts)}.000"

    def update(self, channel: str, ts: str, result: Result) -> bool:
        assert isinstance(result, UpdatesAlert)
        self.updates.append((channel, ts, result))
        return True


def test_the_updates_rule_posts_once_per_period_across_replicas_and_keeps_its_message_up_to_date(
    clean_engine, tag, tmp_path
) -> None:
    api = clean_engine.api()
    _push(api, tag, "1")
    reference = f"{REPOSITORY}:{tag}"
    api.pull(REPOSITORY, tag=tag)
    for name in ("web-a", "web-b"):
        api.start(api.create_container(reference, name=name)["Id"])
    api.start(api.create_container("busybox:latest", ["sleep", "600"], name="not-watched")["Id"])
    _push(api, tag, "2")
    rule = UpdatesRule("C0DEPLOYS", every=3600, containers=("web-*",), mention="<@U0ONCALL>")
    rules = AlertRules(tmp_path / "alerts.yml", (), updates=(rule,))
    fleet = Fleet.single(Engine(clean_engine.docker_host, timeout=30))
    delivery = _Recorded()
    audits = [AuditLog(tmp_path / "audit.db") for _ in range(2)]  # two replicas, one database
    replicas = [UpdateChecks(lambda: rules, AlertState(audit.store), audit, delivery, fleet) for audit in audits]
    try:
        now = 3600 * 500_000 + 10.0
        for replica in replicas:
            replica.check(now)
        ((channel, alert),) = delivery.posts  # one replica claimed the period
        assert channel == "C0DEPLOYS" and not delivery.updates
        assert alert.engine == "default" and [row.container for row in alert.outdated] == ["web-a", "web-b"]
        assert all(row.container != "not-watched" for row in alert.rows)
        payload = to_message(alert).payload()
        assert_valid_message(payload)
        values = [e["value"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert values[-1] == "--context default update-image web-a web-b"

        done = execute(ContainerUpdateImage(containers=("web-a",)), Context(engine=fleet.engine("default")))
        assert isinstance(done, UpdateOutcomes) and done.updates[0].outcome == UPDATED, done
        for replica in replicas:
            replica.check(now + 60)  # the same period: nothing more
        assert len(delivery.posts) == 1 and not delivery.updates
        for replica in replicas:
            replica.check(now + 3600)  # the next period: the same message, brought up to date
        ((channel, ts, later),) = delivery.updates
        assert (channel, ts) == ("C0DEPLOYS", "1.000") and [row.container for row in later.outdated] == ["web-b"]
        assert len(delivery.posts) == 1
        assert audits[0].flush() and audits[1].flush()
        reopened = AuditLog(tmp_path / "audit.db")
        recorded = [r for r in reopened.latest(limit=10) if r.action == "alert.updates"]
        reopened.close()
        assert sorted(r.detail for r in recorded) == [
            "engine default: 1 outdated (web-b); updated",
            "engine default: 2 outdated (web-a, web-b); posted",
        ]
    finally:
        for audit in audits:
            audit.close()
        fleet.close()
        api.close()
