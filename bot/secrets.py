"""Which values must never be shown: env values whose names look secret."""

import re

_SECRET_NAME = re.compile(r"PASS|PWD|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|PRIVATE|SALT|CERT|COOKIE|SESSION|DSN", re.I)
MASK = "••••"


def looks_secret(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def masked(name: str, value: str) -> str:
    return MASK if looks_secret(name) and value else value


# One shell word with its quotes: unquoted runs, backslash escapes and quoted runs (an unclosed quote runs to
# the end). Slack's "smart" quotes count, since the grammar reads them as quotes too.
_WORD = re.compile(
    r"""(?:\\.|[^\s"'\\“”„‟‘’‚‛]+|"[^"]*"?|'[^']*'?|[“”„‟][^“”„‟]*[“”„‟]?|[‘’‚‛][^‘’‚‛]*[‘’‚‛]?)+""", re.S
)
_QUOTES = str.maketrans("", "", "\"'“”„‟‘’‚‛")


def _mask_word(word: str) -> str:
    # `--env=DB_PASSWORD=x`, `-e=TOKEN=x`, `"API_KEY=a b"`: everything after the first `NAME=` whose NAME
    # looks secret is the secret, whatever flag spelling or quoting came before it.
    parts = word.translate(_QUOTES).split("=")
    for index, name in enumerate(parts[:-1]):
        if looks_secret(name) and any(parts[index + 1 :]):
            return "=".join([*parts[: index + 1], MASK])
    return word


def mask_command_text(text: str) -> str:
    """The command text with secret-looking assignments masked, for logs, audit records and echoes."""
    return _WORD.sub(lambda m: _mask_word(m.group(0)), text)
