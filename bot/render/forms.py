"""Modals (Block Kit views) for the forms: run, scale, restart and "Shipmate command", as plain dicts within Slack's
modal limits. A form only gathers a command line; what it submits goes through the dispatcher like typed text.

Block ids name the fields, so a bad field is answered on its own block (`response_action: errors`).
"""

from dataclasses import dataclass

from bot.render.kit import escape

# Slack ids (the callback and action ids the Slack adapter registers).
OPEN_RUN_FORM = "shipmate_open_run_form"
OPEN_SCALE_FORM = "shipmate_open_scale_form"
OPEN_RESTART_FORM = "shipmate_open_restart_form"
FORM_BUTTONS = (OPEN_RUN_FORM, OPEN_SCALE_FORM, OPEN_RESTART_FORM)
RUN_FORM = "shipmate_run_form"
SCALE_FORM = "shipmate_scale_form"
RESTART_FORM = "shipmate_restart_form"
COMMAND_FORM = "shipmate_command_form"
NOTICE = "shipmate_notice"  # a modal with no submit button: never comes back
IMAGE_SUGGESTIONS = "shipmate_image"  # the image field's external_select: its block_suggestion action id

# Fields: each is an input block whose block id and action id are both this name (the image's action id aside).
ENGINE = "engine"
IMAGE = "image"
NAME = "name"
ENV = "env"
PORTS = "ports"
DETACH = "detach"
REPLICAS = "replicas"
CONFIRM = "confirm"
COMMAND = "command"

# Slack's modal limits.
MAX_TITLE = 24
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_METADATA = 3000
MAX_SECTION_TEXT = 3000
MAX_INPUT = 3000  # plain_text_input max_length

SERVICE = "service"
COMPOSE = "compose"


@dataclass(frozen=True)
class FormTarget:
    """What a Scale… or Restart… button acts on: `service web` or `compose shop`, on the engine its row came from
    (the button's value, `--context ENGINE service web` once the row is bound to its engine)."""

    kind: str  # SERVICE or COMPOSE
    name: str
    engine: str | None = None

    @property
    def value(self) -> str:
        where = f"--context {self.engine} " if self.engine else ""
        return f"{where}{self.kind} {self.name}"

    @classmethod
    def parse(cls, value: str) -> "FormTarget | None":
        words = value.split()
        engine = None
        if words[:1] == ["--context"] and len(words) >= 2:
            engine, words = words[1], words[2:]
        if len(words) != 2 or words[0] not in (SERVICE, COMPOSE):
            return None
        return cls(words[0], words[1], engine)


def _plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": text if len(text) <= limit else text[: limit - 1] + "…", "emoji": True}


def option(text: str, value: str) -> dict:
    return {"text": _plain(text, MAX_OPTION_TEXT), "value": value}


def options(values: list[str]) -> list[dict]:
    """Options for a select, one per value (a value too long for Slack is left out), at most 100."""
    return [option(value, value) for value in values if 0 < len(value) <= MAX_OPTION_VALUE][:MAX_OPTIONS]


def _input(block_id: str, label: str, element: dict, *, optional: bool = False, hint: str = "") -> dict:
    block = {"type": "input", "block_id": block_id, "label": _plain(label, MAX_LABEL), "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = _plain(hint, MAX_LABEL)
    return block


def _text_input(action_id: str, placeholder: str, *, multiline: bool = False, initial: str = "") -> dict:
    element = {
        "type": "plain_text_input",
        "action_id": action_id,
        "placeholder": _plain(placeholder, MAX_PLACEHOLDER),
        "max_length": MAX_INPUT,
    }
    if multiline:
        element["multiline"] = True
    if initial:
        element["initial_value"] = initial
    return element


def _engine_select(engines: tuple[str, ...], chosen: str) -> dict:
    choices = options(list(engines))
    element = {"type": "static_select", "action_id": ENGINE, "options": choices}
    initial = [choice for choice in choices if choice["value"] == chosen]
    if initial or choices:
        element["initial_option"] = (initial or choices)[0]
    return element


def _section(mrkdwn: str) -> dict:
    cut = mrkdwn if len(mrkdwn) <= MAX_SECTION_TEXT else mrkdwn[: MAX_SECTION_TEXT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut}}


