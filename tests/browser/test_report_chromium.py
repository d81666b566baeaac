"""Render report.html in headless Chromium: every chart draws, no console errors, a PNG.

Skips only when /usr/bin/chromium (Debian's ``chromium`` package) is absent; CI installs it.
Set WATTLAS_SAVE_SCREENSHOT=1 to also write docs/img/report.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]


def _report(tmp_path: Path, example: str) -> Path:
    from wattlas import scenario as sc
    from wattlas.commands.plan import write_outputs
    from wattlas.plan import resolved_scenario, run_plan

    scen = sc.load(ROOT / "examples" / example, ["routing.requests=3000"]
                   if example == "global-serving.yaml" else [])
    write_outputs(run_plan(scen), resolved_scenario(scen), str(tmp_path))
    return tmp_path / "report.html"


# (example, charts it must draw)
CASES = [("frontier-training.yaml", {"Step time breakdown", "Memory per GPU vs capacity",
                                     "Power by component", "Energy by component",
                                     "Region comparison", "Sites and users",
                                     "Hardware comparison"}),
         ("global-serving.yaml", {"TTFT latency CDF per policy", "Sites and users"}),
         ("campus-siting.yaml", {"Region comparison", "Time to power vs curtailment",
                                 "Training slowdown vs curtailment",
                                 "Grid vs hybrid supply (us-tx-west)",
                                 "Annual cost by item (us-tx-west)"})]


@pytest.mark.parametrize("example, expected", CASES)
def test_report_renders_in_chromium(tmp_path: Path, example: str, expected: set[str]) -> None:
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium not installed at /usr/bin/chromium "
                    "(apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright not installed (pip install playwright)")
    html = _report(tmp_path, example)
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            boxes = page.evaluate(
                """() => Array.from(document.querySelectorAll('svg')).map(s => {
                       const b = s.getBoundingClientRect();
                       return {w: b.width, h: b.height, children: s.childElementCount,
                               label: s.getAttribute('aria-label')};
                   })""")
            png = tmp_path / "report.png"
            page.screenshot(path=str(png), full_page=True)
            if os.environ.get("WATTLAS_SAVE_SCREENSHOT") == "1" and example == CASES[0][0]:
                out = ROOT / "docs" / "img" / "report.png"
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(png.read_bytes())
        finally:
            browser.close()
    for b in boxes:
        assert b["w"] > 0 and b["h"] > 0, b
        assert b["children"] > 2, b
    labels = {b["label"] for b in boxes}
    assert expected <= labels, labels
    assert errors == []
    assert [u for u in requests if not u.startswith("file://")] == []  # opens offline
    assert png.stat().st_size > 10_000
