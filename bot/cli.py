"""shipmate local | serve | socket — argument handling only.

Local mode imports nothing from Slack or HTTP servers, so it starts about as fast as any docker-py program.
"""

import argparse
import gc
import json
import logging
import re
import sys
from typing import TYPE_CHECKING

from bot.config import ConfigError, CoreSettings, load_dotenv_file, metrics_port
from bot.secrets import MaskingFormatter, mask_values

if TYPE_CHECKING:
    from bot.dispatcher import Caller


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shipmate", description="Docker from Slack (or from here).")
    commands = parser.add_subparsers(dest="mode", required=True)
    local = commands.add_parser("local", help="run one command against DOCKER_HOST and print the reply")
    local.add_argument("line", help="e.g. '/ps -a', '/img ls nginx', '/run -d --name web1 nginx'")
    local.add_argument("--json", action="store_true", help="print the Slack message payload instead of text")
    local.add_argument(
        "--user", help="act as this Slack user (U…): the policy applies; without it you are the local admin"
    )
    local.add_argument(
        "--channel", help="with --user: the channel (C…, or D… for a direct message) the command comes from"
    )
    local.add_argument("--yes", action="store_true", help="with --user: confirm a destructive command at once")
    local.add_argument(
        "--context",
        help="the engine(s) when the command names none: a name, a comma list, a glob or `all` "
        "(default SHIPMATE_CONTEXT, else the engines file's default)",
    )
    serve = commands.add_parser("serve", help="serve Slack's HTTP requests on /slack/events")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument(
        "--metrics-port",
        type=int,
        help="serve /healthz, /readyz (with details) and /metrics on this port instead of the public one"
        " (0: any free one; default SHIPMATE_METRICS_PORT)",
    )
    serve.add_argument("--metrics-host", default="0.0.0.0", help="the address for --metrics-port")
    socket = commands.add_parser("socket", help="connect to Slack over Socket Mode (no public URL needed)")
    socket.add_argument(
        "--metrics-port",
        type=int,
        help="serve /healthz, /readyz and /metrics on this port (0: any free one; default SHIPMATE_METRICS_PORT)",
    )
    socket.add_argument("--metrics-host", default="0.0.0.0", help="the address for --metrics-port")
    return parser


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


def _local_caller(user: str | None, channel: str | None) -> "Caller":
    from bot.dispatcher import Caller

    if user is None:
        if channel is not None:
            raise ConfigError("--channel applies only with --user (without --user you are the local admin)")
        return Caller()
    if not _USER_ID.fullmatch(user):
        raise ConfigError(f"--user {user}: give a Slack user id, e.g. --user U0123ABCD")
    if channel is not None and not _CHANNEL_ID.fullmatch(channel):
        raise ConfigError(f"--channel {channel}: give a channel id, e.g. --channel C0123OPS (D… for a direct message)")
    return Caller(user_id=user, channel_id=channel or "")


def _local(args: argparse.Namespace) -> int:
    # Importing the core makes objects that live until exit: collecting meanwhile would only walk them again and
    # again. The collector is off until everything is imported and frozen below.
    gc.disable()
    # docker-py imports its own ssh transport (paramiko, and with it invoke and more of cryptography) whenever it can:
    # a third of docker-py's start-up. Shipmate never hands docker-py an ssh:// URL (bot/engine/ssh_relay.py puts the
    # system's ssh behind a unix socket), and docker-py does without that transport when it cannot be imported.
    sys.modules.setdefault("docker.transport.sshconn", None)
    from bot.assembly import make_dispatcher
    from bot.dispatcher import Request
    from bot.results import ConfirmationRequest

    caller = _local_caller(args.user, args.channel)
    settings = CoreSettings.from_env(local=True)
    # Records still go to the audit database; the terminal shows the answer, not the JSON log line.
    logging.getLogger("shipmate.audit").setLevel(logging.WARNING)
    dispatcher = make_dispatcher(settings, local_admin=args.user is None)
    line = args.line
    slash, _, text = line.strip().partition(" ")
    if not slash.startswith("/"):
        slash, text = "/docker", line.removeprefix("docker ")
    if args.json:
        from bot.render.blocks import to_message as render
    else:
        from bot.render.terminal import to_text as render
    # All that is imported now lives until exit. Frozen, the collector never walks it again: not during the command
    # and not in the interpreter's shutdown, whose collections otherwise cost a local run as much as the command.
    gc.freeze()
    gc.enable()
    try:
        context = args.context or settings.context
        reply = dispatcher.handle(Request(text=text, slash=slash, caller=caller, context=context), render)
        if isinstance(reply.result, ConfirmationRequest) and args.yes:
            reply = dispatcher.confirm(reply.result.token, caller, render)
    finally:
        dispatcher.close()
    if args.json:
        print(json.dumps(reply.message.payload(), ensure_ascii=False, indent=2))
    else:
        print(mask_values(reply.message), file=sys.stdout if reply.ok else sys.stderr)
    return 0 if reply.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    try:
        load_dotenv_file()
        if args.mode == "local":
            return _local(args)
        from bot.slack.server import run_server

        if args.mode == "socket":
            return run_server("socket", "", None, args.metrics_host, metrics_port(args.metrics_port))
        return run_server("serve", args.host, args.port, args.metrics_host, metrics_port(args.metrics_port))
    except ConfigError as error:
        print(f"shipmate: configuration error: {mask_values(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
