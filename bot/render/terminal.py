"""Result -> terminal text, laid out like the docker CLI's own output."""

from functools import singledispatch

from bot.render import compose_lines, swarm_lines
from bot.render.format import ago, aligned, decimal_size, shorten, size, state_emoji
from bot.render.freeze_lines import freeze_lines, freeze_title, silence_lines, silence_title
from bot.render.lines import (
    STATS_HEADER,
    alert_headline,
    audit_table,
    change_lines,
    context_rows,
    disk_details,
    disk_summary,
    event_line,
    events_title,
    exec_summary,
    fleet_notes,
    follow_title,
    identity_lines,
    info_pairs,
    policy_lines,
    port_empty,
    process_lines,
    run_summary,
    service_facts,
    stats_cells,
    stats_empty,
    stats_problems,
    version_lines,
)
from bot.render.preview_lines import preview_change_lines, preview_target_lines, preview_title, verdict_line
from bot.render.update_lines import (
    UPDATES_HEADER,
    alert_cells,
    answered_rows,
    problem_lines,
    update_cells,
    update_line,
    updates_alert_title,
    updates_title,
)
from bot.render.volume_lines import member_lines, network_facts, network_lines, volume_empty, volume_facts, volume_lines
from bot.results import (
    Alert,
    ApprovalRequest,
    ApprovalWaiting,
    AuditTrail,
    ComposeProcesses,
    ComposeProgress,
    ComposeProjectTable,
    ConfirmationRequest,
    ContainerDetails,
    ContainerTable,
    ContextTable,
    Convergences,
    DiskUsage,
    EngineInfo,
    EngineVersion,
    EventList,
    ExecDone,
    Failure,
    FileChanges,
    FleetAnswer,
    FollowedLogs,
    FreezeList,
    FromEngine,
    HelpText,
    Identity,
    ImageDetails,
    ImageTable,
    LayerHistory,
    LogText,
    NetworkDetails,
    NetworkTable,
    NodeTable,
    Notice,
    Outcomes,
    PolicySummary,
    PortList,
    Preview,
    ProcessTable,
    PullDone,
    PullProgress,
    Result,
    RunDone,
    ServiceDetails,
    ServiceProgress,
    ServiceTable,
    SilenceList,
    StackTable,
    StatsTable,
    TaskTable,
    UpdateOutcomes,
    UpdatesAlert,
    UpdateTable,
    VolumeDetails,
    VolumeTable,
)
from bot.secrets import mask_text, mask_values, masked


@singledispatch
def to_text(result: Result) -> str:
    raise TypeError(f"no text renderer for {type(result).__name__}")


def _words(words: tuple[str, ...] | None) -> str:
    return mask_text(" ".join(words)) if words else "—"


def _pairs_block(title: str, pairs: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"{title}:", *(f"  {name}={masked(name, value)}" for name, value in pairs)] if pairs else [f"{title}: —"]


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


HISTORY_CREATED_BY_WIDTH = 45  # as `docker history` cuts it, unless --no-trunc


@to_text.register
def _history(result: LayerHistory) -> str:
    """Like `docker history`: IMAGE, CREATED, CREATED BY, SIZE, COMMENT; build steps masked like env."""
    rows = [
        (
            layer.short_id,
            ago(layer.created),
            mask_text(" ".join(layer.created_by.split()))
            if result.full
            else shorten(mask_text(" ".join(layer.created_by.split())), HISTORY_CREATED_BY_WIDTH),
            size(layer.size),
            mask_text(layer.comment),
        )
        for layer in result.layers
    ]
    return "\n".join(aligned(("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"), rows))


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
    if result.preview is not None:
        lines += _preview_body(result.preview)
    lines.append(f"confirming runs {result.command} — nothing was done yet; add --yes to confirm")
    return "\n".join(lines)


def _preview_body(preview: Preview) -> list[str]:
    lines = ["targets:", *(f"  {line}" for line in preview_target_lines(preview))] if preview.targets else []
    return lines + (["would:", *(f"  {line}" for line in preview_change_lines(preview))] if preview.changes else [])


@to_text.register
def _preview(result: Preview) -> str:
    return "\n".join([preview_title(result), *_preview_body(result), verdict_line(result.verdict)])


