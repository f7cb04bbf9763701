"""Result -> Slack message (Block Kit), within Slack's limits.

Buttons carry a docker command line as their value; a click is parsed and authorized like typed text,
with the clicker's identity, so nothing captured when the message was drawn is trusted.
"""

from dataclasses import replace
from datetime import UTC, datetime
from functools import singledispatch

from bot.render import compose_lines, kit, swarm_lines
from bot.render.format import ago, aligned, decimal_size, shorten, size, state_emoji
from bot.render.forms import COMPOSE, FORM_BUTTONS, OPEN_RESTART_FORM, OPEN_SCALE_FORM, SERVICE, FormTarget
from bot.render.freeze_lines import freeze_lines, freeze_title, silence_lines, silence_title
from bot.render.kit import (
    MAX_FIELDS,
    Attachment,
    Message,
    code_sections,
    context,
    escape,
    fields,
    fits_one_code_section,
    header,
    section,
)
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
    info_pairs,
    port_empty,
    process_lines,
    run_limits,
    run_summary,
    service_facts,
    stats_cells,
    stats_empty,
    stats_problems,
    version_lines,
)
from bot.render.preview_lines import preview_change_lines, preview_target_lines, preview_title, verdict_line
from bot.render.terminal import to_text
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
from bot.render.volume_lines import (
    member_lines,
    network_facts,
    network_lines,
    volume_empty,
    volume_facts,
    volume_lines,
    volume_title,
)
from bot.results import (
    NOT_UPDATED,
    ROLLED_BACK,
    TIMED_OUT,
    Alert,
    ApprovalRequest,
    ApprovalWaiting,
    AuditTrail,
    ComposeProcesses,
    ComposeProgress,
    ComposeProjectRow,
    ComposeProjectTable,
    ConfirmationRequest,
    ContainerDetails,
    ContainerRow,
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
    ServiceRow,
    ServiceTable,
    SilenceList,
    StackTable,
    StatsTable,
    TaskTable,
    UpdateOutcomes,
    UpdatesAlert,
    UpdateTable,
    VolumeDetails,
    VolumeFacts,
    VolumeTable,
)
from bot.secrets import mask_text, masked

BUTTON_ACTION_PREFIX = "shipmate.command"
# The buttons of a confirmation request; each carries the signed token as its value.
CONFIRM_ACTION = "shipmate.confirm"
CANCEL_ACTION = "shipmate.cancel"
# An approval request's buttons (each carries the request's id) and the modal asking why it is denied.
APPROVE_ACTION = "shipmate_approve"
DENY_ACTION = "shipmate_deny"
WITHDRAW_ACTION = "shipmate_withdraw"
DENY_REASON_CALLBACK = "shipmate_deny_reason"
DENY_REASON_BLOCK = "reason"
DENY_REASON_INPUT = "reason_text"
MAX_CONTAINER_ROWS = 20  # two blocks each (row + buttons) under the 50-block limit
MAX_SERVICE_ROWS = 20
MAX_PROJECT_ROWS = 20  # two blocks each (row + buttons), like containers
MAX_TOP_CONTAINERS = 15
MAX_IMAGE_ROWS = 100
INLINE_OUTPUT_LINES = 40
MAX_POLICY_ROLES = 30
MAX_CELL = 40  # container names and images wider than this are shortened in the rows


@singledispatch
def to_message(result: Result) -> Message:
    raise TypeError(f"no Block Kit renderer for {type(result).__name__}")


def command_button(label: str, command: str, style: str | None = None) -> dict:
    # action_id must be unique within a block; the command line is.
    return kit.button(label, f"{BUTTON_ACTION_PREFIX}:{command}"[:255], command, style)


def form_button(label: str, action_id: str, target: FormTarget) -> dict:
    """A button that opens a form (Scale…, Restart…) for its row's service or project."""
    return kit.button(label, action_id, target.value)


def _bound(element: dict, engine: str) -> dict:
    action_id = element.get("action_id", "")
    if action_id.startswith(BUTTON_ACTION_PREFIX):
        return command_button(element["text"]["text"], f"--context {engine} {element['value']}", element.get("style"))
    target = FormTarget.parse(element.get("value", "")) if action_id in FORM_BUTTONS else None
    if target is not None and target.engine is None:
        return {**element, "value": replace(target, engine=engine).value}
    return element


def on_engine(engine: str, blocks: list[dict]) -> list[dict]:
    """The same blocks with every command button (and form button) acting on `engine` (`--context ENGINE …`)."""
    bound = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [_bound(element, engine) for element in block["elements"]]
            block = {**block, "elements": elements}
            if "block_id" in block:
                block["block_id"] = f"{engine}:{block['block_id']}"[:255]
        bound.append(block)
    return bound


def container_buttons(name: str, state: str, engine: str = "") -> dict:
    running = state in ("running", "restarting", "paused")
    buttons = [command_button("📜 Logs", f"logs {name}")]
    if running:
        buttons += [command_button("🔄 Restart", f"restart {name}"), command_button("⏹️ Stop", f"stop {name}")]
    else:
        buttons.append(command_button("▶️ Start", f"start {name}"))
    buttons.append(command_button("🗑️ Remove", f"rm -f {name}" if running else f"rm {name}", "danger"))
    block = kit.actions(f"container:{name}", *buttons)
    return on_engine(engine, [block])[0] if engine else block


@to_message.register
def _failure(result: Failure) -> Message:
    blocks = [section(f"❌ {escape(result.reason)}")]
    if result.usage:
        blocks.append(context(f"usage: {escape(result.usage)}"))
    return Message(text=f"❌ {result.reason}", blocks=blocks, is_error=True)


@to_message.register
def _help(result: HelpText) -> Message:
    """Every command, in as many sections as it takes (one holds at most 3000 characters)."""
    sections: list[list[str]] = [[]]
    for entry in result.entries:
        line = f"{escape(entry.usage)} — {escape(entry.summary)}"
        if sections[-1] and sum(len(item) + 1 for item in sections[-1]) + len(line) > kit.MAX_SECTION_TEXT:
            sections.append([])
        sections[-1].append(line)
    return Message(text=result.title, blocks=[header(result.title), *(section("\n".join(s)) for s in sections)])


