"""Hostile-input harness: run over a thousand careless or hostile inputs through the real CLI
and count what went wrong.

Classes of input: every numeric flag and scenario field at -1, 0, 1e30, 1e300, NaN, ±inf, text,
booleans, YAML 1.1 words (yes/no/on/off) and base-60 numbers, lists and mappings; malformed,
non-UTF-8, huge and deeply nested files, alias bombs and tags; user catalogs (syntax errors,
extra cells, empty, negative or non-finite values, a system file read as a catalog); ``--out``
and ``--set`` abuse; extreme routing sizes.

Each input runs in-process through ``wattlas.cli.main`` (stdout and stderr captured, a time
limit per input); inputs that could allocate a lot also run in a subprocess whose peak RSS is
read with ``os.wait4``. Counted:

- crash: exit 3, a traceback, or an exception escaping the CLI;
- hang: an input still running after its time limit;
- outside write: a file created outside ``out/`` of the sandbox (or at the path a hostile
  scenario name points to);
- accepted-but-meaningless: exit 0 for an input that must be refused, or an accepted answer
  holding NaN/Infinity or a negative energy, power, time, mass or cost;
- unclear message: a refusal whose message does not name the field or flag, does not show the
  value, runs over several lines (wattlas errors) or 400 characters, or quotes a file's
  contents (a canary planted in every hostile file);
- peak memory of refused inputs (subprocess class).

Run: python benchmarks/hostile.py [--json FILE] [--limit N] [--no-memory]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hostile_cases import CANARY, Case, all_cases

TIME_LIMIT_S = 60


# --- running ----------------------------------------------------------------------------------

class _Timeout(BaseException):
    pass


def _on_alarm(signum, frame):  # noqa: ARG001
    raise _Timeout()


def _materialise(case: Case, sb: Path) -> list[str]:
    inputs = sb / "inputs"
    for name, content in case.files.items():
        p = inputs / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    if case.setup is not None:
        case.setup(sb)
    return [str(inputs / a[1:]) if a.startswith("@") else a for a in case.argv]


def _run_inprocess(argv: list[str]) -> tuple[int | None, str, str, str | None]:
    """(exit code, stdout, stderr, problem) of ``wattlas argv`` in this process."""
    from wattlas import catalog, cli

    out, err = io.StringIO(), io.StringIO()
    old_argv = sys.argv
    sys.argv = ["wattlas", *argv]
    problem = None
    code: int | None = 0
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except _Timeout:
        code, problem = None, "hang"
    except BaseException as exc:  # noqa: BLE001 - counting what escapes is the point
        code, problem = None, f"escaped {type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.alarm(0)
        sys.argv = old_argv
        catalog.clear_user_rows()
        cli._state["debug"] = False
    return code, out.getvalue(), err.getvalue(), problem


_MEM_SCRIPT = """
import sys
from wattlas import cli
sys.argv = ["wattlas", *sys.argv[1:]]
cli.main()
"""


def _run_subprocess(argv: list[str], cwd: Path) -> tuple[int, float]:
    """(exit code, peak RSS in MB) of ``wattlas argv`` in a fresh interpreter."""
    proc = subprocess.Popen([sys.executable, "-c", _MEM_SCRIPT, *argv], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + TIME_LIMIT_S
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss / 1024.0  # Linux: KiB
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return -9, usage.ru_maxrss / 1024.0
        time.sleep(0.02)


def _message(stderr: str) -> tuple[str, bool]:
    """(the error text, whether it is a wattlas one-line error)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    ours = [ln for ln in lines if ln.startswith("error:") or ln.startswith("internal error")]
    if ours:
        return "\n".join(ours), True
    usage = [ln.strip(" │╭╰─") for ln in lines if "Invalid value" in ln or "Error" in ln
             or "Missing" in ln or "No such option" in ln or "Got unexpected" in ln]
    return (" ".join(usage) if usage else "\n".join(lines)), False


