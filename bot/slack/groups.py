"""User-group membership from Slack (usergroups.users.list, scope usergroups:read), cached briefly.

A failed lookup (API error, timeout, missing scope) is logged and raises GroupLookupFailed, and keeps raising for
a short while (the API is not asked again at every request): the caller is refused with "try again", never left
to the `"*"` roles. A group Slack says does not exist (`no_such_subteam`) has no members: that is an answer.
"""

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.policy.model import GroupLookupFailed

log = logging.getLogger(__name__)

FAILURE_TTL_FRACTION = 0.2  # a failure is retried sooner than a success is refreshed


class SlackGroups:
    def __init__(self, client: WebClient, ttl: float = 60) -> None:
        self.client = client
        self.ttl = ttl
        # group id -> (valid until, members; None: the lookup failed)
        self._cache: dict[str, tuple[float, frozenset[str] | None]] = {}
        self._lock = threading.Lock()

    def members_of(self, group_id: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(group_id)
        if cached is not None and cached[0] > now:
            members = cached[1]
        else:
            members = self._fetch(group_id)
            ttl = self.ttl if members is not None else self.ttl * FAILURE_TTL_FRACTION
            with self._lock:
                self._cache[group_id] = (time.monotonic() + ttl, members)
        if members is None:
            raise GroupLookupFailed(group_id)
        return members

    def _fetch(self, group_id: str) -> frozenset[str] | None:
        try:
            response = self.client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as error:
            if error.response.get("error") == "no_such_subteam":
                log.warning("user group %s does not exist in this workspace: it has no members", group_id)
                return frozenset()
            log.warning("user group %s: usergroups.users.list failed (%s)", group_id, error.response.get("error"))
            return None
        except (SlackClientError, OSError) as error:
            log.warning("user group %s: usergroups.users.list failed (%s)", group_id, type(error).__name__)
            return None
        users = response.get("users")
        if not isinstance(users, list):
            log.warning("user group %s: usergroups.users.list answered without a user list", group_id)
            return None
        return frozenset(user for user in users if isinstance(user, str))
