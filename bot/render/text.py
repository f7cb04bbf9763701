"""Result -> terminal text, laid out like the docker CLI's own output."""

from datetime import UTC, datetime
from functools import singledispatch

from bot.render import swarm_text
from bot.render.format import ago, aligned, binary_size, decimal_size, size, state_emoji
from bot.results import (
    Alert,
    AuditTrail,
    ConfirmationRequest,
    ContainerDetails,
    ContainerTable,
    ContextTable,
    Convergences,
    DiskUsage,
    EngineInfo,
    EngineVersion,
    EventList,
    EventRow,
    ExecDone,
    Failure,
    FileChanges,
    FleetAnswer,
    FollowedLogs,
    FromEngine,
    HelpText,
    Identity,
    ImageDetails,
    ImageTable,
    LogText,
    NodeTable,
    Notice,
    Outcomes,
    PolicySummary,
    PortList,
    ProcessTable,
    PullDone,
    PullProgress,
    Result,
    RunDone,
    ServiceDetails,
    ServiceProgress,
    ServiceTable,
    StackTable,
    StatsRow,
    StatsTable,
    TaskTable,
)
from bot.secrets import mask_text, mask_values, masked


@singledispatch
def to_text(result: Result) -> str:
    raise TypeError(f"no text renderer for {type(result).__name__}")


@to_text.register
def _failure(result: Failure) -> str:
    # An engine's error may quote what it was given (an image reference, a URL): its secret shapes are masked.
    return f"error: {mask_values(result.reason)}" + (f" — usage: {result.usage.strip('`')}" if result.usage else "")


@to_text.register
def _help(result: HelpText) -> str:
    lines = [result.title, ""]
    lines += [f"  {entry.usage.strip('`')}\n      {entry.summary}" for entry in result.entries]
    return "\n".join(lines)


@to_text.register
def _images(result: ImageTable) -> str:
    if not result.rows:
        return f"no images match {result.reference}" if result.reference else "no images"
    header = ("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")
    rows = [(r.repository, r.tag, r.short_id, ago(r.created), size(r.size)) for r in result.rows]
    if any(r.engine for r in result.rows):
        header, rows = ("ENGINE", *header), [(r.engine, *row) for r, row in zip(result.rows, rows, strict=True)]
    return "\n".join(aligned(header, rows))


