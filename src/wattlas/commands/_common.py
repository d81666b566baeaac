"""Output helpers shared by the commands: JSON, CSV and rich tables from plain dicts."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from typing import Any

from ..stages._plain import jsonable

FORMATS = ("table", "json", "csv")


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> str:
    from ..errors import InputError

    if fmt not in allowed:
        raise InputError(f"--format '{fmt}': allowed {', '.join(allowed)}")
    return fmt


def put_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data[a][b]… = value`` for the dotted `path` (sections created as needed); a flag
    that was not given (None) leaves the scenario's value alone."""
    if value is None:
        return
    node = data
    keys = path.split(".")
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            node[k] = {}
        node = node[k]
    node[keys[-1]] = value


def check_finite(obj: Any, path: str = "") -> None:
    """Raise NonFiniteOutputError naming the key path of the first NaN or infinity in the plain
    JSON value `obj` (an output never carries one: no ``null`` or ``NaN`` stands in for a
    number)."""
    from ..errors import NonFiniteOutputError

    stack: list[tuple[str, Any]] = [(path, obj)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, float):
            if not math.isfinite(node):
                raise NonFiniteOutputError(where, node)
        elif isinstance(node, dict):
            stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in node.items())
        elif isinstance(node, list | tuple):
            stack.extend((f"{where}.{i}" if where else str(i), v) for i, v in enumerate(node))


def dump_json(obj: Any) -> str:
    """`obj` as indented JSON; a NaN or infinity anywhere raises (never written as null)."""
    plain = jsonable(obj)
    check_finite(plain)
    return json.dumps(plain, indent=2, sort_keys=False, allow_nan=False)


def print_json(obj: Any) -> None:
    sys.stdout.write(dump_json(obj) + "\n")


def print_csv(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for i, r in enumerate(rows):
        plain = jsonable(r)
        check_finite(plain, f"row {i}")
        w.writerow({k: ("" if v is None else v) for k, v in plain.items()})
    sys.stdout.write(buf.getvalue())


def fmt_num(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            from ..errors import NonFiniteOutputError

            raise NonFiniteOutputError("a table cell", v)
        if v == 0:
            return "0"
        a = abs(v)
        if a >= 1e6 or a < 1e-3:
            return f"{v:.{digits}g}"
        if a >= 100:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    return str(v)


def print_table(rows: list[dict[str, Any]], columns: list[str] | None = None,
                title: str | None = None, headers: dict[str, str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    cols = columns or (list(rows[0]) if rows else [])
    table = Table(title=title, show_lines=False, header_style="bold")
    for c in cols:
        name = (headers or {}).get(c, c)
        if c in ("source", "name"):  # long text: one line here, in full with --format json/csv
            table.add_column(name, overflow="ellipsis", no_wrap=True, max_width=24)
        else:
            table.add_column(name, overflow="fold", no_wrap=c == "id")
    for r in rows:
        table.add_row(*[fmt_num(r.get(c)) for c in cols])
    Console(width=max(100, Console().width)).print(table)


def print_pairs(pairs: list[tuple[str, Any]], title: str | None = None) -> None:
    """A two-column table of (label, value) lines for a single result."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for label, value in pairs:
        table.add_row(label, value if isinstance(value, str) else fmt_num(value))
    Console().print(table)
