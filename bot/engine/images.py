"""Executors for image commands: one Engine API call per listing, pulls folded into one progress figure."""

from datetime import UTC, datetime
from fnmatch import fnmatchcase

import docker.errors

from bot.engine.convert import env_pairs, short_id, timestamp
from bot.engine.execution import Context
from bot.engine.executors import execute, for_each
from bot.grammar.commands import ImageInspect, ImageList, ImagePull, ImageRemove
from bot.grammar.images import ImageHistory
from bot.results import ImageDetails, ImageLayer, ImageRow, ImageTable, LayerHistory, Outcomes, PullDone, PullProgress


def split_tag(repo_tag: str) -> tuple[str, str]:
    """'127.0.0.1:5000/app:v1' -> ('127.0.0.1:5000/app', 'v1'); a port is not a tag."""
    repository, sep, tag = repo_tag.rpartition(":")
    if not sep or "/" in tag:
        return repo_tag, "latest"
    return repository, tag


def _matches(repository: str, tag: str, reference: str) -> bool:
    wanted_repo, wanted_tag = split_tag(reference) if ":" in reference.rsplit("/", 1)[-1] else (reference, "*")
    return fnmatchcase(repository, wanted_repo) and fnmatchcase(tag, wanted_tag)


@execute.register
def _list(command: ImageList, ctx: Context) -> ImageTable:
    with ctx.engine.errors("images"):
        images = ctx.engine.api.images(name=command.reference)
    rows = []
    for image in images:
        for repo_tag in image.get("RepoTags") or ["<none>:<none>"]:
            repository, tag = split_tag(repo_tag)
            if command.reference and not _matches(repository, tag, command.reference):
                continue  # an image tagged twice matches the filter once; show only the matching tag
            rows.append(
                ImageRow(repository, tag, short_id(image["Id"]), timestamp(image.get("Created")), image.get("Size", 0))
            )
    rows.sort(key=lambda row: (row.repository, row.created or datetime.min.replace(tzinfo=UTC)), reverse=False)
    return ImageTable(rows=tuple(rows), reference=command.reference)


@execute.register
def _inspect(command: ImageInspect, ctx: Context) -> ImageDetails:
    with ctx.engine.errors(command.image):
        data = ctx.engine.api.inspect_image(command.image)
    config = data.get("Config") or {}
    return ImageDetails(
        short_id=short_id(data["Id"]),
        tags=tuple(data.get("RepoTags") or ()),
        created=timestamp(data.get("Created")),
        size=data.get("Size", 0),
        os=data.get("Os", ""),
        architecture=data.get("Architecture", ""),
        env=env_pairs(config.get("Env")),
        cmd=tuple(config["Cmd"]) if config.get("Cmd") else None,
        entrypoint=tuple(config["Entrypoint"]) if config.get("Entrypoint") else None,
        working_dir=config.get("WorkingDir") or "",
        exposed_ports=tuple(sorted(config.get("ExposedPorts") or {})),
        labels=tuple(sorted((config.get("Labels") or {}).items())),
    )


# How far along a layer is, by the engine's status words: downloading counts for 80 %, extracting the rest.
_LAYER_DONE = {"Pull complete": 1.0, "Already exists": 1.0, "Download complete": 0.8, "Verifying Checksum": 0.8}


class PullTracker:
    """Folds per-layer pull events into one overall percentage."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.layers: dict[str, float] = {}
        self.updated = False

    def feed(self, event: dict) -> PullProgress | None:
        if "error" in event:
            detail = (event.get("errorDetail") or {}).get("message") or event["error"]
            raise docker.errors.APIError(detail, explanation=detail)
        status, layer = event.get("status", ""), event.get("id")
        if status.startswith("Status: Downloaded newer image"):
            self.updated = True
        if not layer or status.startswith("Pulling from") or ":" in layer:
            return None
        before = self.snapshot()
        detail = event.get("progressDetail") or {}
        fraction = detail["current"] / detail["total"] if detail.get("total") else 0.0
        if status == "Downloading":
            self.layers[layer] = 0.8 * min(fraction, 1.0)
        elif status == "Extracting":
            self.layers[layer] = 0.8 + 0.2 * min(fraction, 1.0)
        else:
            self.layers[layer] = max(self.layers.get(layer, 0.0), _LAYER_DONE.get(status, 0.0))
        after = self.snapshot()
        return after if after != before else None

    def snapshot(self) -> PullProgress:
        total = len(self.layers)
        percent = int(100 * sum(self.layers.values()) / total) if total else 0
        done = sum(1 for value in self.layers.values() if value >= 1.0)
        return PullProgress(self.reference, percent, done, total)


@execute.register
def pull(command: ImagePull, ctx: Context) -> PullDone:
    """Pull one tag or digest (never all tags), reporting progress; errors inside the stream are errors."""
    reference = command.reference
    tracker = PullTracker(reference)
    with ctx.engine.errors(reference):
        # A digest is pulled as written: the content it names, whatever the tag beside it points at now.
        wanted = command.digest or command.tag
        for event in ctx.engine.api.pull(command.repository, tag=wanted, stream=True, decode=True):
            progress = tracker.feed(event)
            if progress is not None:
                ctx.report(progress)
        data = ctx.engine.api.inspect_image(command.pulled)
    return PullDone(
        reference=reference, short_id=short_id(data["Id"]), size=data.get("Size", 0), updated=tracker.updated
    )


@execute.register
def _remove(command: ImageRemove, ctx: Context) -> Outcomes:
    return for_each(
        command.image_refs, "removed", ctx, lambda image: ctx.engine.api.remove_image(image, force=command.force)
    )


@execute.register
def _history(command: ImageHistory, ctx: Context) -> LayerHistory:
    with ctx.engine.errors(command.image):
        layers = ctx.engine.api.history(command.image)
    return LayerHistory(
        image=command.image,
        layers=tuple(
            ImageLayer(
                short_id=short_id(layer["Id"]) if layer.get("Id", "<missing>") != "<missing>" else "<missing>",
                created=timestamp(layer.get("Created")),
                created_by=layer.get("CreatedBy") or "",
                size=layer.get("Size") or 0,
                comment=layer.get("Comment") or "",
            )
            for layer in layers
        ),
        full=command.full,
    )
