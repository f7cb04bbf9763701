"""The shared database is reached only through bot/store: no SQL, no database driver and no call of the database's
own primitives anywhere else in bot/ — every other module uses the typed store for its purpose."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
STORE = BOT / "store"
SQL = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX)"
    r"|ALTER\s+TABLE|DROP\s+TABLE)\b",
    re.DOTALL,
)
DRIVERS = ("sqlite3", "psycopg", "psycopg_pool")
CURSOR_CALLS = ("execute", "executemany", "executescript")
PRIMITIVES = ("append_audit", "latest_audit", "claimed", "run")  # bot.store.Store's, beside claim()
DATABASE_CLAIM_ARGS = 5  # Store.claim(kind, key, state, by, expires_at); the stores' own claims take fewer


def reaches_the_database(tree: ast.AST) -> list[str]:
    """What in a module's syntax talks to the database other than through a store, one line each."""
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"{where}: SQL {node.value[:60]!r}")
        elif isinstance(node, ast.Import):
            found += [f"{where}: imports {a.name}" for a in node.names if a.name.split(".")[0] in DRIVERS]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in DRIVERS or node.module == "bot.store.schema":
                found.append(f"{where}: imports from {node.module}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name, count = node.func.attr, len(node.args) + len(node.keywords)
            if name in CURSOR_CALLS or (name in PRIMITIVES and count) or (name == "claim" and count >= 5):
                found.append(f"{where}: calls .{name}() with {count} argument(s)")
    return found


def test_no_sql_and_no_database_call_outside_bot_store() -> None:
    outside = {
        str(path.relative_to(BOT.parent)): reaches_the_database(ast.parse(path.read_text(), str(path)))
        for path in sorted(BOT.rglob("*.py"))
        if STORE not in path.parents
    }
    assert {path: lines for path, lines in outside.items() if lines} == {}


def test_the_check_sees_what_bot_store_does() -> None:
    """The same check finds the SQL, the driver and the primitives inside bot/store: it is not blind."""
    inside = {path.name: reaches_the_database(ast.parse(path.read_text())) for path in STORE.glob("*.py")}
    assert any("SQL" in line for line in inside["alerts.py"])
    assert any("imports sqlite3" in line for line in inside["sqlite.py"])
    assert any("imports from psycopg" in line for line in inside["postgres.py"])
    assert any(".claim() with 5" in line for line in inside["follows.py"])
    assert any(".run() with 2" in line for line in inside["alerts.py"])
