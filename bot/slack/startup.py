"""Start-up checks of `serve` and `socket`: each problem becomes one ConfigError line, never a traceback.

They run before any server starts (under `serve`, in gunicorn's master, before it forks its worker), so a bad
token, an unreachable Slack or a port in use stops start-up at once with a line naming it.
"""

import errno
import logging
import socket

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import ConfigError, SlackSettings

CHECK_TIMEOUT_SECONDS = 10
# The check's own client logs nothing: its outcome is the one line the CLI prints.
_quiet = logging.getLogger("shipmate.startup.slack")
_quiet.disabled = True


def _ask(token: str, name: str, api_url: str | None, method: str) -> None:
    client = WebClient(
        token=token, base_url=api_url or WebClient.BASE_URL, timeout=CHECK_TIMEOUT_SECONDS, logger=_quiet
    )
    client.retry_handlers = []  # one try: a start-up check should answer, not wait out backoffs
    where = api_url or WebClient.BASE_URL
    try:
        client.api_call(method)
    except SlackApiError as error:
        code = error.response.get("error", "error") if error.response is not None else "error"
        raise ConfigError(f"{name} was rejected by Slack ({code}): copy it again from the app's settings") from None
    except (SlackClientError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise ConfigError(f"cannot reach Slack at {where} ({reason})") from None


def check_slack(settings: SlackSettings) -> None:
    """Slack answers, and accepts the bot token (and, for Socket Mode, the app token)."""
    _ask(settings.bot_token, "SLACK_BOT_TOKEN", settings.api_url, "auth.test")
    if settings.app_token is not None:
        _ask(settings.app_token, "SLACK_APP_TOKEN", settings.api_url, "apps.connections.open")


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; port 0 picks a free one (read it from getsockname())."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a port number: use 1–65535, or 0 for any free port")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        server = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use: stop what uses it or pick another --port"
            ) from None
        if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(f"--host {host} is not an address of this machine") from None
        raise ConfigError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
    server.set_inheritable(True)  # gunicorn's worker serves it
    return server


class WorkerExplained(logging.Filter):
    """Drops gunicorn's own lines about a worker that failed to boot once that worker has printed why.

    The worker prints the one line and exits with gunicorn's boot-error code; gunicorn's master would add three
    more ("Worker … exited with code 3", "Shutting down: Master", "Reason: Worker failed to boot.").
    """

    BOOT_ERROR = 3  # gunicorn.arbiter.Arbiter.WORKER_BOOT_ERROR

    def __init__(self) -> None:
        super().__init__()
        self.explained = False

    def filter(self, record: logging.LogRecord) -> bool:
        exited = str(record.msg).startswith("Worker (pid:%s) exited with code %s")
        if exited and isinstance(record.args, tuple) and record.args[-1] == self.BOOT_ERROR:
            self.explained = True
        return not self.explained
