"""Controlled models: known transformations of a reference field, for the score-validity suite.

Each function takes a canonical dataset (``docs/architecture.md``: a quantity on ``lat``/``lon``,
``cell_area``, ``land_fraction``, optionally ``time`` with ``step_days``) and returns another
with the same variables, transformed in one known way. ``benchmarks/score_validity.py`` writes
them as model files and runs them through ``soilbench run``; a score that cannot tell these
apart from the reference cannot tell a good model from a bad one (``docs/scores.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

from soilbench.analysis.integrate import land_area_m2
from soilbench.geometry import cell_bounds, sphere_cell_area

#: multiplicative bias ladders: each must score strictly lower than the rung before it
LADDER_UP = (1.1, 1.3, 2.0)
LADDER_DOWN = (1 / 1.1, 1 / 1.3, 0.5)


def _fields(ds: xr.Dataset, quantities: Sequence[str]) -> list[str]:
    return [q for q in quantities if q in ds.data_vars]


def scaled(ds: xr.Dataset, quantities: Sequence[str], factor: float) -> xr.Dataset:
    """Every field of ``quantities`` times ``factor`` (a pure bias: pattern and mask unchanged)."""
    out = ds.copy()
    for q in _fields(ds, quantities):
        out[q] = (ds[q] * factor).assign_attrs(ds[q].attrs)
    return out


def zero(ds: xr.Dataset, quantities: Sequence[str]) -> xr.Dataset:
    """0 on every cell where the reference has a value (a model that forgot the flux)."""
    return scaled(ds, quantities, 0.0)


def constant(ds: xr.Dataset, quantities: Sequence[str]) -> xr.Dataset:
    """The land-area-weighted mean of each field on every valid cell: right global total, no pattern."""
    out = ds.copy()
    area = land_area_m2(ds["cell_area"], ds["land_fraction"])
    for q in _fields(ds, quantities):
        field = ds[q]
        weights = area.where(field.notnull(), 0.0)
        mean = (field.fillna(0.0) * weights).sum(("lat", "lon")) / weights.sum(("lat", "lon"))
        out[q] = (xr.zeros_like(field) + mean).where(field.notnull()).assign_attrs(field.attrs)
    return out


def shuffled(ds: xr.Dataset, quantities: Sequence[str], seed: int = 0) -> xr.Dataset:
    """Values permuted among the valid land cells (the same permutation for every field and step).

    The distribution of values and the land mask are kept; the spatial pattern is destroyed.
    """
    out = ds.copy()
    first = ds[_fields(ds, quantities)[0]]
    valid = (first.notnull().any("time") if "time" in first.dims else first.notnull()).values
    cells = np.flatnonzero(valid.ravel())
    permuted = np.random.default_rng(seed).permutation(cells)
    for q in _fields(ds, quantities):
        values = ds[q].values.copy()
        flat = values.reshape(values.shape[:-2] + (-1,))
        flat[..., cells] = flat[..., permuted]
        out[q] = ds[q].copy(data=flat.reshape(values.shape))
    return out


def flipped(ds: xr.Dataset, quantities: Sequence[str]) -> xr.Dataset:
    """The world mirrored north–south: values and land fraction at latitude φ come from −φ."""
    out = ds.copy()
    for name in [*_fields(ds, quantities), "land_fraction"]:
        out[name] = ds[name].copy(data=np.flip(ds[name].values, axis=ds[name].get_axis_num("lat")))
    return out


def smoothed(ds: xr.Dataset, quantities: Sequence[str], cells: int = 5) -> xr.Dataset:
    """A ``cells`` × ``cells`` land-weighted box mean (wrapping in longitude) on the same mask.

    A model with the right large-scale pattern but no small-scale detail.
    """
    out = ds.copy()
    weight = ds["land_fraction"].fillna(0.0)
    for q in _fields(ds, quantities):
        field = ds[q]
        w = weight.where(field.notnull(), 0.0).values.astype("float64")
        numerator = np.nan_to_num(field.values.astype("float64")) * w
        axes = (field.get_axis_num("lat"), field.get_axis_num("lon"))
        size = [1] * field.ndim
        for axis in axes:
            size[axis] = cells
        mode = ["nearest"] * field.ndim
        mode[axes[1]] = "wrap"
        top = ndimage.uniform_filter(numerator, size=size, mode=mode)
        bottom = ndimage.uniform_filter(w, size=size, mode=mode)
        # a window without land has a sum of weights of round-off size, not 0 (the filter's running
        # sums): dividing by it gave cells with a value but no land fraction -545 kg m-2; such a
        # cell keeps its own value (it has no land to be smoothed with, and weighs nothing)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(bottom > 1e-9, top / bottom, field.values)
        out[q] = field.copy(data=np.where(field.notnull().values, value, np.nan))
    return out


def season_shifted(ds: xr.Dataset, quantities: Sequence[str], months: int) -> xr.Dataset:
    """Each field's steps rolled by ``months`` (monthly data): the seasonal cycle ``months`` late."""
    out = ds.copy()
    for q in _fields(ds, quantities):
        if "time" in ds[q].dims:
            out[q] = ds[q].copy(data=np.roll(ds[q].values, months, axis=ds[q].get_axis_num("time")))
    return out


