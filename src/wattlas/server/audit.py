"""The tamper-evident audit log: every entry hash-chained to the one before it (SHA-256).

An entry's hash is ``sha256(prev_hash || canonical JSON of its fields, seq included)``; the
first entry's ``prev_hash`` is 64 zeros. Editing an entry changes its hash; deleting one
leaves a gap in ``seq`` and a ``prev_hash`` that no longer matches; reordering changes the
``seq`` an entry was hashed with. :func:`verify` walks the chain in ``seq`` order and names the
first entry that breaks it.

Appends are serialised: one lock per process, and on PostgreSQL a transaction-scoped advisory
lock as well, so two writers never fork the chain (``seq`` is also unique in the schema). The
entry is written in the same transaction as the change it records, so a crash keeps both or
neither.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from .db import AuditEntry, now

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "workspace", "object", "action", "client", "detail")
LOCK = threading.Lock()  # released by whichever thread ends the request
_PG_LOCK_KEY = 0x77617474  # "watt"


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps({k: fields[k] for k in FIELDS}, sort_keys=True, ensure_ascii=True,
                      separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def append(s: Session, *, actor: str, action: str, workspace: str = "", obj: str = "",
           client: str = "", detail: str = "") -> None:
    """Add one entry to the chain inside the caller's transaction (the caller commits, holding
    :data:`LOCK` until then)."""
    append_many(s, [{"actor": actor, "action": action, "workspace": workspace, "obj": obj,
                     "client": client, "detail": detail}])


def append_many(s: Session, entries: list[dict[str, str]]) -> None:
    """Add `entries` (keys actor, action, workspace, obj, client, detail) to the chain, in
    order, with one read of the chain's end and one insert."""
    if not entries:
        return
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    last = s.execute(select(AuditEntry.seq, AuditEntry.hash)
                     .order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    rows = []
    for e in entries:
        seq += 1
        fields = {"seq": seq, "at": now(), "actor": e["actor"][:64],
                  "workspace": e.get("workspace", "")[:200], "object": e.get("obj", "")[:200],
                  "action": e["action"][:32], "client": e.get("client", "")[:64],
                  "detail": e.get("detail", "")[:2000]}
        prev = entry_hash(prev, fields)
        rows.append({**fields, "prev_hash": rows[-1]["hash"] if rows else
                     (last[1] if last else GENESIS), "hash": prev})
    s.execute(insert(AuditEntry), rows)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    reason: str = ""

    def line(self) -> str:
        if self.ok:
            return f"audit log intact: {self.entries} entries, chain verified"
        return (f"audit log tampered: entry seq {self.first_bad_seq} (id {self.first_bad_id}): "
                f"{self.reason}")


def verify(s: Session) -> Verdict:
    """Walk the chain in ``seq`` order; the first entry that breaks it, if any."""
    prev, expected, n = GENESIS, 1, 0
    for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq, AuditEntry.id)):
        n += 1
        fields = {k: getattr(e, k) for k in FIELDS}
        if e.seq != expected:
            why = (f"sequence jumps from {expected - 1} to {e.seq} (an entry was deleted or "
                   "reordered)")
            return Verdict(False, n, e.seq, e.id, why)
        if e.prev_hash != prev:
            return Verdict(False, n, e.seq, e.id, "prev_hash does not match the entry before "
                           "it (an entry was deleted, inserted or reordered)")
        if entry_hash(prev, fields) != e.hash:
            return Verdict(False, n, e.seq, e.id, "content does not match its hash (edited)")
        prev, expected = e.hash, expected + 1
    return Verdict(True, n)


def as_dict(e: AuditEntry) -> dict[str, Any]:
    return {**{k: getattr(e, k) for k in FIELDS}, "prev_hash": e.prev_hash, "hash": e.hash}


def export_lines(s: Session) -> Iterator[str]:
    """The whole log as JSON lines, in chain order."""
    for e in s.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        yield json.dumps(as_dict(e), sort_keys=True)
