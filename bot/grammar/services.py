"""docker service …, docker node ls, docker stack …: the swarm commands."""

import re
from collections.abc import Callable

from bot.grammar.commands import Command
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
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
from bot.grammar.spec import CommandSpec, at_least_one, exactly, register
from bot.grammar.values import duration_seconds, env_pair, image_ref, port_mapping, split_filter, tail_lines

MAX_SERVICES = 20
MAX_REPLICAS = 100
MAX_ENV = 100
MAX_PORTS = 20
MAX_LABELS = 50
# swarmkit's rule for service names (stacks name theirs `stack_service`), at most 63 characters.
_SERVICE_NAME = re.compile(r"[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*", re.ASCII)
_LABEL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]*")
_RESERVED_LABELS = ("io.shipmate.", "com.docker.")  # who created a service, and docker's own (stacks)
SERVICE_FILTERS = {"id", "name", "label", "mode"}
TASK_FILTERS = {"id", "name", "node", "desired-state"}
_DESIRED_STATES = {"running", "shutdown", "accepted"}


def service_name(value: str) -> str:
    """A name or id of a service (ids are letters and digits, so they match too)."""
    if len(value) > 63 or not _SERVICE_NAME.fullmatch(value):
        raise ParseError(f"`{value}` is not a service name or id: use letters, digits, `-` and `_` (at most 63)")
    return value


def replicas(value: str, where: str) -> int:
    if not value.isascii() or not value.isdigit() or not 0 <= int(value) <= MAX_REPLICAS:
        raise ParseError(f"`{where}` needs a number of replicas from 0 to {MAX_REPLICAS}")
    return int(value)


def _filter(value: str, allowed: set[str]) -> tuple[str, str]:
    key, content = split_filter(value, allowed, "name=web", "a filter here")
    if key == "desired-state" and content not in _DESIRED_STATES:
        raise ParseError(f"`{content}` is not a desired state: use one of {', '.join(sorted(_DESIRED_STATES))}")
    if key == "mode" and content not in ("replicated", "global"):
        raise ParseError(f"`mode={content}`: a service's mode is `replicated` or `global`")
    return key, content


def _label(value: str) -> tuple[str, str]:
    key, _, content = value.partition("=")
    if not _LABEL_KEY.fullmatch(key) or len(key) > 128:
        raise ParseError(f"`--label {value}` needs KEY=VALUE with a key of letters, digits, `.`, `-`, `_` or `/`")
    if key.startswith(_RESERVED_LABELS):
        raise ParseError(f"`{key}` is a label Shipmate or docker sets itself: pick another key")
    return key, content


def _no_args(parsed: Parsed) -> None:
    if parsed.args:
        raise ParseError(f"unexpected argument `{parsed.args[0]}`")


def _list(parsed: Parsed) -> ServiceList:
    _no_args(parsed)
    return ServiceList(filters=tuple(_filter(value, SERVICE_FILTERS) for value in parsed.many("filter")))


def _ps(parsed: Parsed) -> ServicePs:
    (name,) = exactly(parsed.args, 1, "SERVICE")
    filters = tuple(_filter(value, TASK_FILTERS) for value in parsed.many("filter"))
    return ServicePs(service=service_name(name), no_trunc=parsed.flag("no_trunc"), filters=filters)


def _inspect(parsed: Parsed) -> ServiceInspect:
    (name,) = exactly(parsed.args, 1, "SERVICE")
    return ServiceInspect(service=service_name(name))


def _logs(parsed: Parsed) -> ServiceLogs:
    (name,) = exactly(parsed.args, 1, "SERVICE")
    tail, since = parsed.value("tail"), parsed.value("since")
    return ServiceLogs(
        service=service_name(name),
        tail=100 if tail is None else tail_lines(tail),
        since_seconds=None if since is None else duration_seconds(since),
    )


def _create(parsed: Parsed) -> ServiceCreate:
    if not parsed.args:
        raise ParseError("missing IMAGE")
    image, *command = parsed.args
    name = parsed.value("name")
    count = parsed.value("replicas")
    env = tuple(env_pair(value) for value in parsed.many("env"))
    ports = tuple(port_mapping(value) for value in parsed.many("publish"))
    labels = tuple(_label(value) for value in parsed.many("label"))
    if len(env) > MAX_ENV or len(ports) > MAX_PORTS or len(labels) > MAX_LABELS:
        raise ParseError(f"too many options: at most {MAX_ENV} --env, {MAX_PORTS} -p and {MAX_LABELS} --label")
    if any(port.host_ip for port in ports):
        raise ParseError("a service publishes on every address of its node: write `-p PUBLISHED:TARGET`")
    if len({(port.host_port, port.protocol) for port in ports}) != len(ports):
        raise ParseError("the same published port is given twice")
    return ServiceCreate(
        image=image_ref(image),
        command=tuple(command),
        name=None if name is None else service_name(name),
        replicas=1 if count is None else replicas(count, f"--replicas {count}"),
        env=env,
        ports=ports,
        labels=labels,
    )


def _scale(parsed: Parsed) -> ServiceScale:
    pairs = at_least_one(parsed.args, "SERVICE=REPLICAS")
    if len(pairs) > MAX_SERVICES:
        raise ParseError(f"too many services ({len(pairs)}); scale at most {MAX_SERVICES} at a time")
    scales: dict[str, int] = {}
    for pair in pairs:
        name, sep, count = pair.partition("=")
        if not sep:
            raise ParseError(f"`{pair}` is not SERVICE=REPLICAS: write e.g. `web=3`")
        scales[service_name(name)] = replicas(count, pair)
    return ServiceScale(scales=tuple(scales.items()))


