"""shipmate local | serve | socket — argument handling only.

Local mode imports nothing from Slack or HTTP servers, so it starts about as fast as any docker-py program.
"""

import argparse
import json
import logging
import sys

from bot.config import ConfigError, CoreSettings, load_dotenv_file


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shipmate", description="Docker from Slack (or from here).")
    commands = parser.add_subparsers(dest="mode", required=True)
    local = commands.add_parser("local", help="run one command against DOCKER_HOST and print the reply")
    local.add_argument("line", help="e.g. '/ps -a', '/img ls nginx', '/run -d --name web1 nginx'")
    local.add_argument("--json", action="store_true", help="print the Slack message payload instead of text")
    serve = commands.add_parser("serve", help="serve Slack's HTTP requests on /slack/events")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    commands.add_parser("socket", help="connect to Slack over Socket Mode (no public URL needed)")
    return parser


def _local(line: str, as_json: bool) -> int:
    from bot.dispatcher import Dispatcher, Request
    from bot.engine import Engine, RunLimits

    settings = CoreSettings.from_env()
    engine = Engine(settings.docker_host, timeout=settings.docker_timeout)
    dispatcher = Dispatcher(engine, limits=RunLimits(wait_seconds=settings.run_timeout))
    slash, _, text = line.strip().partition(" ")
    if not slash.startswith("/"):
        slash, text = "/docker", line.removeprefix("docker ")
    if as_json:
        from bot.render.blocks import to_message

        reply = dispatcher.handle(Request(text=text, slash=slash), to_message)
        print(json.dumps(reply.message.payload(), ensure_ascii=False, indent=2))
    else:
        from bot.render.text import to_text

        reply = dispatcher.handle(Request(text=text, slash=slash), to_text)
        print(reply.message, file=sys.stdout if reply.ok else sys.stderr)
    return 0 if reply.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        load_dotenv_file()
        if args.mode == "local":
            return _local(args.line, args.json)
        from bot.slack.server import run_server

        return run_server(args.mode, getattr(args, "host", None), getattr(args, "port", None))
    except ConfigError as error:
        print(f"shipmate: configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
