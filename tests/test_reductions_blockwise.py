"""annual_step_sums built on the dask array: the same sums as per-year xarray arithmetic, and a
graph that does not grow with the number of years when chunks hold whole years."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.analysis.reductions import annual_step_sums


def _field(years: int, seed: int = 0) -> xr.DataArray:
    time = pd.date_range("2001-01-01", periods=12 * years, freq="MS")
    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 100.0, (time.size, 4, 5)).astype("float32")
    values[5, 1, 2] = np.nan  # a missing step makes its year NaN for that cell
    step_days = np.asarray(time.days_in_month, dtype="float64")
    return xr.DataArray(values, dims=("time", "lat", "lon"),
                        coords={"time": time, "lat": np.arange(4.0), "lon": np.arange(5.0),
                                "step_days": ("time", step_days)}, name="rh", attrs={"units": "g m-2 yr-1"})


def _expected(da: xr.DataArray) -> np.ndarray:
    """Per year, Σ value · step_days with xarray (the definition)."""
    years = da["time"].dt.year.values
    plain = da.drop_vars("step_days")
    weights = da["step_days"].values
    return np.stack([(plain.isel(time=years == y) * xr.DataArray(weights[years == y], dims="time"))
                     .sum("time", skipna=False).values for y in np.unique(years)])


@pytest.mark.parametrize("chunks", [None, 12, 24, 7], ids=["numpy", "one-year", "two-years", "across-years"])
def test_same_sums_whatever_the_chunks(chunks):
    da = _field(3)
    data = da if chunks is None else da.chunk(time=chunks)
    sums = annual_step_sums(data).compute()
    np.testing.assert_array_equal(sums["value_days"].values, _expected(da))
    assert sums["value_days"].dims == ("year", "lat", "lon") and list(sums["year"].values) == [2001, 2002, 2003]
    assert sums["value_days"].dtype == np.float64 and sums["value_days"].attrs == da.attrs
    assert np.isnan(sums["value_days"].values[0, 1, 2]) and np.isfinite(sums["value_days"].values[1, 1, 2])
    np.testing.assert_array_equal(sums["days"].values, [365.0, 365.0, 365.0])


def test_graph_does_not_grow_with_years_when_chunks_hold_whole_years():
    short = annual_step_sums(_field(2).chunk(time=12))["value_days"].data
    long = annual_step_sums(_field(30).chunk(time=12))["value_days"].data
    assert len(long.dask.layers) == len(short.dask.layers)
