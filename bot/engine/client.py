"""One shared connection to a Docker engine, with a timeout on every call."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker
import docker.constants
import docker.errors
import docker.tls
import docker.utils
from docker.transport.unixconn import UnixHTTPAdapter

from bot import metrics
from bot.engine.errors import explain, kind_of
from bot.engine.spec import IMPLICIT, EngineSpec, TLSFiles, public_host
from bot.engine.ssh_relay import SSHRelay


class _OnePoolPerSocket(UnixHTTPAdapter):
    """docker-py keys its unix-socket pools by the whole request URL: every container id and query string gets a
    pool of its own (25 kept, each with idle sockets of its own), so most calls open a new connection and the
    number held open drifts with the mix of recent calls. One engine is one socket: one pool of `max_pool_size`."""

    def get_connection(self, url: str, proxies: object = None) -> object:
        return super().get_connection("http+docker://localhost", proxies)


class _ClientWithoutEnvironment(docker.APIClient):
    """An APIClient that never reads proxies, .netrc or CA bundles from the environment — from its very first
    request, the API version probe, which runs before a plain APIClient's `trust_env` could be switched off —
    and that keeps one pool of connections per unix socket."""

    def __init__(self, **kwargs: object) -> None:
        # docker-py asks for the API version inside __init__; asking after the pool is swapped keeps its connection.
        ask_version = kwargs.get("version") == "auto"
        if ask_version:
            kwargs["version"] = docker.constants.DEFAULT_DOCKER_API_VERSION
        super().__init__(**kwargs)
        per_url = getattr(self, "_custom_adapter", None)  # set for unix, ssh and some TLS setups only
        if isinstance(per_url, UnixHTTPAdapter):
            self._custom_adapter = _OnePoolPerSocket(per_url.socket_path, per_url.timeout, 1, per_url.max_pool_size)
            self.mount("http+docker://", self._custom_adapter)
        if ask_version:
            self._version = self._retrieve_server_version()

    @property  # type: ignore[override]
    def trust_env(self) -> bool:
        return False

    @trust_env.setter
    def trust_env(self, value: bool) -> None:
        pass  # requests.Session.__init__ sets it to True


class Engine:
    """A lazily connected docker-py APIClient.

    The low-level APIClient is used on purpose: the friendly models inspect every item of a listing (1 + N calls).
    Connecting lazily (and again after a failure) means a bot started while dockerd is down recovers without a restart.
    """

    def __init__(
        self,
        docker_host: str | None = None,
        timeout: float = 10.0,
        pool_size: int = 10,
        *,
        name: str = IMPLICIT,
        tls: TLSFiles | None = None,
        from_environment: bool = True,
    ) -> None:
        """From the environment, the engine the docker CLI would use: DOCKER_HOST (unless `docker_host` is
        given), DOCKER_TLS_VERIFY and DOCKER_CERT_PATH. Otherwise (a named engine) only what is given counts."""
        self._kwargs = docker.utils.kwargs_from_env() if from_environment else {}
        if docker_host:
            self._kwargs["base_url"] = docker_host
        if tls is not None:
            self._kwargs["tls"] = docker.tls.TLSConfig(
                client_cert=(str(tls.cert), str(tls.key)) if tls.cert and tls.key else None,
                ca_cert=str(tls.ca) if tls.ca else None,
                verify=str(tls.ca) if tls.verify and tls.ca else False,
            )
        base_url = str(self._kwargs.get("base_url", ""))
        # The system's ssh (the user's keys, config and known_hosts) behind a unix socket of our own: see ssh_relay.
        self._ssh_url = base_url if base_url.startswith("ssh://") else None
        self._relay: SSHRelay | None = None
        self.name = name
        self.docker_host: str = public_host(self._kwargs.get("base_url") or "unix:///var/run/docker.sock")
        self.timeout = timeout
        self._pool_size = pool_size
        self._api: docker.APIClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_spec(cls, spec: EngineSpec, pool_size: int = 10) -> "Engine":
        from_environment = spec.host is None  # only the implicit engine of a Shipmate without an engines file
        return cls(spec.host, spec.timeout, pool_size, name=spec.name, tls=spec.tls, from_environment=from_environment)

    @property
    def pool_size(self) -> int:
        """How many requests may share the client's connections at once."""
        return self._pool_size

    @property
    def api(self) -> docker.APIClient:
        with self._lock:
            if self._api is not None:
                return self._api
            kwargs = self._kwargs
            if self._ssh_url is not None:
                if self._relay is None:
                    self._relay = SSHRelay(self._ssh_url, self.name)
                kwargs = {**kwargs, "base_url": self._relay.docker_host}
        # Connect outside the lock: with a hung engine, callers waiting in line behind each other's version
        # probe would each take a multiple of the timeout; this way each gives up after one.
        # Proxies and .netrc never apply to a local socket (nor to an ssh relay's); requests would look them up (in
        # os.environ and the home directory) on every call, about a third of docker-py's own CPU time per request.
        # With TLS, the environment would also let REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace the engine's own CA.
        local_or_tls = str(kwargs.get("base_url") or "unix://").startswith("unix://") or "tls" in kwargs
        client_type = _ClientWithoutEnvironment if local_or_tls else docker.APIClient
        with self.errors("engine"):
            # version="auto" asks the engine once, so one client works with old and new daemons alike.
            client = client_type(version="auto", timeout=self.timeout, max_pool_size=self._pool_size, **kwargs)
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

    def disk_usage(self) -> dict[str, Any]:
        """`GET /system/df`. Before Docker 23 an engine works out one at a time and refuses a second caller ("a disk
        usage operation is already running"): wait for the running one (another user's `system df`, the next engine
        of a fan-out on the same host) rather than fail, within this engine's timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return self.api.df()
            except docker.errors.APIError as error:
                if "disk usage operation is already running" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    def close(self) -> None:
        with self._lock:
            api, self._api = self._api, None
            relay, self._relay = self._relay, None
        if api is not None:
            api.close()
        if relay is not None:
            relay.close()  # its ssh processes too