@to_message.register
def _images(result: ImageTable) -> Message:
    if not result.rows:
        text = f"no images match `{result.reference}`" if result.reference else "no images"
        return Message(text=text, blocks=[section(escape(text))])
    shown = result.rows[:MAX_IMAGE_ROWS]
    header = ("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")
    rows = [(r.repository, r.tag, r.short_id, ago(r.created), size(r.size)) for r in shown]
    if any(r.engine for r in shown):
        header, rows = ("ENGINE", *header), [(r.engine, *row) for r, row in zip(shown, rows, strict=True)]
    table = "\n".join(aligned(header, rows))
    blocks, lines_shown = code_sections(table, max_blocks=10, keep="head")
    hidden = len(result.rows) - (lines_shown - 1)  # the first line is the header
    title = f"{len(result.rows)} image{'s' * (len(result.rows) != 1)}" + _per_engine(result.per_engine, hidden > 0)
    notes = [f"… and {hidden} more"] if hidden > 0 else []
    return Message(text=title, blocks=[section(f"*{title}*"), *blocks, *([context(*notes)] if notes else [])])


def _per_engine(per_engine: tuple[tuple[str, int], ...], cut: bool) -> str:
    """` (local 3 · prod-1 253 · prod-2 252)`: the rows each engine gave, for the title of a table merged from
    several engines and cut short (the first engines' rows fill what is shown)."""
    if not cut or not per_engine:
        return ""
    return f" ({escape(' · '.join(f'{engine} {count}' for engine, count in per_engine))})"


def _row_line(row: ContainerRow, widths: tuple[int, int, int, int]) -> str:
    engine_w, name_w, image_w, status_w = widths
    ports = ", ".join(row.ports)
    name, image = shorten(row.name, MAX_CELL), shorten(row.image, MAX_CELL)
    engine = f"{row.engine:<{engine_w}}  " if engine_w else ""
    line = f"{engine}{name:<{name_w}}  {image:<{image_w}}  {row.status:<{status_w}}  {ports}".rstrip()
    return f"{state_emoji(row.state)} `{escape(line)}`  `{row.short_id}`"


@to_message.register
def _containers(result: ContainerTable) -> Message:
    if not result.rows:
        text = "no containers" if result.all else "no running containers (`/ps -a` shows stopped ones too)"
        return Message(text=text, blocks=[section(text)])
    shown = result.rows[:MAX_CONTAINER_ROWS]
    widths = (
        max(len(r.engine) for r in shown),
        max(len(shorten(r.name, MAX_CELL)) for r in shown),
        max(len(shorten(r.image, MAX_CELL)) for r in shown),
        max(len(r.status) for r in shown),
    )
    count = len(result.rows)
    title = f"{count} {'' if result.all else 'running '}container{'s' * (count != 1)}"
    title += _per_engine(result.per_engine, count > len(shown))
    columns = "engine · name · image · status · ports · id" if widths[0] else "name · image · status · ports · id"
    blocks = [section(f"*{title}*  ·  {columns}")]
    for row in shown:
        blocks.append(section(_row_line(row, widths)))
        blocks.append(container_buttons(row.name, row.state, row.engine))
    if count > len(shown):
        blocks.append(context(f"… and {count - len(shown)} more: narrow with `/ps -f name=…` or `/ps -f status=…`"))
    return Message(text=title, blocks=blocks)


def _listing(lines: list[str], max_blocks: int) -> list[dict]:
    """One item per line in monospace, and a count of the items that did not fit."""
    # An item keeps to its line (a value may hold line breaks); an empty one stays a line.
    items = [line.replace("\n", "\\n") or " " for line in lines]
    blocks, shown = code_sections("\n".join(items), max_blocks=max_blocks, keep="head")
    hidden = len(items) - shown
    return [*blocks, context(f"… and {hidden} more")] if hidden > 0 else blocks


def _pairs(pairs: tuple[tuple[str, str], ...], max_blocks: int) -> list[dict]:
    """KEY=VALUE lines with secret-looking values masked."""
    return _listing([f"{name}={masked(name, value)}" for name, value in pairs] or ["(none)"], max_blocks)


def _words(words: tuple[str, ...] | None) -> str:
    return f"`{escape(mask_text(' '.join(words)))}`" if words else "—"


@to_message.register
def _history(result: LayerHistory) -> Message:
    count = len(result.layers)
    title = f"{result.image}: {count} layer{'s' * (count != 1)}"
    return _table_message(title, to_text(result).split("\n"), f"{result.image} has no history")


@to_message.register
def _image(result: ImageDetails) -> Message:
    name = ", ".join(result.tags) or result.short_id
    blocks = [
        header(f"🖼️ {name}"),
        fields(
            [
                ("ID", f"`{result.short_id}`"),
                ("Created", ago(result.created)),
                ("Size", size(result.size)),
                ("OS/Arch", escape(f"{result.os}/{result.architecture}")),
                ("Cmd", _words(result.cmd)),
                ("Entrypoint", _words(result.entrypoint)),
                ("WorkingDir", escape(result.working_dir) or "—"),
                ("ExposedPorts", escape(", ".join(result.exposed_ports)) or "—"),
            ]
        ),
        section("*Env*"),
        *_pairs(result.env, max_blocks=2),
    ]
    if result.labels:
        blocks += [section("*Labels*"), *_pairs(result.labels, max_blocks=1)]
    return Message(text=f"image {name}", blocks=blocks)


@to_message.register
def _container(result: ContainerDetails) -> Message:
    blocks = [
        header(f"{state_emoji(result.state)} {result.name}"),
        fields(
            [
                ("State", escape(result.status_detail)),
                ("Image", f"`{escape(result.image)}`"),
                ("ID", f"`{result.short_id}`"),
                ("Created", ago(result.created)),
                ("Cmd", _words(result.cmd)),
                ("Ports", escape(", ".join(result.ports)) or "—"),
                ("Restarts", str(result.restart_count)),
                ("Health", escape(result.health or "—")),
                *([("Owner", _mention(result.owner))] if result.owner else []),
            ]
        ),
        section("*Env*"),
        *_pairs(result.env, max_blocks=2),
        container_buttons(result.name, result.state),
    ]
    return Message(text=f"container {result.name}: {result.status_detail}", blocks=blocks)


def _output_blocks(output: str, filename: str, title: str) -> tuple[list[dict], Attachment | None]:
    """Short output inline; else its tail inline and all of it as a file (a line cut short counts as long)."""
    output = mask_text(output)
    lines = output.rstrip("\n").split("\n")
    if len(lines) <= INLINE_OUTPUT_LINES and fits_one_code_section(output):
        return code_sections(output or "(no output)", max_blocks=1)[0], None
    blocks, shown = code_sections("\n".join(lines[-INLINE_OUTPUT_LINES:]), max_blocks=1, keep="tail")
    note = context(f"output truncated, last {shown} lines shown — the full output is attached as `{escape(filename)}`")
    return [*blocks, note], Attachment(filename=filename, content=output, title=title)


