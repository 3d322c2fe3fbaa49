"""A small, seeded synthetic world for ``soilbench demo --synthetic`` and tests.

:func:`generate_world` writes, into one directory,

- references under the real registry's file names, in the real files' formats: a CARDAMOM-like
  Rh map, HWSD- and NCSCD-like soil carbon, a land-fraction map, a Köppen table and a
  root-contribution map (2° grid); SRDB-like annual and MGRhD-like daily site records; Hashimoto-
  and Tang-like digitised global Rh series; CMIP6-like global totals; a BL2004-like site table;
- four models (CMOR-like monthly NetCDF, 2001–2010, 4° × 5°, ``models/<name>.nc``) with known
  biases (:data:`~soilbench.synthetic.world.MODELS`): ``perfect``, ``rh-plus-20pct``,
  ``shifted-season`` (three months late) and ``short-tau`` (half the soil carbon); each with the
  world's near-surface air temperature ``tas``;
- ``registry.yaml``: the same dataset ids with the generated files' sha256 and
  ``synthetic: true``; select it with :func:`soilbench.data.use_registry` (the demo does). The real
  registry and its hash checks are untouched;
- ``world.json``: seed, generator version and the models' biases.

The truth (:mod:`soilbench.synthetic.truth`) has global Rh 50 Pg C yr-1 and τ 38 yr, and a seeded
land temperature anomaly per year that drives Rh at 2.8 Pg C yr-1 °C-1 (zero mean and no trend
over 2001–2010, so the period means are those of the world without it): the models, the
digitised series and the site records all carry it, so interannual variability, anomaly
correlation and temperature sensitivity have something real to compare. Everything
is a deterministic function of the seed: the same seed gives byte-identical files, and an
existing world with the same seed and generator version is reused as is (so re-runs of the
demo find their results current).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soilbench.synthetic import files
from soilbench.synthetic.truth import Truth
from soilbench.data import sha256_of
from soilbench.synthetic.world import GENERATOR_VERSION, MODELS, write_manifest, write_registry

log = logging.getLogger(__name__)

DEFAULT_SEED = 20240501

#: registry ids the world provides
DATASET_IDS = (
    "cardamom-rh", "hwsd-soilc", "ncscd-soilc", "landfrac", "koppen", "root-contribution",
    "srdb-v5-data", "mgrhd", "bl2004", "hashimoto2015-rh", "tang2020-rh",
    "cmip6-rh-global", "cmip6-npp-global", "cmip6-gpp-global",
)


@dataclass(frozen=True)
class World:
    """A generated world: its data directory, registry and model files."""

    root: Path
    registry: Path
    models: dict[str, Path]
    seed: int


def _world_is_current(root: Path, seed: int) -> bool:
    try:
        manifest = json.loads((root / "world.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("seed") != seed or manifest.get("generator_version") != GENERATOR_VERSION:
        return False
    import yaml

    try:
        registry = yaml.safe_load((root / "registry.yaml").read_text(encoding="utf-8"))
        for item in registry["datasets"]:
            if not str(item.get("url", "")).startswith("synthetic://soilbench/"):
                continue  # listed for the catalogs' sake, not generated
            if sha256_of(root / item["file"]) != item["sha256"]:
                return False
        return all((root / m["file"]).is_file() for m in manifest["models"].values())
    except (OSError, KeyError, TypeError, ValueError):
        return False


def _load_world(root: Path, seed: int) -> World:
    manifest = json.loads((root / "world.json").read_text(encoding="utf-8"))
    models = {name: root / info["file"] for name, info in manifest["models"].items()}
    return World(root=root, registry=root / "registry.yaml", models=models, seed=seed)


def generate_world(root: str | os.PathLike, seed: int = DEFAULT_SEED, force: bool = False) -> World:
    """Write (or reuse) the synthetic world in ``root``; see the module docstring."""
    from soilbench.data import REGISTRY_PATH, registry

    root = Path(root)
    if not force and _world_is_current(root, seed):
        log.info("synthetic world in %s is current (seed %d)", root, seed)
        return _load_world(root, seed)
    log.info("generating the synthetic world in %s (seed %d)", root, seed)
    root.mkdir(parents=True, exist_ok=True)
    names = {i: registry(REGISTRY_PATH)[i]["file"] for i in DATASET_IDS}
    truth = Truth(seed)

    def rng(salt: int) -> np.random.Generator:
        return np.random.default_rng([seed, salt])  # one stream per file: adding a file changes no other

    written = {
        "cardamom-rh": files.cardamom_rh(root, truth, rng(1), names["cardamom-rh"]),
        "hwsd-soilc": files.soil_carbon(root, truth, rng(2), names["hwsd-soilc"], north_only=False),
        "ncscd-soilc": files.soil_carbon(root, truth, rng(3), names["ncscd-soilc"], north_only=True),
        "landfrac": files.land_fraction(root, truth, names["landfrac"]),
        "koppen": files.koppen_table(root, truth, names["koppen"]),
        "root-contribution": files.root_contribution(root, truth, rng(4), names["root-contribution"]),
        "srdb-v5-data": files.srdb_annual(root, truth, rng(5), names["srdb-v5-data"]),
        "mgrhd": files.mgrhd_daily(root, truth, rng(6), names["mgrhd"]),
        "bl2004": files.bl2004_table(root, rng(7), names["bl2004"]),
        "hashimoto2015-rh": files.digitised_series(root, truth, rng(8), names["hashimoto2015-rh"], (1990, 2012), 1.0),
        "tang2020-rh": files.digitised_series(root, truth, rng(9), names["tang2020-rh"], (1985, 2016), -1.5),
        "cmip6-rh-global": files.cmip6_global(root, rng(10), names["cmip6-rh-global"], "rh"),
        "cmip6-npp-global": files.cmip6_global(root, rng(11), names["cmip6-npp-global"], "npp"),
        "cmip6-gpp-global": files.cmip6_global(root, rng(12), names["cmip6-gpp-global"], "gpp"),
    }
    models = {name: files.model_file(root, truth, name, f"models/{name}.nc") for name in MODELS}
    write_registry(root, written, seed)
    write_manifest(root, seed, models)
    return World(root=root, registry=root / "registry.yaml", models={n: root / f for n, f in models.items()}, seed=seed)
