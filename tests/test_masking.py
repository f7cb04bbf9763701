"""The one masking API (by name and by value) and the one escaping function, at every exit: unit checks, then
properties over generated env values, labels, log lines and process tables fed through both renderers and the
audit. Real-engine checks of the same exits are in test_secret_exits_engine.py."""

import json
import logging
import os
import re
import string
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.audit import AuditLog, AuditRecord
from bot.grammar import ParseError, parse
from bot.grammar.commands import ContainerTop
from bot.render.blocks import to_message
from bot.render.kit import Message
from bot.render.terminal import to_text
from bot.results import (
    Alert,
    ContainerDetails,
    ContainerRow,
    ContainerTable,
    EventList,
    EventRow,
    ExecDone,
    Failure,
    FollowedLogs,
    ImageDetails,
    LogText,
    Outcome,
    Outcomes,
    ProcessTable,
    Result,
    RunDone,
    ServiceDetails,
)
from bot.secrets import MASK, MaskingFormatter, looks_secret, mask_text, mask_values, masked
from bot.slack.audit_channel import AuditChannelSink
from bot.slack.delivery import Delivery, Origin
from tests.blockkit import assert_valid_message

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)

# -- by name -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD",
        "API_TOKEN",
        "DATABASE_URL",
        "BROKER_URI",
        "SENTRY_DSN",
        "SLACK_WEBHOOK",
        "GITHUB_PAT",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "BASIC_AUTH",
        "apiKey",
        "databaseUrl",
        "com.example.db-url",
        "--password",
        "PWD",
    ],
)
def test_secret_names(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name", ["PATH", "PATTERN", "DISPATCH_MODE", "CURL_OPTS", "SECURITY_LEVEL", "NGINX_VERSION", "HOME", "sslmode"]
)
def test_names_that_only_contain_a_short_secret_word_are_not_secret(name: str) -> None:
    assert not looks_secret(name)


def test_a_url_under_a_locator_name_shows_with_its_credentials_masked() -> None:
    assert masked("DATABASE_URL", "postgres://app:s3cr3t@db/app") == f"postgres://app:{MASK}@db/app"
    assert masked("API_URL", "https://api.example.com/v1") == "https://api.example.com/v1"
    assert masked("DATABASE_URL", "app:s3cr3t@db") == MASK  # not a URL: all of it
    assert masked("SLACK_WEBHOOK_URL", "https://hooks.example.com/T1/B2/c3") == MASK  # WEBHOOK: all of it
    assert masked("SENTRY_DSN", "https://k3y@sentry.example.com/1") == MASK
    assert masked("NOTE", "see postgres://app:s3cr3t@db/app") == f"see postgres://app:{MASK}@db/app"
    assert masked("DB_PASSWORD", "") == ""


# -- by value ------------------------------------------------------------------------------------------------

SHAPES = [
    ("postgres://app:s3cr3t@db/app", "s3cr3t", f"postgres://app:{MASK}@db/app"),
    ("redis://:s3cr3t@cache:6379/0", "s3cr3t", f"redis://:{MASK}@cache:6379/0"),
    (
        "postgresql://db/app?sslmode=require&password=s3cr3t&sslpassword=k3y",
        "s3cr3t",
        f"postgresql://db/app?sslmode=require&password={MASK}&sslpassword={MASK}",
    ),
    ("https://x/?pwd=s3cr3t#top", "s3cr3t", f"https://x/?pwd={MASK}#top"),
    ("xoxb-1234567890-0987654321-AbCdEfGhIjKl", "AbCdEfGhIjKl", f"xoxb-{MASK}"),
    ("ghp_" + "a1B2" * 9, "a1B2" * 9, f"ghp_{MASK}"),
    ("github_pat_11ABCDEFG0_" + "x" * 40, "x" * 40, f"github_pat_{MASK}"),
    ("glpat-" + "Zz9" * 7, "Zz9" * 7, f"glpat-{MASK}"),
    ("AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE", f"AKIA{MASK}"),
    ("https://hooks.slack.com/services/T000/B000/XXXXsecret", "XXXXsecret", f"https://hooks.slack.com/services/{MASK}"),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXk",
        f"-----BEGIN OPENSSH PRIVATE KEY-----{MASK}-----END OPENSSH PRIVATE KEY-----",
    ),
]


