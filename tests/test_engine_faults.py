"""A failing Docker engine, with the bot running as `shipmate serve`: every command gets a true answer in time.

The engine is stopped and started again under the running bot, replaced by a socket that never answers, and
its registry is taken away mid-session; foreground runs outlive their limit; containers vanish between a
listing and a click, and two people remove one container at once. Engine state is checked through the engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.bot_process import BotProcess
from tests.faults import HungEngine, registry_down
from tests.private_engine import PrivateEngine
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, bot_settings, text_of

DOCKER_TIMEOUT = 2  # SHIPMATE_DOCKER_TIMEOUT for these bots: each engine call gives up after this long


@pytest.fixture
def start_bot(bot_server: Callable[..., BotProcess], tmp_path: Path) -> Callable[..., BotProcess]:
    def start(**env: str) -> BotProcess:
        return bot_server(**bot_settings(tmp_path / "settings"), SHIPMATE_DOCKER_TIMEOUT=str(DOCKER_TIMEOUT), **env)

    return start


def _user(bot: BotProcess, slack: SlackStandin, signing_secret: str, user_id: str = "U0ALICE") -> SlackUser:
    return SlackUser(SignedClient(bot.url, signing_secret), slack, user_id)


def _states(engine: PrivateEngine) -> dict[str, str]:
    api = engine.api()
    try:
        return {c["Names"][0].lstrip("/"): c["State"] for c in api.containers(all=True)}
    finally:
        api.close()


def _timed(user: SlackUser, command: str, text: str, timeout: float = 60) -> tuple[dict, float]:
    started = time.monotonic()
    answer = user.answer(command, text, timeout=timeout)
    return answer, time.monotonic() - started


# Reads answer in the ack; runs, pulls and stops ack with "⏳" and answer through response_url.
EVERY_KIND = [
    ("/ps", "-a"),
    ("/img", "ls"),
    ("/img", "inspect nginx"),
    ("/logs", "web1"),
    ("/docker", "container inspect web1"),
    ("/run", "-d --name web2 nginx"),
    ("/run", "--rm busybox echo hello"),
    ("/img", "pull nginx:1.25"),
    ("/docker", "stop web1"),
    ("/rm", "-f web1"),
]


def test_a_stopped_engine_is_reported_and_the_same_bot_recovers_when_it_returns(
    clean_engine: PrivateEngine, start_bot: Callable[..., BotProcess], slack: SlackStandin, signing_secret: str
) -> None:
    warm = _user(start_bot(), slack, signing_secret)
    assert "started web1" in text_of(warm.answer("/run", "-d --name web1 nginx"))  # connected, pool in use
    cold = _user(start_bot(), slack, signing_secret, "U0BOB")  # has not talked to the engine yet

    clean_engine.stop_daemon()
    try:
        for user in (warm, cold):
            for command, text in EVERY_KIND:
                answer, took = _timed(user, command, text)
                expected = f"Docker engine unreachable at {clean_engine.docker_host}: is dockerd running?"
                assert expected in answer["text"], (command, text, answer["text"])
                assert answer["response_type"] == "ephemeral"
                assert took < DOCKER_TIMEOUT + 2, f"{command} {text}: answered after {took:.1f}s"
    finally:
        clean_engine.start_daemon()

    for user, name in ((warm, "web3"), (cold, "web4")):
        assert "web1" in text_of(user.answer("/ps", "-a"))
        assert f"started {name}" in text_of(user.answer("/run", f"-d --name {name} nginx"))
        assert "exited with code 0" in text_of(user.answer("/run", "--rm busybox echo back"))
    states = _states(clean_engine)
    assert states["web3"] == states["web4"] == "running"


def test_a_hung_engine_is_bounded_by_the_timeout_and_slack_still_gets_its_acks(
    start_bot: Callable[..., BotProcess], slack: SlackStandin, signing_secret: str
) -> None:
    with HungEngine() as hung:
        bot = start_bot(DOCKER_HOST=hung.docker_host)
        user = _user(bot, slack, signing_secret)
        for command, text in [("/ps", "-a"), ("/run", "--rm busybox echo hi")]:  # answered in the ack, and later
            answer, took = _timed(user, command, text)
            assert "did not answer in time" in answer["text"], (command, text, answer["text"])
            assert hung.docker_host in answer["text"]
            assert took < 2 * DOCKER_TIMEOUT + 3, f"{command} {text}: answered after {took:.1f}s"

        # Many users at once while every engine call hangs: each is acked within 3 s (SlackUser checks) and
        # answered within its own timeout, not after everyone else's.
        users = [_user(bot, slack, signing_secret, f"U0HUNG{n}") for n in range(12)]
        with ThreadPoolExecutor(len(users)) as pool:
            timed = list(pool.map(lambda u: _timed(u, "/logs", "web1"), users))
        assert all("did not answer in time" in answer["text"] for answer, _ in timed)
        slowest = max(took for _, took in timed)
        assert slowest < 2 * DOCKER_TIMEOUT + 3, f"the slowest answer took {slowest:.1f}s"
        assert hung.connections >= len(users)
        assert bot.running


def test_a_foreground_run_that_outlives_its_limit_is_stopped_and_reported(
    clean_engine: PrivateEngine, start_bot: Callable[..., BotProcess], slack: SlackStandin, signing_secret: str
) -> None:
    bot = start_bot(SHIPMATE_RUN_TIMEOUT="2")
    user = _user(bot, slack, signing_secret)

    sent = user.send("/run", "--name sleeper busybox sleep 300")
    assert sent.ack_body["text"].startswith("⏳ running sleeper from busybox")
    answer = user.final(sent, timeout=30)

    assert "sleeper was still running after 2 s and was stopped" in answer["text"]
    assert _states(clean_engine) == {"sleeper": "exited"}


def test_a_missing_image_is_a_clear_error_and_leaves_no_container(
    clean_engine: PrivateEngine, start_bot: Callable[..., BotProcess], slack: SlackStandin, signing_secret: str
) -> None:
    bot = start_bot()
    user = _user(bot, slack, signing_secret)
    missing = f"{clean_engine.registry}/shipmate/no-such-image:1.0"

    pulled = user.answer("/img", f"pull {missing}")
    assert f"image `{missing}` was not found in the registry" in pulled["text"]
    ran = user.answer("/run", f"-d --name ghost {missing}")
    assert f"image `{missing}` was not found in the registry" in ran["text"]
    ran = user.answer("/run", f"--rm --name ghost {missing} echo hi")
    assert "was not found in the registry" in ran["text"]

    assert _states(clean_engine) == {}


def test_a_registry_that_is_down_is_a_clear_error_and_leaves_no_container(
    clean_engine: PrivateEngine, start_bot: Callable[..., BotProcess], slack: SlackStandin, signing_secret: str
) -> None:
    bot = start_bot()
    user = _user(bot, slack, signing_secret)
    image = f"{clean_engine.registry}/library/nginx:1.25"
    clean_engine.forget_image(image)

    with registry_down(clean_engine):
        pulled = user.answer("/img", f"pull {image}")
        ran = user.answer("/run", f"-d --name ghost {image}")
        ran_foreground = user.answer("/run", f"--name ghost {image} echo hi")
    for answer in (pulled, ran, ran_foreground):
        assert f"the registry for `{image}` is unreachable" in answer["text"], answer["text"]
    assert _states(clean_engine) == {}

    try:
        assert "started ghost" in text_of(user.answer("/run", f"-d --name ghost {image}"))  # the registry is back
    finally:
        clean_engine.reset()
        clean_engine.forget_image(image)  # other tests expect only the fixture images' own names


def test_a_container_removed_between_ps_and_a_click_gets_a_true_answer(
    clean_engine: PrivateEngine, start_bot: Callable[..., BotProcess], slack: SlackStandin, signing_secret: str
) -> None:
    bot = start_bot()
    user = _user(bot, slack, signing_secret)
    assert "started racer" in text_of(user.answer("/run", "-d --name racer nginx"))
    listing = user.answer("/ps", "-a")
    api = clean_engine.api()
    try:
        api.remove_container("racer", force=True)  # someone else, at the terminal
    finally:
        api.close()

    for action_id in (
        "shipmate.command:--context default rm -f racer",
        "shipmate.command:--context default logs racer",
        "shipmate.command:--context default stop racer",
    ):
        answer = user.click(listing, action_id)
        assert "no such container: `racer`" in answer["text"], (action_id, answer["text"])
        assert answer["response_type"] == "ephemeral"
    assert _states(clean_engine) == {}


def test_two_users_removing_one_container_at_once_each_get_a_true_answer(
    clean_engine: PrivateEngine, start_bot: Callable[..., BotProcess], slack: SlackStandin, signing_secret: str
) -> None:
    bot = start_bot()
    alice, bob = (_user(bot, slack, signing_secret, who) for who in ("U0ALICE", "U0BOB"))
    for round_ in range(3):
        name = f"contested{round_}"
        assert f"started {name}" in text_of(alice.answer("/run", f"-d --name {name} nginx"))
        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda user, n=name: user.confirmed("/rm", f"-f {n}"), (alice, bob)))

        texts = sorted(answer["text"] for answer in answers)
        removed = [t for t in texts if t == f"{name}: removed"]
        lost = [t for t in texts if f"no such container: `{name}`" in t or f"`{name}` is already being removed" in t]
        assert len(removed) == 1 and len(lost) == 1, texts
        assert name not in _states(clean_engine)