def _pairs_block(title: str, pairs: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{title}:", *(f"  {name}={masked(name, value)}" for name, value in pairs)] if pairs else [f"{title}: —"]


def _words(words: tuple[str, ...] | None) -> str:
    return mask_text(" ".join(words)) if words else "—"


@to_text.register
def _image(result: ImageDetails) -> str:
    lines = [
        f"Image {', '.join(result.tags) or result.short_id}",
        f"ID:          {result.short_id}",
        f"Created:     {ago(result.created)}",
        f"Size:        {size(result.size)}",
        f"OS/Arch:     {result.os}/{result.architecture}",
        f"Cmd:         {_words(result.cmd)}",
        f"Entrypoint:  {_words(result.entrypoint)}",
        f"WorkingDir:  {result.working_dir or '—'}",
        f"Ports:       {', '.join(result.exposed_ports) or '—'}",
        *_pairs_block("Env", result.env),
        *_pairs_block("Labels", result.labels),
    ]
    return "\n".join(lines)


@to_text.register
def _containers(result: ContainerTable) -> str:
    if not result.rows:
        return "no containers" if result.all else "no running containers (`ps -a` shows stopped ones too)"
    header = ("CONTAINER ID", "IMAGE", "COMMAND", "STATUS", "PORTS", "NAMES")
    rows = [
        (
            r.short_id,
            r.image,
            f'"{mask_text(r.command)[:20]}"',
            r.status,
            ", ".join(r.ports),
            f"{state_emoji(r.state)} {r.name}",
        )
        for r in result.rows
    ]
    if any(r.engine for r in result.rows):
        header, rows = ("ENGINE", *header), [(r.engine, *row) for r, row in zip(result.rows, rows, strict=True)]
    return "\n".join(aligned(header, rows))


@to_text.register
def _container(result: ContainerDetails) -> str:
    lines = [
        f"Container {result.name} ({result.short_id})",
        f"State:     {state_emoji(result.state)} {result.status_detail}",
        f"Image:     {result.image}",
        f"Created:   {ago(result.created)}",
        f"Cmd:       {_words(result.cmd)}",
        f"Ports:     {', '.join(result.ports) or '—'}",
        f"Restarts:  {result.restart_count}",
        f"Health:    {result.health or '—'}",
        *([f"Owner:     {result.owner}"] if result.owner else []),
        *_pairs_block("Env", result.env),
    ]
    return "\n".join(lines)


@to_text.register
def _logs(result: LogText) -> str:
    note = (
        f"(output capped by size, {result.lines} lines shown: narrow it with --tail N or --since)\n"
        if result.truncated
        else ""
    )
    return note + (mask_text(result.text.rstrip("\n")) or f"no output from {result.container}")


@to_text.register
def _outcomes(result: Outcomes) -> str:
    return "\n".join(
        f"{outcome.target}: {result.verb}" if outcome.ok else f"{outcome.target}: error: {mask_values(outcome.detail)}"
        for outcome in result.outcomes
    )


@to_text.register
def _pulled(result: PullDone) -> str:
    if not result.updated:
        return f"{result.reference} is up to date ({result.short_id}, {size(result.size)})"
    return f"pulled {result.reference} ({result.short_id}, {size(result.size)})"


@to_text.register
def _progress(result: PullProgress) -> str:
    return f"pulling {result.reference}: {result.percent}% ({result.layers_done}/{result.layers_total} layers)"


def run_summary(result: RunDone) -> str:
    """One line both renderers lead with."""
    if result.detached:
        return f"started {result.name} ({result.short_id}) from {result.image}: {result.state}"
    if result.timed_out_after is not None:
        return f"{result.name} was still running after {result.timed_out_after:g} s and was stopped"
    removed = ", removed" if result.removed else ""
    return f"{result.name} exited with code {result.exit_code}{removed}"


@to_text.register
def _run(result: RunDone) -> str:
    lines = [run_summary(result)]
    if result.ports:
        lines.append(f"ports: {', '.join(result.ports)}")
    if not result.detached:
        if result.output_truncated:
            lines.append("(output truncated, last lines shown)")
        lines.append(mask_text(result.output.rstrip("\n")) or "(no output)")
    return "\n".join(lines)


@to_text.register
def _notice(result: Notice) -> str:
    return "\n".join((result.title, *result.lines))


@to_text.register
def _confirmation(result: ConfirmationRequest) -> str:
    lines = [f"needs confirmation: {result.summary}", *(f"  {detail}" for detail in result.details)]
    lines.append(f"confirming runs {result.command} — nothing was done yet; add --yes to confirm")
    return "\n".join(lines)


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
    ]


@to_text.register
def _identity(result: Identity) -> str:
    return "\n".join([*identity_lines(result), *([result.note] if result.note else [])])


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


@to_text.register
def _policy(result: PolicySummary) -> str:
    return "\n".join([*policy_lines(result), *([result.note] if result.note else [])])


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


@to_text.register
def _audit(result: AuditTrail) -> str:
    whose = f" of {result.user}" if result.user else ""
    if not result.entries:
        return f"no audit records{whose}"
    return "\n".join([f"latest {len(result.entries)} audit records{whose}, newest first", *audit_table(result)])


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


@to_text.register
def _stats(result: StatsTable) -> str:
    if not result.rows:
        return stats_empty(result)
    table = aligned(STATS_HEADER, [stats_cells(row) for row in result.rows])
    return "\n".join([*table, *stats_problems(result)])


def process_lines(result: ProcessTable) -> list[str]:
    """The process table, a process's `NAME=secret` arguments masked as inspect masks env."""
    processes = [tuple(mask_text(cell) for cell in process) for process in result.processes]
    return aligned(result.titles, processes) if result.titles else []


@to_text.register
def _top(result: ProcessTable) -> str:
    return "\n".join(process_lines(result)) or f"no processes in {result.container}"


def port_empty(result: PortList) -> str:
    return f"{result.container} publishes no ports"


@to_text.register
def _ports(result: PortList) -> str:
    return "\n".join(result.lines) or port_empty(result)


def change_lines(result: FileChanges) -> str:
    return "".join(f"{kind} {path}\n" for kind, path in result.changes)


@to_text.register
def _changes(result: FileChanges) -> str:
    return change_lines(result).rstrip("\n") or f"no changes in {result.container}'s filesystem"


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


@to_text.register
def _disk(result: DiskUsage) -> str:
    lines = disk_summary(result)
    if result.verbose:
        for title, table in disk_details(result):
            lines += ["", f"{title}:", "", *table]
        lines += ["", f"Build cache usage: {decimal_size(result.build_cache, 4)}"]
    return "\n".join(lines)


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


@to_text.register
def _services(result: ServiceTable) -> str:
    if not result.rows:
        return f"no services in stack {result.stack}" if result.stack else "no services"
    return "\n".join(swarm_text.service_lines(result))