LOGS_CAPPED = "output capped by size: narrow it with `--tail N` or `--since`"


@to_message.register
def _logs(result: LogText) -> Message:
    if not result.text:
        text = f"no output from {result.container}"
        return Message(text=text, blocks=[section(f"📜 {escape(text)}")])
    blocks, attachment = _output_blocks(result.text, f"{result.container}.log", f"logs of {result.container}")
    notes = [context(LOGS_CAPPED)] if result.truncated else []
    title = f"📜 logs of *{escape(result.container)}* ({result.lines} lines)"
    return Message(text=f"logs of {result.container}", blocks=[section(title), *blocks, *notes], attachment=attachment)


@to_message.register
def _outcomes(result: Outcomes) -> Message:
    lines = [
        f"✅ `{escape(o.target)}` {result.verb}" if o.ok else f"❌ `{escape(o.target)}`: {escape(o.detail)}"
        for o in result.outcomes
    ]
    return Message(text=to_text(result), blocks=[section("\n".join(lines))], is_error=not result.all_ok)


@to_message.register
def _pulled(result: PullDone) -> Message:
    icon = "✅" if result.updated else "👌"
    return Message(text=to_text(result), blocks=[section(f"{icon} {escape(to_text(result))}")])


def progress_bar(percent: int, width: int = 20) -> str:
    filled = round(width * max(0, min(percent, 100)) / 100)
    return "▓" * filled + "░" * (width - filled)


@to_message.register
def _progress(result: PullProgress) -> Message:
    line = f"⏳ pulling `{escape(result.reference)}`  {progress_bar(result.percent)} {result.percent}%"
    detail = f"{result.layers_done}/{result.layers_total} layers"
    return Message(text=to_text(result), blocks=[section(line), context(detail)])


@to_message.register
def _run(result: RunDone) -> Message:
    summary = run_summary(result)
    ok = result.detached or (result.exit_code == 0 and result.timed_out_after is None)
    blocks = [
        section(f"{'🚀' if result.detached else ('✅' if ok else '⚠️')} {escape(summary)}"),
        fields(
            [
                ("Name", f"`{escape(result.name)}`"),
                ("ID", f"`{result.short_id}`"),
                ("Image", f"`{escape(result.image)}`"),
                ("State", f"{state_emoji(result.state)} {escape(result.state)}"),
                *([("Ports", escape(", ".join(result.ports)))] if result.ports else []),
                *([("Exit code", str(result.exit_code))] if result.exit_code is not None else []),
            ]
        ),
    ]
    attachment = None
    if not result.detached:
        output_blocks, attachment = _output_blocks(result.output, f"{result.name}.out", f"output of {result.name}")
        blocks += output_blocks
    if result.pulled:
        blocks.append(context(f"pulled `{escape(result.image)}` first"))
    if not result.removed:
        blocks.append(container_buttons(result.name, result.state))
    return Message(text=summary, blocks=blocks, attachment=attachment)


@to_message.register
def _notice(result: Notice) -> Message:
    blocks = [section(f"*{escape(result.title)}*")]
    if result.lines:
        blocks += _listing(list(result.lines), max_blocks=5)
    return Message(text=result.title, blocks=blocks)


@to_message.register
def _confirmation(result: ConfirmationRequest) -> Message:
    blocks = [section(f"⚠️ *Confirm:* {escape(result.summary)}")]
    if result.details:
        blocks.append(section("\n".join(f"• {escape(detail)}" for detail in result.details)))
    if result.preview is not None:
        blocks += _preview_blocks(result.preview)
    minutes = max(1, round(result.expires_in / 60))
    blocks.append(context(f"Confirm runs `{escape(result.command)}` · only you can confirm · expires in {minutes} min"))
    blocks.append(
        kit.actions(
            "shipmate.confirmation",
            kit.button("Confirm", CONFIRM_ACTION, result.token, "danger"),
            kit.button("Cancel", CANCEL_ACTION, result.token),
        )
    )
    return Message(text=f"Confirm: {result.summary}", blocks=blocks)


def _preview_blocks(preview: Preview) -> list[dict]:
    """The targets and what would be done, as a dry run and a confirmation request both show them."""
    blocks = []
    if preview.targets:
        blocks.append(section("*Targets*\n" + "\n".join(f"• {escape(line)}" for line in preview_target_lines(preview))))
    if preview.changes:
        blocks.append(section("*Would*\n" + "\n".join(f"• {escape(line)}" for line in preview_change_lines(preview))))
    return blocks


@to_message.register
def _preview(result: Preview) -> Message:
    title = preview_title(result)
    blocks = [section(escape(title)), *_preview_blocks(result), section(escape(verdict_line(result.verdict)))]
    return Message(text=title, blocks=blocks)


def _who(ids: tuple[str, ...]) -> str:
    """Users and user groups as Slack mentions."""
    return ", ".join(
        f"<!subteam^{item}>" if item.startswith("S") and item.isalnum() else _mention(item) for item in ids
    )


_ENDED = {
    "approved": "✅ Approved by {by}: it ran as the requester",
    "denied": "🚫 Denied by {by}",
    "withdrawn": "↩️ Withdrawn by {by}: nothing ran",
    "expired": "⌛ Expired: nothing ran — the requester can ask again",
}


@to_message.register
def _approval_request(result: ApprovalRequest) -> Message:
    """The request in its channel: who, the exact command, the engine, what it would do, and its buttons while
    it waits (or how it ended)."""
    blocks = [
        section(
            f"🔐 *Approval needed:* {_mention(result.requester)} asks to run `{escape(mask_text(result.command))}`"
        ),
        section(f"on `{escape(result.engine)}`: {escape(result.summary)}"),
    ]
    if result.details:
        blocks.append(section("\n".join(f"• {escape(detail)}" for detail in result.details)))
    if result.changes:
        changed = "\n".join(f"• {escape(change)}" for change in result.changes)
        blocks.append(
            section(f"⚠️ *The targets changed since the request* — approve again to run it on them:\n{changed}")
        )
    needed = f"{result.needed} of " if result.needed > 1 else ""
    so_far = f" · yes so far: {_who(result.approved_by)}" if result.approved_by and result.state == "pending" else ""
    expires = datetime.fromtimestamp(result.expires_at, UTC).strftime("%H:%M UTC")
    blocks.append(
        context(f"approvers: {needed}{_who(result.approvers)}{so_far} · expires {expires} · {escape(result.why)}")
    )
    if result.state == "pending":
        blocks.append(
            kit.actions(
                f"approval:{result.id}",
                kit.button("Approve", APPROVE_ACTION, result.id, "primary"),
                kit.button("Deny", DENY_ACTION, result.id, "danger"),
            )
        )
        return Message(text=f"Approval needed: {mask_text(result.command)}", blocks=blocks)
    ended = _ENDED.get(result.state, result.state).format(by=_who(tuple(result.decided_by.split(","))))
    blocks.append(section(ended + (f": {escape(result.reason)}" if result.reason else "")))
    return Message(text=f"{result.state}: {mask_text(result.command)}", blocks=blocks)


