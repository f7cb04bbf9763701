"""The pieces a bench run drives: the private engine, the counting proxy in front of it, the Slack stand-in,
and `shipmate serve` processes wired to both."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.proxy import CountingProxy
from tests.bot_process import BotProcess, shipmate
from tests.private_engine import EngineError, PrivateEngine
from tests.signed_client import Reply, SignedClient
from tests.slack_standin import SlackStandin

REPO = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
# Everyone is admin: the bench measures the path of an allowed command, with the policy and audit in force.
POLICY = 'members:\n  "*": admin\n'
WORKING = "⏳"


@dataclass
class Stack:
    engine: PrivateEngine
    proxy: CountingProxy
    slack: SlackStandin
    workdir: Path
    code: Path = REPO  # the checkout whose bot/ the bots run
    bots: list[BotProcess] = field(default_factory=list)

    def start_bot(self, name: str, *, counted: bool = False, env: dict[str, str] | None = None) -> BotProcess:
        """`shipmate serve` on 127.0.0.1, ready to answer; DOCKER_HOST is the engine's socket, or the counting
        proxy's when `counted` (the proxy relays in this process: timings are taken without it)."""
        workdir = self.workdir / name
        workdir.mkdir(parents=True)
        (workdir / "policy.yml").write_text(POLICY)
        bot = shipmate(
            "serve",
            standin=self.slack,
            signing_secret=SIGNING_SECRET,
            docker_host=self.proxy.docker_host if counted else self.engine.docker_host,
            workdir=workdir,
            # PYTHONPATH: this checkout's code (or --code's), whichever checkout `pip install -e` last pointed at.
            extra_env={"SHIPMATE_POLICY": str(workdir / "policy.yml"), "PYTHONPATH": str(self.code), **(env or {})},
        )
        self.bots.append(bot.start())
        return bot.wait_ready()

    def client(self, bot: BotProcess) -> SignedClient:
        return SignedClient(bot.url, SIGNING_SECRET, timeout=30)

    def stop_bots(self) -> None:
        while self.bots:
            bot = self.bots.pop()
            if bot.running:
                bot.stop()


def slash(client: SignedClient, slack: SlackStandin, command: str, text: str, name: str, **fields: str) -> Reply:
    return client.slash(command, text, response_url=slack.response_url(name), **fields)


def ack_problem(reply: Reply) -> str | None:
    """Why an ack is not a complete, successful answer; None when it is. "deferred" when it only said ⏳."""
    if reply.status != 200:
        return f"HTTP {reply.status}"
    body = reply.body
    text = str(body.get("text", "")) if isinstance(body, dict) else ""
    if text.startswith(WORKING):
        return "deferred"
    if not isinstance(body, dict) or not body.get("blocks"):
        return "no message in the ack"
    if text.startswith("❌"):
        return f"failed: {text[:120]}"
    return None


@contextlib.contextmanager
def _started_engine():
    """The test suite's private engine; a second try when the first start fails (its parallel fixture builds
    sometimes lose a layer under load: "failed to get digest … no such file or directory")."""
    started = time.monotonic()
    for attempt in (1, 2):
        engine = PrivateEngine()
        try:
            engine.start()
        except EngineError as error:
            engine.close()
            if attempt == 2:
                raise
            print(f"private engine failed to start ({error}); trying once more", flush=True)
            continue
        except BaseException:
            engine.close()
            raise
        break
    print(f"private engine up in {time.monotonic() - started:.0f} s", flush=True)
    try:
        yield engine
    finally:
        engine.close()


@contextlib.contextmanager
def running_stack(code: Path = REPO):
    """Engine, proxy, stand-in and a temp dir; everything is torn down on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="shipmate-bench-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        engine = stack.enter_context(_started_engine())
        proxy = stack.enter_context(CountingProxy(engine.docker_host, workdir / "proxy.sock"))
        slack = stack.enter_context(SlackStandin())
        bench_stack = Stack(engine, proxy, slack, workdir, code)
        stack.callback(bench_stack.stop_bots)
        yield bench_stack
