"""The policy file: loading with line-numbered errors, reloading, the image allowlist, and the authorize stage
(roles, includes, "*", user groups, channels, images, `:own`) with fakes for Slack groups and Docker targets.

End-to-end checks against the private engine are in test_permissions_engine.py.
"""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.config import ConfigError
from bot.dispatcher import Caller
from bot.engine.containers import OWNER_LABEL
from bot.engine.targets import ContainerFacts
from bot.grammar import parse_line
from bot.policy import PolicyAuthorizer, PolicyError, PolicySource, load_policy, parse_policy
from bot.policy.images import ImageAllowlist
from bot.policy.model import GroupLookupFailed
from bot.slack.groups import SlackGroups
from tests.slack_standin import SlackStandin

REPO = Path(__file__).resolve().parent.parent

POLICY = """\
roles:
  viewer: [image.ls, image.inspect, container.ls, container.inspect, container.logs]
  operator: [viewer, container.run, container.start, container.stop, container.restart, image.pull, container.rm:own]
  admin: ["*"]
members:
  U0ADMIN: admin
  U0OPER: operator
  S0ONCALL: operator
  "*": viewer
channels: [C0OPS, im]
images: [nginx, busybox, "devwikirepo/*", "registry.example.com/**"]
run:
  memory: 256m
  cpus: 0.5
"""


class FakeGroups:
    def __init__(self, groups: dict[str, set[str]]) -> None:
        self.groups = groups
        self.asked: list[str] = []

    def members_of(self, group_id: str) -> frozenset[str]:
        self.asked.append(group_id)
        return frozenset(self.groups.get(group_id, ()))


class FakeTargets:
    """The engine's containers as the authorizer's one lookup sees them; counts the lookups."""

    def __init__(self, *containers: ContainerFacts) -> None:
        self.by_name = {facts.name: facts for facts in containers}
        self.lookups: list[tuple[str, ...]] = []

    def __call__(self, engine: str, refs: tuple[str, ...]) -> dict[str, ContainerFacts | None]:
        self.lookups.append(refs)
        return {ref: self.by_name.get(ref) for ref in refs}


def container(name: str, owner: str | None, state: str = "running", team: str | None = "T0TEAM") -> ContainerFacts:
    return ContainerFacts(id=f"{name}-id".ljust(64, "0"), name=name, state=state, owner=owner, team=team)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write(tmp_path / "policy.yml", POLICY)


def authorizer(path: Path, groups: FakeGroups | None = None, targets: FakeTargets | None = None) -> PolicyAuthorizer:
    return PolicyAuthorizer(PolicySource(path), groups or FakeGroups({}), targets or FakeTargets())


def who(user: str, channel: str = "C0OPS", team: str = "T0TEAM") -> Caller:
    return Caller(user_id=user, team_id=team, channel_id=channel, user_name=user.lower())


def decide(auth: PolicyAuthorizer, line: str, caller: Caller):
    return auth.authorize(parse_line(line), caller)


# -- loading and checking -----------------------------------------------------------------


def test_the_example_policy_loads_as_documented() -> None:
    policy = load_policy(REPO / "policy.example.yml")
    assert list(policy.roles) == ["viewer", "operator", "admin"]
    assert policy.roles["operator"].grants["container.rm"] is True  # :own
    assert policy.roles["operator"].grants["service.update"] is policy.roles["operator"].grants["service.rollback"]
    assert (
        policy.roles["operator"].grants["service.update"] is True
        and policy.roles["operator"].grants["service.scale"] is False
    )
    assert policy.roles["operator"].grants["image.ls"] is False  # included from viewer, in full
    assert "image.rm" not in policy.roles["operator"].grants
    assert policy.members["S0ONCALL"] == (("prod-*", ("operator",)), ("*", ("viewer",)))
    assert policy.members["*"] == (("*", ("viewer",)),)
    assert policy.channels == {"C0OPS", "im"}
    assert policy.run.memory == "512m" and policy.run.cpus == 1.5


