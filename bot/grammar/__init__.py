"""docker-CLI text -> Command. The one grammar behind every slash command and the terminal.

Every slash command is a prefix of a docker command line (`/img ls` is `docker image ls`), so parsing is:
clean Slack's text, tokenise with shlex (never a shell), find the longest docker spelling, parse its options.
"""

import re
import shlex
import unicodedata
from dataclasses import replace

from bot.grammar.clean import clean_slack_text
from bot.grammar.commands import Command, Help, declared
from bot.grammar.errors import ParseError
from bot.grammar.options import Parsed
from bot.grammar.spec import CommandSpec, registered

# Each command family registers its specs as it is imported: help lists them in this order.
# isort: off
from bot.grammar import images, containers, diagnostics, prune, system, run, services, updates  # noqa: F401
from bot.grammar import volumes, compose, shipmate, context_list  # noqa: F401
from bot.grammar import freezes  # noqa: F401
# isort: on

__all__ = ["COMMANDS", "SLASH_COMMANDS", "SPECS", "Command", "ParseError", "parse", "parse_line", "spec_for"]

# slash command -> the docker words it stands for
SLASH_COMMANDS: dict[str, tuple[str, ...]] = {
    "/docker": (),
    "/img": ("image",),
    "/container": ("container",),
    "/run": ("run",),
    "/ps": ("ps",),
    "/rm": ("rm",),
    "/logs": ("logs",),
    "/service": ("service",),
    "/compose": ("compose",),
}

SPECS: tuple[CommandSpec, ...] = registered()
# Every command the families declare, in the order defined: what the policy's actions and standard roles come from.
COMMANDS: tuple[type[Command], ...] = declared()

_BY_SPELLING: dict[tuple[str, ...], CommandSpec] = {words: spec for spec in SPECS for words in spec.spellings}
_LONGEST = max(len(words) for words in _BY_SPELLING)
_GROUPS = {words[0] for words in _BY_SPELLING if len(words) > 1}  # `image` in `image ls`: help has a topic for each
# Commands docker has and Shipmate refuses on purpose, so the answer can say so instead of "unknown".
_REFUSED = {
    "attach",
    "build",
    "buildx",
    "checkpoint",
    "commit",
    "config",
    "cp",
    "create",
    "export",
    "import",
    "kill",
    "load",
    "login",
    "logout",
    "manifest",
    "pause",
    "plugin",
    "prune",
    "push",
    "rename",
    "save",
    "secret",
    "swarm",
    "tag",
    "trust",
    "unpause",
    "update",
    "wait",
}
# Within a group Shipmate answers: what it leaves to the docker CLI (it lists and removes what exists, never makes it).
_REFUSED_IN_GROUP = {
    "network": {"connect", "create", "disconnect", "prune", "remove", "rm"},
    "volume": {"create", "update"},
}

MAX_LENGTH = 4000
# docker's global option, before the command: `/docker --context prod-1 ps`, `/docker -c prod-1 ps`, and for the
# other slash commands first in the text: `/ps --context prod-1 -a`. A name, a comma list, a glob, or `all`.
_CONTEXT_VALUE = re.compile(r"^[A-Za-z0-9._*?\[\],-]+$")


def spec_for(name: str) -> CommandSpec | None:
    return _BY_SPELLING.get(tuple(name.split()))


def _tokenise(text: str) -> list[str]:
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the command is too long ({len(text):,} characters; at most {MAX_LENGTH:,})")
    for char in text:
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            raise ParseError(f"the command contains a control character (U+{ord(char):04X}); retype it without")
    try:
        return shlex.split(text)
    except ValueError as error:
        raise ParseError(f"{str(error).lower()}: close every quote you open, or escape it with \\") from None


def _help(words: list[str], slash: str) -> Help:
    # The longest command the words start with: `/logs -h web1` is help for logs, as in docker.
    for size in range(len(words), 0, -1):
        spec = _BY_SPELLING.get(tuple(words[:size]))
        if spec is not None:
            return Help(topic=spec.name)
    topic = " ".join(words)
    if not topic or topic in _GROUPS:
        return Help(topic=topic or None)
    raise ParseError(f"no help for `{topic}`: type `{slash} help` for the list of commands")


