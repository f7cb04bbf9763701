"""Settings from the environment and a .env file, checked once at start-up.

A missing or malformed setting raises ConfigError naming it; the CLI prints that one line and exits.
"""

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


class ConfigError(Exception):
    pass


def _find_dotenv() -> Path | None:
    """The nearest .env from the working directory up, as python-dotenv's find_dotenv(usecwd=True) finds it;
    python-dotenv itself is imported only when there is one to load."""
    here = Path.cwd()
    for directory in (here, *here.parents):
        if (directory / ".env").is_file():
            return directory / ".env"
    return None


def load_dotenv_file(path: str | None = None) -> Path | None:
    """Load .env (from the working directory, or `path`) without overriding the real environment."""
    found = Path(path) if path else _find_dotenv()
    if found:
        from dotenv import load_dotenv

        load_dotenv(found, override=False)
        return found
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


def _beside_dotenv(name: str, default: str) -> Path:
    """A path setting; the default file sits beside the .env (or in the working directory without one)."""
    raw = os.environ.get(name, "").strip()
    if raw:
        return Path(raw).expanduser()
    found = _find_dotenv()
    return (found.parent if found else Path.cwd()) / default


def state_directory() -> Path:
    """Where `shipmate local` keeps its files: $XDG_STATE_HOME/shipmate, else ~/.local/state/shipmate."""
    base = os.environ.get("XDG_STATE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".local" / "state") / "shipmate"


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smh]?)$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def _duration(name: str, default: float, low: float, high: float) -> float:
    """Seconds from `90`, `90s`, `10m` or `1h`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    match = _DURATION.match(raw.lower())
    if not match:
        raise ConfigError(f"{name}={raw!r} is not a duration: write e.g. 10m, 90s or 1h")
    value = float(match[1]) * _DURATION_UNITS[match[2]]
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw} is out of range ({low:g}–{high:g} seconds)")
    return value


def _engines_file() -> Path | None:
    """SHIPMATE_ENGINES (which must exist), else engines.yml beside the .env when there is one; None: no file."""
    raw = os.environ.get("SHIPMATE_ENGINES", "").strip()
    path = _beside_dotenv("SHIPMATE_ENGINES", "engines.yml")
    if path.is_file():
        return path
    if raw:
        raise ConfigError(f"SHIPMATE_ENGINES={raw}: no such file (see engines.example.yml)")
    return None


def metrics_port(given: int | None) -> int | None:
    """`--metrics-port` (of `serve` or `socket`), else SHIPMATE_METRICS_PORT; None: no health and metrics server."""
    if given is not None or not os.environ.get("SHIPMATE_METRICS_PORT", "").strip():
        return given
    return int(_number("SHIPMATE_METRICS_PORT", 0, 0, 65535))


MIN_SECRET_LENGTH = 16


def _confirm_secret() -> bytes | None:
    """Explicit, or derived from the signing secret so every replica signs alike; None: make one per process."""
    explicit = os.environ.get("SHIPMATE_CONFIRM_SECRET", "").strip()
    if explicit:
        if len(explicit) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"SHIPMATE_CONFIRM_SECRET is too short: use at least {MIN_SECRET_LENGTH} random characters"
            )
        return explicit.encode()
    signing_secret = os.environ.get("SLACK_SIGNING_SECRET", "").strip()
    if signing_secret:
        return hmac.new(signing_secret.encode(), b"shipmate confirmation secret", hashlib.sha256).digest()
    return None


@dataclass(frozen=True)
class CoreSettings:
    docker_host: str | None
    docker_timeout: float
    run_timeout: float
    follow_max: float = 300  # seconds a `logs -f` follows before it stops by itself
    follow_per_user: int = 2  # `logs -f` one user may run at once (per replica)
    policy_path: Path = Path("policy.yml")
    audit_db: Path = Path("shipmate-audit.db")
    confirm_secret: bytes | None = None  # None: a random one per process (tokens die with it)
    confirm_ttl: float = 120  # seconds a Confirm button stays valid
    database_url: str | None = None  # SHIPMATE_DATABASE_URL; None: the SQLite file audit_db
    converge_timeout: float = 120  # seconds service create/scale/update/rollback wait for the tasks
    update_timeout: float = 60  # seconds update-image waits for the new container to run (and be healthy)
    alerts_path: Path = Path("alerts.yml")  # alert rules; the watcher runs only when the file exists
    alert_window: float = 600  # seconds in which a repeat updates the first alert instead of posting again
    alert_settle: float = 30  # seconds a container started again must stay up for its crash alert to be resolved
    engines_path: Path | None = None  # None: one engine, named `default`, from DOCKER_HOST
    context: str | None = None  # the engine(s) a local command uses when it names none (SHIPMATE_CONTEXT)
    home_probe_ttl: float = 10  # seconds an engine's probe on the Home tab serves every viewer and replica

    @classmethod
    def from_env(cls, local: bool = False) -> "CoreSettings":
        """`local`: the terminal's audit log defaults to the user's state directory, not the working directory."""
        audit_db = _beside_dotenv("SHIPMATE_AUDIT_DB", "shipmate-audit.db")
        explicit = (
            os.environ.get("SHIPMATE_AUDIT_DB", "").strip() or os.environ.get("SHIPMATE_DATABASE_URL", "").strip()
        )
        if local and not explicit:
            audit_db = state_directory() / "shipmate-audit.db"
            try:
                audit_db.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise ConfigError(f"cannot create {audit_db.parent} for the audit log ({error.strerror})") from None
        return cls(
            docker_host=os.environ.get("DOCKER_HOST") or None,
            docker_timeout=_number("SHIPMATE_DOCKER_TIMEOUT", 10, 1, 600),
            run_timeout=_number("SHIPMATE_RUN_TIMEOUT", 60, 1, 3600),
            follow_max=_number("SHIPMATE_FOLLOW_MAX", 300, 5, 3600),
            follow_per_user=int(_number("SHIPMATE_FOLLOW_PER_USER", 2, 1, 64)),
            policy_path=_beside_dotenv("SHIPMATE_POLICY", "policy.yml"),
            audit_db=audit_db,
            confirm_secret=_confirm_secret(),
            confirm_ttl=_number("SHIPMATE_CONFIRM_TTL", 120, 10, 3600),
            database_url=os.environ.get("SHIPMATE_DATABASE_URL", "").strip() or None,
            converge_timeout=_number("SHIPMATE_CONVERGE_TIMEOUT", 120, 1, 3600),
            update_timeout=_number("SHIPMATE_UPDATE_TIMEOUT", 60, 1, 3600),
            alerts_path=_beside_dotenv("SHIPMATE_ALERTS", "alerts.yml"),
            alert_window=_duration("SHIPMATE_ALERT_WINDOW", 600, 0, 86400),
            alert_settle=_duration("SHIPMATE_ALERT_SETTLE", 30, 1, 3600),
            engines_path=_engines_file(),
            context=os.environ.get("SHIPMATE_CONTEXT", "").strip() or None,
            home_probe_ttl=_duration("SHIPMATE_HOME_PROBE_TTL", 10, 0, 3600),
        )


def _token(name: str, prefix: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: see .env.example for where it comes from")
    if not value.startswith(prefix):
        raise ConfigError(f"{name} does not look right: it should start with `{prefix}`")
    return value


def _channel_id(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    if value and not re.match(r"^[CG][A-Z0-9]{2,}$", value):
        raise ConfigError(f"{name}={value!r} is not a channel id: copy it from the channel's About tab (C…)")
    return value or None


@dataclass(frozen=True)
class SlackSettings:
    bot_token: str
    signing_secret: str
    app_token: str | None
    api_url: str | None
    reads_in_channel: bool
    workers: int
    audit_channel: str | None = None  # where change-making commands are also posted
    grant_warning: float = 300.0  # a temporary grant's holder is told this long before it ends

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
            audit_channel=_channel_id("SHIPMATE_AUDIT_CHANNEL"),
            grant_warning=_duration("SHIPMATE_GRANT_WARNING", 300.0, 0, 24 * 3600),
        )
