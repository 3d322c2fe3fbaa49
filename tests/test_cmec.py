"""CMEC bundles of every run: the same numbers as scalars.csv, in the structure the REF validates."""

from __future__ import annotations

import json
import math
import textwrap

import pandas as pd
import pytest

from runner_support import CanonicalFile, canonical_model
from soilbench.cmec import JSON_STRUCTURE, keyed_rows, metric_bundle, read_scalars, write_bundles
from soilbench.config import load_benchmark
from soilbench.runner import RunOptions, run_benchmark

BENCH = """
name: cmec-test
confrontations:
  - name: mean-a
    type: test_mean_rh
    references: [test-target]
    options: {target: 450}
  - name: totals
    type: test_regional_totals
    references: [test-target]
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cmec")
    (tmp / "bench.yaml").write_text(textwrap.dedent(BENCH))
    bench = load_benchmark(tmp / "bench.yaml")
    models = [CanonicalFile("perfect", (canonical_model(tmp / "perfect.nc", 1.0),)),
              CanonicalFile("high", (canonical_model(tmp / "high.nc", 1.2, seed=1),))]
    run_benchmark(bench, models, RunOptions(out=tmp / "out", workers=0, progress=False, report=True))
    return tmp / "out"


def leaves(results: dict, depth: int):
    """(key tuple, value) of every leaf of a nested RESULTS dict."""
    for key, value in results.items():
        if key == "attributes":
            continue
        if depth == 1:
            yield (key,), value
        else:
            for rest, leaf in leaves(value, depth - 1):
                yield (key, *rest), leaf


def test_every_run_writes_bundles_with_the_values_of_scalars_csv(run_dir):
    bundle = json.loads((run_dir / "cmec" / "metric_bundle.json").read_text())
    assert bundle["DIMENSIONS"]["json_structure"] == ["model", "region", "metric", "statistic"]
    scalars = read_scalars(run_dir)
    assert len(scalars) > 0 and {"perfect", "high", "references"} <= set(scalars["model"])
    found = dict(leaves(bundle["RESULTS"], 4))
    expected = {key: value for key, value, _ in keyed_rows(scalars)}
    assert len(expected) == len(scalars)  # every row has its own key
    assert found == expected
    # spot checks against the raw table, independent of keyed_rows
    row = scalars.query("model == 'high' and confrontation == 'mean-a' and name == 'rh mean'").iloc[0]
    assert found[("high", "global", "mean-a::test-target", "mean: rh mean [g m-2 yr-1]")] == row["value"]
    overall = scalars.query("model == 'perfect' and confrontation == 'mean-a' and name == 'overall score'").iloc[0]
    assert found[("perfect", "global", "mean-a::test-target", "overall score")] == overall["value"]
    # every dimension value is described, and each level lists them all
    for dim in JSON_STRUCTURE:
        assert set(bundle["DIMENSIONS"][dim]) == {key[JSON_STRUCTURE.index(dim)] for key in found}


def test_output_bundle_lists_scorecard_data_and_provenance(run_dir):
    output = json.loads((run_dir / "cmec" / "output_bundle.json").read_text())
    assert output["index"] == "_report/index.html" and (run_dir / output["index"]).is_file()
    assert output["html"]["scorecard"]["filename"] == "_report/index.html"
    assert output["plots"], "the scorecard's figures are listed"
    site = run_dir / "_report"
    listed = {item["filename"] for section in ("data", "plots", "html") for item in output[section].values()}
    assert {f"_report/{p.relative_to(site).as_posix()}" for p in site.rglob("*") if p.is_file()} <= listed
    for section in ("data", "plots", "html", "metrics"):
        for item in output[section].values():
            assert (run_dir / item["filename"]).is_file(), item
            assert item["long_name"] and item["description"]
    assert output["data"]["scalars"]["filename"] == "scalars.csv"
    assert {"perfect", "high"} == set(output["provenance"]["modeldata"])
    assert "test-target" in output["provenance"]["obsdata"]


def test_missing_values_are_null_and_repeated_rows_numbered(tmp_path):
    rows = [
        {"model": "m", "confrontation": "c", "reference": "lit", "region": "global", "analysis": "global total",
         "name": "total", "type": "scalar", "units": "Pg yr-1", "value": v} for v in (48.8, 50.3, 57.0)
    ] + [
        {"model": "m", "confrontation": "c", "reference": "", "region": "koppen_A", "analysis": "overall",
         "name": "overall score", "type": "score", "units": "1", "value": float("nan")},
        {"model": "n", "confrontation": "c", "reference": "", "region": "global", "analysis": "overall",
         "name": "overall score", "type": "score", "units": "1", "value": 0.5},
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "scalars.csv", index=False)
    metric_path, _ = write_bundles(tmp_path)
    text = metric_path.read_text()
    assert "NaN" not in text  # strict JSON
    results = json.loads(text)["RESULTS"]
    assert results["m"]["global"]["c::lit"] == {"global total: total [Pg yr-1]": 48.8,
                                                "global total: total [Pg yr-1] #2": 50.3,
                                                "global total: total [Pg yr-1] #3": 57.0}
    assert results["m"]["koppen_A"]["c"] == {"overall score": None}
    # cells without rows are present and empty, as CMEC asks
    assert results["n"]["koppen_A"]["c::lit"] == {} and results["n"]["global"]["c"] == {"overall score": 0.5}
    assert math.isclose(sum(v for _, v in leaves(results, 4) if v is not None), 48.8 + 50.3 + 57.0 + 0.5)


def test_bundles_pass_the_ref_validators(run_dir):
    """climate-ref's own CMEC classes (Python ≥ 3.12; run by CI in its 3.12 environment)."""
    pycmec = pytest.importorskip("climate_ref_core.pycmec.metric")
    output_module = pytest.importorskip("climate_ref_core.pycmec.output")
    bundle = pycmec.CMECMetric.load_from_json(run_dir / "cmec" / "metric_bundle.json")
    values = {tuple(v.dimensions[d] for d in JSON_STRUCTURE): v.value for v in bundle.iter_results()}
    assert len(values) == len(read_scalars(run_dir))
    output_module.CMECOutput.load_from_json(run_dir / "cmec" / "output_bundle.json")
    metric_bundle(run_dir)  # rebuilt from the saved files alone
