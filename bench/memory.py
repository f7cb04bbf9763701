"""4. Memory: RSS of `shipmate serve` idle, and after 2 000 commands of the kinds people send most; and how many
connections to the engine those commands opened (the bot runs behind the counting proxy)."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass

from bench.fixtures import CONTAINER_PREFIX
from bench.stack import Stack, ack_problem, slash
from tests.bot_process import BotProcess, ProcStats

SETTLE_SECONDS = 2.0
CLIENTS = 4
INSPECTED = 20  # the inspects go round the first 20 of the bench's containers, as on-call checks differ
# Read-only commands answered in the ack: listings (the 200 containers, the tags), an inspect, help.
MIX = (
    ("/ps", ""),
    ("/ps", "-a"),
    ("/img", "ls"),
    ("/docker", "container inspect {container}"),
    ("/docker", "help"),
)


@dataclass(frozen=True)
class MemoryRun:
    idle: ProcStats
    after: ProcStats
    commands: int
    errors: int
    connections: int  # opened to the engine while the commands ran

    @property
    def growth(self) -> float:
        return round((self.after.rss_kib - self.idle.rss_kib) / self.idle.rss_kib * 100, 1)


def measure_memory(stack: Stack, bot: BotProcess, commands: int) -> MemoryRun:
    """`bot` must be freshly started: its RSS now is the idle figure."""
    time.sleep(SETTLE_SECONDS)
    idle = bot.stats()
    connections_before = stack.proxy.connections_accepted()
    client = stack.client(bot)
    numbers = itertools.count()
    lock = threading.Lock()
    errors = 0

    def sender() -> None:
        nonlocal errors
        while True:
            with lock:
                index = next(numbers)
            if index >= commands:
                return
            command, text = MIX[index % len(MIX)]
            text = text.format(container=f"{CONTAINER_PREFIX}{index // len(MIX) % INSPECTED + 1:04d}")
            problem = ack_problem(slash(client, stack.slack, command, text, f"mem-{index}"))
            if problem:
                with lock:
                    errors += 1

    threads = [threading.Thread(target=sender) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(SETTLE_SECONDS)
    connections = stack.proxy.connections_accepted() - connections_before
    return MemoryRun(idle=idle, after=bot.stats(), commands=commands, errors=errors, connections=connections)
