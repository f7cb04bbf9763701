"""Executors for stats, top, port and diff. `stats` samples every container at once: one request each, in parallel,
so twenty containers take about as long as one (the engine spends about a second on each sample)."""

from concurrent.futures import ThreadPoolExecutor

from bot.engine.errors import EngineError
from bot.engine.execution import Context
from bot.engine.executors import execute
from bot.grammar.commands import ContainerDiff, ContainerPort, ContainerStats, ContainerTop
from bot.results import FileChanges, PortList, ProcessTable, StatsRow, StatsTable

DIFF_KINDS = {0: "C", 1: "A", 2: "D"}


def _cpu_percent(sample: dict) -> float:
    """The docker CLI's formula: the container's share of the host's CPU time between the engine's two samples."""
    cpu, before = sample.get("cpu_stats") or {}, sample.get("precpu_stats") or {}
    usage, previous = cpu.get("cpu_usage") or {}, before.get("cpu_usage") or {}
    cpu_delta = usage.get("total_usage", 0) - previous.get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - before.get("system_cpu_usage", 0)
    online = cpu.get("online_cpus") or len(usage.get("percpu_usage") or ())
    if system_delta > 0 and cpu_delta > 0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def _memory_used(memory: dict) -> int:
    """Usage without the page cache: cgroup v1's total_inactive_file, or v2's inactive_file (as the CLI)."""
    usage = memory.get("usage", 0)
    stats = memory.get("stats") or {}
    if "total_inactive_file" in stats and stats["total_inactive_file"] < usage:
        return usage - stats["total_inactive_file"]
    if stats.get("inactive_file", 0) < usage:
        return usage - stats.get("inactive_file", 0)
    return usage


def _block_io(sample: dict) -> tuple[int, int]:
    read = write = 0
    for entry in (sample.get("blkio_stats") or {}).get("io_service_bytes_recursive") or ():
        op = (entry.get("op") or " ")[0].lower()
        if op == "r":
            read += entry.get("value", 0)
        elif op == "w":
            write += entry.get("value", 0)
    return read, write


def stats_row(sample: dict, ref: str) -> StatsRow:
    """One `GET /containers/{id}/stats?stream=false` answer -> the CLI's figures."""
    memory = sample.get("memory_stats") or {}
    used, limit = _memory_used(memory), memory.get("limit", 0)
    networks = (sample.get("networks") or {}).values()
    read, write = _block_io(sample)
    return StatsRow(
        name=(sample.get("name") or ref).lstrip("/"),
        short_id=(sample.get("id") or "")[:12],
        cpu_percent=_cpu_percent(sample),
        memory_used=used,
        memory_limit=limit,
        memory_percent=used / limit * 100.0 if limit else 0.0,
        net_rx=sum(network.get("rx_bytes", 0) for network in networks),
        net_tx=sum(network.get("tx_bytes", 0) for network in networks),
        block_read=read,
        block_write=write,
        pids=(sample.get("pids_stats") or {}).get("current", 0),
        running=not str(sample.get("read") or "0001-").startswith("0001-"),  # a stopped one's sample has no time
    )


def _sample(ctx: Context, ref: str) -> StatsRow:
    with ctx.engine.errors(ref):
        return stats_row(ctx.engine.api.stats(ref, stream=False), ref)


def _failed_row(ref: str, error: EngineError) -> StatsRow:
    return StatsRow(ref, "", 0.0, 0, 0, 0.0, 0, 0, 0, 0, 0, running=False, error=str(error))


@execute.register
def _stats(command: ContainerStats, ctx: Context) -> StatsTable:
    refs = list(command.containers)
    if not refs:
        with ctx.engine.errors("containers"):
            listing = ctx.engine.api.containers(all=command.all)
        refs = [item["Id"] for item in listing]
    if not refs:
        return StatsTable(rows=(), all=command.all)

    def sample(ref: str) -> StatsRow | EngineError:
        try:
            return _sample(ctx, ref)
        except EngineError as error:
            return error

    with ThreadPoolExecutor(max_workers=min(len(refs), ctx.engine.pool_size), thread_name_prefix="stats") as pool:
        sampled = list(pool.map(sample, refs))
    if len(refs) == 1 and isinstance(sampled[0], EngineError):
        raise sampled[0]
    rows = tuple(
        item if isinstance(item, StatsRow) else _failed_row(ref, item) for ref, item in zip(refs, sampled, strict=True)
    )
    return StatsTable(rows=rows, all=command.all)


@execute.register
def _top(command: ContainerTop, ctx: Context) -> ProcessTable:
    with ctx.engine.errors(command.container):
        table = ctx.engine.api.top(command.container, ps_args=" ".join(command.ps_args) or None)
    return ProcessTable(
        container=command.container,
        titles=tuple(table.get("Titles") or ()),
        processes=tuple(tuple(str(cell) for cell in process) for process in table.get("Processes") or ()),
    )


def _host(binding: dict) -> str:
    ip = binding.get("HostIp") or "0.0.0.0"
    return f"[{ip}]:{binding.get('HostPort')}" if ":" in ip else f"{ip}:{binding.get('HostPort')}"


@execute.register
def _port(command: ContainerPort, ctx: Context) -> PortList:
    with ctx.engine.errors(command.container):
        data = ctx.engine.api.inspect_container(command.container)
    published = (data.get("NetworkSettings") or {}).get("Ports") or {}
    if command.private_port is None:
        lines = tuple(
            f"{private} -> {_host(binding)}"
            for private, bindings in sorted(published.items())
            for binding in bindings or ()
        )
        return PortList(container=command.container, lines=lines)
    private = f"{command.private_port}/{command.protocol or 'tcp'}"
    bindings = published.get(private)
    if not bindings:
        raise EngineError(f"no public port `{private}` published for `{command.container}`")
    return PortList(container=command.container, lines=tuple(_host(b) for b in bindings), private_port=private)


@execute.register
def _diff(command: ContainerDiff, ctx: Context) -> FileChanges:
    with ctx.engine.errors(command.container):
        changes = ctx.engine.api.diff(command.container) or []
    return FileChanges(
        container=command.container,
        changes=tuple((DIFF_KINDS.get(change.get("Kind"), "?"), change.get("Path", "")) for change in changes),
    )
