"""The lines both renderers show: tables, facts and summaries laid out like the docker CLI's own output (the
terminal prints them; Block Kit puts them in sections and monospace blocks)."""

from datetime import UTC, datetime

from bot.render.format import ago, aligned, binary_size, decimal_size
from bot.results import (
    Alert,
    AuditTrail,
    ContextTable,
    DiskUsage,
    EngineInfo,
    EngineVersion,
    EventList,
    EventRow,
    ExecDone,
    FileChanges,
    FleetAnswer,
    FollowedLogs,
    Identity,
    PolicySummary,
    PortList,
    ProcessTable,
    RunDone,
    ServiceDetails,
    StatsRow,
    StatsTable,
)
from bot.secrets import mask_text, mask_values, masked


def run_summary(result: RunDone) -> str:
    """One line both renderers lead with."""
    if result.detached:
        return f"started {result.name} ({result.short_id}) from {result.image}: {result.state}"
    if result.timed_out_after is not None:
        return f"{result.name} was still running after {result.timed_out_after:g} s and was stopped"
    removed = ", removed" if result.removed else ""
    return f"{result.name} exited with code {result.exit_code}{removed}"


def identity_lines(result: Identity) -> list[str]:
    """whoami as label/value pairs, shared by both renderers."""
    granted = f" (from {', '.join(result.granted_by)})" if result.granted_by else ""
    return [
        f"user:     {result.user_id}" + (f" ({result.user_name})" if result.user_name else ""),
        *([f"team:     {result.team_id}"] if result.team_id else []),
        *([f"channel:  {result.channel_id}"] if result.channel_id else []),
        f"role:     {' and '.join(result.roles) or 'none'}{granted}",
        f"may:      {', '.join(result.actions) or 'help and whoami only'}",
        *(f"on {engine}: {' and '.join(roles) or 'no role'}" for engine, roles in result.per_engine),
        *(f"grant:    {grant}" for grant in result.grants),
    ]


def run_limits(result: PolicySummary) -> str:
    limits = []
    if result.run_memory:
        limits.append(f"memory {result.run_memory}")
    if result.run_cpus:
        limits.append(f"cpus {result.run_cpus:g}")
    return ", ".join(limits) or "no limits"


def policy_lines(result: PolicySummary) -> list[str]:
    if result.loaded_at is None:
        head = [f"no policy file at {result.path}: Slack users may use only help and whoami"]
        return head + ([f"problem: {result.problem}"] if result.problem else [])
    lines = [f"policy {result.path} (loaded {ago(result.loaded_at)})"]
    if result.problem:
        lines.append(f"problem: {result.problem}")
    lines.append("roles:")
    for role in result.roles:
        members = ", ".join(role.members) or "nobody"
        lines.append(f"  {role.name} ({members}): {', '.join(role.actions) or 'nothing'}")
    lines.append(f"channels: {', '.join(result.channels) if result.channels is not None else 'any'}")
    lines.append(f"images:   {', '.join(result.images) if result.images is not None else 'any'}")
    lines.append(f"run:      {run_limits(result)}")
    return lines


def audit_table(result: AuditTrail) -> list[str]:
    rows = [
        (
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.engine or "-",
            entry.user_id,
            entry.channel_id or "-",
            entry.decision,
            entry.outcome,
            f"{entry.duration_ms} ms",
            entry.command,
            entry.detail[:80],
        )
        for entry in result.entries
    ]
    header = ("TIME (UTC)", "ENGINE", "USER", "CHANNEL", "DECISION", "OUTCOME", "TOOK", "COMMAND", "DETAIL")
    return aligned(header, rows)


STATS_HEADER = ("NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS")


def stats_cells(row: StatsRow) -> tuple[str, ...]:
    """One row as `docker stats --no-stream` prints it; "--" where the container could not be sampled."""
    if row.error:
        return (row.name, "--", "-- / --", "--", "--", "--", "--")
    return (
        row.name,
        f"{row.cpu_percent:.2f}%",
        f"{binary_size(row.memory_used)} / {binary_size(row.memory_limit)}",
        f"{row.memory_percent:.2f}%",
        f"{decimal_size(row.net_rx)} / {decimal_size(row.net_tx)}",
        f"{decimal_size(row.block_read)} / {decimal_size(row.block_write)}",
        str(row.pids),
    )


