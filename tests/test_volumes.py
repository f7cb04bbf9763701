"""volume ls|inspect|rm|prune and network ls|inspect against the private engine, through the Dispatcher as
`make_dispatcher` wires it (the standard roles, confirmations signed and clicked): every check is made on the
engine's real state."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.types
import pytest

from bot.assembly import make_dispatcher
from bot.config import CoreSettings
from bot.dispatcher import Caller, Dispatcher, Reply, Request
from bot.engine import Context, Engine, execute
from bot.grammar.volume_commands import VolumeRemove
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import (
    ConfirmationRequest,
    Failure,
    FleetAnswer,
    FromEngine,
    NetworkDetails,
    NetworkTable,
    Notice,
    Outcomes,
    Result,
    VolumeDetails,
    VolumeTable,
)
from bot.secrets import MASK
from tests.blockkit import assert_valid_message, payload_strings
from tests.private_engine import PrivateEngine

pytestmark = pytest.mark.engine

POLICY = "members:\n  U0ADMIN: admin\n  U0VIEW: viewer\n"
SECRET = b"test-confirmation-secret-0123456789"
TEAM = "T0TEAM"
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
MARK = {"shipmate.test": "volumes"}  # what this file creates, and removes again
BLOB_KB = 300


@dataclass
class Bot:
    dispatcher: Dispatcher

    def do(self, user: str, line: str) -> Reply:
        slash, _, text = line.partition(" ")
        caller = Caller(user_id=user, team_id=TEAM, channel_id="C0OPS", user_name=user.lower())
        reply = self.dispatcher.handle(Request(text=text, slash=slash, caller=caller), to_message)
        assert_valid_message(reply.message)
        assert to_text(reply.result).strip()
        return reply

    def confirm(self, reply: Reply, user: str = "U0ADMIN") -> Reply:
        assert isinstance(reply.result, ConfirmationRequest), reply.result
        caller = Caller(user_id=user, team_id=TEAM, channel_id="C0OPS", user_name=user.lower())
        return self.dispatcher.confirm(reply.result.token, caller, to_message)


def _answer(reply: Reply) -> Result:
    """The result inside the reply's engine binding."""
    result = reply.result
    return result.result if isinstance(result, FromEngine) else result


def _remove_marked(api: docker.APIClient) -> None:
    for network in api.networks(filters={"label": ["shipmate.test=volumes"]}):
        api.remove_network(network["Id"])
    for volume in api.volumes(filters={"label": ["shipmate.test=volumes"]}).get("Volumes") or ():
        api.remove_volume(volume["Name"], force=True)


@dataclass
class Stand:
    """used (by the running container `vol-user`), free (empty, unused), full (BLOB_KB written, unused), and the
    network `vol-net` (172.31.7.0/24) with `vol-user` attached."""

    api: docker.APIClient
    engine: PrivateEngine

    def names(self) -> set[str]:
        return {volume["Name"] for volume in self.api.volumes().get("Volumes") or ()}


@pytest.fixture
def stand(clean_engine: PrivateEngine) -> Iterator[Stand]:
    api = clean_engine.api()
    _remove_marked(api)
    labels = {**MARK, "team": "<!channel> & data", "DB_PASSWORD": "pw-3f9a1c"}
    for name in ("vol-used", "vol-free", "vol-full"):
        api.create_volume(name, labels=labels if name == "vol-used" else MARK)
    writer = api.create_container(
        "busybox",
        ["dd", "if=/dev/zero", "of=/data/blob", "bs=1024", f"count={BLOB_KB}"],
        host_config=api.create_host_config(binds={"vol-full": {"bind": "/data", "mode": "rw"}}),
    )
    api.start(writer)
    assert api.wait(writer, timeout=30)["StatusCode"] == 0
    api.remove_container(writer)
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="172.31.7.0/24", gateway="172.31.7.1")])
    api.create_network("vol-net", driver="bridge", ipam=ipam, labels=MARK)
    user = api.create_container(
        "busybox",
        SLEEPER,
        name="vol-user",
        host_config=api.create_host_config(binds={"vol-used": {"bind": "/data", "mode": "rw"}}),
        networking_config=api.create_networking_config(
            {"vol-net": api.create_endpoint_config(ipv4_address="172.31.7.20")}
        ),
    )
    api.start(user)
    try:
        yield Stand(api, clean_engine)
    finally:
        clean_engine.reset()
        _remove_marked(api)
        api.close()


def _settings(directory: Path, engine: PrivateEngine, engines: str | None = None) -> CoreSettings:
    (directory / "policy.yml").write_text(POLICY)
    engines_path = None
    if engines is not None:
        engines_path = directory / "engines.yml"
        engines_path.write_text(engines)
    return CoreSettings(
        docker_host=engine.docker_host,
        docker_timeout=30,
        run_timeout=20,
        policy_path=directory / "policy.yml",
        audit_db=directory / "audit.db",
        confirm_secret=SECRET,
        engines_path=engines_path,
    )


