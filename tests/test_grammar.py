"""The command language: every command, alias, slash prefix and flag spelling, and every kind of refusal."""

import pytest

from bot.grammar import (
    SLASH_COMMANDS,
    ParseError,
    compose,
    containers,
    diagnostics,
    images,
    parse,
    parse_line,
    prune,
    run,
    services,
    spec_for,
    system,
    volumes,
)
from bot.grammar.clean import clean_slack_text
from bot.grammar.commands import (
    Command,
    ContainerDiff,
    ContainerExec,
    ContainerFollow,
    ContainerInspect,
    ContainerList,
    ContainerLogs,
    ContainerPort,
    ContainerPrune,
    ContainerRemove,
    ContainerRestart,
    ContainerRun,
    ContainerStart,
    ContainerStats,
    ContainerStop,
    ContainerTop,
    Help,
    ImageInspect,
    ImageList,
    ImagePrune,
    ImagePull,
    ImageRemove,
    PortMapping,
    StopFollowing,
    SystemDiskUsage,
    SystemEvents,
    SystemInfo,
    SystemVersion,
)
from bot.grammar.compose import (
    ComposeList,
    ComposeLogs,
    ComposePs,
    ComposeRestart,
    ComposeStart,
    ComposeStop,
    ComposeTop,
)
from bot.grammar.freezes import FreezeEngines, ShowFreezes, ShowSilences, SilenceAlerts, Unfreeze, Unsilence
from bot.grammar.images import ImageHistory
from bot.grammar.options import DANGEROUS_FLAGS
from bot.grammar.service_commands import (
    NodeList,
    ServiceCreate,
    ServiceInspect,
    ServiceList,
    ServiceLogs,
    ServicePs,
    ServiceRemove,
    ServiceRollback,
    ServiceScale,
    ServiceUpdate,
    StackList,
    StackPs,
    StackServices,
)
from bot.grammar.shipmate import AccessRequest, RevokeGrant, ShowGrants
from bot.grammar.updates import ContainerUpdateImage
from bot.grammar.updates import ImageUpdates as UpdatesCommand
from bot.grammar.volume_commands import (
    NetworkInspect,
    NetworkList,
    VolumeInspect,
    VolumeList,
    VolumePrune,
    VolumeRemove,
)

DOCKER_SPECS = (
    *images.SPECS,
    *containers.SPECS,
    *diagnostics.SPECS,
    *prune.SPECS,
    *system.SPECS,
    *run.SPECS,
    *services.SPECS,
    *volumes.SPECS,
    *compose.SPECS,
)
DIGEST = "sha256:" + "0123456789abcdef" * 4
LOGS_USAGE = "[-f|--follow] [--tail N] [--since DURATION] CONTAINER"
EXEC_USAGE = "`/docker exec CONTAINER COMMAND [ARG…]`"
EVENTS_USAGE = "`/docker events [--since TIME] [--until TIME] [-f|--filter KEY=VALUE]…`"
RUN_USAGE = "[-d] [--name NAME] [-e KEY=VALUE]… [-p [IP:]HOST:CONTAINER[/tcp|udp]]… [--rm] IMAGE [COMMAND [ARG…]]"