@to_message.register
def _approval_waiting(result: ApprovalWaiting) -> Message:
    request = result.request
    where = f" in <#{result.channel}>" if result.channel.isalnum() else ""
    needed = f"{request.needed} of " if request.needed > 1 else ""
    blocks = [
        section(
            f"🔐 Waiting for approval from {needed}{_who(request.approvers)}{where}: `{escape(mask_text(request.command))}`"
        ),
        context(f"nothing runs before that · on `{escape(request.engine)}` · {escape(request.summary)}"),
        kit.actions(f"approval-wait:{request.id}", kit.button("Withdraw", WITHDRAW_ACTION, request.id)),
    ]
    return Message(text=f"Waiting for approval: {mask_text(request.command)}", blocks=blocks)


def approved_by(message: Message, approvers: tuple[str, ...]) -> Message:
    """A result that ran on approval, naming who approved it."""
    return replace(message, blocks=[*message.blocks[:48], context(f"✅ approved by {_who(approvers)}")])


def deny_reason_view(request_id: str) -> dict:
    """The modal a Deny click opens: why, in a sentence; its submission denies the request."""
    return {
        "type": "modal",
        "callback_id": DENY_REASON_CALLBACK,
        "private_metadata": request_id,
        "title": {"type": "plain_text", "text": "Deny the request"},
        "submit": {"type": "plain_text", "text": "Deny"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            section("The command will not run, and the requester is told why."),
            {
                "type": "input",
                "block_id": DENY_REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": DENY_REASON_INPUT, "max_length": 500},
            },
        ],
    }


def _mention(user_id: str) -> str:
    """A Slack mention for a user id; anything else (an owner label set outside Shipmate) as escaped text."""
    return f"<@{user_id}>" if user_id[:1] in ("U", "W") and user_id.isalnum() else f"`{escape(user_id)}`"


@to_message.register
def _identity(result: Identity) -> Message:
    granted = ", ".join(result.granted_by)
    pairs = [
        ("User", f"{_mention(result.user_id)} `{escape(result.user_id)}`"),
        ("Role", escape(" and ".join(result.roles)) or "none"),
        *([("From", f"`{escape(granted)}`")] if granted else []),
        *(
            [("Channel", f"`{escape(result.channel_id)}`" + ("" if result.channel_allowed else " (not here)"))]
            if result.channel_id
            else []
        ),
        *([("Team", f"`{escape(result.team_id)}`")] if result.team_id else []),
    ]
    actions = " ".join(f"`{escape(action)}`" for action in result.actions) or "only `help` and `whoami`"
    blocks = [section("👤 *whoami*"), fields(pairs), section(f"*May do:* {actions}")]
    if result.per_engine:
        lines = [
            f"`{escape(engine)}`: {escape(' and '.join(roles)) or 'no role'}" for engine, roles in result.per_engine
        ]
        blocks.append(section("*Roles per engine*\n" + "\n".join(lines)))
    if result.grants:
        blocks.append(section("*Temporary grants*\n" + "\n".join(f"• {escape(grant)}" for grant in result.grants)))
    if result.note:
        blocks.append(context(escape(result.note)))
    return Message(text=f"you are {result.user_id}: {' and '.join(result.roles) or 'no role'}", blocks=blocks)


@to_message.register
def _policy(result: PolicySummary) -> Message:
    title = f"📜 *policy* `{escape(result.path)}`"
    if result.loaded_at is None:
        blocks = [section(f"{title}\nno policy file: Slack users may use only `help` and `whoami`")]
    else:
        blocks = [section(f"{title} · loaded {ago(result.loaded_at)}")]
        for role in result.roles[:MAX_POLICY_ROLES]:
            members = ", ".join(f"`{escape(member)}`" for member in role.members) or "nobody"
            actions = " ".join(f"`{escape(action)}`" for action in role.actions) or "nothing"
            blocks.append(section(f"*{escape(role.name)}* — {members}\n{actions}"))
        if len(result.roles) > MAX_POLICY_ROLES:
            blocks.append(
                context(
                    f"… and {len(result.roles) - MAX_POLICY_ROLES} more roles: `shipmate local '/docker policy'` lists all"
                )
            )
        channels = ", ".join(f"`{escape(c)}`" for c in result.channels) if result.channels is not None else "any"
        images = ", ".join(f"`{escape(i)}`" for i in result.images) if result.images is not None else "any"
        blocks.append(fields([("Channels", channels), ("Images", images), ("Run limits", escape(run_limits(result)))]))
    if result.problem:
        blocks.append(section(f"⚠️ {escape(result.problem)}"))
    if result.note:
        blocks.append(context(escape(result.note)))
    return Message(text=f"policy {result.path}", blocks=blocks)


@to_message.register
def _audit(result: AuditTrail) -> Message:
    whose = f" of {result.user}" if result.user else ""
    if not result.entries:
        text = f"no audit records{whose}"
        return Message(text=text, blocks=[section(escape(text))])
    title = f"🧾 latest {len(result.entries)} audit records{whose}, newest first"
    table, lines_shown = code_sections("\n".join(audit_table(result)), max_blocks=10, keep="head")
    hidden = len(result.entries) - (lines_shown - 1)  # the first line is the header
    notes = [context(f"… and {hidden} more")] if hidden > 0 else []
    return Message(text=title, blocks=[section(f"*{escape(title)}*"), *table, *notes])


