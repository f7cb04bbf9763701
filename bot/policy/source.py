"""The policy in force, reloaded when its file changes or on SIGHUP (bot.watched); `/docker policy` shows a
broken edit's problem to admins while the last good policy stays in force."""

from dataclasses import dataclass
from pathlib import Path

from bot.policy.model import Policy
from bot.watched import WatchedFile, reload_on_sighup

__all__ = ["PolicySource", "PolicyState", "reload_on_sighup"]


def _load(path: Path) -> Policy:
    # Imported here: the YAML reader is a tenth of `shipmate local`'s start-up, and is needed only for a file.
    from bot.policy.load import load_policy

    return load_policy(path)


@dataclass(frozen=True)
class PolicyState:
    policy: Policy | None  # None: there is no policy file (and never was one since start-up)
    problem: str | None  # why the file on disk is not the policy in force, when it is not


class PolicySource(WatchedFile[Policy]):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _load, "policy")

    def state(self) -> PolicyState:
        loaded = self.loaded()
        return PolicyState(loaded.value, loaded.problem)