def refusal(text: str, slash: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse(text, slash)
    error = caught.value
    assert "\n" not in str(error), str(error)
    return error


# -- every command, through every spelling -------------------------------------------------------------

SPELLINGS: list[tuple[str, str, Command]] = [
    # images
    ("/img", "ls", ImageList()),
    ("/img", "list", ImageList()),
    ("/img", "ls nginx", ImageList(reference="nginx")),
    ("/img", "ls nginx:1.25", ImageList(reference="nginx:1.25")),
    ("/img", "ls 127.0.0.1:5000/team/app:v2", ImageList(reference="127.0.0.1:5000/team/app:v2")),
    ("/docker", "images", ImageList()),
    ("/docker", "images busybox", ImageList(reference="busybox")),
    ("/docker", "image ls", ImageList()),
    ("/docker", "image list", ImageList()),
    ("/img", "inspect nginx", ImageInspect(image="nginx")),
    ("/img", "inspect nginx:1.25", ImageInspect(image="nginx:1.25")),
    ("/img", "history nginx", ImageHistory(image="nginx")),
    ("/docker", "history --no-trunc nginx:1.25", ImageHistory(image="nginx:1.25", full=True)),
    ("/docker", "image inspect devwikirepo/envnodecolorapp", ImageInspect(image="devwikirepo/envnodecolorapp")),
    ("/img", "pull nginx", ImagePull(repository="nginx", tag="latest")),
    ("/img", "pull nginx:1.25", ImagePull(repository="nginx", tag="1.25")),
    ("/img", f"pull nginx@{DIGEST}", ImagePull(repository="nginx", tag="", digest=DIGEST)),
    ("/img", f"pull nginx:1.25@{DIGEST}", ImagePull(repository="nginx", tag="1.25", digest=DIGEST)),
    ("/img", "pull 127.0.0.1:5000/bigimage", ImagePull(repository="127.0.0.1:5000/bigimage", tag="latest")),
    ("/img", "pull registry:5000/team/app:v2", ImagePull(repository="registry:5000/team/app", tag="v2")),
    ("/docker", "pull nginx", ImagePull(repository="nginx", tag="latest")),
    ("/docker", "pull busybox:1.36", ImagePull(repository="busybox", tag="1.36")),
    ("/docker", "image pull nginx", ImagePull(repository="nginx", tag="latest")),
    ("/img", "rm nginx", ImageRemove(image_refs=("nginx",))),
    ("/img", "rm -f nginx:1.25 busybox", ImageRemove(image_refs=("nginx:1.25", "busybox"), force=True)),
    ("/img", "remove --force nginx", ImageRemove(image_refs=("nginx",), force=True)),
    ("/docker", "rmi nginx", ImageRemove(image_refs=("nginx",))),
    ("/docker", "image rm 0123456789ab", ImageRemove(image_refs=("0123456789ab",))),
    # containers: ls
    ("/ps", "", ContainerList()),
    ("/ps", "-a", ContainerList(all=True)),
    ("/ps", "--all", ContainerList(all=True)),
    ("/ps", "-f status=exited", ContainerList(filters=(("status", "exited"),))),
    ("/ps", "--filter=name=web", ContainerList(filters=(("name", "web"),))),
    ("/ps", "-fname=web", ContainerList(filters=(("name", "web"),))),
    (
        "/ps",
        "-a -f status=running -f name=web --filter label=team=blue",
        ContainerList(all=True, filters=(("status", "running"), ("name", "web"), ("label", "team=blue"))),
    ),
    ("/ps", "-af status=exited", ContainerList(all=True, filters=(("status", "exited"),))),
    ("/ps", "-a -f exited=137", ContainerList(all=True, filters=(("exited", "137"),))),
    ("/docker", "ps -a", ContainerList(all=True)),
    ("/docker", "container ls", ContainerList()),
    ("/docker", "container ps -a", ContainerList(all=True)),
    ("/docker", "container list --all", ContainerList(all=True)),
    ("/container", "ls", ContainerList()),
    ("/container", "ps -a", ContainerList(all=True)),
    ("/container", "list", ContainerList()),
    # containers: rm
    ("/rm", "web1", ContainerRemove(containers=("web1",))),
    ("/rm", "-f web1 web2", ContainerRemove(containers=("web1", "web2"), force=True)),
    ("/rm", "web1 --force", ContainerRemove(containers=("web1",), force=True)),
    ("/rm", "web1 web1 web2", ContainerRemove(containers=("web1", "web2"))),
    ("/rm", "/web1", ContainerRemove(containers=("web1",))),
    ("/rm", "3f4e5d6c7b8a", ContainerRemove(containers=("3f4e5d6c7b8a",))),
    ("/docker", "rm -f web1", ContainerRemove(containers=("web1",), force=True)),
    ("/docker", "container rm web1", ContainerRemove(containers=("web1",))),
    ("/docker", "container remove web1", ContainerRemove(containers=("web1",))),
    ("/container", "rm -f web1", ContainerRemove(containers=("web1",), force=True)),
    # containers: inspect
    ("/docker", "container inspect web1", ContainerInspect(container="web1")),
    ("/container", "inspect web1", ContainerInspect(container="web1")),
    # containers: logs
    ("/logs", "web1", ContainerLogs(container="web1")),
    ("/logs", "--tail 5 web1", ContainerLogs(container="web1", tail=5)),
    ("/logs", "--tail=5 web1", ContainerLogs(container="web1", tail=5)),
    ("/logs", "-n 5 web1", ContainerLogs(container="web1", tail=5)),
    ("/logs", "-n5 web1", ContainerLogs(container="web1", tail=5)),
    ("/logs", "--tail 0 web1", ContainerLogs(container="web1", tail=0)),
    ("/logs", "--tail all web1", ContainerLogs(container="web1", tail=10_000)),
    ("/logs", "--since 10m web1", ContainerLogs(container="web1", since_seconds=600)),
    ("/logs", "--since=1h30m web1", ContainerLogs(container="web1", since_seconds=5400)),
    ("/logs", "--since 2d web1", ContainerLogs(container="web1", since_seconds=172_800)),
    ("/logs", "--since 45s web1", ContainerLogs(container="web1", since_seconds=45)),
    ("/logs", "web1 --tail 3 --since 1m", ContainerLogs(container="web1", tail=3, since_seconds=60)),
    ("/docker", "logs web1", ContainerLogs(container="web1")),
    ("/docker", "container logs -n 7 web1", ContainerLogs(container="web1", tail=7)),
    ("/container", "logs web1", ContainerLogs(container="web1")),
    ("/container", "logs --tail 20 --since 5m web1", ContainerLogs(container="web1", tail=20, since_seconds=300)),
    # containers: lifecycle
    ("/docker", "stop web1", ContainerStop(containers=("web1",))),
    ("/docker", "stop web1 web2", ContainerStop(containers=("web1", "web2"))),
    ("/docker", "start web1", ContainerStart(containers=("web1",))),
    ("/docker", "restart web1 web2", ContainerRestart(containers=("web1", "web2"))),
    ("/docker", "container stop web1", ContainerStop(containers=("web1",))),
    ("/docker", "container start web1", ContainerStart(containers=("web1",))),
    ("/docker", "container restart web1", ContainerRestart(containers=("web1",))),
    ("/container", "stop web1", ContainerStop(containers=("web1",))),
    ("/container", "start web1 web2", ContainerStart(containers=("web1", "web2"))),
    ("/container", "restart web1", ContainerRestart(containers=("web1",))),
    ("/logs", "-f web1", ContainerFollow(container="web1")),
    ("/logs", "--follow --tail 50 web1", ContainerFollow(container="web1", tail=50)),
    ("/docker", "container logs -f --since 5m web1", ContainerFollow(container="web1", since_seconds=300)),
    ("/docker", "unfollow 0123456789abcdef", StopFollowing(follow_id="0123456789abcdef")),
    # on-call checks
    ("/docker", "stats", ContainerStats()),
    ("/docker", "stats --no-stream", ContainerStats()),
    ("/docker", "stats -a web1 web2 web1", ContainerStats(containers=("web1", "web2"), all=True)),
    ("/container", "stats --all --no-stream web1", ContainerStats(containers=("web1",), all=True)),
    ("/docker", "top web1", ContainerTop(container="web1")),
    ("/docker", "top web1 -o pid,comm", ContainerTop(container="web1", ps_args=("-o", "pid,comm"))),
    ("/container", "top web1 aux", ContainerTop(container="web1", ps_args=("aux",))),
    ("/docker", "port web1", ContainerPort(container="web1")),
    ("/docker", "port web1 80", ContainerPort(container="web1", private_port=80)),
    ("/container", "port web1 53/udp", ContainerPort(container="web1", private_port=53, protocol="udp")),
    ("/docker", "diff web1", ContainerDiff(container="web1")),
    ("/container", "diff web1", ContainerDiff(container="web1")),
    ("/docker", "exec web1 nginx -t", ContainerExec(container="web1", argv=("nginx", "-t"))),
    ("/container", "exec web1 ls -la /tmp", ContainerExec(container="web1", argv=("ls", "-la", "/tmp"))),
    ("/docker", "exec web1 sh -c 'a; b'", ContainerExec(container="web1", argv=("sh", "-c", "a; b"))),
    ("/docker", "exec web1 -- --help", ContainerExec(container="web1", argv=("--", "--help"))),
    ("/docker", "container prune", ContainerPrune()),
    ("/container", "prune -f", ContainerPrune()),
    ("/docker", "container prune 0123456789ab web1", ContainerPrune(only=("0123456789ab", "web1"))),
    ("/img", "prune", ImagePrune()),
    ("/docker", "image prune -a -f", ImagePrune(all=True)),
    ("/img", "prune -a sha256:0123456789ab", ImagePrune(only=("0123456789ab",), all=True)),
    # the engine as a whole
    ("/docker", "system df", SystemDiskUsage()),
    ("/docker", "system df -v", SystemDiskUsage(verbose=True)),
    ("/docker", "system df --verbose", SystemDiskUsage(verbose=True)),
    ("/docker", "info", SystemInfo()),
    ("/docker", "system info", SystemInfo()),
    ("/docker", "version", SystemVersion()),
    ("/docker", "events", SystemEvents()),
    ("/docker", "system events --since 1h", SystemEvents(since="3600s")),
    ("/docker", "events --since 1h --until 30m", SystemEvents(since="3600s", until="1800s")),
    ("/docker", "events --since 1700000000", SystemEvents(since="1700000000")),
    ("/docker", "events --since 2023-11-14T22:13:20Z", SystemEvents(since="1700000000")),
    (
        "/docker",
        "events -f type=container -f event=die",
        SystemEvents(filters=(("type", "container"), ("event", "die"))),
    ),
    # run
    ("/run", "nginx", ContainerRun(image="nginx")),
    ("/docker", "run nginx", ContainerRun(image="nginx")),
    ("/docker", "container run nginx", ContainerRun(image="nginx")),
    ("/container", "run -d nginx", ContainerRun(image="nginx", detach=True)),
    # swarm
    ("/service", "ls", ServiceList()),
    ("/docker", "service list -f label=team=ops", ServiceList(filters=(("label", "team=ops"),))),
    ("/service", "ps -f desired-state=running web", ServicePs(service="web", filters=(("desired-state", "running"),))),
    ("/service", "inspect web", ServiceInspect(service="web")),
    ("/service", "logs --tail 5 --since 10m web", ServiceLogs(service="web", tail=5, since_seconds=600)),
    ("/service", "create --replicas 2 nginx", ServiceCreate(image="nginx", replicas=2)),
    ("/service", "scale web=3", ServiceScale(scales=(("web", 3),))),
    ("/service", "update --replicas 2 web", ServiceUpdate(service="web", replicas=2)),
    ("/service", "rollback web", ServiceRollback(service="web")),
    ("/service", "rm web", ServiceRemove(names=("web",))),
    ("/docker", "service remove web", ServiceRemove(names=("web",))),
    ("/docker", "node ls", NodeList()),
    ("/docker", "node list", NodeList()),
    ("/docker", "stack ls", StackList()),
    ("/docker", "stack list", StackList()),
    ("/docker", "stack services demo", StackServices(stack="demo")),
    ("/docker", "stack ps demo", StackPs(stack="demo")),
    # volumes and networks
    ("/docker", "volume ls", VolumeList()),
    ("/docker", "volume list -f dangling=true", VolumeList(filters=(("dangling", "true"),))),
    (
        "/docker",
        "volume ls --filter dangling=1 -f name=data",
        VolumeList(filters=(("dangling", "true"), ("name", "data"))),
    ),
    ("/docker", "volume inspect data", VolumeInspect(names=("data",))),
    ("/docker", "volume inspect data logs data", VolumeInspect(names=("data", "logs"))),
    ("/docker", "volume rm data", VolumeRemove(names=("data",))),
    ("/docker", "volume remove data old_cache", VolumeRemove(names=("data", "old_cache"))),
    ("/docker", "volume prune", VolumePrune()),
    ("/docker", "volume prune -a -f", VolumePrune(all=True)),
    ("/docker", "volume prune --all tmp1 tmp2", VolumePrune(only=("tmp1", "tmp2"), all=True)),
    ("/docker", "network ls", NetworkList()),
    ("/docker", "network list -f driver=bridge", NetworkList(filters=(("driver", "bridge"),))),
    ("/docker", "network inspect backend", NetworkInspect(name="backend")),
    ("/docker", "--context prod-1 network inspect bridge", NetworkInspect(name="bridge", context="prod-1")),
    # Compose projects
    ("/compose", "ls", ComposeList()),
    ("/docker", "compose list", ComposeList()),
    ("/compose", "ps", ComposePs()),
    ("/docker", "compose ps shop", ComposePs(project="shop")),
    ("/compose", "logs shop", ComposeLogs(project="shop")),
    ("/compose", "logs --tail 2 shop api web", ComposeLogs(project="shop", services=("api", "web"), tail=2)),
    ("/docker", "compose logs -n 5 shop", ComposeLogs(project="shop", tail=5)),
    ("/compose", "top shop", ComposeTop(project="shop")),
    ("/compose", "restart shop", ComposeRestart(project="shop")),
    ("/compose", "restart shop api api", ComposeRestart(project="shop", services=("api",))),
    ("/docker", "compose stop shop api", ComposeStop(project="shop", services=("api",))),
    ("/compose", "start my_shop-2 web", ComposeStart(project="my_shop-2", services=("web",))),
    # image updates
    ("/docker", "updates", UpdatesCommand()),
    ("/docker", "image updates", UpdatesCommand()),
    ("/docker", "update-image web1", ContainerUpdateImage(containers=("web1",))),
    ("/docker", "update-image --dry-run web1 web2", ContainerUpdateImage(containers=("web1", "web2"), dry_run=True)),
    ("/container", "update-image web1", ContainerUpdateImage(containers=("web1",))),
    # freezes and silences
    (
        "/docker",
        "freeze --context 'prod-*' 2h \"release 4.2\"",
        FreezeEngines(context="prod-*", seconds=7200, reason="release 4.2"),
    ),
    ("/docker", "--context prod-1 freeze 2s quick fix", FreezeEngines(context="prod-1", seconds=2, reason="quick fix")),
    ("/docker", "unfreeze --context 'prod-*'", Unfreeze(context="prod-*")),
    ("/docker", "unfreeze 7", Unfreeze(freeze_id=7)),
    ("/docker", "freezes", ShowFreezes()),
    (
        "/docker",
        "silence 'web*' 1h30m \"deploying web\"",
        SilenceAlerts(containers="web*", seconds=5400, reason="deploying web"),
    ),
    (
        "/docker",
        "silence --context prod-1 api 10m noisy",
        SilenceAlerts(context="prod-1", containers="api", seconds=600, reason="noisy"),
    ),
    ("/docker", "unsilence #3", Unsilence(silence_id=3)),
    ("/docker", "silences", ShowSilences()),
    # temporary access
    (
        "/docker",
        'request operator --context prod-1 1h "INC-4411"',
        AccessRequest(role="operator", seconds=3600, reason="INC-4411", context="prod-1"),
    ),
    ("/docker", "grants", ShowGrants()),
    ("/docker", "revoke 3f2a9c1d", RevokeGrant(grant_id="3f2a9c1d")),
    ("/docker", "revoke @U0ALICE", RevokeGrant(user="U0ALICE")),
]


@pytest.mark.parametrize(("slash", "text", "expected"), SPELLINGS, ids=[f"{s} {t}" for s, t, _ in SPELLINGS])
def test_every_spelling_parses_to_its_command(slash: str, text: str, expected: Command) -> None:
    assert parse(text, slash) == expected


def test_every_docker_spelling_is_covered_above() -> None:
    """A new docker command or alias must get a line in SPELLINGS (and so a test)."""
    typed = {" ".join([*SLASH_COMMANDS[slash], *text.split()]) for slash, text, _ in SPELLINGS}
    for spec in DOCKER_SPECS:
        for words in spec.spellings:
            spelling = " ".join(words)
            assert any(line == spelling or line.startswith(spelling + " ") for line in typed), spelling


def test_every_slash_prefix_reaches_a_command() -> None:
    seen = {slash for slash, _, _ in SPELLINGS}
    assert seen == set(SLASH_COMMANDS)


# -- run: every flag form ------------------------------------------------------------------------------

RUN_FORMS: list[tuple[str, ContainerRun]] = [
    ("-d nginx", ContainerRun(image="nginx", detach=True)),
    ("--detach nginx", ContainerRun(image="nginx", detach=True)),
    ("--detach=true nginx", ContainerRun(image="nginx", detach=True)),
    ("--detach=false nginx", ContainerRun(image="nginx", detach=False)),
    ("--name web1 nginx", ContainerRun(image="nginx", name="web1")),
    ("--name=web1 nginx", ContainerRun(image="nginx", name="web1")),
    ("-e COLOR=blue nginx", ContainerRun(image="nginx", env=(("COLOR", "blue"),))),
    ("--env COLOR=blue nginx", ContainerRun(image="nginx", env=(("COLOR", "blue"),))),
    ("--env=COLOR=blue nginx", ContainerRun(image="nginx", env=(("COLOR", "blue"),))),
    ("-eCOLOR=blue nginx", ContainerRun(image="nginx", env=(("COLOR", "blue"),))),
    ("-e=COLOR=blue nginx", ContainerRun(image="nginx", env=(("COLOR", "blue"),))),
    ("-e COLOR= nginx", ContainerRun(image="nginx", env=(("COLOR", ""),))),
    ("-e URL=http://x/?a=b nginx", ContainerRun(image="nginx", env=(("URL", "http://x/?a=b"),))),
    ("-e 'GREETING=hello world' nginx", ContainerRun(image="nginx", env=(("GREETING", "hello world"),))),
    ("-e A=1 -e B=2 --env C=3 nginx", ContainerRun(image="nginx", env=(("A", "1"), ("B", "2"), ("C", "3")))),
    ("-p 8081:3000 nginx", ContainerRun(image="nginx", ports=(PortMapping(8081, 3000),))),
    ("--publish 8081:3000 nginx", ContainerRun(image="nginx", ports=(PortMapping(8081, 3000),))),
    ("--publish=8081:3000 nginx", ContainerRun(image="nginx", ports=(PortMapping(8081, 3000),))),
    ("-p=8081:3000 nginx", ContainerRun(image="nginx", ports=(PortMapping(8081, 3000),))),
    ("-p8081:3000 nginx", ContainerRun(image="nginx", ports=(PortMapping(8081, 3000),))),
    ("-p 127.0.0.1:8081:80 nginx", ContainerRun(image="nginx", ports=(PortMapping(8081, 80, "tcp", "127.0.0.1"),))),
    ("-p 8081:80/tcp nginx", ContainerRun(image="nginx", ports=(PortMapping(8081, 80, "tcp"),))),
    ("-p 5353:53/udp nginx", ContainerRun(image="nginx", ports=(PortMapping(5353, 53, "udp"),))),
    (
        "-p 8080:80 -p 8080:80/udp nginx",
        ContainerRun(image="nginx", ports=(PortMapping(8080, 80, "tcp"), PortMapping(8080, 80, "udp"))),
    ),
    ("--rm nginx", ContainerRun(image="nginx", remove=True)),
    ("--rm busybox echo hi", ContainerRun(image="busybox", command=("echo", "hi"), remove=True)),
    ("busybox sh -c 'echo a; echo b'", ContainerRun(image="busybox", command=("sh", "-c", "echo a; echo b"))),
    # after IMAGE everything belongs to the container's command, flags included, as in docker
    ("busybox ls -la --color", ContainerRun(image="busybox", command=("ls", "-la", "--color"))),
    ("busybox -d", ContainerRun(image="busybox", command=("-d",))),
    ("nginx --privileged", ContainerRun(image="nginx", command=("--privileged",))),
    ("-d -- busybox -x", ContainerRun(image="busybox", command=("-x",), detach=True)),
    ("busybox:1.36 true", ContainerRun(image="busybox:1.36", command=("true",))),
    (f"busybox@{DIGEST}", ContainerRun(image=f"busybox@{DIGEST}")),
    ("127.0.0.1:5000/team/app:v2", ContainerRun(image="127.0.0.1:5000/team/app:v2")),
    (
        "-d --name web1 --env COLOR=blue -p 8081:3000 devwikirepo/envnodecolorapp",
        ContainerRun(
            image="devwikirepo/envnodecolorapp",
            name="web1",
            env=(("COLOR", "blue"),),
            ports=(PortMapping(8081, 3000),),
            detach=True,
        ),
    ),
    (
        "--rm -d --name=w.2_x -e=A=1 -eB=2 --env=C=3 -p=127.0.0.1:9000:90/udp -p 9001:91 busybox sleep 60",
        ContainerRun(
            image="busybox",
            command=("sleep", "60"),
            name="w.2_x",
            env=(("A", "1"), ("B", "2"), ("C", "3")),
            ports=(PortMapping(9000, 90, "udp", "127.0.0.1"), PortMapping(9001, 91)),
            detach=True,
            remove=True,
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), RUN_FORMS, ids=[text for text, _ in RUN_FORMS])
def test_run_flag_forms(text: str, expected: ContainerRun) -> None:
    assert parse(text, "/run") == expected


def test_run_attributes_follow_the_flags() -> None:
    foreground = parse("--name web1 nginx", "/run")
    detached = parse("-d --name web1 nginx", "/run")
    assert isinstance(foreground, ContainerRun) and isinstance(detached, ContainerRun)
    assert foreground.action == "container.run" and foreground.changes
    assert foreground.slow and not detached.slow
    assert foreground.images() == ("nginx",)
    assert "web1" in foreground.pending and "nginx" in foreground.pending


# -- what each command means: permission, state change, slowness, targets -------------------------------

MEANINGS = [
    ("/img", "ls", "image.ls", False, False, (), ()),
    ("/img", "inspect nginx", "image.inspect", False, False, (), ()),
    ("/img", "history nginx", "image.inspect", False, False, (), ()),
    ("/img", "pull nginx", "image.pull", True, True, (), ("nginx:latest",)),
    ("/img", f"pull nginx@{DIGEST}", "image.pull", True, True, (), (f"nginx@{DIGEST}",)),
    ("/img", "rm nginx", "image.rm", True, False, (), ()),
    ("/ps", "-a", "container.ls", False, False, (), ()),
    ("/rm", "-f a b", "container.rm", True, False, ("a", "b"), ()),
    ("/docker", "container inspect a", "container.inspect", False, False, ("a",), ()),
    ("/logs", "a", "container.logs", False, False, ("a",), ()),
    ("/docker", "start a b", "container.start", True, False, ("a", "b"), ()),
    ("/docker", "stop a", "container.stop", True, True, ("a",), ()),
    ("/docker", "restart a", "container.restart", True, False, ("a",), ()),
    ("/run", "-d --name a nginx:1.25", "container.run", True, False, (), ("nginx:1.25",)),
    ("/docker", "help", "help", False, False, (), ()),
    ("/docker", "stats a", "container.stats", False, False, (), ()),
    ("/docker", "top a", "container.top", False, False, ("a",), ()),
    ("/docker", "port a", "container.port", False, False, ("a",), ()),
    ("/docker", "diff a", "container.diff", False, False, ("a",), ()),
    ("/docker", "system df", "system.df", False, False, (), ()),
    ("/docker", "info", "system.info", False, False, (), ()),
    ("/docker", "version", "system.info", False, False, (), ()),
    ("/docker", "events", "system.events", False, False, (), ()),
    ("/docker", "exec a nginx -t", "container.exec", True, True, ("a",), ()),
    ("/docker", "container prune", "container.prune", True, False, (), ()),
    ("/logs", "-f a", "container.logs", False, True, ("a",), ()),
    ("/docker", "image prune -a", "image.prune", True, False, (), ()),
    ("/docker", "freeze --context prod-1 1h x", "freeze.set", False, False, (), ()),
    ("/docker", "unfreeze 1", "freeze.set", False, False, (), ()),
    ("/docker", "freezes", "freeze.ls", False, False, (), ()),
    ("/docker", "silence web1 1h x", "alert.silence", False, False, (), ()),
    ("/docker", "unsilence 1", "alert.silence", False, False, (), ()),
    ("/docker", "silences", "alert.silences", False, False, (), ()),
]


@pytest.mark.parametrize(("slash", "text", "action", "changes", "slow", "targets", "images"), MEANINGS)
def test_command_meaning(
    slash: str, text: str, action: str, changes: bool, slow: bool, targets: tuple, images: tuple
) -> None:
    command = parse(text, slash)
    assert (command.action, command.changes, command.slow) == (action, changes, slow)
    assert command.targets() == targets
    assert command.images() == images
    assert command.pending.startswith("⏳")


def test_pull_reference_and_pending_line() -> None:
    pull = parse("pull nginx:1.25", "/img")
    assert isinstance(pull, ImagePull)
    assert pull.reference == "nginx:1.25"
    assert pull.pending == "⏳ pulling nginx:1.25…"
    assert parse("stop a b", "/docker").pending == "⏳ stopping a, b…"


# -- help ----------------------------------------------------------------------------------------------

HELP = [
    ("/docker", "help", None),
    ("/docker", "--help", None),
    ("/docker", "-h", None),
    ("/docker", "help image", "image"),
    ("/docker", "image --help", "image"),
    ("/docker", "image help", "image"),
    ("/docker", "container -h", "container"),
    ("/img", "help", "image"),
    ("/img", "--help", "image"),
    ("/container", "help", "container"),
    ("/docker", "help ps", "container ls"),
    ("/docker", "help images", "image ls"),
    ("/docker", "help container logs", "container logs"),
    ("/docker", "image help ls", "image ls"),
    ("/img", "help pull", "image pull"),
    ("/img", "ls --help", "image ls"),
    ("/img", "inspect -h", "image inspect"),
    ("/img", "pull --help", "image pull"),
    ("/img", "rm -h", "image rm"),
    ("/docker", "images -h", "image ls"),
    ("/docker", "pull --help", "image pull"),
    ("/run", "help", "run"),
    ("/run", "--help", "run"),
    ("/run", "-d -h", "run"),
    ("/ps", "--help", "container ls"),
    ("/ps", "-a -h", "container ls"),
    ("/rm", "-h", "container rm"),
    ("/rm", "-f web1 --help", "container rm"),
    ("/logs", "--help", "container logs"),
    ("/logs", "-h web1", "container logs"),
    ("/docker", "stop --help", "container stop"),
    ("/docker", "start -h", "container start"),
    ("/container", "restart --help", "container restart"),
    ("/container", "inspect --help", "container inspect"),
    ("/docker", "container logs --help", "container logs"),
    ("/service", "help", "service"),
    ("/service", "scale --help", "service scale"),
    ("/docker", "help node ls", "node ls"),
    ("/docker", "stack -h", "stack"),
    ("/compose", "help", "compose"),
    ("/compose", "restart --help", "compose restart"),
]


@pytest.mark.parametrize(("slash", "text", "topic"), HELP, ids=[f"{s} {t}" for s, t, _ in HELP])
def test_help_on_any_command(slash: str, text: str, topic: str | None) -> None:
    assert parse(text, slash) == Help(topic=topic)


def test_help_topics_are_commands_the_grammar_knows() -> None:
    for spec in DOCKER_SPECS:
        assert spec_for(spec.name) is spec
        assert parse(f"help {spec.name}", "/docker") == Help(topic=spec.name)


def test_help_for_an_unknown_topic_is_refused() -> None:
    error = refusal("help frobnicate", "/docker")
    assert error.reason == "no help for `frobnicate`: type `/docker help` for the list of commands"


# -- refusals: unknown commands and flags ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("slash", "text", "word"),
    [
        ("/docker", "frob", "frob"),
        ("/docker", "image frob", "frob"),
        ("/img", "frob x", "frob"),
        ("/container", "lss", "lss"),
    ],
)
def test_unknown_command_is_named(slash: str, text: str, word: str) -> None:
    error = refusal(text, slash)
    assert error.reason == f"unknown command `{word}`: type `{slash} help` for the list of commands"
    assert error.usage is None


@pytest.mark.parametrize("word", ["attach", "cp", "build", "push", "kill"])
def test_docker_commands_shipmate_refuses_say_so(word: str) -> None:
    error = refusal(f"{word} x", "/docker")
    assert error.reason == f"`{word}` is not something Shipmate does: type `/docker help` for what it can do"


@pytest.mark.parametrize(
    "words", ["volume create", "network create", "network rm", "network remove", "network connect", "network prune"]
)
def test_volume_and_network_changes_shipmate_leaves_to_docker_say_so(words: str) -> None:
    error = refusal(f"{words} x", "/docker")
    assert error.reason == (
        f"`{words}` is not something Shipmate does: use the docker CLI on the host for it"
        " (`/docker help` lists what Shipmate does)"
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("volume ls --quiet", "unknown flag `--quiet`"),
        ("volume ls -f size=1", "`size` is not a filter: use one of dangling, driver, label, name"),
        ("volume ls -f dangling=maybe", "`dangling=maybe` takes `true` or `false`"),
        ("volume rm", "missing VOLUME"),
        ("volume rm -f data", "unknown flag `-f`"),
        ("volume rm ../etc", "`../etc` is not a volume name"),
        ("network inspect a b", "unexpected argument `b`"),
        ("network ls extra", "unexpected argument `extra`"),
    ],
)
def test_volume_and_network_mistakes_are_one_clear_line(text: str, reason: str) -> None:
    assert refusal(text, "/docker").reason.startswith(reason)


