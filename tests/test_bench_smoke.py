"""The benchmark's Engine API request counting, on a tiny setup: the counting proxy itself, tested in CI.

`python -m bench` runs the full figures (200 containers, 50 tags); here 5 containers and 2 extra tags show that
the proxy counts what passes (the docker CLI's ping and listing) and that `/ps -a` and `/img ls` through
`shipmate serve` each cost one listing request, with no per-item inspect.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from bench.alerts import measure_alert_latency, measure_watch_cost, start_alert_bot
from bench.compose import count_compose_ls, create_projects
from bench.database import measure_database
from bench.fixtures import TAG_REPOSITORY, create_containers, tag_images
from bench.fleet import measure_fleet
from bench.listing import bot_request_counts, cli_request_counts
from bench.oncall import start_containers, stats_request_count
from bench.proxy import CountingProxy
from bench.run import docker_cli
from bench.ssh import measure_ssh
from bench.stack import Stack
from bench.updates import measure_update_requests
from tests.private_engine import PrivateEngine
from tests.slack_standin import SlackStandin

CONTAINERS = 5
TAGS = 2


@pytest.fixture
def listed_engine(clean_engine: PrivateEngine) -> Iterator[PrivateEngine]:
    """The engine with CONTAINERS created containers and TAGS more image tags, all removed afterwards."""
    api = clean_engine.api()
    try:
        create_containers(api, CONTAINERS)
        tag_images(api, TAGS)
        yield clean_engine
    finally:
        for index in range(1, TAGS + 1):
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_image(f"{TAG_REPOSITORY}:v{index:03d}")
        api.close()
        clean_engine.reset()


def _image_rows(engine: PrivateEngine) -> int:
    """Rows of `docker image ls`: one per tag, one for an untagged image."""
    api = engine.api()
    try:
        return sum(len(image.get("RepoTags") or [None]) for image in api.images())
    finally:
        api.close()


def test_one_listing_request_per_listing(listed_engine: PrivateEngine, slack: SlackStandin, tmp_path: Path) -> None:
    images = _image_rows(listed_engine)
    with CountingProxy(listed_engine.docker_host, tmp_path / "engine.sock") as proxy:
        stack = Stack(listed_engine, proxy, slack, tmp_path)
        try:
            cli = cli_request_counts(stack, docker_cli())
            bot = stack.start_bot("counted", counted=True)
            counts = {count.command: count for count in bot_request_counts(stack, bot)}
        finally:
            stack.stop_bots()

    # The proxy sees what the docker CLI asks for: its ping, then the one listing.
    assert cli["docker ps -a"]["container list"] == 1
    assert cli["docker image ls"]["image list"] == 1
    assert counts["/ps -a"].by_kind == {"container list": 1}
    assert counts["/ps -a"].reply == f"{CONTAINERS} containers"
    assert counts["/img ls"].by_kind == {"image list": 1}
    assert counts["/img ls"].reply == f"{images} images"


def test_compose_ls_costs_one_listing_whatever_the_projects(
    clean_engine: PrivateEngine, slack: SlackStandin, tmp_path: Path
) -> None:
    api = clean_engine.api()
    try:
        create_projects(api, projects=3, per_project=4)
        create_containers(api, 2)  # not Compose's: not listed
        with CountingProxy(clean_engine.docker_host, tmp_path / "engine.sock") as proxy:
            stack = Stack(clean_engine, proxy, slack, tmp_path)
            try:
                bot = stack.start_bot("counted", counted=True)
                counts, reply = count_compose_ls(stack, bot, repeats=1)
            finally:
                stack.stop_bots()
    finally:
        api.close()
        clean_engine.reset()
    assert counts == {"container list": 1}
    assert reply == "3 Compose projects"


def test_stats_costs_one_listing_and_one_stats_request_per_running_container(
    clean_engine: PrivateEngine, slack: SlackStandin, tmp_path: Path
) -> None:
    api = clean_engine.api()
    try:
        start_containers(api, 3)
        api.create_container("busybox", "true", name="not-running")  # not sampled: no request for it
        with CountingProxy(clean_engine.docker_host, tmp_path / "engine.sock") as proxy:
            stack = Stack(clean_engine, proxy, slack, tmp_path)
            try:
                bot = stack.start_bot("counted", counted=True)
                count = stats_request_count(stack, bot, 3, repeats=1)
            finally:
                stack.stop_bots()
    finally:
        api.close()
        clean_engine.reset()
    assert count.by_kind == {"container list": 1, "container stats": 3} and count.one_each
    assert count.reply == "📊 3 containers, one sample"


def test_the_alert_figures_on_a_few_crashes(clean_engine: PrivateEngine, slack: SlackStandin, tmp_path: Path) -> None:
    with CountingProxy(clean_engine.docker_host, tmp_path / "engine.sock") as proxy:
        stack = Stack(clean_engine, proxy, slack, tmp_path)
        try:
            bot = start_alert_bot(stack, "alerts")
            latency = measure_alert_latency(stack, crashes=3)
            cost = measure_watch_cost(stack, bot, crashes=3, idle_seconds=1.0)
        finally:
            stack.stop_bots()
    assert latency.crashes == 3 and latency.missing == 0 and 0 < latency.p50_ms <= latency.p95_ms
    assert cost.burst_posted == 3 and cost.burst_events == 6 and cost.idle_rss_mib > 0


def test_a_fan_out_costs_one_listing_per_engine_and_waits_out_a_hung_one(
    clean_engine: PrivateEngine, tmp_path: Path
) -> None:
    figures = measure_fleet(clean_engine, tmp_path, runs=1, side_containers=3, hung_runs=1)
    assert figures.engines == {"big": 0, "side-1": 3, "side-2": 3}
    assert figures.listings == {"big": 1, "side-1": 1, "side-2": 1}
    assert figures.requests == figures.listings  # no version probe, ping or inspect once warmed up
    assert figures.hung_answered  # the timing itself is the bench's figure, not a test's


def test_the_ssh_figures_count_a_new_ssh_per_request_only_for_the_shell_out(
    clean_engine: PrivateEngine, tmp_path: Path
) -> None:
    figures = measure_ssh(clean_engine, tmp_path, runs=3)
    assert (figures.shell_out_ssh_runs, figures.relay_ssh_runs) == (3, 0)  # timings are the bench's, not a test's


def test_the_database_figures_run_on_sqlite_and_on_two_postgres_replicas(
    clean_engine: PrivateEngine, slack: SlackStandin, tmp_path: Path
) -> None:
    with CountingProxy(clean_engine.docker_host, tmp_path / "engine.sock") as proxy:
        stack = Stack(clean_engine, proxy, slack, tmp_path)
        try:
            figures = measure_database(stack, senders=2, seconds=1.0)
        finally:
            stack.stop_bots()
    assert [result.scenario for result in figures.results] == [
        "sqlite, 1 replica",
        "postgresql, 1 replica",
        "postgresql, 2 replicas",
    ]
    assert all(result.commands > 0 and result.errors == 0 for result in figures.results), figures


def test_updates_over_30_containers_of_10_images_asks_the_registry_10_times(
    clean_engine: PrivateEngine, slack: SlackStandin, tmp_path: Path
) -> None:
    with CountingProxy(clean_engine.docker_host, tmp_path / "engine.sock") as proxy:
        stack = Stack(clean_engine, proxy, slack, tmp_path)
        try:
            figure = measure_update_requests(stack)
        finally:
            stack.stop_bots()
    assert (figure.containers, figure.references, figure.first, figure.again) == (30, 10, 10, 0)
    assert figure.reply == "0 of 30 running containers can be updated"
    api = clean_engine.api()
    assert not api.containers(all=True, filters={"name": "bench-updates-"})  # the figure cleans up after itself
    api.close()
