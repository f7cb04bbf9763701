"""One place that builds a Dispatcher from settings: engines, policy, audit log and confirmations.

`shipmate local` and the Slack app both start here, so they enforce (and record) the same things.
"""

import logging
import secrets
from collections.abc import Callable, Sequence

from bot.audit import AuditLog, AuditRecord
from bot.config import CoreSettings
from bot.confirm import Confirmer
from bot.dispatcher import Authorizer, Dispatcher
from bot.engine import RunLimits
from bot.engine.targets import find_containers, find_services
from bot.fleet.registry import Fleet
from bot.policy import GroupLookup, LocalAdmin, PolicyAuthorizer, PolicySource, reload_on_sighup

log = logging.getLogger(__name__)


def make_dispatcher(
    settings: CoreSettings,
    *,
    group_lookup: GroupLookup | None = None,
    audit_sinks: Sequence[Callable[[AuditRecord], None]] = (),
    local_admin: bool = False,
    engine_pool_size: int = 10,
) -> Dispatcher:
    """The dispatcher for Slack (the policy decides) or for the local admin (everything allowed, nothing to click).

    A broken policy or engines file raises a ConfigError naming the file and line; a missing policy means
    Slack users may only use `help` and `whoami` until an admin writes it.
    """
    fleet = Fleet(settings.engines_path, settings.docker_host, settings.docker_timeout, engine_pool_size)
    source = PolicySource(settings.policy_path)
    reload_on_sighup(source)
    if source.current() is None and not local_admin:
        log.warning("no policy file at %s: Slack users may only use help and whoami", settings.policy_path)
    audit = AuditLog(settings.audit_db, audit_sinks)
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
        )
        confirmer = Confirmer(settings.confirm_secret or secrets.token_bytes(32), audit, ttl=settings.confirm_ttl)
    limits = RunLimits(wait_seconds=settings.run_timeout, converge_seconds=settings.converge_timeout)
    return Dispatcher(fleet, authorizer, limits, audit=audit, confirmer=confirmer)
