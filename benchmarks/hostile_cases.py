"""The inputs of the hostile-input harness (benchmarks/hostile.py): each a :class:`Case` with
the argv after ``wattlas``, the files it needs, whether it must be refused, and the tokens a
clear refusal names and shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANARY = "CANARY-7f3a"  # planted in hostile files; no message may quote it


@dataclass
class Case:
    """One hostile input: argv after ``wattlas``, files to create (name -> bytes or text),
    whether it must be refused, the tokens a clear message names (any one) and shows (any
    one; empty: no value to show)."""

    id: str
    cls: str
    argv: list[str]
    files: dict[str, bytes | str] = field(default_factory=dict)
    must_reject: bool = True
    names: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    memory: bool = False  # also run in a subprocess and read its peak RSS
    escape_targets: tuple[str, ...] = ()  # paths that must not exist afterwards
    setup: Any = None  # callable(sandbox) run before the case


# --- base scenarios ---------------------------------------------------------------------------

TRAIN = {
    "name": "hostile-base",
    "model": "llama3.1-8b",
    "hardware": {"accelerator": "h100-sxm", "system": "dgx-h100"},
    "cluster": {"gpus": 8},
    "training": {"tokens": 1.0e9, "seq_len": 4096, "global_batch": 64, "precision": "bf16",
                 "layout": {"tp": 1, "pp": 1, "dp": 8, "microbatch": 1}},
    "energy": {"power_basis": "modeled"},
    "site": {"region": "us-va", "cooling": "liquid", "candidates": ["us-va", "is"]},
}
SERVE = {
    "name": "hostile-serve",
    "model": "llama3.1-8b",
    "hardware": {"accelerator": "h100-sxm"},
    "serving": {"precision": "bf16", "tp": 1, "prompt_tokens": 512, "output_tokens": 128,
                "agent": {"calls": 2, "tool_time_s": 1.0}},
    "energy": {"power_basis": "modeled"},
}
SITE = {"name": "hostile-site",
        "site": {"power_mw": 50, "rack_kw": 40, "cooling": "liquid",
                 "candidates": ["us-va", "is", "no"]}}
ROUTE = {
    "name": "hostile-route",
    "model": "llama3.1-8b",
    "routing": {
        "users": [{"name": "na", "lat": 40.7, "lon": -74.0, "demand_rps": 5}],
        "sites": [{"name": "va", "region": "us-va", "accelerator": "h100-sxm", "tp": 1,
                   "replicas": 1, "pue": 1.3}],
        "prompt_tokens": {"dist": "fixed", "mean": 256},
        "output_tokens": {"dist": "fixed", "mean": 64},
        "session": {"calls": 1, "tool_s": 0},
        "requests": 300, "seed": 0},
}
INLINE = {**TRAIN, "model": {"layers": 4, "hidden": 512, "heads": 8, "ffn": 2048,
                             "vocab": 32000, "moe": {"experts": 4, "top_k": 2,
                                                     "expert_ffn": 1024}}}
BASES = {"train": TRAIN, "serve": SERVE, "site": SITE, "route": ROUTE, "inline": INLINE}
COMMAND = {"train": "train", "serve": "serve", "site": "site", "route": "route",
           "inline": "train"}

#: YAML literal -> (must reject in a numeric field, tokens a message may show it by)
BAD_NUMBERS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "-1": (True, ("-1",)), "0": (False, ("0",)), "1e30": (True, ("1e+30", "1e30")),
    "1e300": (True, ("1e+300", "1e300")), ".nan": (True, ("nan",)), ".inf": (True, ("inf",)),
    "-.inf": (True, ("-inf",)), "true": (True, ("true", "True")),
    "false": (True, ("false", "False")), "abc": (True, ("abc",)), "yes": (True, ("yes",)),
    "no": (True, ("no",)), "off": (True, ("off",)), "on": (True, ("on",)),
    "1:30": (True, ("1:30",)), "[1, 2]": (True, ("[1", "list")), "{a: 1}": (True, ()),
    "99999999999999999999999999": (True, ("9999",)),
}

#: (base, dotted path) of numeric scenario fields; lower bounds above 0 refuse 0 too, but 0
#: is left "either" for all (some fields allow it)
FIELDS = [
    ("train", "cluster.gpus"), ("train", "training.tokens"), ("train", "training.seq_len"),
    ("train", "training.global_batch"), ("train", "training.layout.tp"),
    ("train", "training.layout.pp"), ("train", "training.layout.dp"),
    ("train", "training.layout.microbatch"), ("train", "training.layout.vpp"),
    ("train", "training.goodput_frac"), ("train", "training.stack_efficiency_frac"),
    ("train", "training.software_year"), ("train", "energy.pue"),
    ("train", "energy.grid_intensity_g_per_kwh"), ("train", "energy.price_usd_per_mwh"),
    ("train", "energy.ppa_frac"), ("train", "energy.power_cap_w"),
    ("train", "energy.gpu_hour_price_usd"), ("train", "hardware.nic_bytes_per_s"),
    ("serve", "serving.prompt_tokens"), ("serve", "serving.output_tokens"),
    ("serve", "serving.tp"), ("serve", "serving.batch"), ("serve", "serving.rate_per_s"),
    ("serve", "serving.slo.ttft_s"), ("serve", "serving.agent.calls"),
    ("serve", "serving.agent.tool_time_s"),
    ("site", "site.power_mw"), ("site", "site.rack_kw"),
    ("route", "routing.requests"), ("route", "routing.seed"),
    ("route", "routing.users.0.demand_rps"), ("route", "routing.sites.0.replicas"),
    ("route", "routing.sites.0.pue"), ("route", "routing.session.calls"),
    ("route", "routing.prompt_tokens.mean"),
    ("inline", "model.layers"), ("inline", "model.hidden"), ("inline", "model.heads"),
    ("inline", "model.vocab"), ("inline", "model.moe.dense_layers"),
]


def _put(data: dict, path: str, value: Any) -> dict:
    import copy

    out = copy.deepcopy(data)
    node: Any = out
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    if isinstance(node, list):
        node[int(keys[-1])] = value
    else:
        node[keys[-1]] = value
    return out


def _yaml_with(base: str, path: str, literal: str) -> str:
    """The base scenario as YAML with the field at `path` written as the raw `literal`."""
    import yaml

    data = _put(BASES[base], path, "__HOSTILE__")
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=200)
    return f"# {CANARY}\n" + text.replace("__HOSTILE__", literal)


def _base_yaml(base: str, extra: str = "") -> str:
    import yaml

    return f"# {CANARY}\n" + yaml.safe_dump(BASES[base], sort_keys=False) + extra


def field_cases() -> list[Case]:
    out = []
    for base, path in FIELDS:
        leaf = path.rsplit(".", 1)[-1]
        for lit, (reject, shows) in BAD_NUMBERS.items():
            must = reject and not (lit == "0")
            if lit == "[1, 2]" and base != "route":
                must = False  # a range [low, high] (wattlas.uncertainty.inputs)
            fname = f"f-{base}-{path}-{abs(hash(lit))}.yaml"
            argv = [COMMAND[base], f"@{fname}", "--format", "json"]
            out.append(Case(f"field {path}={lit}", "scenario field", argv,
                            {fname: _yaml_with(base, path, lit)}, must_reject=must,
                            names=(leaf, "--" + leaf.replace("_", "-")), values=shows,
                            memory=lit in ("1e30", "99999999999999999999999999")
                            and leaf in ("requests", "calls", "replicas")))
    # the same through --set for a subset
    for base, path in FIELDS[::3]:
        leaf = path.rsplit(".", 1)[-1]
        fname = f"base-{base}.yaml"
        for lit in ("-1", ".nan", ".inf", "1e300", "true", "off", "1:30", "abc"):
            reject, shows = BAD_NUMBERS[lit]
            out.append(Case(f"--set {path}={lit}", "--set", [COMMAND[base], f"@{fname}",
                                                              "--set", f"{path}={lit}",
                                                              "--format", "json"],
                            {fname: _base_yaml(base)}, must_reject=True,
                            names=(leaf, "--set"), values=shows))
    return out


#: (command prefix, numeric flag) with the rest of a valid invocation
FLAG_BASE = {
    "train": ["train", "--model", "llama3.1-8b", "--accelerator", "h100-sxm", "--gpus", "8",
              "--tokens", "1e9", "--seq-len", "4096", "--global-batch", "64", "--format",
              "json"],
    "serve": ["serve", "--model", "llama3.1-8b", "--accelerator", "h100-sxm",
              "--prompt-tokens", "512", "--output-tokens", "128", "--format", "json"],
    "site": ["site", "--power-mw", "50", "--rack-kw", "40", "--regions", "us-va,is",
             "--format", "json"],
    "check": ["check", "--model", "llama3.1-8b", "--tokens", "1e12", "--seq-len", "4096",
              "--format", "json"],
}
FLAGS = {
    "train": ["--gpus", "--tokens", "--seq-len", "--global-batch", "--tp", "--pp", "--dp",
              "--microbatch", "--goodput", "--pue", "--power-cap-w", "--gpu-hour-usd",
              "--grid-intensity-g-per-kwh", "--price-usd-per-mwh", "--software-year"],
    "serve": ["--prompt-tokens", "--output-tokens", "--tp", "--batch", "--rate", "--ttft-s",
              "--tpot-s", "--agent-calls", "--hours", "--pue", "--gpu-hour-usd",
              "--tool-result-tokens"],
    "site": ["--power-mw", "--rack-kw", "--allocate-it-mw", "--allocate-gpus"],
    "check": ["--tokens", "--seq-len", "--training-flop"],
}
FLAG_VALUES = {"-1": ("-1",), "0": ("0",), "nan": ("nan",), "inf": ("inf",),
               "-inf": ("-inf",), "1e300": ("1e+300", "1e300"), "abc": ("abc",),
               "1e30": ("1e+30", "1e30"), "99999999999999999999999": ("9999",),
               "1e-320": ("1e-320",)}


#: flags whose message may name the scenario key they set instead
FLAG_KEYS = {"--allocate-it-mw": "allocate.it_power_mw", "--allocate-gpus": "allocate.gpus",
             "--rate": "rate_per_s", "--power-mw": "site.power_mw", "--rack-kw": "site.rack_kw"}


def _with_flag(argv: list[str], flag: str, value: str) -> list[str]:
    out = list(argv)
    if flag in out:
        out[out.index(flag) + 1] = value
    else:
        out[1:1] = [flag, value]
    if flag == "--tool-result-tokens":
        out[1:1] = ["--agent-calls", "2"]
    if flag == "--allocate-gpus":
        out[1:1] = ["--set", "hardware.system=gb200-nvl72"]
    return out


def flag_cases() -> list[Case]:
    out = []
    for cmd, flags in FLAGS.items():
        for flag in flags:
            for value, shows in FLAG_VALUES.items():
                must = value not in ("0", "1e-320")  # 0 and denormals: either answer
                if flag == "--training-flop" and value in ("1e30", "99999999999999999999999"):
                    must = False  # a large FLOP count is a question, not an error
                out.append(Case(f"{cmd} {flag} {value}", "flag",
                                _with_flag(FLAG_BASE[cmd], flag, value), must_reject=must,
                                names=(flag, FLAG_KEYS.get(flag, "--")),
                                values=(value, *shows),
                                memory=flag == "--agent-calls" and value != "0"))
    # route sizes and seeds
    for n in ("-1", "0", "100000000", "1000000000000", "1e8", "abc", "2000001"):
        out.append(Case(f"route -n {n}", "routing size", ["route", "@base-route.yaml", "-n", n,
                                                          "--format", "json"],
                        {"base-route.yaml": _base_yaml("route")}, names=("-n", "--requests"),
                        values=(n, f"{int(float(n)):,}" if n.lstrip("-").replace("e", "")
                                .isdigit() else n), memory=True))
    for s in ("-1", "-5", "4294967296", "nan", "abc"):
        out.append(Case(f"route --seed {s}", "flag", ["route", "@base-route.yaml", "--seed", s,
                                                      "--format", "json"],
                        {"base-route.yaml": _base_yaml("route")}, names=("--seed",),
                        values=(s,)))
    return out


def _flow_bomb(levels: int = 9) -> str:
    """An alias bomb on one line (flow style), for --set values."""
    parts = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        parts.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    return "{" + ", ".join(parts) + "}"


def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    return "\n".join(lines)


def file_cases() -> list[Case]:
    c: list[Case] = []
    t = _base_yaml("train")

    def add(cid: str, content: bytes | str, must: bool = True, names=("scenario",),
            values=(), memory=False, cmd="train") -> None:
        fname = f"file-{len(c)}.yaml"
        c.append(Case(cid, "file", [cmd, f"@{fname}", "--format", "json"], {fname: content},
                      must_reject=must, names=names, values=values, memory=memory))

    add("latin-1 file", (t + "# caf\xe9\n").encode("latin-1"), names=("UTF-8",))
    add("utf-16 file", t.encode("utf-16"), names=("UTF-8",))
    add("utf-8 with BOM", ("\ufeff" + t).encode("utf-8"), must=False)
    add("binary junk", bytes(range(256)) * 8, names=("UTF-8", "NUL", "YAML"))
    add("empty file", "", must=True, names=("model", "training", "--model", "required",
                                            "--gpus"))
    add("only a comment", f"# {CANARY}\n", must=True,
        names=("model", "training", "--model", "required", "--gpus", "--tokens"))
    add("top-level list", f"- {CANARY}\n- b\n", names=("mapping",))
    add("top-level scalar", f"{CANARY}\n", names=("mapping",))
    add("5 MB file", f"# {CANARY}\n" + ("#" * 99 + "\n") * 52_000, names=("bytes", "MB"),
        memory=True)
    add("1,000-level nesting", "model: " + "[" * 1000 + "]" * 1000, names=("nesting",),
        memory=True)
    add("100-level mapping nesting", "model:\n" + "".join(
        "  " * i + f"k{i}:\n" for i in range(1, 100)) + "  " * 100 + "x: 1\n",
        names=("nesting",))
    add("5,000-digit integer", t.replace("gpus: 8", "gpus: " + "9" * 5000),
        names=("digits",), values=("5,000", "5000"))
    add("31-digit integer", t.replace("gpus: 8", "gpus: " + "9" * 31), names=("digits",),
        values=("31",))
    for where in ("name", "model", "cluster.gpus", "training.tokens"):
        bomb = _bomb()
        if where == "name":
            text = bomb + "\nname: *a8\nmodel: llama3.1-8b\n"
        elif where == "model":
            text = bomb + "\nmodel: *a8\n"
        elif where == "cluster.gpus":
            text = bomb + "\nmodel: llama3.1-8b\ncluster: {gpus: *a8}\n"
        else:
            text = bomb + "\nmodel: llama3.1-8b\ntraining: {tokens: *a8}\n"
        add(f"alias bomb under {where}", f"# {CANARY}\n" + text, names=("aliases", "alias"),
            memory=True)
    add("small alias bomb (under the limit)", f"# {CANARY}\n" + _bomb(4) + "\nname: *a3\n",
        names=("name", "a0", "unknown key"), memory=True)
    add("recursive alias", f"# {CANARY}\nname: &a [*a]\n", names=("alias",))
    for tag in ("!!python/object:os.system ls", "!!python/name:os.system ''",
                "!!binary aGVsbG8=", "!!set {a, b}", "!!timestamp 2001-12-14",
                "!!omap [a: 1]", "!custom x"):
        add(f"tag {tag.split()[0]}", t.replace("name: hostile-base", f"name: {tag}"),
            names=("tag",))
    add("duplicate key model", t + "model: llama3.1-70b\n", names=("duplicate",),
        values=("model",))
    add("duplicate nested key", t.replace("gpus: 8", "gpus: 8\n  gpus: 16"),
        names=("duplicate",), values=("gpus",))
    for word in ("off", "on", "yes", "n", "y", "No", "OFF"):
        add(f"site.region: {word}", t.replace("region: us-va", f"region: {word}"),
            names=("region",), values=(word,))
    add("site.candidates [is, is]", t.replace("[us-va, is]", "[is, is]").replace(
        "- us-va\n  - is", "- is\n  - is"), names=("candidates",), values=("is",))
    add("site.candidates []", t.replace("candidates:\n  - us-va\n  - is", "candidates: []"),
        names=("candidates",))
    add("unknown top key", t + "modle: x\n", names=("modle",), values=("modle",))
    add("unknown deep key", t.replace("gpus: 8", "gpus: 8\n  gpuz: 9"), names=("gpuz",))
    add("10,000-character key", t + "k" * 10_000 + ": 1\n", names=("unknown key", "YAML"))
    add("10,000-character name", t.replace("name: hostile-base", "name: " + "n" * 10_000),
        names=("name",), values=("nnn",))
    add("list of 100,000 candidates", t.replace(
        "candidates:\n  - us-va\n  - is", "candidates: [" + ", ".join(["is"] * 100_000) + "]"),
        names=("candidates",), values=("100,000",), memory=True)
    add("invalid YAML", t + "training: [a: b\n", names=("YAML",))
    add("tab indentation", t + "\tfoo: 1\n", names=("YAML",))
    add("NUL byte", t + "\x00\n", names=("NUL", "YAML", "UTF-8"))
    add("two documents", t + "---\nname: x\n", names=("YAML",))
    add("merge key", t + "x: &x {gpus: 4}\ncluster2:\n  <<: *x\n", names=("unknown key",))
    add("numeric key", t + "1: 2\n", names=("key",))
    add("inline dense_layers 99 of 4", _yaml_with("inline", "model.moe.dense_layers", "99"),
        names=("dense_layers",), values=("99",))
    add("hourly NaN diurnal", _yaml_with("route", "routing.users.0.diurnal",
                                         "[" + ", ".join(["1"] * 23 + [".nan"]) + "]"),
        names=("diurnal",), values=("nan",), cmd="route")
    add("grid intensity list with NaN", _yaml_with(
        "route", "routing.sites.0.grid_intensity_g_per_kwh",
        "[" + ", ".join(["100"] * 23 + [".nan"]) + "]"),
        names=("grid_intensity",), values=("nan",), cmd="route")
    add("routing.requests 1e9", _yaml_with("route", "routing.requests", "1e9"),
        names=("requests",), values=("1e+09", "1e9", "1000000000"), cmd="route", memory=True)
    add("routing replicas 1e9", _yaml_with("route", "routing.sites.0.replicas", "1000000000"),
        names=("replicas",), values=("1000000000",), cmd="route", memory=True)
    add("serving.agent.calls 1e30", _yaml_with("serve", "serving.agent.calls", "1e30"),
        names=("calls",), values=("1e+30",), cmd="serve", memory=True)
    add("serving.rate_per_s .inf", _yaml_with("serve", "serving.rate_per_s", ".inf"),
        names=("rate_per_s",), values=("inf",), cmd="serve")
    add("training.tokens true", _yaml_with("train", "training.tokens", "true"),
        names=("tokens",), values=("true",))
    add("seq_len 1e30", _yaml_with("train", "training.seq_len", "1e30"),
        names=("seq_len",), values=("1e+30",))
    add("global_batch 10^30", _yaml_with("train", "training.global_batch", "1" + "0" * 30),
        names=("global_batch", "digits"), values=("1000", "31"))
    add("inline model id with markup", _yaml_with("inline", "model.heads", "8").replace(
        "name: hostile-base", "name: '<script>alert(1)</script>'"), must=False)
    return c


def catalog_cases() -> list[Case]:
    c: list[Case] = []
    header = ("id,name,vendor,kind,bf16_flop_per_s,hbm_bytes,hbm_bytes_per_s,tdp_w,source,"
              "as_of")
    good = "my-acc,Mine,Me,gpu,1e15,8.6e10,3.35e12,700,datasheet,2025-01-01"

    def add(cid: str, name: str, content: bytes | str, must: bool = True,
            names=("catalog",), values=(), cmd=("catalog", "accelerators")) -> None:
        c.append(Case(cid, "catalog", [*cmd, "--catalog", f"@{name}", "--format", "json"],
                      {name: content}, must_reject=must, names=names, values=values))

    add("good user row", "accelerators-ok.csv", f"{header}\n{good}\n", must=False)
    for col, bad, show in (("tdp_w", "-700", "-700"), ("tdp_w", "0", "0"),
                           ("tdp_w", "nan", "nan"), ("tdp_w", "inf", "inf"),
                           ("bf16_flop_per_s", "-1e15", "-1e15"),
                           ("hbm_bytes_per_s", "-3e12", "-3e12"),
                           ("hbm_bytes", "1e400", "1e400"), ("tdp_w", "true", "true"),
                           ("tdp_w", "abc", "abc"), ("tdp_w", "1e300", "1e300")):
        row = good.split(",")
        row[header.split(",").index(col)] = bad
        add(f"accelerator {col}={bad}", f"accelerators-{col}-{len(c)}.csv",
            f"{header}\n{','.join(row)}\n", names=(col,), values=(show,))
    add("extra cells", "accelerators-extra.csv", f"{header}\n{good},x,y\n",
        names=("cells", "header"))
    add("header only", "accelerators-h.csv", f"{header}\n", names=("no rows",))
    add("empty csv", "accelerators-e.csv", "", names=("empty",))
    add("csv unbalanced quote", "accelerators-q.csv", f'{header}\n"my-acc,{good[7:]}\n',
        names=("CSV", "row", "column"))
    add("csv NUL", "accelerators-nul.csv", f"{header}\n{good}\x00\n",
        names=("NUL", "CSV", "UTF-8"))
    add("csv latin-1", "accelerators-l1.csv", f"{header}\n{good}\xe9\n".encode("latin-1"),
        names=("UTF-8",))
    add("passwd as catalog", "passwd", f"root:x:0:0:{CANARY}:/root:/bin/bash\n"
                                       f"daemon:x:1:1:{CANARY}:/usr/sbin\n",
        names=("catalog",))
    add("passwd named accelerators.csv", "accelerators-passwd.csv",
        f"root:x:0:0:{CANARY}:/root:/bin/bash\nbin:x:2:2:{CANARY}:/bin\n",
        names=("header", "column", "id"))
    add("unknown column", "accelerators-u.csv", f"{header},speed\n{good},9\n",
        names=("speed",))
    add("missing id", "accelerators-m.csv", f"{header}\n{good.replace('my-acc', '')}\n",
        names=("id",))
    add("yaml syntax error", "cat.yaml", f"# {CANARY}\naccelerators: [\n", names=("YAML",))
    add("yaml not a mapping", "cat2.yaml", f"- {CANARY}\n", names=("mapping",))
    add("yaml unknown catalog", "cat3.yaml", "gizmos: []\n", names=("gizmos",))
    add("yaml row not mapping", "cat4.yaml", f"accelerators: [{CANARY}]\n",
        names=("mapping", "row"))
    add("yaml empty", "cat5.yaml", "", names=("no rows", "mapping"))
    add("yaml bool tdp", "cat6.yaml",
        "accelerators:\n  - {id: a, tdp_w: true, source: s, as_of: '2025'}\n",
        names=("tdp_w",))
    add("yaml pue 0.5", "cat7.yaml",
        "regions:\n  - {id: r, pue_air: 0.5, source: s, as_of: '2025'}\n", names=("pue_air",),
        values=("0.5",))
    add("yaml alias bomb", "cat8.yaml", f"# {CANARY}\n" + _bomb() + "\n",
        names=("aliases", "alias"))
    add("yaml duplicate rows key", "cat9.yaml", "accelerators: []\naccelerators: []\n",
        names=("duplicate",))
    add("models dense_layers 99", "models-d.csv",
        "id,layers,hidden,heads,ffn,vocab,moe_experts,moe_top_k,moe_expert_ffn,"
        "moe_dense_layers,source,as_of\nm,4,512,8,2048,32000,4,2,1024,99,s,2025\n",
        names=("moe_dense_layers",), values=("99",), cmd=("catalog", "models"))
    add("regions negative intensity", "regions-n.csv",
        "id,carbon_intensity_g_per_kwh,source,as_of\nr,-5,s,2025\n",
        names=("carbon_intensity_g_per_kwh",), values=("-5",), cmd=("catalog", "regions"))
    add("missing catalog file", "absent.csv", "", names=("catalog file",))
    c[-1].files = {}
    add("catalog is a folder", "adir", "", names=("catalog file",))
    c[-1].files = {}
    c[-1].setup = lambda sb: (sb / "inputs" / "adir").mkdir(exist_ok=True)
    # a user catalog through the scenario
    c.append(Case("scenario catalogs: negative TDP", "catalog",
                  ["train", "@cat-scen.yaml", "--format", "json"],
                  {"cat-scen.yaml": _base_yaml("train", "catalogs: [accelerators-neg.csv]\n"),
                   "accelerators-neg.csv": f"{header}\n" + good.replace(",700,", ",-700,")
                   .replace("my-acc", "h100-sxm") + "\n"},
                  names=("tdp_w",), values=("-700",)))
    return c


def out_cases() -> list[Case]:
    c: list[Case] = []
    plan = _base_yaml("train")

    def named(name: str) -> str:
        return plan.replace("name: hostile-base", f"name: '{name}'")

    for name in ("/etc/hostile-x", "../../../tmp/hostile-y", "../../escape", "..", ".",
                 "a/b/../../../c", "~root/x", "$HOME/x", "con", "a\nb", " ", "-rf"):
        c.append(Case(f"name {name!r}", "--out", ["plan", "@named.yaml", "--format", "json"],
                      {"named.yaml": named(name)}, must_reject=False,
                      escape_targets=(name, "/tmp/hostile-y", "/etc/hostile-x")))
    c.append(Case("--out on a file", "--out", ["plan", "@base.yaml", "--out", "@afile"],
                  {"base.yaml": plan, "afile": CANARY}, names=("--out",), values=("afile",)))
    for target in ("/proc/hostile", "/sys/hostile", "/proc/self", "/dev/null", "/dev/shm/x"):
        c.append(Case(f"--out {target}", "--out", ["plan", "@base.yaml", "--out", target],
                      {"base.yaml": plan}, names=("--out",), values=(target,)))
    c.append(Case("--out 300-character name", "--out",
                  ["plan", "@base.yaml", "--out", "o" * 300], {"base.yaml": plan},
                  names=("--out",), values=("300", "ooo")))
    c.append(Case("--out 5,000-character path", "--out",
                  ["plan", "@base.yaml", "--out", "/".join(["d" * 50] * 100)],
                  {"base.yaml": plan}, names=("--out",), values=("5,0", "ddd")))

    def existing(sb: Path) -> None:
        d = sb / "work" / "existing"
        d.mkdir(parents=True, exist_ok=True)
        (d / "plan.json").write_text("{}")

    c.append(Case("--out over a report", "--out", ["plan", "@base.yaml", "--out", "existing"],
                  {"base.yaml": plan}, names=("--force",), values=("existing",),
                  setup=existing))
    c.append(Case("--out over a report with --force", "--out",
                  ["plan", "@base.yaml", "--out", "existing", "--force"], {"base.yaml": plan},
                  must_reject=False, setup=existing))

    def planted(sb: Path) -> None:
        d = sb / "work" / "planted"
        d.mkdir(parents=True, exist_ok=True)
        victim = sb / "victim.txt"
        victim.write_text("keep")
        if not (d / "report.md").is_symlink():
            (d / "report.md").symlink_to(victim)

    c.append(Case("--out with a planted symlink", "--out",
                  ["plan", "@base.yaml", "--out", "planted", "--force"], {"base.yaml": plan},
                  names=("--out", "symbolic"), values=("planted", "report.md"), setup=planted))

    def linked(sb: Path) -> None:
        (sb / "elsewhere").mkdir(exist_ok=True)
        link = sb / "work" / "linkdir"
        if not link.is_symlink():
            link.symlink_to(sb / "elsewhere")

    c.append(Case("--out is a symlink to a folder", "--out",
                  ["plan", "@base.yaml", "--out", "linkdir"], {"base.yaml": plan},
                  names=("--out",), values=("linkdir",), setup=linked))
    return c


def misc_cases() -> list[Case]:
    c: list[Case] = []
    t = _base_yaml("train")
    r = _base_yaml("route")
    site = ["site", "--power-mw", "50", "--rack-kw", "40", "--format", "json"]
    for regions, must in (("is,is", True), (",", True), (",,is", True), ("is,", True),
                          ("", True), ("nope", True), ("IS", True), ("is," * 600, True),
                          ("is,no", False)):
        c.append(Case(f"--regions {regions[:20]!r}", "flag", [*site, "--regions", regions],
                      must_reject=must, names=("--regions", "region"),
                      values=(regions.strip(",")[:2] or "',", "''", "empty", "region id")))
    for users in ("nan,nan", "inf,0", "91,0", "0,0,-1", "a,b", "1", "0,0,0"):
        c.append(Case(f"--users {users}", "flag", [*site, "--regions", "us-va,is", "--users",
                                                   users], names=("--users",),
                      values=(users, "NaN", "weights")))
    for w in ("time=nan", "time=inf", "time=-1", "bogus=1", "time=abc"):
        c.append(Case(f"--weights {w}", "flag", [*site, "--regions", "us-va,is", "--weights",
                                                 w], names=("--weights", "weight"),
                      values=(w.split("=")[1], w.split("=")[0])))
    for s in ("training..tokens=5", "=5", ".=3", "training.tokens", "a." * 40 + "b=1",
              "routing.sites.99.replicas=3", "routing.sites.x.replicas=3",
              "training.tokens.x=5", f"name={_flow_bomb()}", f"cluster.gpus={_flow_bomb()}",
              "name=" + "[" * 2000, "model=" + "9" * 5000, "cluster.gpus=0x10",
              "cluster.gpus=1_000", "cluster.gpus='8'"):
        base = "base-route.yaml" if s.startswith("routing") else "base.yaml"
        must = s not in ("cluster.gpus=0x10", "cluster.gpus='8'", "cluster.gpus=1_000")
        c.append(Case(f"--set {s[:30]}", "--set", ["route" if base == "base-route.yaml"
                                                   else "train", f"@{base}", "--set", s,
                                                   "--format", "json"],
                      {base: r if base == "base-route.yaml" else t}, must_reject=must,
                      names=("--set", s.split("=")[0] or "--set"),
                      values=(s[:6], s.split("=")[0] or "=")))
    c.append(Case("--draft llama-nope", "flag", [*FLAG_BASE["serve"], "--draft",
                                                 "llama-nope"], names=("--draft", "draft"),
                  values=("llama-nope",)))
    c.append(Case("--distill-to llama-nope", "flag", [*FLAG_BASE["serve"], "--distill-to",
                                                      "llama-nope"],
                  names=("--distill-to", "student"), values=("llama-nope",)))
    for a, b in (("nan,nan", "is"), ("91,0", "is"), ("inf,0", "is"), ("is", "nope"),
                 ("0", "is")):
        c.append(Case(f"rtt {a} {b}", "flag", ["rtt", a, b, "--format", "json"],
                      names=("rtt", a, b, "point", "lat"), values=(a, b)))
    for name in ("nope", "accelerator"):
        c.append(Case(f"catalog {name}", "flag", ["catalog", name], names=("catalog",),
                      values=(name,)))
    # large clusters through the layout search: valid inputs that must answer in time
    for g in ("55440", "98304", "100000"):
        c.append(Case(f"train --search --gpus {g}", "search size",
                      [*_with_flag(FLAG_BASE["train"], "--gpus", g), "--search"],
                      must_reject=False))
    c.append(Case("serve --agent-calls 1e30", "flag", [*FLAG_BASE["serve"], "--agent-calls",
                                                       "1e30"], names=("--agent-calls",),
                  values=("1e30",), memory=True))
    c.append(Case("serve --agent-calls 100000000", "flag",
                  [*FLAG_BASE["serve"], "--agent-calls", "100000000"],
                  names=("--agent-calls", "calls"), values=("100000000",), memory=True))
    c.append(Case("serve --rate inf", "flag", [*FLAG_BASE["serve"], "--rate", "inf"],
                  names=("--rate",), values=("inf",)))
    c.append(Case("serve --batch and --rate", "flag", [*FLAG_BASE["serve"], "--batch", "4",
                                                       "--rate", "2"], names=("--batch",)))
    c.append(Case("train --tokens 1e300", "flag", _with_flag(FLAG_BASE["train"], "--tokens",
                                                             "1e300"),
                  names=("--tokens",), values=("1e+300",)))
    c.append(Case("--format xml", "flag", [*FLAG_BASE["train"][:-2], "--format", "xml"],
                  names=("--format",), values=("xml",)))
    c.append(Case("missing scenario", "file", ["train", "@nope.yaml"], names=("scenario",),
                  values=("nope.yaml",)))
    c.append(Case("scenario is a folder", "file", ["train", "/"], names=("scenario",),
                  values=("/",)))
    c.append(Case("scenario /dev/zero", "file", ["train", "/dev/zero"], names=("scenario",),
                  values=("/dev/zero",), memory=True))
    c.append(Case("scenario /etc/passwd", "file", ["train", "/etc/passwd"],
                  names=("scenario",), values=("/etc/passwd",)))
    # valid inputs, for contrast: each must be accepted with finite, physical numbers
    for cid, argv, files in (
            ("valid train", FLAG_BASE["train"], {}),
            ("valid serve", FLAG_BASE["serve"], {}),
            ("valid serve --rate", [*FLAG_BASE["serve"], "--rate", "2"], {}),
            ("valid site", FLAG_BASE["site"], {}),
            ("valid route", ["route", "@base-route.yaml", "--format", "json"],
             {"base-route.yaml": r}),
            ("valid train file", ["train", "@base.yaml", "--format", "json"], {"base.yaml": t}),
            ("valid 0x10 gpus", ["train", "@base.yaml", "--set", "cluster.gpus=0x8",
                                 "--format", "json"], {"base.yaml": t}),
            ("valid region no", ["site", "--power-mw", "50", "--rack-kw", "40", "--regions",
                                 "no,is", "--format", "json"], {})):
        c.append(Case(cid, "valid", list(argv), files, must_reject=False))
    return c


def all_cases() -> list[Case]:
    return field_cases() + flag_cases() + file_cases() + catalog_cases() + out_cases() \
        + misc_cases()
