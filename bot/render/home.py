"""A `Home` result -> the App Home tab's view (`{"type": "home", "blocks": …}`), within Slack's 100 blocks.

Each section draws itself with `home_blocks` (one `@home_blocks.register` per section result), reusing the rows'
buttons of the replies (container, service and alert buttons act on the row's engine, checked as the clicker; an
approval request is drawn as its message, with the same Approve / Deny, and the requester's as their answer, with
Withdraw).
A section cuts its own rows with an "and N more" line naming the command that lists them all; a section that
does not fit in what is left of the 100 blocks is named in a last line instead.

Every section result also renders as a message and as text, like every result (`to_message`, `to_text`).
"""

from collections.abc import Sequence
from datetime import datetime
from functools import singledispatch

from bot.render import kit
from bot.render.blocks import ALERT_EMOJI, alert_buttons, container_buttons, on_engine, service_buttons, to_message
from bot.render.format import shorten, state_emoji
from bot.render.freeze_lines import by_text, engines_text, until_text
from bot.render.kit import Message, context, divider, escape, header, section
from bot.render.lines import alert_headline
from bot.render.terminal import to_text
from bot.results import (
    Alert,
    ApprovalsToDecide,
    ContainerRow,
    EngineStatus,
    EngineStatuses,
    Freeze,
    FreezesAhead,
    Home,
    OpenAlerts,
    OwnedContainers,
    OwnedServices,
    PendingRequests,
    Result,
    Silence,
    SilenceList,
    TemporaryAccess,
)

HOME_REFRESH_ACTION = "shipmate_home_refresh"
OPEN_RUN_FORM_ACTION = "shipmate_open_run_form"  # the Run… modal (its handler is the forms')
MAX_HOME_BLOCKS = 100
MAX_ENGINE_SECTIONS = 5  # engine lines, up to 3000 characters each
MAX_HOME_ALERTS = 10  # two blocks each (line + buttons)
MAX_HOME_CONTAINERS = 15
MAX_HOME_SERVICES = 10
MAX_HOME_APPROVALS = 5  # up to 5 blocks each: the request message's own
MAX_HOME_REQUESTS = 5  # 3 blocks each
MAX_LISTED_LINES = 10  # freezes, silences, grants: one section of up to 10 lines of 290 characters
MAX_LINE = 290
MAX_CELL = 40


@singledispatch
def home_blocks(section: Result) -> list[dict]:
    raise TypeError(f"no Home tab section for {type(section).__name__}")


def home_view(home: Home) -> dict:
    """The view `views.publish` takes: the buttons on top, then each section in order, all within 100 blocks."""
    blocks = [
        header("🐳 Shipmate"),
        kit.actions(
            "home:actions",
            kit.button("🔄 Refresh", HOME_REFRESH_ACTION, "refresh"),
            kit.button("▶️ Run…", OPEN_RUN_FORM_ACTION, "run", "primary"),
        ),
    ]
    for index, part in enumerate(home.sections):
        drawn = [divider(), *home_blocks(part)]
        if len(blocks) + len(drawn) > MAX_HOME_BLOCKS - 1:
            left = len(home.sections) - index
            blocks.append(
                context(f"… and {left} more section{'s' * (left != 1)} that did not fit: ask with the slash commands")
            )
            break
        blocks += drawn
    return {"type": "home", "blocks": kit.swept(blocks)}


def _title(text: str, count: int | None = None) -> dict:
    return section(f"*{text}*" + (f" ({count})" if count is not None else ""))


# -- engines ------------------------------------------------------------------------------------


def engine_line(status: EngineStatus) -> str:
    if not status.answering:
        return f"✗ {status.engine} · {status.problem or 'not answering'}"
    return f"✓ {status.engine} · Docker {status.version} · {status.running}/{status.total} running"


@home_blocks.register
def _engines(result: EngineStatuses) -> list[dict]:
    if not result.rows:
        return [_title("Engines"), section("You have no role on any engine: ask an admin for one (`/docker whoami`)")]
    chunks: list[list[str]] = [[]]
    shown = 0
    for status in result.rows:
        line = escape(engine_line(status))[:500]
        if sum(len(item) + 1 for item in chunks[-1]) + len(line) > kit.MAX_SECTION_TEXT:
            if len(chunks) == MAX_ENGINE_SECTIONS:
                break
            chunks.append([])
        chunks[-1].append(line)
        shown += 1
    answering = sum(status.answering for status in result.rows)
    blocks = [
        _title(f"Engines · {answering} of {len(result.rows)} answering"),
        *(section("\n".join(c)) for c in chunks),
    ]
    if shown < len(result.rows):
        blocks.append(context(f"… and {len(result.rows) - shown} more — `/docker context ls`"))
    return blocks