def _approval_lines(result: ApprovalRequest) -> list[str]:
    needed = f"{result.needed} of " if result.needed > 1 else ""
    lines = [
        f"{result.requester} asks to run {mask_text(result.command)} on {result.engine}: {result.summary}",
        *(f"  {detail}" for detail in result.details),
    ]
    if result.changes:
        lines += ["the targets changed since the request (approve again):", *(f"  {c}" for c in result.changes)]
    lines.append(f"approvers: {needed}{', '.join(result.approvers)} ({result.why})")
    return lines


@to_text.register
def _approval_request(result: ApprovalRequest) -> str:
    if result.state == "pending":
        return "\n".join(["approval needed:", *_approval_lines(result)])
    by = f" by {result.decided_by}" if result.decided_by else ""
    reason = f": {result.reason}" if result.reason else ""
    return "\n".join([f"{result.state}{by}{reason}", *_approval_lines(result)])


@to_text.register
def _approval_waiting(result: ApprovalWaiting) -> str:
    request = result.request
    return "\n".join(
        [f"waiting for approval in Slack — nothing was done yet (request {request.id})", *_approval_lines(request)]
    )


@to_text.register
def _identity(result: Identity) -> str:
    return "\n".join([*identity_lines(result), *([result.note] if result.note else [])])


@to_text.register
def _policy(result: PolicySummary) -> str:
    return "\n".join([*policy_lines(result), *([result.note] if result.note else [])])


@to_text.register
def _audit(result: AuditTrail) -> str:
    whose = f" of {result.user}" if result.user else ""
    if not result.entries:
        return f"no audit records{whose}"
    return "\n".join([f"latest {len(result.entries)} audit records{whose}, newest first", *audit_table(result)])


@to_text.register
def _stats(result: StatsTable) -> str:
    if not result.rows:
        return stats_empty(result)
    table = aligned(STATS_HEADER, [stats_cells(row) for row in result.rows])
    return "\n".join([*table, *stats_problems(result)])


@to_text.register
def _top(result: ProcessTable) -> str:
    return "\n".join(process_lines(result)) or f"no processes in {result.container}"


@to_text.register
def _ports(result: PortList) -> str:
    return "\n".join(result.lines) or port_empty(result)


@to_text.register
def _changes(result: FileChanges) -> str:
    return change_lines(result).rstrip("\n") or f"no changes in {result.container}'s filesystem"


@to_text.register
def _disk(result: DiskUsage) -> str:
    lines = disk_summary(result)
    if result.verbose:
        for title, table in disk_details(result):
            lines += ["", f"{title}:", "", *table]
        lines += ["", f"Build cache usage: {decimal_size(result.build_cache, 4)}"]
    return "\n".join(lines)


@to_text.register
def _services(result: ServiceTable) -> str:
    if not result.rows:
        return f"no services in stack {result.stack}" if result.stack else "no services"
    return "\n".join(swarm_lines.service_lines(result))


@to_text.register
def _tasks(result: TaskTable) -> str:
    return "\n".join(swarm_lines.task_lines(result)) if result.rows else f"no tasks for {result.subject}"


@to_text.register
def _nodes(result: NodeTable) -> str:
    return "\n".join(swarm_lines.node_lines(result))


@to_text.register
def _stacks(result: StackTable) -> str:
    return "\n".join(swarm_lines.stack_lines(result)) if result.rows else "no stacks"


@to_text.register
def _service_progress(result: ServiceProgress) -> str:
    return swarm_lines.progress_line(result)


@to_text.register
def _convergences(result: Convergences) -> str:
    lines = []
    for item in result.items:
        lines.append(swarm_lines.convergence_line(item))
        if item.tasks:
            lines += [f"  {line}" for line in swarm_lines.task_lines(TaskTable(item.service, item.tasks))]
    return "\n".join(lines)


@to_text.register
def _info(result: EngineInfo) -> str:
    return "\n".join(["Server:", *(f" {label}: {value}" for label, value in info_pairs(result))])


@to_text.register
def _version(result: EngineVersion) -> str:
    return "\n".join(version_lines(result))


@to_text.register
def _events(result: EventList) -> str:
    note = ["(more happened: narrow with --since, --until or --filter)"] if result.cut else []
    return "\n".join([events_title(result), *note, *(event_line(event) for event in result.events)])