def _table(lines: list[str], max_blocks: int) -> list[dict]:
    """A docker-style table in monospace; the rows that did not fit are counted (the first line is the header)."""
    blocks, shown = code_sections("\n".join(lines), max_blocks=max_blocks, keep="head")
    hidden = len(lines) - shown
    return [*blocks, context(f"… and {hidden} more")] if hidden > 0 else blocks


@to_message.register
def _stats(result: StatsTable) -> Message:
    if not result.rows:
        text = stats_empty(result)
        return Message(text=text, blocks=[section(escape(text))])
    count = len(result.rows)
    title = f"📊 {count} container{'s' * (count != 1)}, one sample"
    cells = [stats_cells(row) for row in result.rows]
    blocks = [section(f"*{title}*"), *_table(aligned(STATS_HEADER, cells), max_blocks=10)]
    problems = stats_problems(result)
    if problems:
        blocks += _listing(problems, max_blocks=2)
    return Message(text=title, blocks=blocks, is_error=len(problems) == count)


@to_message.register
def _top(result: ProcessTable) -> Message:
    lines = process_lines(result)
    if not lines:
        text = f"no processes in {result.container}"
        return Message(text=text, blocks=[section(escape(text))])
    count = len(result.processes)
    title = f"⚙️ {count} process{'es' * (count != 1)} in *{escape(result.container)}*"
    return Message(text=f"processes in {result.container}", blocks=[section(title), *_table(lines, max_blocks=10)])


@to_message.register
def _ports(result: PortList) -> Message:
    if not result.lines:
        text = port_empty(result)
        return Message(text=text, blocks=[section(f"🔌 {escape(text)}")])
    asked = f" `{escape(result.private_port)}`" if result.private_port else ""
    title = f"🔌 ports of *{escape(result.container)}*{asked}"
    return Message(text=f"ports of {result.container}", blocks=[section(title), *_listing(list(result.lines), 2)])


@to_message.register
def _changes(result: FileChanges) -> Message:
    if not result.changes:
        text = f"no changes in {result.container}'s filesystem"
        return Message(text=text, blocks=[section(f"🗂️ {escape(text)}")])
    count = len(result.changes)
    title = (
        f"🗂️ {count} changed path{'s' * (count != 1)} in *{escape(result.container)}* (A added, C changed, D deleted)"
    )
    blocks, attachment = _output_blocks(change_lines(result), f"{result.container}.diff", f"diff of {result.container}")
    return Message(text=f"changes in {result.container}", blocks=[section(title), *blocks], attachment=attachment)


@to_message.register
def _disk(result: DiskUsage) -> Message:
    title = "💽 disk usage"
    blocks = [section(f"*{title}*"), *code_sections("\n".join(disk_summary(result)), max_blocks=1, keep="head")[0]]
    if result.verbose:
        for heading, table in disk_details(result):
            blocks += [section(f"*{heading}*"), *_table(table, max_blocks=3)]
        blocks.append(context(f"Build cache usage: {decimal_size(result.build_cache, 4)}"))
    return Message(text=title, blocks=blocks)


@to_message.register
def _info(result: EngineInfo) -> Message:
    pairs = info_pairs(result)
    blocks = [
        header(f"🐳 Docker {result.server_version} on {result.name}"),
        fields([(label, escape(value) or "—") for label, value in pairs[:10]]),
        context(*(f"{escape(label)}: {escape(value)}" for label, value in pairs[10:])),
    ]
    return Message(text=f"Docker {result.server_version} on {result.name}", blocks=blocks)


@to_message.register
def _version(result: EngineVersion) -> Message:
    blocks = [section(f"🐳 *Docker {escape(result.version)}*"), *_table(version_lines(result), max_blocks=2)]
    return Message(text=f"Docker {result.version} (API {result.api_version})", blocks=blocks)


@to_message.register
def _events(result: EventList) -> Message:
    title = events_title(result)
    if not result.events:
        return Message(text=title, blocks=[section(f"🗓️ {escape(title)}")])
    lines = "".join(event_line(event) + "\n" for event in result.events)
    blocks, attachment = _output_blocks(lines, "events.txt", title)
    notes = [context("more happened: narrow with `--since`, `--until` or `--filter`")] if result.cut else []
    return Message(text=title, blocks=[section(f"🗓️ *{escape(title)}*"), *blocks, *notes], attachment=attachment)


@to_message.register
def _exec(result: ExecDone) -> Message:
    ok = result.exit_code == 0 and result.timed_out_after is None
    summary = exec_summary(result)
    blocks = [section(f"{'✅' if ok else '⚠️'} {escape(summary)}")]
    output_blocks, attachment = _output_blocks(
        result.output, f"{result.container}.exec.out", f"output of {result.command} in {result.container}"
    )
    if result.output_truncated:
        output_blocks.append(context("output capped by size: older lines were dropped"))
    return Message(text=summary.replace("`", ""), blocks=[*blocks, *output_blocks], attachment=attachment)


@to_message.register
def _follow(result: FollowedLogs) -> Message:
    """One message, redrawn as lines arrive: the newest lines that fit, and the Stop button while it follows."""
    title = follow_title(result)
    blocks = [section(f"📜 {escape(title)}")]
    if result.text:
        blocks += code_sections(mask_text(result.text), max_blocks=1, keep="tail")[0]
    else:
        blocks.append(context("no output yet" if result.ended is None else "no output"))
    if result.ended is None:
        blocks.append(
            kit.actions(
                f"follow:{result.follow_id}",
                command_button("⏹️ Stop following", f"unfollow {result.follow_id}", "danger"),
            )
        )
    return Message(text=title, blocks=blocks)


# -- Compose projects -------------------------------------------------------------------


def project_buttons(row: ComposeProjectRow) -> dict:
    """Restart (asks first when clicked, as typed), Logs and the Restart… form; on the row's engine in an answer
    from several."""
    block = kit.actions(
        f"compose:{row.name}",
        command_button("🔄 Restart", f"compose restart {row.name}"),
        command_button("📜 Logs", f"compose logs {row.name}"),
        form_button("🔄 Restart…", OPEN_RESTART_FORM, FormTarget(COMPOSE, row.name)),
    )
    return on_engine(row.engine, [block])[0] if row.engine else block


def _project_emoji(row: ComposeProjectRow) -> str:
    states = {part.partition("(")[0] for part in row.status.split(", ")}
    if states == {"running"}:
        return state_emoji("running")
    return "🟡" if "running" in states else state_emoji("exited")