@pytest.mark.parametrize(("text", "secret", "shown"), SHAPES, ids=[s[2][:24] for s in SHAPES])
def test_secret_shapes_are_masked_whatever_their_name(text: str, secret: str, shown: str) -> None:
    assert mask_values(text) == shown
    assert mask_text(f"started with {text} ok") == f"started with {shown} ok"
    assert secret not in masked("ANYTHING", text)


def test_harmless_text_is_left_as_it_is() -> None:
    for text in ("ssh://deploy@host", "ASIA_PACIFIC_REGION", "PATH=/usr/bin:/bin", "https://example.com/?page=2"):
        assert mask_text(text) == text


def test_value_masking_keeps_a_json_line_valid() -> None:
    line = json.dumps({"command": 'run -e X=postgres://a:s3cr3t@db/x?token=t0k"x', "key": SHAPES[10][0]})
    swept = mask_values(line)
    assert json.loads(swept)["command"] == f'run -e X=postgres://a:{MASK}@db/x?token={MASK}"x'
    assert "s3cr3t" not in swept and "t0k" not in swept and "b3BlbnNzaC1rZXk" not in swept


def test_every_log_line_is_swept(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "database %s down", ("postgres://a:s3cr3t@db",), None)
    assert MaskingFormatter("%(message)s").format(record) == f"database postgres://a:{MASK}@db down"


# -- top: ps options from an allowlist -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "options", ["auxe", "eww", "e", "axe", "-o args,environ", "--format pid,environ", "-o", "x;rm", "-p 1", "-Ao pid"]
)
def test_top_refuses_ps_options_outside_the_allowlist(options: str) -> None:
    with pytest.raises(ParseError) as refused:
        parse(f"top db {options}")
    reason = refused.value.reason
    assert "\n" not in reason and "allowed: ps flags from" in reason and "-o COLUMNS" in reason
    if "e" in options.split()[0] and not options.startswith("-"):
        assert "environment" in reason


@pytest.mark.parametrize(
    "options", ["aux", "-ef", "-eLf", "ax", "-o pid,user,%cpu,etime,args", "o pid,comm", "--forest"]
)
def test_top_passes_allowed_ps_options_on(options: str) -> None:
    assert parse(f"top db {options}") == ContainerTop(container="db", ps_args=tuple(options.split()))


_ps_word = st.one_of(
    st.sampled_from(
        [
            "aux",
            "auxe",
            "e",
            "eww",
            "axe",
            "-e",
            "-ef",
            "-eLf",
            "ww",
            "-ww",
            "--forest",
            "x",
            "-A",
            "-p",
            "1",
            "-o",
            "o",
            "-O",
            "--format",
            "-eo",
            "pid,args",
            "args,environ",
            "pid,user,args",
            "comm",
            "cmd,e",
        ]
    ),
    st.text(alphabet="aeuxwfljoAFHLT-,", min_size=1, max_size=5),
)


@settings(max_examples=60, deadline=None, derandomize=os.environ.get("CI", "").lower() == "true")
@given(st.lists(_ps_word, max_size=4))
def test_no_ps_options_top_accepts_print_an_environment(words: list[str]) -> None:
    """Whatever the grammar lets through, the host's own ps (the one an engine runs for top) shows no environment:
    ps lists itself, started with a secret in its environment."""
    try:
        command = parse(f"top db {' '.join(words)}")
    except ParseError as refused:
        assert "\n" not in refused.reason
        return
    assert isinstance(command, ContainerTop)
    secret = "Zq" + "7" * 12
    shown = subprocess.run(
        ["ps", *command.ps_args], env={"PATH": "/usr/bin:/bin", "PROBE_VALUE": secret}, capture_output=True, text=True
    )
    assert secret not in shown.stdout + shown.stderr, command.ps_args


# -- the exits -----------------------------------------------------------------------------------------------


def test_the_who_asked_line_masks_a_url_password() -> None:
    origin = Origin("U1", "C1", None, "/run -e DATABASE_URL=postgres://app:s3cr3t@db/app nginx")
    body = Delivery(client=None, reads_in_channel=True).payload(Message("ok"), origin, in_channel=True)  # type: ignore[arg-type]
    assert f"DATABASE_URL=postgres://app:{MASK}@db/app" in json.dumps(body, ensure_ascii=False)
    assert "s3cr3t" not in json.dumps(body)


def test_attachments_are_swept_as_messages_are() -> None:
    message = to_message(LogText("db", "line\n" * 100 + "token ghp_" + "q" * 36 + "\n", 101, False))
    assert message.attachment is not None and "q" * 36 not in message.attachment.payload()["content"]


