"""Coastlines for maps without network access.

cartopy's ``ax.coastlines()`` downloads Natural Earth shapefiles on first use, which fails (or
hangs) offline. soilbench ships its own 1:110m coastlines instead, derived once from the Natural
Earth "lowres" countries shapefile that pyogrio ships as test data (Natural Earth is public
domain): the boundary of the union of all land polygons, without the artificial edges along the
antimeridian and the South Pole. The derived file is small JSON inside the package, so maps never
touch cartopy's downloader.

Regenerate it with ``python -m soilbench.report.coastlines``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import shapely

RESOURCE = Path(__file__).resolve().parent / "resources" / "coastlines_110m.json"
ATTRIBUTION = "Coastlines: Natural Earth 1:110m (public domain), via pyogrio's naturalearth_lowres"


def _is_artificial(a: np.ndarray, b: np.ndarray) -> bool:
    """An edge along the antimeridian or the pole: an artefact of cutting the globe, not a coast."""
    on_meridian = abs(a[0]) >= 179.999 and abs(b[0]) >= 179.999
    at_pole = a[1] <= -89.99 and b[1] <= -89.99
    return on_meridian or at_pole


def land(source: str | Path) -> shapely.Geometry:
    """The union of all polygons of a Natural Earth countries shapefile (the land)."""
    from pyogrio import raw  # only needed to derive files from the shapefile, never to draw a map

    _, _, wkb, _ = raw.read(str(source))
    return shapely.union_all(shapely.from_wkb(wkb))


def derive(source: str | Path) -> list[list[list[float]]]:
    """Coastline polylines (lists of ``[lon, lat]``) from a Natural Earth countries shapefile."""
    boundary = land(source).boundary
    lines: list[list[list[float]]] = []
    for line in getattr(boundary, "geoms", [boundary]):
        coords = np.asarray(line.coords)
        current: list[list[float]] = []
        for a, b in zip(coords[:-1], coords[1:]):
            if _is_artificial(a, b):
                if len(current) > 1:
                    lines.append(current)
                current = []
                continue
            if not current:
                current.append([round(float(a[0]), 3), round(float(a[1]), 3)])
            current.append([round(float(b[0]), 3), round(float(b[1]), 3)])
        if len(current) > 1:
            lines.append(current)
    return lines


def pyogrio_naturalearth() -> Path:
    """Path of the naturalearth_lowres shapefile shipped in pyogrio's test fixtures."""
    import pyogrio

    return Path(pyogrio.__file__).parent / "tests" / "fixtures" / "naturalearth_lowres" / "naturalearth_lowres.shp"


@functools.lru_cache(maxsize=1)
def coastlines() -> shapely.MultiLineString:
    """The shipped coastlines as one MultiLineString in lon/lat degrees (PlateCarree)."""
    document = json.loads(RESOURCE.read_text(encoding="utf-8"))
    return shapely.MultiLineString(document["lines"])


def write_resource(source: str | Path | None = None, destination: Path = RESOURCE) -> Path:
    """(Re)create the shipped coastline file from a Natural Earth countries shapefile."""
    from soilbench import atomic

    lines = derive(source or pyogrio_naturalearth())
    document = {"attribution": ATTRIBUTION, "lines": lines}
    return atomic.write_text(destination, json.dumps(document, separators=(",", ":")))


if __name__ == "__main__":
    print(write_resource())
