"""Natural Earth shapefiles for ILAMB's maps without network access.

ILAMB 2.x draws every map over cartopy's Natural Earth ``physical/land`` and ``physical/ocean``
(1:110m) polygons, which cartopy downloads on first use. Offline that download fails, and
because ``ilamb-run`` computes the overall score in the same try-block as the plots, a failed
download silently drops the scores from ``scores.csv``.

soilbench already ships offline coastlines for its own report
(:mod:`soilbench.report.coastlines`), derived from the Natural Earth "lowres" countries
shapefile that pyogrio installs as test data. This module reuses that source: land is the union
of the country polygons, ocean is the globe minus land, and the coastline file is the report's
own polylines. They are written once as shapefiles in cartopy's directory layout
(``shapefiles/natural_earth/physical/ne_110m_<name>.shp``) and cartopy is pointed at them through
``cartopy.config["pre_existing_data_dir"]`` — only when cartopy has no such files already, so a
user's real Natural Earth data always wins.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import shapely

log = logging.getLogger(__name__)

CACHE_ENV = "SOILBENCH_NATURAL_EARTH_DIR"
RESOLUTION = "110m"
#: the Natural Earth physical layers ILAMB 2.7 (and cartopy's ``ax.coastlines()``) ask for
LAYERS = ("land", "ocean", "coastline")


def layer_path(root: Path, name: str) -> Path:
    """Where cartopy looks for a Natural Earth physical layer below ``root``."""
    return root / "shapefiles" / "natural_earth" / "physical" / f"ne_{RESOLUTION}_{name}.shp"


def cartopy_has_layers() -> bool:
    """True when cartopy already finds every layer without downloading."""
    import cartopy

    roots = [Path(cartopy.config["pre_existing_data_dir"]), Path(cartopy.config["data_dir"])]
    return all(any(layer_path(root, name).exists() for root in roots) for name in LAYERS)


def default_directory() -> Path:
    """``$SOILBENCH_NATURAL_EARTH_DIR``, else soilbench's user cache (``…/soilbench/natural_earth``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    import pooch

    return Path(pooch.os_cache("soilbench")) / "natural_earth"


def _land() -> shapely.MultiPolygon:
    from soilbench.report.coastlines import land, pyogrio_naturalearth

    polygons = land(pyogrio_naturalearth())
    return polygons if isinstance(polygons, shapely.MultiPolygon) else shapely.MultiPolygon([polygons])


def _polygon_rings(geometry) -> list[list[list[tuple[float, float]]]]:
    """Shapefile rings per polygon: exterior clockwise, holes counter-clockwise (ESRI order)."""
    polygons = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        polygon = shapely.geometry.polygon.orient(polygon, sign=-1.0)
        polygons.append([list(polygon.exterior.coords)] + [list(ring.coords) for ring in polygon.interiors])
    return polygons


def _write_polygons(path: Path, geometry, label: str) -> None:
    import shapefile  # pyshp, a cartopy dependency

    with shapefile.Writer(str(path.with_suffix("")), shapeType=shapefile.POLYGON) as writer:
        writer.field("featurecla", "C", size=16)
        for rings in _polygon_rings(geometry):
            writer.poly(rings)
            writer.record(label)


def _write_lines(path: Path, lines: shapely.MultiLineString) -> None:
    import shapefile

    with shapefile.Writer(str(path.with_suffix("")), shapeType=shapefile.POLYLINE) as writer:
        writer.field("featurecla", "C", size=16)
        for line in lines.geoms:
            writer.line([list(line.coords)])
            writer.record("Coastline")


def write_layers(directory: Path) -> Path:
    """Write land, ocean and coastline shapefiles under ``directory`` (atomically, race-safe).

    Several ``ilamb-run`` MPI ranks may call this at once: each writes into its own temporary
    directory and renames it into place; the first rename wins.
    """
    from soilbench.report.coastlines import coastlines

    directory = Path(directory)
    target = directory / "shapefiles"
    if all(layer_path(directory, name).exists() for name in LAYERS):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ne-", dir=directory))
    try:
        land = _land()
        physical = layer_path(staging, "land").parent
        physical.mkdir(parents=True)
        _write_polygons(layer_path(staging, "land"), land, "Land")
        _write_polygons(layer_path(staging, "ocean"), shapely.box(-180, -90, 180, 90).difference(land), "Ocean")
        _write_lines(layer_path(staging, "coastline"), coastlines())
        try:
            os.rename(staging / "shapefiles", target)
        except OSError:
            if not all(layer_path(directory, name).exists() for name in LAYERS):
                raise  # not another process's finished copy: a real failure
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def use_offline_natural_earth(directory: str | Path | None = None) -> Path | None:
    """Make cartopy find Natural Earth 1:110m land/ocean/coastline without network.

    Returns the directory cartopy now reads, or None when cartopy already had the files (then
    nothing is changed). Failing to build the files only logs a warning: ILAMB then behaves as it
    would without soilbench.
    """
    import cartopy

    if cartopy_has_layers():
        return None
    directory = Path(directory) if directory is not None else default_directory()
    try:
        write_layers(directory)
    except Exception as err:  # noqa: BLE001 — any failure here must not stop an ILAMB run
        log.warning("soilbench: cannot provide offline Natural Earth shapefiles (%s); cartopy will try to download", err)
        return None
    cartopy.config["pre_existing_data_dir"] = directory
    return directory
