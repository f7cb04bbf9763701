"""The table a run prints, and the JSON it writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    figure: str
    measured: str
    target: str
    ok: bool | None  # None: reported, no target


def table(rows: list[Row]) -> str:
    headers = ("figure", "measured", "target", "")
    cells = [(r.figure, r.measured, r.target, {True: "ok", False: "MISSED", None: ""}[r.ok]) for r in rows]
    widths = [max(len(str(c[i])) for c in [headers, *cells]) for i in range(4)]
    lines = ["  ".join(str(c[i]).ljust(widths[i]) for i in range(4)).rstrip() for c in [headers, *cells]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        data = {field.name: _plain(getattr(value, field.name)) for field in fields(value)}
        for name in ("ratio", "cpu_ratio", "rate", "growth", "one_listing"):  # derived figures, kept in the JSON
            if hasattr(type(value), name):
                data[name] = getattr(value, name)
        return data
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(document), indent=2, ensure_ascii=False) + "\n")