def regular_grid(resolution_deg: float) -> xr.Dataset:
    """A global regular grid (cell centres, spherical ``cell_area`` in m²) of ``resolution_deg``."""
    lat = np.arange(-90 + resolution_deg / 2, 90, resolution_deg)
    lon = np.arange(-180 + resolution_deg / 2, 180, resolution_deg)
    def pairs(edges: np.ndarray) -> np.ndarray:
        return np.column_stack([edges[:-1], edges[1:]])

    area = sphere_cell_area(pairs(cell_bounds(lat, 90.0)), pairs(cell_bounds(lon)))
    return xr.Dataset({"cell_area": (("lat", "lon"), area)}, coords={"lat": lat, "lon": lon})


def coarsened(ds: xr.Dataset, quantities: Sequence[str], resolution_deg: float) -> xr.Dataset:
    """Every field conservatively regridded to a regular ``resolution_deg`` grid, with the land
    fraction the regridding carries (so totals are conserved)."""
    from soilbench.analysis.regrid import regrid_field

    target = regular_grid(resolution_deg)
    out = None
    for q in _fields(ds, quantities):
        one = regrid_field(ds, q, target)
        if out is None:
            out = one
        else:
            out[q] = one[q]
            out["land_fraction"] = np.minimum(out["land_fraction"], one["land_fraction"])
    out["cell_area"].attrs = {"units": "m2"}
    return out


def controlled_models(ds: xr.Dataset, quantities: Sequence[str], coarse_deg: float | None = 2.0,
                      seed: int = 0, pattern_quantities: Sequence[str] | None = None
                      ) -> dict[str, Callable[[], xr.Dataset]]:
    """The controlled models of one reference, by name, as builders (call to get the dataset).

    Names: ``reference``, ``coarsened`` (when ``coarse_deg``), ``x1.1`` … ``x2`` and ``x0.91`` …
    ``x0.5`` (bias ladders), ``smoothed``, ``constant``, ``shuffled``, ``flipped``, ``zero`` and,
    with a monthly time axis, ``season+3`` and ``season+6``.

    Ladders and ``zero`` transform ``quantities``; the pattern models (coarsened, smoothed,
    constant, shuffled, flipped) transform ``pattern_quantities`` (default: the same). For τ =
    csoil / rh the ladders scale the stock, but a null *pattern* of τ needs both fields
    transformed alike: a uniform stock over the right Rh still has Rh's pattern in τ.
    """
    pattern = list(pattern_quantities or quantities)
    builders: dict[str, Callable[[], xr.Dataset]] = {"reference": lambda: ds}
    if coarse_deg:
        builders["coarsened"] = lambda: coarsened(ds, pattern, coarse_deg)
    for factor in LADDER_UP + LADDER_DOWN:
        builders[ladder_name(factor)] = lambda f=factor: scaled(ds, quantities, f)
    builders["smoothed"] = lambda: smoothed(ds, pattern)
    builders["constant"] = lambda: constant(ds, pattern)
    builders["shuffled"] = lambda: shuffled(ds, pattern, seed)
    builders["flipped"] = lambda: flipped(ds, pattern)
    builders["zero"] = lambda: zero(ds, quantities)
    if "time" in ds.dims and ds.sizes["time"] >= 12:
        for months in (3, 6):
            builders[f"season+{months}"] = lambda m=months: season_shifted(ds, pattern, m)
    return builders


def ladder_name(factor: float) -> str:
    """``x1.1``, ``x0.91``: the name of a bias-ladder model."""
    return f"x{factor:.2g}"


def ladders() -> list[list[str]]:
    """The ladders as model names, from the reference outwards."""
    return [["reference"] + [ladder_name(f) for f in LADDER_UP], ["reference"] + [ladder_name(f) for f in LADDER_DOWN]]


def controlled_series(series: pd.Series, seed: int = 0) -> dict[str, pd.Series]:
    """The controlled models of an annual series (e.g. global Rh by year), by name.

    ``reference``; the bias ladders ``x1.1`` … ``x0.5``; ``detrended`` (its own linear trend
    removed, mean kept: the anomalies without the trend); ``constant`` (its mean every year);
    ``shuffled`` (its values in a seeded random order of the years: the level and spread without
    the sequence); ``flipped`` (the values in reverse order: the trend negated); ``zero``.
    """
    from soilbench.analysis import timeseries

    series = timeseries.as_annual_series(series)
    years = series.index
    out = {"reference": series}
    for factor in LADDER_UP + LADDER_DOWN:
        out[ladder_name(factor)] = series * factor
    out["detrended"] = timeseries.detrended(series) + series.mean()
    out["constant"] = pd.Series(float(series.mean()), index=years)
    out["shuffled"] = pd.Series(np.random.default_rng(seed).permutation(series.to_numpy()), index=years)
    out["flipped"] = pd.Series(series.to_numpy()[::-1], index=years)
    out["zero"] = series * 0.0
    return out
