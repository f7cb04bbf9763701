"""Prometheus metrics of a serving Shipmate (`serve`, `socket`). Until `enable()` every hook is a no-op, and
prometheus_client is never imported: `shipmate local` pays nothing for them.

Labels are fixed vocabularies (actions, decisions, outcomes, error kinds, Slack methods): never user text or secrets.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.store.audit import CANCELLED, CONFIRM, CONFIRMED, REJECTED, AuditRecord

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0)
WORK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


@dataclass(frozen=True)
class _Metrics:
    registry: Any  # prometheus_client.CollectorRegistry
    commands: Any
    execution: Any
    acks: Any
    engine_errors: Any
    slack_retries: Any
    slack_failures: Any
    confirmations: Any
    in_flight: Any
    refused_requests: Any
    audit_dropped: Any


_active: _Metrics | None = None
_lock = threading.Lock()


def enable(in_flight: Callable[[], float]) -> None:
    """Create the metrics (once per process); `in_flight` counts the work running now."""
    global _active
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

    try:
        shipmate_version = version("shipmate")
    except PackageNotFoundError:  # run from a checkout that was never installed
        shipmate_version = "unknown"

    with _lock:
        registry = CollectorRegistry()
        metrics = _Metrics(
            registry=registry,
            commands=Counter(
                "shipmate_commands",
                "Commands handled, by action, decision and outcome",
                ["action", "decision", "outcome"],
                registry=registry,
            ),
            execution=Histogram(
                "shipmate_execution_seconds",
                "Time from parse to result, by action",
                ["action"],
                buckets=WORK_BUCKETS,
                registry=registry,
            ),
            acks=Histogram(
                "shipmate_ack_seconds",
                "Time to acknowledge Slack, by kind of request",
                ["kind"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            engine_errors=Counter(
                "shipmate_engine_errors", "Docker Engine API errors, by kind", ["kind"], registry=registry
            ),
            slack_retries=Counter("shipmate_slack_retries", "Slack requests tried again", registry=registry),
            slack_failures=Counter(
                "shipmate_slack_failures",
                "Slack requests that failed for good, by method",
                ["method"],
                registry=registry,
            ),
            confirmations=Counter(
                "shipmate_confirmations",
                "Confirmations asked, confirmed, cancelled, expired or rejected",
                ["event"],
                registry=registry,
            ),
            in_flight=Gauge("shipmate_in_flight", "Commands running now", registry=registry),
            refused_requests=Counter(
                "shipmate_http_refused",
                "HTTP requests refused before any work: unsigned, badly signed, stale or replayed, by reason",
                ["reason"],
                registry=registry,
            ),
            audit_dropped=Counter(
                "shipmate_audit_dropped",
                "Audit records logged but not kept for the database: too many waited while it was away",
                registry=registry,
            ),
        )
        metrics.in_flight.set_function(in_flight)
        build = Gauge(
            "shipmate_build_info", "Shipmate's version and Python's", ["version", "python"], registry=registry
        )
        build.labels(shipmate_version, platform.python_version()).set(1)
        _active = metrics


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    if _active is None:
        return b"", CONTENT_TYPE_LATEST
    return generate_latest(_active.registry), CONTENT_TYPE_LATEST


def _confirmation_event(record: AuditRecord) -> str | None:
    if record.decision == CONFIRM:
        return "asked"
    if record.decision in (CONFIRMED, CANCELLED):
        return record.decision
    if record.decision == REJECTED and record.detail.startswith("this confirmation expired"):
        return "expired"
    return None


def counted(record: AuditRecord) -> None:
    """A command decided (its audit record): each one counts once."""
    if _active is None:
        return
    action = record.action or "none"
    _active.commands.labels(action, record.decision, record.outcome).inc()
    _active.execution.labels(action).observe(record.duration_ms / 1000)
    event = _confirmation_event(record)
    if event is not None:
        _active.confirmations.labels(event).inc()


def acked(kind: str, seconds: float) -> None:
    if _active is not None:
        _active.acks.labels(kind).observe(seconds)


def engine_error(kind: str) -> None:
    if _active is not None:
        _active.engine_errors.labels(kind).inc()


def slack_retry() -> None:
    if _active is not None:
        _active.slack_retries.inc()


def slack_failure(method: str) -> None:
    if _active is not None:
        _active.slack_failures.labels(method).inc()


def refused_request(reason: str) -> None:
    """One refused HTTP request; `reason` is RequestGuard's fixed wording."""
    if _active is not None:
        _active.refused_requests.labels(reason.replace(" ", "_")).inc()


def audit_dropped() -> None:
    if _active is not None:
        _active.audit_dropped.inc()
