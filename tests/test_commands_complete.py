"""Every command is complete: a spelling that parses to it, something that answers it, a terminal and a Block Kit
renderer for each result that answer can be, and a known action; the policy's lists and standard roles are what
the commands declare, and what policy.example.yml writes."""

import re
import types
import typing
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import bot.engine  # noqa: F401 - registers every executor
from bot.about_shipmate import answer
from bot.engine import execute
from bot.freezes import answer as answer_change_safety
from bot.grammar import COMMANDS, SPECS, ParseError, parse, spec_for
from bot.grammar.commands import (
    Command,
    ContainerRemove,
    ContainerStop,
    DefaultRole,
    ImageRemove,
    Prune,
)
from bot.grammar.compose import ComposeRestart, ComposeStop
from bot.grammar.freezes import ChangeSafety
from bot.grammar.service_commands import ServiceRemove, ServiceScale, ServiceUpdate
from bot.grammar.shipmate import AboutShipmate
from bot.grammar.spec import register, registered
from bot.grammar.updates import ContainerUpdateImage
from bot.grammar.volume_commands import VolumeRemove
from bot.policy import load_policy, parse_policy
from bot.policy.model import ACTIONS, OPEN_ACTIONS, OWNABLE, STANDARD_ROLES
from bot.render.blocks import to_message
from bot.render.terminal import to_text
from bot.results import ConfirmationRequest, ContextTable, Failure, FleetAnswer, FromEngine, Notice, Result
from tests.test_grammar import SPELLINGS

REPO = Path(__file__).resolve().parent.parent
# The commands about Shipmate, help and the engines, which SPELLINGS (docker's own commands) leaves out.
OTHER_LINES = [
    ("/docker", "help"),
    ("/docker", "whoami"),
    ("/docker", "policy"),
    ("/docker", "audit"),
    ("/docker", "context ls"),
    ("/docker", "freeze --context 'prod-*' 2h \"release 4.2\""),
    ("/docker", "unfreeze --context 'prod-*'"),
    ("/docker", "freezes"),
    ("/docker", "silence 'web*' 1h \"deploying web\""),
    ("/docker", "unsilence 3"),
    ("/docker", "silences"),
]
LINES = [(slash, text) for slash, text, _ in SPELLINGS] + OTHER_LINES
# What the dispatcher itself answers with, whatever the command: refusals, questions, one engine's or several's.
PIPELINE_RESULTS = (Failure, Notice, ConfirmationRequest, FromEngine, FleetAnswer, ContextTable)


def _parsed() -> dict[type[Command], list[Command]]:
    parsed: dict[type[Command], list[Command]] = {}
    for slash, text in LINES:
        try:
            command = parse(text, slash)
        except ParseError:
            continue  # its command lost its spec: tests/test_grammar.py names the line, the first test below the command
        parsed.setdefault(type(command), []).append(command)
    return parsed


PARSED = _parsed()


def _name(command: type) -> str:
    return command.__name__


def _answerer(command: type[Command]) -> Callable[..., Result]:
    """What answers the command: its executor, or (a command about Shipmate itself) bot.about_shipmate's answer,
    or (freezes and silences) bot.freezes' answer."""
    registry = answer if issubclass(command, AboutShipmate) else execute
    registry = answer_change_safety if issubclass(command, ChangeSafety) else registry
    found = registry.dispatch(command)
    assert found is not registry.registry[object], f"nothing answers {command.__name__}"
    return found


def _results(command: type[Command]) -> tuple[type, ...]:
    """The Result types its answer is annotated to return."""
    returned = typing.get_type_hints(_answerer(command))["return"]
    return typing.get_args(returned) if isinstance(returned, types.UnionType) else (returned,)


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_every_command_has_a_spelling_that_parses_to_it(command: type[Command]) -> None:
    assert command in PARSED, f"no line parses to {command.__name__}: give it a spec (and a line in SPELLINGS)"


def test_every_parsed_command_is_declared() -> None:
    """A class the parser builds is a command of its own, not a base marked abstract."""
    assert set(PARSED) <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_every_command_is_answered_and_its_results_rendered_both_ways(command: type[Command]) -> None:
    results = _results(command)
    assert results and all(issubclass(result, Result) for result in results), results
    for result in results:
        assert to_text.dispatch(result) is not to_text.registry[object], f"no terminal renderer for {result.__name__}"
        assert to_message.dispatch(result) is not to_message.registry[object], f"no Block Kit renderer for {result}"