@to_message.register
def _compose_projects(result: ComposeProjectTable) -> Message:
    if not result.rows:
        return Message(text="no Compose projects", blocks=[section("no Compose projects")])
    shown = result.rows[:MAX_PROJECT_ROWS]
    lines = compose_lines.project_lines(ComposeProjectTable(shown))
    count = len(result.rows)
    title = f"{count} Compose project{'s' * (count != 1)}" + _per_engine(result.per_engine, count > len(shown))
    blocks = [section(f"*{title}*"), section(f"`{escape(lines[0])}`")]
    for row, line in zip(shown, lines[1:], strict=True):
        blocks.append(section(f"{_project_emoji(row)} `{escape(line)}`"))
        blocks.append(project_buttons(row))
    if count > len(shown):
        blocks.append(context(f"… and {count - len(shown)} more: `/compose ps PROJECT` shows one"))
    return Message(text=title, blocks=blocks)


@to_message.register
def _compose_processes(result: ComposeProcesses) -> Message:
    tables = compose_lines.container_processes(result)
    if not tables:
        text = compose_lines.processes_empty(result)
        return Message(text=text, blocks=[section(escape(text))])
    title = f"⚙️ processes of project *{escape(result.project)}*"
    blocks = [section(title)]
    for name, lines in tables[:MAX_TOP_CONTAINERS]:
        blocks += [section(f"*{escape(name)}*"), *_table(lines, max_blocks=2)]
    if len(tables) > MAX_TOP_CONTAINERS:
        blocks.append(context(f"… and {len(tables) - MAX_TOP_CONTAINERS} more containers: `/docker top CONTAINER`"))
    return Message(text=f"processes of project {result.project}", blocks=blocks)


@to_message.register
def _compose_progress(result: ComposeProgress) -> Message:
    line = f"⏳ {escape(compose_lines.progress_line(result))} …"
    done = _outcomes(Outcomes(verb=result.verb, outcomes=result.done)).blocks if result.done else []
    return Message(text=to_text(result), blocks=[*done, section(line)])


# -- swarm ----------------------------------------------------------------------------


def service_buttons(row: ServiceRow) -> dict:
    """Tasks, Logs, Scale +1/−1 (replicated services), Rollback (when there is a previous spec), and the Scale…
    (replicated) and Restart… forms."""
    buttons = [
        command_button("📋 Tasks", f"service ps {row.name}"),
        command_button("📜 Logs", f"service logs {row.name}"),
    ]
    if row.mode == "replicated":
        buttons.append(command_button("➕ Scale +1", f"service scale {row.name}={row.desired + 1}"))
        if row.desired > 0:
            buttons.append(command_button("➖ Scale −1", f"service scale {row.name}={row.desired - 1}"))
    if row.has_previous:
        buttons.append(command_button("↩️ Rollback", f"service rollback {row.name}"))
    target = FormTarget(SERVICE, row.name)
    if row.mode == "replicated":
        buttons.append(form_button("🔢 Scale…", OPEN_SCALE_FORM, target))
    buttons.append(form_button("🔄 Restart…", OPEN_RESTART_FORM, target))
    return kit.actions(f"service:{row.name}", *buttons)


def _service_emoji(row: ServiceRow) -> str:
    if row.desired == 0:
        return "⚪"
    return "🟢" if row.running >= row.desired else ("🟡" if row.running else "🔴")


@to_message.register
def _services(result: ServiceTable) -> Message:
    if not result.rows:
        text = f"no services in stack `{result.stack}`" if result.stack else "no services"
        return Message(text=text, blocks=[section(escape(text))])
    shown = result.rows[:MAX_SERVICE_ROWS]
    lines = swarm_lines.service_lines(ServiceTable(shown))
    count = len(result.rows)
    where = f" in stack `{escape(result.stack)}`" if result.stack else ""
    title = f"{count} service{'s' * (count != 1)}{where}"
    blocks = [section(f"*{title}*"), section(f"`{escape(lines[0])}`")]
    for row, line in zip(shown, lines[1:], strict=True):
        blocks.append(section(f"{_service_emoji(row)} `{escape(line)}`"))
        blocks.append(service_buttons(row))
    if count > len(shown):
        blocks.append(context(f"… and {count - len(shown)} more: narrow with `/service ls -f name=…`"))
    return Message(text=title.replace("`", ""), blocks=blocks)


def _table_message(title: str, lines: list[str], empty: str) -> Message:
    if len(lines) <= 1:
        return Message(text=empty, blocks=[section(escape(empty))])
    blocks, shown = code_sections("\n".join(lines), max_blocks=10, keep="head")
    hidden = len(lines) - shown
    notes = [context(f"… and {hidden} more")] if hidden > 0 else []
    return Message(text=title, blocks=[section(f"*{escape(title)}*"), *blocks, *notes])


@to_message.register
def _tasks(result: TaskTable) -> Message:
    count = len(result.rows)
    title = f"{count} task{'s' * (count != 1)} of {result.subject}"
    return _table_message(title, swarm_lines.task_lines(result), f"no tasks for {result.subject}")


@to_message.register
def _nodes(result: NodeTable) -> Message:
    count = len(result.rows)
    return _table_message(f"{count} node{'s' * (count != 1)}", swarm_lines.node_lines(result), "no nodes")


@to_message.register
def _stacks(result: StackTable) -> Message:
    count = len(result.rows)
    return _table_message(f"{count} stack{'s' * (count != 1)}", swarm_lines.stack_lines(result), "no stacks")


@to_message.register
def _service(result: ServiceDetails) -> Message:
    pairs = [(label, escape(value)) for label, value in service_facts(result)]
    owner = [("Owner", _mention(result.owner))] if result.owner else []
    pairs = [pair for pair in pairs if pair[0] != "Owner"]
    blocks = [
        header(f"🐳 {result.name}"),
        fields(pairs[:5]),
        fields([*pairs[5:], *owner][:MAX_FIELDS]),
        section("*Env*"),
        *_pairs(result.env, max_blocks=2),
    ]
    if result.labels:
        blocks += [section("*Labels*"), *_pairs(result.labels, max_blocks=1)]
    desired = result.replicas or 0
    row = ServiceRow(
        result.id, result.name, result.mode, 0, desired, result.image, (), has_previous=result.has_previous
    )
    blocks.append(service_buttons(row))
    return Message(text=f"service {result.name}: {result.image}", blocks=blocks)


@to_message.register
def _service_progress(result: ServiceProgress) -> Message:
    line = f"⏳ *{escape(result.service)}*: {result.running}/{result.desired} running …"
    blocks = [section(line), *([context(escape(result.note))] if result.note else [])]
    return Message(text=to_text(result), blocks=blocks)


