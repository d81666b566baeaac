"""Shipped catalogs (accelerators, systems, models, regions) with a schema and sources.

Catalogs are CSV files in ``wattlas/data``; ``data/schema.csv`` gives every column's type, unit and
meaning, so parsing, defaults and documentation cannot drift apart (the PyPSA way). Every row
carries ``source``, ``source_detail``, ``as_of`` and a ``note`` for conflicts between sources.
Numbers are stored in SI units; derived values (parameter counts, export-control TPP) are computed
in code, never stored.

Users add or override rows with their own CSV or YAML file (``add_user_rows``); a user row with an
existing id replaces the shipped row and is marked ``source_origin = "user"``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import CatalogKeyError, InputError, close_matches

CATALOGS = ("accelerators", "systems", "models", "regions", "engines", "features", "onsite")
SINGULAR = {"accelerators": "accelerator", "systems": "system", "models": "model",
            "regions": "region", "engines": "engine", "features": "feature",
            "onsite": "on-site power option"}
REQUIRED = ("id", "source", "as_of")

_user_rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in CATALOGS}


@dataclass(frozen=True)
class Column:
    """One catalog column as declared in ``data/schema.csv``."""

    name: str
    type: str
    unit: str
    description: str


def _read_text(filename: str) -> str:
    return resources.files("wattlas.data").joinpath(filename).read_text(encoding="utf-8")


@cache
def schema(name: str) -> tuple[Column, ...]:
    """Columns of catalog `name`, in file order."""
    _check_name(name)
    rows = csv.DictReader(io.StringIO(_read_text("schema.csv")))
    return tuple(Column(r["column"], r["type"], r["unit"], r["description"])
                 for r in rows if r["catalog"] == name)


def _check_name(name: str) -> None:
    if name not in CATALOGS:
        raise CatalogKeyError("catalog", name, list(CATALOGS))


#: longest catalog cell [characters] (notes on source conflicts run to a paragraph)
MAX_CELL_CHARS = 10_000
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _parse(value: str, col: Column, where: str) -> Any:
    """One cell as its schema type, finite and within :func:`wattlas.bounds.catalog_limit`."""
    from .bounds import check_catalog_value, shown

    value = value.strip()
    if value == "":
        return None
    if len(value) > MAX_CELL_CHARS:
        raise InputError(f"{where}: column '{col.name}' has {len(value):,} characters; "
                         f"allowed: at most {MAX_CELL_CHARS:,}")
    try:
        if col.type == "float":
            out: Any = float(value)
        elif col.type == "int":
            x = float(value)
            if not math.isfinite(x) or x != int(x):
                raise ValueError(value)
            out = int(x)
        elif col.type == "bool":
            low = value.lower()
            if low not in ("true", "false"):
                raise ValueError(value)
            return low == "true"
        else:
            return value
    except (ValueError, OverflowError):
        raise InputError(f"{where}: column '{col.name}' has {shown(value)}, expected "
                         f"{'a whole number' if col.type == 'int' else col.type}") from None
    why = check_catalog_value(col.name, out)
    if why:
        unit = f" {col.unit}" if col.unit and col.unit != "1" else ""
        raise InputError(f"{where}: column '{col.name}' = {shown(value)}{unit}: {why}")
    return out


def parse_rows(name: str, records: list[dict[str, Any]], origin: str) -> list[dict[str, Any]]:
    """Type-check raw records against the schema; unknown columns are an error."""
    cols = {c.name: c for c in schema(name)}
    out = []
    for i, rec in enumerate(records, start=1):
        where = f"{origin} row {i}"
        if not isinstance(rec, dict):
            raise InputError(f"{where}: expected a mapping of column to value, got "
                             f"{type(rec).__name__}")
        if None in rec:  # csv.DictReader's key for cells beyond the header
            raise InputError(f"{where}: more cells than the header has columns; quote cells "
                             "that contain commas")
        unknown = [str(k) for k in rec if k not in cols]
        if unknown:
            named = [k for k in unknown if _IDENT.fullmatch(k)]
            what = (f"unknown column(s) {', '.join(sorted(named)[:8])}" if named
                    else "a header that is not a list of catalog columns")
            close = [c for k in named for c in close_matches(k, list(cols), 2)]
            hint = (f"did you mean {', '.join(dict.fromkeys(close))}?" if close else
                    f"allowed: {', '.join(list(cols)[:8])}, … ({len(cols)} columns: "
                    f"wattlas catalog {name} --format csv)")
            raise InputError(f"{where}: {what} for catalog '{name}'; {hint}")
        row = {}
        for cname, col in cols.items():
            raw = rec.get(cname)
            if isinstance(raw, dict | list | tuple | set):
                raise InputError(f"{where}: column '{cname}' has a {type(raw).__name__}, "
                                 f"expected {col.type}")
            if isinstance(raw, bool) and col.type in ("int", "float"):
                raise InputError(f"{where}: column '{cname}' has {raw}, expected {col.type}")
            row[cname] = _parse("" if raw is None else str(raw), col, where)
        for req in REQUIRED:
            if row[req] in (None, ""):
                raise InputError(f"{where}: column '{req}' is required in catalog '{name}'")
        _check_row(name, row, where)
        out.append(row)
    return out


def _check_row(name: str, row: dict[str, Any], where: str) -> None:
    """Relations between the columns of one row that single-cell limits cannot state."""
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise InputError(f"{where} ({row['id']}): {message}")

    if name == "accelerators" and row.get("idle_w") is not None and row.get("tdp_w"):
        need(row["idle_w"] <= row["tdp_w"], f"idle_w = {row['idle_w']:g} W exceeds tdp_w = "
             f"{row['tdp_w']:g} W; allowed: idle_w <= tdp_w")
    if name == "models" and row.get("moe_dense_layers") is not None and row.get("layers"):
        need(row["moe_dense_layers"] < row["layers"], f"moe_dense_layers = "
             f"{row['moe_dense_layers']} but layers = {row['layers']}; allowed: "
             "moe_dense_layers < layers")
    for low, high in (("queue_years_low", "queue_years_high"),
                      ("build_years_low", "build_years_high"),
                      ("rack_density_low_w", "rack_density_high_w")):
        if row.get(low) is not None and row.get(high) is not None:
            need(row[low] <= row[high], f"{low} = {row[low]:g} exceeds {high} = "
                 f"{row[high]:g}; allowed: {low} <= {high}")


@cache
def _shipped(name: str) -> dict[str, dict[str, Any]]:
    _check_name(name)
    records = list(csv.DictReader(io.StringIO(_read_text(f"{name}.csv"))))
    rows = parse_rows(name, records, f"data/{name}.csv")
    return {r["id"]: {**r, "source_origin": "wattlas"} for r in rows}


def rows(name: str) -> list[dict[str, Any]]:
    """All rows of a catalog (shipped, then user-added), user rows overriding shipped ids."""
    merged = dict(_shipped(name))
    merged.update(_user_rows[name])
    return list(merged.values())


def ids(name: str) -> list[str]:
    return [r["id"] for r in rows(name)]


def get(name: str, key: str) -> dict[str, Any]:
    """The row `key` of catalog `name`; unknown ids raise with the closest matches."""
    if key in _user_rows[name]:
        return _user_rows[name][key]
    shipped = _shipped(name)
    if key in shipped:
        return shipped[key]
    raise CatalogKeyError(SINGULAR[name], key, ids(name))


def add_user_rows(path: str | Path) -> dict[str, int]:
    """Add or override catalog rows from a user file.

    A CSV file needs a ``catalog`` column naming the catalog of each row (or a file name that
    starts with the catalog name, e.g. ``accelerators-mine.csv``). A YAML file maps catalog names
    to lists of rows. Returns the number of rows added per catalog.
    """
    from .safeio import load_yaml, read_text, shown_path

    path = Path(path)
    shown = shown_path(path)
    text = read_text(path, "catalog file")
    grouped: dict[str, list[dict[str, Any]]] = {}
    if path.suffix.lower() in (".yaml", ".yml"):
        data = load_yaml(text, f"catalog file '{shown}'")
        if not isinstance(data, dict):
            raise InputError(f"catalog file '{shown}': expected a mapping of catalog name "
                             f"({', '.join(CATALOGS)}) to a list of rows")
        for name, recs in data.items():
            if name not in CATALOGS:
                raise InputError(f"catalog file '{shown}': unknown catalog "
                                 f"{bounds_shown(name)}; allowed: {', '.join(CATALOGS)}")
            if not isinstance(recs, list):
                raise InputError(f"catalog file '{shown}': '{name}' must be a list of rows")
            grouped[name] = recs
    else:
        try:
            reader = csv.DictReader(io.StringIO(text))
            header = reader.fieldnames
            recs = list(reader)
        except csv.Error as exc:
            raise InputError(f"catalog file '{shown}': not valid CSV (line "
                             f"{getattr(exc, 'line_num', '?')}: {str(exc)[:60]})") from None
        if not header:
            raise InputError(f"catalog file '{shown}' is empty; expected a header of catalog "
                             "columns and at least one row")
        if "catalog" not in header and "id" not in header:
            raise InputError(f"catalog file '{shown}': the header is not a list of catalog "
                             "columns (it has no 'id' column)")
        default = next((c for c in CATALOGS if path.name.startswith(c)), None)
        for rec in recs:
            name = rec.pop("catalog", None) or default
            if name is None:
                raise InputError(f"catalog file '{shown}': add a 'catalog' column or name the "
                                 f"file after a catalog ({', '.join(CATALOGS)})")
            if name not in CATALOGS:
                raise InputError(f"catalog file '{shown}': unknown catalog "
                                 f"{bounds_shown(name)}; allowed: {', '.join(CATALOGS)}")
            grouped.setdefault(name, []).append(rec)
    if not any(grouped.values()):
        raise InputError(f"catalog file '{shown}' has no rows; expected at least one row")
    counts = {}
    parsed = {name: parse_rows(name, recs, shown) for name, recs in grouped.items()}
    for name, new in parsed.items():  # all rows checked before any is added
        for row in new:
            _user_rows[name][row["id"]] = {**row, "source_origin": "user"}
        counts[name] = len(new)
    return counts


def bounds_shown(value: Any) -> str:
    from .bounds import shown

    return shown(value)


def clear_user_rows() -> None:
    for name in CATALOGS:
        _user_rows[name].clear()
