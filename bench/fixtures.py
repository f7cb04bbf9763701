"""What the bench puts on the private engine: containers to list, image tags to list, and images to pull slowly."""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
from concurrent.futures import ThreadPoolExecutor

import docker

CONTAINER_PREFIX = "bench-"
TAG_REPOSITORY = "bench/listing"
PULL_REPOSITORY = "bench/slowpull"
PULL_LAYERS = 2
PULL_LAYER_BYTES = 20 * 1024 * 1024


def create_containers(api: docker.APIClient, count: int, image: str = "busybox:latest") -> None:
    """`count` containers, created and never started (a `docker ps -a` of a busy host)."""

    def create(index: int) -> None:
        api.create_container(image, command=["true"], name=f"{CONTAINER_PREFIX}{index:04d}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(1, count + 1)))


def tag_images(api: docker.APIClient, count: int, source: str = "busybox:latest") -> None:
    """`count` more image tags, so the image listing has that many more rows (tags are free)."""
    for index in range(1, count + 1):
        api.tag(source, TAG_REPOSITORY, f"v{index:03d}")


def _context(layers: int, layer_bytes: int) -> io.BytesIO:
    # Random data: every pull image has its own layers (nothing is shared or "Already exists") and none compress.
    files = {f"blob{i}": os.urandom(layer_bytes) for i in range(1, layers + 1)}
    files["Dockerfile"] = (
        "FROM scratch\n" + "".join(f"COPY blob{i} /blob{i}\n" for i in range(1, layers + 1))
    ).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def _raise_on_error(events) -> None:
    for event in events:
        if "error" in event:
            raise RuntimeError(event["error"])


def push_pull_images(docker_host: str, registry: str, count: int) -> list[str]:
    """`count` distinct images of PULL_LAYERS random layers in the private registry (not on the engine): each
    pull of one is a real download of its own. Returns their references."""
    references = [f"{registry}/{PULL_REPOSITORY}{index}:latest" for index in range(1, count + 1)]

    def build(reference: str) -> None:
        api = docker.APIClient(base_url=docker_host, version="auto", timeout=300)
        try:
            repository, tag = reference.rsplit(":", 1)
            context = _context(PULL_LAYERS, PULL_LAYER_BYTES)
            _raise_on_error(api.build(fileobj=context, custom_context=True, tag=reference, rm=True, decode=True))
            _raise_on_error(api.push(repository, tag=tag, stream=True, decode=True))
            api.remove_image(reference, force=True)
        finally:
            api.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(build, references))
    return references


def remove_image_quietly(api: docker.APIClient, reference: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        api.remove_image(reference, force=True)
