"""stats, top, port and diff without an engine: the docker CLI's formulas on real-shaped samples, and the
executors' handling of what the engine answers (a stand-in client records every call)."""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import docker.errors
import pytest
import requests

from bot.confirm.questions import Pending, confirmation_for
from bot.engine import Context, Engine, EngineError, RunLimits, execute
from bot.engine.diagnostics import stats_row
from bot.engine.execs import MAX_OUTPUT_BYTES
from bot.engine.prune import PruneItem
from bot.engine.running_follows import Follows, Stopped
from bot.grammar import parse
from bot.grammar.commands import (
    ContainerDiff,
    ContainerExec,
    ContainerFollow,
    ContainerPort,
    ContainerPrune,
    ContainerStats,
    ImagePrune,
    SystemDiskUsage,
    SystemEvents,
)
from bot.render.format import binary_size, decimal_size
from bot.render.terminal import to_text
from bot.results import FileChanges, FollowedLogs, Notice, PortList, StatsTable

# A cgroup v2 sample as `GET /containers/{id}/stats?stream=false` returns it (fields trimmed to the used ones).
SAMPLE_V2 = {
    "name": "/web1",
    "id": "0123456789abcdef0123",
    "read": "2026-12-02T23:00:01.5Z",
    "cpu_stats": {"cpu_usage": {"total_usage": 2_500_000_000}, "system_cpu_usage": 120_000_000_000, "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000}, "system_cpu_usage": 118_000_000_000},
    "memory_stats": {"usage": 10_485_760, "limit": 2_147_483_648, "stats": {"inactive_file": 2_097_152}},
    "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 700}, "eth1": {"rx_bytes": 500, "tx_bytes": 300}},
    "blkio_stats": {
        "io_service_bytes_recursive": [
            {"major": 8, "minor": 0, "op": "read", "value": 4096},
            {"major": 8, "minor": 0, "op": "write", "value": 8192},
            {"major": 8, "minor": 16, "op": "Read", "value": 1000},
        ]
    },
    "pids_stats": {"current": 3},
}


def test_stats_row_applies_the_cli_formulas() -> None:
    row = stats_row(SAMPLE_V2, "web1")
    assert row.name == "web1" and row.short_id == "0123456789ab"
    assert row.cpu_percent == pytest.approx(500_000_000 / 2_000_000_000 * 2 * 100)  # 50 %
    assert row.memory_used == 10_485_760 - 2_097_152  # page cache left out
    assert row.memory_percent == pytest.approx(8_388_608 / 2_147_483_648 * 100)
    assert (row.net_rx, row.net_tx) == (2000, 1000)
    assert (row.block_read, row.block_write) == (5096, 8192)
    assert row.pids == 3 and row.running


def test_stats_row_cgroup_v1_and_per_cpu_fallback() -> None:
    sample = {
        **SAMPLE_V2,
        "cpu_stats": {"cpu_usage": {"total_usage": 300, "percpu_usage": [150, 150, 0, 0]}, "system_cpu_usage": 1000},
        "precpu_stats": {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 600},
        "memory_stats": {"usage": 1000, "limit": 0, "stats": {"total_inactive_file": 400, "inactive_file": 1}},
    }
    row = stats_row(sample, "web1")
    assert row.cpu_percent == pytest.approx(200 / 400 * 4 * 100)  # online CPUs from the per-CPU list
    assert row.memory_used == 600 and row.memory_percent == 0.0  # no limit: 0 %, as the CLI


def test_stopped_container_sample_is_zero() -> None:
    row = stats_row({"name": "/old", "id": "ab" * 32, "read": "0001-01-01T00:00:00Z"}, "old")
    assert not row.running and row.cpu_percent == 0.0 and row.memory_used == 0 and row.pids == 0


@pytest.mark.parametrize(
    ("count", "binary", "decimal"),
    [(0, "0B", "0B"), (1023, "1023B", "1.02kB"), (1_572_864, "1.5MiB", "1.57MB"), (8_200_000_000, "7.637GiB", "8.2GB")],
)
def test_sizes_as_docker_prints_them(count: int, binary: str, decimal: str) -> None:
    assert binary_size(count) == binary
    assert decimal_size(count) == decimal


def test_stats_text_reads_like_docker_stats() -> None:
    table = StatsTable((stats_row(SAMPLE_V2, "web1"),), all=False)
    header, line = to_text(table).split("\n")
    assert re.split(r"\s{3,}", header) == [
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ]
    assert line.split() == [
        "web1",
        "50.00%",
        "8MiB",
        "/",
        "2GiB",
        "0.39%",
        "2kB",
        "/",
        "1kB",
        "5.1kB",
        "/",
        "8.19kB",
        "3",
    ]


@dataclass
class FakeApi:
    """Answers like the engine; records every call."""

    samples: dict[str, dict] = field(default_factory=dict)
    listing: list[dict] = field(default_factory=list)
    inspect: dict = field(default_factory=dict)
    changes: list[dict] | None = None
    usage: dict = field(default_factory=dict)
    event_log: list[dict] = field(default_factory=list)
    calls: list[tuple] = field(default_factory=list)

    def containers(self, all: bool = False) -> list[dict]:
        self.calls.append(("containers", all))
        return self.listing

    def stats(self, ref: str, stream: bool = True) -> dict:
        self.calls.append(("stats", ref, stream))
        if ref not in self.samples:
            response = requests.Response()
            response.status_code = 404
            raise docker.errors.NotFound("No such container", response, explanation=f"No such container: {ref}")
        return self.samples[ref]

    def inspect_container(self, ref: str) -> dict:
        self.calls.append(("inspect", ref))
        return self.inspect

    def df(self) -> dict:
        self.calls.append(("df",))
        return self.usage

    def events(self, **params: object) -> "FakeStream":
        self.calls.append(("events", params))
        return FakeStream(self.event_log)

    def diff(self, ref: str) -> list[dict] | None:
        self.calls.append(("diff", ref))
        return self.changes


class FakeStream(list):
    closed = False

    def close(self) -> None:
        self.closed = True


class FakeEngine(Engine):
    def __init__(self, fake: FakeApi) -> None:
        super().__init__("unix:///nonexistent/docker.sock", pool_size=4)
        self.fake = fake

    @property
    def api(self) -> FakeApi:  # type: ignore[override]
        return self.fake


def run(command, api: FakeApi):
    return execute(command, Context(engine=FakeEngine(api)))


def test_stats_lists_once_then_one_stats_request_per_container() -> None:
    api = FakeApi(
        samples={f"id{i}": {**SAMPLE_V2, "name": f"/c{i}"} for i in range(6)},
        listing=[{"Id": f"id{i}"} for i in range(6)],
    )
    table = run(ContainerStats(), api)
    assert [row.name for row in table.rows] == [f"c{i}" for i in range(6)]
    assert api.calls[0] == ("containers", False)
    assert sorted(api.calls[1:]) == sorted(("stats", f"id{i}", False) for i in range(6))


def test_stats_of_named_containers_makes_no_listing_and_names_the_missing() -> None:
    api = FakeApi(samples={"web1": SAMPLE_V2})
    table = run(ContainerStats(containers=("web1", "ghost")), api)
    assert all(call[0] == "stats" for call in api.calls)
    assert table.rows[1].name == "ghost" and table.rows[1].error == "no such container: `ghost`"
    assert "ghost: no such container: `ghost`" in to_text(table)
    with pytest.raises(EngineError, match="no such container: `ghost`"):
        run(ContainerStats(containers=("ghost",)), api)


def test_port_lines_like_docker_port() -> None:
    ports = {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8081"}, {"HostIp": "::", "HostPort": "8081"}],
        "443/tcp": None,
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
    }
    api = FakeApi(inspect={"NetworkSettings": {"Ports": ports}})
    listed = run(ContainerPort(container="web1"), api)
    assert listed == PortList(
        "web1", ("53/udp -> 127.0.0.1:5353", "80/tcp -> 0.0.0.0:8081", "80/tcp -> [::]:8081"), None
    )
    one = run(ContainerPort(container="web1", private_port=80), api)
    assert one.lines == ("0.0.0.0:8081", "[::]:8081") and one.private_port == "80/tcp"
    with pytest.raises(EngineError, match="no public port `443/tcp` published for `web1`"):
        run(ContainerPort(container="web1", private_port=443), api)


def test_diff_kinds() -> None:
    api = FakeApi(changes=[{"Path": "/etc", "Kind": 0}, {"Path": "/etc/x", "Kind": 1}, {"Path": "/tmp/y", "Kind": 2}])
    assert run(ContainerDiff(container="web1"), api) == FileChanges(
        "web1", (("C", "/etc"), ("A", "/etc/x"), ("D", "/tmp/y"))
    )
    assert run(ContainerDiff(container="web1"), FakeApi(changes=None)).changes == ()


def test_system_df_reclaimable_as_the_cli_computes_it() -> None:
    usage = {
        "LayersSize": 1000,
        "Images": [
            {"Id": "sha256:" + "a" * 64, "RepoTags": ["nginx:latest"], "Size": 600, "SharedSize": 100, "Containers": 1},
            {"Id": "sha256:" + "b" * 64, "RepoTags": [], "Size": 400, "SharedSize": -1, "Containers": 0},
        ],
        "Containers": [
            {"Id": "c" * 64, "State": "running", "SizeRw": 30, "Names": ["/up"]},
            {"Id": "d" * 64, "State": "exited", "SizeRw": 70, "Names": ["/down"]},
        ],
        "Volumes": [
            {"Name": "v1", "UsageData": {"Size": 36, "RefCount": 0}},
            {"Name": "v2", "UsageData": {"Size": -1}},
        ],
        "BuildCache": [{"Size": 5, "InUse": True}, {"Size": 7, "InUse": False}, {"Size": 9, "Shared": True}],
    }
    result = run(SystemDiskUsage(verbose=True), FakeApi(usage=usage))
    assert [(r.kind, r.total, r.active, r.size, r.reclaimable) for r in result.rows] == [
        ("Images", 2, 1, 1000, 500),  # 1000 - (600 - 100) held by the image in use
        ("Containers", 2, 1, 100, 70),
        ("Local Volumes", 2, 0, 36, 36),
        ("Build Cache", 3, 1, 12, 7),
    ]
    text = to_text(result)
    assert "Images          2       1        1kB    500B (50%)" in text
    assert "Containers      2       1        100B   70B (70%)" in text
    assert (result.images[1].repository, result.images[1].tag) == ("<none>", "<none>")
    assert "N/A" in text and "Build cache usage: 12B" in text


def test_events_keep_the_latest_200_and_close_the_stream() -> None:
    log = [
        {
            "Type": "container",
            "Action": "start",
            "Actor": {"ID": f"id{i}", "Attributes": {"name": f"c{i}"}},
            "timeNano": i,
        }
        for i in range(250)
    ]
    api = FakeApi(event_log=log)
    result = run(SystemEvents(since="600s"), api)
    assert len(result.events) == 200 and result.cut and result.events[0].actor == "id50"
    _, params = api.calls[0]
    assert float(params["until"]) - float(params["since"]) == pytest.approx(600, abs=1)  # unix times, as the API takes
    assert "the latest 200 events from 10 minutes ago until now" in to_text(result)


def test_event_attributes_that_look_secret_are_masked() -> None:
    log = [{"Type": "container", "Action": "create", "Actor": {"ID": "x", "Attributes": {"DB_PASSWORD": "pw-1"}}}]
    result = run(SystemEvents(), FakeApi(event_log=log))
    assert result.events[0].attributes == (("DB_PASSWORD", "••••"),) and "pw-1" not in to_text(result)


class PruneApi(FakeApi):
    def __init__(self, listing: list[dict]) -> None:
        super().__init__(listing=listing)
        self.removed: list[str] = []

    def containers(self, all: bool = False, size: bool = False, filters: dict | None = None) -> list[dict]:
        return self.listing

    def remove_container(self, ref: str) -> None:
        self.removed.append(ref)


class ExecApi(FakeApi):
    def __init__(self, chunks: list[bytes], exit_code: int = 0, hold: threading.Event | None = None) -> None:
        super().__init__()
        self.chunks, self.exit_code, self.hold = chunks, exit_code, hold

    def exec_create(self, ref: str, cmd: list[str], **options: object) -> dict:
        self.calls.append(("exec_create", ref, tuple(cmd), options))
        return {"Id": "exec1"}

    def exec_start(self, exec_id: str, stream: bool = False) -> Iterator[bytes]:
        yield from self.chunks
        if self.hold is not None:
            self.hold.wait(30)

    def exec_inspect(self, exec_id: str) -> dict:
        return {"ExitCode": self.exit_code, "Running": False}


def test_exec_runs_the_argv_as_is_with_no_tty_and_no_privilege() -> None:
    api = ExecApi([b"nginx: the configuration file is ok\n"], exit_code=0)
    done = execute(ContainerExec(container="web1", argv=("nginx", "-t")), Context(engine=FakeEngine(api)))
    assert done.exit_code == 0 and done.output == "nginx: the configuration file is ok\n"
    _, ref, argv, options = api.calls[0]
    assert (ref, argv) == ("web1", ("nginx", "-t"))
    assert options["tty"] is False and options["privileged"] is False and "user" not in options


def test_exec_output_is_capped_to_its_newest_bytes() -> None:
    chunks = [f"{i:07d}\n".encode() for i in range(100_000)]  # 800 kB
    done = execute(ContainerExec(container="w", argv=("seq",)), Context(engine=FakeEngine(ExecApi(chunks))))
    assert done.output_truncated and done.output.endswith("0099999\n") and len(done.output) <= MAX_OUTPUT_BYTES


def test_exec_that_outlives_the_limit_says_so_with_what_it_printed() -> None:
    hold = threading.Event()
    api = ExecApi([b"still going\n"], hold=hold)
    ctx = Context(engine=FakeEngine(api), limits=RunLimits(wait_seconds=0.2))
    try:
        done = execute(ContainerExec(container="w", argv=("tail", "-f", "/var/log/x")), ctx)
    finally:
        hold.set()
    assert done.timed_out_after == 0.2 and done.exit_code is None and done.output == "still going\n"
    assert "was still running after 0.2 s" in to_text(done)


def test_prune_question_lists_exactly_what_confirm_removes() -> None:
    plan = (PruneItem("0123456789ab", "old1", 4096, "exited"), PruneItem("ba9876543210", "old2", 0, "created"))
    pending = confirmation_for(ContainerPrune(), None, plan)
    assert pending == Pending(
        "remove 2 stopped containers, freeing 4.1 kB",
        ("`0123456789ab` old1 (exited, 4.1 kB)", "`ba9876543210` old2 (created, 0 Bytes)"),
        "container prune 0123456789ab ba9876543210",
    )
    assert parse(pending.text) == ContainerPrune(only=("0123456789ab", "ba9876543210"))
    images = confirmation_for(ImagePrune(all=True), None, (PruneItem("c0ffee0c0ffe", "app:old", 5_000_000),))
    assert (
        images.text == "image prune -a c0ffee0c0ffe" and images.summary == "remove 1 unused image, freeing about 5.0 MB"
    )
    assert confirmation_for(ImagePrune(), None, ()) == Notice("Nothing to prune: no dangling images")


def test_prune_removes_only_the_listed_ones_still_prunable() -> None:
    api = PruneApi(
        listing=[
            {"Id": "a" * 64, "Names": ["/old1"], "State": "exited", "SizeRw": 1},
            {"Id": "b" * 64, "Names": ["/late"], "State": "exited", "SizeRw": 1},  # stopped after the question
        ]
    )
    done = run(ContainerPrune(only=("a" * 12, "c" * 12)), api)
    assert api.removed == ["a" * 12]
    assert [(o.target, o.ok) for o in done.outcomes] == [(f"old1 ({'a' * 12})", True), ("c" * 12, False)]
    assert "no longer prunable" in done.outcomes[1].detail


class FollowApi(FakeApi):
    """A log stream that prints its lines, then stays open until closed (a running container)."""

    def __init__(self, lines: list[str], ends: bool = False) -> None:
        super().__init__()
        self.lines, self.ends, self.closed = lines, ends, threading.Event()

    def logs(self, ref: str, **params: object) -> "FollowStream":
        self.calls.append(("logs", ref, params))
        return FollowStream(self)

    def inspect_container(self, ref: str) -> dict:
        if ref == "ghost":
            response = requests.Response()
            response.status_code = 404
            raise docker.errors.NotFound("No such container", response, explanation=f"No such container: {ref}")
        return {"State": {"Running": not self.ends}}


class FollowStream:
    def __init__(self, api: FollowApi) -> None:
        self.api = api

    def __iter__(self) -> Iterator[bytes]:
        for line in self.api.lines:
            yield f"2026-12-02T23:00:00.123456789Z {line}\n".encode()
        if not self.api.ends:
            self.api.closed.wait(30)
            raise OSError("closed under the read")

    def close(self) -> None:
        self.api.closed.set()


def test_follow_reports_lines_and_stops_when_asked() -> None:
    api = FollowApi(["one", "two"])
    reports: list[FollowedLogs] = []
    follows = Follows()

    def progress(update: object) -> None:
        assert isinstance(update, FollowedLogs)
        reports.append(update)
        if "two" in update.text:
            assert follows.stop(update.follow_id).stopped is Stopped.HERE  # what the Stop following button runs

    ctx = Context(engine=FakeEngine(api), progress=progress, follows=follows)
    done = execute(ContainerFollow(container="web1", tail=5), ctx)
    assert reports[0].text == "" and reports[0].ended is None  # the message opens before the first line
    assert done.text == "one\ntwo\n" and done.lines == 2 and done.ended == "Stop following was clicked"
    assert api.closed.is_set()  # the stream is closed, the id forgotten
    assert follows.stop(done.follow_id).stopped is Stopped.ENDED
    _, ref, params = api.calls[0]
    assert ref == "web1" and params["follow"] is True and params["tail"] == 5 and params["timestamps"] is True


def test_follow_ends_with_the_container_or_the_time_limit() -> None:
    ended = execute(ContainerFollow(container="w"), Context(engine=FakeEngine(FollowApi(["bye"], ends=True))))
    assert ended.ended == "the container is not running" and ended.text == "bye\n"
    with pytest.raises(EngineError, match="no such container: `ghost`"):
        execute(ContainerFollow(container="ghost"), Context(engine=FakeEngine(FollowApi([]))))
    ctx = Context(engine=FakeEngine(FollowApi([])), limits=RunLimits(follow_seconds=0.5))
    limited = execute(ContainerFollow(container="w"), ctx)
    assert limited.ended == "followed for 0.5 s, the most Shipmate follows (SHIPMATE_FOLLOW_MAX)"


class QuietThenTalkingApi(FollowApi):
    """The first stream prints one line and then times out (quiet past the engine timeout); the next goes on."""

    def logs(self, ref: str, **params: object) -> Iterator[bytes]:
        self.calls.append(("logs", ref, params))
        if len(self.calls) == 1:
            return self._quiet()
        self.lines, self.ends = ["two"], True
        return iter(FollowStream(self))

    def _quiet(self) -> Iterator[bytes]:
        yield b"2026-12-02T23:00:00.500000000Z one\n"
        raise requests.exceptions.ReadTimeout("Read timed out.")


def test_a_quiet_follow_is_opened_again_from_its_last_line() -> None:
    api = QuietThenTalkingApi([])
    done = execute(ContainerFollow(container="w", tail=3), Context(engine=FakeEngine(api)))
    assert done.text == "one\ntwo\n" and done.ended == "the container stopped"
    (_, _, first), (_, _, again) = api.calls
    assert first["tail"] == 3 and first["since"] is None
    assert again["tail"] == "all" and again["since"] == pytest.approx(1_796_252_400.5, abs=1e-3)
