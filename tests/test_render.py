"""Both renderers over every Result type, small and huge and hostile: valid Block Kit within Slack's limits,
honest truncation, secrets masked, docker-like columns, and buttons whose commands parse back."""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import bot.results
from bot.engine import Context, Engine, execute
from bot.fleet.fanout import merge
from bot.grammar import SPECS, parse
from bot.grammar.commands import (
    Command,
    ContainerLogs,
    ContainerRemove,
    ContainerRestart,
    ContainerStart,
    ContainerStop,
    Help,
)
from bot.render.blocks import MAX_CONTAINER_ROWS, MAX_IMAGE_ROWS, progress_bar, to_message
from bot.render.kit import Message
from bot.render.terminal import to_text
from bot.results import (
    CONVERGED,
    FAILED,
    NOT_UPDATED,
    ROLLED_BACK,
    TIMED_OUT,
    UP_TO_DATE,
    UPDATED,
    Alert,
    ApprovalRequest,
    ApprovalWaiting,
    AuditEntry,
    AuditTrail,
    ComposeProcesses,
    ComposeProgress,
    ComposeProjectRow,
    ComposeProjectTable,
    ConfirmationRequest,
    ContainerDetails,
    ContainerRow,
    ContainerTable,
    ContextRow,
    ContextTable,
    Convergence,
    Convergences,
    DiskContainer,
    DiskImage,
    DiskUsage,
    DiskUsageRow,
    DiskVolume,
    EngineComponent,
    EngineInfo,
    EngineVersion,
    EventList,
    EventRow,
    ExecDone,
    Failure,
    FileChanges,
    FleetAnswer,
    FollowedLogs,
    Freeze,
    FreezeList,
    FromEngine,
    Identity,
    ImageDetails,
    ImageLayer,
    ImageRow,
    ImageTable,
    ImageUpdate,
    LayerHistory,
    LogText,
    NetworkDetails,
    NetworkMember,
    NetworkRow,
    NetworkTable,
    NodeRow,
    NodeTable,
    Notice,
    Outcome,
    Outcomes,
    PolicySummary,
    PortList,
    Preview,
    PreviewTarget,
    ProcessTable,
    PullDone,
    PullProgress,
    Result,
    RoleSummary,
    RunDone,
    ServiceDetails,
    ServiceProgress,
    ServiceRow,
    ServiceTable,
    Silence,
    SilenceList,
    StackRow,
    StackTable,
    StatsRow,
    StatsTable,
    TaskRow,
    TaskTable,
    Unanswered,
    UpdateOutcomes,
    UpdateRow,
    UpdatesAlert,
    UpdateTable,
    Verdict,
    VerdictKind,
    VolumeDetails,
    VolumeFacts,
    VolumeRow,
    VolumeTable,
)
from bot.secrets import MASK, mask_text
from tests.blockkit import assert_valid_message, message_problems, payload_strings

