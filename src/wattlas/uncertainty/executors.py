"""Where a sweep's points run: in this process, or on a Dask cluster.

``local`` evaluates chunks of points in order in this process. ``dask://HOST:PORT`` connects a
``distributed.Client`` to a running scheduler and maps the same chunk function over the
cluster's workers, gathering the chunks in submission order. Dask is the engine because a
cluster is one ``pip install dask[distributed]`` away and starts on a laptop
(``distributed.LocalCluster``), on a batch system (``dask-jobqueue``) or on Kubernetes, with
no change to the code that submits work; points are plain dicts in and out, so nothing but
wattlas itself must be installed on the workers. ``ray://`` is recognised and refused with what
to use instead.

Each point is a pure function of (scenario mapping, point values), so the table does not
depend on the executor, the chunking or the order chunks finish in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InputError

#: points per task shipped to a cluster worker (amortises the round trip, ≈ 3 ms a point)
CHUNK_POINTS = 64


def check_executor(spec: str) -> str:
    """``local`` or ``dask://HOST:PORT``; anything else is refused naming what is allowed."""
    from ..bounds import shown

    if spec == "local":
        return spec
    if spec.startswith("dask://"):
        addr = spec.removeprefix("dask://")
        host, _, port = addr.rpartition(":")
        if host and port.isdigit() and 0 < int(port) < 65536:
            return spec
        raise InputError(f"--executor {shown(spec)}: expected dask://HOST:PORT (a running "
                         "Dask scheduler)")
    if spec.startswith("ray://"):
        raise InputError(f"--executor {shown(spec)}: Ray is not supported; sweeps run on Dask "
                         "(--executor dask://HOST:PORT) or in-process (--executor local)")
    raise InputError(f"--executor {shown(spec)}: allowed local, dask://HOST:PORT")


def chunks(points: list[Any], size: int = CHUNK_POINTS) -> list[list[Any]]:
    return [points[i:i + size] for i in range(0, len(points), size)]


def run(points: list[dict[str, Any]], data: dict[str, Any], base_dir: str | None,
        executor: str = "local", progress: Callable[[int], None] | None = None,
        chunk_points: int = CHUNK_POINTS) -> list[dict[str, Any]]:
    """The rows of `points` (in order) on `executor`; `progress(n)` is called as n more
    points finish."""
    from .sweep import run_chunk

    executor = check_executor(executor)
    parts = chunks(points, chunk_points)
    if executor == "local":
        rows: list[dict[str, Any]] = []
        for part in parts:
            rows.extend(run_chunk(data, part, base_dir))
            if progress:
                progress(len(part))
        return rows
    return _dask(parts, data, base_dir, executor.removeprefix("dask://"), progress)


def _dask(parts: list[list[dict[str, Any]]], data: dict[str, Any], base_dir: str | None,
          address: str, progress: Callable[[int], None] | None) -> list[dict[str, Any]]:
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--executor dask://…: the Dask scheduler client is not installed "
                         "(pip install 'wattlas[cluster]')") from None
    from .sweep import run_chunk

    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--executor dask://{address}: no Dask scheduler answered "
                         f"({type(exc).__name__})") from None
    try:
        shared = client.scatter(data, broadcast=True)
        futures = [client.submit(run_chunk, shared, part, base_dir, pure=False)
                   for part in parts]
        rows: list[dict[str, Any]] = []
        for part, fut in zip(parts, futures, strict=True):  # in submission order
            rows.extend(fut.result())
            if progress:
                progress(len(part))
        return rows
    finally:
        client.close()