def stats_empty(result: StatsTable) -> str:
    return "no containers" if result.all else "no running containers (`stats -a` samples stopped ones too)"


def stats_problems(result: StatsTable) -> list[str]:
    return [f"{row.name}: {mask_values(row.error)}" for row in result.rows if row.error]


def process_lines(result: ProcessTable) -> list[str]:
    """The process table, a process's `NAME=secret` arguments masked as inspect masks env."""
    processes = [tuple(mask_text(cell) for cell in process) for process in result.processes]
    return aligned(result.titles, processes) if result.titles else []


def port_empty(result: PortList) -> str:
    return f"{result.container} publishes no ports"


def change_lines(result: FileChanges) -> str:
    return "".join(f"{kind} {path}\n" for kind, path in result.changes)


def reclaimable(size: int, part: int) -> str:
    """As `docker system df`: the size, and its share when there is any size at all."""
    return f"{decimal_size(part, 4)} ({part * 100 // size}%)" if size > 0 else decimal_size(part, 4)


def disk_summary(result: DiskUsage) -> list[str]:
    rows = [
        (row.kind, str(row.total), str(row.active), decimal_size(row.size, 4), reclaimable(row.size, row.reclaimable))
        for row in result.rows
    ]
    return aligned(("TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"), rows)


def disk_details(result: DiskUsage) -> list[tuple[str, list[str]]]:
    """The -v sections: a title and its table each."""
    images = [
        (
            i.repository,
            i.tag,
            i.short_id,
            ago(i.created),
            decimal_size(i.size, 4),
            decimal_size(i.shared_size, 4) if i.shared_size >= 0 else "N/A",
            decimal_size(i.size - i.shared_size, 4) if i.shared_size >= 0 else "N/A",
            str(i.containers),
        )
        for i in result.images
    ]
    containers = [
        (
            c.short_id,
            c.image,
            f'"{mask_text(c.command)[:20]}"',
            str(c.volumes),
            decimal_size(c.size, 4),
            ago(c.created),
            c.status,
            c.name,
        )
        for c in result.containers
    ]
    volumes = [(v.name, str(v.links), decimal_size(v.size, 4) if v.size >= 0 else "N/A") for v in result.volumes]
    return [
        (
            "Images space usage",
            aligned(
                ("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"), images
            ),
        ),
        (
            "Containers space usage",
            aligned(
                ("CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"), containers
            ),
        ),
        ("Local Volumes space usage", aligned(("VOLUME NAME", "LINKS", "SIZE"), volumes)),
    ]


def info_pairs(result: EngineInfo) -> list[tuple[str, str]]:
    return [
        ("Server Version", result.server_version),
        ("API Version", result.api_version),
        ("Operating System", result.os),
        ("OSType/Architecture", f"{result.os_type}/{result.architecture}"),
        ("Kernel Version", result.kernel),
        ("CPUs", str(result.cpus)),
        ("Total Memory", binary_size(result.memory)),
        ("Storage Driver", result.storage_driver),
        (
            "Containers",
            f"{result.containers} ({result.running} running, {result.paused} paused, {result.stopped} stopped)",
        ),
        ("Images", str(result.images)),
        ("Swarm", result.swarm),
        ("Name", result.name),
        ("Docker Root Dir", result.root_dir),
    ]


# -- swarm ----------------------------------------------------------------------------


def service_facts(result: ServiceDetails) -> list[tuple[str, str]]:
    """label/value pairs of `service inspect`, shared by both renderers."""
    replicas = "global" if result.replicas is None else f"replicated, {result.replicas} replicas"
    return [
        ("Image", result.image),
        ("Mode", replicas),
        ("ID", result.id),
        ("Command", mask_text(" ".join(result.command)) or "—"),
        ("Ports", ", ".join(result.ports) or "—"),
        ("Resources", ", ".join(result.resources) or "no limits"),
        ("Update config", ", ".join(result.update_config) or "docker's defaults"),
        ("Rollback config", ", ".join(result.rollback_config) or "docker's defaults"),
        ("Update status", result.update_status or "never updated"),
        ("Created", ago(result.created)),
        ("Updated", ago(result.updated)),
        *([("Owner", result.owner)] if result.owner else []),
    ]