@pytest.mark.parametrize("result", PIPELINE_RESULTS, ids=_name)
def test_the_pipelines_own_results_are_rendered_both_ways(result: type[Result]) -> None:
    assert to_text.dispatch(result) is not to_text.registry[object]
    assert to_message.dispatch(result) is not to_message.registry[object]


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_every_command_has_a_known_action(command: type[Command]) -> None:
    assert command.action, f"{command.__name__} declares no action"
    assert command.action in ACTIONS or command.action in OPEN_ACTIONS


def test_commands_sharing_an_action_declare_it_alike() -> None:
    """The policy's lists are per action: `logs`, `logs -f` and Stop following must not disagree about theirs."""
    first: dict[str, type[Command]] = {}
    for command in COMMANDS:
        seen = first.setdefault(command.action, command)
        traits = ("changes", "ownable", "default_role", "engine_free")
        assert [getattr(command, trait) for trait in traits] == [getattr(seen, trait) for trait in traits], (
            f"{command.__name__} and {seen.__name__} share `{command.action}` but not its traits"
        )


@pytest.mark.parametrize("command", COMMANDS, ids=_name)
def test_declared_traits_fit_together(command: type[Command]) -> None:
    if command.default_role is DefaultRole.OPERATOR_OWN:
        assert command.ownable, "operators get it only on their own: `:own` must apply to it"
    if command.changes or command.engine_free:
        assert not command.fans_out, "a change, or an answer from Shipmate itself, runs once"


def _asked_first_until_now(command: Command) -> bool:
    """Which commands bot.confirm asked about before the commands declared it themselves (and Compose's restart and
    stop, which ask since they came)."""
    return (
        isinstance(
            command, ImageRemove | ContainerRemove | Prune | ServiceRemove | VolumeRemove | ComposeRestart | ComposeStop
        )
        or (isinstance(command, ContainerStop) and len(command.containers) > 1)
        or (isinstance(command, ServiceScale) and any(count == 0 for _, count in command.scales))
        or (isinstance(command, ServiceUpdate) and command.replicas == 0)
        or isinstance(command, ContainerUpdateImage)  # new with issue 17 (its dry run, as any, asks nothing)
    )


def test_the_commands_that_ask_first_are_the_same_as_before() -> None:
    more = ["stop a b", "service scale web=0 api=2", "service scale web=1", "service update --replicas 0 web"]
    more += ["service update --replicas 1 web", "stop a", "rm a", "image prune -a", "image rm nginx"]
    lines = [*LINES, *(("/docker", line) for line in more)]
    asked = [slash + " " + text for slash, text in lines if parse(text, slash).asks_first]
    assert asked == [slash + " " + text for slash, text in lines if _asked_first_until_now(parse(text, slash))]
    for line in ("stop a b", "service scale web=0 api=2", "service update --replicas 0 web", "rm a", "image rm nginx"):
        assert f"/docker {line}" in asked
    assert "/docker stop a" not in asked and "/docker service scale web=1" not in asked


def test_the_standard_roles_are_the_ones_the_example_policy_writes() -> None:
    """policy.example.yml writes out the roles a policy without `roles:` gets: the two must not drift apart."""
    example = REPO / "policy.example.yml"
    written = yaml.safe_load(example.read_text())["roles"]
    assert {name: set(items) for name, items in written.items()} == {
        name: set(items) for name, items in STANDARD_ROLES.items()
    }
    documented = load_policy(example).roles
    standard = parse_policy("channels: [im]\n", example).roles
    assert list(documented) == list(standard)
    for name, role in standard.items():
        assert (role.grants, role.includes, role.star) == (
            documented[name].grants,
            documented[name].includes,
            documented[name].star,
        )


def _documented(start: str, end: str) -> str:
    text = (REPO / "policy.example.yml").read_text()
    return text[text.index(start) : text.index(end)]


def test_the_actions_are_the_ones_the_example_policy_documents() -> None:
    listed = _documented("#   - an action:", "#   - an action with :own")
    assert set(re.findall(r"\b[a-z]+\.[a-z]+\b", listed)) == set(ACTIONS)


def test_the_ownable_actions_are_the_ones_the_example_policy_documents() -> None:
    """`container.inspect, .logs, …`: a bare `.verb` is of the family named last."""
    listed = _documented("#   - an action with :own", "#   - another role's name")
    documented, family = set(), ""
    for named in re.finditer(r"([a-z]+)?\.([a-z]+)\b", listed):
        family = named.group(1) or family
        documented.add(f"{family}.{named.group(2)}")
    assert documented == set(OWNABLE)


def test_a_spelling_names_one_command() -> None:
    """A family registering a spelling another already has would silently take it over: it is refused instead."""
    taken = replace(spec_for("image ls"), name="volume ls", aliases=("images",))
    with pytest.raises(ValueError, match="`images` is spelled twice"):
        register(taken)
    assert registered() == SPECS  # nothing of it was added
