"""The audit record of an alert Shipmate posted (or updated) on its own: no person asked, Shipmate spoke first."""

import time

from bot.store.audit import ALERT, AuditRecord

SHIPMATE = "shipmate"


def alert_record(channel: str, command: str, action: str, ok: bool, detail: str, engine: str) -> AuditRecord:
    return AuditRecord(
        at=time.time(),
        team_id="",
        user_id=SHIPMATE,
        user_name=SHIPMATE,
        channel_id=channel,
        command=command,
        action=action,
        changes=False,
        decision=ALERT,
        outcome="ok" if ok else "failed",
        detail=detail,
        engine=engine,
    )
