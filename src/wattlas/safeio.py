"""Reading user files and writing reports safely.

Input side: files are read as UTF-8 up to a size limit; YAML is read with the YAML 1.2 core
schema (``true``/``false`` are the only booleans, so ``no``, ``off``, ``on``, ``yes`` and
``1:30`` stay strings; ``1e9`` is a number; dates stay strings), duplicate keys are errors,
nesting depth and the size after alias expansion are bounded before anything is built, and
only the core tags (str, int, float, bool, null, map, seq) are accepted.

Output side: report files are written into one folder through temporary files and an atomic
rename; an existing report is replaced only when asked (``force``); a symbolic link in place of
the folder or of a report file is never followed; ``/proc``, ``/sys`` and ``/dev`` are refused.
Every error is an :class:`~wattlas.errors.InputError` of one line that names the file or flag and
never quotes the file's contents.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .errors import InputError

#: largest scenario or catalog file read [bytes]
MAX_FILE_BYTES = 4_000_000
#: deepest nesting of mappings and lists in a YAML document
MAX_DEPTH = 32
#: most nodes in a YAML document, counted after alias expansion
MAX_NODES = 200_000
#: most digits in an integer literal
MAX_INT_DIGITS = 30
#: longest path accepted for an output folder [characters] and one component of it [bytes]
MAX_PATH_CHARS = 1024
MAX_NAME_BYTES = 255
#: folders no report is written into (kernel and device file systems)
FORBIDDEN_ROOTS = ("/proc", "/sys", "/dev")


def shown_path(path: str | Path, limit: int = 80) -> str:
    """A path for a message: at most `limit` characters (middle elided)."""
    s = str(path)
    if len(s) <= limit:
        return s
    half = (limit - 1) // 2
    return s[:half] + "…" + s[-half:]


def read_text(path: str | Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of the user file `path` (`what` names it in messages: "scenario file",
    "catalog file"), decoded as UTF-8 (a leading byte-order mark is dropped)."""
    p = Path(path)
    name = shown_path(p)
    try:
        if not p.is_file():
            raise InputError(f"{what} '{name}' does not exist or is not a regular file")
        with open(p, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"{what} '{name}': cannot read it ({exc.strerror or 'error'})") from None
    if len(raw) > max_bytes:
        raise InputError(f"{what} '{name}' is larger than {max_bytes:,} bytes; allowed: "
                         f"files up to {max_bytes / 1e6:g} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{what} '{name}': not UTF-8 text (byte {exc.start} on line {line}); "
                         "save it as UTF-8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise InputError(f"{what} '{name}': contains NUL characters; allowed: UTF-8 text")
    return text


# --- YAML 1.2 core schema --------------------------------------------------------------------

def _loader_class():
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where built

    class Loader(base):  # type: ignore[misc, valid-type]
        """SafeLoader with the YAML 1.2 core schema's implicit types and no duplicate keys."""

    Loader.yaml_implicit_resolvers = {}
    resolvers = [
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
         "-+0123456789"),
        ("tag:yaml.org,2002:float",
         r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
    ]
    for tag, pattern, first in resolvers:
        Loader.add_implicit_resolver(tag, re.compile(pattern), list(first))

    def construct_bool(loader, node):
        return loader.construct_scalar(node).lower() == "true"

    def construct_int(loader, node):
        text = loader.construct_scalar(node)
        digits = text.lstrip("+-")
        if len(digits) > MAX_INT_DIGITS:
            raise InputError(f"an integer of {len(digits):,} digits (line "
                             f"{node.start_mark.line + 1}); allowed: at most {MAX_INT_DIGITS} "
                             "digits")
        if digits.startswith("0o"):
            return int(text.replace("0o", ""), 8)
        if digits.startswith("0x"):
            return int(text.replace("0x", ""), 16)
        return int(text)

    def construct_float(loader, node):
        text = loader.construct_scalar(node).lower()
        if text.endswith(".inf"):
            return float("-inf") if text.startswith("-") else float("inf")
        if text == ".nan":
            return float("nan")
        return float(text)

    def construct_mapping(loader, node, deep=False):
        import yaml

        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise InputError(f"a mapping key that is a list or mapping (line "
                                 f"{key_node.start_mark.line + 1}); allowed: plain keys"
                                 ) from None
            if key in out:
                raise InputError(f"duplicate key '{str(key)[:40]}' (line "
                                 f"{key_node.start_mark.line + 1}); give each key once")
            out[key] = loader.construct_object(value_node, deep=deep)
        return out

    Loader.add_constructor("tag:yaml.org,2002:bool", construct_bool)
    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.add_constructor("tag:yaml.org,2002:float", construct_float)
    Loader.construct_mapping = construct_mapping
    return Loader


class YamlSyntaxError(InputError):
    """The text is not valid YAML (as opposed to valid YAML outside the bounds)."""


_LOADER: list[Any] = []
_CORE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map",
                                                  "seq")}


