"""The engine client's connections, on the private engine: one pool per engine socket, whatever the URLs."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.proxy import CountingProxy
from bot.engine.client import Engine
from tests.private_engine import PrivateEngine

pytestmark = pytest.mark.engine


def _unix_sockets() -> int:
    """How many unix sockets this process holds open (the engine's connections among them)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed since the listing
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    with open("/proc/self/net/unix") as table:
        unix = {line.split()[6] for line in table.read().splitlines()[1:]}
    return len(inodes & unix)


def test_calls_on_different_urls_share_one_connection(engine: PrivateEngine, tmp_path: Path) -> None:
    with CountingProxy(engine.docker_host, tmp_path / "proxy.sock") as proxy:
        client = Engine(proxy.docker_host, timeout=10, pool_size=4, from_environment=False)
        try:
            for index in range(40):  # a URL of its own each time, as container ids and filters make them
                client.api.containers(all=True, filters={"name": f"nobody-{index}"})
        finally:
            client.close()
        assert proxy.counts() == {"handshake": 1, "container list": 40}
        assert proxy.connections_accepted() == 1  # the version probe's connection too


def test_concurrent_calls_keep_at_most_the_pool_size_open(engine: PrivateEngine) -> None:
    client = Engine(engine.docker_host, timeout=10, pool_size=4, from_environment=False)
    before = _unix_sockets()

    def call(index: int) -> None:
        client.api.inspect_image("busybox:latest")
        client.api.containers(all=True, filters={"label": f"call={index}"})

    try:
        with ThreadPoolExecutor(12) as pool:
            list(pool.map(call, range(120)))
        assert 1 <= _unix_sockets() - before <= 4
    finally:
        client.close()
    assert _unix_sockets() == before
