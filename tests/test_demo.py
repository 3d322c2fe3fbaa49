"""`soilbench demo` and `soilbench run` from the command line, on the synthetic world."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from soilbench import cli, data
from soilbench.synthetic import generate_world

ONE_CONFRONTATION = """
name: cli-test
confrontations:
  - name: rh-taylor
    type: taylor
    references: [cardamom-rh]
"""


def test_run_exit_codes_failure_recorded_and_bad_config(tmp_path, capsys, monkeypatch):
    world = generate_world(tmp_path / "world")
    config = tmp_path / "bench.yaml"
    config.write_text(ONE_CONFRONTATION)
    broken = tmp_path / "broken" / "broken.nc"  # its own model: a directory (files given together are one model)
    broken.parent.mkdir()
    broken.write_text("not netcdf")
    monkeypatch.setenv(data.SYNTHETIC_REGISTRY_ENV, str(world.registry))  # as a user would select it
    args = ["run", "--config", str(config), "--models", str(world.models["perfect"]), str(broken.parent),
            "--out", str(tmp_path / "out"), "--workers", "0", "--data-dir", str(world.root), "--no-report", "--quiet"]
    assert cli.main(args) == 1  # a task failed; everything else is written
    status = pd.read_csv(tmp_path / "out" / "status.csv", keep_default_na=False).set_index("model")
    assert status.loc["perfect", "status"] == "ok" and status.loc["broken", "status"] == "error"
    assert "broken.nc" in status.loc["broken", "error"]
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["synthetic"] is True and run["failures"][0]["model"] == "broken"
    assert "1 FAILED" in capsys.readouterr().out

    config.write_text(ONE_CONFRONTATION.replace("taylor\n", "taylr\n"))
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown confrontation type 'taylr'" in err and str(config) in err


@pytest.mark.slow
def test_demo_synthetic_end_to_end_then_everything_reused(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo", "--synthetic", "--out", str(out), "--workers", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    index = out / "index.html"  # the scorecard at the top of the demo directory, results below it
    assert printed.rstrip().splitlines()[-1] == f"scorecard: {index.resolve()}" and index.is_file()
    assert "synthetic" in index.read_text().lower()
    assert not (out / "results" / "_report").exists()
    results = out / "results"
    run = json.loads((results / "run.json").read_text())
    assert run["synthetic"] is True and not run["failures"]
    assert {m["name"] for m in run["models"]} == {"perfect", "rh-plus-20pct", "shifted-season", "short-tau"}
    status = pd.read_csv(results / "status.csv")
    from soilbench.config import DEFAULT_CONFIG, load_benchmark

    assert (status["status"] == "ok").all()
    assert status["confrontation"].nunique() == len(load_benchmark(DEFAULT_CONFIG).confrontations)
    assert (out / "c" / "rh-global-totals" / "index.html").is_file()

    assert cli.main(["demo", "--synthetic", "--out", str(out), "--workers", "0", "--quiet", "--no-report"]) == 0
    assert "0 computed" in capsys.readouterr().out