def _check_events(text: str, loader: Any) -> None:
    """Bound the nesting depth and the number of values before any node is built (the
    composer recurses)."""
    import yaml

    depth = nodes = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise InputError(f"more than {MAX_NODES:,} values (line "
                                 f"{event.start_mark.line + 1}); allowed: at most "
                                 f"{MAX_NODES:,}")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"nesting deeper than {MAX_DEPTH} levels (line "
                                 f"{event.start_mark.line + 1}); allowed: at most {MAX_DEPTH}")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_nodes(root: Any) -> None:
    """Count nodes as if every alias were expanded (memoised per node, so a billion-laughs
    document is refused after a few thousand steps), and refuse tags outside the core schema."""
    import yaml

    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes and not done:
            continue
        if node.tag not in _CORE_TAGS:
            raise InputError(f"tag '{str(node.tag)[:40]}' (line {node.start_mark.line + 1}); "
                             "allowed: plain values, mappings and lists")
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = ([c for kv in node.value for c in kv] if isinstance(node, yaml.MappingNode)
                    else list(node.value))
        if done:
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_NODES:
                raise InputError(f"more than {MAX_NODES:,} values once aliases are expanded "
                                 f"(line {node.start_mark.line + 1}); allowed: at most "
                                 f"{MAX_NODES:,}")
            sizes[id(node)] = total
            open_.discard(id(node))
            continue
        open_.add(id(node))
        if any(id(c) in open_ for c in children):
            raise InputError(f"a recursive alias (line {node.start_mark.line + 1}); allowed: "
                             "aliases of finished values")
        sizes.setdefault(id(node), 0)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def load_yaml(text: str, where: str) -> Any:
    """The YAML document in `text` under the core schema and the bounds above; `where` (a file
    name or a flag) prefixes every error."""
    import yaml

    if not _LOADER:
        _LOADER.append(_loader_class())
    loader_cls = _LOADER[0]
    try:
        _check_events(text, loader_cls)
        loader = loader_cls(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _check_nodes(root)
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = str(getattr(exc, "problem", "") or "")[:60]
        raise YamlSyntaxError(f"{where}{line}: not valid YAML"
                              + (f" ({problem})" if problem else "")) from None
    except (RecursionError, ValueError, OverflowError) as exc:
        raise InputError(f"{where}: not valid YAML ({type(exc).__name__})") from None


# --- output folder ---------------------------------------------------------------------------

_SLUG_BAD = re.compile(r"[^a-z0-9._-]+")


def slug(name: str | None, default: str = "plan", limit: int = 64) -> str:
    """A file-system-safe folder name from a scenario name: lower-case letters, digits, '.',
    '_' and '-', no leading dot or dash, at most `limit` characters (never a path)."""
    s = _SLUG_BAD.sub("-", str(name or "").lower()[:4 * limit])
    s = re.sub(r"-{2,}", "-", s).strip(".-_")[:limit].strip(".-_")
    return s or default


def check_out_dir(out_dir: str | Path, flag: str = "--out") -> Path:
    """The output folder `out_dir` if it may hold a report; raise naming `flag` otherwise."""
    s = str(out_dir)
    if not s.strip():
        raise InputError(f"{flag} '': empty; give a folder")
    if "\x00" in s:
        raise InputError(f"{flag}: contains a NUL character; give a folder")
    if len(s) > MAX_PATH_CHARS:
        raise InputError(f"{flag} '{shown_path(s)}': {len(s):,} characters; allowed: at most "
                         f"{MAX_PATH_CHARS}")
    p = Path(s)
    for part in p.parts:
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise InputError(f"{flag} '{shown_path(s)}': a folder name of "
                             f"{len(part.encode('utf-8', 'surrogateescape'))} bytes; allowed: "
                             f"at most {MAX_NAME_BYTES} bytes per name")
    resolved = Path(os.path.realpath(os.path.abspath(s)))
    for root in FORBIDDEN_ROOTS:
        if resolved == Path(root) or Path(root) in resolved.parents:
            raise InputError(f"{flag} '{shown_path(s)}' is under {root}; give a folder on a "
                             "normal file system")
    # a relative path is checked at every level (a planted ``out`` link would carry the
    # report elsewhere); an absolute one at its last level (the user chose its parents)
    levels = [Path(*p.parts[:i]) for i in range(1, len(p.parts) + 1)] \
        if not p.is_absolute() else [p]
    for level in levels:
        if level.is_symlink():
            raise InputError(f"{flag} '{shown_path(s)}': '{shown_path(level)}' is a symbolic "
                             "link; give a real folder")
    if p.exists() and not p.is_dir():
        raise InputError(f"{flag} '{shown_path(s)}' is a file, not a folder; give a folder")
    return p


def write_files(out_dir: str | Path, files: dict[str, str | bytes], force: bool = False,
                flag: str = "--out") -> list[str]:
    """Write `files` (name -> text, or bytes for a binary file) into `out_dir`; return their
    paths.

    Refuses before writing anything when a report file exists (unless `force`) or is a
    symbolic link or a folder; each file is written to a temporary file in the same folder and
    renamed over its name, so a reader never sees half a report and a link in its place is
    replaced, not followed."""
    import tempfile

    out = check_out_dir(out_dir, flag)
    for name in files:
        if Path(name).name != name or name in ("", ".", ".."):
            raise InputError(f"report file name '{name[:40]}' is not a plain name")
        target = out / name
        if target.is_symlink():
            raise InputError(f"{flag} '{shown_path(out)}': {name} is a symbolic link; remove "
                             "it or give another folder")
        if target.exists():
            if target.is_dir():
                raise InputError(f"{flag} '{shown_path(out)}': {name} is a folder; remove it "
                                 "or give another folder")
            if not force:
                raise InputError(f"{flag} '{shown_path(out)}' already holds {name}; pass "
                                 "--force to replace the report or give another folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        if out.is_symlink() or not out.is_dir():
            raise InputError(f"{flag} '{shown_path(out)}' is not a folder")
        paths = []
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
            try:
                if isinstance(text, bytes):  # a binary file (a sweep's Parquet table)
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(text)
                else:
                    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                        fh.write(text)
                os.replace(tmp, out / name)
            except BaseException:
                if os.path.lexists(tmp):
                    os.unlink(tmp)
                raise
            paths.append(str(out / name))
    except OSError as exc:
        raise InputError(f"{flag} '{shown_path(out)}': cannot write there "
                         f"({exc.strerror or type(exc).__name__})") from None
    return paths