@to_message.register
def _convergences(result: Convergences) -> Message:
    blocks = []
    for item in result.items[:MAX_SERVICE_ROWS]:
        icon = "✅" if item.ok else ("⏱️" if item.outcome == TIMED_OUT else "❌")
        blocks.append(section(f"{icon} {escape(swarm_lines.convergence_line(item))}"))
        if item.tasks:
            table, _ = code_sections("\n".join(swarm_lines.task_lines(TaskTable(item.service, item.tasks))), 1, "head")
            blocks += table
    return Message(text=to_text(result), blocks=blocks, is_error=not result.all_ok)


ALERT_EMOJI = {"die": "🚨", "oom": "🚨", "unhealthy": "🩺", "restart": "🔁", "kill": "🔪", "stop": "⏹️", "start": "▶️"}
MAX_ALERT_LOG_BLOCKS = 2


def alert_buttons(result: Alert) -> dict:
    """Logs / Restart / Inspect, and Remove for a container that is no longer running, on the alert's engine
    whatever the default is; checked as the clicker."""
    name = result.container
    buttons = [
        command_button("📜 Logs", f"logs {name}"),
        command_button("🔄 Restart", f"restart {name}"),
        command_button("🔍 Inspect", f"container inspect {name}"),
    ]
    if result.state not in ("running", "restarting", "paused"):
        buttons.append(command_button("🗑️ Remove", f"rm {name}", "danger"))
    return kit.actions(f"alert:{name}", *buttons)


@to_message.register
def _freezes(result: FreezeList) -> Message:
    title = f"🧊 {freeze_title(result)}"
    if not result.freezes:
        return Message(text=title, blocks=[section(escape(title))])
    return Message(text=title, blocks=[section(f"*{escape(title)}*"), *_table(freeze_lines(result), max_blocks=10)])


@to_message.register
def _silences(result: SilenceList) -> Message:
    title = f"🔕 {silence_title(result)}"
    if not result.silences:
        return Message(text=title, blocks=[section(escape(title))])
    return Message(text=title, blocks=[section(f"*{escape(title)}*"), *_table(silence_lines(result), max_blocks=10)])


@to_message.register
def _alert(result: Alert) -> Message:
    headline = alert_headline(result)
    icon = "" if result.resolved else f"{ALERT_EMOJI.get(result.kind, '✅')} "
    mention = f"{result.mention} " if result.mention and not result.resolved else ""
    stamp = result.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    blocks = [
        section(f"{mention}{icon}*{escape(headline)}*"),
        fields(
            [
                ("Engine", f"`{escape(result.engine)}`"),
                ("Container", f"`{escape(result.container)}` `{result.short_id}`"),
                ("Image", f"`{escape(result.image)}`" if result.image else "—"),
                ("When", stamp),
                ("State", f"{state_emoji(result.state)} {escape(result.state)}" if result.state else "gone"),
                ("Restarts", str(result.restart_count) if result.restart_count is not None else "—"),
            ]
        ),
    ]
    if result.log_lines:
        blocks.append(context(f"last {result.log_lines} log lines"))
        blocks += code_sections(mask_text(result.logs) or "(no output)", max_blocks=MAX_ALERT_LOG_BLOCKS)[0]
    if result.silenced:
        blocks.append(context(f"🔕 {escape(result.silenced)}"))
    if result.state:
        blocks += on_engine(result.engine, [alert_buttons(result)])
    # The mention lives in the blocks (it notifies from there); the fallback text is escaped, so it stays out of it.
    return Message(text=f"{icon}{headline}", blocks=blocks)


def alert_follow_up(result: Alert) -> Message:
    """The line an alert's thread gets when its message is updated: the repeat, the silence, or how it was resolved."""
    stamp = result.at.strftime("%H:%M:%S UTC")
    if result.resolved:
        line = f"✅ resolved: {result.resolved} ({stamp})"
    elif result.silenced:
        line = f"🔕 {mask_text(result.silenced)} ({stamp})"
    else:
        line = f"{ALERT_EMOJI.get(result.kind, '⚠️')} occurrence {result.count}: {mask_text(result.what)} ({stamp})"
    return Message(text=line, blocks=[section(escape(line))])


# -- volumes and networks -----------------------------------------------------------

MAX_VOLUMES_SHOWN = 6  # `volume inspect`: up to six blocks each under the 50-block limit


@to_message.register
def _volumes(result: VolumeTable) -> Message:
    if not result.rows:
        text = volume_empty(result)
        return Message(text=text, blocks=[section(escape(text))])
    lines = volume_lines(result)
    blocks, shown = code_sections("\n".join(lines), max_blocks=10, keep="head")
    hidden = len(lines) - shown
    title = f"🗄️ {volume_title(result)}" + _per_engine(result.per_engine, hidden > 0)
    notes = [context(f"… and {hidden} more: narrow with `-f name=…` or `-f dangling=true`")] if hidden > 0 else []
    return Message(text=title, blocks=[section(f"*{title}*"), *blocks, *notes])


def _volume_blocks(volume: VolumeFacts) -> list[dict]:
    blocks = [
        header(f"🗄️ {volume.name}"),
        fields([(label, escape(value)) for label, value in volume_facts(volume)]),
    ]
    if volume.labels:
        blocks += [section("*Labels*"), *_pairs(volume.labels, max_blocks=1)]
    if volume.options:
        blocks += [section("*Options*"), *_pairs(volume.options, max_blocks=1)]
    return blocks


@to_message.register
def _volume(result: VolumeDetails) -> Message:
    blocks = [block for volume in result.volumes[:MAX_VOLUMES_SHOWN] for block in _volume_blocks(volume)]
    notes = [f"no such volume: `{escape(name)}`" for name in result.missing]
    if len(result.volumes) > MAX_VOLUMES_SHOWN:
        notes.append(f"… and {len(result.volumes) - MAX_VOLUMES_SHOWN} more: inspect fewer at a time")
    if notes:
        blocks.append(context(*notes))
    names = ", ".join(volume.name for volume in result.volumes)
    return Message(text=f"volume {names}", blocks=blocks)