_NEGATIVE_KEYS = re.compile(r"(_j|_w|_s|_kg|_usd|_bytes|_flop)$")


def _meaningless(stdout: str) -> str | None:
    """Why an accepted JSON answer is meaningless (NaN, infinity, negative physics), or None."""
    text = stdout.strip()
    if not text.startswith(("{", "[")):
        return None
    if re.search(r"\bNaN\b|\bInfinity\b", text):
        return "NaN/Infinity in the output"
    try:
        data = json.loads(text)
    except ValueError:
        return None
    stack = [("", data)]
    while stack:
        key, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.items())
        elif isinstance(node, list):
            stack.extend((key, v) for v in node)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            if not math.isfinite(node):
                return f"{key} is {node}"
            if node < 0 and _NEGATIVE_KEYS.search(str(key)) and "delta" not in str(key) \
                    and "error" not in str(key) and "saving" not in str(key):
                return f"{key} = {node} < 0"
    return None


@dataclass
class Result:
    case: Case
    code: int | None
    verdict: list[str]
    message: str
    seconds: float
    peak_mb: float | None = None


def judge(case: Case, code: int | None, stdout: str, stderr: str, problem: str | None,
          escaped: list[str]) -> tuple[list[str], str]:
    verdict: list[str] = []
    msg, ours = _message(stderr)
    if problem == "hang":
        verdict.append("hang")
    elif problem is not None or code == 3 or "Traceback" in stderr or code not in (0, 1, 2):
        verdict.append("crash")
    if escaped:
        verdict.append("outside write")
    if code == 0:
        if case.must_reject:
            verdict.append("meaningless")
        else:
            why = _meaningless(stdout)
            if why:
                verdict.append("meaningless")
                msg = why
    elif code in (1, 2) and "crash" not in verdict:
        low = msg.lower()
        clear = True
        # a refusal of an input that may be fine explains the plan, not the input
        infeasible = not case.must_reject
        if CANARY.lower() in low:
            clear = False
        if ours and msg.count("\n") > 0:
            clear = False
        if len(msg) > 400:
            clear = False
        if case.names and not infeasible and not any(n.lower() in low for n in case.names):
            clear = False
        if case.values and not infeasible and not any(
                v.lower() in low for v in _renderings(case.values)):
            clear = False
        if not clear:
            verdict.append("unclear")
    return verdict, msg


def _renderings(values: tuple[str, ...]) -> list[str]:
    """`values` and the ways a message may print each as a number (1e+23, 100000000)."""
    out = list(values)
    for v in values:
        try:
            x = float(v)
        except ValueError:
            continue
        out += [f"{x:g}", repr(x)]
        if math.isfinite(x) and x == int(x):
            out += [str(int(x)), f"{int(x):,}"]
    return out


def _snapshot(sb: Path) -> set[str]:
    out = set()
    for root, dirs, files in os.walk(sb):
        rel = os.path.relpath(root, sb)
        if rel.startswith(("work/out", "inputs")) or rel in ("work/out", "inputs"):
            continue
        for n in files + dirs:
            out.add(os.path.join(rel, n))
    return out


