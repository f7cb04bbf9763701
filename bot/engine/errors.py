"""Every failure from the Docker engine becomes one EngineError with plain words — in this one place."""

import re

import docker.errors
import requests.exceptions


class EngineError(Exception):
    """A Docker failure explained in one line."""


class EngineUnreachable(EngineError):
    pass


NOT_A_MANAGER = "this engine is not a swarm manager: run `docker swarm init`, or point Shipmate at a manager"


def _explain_api_error(error: docker.errors.APIError, subject: str) -> str:
    text = str(error.explanation or error)
    lowered = text.lower()
    if "not a swarm manager" in lowered:
        return NOT_A_MANAGER
    if "name conflicts with an existing object" in lowered:
        return f"a service named `{subject}` already exists: pick another `--name`, or update that one"
    if "does not have a previous spec" in lowered:
        return f"`{subject}` has no previous spec to roll back to"
    if "update out of sequence" in lowered:
        return f"`{subject}` was changed by someone else meanwhile: look at it again, then retry"
    if "port is already allocated" in lowered or "address already in use" in lowered:
        port = re.search(r":(\d+)(?: failed|\b)", text.split("for", 1)[-1])
        which = f"port {port.group(1)}" if port else "a requested port"
        return f"{which} is already allocated on the host: pick another host port with `-p`"
    if "is already in use by container" in lowered:
        name = re.search(r'name "/?([^"]+)"', text)
        return f"the name `{name.group(1) if name else subject}` is already in use: pick another `--name` or remove the old container"
    if "cannot remove a running container" in lowered or "stop the container before" in lowered:
        return f"`{subject}` is running: stop it first, or use `rm -f`"
    if "removal of container" in lowered and "already in progress" in lowered:
        return f"`{subject}` is already being removed"
    if "conflict: unable to remove repository reference" in lowered or "image is being used" in lowered:
        return f"image `{subject}` is used by a container: remove the container first, or use `-f`"
    if (
        "manifest unknown" in lowered
        or "not found: manifest" in lowered
        or ("pull access denied" in lowered or "repository does not exist" in lowered)
    ):
        return f"image `{subject}` was not found in the registry"
    if any(
        word in lowered
        for word in ("connection refused", "no such host", "i/o timeout", "dial tcp", "tls handshake", "dial unix")
    ) and ("registry" in lowered or "http" in lowered or "get " in lowered):
        return f"the registry for `{subject}` is unreachable"
    if isinstance(error, docker.errors.NotFound) or error.status_code == 404:
        if "no such image" in lowered or ("image" in lowered and "not found" in lowered):
            return f"no such image: `{subject}`"
        if "no such container" in lowered:
            return f"no such container: `{subject}`"
        if lowered.startswith("service ") or "no such service" in lowered:
            return f"no such service: `{subject}`"
        return f"not found: `{subject}`"
    if "is not running" in lowered:
        return f"`{subject}` is not running"
    # Unknown engine words are still the truest answer; keep them to one line.
    return f"Docker refused: {' '.join(text.split())[:300]}"


def explain(error: Exception, subject: str, docker_host: str) -> EngineError:
    """Map any exception raised while talking to the engine to an EngineError."""
    if isinstance(error, EngineError):
        return error
    if isinstance(error, requests.exceptions.ReadTimeout | requests.exceptions.ConnectTimeout):
        return EngineUnreachable(f"Docker engine at {docker_host} did not answer in time; it may be overloaded or hung")
    if isinstance(error, requests.exceptions.SSLError):
        reason = re.search(r"\[SSL: ([A-Z_]+)\]|(certificate verify failed[^'\"),]*)", str(error))
        why = (reason.group(1) or reason.group(2)).lower().replace("_", " ") if reason else "the handshake failed"
        return EngineUnreachable(f"TLS with the Docker engine at {docker_host} failed ({why}): check its tls files")
    if isinstance(error, requests.exceptions.ConnectionError):
        if "timed out" in str(error).lower():
            return EngineUnreachable(
                f"Docker engine at {docker_host} did not answer in time; it may be overloaded or hung"
            )
        if docker_host.startswith("ssh://"):
            return EngineUnreachable(
                f"Docker engine unreachable at {docker_host}: ssh could not connect, or `docker system dial-stdio`"
                " failed there (Shipmate's log has ssh's own message)"
            )
        return EngineUnreachable(f"Docker engine unreachable at {docker_host}: is dockerd running?")
    if isinstance(error, docker.errors.ImageNotFound):
        return EngineError(f"no such image: `{subject}`")
    if isinstance(error, docker.errors.APIError):
        return EngineError(_explain_api_error(error, subject))
    if isinstance(error, docker.errors.DockerException):
        cause = error.__cause__
        if isinstance(cause, requests.exceptions.ReadTimeout | requests.exceptions.ConnectionError):
            return explain(cause, subject, docker_host)  # the client's first call (the API version probe) failed
        return EngineUnreachable(f"Docker engine unreachable at {docker_host}: {' '.join(str(error).split())[:200]}")
    raise error


def kind_of(error: EngineError, cause: Exception) -> str:
    """A fixed word for the metrics: what sort of failure this was."""
    if isinstance(error, EngineUnreachable):
        return "timeout" if "did not answer in time" in str(error) else "unreachable"
    if isinstance(cause, docker.errors.APIError):
        if cause.status_code == 404:
            return "not_found"
        if cause.status_code == 409:
            return "conflict"
        return "server" if (cause.status_code or 500) >= 500 else "client"
    return "other"
