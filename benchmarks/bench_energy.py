"""Energy benchmarks: time of one training_energy call, the 405B/16K-H100 headline numbers and
the validation errors (footprints under their own accounting; predicted end to end).

Targets (issue 5): footprints within 1 %; predicted within 15 %; one energy report < 5 ms.
"""

from __future__ import annotations

import statistics
import time


def _plan_405b():
    from wattlas import hardware
    from wattlas.perf.training.step import Layout, TrainingJob, plan_training
    from wattlas.scenario import resolve_model

    job = TrainingJob(resolve_model("llama3-405b"), tokens=15.6e12, seq_len=8192,
                      global_batch=2048)
    plan = plan_training(job, hardware.accelerator("h100-sxm"),
                         Layout(tp=8, pp=16, dp=128, recompute="full"), gpus=16384,
                         allow_uneven_pp=True)
    return plan, hardware.system("dgx-h100")


def run() -> list[dict]:
    from wattlas import energy as en
    from wattlas.validation import energy as ve

    out: list[dict] = []
    plan, sys = _plan_405b()
    inputs = en.EnergyInputs(region="us-va")
    en.training_energy(plan, inputs, sys)
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        rep = en.training_energy(plan, inputs, sys)
    out.append({"name": "energy: training_energy call", "value": (time.perf_counter() - t0) / n
                * 1e3, "unit": "ms", "target": "< 5"})
    out += [
        {"name": "energy: 405B/16K H100 IT power", "value": rep.it_power_w / 1e6, "unit": "MW",
         "target": "report"},
        {"name": "energy: 405B/16K H100 facility power (us-va)",
         "value": rep.facility_power_w / 1e6, "unit": "MW", "target": "report"},
        {"name": "energy: 405B/16K H100 energy", "value": rep.energy_j / 3.6e9, "unit": "MWh",
         "target": "report"},
        {"name": "energy: 405B/16K H100 tCO2e (us-va)", "value": rep.co2e_kg / 1e3, "unit": "t",
         "target": "report"},
    ]
    own = [abs(c.error_frac) for c in ve.footprint_cases()]
    out.append({"name": "energy: footprints own accounting, max |error|",
                "value": max(own) * 100, "unit": "%", "target": "1 % + published rounding"})
    out.append({"name": "energy: footprints own accounting, median |error|",
                "value": statistics.median(own) * 100, "unit": "%", "target": "≤ 1"})
    for c in ve.predicted_cases():
        if c.metric == "energy_mwh":
            fit = " (calibration)" if c.calibration else ""
            out.append({"name": f"energy: {c.case} energy error{fit}",
                        "value": c.error_frac * 100, "unit": "%",
                        "target": "fit" if c.calibration else "within ±15"})
    return out


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:60s} {row['value']:10.3f} {row['unit']:4s} target {row['target']}")
