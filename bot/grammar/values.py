"""Checks for the values inside a command line: names, image references, env, ports, durations."""

import ipaddress
import re
from datetime import UTC, datetime

from bot.grammar.commands import PortMapping
from bot.grammar.errors import ParseError

# Every pattern is used with fullmatch: `$` would let a trailing newline through.
# docker's own rule for container names (daemon/names.go); ids are hex, so they match too.
_CONTAINER = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# A docker reference: [host[:port]/]path[/path…][:tag][@digest]; path components are lowercase.
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
_TAG = r"[\w][\w.-]{0,127}"  # \w as in Go: ASCII only (re.ASCII below)
_IMAGE = re.compile(rf"(?P<repo>{_HOST}?{_PATH})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>sha256:[a-f0-9]{{64}}))?", re.ASCII)
_IMAGE_ID = re.compile(r"(?:sha256:)?[a-f0-9]{12,64}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", re.ASCII)
_INTEGER = re.compile(r"-?[0-9]+")  # str.isdigit() also accepts "²", which int() refuses

MAX_TAIL = 10_000
MAX_NAME = 128


def container_name(value: str) -> str:
    """A name for a new container (--name)."""
    if len(value) > MAX_NAME or not _CONTAINER.fullmatch(value) or value.startswith("/"):
        raise ParseError(f"`{value}` is not a valid container name: use letters, digits, `_`, `.` and `-`")
    return value


def container_ref(value: str) -> str:
    """A name or id of an existing container."""
    if len(value) > MAX_NAME or not _CONTAINER.fullmatch(value):
        raise ParseError(f"`{value}` is not a container name or id")
    return value.removeprefix("/")


def image_ref(value: str) -> str:
    if len(value) > 255 or not (_IMAGE.fullmatch(value) or _IMAGE_ID.fullmatch(value)):
        raise ParseError(
            f"`{value}` is not a valid image reference: use e.g. `nginx`, `nginx:1.25`, `registry:5000/team/app:v2`"
        )
    return value


def split_image(value: str) -> tuple[str, str | None, str | None]:
    """nginx:1.25 -> ("nginx", "1.25", None); registry:5000/app@sha256:… -> ("registry:5000/app", None, "sha256:…")."""
    match = _IMAGE.fullmatch(image_ref(value))
    if match is None:  # a bare image id
        return value, None, None
    return match.group("repo"), match.group("tag"), match.group("digest")


def env_pair(value: str) -> tuple[str, str]:
    name, sep, content = value.partition("=")
    if not sep:
        raise ParseError(f"`--env {value}` needs a value: write `--env {value or 'KEY'}=VALUE`")
    if not _ENV_NAME.fullmatch(name):
        raise ParseError(
            f"`{name or '(empty)'}` is not a valid variable name in `--env {value}`: write `--env KEY=VALUE`"
        )
    if "\x00" in content:
        raise ParseError(f"the value of `{name}` contains a NUL character")
    return name, content


def _port(value: str, what: str, spec: str) -> int:
    if not _INTEGER.fullmatch(value) or not 1 <= int(value) <= 65535:
        raise ParseError(f"`{value or '(empty)'}` is not a valid {what} port in `-p {spec}`: ports are 1–65535")
    return int(value)


def port_mapping(spec: str) -> PortMapping:
    """[IP:]HOST:CONTAINER[/tcp|udp], as `docker run -p` takes it."""
    body, _, protocol = spec.partition("/")
    protocol = protocol or "tcp"
    if protocol not in ("tcp", "udp"):
        raise ParseError(f"`{protocol}` is not a protocol in `-p {spec}`: use tcp or udp")
    parts = body.split(":")
    if len(parts) not in (2, 3):
        raise ParseError(f"`-p {spec}` is not a port mapping: write `-p HOST:CONTAINER`, e.g. `-p 8081:3000`")
    host_ip = parts[0] if len(parts) == 3 else ""
    if host_ip:
        try:
            ipaddress.IPv4Address(host_ip)
        except ValueError:
            raise ParseError(f"`{host_ip}` is not an IPv4 address in `-p {spec}`") from None
    return PortMapping(
        host_port=_port(parts[-2], "host", spec),
        container_port=_port(parts[-1], "container", spec),
        protocol=protocol,
        host_ip=host_ip,
    )


def tail_lines(value: str) -> int:
    if value == "all":
        return MAX_TAIL
    if not _INTEGER.fullmatch(value):
        raise ParseError(f"`--tail {value}` is not a number of lines: write e.g. `--tail 50`")
    lines = int(value)
    if not 0 <= lines <= MAX_TAIL:
        raise ParseError(f"`--tail {value}` is out of range: use 0–{MAX_TAIL}")
    return lines


def duration_seconds(value: str) -> int:
    """10m, 1h30m, 2d, 45s -> seconds (what `--since` takes here)."""
    match = _DURATION.fullmatch(value)
    if not value or match is None or not any(match.groups()):
        raise ParseError(f"`--since {value}` is not a duration: write e.g. `--since 10m`, `--since 2h`, `--since 1d`")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


PS_FILTERS = {"id", "name", "label", "status", "exited", "ancestor", "health", "publish", "expose", "before", "since"}
_STATUSES = {"created", "restarting", "running", "removing", "paused", "exited", "dead"}


def split_filter(value: str, allowed: set[str], example: str, kind: str = "a filter") -> tuple[str, str]:
    """`--filter KEY=VALUE` with KEY one of `allowed`; `example` is shown when the form is wrong."""
    key, sep, content = value.partition("=")
    if not sep or not key or not content:
        raise ParseError(f"`--filter {value}` needs KEY=VALUE, e.g. `--filter {example}`")
    if key not in allowed:
        raise ParseError(f"`{key}` is not {kind}: use one of {', '.join(sorted(allowed))}")
    return key, content


def ps_filter(value: str) -> tuple[str, str]:
    key, content = split_filter(value, PS_FILTERS, "status=exited")
    if key == "status" and content not in _STATUSES:
        raise ParseError(f"`{content}` is not a container status: use one of {', '.join(sorted(_STATUSES))}")
    if key == "exited" and not _INTEGER.fullmatch(content):
        raise ParseError(f"`exited={content}` needs an exit code, e.g. `exited=0`")
    return key, content


EVENT_FILTERS = {"container", "event", "image", "label", "type", "volume", "network", "daemon", "scope"}
EVENT_TYPES = {"container", "image", "volume", "network", "daemon", "plugin", "builder"}


def event_filter(value: str) -> tuple[str, str]:
    key, content = split_filter(value, EVENT_FILTERS, "container=web1", "an events filter")
    if key == "type" and content not in EVENT_TYPES:
        raise ParseError(f"`{content}` is not an event type: use one of {', '.join(sorted(EVENT_TYPES))}")
    return key, content


def past_time(value: str, flag: str, now: float) -> str:
    """A moment in the past: a duration ago ("10m" -> "600s", worked out when the command runs) or unix seconds.

    Accepts what `docker events` does for past times: durations, unix seconds and RFC 3339 dates.
    """
    duration = _DURATION.fullmatch(value)
    if duration and any(duration.groups()):
        return f"{duration_seconds(value)}s"
    if _INTEGER.fullmatch(value) and not value.startswith("-"):
        moment = float(value)
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ParseError(
                f"`{flag} {value}` is not a time: write a duration ago (`10m`, `2h`), a date (`2024-05-01T10:00:00Z`) "
                "or unix seconds"
            ) from None
        moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    if moment > now:
        raise ParseError(f"`{flag} {value}` is in the future: events shows past events only")
    return str(int(moment))
