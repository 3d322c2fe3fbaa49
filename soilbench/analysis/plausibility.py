"""Is a model plausible for what it is scored on? Pure checks that return flags, never scores.

A score compares a model with a reference; it cannot tell that the model is not a model of the
land surface at all. A file holding one land cell (a 2×2 subsample of a CMIP5 grid) scored 0.30
overall with no warning. These checks flag such models; the confrontations save the flags in
``meta.json["flags"]`` and the report shows them on the scoreboard cell and the page
(``docs/report.md``). Thresholds are deliberately loose: a flag means "look before you trust
this score", not "bad model".

- :func:`land_area_flags`: valid land area far below the reference's (default below 50 %).
- :func:`global_total_flags`: a global total outside a physical range (:data:`PHYSICAL_RANGES`).
- :func:`grid_flags`: cell areas (from the file's cell bounds or ``areacella``) that do not tile
  the space between the cell centres (gaps: a subsample of a finer grid), or a grid covering
  far less than the globe.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from soilbench.analysis.integrate import land_area_m2
from soilbench.geometry import EARTH_RADIUS_M, cell_bounds, sphere_cell_area
from soilbench.results import Flag

#: a model's valid land area below this fraction of a reference's is flagged
MIN_LAND_AREA_RATIO = 0.5
#: cells covering less than this fraction of the area between their centres: a grid with gaps
MIN_TILING_RATIO = 0.9
#: a grid covering less than this fraction of the sphere is flagged as partial
MIN_GLOBE_FRACTION = 0.5
#: global totals outside these ranges are physically implausible for a land model (Pg C yr-1 for
#: fluxes, Pg C for stocks). Rh: 40–70 in data-driven estimates, 30–110 across CMIP/TRENDY models;
#: Rs: 68–101 in 23 estimates; soil carbon: 500–3000 in models, ~1500–2400 in inventories.
#: The bounds are a factor of ~2 beyond those, so only a broken or non-global model falls outside.
PHYSICAL_RANGES: dict[str, tuple[float, float, str]] = {
    "rh": (20.0, 200.0, "Pg C yr-1"),
    "rs": (30.0, 250.0, "Pg C yr-1"),
    "csoil": (200.0, 6000.0, "Pg C"),
}
SPHERE_AREA_M2 = 4.0 * np.pi * EARTH_RADIUS_M**2
#: the Earth's land without Antarctica and Greenland (≈ 149 − 14 − 2 million km²): the area a
#: model of soil respiration should cover, for confrontations whose reference has no area (sites)
ICE_FREE_LAND_M2 = 1.33e14


def _percent(fraction: float) -> str:
    """A share for people: "12.3%", and "less than 0.1%" rather than a misleading "0.0%"."""
    return f"{fraction:.1%}" if fraction >= 0.001 else "less than 0.1%"


def valid_land_area_m2(values: xr.DataArray, cell_area: xr.DataArray, land_fraction: xr.DataArray) -> float:
    """Σ cell area × land fraction over the cells where ``values`` has a value (any time step)."""
    valid = values.notnull()
    if "time" in valid.dims:
        valid = valid.any("time")
    return float(land_area_m2(cell_area, land_fraction).where(valid, 0.0).sum())


def land_area_flags(model_area_m2: float, reference_area_m2: float, reference: str,
                    min_ratio: float = MIN_LAND_AREA_RATIO) -> list[Flag]:
    """A flag when the model's valid land area is below ``min_ratio`` of the reference's."""
    if not (np.isfinite(model_area_m2) and np.isfinite(reference_area_m2)) or reference_area_m2 <= 0:
        return []
    ratio = model_area_m2 / reference_area_m2
    if ratio >= min_ratio:
        return []
    return [Flag("small_land_area", f"valid land area {model_area_m2 / 1e12:.3g} million km² is {_percent(ratio)} of "
                 f"{reference}'s {reference_area_m2 / 1e12:.3g} million km²: the score covers a small part of the land")]


def global_total_flags(quantity: str, total: float) -> list[Flag]:
    """A flag when a global total (Pg C yr-1, or Pg C for stocks) is outside :data:`PHYSICAL_RANGES`."""
    if quantity not in PHYSICAL_RANGES:
        return []
    low, high, units = PHYSICAL_RANGES[quantity]
    if np.isfinite(total) and low <= total <= high:
        return []
    shown = f"{total:.3g} {units}" if np.isfinite(total) else "missing"
    return [Flag("total_out_of_range", f"global {quantity} total {shown} is outside the physical range "
                 f"{low:g}-{high:g} {units}")]


def _implied_areas(cell_area: xr.DataArray) -> np.ndarray | None:
    """Areas (m²) of the cells a grid's centres imply (edges halfway between centres, ends
    mirrored, latitudes clipped at the poles); None for a grid of one row or column."""
    lat = np.asarray(cell_area["lat"].values, float)
    lon = np.asarray(cell_area["lon"].values, float)
    if lat.size < 2 or lon.size < 2:
        return None
    lat_edges = cell_bounds(lat, 90.0)
    lon_edges = cell_bounds(lon)
    return sphere_cell_area(np.column_stack([lat_edges[:-1], lat_edges[1:]]),
                            np.column_stack([lon_edges[:-1], lon_edges[1:]]))


def tiling_ratio(cell_area: xr.DataArray) -> float:
    """Σ cell areas / Σ areas of the cells a grid's centres imply.

    About 1 when the cells tile the space between their centres; well below 1 when the cell
    areas (from the file's bounds or ``areacella``) belong to a finer grid the centres were
    picked from (e.g. every second row and column: 0.25). NaN for a grid of one row or column.
    A file without bounds or areas gets areas from its centres (``soilbench.geometry``), so
    this can only flag what the file states.
    """
    implied = _implied_areas(cell_area)
    if implied is None:
        return float("nan")
    given = np.asarray(cell_area.transpose("lat", "lon").values, float)
    ok = np.isfinite(given)
    return float(given[ok].sum() / implied[ok].sum()) if ok.any() else float("nan")


def grid_flags(cell_area: xr.DataArray, model: str = "the model") -> list[Flag]:
    """Flags for a grid whose cells leave gaps between them, or whose extent (the area between
    its outermost cell centres' implied edges) covers little of the globe."""
    flags = []
    ratio = tiling_ratio(cell_area)
    if np.isfinite(ratio) and ratio < MIN_TILING_RATIO:
        flags.append(Flag("grid_gaps", f"{model}'s cells cover {ratio:.0%} of the area between their centres: "
                          "the grid looks like a subsample of a finer grid (cell bounds leave gaps)"))
    implied = _implied_areas(cell_area)
    extent = float(cell_area.sum()) if implied is None else float(implied.sum())
    covered = extent / SPHERE_AREA_M2
    if covered < MIN_GLOBE_FRACTION:
        flags.append(Flag("partial_grid", f"{model}'s grid covers {_percent(covered)} of the globe"))
    return flags
