"""docker run: the only command that creates containers, so the only one with a long flag list."""

from bot.grammar.commands import ContainerRun
from bot.grammar.errors import ParseError
from bot.grammar.options import Flag, OptionParser, Parsed
from bot.grammar.spec import CommandSpec, register
from bot.grammar.values import container_name, env_pair, image_ref, port_mapping

MAX_ENV = 100
MAX_PORTS = 20


def _run(parsed: Parsed) -> ContainerRun:
    if not parsed.args:
        raise ParseError("missing IMAGE")
    image, *command = parsed.args
    name = parsed.value("name")
    env = tuple(env_pair(value) for value in parsed.many("env"))
    ports = tuple(port_mapping(value) for value in parsed.many("publish"))
    if len(env) > MAX_ENV or len(ports) > MAX_PORTS:
        raise ParseError(f"too many options: at most {MAX_ENV} --env and {MAX_PORTS} -p")
    host_ports = [(port.host_ip, port.host_port, port.protocol) for port in ports]
    if len(set(host_ports)) != len(host_ports):
        raise ParseError("the same host port is published twice")
    return ContainerRun(
        image=image_ref(image),
        command=tuple(command),
        name=None if name is None else container_name(name),
        env=env,
        ports=ports,
        detach=parsed.flag("detach"),
        remove=parsed.flag("rm"),
    )


SPECS = register(
    CommandSpec(
        name="run",
        aliases=("container run",),
        usage="[-d] [--name NAME] [-e KEY=VALUE]… [-p [IP:]HOST:CONTAINER[/tcp|udp]]… [--rm] IMAGE [COMMAND [ARG…]]",
        summary="create and start a container (waits for it to exit unless -d)",
        options=OptionParser(
            (
                Flag(("-d", "--detach")),
                Flag(("--name",), takes_value=True),
                Flag(("-e", "--env"), takes_value=True, repeat=True),
                Flag(("-p", "--publish"), takes_value=True, repeat=True),
                Flag(("--rm",)),
            ),
            interspersed=False,
        ),
        build=_run,
    ),
)
