"""Which values must never be shown, and the one API that masks them wherever a value leaves Shipmate.

A value is secret by its NAME (`DB_PASSWORD`, `DATABASE_URL`, `GITHUB_PAT`) or by its SHAPE, whatever its name:
the password in a URL's user info, a credential in a URL's query (`?password=…`), a Slack, GitHub, GitLab or AWS
token, a private key block. Three entry points:

- `masked(name, value)`: a value shown beside its name (env variables, labels, event attributes);
- `mask_text(text)`: free text (a command line, a process's command, a log line, an error): `NAME=value` words
  by name, and every secret shape;
- `mask_values(text)`: the secret shapes only. It never touches anything but the secret itself, so it is safe on
  any text, rendered Block Kit and JSON log lines included: the last sweep at an exit.
"""

import functools
import logging
import re

MASK = "••••"

# A name is secret when one of its words is (`DATABASE_URL`: `URL`; `apiKey`: `Key`). The short words count
# only as a whole word, so `PATH`, `PATTERN`, `CURL_OPTS` and `SECURITY` stay visible; the long ones count
# inside a word too (`PASSWORD`, `DBPASS`, `APIKEY`, `XAUTHORITY`).
_LOCATOR_WORDS = frozenset({"URL", "URLS", "URI", "URIS"})
_SECRET_WORDS = _LOCATOR_WORDS | {"DSN", "PAT", "PATS", "PW", "PWD", "AUTH", "SIG"}
_SECRET_PART = re.compile(
    r"PASS|PWD|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|PRIVATE|SALT|CERT|COOKIE|SESSION|DSN|WEBHOOK|SIGNATURE"
)
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@functools.lru_cache(maxsize=4096)  # log lines and query strings repeat their names
def _secret_words(name: str) -> tuple[str, ...]:
    words = (word.upper() for word in _NAME_WORD.findall(name))
    return tuple(word for word in words if word in _SECRET_WORDS or _SECRET_PART.search(word))


def looks_secret(name: str) -> bool:
    return bool(_secret_words(name))


# -- shapes: secret whatever its name ------------------------------------------------------------------------

# Values stop at quotes, backslashes and brackets, so a JSON line or rendered mrkdwn keeps its structure.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL_PASSWORD = re.compile(r"(://[^\s:/?#@\\\"'<>`|]*:)([^\s/?#\\\"'<>`|]*)(@)")
_QUERY_PARAMETER = re.compile(r"([?&;])([A-Za-z0-9_.-]+)=([^&;#\s\\\"'<>`|]*)")
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?:[^\"-]|-(?!----END))*(?:-----END \1PRIVATE KEY-----)?"
)
# Tokens of well-known shapes, each with the plain substrings one must contain (a cheap test first: logs are
# long); group 1, the prefix that says what it is, stays visible.
_TOKENS = (
    (("xox", "xapp-"), re.compile(r"\b(xox[a-z]-|xapp-)[A-Za-z0-9-]{8,}")),  # Slack
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"\b(gh[pousr]_)[A-Za-z0-9]{20,}")),  # GitHub
    (("github_pat_",), re.compile(r"\b(github_pat_)[A-Za-z0-9_]{20,}")),
    (("glpat-",), re.compile(r"\b(glpat-)[A-Za-z0-9_-]{20,}")),  # GitLab
    (("AKIA", "ASIA"), re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")),  # AWS access key ids
    # Slack's incoming webhooks: the path is the key.
    (("hooks.slack.com",), re.compile(r"(hooks\.slack\.com/(?:services|workflows)/)[A-Za-z0-9/_-]+")),
)


def _query_parameter(match: re.Match[str]) -> str:
    separator, name, value = match.groups()
    return f"{separator}{name}={MASK}" if value and looks_secret(name) else match.group(0)


def _private_key(match: re.Match[str]) -> str:
    kind = match.group(1)
    return f"-----BEGIN {kind}PRIVATE KEY-----{MASK}-----END {kind}PRIVATE KEY-----"


def mask_values(text: str) -> str:
    """The text with every secret-shaped value masked: URL passwords and credential query parameters, tokens of
    well-known shapes (their recognisable prefix kept), private key blocks."""
    if not text:
        return text
    if "PRIVATE KEY-----" in text:
        text = _PRIVATE_KEY.sub(_private_key, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}" if m.group(2) else m.group(0), text)
    if "=" in text:
        text = _QUERY_PARAMETER.sub(_query_parameter, text)
    for hints, token in _TOKENS:
        if any(hint in text for hint in hints):
            text = token.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return text


def masked(name: str, value: str) -> str:
    """A value shown beside its name: all of it masked when the name looks secret, else its secret shapes.

    A URL under a name that is secret only for being a locator (`DATABASE_URL`, `BROKER_URI`) shows with its
    credentials masked (`postgres://app:••••@db/app`): where it points helps, and the secret in it is known.
    """
    if not value:
        return value
    words = _secret_words(name)
    if not words or (_URL.match(value) and all(word in _LOCATOR_WORDS for word in words)):
        return mask_values(value)
    return MASK


# -- free text: NAME=value words, and the shapes ------------------------------------------------------------

# One shell word with its quotes: unquoted runs, backslash escapes and quoted runs (an unclosed quote runs to
# the end). Slack's "smart" quotes count, since the grammar reads them as quotes too.
_WORD = re.compile(
    r"""(?:\\.|[^\s"'\\“”„‟‘’‚‛]+|"[^"]*"?|'[^']*'?|[“”„‟][^“”„‟]*[“”„‟]?|[‘’‚‛][^‘’‚‛]*[‘’‚‛]?)+""", re.S
)
_QUOTES = str.maketrans("", "", "\"'“”„‟‘’‚‛")


def _mask_word(word: str) -> str:
    # `--env=DB_PASSWORD=x`, `-e=TOKEN=x`, `"API_KEY=a b"`: everything after the first `NAME=` whose NAME
    # looks secret is the secret, whatever flag spelling or quoting came before it. In a URL's query the names
    # are mask_values' to judge, one parameter at a time.
    if "=" not in word:
        return word
    parts = word.translate(_QUOTES).split("=")
    for index, name in enumerate(parts[:-1]):
        if "://" in name or "?" in name:
            break
        if looks_secret(name) and any(parts[index + 1 :]):
            return "=".join([*parts[: index + 1], masked(name, "=".join(parts[index + 1 :]))])
    return word


def mask_text(text: str) -> str:
    """Free text with secret-looking `NAME=value` words and every secret-shaped value masked: for command lines,
    process commands, log lines and errors, wherever they are shown, logged or audited."""
    return _WORD.sub(lambda m: _mask_word(m.group(0)), mask_values(text))


class MaskingFormatter(logging.Formatter):
    """Every log line, tracebacks included, swept for secret-shaped values (JSON lines stay valid JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_values(super().format(record))
