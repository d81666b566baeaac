"""Exception hierarchy.

Every message names the value, its unit, the limit and the fix, in one line, so the CLI can print
it as is (exit 2 for bad input, exit 1 for an infeasible plan).
"""

from __future__ import annotations

import difflib


class WattlasError(Exception):
    """Base class of every error wattlas raises on purpose."""

    exit_code = 2


class InputError(WattlasError):
    """A value given by the user is outside what is allowed."""


class CatalogKeyError(InputError, KeyError):
    """An id is not in a catalog."""

    def __init__(self, kind: str, key: str, known: list[str]):
        self.kind, self.key, self.known = kind, key, known
        key = str(key)
        close = close_matches(key[:200], known)
        hint = (f"; did you mean {', '.join(close)}?" if close
                else f"; known: {', '.join(known[:12])}")
        shown = key if len(key) <= 60 else key[:57] + "..."
        super().__init__(f"unknown {kind} '{shown}'{hint}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ScenarioError(InputError):
    """A scenario file or override is malformed."""


class InfeasibleError(WattlasError):
    """The inputs are valid but the plan cannot work (does not fit, SLO below the floor, ...)."""

    exit_code = 1


class NonFiniteOutputError(WattlasError):
    """A number about to be written is NaN or infinite: a defect, never a result (exit 3)."""

    exit_code = 3

    def __init__(self, path: str, value: float):
        self.path, self.value = path, value
        super().__init__(f"internal error: output '{path or '(top level)'}' is {value!r}; no "
                         "output may hold NaN or an infinity (rerun with --debug and report "
                         "the inputs)")


def close_matches(key: str, known: list[str], n: int = 4) -> list[str]:
    """Ids that look like `key`: prefix matches first, then difflib's close matches."""
    low = key.lower()
    prefix = [k for k in known if k.startswith(low) or low.startswith(k)]
    fuzzy = difflib.get_close_matches(low, known, n=n, cutoff=0.6)
    out: list[str] = []
    for k in prefix + fuzzy:
        if k not in out:
            out.append(k)
    return out[:n]


def require(ok: bool, message: str) -> None:
    """Raise InputError(message) unless `ok`; used for checks on user input (never `assert`)."""
    if not ok:
        raise InputError(message)
