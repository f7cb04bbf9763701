"""scripts/blockkit_svg.py: every block Shipmate sends becomes well-formed SVG with its texts (escaped), and the
README's images are what the script draws today: docs/workflow-steps.svg from manifest.yml, docs/home-tab.svg,
docs/run-form.svg and docs/approval-request.svg from the renderers (tests/docs_images.py)."""

import importlib.util
import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import ModuleType

import pytest

from bot.render.blocks import to_message
from tests import docs_images
from tests.test_render import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
_FORMATTING = re.compile(r"[\s*_~`]")


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("blockkit_svg", ROOT / "scripts" / "blockkit_svg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


blockkit_svg = _load()


def parsed(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)  # raises on anything not well-formed
    assert root.tag == f"{SVG}svg" and float(root.get("width", 0)) > 0 and float(root.get("height", 0)) > 0
    return root


def shown_text(root: ElementTree.Element) -> str:
    """Everything the SVG writes as text, formatting and line breaks taken out."""
    return _FORMATTING.sub("", "".join("".join(node.itertext()) for node in root.iter(f"{SVG}text")))


def expected_words(text: str) -> list[str]:
    """The words a reader sees in a piece of (m)rkdwn: Slack's entities unescaped, links and mentions left out
    (they are shown by label), formatting characters dropped."""
    text = re.sub(r"<[^<>]*>", " ", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return [word for word in (_FORMATTING.sub("", w) for w in text.split()) if word]


def block_texts(block: dict) -> list[str]:
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                texts.append(node["text"])
                return
            for key, value in node.items():
                if key not in ("value", "action_id", "block_id", "confirm", "options", "initial_options"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(block)
    return texts


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_message_shipmate_renders_is_drawn_with_its_texts(name: str) -> None:
    payload = to_message(EXAMPLES[name]).payload()
    root = parsed(blockkit_svg.render(payload))
    shown = shown_text(root)
    for block in payload["blocks"]:
        assert block["type"] in blockkit_svg.BLOCKS, f"{name}: no drawing for {block['type']} blocks"
        for text in block_texts(block):
            for word in expected_words(text):
                assert word in shown, f"{name}: {word!r} is not drawn"


MODAL = {
    "type": "modal",
    "callback_id": "shipmate_scale_form",
    "title": {"type": "plain_text", "text": "Scale web"},
    "submit": {"type": "plain_text", "text": "Scale"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Scale a service"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Service *web* on `prod-1`: 2/2 running"}},
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "Replicas"},
            "element": {
                "type": "number_input",
                "is_decimal_allowed": False,
                "placeholder": {"type": "plain_text", "text": "e.g. 3"},
            },
            "hint": {"type": "plain_text", "text": "0 stops every task"},
        },
        {
            "type": "input",
            "optional": True,
            "label": {"type": "plain_text", "text": "Image"},
            "element": {
                "type": "external_select",
                "placeholder": {"type": "plain_text", "text": "Type to search images"},
            },
        },
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "Env"},
            "element": {"type": "plain_text_input", "multiline": True, "initial_value": "COLOR=blue"},
        },
    ],
}
HOME = {
    "type": "home",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Shipmate"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*prod-1*\n✓ 24.0.7, 3/5 running"}, {"type": "mrkdwn", "text": "*prod-2*\n✗ unreachable"}]},
        {"type": "divider"},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "🚨 `web1` died with exit code 3 — owner <@U0ALICE>"},
            "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Logs"}, "action_id": "a", "value": "v"},
        },
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Run…"}, "style": "primary", "action_id": "r"},
                {"type": "button", "text": {"type": "plain_text", "text": "Remove"}, "style": "danger", "action_id": "d"},
                {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Pick an engine"}, "action_id": "s", "options": []},
                {"type": "overflow", "action_id": "o", "options": []},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Refreshed 12:00 · only what you may read"}]},
    ],
}  # fmt: skip


