"""Confirmations: signed tokens, which commands need one, and the click flows through the Dispatcher —
expiry, someone else's click, re-authorization, at most once (across replicas too), cancel, audit records.

Docker is a small in-memory fake here, for speed; test_permissions_engine.py runs the same flows against the
private engine and checks Docker's real state.
"""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import pytest

from bot.audit import AuditLog
from bot.confirm.questions import confirmation_for
from bot.confirm.tokens import MAX_TOKEN_LENGTH, Confirmer, InvalidToken, TokenTooLong
from bot.dispatcher import Caller, Dispatcher, Request
from bot.engine import Engine
from bot.engine.containers import OWNER_LABEL, TEAM_LABEL
from bot.engine.targets import ContainerFacts, find_containers
from bot.grammar import parse_line
from bot.policy import PolicyAuthorizer, PolicySource
from bot.render.blocks import CANCEL_ACTION, CONFIRM_ACTION, to_message
from bot.render.terminal import to_text
from bot.results import ConfirmationRequest, Failure, Notice, Outcomes
from bot.store.claims import Confirmations
from tests.blockkit import assert_valid_message

SECRET = b"0123456789abcdef-test-secret"
POLICY = """\
members:
  U0ADMIN: admin
  U0OPER: operator
  U0VIEW: viewer
"""


class FakeDockerAPI:
    """Just enough of docker.APIClient for rm/stop/image rm and the target listing."""

    def __init__(self) -> None:
        self.containers_by_name: dict[str, dict] = {}
        self.images: set[str] = {"nginx:1.25"}
        self.calls: list[tuple[str, str]] = []

    def add(self, name: str, owner: str | None, state: str = "running", team: str = "T0TEAM") -> None:
        labels = {OWNER_LABEL: owner, TEAM_LABEL: team} if owner else {}
        container_id = (name.encode().hex() + "0" * 64)[:64]
        self.containers_by_name[name] = {"Id": container_id, "Names": [f"/{name}"], "State": state, "Labels": labels}

    def _find(self, ref: str) -> dict:
        for item in self.containers_by_name.values():
            if ref in (item["Id"], item["Names"][0][1:]):
                return item
        raise docker.errors.NotFound(f"No such container: {ref}", explanation=f"No such container: {ref}")

    def containers(self, all: bool = False, filters: dict | None = None) -> list[dict]:
        self.calls.append(("containers", ""))
        return [dict(item) for item in self.containers_by_name.values()]

    def remove_container(self, ref: str, force: bool = False) -> None:
        item = self._find(ref)
        if item["State"] == "running" and not force:
            raise docker.errors.APIError("conflict", explanation="cannot remove a running container")
        self.calls.append(("remove", item["Names"][0][1:]))
        del self.containers_by_name[item["Names"][0][1:]]

    def stop(self, ref: str, timeout: int | None = None) -> None:
        item = self._find(ref)
        self.calls.append(("stop", item["Names"][0][1:]))
        item["State"] = "exited"

    def inspect_image(self, image: str) -> dict:
        """What a confirmation's preview reads of an image."""
        if image not in self.images:
            raise docker.errors.ImageNotFound(f"No such image: {image}")
        return {"Id": "sha256:" + image.encode().hex().ljust(64, "0")[:64], "RepoTags": [image]}

    def remove_image(self, image: str, force: bool = False) -> None:
        if image not in self.images:
            raise docker.errors.ImageNotFound(f"No such image: {image}")
        self.calls.append(("rmi", image))
        self.images.discard(image)

    def acted(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if call[0] != "containers"]


class FakeEngine(Engine):
    def __init__(self, api: FakeDockerAPI) -> None:
        super().__init__("unix:///nonexistent/fake.sock")
        self.fake = api

    @property
    def api(self) -> FakeDockerAPI:  # type: ignore[override]
        return self.fake


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    dispatcher: Dispatcher
    docker: FakeDockerAPI
    clock: Clock
    policy: Path
    audit: AuditLog

    def ask(self, line: str, user: str = "U0OPER"):
        slash, _, text = line.partition(" ")
        return self.dispatcher.handle(Request(text=text, slash=slash, caller=caller(user)), to_text)

    def confirm(self, token: str, user: str = "U0OPER"):
        return self.dispatcher.confirm(token, caller(user), to_text)

    def cancel(self, token: str, user: str = "U0OPER"):
        return self.dispatcher.cancel(token, caller(user), to_text)

    def decisions(self) -> list[tuple[str, str, str]]:
        return [(r.user_id, r.decision, r.outcome) for r in reversed(self.audit.latest(limit=100))]