NOW = datetime.now(UTC)
HOSTILE = "<!channel> <@U0BOSS> <http://evil.example|click> & &amp; `tick` ```fence``` *bold* _it_ ~s~"
STATES = ("running", "exited", "created", "paused", "restarting", "dead")
RUNNING_STATES = {"running", "restarting", "paused"}
SECRETS = {
    "DB_PASSWORD": "pw-3f9a1c",
    "API_TOKEN": "tok-77d2e0",
    "AWS_SECRET_ACCESS_KEY": "aws-c0ffee",
    "GITHUB_TOKEN": "ghp-deadbeef",
    "private_key": "pk-0badf00d",
    "SESSION_COOKIE": "ck-5ca1ab1e",
    "SENTRY_DSN": "dsn-feedface",
    "MYSQL_ROOT_PASSWORD": "root-8badf00d",
}
PLAIN_ENV = (("COLOR", "blue"), ("NGINX_VERSION", "1.25.4"), ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/bin"))


# -- realistic results -------------------------------------------------------------------------------


def container_row(index: int, name: str | None = None, state: str | None = None) -> ContainerRow:
    state = state or STATES[index % len(STATES)]
    status = {
        "running": f"Up {index % 59 + 1} minutes",
        "exited": f"Exited ({index % 3}) {index % 50 + 2} minutes ago",
        "created": "Created",
        "paused": "Up 2 hours (Paused)",
        "restarting": "Restarting (1) 3 seconds ago",
        "dead": "Dead",
    }[state]
    ports = (f"0.0.0.0:{8000 + index}->80/tcp", f":::{8000 + index}->80/tcp") if state == "running" else ()
    return ContainerRow(
        name=name or f"web-{index}",
        short_id=f"{index:012x}",
        image=("nginx:latest", "busybox:latest", "devwikirepo/envnodecolorapp:latest")[index % 3],
        command=("/docker-entrypoint.sh nginx -g 'daemon off;'", "sh -c 'sleep 1000'", "npm start")[index % 3],
        state=state,
        status=status,
        ports=ports,
        owner=f"U{index:08d}" if index % 2 else None,
    )


def image_row(index: int, repository: str | None = None) -> ImageRow:
    return ImageRow(
        repository=repository
        or ("nginx", "busybox", "devwikirepo/envnodecolorapp", "127.0.0.1:5000/team/app")[index % 4],
        tag=("latest", "1.25", f"v{index}")[index % 3],
        short_id=f"{index * 7919:012x}",
        created=NOW - timedelta(hours=index * 5),
        size=(index + 1) * 1_234_567,
    )


def log_text(lines: int, width: int = 60) -> str:
    return "".join(
        f"2024-05-01T10:{i // 60 % 60:02d}:{i % 60:02d}Z line {i} " + "x" * width + "\n" for i in range(lines)
    )


def secret_env() -> tuple[tuple[str, str], ...]:
    return (*PLAIN_ENV, *SECRETS.items())


def image_details(**changes) -> ImageDetails:
    details = ImageDetails(
        short_id="3f4e5d6c7b8a",
        tags=("nginx:latest", "nginx:1.25"),
        created=NOW - timedelta(days=12),
        size=187_654_321,
        os="linux",
        architecture="amd64",
        env=secret_env(),
        cmd=("nginx", "-g", "daemon off;"),
        entrypoint=("/docker-entrypoint.sh",),
        working_dir="/usr/share/nginx/html",
        exposed_ports=("80/tcp", "443/tcp"),
        labels=(("maintainer", "NGINX Docker Maintainers"), ("LICENSE_KEY", "lic-1234abcd")),
    )
    return replace(details, **changes)


def container_details(**changes) -> ContainerDetails:
    details = ContainerDetails(
        name="web1",
        short_id="0123456789ab",
        image="devwikirepo/envnodecolorapp:latest",
        state="running",
        status_detail="running since 2024-05-01 10:00:00 UTC",
        created=NOW - timedelta(minutes=5),
        cmd=("node", "app.js"),
        env=secret_env(),
        ports=("0.0.0.0:8081->3000/tcp",),
        restart_count=0,
        health="healthy",
        owner="U0123ABCD",
    )
    return replace(details, **changes)


def run_done(**changes) -> RunDone:
    done = RunDone(
        name="web1",
        short_id="0123456789ab",
        image="devwikirepo/envnodecolorapp",
        state="running",
        ports=("0.0.0.0:8081->3000/tcp",),
        detached=True,
    )
    return replace(done, **changes)


def audit_entry(index: int, command: str = "/ps -a") -> AuditEntry:
    return AuditEntry(
        at=NOW - timedelta(minutes=index),
        user_id=f"U{index:08d}",
        channel_id="C0123ABCD",
        command=command,
        decision="allowed",
        outcome="ok",
        detail="",
        duration_ms=index * 3,
    )


def stats_row(index: int, name: str | None = None, error: str = "") -> StatsRow:
    return StatsRow(
        name=name or f"web-{index}",
        short_id=f"{index:012x}",
        cpu_percent=index * 3.14159,
        memory_used=index * 1_572_864,
        memory_limit=8_200_000_000,
        memory_percent=index * 0.019,
        net_rx=index * 1234,
        net_tx=index * 999_999,
        block_read=index * 4096,
        block_write=0,
        pids=index,
        error=error,
    )


DISK_ROWS = (
    DiskUsageRow("Images", 5, 2, 16_430_000, 11_630_000),
    DiskUsageRow("Containers", 3, 1, 12_288, 4096),
    DiskUsageRow("Local Volumes", 0, 0, 0, 0),
    DiskUsageRow("Build Cache", 0, 0, 0, 0),
)


def disk_verbose(count: int, name: str = "") -> DiskUsage:
    return DiskUsage(
        rows=DISK_ROWS,
        verbose=True,
        images=tuple(
            DiskImage(name or "nginx", "latest", f"{i:012x}", NOW, 4_200_000, -1 if i % 2 else 0, i % 3)
            for i in range(count)
        ),
        containers=tuple(
            DiskContainer(f"{i:012x}", "nginx", "httpd -f", 0, 4096, NOW, "Up 2 minutes", name or f"web-{i}")
            for i in range(count)
        ),
        volumes=tuple(DiskVolume(f"{name}vol{i}", i % 2, -1 if i % 3 else 36) for i in range(count)),
        build_cache=0,
    )


def event_row(index: int, attribute: str = "busybox") -> EventRow:
    return EventRow(
        time_nano=1_764_716_462_123_456_789 + index * 1_000_000_000,
        type="container",
        action=("create", "start", "die", "destroy")[index % 4],
        actor=f"{index:064x}",
        attributes=(("image", attribute), ("name", f"web-{index}"), ("API_TOKEN", "••••")),
    )


def policy(**changes) -> PolicySummary:
    summary = PolicySummary(
        path="/etc/shipmate/policy.yml",
        loaded_at=NOW - timedelta(minutes=3),
        roles=(
            RoleSummary("admin", ("*",), ("U0ADMIN1",)),
            RoleSummary("dev", ("image.ls", "container.ls", "container.rm:own", "container.run"), ("S0DEVS", "*")),
        ),
        channels=("C0123ABCD",),
        images=("nginx:*", "busybox:*"),
        run_memory="512m",
        run_cpus=1.0,
    )
    return replace(summary, **changes)


HELP_EXECUTOR_CONTEXT = Context(engine=Engine("unix:///nonexistent/docker.sock"))  # help never calls Docker
HELP_OVERVIEW = execute(Help(), HELP_EXECUTOR_CONTEXT)


def service_row(index: int, **changes) -> ServiceRow:
    row = ServiceRow(f"{index:012x}", f"web-{index}", "replicated", 2, 3, "nginx:1.25", ("*:8080→80/tcp (host)",))
    return replace(row, **changes)


def task_row(index: int, **changes) -> TaskRow:
    row = TaskRow(f"{index:025x}", f"web.{index}", "nginx:1.25", "node-1", "running", "running", NOW)
    return replace(row, **changes)


def service_details(**changes) -> ServiceDetails:
    details = ServiceDetails(
        id="0123456789ab",
        name="web",
        image="nginx:1.25",
        mode="replicated",
        replicas=3,
        command=("httpd", "-f"),
        ports=("*:8080→80/tcp (host)",),
        env=secret_env(),
        labels=(("team", "ops"),),
        resources=("memory limit 512 MiB",),
        update_config=("parallelism 1",),
        rollback_config=(),
        update_status="completed: update completed",
        created=NOW,
        updated=NOW,
        has_previous=True,
        owner="U0123ABCD",
    )
    return replace(details, **changes)


def convergence(outcome: str = CONVERGED, **changes) -> Convergence:
    return replace(Convergence("web", "scaled", outcome, 3, 3, 4.2), **changes)


def update_row(container: str, **changes: object) -> UpdateRow:
    row = UpdateRow(container, "nginx:1.25", "sha256:" + "a" * 64, "", NOW - timedelta(days=40))
    return replace(row, **changes)


APPROVAL_REQUEST = ApprovalRequest(
    id="0123abcd4567ef89",
    requester="U0ALICE",
    command="/docker rm -f web1",
    engine="prod-1",
    summary="remove container `web1`, which is running: it will be stopped first",
    details=(),
    approvers=("S0LEADS", "U0ADMIN"),
    needed=1,
    approved_by=(),
    expires_at=1_800_000_000.0,
    state="pending",
    why="approvals rule 1: container.rm on prod-*",
)

EXAMPLES: dict[str, Result] = {
    "failure": Failure("unknown flag `--frob`", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
    "failure hostile": Failure(f"Docker refused: {HOSTILE}"),
    "failure long": Failure("unexpected argument `" + "a" * 5000 + "`", "`/ps`"),
    "help overview": HELP_OVERVIEW,
    "help image": execute(Help(topic="image"), HELP_EXECUTOR_CONTEXT),
    "help run": execute(Help(topic="run"), HELP_EXECUTOR_CONTEXT),
    "images": ImageTable(tuple(image_row(i) for i in range(7))),
    "images none": ImageTable(()),
    "image history": LayerHistory(
        "nginx:1.25",
        (
            ImageLayer(
                "0123456789ab", NOW, "/bin/sh -c #(nop) ENV API_TOKEN=s3cr3t-value GITHUB=ghp_" + "a" * 36, 0, ""
            ),
            ImageLayer("<missing>", NOW, "/bin/sh -c apk add --no-cache curl " + "x" * 300, 5_000_000, "built by CI"),
        ),
        full=False,
    ),
    "image history whole": LayerHistory("nginx", (ImageLayer("<missing>", None, "x" * 3000, 1, ""),), full=True),
    "image history hostile": LayerHistory(HOSTILE, (ImageLayer(HOSTILE, NOW, HOSTILE, 1, HOSTILE),), full=True),
    "image history none": LayerHistory("scratch-thing", (), full=False),
    "images none matching": ImageTable((), reference="nginx:9"),
    "images 1000": ImageTable(tuple(image_row(i) for i in range(1000))),
    "images long names": ImageTable(
        tuple(image_row(i, "registry.example.com:5000/" + "team/" * 40 + f"app{i}") for i in range(150))
    ),
    "image details": image_details(),
    "image details bare": image_details(tags=(), env=(), cmd=None, entrypoint=None, labels=(), created=None),
    "image details huge env": image_details(env=tuple((f"VAR_{i}", "v" * 100) for i in range(300))),
    "image details long values": image_details(env=(("BLOB", "y" * 10_000), ("NOTE", HOSTILE))),
    "pull progress": PullProgress("nginx:1.25", 42, 2, 5),
    "pull progress over": PullProgress("bigimage:latest", 140, 9, 7),
    "pulled": PullDone("nginx:1.25", "3f4e5d6c7b8a", 187_654_321, updated=True),
    "pull up to date": PullDone("nginx:latest", "3f4e5d6c7b8a", 187_654_321, updated=False),
    "outcomes ok": Outcomes("removed", (Outcome("web1", True), Outcome("web2", True))),
    "outcomes mixed": Outcomes(
        "stopped", (Outcome("web1", True), Outcome("ghost", False, f"no such container: {HOSTILE}"))
    ),
    "outcomes many": Outcomes("removed", tuple(Outcome(f"c{i}", i % 2 == 0, "no such container") for i in range(20))),
    "containers": ContainerTable(tuple(container_row(i) for i in range(6)), all=True),
    "containers none": ContainerTable((), all=False),
    "containers none at all": ContainerTable((), all=True),
    "containers 500": ContainerTable(tuple(container_row(i) for i in range(500)), all=True),
    "containers long names": ContainerTable(
        (container_row(0, "a" * 128), container_row(1, "b"), container_row(2, "c" * 41), container_row(3)), all=True
    ),
    "container details": container_details(),
    "container details exited": container_details(state="exited", status_detail="exited (1) at …", health=None),
    "container details long": container_details(
        name="n" * 128, cmd=("sh", "-c", "echo " + "z" * 5000), env=tuple((f"V{i}", "w" * 200) for i in range(100))
    ),
    "container details hostile": container_details(cmd=("sh", "-c", HOSTILE), env=(("MOTD", HOSTILE),)),
    "logs": LogText("web1", log_text(12), 12, truncated=False),
    "logs empty": LogText("web1", "", 0, truncated=False),
    "logs 50000": LogText("web1", log_text(50_000), 50_000, truncated=False),
    "logs capped": LogText("web1", log_text(2_000), 2_000, truncated=True),
    "logs one long line": LogText("web1", "q" * 10_000 + "\n", 1, truncated=False),
    "logs hostile": LogText("web1", (HOSTILE + "\n") * 5, 5, truncated=False),
    "run detached": run_done(),
    "run exited": run_done(detached=False, state="exited", exit_code=0, output="hello\n", ports=()),
    "run failed": run_done(detached=False, state="exited", exit_code=3, output="boom\n", removed=True, pulled=True),
    "run timed out": run_done(detached=False, state="exited", exit_code=137, output=log_text(100), timed_out_after=60),
    "run no output": run_done(detached=False, state="exited", exit_code=0, output="", ports=()),
    "run long output": run_done(detached=False, state="exited", exit_code=0, output=log_text(5_000), ports=()),
    "run hostile output": run_done(detached=False, state="exited", exit_code=0, output=HOSTILE * 3),
    "notice": Notice("Shipmate", ("one", "two")),
    "notice title only": Notice("nothing to see"),
    "notice 1000 lines": Notice("audit", tuple(f"record {i} " + "r" * 50 for i in range(1000))),
    "notice hostile": Notice(HOSTILE, (HOSTILE, "", "last")),
    "confirmation": ConfirmationRequest(
        summary="remove `web1` (running: it will be stopped first)",
        details=(),
        command="/docker rm -f web1",
        token="t" * 300,
        expires_in=120,
    ),
    "confirmation many": ConfirmationRequest(
        summary="remove 20 containers",
        details=tuple(f"web-{i} (running)" for i in range(20)),
        command="/docker rm -f " + " ".join(f"web-{i}" for i in range(20)),
        token="t" * 300,
        expires_in=30,
    ),
    "approval request": APPROVAL_REQUEST,
    "approval request hostile": replace(
        APPROVAL_REQUEST,
        command=f"/docker rm -f {HOSTILE}",
        summary=HOSTILE,
        details=(HOSTILE,),
        changes=(HOSTILE,),
        why=HOSTILE,
    ),
    "approval request 1 of 2": replace(APPROVAL_REQUEST, needed=2, approved_by=("U0BOB",)),
    "approval denied": replace(APPROVAL_REQUEST, state="denied", decided_by="U0BOB", reason=HOSTILE),
    "approval approved": replace(APPROVAL_REQUEST, state="approved", decided_by="U0BOB,U0CAROL"),
    "approval expired": replace(APPROVAL_REQUEST, state="expired"),
    "approval waiting": ApprovalWaiting(APPROVAL_REQUEST, "C0APPROVALS"),
    "identity": Identity(
        user_id="U0123ABCD",
        user_name="ada",
        team_id="T0123",
        channel_id="C0123ABCD",
        roles=("dev",),
        granted_by=("S0DEVS",),
        actions=("image.ls", "container.ls", "container.rm:own"),
        channel_allowed=True,
    ),
    "identity nobody": Identity("U0NOBODY", "", "", "", (), (), (), channel_allowed=False, note="no policy yet"),
    "policy": policy(),
    "policy none": policy(loaded_at=None, roles=(), problem="no file at /etc/shipmate/policy.yml"),
    "policy many roles": policy(roles=tuple(RoleSummary(f"role{i}", ("image.ls",) * 50, ("*",)) for i in range(40))),
    "stats": StatsTable(tuple(stats_row(i) for i in range(3)), all=False),
    "stats none": StatsTable((), all=False),
    "stats none at all": StatsTable((), all=True),
    "stats 300 long names": StatsTable(tuple(stats_row(i, f"{HOSTILE}-{'n' * 100}-{i}") for i in range(300)), all=True),
    "stats failures": StatsTable((stats_row(1), stats_row(2, "ghost", f"no such container: {HOSTILE}")), all=False),
    "stats all failed": StatsTable((stats_row(2, "ghost", "no such container: `ghost`"),), all=False),
    "top": ProcessTable(
        "web1",
        ("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"),
        (("root", "4242", "4220", "0", "10:01", "?", "00:00:00", "httpd -f -p 80 -h /usr/share/nginx/html"),),
    ),
    "top none": ProcessTable("web1", (), ()),
    "top 2000 hostile": ProcessTable(
        "web1", ("PID", "CMD"), tuple((str(i), f"sh -c '{HOSTILE}' " + "a" * 300) for i in range(2000))
    ),
    "ports": PortList("web1", ("80/tcp -> 0.0.0.0:8081", "80/tcp -> [::]:8081")),
    "ports one": PortList("web1", ("0.0.0.0:8081",), private_port="80/tcp"),
    "ports none": PortList("web1", ()),
    "diff": FileChanges("web1", (("C", "/etc"), ("A", "/etc/app.conf"), ("D", "/tmp/x"))),
    "diff none": FileChanges("web1", ()),
    "diff 5000 hostile": FileChanges("web1", tuple(("A", f"/data/{HOSTILE}/{i}") for i in range(5000))),
    "disk": DiskUsage(DISK_ROWS),
    "disk verbose": disk_verbose(3),
    "disk verbose empty": disk_verbose(0),
    "disk verbose 500 hostile": disk_verbose(500, HOSTILE),
    "info": EngineInfo(
        "ci-host",
        "26.1.5",
        "1.45",
        "Debian GNU/Linux 12 (bookworm)",
        "linux",
        "x86_64",
        "6.1.0-28-amd64",
        2,
        8_200_000_000,
        "overlay2",
        "/var/lib/docker",
        3,
        1,
        0,
        2,
        5,
        "inactive",
    ),
    "info hostile": EngineInfo(HOSTILE, HOSTILE, "", "", "", "", "", 0, 0, "", "", 0, 0, 0, 0, 0, ""),
    "version": EngineVersion(
        "Docker Engine - Community",
        "26.1.5",
        "1.45",
        "1.24",
        "go1.22.5",
        "411e817",
        "Wed Jul 10 12:00:00 2024",
        "linux",
        "amd64",
        False,
        (
            EngineComponent("Engine", "26.1.5", (("ApiVersion", "1.45"),)),
            EngineComponent("containerd", "1.7.19", (("GitCommit", "2bf793ef6dc9a18e00cb12efb64355c2c9d5eb41"),)),
        ),
    ),
    "events": EventList(tuple(event_row(i) for i in range(8)), cut=False, window="from 10 minutes ago until now"),
    "events none": EventList((), cut=False, window="from 10 minutes ago until now"),
    "events 200 cut hostile": EventList(
        tuple(event_row(i, HOSTILE) for i in range(200)), cut=True, window="from 2 hours ago until now"
    ),
    "exec": ExecDone("web1", "nginx -t", 0, "nginx: configuration file /etc/nginx/nginx.conf test is successful\n"),
    "exec failed": ExecDone("web1", "cat /etc/nginx/missing", 1, "cat: can't open '/etc/nginx/missing'\n"),
    "exec no output": ExecDone("web1", "true", 0, ""),
    "exec timed out": ExecDone("web1", "tail -f /var/log/app.log", None, log_text(100), timed_out_after=60),
    "exec long hostile": ExecDone("web1", f"cat {HOSTILE}", 0, (HOSTILE + "\n") * 3000, output_truncated=True),
    "follow starting": FollowedLogs("web1", "0123456789abcdef", "", 0),
    "follow going": FollowedLogs("web1", "0123456789abcdef", log_text(12), 12),
    "follow long hostile": FollowedLogs("web1", "0123456789abcdef", (HOSTILE + "\n") * 200, 5000),
    "follow stopped": FollowedLogs("web1", "0123456789abcdef", log_text(3), 3, ended="Stop following was clicked"),
    "follow stopped empty": FollowedLogs("web1", "0123456789abcdef", "", 0, ended="the container stopped"),
    "audit": AuditTrail(tuple(audit_entry(i) for i in range(5)), user=None, limit=20),
    "audit none": AuditTrail((), user="U0123ABCD", limit=20),
    "audit long commands": AuditTrail(
        tuple(audit_entry(i, "/run busybox echo " + "e" * 1500) for i in range(200)), user="U0123ABCD", limit=200
    ),
    "services": ServiceTable(tuple(service_row(i) for i in range(5))),
    "services none": ServiceTable(()),
    "services none in stack": ServiceTable((), stack="demo"),
    "services 100": ServiceTable(tuple(service_row(i, has_previous=i % 2 == 0) for i in range(100))),
    "services hostile": ServiceTable((service_row(0, image=HOSTILE, desired=0, running=0, mode="global"),)),
    "tasks": TaskTable("web", tuple(task_row(i) for i in range(5))),
    "tasks none": TaskTable("web", ()),
    "tasks failing": TaskTable("web", (task_row(1, state="rejected", error=f"No such image: {HOSTILE}" * 3),), True),
    "tasks 500": TaskTable("web", tuple(task_row(i) for i in range(500))),
    "service details": service_details(),
    "service details global": service_details(replicas=None, mode="global", owner=None, labels=(), env=()),
    "service details hostile": service_details(env=(("MOTD", HOSTILE),), command=("sh", "-c", HOSTILE)),
    "nodes": NodeTable((NodeRow("k3r737d5yioel5h6m9bml5r7d", "vm", "Ready", "Active", "Leader", "20.10.24"),)),
    "stacks": StackTable((StackRow("demo", 2), StackRow("shop", 5))),
    "stacks none": StackTable(()),
    "service progress": ServiceProgress("web", 2, 3, "update in progress"),
    "converged": Convergences((convergence(),)),
    "not converged": Convergences(
        (
            convergence(),
            convergence(FAILED, running=2, error="No such image: nosuch:1", tasks=(task_row(1, state="rejected"),)),
            convergence(TIMED_OUT, running=1, tasks=tuple(task_row(i, state="preparing") for i in range(200))),
        )
    ),
    "audit 200": AuditTrail(
        tuple(audit_entry(i, f"/run -d --name web-{i} -e DB_PASSWORD=•••• nginx") for i in range(200)),
        user=None,
        limit=200,
    ),
    "identity per engine": Identity(
        "U0ONCALL",
        "",
        "",
        "",
        ("viewer",),
        ("S0ONCALL",),
        ("container.ls",),
        True,
        per_engine=(("staging", ("viewer",)), ("prod-1", ("operator",)), ("edge-1", ())),
    ),
    "contexts": ContextTable(
        (
            ContextRow("staging", "unix:///var/run/docker.sock", True, True, "28.2.2", 3, 5),
            ContextRow("prod-2", "ssh://•••@10.0.0.6", False, False, "Docker engine unreachable at ssh://•••@10.0.0.6"),
        )
    ),
    "from engine containers": FromEngine("prod-1", ContainerTable(tuple(container_row(i) for i in range(3)), all=True)),
    "from engine failure": FromEngine("prod-1", Failure("no such container: `web9`")),
    "from engine details": FromEngine("edge-1", container_details()),
    "fleet containers": FleetAnswer(
        merged=ContainerTable(
            tuple(replace(container_row(i), engine=f"prod-{i % 3}") for i in range(MAX_CONTAINER_ROWS + 5)), all=True
        ),
        parts=(FromEngine("prod-0", ContainerTable((), all=True)),),
        unanswered=(Unanswered("prod-9", "did not answer within 10 s"),),
        left_out=("staging",),
    ),
    "fleet images": FleetAnswer(
        merged=ImageTable(tuple(replace(image_row(i), engine=f"e{i % 2}") for i in range(5))),
        parts=(FromEngine("e0", ImageTable(())),),
    ),
    "fleet logs": FleetAnswer(
        merged=None,
        parts=tuple(FromEngine(f"prod-{i}", LogText("web1", log_text(60), 60, truncated=False)) for i in range(12)),
        unanswered=(Unanswered("prod-x", "Docker engine unreachable at tcp://10.0.0.9:2376: is dockerd running?"),),
    ),
    "fleet nobody answered": FleetAnswer(merged=None, parts=(), unanswered=(Unanswered("a", "no"),)),
    "alert hostile": Alert(
        engine="prod-1",
        container="web1",
        short_id="0123456789ab",
        image="nginx:1.25",
        kind="unhealthy",
        what=f"unhealthy: {HOSTILE}",
        at=NOW,
        state="running",
        restart_count=0,
        logs="\n".join([HOSTILE] * 200),
        log_lines=200,
        mention="<@U0ONCALL>",
    ),
    "alert flapping, resolved": Alert(
        engine="default",
        container="api-1",
        short_id="0123456789ab",
        image="api:2",
        kind="die",
        what="died with exit code 3",
        at=NOW,
        state="running",
        restart_count=4,
        count=4,
        first_at=NOW - timedelta(minutes=6),
        resolved="running again",
    ),
    "alert silenced": Alert(
        engine="prod-1",
        container="web1",
        short_id="0123456789ab",
        image="nginx:1.25",
        kind="die",
        what="died with exit code 1",
        at=NOW,
        state="exited",
        silenced=f"silenced by @U0OPS until 18:00 UTC: {HOSTILE}",
    ),
    "alert about a container removed since": Alert(
        engine="default",
        container="job-7",
        short_id="0123456789ab",
        image="",
        kind="die",
        what="died with exit code 1",
        at=NOW,
        state="",
    ),
    # Compose projects
    "compose projects": ComposeProjectTable(
        (
            ComposeProjectRow("shop", "exited(1), running(3)", "/srv/shop/compose.yaml"),
            ComposeProjectRow("blog", "exited(2)", "/srv/blog/compose.yaml,/srv/blog/compose.prod.yaml"),
        )
    ),
    "compose projects none": ComposeProjectTable(()),
    "compose projects hostile": ComposeProjectTable((ComposeProjectRow(HOSTILE, HOSTILE, HOSTILE, engine=HOSTILE),)),
    "compose projects 500": ComposeProjectTable(
        tuple(ComposeProjectRow(f"p{i}", "running(1)", f"/srv/p{i}/compose.yaml") for i in range(500))
    ),
    "compose top": ComposeProcesses(
        "shop",
        (
            ProcessTable("shop-db-1", ("UID", "PID", "CMD"), (("root", "10", "postgres"),)),
            ProcessTable("shop-api-1", ("UID", "PID", "CMD"), (("root", "11", "api --token=s3cr3t"),)),
        ),
    ),
    "compose top none": ComposeProcesses("shop", ()),
    "compose top hostile": ComposeProcesses(HOSTILE, (ProcessTable(HOSTILE, ("CMD",), ((HOSTILE,),)),)),
    "compose progress": ComposeProgress(
        "shop",
        "restarting",
        "restarted",
        3,
        3,
        "shop-web-1",
        (Outcome("shop-db-1", True), Outcome("shop-api-1", False, "no such container")),
    ),
    "compose progress first": ComposeProgress("shop", "stopping", "stopped", 1, 3, "shop-web-1", ()),
    # -- image updates
    "updates": UpdateTable(
        (
            update_row("web", available="sha256:" + "b" * 64),
            update_row(HOSTILE, image=f"registry.example.com/{HOSTILE}:1", available="sha256:" + "c" * 64),
            update_row("api"),
            update_row("built-here", running_digest=""),
            update_row("lost", image="127.0.0.1:5999/app:1", problem=f"registry unreachable: {HOSTILE}"),
            update_row("lost-2", image="127.0.0.1:5999/app:1", problem=f"registry unreachable: {HOSTILE}"),
        ),
        asked=3,
    ),
    "updates none": UpdateTable((), asked=0),
    "updates 200 outdated": UpdateTable(
        tuple(update_row(f"app-{i}", available="sha256:" + "d" * 64) for i in range(200)), asked=1
    ),
    "updates on engines": UpdateTable(
        tuple(
            replace(update_row(f"app-{i}", available="sha256:" + "e" * 64), engine=f"prod-{i % 2}") for i in range(4)
        ),
        asked=1,
        per_engine=(("prod-0", 2), ("prod-1", 2)),
    ),
    "update outcomes": UpdateOutcomes(
        (
            ImageUpdate("web", "nginx:1.25", UPDATED, "sha256:" + "a" * 64, "sha256:" + "b" * 64),
            ImageUpdate("api", "app:1", UP_TO_DATE, "sha256:" + "a" * 64, "sha256:" + "a" * 64),
            ImageUpdate(
                HOSTILE, "app:2", ROLLED_BACK, "sha256:" + "a" * 64, "sha256:" + "f" * 64, f"exited at once: {HOSTILE}"
            ),
            ImageUpdate("db", "postgres@sha256:" + "1" * 64, NOT_UPDATED, reason="pinned to a digest"),
        )
    ),
    "dry run": Preview(
        command=f"/run --dry-run -d --name {HOSTILE} -e DB_PASSWORD=hunter2 nginx:1.27",
        engine="prod-1",
        targets=(PreviewTarget(HOSTILE, "3f2a" * 16, "exited: the name is taken, docker would refuse"),),
        changes=(
            ("image", "nginx:1.27 — present locally: sha256:" + "a" * 64),
            ("env", "DB_PASSWORD=••••, COLOR=blue"),
            ("-p", "8080→80/tcp"),
            ("--memory", "512m"),
            ("--label", "io.shipmate.user=U0OPER, io.shipmate.team=T0TEAM"),
        ),
        verdict=Verdict(VerdictKind.ALLOWED, f"role operator on prod-1 grants `container.run` (members: {HOSTILE})"),
    ),
    "dry run refused": Preview(
        command="/docker rm -f --dry-run web",
        engine="",
        targets=(),
        changes=(),
        verdict=Verdict(VerdictKind.REFUSED, "you have no Shipmate role on prod-1"),
    ),
    "dry run 300 pruned": Preview(
        command="/docker image prune --dry-run -a",
        engine="",
        targets=tuple(PreviewTarget(f"app-{i}:1", f"{i:012x}", "12.5 MB") for i in range(300)),
        changes=(("prune", "remove 300 unused images, freeing about 3.7 GB"),),
        verdict=Verdict(VerdictKind.ASKS_FIRST, "remove 300 unused images — role admin grants `image.prune`"),
    ),
    "confirmation with preview": ConfirmationRequest(
        summary="remove container `web1`, which is running: it will be stopped first",
        details=(),
        command="/docker --context prod-1 rm -f web1",
        token="t" * 300,
        expires_in=120,
        preview=Preview(
            command="/docker --context prod-1 rm -f web1",
            engine="prod-1",
            targets=(PreviewTarget("web1", "9" * 64, "running"),),
            changes=(("rm -f web1", "stopped (SIGKILL), then removed"),),
            verdict=Verdict(VerdictKind.ASKS_FIRST, "role operator grants `container.rm:own`, and you started `web1`"),
        ),
    ),
    "updates alert": UpdatesAlert(
        "prod-1",
        (
            update_row("web", available="sha256:" + "b" * 64),
            update_row(HOSTILE, available="sha256:" + "c" * 64),
            update_row("lost", image="127.0.0.1:5999/app:1", problem=f"registry unreachable: {HOSTILE}"),
        ),
        NOW,
        mention="<@U0ONCALL>",
    ),
    "updates alert all up to date": UpdatesAlert("prod-1", (), NOW, mention="<@U0ONCALL>"),
    "updates alert 40": UpdatesAlert(
        "prod-1", tuple(update_row(f"app-{i}", available="sha256:" + "d" * 64) for i in range(40)), NOW
    ),
}


# -- volumes and networks: engine strings hostile, a secret-looking label and option among them --------------
VOLUME_EXAMPLES: dict[str, Result] = {
    "volumes": VolumeTable((VolumeRow("data", "local", 12_345_678, 1), VolumeRow("nfs-share", "nfs", -1, 0))),
    "volumes none matching": VolumeTable((), filters=(("dangling", "true"),)),
    "volumes 2000 hostile": VolumeTable(tuple(VolumeRow(f"{HOSTILE}{i}", HOSTILE, i, i % 3) for i in range(2000))),
    "volume details hostile": VolumeDetails(
        (
            VolumeFacts(
                name="data",
                driver=HOSTILE,
                scope="local",
                mountpoint=f"/var/lib/docker/volumes/{HOSTILE}/_data",
                created=NOW,
                size=4096,
                used_by=(f"{HOSTILE} (running)",),
                labels=(("team", HOSTILE), ("DB_PASSWORD", SECRETS["DB_PASSWORD"])),
                options=(("o", HOSTILE), ("API_TOKEN", SECRETS["API_TOKEN"])),
            ),
        )
        * 8,
        missing=(HOSTILE,),
    ),
    "networks": NetworkTable((NetworkRow("0123456789ab", "bridge", "bridge", "local"),)),
    "networks none": NetworkTable(()),
    "network details hostile": NetworkDetails(
        name=HOSTILE,
        short_id="0123456789ab",
        driver="bridge",
        scope="local",
        internal=True,
        attachable=False,
        created=NOW,
        subnets=(("172.30.0.0/24", "172.30.0.1"), ("fd00::/64", "")),
        members=tuple(NetworkMember(f"{HOSTILE}{i}", f"172.30.0.{i}/24", "") for i in range(300)),
        labels=(("owner", HOSTILE), ("webhook_secret", SECRETS["AWS_SECRET_ACCESS_KEY"])),
        options=(("com.docker.network.bridge.name", HOSTILE),),
    ),
    "network without containers": NetworkDetails(
        "quiet", "0123456789ab", "bridge", "local", False, True, None, (), (), (), ()
    ),
}
EXAMPLES.update(VOLUME_EXAMPLES)

FREEZE_EXAMPLES: dict[str, Result] = {
    "freezes": FreezeList(
        (
            Freeze("policy 1", "prod-*", NOW - timedelta(hours=1), NOW + timedelta(hours=2), "friday", "policy.yml"),
            Freeze("7", "prod-1,prod-2", NOW, NOW + timedelta(minutes=30), "release 4.2", "U0ADMIN"),
            Freeze("policy 2", "prod-*", NOW + timedelta(days=3), NOW + timedelta(days=4), "year end", "policy.yml"),
        ),
        NOW,
    ),
    "freezes none": FreezeList((), NOW),
    "freezes hostile": FreezeList(
        tuple(Freeze(str(i), HOSTILE, NOW, NOW + timedelta(hours=i), HOSTILE, "U0ADMIN") for i in range(1, 400)),
        NOW,
    ),
    "silences": SilenceList((Silence("3", "*", "web*", NOW, NOW + timedelta(hours=1), "deploying web", "U0OPS"),), NOW),
    "silences none": SilenceList((), NOW),
    "silences hostile": SilenceList(
        tuple(Silence(str(i), HOSTILE, HOSTILE, NOW, NOW + timedelta(days=2), HOSTILE, "W0X") for i in range(400)),
        NOW,
    ),
}
EXAMPLES.update(FREEZE_EXAMPLES)


def _home_examples() -> dict[str, Result]:
    """The Home tab's sections, at their biggest and most hostile, and the whole tab."""
    from bot.render import home  # noqa: F401  (registers the Home tab's renderers)
    from bot.results import (
        ApprovalsToDecide,
        EngineStatus,
        EngineStatuses,
        FreezesAhead,
        Home,
        OpenAlerts,
        OwnedContainers,
        OwnedService,
        OwnedServices,
        PendingRequests,
        TemporaryAccess,
    )

    owner = "label=io.shipmate.user=U0ALICE"
    engines = EngineStatuses(
        tuple(EngineStatus(f"{HOSTILE}{i}", i % 3 != 0, "24.0.7", i, 2 * i, HOSTILE) for i in range(500))
    )
    alerts = OpenAlerts(tuple(replace(EXAMPLES["alert hostile"], container=f"{HOSTILE}{i}") for i in range(40)))
    containers = OwnedContainers(
        owner,
        tuple(replace(row, engine=f"prod-{i % 3}") for i, row in enumerate(EXAMPLES["containers 500"].rows)),
        (Unanswered("prod-x", HOSTILE),),
    )
    services = OwnedServices(
        owner,
        tuple(
            OwnedService("swarm-1", ServiceRow(f"id{i}", f"{HOSTILE}{i}", "replicated", 1, 2, HOSTILE, ()))
            for i in range(60)
        ),
    )
    to_decide = ApprovalsToDecide(
        tuple(replace(EXAMPLES["approval request hostile"], id=f"req{i}", requester="U0BOB") for i in range(8))
    )
    pending = PendingRequests(
        tuple(ApprovalWaiting(replace(APPROVAL_REQUEST, id=f"mine{i}"), "C0OPS") for i in range(7))
    )
    freezes = FreezesAhead(FREEZE_EXAMPLES["freezes hostile"].freezes, NOW)  # type: ignore[attr-defined]
    grant = "operator on prod-1 until 2026-12-06 14:05:00 UTC (grant 3f2a9c1d: INC-4411, approved by U0BOB)"
    access = TemporaryAccess((grant, HOSTILE))
    return {
        "home approvals 8 hostile": to_decide,
        "home approvals none": ApprovalsToDecide(()),
        "home requests 7": pending,
        "home requests none": PendingRequests(()),
        "home freezes 399 hostile": freezes,
        "home freezes none": FreezesAhead((), NOW),
        "home temporary access": access,
        "home temporary access none": TemporaryAccess(()),
        "home change safety": Home(
            "U0ALICE",
            (
                EngineStatuses(engines.rows[:3]),
                to_decide,
                freezes,
                FREEZE_EXAMPLES["silences hostile"],
                pending,
                access,
            ),
        ),
        "home engines 500 hostile": engines,
        "home engines none": EngineStatuses(()),
        "home alerts 40 hostile": alerts,
        "home alerts none": OpenAlerts(()),
        "home containers 500": containers,
        "home containers none": OwnedContainers(owner, ()),
        "home services 60 hostile": services,
        "home services none": OwnedServices(owner, ()),
        "home everything": Home("U0ALICE", (engines, alerts, containers, services)),
        "home nothing readable": Home("U0ALICE", (EngineStatuses(()), OpenAlerts(()), OwnedContainers(owner, ()))),
    }


EXAMPLES.update(_home_examples())


def message(result: Result) -> Message:
    rendered = to_message(result)
    assert isinstance(rendered, Message)
    return rendered


def texts(payload: dict) -> list[str]:
    """The fallback and every mrkdwn text object: the strings Slack formats."""
    found = [payload["text"]]

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload["blocks"])
    return found


def contexts(payload: dict) -> list[str]:
    return [e["text"] for b in payload["blocks"] if b["type"] == "context" for e in b["elements"]]


def as_slack_code(text: str) -> str:
    """Text as it must appear inside a code block: Slack's three characters escaped, fences broken."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("```", "`\u200b``")


def code_lines(payload: dict) -> list[str]:
    """The lines inside the ``` fences, in order."""
    lines: list[str] = []
    for block in payload["blocks"]:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        if text.startswith("```\n") and text.endswith("\n```"):
            lines += text[4:-4].split("\n")
    return lines


# -- every result type, both renderers ----------------------------------------------------------------


def _result_types() -> set[type]:
    found, todo = set(), [Result]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__ == bot.results.__name__:
                found.add(sub)
    return found


def test_every_result_type_has_examples_and_both_renderers() -> None:
    types = _result_types() | {
        PullProgress,
        ServiceProgress,
        ComposeProgress,
    }  # not Results (sent while work runs), drawn like one
    assert {type(result) for result in EXAMPLES.values()} == types
    for kind in types:
        assert to_message.dispatch(kind) is not to_message.dispatch(Result), kind
        assert to_text.dispatch(kind) is not to_text.dispatch(Result), kind


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_renders_valid_slack_message_and_text(name: str) -> None:
    result = EXAMPLES[name]
    rendered = message(result)
    payload = rendered.payload()
    assert_valid_message(payload)
    assert payload["blocks"], "every answer has at least one block"
    as_text = to_text(result)
    assert isinstance(as_text, str) and as_text.strip()


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_mrkdwn_hostile_text_is_escaped(name: str) -> None:
    """No `<…>` control sequence or raw `&` reaches Slack's formatter except the bot's own mentions of users,
    user groups (approvers) and channels (where an approval request waits)."""
    for text in texts(message(EXAMPLES[name]).payload()):
        own_mentions_removed = re.sub(r"<@[UW][A-Z0-9]+>|<!subteam\^S[A-Z0-9]+>|<#[CG][A-Z0-9]+>", "", text)
        assert "<" not in own_mentions_removed and ">" not in own_mentions_removed, text[:300]
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text[:300]
        if text.startswith("```\n") and text.endswith("\n```"):
            assert text.count("```") == 2, "a fence inside code would end the code block early"


def test_hostile_text_survives_as_text() -> None:
    payload = message(EXAMPLES["logs hostile"]).payload()
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt; &lt;http://evil.example|click&gt; &amp; &amp;amp;" in payload_strings(
        payload
    )
    failure = message(EXAMPLES["failure hostile"]).payload()
    assert "<!channel>" not in failure["text"] and "&lt;!channel&gt;" in failure["text"]
    assert "<!channel>" in to_text(EXAMPLES["failure hostile"]), "the terminal shows the text as it is"


