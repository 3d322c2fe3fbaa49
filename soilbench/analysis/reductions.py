"""Per-model reductions: the small arrays every confrontation derives its numbers from.

A model field (time × lat × lon, hundreds of MB) is read once per run and reduced, chunk by
chunk (about a year of steps per chunk), to a few small arrays; the confrontations then work on
those (``docs/performance.md``, "One pass per model"). Every function here is lazy on a
dask-backed input, and each output only depends on the chunks of its own year or step, so that
computing all of them together in one ``dask.compute`` streams through the field without
holding it:

- :func:`annual_step_sums` — Σ value · step length per calendar year and cell (float64);
  period means, annual means and annual totals all derive from it exactly;
- :func:`valid_cells` — cells with a value at some step;
- :func:`series_at_cells` — the full time series at a few cells (sites);
- :func:`global_step_totals` — Σ value · area over land per step (NaN cells skipped).

The derivations (:func:`period_mean_from_sums`, :func:`annual_mean_from_sums`,
:func:`annual_total_from_sums`) equal :func:`soilbench.analysis.integrate.period_mean`,
:func:`soilbench.analysis.annual.annual_mean` and :func:`soilbench.analysis.annual.annual_total`
up to floating-point rounding (same sums, in another order).
"""

from __future__ import annotations

import hashlib

import numpy as np
import xarray as xr

from soilbench.analysis.integrate import area_sum
from soilbench.units import DAYS_PER_YEAR, total_units

#: the dimension of the per-year reductions
YEAR_DIM = "year"


def annual_step_sums(da: xr.DataArray) -> xr.Dataset:
    """Σ ``da`` · ``step_days`` over each calendar year, per cell, and each year's days.

    One sum per year over that year's steps (``isel``, not a group-by), so each output only
    needs the chunk(s) holding its year: with year-long chunks the reduction is blockwise and
    its float64 temporaries are one chunk, never the whole field. A cell with a NaN step in a
    year gets NaN for that year (``skipna=False``, as :func:`soilbench.analysis.annual.annual_total`).

    Parameters
    ----------
    da
        Canonical variable with a ``time`` dimension and a ``step_days`` coordinate.

    Returns
    -------
    xarray.Dataset
        ``value_days`` (year, lat, lon; units of ``da`` × day, float64) and ``days``
        (year; the days the year's steps cover). ``value_days.attrs`` are ``da``'s.
    """
    years = da["time"].dt.year.values
    step_days = np.asarray(da["step_days"].values, dtype="float64")
    plain = da.drop_vars("step_days").transpose("time", ...)
    unique, first = np.unique(years, return_index=True)
    days = np.array([step_days[years == year].sum() for year in unique])
    data = plain.data
    if hasattr(data, "dask") and _whole_years_per_chunk(years, data.chunks[0]):
        summed = _sums_per_chunk(data, years, step_days)
    else:
        summed = _sums_per_year(data, years, unique, step_days)
    other_dims = plain.dims[1:]
    coords = {YEAR_DIM: unique, **{d: plain[d] for d in other_dims if d in plain.coords}}
    value_days = xr.DataArray(summed, dims=(YEAR_DIM, *other_dims), coords=coords, name=da.name,
                              attrs=dict(da.attrs))
    return xr.Dataset({"value_days": value_days, "days": xr.DataArray(days, dims=YEAR_DIM,
                                                                         coords={YEAR_DIM: unique})})


# Built on the (dask) array itself: wrapping 40 years × 3 operations in xarray objects cost more CPU
# than reading the field, and every confrontation that asks builds it (the runner dedups after).
def _whole_years_per_chunk(years: np.ndarray, chunks: tuple[int, ...]) -> bool:
    """Each time chunk holds whole calendar years, in order (the loader chunks by about a year)."""
    if np.any(np.diff(years) < 0):
        return False
    starts = np.cumsum((0,) + tuple(chunks))[:-1]
    return all(start == 0 or years[start] != years[start - 1] for start in starts)


