"""On-call checks over signed HTTP to the real `shipmate serve`, against the private engine: every answer is
compared with the engine's own state, and every message must be valid Block Kit."""

import html
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from bot.render.format import size
from tests.blockkit import assert_valid_message
from tests.signed_client import SignedClient, block_actions, find_button

pytestmark = pytest.mark.engine

# No `roles:` key: the standard viewer, operator and admin roles.
POLICY = """
members:
  U0ALICE: admin
  "*": viewer
"""
VIEWER = "U0VIEWER"
STATS_COLUMNS = ["NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]


class Chat:
    def __init__(self, client: SignedClient, slack) -> None:
        self.client, self.slack, self.count = client, slack, 0

    def answer(self, command: str, text: str = "", user_id: str = VIEWER) -> dict[str, Any]:
        self.count += 1
        name = f"r{self.count}"
        reply = self.client.slash(command, text, response_url=self.slack.response_url(name), user_id=user_id)
        assert reply.status == 200, reply.text
        body = reply.body if isinstance(reply.body, dict) else {}
        if not (body.get("blocks") and not body.get("text", "").startswith("⏳")):
            body = self.slack.wait_for_response(name, timeout=60)
        assert_valid_message(body)
        return body


@pytest.fixture
def chat(bot_server, slack, signing_secret, tmp_path: Path, request: pytest.FixtureRequest) -> Chat:
    """A bot on the private engine; a test marked `bot_env(NAME=VALUE, …)` adds those settings."""
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    extra = marker.kwargs if (marker := request.node.get_closest_marker("bot_env")) else {}
    bot = bot_server(SHIPMATE_POLICY=str(policy), SHIPMATE_AUDIT_DB=str(tmp_path / "audit.db"), **extra)
    return Chat(SignedClient(bot.url, signing_secret), slack)


def code_lines(message: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for block in message["blocks"]:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        if text.startswith("```\n"):
            lines += html.unescape(text[4:-4]).split("\n")  # as Slack shows it
    return lines


def text_of(message: dict[str, Any]) -> str:
    return "\n".join([message.get("text", ""), *(str(block) for block in message.get("blocks", []))])


def test_stats_of_three_containers_a_busy_one_above_the_idle_ones(chat, clean_engine):
    api = clean_engine.api()
    for name, command in (("busy", "sh -c 'while :; do :; done'"), ("idle1", "sleep 600"), ("idle2", "sleep 600")):
        assert "started" in text_of(chat.answer("/run", f"-d --name {name} busybox {command}", user_id="U0ALICE"))
    stopped = api.create_container("busybox", "true", name="stopped")  # not running: not sampled without -a
    assert stopped["Id"]

    answer = chat.answer("/docker", "stats --no-stream")
    assert answer["response_type"] == "ephemeral" and "3 containers, one sample" in answer["text"]
    header, *rows = code_lines(answer)
    assert re.split(r"\s{3,}", header) == STATS_COLUMNS
    by_name = {row.split()[0]: row.split() for row in rows}
    assert set(by_name) == {"busy", "idle1", "idle2"}
    cpu = {name: float(cells[1].rstrip("%")) for name, cells in by_name.items()}
    assert cpu["busy"] > cpu["idle1"] and cpu["busy"] > cpu["idle2"], cpu
    assert cpu["busy"] > 1.0, cpu  # a busy loop, even on a loaded machine
    for name, cells in by_name.items():
        assert cells[-1] == str(len(api.top(name)["Processes"]))  # PIDS as the engine counts them
        assert cells[3] == "/" and cells[4].endswith("B")  # MEM USAGE / LIMIT

    named = code_lines(chat.answer("/container", "stats idle1 stopped"))
    assert [line.split()[0] for line in named[1:]] == ["idle1", "stopped"]
    assert named[2].split()[1:3] == ["0.00%", "0B"]


def test_top_port_and_diff_match_the_engine(chat, clean_engine):
    api = clean_engine.api()
    chat.answer("/run", "-d --name web -p 8081:80 nginx", user_id="U0ALICE")
    command = "sh -c 'mkdir /scratch; echo hi > /scratch/new; sleep 600'"
    chat.answer("/run", f"-d --name writer busybox {command}", user_id="U0ALICE")

    top = chat.answer("/docker", "top web")
    lines = code_lines(top)
    assert re.split(r"\s{2,}", lines[0])[:3] == ["UID", "PID", "PPID"] and lines[0].rstrip().endswith("CMD")
    engine_pids = {process[1] for process in api.top("web")["Processes"]}
    shown_pids = {line.split()[1] for line in lines[1:]}
    assert shown_pids == engine_pids and any("httpd -f -p 80" in line for line in lines[1:])

    ported = code_lines(chat.answer("/docker", "port web"))
    assert "80/tcp -> 0.0.0.0:8081" in ported
    bindings = api.inspect_container("web")["NetworkSettings"]["Ports"]["80/tcp"]
    assert len(ported) == len(bindings)
    assert code_lines(chat.answer("/container", "port web 80/tcp"))[0] == "0.0.0.0:8081"
    assert "no public port `443/tcp`" in chat.answer("/docker", "port web 443")["text"]

    deadline = time.monotonic() + 10
    while not api.diff("writer") and time.monotonic() < deadline:  # the shell may not have written yet
        time.sleep(0.1)
    diff = chat.answer("/docker", "diff writer")
    changes = {tuple(line.split(" ", 1)) for line in code_lines(diff)}
    engine = {({0: "C", 1: "A", 2: "D"}[c["Kind"]], c["Path"]) for c in api.diff("writer")}
    assert changes == engine and {("A", "/scratch"), ("A", "/scratch/new")} <= changes
    assert "no such container: `ghost`" in chat.answer("/docker", "diff ghost")["text"]


def test_events_show_a_containers_create_start_die_in_order(chat, clean_engine):
    api = clean_engine.api()
    chat.answer("/run", "--name shortlived busybox true", user_id="U0ALICE")
    container_id = api.inspect_container("shortlived")["Id"]
    answer = chat.answer("/docker", "events --since 5m -f container=shortlived -f type=container")
    lines = [line for line in code_lines(answer) if container_id in line]
    actions = [line.split()[2] for line in lines]
    assert [a for a in actions if a in ("create", "start", "die")] == ["create", "start", "die"], lines
    assert all("name=shortlived" in line and "image=busybox" in line for line in lines)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", lines[0].split()[0])
    assert "from 5 minutes ago until now" in answer["text"]
    none = chat.answer("/docker", "events --since 1h --until 50m -f container=shortlived")
    assert none["text"] == "no events from an hour ago until 50 minutes ago"


def test_system_df_info_and_version_match_the_engine(chat, clean_engine):
    api = clean_engine.api()
    chat.answer("/run", "-d --name dfweb nginx", user_id="U0ALICE")
    usage = api.df()
    summary = code_lines(chat.answer("/docker", "system df"))
    rows = {line.split("   ")[0].strip(): line.split() for line in summary[1:]}
    images = usage["Images"]
    assert rows["Images"][1:3] == [str(len(images)), str(sum(1 for i in images if i["Containers"] > 0))]
    assert rows["Containers"][1:3] == [str(len(usage["Containers"])), "1"]
    assert rows["Local Volumes"][2:4] == [str(len(usage["Volumes"] or [])), "0"]

    verbose = code_lines(chat.answer("/docker", "system df -v"))
    assert any(line.startswith("REPOSITORY") for line in verbose) and any("dfweb" in line for line in verbose)

    info = api.info()
    shown = text_of(chat.answer("/docker", "info"))
    for figure in (info["ServerVersion"], info["Driver"], f"{info['Containers']} ({info['ContainersRunning']} running"):
        assert figure in shown
    assert f"*CPUs*\\n{info['NCPU']}" in shown and api.version()["ApiVersion"] in shown

    version = api.version()
    lines = code_lines(chat.answer("/docker", "version"))
    assert f"  Version:          {version['Version']}" in lines
    assert f"  API version:      {version['ApiVersion']} (minimum version {version['MinAPIVersion']})" in lines


EXEC_POLICY = """
members:
  U0ALICE: admin
  U0OPER: operator
  "*": viewer
exec:
  operator: ["cat /usr/share/nginx/html/*", "echo **"]
"""


def audited(db: Path, needle: str, timeout: float = 10) -> list[tuple[str, str, str]]:
    deadline = time.monotonic() + timeout
    while True:
        with sqlite3.connect(db) as connection:
            rows = connection.execute(
                "SELECT command, decision, detail FROM audit WHERE command LIKE ?", (f"%{needle}%",)
            ).fetchall()
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_exec_runs_only_what_the_allowlist_allows(bot_server, slack, signing_secret, tmp_path, clean_engine):
    api = clean_engine.api()
    policy = tmp_path / "policy.yml"
    policy.write_text(EXEC_POLICY)
    audit_db = tmp_path / "audit.db"
    bot = bot_server(SHIPMATE_POLICY=str(policy), SHIPMATE_AUDIT_DB=str(audit_db))
    chat = Chat(SignedClient(bot.url, signing_secret), slack)
    chat.answer("/run", "-d --name web nginx", user_id="U0ALICE")

    since = time.time()

    def execs() -> list[str]:
        """The command lines the engine was asked to exec in `web`, from its own event log."""
        events = api.events(since=since, until=time.time(), filters={"container": "web"}, decode=True)
        return [e["Action"].partition(": ")[2] for e in events if e["Action"].startswith("exec_create")]

    refused = {
        "exec web sh": "`sh` is not among the commands operator may exec: cat /usr/share/nginx/html/*, echo **",
        "exec web cat /usr/share/nginx/html/../../../../etc/passwd": "leaves its directory with `..`",
        "exec --privileged web cat /usr/share/nginx/html/index.html": "`--privileged` is not allowed",
        "exec -u root web cat /usr/share/nginx/html/index.html": "`-u` is not allowed",
    }
    for text, reason in refused.items():
        answer = chat.answer("/docker", text, user_id="U0OPER")
        assert answer["response_type"] == "ephemeral" and reason in text_of(answer), text_of(answer)
    assert "`container.exec` needs operator" in text_of(chat.answer("/docker", "exec web echo hi"))  # a viewer
    assert execs() == []  # nothing refused reached the engine

    allowed = chat.answer("/docker", "exec web cat /usr/share/nginx/html/index.html", user_id="U0OPER")
    assert allowed["response_type"] == "in_channel" and "<@U0OPER>" in text_of(allowed)
    assert "Welcome to nginx!" in text_of(allowed) and "exited with code 0" in allowed["text"]
    missing = chat.answer("/docker", "exec web cat /usr/share/nginx/html/missing", user_id="U0OPER")
    assert "exited with code 1" in missing["text"] and "can't open" in text_of(missing)
    assert execs() == ["cat /usr/share/nginx/html/index.html", "cat /usr/share/nginx/html/missing"]

    chat.answer("/docker", "exec web echo API_TOKEN=s3cret-value", user_id="U0OPER")
    records = audited(audit_db, "exec web echo API_TOKEN")
    assert records and all("s3cret-value" not in field for record in records for field in record)
    assert records[0][:2] == ("/docker exec web echo API_TOKEN=••••", "allowed")
    sh = audited(audit_db, "exec web sh")
    assert sh and sh[0][1] == "refused"


def click_confirm(chat: Chat, asked: dict[str, Any], name: str, user_id: str = "U0ALICE") -> dict[str, Any]:
    button, block_id = find_button(asked["blocks"], "shipmate.confirm")
    url = chat.slack.response_url(name)
    chat.client.action(block_actions(button, block_id, response_url=url, user_id=user_id))
    answer = chat.slack.wait_for_response(name, timeout=60)
    assert_valid_message(answer)
    return answer


def test_prune_asks_first_then_removes_exactly_what_it_listed(chat, clean_engine):
    api = clean_engine.api()
    for name in ("old1", "old2"):
        api.create_container("busybox", "true", name=name)
    chat.answer("/run", "-d --name live busybox sleep 600", user_id="U0ALICE")
    assert "`container.prune` needs admin" in text_of(chat.answer("/docker", "container prune"))  # a viewer

    asked = chat.answer("/docker", "container prune -f", user_id="U0ALICE")
    assert asked["response_type"] == "ephemeral" and "remove 2 stopped containers" in asked["text"]
    listed = text_of(asked)
    assert "old1" in listed and "old2" in listed and "live" not in listed
    api.create_container("busybox", "true", name="late")  # stopped after the question: not swept up
    done = click_confirm(chat, asked, "prune-confirm")
    assert done["text"].count("removed") == 2 and done["response_type"] == "in_channel"
    assert {c["Names"][0].lstrip("/") for c in api.containers(all=True)} == {"live", "late"}

    # A dangling image: the tag moves to a newer commit of the same container. Earlier tests' leftovers go first,
    # so that this one is the only one the question can list.
    for leftover in api.images(filters={"dangling": True}):
        api.remove_image(leftover["Id"], force=True)
    first = api.commit("live", repository="prunetest", tag="1")["Id"]
    api.commit("live", repository="prunetest", tag="1", changes=["ENV X=2"])
    try:
        asked = chat.answer("/img", "prune", user_id="U0ALICE")
        assert "remove 1 dangling image" in asked["text"] and first.removeprefix("sha256:")[:12] in text_of(asked)
        click_confirm(chat, asked, "image-prune-confirm")
        assert first not in {image["Id"] for image in api.images(all=True)}
        assert api.images(name="prunetest")  # the tagged one stays
        assert chat.answer("/img", "prune", user_id="U0ALICE")["text"] == "Nothing to prune: no dangling images"
    finally:
        clean_engine.reset()
        clean_engine.forget_image("prunetest:1")


def exited_with_a_blob(api, kilobytes: int, name: str | None = None) -> str:
    """A stopped container that wrote `kilobytes` of random bytes to its writable layer."""
    made = api.create_container(
        "busybox", ["dd", "if=/dev/urandom", "of=/blob", "bs=1024", f"count={kilobytes}"], name=name
    )
    api.start(made["Id"])
    assert api.wait(made["Id"], timeout=60)["StatusCode"] == 0
    return made["Id"]


def test_prune_questions_state_the_space_they_free(chat, clean_engine):
    api = clean_engine.api()
    try:
        for name, kilobytes in (("blob1", 2048), ("blob2", 1024)):
            exited_with_a_blob(api, kilobytes, name)
        written = sum(c["SizeRw"] for c in api.containers(all=True, size=True))
        assert written > 3_000_000
        asked = chat.answer("/docker", "container prune", user_id="U0ALICE")
        assert f"remove 2 stopped containers, freeing {size(written)}" in asked["text"]  # docker's reclaimed space
        click_confirm(chat, asked, "sized-prune-confirm")
        assert api.containers(all=True) == []

        # A dangling image with 2 MB of its own on busybox's layers, which other images still use.
        for leftover in api.images(filters={"dangling": True}):
            api.remove_image(leftover["Id"], force=True)
        images = []
        for kilobytes in (2048, 1024):  # the tag moves on to the second: the first dangles
            made = exited_with_a_blob(api, kilobytes)
            images.append(api.commit(made, repository="prunetest", tag="1")["Id"])
            api.remove_container(made)
        dangling = api.inspect_image(images[0])["Size"]
        layers_before = api.df()["LayersSize"]
        asked = chat.answer("/img", "prune", user_id="U0ALICE")
        click_confirm(chat, asked, "sized-image-prune-confirm")
        freed = layers_before - api.df()["LayersSize"]
        assert 2_000_000 < freed < dangling  # the image's own layer; busybox's stay
        assert f"remove 1 dangling image, freeing about {size(freed)}" in asked["text"]
    finally:
        clean_engine.reset()
        clean_engine.forget_image("prunetest:1")


WAIT_FOR_GO = "echo ready; while [ ! -f /go ]; do sleep 0.2; done; echo after-follow-began"


def follow_message(slack, needle: str, timeout: float = 30) -> dict[str, Any]:
    """The bot's follow message (posted in the channel, then updated in place) once it shows `needle`."""

    def found() -> list[dict[str, Any]]:
        return [
            m
            for m in slack.messages.values()
            if "logs of" in m.get("text", "") and needle in text_of(m) and "thread_ts" not in m  # not its thread
        ]

    (message,) = slack.wait_for(found, timeout=timeout)
    assert_valid_message(message)
    return message


def stop_button(message: dict[str, Any]) -> tuple[dict[str, Any], str]:
    (found,) = [
        (button, block["block_id"])
        for block in message["blocks"]
        if block["type"] == "actions"
        for button in block["elements"]
        if button["action_id"].startswith("shipmate.command:unfollow ")
    ]
    return found


def test_logs_follow_grows_in_place_then_stops_on_the_button_or_with_the_container(chat, clean_engine, slack):
    api = clean_engine.api()
    chat.answer("/run", f"-d --name talker busybox sh -c '{WAIT_FOR_GO}; sleep 600'", user_id="U0ALICE")
    reply = chat.client.slash("/logs", "-f talker", response_url=slack.response_url("follow"))
    assert reply.status == 200 and reply.body["text"].startswith("⏳ following the logs of talker")
    opened = follow_message(slack, "ready")
    assert stop_button(opened)  # a Stop following button from the start
    api.exec_start(api.exec_create("talker", ["touch", "/go"])["Id"])
    grown = follow_message(slack, "after-follow-began")
    assert grown["ts"] == opened["ts"] and len(slack.calls("chat.postMessage")) == 1  # one message, updated

    stop, block_id = stop_button(grown)
    chat.client.action(block_actions(stop, block_id, response_url=slack.response_url("stop"), message=grown))
    stopped = follow_message(slack, "Stop following was clicked")
    assert stopped["ts"] == opened["ts"] and "after-follow-began" in text_of(stopped)
    assert not [b for b in stopped["blocks"] if b["type"] == "actions"]  # no Stop button once it has stopped
    assert api.inspect_container("talker")["State"]["Running"]  # stopping the follow leaves the container alone

    chat.answer("/run", f"-d --name quitter busybox sh -c '{WAIT_FOR_GO}'", user_id="U0ALICE")
    chat.client.slash("/logs", "-f quitter", response_url=slack.response_url("follow2"))
    follow_message(slack, "following the logs of quitter")
    api.exec_start(api.exec_create("quitter", ["touch", "/go"])["Id"])
    ended = follow_message(slack, "the container stopped")
    assert "after-follow-began" in text_of(ended) and "quitter" in ended["text"]


@pytest.mark.bot_env(SHIPMATE_FOLLOW_MAX="5")
def test_logs_follow_stops_by_itself_after_the_configured_limit(chat, clean_engine, slack):
    chat.answer("/run", "-d --name chatty busybox sh -c 'echo hello; sleep 600'", user_id="U0ALICE")
    chat.client.slash("/logs", "-f chatty", response_url=slack.response_url("follow"))
    ended = follow_message(slack, "followed for 5 s", timeout=20)  # not the default 300 s
    assert "hello" in text_of(ended) and "SHIPMATE_FOLLOW_MAX" in text_of(ended)
    assert clean_engine.api().inspect_container("chatty")["State"]["Running"]
