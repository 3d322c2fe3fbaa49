"""Write the synthetic world: reference files in the registry's layout, model files, a registry.

The world is a real data directory: every reference is written under the registry's relative
``file`` name in the format of the real file (so the normal loaders read it), and a
``registry.yaml`` beside them lists the same ids with the generated files' sha256 and
``synthetic: true``. :func:`soilbench.data.use_registry` selects it; the real registry and its
hashes are never touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from soilbench import atomic
from soilbench.data import sha256_of
from soilbench.load.grid import EARTH_RADIUS_M
from soilbench.synthetic.truth import NPP_OVER_RH, RH_TOTAL_PG, ROOT_SHARE, TAU_GLOBAL_YR, Truth

SECONDS_PER_YEAR = 365.0 * 86400.0
YEARS = (2001, 2010)          # model output and references cover these years
REFERENCE_RES = 2.0           # degrees
MODEL_RES = (4.0, 5.0)        # degrees (lat, lon): models on another grid than the references
GENERATOR_VERSION = 3         # bump when the world changes: the directory is regenerated

#: the models and their known biases (multipliers and shifts relative to the truth)
MODELS: dict[str, dict[str, float]] = {
    "perfect": {},
    "rh-plus-20pct": {"rh": 1.2},
    "shifted-season": {"shift_months": 3.0},
    "short-tau": {"csoil": 0.5},
}
MODEL_DESCRIPTIONS = {
    "perfect": "the truth itself (on the model grid)",
    "rh-plus-20pct": "Rh 20 % too high everywhere (soil carbon right, so τ 1/1.2 too short)",
    "shifted-season": "seasonal cycle of Rh three months late (annual means right)",
    "short-tau": "soil carbon half the truth: τ too short, Rh right",
}


def regular_grid(d_lat: float, d_lon: float) -> tuple[np.ndarray, np.ndarray]:
    lat = np.arange(-90.0 + d_lat / 2, 90.0, d_lat)
    lon = np.arange(-180.0 + d_lon / 2, 180.0, d_lon)
    return lat, lon


def cell_area(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Areas (m²) of the cells of a regular grid given by its centres."""
    d_lat, d_lon = np.deg2rad(lat[1] - lat[0]), np.deg2rad(lon[1] - lon[0])
    phi = np.deg2rad(lat)
    band = np.abs(np.sin(np.clip(phi + d_lat / 2, -np.pi / 2, np.pi / 2)) - np.sin(np.clip(phi - d_lat / 2, -np.pi / 2, np.pi / 2)))
    return (EARTH_RADIUS_M ** 2 * d_lon * band)[:, None] * np.ones(lon.size)


@dataclass(frozen=True)
class Scales:
    """Multipliers that give the truth its target global totals (fixed on the reference grid)."""

    rh: float
    tau: float


def scales(truth: Truth) -> Scales:
    lat, lon = regular_grid(REFERENCE_RES, REFERENCE_RES)
    weights = cell_area(lat, lon) * truth.land_fraction(lat, lon)
    shape = truth.rh_shape(lat, lon)
    rh = RH_TOTAL_PG * 1e15 / float((shape * weights).sum())          # g m-2 yr-1 per shape unit
    tau_shape = truth.tau_shape(lat, lon)
    tau = TAU_GLOBAL_YR * float((shape * weights).sum()) / float((shape * tau_shape * weights).sum())
    return Scales(rh=rh, tau=tau)


def true_fields(truth: Truth, lat: np.ndarray, lon: np.ndarray) -> dict[str, np.ndarray]:
    """Annual-mean fields on a grid: rh, npp, ra_root (g m-2 yr-1), csoil, cveg (kg m-2), land_fraction."""
    s = scales(truth)
    fraction = truth.land_fraction(lat, lon)
    land = fraction > 0
    rh = np.where(land, s.rh * truth.rh_shape(lat, lon), np.nan)
    tau = s.tau * truth.tau_shape(lat, lon)
    return {
        "land_fraction": fraction,
        "rh": rh,
        "csoil": rh * tau / 1000.0,
        "npp": rh * NPP_OVER_RH,
        "cveg": rh * NPP_OVER_RH * 10.3 / 1000.0,  # τ_veg 10.3 yr (methods.md §5)
        "ra_root": rh * ROOT_SHARE / (1.0 - ROOT_SHARE),
    }