def _year_sums(block: np.ndarray, years: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ block · weights over the steps of each year in the block, years in order (float64)."""
    shape = (-1,) + (1,) * (block.ndim - 1)
    return np.stack([(block[years == year] * weights[years == year].reshape(shape)).sum(axis=0)
                     for year in np.unique(years)])


def _sums_per_chunk(data, years: np.ndarray, step_days: np.ndarray):
    """One blockwise task per chunk of whole years: a single graph layer, however many years."""
    import dask.array

    bounds = np.cumsum((0,) + tuple(data.chunks[0]))
    out_chunks = (tuple(len(np.unique(years[a:b])) for a, b in zip(bounds[:-1], bounds[1:])),) + data.chunks[1:]

    def block_sums(block, block_info=None):
        start, stop = block_info[0]["array-location"][0]
        return _year_sums(block, years[start:stop], step_days[start:stop])

    return dask.array.map_blocks(block_sums, data, chunks=out_chunks, dtype="float64",
                                 name=f"annual-step-sums-{dask.base.tokenize(data, years, step_days)}")


def _sums_per_year(data, years: np.ndarray, unique: np.ndarray, step_days: np.ndarray):
    """A year's steps anywhere in the array (NumPy data or chunks across years): one sum per year."""
    stack = np.stack
    if hasattr(data, "dask"):
        import dask.array

        stack = dask.array.stack
    shape = (-1,) + (1,) * (data.ndim - 1)
    sums = []
    for year in unique:
        index = np.flatnonzero(years == year)
        contiguous = index[-1] - index[0] + 1 == index.size
        part = data[index[0]:index[-1] + 1] if contiguous else data[index]
        # float64 for one year of steps only (the field may be float32); a NaN step gives NaN
        sums.append((part * step_days[index].reshape(shape)).sum(axis=0))
    return stack(sums)


def period_mean_from_sums(sums: xr.Dataset, name: str | None = None) -> xr.DataArray:
    """Step-length-weighted mean over every year of ``sums`` (:func:`annual_step_sums`)."""
    mean = sums["value_days"].sum(YEAR_DIM, skipna=False) / float(sums["days"].sum())
    mean.attrs = dict(sums["value_days"].attrs)
    return mean.rename(name or sums["value_days"].name)


def annual_mean_from_sums(sums: xr.Dataset, name: str | None = None) -> xr.DataArray:
    """Mean rate per calendar year (year, lat, lon), as :func:`soilbench.analysis.annual.annual_mean`."""
    mean = sums["value_days"] / sums["days"]
    mean.attrs = dict(sums["value_days"].attrs)
    return mean.rename(name or sums["value_days"].name)


def annual_total_from_sums(sums: xr.Dataset, name: str | None = None) -> xr.DataArray:
    """Amount of a flux per calendar year (g m-2 from g m-2 yr-1), as :func:`soilbench.analysis.annual.annual_total`."""
    total = sums["value_days"] / DAYS_PER_YEAR
    total.attrs = {**sums["value_days"].attrs, "units": total_units(sums["value_days"].attrs.get("units", ""))}
    return total.rename(name or sums["value_days"].name)


def valid_cells(da: xr.DataArray) -> xr.DataArray:
    """Cells (lat, lon) where ``da`` has a value at some time step (every cell with a value when no time)."""
    valid = da.notnull()
    return valid.any("time") if "time" in valid.dims else valid


def cells_key(ilat: np.ndarray, ilon: np.ndarray) -> str:
    """A short, stable name for a set of grid-cell indices (part of a reduction's key)."""
    pairs = np.column_stack([np.asarray(ilat, "int64"), np.asarray(ilon, "int64")])
    return hashlib.sha256(pairs.tobytes()).hexdigest()[:16]


def series_at_cells(da: xr.DataArray, ilat: np.ndarray, ilon: np.ndarray) -> xr.DataArray:
    """``da`` at the cells ``(ilat[k], ilon[k])`` (vectorised point extraction): dims ``(time, cell)``.

    Keeps ``time``, ``step_days`` and ``da.attrs``, and records each column's indices as the
    coordinates ``ilat(cell)`` and ``ilon(cell)``, so :mod:`soilbench.analysis.sites` can use it
    in place of the gridded field (see ``sites._values_at_cells``).
    """
    ilat = np.asarray(ilat, "int64")
    ilon = np.asarray(ilon, "int64")
    picked = da.isel(lat=xr.DataArray(ilat, dims="cell"), lon=xr.DataArray(ilon, dims="cell"))
    picked = picked.drop_vars([c for c in ("lat", "lon") if c in picked.coords])
    picked = picked.assign_coords(ilat=("cell", ilat), ilon=("cell", ilon))
    if "time" in picked.dims:
        picked = picked.transpose("time", "cell")
    picked.attrs = dict(da.attrs)
    return picked


def global_step_totals(da: xr.DataArray, area_m2: xr.DataArray) -> xr.DataArray:
    """Σ ``da`` · ``area_m2`` over lat and lon per time step (units of ``da`` × m²), by the one
    rule of land totals (:func:`soilbench.analysis.integrate.area_sum`: NaN cells add nothing, a
    step without any value is NaN)."""
    total = area_sum(da, area_m2)
    total.attrs = {"units": f"({da.attrs.get('units', '')}) m2"}
    return total