# -- limits and honest truncation ------------------------------------------------------------------------


def test_500_containers_show_20_and_say_how_many_more() -> None:
    payload = message(EXAMPLES["containers 500"]).payload()
    assert_valid_message(payload)
    rows = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert len(rows) == MAX_CONTAINER_ROWS
    assert payload["text"] == "500 containers"
    assert any(note.startswith(f"… and {500 - MAX_CONTAINER_ROWS} more") for note in contexts(payload))
    assert len(to_text(EXAMPLES["containers 500"]).splitlines()) == 501, "the terminal lists every container"


def test_a_cut_merged_image_table_says_how_many_rows_each_engine_gave() -> None:
    answered = {
        "prod-2": ImageTable(tuple(image_row(i) for i in range(MAX_IMAGE_ROWS + 20))),
        "local": ImageTable(tuple(image_row(i) for i in range(3))),
        "edge": ImageTable(()),
    }
    cut = merge(answered, {}, ())
    payload = message(cut).payload()
    assert_valid_message(payload)
    assert payload["text"] == f"{MAX_IMAGE_ROWS + 23} images (edge 0 · local 3 · prod-2 {MAX_IMAGE_ROWS + 20})"
    assert payload["blocks"][0]["text"]["text"] == f"*{payload['text']}*"
    whole = message(merge({"local": answered["local"], "edge": answered["edge"]}, {}, ())).payload()
    assert whole["text"] == "3 images", "a table shown whole needs no count per engine"