@to_text.register
def _exec(result: ExecDone) -> str:
    lines = [exec_summary(result).replace("`", "")]
    if result.output_truncated:
        lines.append("(output truncated, last lines shown)")
    lines.append(mask_text(result.output.rstrip("\n")) or "(no output)")
    return "\n".join(lines)


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


@to_text.register
def _freezes(result: FreezeList) -> str:
    title = freeze_title(result)
    return "\n".join((title, *freeze_lines(result))) if result.freezes else title


@to_text.register
def _silences(result: SilenceList) -> str:
    title = silence_title(result)
    return "\n".join((title, *silence_lines(result))) if result.silences else title


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
    if result.silenced:
        lines.append(f"🔕 {result.silenced}")
    return "\n".join(lines)


# -- volumes and networks -----------------------------------------------------------


@to_text.register
def _volumes(result: VolumeTable) -> str:
    return "\n".join(volume_lines(result)) if result.rows else volume_empty(result)


@to_text.register
def _volume(result: VolumeDetails) -> str:
    lines: list[str] = []
    for volume in result.volumes:
        lines += [f"Volume {volume.name}", *(f"{label + ':':<12} {value}" for label, value in volume_facts(volume))]
        lines += [*_pairs_block("Labels", volume.labels), *_pairs_block("Options", volume.options), ""]
    lines += [f"no such volume: {name}" for name in result.missing]
    return "\n".join(lines).rstrip("\n")


@to_text.register
def _networks(result: NetworkTable) -> str:
    return "\n".join(network_lines(result)) if result.rows else "no networks"


@to_text.register
def _network(result: NetworkDetails) -> str:
    lines = [f"Network {result.name}", *(f"{label + ':':<12} {value}" for label, value in network_facts(result))]
    lines += ["Containers:", *(f"  {line}" for line in member_lines(result))] if result.members else ["Containers: —"]
    lines += [*_pairs_block("Labels", result.labels), *_pairs_block("Options", result.options)]
    return "\n".join(lines)


# -- Compose projects -------------------------------------------------------------------


@to_text.register
def _compose_projects(result: ComposeProjectTable) -> str:
    return "\n".join(compose_lines.project_lines(result)) if result.rows else "no Compose projects"


@to_text.register
def _compose_processes(result: ComposeProcesses) -> str:
    parts = [f"{name}\n" + "\n".join(lines) for name, lines in compose_lines.container_processes(result)]
    return "\n\n".join(parts) or compose_lines.processes_empty(result)


@to_text.register
def _compose_progress(result: ComposeProgress) -> str:
    done = [_outcomes(Outcomes(verb=result.verb, outcomes=result.done))] if result.done else []
    return "\n".join([*done, compose_lines.progress_line(result) + " …"])


# -- several engines ----------------------------------------------------------------


@to_text.register
def _contexts(result: ContextTable) -> str:
    return "\n".join(context_rows(result))


@to_text.register
def _from_engine(result: FromEngine) -> str:
    return f"{result.engine} · {to_text(result.result)}" if result.titled else to_text(result.result)


@to_text.register
def _fleet(result: FleetAnswer) -> str:
    if result.merged is not None:
        body = [to_text(result.merged)]
    else:
        body = [f"== {part.engine} ==\n{to_text(part.result)}" for part in result.parts]
    return "\n\n".join([*body, *(["\n".join(fleet_notes(result))] if fleet_notes(result) else [])])


# -- image updates ------------------------------------------------------------------------------


@to_text.register
def _updates(result: UpdateTable) -> str:
    lines = [updates_title(result)]
    rows = answered_rows(result)
    if rows:
        header = ("ENGINE", *UPDATES_HEADER) if any(row.engine for row in rows) else UPDATES_HEADER
        lines += aligned(header, [update_cells(row) for row in rows])
    lines += [f"⚠️  {line}" for line in problem_lines(result)]
    return "\n".join(lines)


@to_text.register
def _update_outcomes(result: UpdateOutcomes) -> str:
    return "\n".join(update_line(update) for update in result.updates)


@to_text.register
def _updates_alert(result: UpdatesAlert) -> str:
    lines = [updates_alert_title(result)]
    rows = [row for row in result.rows if not row.problem]
    if rows:
        lines += aligned(UPDATES_HEADER, [alert_cells(row) for row in rows])
    lines += [f"⚠️  {line}" for line in problem_lines(result)]
    return "\n".join([*lines, f"checked {result.checked_at:%Y-%m-%d %H:%M} UTC"])