@pytest.mark.parametrize(
    ("slash", "text"), [("/docker", ""), ("/img", ""), ("/container", ""), ("/docker", "image"), ("/compose", "")]
)
def test_a_group_without_a_command_asks_for_one(slash: str, text: str) -> None:
    assert "needs a command" in refusal(text, slash).reason


@pytest.mark.parametrize(
    ("slash", "text", "reason"),
    [
        ("/compose", "ps Shop", "`Shop` is not a Compose project name: lowercase letters, digits, `-` and `_`"),
        ("/compose", "restart", "missing PROJECT"),
        ("/compose", "top", "missing PROJECT"),
        ("/compose", "top shop web", "unexpected argument `web`"),
        ("/compose", "ps shop api", "unexpected argument `api`"),
        ("/compose", "ls shop", "unexpected argument `shop`"),
        ("/compose", "logs --tail x shop", "`--tail x` is not a number of lines"),
        ("/compose", "stop shop 'a b'", "`a b` is not a Compose service name"),
        ("/compose", "frob shop", "unknown command `frob`"),
    ],
)
def test_compose_refusals_say_what_to_type(slash: str, text: str, reason: str) -> None:
    assert reason in refusal(text, slash).reason


def test_unknown_slash_command_lists_the_real_ones() -> None:
    error = refusal("ps", "/dokcer")
    assert "`/dokcer` is not a Shipmate command" in error.reason
    assert all(slash in error.reason for slash in SLASH_COMMANDS)


