"""The import graph of bot/ flows one way: each layer imports only the layers below it, the Slack libraries are
imported only in bot/slack/, and bot/slack/ never imports docker. Read from the source (ast), lazy imports included:
an import inside a function is still an arrow."""

import ast
import functools
import importlib
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"

# A layer is a top-level package under bot/ or a top-level module. Lowest first: a layer may import itself and the
# layers before it in this list, never one after it.
LAYERS = (
    "bot",  # bot/__init__.py: empty
    "config",  # settings from the environment, checked once at start-up
    "results",  # the plain values every stage passes on
    "secrets",  # the one masking function
    "store",  # the shared database (SQLite or PostgreSQL)
    "watched",  # files reloaded on SIGHUP
    "words",  # "did you mean" for a mistyped name
    "yamlfile",  # YAML with line numbers in its errors
    "metrics",  # counts commands, errors and audit records (by their decision)
    "audit",  # records every decision and outcome
    "grammar",  # docker-CLI text -> Command
    "engine",  # Command -> Result over docker-py; how to reach one engine (engine/spec.py)
    "fleet",  # the engines file and a client per named engine
    "policy",  # who may do what, where; reads ownership facts from the engine
    "render",  # Result -> Block Kit and terminal text
    "about_shipmate",  # Shipmate's own commands (whoami, policy, audit)
    "freezes",  # when changes wait (the policy's freezes and /docker freeze) and which alerts are silenced
    "request",  # Caller, Request, Reply: what every way in hands the dispatcher and gets back
    "trail",  # one request's audit records (its "started" record before a change)
    "confirm",  # ask first: which commands, what they ask, the signed tokens, and what a click may do
    "pipeline",  # decide (authorize, audit gate) and carry out, once for commands, clicks and fan-out
    "approve",  # two-person approval: the request, its preview and fingerprint, and its clicks
    "dispatcher",  # parse -> choose engine -> authorize -> confirm -> execute -> render
    "steps",  # Workflow Builder steps: inputs -> a command line, a Reply -> the step's outputs
    "alerts",  # engine events -> rules -> claimed once -> delivered
    "home",  # the App Home tab of one user, as sections the policy lets them read
    "health",  # readiness and liveness over the dispatcher's engines
    "assembly",  # builds the dispatcher and alerts from the settings
    "slack",  # the Slack adapter: Bolt app, HTTP server, Socket Mode (builds its core through assembly)
    "cli",  # shipmate local | serve | socket
    "__main__",  # python -m bot
)

# The only arrows that point up, each with why it stays.
UPWARD: dict[tuple[str, str], str] = {}

SLACK_LIBRARIES = {"slack_bolt", "slack_sdk"}


@functools.cache
def modules() -> dict[str, Path]:
    """Every module under bot/, by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(BOT.rglob("*.py")):
        parts = path.relative_to(BOT.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


@functools.cache
def imports(module: str) -> tuple[tuple[str, int], ...]:
    """(imported module, line) for every import in `module`, at any depth. `from bot.x import y` is an arrow to
    bot.x.y when that is a module, else to bot.x; a relative import is resolved against the module's package."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((submodule if submodule in modules() else base, node.lineno))
    return tuple(dict.fromkeys(found))  # one arrow per line, however many names it takes


def arrows() -> list[tuple[str, str, int]]:
    """(importer, imported, line) for every import of a bot module by another bot module."""
    return [
        (module, target, line)
        for module in modules()
        for target, line in imports(module)
        if target == "bot" or target.startswith("bot.")
    ]


def test_every_module_belongs_to_a_listed_layer() -> None:
    unplaced = sorted({layer_of(module) for module in modules()} - set(LAYERS))
    assert unplaced == [], f"place these layers in LAYERS (tests/test_layers.py): {unplaced}"


def test_each_layer_imports_only_the_layers_below_it() -> None:
    rank = {layer: index for index, layer in enumerate(LAYERS)}
    upward = [
        f"{modules()[module].relative_to(BOT.parent)}:{line} {target} ({layer_of(module)} is below {layer_of(target)})"
        for module, target, line in arrows()
        if rank[layer_of(target)] > rank[layer_of(module)] and (module, target) not in UPWARD
    ]
    assert not upward, "imports of a higher layer:\n" + "\n".join(upward)


def test_every_upward_exception_is_still_an_arrow() -> None:
    real = {(module, target) for module, target, _line in arrows()}
    assert set(UPWARD) <= real, f"no longer imported, drop from UPWARD: {set(UPWARD) - real}"


def third_party(top_level: set[str]) -> list[str]:
    """module:line for every import of one of the `top_level` packages."""
    return [
        f"{module}:{line} imports {target}"
        for module in modules()
        for target, line in imports(module)
        if target.partition(".")[0] in top_level
    ]


def test_only_the_slack_adapter_imports_the_slack_libraries() -> None:
    users = third_party(SLACK_LIBRARIES)
    assert users, "the Slack adapter imports slack_bolt and slack_sdk: if none is found, this test reads nothing"
    outside = [user for user in users if layer_of(user.partition(":")[0]) != "slack"]
    assert not outside, "Slack libraries outside bot/slack/:\n" + "\n".join(outside)


def test_the_slack_adapter_never_imports_docker() -> None:
    users = third_party({"docker"})
    assert users, "the engine imports docker: if none is found, this test reads nothing"
    inside = [user for user in users if layer_of(user.partition(":")[0]) == "slack"]
    assert not inside, "docker in bot/slack/:\n" + "\n".join(inside)


def test_every_module_imports() -> None:
    """A name imported from a module that no longer has it fails here, not first in the one test that reaches it."""
    for module in modules():
        if module != "bot.__main__":  # runs the command line
            importlib.import_module(module)
