"""Who may do what, where: the policy file, its reloading, and the authorize stage built on it."""

from bot.policy.authorize import Decision, LocalAdmin, PolicyAuthorizer, TargetLookup, Who
from bot.policy.model import ACTIONS, OPEN_ACTIONS, ApprovalRule, GroupLookup, GroupLookupFailed, Policy, RunDefaults
from bot.policy.source import PolicySource, PolicyState, reload_on_sighup

__all__ = [
    "ACTIONS",
    "OPEN_ACTIONS",
    "ApprovalRule",
    "Decision",
    "GroupLookup",
    "GroupLookupFailed",
    "LocalAdmin",
    "Policy",
    "PolicyAuthorizer",
    "PolicyError",
    "PolicySource",
    "PolicyState",
    "RunDefaults",
    "TargetLookup",
    "Who",
    "load_policy",
    "parse_policy",
    "reload_on_sighup",
]


def __getattr__(name: str) -> object:
    """PolicyError, load_policy and parse_policy, imported on first use: they bring in the YAML reader, which
    `shipmate local` without a policy file never needs."""
    if name in ("PolicyError", "load_policy", "parse_policy"):
        from bot.policy import load

        return getattr(load, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