def test_process_commands_are_masked_like_env() -> None:
    table = ProcessTable("db", ("PID", "CMD"), (("1", "app --db=postgres://a:s3cr3t@db/x API_TOKEN=t0k3n9"),))
    for rendered in (to_text(table), json.dumps(to_message(table).payload(), ensure_ascii=False)):
        assert f"postgres://a:{MASK}@db/x" in rendered and f"API_TOKEN={MASK}" in rendered
        assert "s3cr3t" not in rendered and "t0k3n9" not in rendered


@pytest.mark.parametrize("owner", ["<!channel>", "<https://evil.example|click>", "*bold* & <@U1|x>"])
def test_an_owner_label_set_outside_shipmate_is_escaped(owner: str) -> None:
    details = ContainerDetails("web", "0" * 12, "nginx", "running", "up", None, (), (), (), 0, None, owner=owner)
    payload = to_message(details).payload()
    assert_valid_message(payload)
    assert owner not in json.dumps(payload, ensure_ascii=False)
    assert "&lt;" in json.dumps(payload, ensure_ascii=False) or "*bold*" not in owner
    _assert_escaped(payload)


def test_a_user_id_owner_is_still_a_mention() -> None:
    details = ContainerDetails("web", "0" * 12, "nginx", "running", "up", None, (), (), (), 0, None, owner="U0OPER")
    assert "<@U0OPER>" in json.dumps(to_message(details).payload())


# -- properties ----------------------------------------------------------------------------------------------

# Each example renders a dozen results twice: few examples, and a failure is reported as found (shrinking one
# takes minutes).
PROPERTY = settings(
    max_examples=40,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    deadline=None,
    derandomize=os.environ.get("CI", "").lower() == "true",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# A secret no other text holds by chance: "Zq" and at least twelve more letters and digits.
_body = st.text(alphabet=string.ascii_letters + string.digits, min_size=12, max_size=24).map(lambda s: "Zq" + s)
_host = st.sampled_from(["db", "db.internal:5432", "10.0.0.7", "cache"])
_param = st.sampled_from(["password", "passwd", "pwd", "token", "secret", "key", "sslpassword", "api_key"])
_secret_name = st.sampled_from(["DB_PASSWORD", "API_TOKEN", "GITHUB_PAT", "AWS_SECRET_ACCESS_KEY", "SESSION_COOKIE"])

# Each draws (text holding a secret, the secret).
_value_shapes = st.one_of(
    st.builds(
        lambda s, u, p, h: (f"{s}://{u}:{p}@{h}/app", p),
        st.sampled_from(["postgres", "https", "amqp"]),
        st.sampled_from(["app", "u", ""]),
        _body,
        _host,
    ),
    st.builds(lambda h, n, p: (f"postgresql://{h}/app?sslmode=require&{n}={p}", p), _host, _param, _body),
    st.builds(lambda c, p: (f"xox{c}-1234567890-{p}", p), st.sampled_from("bpars"), _body),
    st.builds(lambda p: (f"ghp_{p}{'0' * 20}", p), _body),
    st.builds(lambda p: (f"github_pat_{p}_{p}", p), _body),
    st.builds(lambda p: (f"glpat-{p}{'x' * 8}", p), _body),
    st.builds(
        lambda p: ("AKIA" + p, p), st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16)
    ),
    st.builds(lambda p: (f"-----BEGIN RSA PRIVATE KEY-----\n{p}+/\n{p}==\n-----END RSA PRIVATE KEY-----", p), _body),
)
_named = st.builds(lambda n, p: (f"{n}={p}", p), _secret_name, _body)
# What engine strings may hold besides: Slack's control sequences and mrkdwn.
_noise = st.lists(
    st.sampled_from(
        [
            "<!channel>",
            "<!here>",
            "<@U123ABC>",
            "<#C0123>",
            "<https://evil.example|click>",
            "<mailto:a@b.c>",
            "*bold*",
            "_it_",
            "~s~",
            "`x`",
            "&",
            "&amp;",
            "<",
            ">",
            "a&b",
            "PATH=/usr/bin",
            "x=y",
            "web1",
            "🐳",
        ]
    ),
    max_size=4,
).map(" ".join)