def _modal(callback_id: str, title: str, blocks: list[dict], metadata: str, submit: str | None) -> dict:
    view = {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title, MAX_TITLE),
        "close": _plain("Cancel" if submit else "Close", MAX_TITLE),
        "blocks": blocks,
    }
    if metadata:
        view["private_metadata"] = metadata[:MAX_METADATA]
    if submit:
        view["submit"] = _plain(submit, MAX_TITLE)
    return view


def run_form(engines: tuple[str, ...], chosen: str, metadata: str) -> dict:
    """`/run` with no arguments: engine (only where the user may run), image (type-ahead), name, env, ports, -d."""
    detach = option("Run in the background (-d)", DETACH)
    blocks = [
        _input(ENGINE, "Engine", _engine_select(engines, chosen)),
        _input(
            IMAGE,
            "Image",
            {
                "type": "external_select",
                "action_id": IMAGE_SUGGESTIONS,
                "placeholder": _plain("Type to search allowed images", MAX_PLACEHOLDER),
                "min_query_length": 0,
            },
            hint="the image allowlist's entries and this engine's images that it allows",
        ),
        _input(NAME, "Name", _text_input(NAME, "web1"), optional=True),
        _input(
            ENV,
            "Environment",
            _text_input(ENV, "COLOR=blue", multiline=True),
            optional=True,
            hint="one KEY=VALUE a line",
        ),
        _input(
            PORTS, "Ports", _text_input(PORTS, "8081:3000"), optional=True, hint="HOST:CONTAINER, separated by spaces"
        ),
        _input(
            DETACH,
            "Detach",
            {"type": "checkboxes", "action_id": DETACH, "options": [detach], "initial_options": [detach]},
            optional=True,
        ),
    ]
    return _modal(RUN_FORM, "Run a container", blocks, metadata, "Run")


def scale_form(target: FormTarget, metadata: str) -> dict:
    replicas = {
        "type": "number_input",
        "action_id": REPLICAS,
        "is_decimal_allowed": False,
        "min_value": "0",
        "placeholder": _plain("3", MAX_PLACEHOLDER),
    }
    blocks = [
        _section(f"Scale service `{escape(target.name)}`{_on(target.engine)}: `service scale {escape(target.name)}=N`"),
        _input(REPLICAS, "Replicas", replicas, hint="0 stops every task (you will be asked to confirm)"),
    ]
    return _modal(SCALE_FORM, "Scale a service", blocks, metadata, "Scale")


def restart_line(target: FormTarget) -> str:
    """The command a Restart… form submits: a service's tasks replaced, or a Compose project restarted."""
    if target.kind == SERVICE:
        return f"service update --force {target.name}"
    return f"compose restart {target.name}"


def restart_form(target: FormTarget, metadata: str) -> dict:
    what = "service" if target.kind == SERVICE else "Compose project"
    blocks = [
        _section(f"Restart {what} `{escape(target.name)}`{_on(target.engine)}: `{escape(restart_line(target))}`"),
        _input(CONFIRM, "Type the name to confirm", _text_input(CONFIRM, target.name)),
    ]
    return _modal(
        RESTART_FORM, f"Restart a {'service' if target.kind == SERVICE else 'project'}", blocks, metadata, "Restart"
    )


def command_form(engines: tuple[str, ...], chosen: str, metadata: str) -> dict:
    """The "Shipmate command" shortcut: any command, as after /docker, on the engine picked."""
    blocks = [
        _input(COMMAND, "Command", _text_input(COMMAND, "ps -a"), hint="anything you would type after /docker"),
        _input(ENGINE, "Engine", _engine_select(engines, chosen)),
    ]
    return _modal(COMMAND_FORM, "Shipmate command", blocks, metadata, "Run")


def notice_form(text: str) -> dict:
    """No form to show (nothing this user may do with it): one line saying why, and a Close button."""
    return _modal(NOTICE, "Shipmate", [_section(escape(text))], "", None)


def _on(engine: str | None) -> str:
    return f" on `{escape(engine)}`" if engine else ""