def parse(text: str, slash: str = "/docker") -> Command:
    """Parse what followed a slash command. Raises ParseError with a one-line reason."""
    if slash not in SLASH_COMMANDS:
        raise ParseError(f"`{slash}` is not a Shipmate command: use one of {', '.join(SLASH_COMMANDS)}")
    implied = SLASH_COMMANDS[slash]
    context, tokens = _global_context(_tokenise(clean_slack_text(text)), short=not implied)
    command = _parse_words([*implied, *tokens], implied, slash)
    return replace(command, context=context) if context is not None else command


def _global_context(tokens: list[str], short: bool) -> tuple[str | None, list[str]]:
    """Take `--context NAME` (or `-c NAME` under /docker) from the front of the words."""
    if not tokens:
        return None, tokens
    head = tokens[0]
    names = ("--context", "-c") if short else ("--context",)
    for name in names:
        if head == name:
            if len(tokens) < 2:
                raise ParseError(f"`{name}` needs an engine: e.g. `{name} prod-1`, `{name} 'prod-*'` or `{name} all`")
            return _context_value(tokens[1], name), tokens[2:]
        if head.startswith(name + "="):
            return _context_value(head[len(name) + 1 :], name), tokens[1:]
    return None, tokens


def _context_value(value: str, name: str) -> str:
    if not _CONTEXT_VALUE.match(value):
        raise ParseError(
            f"`{name} {value}` is not an engine name, list or pattern: e.g. `prod-1`, `prod-1,prod-2`, `prod-*`"
        )
    return value


def _parse_words(words: list[str], implied: tuple[str, ...], slash: str) -> Command:
    # help may follow the slash command or a group word: `/img help`, `/docker image --help`, `/docker help ps`
    at = len(implied) + (1 if not implied and words and words[0] in _GROUPS else 0)
    if len(words) > at and words[at] in ("help", "--help", "-h"):
        return _help([*words[:at], *words[at + 1 :]], slash)
    for size in range(min(_LONGEST, len(words)), 0, -1):
        spec = _BY_SPELLING.get(tuple(words[:size]))
        if spec is not None:
            prefix = " ".join([slash, *words[len(implied) : size]])
            return _parse_spec(spec, words[size:], prefix, " ".join(words[:size]))
    raise _unknown_command(words, implied, slash)


def _parse_spec(spec: CommandSpec, tokens: list[str], prefix: str, typed: str) -> Command:
    try:
        parsed = spec.options.parse(tokens)
        if parsed.flag("help"):
            return Help(topic=spec.name)
        return _shipmate_options(spec.build(parsed), parsed, typed)
    except ParseError as error:
        raise error.with_usage(spec.usage_line(prefix)) from None


def _shipmate_options(command: Command, parsed: Parsed, name: str) -> Command:
    """`--dry-run` and `--break-glass REASON`: for a change only (a read has nothing to preview or to let through)."""
    dry_run, reason = parsed.flag("dry_run"), parsed.value("break_glass")
    if not dry_run and reason is None:
        return command
    if not command.changes:
        option = "--dry-run" if dry_run else "--break-glass"
        raise ParseError(f"`{name}` changes nothing: {option} is for commands that change something")
    if reason is not None and not reason.strip():
        raise ParseError('`--break-glass` needs a reason: e.g. `--break-glass "INC-4411: the site is down"`')
    return replace(command, dry_run=dry_run, break_glass=reason.strip() if reason is not None else None)


def _unknown_command(words: list[str], implied: tuple[str, ...], slash: str) -> ParseError:
    if len(words) == len(implied) or (words == [words[0]] and words[0] in _GROUPS):
        return ParseError(f"`{slash}` needs a command: type `{slash} help` to see them")
    word = words[1] if words[0] in _GROUPS else words[0]
    if word in _REFUSED_IN_GROUP.get(words[0], ()):
        return ParseError(
            f"`{words[0]} {word}` is not something Shipmate does: use the docker CLI on the host for it"
            f" (`{slash} help` lists what Shipmate does)"
        )
    if word in _REFUSED:
        return ParseError(f"`{word}` is not something Shipmate does: type `{slash} help` for what it can do")
    return ParseError(f"unknown command `{word}`: type `{slash} help` for the list of commands")


def parse_line(line: str) -> Command:
    """Parse a whole line as typed in the terminal: `/ps -a`, `/docker ps -a` or `docker ps -a`."""
    head, _, rest = line.strip().partition(" ")
    if head == "docker":
        return parse(rest, "/docker")
    if head.startswith("/"):
        return parse(rest, head)
    return parse(line, "/docker")
