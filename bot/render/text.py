"""Result -> terminal text, laid out like the docker CLI's own output."""

from functools import singledispatch

from bot.render.format import ago, aligned, size, state_emoji
from bot.results import (
    Alert,
    AuditTrail,
    ConfirmationRequest,
    ContainerDetails,
    ContainerTable,
    ContextTable,
    Failure,
    FleetAnswer,
    FromEngine,
    HelpText,
    Identity,
    ImageDetails,
    ImageTable,
    LogText,
    Notice,
    Outcomes,
    PolicySummary,
    PullDone,
    PullProgress,
    Result,
    RunDone,
)
from bot.secrets import masked


@singledispatch
def to_text(result: Result) -> str:
    raise TypeError(f"no text renderer for {type(result).__name__}")


@to_text.register
def _failure(result: Failure) -> str:
    return f"error: {result.reason}" + (f" — usage: {result.usage.strip('`')}" if result.usage else "")


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
    return " ".join(words) if words else "—"


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
        (r.short_id, r.image, f'"{r.command[:20]}"', r.status, ", ".join(r.ports), f"{state_emoji(r.state)} {r.name}")
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
    note = f"(output truncated, last {result.lines} lines shown)\n" if result.truncated else ""
    return note + (result.text.rstrip("\n") or f"no output from {result.container}")


@to_text.register
def _outcomes(result: Outcomes) -> str:
    return "\n".join(
        f"{outcome.target}: {result.verb}" if outcome.ok else f"{outcome.target}: error: {outcome.detail}"
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
        lines.append(result.output.rstrip("\n") or "(no output)")
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


def alert_headline(result: Alert) -> str:
    """`web1 died with exit code 3`, `web1 died 4 times in 6 min, last exit code 3`, `✅ … (resolved: …)`."""
    what = result.what
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
        lines += [f"last {result.log_lines} log lines:", result.logs.rstrip("\n") or "(no output)"]
    return "\n".join(lines)


# -- several engines ----------------------------------------------------------------


def context_rows(result: ContextTable) -> list[str]:
    """`docker context ls`-like columns, shared by both renderers."""
    rows = [
        (
            f"{row.name}{' *' if row.default else ''}",
            row.host,
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
    return f"{result.engine} · {to_text(result.result)}"


def fleet_notes(result: FleetAnswer) -> list[str]:
    """The engines missing from a several-engine answer, one line each, shared by both renderers."""
    notes = [f"{miss.engine}: {miss.reason}" for miss in result.unanswered]
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