def run(limit: int | None = None, memory: bool = True, verbose: bool = False) -> dict:
    cases = all_cases()
    if limit:
        step = max(1, len(cases) // limit)
        cases = cases[::step][:limit]
    sb = Path(tempfile.mkdtemp(prefix="wattlas-hostile-"))
    (sb / "inputs").mkdir()
    (sb / "work").mkdir()
    cwd = os.getcwd()
    os.chdir(sb / "work")
    results: list[Result] = []
    peak_rejected = 0.0
    peak_case = ""
    try:
        for case in cases:
            argv = _materialise(case, sb)
            targets = []
            out_dir = str(sb / "work" / "out")
            for t in case.escape_targets:
                for base in (sb / "work" / "out", sb / "work"):
                    p = os.path.normpath(os.path.join(base, t)) if not t.startswith("/") else t
                    inside = p == out_dir or p.startswith(out_dir + os.sep)
                    if not inside and not os.path.lexists(p):
                        targets.append(p)
            before = _snapshot(sb)
            t0 = time.perf_counter()
            code, stdout, stderr, problem = _run_inprocess(argv)
            dt = time.perf_counter() - t0
            escaped = [p for p in targets if os.path.lexists(p)]
            escaped += sorted(_snapshot(sb) - before - {"work/out", "work/existing",
                                                          "work/planted", "work/linkdir",
                                                          "elsewhere", "victim.txt",
                                                          "work/.wattlas"})
            escaped = [e for e in escaped if not e.startswith(("work/existing/",
                                                               "work/planted/"))]
            if (sb / "victim.txt").exists() and (sb / "victim.txt").read_text() != "keep":
                escaped.append("victim.txt overwritten through a symlink")
            for p in targets:  # clean up an escape so later cases are judged on their own
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p, ignore_errors=True)
                elif os.path.lexists(p):
                    os.unlink(p)
            verdict, msg = judge(case, code, stdout, stderr, problem, escaped)
            res = Result(case, code, verdict, msg, dt)
            if memory and case.memory:
                sub_code, peak = _run_subprocess(argv, sb / "work")
                res.peak_mb = peak
                if sub_code != 0 and peak > peak_rejected:
                    peak_rejected, peak_case = peak, case.id
                if sub_code == -9:
                    res.verdict.append("hang")
            results.append(res)
            if verbose and res.verdict:
                print(f"[{','.join(res.verdict)}] {case.id}: exit {code}: {msg[:200]}")
            shutil.rmtree(sb / "work" / "out", ignore_errors=True)
    finally:
        os.chdir(cwd)
        shutil.rmtree(sb, ignore_errors=True)
    counts = {k: sum(k in r.verdict for r in results)
              for k in ("crash", "hang", "outside write", "meaningless", "unclear")}
    by_class: dict[str, int] = {}
    for r in results:
        by_class[r.case.cls] = by_class.get(r.case.cls, 0) + 1
    return {
        "inputs": len(results),
        "by_class": by_class,
        "refused": sum(r.code in (1, 2) for r in results),
        "accepted": sum(r.code == 0 for r in results),
        "crashes": counts["crash"], "hangs": counts["hang"],
        "outside_writes": counts["outside write"],
        "accepted_but_meaningless": counts["meaningless"],
        "unclear_messages": counts["unclear"],
        "memory_cases": sum(r.peak_mb is not None for r in results),
        "peak_rss_rejected_mb": round(peak_rejected, 1), "peak_rss_rejected_case": peak_case,
        "slowest_s": round(max((r.seconds for r in results), default=0.0), 2),
        "total_s": round(sum(r.seconds for r in results), 1),
        "accepted_cases": [r.case.id for r in results if r.code == 0],
        "problems": [{"case": r.case.id, "verdict": r.verdict, "exit": r.code,
                      "message": r.message[:300]} for r in results if r.verdict],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", help="write the full result (with every problem) here")
    ap.add_argument("--limit", type=int, help="run an evenly spread subset of N inputs")
    ap.add_argument("--no-memory", action="store_true", help="skip the subprocess class")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each problem")
    args = ap.parse_args()
    t = time.perf_counter()
    res = run(args.limit, memory=not args.no_memory, verbose=args.verbose)
    wall = time.perf_counter() - t
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    for k in ("inputs", "refused", "accepted", "crashes", "hangs", "outside_writes",
              "accepted_but_meaningless", "unclear_messages", "memory_cases",
              "peak_rss_rejected_mb", "peak_rss_rejected_case", "slowest_s"):
        print(f"{k:28s} {res[k]}")
    print(f"{'by class':28s} {res['by_class']}")
    print(f"{'wall time s':28s} {wall:.1f}")
    for p in res["problems"][:40]:
        print(f"  [{','.join(p['verdict'])}] {p['case']}: exit {p['exit']}: {p['message'][:160]}")


if __name__ == "__main__":
    main()
