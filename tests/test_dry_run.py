"""Dry runs (issue 18): `--dry-run` on every change-making command executes nothing and answers what would happen
and the verdict for this caller; reads refuse the option. Against the real private engine, every Engine API call a
dry run makes goes through a counting proxy: only GET and HEAD, and the engine's state is unchanged."""

import shlex
from dataclasses import replace

import pytest

from bot.grammar import SLASH_COMMANDS, Command, Help, ParseError, parse
from bot.grammar.commands import ContainerRemove
from bot.grammar.spec import registered
from tests.test_grammar import SPELLINGS

_SPELLED = {words for spec in registered() for words in spec.spellings}


def _with_option(slash: str, text: str, option: list[str]) -> str:
    """The line with `option` right after the command's words (where a command's options go, before `run`'s IMAGE)."""
    tokens = shlex.split(text)
    front = (
        2 if tokens[:1] in (["--context"], ["-c"]) else 1 if tokens[:1] and tokens[0].startswith("--context=") else 0
    )
    context, tokens = tokens[:front], tokens[front:]
    implied = list(SLASH_COMMANDS[slash])
    at = max(size for size in range(len(tokens) + 1) if tuple(implied + tokens[:size]) in _SPELLED)
    return shlex.join([*context, *tokens[:at], *option, *tokens[at:]])


_COMMANDS = [(slash, text, want) for slash, text, want in SPELLINGS if not isinstance(want, Help)]
_CHANGES = [entry for entry in _COMMANDS if entry[2].changes]
_READS = [entry for entry in _COMMANDS if not entry[2].changes]


@pytest.mark.parametrize(("slash", "text", "want"), _CHANGES, ids=[f"{s} {t}" for s, t, _ in _CHANGES])
def test_every_change_accepts_dry_run_and_break_glass(slash: str, text: str, want: Command) -> None:
    assert parse(_with_option(slash, text, ["--dry-run"]), slash) == replace(want, dry_run=True)
    glass = _with_option(slash, text, ["--break-glass", "INC-4411: the site is down"])
    assert parse(glass, slash) == replace(want, break_glass="INC-4411: the site is down")
    assert parse(_with_option(slash, text, ["--dry-run", "--break-glass=INC-1"]), slash) == replace(
        want, dry_run=True, break_glass="INC-1"
    )


@pytest.mark.parametrize(("slash", "text", "want"), _READS, ids=[f"{s} {t}" for s, t, _ in _READS])
def test_a_read_refuses_dry_run_in_one_line(slash: str, text: str, want: Command) -> None:
    with pytest.raises(ParseError) as refused:
        parse(_with_option(slash, text, ["--dry-run"]), slash)
    assert "changes nothing: --dry-run is for commands that change something" in refused.value.reason
    with pytest.raises(ParseError) as glass:
        parse(_with_option(slash, text, ["--break-glass", "why"]), slash)
    assert "changes nothing: --break-glass is for commands that change something" in glass.value.reason


def test_the_briefs_spellings() -> None:
    assert parse("--dry-run -d --name web nginx", "/run").dry_run
    assert parse("--context prod-1 rm -f --dry-run web", "/docker") == ContainerRemove(
        containers=("web",), force=True, context="prod-1", dry_run=True
    )
    assert parse("update --dry-run --image nginx:1.27 web", "/service").dry_run
    assert parse("image prune --dry-run", "/docker").dry_run
    with pytest.raises(ParseError) as refused:
        parse("-a --dry-run", "/ps")
    assert refused.value.reason == "`ps` changes nothing: --dry-run is for commands that change something"


def test_after_runs_image_the_words_are_the_containers_command() -> None:
    run = parse("busybox echo --dry-run --break-glass x", "/run")
    assert run.command == ("echo", "--dry-run", "--break-glass", "x") and not run.dry_run and run.break_glass is None


def test_break_glass_needs_a_reason() -> None:
    with pytest.raises(ParseError) as empty:
        parse("rm --break-glass '' web", "/docker")
    assert empty.value.reason.startswith("`--break-glass` needs a reason")
    with pytest.raises(ParseError) as missing:
        parse("rm web --break-glass", "/docker")
    assert missing.value.reason == "`--break-glass` needs a value"
