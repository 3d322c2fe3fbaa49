"""The report's memory does not grow with the number of models: results are read one model at a
time and each figure's data is let go once it is drawn (tracemalloc on saved synthetic results)."""

from __future__ import annotations

import functools
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench import atomic
from soilbench.report import build_report, plots
from soilbench.results import ConfrontationResult, model_slug, scalar_rows

LAT, LON = np.arange(-89.5, 90, 1.0), np.arange(-179.5, 180, 1.0)  # 1°, as a campaign's models


def _result(model: str, seed: int) -> ConfrontationResult:
    rng = np.random.default_rng(seed)
    land = np.where(np.abs(LAT)[:, None] < 70, 1.0, np.nan) * np.ones(LON.size)

    def field(values, **attrs):
        return xr.DataArray(values * land, coords={"lat": LAT, "lon": LON}, dims=("lat", "lon"),
                            attrs={"plot": "map", "units": "g m-2 yr-1", **attrs})

    model_map = rng.gamma(4.0, 100.0, land.shape)
    reference = np.full(land.shape, 400.0)
    fields = xr.Dataset({
        "mean_model": field(model_map, role="model", colormap="sequential", long_name="Rh"),
        "mean_reference": field(reference, role="reference", colormap="sequential", long_name="Rh reference"),
        "difference": field(model_map - reference, role="difference", colormap="diverging", long_name="bias"),
        "bias_score": field(rng.uniform(0, 1, land.shape), role="model", colormap="sequential", units="1",
                            long_name="bias score", vmin=0.0, vmax=1.0),
        "zonal_model": xr.DataArray(np.nanmean(model_map * land, axis=1)[::10], dims=("lat_band",),
                                    coords={"lat_band": LAT[::10]},
                                    attrs={"plot": "zonal", "role": "model", "units": "g m-2 yr-1"}),
    })
    rows = [{"region": "global", "analysis": "overall", "name": "overall score", "type": "score", "units": "1",
             "value": float(rng.uniform())}]
    bars = pd.DataFrame([{"label": model, "role": "model", "value": 50.0 + seed, "lower": np.nan, "upper": np.nan,
                          "units": "Pg yr-1"}])
    return ConfrontationResult(scalar_rows(rows, model=model, confrontation="rh-maps", reference="ref"), fields,
                               {"totals": bars}, {"totals": {"plot": "bars", "title": "Totals"}})


def _saved_run(out: Path, n_models: int) -> Path:
    models = [f"model-{i:03d}" for i in range(n_models)]
    results = []
    for i, model in enumerate(models):
        directory = f"rh-maps/{model_slug(model)}"
        _result(model, i).save(out / directory, {"model": model, "confrontation": "rh-maps", "kind": "taylor",
                                                 "group": "Rh", "weight": 1.0, "references": ["ref"]})
        results.append({"confrontation": "rh-maps", "model": model, "directory": directory, "status": "ok"})
    atomic.write_text(out / "run.json", json.dumps({"models": [{"name": m} for m in models], "results": results,
                                                    "config": {"name": "memory"}}))
    return out


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _cheap_map(field, title, limits=None, projection="robinson", edges=None):
    """Stands in for the map drawing (its cost is not what is measured here); reads its data."""
    return PNG + np.asarray(field.values).tobytes()[:8]


def _cheap_figure(*args, **kwargs):
    return PNG


def _report_peak_bytes(results: Path, site: Path) -> int:
    tracemalloc.start()
    try:
        build_report(results, site, progress=False, workers=1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def cheap_drawing(monkeypatch):
    monkeypatch.setattr(plots, "map_figure", _cheap_map)
    monkeypatch.setattr(plots, "profile_figure", _cheap_figure)
    monkeypatch.setattr(plots, "bars_figure", _cheap_figure, raising=False)


def test_the_reports_memory_does_not_grow_with_the_models(tmp_path, cheap_drawing):
    small, large = _saved_run(tmp_path / "small", 3), _saved_run(tmp_path / "large", 15)
    _report_peak_bytes(small, tmp_path / "warm")  # imports and caches outside the measurement
    one_model = sum(var.nbytes for var in xr.load_dataset(small / "rh-maps" / model_slug("model-000") / "fields.nc")
                    .data_vars.values())
    grown = _report_peak_bytes(large, tmp_path / "site-large") - _report_peak_bytes(small, tmp_path / "site-small")
    # 12 more models: holding their results (as the report did) grows the peak by ~12 models' fields;
    # what is left per model is the finite values of the one map whose colour limits are shared
    assert grown < 0.25 * 12 * one_model, f"{grown / 2**20:.1f} MiB more for 12 more models"
    pages = (tmp_path / "site-large" / "c" / "rh-maps" / "index.html").read_text()
    assert all(f"model-{i:03d}" in pages for i in range(15))


@pytest.mark.parametrize("attrs", [{"colormap": "sequential"}, {"colormap": "diverging"},
                                   {"colormap": "diverging", "role": "ratio"}])
def test_shared_limits_found_model_by_model_equal_those_of_all_values_at_once(attrs):
    from soilbench.report.limits import SharedLimits

    rng = np.random.default_rng(7)
    for trial in range(12):
        maps = []
        for _ in range(int(rng.integers(1, 6))):
            values = rng.normal(rng.uniform(-5, 5), rng.uniform(0.01, 100), (int(rng.integers(1, 30)), 20))
            values = np.exp(values / 50) if attrs.get("role") == "ratio" else values
            values[rng.uniform(size=values.shape) < 0.3] = np.nan
            if trial % 4 == 0:
                values[np.isfinite(values)] = 3.0  # a constant map: every value in one bin
            maps.append(xr.Dataset({"v": xr.DataArray(values, dims=("lat", "lon"), attrs={"plot": "map", **attrs})}))
        shared = SharedLimits()
        for fields in maps:
            shared.count(fields)
        for fields in maps:
            shared.keep(fields)
        np.testing.assert_allclose(shared.limits()["v"], plots.map_limits([f["v"] for f in maps]), rtol=1e-12)
