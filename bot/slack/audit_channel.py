"""SHIPMATE_AUDIT_CHANNEL: each change-making command (done, refused or rejected) as a short channel message.

The audit writer thread calls the sink, so a slow or failing post never holds up a request. Records arrive
already masked; a failed post is logged and dropped (the record itself is safe in the audit database).
"""

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audit import AuditRecord
from bot.render.kit import escape
from bot.store.audit import ALLOWED, CONFIRMED, REFUSED, REJECTED

log = logging.getLogger(__name__)

POSTED_DECISIONS = {ALLOWED, CONFIRMED, REFUSED, REJECTED}  # not the "please confirm" step, nor cancellations
_ICONS = {"ok": "✅", "failed": "⚠️", "refused": "⛔", "rejected": "⛔"}
MAX_COMMAND = 300


class AuditChannelSink:
    def __init__(self, client: WebClient, channel_id: str) -> None:
        self.client = client
        self.channel_id = channel_id

    @staticmethod
    def line(record: AuditRecord) -> str:
        where = f" in <#{record.channel_id}>" if record.channel_id[:1] in ("C", "G") else ""
        command = escape(record.command[:MAX_COMMAND]).replace("`", "'")
        detail = f" — {escape(record.detail[:200])}" if record.outcome != "ok" and record.detail else ""
        took = f" · {record.duration_ms / 1000:.1f} s" if record.duration_ms >= 100 else ""
        icon = _ICONS.get(record.outcome, "•")
        return f"{icon} <@{record.user_id}>{where}: `{command}` · {record.decision}, {record.outcome}{took}{detail}"

    def __call__(self, record: AuditRecord) -> None:
        if not record.changes or record.decision not in POSTED_DECISIONS:
            return
        text = self.line(record)
        try:
            self.client.chat_postMessage(channel=self.channel_id, text=text, unfurl_links=False, unfurl_media=False)
        except SlackApiError as error:
            log.warning("audit channel post failed: %s", error.response.get("error"))
        except (SlackClientError, OSError) as error:
            log.warning("audit channel post failed: %s", type(error).__name__)
