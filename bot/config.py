"""Settings from the environment and a .env file, checked once at start-up.

A missing or malformed setting raises ConfigError naming it; the CLI prints that one line and exits.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


class ConfigError(Exception):
    pass


def load_dotenv_file(path: str | None = None) -> Path | None:
    """Load .env (from the working directory, or `path`) without overriding the real environment."""
    from dotenv import find_dotenv, load_dotenv

    found = path or find_dotenv(usecwd=True)
    if found:
        load_dotenv(found, override=False)
        return Path(found)
    return None


def _number(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw} is out of range ({low:g}–{high:g})")
    return value


def _flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r} is not a yes/no value (use true or false)")


@dataclass(frozen=True)
class CoreSettings:
    docker_host: str | None
    docker_timeout: float
    run_timeout: float

    @classmethod
    def from_env(cls) -> "CoreSettings":
        return cls(
            docker_host=os.environ.get("DOCKER_HOST") or None,
            docker_timeout=_number("SHIPMATE_DOCKER_TIMEOUT", 10, 1, 600),
            run_timeout=_number("SHIPMATE_RUN_TIMEOUT", 60, 1, 3600),
        )


def _token(name: str, prefix: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: see .env.example for where it comes from")
    if not value.startswith(prefix):
        raise ConfigError(f"{name} does not look right: it should start with `{prefix}`")
    return value


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str
    signing_secret: str
    app_token: str | None
    api_url: str | None
    reads_in_channel: bool
    workers: int

    @classmethod
    def from_env(cls, socket_mode: bool) -> "SlackSettings":
        signing_secret = os.environ.get("SLACK_SIGNING_SECRET", "").strip()
        if not signing_secret and not socket_mode:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: see .env.example for where it comes from")
        api_url = os.environ.get("SLACK_API_URL", "").strip() or None
        if api_url:
            parsed = urlparse(api_url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ConfigError(f"SLACK_API_URL={api_url!r} is not an http(s) URL")
            api_url = api_url.rstrip("/") + "/"
        return cls(
            bot_token=_token("SLACK_BOT_TOKEN", "xoxb-"),
            signing_secret=signing_secret,
            app_token=_token("SLACK_APP_TOKEN", "xapp-") if socket_mode else None,
            api_url=api_url,
            reads_in_channel=_flag("SHIPMATE_READS_IN_CHANNEL"),
            workers=int(_number("SHIPMATE_WORKERS", 8, 1, 64)),
        )
