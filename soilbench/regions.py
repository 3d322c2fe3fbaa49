"""Regions shared by every confrontation: the globe, latitude bands and Köppen climate groups.

Climate groups follow methods.md §4 (Jian et al. 2021): A Tropic; B Arid; Cf+Cw Temperate;
Cs Mediterranean; Df+Ds+Dw Boreal; E Arctic. Region names are the ones used in the scalar
table's ``region`` column.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.errors import SoilbenchError

GLOBAL = "global"

#: region name → display label, in display order
CLIMATE_GROUPS: dict[str, str] = {
    "koppen_A": "Tropic (A)",
    "koppen_B": "Arid (B)",
    "koppen_Cfw": "Temperate (Cf, Cw)",
    "koppen_Cs": "Mediterranean (Cs)",
    "koppen_D": "Boreal (Df, Ds, Dw)",
    "koppen_E": "Arctic (E)",
}
GROUP_CODES: dict[str, int] = {name: i for i, name in enumerate(CLIMATE_GROUPS)}


def climate_group(koppen_class: str) -> str | None:
    """Climate-group region name of a Köppen–Geiger class code (``"Dfb"`` → ``"koppen_D"``).

    Returns None for codes that are not Köppen classes (ocean, missing, blank).
    """
    code = str(koppen_class).strip()
    if not code or code[0] not in "ABCDE":
        return None
    first = code[0]
    if first == "C":
        if len(code) < 2 or code[1] not in "fsw":
            return None
        return "koppen_Cs" if code[1] == "s" else "koppen_Cfw"
    return f"koppen_{first}"


def latitude_bands(width_deg: float = 30.0) -> list[tuple[str, float, float]]:
    """Latitude bands from the South Pole northwards as ``(region name, south, north)``."""
    edges = np.arange(-90.0, 90.0 + width_deg / 2, width_deg)
    return [(f"lat_{lo:g}_{hi:g}", float(lo), float(hi)) for lo, hi in zip(edges[:-1], edges[1:])]


def koppen_classes_from_table(table: pd.DataFrame, source: str | Path = "Köppen table") -> xr.DataArray:
    """Grid a Köppen table (columns ``Latitude, Longitude, ClimateTypes``) on its own 0.5° grid."""
    needed = {"Latitude", "Longitude", "ClimateTypes"}
    missing = needed - set(table.columns)
    if missing:
        raise SoilbenchError(source, f"missing column(s) {sorted(missing)}; found {list(table.columns)}")
    frame = table.drop_duplicates(["Latitude", "Longitude"]).set_index(["Latitude", "Longitude"])
    classes = frame["ClimateTypes"].astype(str).to_xarray().rename(Latitude="lat", Longitude="lon")
    classes = classes.sortby("lat").sortby("lon")
    return classes.fillna("").rename("koppen_class")


def load_koppen_classes(data_dir: str | Path | None = None, dataset_id: str = "koppen") -> xr.DataArray:
    """A registered Köppen–Geiger class map (default registry id ``koppen``) as a lat×lon array of codes.

    Cached per file: the gridded and both site confrontations of a run read the same 260,000-row
    table, and parsing it costs more than everything else they do with it. Callers must not
    modify the returned array in place.
    """
    from soilbench.data import fetch  # local import: keep `import soilbench.regions` free of I/O deps

    return koppen_classes_from_file(fetch(dataset_id, data_dir=data_dir))


def koppen_classes_from_file(path: str | Path) -> xr.DataArray:
    """The class grid of a Köppen table file (cached per file; do not modify the result in place)."""
    return _koppen_classes_of_file(str(path))


@functools.lru_cache(maxsize=4)
def _koppen_classes_of_file(path: str) -> xr.DataArray:
    return koppen_classes_from_table(pd.read_csv(path, keep_default_na=False), path)


def climate_group_codes(classes: xr.DataArray) -> xr.DataArray:
    """Integer code of the climate group per cell (−1 where none); see :data:`GROUP_CODES`."""
    lookup = {c: GROUP_CODES.get(climate_group(c) or "", -1) for c in np.unique(classes.values)}
    codes = np.vectorize(lambda c: lookup[c], otypes=[np.int8])(classes.values)
    out = xr.DataArray(codes, coords=classes.coords, dims=classes.dims, name="climate_group")
    out.attrs["categories"] = ";".join(f"{i}:{CLIMATE_GROUPS[n]}" for n, i in GROUP_CODES.items())
    return out


def climate_groups_on_grid(classes: xr.DataArray, lat: xr.DataArray, lon: xr.DataArray) -> xr.DataArray:
    """Climate-group codes sampled at the centres of another grid (nearest Köppen cell).

    Nearest-neighbour is what a categorical map allows; on a coarser model grid this takes
    the class at the cell centre, as ILAMB does for its regions.
    """
    codes = climate_group_codes(classes)
    sampled = codes.sel(lat=lat, lon=lon, method="nearest")
    return sampled.assign_coords(lat=lat.values, lon=lon.values)


def region_masks(lat: xr.DataArray, lon: xr.DataArray, group_codes: xr.DataArray | None = None,
                 band_width_deg: float = 30.0) -> dict[str, xr.DataArray]:
    """Boolean lat×lon masks for every region: global, latitude bands and (if given) climate groups."""
    lat2, lon2 = xr.broadcast(lat, lon)
    masks = {GLOBAL: xr.ones_like(lat2, dtype=bool)}
    for name, south, north in latitude_bands(band_width_deg):
        upper = lat2 <= north if north >= 90 else lat2 < north
        masks[name] = (lat2 >= south) & upper
    if group_codes is not None:
        for name, code in GROUP_CODES.items():
            masks[name] = group_codes == code
    return masks
