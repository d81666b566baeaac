"""Plain JSON values of stage results: what ``plan.json`` and ``--format json`` print."""

from __future__ import annotations

from typing import Any


def jsonable(obj: Any) -> Any:
    """Plain JSON types from dataclasses, numpy scalars/arrays, tuples. NaN and infinities stay
    floats so the writers (commands._common.dump_json) refuse them instead of writing null."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return jsonable(obj.tolist())
    if hasattr(obj, "item") and not isinstance(obj, str):
        return obj.item()
    return obj


def plain(obj: Any) -> Any:
    """:func:`jsonable` of a record, through its ``as_keys()`` (the unit-suffixed JSON keys)
    where it has one."""
    if hasattr(obj, "as_keys"):
        obj = obj.as_keys()
    return jsonable(obj)