@pytest.fixture
def bot(stand: Stand, tmp_path: Path) -> Iterator[Bot]:
    dispatcher = make_dispatcher(_settings(tmp_path, stand.engine))
    try:
        yield Bot(dispatcher)
    finally:
        dispatcher.close()


# -- reads ------------------------------------------------------------------------------------------------


def test_volume_ls_shows_driver_name_size_and_links(stand: Stand, bot: Bot) -> None:
    table = _answer(bot.do("U0VIEW", "/docker volume ls"))
    assert isinstance(table, VolumeTable)
    rows = {row.name: row for row in table.rows}
    assert {"vol-used", "vol-free", "vol-full"} <= set(rows)
    assert {rows[name].driver for name in ("vol-used", "vol-free", "vol-full")} == {"local"}
    assert rows["vol-full"].size >= BLOB_KB * 1024  # as `system df -v` counts it
    assert rows["vol-free"].size == 0 and (rows["vol-used"].links, rows["vol-free"].links) == (1, 0)
    assert to_text(table).splitlines()[0].split() == ["DRIVER", "VOLUME", "NAME", "SIZE", "LINKS"]

    dangling = _answer(bot.do("U0VIEW", "/docker volume ls -f dangling=true"))
    assert isinstance(dangling, VolumeTable)
    names = {row.name for row in dangling.rows}
    assert {"vol-free", "vol-full"} <= names and "vol-used" not in names


def test_volume_inspect_names_its_containers_masks_secret_labels_and_escapes(stand: Stand, bot: Bot) -> None:
    reply = bot.do("U0VIEW", "/docker volume inspect vol-used vol-nope")
    details = _answer(reply)
    assert isinstance(details, VolumeDetails)
    (volume,) = details.volumes
    assert (volume.name, volume.driver, details.missing) == ("vol-used", "local", ("vol-nope",))
    assert volume.used_by == ("vol-user (running)",)
    assert volume.mountpoint.endswith("/vol-used/_data")
    assert dict(volume.labels)["DB_PASSWORD"] == MASK
    shown = payload_strings(reply.message.payload())
    assert "pw-3f9a1c" not in shown and "pw-3f9a1c" not in to_text(details)
    assert "&lt;!channel&gt; &amp; data" in shown and "<!channel>" not in shown
    missing = _answer(bot.do("U0VIEW", "/docker volume inspect vol-nope"))
    assert missing == Failure("no such volume: `vol-nope`")


def test_network_ls_and_inspect_show_subnets_and_attached_containers(stand: Stand, bot: Bot) -> None:
    table = _answer(bot.do("U0VIEW", "/docker network list"))
    assert isinstance(table, NetworkTable)
    rows = {row.name: row for row in table.rows}
    assert (rows["vol-net"].driver, rows["vol-net"].scope) == ("bridge", "local")
    assert {"bridge", "host", "none"} <= set(rows)

    details = _answer(bot.do("U0VIEW", "/docker network inspect vol-net"))
    assert isinstance(details, NetworkDetails)
    assert (details.driver, details.scope, details.subnets) == ("bridge", "local", (("172.31.7.0/24", "172.31.7.1"),))
    assert [(member.name, member.ipv4) for member in details.members] == [("vol-user", "172.31.7.20/24")]
    assert dict(details.labels) == MARK
    assert "Subnets:     172.31.7.0/24 via 172.31.7.1" in to_text(details)
    missing = bot.do("U0VIEW", "/docker network inspect vol-nope")
    assert isinstance(missing.result, Failure) and "vol-nope" in missing.result.reason


# -- volume rm ------------------------------------------------------------------------------------------


def test_volume_rm_of_a_volume_in_use_is_refused_naming_the_container_before_asking(stand: Stand, bot: Bot) -> None:
    reply = bot.do("U0ADMIN", "/docker volume rm vol-free vol-used")
    assert isinstance(reply.result, Failure), reply.result  # no question
    assert reply.result.reason == (
        "in use, so not removed: `vol-used` by vol-user (running) — remove those containers first; nothing was removed"
    )
    assert {"vol-used", "vol-free"} <= stand.names()  # nothing removed, the free one neither
    stand.api.stop("vol-user", timeout=5)  # a stopped container holds its volumes too
    stopped = bot.do("U0ADMIN", "/docker volume rm vol-used")
    assert isinstance(stopped.result, Failure) and "`vol-used` by vol-user (exited)" in stopped.result.reason
    assert "vol-used" in stand.names()


