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
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import CatalogKeyError, InputError

CATALOGS = ("accelerators", "systems", "models", "regions", "engines", "features")
SINGULAR = {"accelerators": "accelerator", "systems": "system", "models": "model",
            "regions": "region", "engines": "engine", "features": "feature"}
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


def _parse(value: str, col: Column, where: str) -> Any:
    value = value.strip()
    if value == "":
        return None
    try:
        if col.type == "float":
            return float(value)
        if col.type == "int":
            return int(float(value))
        if col.type == "bool":
            low = value.lower()
            if low not in ("true", "false"):
                raise ValueError(value)
            return low == "true"
    except ValueError:
        raise InputError(
            f"{where}: column '{col.name}' has '{value}', expected {col.type}") from None
    return value


def parse_rows(name: str, records: list[dict[str, Any]], origin: str) -> list[dict[str, Any]]:
    """Type-check raw records against the schema; unknown columns are an error."""
    cols = {c.name: c for c in schema(name)}
    out = []
    for i, rec in enumerate(records, start=1):
        where = f"{origin} row {i}"
        unknown = sorted(set(rec) - set(cols))
        if unknown:
            raise InputError(f"{where}: unknown column(s) {', '.join(unknown)} for catalog "
                             f"'{name}'; allowed: {', '.join(cols)}")
        row = {}
        for cname, col in cols.items():
            raw = rec.get(cname)
            row[cname] = _parse("" if raw is None else str(raw), col, where)
        for req in REQUIRED:
            if row[req] in (None, ""):
                raise InputError(f"{where}: column '{req}' is required in catalog '{name}'")
        out.append(row)
    return out


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
    path = Path(path)
    if not path.is_file():
        raise InputError(f"catalog file '{path}' does not exist")
    text = path.read_text(encoding="utf-8")
    grouped: dict[str, list[dict[str, Any]]] = {}
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text) or {}
        if not isinstance(data, dict):
            raise InputError(f"{path}: expected a mapping of catalog name to a list of rows")
        for name, recs in data.items():
            _check_name(name)
            if not isinstance(recs, list):
                raise InputError(f"{path}: '{name}' must be a list of rows")
            grouped[name] = recs
    else:
        recs = list(csv.DictReader(io.StringIO(text)))
        default = next((c for c in CATALOGS if path.name.startswith(c)), None)
        for rec in recs:
            name = rec.pop("catalog", None) or default
            if name is None:
                raise InputError(f"{path}: add a 'catalog' column or name the file after a "
                                 f"catalog ({', '.join(CATALOGS)})")
            _check_name(name)
            grouped.setdefault(name, []).append(rec)
    counts = {}
    for name, recs in grouped.items():
        for row in parse_rows(name, recs, str(path)):
            _user_rows[name][row["id"]] = {**row, "source_origin": "user"}
        counts[name] = len(recs)
    return counts


def clear_user_rows() -> None:
    for name in CATALOGS:
        _user_rows[name].clear()
