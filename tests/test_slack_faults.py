"""A misbehaving Slack, with the bot running as `shipmate serve`: bounded retries, a logged error, and it keeps serving.

The stand-in answers response_url posts with 500, 404 or not at all, and the Web API with 429 + Retry-After,
500 or `ok: false`, while the bot delivers slow answers, live pull progress and file uploads. Each test then
checks what reached Slack (every attempt is recorded, with its time), what the bot logged, and that a later
command still works in the same process.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.bot_process import BotProcess
from tests.private_engine import PrivateEngine
from tests.signed_client import SignedClient
from tests.slack_standin import SlackStandin
from tests.slack_user import SlackUser, bot_settings, is_pending, text_of, wait_until

RETRIES = 2  # bot/slack/delivery.py: each retry handler allows two retries
BIG = "bigimage:latest"  # ~60 MB from the private registry: a pull long enough to show progress


@pytest.fixture
def bot(bot_server: Callable[..., BotProcess], tmp_path: Path) -> BotProcess:
    return bot_server(**bot_settings(tmp_path / "settings"))


@pytest.fixture
def user(bot: BotProcess, slack: SlackStandin, signing_secret: str) -> SlackUser:
    return SlackUser(SignedClient(bot.url, signing_secret), slack)


def _still_serving(bot: BotProcess, user: SlackUser) -> None:
    """The same process answers a read in the ack and a slow command through response_url."""
    assert bot.running
    assert "image" in text_of(user.answer("/img", "ls busybox"))
    assert "exited with code 0" in text_of(user.answer("/run", "--rm busybox echo still-here"))


def _log_has(bot: BotProcess, line: str, timeout: float = 15) -> None:
    wait_until(lambda: line in bot.log_text(), timeout, f"{line!r} in the bot's log")


@pytest.fixture
def without_big_image(clean_engine: PrivateEngine) -> Iterator[PrivateEngine]:
    """The engine without bigimage, as the suite finds it (the image lives in the registry only), before and after."""
    clean_engine.forget_image(BIG)
    yield clean_engine
    clean_engine.forget_image(BIG)


# -- response_url --------------------------------------------------------------------------------------


def test_a_response_url_answering_500_is_retried_with_backoff(
    bot: BotProcess, user: SlackUser, clean_engine: PrivateEngine
) -> None:
    name = user.next_name()
    user.slack.fail(f"response/{name}", status=500, times=RETRIES)

    answer = user.final(user.send("/run", "--rm busybox echo through", name=name))

    assert "exited with code 0" in text_of(answer)
    attempts = user.slack.calls(f"response/{name}")
    assert [call.status for call in attempts] == [500, 500, 200]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    assert all(gap >= 0.2 for gap in gaps), gaps  # backed off, not hammered
    _still_serving(bot, user)


def test_a_response_url_that_keeps_failing_gets_bounded_retries_then_a_logged_error(
    bot: BotProcess, user: SlackUser, clean_engine: PrivateEngine
) -> None:
    name = user.next_name()
    user.slack.fail(f"response/{name}", status=500, times=10)

    user.send("/run", "--rm busybox echo lost", name=name)

    _log_has(bot, "response_url answered 500")
    assert len(user.slack.calls(f"response/{name}")) == 1 + RETRIES
    _still_serving(bot, user)
    assert len(user.slack.calls(f"response/{name}")) == 1 + RETRIES  # and never again later


def test_a_response_url_answering_404_is_logged_and_not_retried(
    bot: BotProcess, user: SlackUser, clean_engine: PrivateEngine
) -> None:
    name = user.next_name()
    user.slack.fail(f"response/{name}", status=404, times=10)

    user.send("/run", "--rm busybox echo expired", name=name)

    _log_has(bot, "response_url answered 404")
    assert [call.status for call in user.slack.calls(f"response/{name}")] == [404]
    _still_serving(bot, user)


def test_a_response_url_that_times_out_is_tried_once_more(
    bot: BotProcess, user: SlackUser, clean_engine: PrivateEngine
) -> None:
    name = user.next_name()
    user.slack.delay(f"response/{name}", seconds=30)  # the bot gives up on it after 10 s

    user.send("/run", "--rm busybox echo slow-slack", name=name)

    second = user.slack.wait_for_call(f"response/{name}", count=2, timeout=30)
    first = user.slack.calls(f"response/{name}")[0]
    assert "exited with code 0" in text_of(second.body) and second.body == first.body
    assert second.at - first.at >= 10  # the bot waited out its timeout, then tried again
    _log_has(bot, "Failed to send a request to Slack API server: timed out")
    _still_serving(bot, user)


# -- Web API -------------------------------------------------------------------------------------------


def test_a_rate_limited_post_waits_for_retry_after_and_the_pull_still_shows_progress(
    bot: BotProcess, user: SlackUser, without_big_image: PrivateEngine
) -> None:
    user.slack.fail("chat.postMessage", status=429, retry_after=1)

    answer = user.final(user.send("/img", f"pull {BIG}", channel_id="C0PULL1"), timeout=120)

    assert "pulled bigimage:latest" in answer["text"]
    limited, posted = user.slack.calls("chat.postMessage")[:2]
    assert (limited.status, posted.status) == (429, 200)
    assert posted.at - limited.at >= 1.0  # Retry-After was honoured
    assert is_pending(posted.body) and posted.body["channel"] == "C0PULL1"
    assert user.slack.messages[("C0PULL1", posted.reply["ts"])]["text"] == answer["text"]
    _still_serving(bot, user)


def test_updates_that_stay_rate_limited_fall_back_to_response_url(
    bot: BotProcess, user: SlackUser, without_big_image: PrivateEngine
) -> None:
    user.slack.fail("chat.update", status=429, retry_after=1, times=100)

    sent = user.send("/img", f"pull {BIG}", channel_id="C0PULL2")
    answer = user.slack.wait_for(lambda: user.later_answers(sent), timeout=120)

    assert len(answer) == 1 and "pulled bigimage:latest" in answer[0]["text"]
    assert user.slack.responses(sent.name) == answer  # the result came through response_url instead
    updates = user.slack.calls("chat.update")
    assert updates and len(updates) % (1 + RETRIES) == 0  # every update tried three times, never more
    _log_has(bot, "chat.update failed: ratelimited")
    user.slack.reset()  # lift the rate limit
    _still_serving(bot, user)


def test_a_channel_the_bot_cannot_post_in_gets_progress_and_result_through_response_url(
    bot: BotProcess, user: SlackUser, without_big_image: PrivateEngine
) -> None:
    user.slack.fail("chat.postMessage", error="not_in_channel", times=100)

    sent = user.send("/img", f"pull {BIG}", channel_id="C0PRIVATE")
    answer = user.final(sent, timeout=120)

    assert "pulled bigimage:latest" in answer["text"] and answer["response_type"] == "in_channel"
    assert len(user.slack.calls("chat.postMessage")) == 1  # ok: false is an answer, not a reason to retry
    posts = user.slack.responses(sent.name)
    assert posts[-1] == answer and all(is_pending(p) for p in posts[:-1]) and len(posts) <= 3
    _log_has(bot, "chat.postMessage failed (not_in_channel); falling back to response_url")
    user.slack.reset()
    _still_serving(bot, user)


def test_a_failing_file_upload_is_retried_then_logged_and_the_answer_still_arrives(
    bot: BotProcess, user: SlackUser, clean_engine: PrivateEngine
) -> None:
    user.slack.fail("files.getUploadURLExternal", status=500, times=1 + RETRIES)

    answer = user.answer("/run", "--rm busybox seq 1 200")

    assert "exited with code 0" in text_of(answer) and "full output is attached" in text_of(answer)
    _log_has(bot, "file upload failed")
    assert len(user.slack.calls("files.getUploadURLExternal")) == 1 + RETRIES
    assert user.slack.uploads == []

    user.slack.fail("files.getUploadURLExternal", status=429, retry_after=1)
    again = user.answer("/run", "--rm busybox seq 1 200")
    assert "full output is attached" in text_of(again)
    upload = user.slack.wait_for(lambda: next((u for u in user.slack.uploads if u.completed), None), timeout=15)
    assert upload.data is not None and upload.data.decode().splitlines()[-1] == "200"
    _still_serving(bot, user)


def test_ok_false_is_not_retried_and_the_reply_still_arrives(
    bot: BotProcess, user: SlackUser, without_big_image: PrivateEngine
) -> None:
    user.slack.fail("chat.update", error="cant_update_message", times=100)
    sent = user.send("/img", f"pull {BIG}", channel_id="C0PULL3")
    answer = user.slack.wait_for(lambda: user.later_answers(sent), timeout=120)
    assert len(answer) == 1 and "pulled bigimage:latest" in answer[0]["text"]
    assert user.slack.responses(sent.name) == answer  # the update failed, so the result came through response_url
    _log_has(bot, "chat.update failed: cant_update_message")

    user.slack.reset()
    user.slack.fail("files.getUploadURLExternal", error="not_in_channel", times=100)
    long_output = user.answer("/run", "--rm busybox seq 1 200")
    assert "full output is attached" in text_of(long_output)
    _log_has(bot, "file upload failed: not_in_channel")
    assert len(user.slack.calls("files.getUploadURLExternal")) == 1
    _still_serving(bot, user)
