"""Registry requests behind `/docker updates` (issue 17): 30 running containers of 10 image references ask the
registry once per reference (`GET /distribution/{name}/json` through the engine), counted at the engine's socket;
asked again within the cache's time, not at all."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import docker

from bench.report import Row
from bench.stack import Stack, ack_problem, slash

REFERENCES = 10
CONTAINERS = 30
REPOSITORY = "shipmate-bench-updates"
NAME_PREFIX = "bench-updates-"
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]


@dataclass(frozen=True)
class UpdateRequests:
    containers: int
    references: int
    first: int  # registry requests of the first `updates`
    again: int  # of the one after it (answered from the cache)
    reply: str

    def rows(self) -> list[Row]:
        figure = f"/docker updates over {self.containers} running containers of {self.references} images"
        return [
            Row(f"{figure}: registry requests", str(self.first), f"= {self.references}", self.first == self.references),
            Row("  asked again at once (cached)", str(self.again), "0", self.again == 0),
        ]


def _registry_requests(stack: Stack) -> int:
    return sum(n for kind, n in stack.proxy.counts().items() if "/distribution/" in kind and REPOSITORY in kind)


def measure_update_requests(stack: Stack) -> UpdateRequests:
    api = stack.engine.api()
    references = [f"{stack.engine.registry}/{REPOSITORY}:{index}" for index in range(REFERENCES)]
    try:
        for reference in references:
            repository, tag = reference.rsplit(":", 1)
            api.tag("busybox:latest", repository, tag)
            for event in api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise RuntimeError(f"push {reference}: {event['error']}")
        for index in range(CONTAINERS):
            created = api.create_container(references[index % REFERENCES], SLEEPER, name=f"{NAME_PREFIX}{index:02d}")
            api.start(created["Id"])
        bot = stack.start_bot("updates", counted=True)
        client = stack.client(bot)
        asked: list[int] = []
        line = ""
        for _ in range(2):
            stack.proxy.reset()
            reply = slash(client, stack.slack, "/docker", "updates", "updates")
            problem = ack_problem(reply)
            if problem:
                raise RuntimeError(f"/docker updates: {problem}")
            asked.append(_registry_requests(stack))
            line = str(reply.body.get("text", ""))
        stack.stop_bots()
        return UpdateRequests(CONTAINERS, REFERENCES, asked[0], asked[1], line)
    finally:
        for index in range(CONTAINERS):
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(f"{NAME_PREFIX}{index:02d}", force=True)
        for reference in references:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_image(reference)
        api.close()