def test_a_form_and_a_home_tab_are_drawn_like_slack() -> None:
    modal = parsed(blockkit_svg.render(MODAL))
    shown = shown_text(modal)
    for word in ("Scaleweb", "Replicas", "e.g.3", "0stopseverytask", "Image", "(optional)", "Typetosearchimages"):
        assert word in shown
    assert "COLOR=blue" in shown and "Cancel" in shown and "prod-1" in shown
    fills = {rect.get("fill") for rect in modal.iter(f"{SVG}rect")}
    assert blockkit_svg.PRIMARY in fills  # the submit button

    home = parsed(blockkit_svg.render(HOME))
    shown = shown_text(home)
    for word in ("Home", "prod-1", "✓24.0.7,3/5running", "✗unreachable", "@U0ALICE", "Run…", "Remove", "Pickanengine"):
        assert word in shown
    fills = {rect.get("fill") for rect in home.iter(f"{SVG}rect")}
    assert {blockkit_svg.PRIMARY, blockkit_svg.DANGER} <= fills
    assert any(line.get("stroke") == blockkit_svg.LINE for line in home.iter(f"{SVG}line"))  # the divider

    both = parsed(blockkit_svg.render([MODAL, HOME]))  # side by side, one card each
    assert float(both.get("width", 0)) > float(modal.get("width", 0)) + float(home.get("width", 0))


def test_text_from_the_engine_is_escaped_and_links_show_their_label() -> None:
    hostile = "`&lt;/text&gt;&lt;script&gt;` &lt;!channel&gt; &amp; *bold* <https://evil.test|click> <!channel>"
    svg = blockkit_svg.render({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": hostile}}]})
    assert "<script>" not in svg and "</text><script>" not in svg
    shown = "".join("".join(node.itertext()) for node in parsed(svg).iter(f"{SVG}text"))
    assert "</text><script>" in shown and "<!channel> &" in shown and "bold" in shown and "*" not in shown
    assert "click" in shown and "evil.test" not in shown and "@channel" in shown


def test_the_workflow_steps_image_is_drawn_from_the_manifest(tmp_path: Path) -> None:
    drawn = tmp_path / "steps.svg"
    assert blockkit_svg.main(["--steps", str(ROOT / "manifest.yml"), str(drawn)]) == 0
    assert drawn.read_text() == (ROOT / "docs" / "workflow-steps.svg").read_text(), (
        "docs/workflow-steps.svg is out of date: python3 scripts/blockkit_svg.py --steps manifest.yml"
        " docs/workflow-steps.svg"
    )
    shown = shown_text(parsed(drawn.read_text()))
    for title in ("Restartcontainer", "Scaleservice", "Getlogs", "Personwhousedthisworkflow", "Exitcode"):
        assert title in shown


def test_a_file_that_is_not_json_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "view.json"
    source.write_text("{not json")
    assert blockkit_svg.main([str(source), str(tmp_path / "out.svg")]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"blockkit_svg: cannot read {source}:") and error.count("\n") == 1
    source.write_text(json.dumps([{"type": "divider"}]))  # a bare list of blocks is a message
    assert blockkit_svg.main([str(source), str(tmp_path / "out.svg")]) == 0
    parsed((tmp_path / "out.svg").read_text())


@pytest.mark.parametrize("name", list(docs_images.documents()))
def test_the_readmes_images_are_drawn_from_todays_renderers(name: str) -> None:
    document = docs_images.documents()[name]
    drawn = blockkit_svg.render(document)
    assert drawn == (ROOT / "docs" / name).read_text(), f"docs/{name} is out of date: python3 -m tests.docs_images"
    shown = shown_text(parsed(drawn))
    for block in document["blocks"]:
        for text in block_texts(block):
            for word in expected_words(text):
                assert word in shown, f"{name}: {word!r} is not drawn"


def test_chosen_options_are_drawn_checked() -> None:
    options = [{"text": {"type": "plain_text", "text": word}, "value": word} for word in ("detach", "tty")]
    block = {"type": "input", "label": {"type": "plain_text", "text": "Run"}}
    boxes = {**block, "element": {"type": "checkboxes", "options": options, "initial_options": options[:1]}}
    radios = {**block, "element": {"type": "radio_buttons", "options": options, "initial_option": options[1]}}
    shown = shown_text(parsed(blockkit_svg.render({"type": "modal", "blocks": [boxes, radios]})))
    assert "☑detach☐ttyRun○detach◉tty" in shown
