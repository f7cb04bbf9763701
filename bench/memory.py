"""4. Memory: RSS of `shipmate serve` idle, and after 2 000 commands of the kinds people send most."""

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
# Read-only commands answered in the ack: listings (the 200 containers, the tags), an inspect, help.
MIX = (
    ("/ps", ""),
    ("/ps", "-a"),
    ("/img", "ls"),
    ("/docker", f"container inspect {CONTAINER_PREFIX}0001"),
    ("/docker", "help"),
)


@dataclass(frozen=True)
class MemoryRun:
    idle: ProcStats
    after: ProcStats
    commands: int
    errors: int

    @property
    def growth(self) -> float:
        return round((self.after.rss_kib - self.idle.rss_kib) / self.idle.rss_kib * 100, 1)


def measure_memory(stack: Stack, bot: BotProcess, commands: int) -> MemoryRun:
    """`bot` must be freshly started: its RSS now is the idle figure."""
    time.sleep(SETTLE_SECONDS)
    idle = bot.stats()
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
    return MemoryRun(idle=idle, after=bot.stats(), commands=commands, errors=errors)