@to_message.register
def _engines_message(result: EngineStatuses) -> Message:
    return Message(text=f"{len(result.rows)} engines", blocks=_engines(result))


@to_text.register
def _engines_text(result: EngineStatuses) -> str:
    return "\n".join(engine_line(status) for status in result.rows) or "no engines you may read"


# -- open alerts ----------------------------------------------------------------------------------


def _alert_line(alert: Alert) -> str:
    stamp = alert.at.strftime("%Y-%m-%d %H:%M UTC")
    return f"{alert.engine} · {alert_headline(alert)} · {stamp}"


@home_blocks.register
def _alerts(result: OpenAlerts) -> list[dict]:
    blocks = [_title("Open alerts", len(result.alerts))]
    if not result.alerts:
        return [*blocks, context("✅ no open alerts on your engines")]
    for alert in result.alerts[:MAX_HOME_ALERTS]:
        blocks.append(section(f"{ALERT_EMOJI.get(alert.kind, '⚠️')} {escape(_alert_line(alert))}"))
        if alert.state:
            blocks += on_engine(alert.engine, [alert_buttons(alert)])
    hidden = len(result.alerts) - MAX_HOME_ALERTS
    if hidden > 0:
        blocks.append(context(f"… and {hidden} more — the alert channels have them all"))
    return blocks


@to_message.register
def _alerts_message(result: OpenAlerts) -> Message:
    return Message(text=f"{len(result.alerts)} open alerts", blocks=_alerts(result)[: kit.MAX_BLOCKS])


@to_text.register
def _alerts_text(result: OpenAlerts) -> str:
    return "\n".join(_alert_line(alert) for alert in result.alerts) or "no open alerts"


# -- what the viewer owns -------------------------------------------------------------------------


def _container_line(row: ContainerRow) -> str:
    return f"{row.engine} · {shorten(row.name, MAX_CELL)} · {shorten(row.image, MAX_CELL)} · {row.status}"


@home_blocks.register
def _containers(result: OwnedContainers) -> list[dict]:
    blocks = [_title("Your containers", len(result.rows))]
    if not result.rows:
        blocks.append(context("none: containers you `/run` carry your user id as their owner label"))
    for row in result.rows[:MAX_HOME_CONTAINERS]:
        blocks.append(section(f"{state_emoji(row.state)} `{escape(_container_line(row))}`"))
        blocks.append(container_buttons(row.name, row.state, row.engine))
    hidden = len(result.rows) - MAX_HOME_CONTAINERS
    if hidden > 0:
        blocks.append(context(f"… and {hidden} more — `/ps -a --filter {escape(result.owner_filter)} --context '*'`"))
    if result.unanswered:
        blocks.append(context(*(f"⚠️ {escape(miss.engine)}: {escape(miss.reason)}" for miss in result.unanswered)))
    return blocks


@to_message.register
def _containers_message(result: OwnedContainers) -> Message:
    return Message(text=f"{len(result.rows)} containers of yours", blocks=_containers(result)[: kit.MAX_BLOCKS])


@to_text.register
def _containers_text(result: OwnedContainers) -> str:
    return "\n".join(_container_line(row) for row in result.rows) or "no containers of yours"


def _service_line(engine: str, name: str, replicas: str, image: str) -> str:
    return f"{engine} · {shorten(name, MAX_CELL)} · {replicas} · {shorten(image, MAX_CELL)}"


@home_blocks.register
def _services(result: OwnedServices) -> list[dict]:
    blocks = [_title("Your services", len(result.rows))]
    if not result.rows:
        blocks.append(context("none of yours"))
    for owned in result.rows[:MAX_HOME_SERVICES]:
        row = owned.row
        icon = "🟢" if row.running >= row.desired else ("🟡" if row.running else "🔴")
        blocks.append(section(f"{icon} `{escape(_service_line(owned.engine, row.name, row.replicas, row.image))}`"))
        blocks += on_engine(owned.engine, [service_buttons(row)])
    hidden = len(result.rows) - MAX_HOME_SERVICES
    if hidden > 0:
        line = f"/service ls --filter {result.owner_filter} --context '*'"
        blocks.append(context(f"… and {hidden} more — `{escape(line)}`"))
    return blocks


@to_message.register
def _services_message(result: OwnedServices) -> Message:
    return Message(text=f"{len(result.rows)} services of yours", blocks=_services(result)[: kit.MAX_BLOCKS])


@to_text.register
def _services_text(result: OwnedServices) -> str:
    lines = [_service_line(o.engine, o.row.name, o.row.replicas, o.row.image) for o in result.rows]
    return "\n".join(lines) or "no services of yours"


# -- change safety: approvals, freezes, silences, temporary access ------------------------------------


