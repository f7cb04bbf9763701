"""Which values must never be shown: env values whose names look secret."""

import re

_SECRET_NAME = re.compile(r"PASS|PWD|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|PRIVATE|SALT|CERT|COOKIE|SESSION|DSN", re.I)
MASK = "••••"


def looks_secret(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def masked(name: str, value: str) -> str:
    return MASK if looks_secret(name) and value else value


# KEY=VALUE anywhere in a command line (as in `--env DB_PASSWORD=x` or `-eTOKEN=x`).
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<value>\"[^\"]*\"|'[^']*'|\S*)")


def mask_command_text(text: str) -> str:
    """The command text with secret-looking assignments masked, for logs, audit records and echoes."""
    return _ASSIGNMENT.sub(
        lambda m: f"{m['name']}={MASK}" if looks_secret(m["name"]) and m["value"] else m.group(0), text
    )