@to_text.register
def _tasks(result: TaskTable) -> str:
    return "\n".join(swarm_text.task_lines(result)) if result.rows else f"no tasks for {result.subject}"


@to_text.register
def _nodes(result: NodeTable) -> str:
    return "\n".join(swarm_text.node_lines(result))


@to_text.register
def _stacks(result: StackTable) -> str:
    return "\n".join(swarm_text.stack_lines(result)) if result.rows else "no stacks"


@to_text.register
def _service_progress(result: ServiceProgress) -> str:
    return swarm_text.progress_line(result)


@to_text.register
def _convergences(result: Convergences) -> str:
    lines = []
    for item in result.items:
        lines.append(swarm_text.convergence_line(item))
        if item.tasks:
            lines += [f"  {line}" for line in swarm_text.task_lines(TaskTable(item.service, item.tasks))]
    return "\n".join(lines)


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


@to_text.register
def _info(result: EngineInfo) -> str:
    return "\n".join(["Server:", *(f" {label}: {value}" for label, value in info_pairs(result))])


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


@to_text.register
def _version(result: EngineVersion) -> str:
    return "\n".join(version_lines(result))


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


@to_text.register
def _events(result: EventList) -> str:
    note = ["(more happened: narrow with --since, --until or --filter)"] if result.cut else []
    return "\n".join([events_title(result), *note, *(event_line(event) for event in result.events)])


def exec_summary(result: ExecDone) -> str:
    command = mask_text(result.command)
    if result.timed_out_after is not None:
        return (
            f"`{command}` in {result.container} was still running after {result.timed_out_after:g} s: "
            "Shipmate stopped waiting (it may still be running there)"
        )
    return f"`{command}` in {result.container} exited with code {result.exit_code}"


@to_text.register
def _exec(result: ExecDone) -> str:
    lines = [exec_summary(result).replace("`", "")]
    if result.output_truncated:
        lines.append("(output truncated, last lines shown)")
    lines.append(mask_text(result.output.rstrip("\n")) or "(no output)")
    return "\n".join(lines)


def follow_title(result: FollowedLogs) -> str:
    count = f"{result.lines} line{'s' * (result.lines != 1)}"
    if result.ended is None:
        return f"following the logs of {result.container} ({count} so far)"
    return f"stopped following the logs of {result.container} ({count}): {result.ended}"


@to_text.register
def _follow(result: FollowedLogs) -> str:
    return "\n".join([follow_title(result), *([mask_text(result.text.rstrip("\n"))] if result.text else [])])


@to_text.register
def _service(result: ServiceDetails) -> str:
    lines = [f"Service {result.name}"]
    lines += [f"{label + ':':<17}{value}" for label, value in service_facts(result)]
    lines += _pairs_block("Env", result.env)
    lines += _pairs_block("Labels", result.labels)
    return "\n".join(lines)


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


@to_text.register
def _alert(result: Alert) -> str:
    lines = [
        alert_headline(result),
        f"engine: {result.engine}   image: {result.image}   id: {result.short_id}",
        f"when: {result.at.strftime('%Y-%m-%d %H:%M:%S')} UTC   state: {result.state or 'gone'}"
        + (f"   restarts: {result.restart_count}" if result.restart_count is not None else ""),
    ]
    if result.log_lines:
        lines += [f"last {result.log_lines} log lines:", mask_text(result.logs.rstrip("\n")) or "(no output)"]
    return "\n".join(lines)


# -- several engines ----------------------------------------------------------------


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


@to_text.register
def _contexts(result: ContextTable) -> str:
    return "\n".join(context_rows(result))


@to_text.register
def _from_engine(result: FromEngine) -> str:
    return f"{result.engine} · {to_text(result.result)}" if result.titled else to_text(result.result)


def fleet_notes(result: FleetAnswer) -> list[str]:
    """The engines missing from a several-engine answer, one line each, shared by both renderers."""
    notes = [f"{miss.engine}: {mask_values(miss.reason)}" for miss in result.unanswered]
    if result.left_out:
        notes.append(f"left out (your role does not allow this there): {', '.join(result.left_out)}")
    return notes


@to_text.register
def _fleet(result: FleetAnswer) -> str:
    if result.merged is not None:
        body = [to_text(result.merged)]
    else:
        body = [f"== {part.engine} ==\n{to_text(part.result)}" for part in result.parts]
    return "\n\n".join([*body, *(["\n".join(fleet_notes(result))] if fleet_notes(result) else [])])
