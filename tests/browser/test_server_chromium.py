"""The planning service in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
sign in, create a workspace and a scenario, see a validation error inline and on submit, fix it,
run it and watch the progress, open the report, run a second version and compare the two, read
the audit log. Screenshots of each step are saved; no console error occurs; every request stays
on the service's own origin; and script payloads typed into every free-text field never run.

Set WATTLAS_SERVER_SCREENSHOTS=DIR to keep the screenshots (default: the test's tmp folder).
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
P_SCRIPT = "<script>window.__xss = 1</script>"
P_IMG = '"><img src=x onerror="window.__xss = 2">'
BAD = """name: "{name}"
model: llama3.1-8b
hardware: {{accelerator: h100-sxm}}
cluster: {{gpus: -8}}
training: {{tokens: 1.0e9, seq_len: 4096, global_batch: 64}}
"""


def test_server_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_server as bench

    shots = Path(os.environ.get("WATTLAS_SERVER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{tmp_path / 'ui.db'}"
    port = bench.free_port()
    base = f"http://localhost:{port}"
    proc = bench.start_server(db_url, port)
    errors: list[str] = []
    foreign: list[str] = []
    try:
        import subprocess

        subprocess.run([*bench.WATTLAS, "server", "create-admin", "--username", "root",
                        "--db", db_url], check=True, capture_output=True, cwd=ROOT,
                       env={**os.environ, "WATTLAS_ADMIN_PASSWORD": bench.PASSWORD})
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                         headless=True)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                        else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("request", lambda r: None if r.url.startswith((base, "data:"))
                        else foreign.append(r.url))

                def shot(name: str) -> None:
                    page.screenshot(path=str(shots / f"server-{name}.png"), full_page=True)

                def no_xss() -> None:
                    assert page.evaluate("() => window.__xss") is None, page.url
                    for frame in page.frames:
                        assert frame.evaluate("() => window.__xss") is None, frame.url

                # sign in (a wrong password first)
                page.goto(f"{base}/")
                page.fill("input[name=username]", "root")
                page.fill("input[name=password]", "wrong password")
                page.click("button[type=submit]")
                assert "wrong user name or password" in page.inner_text("#login-error")
                page.fill("input[name=username]", "root")
                page.fill("input[name=password]", bench.PASSWORD)
                shot("1-login")
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")

                # a workspace named with a payload: shown as text, never run
                page.fill("input[name=name]", P_SCRIPT + " team")
                page.click("form[action='/workspaces'] button")
                page.wait_for_url(re.compile(r"/w/\d+$"))
                assert P_SCRIPT in page.inner_text("h1")
                no_xss()
                ws_url = page.url
                # members and budget forms: payloads in the text fields
                page.fill("form[action$='/members'] input[name=username]", "root")
                page.check("form[action$='/members'] input[name=cleared]")
                page.select_option("form[action$='/members'] select[name=role]", "admin")
                page.click("form[action$='/members'] button")
                page.wait_for_url(ws_url)
                page.fill("input[name=gpu_hours]", "1e9")
                page.click("form[action$='/budget'] button")
                page.wait_for_url(ws_url)
                no_xss()

                # a new scenario with an error: inline validation, then the submit refusal
                page.click("text=New scenario")
                page.fill("input[name=name]", P_IMG)
                page.fill("textarea[name=yaml]", BAD.format(name=P_IMG.replace('"', '\\"')))
                page.wait_for_selector("#errors li")
                assert "cluster.gpus" in page.inner_text("#errors")
                shot("2-inline-validation")
                page.click("form.scenario-form button[type=submit]")
                page.wait_for_selector("#errors li")
                assert "cluster.gpus" in page.inner_text("#errors")
                no_xss()
                # fixed: saved, then run
                page.fill("textarea[name=yaml]", BAD.format(name=P_IMG.replace('"', '\\"'))
                          .replace("gpus: -8", "gpus: 8"))
                page.wait_for_function(
                    "() => document.querySelector('form.scenario-form').dataset.valid "
                    "=== 'yes'")
                page.click("form.scenario-form button[type=submit]")
                page.wait_for_url(re.compile(r"/s/\d+$"))
                scenario_url = page.url
                assert P_IMG in page.inner_text("h1")
                no_xss()
                page.click("#run-button")
                page.wait_for_url(re.compile(r"/r/\d+$"))
                shot("3-run-progress")
                page.wait_for_selector("iframe#report", timeout=90_000)
                report = page.frame_locator("iframe#report")
                report.locator("h1").wait_for()
                assert "wattlas plan" in report.locator("h1").inner_text()
                shot("4-report")
                no_xss()

                # a second version (16 GPUs) and its run, compared with the first
                page.goto(scenario_url)
                text = page.input_value("textarea[name=yaml]").replace("gpus: 8", "gpus: 16")
                page.fill("textarea[name=yaml]", text)
                page.click("form.scenario-form button[type=submit]")
                page.wait_for_url(scenario_url)
                page.click("#run-button")
                page.wait_for_selector("#compare-button", timeout=90_000)
                page.click("#compare-button")
                page.wait_for_selector("table#compare")
                row = page.locator("table#compare tr", has_text="training.gpus").inner_text()
                assert "16" in row and "8" in row
                assert page.locator(".charts img").count() >= 3
                shot("5-compare")
                no_xss()

                # the scenario's diff and the audit log, filtered by a payload and by action
                page.goto(scenario_url)
                page.click("form[action$='/diff'] button")
                assert "+cluster: {gpus: 16}" in page.inner_text("pre.diff")
                page.goto(f"{base}/audit?actor=" + "%3Cscript%3Ewindow.__xss%3D3%3C/script%3E")
                no_xss()
                page.goto(f"{base}/audit?action=run")
                assert page.locator("table#audit tr").count() >= 3
                shot("6-audit")
                no_xss()
            finally:
                browser.close()
    finally:
        bench.stop(proc, signal.SIGTERM)
    assert errors == [], errors
    assert foreign == [], foreign
    assert len(list(shots.glob("server-*.png"))) == 6
