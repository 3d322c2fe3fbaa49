"""Smoke test of the performance benchmark (benchmarks/) at a tiny size: it runs end to end and
writes a well-formed report. No timing assertions: speed is reported as ratios, not tested."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
TINY = ["--years", "2001-2001", "--resolution", "10", "--models", "2", "--srdb-rows", "300",
        "--mgrhd-rows", "300", "--mgrhd-studies", "12"]


@pytest.fixture(scope="module")
def tiny_campaign(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("campaign")
    subprocess.run([sys.executable, str(BENCH / "generate_campaign.py"), "--out", str(out), *TINY],
                   check=True, capture_output=True, text=True, timeout=300)
    return out


def test_generator_writes_cmor_models_and_a_synthetic_registry(tiny_campaign):
    manifest = json.loads((tiny_campaign / "campaign.json").read_text())
    assert manifest["grid"] == [18, 36] and manifest["time_steps"] == 12
    model = Path(manifest["models"]["synth-a"])
    with xr.open_dataset(model / "rh.nc", decode_times=False) as ds:
        assert ds["rh"].attrs["units"] == "kg m-2 s-1" and ds["rh"].dtype == "float32"
        assert ds["time"].attrs["calendar"] == "noleap" and "time_bnds" in ds and "lat_bnds" in ds
    with xr.open_dataset(model / "sftlf.nc") as ds:
        assert ds["sftlf"].attrs["units"] == "%" and float(ds["sftlf"].max()) <= 100.0
    for name in ("cSoil", "cLitter", "areacella"):
        assert (model / f"{name}.nc").is_file()
    registry = (tiny_campaign / "data" / "registry.yaml").read_text()
    assert "synthetic: true" in registry
    for relative in ("cardamom-rh/cardamom_rh_2001-2010_mean_0.5deg.nc", "srdb-v5/srdb-data.csv", "mgrhd/MGRhD.csv"):
        assert (tiny_campaign / "data" / relative).is_file()
    assert (tiny_campaign / "ilamb" / "DATA" / "rh" / "SYNTH" / "rh.nc").is_file()


def test_generated_model_loads_through_soilbench(tiny_campaign):
    from soilbench.load import load_model

    manifest = json.loads((tiny_campaign / "campaign.json").read_text())
    ds = load_model(manifest["models"]["synth-b"])
    assert {"rh", "csoil"} <= set(ds.data_vars) and ds.sizes["time"] == 12


def test_benchmark_runs_end_to_end_and_writes_a_report(tmp_path):
    command = [sys.executable, str(BENCH / "run_benchmark.py"), "--work", str(tmp_path), *TINY,
               "--modes", "rh", "--workers", "1", "--no-html", "--timeout", "600"]
    if shutil.which("ilamb-run") is None:
        command.append("--skip-ilamb")
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    report = json.loads((tmp_path / "report.json").read_text())
    cases = {m["case"]: m for m in report["measurements"]}
    assert {"floor-rh", "soilbench-rh-w1"} <= set(cases)
    for m in cases.values():
        assert m["ok"] and m["wall_s"] > 0 and m["peak_rss_tree_bytes"] > 0
        assert m["peak_rss_tree_bytes"] >= m["peak_rss_process_bytes"]
    (row,) = report["summary"]["soilbench"]
    assert row["case"] == "soilbench-rh-w1" and row["times_floor"] > 0
    assert set(row["aims"]) == {"speedup_ge_5", "within_2x_floor", "peak_rss_le_1gib"}
    if "ilamb-rh" in cases:
        assert row["speedup_vs_ilamb"] > 0
        assert (tmp_path / "ilamb-run" / "_build" / "scores.csv").is_file()
    text = (tmp_path / "report.md").read_text()
    assert "soilbench-rh-w1" in text and "× floor" in text and "Command:" in text


def test_scaling_series_reports_each_n_with_its_scorecard_share(tmp_path):
    command = [sys.executable, str(BENCH / "run_benchmark.py"), "--work", str(tmp_path), *TINY,
               "--scaling", "1", "2", "--workers", "1", "2", "--rounds", "2", "--timeout", "600"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    report = json.loads((tmp_path / "report.json").read_text())
    cases = {m["case"]: m for m in report["measurements"]}
    assert set(cases) == {f"{case}-n{n}{w}" for n in (1, 2)
                          for case, w in (("floor-rh", ""), ("soilbench-rh", "-w1"), ("soilbench-rh", "-w2"))}
    for n in (1, 2):
        m = cases[f"soilbench-rh-n{n}-w1"]
        assert len(m["command"][m["command"].index("--models") + 1: m["command"].index("--out")]) == n
        assert 0 < m["report_s"] < m["wall_s"] and 0 < m["run_duration_s"] < m["wall_s"]
        assert m["cpu_s"] > 0 and m["report_peak_rss_process_bytes"] > 0
        assert 0 < m["report_cpu_s"] < m["cpu_s"]
    # two rounds, interleaved: the median run of each case, and each round's 1-vs-2-worker pair
    assert report["rounds"] == 2 and len(report["all_rounds"]) == 2
    rows = {row["models"]: row for row in report["summary"]["scaling"]}
    assert set(rows) == {1, 2} and rows[2]["floor_s"] > 0 and set(rows[2]["wall_s"]) == {"1", "2"}
    assert len(rows[2]["paired_speedups"]) == 2 and all(r > 0 for r in rows[2]["paired_speedups"])
    assert "Scaling series" in (tmp_path / "report.md").read_text()