def test_1000_images_show_100_and_say_how_many_more() -> None:
    payload = message(EXAMPLES["images 1000"]).payload()
    lines = code_lines(payload)
    assert lines[0].startswith("REPOSITORY") and len(lines) == MAX_IMAGE_ROWS + 1
    assert contexts(payload) == [f"… and {1000 - MAX_IMAGE_ROWS} more"]
    assert payload["text"] == "1000 images"
    assert len(to_text(EXAMPLES["images 1000"]).splitlines()) == 1001


def test_image_rows_that_do_not_fit_are_counted_exactly() -> None:
    payload = message(EXAMPLES["images long names"]).payload()
    shown = len(code_lines(payload)) - 1
    assert 0 < shown < 150
    assert contexts(payload) == [f"… and {150 - shown} more"]


@pytest.mark.parametrize(
    ("name", "total"), [("image details huge env", 300), ("notice 1000 lines", 1000), ("container details long", 100)]
)
def test_long_listings_say_how_many_more(name: str, total: int) -> None:
    payload = message(EXAMPLES[name]).payload()
    shown = len([line for line in code_lines(payload) if re.match(r"(VAR_|V|record )\d+", line)])
    assert 0 < shown < total
    assert f"… and {total - shown} more" in contexts(payload)


@pytest.mark.parametrize(
    ("name", "filename"),
    [("logs 50000", "web1.log"), ("run long output", "web1.out"), ("run timed out", "web1.out")],
)
def test_long_output_shows_its_tail_and_attaches_everything(name: str, filename: str) -> None:
    result = EXAMPLES[name]
    full = result.text if isinstance(result, LogText) else result.output
    rendered = message(result)
    payload = rendered.payload()
    lines = code_lines(payload)
    assert rendered.attachment is not None
    assert rendered.attachment.filename == filename and rendered.attachment.content == full
    assert f"output truncated, last {len(lines)} lines shown" in " ".join(contexts(payload))
    assert lines == full.rstrip("\n").split("\n")[-len(lines) :], "the newest lines are the ones shown"
    assert 0 < len(lines) <= 40


