"""Write a tenant definition back as TOML (``flask tenant export``).

Only what a definition holds: tables, strings, integers, floats, booleans, lists of
those and lists of tables (``[[contact.windows]]``). ``None`` means "not set" (a city
without service hours) and is left out, which is exactly how tenant.toml says it.
The output reads back with :mod:`tomllib` to the same values (tested by a round trip).
"""
from __future__ import annotations

import json
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else toml_string(name)


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string (quoted, escaped)."""
    # JSON's escapes (\" \\ \n \t \uXXXX ...) are TOML basic-string escapes; DEL is the one
    # control character JSON leaves raw and TOML forbids.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _table(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    """Plain keys first, then sub-tables and arrays of tables (TOML needs that order)."""
    nested = []
    for name, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_table_list(value):
            nested.append((name, value))
        else:
            lines.append(f"{_key(name)} = {_value(value)}")
    for name, value in nested:
        dotted = ".".join(_key(p) for p in [*path, name])
        if isinstance(value, dict):
            lines.extend(["", f"[{dotted}]"])
            _table(lines, [*path, name], value)
        else:
            for item in value:
                lines.extend(["", f"[[{dotted}]]"])
                _table(lines, [*path, name], item)


def dumps(data: dict[str, Any], header: str = "") -> str:
    """``data`` as a TOML document, with ``header`` as leading ``#`` comment lines."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    _table(lines, [], data)
    return "\n".join(lines).strip("\n") + "\n"