def caller(user: str) -> Caller:
    return Caller(user_id=user, team_id="T0TEAM", channel_id="C0OPS", user_name=user.lower())


def make_dispatcher(api: FakeDockerAPI, policy: Path, audit: AuditLog, clock: Clock) -> Dispatcher:
    engine = FakeEngine(api)
    authorizer = PolicyAuthorizer(PolicySource(policy), None, lambda name, refs: find_containers(engine, refs))
    confirmer = Confirmer(SECRET, Confirmations(audit.store), ttl=120, clock=clock)
    return Dispatcher(engine, authorizer, audit=audit, confirmer=confirmer)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    api, clock = FakeDockerAPI(), Clock()
    api.add("mine", "U0OPER")
    api.add("stopped", "U0OPER", state="exited")
    api.add("theirs", "U0ADMIN")
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    audit = AuditLog(tmp_path / "audit.db")
    yield Setup(make_dispatcher(api, policy, audit, clock), api, clock, policy, audit)
    audit.close()


def asked(reply) -> ConfirmationRequest:
    assert isinstance(reply.result, ConfirmationRequest), reply.message
    assert reply.needs_confirmation and not reply.ok
    return reply.result


# -- tokens ---------------------------------------------------------------------------------


class NoStore:
    def used(self, nonce: str) -> str | None:
        return None

    def claim(self, nonce: str, state: str, user_id: str, expires_at: float) -> str | None:
        return None


def test_a_token_carries_the_command_requester_and_expiry() -> None:
    clock = Clock()
    confirmer = Confirmer(SECRET, NoStore(), ttl=120, clock=clock)
    token = confirmer.issue("/docker", "rm -f web1", "U0OPER", "T0TEAM")
    opened = confirmer.open(token)
    assert (opened.slash, opened.text, opened.user_id, opened.team_id) == ("/docker", "rm -f web1", "U0OPER", "T0TEAM")
    assert opened.expires_at == clock.now + 120 and not confirmer.expired(opened)
    clock.now += 121
    assert confirmer.expired(opened)
    assert confirmer.open(confirmer.issue("/docker", "rm -f web1", "U0OPER", "T0TEAM")).nonce != opened.nonce


def test_an_altered_or_foreign_token_is_invalid() -> None:
    confirmer = Confirmer(SECRET, NoStore())
    token = confirmer.issue("/docker", "rm -f mine", "U0OPER", "T0TEAM")
    version, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["t"] = "rm -f theirs"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    for bad in (f"{version}.{forged_body}.{signature}", token[:-2], "v1..", "garbage", ""):
        with pytest.raises(InvalidToken):
            confirmer.open(bad)
    with pytest.raises(InvalidToken):
        Confirmer(b"another-secret-of-16+bytes", NoStore()).open(token)


def test_tokens_fit_a_button_value() -> None:
    confirmer = Confirmer(SECRET, NoStore())
    names = " ".join(f"container-number-{n:02d}" for n in range(20))
    assert len(confirmer.issue("/docker", f"rm -f {names}", "U0OPER", "T0TEAM")) <= MAX_TOKEN_LENGTH
    with pytest.raises(TokenTooLong):
        confirmer.issue("/docker", "rm -f " + " ".join(["x" * 120] * 20), "U0OPER", "T0TEAM")


# -- which commands need confirming ------------------------------------------------------------


def facts(name: str, state: str) -> ContainerFacts:
    return ContainerFacts(id=name * 8, name=name, state=state, owner="U0OPER", team="T0TEAM")


@pytest.mark.parametrize(
    ("line", "states", "runs"),
    [
        ("/rm -f web1", {"web1": "exited"}, "rm -f web1"),  # rm -f: always
        ("/rm web1", {"web1": "running"}, "rm -f web1"),  # a running container: confirming removes it anyway
        ("/rm web1 web2", {"web1": "exited", "web2": "running"}, "rm -f web1 web2"),
        ("/rm web1", {"web1": "exited"}, None),  # nothing running, no -f: just do it
        ("/rm -f ghost", {}, None),  # nothing to remove: docker says so
        ("/img rm nginx:1.25", {}, "image rm nginx:1.25"),
        ("/img rm -f nginx busybox", {}, "image rm -f nginx busybox"),
        ("/docker stop web1 web2", {"web1": "running", "web2": "running"}, "stop web1 web2"),
        ("/docker stop web1", {"web1": "running"}, None),
        ("/docker restart web1 web2", {}, None),
    ],
)
def test_which_commands_need_confirming(line: str, states: dict[str, str], runs: str | None) -> None:
    command = parse_line(line)
    targets = {ref: facts(ref, states[ref]) if ref in states else None for ref in command.targets()}
    pending = confirmation_for(command, targets)
    assert (pending.text if pending else None) == runs


