"""The exec allowlist: word-by-word matching, `*` within a word, `**` across words, paths normalised, `..` never
matched; the policy's `exec:` key checked line by line; and the authorize stage naming the rules it refused by."""

from pathlib import Path

import pytest

from bot.dispatcher import Caller
from bot.grammar import parse
from bot.policy import PolicyAuthorizer, PolicyError, PolicySource, parse_policy
from bot.policy.execs import ExecAllowlist, ExecRule, normalise

OPERATOR_RULES = ["nginx -t", "cat /etc/nginx/*", "ls /var/log/**", "ps"]
POLICY = """
members:
  U0ADMIN: admin
  U0OPER: operator
  "*": viewer
exec:
  operator: ["nginx -t", "cat /etc/nginx/*", "ls /var/log/**", "ps"]
  admin: ["**"]
"""


def allowlist() -> ExecAllowlist:
    return ExecAllowlist(
        {"operator": tuple(ExecRule.parse(rule) for rule in OPERATOR_RULES), "admin": (ExecRule.parse("**"),)}
    )


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (("nginx", "-t"), True),
        (("nginx", "-t", "-c", "/tmp/evil.conf"), False),  # word by word: no extra words
        (("nginx",), False),
        (("cat", "/etc/nginx/nginx.conf"), True),
        (("cat", "/etc/nginx//nginx.conf"), True),  # normalised
        (("cat", "/etc/nginx/./nginx.conf"), True),
        (("cat", "/etc/nginx/conf.d/default.conf"), False),  # * stays within one path component
        (("cat", "/etc/nginx/../shadow"), False),  # .. never matches
        (("cat", "/etc/nginx/.."), False),
        (("cat", "/etc/nginx/nginx.conf", "/etc/shadow"), False),
        (("ls", "/var/log/nginx/access.log"), True),  # ** inside a word crosses /
        (("ls", "/var/log/../../etc"), False),
        (("ls", "/var/log/a/../../../etc/shadow"), False),
        (("ps",), True),
        (("ps", "aux"), False),
        (("sh",), False),
        (("sh", "-c", "nginx -t"), False),
        (("/bin/ps",), False),  # the rule names `ps`, not a path to it
    ],
)
def test_operator_rules_match_word_by_word(argv: tuple[str, ...], allowed: bool) -> None:
    assert allowlist().allows(("operator",), argv) is allowed


def test_double_star_alone_is_any_number_of_words() -> None:
    rules = ExecAllowlist({"r": (ExecRule.parse("**"), ExecRule.parse("tail -n * **"))})
    assert rules.allows(("r",), ("sh", "-c", "anything at all"))
    only_tail = ExecAllowlist({"r": (ExecRule.parse("tail -n * **"),)})
    assert only_tail.allows(("r",), ("tail", "-n", "5", "/var/log/a", "/var/log/b"))
    assert only_tail.allows(("r",), ("tail", "-n", "5"))
    assert not only_tail.allows(("r",), ("tail", "-f", "/var/log/a"))
    assert not only_tail.allows(("r",), ("tail", "-n", "5", "../x"))  # ** across words: still no `..` in a *


def test_normalise_keeps_what_matters() -> None:
    assert normalise("/etc//nginx/./x") == "/etc/nginx/x"
    assert normalise("/") == "/" and normalise("a/b/") == "a/b/" and normalise("-t") == "-t"
    assert normalise("/etc/../x") == "/etc/../x"  # kept, so the matching can refuse it


def test_refusals_name_the_rules() -> None:
    rules = allowlist()
    assert rules.refusal(("operator",), ("operator",), ("sh",), "policy.yml") == (
        "`sh` is not among the commands operator may exec: nginx -t, cat /etc/nginx/*, ls /var/log/**, ps"
    )
    assert "leaves its directory with `..`" in rules.refusal(
        ("operator",), ("operator",), ("cat", "/etc/nginx/../shadow"), "policy.yml"
    )
    assert rules.refusal(("viewer",), ("viewer",), ("ls",), "policy.yml").endswith(
        "viewer may exec nothing (`exec:` in policy.yml has no rules for them)"
    )


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("exec:\n  operater: [ps]\n", 2, "unknown role `operater` in `exec`"),
        ("exec:\n  operator: ['']\n", 2, "an exec rule is empty"),
        ('exec:\n  operator: ["cat \'unclosed"]\n', 2, "is not a command line"),
        ("exec:\n  operator: [[ps]]\n", 2, "must be a plain word"),
        ("exec: [ps]\n", 1, "must be a mapping"),
    ],
)
def test_a_broken_exec_key_names_its_line(tmp_path: Path, text: str, line: int, says: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, tmp_path / "policy.yml")
    assert raised.value.line == line and says in str(raised.value)


def decide(tmp_path: Path, user: str, line: str):
    path = tmp_path / "policy.yml"
    path.write_text(POLICY)
    authorizer = PolicyAuthorizer(PolicySource(path), targets=lambda engine, refs: dict.fromkeys(refs))
    return authorizer.authorize(parse(line), Caller(user_id=user, channel_id="C0OPS"))


def test_authorize_applies_the_allowlist_for_the_callers_roles(tmp_path: Path) -> None:
    assert decide(tmp_path, "U0OPER", "exec web1 nginx -t").allowed
    refused = decide(tmp_path, "U0OPER", "exec web1 sh")
    assert not refused.allowed and refused.reason.startswith("`sh` is not among the commands operator may exec: ")
    assert decide(tmp_path, "U0ADMIN", "exec web1 sh -c 'echo hi'").allowed
    viewer = decide(tmp_path, "U0VIEW", "exec web1 ps")
    assert not viewer.allowed and "`container.exec` needs operator" in viewer.reason


def test_without_an_exec_key_nobody_may_exec_not_even_admin(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("members:\n  U0ADMIN: admin\n")
    authorizer = PolicyAuthorizer(PolicySource(path))
    refused = authorizer.authorize(parse("exec web1 ls"), Caller(user_id="U0ADMIN"))
    assert not refused.allowed and "admin may exec nothing" in refused.reason
