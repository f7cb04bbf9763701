"""The image allowlist: glob patterns over image references, compared the way Docker names images.

`*` matches within one path component, `**` across them: `devwikirepo/*` allows `devwikirepo/app` but not
`devwikirepo/a/b`; `registry.example.com/**` allows anything under that registry. A pattern without a tag
allows every tag. Docker Hub's long forms are folded first, so `nginx`, `library/nginx` and
`docker.io/library/nginx:latest` are the same image.

A digest is part of the reference: it names content, not a tag, so a reference with one (`nginx:1.25@sha256:…`)
is allowed only by an entry with that very digest (`nginx@sha256:…`) or by a bare repository (`nginx`, which
allows everything in it). A tag pattern (`nginx:1.25`, `nginx:*`) allows tags, never an arbitrary digest.
"""

import re

_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")
_PATTERN_CHARS = re.compile(r"^[A-Za-z0-9._/:@*-]+$")
# What `docker run` would take as an image id rather than a name.
IMAGE_ID = re.compile(r"^(?:sha256:)?[a-f0-9]{12,64}$")


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """'registry:5000/team/app:v2@sha256:…' -> ('registry:5000/team/app', 'v2', 'sha256:…'), Hub names folded."""
    name, _, digest = reference.partition("@")
    repository, colon, tag = name.rpartition(":")
    if not colon or "/" in tag:
        repository, tag = name, ""
    for prefix in _HUB_PREFIXES:
        if repository.startswith(prefix):
            repository = repository.removeprefix(prefix)
            break
    if repository.startswith("library/") and repository.count("/") == 1:
        repository = repository.removeprefix("library/")
    return repository, tag or None, digest or None


def _glob(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*\*|\*)", pattern)
    return re.compile("".join({"**": ".*", "*": "[^/]*"}.get(part, re.escape(part)) for part in parts))


def check_pattern(pattern: str) -> str | None:
    """Why an allowlist entry is unusable, or None."""
    if not _PATTERN_CHARS.match(pattern):
        return f"`{pattern}` is not an image pattern: use e.g. `nginx`, `nginx:1.25`, `devwikirepo/*`, `registry.example.com/**`"
    repository, tag, _ = split_reference(pattern)
    if not repository:
        return f"`{pattern}` names no repository"
    if "**" in (tag or ""):
        return f"`{pattern}`: `**` belongs in the repository part; a tag is matched with `*`"
    return None


class ImageAllowlist:
    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.patterns = patterns
        self._compiled = []
        for pattern in patterns:
            repository, tag, digest = split_reference(pattern)
            self._compiled.append((_glob(repository), _glob(tag) if tag else None, digest))

    def allows(self, reference: str) -> bool:
        return self.matching(reference) is not None

    def matching(self, reference: str) -> str | None:
        """The first entry that allows `reference` (a dry run names it), or None."""
        repository, tag, digest = split_reference(reference)
        if not digest:
            tag = tag or "latest"  # docker's own default
        for pattern, (repo_glob, tag_glob, wanted_digest) in zip(self.patterns, self._compiled, strict=True):
            if not repo_glob.fullmatch(repository):
                continue
            if wanted_digest and wanted_digest != digest:
                continue
            if digest and not wanted_digest and tag_glob:  # a tag pattern says nothing about other content
                continue
            if tag_glob and not (tag and tag_glob.fullmatch(tag)):
                continue
            return pattern
        return None
