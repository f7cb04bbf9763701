"""One place that builds a Dispatcher from settings (engines, policy, audit log and confirmations), and the alerts.

`shipmate local` and the Slack app both start here, so they enforce (and record) the same things. The database is
opened once; each part gets the store for its purpose over it (bot/store), and the audit log closes it.
"""

import logging
import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.audit import AuditLog, AuditRecord
from bot.config import CoreSettings
from bot.confirm.tokens import Confirmer
from bot.dispatcher import Authorizer, Dispatcher
from bot.engine import RunLimits
from bot.engine.running_follows import Follows
from bot.engine.targets import find_containers, find_kept_containers, find_services
from bot.fleet.engines import Fleet
from bot.freezes import Freezes, Silences
from bot.policy import GroupLookup, LocalAdmin, PolicyAuthorizer, PolicySource, reload_on_sighup
from bot.store import Store, open_store
from bot.store.approvals import ApprovalRequests
from bot.store.claims import Confirmations
from bot.store.follows import FollowState
from bot.store.freezes import FreezeRecords
from bot.store.grants import Grants
from bot.store.silences import SilenceRecords
from bot.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from bot.alerts.alerter import AlertDelivery, Alerter
    from bot.alerts.update_checks import UpdateChecks
    from bot.alerts.watches import FleetWatch

log = logging.getLogger(__name__)


def open_database(settings: CoreSettings) -> Store:
    """SHIPMATE_DATABASE_URL when set, else the SQLite file SHIPMATE_AUDIT_DB; its schema upgraded."""
    if settings.database_url is None:
        return SqliteStore(settings.audit_db)
    return open_store(settings.database_url)


def check_core(settings: CoreSettings) -> None:
    """The policy and engines files parse and the database opens, its schema upgraded (ConfigError otherwise);
    nothing keeps running."""
    PolicySource(settings.policy_path)
    Fleet(settings.engines_path, settings.docker_host, settings.docker_timeout).close()
    open_database(settings).close()


def make_dispatcher(
    settings: CoreSettings,
    *,
    group_lookup: GroupLookup | None = None,
    audit_sinks: Sequence[Callable[[AuditRecord], None]] = (),
    break_glass_channel: str | None = None,
    local_admin: bool = False,
    engine_pool_size: int = 24,
    follows_at_once: int | None = None,
) -> Dispatcher:
    """The dispatcher for Slack (the policy decides) or for the local admin (everything allowed, nothing to click).

    A broken policy or engines file raises a ConfigError naming the file and line; a missing policy means
    Slack users may only use `help` and `whoami` until an admin writes it. `break_glass_channel`: where a change
    asked for during a freeze with `--break-glass` waits for its two approvers (the audit channel).
    """
    fleet = Fleet(settings.engines_path, settings.docker_host, settings.docker_timeout, engine_pool_size)
    source = PolicySource(settings.policy_path)
    reload_on_sighup(source)
    if source.current() is None and not local_admin:
        log.warning("no policy file at %s: Slack users may only use help and whoami", settings.policy_path)
    database = open_database(settings)
    audit = AuditLog(database, audit_sinks)
    authorizer: Authorizer
    if local_admin:
        authorizer = LocalAdmin(source)
        confirmer = None  # the person at the terminal is the docker CLI's user: no buttons to click
    else:
        authorizer = PolicyAuthorizer(
            source,
            group_lookup,
            lambda name, refs: find_containers(fleet.engine(name), refs),
            lambda name, refs: find_services(fleet.engine(name), refs),
            lambda name, refs: find_kept_containers(fleet.engine(name), refs),
            grants=Grants(database),
        )
        confirmer = Confirmer(
            settings.confirm_secret or secrets.token_bytes(32), Confirmations(database), ttl=settings.confirm_ttl
        )
    limits = RunLimits(
        wait_seconds=settings.run_timeout,
        follow_seconds=settings.follow_max,
        converge_seconds=settings.converge_timeout,
        update_seconds=settings.update_timeout,
    )
    # A Stop following click on any replica reaches the follow, through the database.
    follows = Follows(FollowState(database), per_user=settings.follow_per_user, at_once=follows_at_once)
    return Dispatcher(
        fleet,
        authorizer,
        limits,
        audit=audit,
        confirmer=confirmer,
        follows=follows,
        freezes=Freezes(source.current, FreezeRecords(database), break_glass_channel),
        silences=Silences(SilenceRecords(database)),
        approval_requests=ApprovalRequests(database),
        groups=group_lookup,
    )


class AlertWatch:
    """The alert rules, the watchers of the engines in force and the alerter they feed; `close()` stops them all."""

    def __init__(self, alerter: "Alerter", watches: "FleetWatch", update_checks: "UpdateChecks") -> None:
        self.alerter = alerter
        self.watches = watches
        self.update_checks = update_checks  # the `updates` rules: a check per period, on its own thread

    def close(self) -> None:
        self.update_checks.close()
        self.watches.close()
        self.alerter.close()


def start_alerts(settings: CoreSettings, audit: AuditLog, fleet: Fleet, delivery: "AlertDelivery") -> AlertWatch | None:
    """Watch every engine of the fleet when an alerts file exists (following the engines file as it changes);
    None when there is none. The alert state (claims, incidents, cursors) shares the audit log's database.

    A broken file raises AlertsError (a ConfigError naming the file and line).
    """
    if not settings.alerts_path.exists():
        log.info("no alerts file at %s: no alerts are posted", settings.alerts_path)
        return None
    from bot.alerts.alerter import Alerter
    from bot.alerts.source import AlertsSource
    from bot.alerts.update_checks import UpdateChecks
    from bot.alerts.watches import FleetWatch
    from bot.store.alerts import AlertState

    source = AlertsSource(settings.alerts_path)
    reload_on_sighup(source)
    state = AlertState(audit.store)
    watches = FleetWatch(fleet, state)
    alerter = Alerter(
        source.rules,
        state,
        audit,
        delivery,
        watches.engine,
        window=settings.alert_window,
        settle=settings.alert_settle,
        silences=Silences(SilenceRecords(audit.store)),
    )
    update_checks = UpdateChecks(source.rules, state, audit, delivery, fleet).start()
    return AlertWatch(alerter, watches.start(alerter.handle), update_checks)
