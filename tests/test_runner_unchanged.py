"""The runner's performance work changed how models are read, not what comes out.

``tests/data/synthetic_demo_scalars.csv`` holds every scalar of the default benchmark on the
synthetic world (seed 20240501). It was first written by the runner as it was before models were
kept lazy, loaded per quantity and run model by model, and is rewritten only by a change that
moves scores on purpose (the commit says which and why). A run now, in this process and on a
two-worker cluster, must reproduce it to ~1e-6 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from soilbench.config import load_benchmark
from soilbench.data import use_registry
from soilbench.runner import RunOptions, run_benchmark
from soilbench.runner.models import ModelSpec
from soilbench.synthetic import generate_world

CONFIG = Path(__file__).parents[1] / "confrontations" / "default.yaml"
BEFORE = Path(__file__).parent / "data" / "synthetic_demo_scalars.csv"
KEYS = ["model", "confrontation", "reference", "region", "analysis", "name"]


def _scalars(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return table.sort_values(KEYS).reset_index(drop=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return generate_world(tmp_path_factory.mktemp("world"))


@pytest.mark.parametrize("workers", [0, 2])
def test_scalars_of_the_synthetic_benchmark_are_unchanged(world, tmp_path, workers):
    out = tmp_path / "out"
    with use_registry(world.registry):
        benchmark = load_benchmark(CONFIG)
        models = [ModelSpec(name=name, paths=(str(path),)) for name, path in world.models.items()]
        summary = run_benchmark(benchmark, models, RunOptions(
            out=out, workers=workers, data_dir=str(world.root), registry=str(world.registry), synthetic=True,
            progress=False, report=False))
    assert summary.ok
    before, now = _scalars(BEFORE), _scalars(out / "scalars.csv")
    # confrontations added to the benchmark since the file was written have nothing to compare with
    now = now[now["confrontation"].isin(set(before["confrontation"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(before[KEYS + ["type", "units"]], now[KEYS + ["type", "units"]])
    np.testing.assert_allclose(now["value"].to_numpy(float), before["value"].to_numpy(float), rtol=1e-6, atol=1e-12,
                               equal_nan=True)