def test_audit_rows_that_do_not_fit_are_counted() -> None:
    payload = message(EXAMPLES["audit long commands"]).payload()
    shown = len(code_lines(payload)) - 1  # the header
    assert 0 < shown < 200
    assert f"… and {200 - shown} more" in contexts(payload)
    assert len(message(EXAMPLES["audit 200"]).payload()["blocks"]) > 1


def test_policy_roles_beyond_the_first_30_are_counted() -> None:
    assert any(
        note.startswith("… and 10 more roles") for note in contexts(message(EXAMPLES["policy many roles"]).payload())
    )


def test_one_line_too_long_for_slack_is_attached() -> None:
    rendered = message(EXAMPLES["logs one long line"])
    assert rendered.attachment is not None and rendered.attachment.content == "q" * 10_000 + "\n"
    assert any("output truncated" in note for note in contexts(rendered.payload()))


@pytest.mark.parametrize("name", ["logs", "run exited", "run failed", "run no output", "run hostile output"])
def test_short_output_is_inline_whole(name: str) -> None:
    result = EXAMPLES[name]
    full = result.text if isinstance(result, LogText) else result.output
    rendered = message(result)
    assert rendered.attachment is None
    assert not any("truncated" in note for note in contexts(rendered.payload()))
    assert "\n".join(code_lines(rendered.payload())) == as_slack_code(full.rstrip("\n") or "(no output)")


