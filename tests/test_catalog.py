"""Catalog loading, schema conformance, user overrides and close-match errors."""

import csv
import io
from importlib import resources

import pytest

from wattlas import catalog, hardware
from wattlas.errors import CatalogKeyError, InputError


@pytest.mark.parametrize("name", catalog.CATALOGS)
def test_header_matches_schema(name):
    text = resources.files("wattlas.data").joinpath(f"{name}.csv").read_text("utf-8")
    header = next(csv.reader(io.StringIO(text)))
    assert header == [c.name for c in catalog.schema(name)]


@pytest.mark.parametrize("name", catalog.CATALOGS)
def test_every_row_is_cited(name):
    for row in catalog.rows(name):
        assert row["source"] and row["as_of"], row["id"]


@pytest.mark.parametrize("name", catalog.CATALOGS)
def test_every_column_has_a_unit_suffix_or_is_dimensionless(name):
    suffixes = ("_s", "_w", "_j", "_bytes", "_flop_per_s", "_op_per_s", "_bytes_per_s",
                "_g_per_kwh", "_usd_per_mwh", "_mm2", "_frac", "_years_low", "_years_high",
                "_usd_per_mw_year", "_per_accelerator", "_j_per_year", "_w_per_year", "_kg",
                "_rack_units", "_years")
    for col in catalog.schema(name):
        if col.unit and col.unit not in ("devices", "tokens", "nodes", "deg", "year", "date",
                                          "parameters"):
            assert col.name.endswith(suffixes), (name, col.name, col.unit)


def test_region_siting_columns_are_paired_and_cited():
    # Queue years, rack density and available power enter time-to-power and feasibility:
    # low/high come together (low <= high), and a filled group is named in source_detail.
    groups = {"queue": ("queue_years_low", "queue_years_high"),
              "rack": ("rack_density_low_w", "rack_density_high_w"),
              "available": ("available_w",)}
    for row in catalog.rows("regions"):
        for word, cols in groups.items():
            vals = [row[c] for c in cols]
            assert all(v is None for v in vals) or all(v is not None for v in vals), \
                (row["id"], cols)
            if vals[0] is None:
                continue
            assert all(v >= 0 for v in vals) and vals[0] <= vals[-1], (row["id"], vals)
            assert word in (row["source_detail"] or ""), (row["id"], word)

def test_unknown_id_lists_close_matches():
    with pytest.raises(CatalogKeyError, match=r"unknown accelerator 'h100'; did you mean "
                                              r"h100-sxm, h100-pcie"):
        hardware.accelerator("h100")


def test_peaks_are_dense_and_decimal():
    # NVIDIA H100 SXM datasheet: 1,979 TFLOPS BF16 *with sparsity* → 989.4e12 dense.
    h100 = hardware.accelerator("h100-sxm")
    assert h100.peak_flop_per_s("bf16") == pytest.approx(989.4e12, rel=0.002)
    assert h100.peak_flop_per_s("fp8") == pytest.approx(2 * h100.peak_flop_per_s("bf16"),
                                                        rel=0.002)


def test_missing_precision_is_explained():
    with pytest.raises(InputError, match="h100-sxm has no published dense fp4 peak"):
        hardware.accelerator("h100-sxm").peak_flop_per_s("fp4")


def test_user_rows_add_and_override(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(
        "accelerators:\n"
        "  - {id: my-npu, bf16_flop_per_s: 5.0e14, hbm_bytes: 6.4e10, tdp_w: 500,\n"
        "     source: vendor sheet, as_of: 2026-01}\n"
        "  - {id: h100-sxm, bf16_flop_per_s: 1.0e15, tdp_w: 700, source: test, as_of: 2026}\n")
    assert catalog.add_user_rows(f) == {"accelerators": 2}
    assert hardware.accelerator("my-npu").peak_flop_per_s("bf16") == 5.0e14
    assert hardware.accelerator("h100-sxm").bf16_flop_per_s == 1.0e15
    assert catalog.get("accelerators", "h100-sxm")["source_origin"] == "user"


def test_user_rows_reject_unknown_columns(tmp_path):
    f = tmp_path / "accelerators-extra.csv"
    f.write_text("id,bf16_tflops,source,as_of\nx,1,s,2026\n")
    with pytest.raises(InputError, match=r"unknown column\(s\) bf16_tflops"):
        catalog.add_user_rows(f)


def test_user_rows_reject_bad_numbers(tmp_path):
    f = tmp_path / "accelerators-bad.csv"
    f.write_text("id,tdp_w,source,as_of\nx,lots,s,2026\n")
    with pytest.raises(InputError, match="column 'tdp_w' has 'lots', expected float"):
        catalog.add_user_rows(f)


def test_fp16_only_part_has_no_bf16():
    """V100 lists fp16 tensor math only: bf16 is refused (naming what it has), fp16 works, and
    the serving search serves its 16-bit weights in fp16; bf16-only TPUs still take fp16."""
    import pytest

    from wattlas import hardware
    from wattlas.errors import InputError
    from wattlas.perf.serving.roofline import ServingConfig
    from wattlas.perf.serving.search import search_serving
    from wattlas.scenario import resolve_model

    v100, tpu = hardware.accelerator("v100"), hardware.accelerator("tpu-v4")
    with pytest.raises(InputError, match="no published dense bf16 peak; available: fp16"):
        v100.peak_flop_per_s("bf16")
    assert v100.peak_flop_per_s("fp16") == 125e12
    assert tpu.peak_flop_per_s("fp16") == tpu.peak_flop_per_s("bf16")
    model = resolve_model("llama3-8b")
    with pytest.raises(InputError, match="bf16"):
        ServingConfig(model, v100)
    assert ServingConfig(model, v100, precision="fp16").kv == "fp16"
    found = search_serving(model, [v100], 512, 128)
    assert {r["precision"] for r in found.ranked} == {"fp16"}