def _messages(title: str, results: Sequence[Result], shown: int, none: str, more: str) -> list[dict]:
    """A title and the first `shown` results as their own messages draw them (their buttons too), the rest counted."""
    blocks = [_title(title, len(results))]
    if not results:
        return [*blocks, context(none)]
    for result in results[:shown]:
        blocks += to_message(result).blocks
    hidden = len(results) - shown
    if hidden > 0:
        blocks.append(context(f"… and {hidden} more{more}"))
    return blocks


@home_blocks.register
def _to_decide(result: ApprovalsToDecide) -> list[dict]:
    """Each request as its message in the channel shows it, with the same Approve / Deny buttons."""
    return _messages(
        "Approvals waiting for you",
        result.requests,
        MAX_HOME_APPROVALS,
        "nothing waits for your approval",
        " — their messages are in the approval channels",
    )


@to_message.register
def _to_decide_message(result: ApprovalsToDecide) -> Message:
    return Message(
        text=f"{len(result.requests)} approvals waiting for you", blocks=_to_decide(result)[: kit.MAX_BLOCKS]
    )


@to_text.register
def _to_decide_text(result: ApprovalsToDecide) -> str:
    return "\n\n".join(to_text(request) for request in result.requests) or "nothing waits for your approval"


@home_blocks.register
def _pending(result: PendingRequests) -> list[dict]:
    """Each of the viewer's requests as the answer they got when they asked, with its Withdraw button."""
    return _messages("Your requests", result.waiting, MAX_HOME_REQUESTS, "none of yours waits for approval", " waiting")


@to_message.register
def _pending_message(result: PendingRequests) -> Message:
    return Message(text=f"{len(result.waiting)} requests of yours waiting", blocks=_pending(result)[: kit.MAX_BLOCKS])


@to_text.register
def _pending_text(result: PendingRequests) -> str:
    return "\n\n".join(to_text(waiting) for waiting in result.waiting) or "none of yours waits for approval"


def _listed(title: str, lines: list[str], none: str) -> list[dict]:
    """A title and one section of up to MAX_LISTED_LINES escaped lines, the rest counted."""
    blocks = [_title(title, len(lines))]
    if not lines:
        return [*blocks, context(none)]
    blocks.append(section("\n".join(escape(shorten(line, MAX_LINE)) for line in lines[:MAX_LISTED_LINES])))
    if len(lines) > MAX_LISTED_LINES:
        blocks.append(context(f"… and {len(lines) - MAX_LISTED_LINES} more"))
    return blocks


def freeze_line(freeze: Freeze, now: datetime) -> str:
    """`🧊 prod-* · now until 18:00 UTC · release 4.2 · @U0ALICE`."""
    start = "now" if freeze.starts <= now else f"from {until_text(freeze.starts, now)}"
    return (
        f"🧊 {freeze.engines} · {start} until {until_text(freeze.ends, now)} · {freeze.reason} · {by_text(freeze.by)}"
    )


@home_blocks.register
def _freezes(result: FreezesAhead) -> list[dict]:
    lines = [freeze_line(freeze, result.now) for freeze in result.freezes]
    return _listed("Freezes", lines, "no freeze on your engines today: changes may go ahead")


@to_message.register
def _freezes_message(result: FreezesAhead) -> Message:
    return Message(text=f"{len(result.freezes)} freezes", blocks=_freezes(result))


@to_text.register
def _freezes_text(result: FreezesAhead) -> str:
    return "\n".join(freeze_line(freeze, result.now) for freeze in result.freezes) or "no freeze on your engines today"


def silence_line(silence: Silence, now: datetime) -> str:
    """`🔕 web-* on prod-1 until 18:00 UTC · deploying · @U0ALICE`."""
    return (
        f"🔕 {silence.containers} on {engines_text(silence)} until {until_text(silence.ends, now)} · {silence.reason}"
        f" · {by_text(silence.by)}"
    )


@home_blocks.register
def _silences(result: SilenceList) -> list[dict]:
    lines = [silence_line(silence, result.now) for silence in result.silences]
    return _listed("Silences", lines, "no silences: every alert is posted")


@home_blocks.register
def _access(result: TemporaryAccess) -> list[dict]:
    return _listed("Your temporary access", [f"⏳ {line}" for line in result.grants], "no temporary grants")


@to_message.register
def _access_message(result: TemporaryAccess) -> Message:
    return Message(text=f"{len(result.grants)} temporary grants", blocks=_access(result))


@to_text.register
def _access_text(result: TemporaryAccess) -> str:
    return "\n".join(result.grants) or "no temporary grants"


# -- the whole tab as a message and as text ---------------------------------------------------------


@to_message.register
def _home_message(result: Home) -> Message:
    return Message(text="Shipmate Home", blocks=home_view(result)["blocks"])


@to_text.register
def _home_text(result: Home) -> str:
    return "\n\n".join(to_text(part) for part in result.sections)