@to_message.register
def _networks(result: NetworkTable) -> Message:
    if not result.rows:
        return Message(text="no networks", blocks=[section("no networks")])
    lines = network_lines(result)
    blocks, shown = code_sections("\n".join(lines), max_blocks=10, keep="head")
    hidden = len(lines) - shown
    count = len(result.rows)
    title = f"🌐 {count} network{'s' * (count != 1)}" + _per_engine(result.per_engine, hidden > 0)
    notes = [context(f"… and {hidden} more: narrow with `-f name=…`")] if hidden > 0 else []
    return Message(text=title, blocks=[section(f"*{title}*"), *blocks, *notes])


@to_message.register
def _network(result: NetworkDetails) -> Message:
    count = len(result.members)
    blocks = [
        header(f"🌐 {result.name}"),
        fields([(label, escape(value)) for label, value in network_facts(result)]),
        section(f"*{count} container{'s' * (count != 1)} attached*" if count else "*No container attached*"),
    ]
    if result.members:
        blocks += _table(member_lines(result), max_blocks=3)
    if result.labels:
        blocks += [section("*Labels*"), *_pairs(result.labels, max_blocks=1)]
    if result.options:
        blocks += [section("*Options*"), *_pairs(result.options, max_blocks=1)]
    return Message(text=f"network {result.name}", blocks=blocks)


# -- several engines ----------------------------------------------------------------


@to_message.register
def _contexts(result: ContextTable) -> Message:
    reachable = sum(row.reachable for row in result.rows)
    title = f"🖥️ {len(result.rows)} engine{'s' * (len(result.rows) != 1)}, {reachable} answering"
    table, _ = code_sections("\n".join(context_rows(result)), max_blocks=10, keep="head")
    return Message(text=title, blocks=[section(f"*{escape(title)}*"), *table, context("`*` marks the default engine")])


def _titled(engine: str, message: Message) -> Message:
    """The message with the engine's name leading its first line, and its buttons acting on that engine."""
    blocks = on_engine(engine, message.blocks)
    if blocks and blocks[0].get("type") == "section" and "text" in blocks[0]:
        first = blocks[0]
        blocks[0] = section(f"*{escape(engine)}* · {first['text']['text']}", first.get("accessory"))
    elif blocks and blocks[0].get("type") == "header":
        blocks[0] = header(f"{engine} · {blocks[0]['text']['text']}")
    return Message(
        text=f"{engine} · {message.text}", blocks=blocks, attachment=message.attachment, is_error=message.is_error
    )


@to_message.register
def _from_engine(result: FromEngine) -> Message:
    message = to_message(result.result)
    if result.titled:
        return _titled(result.engine, message)
    return replace(message, blocks=on_engine(result.engine, message.blocks))


@to_message.register
def _fleet(result: FleetAnswer) -> Message:
    notes = [escape(note) for note in fleet_notes(result)]
    if result.merged is not None:
        merged = to_message(result.merged)
        blocks, text, attachment = merged.blocks, merged.text, merged.attachment
    else:
        blocks, attachment = [], None
        for part in result.parts:
            message = _titled(part.engine, to_message(part.result))
            if len(blocks) + len(message.blocks) + 2 > kit.MAX_BLOCKS:
                notes.insert(0, f"{escape(part.engine)} and later engines did not fit: ask them one at a time")
                break
            blocks += [*([kit.divider()] if blocks else []), *message.blocks]
            attachment = attachment or message.attachment
        text = f"{len(result.parts)} engines answered"
    if notes:
        blocks = [*blocks[: kit.MAX_BLOCKS - 1], context(*notes)]
    return Message(text=text, blocks=blocks, attachment=attachment, is_error=not result.parts)


# -- image updates ------------------------------------------------------------------------------


@to_message.register
def _updates(result: UpdateTable) -> Message:
    """The table, a line per registry that could not be asked, and an Update button per outdated container."""
    title = updates_title(result)
    blocks = [section(f"*{escape(title)}*")]
    rows = answered_rows(result)
    if rows:
        header = ("ENGINE", *UPDATES_HEADER) if any(row.engine for row in rows) else UPDATES_HEADER
        table, _ = code_sections("\n".join(aligned(header, [update_cells(row) for row in rows])), 10, "head")
        blocks += table
    problems = problem_lines(result)
    if problems:
        blocks.append(context(*(f"⚠️ {escape(line)}" for line in problems[:MAX_FIELDS])))
    outdated = [row for row in result.rows if row.outdated]
    for row in outdated[:MAX_CONTAINER_ROWS]:
        button = command_button(f"⬆️ Update {shorten(row.container, MAX_CELL)}", f"update-image {row.container}")
        block = kit.actions(f"update:{row.engine}:{row.container}", button)
        blocks.append(on_engine(row.engine, [block])[0] if row.engine else block)
    return Message(text=title, blocks=blocks)


@to_message.register
def _update_outcomes(result: UpdateOutcomes) -> Message:
    lines = [escape(update_line(update)) for update in result.updates]
    failed = any(update.outcome in (ROLLED_BACK, NOT_UPDATED) for update in result.updates)
    return Message(text=to_text(result), blocks=[section("\n".join(lines))], is_error=failed)


MAX_BUTTONS = 24  # an actions block holds 25 elements: the rest is Update all
MAX_UPDATE_TARGETS = 20  # what one update-image names at most


@to_message.register
def _updates_alert(result: UpdatesAlert) -> Message:
    """The `updates` rule's message: the outdated containers, an Update button each and Update all (both ask
    first, as the command does), every button acting on the alert's engine."""
    title = updates_alert_title(result)
    mention = f"{result.mention} " if result.mention and result.outdated else ""
    blocks = [section(f"{mention}*{escape(title)}*")]
    rows = [row for row in result.rows if not row.problem]
    if rows:
        blocks += code_sections("\n".join(aligned(UPDATES_HEADER, [alert_cells(row) for row in rows])), 10, "head")[0]
    problems = problem_lines(result)
    if problems:
        blocks.append(context(*(f"⚠️ {escape(line)}" for line in problems[:MAX_FIELDS])))
    names = [row.container for row in result.outdated][:MAX_UPDATE_TARGETS]
    buttons = [
        command_button(f"⬆️ Update {shorten(name, MAX_CELL)}", f"update-image {name}") for name in names[:MAX_BUTTONS]
    ]
    if len(names) > 1:
        buttons.append(command_button("⬆️ Update all", f"update-image {' '.join(names)}", "primary"))
    if buttons:
        blocks.append(on_engine(result.engine, [kit.actions(f"updates:{result.engine}", *buttons)])[0])
    blocks.append(context(f"checked {result.checked_at:%Y-%m-%d %H:%M} UTC"))
    return Message(text=title, blocks=blocks)
