"""Read-once floor: read every model's inputs once and compute one global sum (no soilbench).

For each model directory, every ``<variable>.nc`` named by ``--variables`` is opened with plain
xarray (dask chunks as stored, dask's default threaded scheduler) and reduced to one number:
``Σ value × areacella × sftlf/100`` over all time steps and cells. This is the least work any
benchmark of these files must do — read every value once — and is the denominator of
soilbench's "× floor" ratio in ``run_benchmark.py``. Prints one JSON line with the sums.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import xarray as xr


def global_sum(directory: Path, variable: str, weights: xr.DataArray) -> float:
    """Σ over time and cells of ``variable × weights`` (missing values skipped)."""
    with xr.open_dataset(directory / f"{variable}.nc", chunks={}) as ds:
        return float((ds[variable] * weights).sum().compute())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", type=Path, help="model directories (CMOR files, one per variable)")
    parser.add_argument("--variables", nargs="+", default=["rh"], help="variables to read")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sums: dict[str, dict[str, float]] = {}
    for directory in args.models:
        with xr.open_dataset(directory / "areacella.nc") as a, xr.open_dataset(directory / "sftlf.nc") as f:
            weights = (a["areacella"] * f["sftlf"] / 100.0).load()
        sums[directory.name] = {v: global_sum(directory, v, weights) for v in args.variables}
    print(json.dumps({"seconds": round(time.perf_counter() - started, 3), "sums": sums}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
