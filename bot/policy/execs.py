"""The exec allowlist: which command lines a role may run in a container, matched word by word on the parsed argv.

In a rule, `*` matches within one word and stops at `/`; `**` inside a word crosses `/`; a word that is `**` alone
matches any number of words (`["**"]` is any command line). Path-like words are normalised before matching (`//` and
`/./` collapse), and a word with a `..` component never matches a wildcard, not even `**`: `cat /etc/nginx/*` allows
`cat /etc/nginx/nginx.conf`, never `cat /etc/nginx/../shadow`. No shell is involved anywhere: the argv is what runs.
"""

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

ANY_WORDS = "**"
MAX_LISTED = 6


def normalise(word: str) -> str:
    """Collapse `//` and `/./` in a path-like word (`..` is kept: it is what the matching refuses)."""
    if "/" not in word:
        return word
    parts = [part for part in word.split("/") if part not in ("", ".")]
    joined = "/".join(parts)
    head = "/" if word.startswith("/") else ""
    tail = "/" if word.endswith("/") and parts else ""
    return f"{head}{joined}{tail}" or "/"


def _escapes(word: str) -> bool:
    return ".." in word.split("/")


@cache
def _glob(word: str) -> re.Pattern[str] | None:
    """A wildcard word as a regex; None for a literal word."""
    if "*" not in word:
        return None
    parts = re.split(r"(\*\*|\*)", word)
    return re.compile("".join({"**": ".*", "*": "[^/]*"}.get(part, re.escape(part)) for part in parts))


def _word_matches(rule_word: str, word: str) -> bool:
    glob = _glob(rule_word)
    if glob is None:
        return normalise(word) == normalise(rule_word)
    return not _escapes(word) and glob.fullmatch(normalise(word)) is not None


def _matches(rule: tuple[str, ...], argv: tuple[str, ...]) -> bool:
    if not rule:
        return not argv
    head, rest = rule[0], rule[1:]
    if head == ANY_WORDS:  # any words, but none that climbs out with `..`
        return any(
            _matches(rest, argv[index:]) for index in range(len(argv) + 1) if not any(map(_escapes, argv[:index]))
        )
    return bool(argv) and _word_matches(head, argv[0]) and _matches(rest, argv[1:])


@dataclass(frozen=True)
class ExecRule:
    text: str  # as written in the policy
    words: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> "ExecRule":
        """Raises ValueError with a reason when the rule cannot be used."""
        try:
            words = tuple(shlex.split(text))
        except ValueError as error:
            raise ValueError(f"exec rule `{text}` is not a command line: {error}") from None
        if not words:
            raise ValueError("an exec rule is empty: write a command line, e.g. `nginx -t`")
        return cls(text=text, words=words)

    def allows(self, argv: tuple[str, ...]) -> bool:
        return _matches(self.words, argv)


@dataclass(frozen=True)
class ExecAllowlist:
    rules: Mapping[str, tuple[ExecRule, ...]]  # role -> its rules

    def allows(self, roles: tuple[str, ...], argv: tuple[str, ...]) -> bool:
        return self.matching(roles, argv) is not None

    def matching(self, roles: tuple[str, ...], argv: tuple[str, ...]) -> tuple[str, ExecRule] | None:
        """The first role and rule that allow argv (a dry run names them), or None."""
        return next(((role, rule) for role in roles for rule in self.rules.get(role, ()) if rule.allows(argv)), None)

    def refusal(self, roles: tuple[str, ...], holders: tuple[str, ...], argv: tuple[str, ...], path_name: str) -> str:
        """Why the caller (with `roles`) may not run argv: the rules of `holders` (the roles and those they include)."""
        who = " and ".join(roles) or "you"
        rules = list(dict.fromkeys(rule.text for role in holders for rule in self.rules.get(role, ())))
        line = shlex.join(argv)
        if any(_escapes(word) for word in argv):
            why = f"`{line}` leaves its directory with `..`, which no exec rule matches"
        else:
            why = f"`{line}` is not among the commands {who} may exec"
        if not rules:
            return f"{why}: {who} may exec nothing (`exec:` in {path_name} has no rules for them)"
        listed = ", ".join(rules[:MAX_LISTED]) + (", …" if len(rules) > MAX_LISTED else "")
        return f"{why}: {listed}"
