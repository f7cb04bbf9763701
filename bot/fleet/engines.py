"""The engines in force: a client per named engine, and which engines a `--context` names.

No module holds "the" engine: the dispatcher asks the fleet for the engines a request names, right after
parsing, and every later stage (authorize, confirm, execute, audit, buttons) sees those names.
"""

import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.engine.client import Engine
from bot.engine.spec import DEFAULT_TIMEOUT, IMPLICIT, EngineSpec
from bot.fleet.spec import ALL, FleetSpec, matching
from bot.watched import WatchedFile, reload_on_sighup
from bot.words import suggest


class UnknownEngine(Exception):
    """`--context` named an engine that is not in the engines file: the message says which there are, `plain`
    says only what was wrong (for callers who may not learn the engines' names)."""

    def __init__(self, listed: str, plain: str) -> None:
        super().__init__(listed)
        self.plain = plain


def _load(path: Path, default_timeout: float) -> FleetSpec:
    from bot.fleet.load import load_engines  # the YAML reader only when there is a file

    return load_engines(path, default_timeout)


@dataclass(frozen=True)
class Selection:
    """The engines one request runs on, in file order; `pattern` is what was typed (None: the default)."""

    engines: tuple[str, ...]
    pattern: str | None

    @property
    def several(self) -> bool:
        return self.pattern is not None and (len(self.engines) != 1 or self.pattern != self.engines[0])


class Fleet:
    def __init__(
        self,
        path: Path | None,
        docker_host: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        pool_size: int = 10,
    ) -> None:
        """The engines of `path` (reloaded on change and SIGHUP); without the file, one engine named `default`
        from DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH. A broken file raises EnginesError. `timeout`
        (SHIPMATE_DOCKER_TIMEOUT) is every engine's unless the file gives it one of its own, on every reload too."""
        self._implicit = FleetSpec(IMPLICIT, (EngineSpec(IMPLICIT, docker_host, None, timeout),))
        load = partial(_load, default_timeout=timeout)
        self._file = WatchedFile(path, load, "engines file") if path is not None else None
        if self._file is not None:
            reload_on_sighup(self._file)
        self._pool_size = pool_size
        self._engines: dict[str, tuple[EngineSpec, Engine]] = {}
        self._lock = threading.Lock()

    @classmethod
    def single(cls, engine: Engine) -> "Fleet":
        """A fleet of one engine built elsewhere (tests, benchmarks), named `default`."""
        fleet = cls(None)
        fleet._engines[IMPLICIT] = (fleet._implicit.engines[0], engine)
        return fleet

    @property
    def spec(self) -> FleetSpec:
        loaded = self._file.current() if self._file is not None else None
        return loaded or self._implicit

    @property
    def names(self) -> tuple[str, ...]:
        return self.spec.names

    @property
    def default(self) -> str:
        return self.spec.default

    @property
    def several(self) -> bool:
        """More than one engine: every reply then names the engine it came from."""
        return self.spec.several

    def engine(self, name: str) -> Engine:
        """The client for one engine (KeyError when the file names none such); a changed entry in the file gets a
        new client, and engines no longer in the file lose theirs (the old ones are closed: their connections, an
        ssh engine's ssh processes)."""
        fleet = self.spec
        spec = fleet.spec(name)
        with self._lock:
            stale = [self._engines.pop(gone)[1] for gone in set(self._engines) - set(fleet.names)]
            known = self._engines.get(name)
            if known is not None and known[0] == spec:
                engine = known[1]
            else:
                engine = Engine.from_spec(spec, self._pool_size)
                self._engines[name] = (spec, engine)
                if known is not None:
                    stale.append(known[1])
        for old in stale:
            old.close()
        return engine

    def select(self, pattern: str | None) -> Selection:
        """The engines `--context` names: a name, a comma list, a glob or `all`; None is the default engine."""
        names = self.names
        if pattern is None:
            return Selection((self.default,), None)
        chosen: set[str] = set()
        for word in pattern.split(","):
            word = word.strip()
            found = matching(word, names)
            if not found:
                raise UnknownEngine(self._unknown(word, names), self._unknown(word, ()))
            chosen.update(found)
        return Selection(tuple(name for name in names if name in chosen), pattern)

    @staticmethod
    def _unknown(word: str, names: tuple[str, ...]) -> str:
        """What was wrong, with the engines there are when `names` are given."""
        if not word:
            listed = f": engines are {', '.join(names)} (or `{ALL}`)" if names else ""
            return f"`--context` needs an engine name{listed}"
        what = "matches no engine" if any(char in word for char in "*?[") else "is not an engine"
        listed = f"; engines: {', '.join(names)}{suggest(word, names)}" if names else ""
        return f"`{word}` {what}{listed}"

    def close(self) -> None:
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for _, engine in engines:
            engine.close()