def test_volume_rm_without_a_question_still_refuses_a_volume_in_use(stand: Stand) -> None:
    """`shipmate local` asks nothing: the executor itself refuses, naming the container."""
    engine = Engine(stand.engine.docker_host, timeout=30)
    try:
        result = execute(VolumeRemove(names=("vol-used",)), Context(engine))
    finally:
        engine.close()
    assert isinstance(result, Failure) and "`vol-used` by vol-user (running)" in result.reason
    assert "vol-used" in stand.names()


def test_volume_rm_of_a_free_volume_asks_then_removes_it(stand: Stand, bot: Bot) -> None:
    asked = bot.do("U0ADMIN", "/docker volume rm vol-free")
    assert isinstance(asked.result, ConfirmationRequest), asked.result
    assert asked.result.summary == "remove volume `vol-free` and the data in it for good"
    assert "vol-free" in stand.names()  # asking removed nothing
    done = _answer(bot.confirm(asked))
    assert isinstance(done, Outcomes) and [(o.target, o.ok) for o in done.outcomes] == [("vol-free", True)]
    assert "vol-free" not in stand.names() and {"vol-used", "vol-full"} <= stand.names()


# -- volume prune ---------------------------------------------------------------------------------------


def test_volume_prune_lists_exactly_the_unused_ones_and_confirm_removes_only_them(stand: Stand, bot: Bot) -> None:
    asked = bot.do("U0ADMIN", "/docker volume prune -a")
    question = asked.result
    assert isinstance(question, ConfirmationRequest), question
    listed = [line.split("`")[1] for line in question.details]
    assert listed == sorted(name for name in stand.names() if name not in ("vol-used",))
    assert {"vol-free", "vol-full"} <= set(listed)
    full_line = next(line for line in question.details if "`vol-full`" in line)
    assert "(307.2 kB)" in full_line  # BLOB_KB KiB, in decimal units
    assert question.summary.startswith(f"remove {len(listed)} unused volume") and "freeing" in question.summary
    assert question.command == "/docker --context default volume prune -a " + " ".join(listed)
    assert stand.names() >= set(listed)  # asking removed nothing

    stand.api.create_volume("vol-late", labels=MARK)  # unused too, but after the question
    done = _answer(bot.confirm(asked))
    assert isinstance(done, Outcomes) and done.all_ok
    assert sorted(outcome.target for outcome in done.outcomes) == listed
    assert {"vol-used", "vol-late"} <= stand.names()
    assert not set(listed) & stand.names()


def test_volume_prune_without_all_takes_only_anonymous_volumes(stand: Stand, bot: Bot) -> None:
    """As docker 23 and later: named volumes stay unless `-a`."""
    anonymous = stand.api.create_volume(labels={**MARK, "com.docker.volume.anonymous": ""})["Name"]
    asked = bot.do("U0ADMIN", "/docker volume prune")
    assert isinstance(asked.result, ConfirmationRequest), asked.result
    assert [line.split("`")[1] for line in asked.result.details] == [anonymous]
    assert asked.result.summary == "remove 1 unused anonymous volume, freeing 0 Bytes"
    done = _answer(bot.confirm(asked))
    assert isinstance(done, Outcomes) and [o.target for o in done.outcomes] == [anonymous]
    assert anonymous not in stand.names() and {"vol-free", "vol-full", "vol-used"} <= stand.names()
    nothing = bot.do("U0ADMIN", "/docker volume prune")
    assert _answer(nothing) == Notice("Nothing to prune: no unused anonymous volumes")


def test_a_viewer_may_not_remove_or_prune_volumes(stand: Stand, bot: Bot) -> None:
    before = stand.names()
    for line in ("/docker volume rm vol-free", "/docker volume prune -a", "/docker volume prune"):
        reply = bot.do("U0VIEW", line)
        assert isinstance(reply.result, Failure), (line, reply.result)
        assert f"`{'volume.rm' if ' rm ' in line else 'volume.prune'}` needs admin" in reply.result.reason
    assert stand.names() == before


# -- several engines ---------------------------------------------------------------------------------


def test_volume_and_network_ls_on_every_engine_merge_with_an_engine_column(stand: Stand, tmp_path: Path) -> None:
    host = stand.engine.docker_host
    engines = f"default: alpha\nengines:\n  alpha: {{host: '{host}'}}\n  beta: {{host: '{host}'}}\n"
    dispatcher = make_dispatcher(_settings(tmp_path, stand.engine, engines))
    try:
        bot = Bot(dispatcher)
        for line, table_type in (("volume ls", VolumeTable), ("network ls", NetworkTable)):
            reply = bot.do("U0VIEW", f"/docker --context all {line}")
            assert isinstance(reply.result, FleetAnswer), reply.result
            merged = reply.result.merged
            assert isinstance(merged, table_type), merged
            assert to_text(reply.result).splitlines()[0].split()[0] == "ENGINE"
            ours = [row.engine for row in merged.rows if row.name in ("vol-full", "vol-net")]
            assert sorted(ours) == ["alpha", "beta"]
    finally:
        dispatcher.close()