def test_without_a_roles_key_the_standard_three_roles_apply(tmp_path: Path) -> None:
    policy = parse_policy("members:\n  U0ABC: operator\n", tmp_path / "policy.yml")
    assert list(policy.roles) == ["viewer", "operator", "admin"]
    assert policy.grants(("operator",))["container.rm"] is True
    assert policy.channels is None and policy.images is None


BROKEN = [
    ("roles:\n  a: [image.ls]\nmembrs:\n  U0ABC: a\n", 3, "unknown key `membrs`", "did you mean `members`"),
    ("roles:\n  a:\n    - image.ls\n    - container.nuke\n", 4, "unknown action `container.nuke` in role `a`", ""),
    (
        "members:\n  U0ABC: viewer\n  U0DEF: oprator\n",
        3,
        "unknown role `oprator` for `U0DEF`",
        "did you mean `operator`",
    ),
    ("roles:\n  a: [b]\n  b: [c]\n  c: [image.ls, a]\n", 4, "cycle: a → b → c → a", ""),
    ("roles:\n  a: [image.ls, a]\n", 2, "role `a` includes itself", ""),
    ("roles:\n  a: [viewer]\n", 2, "`viewer` in role `a` is neither an action nor a role", ""),
    ("roles:\n  a: [image.rm:own]\n", 2, "`:own` applies only to actions on containers and services", ""),
    ("roles:\n  a: [container.rm:mine]\n", 2, "the only suffix is `:own`", ""),
    ("members:\n  U0ABC: viewer\n  U0ABC: admin\n", 3, "`U0ABC` appears twice", "first on line 2"),
    ("members:\n  bob: viewer\n", 2, "`bob` is not a Slack user id", ""),
    ("members:\n  C0OPS: viewer\n", 2, "`C0OPS` is a channel id", ""),
    ("channels: ['#ops']\n", 1, "not its name", ""),
    ("channels: [D0123]\n", 1, "write `im`", ""),
    ("roles:\n  admin: [*]\n", 2, "not valid YAML", 'quoted: "*"'),
    ("images: [nginx, 'nginx latest']\n", 1, "is not an image pattern", ""),
    ("run:\n  memory: 1m\n", 2, "below Docker's minimum", ""),
    ("run:\n  memory: 512m\n  cpu: 2\n", 3, "unknown key `run.cpu`", "did you mean `cpus`"),
    ("run:\n  cpus: lots\n", 2, "run.cpus must be a number", ""),
    ("members: [U0ABC]\n", 1, "must be a mapping", ""),
    ("roles:\n  ops: [image.ls\n", 3, "not valid YAML", ""),
]


@pytest.mark.parametrize(("text", "line", "says", "hint"), BROKEN)
def test_a_broken_policy_names_its_line(tmp_path: Path, text: str, line: int, says: str, hint: str) -> None:
    path = write(tmp_path / "policy.yml", text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert raised.value.line == line
    message = str(raised.value)
    assert message.startswith(f"{path}, line {line}: ")
    assert says in message and hint in message
    assert "\n" not in message
    assert isinstance(raised.value, ConfigError)  # start-up reports it as one line and stops


def test_an_empty_policy_is_an_error_not_a_silent_lockout(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="the policy is empty"):
        load_policy(write(tmp_path / "policy.yml", "# nothing yet\n"))


def test_start_up_with_a_broken_policy_stops_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / "policy.yml", POLICY.replace("container.logs]", "container.log]"))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SHIPMATE_", "SLACK_"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "local", "--user", "U0OPER", "/ps"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO), "DOCKER_HOST": f"unix://{tmp_path}/no.sock"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"shipmate: configuration error: {tmp_path}/policy.yml, line 2: unknown action `container.log` in role "
        "`viewer` (did you mean `container.logs`?)"
    ]


# -- reloading ----------------------------------------------------------------------------


def bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_a_changed_file_is_reloaded_on_next_use(policy_file: Path) -> None:
    auth = authorizer(policy_file)
    assert not decide(auth, "/run -d nginx", who("U0NEW")).allowed
    write(policy_file, POLICY.replace("U0OPER: operator", "U0NEW: operator"))
    bump_mtime(policy_file)
    assert decide(auth, "/run -d nginx", who("U0NEW")).allowed


def test_a_broken_reload_keeps_the_last_good_policy_and_says_why(
    policy_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = PolicySource(policy_file)
    auth = PolicyAuthorizer(source)
    write(policy_file, POLICY.replace('admin: ["*"]', 'admin: ["*", container.nuke]'))
    bump_mtime(policy_file)
    with caplog.at_level(logging.ERROR, logger="bot.policy.source"):
        assert decide(auth, "/run -d nginx", who("U0OPER")).allowed  # the old policy is still in force
        source.state()
        source.state()
    state = source.state()
    assert state.policy is not None and "U0OPER" in state.policy.members
    assert state.problem and "line 4: unknown action `container.nuke`" in state.problem
    assert len([r for r in caplog.records if "container.nuke" in r.getMessage()]) == 1  # logged once per change
    summary = auth.summary()
    assert summary.problem == state.problem
    write(policy_file, POLICY)
    bump_mtime(policy_file)
    assert source.state().problem is None


def test_sighup_reloads_even_an_unchanged_looking_file(policy_file: Path) -> None:
    from bot.policy import reload_on_sighup

    source = PolicySource(policy_file)
    reload_on_sighup(source)
    before = policy_file.stat()
    # Same size, same mtime, same inode: only a SIGHUP can tell the policy to look again.
    write(policy_file, POLICY.replace("U0OPER", "U0OPEX"))
    os.utime(policy_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert "U0OPER" in source.current().members
    os.kill(os.getpid(), signal.SIGHUP)
    assert "U0OPEX" in source.current().members


def test_a_deleted_file_keeps_the_policy_and_a_new_file_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    source = PolicySource(path)
    assert source.current() is None
    write(path, POLICY)
    assert source.current() is not None
    path.unlink()
    state = source.state()
    assert state.policy is not None and "is gone" in (state.problem or "")


# -- the image allowlist -------------------------------------------------------------------

ALLOW = ImageAllowlist(("nginx", "devwikirepo/*", "registry.example.com/**", "busybox:1.*"))


@pytest.mark.parametrize(
    ("reference", "allowed"),
    [
        ("nginx", True),
        ("nginx:1.25", True),
        ("docker.io/library/nginx:latest", True),
        ("library/nginx", True),
        ("nginxx", False),
        ("evil/nginx", False),
        ("devwikirepo/envnodecolorapp", True),
        ("devwikirepo/a/b", False),  # `*` stays within one path component
        ("registry.example.com/team/app:v2", True),  # `**` crosses them
        ("registry.example.com:5000/app", False),
        ("busybox:1.36", True),
        ("busybox", False),  # busybox:latest is not busybox:1.*
        ("busybox:2", False),
    ],
)
def test_image_patterns_match_like_docker_names_images(reference: str, allowed: bool) -> None:
    assert ALLOW.allows(reference) is allowed


PINNED = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
DIGESTS = ImageAllowlist(("nginx:1.25", "busybox", f"redis@{PINNED}", "alpine:*", f"caddy:2@{PINNED}"))


@pytest.mark.parametrize(
    ("reference", "allowed"),
    [
        ("nginx:1.25", True),
        (f"nginx:1.25@{OTHER}", False),  # a tag entry says nothing about other content
        (f"nginx@{OTHER}", False),
        (f"busybox@{OTHER}", True),  # a bare repository allows everything in it
        (f"busybox:1.36@{OTHER}", True),
        (f"redis@{PINNED}", True),
        (f"redis:7@{PINNED}", True),
        (f"redis@{OTHER}", False),
        ("redis:7", False),
        ("alpine:3.19", True),
        (f"alpine:3.19@{OTHER}", False),  # `*` is a tag pattern: tags only
        (f"caddy:2@{PINNED}", True),
        (f"caddy:3@{PINNED}", False),
    ],
)
def test_a_digest_is_allowed_only_by_an_entry_that_allows_that_content(reference: str, allowed: bool) -> None:
    assert DIGESTS.allows(reference) is allowed


def test_pull_and_run_by_digest_are_checked_as_typed(tmp_path: Path) -> None:
    auth = authorizer(write(tmp_path / "policy.yml", "members:\n  U0OPER: operator\nimages: ['nginx:1.25']\n"))
    for line in (f"/img pull nginx:1.25@{OTHER}", f"/run -d nginx:1.25@{OTHER}"):
        refused = decide(auth, line, who("U0OPER"))
        assert refused.reason == f"`nginx:1.25@{OTHER}` is not on the image allowlist (nginx:1.25)", line
    assert decide(auth, "/img pull nginx:1.25", who("U0OPER")).allowed


# -- the authorize stage -------------------------------------------------------------------


def test_a_viewer_can_list_but_not_run(policy_file: Path) -> None:
    auth = authorizer(policy_file)
    viewer = who("U0SOMEONE")  # the "*" entry
    assert decide(auth, "/ps -a", viewer).allowed
    assert decide(auth, "/img ls", viewer).allowed
    refused = decide(auth, "/run -d nginx", viewer)
    assert not refused.allowed
    assert refused.reason == "you are viewer; `container.run` needs operator"
    assert decide(auth, "/img rm nginx", who("U0OPER")).reason == "you are operator; `image.rm` needs admin"


def test_an_admin_may_do_anything_including_reading_policy_and_audit(policy_file: Path) -> None:
    auth = authorizer(policy_file)
    for line in ("/img rm nginx", "/rm -f web1", "/docker policy", "/docker audit --limit 5", "/run -d nginx"):
        assert decide(auth, line, who("U0ADMIN")).allowed, line
    assert decide(auth, "/docker audit", who("U0OPER")).reason == "you are operator; `audit.show` needs admin"


def test_no_role_at_all_says_which_entry_would_grant_one(tmp_path: Path) -> None:
    auth = authorizer(write(tmp_path / "policy.yml", "members:\n  U0ADMIN: admin\n"))
    refused = decide(auth, "/ps", who("U0NEW"))
    assert refused.reason == (
        "you have no Shipmate role; `container.ls` needs viewer — an admin can add `U0NEW: viewer` "
        "under `members:` in policy.yml"
    )


def test_without_a_policy_only_help_and_whoami_work(tmp_path: Path) -> None:
    auth = authorizer(tmp_path / "policy.yml")
    refused = decide(auth, "/ps", who("U0123"))
    assert refused.reason == (
        "Shipmate has no policy yet: an admin can grant you access by adding `U0123: operator` under `members:` "
        "in policy.yml"
    )
    assert decide(auth, "/docker help", who("U0123")).allowed
    assert decide(auth, "/docker whoami", who("U0123")).allowed
    assert "no policy yet" in auth.identity(who("U0123")).note


def test_channels_limit_where_commands_are_taken(policy_file: Path) -> None:
    auth = authorizer(policy_file)
    assert decide(auth, "/ps", who("U0ADMIN", channel="C0OPS")).allowed
    assert decide(auth, "/ps", who("U0ADMIN", channel="D0DM")).allowed  # `im` is listed
    refused = decide(auth, "/ps", who("U0ADMIN", channel="C0RANDOM"))
    assert refused.reason == "Shipmate takes commands only in C0OPS and direct messages, not in this channel"
    # help and whoami work anywhere, so anyone can find out where to go
    assert decide(auth, "/docker whoami", who("U0ADMIN", channel="C0RANDOM")).allowed
    identity = auth.identity(who("U0ADMIN", channel="C0RANDOM"))
    assert not identity.channel_allowed and "only in C0OPS" in identity.note

    no_dms = authorizer(write(policy_file, POLICY.replace("[C0OPS, im]", "[C0OPS]")))
    assert decide(no_dms, "/ps", who("U0ADMIN", channel="D0DM")).reason == (
        "Shipmate takes commands only in C0OPS, not in direct messages"
    )


def test_the_image_allowlist_governs_run_and_pull(policy_file: Path) -> None:
    auth = authorizer(policy_file)
    admin = who("U0ADMIN")
    assert decide(auth, "/run -d nginx:1.25", admin).allowed
    assert decide(auth, "/img pull devwikirepo/envnodecolorapp", admin).allowed
    refused = decide(auth, "/run -d alpine", admin)
    assert refused.reason.startswith("`alpine` is not on the image allowlist (nginx, busybox, devwikirepo/*")
    assert not decide(auth, "/img pull evil/nginx", admin).allowed
    by_id = decide(auth, "/run -d 0123456789ab", admin)
    assert not by_id.allowed and "looks like an image id" in by_id.reason
    assert decide(auth, "/img inspect alpine", admin).allowed  # reading is not using


def test_user_group_membership_grants_a_role(policy_file: Path) -> None:
    groups = FakeGroups({"S0ONCALL": {"U0PAGER"}})
    auth = authorizer(policy_file, groups)
    assert decide(auth, "/run -d nginx", who("U0PAGER")).allowed
    assert "S0ONCALL" in groups.asked
    assert not decide(auth, "/run -d nginx", who("U0OTHER")).allowed  # not in the group: "*" (viewer)
    identity = auth.identity(who("U0PAGER"))
    assert identity.roles == ("operator",) and identity.granted_by == ("S0ONCALL",)
    assert "container.rm:own" in identity.actions and "image.rm" not in identity.actions


def test_a_failed_group_lookup_grants_nothing(policy_file: Path) -> None:
    auth = authorizer(policy_file, FakeGroups({}))  # Slack could not answer: nobody is in any group
    refused = decide(auth, "/run -d nginx", who("U0PAGER"))
    assert refused.reason == "you are viewer; `container.run` needs operator"


def test_own_entry_and_groups_combine_and_star_is_only_for_everyone_else(tmp_path: Path) -> None:
    text = """\
roles:
  reader: [container.ls]
  puller: [image.pull]
  everyone: [image.ls]
members:
  U0ME: reader
  S0PULL: puller
  "*": everyone
"""
    auth = authorizer(write(tmp_path / "policy.yml", text), FakeGroups({"S0PULL": {"U0ME"}}))
    me = who("U0ME")
    assert decide(auth, "/ps", me).allowed and decide(auth, "/img pull nginx", me).allowed
    assert not decide(auth, "/img ls", me).allowed  # named elsewhere, so "*" does not apply
    assert auth.identity(me).granted_by == ("U0ME", "S0PULL")
    assert decide(auth, "/img ls", who("U0ANYONE")).allowed


def test_includes_nest_and_refusals_name_the_specific_role(tmp_path: Path) -> None:
    text = """\
roles:
  base: [image.ls]
  middle: [base, container.ls]
  top: [middle, container.run]
  root: ["*"]
members:
  U0TOP: top
  U0MID: middle
"""
    auth = authorizer(write(tmp_path / "policy.yml", text))
    assert decide(auth, "/img ls", who("U0TOP")).allowed
    assert decide(auth, "/run -d nginx", who("U0MID")).reason == "you are middle; `container.run` needs top"
    summary = auth.summary()
    top = next(role for role in summary.roles if role.name == "top")
    assert top.actions == ("image.ls", "container.ls", "container.run") and top.members == ("U0TOP",)


def test_own_only_allows_the_callers_containers_and_pins_them(policy_file: Path) -> None:
    targets = FakeTargets(container("mine", "U0OPER"), container("theirs", "U0ADMIN"), container("adopted", None))
    auth = authorizer(policy_file, targets=targets)
    operator = who("U0OPER")
    allowed = decide(auth, "/rm -f mine ghost", operator)
    assert allowed.allowed
    mine = targets.by_name["mine"]
    assert allowed.command.containers == (mine.id, "ghost")  # checked container by id; unknown left for docker
    assert allowed.pinned == {mine.id: "mine"}
    assert len(targets.lookups) == 1  # one engine call for every target

    refused = decide(auth, "/rm mine theirs", operator)
    assert refused.reason == (
        "you are operator; `container.rm` on `theirs` needs admin — you may act only on containers you started, "
        "and `theirs` was started by U0ADMIN"
    )
    assert "was not started through Shipmate" in decide(auth, "/rm adopted", operator).reason
    other_team = decide(auth, "/rm mine", who("U0OPER", team="T0ELSEWHERE"))
    assert not other_team.allowed


def test_full_grants_never_look_up_targets(policy_file: Path) -> None:
    targets = FakeTargets(container("theirs", "U0OPER"))
    auth = authorizer(policy_file, targets=targets)
    decision = decide(auth, "/rm -f theirs", who("U0ADMIN"))
    assert decision.allowed and decision.command is None and targets.lookups == []


def test_ls_own_lists_only_the_callers_containers(tmp_path: Path) -> None:
    auth = authorizer(write(tmp_path / "policy.yml", "roles:\n  mine: [container.ls:own]\nmembers:\n  U0ME: mine\n"))
    decision = decide(auth, "/ps -a -f status=running", who("U0ME"))
    assert decision.allowed
    assert decision.command.filters == (("status", "running"), ("label", f"{OWNER_LABEL}=U0ME"))


def test_run_defaults_come_with_the_decision(policy_file: Path) -> None:
    decision = decide(authorizer(policy_file), "/run -d nginx", who("U0OPER"))
    assert decision.run.memory == "256m" and decision.run.cpus == 0.5


# -- Slack user groups, through a Slack stand-in over HTTP ----------------------------------


@pytest.fixture
def slack_client(slack: SlackStandin) -> WebClient:
    return WebClient(base_url=slack.api_url, token=slack.bot_token, timeout=5)


def test_slack_groups_reads_members_and_caches_them(slack: SlackStandin, slack_client: WebClient) -> None:
    slack.usergroups["S0ONCALL"] = ["U0PAGER", "U0OTHER"]
    groups = SlackGroups(slack_client, ttl=60)
    assert groups.members_of("S0ONCALL") == {"U0PAGER", "U0OTHER"}
    assert groups.members_of("S0ONCALL") == {"U0PAGER", "U0OTHER"}
    calls = slack.calls("usergroups.users.list")
    assert len(calls) == 1 and calls[0].body["usergroup"] == "S0ONCALL"


def test_slack_groups_refreshes_after_its_ttl(slack: SlackStandin, slack_client: WebClient) -> None:
    slack.usergroups["S0ONCALL"] = ["U0PAGER"]
    groups = SlackGroups(slack_client, ttl=0.05)
    assert groups.members_of("S0ONCALL") == {"U0PAGER"}
    slack.usergroups["S0ONCALL"] = []
    assert groups.members_of("S0ONCALL") == {"U0PAGER"}  # still cached
    time.sleep(0.1)
    assert groups.members_of("S0ONCALL") == frozenset()
    assert len(slack.calls("usergroups.users.list")) == 2


@pytest.mark.parametrize(("status", "error"), [(200, "missing_scope"), (500, None)])
def test_slack_groups_failures_raise_and_keep_raising_briefly(
    slack: SlackStandin, slack_client: WebClient, caplog: pytest.LogCaptureFixture, status: int, error: str | None
) -> None:
    slack.usergroups["S0ONCALL"] = ["U0PAGER"]
    slack.fail("usergroups.users.list", status=status, error=error)
    groups = SlackGroups(slack_client, ttl=0.5)
    with caplog.at_level(logging.WARNING, logger="bot.slack.groups"), pytest.raises(GroupLookupFailed):
        groups.members_of("S0ONCALL")
    assert "usergroups.users.list failed" in caplog.text
    with pytest.raises(GroupLookupFailed):  # the failure is remembered a short while: Slack is not asked again
        groups.members_of("S0ONCALL")
    assert len(slack.calls("usergroups.users.list")) == 1
    time.sleep(0.15)
    assert groups.members_of("S0ONCALL") == {"U0PAGER"}  # then asked again
    assert SlackGroups(slack_client).members_of("S0NOSUCH") == frozenset()  # no_such_subteam: an answer


def test_slack_groups_feed_the_authorizer(policy_file: Path, slack: SlackStandin, slack_client: WebClient) -> None:
    slack.usergroups["S0ONCALL"] = ["U0PAGER"]
    auth = PolicyAuthorizer(PolicySource(policy_file), SlackGroups(slack_client))
    assert decide(auth, "/run -d nginx", who("U0PAGER")).allowed
    assert not decide(auth, "/run -d nginx", who("U0STRANGER")).allowed


class BrokenGroups:
    def members_of(self, group_id: str) -> frozenset[str]:
        raise RuntimeError("lookup bug")


def test_a_crashing_group_lookup_grants_nothing_and_crashes_nothing(
    policy_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    auth = PolicyAuthorizer(PolicySource(policy_file), BrokenGroups(), FakeTargets())
    with caplog.at_level(logging.ERROR, logger="bot.policy.authorize"):
        refused = decide(auth, "/run -d nginx", who("U0PAGER"))
    assert refused.reason == "could not check your user groups; try again"  # not the "*" entry's viewer
    assert not decide(auth, "/ps", who("U0PAGER")).allowed
    assert "user group S0ONCALL could not be looked up" in caplog.text
    assert auth.identity(who("U0PAGER")).note == "could not check your user groups; try again"
    assert not auth.has_a_role(who("U0PAGER"))


def test_own_only_without_a_way_to_check_owners_fails_closed(policy_file: Path) -> None:
    auth = PolicyAuthorizer(PolicySource(policy_file), FakeGroups({}), targets=None)
    refused = decide(auth, "/rm mine", who("U0OPER"))
    assert not refused.allowed and "cannot check who started" in refused.reason


def test_a_member_can_hold_several_roles(tmp_path: Path) -> None:
    text = "roles:\n  reader: [container.ls]\n  puller: [image.pull]\nmembers:\n  U0ME: [reader, puller]\n"
    auth = authorizer(write(tmp_path / "policy.yml", text))
    assert decide(auth, "/ps", who("U0ME")).allowed and decide(auth, "/img pull nginx", who("U0ME")).allowed
    assert auth.identity(who("U0ME")).roles == ("reader", "puller")
    refused = decide(auth, "/run -d nginx", who("U0ME"))
    assert refused.reason == "you are reader and puller; no role in policy.yml grants `container.run`"


def test_policy_and_audit_files_default_to_beside_the_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import CoreSettings

    for name in ("SHIPMATE_POLICY", "SHIPMATE_AUDIT_DB"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("# settings\n")
    (tmp_path / "deeper").mkdir()
    monkeypatch.chdir(tmp_path / "deeper")
    settings = CoreSettings.from_env()
    assert settings.policy_path == tmp_path / "policy.yml"
    assert settings.audit_db == tmp_path / "shipmate-audit.db"
    monkeypatch.setenv("SHIPMATE_POLICY", "/etc/shipmate/policy.yml")
    assert CoreSettings.from_env().policy_path == Path("/etc/shipmate/policy.yml")