def koppen_codes(truth: Truth, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A Köppen class per cell from temperature and wetness (one class per climate group)."""
    temperature, wetness = truth.temperature(lat, lon), truth.wetness(lat, lon)
    lat2 = np.broadcast_to(lat[:, None], temperature.shape)
    codes = np.full(temperature.shape, "Cfb", dtype=object)
    codes[(np.abs(lat2) > 28) & (np.abs(lat2) < 45) & (wetness < 0.5)] = "Csa"
    codes[temperature > 21] = "Af"
    codes[wetness < 0.3] = "BWh"
    codes[temperature < 6] = "Dfb"
    codes[temperature < -4] = "ET"
    return codes


def monthly_time(years: tuple[int, int] = YEARS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mid-month times (days since 2001-01-01, noleap), their bounds, and the month numbers."""
    n_years = years[1] - years[0] + 1
    lengths = np.tile([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], n_years).astype(float)
    edges = np.concatenate([[0.0], np.cumsum(lengths)])
    bounds = np.stack([edges[:-1], edges[1:]], axis=1)
    months = np.tile(np.arange(1, 13), n_years)
    return bounds.mean(axis=1), bounds, months


def write_netcdf(ds: xr.Dataset, path: Path) -> None:
    # fixed encoding and no history: the same seed gives byte-identical files
    encoding = {name: {"zlib": True, "complevel": 4} for name in ds.data_vars if ds[name].dtype.kind == "f"}
    with atomic.atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", encoding=encoding)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic.atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def write_registry(root: Path, files: dict[str, str], seed: int) -> Path:
    """``registry.yaml`` of the world: same ids as the real registry, the generated files' hashes."""
    from soilbench.data import REGISTRY_PATH, registry

    real = registry(REGISTRY_PATH)
    datasets = []
    for dataset_id, relative in sorted(files.items()):
        path = root / relative
        base = real.get(dataset_id, {})
        datasets.append({
            "id": dataset_id,
            "file": relative,
            "url": f"synthetic://soilbench/{relative}",  # never downloadable: regenerate instead
            "sha256": sha256_of(path),
            "size": path.stat().st_size,
            "licence": "generated by soilbench (synthetic)",
            "citation": f"soilbench synthetic world (seed {seed}); stands in for: {base.get('citation', dataset_id)}",
            "variables": base.get("variables", {}),
            "description": f"SYNTHETIC stand-in for {dataset_id}",
        })
    for dataset_id, base in sorted(real.items()):
        if dataset_id in files:
            continue
        # listed (catalogs name these ids) but not generated: never available in this world
        datasets.append({**base, "url": f"synthetic://unavailable/{base['file']}",
                         "description": f"not part of the synthetic world ({base.get('description', '')})"})
    document = {"synthetic": True, "seed": seed, "generator_version": GENERATOR_VERSION, "datasets": datasets}
    header = "# soilbench SYNTHETIC world registry: generated files, not observations. Never use for science.\n"
    return atomic.write_text(root / "registry.yaml", header + yaml.safe_dump(document, sort_keys=False))


def write_manifest(root: Path, seed: int, models: dict[str, str]) -> Path:
    manifest = {"synthetic": True, "seed": seed, "generator_version": GENERATOR_VERSION,
                "models": {name: {"file": file, "bias": MODELS[name], "description": MODEL_DESCRIPTIONS[name]}
                           for name, file in models.items()}}
    return atomic.write_text(root / "world.json", json.dumps(manifest, indent=2, sort_keys=True))
