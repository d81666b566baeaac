"""`wattlas check` shows the catalog's status, dates and notes as written: no invented labels,
and a revoked instrument is marked revoked (with its date), not crossed."""

import json

from typer.testing import CliRunner

from wattlas.cli import app
from wattlas.governance import compute_check, thresholds

RUN = CliRunner()


def test_threshold_names_carry_no_status_and_statuses_come_with_dates():
    for t in thresholds():
        assert "revoked" not in t.instrument.lower() and "unverified" not in t.instrument.lower()
        assert bool(t.status) == bool(t.status_date), t  # a status always has its date
        assert t.as_of and t.source
    eo = next(t for t in thresholds() if t.instrument == "US EO 14110")
    assert (eo.status, eo.status_date) == ("revoked", "2025-01-20") and "EO 14148" in eo.note


def test_revoked_instrument_is_above_its_number_but_not_crossed():
    rows = {r["instrument"]: r for r in compute_check(2e26)}
    eo = rows["US EO 14110"]
    assert eo["above_threshold"] and not eo["crossed"] and eo["status"] == "revoked"
    assert rows["EU AI Act Art 51(2)"]["crossed"] and rows["EU AI Act Art 51(2)"]["status"] is None


def test_check_shows_catalog_notes_and_dates_as_written():
    res = RUN.invoke(app, ["check", "--accelerator", "h20", "--training-flop", "2e26",
                           "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    h20 = out["export_control"][0]
    assert "Licence status 2025-26 unverified" in h20["catalog_note"]
    assert h20["catalog_as_of"] == "2026-11-22"
    res = RUN.invoke(app, ["check", "--accelerator", "h20", "--training-flop", "2e26"])
    text = " ".join(res.output.split())
    assert "Licence status 2025-26 unverified" in text
    assert "REVOKED 2025-01-20" in text and "revoked - unverified" not in text
