"""engines.yml -> FleetSpec, checked key by key; every mistake is one EnginesError naming the file and line."""

import os
from pathlib import Path

import yaml

from bot.engine.spec import DEFAULT_TIMEOUT, EngineSpec, TLSFiles
from bot.fleet.spec import ALL, NAME, FleetSpec
from bot.words import suggest
from bot.yamlfile import NULL_TAG, FileError, NodeReader

KEYS = ("default", "engines")
ENGINE_KEYS = ("host", "tls", "timeout")
TLS_KEYS = ("ca", "cert", "key", "verify")
SCHEMES = ("unix", "tcp", "ssh", "http", "https")


class EnginesError(FileError):
    pass


class _Reader(NodeReader):
    error_type = EnginesError


def _host(reader: _Reader, node: yaml.Node, name: str) -> str:
    host = reader.string(node, f"the host of `{name}`")
    scheme, sep, rest = host.partition("://")
    if not sep or scheme not in SCHEMES or not rest.strip("/"):
        raise reader.error(
            node,
            f"`{name}`: host `{host}` is not an engine address: write e.g. `unix:///var/run/docker.sock`, "
            "`tcp://10.0.0.5:2376` or `ssh://deploy@10.0.0.6`",
        )
    return host


def _file(reader: _Reader, node: yaml.Node, what: str, base: Path) -> Path:
    path = Path(reader.string(node, what)).expanduser()
    path = path if path.is_absolute() else base / path
    if not os.access(path, os.R_OK) or not path.is_file():
        raise reader.error(node, f"{what} `{path}` cannot be read")
    return path


def _tls(reader: _Reader, node: yaml.Node, name: str, base: Path) -> TLSFiles:
    files: dict[str, Path] = {}
    verify: bool | None = None
    for key, key_node, value in reader.mapping(node, f"`{name}.tls`"):
        if key == "verify":
            if not isinstance(value, yaml.ScalarNode) or value.value not in ("true", "false"):
                raise reader.error(value, f"`{name}.tls.verify` must be true or false")
            verify = value.value == "true"
        elif key in TLS_KEYS:
            files[key] = _file(reader, value, f"`{name}.tls.{key}`", base)
        else:
            raise reader.error(
                key_node, f"unknown key `{name}.tls.{key}`: use {', '.join(TLS_KEYS)}{suggest(key, TLS_KEYS)}"
            )
    if ("cert" in files) != ("key" in files):
        raise reader.error(node, f"`{name}.tls`: give both `cert` and `key` (the client certificate and its key)")
    if verify is None:
        if "ca" not in files:
            raise reader.error(
                node,
                f"`{name}.tls` has no `ca`: name the CA that signed the engine's certificate, "
                "or write `verify: false` to accept any certificate (not recommended)",
            )
        verify = True
    elif verify and "ca" not in files:
        raise reader.error(node, f"`{name}.tls.verify: true` needs `ca`: the CA that signed the engine's certificate")
    return TLSFiles(files.get("ca"), files.get("cert"), files.get("key"), verify)


def _engine(
    reader: _Reader, name: str, key_node: yaml.Node, node: yaml.Node, base: Path, default_timeout: float
) -> EngineSpec:
    if not NAME.match(name) or name == ALL:
        raise reader.error(
            key_node,
            f"`{name}` cannot name an engine: use lower-case letters, digits, `.`, `_` and `-`, starting with a "
            f"letter or digit (and not `{ALL}`), e.g. `prod-1`",
        )
    if node.tag == NULL_TAG:
        raise reader.error(node, f'`{name}` has no host: write e.g. `{name}: {{host: "tcp://10.0.0.5:2376"}}`')
    host: str | None = None
    tls: TLSFiles | None = None
    timeout = default_timeout
    tls_node: yaml.Node | None = None
    for key, key_node_, value in reader.mapping(node, f"engine `{name}`"):
        if key == "host":
            host = _host(reader, value, name)
        elif key == "tls":
            tls, tls_node = _tls(reader, value, name, base), value
        elif key == "timeout":
            timeout = reader.number(value, f"`{name}.timeout`")
            if not 1 <= timeout <= 600:
                raise reader.error(value, f"`{name}.timeout` is out of range: give seconds from 1 to 600")
        else:
            raise reader.error(
                key_node_,
                f"unknown key `{name}.{key}`: use {', '.join(ENGINE_KEYS)}{suggest(key, ENGINE_KEYS)}",
            )
    if host is None:
        raise reader.error(node, f'`{name}` has no `host`: write e.g. `host: "tcp://10.0.0.5:2376"`')
    if tls is not None and not host.startswith(("tcp://", "https://")):
        raise reader.error(tls_node, f"`{name}.tls` applies only to a `tcp://` host, not `{host.partition(':')[0]}`")
    return EngineSpec(name=name, host=host, tls=tls, timeout=timeout)


def parse_engines(text: str, path: Path, default_timeout: float = DEFAULT_TIMEOUT) -> FleetSpec:
    """`default_timeout` (SHIPMATE_DOCKER_TIMEOUT) is the timeout of every engine that names none."""
    reader = _Reader(path)
    root = reader.compose(text)
    if root is None:
        raise EnginesError(path, None, "the engines file is empty: see engines.example.yml for what to write")
    sections: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key, key_node, value in reader.mapping(root, "the engines file"):
        if key not in KEYS:
            raise reader.error(key_node, f"unknown key `{key}`: the keys are {', '.join(KEYS)}{suggest(key, KEYS)}")
        sections[key] = (key_node, value)
    if "engines" not in sections or sections["engines"][1].tag == NULL_TAG:
        raise EnginesError(path, None, "no `engines:`: name at least one, e.g. `engines: {staging: {host: …}}`")
    engines = tuple(
        _engine(reader, name, key_node, value, path.parent, default_timeout)
        for name, key_node, value in reader.mapping(sections["engines"][1], "`engines`")
    )
    names = [spec.name for spec in engines]
    if "default" in sections:
        default_node = sections["default"][1]
        default = reader.string(default_node, "`default`")
        if default not in names:
            raise reader.error(
                default_node,
                f"`default: {default}` names no engine: engines are {', '.join(names)}{suggest(default, names)}",
            )
    elif len(engines) == 1:
        default = names[0]
    else:
        raise reader.error(root, f"say which engine a command uses when it names none: `default: {names[0]}`")
    return FleetSpec(default=default, engines=engines, path=path)


def load_engines(path: Path, default_timeout: float = DEFAULT_TIMEOUT) -> FleetSpec:
    """Read and check an engines file. Raises EnginesError (a ConfigError) naming the line of the first mistake;
    an engine without `timeout` gets `default_timeout` (SHIPMATE_DOCKER_TIMEOUT)."""
    return parse_engines(_Reader(path).read(path), path, default_timeout)
