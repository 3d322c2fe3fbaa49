"""Soil respiration (Rs) from heterotrophic respiration (Rh) for models that report only Rh.

methods.md offers two conversions when only one of the fluxes is known:

``bl2004``
    Bond-Lamberty et al. (2004): ln(Rh) = 1.22 + 0.73 ln(Rs), fitted to *annual* fluxes in
    g C m-2 yr-1 at 54 sites, so Rs = exp((ln Rh − 1.22) / 0.73). The relation is non-linear,
    which makes it a statement about annual (or period-mean) fluxes only: a time series of
    monthly rates must be averaged first. Applied cell by cell to a global map it extrapolates a
    site regression far beyond its data (CASA-CNP: ≈ 115 Pg C yr-1 against ≈ 85 in the
    literature), so it is kept for comparison, not as the default.
``root_contribution``
    Rh = Rs · (1 − RC) with the root-contribution map RC = Rr/Rs of Jian et al. (2022), so
    Rs = Rh / (1 − RC). RC (0.5°) is conservatively regridded to the model grid
    (:func:`soilbench.analysis.regrid.regrid_field`: the mean of the valid RC cells overlapping a
    model cell, weighted by their area). The relation is linear in Rh, so it applies at every
    time step and a model keeps its time axis.

    Model cells with Rh but without RC (coasts, islands and Antarctica that the RC map leaves
    out) take the RC map's global mean over its own land, weighted by cell area
    (:func:`global_mean_rc`, ≈ 0.42). Leaving them NaN would silently drop their Rh from every
    total; the number of filled cells is recorded in the result's attributes and
    :func:`describe` turns it into a note. RC values outside [0, 1) cannot be a share of Rs
    (division by ≤ 0) and count as missing.

Provenance: the returned ``rs`` carries ``attrs["source"]`` naming the model's rh source and the
relation, and ``attrs["rs_from_rh"]`` the method.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from soilbench.analysis import regrid
from soilbench.analysis.integrate import land_area_m2

#: accepted values of the confrontations' ``rs_from_rh`` option
METHODS = ("none", "bl2004", "root_contribution")
#: the root-contribution dataset's registry id (a reference loaded by ``soilbench.load.load_reference``)
RC_DATASET = "root-contribution"
#: Bond-Lamberty et al. (2004): ln(Rh) = BL2004_INTERCEPT + BL2004_SLOPE · ln(Rs), g C m-2 yr-1
BL2004_INTERCEPT = 1.22
BL2004_SLOPE = 0.73


def rs_from_rh_bl2004(rh_g_m2_yr: xr.DataArray) -> xr.DataArray:
    """Soil respiration from an annual or period-mean Rh map with Bond-Lamberty et al. (2004).

    Parameters
    ----------
    rh_g_m2_yr
        Annual (or period-mean) heterotrophic respiration in g C m-2 yr-1, without a ``time``
        axis of sub-annual steps.

    Returns
    -------
    xr.DataArray
        ``rs`` = exp((ln Rh − 1.22)/0.73); cells with Rh ≤ 0 are NaN, since the relation is fitted
        to positive annual fluxes only.
    """
    positive = rh_g_m2_yr.where(rh_g_m2_yr > 0)
    rs = np.exp((np.log(positive) - BL2004_INTERCEPT) / BL2004_SLOPE)
    rs.attrs = {**rh_g_m2_yr.attrs, "long_name": "soil respiration from rh (Bond-Lamberty et al. 2004)",
                "source": f"{rh_g_m2_yr.attrs.get('source', 'rh')} → ln(Rh) = 1.22 + 0.73 ln(Rs)",
                "rs_from_rh": "bl2004"}
    return rs.rename("rs")


def global_mean_rc(rc: xr.Dataset) -> float:
    """Area-weighted mean RC over the RC product's own valid land (cell area × land fraction)."""
    value = _valid_rc(rc["rc"])
    weight = land_area_m2(rc["cell_area"], rc["land_fraction"]).where(value.notnull(), 0.0)
    total = float(weight.sum())
    if total <= 0:
        raise ValueError("the root-contribution map has no valid cell")
    return float((value.fillna(0.0) * weight).sum() / total)


def _valid_rc(rc: xr.DataArray) -> xr.DataArray:
    """RC where it can be a share of Rs, [0, 1); NaN elsewhere."""
    return rc.where((rc >= 0) & (rc < 1))


def rc_on_grid(rc: xr.Dataset, lat: xr.DataArray, lon: xr.DataArray) -> xr.DataArray:
    """The RC map conservatively regridded to a canonical ``lat``/``lon`` grid (NaN without RC).

    Parameters
    ----------
    rc
        Canonical RC dataset (``soilbench.load.load_reference("root-contribution")``): ``rc``,
        ``cell_area``, ``land_fraction``.
    lat, lon
        The target grid's cell centres (canonical: ascending, degrees).
    """
    from soilbench.geometry import grid_cell_area  # areas of the target grid, from its centres

    source = xr.Dataset({"rc": _valid_rc(rc["rc"]), "cell_area": rc["cell_area"],
                         "land_fraction": rc["land_fraction"]})
    coords = xr.Dataset(coords={"lat": ("lat", np.asarray(lat.values, float)),
                                "lon": ("lon", np.asarray(lon.values, float))})
    target = xr.Dataset({"cell_area": grid_cell_area(coords, "lat", "lon")})
    on_grid = regrid.regrid_field(source, "rc", target)["rc"]
    # same_grid() compares with a tolerance: put the exact target coordinates back so that
    # arithmetic with the model's field aligns every cell
    return on_grid.assign_coords(lat=coords["lat"].values, lon=coords["lon"].values).compute()


