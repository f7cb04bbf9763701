"""Compose projects from the engine's labels: the dependency order (unit), and against the private engine a project
made the way Compose makes it (its labels, a depends_on chain, an exited container, a one-off `run` container),
listed, logged, restarted in order, stopped by service, and refused to a viewer — checked on the engine's state."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from bot.assembly import make_dispatcher
from bot.config import CoreSettings
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.engine.compose import combined_status, dependency_order, depends_on, sortable_time
from bot.engine.containers import MAX_LOG_BYTES
from bot.engine.errors import EngineError
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import (
    ComposeProcesses,
    ComposeProgress,
    ComposeProjectTable,
    ConfirmationRequest,
    ContainerTable,
    Failure,
    FleetAnswer,
    FromEngine,
    LogText,
    Outcomes,
    Result,
)
from tests.blockkit import assert_valid_message
from tests.private_engine import PrivateEngine

# -- unit: labels and order ------------------------------------------------------------------------------


def test_depends_on_reads_compose_label_format() -> None:
    assert depends_on("db:service_started:false,cache:service_healthy:true") == ("db", "cache")
    assert depends_on("db:service_started") == ("db",)  # older Compose wrote no `required`
    assert depends_on("") == ()


def test_dependencies_come_first_and_ready_services_alphabetically() -> None:
    chain = {"web": ("api",), "api": ("db",), "db": ()}
    assert dependency_order(chain) == ("db", "api", "web")
    diamond = {"web": ("api", "cache"), "cache": ("db",), "api": ("db",), "db": (), "worker": ()}
    assert dependency_order(diamond) == ("db", "worker", "api", "cache", "web")
    assert dependency_order({"api": ("gone",)}) == ("api",)  # a dependency the project no longer has


def test_a_cycle_is_refused_with_one_line_naming_it() -> None:
    with pytest.raises(EngineError) as caught:
        dependency_order({"db": (), "api": ("db", "web"), "web": ("api",)})
    assert str(caught.value) == "the services depend on each other in a cycle (api → web → api): nothing was done"


def test_combined_status_is_written_as_docker_compose_ls_writes_it() -> None:
    assert combined_status(["running", "exited", "running", "running"]) == "exited(1), running(3)"


def test_log_times_sort_in_time_order_though_the_engine_drops_trailing_zeros() -> None:
    times = ["2026-12-06T03:41:05.12Z", "2026-12-06T03:41:05.1199Z", "2026-12-06T03:41:05Z"]
    assert sorted(times, key=sortable_time) == [times[2], times[1], times[0]]


# -- the private engine -----------------------------------------------------------------------------------

POLICY = "members:\n  U0ADMIN: admin\n  U0OPER: operator\n  U0VIEW: viewer\nimages: [busybox]\n"
TEAM = "T0TEAM"
CONFIG = "/srv/shop/compose.yaml"


def _serve(lines: str) -> list[str]:
    """Print the lines, then live until stopped (TERM ends it at once)."""
    return ["sh", "-c", f"{lines}; trap 'exit 0' TERM; sleep 600 & wait"]


def make_project(api: docker.APIClient, project: str, services: dict[str, tuple[str, list[str]]]) -> dict[str, str]:
    """Containers the way Compose makes them: `{project}-{service}-1` with its labels; service -> (depends_on
    label, command). Returns service -> container id; each is started in the order given."""
    made = {}
    for service, (needs, command) in services.items():
        labels = {
            "com.docker.compose.project": project,
            "com.docker.compose.service": service,
            "com.docker.compose.container-number": "1",
            "com.docker.compose.project.config_files": f"/srv/{project}/compose.yaml",
            "com.docker.compose.project.working_dir": f"/srv/{project}",
            "com.docker.compose.depends_on": needs,
            "com.docker.compose.oneoff": "False",
        }
        created = api.create_container("busybox:latest", command, name=f"{project}-{service}-1", labels=labels)
        made[service] = created["Id"]
    return made


@dataclass
class Bot:
    dispatcher: Dispatcher

    def do(self, user: str, line: str, progress: list | None = None) -> Reply:
        slash, _, text = line.partition(" ")
        caller = Caller(user_id=user, team_id=TEAM, channel_id="C0OPS", user_name=user.lower())
        request = Request(
            text=text, slash=slash, caller=caller, progress=progress.append if progress is not None else None
        )
        reply = self.dispatcher.handle(request, to_message)
        assert_valid_message(reply.message)
        to_text(reply.result)  # the terminal draws it too
        return reply

    def confirmed(self, user: str, line: str, progress: list | None = None) -> Result:
        asked = self.do(user, line)
        assert isinstance(asked.result, ConfirmationRequest), asked.result
        caller = Caller(user_id=user, team_id=TEAM, channel_id="C0OPS", user_name=user.lower())
        report = progress.append if progress is not None else None
        return _answer(self.dispatcher.confirm(asked.result.token, caller, to_message, report).result)


def _answer(result: Result) -> Result:
    return result.result if isinstance(result, FromEngine) else result


@pytest.fixture
def make_bot(tmp_path: Path) -> Iterator:
    made: list[Dispatcher] = []

    def make(engine: PrivateEngine, engines: str | None = None) -> Bot:
        directory = tmp_path / f"bot-{len(made)}"
        directory.mkdir()
        (directory / "policy.yml").write_text(POLICY)
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
            confirm_secret=b"test-confirmation-secret-0123456789",
            engines_path=engines_path,
        )
        dispatcher = make_dispatcher(settings)
        made.append(dispatcher)
        return Bot(dispatcher)

    yield make
    for dispatcher in made:
        dispatcher.close()


SHOP = {
    "db": ("", _serve("echo db one; echo db two; echo db three")),
    "api": ("db:service_started:false", _serve("echo api one; echo api two; echo api three")),
    "migrate": ("db:service_started:false", ["sh", "-c", "echo migrated"]),
    "web": ("api:service_healthy:true", _serve("echo web one; echo web two; echo web three")),
}


@pytest.fixture
def shop(clean_engine: PrivateEngine) -> Iterator[docker.APIClient]:
    api = clean_engine.api()
    ids = make_project(api, "shop", SHOP)
    for service in ("db", "api", "migrate", "web"):
        api.start(ids[service])
    api.wait(ids["migrate"], timeout=30)  # the exited one
    oneoff = api.create_container(
        "busybox:latest",
        _serve("echo one-off"),
        name="shop-api-run-0a1b2c",
        labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "api",
                "com.docker.compose.oneoff": "True"},
    )  # fmt: skip
    api.start(oneoff["Id"])
    yield api
    api.close()


def _started(api: docker.APIClient, name: str) -> str:
    return api.inspect_container(name)["State"]["StartedAt"]


@pytest.mark.engine
def test_compose_ls_ps_logs_and_top_read_the_labels(shop, clean_engine, make_bot) -> None:
    bot = make_bot(clean_engine)
    listed = _answer(bot.do("U0VIEW", "/compose ls").result)
    assert isinstance(listed, ComposeProjectTable)
    assert [(row.name, row.status, row.config_files) for row in listed.rows] == [
        ("shop", "exited(1), running(3)", CONFIG)  # the one-off `run` container is not counted
    ]
    reply = bot.do("U0VIEW", "/compose ls")
    buttons = [element["value"] for block in reply.message.blocks if block["type"] == "actions" for element in block["elements"]]  # fmt: skip
    assert buttons == [
        "--context default compose restart shop",
        "--context default compose logs shop",
        "--context default compose shop",  # Restart…: the form, for this project on this engine
    ]

    table = _answer(bot.do("U0VIEW", "/compose ps shop").result)
    assert isinstance(table, ContainerTable)
    assert sorted((row.name, row.state) for row in table.rows) == [
        ("shop-api-1", "running"),
        ("shop-db-1", "running"),
        ("shop-migrate-1", "exited"),
        ("shop-web-1", "running"),
    ]
    ps_reply = bot.do("U0VIEW", "/compose ps shop")
    values = {element["value"] for block in ps_reply.message.blocks if block["type"] == "actions" for element in block["elements"]}  # fmt: skip
    assert "--context default restart shop-api-1" in values and "--context default start shop-migrate-1" in values

    logs = _answer(bot.do("U0VIEW", "/compose logs --tail 2 shop").result)
    assert isinstance(logs, LogText)
    lines = logs.text.splitlines()
    assert sorted(lines) == sorted(
        [
            "shop-db-1      | db two",
            "shop-db-1      | db three",
            "shop-api-1     | api two",
            "shop-api-1     | api three",
            "shop-migrate-1 | migrated",
            "shop-web-1     | web two",
            "shop-web-1     | web three",
        ]
    )
    assert lines.index("shop-db-1      | db two") < lines.index("shop-db-1      | db three")
    only_api = _answer(bot.do("U0VIEW", "/compose logs shop api").result)
    assert only_api.text == "shop-api-1 | api one\nshop-api-1 | api two\nshop-api-1 | api three\n"

    top = _answer(bot.do("U0VIEW", "/compose top shop").result)
    assert isinstance(top, ComposeProcesses)
    assert [table.container for table in top.tables] == ["shop-db-1", "shop-api-1", "shop-web-1"]  # running ones
    assert all(any("sleep" in " ".join(process) for process in table.processes) for table in top.tables)

    missing = _answer(bot.do("U0VIEW", "/compose ps nope").result)
    assert isinstance(missing, Failure) and missing.reason.startswith("no Compose project `nope` on this engine")
    unknown = _answer(bot.do("U0VIEW", "/compose logs shop cache").result)
    assert isinstance(unknown, Failure)
    assert unknown.reason == "project `shop` has no service `cache`: its services are api, db, migrate, web"


@pytest.mark.engine
def test_compose_restart_goes_in_dependency_order_and_a_viewer_is_refused(shop, clean_engine, make_bot) -> None:
    api = shop
    bot = make_bot(clean_engine)
    names = ["shop-db-1", "shop-api-1", "shop-migrate-1", "shop-web-1"]
    before = {name: _started(api, name) for name in names}

    refused = _answer(bot.do("U0VIEW", "/compose restart shop").result)
    assert isinstance(refused, Failure) and "compose.restart" in refused.reason
    assert {name: _started(api, name) for name in names} == before  # nothing reached Docker

    asked = bot.do("U0OPER", "/compose restart shop")
    assert isinstance(asked.result, ConfirmationRequest)
    assert asked.result.summary == "restart project shop: one container at a time, in dependency order"
    assert asked.result.command == "/docker --context default compose restart shop"
    assert {name: _started(api, name) for name in names} == before  # nothing before the click

    progress: list = []
    done = bot.confirmed("U0OPER", "/compose restart shop", progress)
    assert isinstance(done, Outcomes) and done.all_ok, done
    assert [outcome.target for outcome in done.outcomes] == names
    # one live message after the Confirm: each step as it starts, with the ones before it done
    assert [(update.doing, update.step, update.container, len(update.done)) for update in progress] == [
        ("restarting", step, name, step - 1) for step, name in enumerate(names, start=1)
    ]
    after = {name: _started(api, name) for name in names}
    assert all(after[name] > before[name] for name in names)
    # the engine's own clock says the order: db, then api and migrate (both need only db), then web
    assert after["shop-db-1"] < after["shop-api-1"] < after["shop-migrate-1"] < after["shop-web-1"]
    oneoff = api.inspect_container("shop-api-run-0a1b2c")["State"]
    assert oneoff["Running"] and oneoff["StartedAt"] < after["shop-db-1"]  # a one-off is left alone


@pytest.mark.engine
def test_compose_stop_a_service_then_start_reports_each_step(shop, clean_engine, make_bot) -> None:
    api = shop
    bot = make_bot(clean_engine)
    asked = bot.do("U0OPER", "/compose stop shop api")
    assert isinstance(asked.result, ConfirmationRequest)
    assert asked.result.summary == "stop api of project shop: one container at a time, dependents first"
    assert api.inspect_container("shop-api-1")["State"]["Running"]  # nothing before the click
    stopped = bot.confirmed("U0OPER", "/compose stop shop api")
    assert isinstance(stopped, Outcomes) and [(o.target, o.ok) for o in stopped.outcomes] == [("shop-api-1", True)]
    states = {
        name: api.inspect_container(name)["State"]["Status"] for name in ("shop-db-1", "shop-api-1", "shop-web-1")
    }
    assert states == {"shop-db-1": "running", "shop-api-1": "exited", "shop-web-1": "running"}

    progress: list = []
    started = _answer(bot.do("U0OPER", "/compose start shop", progress).result)  # start does not ask
    assert isinstance(started, Outcomes) and started.verb == "started" and started.all_ok
    assert api.inspect_container("shop-api-1")["State"]["Running"]
    steps = [
        (update.step, update.container, len(update.done)) for update in progress if isinstance(update, ComposeProgress)
    ]
    assert steps == [(1, "shop-db-1", 0), (2, "shop-api-1", 1), (3, "shop-migrate-1", 2), (4, "shop-web-1", 3)]


@pytest.mark.engine
def test_a_dependency_cycle_is_refused_and_nothing_is_started(clean_engine, make_bot) -> None:
    api = clean_engine.api()
    make_project(api, "loop", {"a": ("b:service_started:false", _serve("echo a")), "b": ("a:service_started:false", _serve("echo b"))})  # fmt: skip
    bot = make_bot(clean_engine)
    refused = _answer(bot.do("U0OPER", "/compose start loop").result)
    assert isinstance(refused, Failure)
    assert refused.reason == "the services depend on each other in a cycle (a → b → a): nothing was done"
    assert {api.inspect_container(name)["State"]["Status"] for name in ("loop-a-1", "loop-b-1")} == {"created"}
    api.close()


@pytest.mark.engine
def test_compose_ls_on_every_engine_merges_with_an_engine_column(shop, clean_engine, make_bot) -> None:
    host = clean_engine.docker_host
    engines = f"default: one\nengines:\n  one: {{host: '{host}'}}\n  two: {{host: '{host}'}}\n"
    bot = make_bot(clean_engine, engines=engines)
    reply = bot.do("U0VIEW", "/compose --context all ls")
    assert isinstance(reply.result, FleetAnswer) and isinstance(reply.result.merged, ComposeProjectTable)
    assert [(row.engine, row.name) for row in reply.result.merged.rows] == [("one", "shop"), ("two", "shop")]
    assert to_text(reply.result).splitlines()[0].split() == ["ENGINE", "NAME", "STATUS", "CONFIG", "FILES"]
    values = [element["value"] for block in reply.message.blocks if block["type"] == "actions" for element in block["elements"]]  # fmt: skip
    assert "--context two compose restart shop" in values


@pytest.mark.engine
def test_compose_logs_keep_the_newest_lines_within_the_size_cap(clean_engine, make_bot) -> None:
    api = clean_engine.api()
    # 4000 lines of 64 bytes from each container: each one's output (with the engine's timestamps, about 380 KB)
    # fits a container's read, but the two prefixed (about 300 KB each) do not fit one reply together
    line = "x" * 63
    ids = make_project(api, "noisy", {
        "a": ("", ["sh", "-c", f"yes {line} | head -n 4000; echo a-last"]),
        "b": ("", ["sh", "-c", f"yes {line} | head -n 4000; echo b-last"]),
    })  # fmt: skip
    for container in ids.values():
        api.start(container)
        api.wait(container, timeout=30)
    logs = _answer(make_bot(clean_engine).do("U0VIEW", "/compose logs --tail all noisy").result)
    assert isinstance(logs, LogText) and logs.truncated
    assert 0 < len(logs.text.encode()) <= MAX_LOG_BYTES and logs.text.count("\n") == logs.lines
    assert logs.text.endswith("noisy-b-1 | b-last\n")  # the newest lines are the ones kept
    assert "noisy-a-1 | a-last\n" in logs.text
    api.close()
