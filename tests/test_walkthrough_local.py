"""The seed tutorial's walkthrough in local mode, each step checked through the private engine's own state."""

import json
import os
import subprocess
import sys

import pytest

from bot.dispatcher import Dispatcher, Request
from bot.engine import Engine, RunLimits
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import ContainerTable, Failure, ImageDetails, ImageTable, Outcomes, PullDone, RunDone
from tests.blockkit import assert_valid_message


@pytest.fixture
def dispatch(clean_engine):
    dispatcher = Dispatcher(Engine(clean_engine.docker_host, timeout=30), limits=RunLimits(wait_seconds=20))

    def run(line: str):
        slash, _, text = line.partition(" ")
        return dispatcher.handle(Request(text=text, slash=slash), to_text)

    return run


def shipmate_local(engine, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKER_HOST": engine.docker_host}
    return subprocess.run(
        [sys.executable, "-m", "bot", "local", *args], env=env, capture_output=True, text=True, timeout=120
    )


def names(api, all_: bool = False) -> set[str]:
    return {c["Names"][0].lstrip("/") for c in api.containers(all=all_)}


def test_image_ls_lists_every_image_and_filters_like_docker(dispatch, clean_engine):
    everything = dispatch("/img ls")
    assert isinstance(everything.result, ImageTable)
    repos = {row.repository for row in everything.result.rows}
    assert {"nginx", "busybox", "devwikirepo/envnodecolorapp"} <= repos
    clean_engine.api().pull("nginx", tag="1.25")
    only_nginx = dispatch("/img ls nginx")
    assert {(row.repository, row.tag) for row in only_nginx.result.rows} >= {("nginx", "latest"), ("nginx", "1.25")}
    assert {row.repository for row in only_nginx.result.rows} == {"nginx"}
    engine_ids = {image["Id"].removeprefix("sha256:")[:12] for image in clean_engine.api().images(name="nginx")}
    assert {row.short_id for row in only_nginx.result.rows} == engine_ids


def test_run_three_from_one_image_then_ps_then_rm_f(dispatch, clean_engine):
    api = clean_engine.api()
    for index in (1, 2, 3):
        reply = dispatch(f"/run -d --name multinginx{index} nginx")
        assert reply.ok, reply.message
        assert isinstance(reply.result, RunDone) and reply.result.state == "running"
    assert names(api) == {"multinginx1", "multinginx2", "multinginx3"}
    listed = dispatch("/ps")
    assert isinstance(listed.result, ContainerTable)
    assert {row.name for row in listed.result.rows} == names(api)
    assert all(row.status.startswith("Up") for row in listed.result.rows)
    removed = dispatch("/rm -f multinginx1 multinginx2 multinginx3")
    assert isinstance(removed.result, Outcomes) and removed.result.all_ok
    assert names(api, all_=True) == set()


def test_image_inspect_shows_env_and_cmd(dispatch, clean_engine):
    reply = dispatch("/img inspect nginx")
    assert isinstance(reply.result, ImageDetails)
    config = clean_engine.api().inspect_image("nginx")["Config"]
    assert reply.result.cmd == tuple(config["Cmd"])
    assert dict(reply.result.env) == dict(item.split("=", 1) for item in config["Env"])
    assert "NGINX_VERSION=1.25.0" in reply.message and "httpd -f -p 80" in reply.message


def test_image_history_matches_the_engine_and_masks_build_steps(dispatch, clean_engine):
    api = clean_engine.api()
    built = api.create_container("busybox", ["sh", "-c", "echo API_TOKEN=hunter2-secret > /token"], name="builder")
    api.start(built["Id"])
    api.wait(built["Id"], timeout=30)
    api.commit(built["Id"], repository="built", tag="1", message="made by a test")
    try:
        reply = dispatch("/img history built:1")
        assert reply.ok, reply.message
        layers = api.history("built:1")
        assert len(reply.result.layers) == len(layers) > 1
        assert reply.result.layers[0].comment == "made by a test"
        assert "hunter2-secret" not in reply.message and "API_TOKEN=••••" in reply.message
        whole = dispatch("/docker history --no-trunc built:1")
        assert "echo API_TOKEN=•••• > /token" in whole.message and "…" not in whole.message.split("\n")[1]
    finally:
        api.remove_container(built["Id"])
        api.remove_image("built:1")


def test_container_inspect_matches_the_engine(dispatch, clean_engine):
    dispatch("/run -d --name inspectme --env COLOR=green nginx")
    reply = dispatch("/docker container inspect inspectme")
    data = clean_engine.api().inspect_container("inspectme")
    assert reply.result.state == data["State"]["Status"] == "running"
    assert reply.result.short_id == data["Id"][:12]
    assert ("COLOR", "green") in reply.result.env


def test_run_with_custom_command_shows_output_and_exit_code(dispatch, clean_engine):
    reply = dispatch("/run --name customCmd nginx cat /usr/share/nginx/html/index.html")
    assert isinstance(reply.result, RunDone)
    assert reply.result.exit_code == 0
    assert "Welcome to nginx!" in reply.result.output
    api = clean_engine.api()
    assert "customCmd" not in names(api)
    assert "customCmd" in names(api, all_=True)
    assert "customCmd" not in {row.name for row in dispatch("/ps").result.rows}
    assert "customCmd" in {row.name for row in dispatch("/ps -a").result.rows}
    failing = dispatch("/run --rm nginx sh -c 'echo oops >&2; exit 3'")
    assert failing.result.exit_code == 3 and "oops" in failing.result.output
    assert failing.result.removed and len(api.containers(all=True)) == 1


def test_run_colour_app_with_env_and_port(dispatch, clean_engine):
    reply = dispatch("/run -d -p 8081:3000 --name blueColorApp --env COLOR=blue devwikirepo/envnodecolorapp")
    assert reply.ok, reply.message
    data = clean_engine.api().inspect_container("blueColorApp")
    assert "COLOR=blue" in data["Config"]["Env"]
    assert data["HostConfig"]["PortBindings"]["3000/tcp"][0]["HostPort"] == "8081"
    assert data["NetworkSettings"]["Ports"]["3000/tcp"][0]["HostPort"] == "8081"
    assert "0.0.0.0:8081→3000/tcp" in reply.result.ports


def test_port_clash_leaves_no_half_created_container(dispatch, clean_engine):
    assert dispatch("/run -d -p 8082:3000 --name first devwikirepo/envnodecolorapp").ok
    clash = dispatch("/run -d -p 8082:3000 --name second devwikirepo/envnodecolorapp")
    assert isinstance(clash.result, Failure)
    assert "8082" in clash.result.reason and "already allocated" in clash.result.reason
    assert names(clean_engine.api(), all_=True) == {"first"}


def test_pull_from_the_local_registry(dispatch, clean_engine):
    api = clean_engine.api()
    for image in api.images(name="nginx"):
        if "nginx:1.25" in (image.get("RepoTags") or []):
            api.remove_image("nginx:1.25")
    reply = dispatch("/img pull nginx:1.25")
    assert isinstance(reply.result, PullDone) and reply.result.updated
    assert api.inspect_image("nginx:1.25")["Id"].removeprefix("sha256:")[:12] == reply.result.short_id
    again = dispatch("/docker pull nginx:1.25")
    assert not again.result.updated and "up to date" in again.message


def test_docker_errors_in_plain_words(dispatch):
    assert "no such container: `ghost`" in dispatch("/rm ghost").message
    assert "no such image" in dispatch("/img inspect ghost:1").message
    assert dispatch("/run -d --name dup nginx").ok
    duplicate = dispatch("/run -d --name dup nginx")
    assert "already in use" in duplicate.result.reason


def test_partial_rm_reports_each_container(dispatch, clean_engine):
    dispatch("/run -d --name keepme nginx")
    dispatch("/run --name done nginx true")
    reply = dispatch("/rm done keepme ghost")
    outcomes = {o.target: o for o in reply.result.outcomes}
    assert outcomes["done"].ok
    assert not outcomes["keepme"].ok and "running" in outcomes["keepme"].detail
    assert not outcomes["ghost"].ok and "no such container" in outcomes["ghost"].detail
    assert names(clean_engine.api(), all_=True) == {"keepme"}


def test_logs_stop_start_restart(dispatch, clean_engine):
    dispatch("/run --name talker busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done'")
    logs = dispatch("/logs --tail 2 talker")
    assert logs.message.split() == ["line4", "line5"]
    dispatch("/run -d --name svc nginx")
    assert dispatch("/docker stop svc").ok
    assert clean_engine.api().inspect_container("svc")["State"]["Status"] == "exited"
    assert dispatch("/docker start svc").ok
    assert clean_engine.api().inspect_container("svc")["State"]["Running"]
    before = clean_engine.api().inspect_container("svc")["State"]["StartedAt"]
    assert dispatch("/container restart svc").ok
    assert clean_engine.api().inspect_container("svc")["State"]["StartedAt"] != before


def test_foreground_run_is_stopped_at_its_limit(clean_engine):
    dispatcher = Dispatcher(Engine(clean_engine.docker_host, timeout=30), limits=RunLimits(wait_seconds=2))
    reply = dispatcher.handle(Request(text="--name sleeper busybox sleep 600", slash="/run"), to_text)
    assert reply.result.timed_out_after == 2
    assert "was stopped" in reply.message
    assert clean_engine.api().inspect_container("sleeper")["State"]["Running"] is False


def test_shipmate_local_cli_text_json_and_errors(clean_engine):
    listed = shipmate_local(clean_engine, "/img ls")
    assert listed.returncode == 0 and "REPOSITORY" in listed.stdout and "nginx" in listed.stdout
    as_json = shipmate_local(clean_engine, "--json", "/ps -a")
    payload = json.loads(as_json.stdout)
    assert payload["text"] and isinstance(payload["blocks"], list)
    bad = shipmate_local(clean_engine, "/run --privileged nginx")
    assert bad.returncode != 0
    assert bad.stderr.strip().count("\n") == 0 and "--privileged" in bad.stderr
    assert "Traceback" not in bad.stderr + bad.stdout
    assert clean_engine.api().containers(all=True) == []


def test_a_prune_with_nothing_to_prune_says_so_in_one_line(dispatch, clean_engine):
    api = clean_engine.api()
    for leftover in api.images(filters={"dangling": True}):  # earlier tests' leftovers
        api.remove_image(leftover["Id"], force=True)
    api.create_container("busybox", "sleep 600", name="stays-up")
    api.start("stays-up")  # running: not prunable
    for line, words in (
        ("/docker container prune", "Nothing to prune: no stopped containers"),
        ("/img prune", "Nothing to prune: no dangling images"),
    ):
        done = shipmate_local(clean_engine, line)
        assert (done.returncode, done.stdout.strip()) == (0, words), done.stderr
        message = to_message(dispatch(line).result)
        assert message.text == words
        assert_valid_message(message.payload())
    assert {c["Names"][0] for c in api.containers(all=True)} == {"/stays-up"}


def test_shipmate_local_reports_an_unreachable_engine(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "local", "/ps"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "Docker engine unreachable at unix://" in result.stderr and "Traceback" not in result.stderr