def test_capped_logs_say_so_in_both_renderers() -> None:
    result = EXAMPLES["logs capped"]
    assert any("output capped by size" in note for note in contexts(message(result).payload()))
    assert to_text(result).startswith("(output capped by size, 2000 lines shown: narrow it with --tail N or --since)\n")


def test_text_renderer_keeps_the_whole_output() -> None:
    assert to_text(EXAMPLES["logs 50000"]) == EXAMPLES["logs 50000"].text.rstrip("\n")
    assert to_text(EXAMPLES["logs empty"]) == "no output from web1"


def test_no_limit_is_exceeded_by_the_biggest_results() -> None:
    for name in ("containers 500", "images 1000", "logs 50000", "notice 1000 lines", "policy many roles", "audit 200"):
        payload = message(EXAMPLES[name]).payload()
        assert not list(message_problems(payload)), name
        assert len(payload["blocks"]) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in payload["blocks"])


# -- secrets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["image details", "container details"])
def test_secret_env_values_are_masked_in_both_renderers(name: str) -> None:
    result = EXAMPLES[name]
    payload = payload_strings(message(result).payload())
    as_text = to_text(result)
    for variable, value in SECRETS.items():
        for rendered in (payload, as_text):
            assert f"{variable}={MASK}" in rendered
            assert value not in rendered
    for variable, value in PLAIN_ENV:
        assert f"{variable}={value}" in payload and f"{variable}={value}" in as_text


def test_secret_looking_labels_are_masked_too() -> None:
    result = EXAMPLES["image details"]
    for rendered in (payload_strings(message(result).payload()), to_text(result)):
        assert f"LICENSE_KEY={MASK}" in rendered and "lic-1234abcd" not in rendered
        assert "maintainer=NGINX Docker Maintainers" in rendered


