"""One pass per model: every confrontation's reductions come from a single read of the model.

The default benchmark has seven confrontations reading a model's ``rh`` (global totals of rh and
of rs derived from it, zonal means, Taylor, SRDB annual for rh and rs, daily Rh, turnover with
its 2-box series). The runner computes their reductions together, so each model file's ``rh``
must be read from disk exactly once in a run, plus its first time step for the load checks:
the test counts the values the netCDF backend returns per (file, variable). Holding the field, re-reading it per confrontation, or a site
confrontation falling back to the field would each read it more than once.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from xarray.backends import netCDF4_

from soilbench.config import load_benchmark
from soilbench.data import use_registry
from soilbench.runner import RunOptions, run_benchmark
from soilbench.runner.models import ModelSpec
from soilbench.synthetic import generate_world

CONFIG = Path(__file__).parents[1] / "confrontations" / "default.yaml"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return generate_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def values_read(monkeypatch):
    """Values returned by the netCDF4 backend per (file name, variable), for this test."""
    counts: collections.Counter = collections.Counter()
    original = netCDF4_.NetCDF4ArrayWrapper._getitem

    def counting(self, key):
        out = original(self, key)
        counts[(Path(self.datastore._filename).name, self.variable_name)] += int(np.size(out))
        return out

    monkeypatch.setattr(netCDF4_.NetCDF4ArrayWrapper, "_getitem", counting)
    return counts


def test_each_model_rh_is_read_once_for_all_confrontations(world, tmp_path, values_read):
    with use_registry(world.registry):
        benchmark = load_benchmark(CONFIG)
        models = [ModelSpec(name=name, paths=(str(path),)) for name, path in world.models.items()]
        summary = run_benchmark(benchmark, models, RunOptions(
            out=tmp_path / "out", workers=0, data_dir=str(world.root), registry=str(world.registry), synthetic=True,
            progress=False, report=False))
    assert summary.ok
    readers = {row["confrontation"] for row in summary.rows if row["status"] == "ok" and row["model"] != "references"}
    assert len(readers) >= 6  # several confrontations used every model's rh
    for name, path in world.models.items():
        with xr.open_dataset(path) as ds:
            size = int(ds["rh"].size)
            first_step = int(ds["rh"].isel(time=0).size)  # read once more by the load checks (docs/loading.md)
        read = values_read[(Path(path).name, "rh")]
        assert read == size + first_step, f"{name}: rh read {read / size:g} times"