# -- click flows through the dispatcher -----------------------------------------------------------


def test_rm_f_waits_for_confirm_then_runs_once(setup: Setup) -> None:
    request = asked(setup.ask("/rm -f mine"))
    assert request.command == "/docker --context default rm -f mine" and "mine" in request.summary
    assert setup.docker.acted() == []  # nothing reached Docker yet
    done = setup.confirm(request.token)
    assert isinstance(done.result, Outcomes) and done.result.outcomes[0].target == "mine" and done.ok
    assert setup.docker.acted() == [("remove", "mine")]
    again = setup.confirm(request.token)
    assert isinstance(again.result, Notice) and again.result.title.startswith("Already confirmed by ")
    assert again.command is None
    assert setup.docker.acted() == [("remove", "mine")]
    assert setup.decisions() == [
        ("U0OPER", "confirm", "pending"),
        ("U0OPER", "confirmed", "started"),  # stored before the change reached Docker
        ("U0OPER", "confirmed", "ok"),
        ("U0OPER", "rejected", "rejected"),
    ]


def test_someone_elses_click_does_nothing(setup: Setup) -> None:
    request = asked(setup.ask("/rm -f mine"))
    for clicker in ("U0ADMIN", "U0VIEW"):
        refused = setup.confirm(request.token, user=clicker)
        assert isinstance(refused.result, Failure)
        assert refused.result.reason.startswith("only U0OPER can confirm this")
        assert not isinstance(setup.cancel(request.token, user=clicker).result, Notice)
    assert setup.docker.acted() == []
    assert setup.confirm(request.token).ok  # the requester still can
    decided = [d[1] for d in setup.decisions()]
    assert decided == ["confirm", "rejected", "rejected", "rejected", "rejected", "confirmed", "confirmed"]


def test_a_confirmation_expires(setup: Setup) -> None:
    request = asked(setup.ask("/rm -f mine"))
    setup.clock.now += 121
    late = setup.confirm(request.token)
    assert isinstance(late.result, Failure) and "expired" in late.result.reason
    assert setup.docker.acted() == []
    assert setup.decisions()[-1] == ("U0OPER", "rejected", "rejected")


def test_cancel_means_it_never_runs(setup: Setup) -> None:
    request = asked(setup.ask("/docker stop mine stopped"))
    cancelled = setup.cancel(request.token)
    assert isinstance(cancelled.result, Notice) and cancelled.result.title.startswith("Cancelled")
    after = setup.confirm(request.token)
    assert isinstance(after.result, Notice) and after.result.title.startswith("Already cancelled")
    assert setup.docker.acted() == []
    assert [d[1] for d in setup.decisions()] == ["confirm", "cancelled", "rejected"]


def test_the_click_is_authorized_again(setup: Setup) -> None:
    request = asked(setup.ask("/rm -f mine"))
    setup.policy.write_text(POLICY.replace("U0OPER: operator", "U0OPER: viewer"))
    refused = setup.confirm(request.token)
    assert isinstance(refused.result, Failure)
    assert refused.result.reason == "you are viewer; `container.rm` needs admin"
    assert setup.docker.acted() == []
    assert setup.decisions()[-1] == ("U0OPER", "refused", "refused")


def test_a_container_that_changed_hands_is_not_removed_on_click(setup: Setup) -> None:
    request = asked(setup.ask("/rm -f mine"))
    del setup.docker.containers_by_name["mine"]
    setup.docker.add("mine", "U0ADMIN")  # same name, someone else's container now
    refused = setup.confirm(request.token)
    assert isinstance(refused.result, Failure) and "`mine` was started by U0ADMIN" in refused.result.reason
    assert setup.docker.acted() == []


def test_rm_of_a_running_container_is_confirmed_and_forced(setup: Setup) -> None:
    request = asked(setup.ask("/rm mine"))
    assert request.command == "/docker --context default rm -f mine" and "running" in request.summary
    assert setup.confirm(request.token).ok
    assert "mine" not in setup.docker.containers_by_name


def test_commands_that_need_no_confirmation_run_at_once(setup: Setup) -> None:
    assert setup.ask("/rm stopped").ok
    assert setup.ask("/docker stop mine").ok
    assert setup.docker.acted() == [("remove", "stopped"), ("stop", "mine")]