def test_an_empty_secret_is_shown_empty_not_masked() -> None:
    result = container_details(env=(("API_TOKEN", ""),))
    assert "API_TOKEN=\n" in "\n".join(code_lines(message(result).payload())) + "\n"
    assert "  API_TOKEN=" in to_text(result).splitlines()


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("/run -e \u201cDB_PASSWORD=hunter two\u201d nginx", "/run -e DB_PASSWORD=•••• nginx"),
        ("/run -e \u2018API_TOKEN=a b c\u2019 nginx", "/run -e API_TOKEN=•••• nginx"),
        ("/run -e \u201dDB_PASSWORD=hunter two\u201d nginx", "/run -e DB_PASSWORD=•••• nginx"),
        ("/run -e DB_PASSWORD=hunter\\ two nginx", "/run -e DB_PASSWORD=•••• nginx"),
        (
            "/run -e COLOR=\u201cdeep blue\u201d busybox echo don\u2019t",
            "/run -e COLOR=\u201cdeep blue\u201d busybox echo don\u2019t",
        ),
    ],
)
def test_the_echoed_command_line_masks_secrets_however_slack_quoted_them(typed: str, shown: str) -> None:
    """The command line shown under channel replies (and kept in the audit log) as Slack delivers it."""
    assert mask_text(typed) == shown


# -- docker-like tables ------------------------------------------------------------------------------------


