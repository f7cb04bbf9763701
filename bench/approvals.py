"""The approval round trip (issue 18): what asking for and giving approval adds to the command itself.

Two `shipmate serve` side by side on one engine: one runs `/docker rm NAME` at once (a stopped container: no
confirmation), the other has an `approvals:` rule on `container.rm`, so the same command is a request (ack with
"waiting for approval", the request message posted), an Approve click by another user, and the result through the
click's response_url. Each run removes a fresh stopped container; the two are interleaved, medians compared."""

from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass

import docker

from bench.report import Row
from bench.stack import Stack, ack_problem, slash
from tests.signed_client import block_actions, find_button

APPROVAL_POLICY = """members:
  "*": admin
approvals:
  - actions: [container.rm]
    approvers: [U0BENCHAPPROVER]
    ttl: 10m
"""
REQUESTER = "U0BENCHREQUESTER"
APPROVER = "U0BENCHAPPROVER"
APPROVE_ACTION = "shipmate_approve"
NAME_PREFIX = "bench-approval-"
WARMUPS = 2
ADDED_MS = 50.0  # the target: the round trip adds at most this much to the command


@dataclass(frozen=True)
class ApprovalRoundTrip:
    runs: int
    plain_ms: float  # median: `/docker rm NAME` answered in the ack
    approved_ms: float  # median: request → approve click → result
    plain_all: list[float]
    approved_all: list[float]

    @property
    def ratio(self) -> float:
        return self.approved_ms / self.plain_ms if self.plain_ms else 0.0

    @property
    def added_ms(self) -> float:
        return self.approved_ms - self.plain_ms

    def rows(self) -> list[Row]:
        return [
            Row(
                f"approval round trip (request → approve → result) vs the plain `rm` (median of {self.runs})",
                f"{self.approved_ms:.0f} ms vs {self.plain_ms:.0f} ms: +{self.added_ms:.0f} ms ({self.ratio:.2f}×)",
                f"≤ +{ADDED_MS:g} ms",
                self.added_ms <= ADDED_MS,
            )
        ]


def _plain(stack: Stack, client, name: str) -> float:
    started = time.perf_counter()
    reply = slash(client, stack.slack, "/docker", f"rm {name}", f"plain-{name}", user_id=REQUESTER)
    elapsed = (time.perf_counter() - started) * 1000
    problem = ack_problem(reply)
    if problem or "removed" not in str(reply.body):
        raise RuntimeError(f"plain rm {name}: {problem or reply.text[:200]}")
    return elapsed


def _approved(stack: Stack, client, name: str) -> float:
    slack = stack.slack
    posted = len(slack.calls("chat.postMessage"))
    started = time.perf_counter()
    reply = slash(client, slack, "/docker", f"rm {name}", f"ask-{name}", user_id=REQUESTER)
    if "Waiting for approval" not in str(reply.body):
        raise RuntimeError(f"rm {name} through approval: {reply.text[:200]}")
    request = slack.wait_for(
        lambda: next(
            (
                call.body
                for call in slack.calls("chat.postMessage")[posted:]
                if str(call.body.get("text", "")).startswith("Approval needed")
            ),
            None,
        )
    )
    button, block_id = find_button(request["blocks"], APPROVE_ACTION)
    answer = f"approve-{name}"
    payload = block_actions(button, block_id, response_url=slack.response_url(answer), user_id=APPROVER)
    if client.action(payload).status != 200:
        raise RuntimeError(f"approve {name}: the click was not acked")
    result = slack.wait_for_response(answer, timeout=30)
    elapsed = (time.perf_counter() - started) * 1000
    if "removed" not in str(result):
        raise RuntimeError(f"approve {name}: {str(result)[:200]}")
    return elapsed


def measure_approval_round_trip(stack: Stack, runs: int) -> ApprovalRoundTrip:
    policy = stack.workdir / "approval-policy.yml"
    policy.write_text(APPROVAL_POLICY)
    plain_bot = stack.start_bot("approvals-plain")
    approving_bot = stack.start_bot("approvals", env={"SHIPMATE_POLICY": str(policy)})
    plain_client, approving_client = stack.client(plain_bot), stack.client(approving_bot)
    api = stack.engine.api()
    names = [f"{NAME_PREFIX}{arm}-{index}" for index in range(runs + WARMUPS) for arm in ("plain", "approved")]
    plain: list[float] = []
    approved: list[float] = []
    try:
        for name in names:
            api.create_container("busybox", ["true"], name=name)
        for index in range(runs + WARMUPS):
            timed_plain = _plain(stack, plain_client, f"{NAME_PREFIX}plain-{index}")
            timed_approved = _approved(stack, approving_client, f"{NAME_PREFIX}approved-{index}")
            if index >= WARMUPS:
                plain.append(timed_plain)
                approved.append(timed_approved)
    finally:
        for name in names:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(name, force=True)
        api.close()
        stack.stop_bots()
    return ApprovalRoundTrip(runs, statistics.median(plain), statistics.median(approved), plain, approved)