def test_image_rm_and_multi_stop_ask_first(setup: Setup) -> None:
    image = asked(setup.ask("/img rm nginx:1.25", user="U0ADMIN"))
    stop = asked(setup.ask("/docker stop mine theirs", user="U0ADMIN"))
    assert stop.details == ("`mine`: running, started by U0OPER", "`theirs`: running, started by U0ADMIN")
    assert setup.docker.acted() == []
    assert setup.confirm(image.token, user="U0ADMIN").ok and setup.confirm(stop.token, user="U0ADMIN").ok
    assert setup.docker.acted() == [("rmi", "nginx:1.25"), ("stop", "mine"), ("stop", "theirs")]


def test_a_second_replica_sharing_the_database_will_not_run_it_again(setup: Setup, tmp_path: Path) -> None:
    request = asked(setup.ask("/rm -f mine"))
    assert setup.confirm(request.token).ok
    replica_audit = AuditLog(tmp_path / "audit.db")
    replica = make_dispatcher(setup.docker, setup.policy, replica_audit, setup.clock)
    try:
        again = replica.confirm(request.token, caller("U0OPER"), to_text)
        assert isinstance(again.result, Notice) and again.result.title.startswith("Already confirmed by ")
    finally:
        replica_audit.close()
    assert setup.docker.acted() == [("remove", "mine")]


def test_a_refused_command_asks_for_nothing(setup: Setup) -> None:
    refused = setup.ask("/rm -f theirs")
    assert isinstance(refused.result, Failure) and "needs admin" in refused.result.reason
    assert setup.docker.acted() == []


def test_the_confirmation_message_has_confirm_and_cancel_buttons(setup: Setup) -> None:
    reply = setup.dispatcher.handle(Request(text="-f mine", slash="/rm", caller=caller("U0OPER")), to_message)
    message = reply.message
    assert_valid_message(message)
    assert not message.is_error
    buttons = [element for block in message.blocks if block["type"] == "actions" for element in block["elements"]]
    assert [(b["action_id"], b.get("style")) for b in buttons] == [(CONFIRM_ACTION, "danger"), (CANCEL_ACTION, None)]
    assert buttons[0]["value"] == buttons[1]["value"] == reply.result.token
    assert "only you can confirm" in json.dumps(message.blocks)
    confirmed = setup.dispatcher.confirm(buttons[0]["value"], caller("U0OPER"), to_message)
    assert_valid_message(confirmed.message)
    assert confirmed.ok


def test_a_command_that_will_ask_first_shows_no_working_line(setup: Setup, tmp_path: Path) -> None:
    stop_two = Request(text="stop mine theirs", caller=caller("U0ADMIN"))
    assert setup.dispatcher.pending(stop_two) is None  # the answer is a quick confirmation request
    assert setup.dispatcher.pending(Request(text="stop mine", caller=caller("U0ADMIN"))) == "⏳ stopping mine…"
    no_confirmations = Dispatcher(FakeEngine(setup.docker))
    assert no_confirmations.pending(stop_two) == "⏳ stopping mine, theirs…"


class ExplodingAuthorizer:
    def authorize(self, command, caller):
        raise RuntimeError("bug")


def test_an_authorizer_bug_refuses_and_is_recorded(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = Dispatcher(FakeEngine(setup.docker), ExplodingAuthorizer(), audit=setup.audit)  # type: ignore[arg-type]
    reply = dispatcher.handle(Request(text="-f mine", slash="/rm", caller=caller("U0ADMIN")), to_text)
    assert isinstance(reply.result, Failure) and "internal error while checking permissions" in reply.result.reason
    assert setup.docker.acted() == []
    assert setup.decisions() == [("U0ADMIN", "refused", "refused")]


def test_replicas_derive_the_same_secret_from_the_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import ConfigError, CoreSettings

    monkeypatch.delenv("SHIPMATE_CONFIRM_SECRET", raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5")
    first, second = CoreSettings.from_env().confirm_secret, CoreSettings.from_env().confirm_secret
    assert first == second and first and b"8f742231" not in first
    token = Confirmer(first, NoStore()).issue("/docker", "rm -f web1", "U0OPER", "T0TEAM")
    assert Confirmer(second, NoStore()).open(token).text == "rm -f web1"  # another replica accepts the click
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "a-different-signing-secret-00000")
    assert CoreSettings.from_env().confirm_secret != first
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    assert CoreSettings.from_env().confirm_secret is None  # local mode: a random one per process
    monkeypatch.setenv("SHIPMATE_CONFIRM_SECRET", "short")
    with pytest.raises(ConfigError, match="SHIPMATE_CONFIRM_SECRET is too short"):
        CoreSettings.from_env()
