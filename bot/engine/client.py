"""One shared connection to the Docker engine, with a timeout on every call."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import docker
import docker.utils

from bot import metrics
from bot.engine.errors import explain, kind_of


class Engine:
    """A lazily connected docker-py APIClient.

    The low-level APIClient is used on purpose: the friendly models inspect every item of a listing (1 + N calls).
    Connecting lazily (and again after a failure) means a bot started while dockerd is down recovers without a restart.
    """

    def __init__(self, docker_host: str | None = None, timeout: float = 10.0, pool_size: int = 10) -> None:
        self._kwargs = docker.utils.kwargs_from_env()
        if docker_host:
            self._kwargs["base_url"] = docker_host
        self.docker_host: str = self._kwargs.get("base_url") or "unix:///var/run/docker.sock"
        self.timeout = timeout
        self._pool_size = pool_size
        self._api: docker.APIClient | None = None
        self._lock = threading.Lock()

    @property
    def api(self) -> docker.APIClient:
        with self._lock:
            if self._api is not None:
                return self._api
        # Connect outside the lock: with a hung engine, callers waiting in line behind each other's version
        # probe would each take a multiple of the timeout; this way each gives up after one.
        with self.errors("engine"):
            # version="auto" asks the engine once, so one client works with old and new daemons alike.
            client = docker.APIClient(
                version="auto", timeout=self.timeout, max_pool_size=self._pool_size, **self._kwargs
            )
        if self.docker_host.startswith("unix://"):
            # Proxies and .netrc never apply to a local socket; requests would look them up (in os.environ and
            # the home directory) on every call, about a third of docker-py's own CPU time per request.
            client.trust_env = False
        with self._lock:
            if self._api is None:
                self._api = client
                return client
            current = self._api
        client.close()  # another caller connected first
        return current

    @contextmanager
    def errors(self, subject: str) -> Iterator[None]:
        """Turn anything the engine or the transport raises into an EngineError about `subject`."""
        try:
            yield
        except Exception as error:  # explain() re-raises what it does not recognise
            explained = explain(error, subject, self.docker_host)
            metrics.engine_error(kind_of(explained, error))
            raise explained from error

    def ping(self, timeout: float = 2.0) -> None:
        """Raise EngineError unless the engine answers its /_ping within `timeout` seconds."""
        with self.errors("engine"):
            api = self.api
            api._result(api._get(api._url("/_ping"), timeout=timeout))

    def close(self) -> None:
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None