def version_lines(result: EngineVersion) -> list[str]:
    """The server part of `docker version`."""
    lines = [
        f"Server: {result.platform}".rstrip(),
        " Engine:",
        f"  Version:          {result.version}",
        f"  API version:      {result.api_version} (minimum version {result.min_api_version})",
        f"  Go version:       {result.go_version}",
        f"  Git commit:       {result.git_commit}",
        f"  Built:            {result.built}",
        f"  OS/Arch:          {result.os}/{result.arch}",
        f"  Experimental:     {str(result.experimental).lower()}",
    ]
    for component in result.components:
        if component.name == "Engine":
            continue
        lines += [f" {component.name}:", f"  {'Version:':<18}{component.version}"]
        lines += [f"  {key + ':':<18}{value}" for key, value in component.details]
    return lines


def event_line(event: EventRow) -> str:
    """As `docker events` prints one: time with nanoseconds, type, action, actor, attributes."""
    seconds, nanos = divmod(event.time_nano, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    attributes = ", ".join(f"{key}={masked(key, value)}" for key, value in event.attributes)
    return f"{moment}.{nanos:09d}Z {event.type} {event.action} {event.actor}" + (
        f" ({attributes})" if attributes else ""
    )


def events_title(result: EventList) -> str:
    count = len(result.events)
    if not count:
        return f"no events {result.window}"
    latest = f"the latest {count} " if result.cut else f"{count} "
    return f"{latest}event{'s' * (count != 1)} {result.window}"


def exec_summary(result: ExecDone) -> str:
    command = mask_text(result.command)
    if result.timed_out_after is not None:
        return (
            f"`{command}` in {result.container} was still running after {result.timed_out_after:g} s: "
            "Shipmate stopped waiting (it may still be running there)"
        )
    return f"`{command}` in {result.container} exited with code {result.exit_code}"


def follow_title(result: FollowedLogs) -> str:
    count = f"{result.lines} line{'s' * (result.lines != 1)}"
    if result.ended is None:
        return f"following the logs of {result.container} ({count} so far)"
    return f"stopped following the logs of {result.container} ({count}): {result.ended}"


def alert_headline(result: Alert) -> str:
    """`web1 died with exit code 3`, `web1 died 4 times in 6 min, last exit code 3`, `✅ … (resolved: …)`."""
    what = mask_text(result.what)  # a health check's output, quoted
    if result.count > 1:
        span = ""
        if result.first_at is not None:
            minutes = max(1, round((result.at - result.first_at).total_seconds() / 60))
            span = f" in {minutes} min"
        times = f"{result.count} times{span}"
        if result.kind == "die":
            what = f"died {times}, last {what.removeprefix('died with ')}"
        elif result.kind == "unhealthy":
            what = f"unhealthy {times}, last: {what.removeprefix('unhealthy: ')}"
        else:
            what = f"{what} ({times})"
    line = f"{result.container} {what}"
    return f"✅ resolved: {line} — {result.resolved}" if result.resolved else line


def context_rows(result: ContextTable) -> list[str]:
    """`docker context ls`-like columns, shared by both renderers."""
    rows = [
        (
            f"{row.name}{' *' if row.default else ''}",
            mask_values(row.host),
            "✓" if row.reachable else "✗",
            row.detail,
            f"{row.running}/{row.total} running" if row.total is not None else "—",
        )
        for row in result.rows
    ]
    return aligned(("NAME", "HOST", "OK", "VERSION / PROBLEM", "CONTAINERS"), rows)


def fleet_notes(result: FleetAnswer) -> list[str]:
    """The engines missing from a several-engine answer, one line each, shared by both renderers."""
    notes = [f"{miss.engine}: {mask_values(miss.reason)}" for miss in result.unanswered]
    if result.left_out:
        notes.append(f"left out (your role does not allow this there): {', '.join(result.left_out)}")
    return notes