def _update(parsed: Parsed) -> ServiceUpdate:
    (name,) = exactly(parsed.args, 1, "SERVICE")
    image, count = parsed.value("image"), parsed.value("replicas")
    env_add = tuple(env_pair(value) for value in parsed.many("env_add"))
    env_rm = tuple(parsed.many("env_rm"))
    if len(env_add) + len(env_rm) > MAX_ENV:
        raise ParseError(f"too many options: at most {MAX_ENV} --env-add and --env-rm")
    for key in env_rm:
        env_pair(f"{key}=")  # the same rule for a name
    update = ServiceUpdate(
        service=service_name(name),
        image=None if image is None else image_ref(image),
        env_add=env_add,
        env_rm=env_rm,
        replicas=None if count is None else replicas(count, f"--replicas {count}"),
        force=parsed.flag("force"),
    )
    if update.image is None and not (env_add or env_rm or update.force) and update.replicas is None:
        raise ParseError("nothing to update: give `--image`, `--env-add`, `--env-rm`, `--replicas` or `--force`")
    return update


def _rollback(parsed: Parsed) -> ServiceRollback:
    (name,) = exactly(parsed.args, 1, "SERVICE")
    return ServiceRollback(service=service_name(name))


def _remove(parsed: Parsed) -> ServiceRemove:
    names = at_least_one(parsed.args, "SERVICE")
    if len(names) > MAX_SERVICES:
        raise ParseError(f"too many services ({len(names)}); name at most {MAX_SERVICES} at a time")
    return ServiceRemove(names=tuple(dict.fromkeys(service_name(name) for name in names)))


def _nodes(parsed: Parsed) -> NodeList:
    _no_args(parsed)
    return NodeList()


def _stacks(parsed: Parsed) -> StackList:
    _no_args(parsed)
    return StackList()


def _stack_services(parsed: Parsed) -> StackServices:
    (stack,) = exactly(parsed.args, 1, "STACK")
    return StackServices(stack=service_name(stack))


def _stack_ps(parsed: Parsed) -> StackPs:
    (stack,) = exactly(parsed.args, 1, "STACK")
    return StackPs(stack=service_name(stack))


_FILTER = Flag(("-f", "--filter"), takes_value=True, repeat=True)
_TAIL = (Flag(("-n", "--tail"), takes_value=True), Flag(("--since",), takes_value=True))


def _spec(
    name: str,
    usage: str,
    summary: str,
    flags: tuple[Flag, ...],
    build: Callable[[Parsed], Command],
    aliases: tuple[str, ...] = (),
    interspersed: bool = True,
) -> CommandSpec:
    return CommandSpec(name, aliases, usage, summary, OptionParser(flags, interspersed), build)


SPECS = register(
    _spec("service ls", "[-f name=…|label=…]…", "list services: replicas running/desired, image, ports",
          (_FILTER,), _list, ("service list",)),
    _spec("service ps", "[--no-trunc] [-f desired-state=running]… SERVICE", "a service's tasks and their errors",
          (_FILTER, Flag(("--no-trunc",))), _ps),
    _spec("service inspect", "SERVICE", "a service's image, mode, ports, env, resources, update status",
          (), _inspect),
    _spec("service logs", "[--tail N] [--since DURATION] SERVICE", "all tasks' output, each line by task",
          _TAIL, _logs),
    _spec("service create",
          "[--name NAME] [--replicas N] [-e KEY=VALUE]… [-p PUBLISHED:TARGET]… [--label KEY=VALUE]… IMAGE [COMMAND…]",
          "create a replicated service and wait until it runs",
          (Flag(("--name",), takes_value=True), Flag(("--replicas",), takes_value=True),
           Flag(("-e", "--env"), takes_value=True, repeat=True), Flag(("-p", "--publish"), takes_value=True, repeat=True),
           Flag(("-l", "--label"), takes_value=True, repeat=True)),
          _create, (), False),
    _spec("service scale", "SERVICE=REPLICAS…", "set replicas and wait until they run", (), _scale),
    _spec("service update",
          "[--image IMAGE] [--env-add KEY=VALUE]… [--env-rm KEY]… [--replicas N] [--force] SERVICE",
          "change a service and wait until its tasks run the change",
          (Flag(("--image",), takes_value=True), Flag(("--env-add",), takes_value=True, repeat=True),
           Flag(("--env-rm",), takes_value=True, repeat=True), Flag(("--replicas",), takes_value=True),
           Flag(("--force",))),
          _update),
    _spec("service rollback", "SERVICE", "go back to the service's previous spec", (), _rollback),
    _spec("service rm", "SERVICE…", "remove services (asks first)", (), _remove, ("service remove",)),
    _spec("node ls", "", "the swarm's nodes", (), _nodes, ("node list",)),
    _spec("stack ls", "", "stacks and their number of services", (), _stacks, ("stack list",)),
    _spec("stack services", "STACK", "a stack's services", (), _stack_services),
    _spec("stack ps", "STACK", "a stack's tasks", (), _stack_ps),
)  # fmt: skip