def _assert_columns(lines: list[str], header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Each cell starts exactly where its header does, in every row."""
    starts = [lines[0].index(title) for title in header]
    assert starts == sorted(starts)
    for line, cells in zip(lines[1:], rows, strict=True):
        for start, cell in zip(starts, cells, strict=True):
            assert line[start : start + len(cell)] == cell, (line, cell)
            assert start == 0 or line[start - 1] == " ", line


def test_terminal_container_table_is_aligned() -> None:
    result = EXAMPLES["containers long names"]
    header = ("CONTAINER ID", "IMAGE", "COMMAND", "STATUS", "PORTS", "NAMES")
    rows = [(r.short_id, r.image, f'"{r.command[:20]}"', r.status, ", ".join(r.ports), r.name) for r in result.rows]
    lines = to_text(result).splitlines()
    _assert_columns(lines, header, [(*row[:-1], "") for row in rows])  # NAMES follows its state emoji
    assert all(line.endswith(row[-1]) for line, row in zip(lines[1:], rows, strict=True))


def test_terminal_image_table_is_aligned() -> None:
    result = EXAMPLES["images"]
    lines = to_text(result).splitlines()
    rows = [(r.repository, r.tag, r.short_id) for r in result.rows]
    _assert_columns(lines, ("REPOSITORY", "TAG", "IMAGE ID"), rows)


@pytest.mark.parametrize("name", ["containers", "containers long names", "containers 500"])
def test_slack_container_rows_are_aligned(name: str) -> None:
    payload = message(EXAMPLES[name]).payload()
    rows = [b["text"]["text"] for b in payload["blocks"][1:] if b["type"] == "section"]
    spans = [re.match(r"^\S+ `([^`]*)`  `[0-9a-f]{12}`$", row) for row in rows]
    assert all(spans), rows
    shown = EXAMPLES[name].rows[: len(rows)]
    image_columns = {span[1].index(row.image[:39]) for span, row in zip(spans, shown, strict=True)}
    status_columns = {span[1].index(row.status) for span, row in zip(spans, shown, strict=True)}
    assert len(image_columns) == 1 and len(status_columns) == 1, rows


# -- buttons: each carries a command line that parses back to the command it names -----------------------------


def _buttons(payload: dict) -> dict[str, dict[str, str]]:
    """block_id -> {label without emoji: value}"""
    found = {}
    for block in payload["blocks"]:
        if block["type"] == "actions" and block.get("block_id", "").startswith("container:"):
            found[block["block_id"]] = {
                element["text"]["text"].split(" ", 1)[1]: element["value"] for element in block["elements"]
            }
    return found


def _expected_buttons(name: str, state: str) -> dict[str, Command]:
    if state in RUNNING_STATES:
        return {
            "Logs": ContainerLogs(container=name),
            "Restart": ContainerRestart(containers=(name,)),
            "Stop": ContainerStop(containers=(name,)),
            "Remove": ContainerRemove(containers=(name,), force=True),
        }
    return {
        "Logs": ContainerLogs(container=name),
        "Start": ContainerStart(containers=(name,)),
        "Remove": ContainerRemove(containers=(name,), force=False),
    }


def _assert_buttons_parse_back(buttons: dict[str, str], name: str, state: str) -> None:
    expected = _expected_buttons(name, state)
    assert list(buttons) == list(expected)
    for label, value in buttons.items():
        assert parse(value, "/docker") == expected[label], (label, value)


@pytest.mark.parametrize("name", ["containers", "containers long names", "containers 500"])
def test_container_rows_carry_buttons_that_parse_back(name: str) -> None:
    result = EXAMPLES[name]
    buttons = _buttons(message(result).payload())
    shown = result.rows[:MAX_CONTAINER_ROWS]
    assert list(buttons) == [f"container:{row.name}" for row in shown]
    for row in shown:
        _assert_buttons_parse_back(buttons[f"container:{row.name}"], row.name, row.state)


@pytest.mark.parametrize("state", STATES)
def test_every_state_gets_the_right_buttons(state: str) -> None:
    row = container_row(3, name="web.3_x", state=state)
    buttons = _buttons(message(ContainerTable((row,), all=True)).payload())
    _assert_buttons_parse_back(buttons["container:web.3_x"], "web.3_x", state)
    details = container_details(name="web.3_x", state=state)
    _assert_buttons_parse_back(_buttons(message(details).payload())["container:web.3_x"], "web.3_x", state)


@pytest.mark.parametrize(
    ("name", "state"), [("run detached", "running"), ("run exited", "exited"), ("run timed out", "exited")]
)
def test_run_results_carry_buttons_that_parse_back(name: str, state: str) -> None:
    result = EXAMPLES[name]
    buttons = _buttons(message(result).payload())
    assert list(buttons) == [f"container:{result.name}"]
    _assert_buttons_parse_back(buttons[f"container:{result.name}"], result.name, state)


def test_a_removed_run_has_no_buttons() -> None:
    assert _buttons(message(EXAMPLES["run failed"]).payload()) == {}


def test_remove_is_the_danger_button() -> None:
    for block in message(EXAMPLES["containers"]).payload()["blocks"]:
        if block["type"] == "actions":
            styles = {e["text"]["text"].split(" ", 1)[1]: e.get("style") for e in block["elements"]}
            assert styles.pop("Remove") == "danger" and set(styles.values()) == {None}


def test_confirmation_buttons_carry_the_token() -> None:
    payload = message(EXAMPLES["confirmation"]).payload()
    (actions,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [(e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("Confirm", "t" * 300),
        ("Cancel", "t" * 300),
    ]


# -- the rest of each result's content -----------------------------------------------------------------------


def test_failure_shows_reason_and_usage() -> None:
    result = EXAMPLES["failure"]
    rendered = message(result)
    assert rendered.is_error
    assert rendered.payload()["text"] == "❌ unknown flag `--frob`"
    assert contexts(rendered.payload()) == ["usage: `/ps [-a|--all] [-f|--filter KEY=VALUE]…`"]
    assert to_text(result) == "error: unknown flag `--frob` — usage: /ps [-a|--all] [-f|--filter KEY=VALUE]…"


def test_help_lists_every_command_in_both_renderers() -> None:
    payload = payload_strings(message(HELP_OVERVIEW).payload())
    as_text = to_text(HELP_OVERVIEW)
    for spec in SPECS:
        assert f"/docker {spec.name}" in payload and spec.summary in payload
        assert f"/docker {spec.name}" in as_text and spec.summary in as_text


def test_pull_progress_bar() -> None:
    assert progress_bar(0) == "░" * 20 and progress_bar(100) == "▓" * 20 and progress_bar(140) == "▓" * 20
    assert progress_bar(50) == "▓" * 10 + "░" * 10 and progress_bar(-5) == "░" * 20
    payload = message(EXAMPLES["pull progress"]).payload()
    assert "42%" in payload["blocks"][0]["text"]["text"] and contexts(payload) == ["2/5 layers"]
    assert to_text(EXAMPLES["pull progress"]) == "pulling nginx:1.25: 42% (2/5 layers)"


def test_pull_done_says_whether_anything_changed() -> None:
    assert to_text(EXAMPLES["pulled"]) == "pulled nginx:1.25 (3f4e5d6c7b8a, 187.7 MB)"
    assert to_text(EXAMPLES["pull up to date"]) == "nginx:latest is up to date (3f4e5d6c7b8a, 187.7 MB)"


def test_outcomes_show_each_target() -> None:
    mixed = EXAMPLES["outcomes mixed"]
    rendered = message(mixed)
    assert rendered.is_error and not mixed.all_ok
    assert "✅ `web1` stopped" in rendered.payload()["blocks"][0]["text"]["text"]
    assert to_text(mixed).splitlines()[0] == "web1: stopped"
    assert to_text(mixed).splitlines()[1].startswith("ghost: error: no such container")
    assert not message(EXAMPLES["outcomes ok"]).is_error


def test_run_summaries() -> None:
    assert (
        to_text(EXAMPLES["run detached"]).splitlines()[0]
        == "started web1 (0123456789ab) from devwikirepo/envnodecolorapp: running"
    )
    assert to_text(EXAMPLES["run failed"]).splitlines()[0] == "web1 exited with code 3, removed"
    assert to_text(EXAMPLES["run timed out"]).splitlines()[0] == "web1 was still running after 60 s and was stopped"
    assert any(
        "pulled `devwikirepo/envnodecolorapp` first" in note
        for note in contexts(message(EXAMPLES["run failed"]).payload())
    )


def test_headers_are_cut_to_slacks_limit() -> None:
    payload = message(EXAMPLES["container details long"]).payload()
    assert payload["blocks"][0]["type"] == "header"
    assert len(payload["blocks"][0]["text"]["text"]) <= 150


# -- the checker itself: each rule can fail ----------------------------------------------------------------------


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(text: str, action_id: str = "a", value: str = "v") -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"text": "", "blocks": [_section("x")]}, "fallback `text` must be a non-empty string"),
        ({"blocks": [_section("x")]}, "fallback `text` must be a non-empty string"),
        ({"text": "x" * 4001, "blocks": []}, "fallback `text` is 4001 characters"),
        ({"text": "t", "blocks": [_section("x")] * 51}, "51 blocks; at most 50"),
        ({"text": "t", "blocks": [_section("x" * 3001)]}, "3000"),
        ({"text": "t", "blocks": [_section(" ")]}, "text is empty"),
        ({"text": "t", "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]}, "fields"),
        (
            {"text": "t", "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}]},
            "field 0 text is 2001 characters",
        ),
        ({"text": "t", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}, "150"),
        ({"text": "t", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]}, "header"),
        ({"text": "t", "blocks": [{"type": "actions", "elements": [_button("b" * 76)]}]}, "75"),
        ({"text": "t", "blocks": [{"type": "actions", "elements": [_button("b", value="v" * 2001)]}]}, "value"),
        ({"text": "t", "blocks": [{"type": "actions", "elements": [_button("b"), _button("c")]}]}, "used twice"),
        ({"text": "t", "blocks": [{"type": "actions", "elements": [{**_button("b"), "style": "loud"}]}]}, "style"),
        (
            {"text": "t", "blocks": [{**_section("x"), "block_id": "a"}, {**_section("y"), "block_id": "a"}]},
            "used twice",
        ),
        ({"text": "t", "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}]}, "context"),
        ({"text": "t", "blocks": [{"type": "bogus"}]}, "unknown block type"),
        ({"text": "t", "blocks": [{**_section("x"), "acessory": {}}]}, "drops or changes"),
        ({"text": "t", "blocks": ["not a block"]}, "not a block"),
        ({"text": "t", "blocks": [_section("x")], "response_type": "everyone"}, "response_type"),
        ({"text": "t", "blocks": {"type": "section"}}, "`blocks` must be a list"),
    ],
)
def test_the_checker_catches_each_rule(payload: dict, problem: str) -> None:
    problems = list(message_problems(payload))
    assert any(problem in found for found in problems), problems
    with pytest.raises(AssertionError, match="invalid Slack message"):
        assert_valid_message(payload)


def test_the_checker_accepts_a_good_message_in_both_forms() -> None:
    good = Message(text="ok", blocks=[_section("hello"), {"type": "actions", "elements": [_button("Go")]}])
    assert_valid_message(good)
    payload = {**good.payload(), "response_type": "ephemeral"}
    assert_valid_message(payload)
    assert_valid_message({**payload, "blocks": json.dumps(payload["blocks"])})


def test_help_lists_every_command_uncut() -> None:
    shown = "\n".join(block["text"]["text"] for block in message(HELP_OVERVIEW).blocks if block["type"] == "section")
    for entry in HELP_OVERVIEW.entries:
        line = f"{entry.usage} — {entry.summary}".replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert line in shown.split("\n")


# -- image updates -----------------------------------------------------------------------------------------


def test_updates_show_both_digests_a_button_per_outdated_row_and_a_line_per_unasked_registry() -> None:
    result = EXAMPLES["updates"]
    text = to_text(result)
    assert text.splitlines()[0] == "2 of 6 running containers can be updated"
    assert text.splitlines()[1].split() == ["CONTAINER", "IMAGE", "RUNNING", "DIGEST", "AVAILABLE", "AGE"]
    web = next(line for line in text.splitlines() if line.startswith("web "))
    assert f"sha256:{'a' * 12}" in web and f"sha256:{'b' * 12}" in web
    assert "up to date" in next(line for line in text.splitlines() if line.startswith("api "))
    (problem,) = [line for line in text.splitlines() if "127.0.0.1:5999/app:1" in line]
    assert "(lost, lost-2)" in problem  # one line for the registry, naming its containers
    payload = message(result).payload()
    values = [e["value"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == ["update-image web", f"update-image {HOSTILE}"]


def test_200_outdated_rows_keep_to_20_buttons_and_engine_rows_act_on_their_engine() -> None:
    payload = message(EXAMPLES["updates 200 outdated"]).payload()
    assert_valid_message(payload)
    assert sum(1 for block in payload["blocks"] if block["type"] == "actions") == 20
    values = [
        e["value"]
        for b in message(EXAMPLES["updates on engines"]).payload()["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert values[:2] == ["--context prod-0 update-image app-0", "--context prod-1 update-image app-1"]
    assert to_text(EXAMPLES["updates on engines"]).splitlines()[1].split()[:2] == ["ENGINE", "CONTAINER"]


def test_update_outcomes_say_what_happened_and_mask_what_a_failure_quotes() -> None:
    text = to_text(EXAMPLES["update outcomes"])
    assert f"web: updated nginx:1.25 sha256:{'a' * 12} → sha256:{'b' * 12}" in text
    assert "api: app:1 is up to date" in text
    assert "rolled back: the old container" in text and "db: not updated: pinned to a digest" in text
    assert message(EXAMPLES["update outcomes"]).is_error
    leaked = UpdateOutcomes((ImageUpdate("web", "app:1", ROLLED_BACK, reason="unhealthy: API_TOKEN=hunter2 rejected"),))
    assert "hunter2" not in to_text(leaked) and "hunter2" not in str(message(leaked).payload())


def test_a_dry_run_shows_targets_changes_and_the_verdict_masked_in_both_renderers() -> None:
    preview = EXAMPLES["dry run"]
    text = to_text(preview)
    assert text.splitlines()[0].startswith("🔎 dry run of `/run --dry-run -d --name") and "on prod-1" in text
    assert "DB_PASSWORD=••••" in text and "hunter2" not in text
    assert "--memory: 512m" in text and "io.shipmate.user=U0OPER" in text
    assert f"({'3f2a' * 3})" in text  # the target's short id
    assert text.splitlines()[-1].startswith("✅ would run: role operator on prod-1 grants `container.run`")
    rendered = message(preview)
    assert not rendered.is_error and "hunter2" not in str(rendered.payload())
    refused = to_text(EXAMPLES["dry run refused"])
    assert refused.splitlines() == [
        "🔎 dry run of `/docker rm -f --dry-run web`: nothing was done",
        "⛔ would be refused: you have no Shipmate role on prod-1",
    ]
    assert "… and 260 more" in to_text(EXAMPLES["dry run 300 pruned"])
    confirmation = to_text(EXAMPLES["confirmation with preview"])
    assert confirmation.startswith("needs confirmation: remove container `web1`, which is running")
    assert (
        f"web1 ({'9' * 12}): running" in confirmation and "rm -f web1: stopped (SIGKILL), then removed" in confirmation
    )


def test_the_updates_alert_has_an_update_button_per_container_and_update_all_on_its_engine() -> None:
    payload = message(EXAMPLES["updates alert"]).payload()
    values = [e["value"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == [
        "--context prod-1 update-image web",
        f"--context prod-1 update-image {HOSTILE}",
        f"--context prod-1 update-image web {HOSTILE}",
    ]
    assert payload["blocks"][0]["text"]["text"].startswith("<@U0ONCALL> *⬆️ 2 containers on prod-1 can be updated*")
    text = to_text(EXAMPLES["updates alert"])
    assert "(lost): registry unreachable" in text and "ENGINE" not in text
    quiet = message(EXAMPLES["updates alert all up to date"]).payload()
    assert "U0ONCALL" not in str(quiet) and not [b for b in quiet["blocks"] if b["type"] == "actions"]
    many = message(EXAMPLES["updates alert 40"]).payload()
    (actions,) = [b for b in many["blocks"] if b["type"] == "actions"]
    assert len(actions["elements"]) == 21 and actions["elements"][-1]["value"].count(" app-") == 20