@pytest.mark.parametrize(
    ("slash", "text", "flag", "usage"),
    [
        ("/ps", "--frob", "--frob", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
        ("/ps", "-x", "-x", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
        ("/ps", "-ax", "-x", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
        ("/docker", "ps --quiet", "--quiet", "`/docker ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
        ("/docker", "container ls -q", "-q", "`/docker container ls [-a|--all] [-f|--filter KEY=VALUE]…`"),
        ("/run", "--restart always nginx", "--restart", f"`/run {RUN_USAGE}`"),
        ("/run", "-ti nginx", "-t", f"`/run {RUN_USAGE}`"),
        ("/rm", "--volumes web1", "--volumes", "`/rm [-f|--force] CONTAINER…`"),
        ("/logs", "--timestamps web1", "--timestamps", f"`/logs {LOGS_USAGE}`"),
        ("/img", "ls --digests", "--digests", "`/img ls [REPOSITORY[:TAG]]`"),
        ("/img", "pull --all-tags nginx", "--all-tags", "`/img pull IMAGE[:TAG]`"),
        ("/docker", "stop -t 5 web1", "-t", "`/docker stop CONTAINER…`"),
    ],
)
def test_unknown_flag_is_named_with_usage(slash: str, text: str, flag: str, usage: str) -> None:
    error = refusal(text, slash)
    assert error.reason == f"unknown flag `{flag}`"
    assert error.usage == usage
    assert str(error) == f"unknown flag `{flag}` — usage: {usage}"


@pytest.mark.parametrize("flag", sorted(DANGEROUS_FLAGS))
@pytest.mark.parametrize("spelling", ["{flag} x nginx", "{flag}=x nginx"])
def test_dangerous_flags_are_refused_with_their_own_reason(flag: str, spelling: str) -> None:
    error = refusal(spelling.format(flag=flag), "/run")
    assert error.reason == f"`{flag}` is not allowed: Shipmate never grants {DANGEROUS_FLAGS[flag]}"
    assert error.usage == f"`/run {RUN_USAGE}`"


@pytest.mark.parametrize(
    ("text", "flag", "why"),
    [
        ("--privileged nginx", "--privileged", "privileged containers"),
        ("-v /:/host nginx", "-v", "host mounts"),
        ("-v/:/host nginx", "-v", "host mounts"),
        ("-dv /:/host nginx", "-v", "host mounts"),
        ("--volume=/:/host nginx", "--volume", "host mounts"),
        ("--mount type=bind,src=/,dst=/h nginx", "--mount", "host mounts"),
        ("--network host nginx", "--network", "network selection"),
        ("--net=host nginx", "--net", "network selection"),
        ("--pid host nginx", "--pid", "host PID namespace"),
        ("--cap-add ALL nginx", "--cap-add", "added capabilities"),
        ("--device /dev/sda nginx", "--device", "host devices"),
        ("--security-opt seccomp=unconfined nginx", "--security-opt", "security options"),
        ("-u root nginx", "-u", "choosing the user"),
        ("-it nginx", "-i", "interactive sessions"),
        ("-dit nginx", "-i", "interactive sessions"),
        ("--interactive nginx", "--interactive", "interactive sessions"),
        ("--tty nginx", "--tty", "a terminal"),
    ],
)
def test_dangerous_flag_spellings(text: str, flag: str, why: str) -> None:
    error = refusal(text, "/run")
    assert error.reason.startswith(f"`{flag}` is not allowed: Shipmate never grants {why}")


def test_dangerous_flags_are_refused_on_any_command() -> None:
    assert "is not allowed" in refusal("--privileged", "/ps").reason
    assert "is not allowed" in refusal("run --privileged nginx", "/docker").reason
    assert "is not allowed" in refusal("run -v /:/h nginx", "/container").reason


# -- refusals: arguments -------------------------------------------------------------------------------

ARGUMENT_ERRORS = [
    ("/run", "", "missing IMAGE", f"`/run {RUN_USAGE}`"),
    ("/run", "-d --name web1", "missing IMAGE", f"`/run {RUN_USAGE}`"),
    ("/run", "--name", "`--name` needs a value", f"`/run {RUN_USAGE}`"),
    ("/run", "nginx -e", None, None),  # `-e` after IMAGE is the container's business: no error
    ("/run", "-e", "`-e` needs a value", f"`/run {RUN_USAGE}`"),
    ("/run", "-p", "`-p` needs a value", f"`/run {RUN_USAGE}`"),
    ("/run", "--rm=maybe nginx", "`--rm` takes no value (got `maybe`)", f"`/run {RUN_USAGE}`"),
    ("/run", "NGINX", "`NGINX` is not a valid image reference", f"`/run {RUN_USAGE}`"),
    ("/run", "--name -web nginx", "`-web` is not a valid container name", f"`/run {RUN_USAGE}`"),
    ("/run", "--name " + "a" * 129 + " nginx", "is not a valid container name", f"`/run {RUN_USAGE}`"),
    ("/run", "-p 8080:80 -p 8080:81 nginx", "the same host port is published twice", f"`/run {RUN_USAGE}`"),
    ("/run", "-p 8080:80/sctp nginx", "`sctp` is not a protocol in `-p 8080:80/sctp`", f"`/run {RUN_USAGE}`"),
    ("/run", "-p 300.1.1.1:80:80 nginx", "`300.1.1.1` is not an IPv4 address", f"`/run {RUN_USAGE}`"),
    ("/run", "-p 0:80 nginx", "`0` is not a valid host port in `-p 0:80`", f"`/run {RUN_USAGE}`"),
    ("/run", "-p 80:65536 nginx", "`65536` is not a valid container port", f"`/run {RUN_USAGE}`"),
    ("/run", "-p 80 nginx", "`-p 80` is not a port mapping", f"`/run {RUN_USAGE}`"),
    ("/run", "-e 1A=x nginx", "`1A` is not a valid variable name in `--env 1A=x`", f"`/run {RUN_USAGE}`"),
    ("/img", "ls a b", "unexpected argument `b`", "`/img ls [REPOSITORY[:TAG]]`"),
    ("/img", "ls Nginx", "`Nginx` is not a valid image reference", "`/img ls [REPOSITORY[:TAG]]`"),
    ("/img", "inspect", "missing IMAGE", "`/img inspect IMAGE`"),
    ("/img", "inspect a b", "unexpected argument `b`", "`/img inspect IMAGE`"),
    ("/img", "pull", "missing IMAGE", "`/img pull IMAGE[:TAG]`"),
    ("/img", "pull nginx busybox", "unexpected argument `busybox`", "`/img pull IMAGE[:TAG]`"),
    ("/img", "pull nginx:1:2", "`nginx:1:2` is not a valid image reference", "`/img pull IMAGE[:TAG]`"),
    ("/img", "pull http://nginx", "`http://nginx` is not a valid image reference", "`/img pull IMAGE[:TAG]`"),
    ("/img", "pull nginx@sha256:abc", "is not a valid image reference", "`/img pull IMAGE[:TAG]`"),
    ("/img", "rm", "missing IMAGE", "`/img rm [-f|--force] IMAGE…`"),
    ("/docker", "images a b", "unexpected argument `b`", "`/docker images [REPOSITORY[:TAG]]`"),
    ("/ps", "web1", "unexpected argument `web1`", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
    ("/ps", "-f", "`-f` needs a value", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
    ("/ps", "-f status", "`--filter status` needs KEY=VALUE", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
    ("/ps", "-f color=red", "`color` is not a filter", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
    ("/ps", "-f status=sleepy", "`sleepy` is not a container status", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
    ("/ps", "-f exited=x", "`exited=x` needs an exit code", "`/ps [-a|--all] [-f|--filter KEY=VALUE]…`"),
    ("/rm", "", "missing CONTAINER", "`/rm [-f|--force] CONTAINER…`"),
    ("/rm", "-f", "missing CONTAINER", "`/rm [-f|--force] CONTAINER…`"),
    ("/rm", " ".join(f"c{i}" for i in range(21)), "too many containers (21)", "`/rm [-f|--force] CONTAINER…`"),
    ("/docker", "container inspect", "missing CONTAINER", "`/docker container inspect CONTAINER`"),
    ("/docker", "container inspect a b", "unexpected argument `b`", "`/docker container inspect CONTAINER`"),
    ("/logs", "", "missing CONTAINER", f"`/logs {LOGS_USAGE}`"),
    ("/logs", "a b", "unexpected argument `b`", f"`/logs {LOGS_USAGE}`"),
    ("/logs", "--tail", "`--tail` needs a value", f"`/logs {LOGS_USAGE}`"),
    ("/logs", "--tail x a", "`--tail x` is not a number of lines", f"`/logs {LOGS_USAGE}`"),
    (
        "/logs",
        "--tail 10001 a",
        "`--tail 10001` is out of range: use 0–10000",
        f"`/logs {LOGS_USAGE}`",
    ),
    ("/logs", "--since 10 a", "`--since 10` is not a duration", f"`/logs {LOGS_USAGE}`"),
    ("/logs", "--since= a", "`--since ` is not a duration", f"`/logs {LOGS_USAGE}`"),
    ("/container", "logs", "missing CONTAINER", f"`/container logs {LOGS_USAGE}`"),
    ("/docker", "stop", "missing CONTAINER", "`/docker stop CONTAINER…`"),
    ("/container", "start", "missing CONTAINER", "`/container start CONTAINER…`"),
    ("/docker", "restart 'a b'", "`a b` is not a container name or id", "`/docker restart CONTAINER…`"),
    ("/docker", "stats --stream", "unknown flag `--stream`", "`/docker stats [--no-stream] [-a|--all] [CONTAINER…]`"),
    ("/docker", "top", "missing CONTAINER", "`/docker top CONTAINER [ps OPTIONS]`"),
    ("/docker", "top a 'x;rm'", "`x;rm` is not a ps option", "`/docker top CONTAINER [ps OPTIONS]`"),
    ("/docker", "top a $(id)", "`$(id)` is not a ps option", "`/docker top CONTAINER [ps OPTIONS]`"),
    ("/docker", "port", "missing CONTAINER", "`/docker port CONTAINER [PRIVATE_PORT[/PROTO]]`"),
    ("/docker", "port a 99999", "`99999` is not a container port", "`/docker port CONTAINER [PRIVATE_PORT[/PROTO]]`"),
    ("/docker", "port a 80/xyz", "`80/xyz` is not a container port", "`/docker port CONTAINER [PRIVATE_PORT[/PROTO]]`"),
    ("/docker", "port a 80 81", "unexpected argument `81`", "`/docker port CONTAINER [PRIVATE_PORT[/PROTO]]`"),
    ("/docker", "diff a b", "unexpected argument `b`", "`/docker diff CONTAINER`"),
    ("/docker", "unfollow web1", "`web1` is not a follow id", "`/docker unfollow FOLLOW_ID`"),
    ("/docker", "exec", "missing CONTAINER", EXEC_USAGE),
    ("/docker", "exec web1", "missing COMMAND", EXEC_USAGE),
    ("/docker", "exec -t web1 sh", "`-t` is not allowed: a chat has no terminal", EXEC_USAGE),
    ("/docker", "exec -d web1 sleep 1", "`-d` is not allowed", EXEC_USAGE),
    ("/docker", "exec -w /etc web1 ls", "`-w` is not allowed", EXEC_USAGE),
    ("/docker", "exec -e A=1 web1 env", "`-e` is not allowed", EXEC_USAGE),
    ("/docker", "exec --privileged web1 ls", "`--privileged` is not allowed", EXEC_USAGE),
    ("/docker", "exec -u root web1 ls", "`-u` is not allowed", EXEC_USAGE),
    ("/docker", "exec -it web1 sh", "`-i` is not allowed", EXEC_USAGE),
    ("/img", "prune nginx", "`nginx` is not an image id", "`/img prune [-a|--all] [-f|--force] [IMAGE_ID…]`"),
    (
        "/container",
        "prune --filter until=1h",
        "unknown flag `--filter`",
        "`/container prune [-f|--force] [CONTAINER…]`",
    ),
    ("/docker", "system df x", "unexpected argument `x`", "`/docker system df [-v|--verbose]`"),
    ("/docker", "info --all", "unknown flag `--all`", "`/docker info`"),
    ("/docker", "events --since soon", "`--since soon` is not a time", EVENTS_USAGE),
    ("/docker", "events --until 2999-01-01", "`--until 2999-01-01` is in the future", EVENTS_USAGE),
    ("/docker", "events --since 5m --until 1h", "`--until 1h` is before `--since`", EVENTS_USAGE),
    ("/docker", "events -f color=red", "`color` is not an events filter", EVENTS_USAGE),
    ("/docker", "events -f type=galaxy", "`galaxy` is not an event type", EVENTS_USAGE),
    ("/docker", "events -f container", "`--filter container` needs KEY=VALUE", EVENTS_USAGE),
]


@pytest.mark.parametrize(
    ("slash", "text", "reason", "usage"), ARGUMENT_ERRORS, ids=[f"{s} {t}"[:60] for s, t, _, _ in ARGUMENT_ERRORS]
)
def test_argument_errors_say_what_and_show_usage(slash: str, text: str, reason: str | None, usage: str | None) -> None:
    if reason is None:
        assert isinstance(parse(text, slash), Command)
        return
    error = refusal(text, slash)
    assert reason in error.reason, error.reason
    assert error.usage == usage


# -- Slack's mangling of typed text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slack_text", "typed"),
    [
        ("\u201chello world\u201d", '"hello world"'),
        ("\u2018hello\u2019", "'hello'"),
        ("\u201ehello\u201f", '"hello"'),
        ("\u00abhello\u00bb", '"hello"'),
        ("\u2014name web", "--name web"),
        ("\u2013name web", "--name web"),
        ("a\u00a0b", "a b"),
        ("<http://example.com|example.com>", "example.com"),
        ("<http://example.com>", "http://example.com"),
        ("<mailto:ops@example.com|ops@example.com>", "ops@example.com"),
        ("<mailto:ops@example.com>", "ops@example.com"),
        ("<#C123|general>", "general"),
        ("<@U123>", "@U123"),
        ("<@U123|bob>", "@U123"),
        ("a &amp;&amp; b", "a && b"),
        ("&lt;none&gt;", "<none>"),
        ("&amp;lt;", "&lt;"),
        ("plain -d --name web1 nginx", "plain -d --name web1 nginx"),
    ],
)
def test_clean_slack_text(slack_text: str, typed: str) -> None:
    assert clean_slack_text(slack_text) == typed


SLACK_MANGLED = [
    (
        "/run",
        "-e \u201cGREETING=hello world\u201d nginx",
        ContainerRun(image="nginx", env=(("GREETING", "hello world"),)),
    ),
    ("/run", "\u2014name web1 nginx", ContainerRun(image="nginx", name="web1")),
    ("/run", "\u2013name web1 \u2013rm nginx", ContainerRun(image="nginx", name="web1", remove=True)),
    ("/run", "\u2014detach nginx", ContainerRun(image="nginx", detach=True)),
    ("/run", "busybox echo \u2018it works\u2019", ContainerRun(image="busybox", command=("echo", "it works"))),
    (
        "/run",
        "-e URL=<http://example.com/a?b=c|example.com/a?b=c> nginx",
        ContainerRun(image="nginx", env=(("URL", "example.com/a?b=c"),)),
    ),
    (
        "/run",
        "-e URL=<http://example.com/a?b=c&amp;d=e> nginx",
        ContainerRun(image="nginx", env=(("URL", "http://example.com/a?b=c&d=e"),)),
    ),
    (
        "/run",
        "-e MAIL=<mailto:ops@example.com|ops@example.com> nginx",
        ContainerRun(image="nginx", env=(("MAIL", "ops@example.com"),)),
    ),
    (
        "/run",
        "busybox sh -c 'echo a &amp;&amp; echo b'",
        ContainerRun(image="busybox", command=("sh", "-c", "echo a && echo b")),
    ),
    ("/run", "busybox sh -c 'echo &lt;x&gt;'", ContainerRun(image="busybox", command=("sh", "-c", "echo <x>"))),
    ("/run", "-e A=x&amp;y nginx", ContainerRun(image="nginx", env=(("A", "x&y"),))),
    ("/img", "pull <http://nginx|nginx>", ImagePull(repository="nginx", tag="latest")),
    ("/logs", "\u2014tail 5 web1", ContainerLogs(container="web1", tail=5)),
    ("/ps", "-f \u201cname=web\u201d", ContainerList(filters=(("name", "web"),))),
    ("/ps", "-a\u00a0-f\u00a0status=exited", ContainerList(all=True, filters=(("status", "exited"),))),
]


@pytest.mark.parametrize(("slash", "text", "expected"), SLACK_MANGLED, ids=[t for _, t, _ in SLACK_MANGLED])
def test_slack_mangled_text_parses_as_typed(slash: str, text: str, expected: Command) -> None:
    assert parse(text, slash) == expected


# -- the terminal's whole-line form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/ps -a", ContainerList(all=True)),
        ("/docker ps -a", ContainerList(all=True)),
        ("docker ps -a", ContainerList(all=True)),
        ("ps -a", ContainerList(all=True)),
        ("  /img ls nginx  ", ImageList(reference="nginx")),
        ("/run -d --name web1 nginx", ContainerRun(image="nginx", name="web1", detach=True)),
        ("docker container logs --tail 3 web1", ContainerLogs(container="web1", tail=3)),
        ("/ps", ContainerList()),
    ],
)
def test_parse_line(line: str, expected: Command) -> None:
    assert parse_line(line) == expected


def test_parse_error_text_is_reason_then_usage() -> None:
    error = refusal("-f status", "/ps")
    assert str(error) == f"{error.reason} — usage: {error.usage}"
    assert refusal("frob", "/docker").usage is None
    assert str(refusal("frob", "/docker")) == refusal("frob", "/docker").reason