@st.composite
def engine_strings(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(a free-text line with a secret, its secret, a value-shaped secret, its secret) and noise around."""
    line, line_secret = draw(st.one_of(_value_shapes, _named))
    shape, shape_secret = draw(_value_shapes)
    before, after = draw(_noise), draw(_noise)
    return f"{before} {line} {after}".strip(), line_secret, f"{before} {shape} {after}".strip(), shape_secret


def _results(line: str, shape: str, noise: str, secret_name: str, secret_value: str) -> list[Result]:
    env = ((secret_name, secret_value), ("NOTE", shape), ("NOISE", noise))
    return [
        ContainerDetails("web", "0" * 12, noise, noise, noise, None, tuple(line.split()), env, (), 0, noise, noise),
        ImageDetails("0" * 12, (noise,), None, 1, noise, noise, env, tuple(line.split()), (noise,), noise, (), env),
        ProcessTable(noise, ("UID", "PID", "CMD"), ((noise, "1", line), ("root", "2", shape))),
        LogText(noise, f"{line}\n{shape}\n{noise}\n", 3, False),
        LogText(noise, f"{line}\n" * 60 + shape, 61, True),  # long: its tail inline, all of it attached
        ContainerTable((ContainerRow(noise, "0" * 12, noise, line, noise, noise, (noise,), noise),), True),
        RunDone(noise, "0" * 12, noise, noise, (), False, 0, f"{line}\n{shape}"),
        ExecDone(noise, line, 0, f"{line}\n{shape}"),
        FollowedLogs(noise, "f1", f"{line}\n{shape}", 2),
        Alert(noise, noise, "0" * 12, noise, "unhealthy", f"unhealthy: {line}", NOW, noise, 1, f"{line}\n{shape}", 2),
        EventList((EventRow(1, noise, noise, noise, env),), False, "the last minute"),
        ServiceDetails(
            "id1",
            noise,
            noise,
            "replicated",
            1,
            tuple(line.split()),
            (),
            env,
            env,
            (),
            (),
            (),
            noise,
            None,
            None,
            False,
            noise,
        ),
        Failure(f"docker says: {shape} {noise}"),
        Outcomes("removed", (Outcome(noise, False, shape),)),
    ]


def _mrkdwn(payload: dict) -> list[str]:
    """Every string Slack reads as mrkdwn: the fallback and every mrkdwn text object."""
    found = [payload["text"]]

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload["blocks"])
    return found


def _assert_escaped(payload: dict) -> None:
    for text in _mrkdwn(payload):
        bare = re.sub(r"<@[UW][A-Z0-9]+>", "", text)  # the mentions Shipmate itself writes, of user ids
        assert "<" not in bare and ">" not in bare, text
        assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt);)*", bare, re.S), text


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> AuditLog:
    log = AuditLog(Path(tmp_path_factory.mktemp("audit")) / "audit.db")
    yield log
    log.close()


@PROPERTY
@given(engine_strings(), _noise, _secret_name, _body)
def test_no_secret_and_no_raw_mrkdwn_leaves_a_renderer(
    strings: tuple[str, str, str, str], noise: str, secret_name: str, secret_value: str
) -> None:
    line, line_secret, shape, shape_secret = strings
    for result in _results(line, shape, noise, secret_name, secret_value):
        message = to_message(result)
        payload = message.payload()
        shown = [to_text(result), json.dumps(payload, ensure_ascii=False)]
        if message.attachment is not None:
            shown.append(json.dumps(message.attachment.payload(), ensure_ascii=False))
        secrets = (
            (shape_secret,) if isinstance(result, Failure | Outcomes) else (line_secret, shape_secret, secret_value)
        )
        for rendered in shown:
            for secret in secrets:
                assert secret not in rendered, (type(result).__name__, secret, rendered)
        _assert_escaped(payload)


@PROPERTY
@given(engine_strings(), _noise)
def test_no_secret_reaches_the_audit_its_channel_or_its_log_line(
    audit: AuditLog, strings: tuple[str, str, str, str], noise: str
) -> None:
    line, line_secret, shape, shape_secret = strings
    typed = f"/run -d -e {line} --label note={shape} nginx {noise}"
    audit.record(
        AuditRecord(
            NOW.timestamp(),
            "T1",
            "U1",
            "u",
            "C1",
            typed,
            "container.run",
            True,
            "allowed",
            "failed",
            f"docker said: {line} {shape}",
        )
    )
    stored = audit.latest(limit=1)[0]
    for rendered in (stored.command, stored.detail, stored.json(), AuditChannelSink.line(stored)):
        assert line_secret not in rendered and shape_secret not in rendered, rendered