def rs_from_rh_root_contribution(rh_g_m2_yr: xr.DataArray, rc: xr.Dataset,
                                 area_m2: xr.DataArray | None = None) -> xr.DataArray:
    """Soil respiration Rs = Rh / (1 − RC) with the RC map on the model grid.

    Parameters
    ----------
    rh_g_m2_yr
        Heterotrophic respiration (lat, lon) or (time, lat, lon) in g C m-2 yr-1; every time
        step is converted (the relation is linear).
    rc
        Canonical RC dataset on any regular grid (see :func:`rc_on_grid`).
    area_m2
        Optional land area per model cell; with it the share of the model's Rh that falls on
        cells without RC is recorded (``rc_filled_rh_share``), which says more than a count.

    Returns
    -------
    xr.DataArray
        ``rs`` with ``rh``'s dimensions and coordinates. Attributes record the source, the
        fallback RC and how many cells with Rh needed it (``rc_filled_cells`` of
        ``rc_cells_with_rh``).
    """
    mapped = rc_on_grid(rc, rh_g_m2_yr["lat"], rh_g_m2_yr["lon"])
    fallback = global_mean_rc(rc)
    has_rh = rh_g_m2_yr.notnull()
    mean_rh = rh_g_m2_yr
    if "time" in has_rh.dims:
        has_rh = has_rh.any("time")
        mean_rh = rh_g_m2_yr.mean("time")
    missing = has_rh & mapped.isnull()
    filled = mapped.fillna(fallback)
    rs = rh_g_m2_yr / (1.0 - filled)
    extra = {}
    if area_m2 is not None:
        flux = (mean_rh.fillna(0.0) * area_m2.fillna(0.0)).drop_vars("step_days", errors="ignore")
        total = float(flux.sum())
        extra["rc_filled_rh_share"] = float(flux.where(missing, 0.0).sum()) / total if total > 0 else float("nan")
    rs.attrs = {
        **rh_g_m2_yr.attrs,
        "long_name": "soil respiration from rh and the root contribution (Rs = Rh / (1 − RC))",
        "source": (f"{rh_g_m2_yr.attrs.get('source', 'rh')} → Rs = Rh / (1 − RC), RC of {RC_DATASET} "
                   f"(Jian et al. 2022) conservatively regridded; RC {fallback:.3f} (its land mean) where missing"),
        "rs_from_rh": "root_contribution",
        "rc_fallback": fallback,
        "rc_filled_cells": int(missing.sum()),
        "rc_cells_with_rh": int(has_rh.sum()),
        **extra,
    }
    return rs.rename("rs")


def rs_from_rh(rh_g_m2_yr: xr.DataArray, method: str, rc: xr.Dataset | None = None,
               area_m2: xr.DataArray | None = None) -> xr.DataArray:
    """Soil respiration derived from heterotrophic respiration with ``method``.

    Parameters
    ----------
    rh_g_m2_yr
        Heterotrophic respiration in g C m-2 yr-1. ``bl2004`` needs an annual or period-mean map
        (no ``time`` axis); ``root_contribution`` takes any time axis.
    method
        ``bl2004`` or ``root_contribution`` (see the module docstring).
    rc
        The canonical root-contribution dataset; required by ``root_contribution``.
    area_m2
        Optional land area per cell (``root_contribution``: records the share of Rh on cells
        without RC).

    Returns
    -------
    xr.DataArray
        ``rs`` in the units of ``rh``, with ``attrs["source"]`` and ``attrs["rs_from_rh"]``.

    Raises
    ------
    ValueError
        For an unknown method, a sub-annual ``time`` axis with ``bl2004``, or no ``rc`` with
        ``root_contribution``.
    """
    if method == "bl2004":
        if "time" in rh_g_m2_yr.dims:
            raise ValueError("bl2004 relates annual fluxes: pass the annual or period-mean rh, not a time series")
        return rs_from_rh_bl2004(rh_g_m2_yr)
    if method == "root_contribution":
        if rc is None:
            raise ValueError("rs_from_rh 'root_contribution' needs the root-contribution map (rc)")
        return rs_from_rh_root_contribution(rh_g_m2_yr, rc, area_m2)
    raise ValueError(f"unknown rs_from_rh method {method!r}; known: bl2004, root_contribution")


def describe(rs: xr.DataArray) -> str:
    """One-line note for a result: how ``rs`` was derived from rh (from its attributes)."""
    attrs: dict[str, Any] = rs.attrs
    method = attrs.get("rs_from_rh")
    if method == "bl2004":
        return ("rs derived from the period-mean rh with ln(Rh) = 1.22 + 0.73 ln(Rs) (Bond-Lamberty et al. 2004); "
                "compared as a climatology")
    if method == "root_contribution":
        filled, cells = int(attrs.get("rc_filled_cells", 0)), int(attrs.get("rc_cells_with_rh", 0))
        rh_share = attrs.get("rc_filled_rh_share")
        flux = f", {rh_share:.2%} of the model's rh," if rh_share is not None and np.isfinite(rh_share) else ""
        return (f"rs derived from rh as Rs = Rh / (1 − RC) with the root-contribution map ({RC_DATASET}, "
                f"Jian et al. 2022) regridded conservatively to the model grid; {filled} of {cells} model cells "
                f"with rh{flux} have no RC and take its land mean {float(attrs.get('rc_fallback', np.nan)):.3f}")
    return f"rs from {attrs.get('source', 'the model')}"
