"""A realistic saved-results directory (the ``OUT/`` layout of docs/architecture.md) for tests.

Written with :meth:`soilbench.results.ConfrontationResult.save` and
:func:`soilbench.results.save_failure` exactly as the runner does, with fields and tables that
follow the plot conventions: maps (sequential, diverging, categorical), zonal profiles with CI,
series, Taylor points, bars, site maps, scatter, seasonal cycles and plain tables. Model names
include hostile ones (``<script>alert(1)</script>``, ``../../x``) and one task fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import atomic
from soilbench.regions import CLIMATE_GROUPS
from soilbench.results import (REFERENCES_SLUG, ConfrontationResult, Flag, model_slug, save_failure,
                               save_not_applicable, scalar_rows)

HOSTILE = "<script>alert(1)</script>"
TRAVERSAL = "../../x"
MODELS = ["CLM5", "JULES-ES", HOSTILE, TRAVERSAL]
FAILED = ("tau-turnover", "JULES-ES", "JULES-ES.nc: variable 'cSoil': missing; the model provides no soil carbon")
CONFRONTATIONS = {
    "rh-global-totals": {"kind": "global_totals", "group": "Rh", "weight": 2.0,
                         "references": ["cardamom-rh", "hashimoto2015-rh", "literature-rh"]},
    "sr-srdb-sites": {"kind": "srdb_sites", "group": "SR", "weight": 1.0, "references": ["srdb-v5-data"]},
    "rh-daily-sites": {"kind": "daily_rh_sites", "group": "Rh", "weight": 1.0, "references": ["mgrhd"]},
    "tau-turnover": {"kind": "turnover", "group": "τ", "weight": 1.0, "references": ["hwsd-csoil", "cardamom-rh"]},
}
#: a plausibility warning saved with one task (the hostile text must stay inert on the pages)
FLAGGED = ("rh-global-totals", "JULES-ES", Flag("small_land_area", "valid land area is 0.1% of cardamom-rh's <b>"))
#: the period choice every task saves (CLM5: a climatology outside the references' years)
PERIOD = {"model": [1995, 2014], "references": {"cardamom-rh": [2001, 2010]}, "requested": None,
          "compared": [2001, 2010], "fallback": None}
CLIMATOLOGY_PERIOD = {"model": [1981, 1990], "references": {"cardamom-rh": [2001, 2010]}, "requested": None,
                      "compared": [1981, 1990], "fallback": "the model (1981-1990) shares no year with 2001-2010: "
                      "its climatology (the mean over its one period) is compared"}
REGIONS = ["global", "lat_-90_-60", "lat_-30_0", "lat_0_30", "lat_30_60", "koppen_A", "koppen_D"]


def _grid(resolution: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    lat = np.arange(-90 + resolution / 2, 90, resolution)
    lon = np.arange(-180 + resolution / 2, 180, resolution)
    return lat, lon


def _land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A crude land mask (NaN over 'ocean') so maps look like land-only model output."""
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    land = (np.sin(np.radians(lo) * 2) + np.cos(np.radians(la) * 3) > -0.2) & (la > -60)
    return np.where(land, 1.0, np.nan)


BAND_DEG = 5.0
LAT_BAND = np.arange(-90 + BAND_DEG / 2, 90, BAND_DEG)  # zonal curves' own dimension (band centres)


def _zonal(values: np.ndarray, lat: np.ndarray, how=np.nanmean) -> xr.DataArray:
    """Statistic per 5° band over ``lat_band`` (docs/architecture.md); empty bands stay NaN."""
    band = np.clip(np.floor((lat + 90) / BAND_DEG).astype(int), 0, LAT_BAND.size - 1)
    out = np.full(LAT_BAND.size, np.nan)
    for k in range(LAT_BAND.size):
        cells = values[band == k]
        if np.isfinite(cells).any():
            out[k] = how(cells[np.isfinite(cells)])
    return xr.DataArray(out, coords={"lat_band": LAT_BAND}, dims="lat_band")


def _map(values: np.ndarray, lat, lon, **attrs) -> xr.DataArray:
    return xr.DataArray(values, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"), attrs={"plot": "map", **attrs})


def _scalars(model: str, confrontation: str, reference: str, rng: np.random.Generator, skill: float,
             analyses: dict[str, tuple[str, str]]) -> pd.DataFrame:
    rows = []
    for region in REGIONS:
        for analysis, (name, units) in analyses.items():
            rows.append({"region": region, "analysis": analysis, "name": name, "type": "scalar",
                         "units": units, "value": rng.normal(50, 15)})
            rows.append({"region": region, "analysis": analysis, "name": f"{analysis} score", "type": "score",
                         "units": "1", "value": float(np.clip(skill + rng.normal(0, 0.05), 0, 1))})
    rows.append({"region": "global", "analysis": "overall", "name": "overall score", "type": "score",
                 "units": "1", "value": float(np.clip(skill, 0, 1))})
    return scalar_rows(rows, model=model, confrontation=confrontation, reference=reference)


def _global_totals(model: str, rng: np.random.Generator, skill: float) -> ConfrontationResult:
    lat, lon = _grid()
    land = _land(lat, lon)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    ref = land * (900 * np.exp(-(la / 35) ** 2) + 60)
    mod = ref * (1 + (1 - skill) * np.sin(np.radians(lo) * 3)) + rng.normal(0, 20, ref.shape) * land
    common = {"units": "g m-2 yr-1", "long_name": "heterotrophic respiration"}
    years = np.arange(2001, 2011)
    # like the real zonal_means, the reference's curve is taken on the cells valid in both, and
    # each model leaves out different cells: every model has its own reference curve
    valid = np.sin(np.radians(lo) * 2 + 5 * skill) > -0.8
    zonal_ref = _zonal(np.where(valid, ref, np.nan), lat)
    zonal_attrs = {"plot": "zonal", **common}
    fields = xr.Dataset({
        "rh_model": _map(mod, lat, lon, role="model", colormap="sequential", **common),
        "rh_reference": _map(ref, lat, lon, role="reference", colormap="sequential", **common),
        "rh_difference": _map(mod - ref, lat, lon, role="difference", colormap="diverging",
                              units="g m-2 yr-1", long_name="model − CARDAMOM"),
        "rh_zonal_model": _zonal(np.where(valid, mod, np.nan), lat).assign_attrs(role="model", **zonal_attrs),
        "rh_zonal_reference": zonal_ref.assign_attrs(role="reference", lower="rh_zonal_lower", upper="rh_zonal_upper",
                                                     **{**zonal_attrs, "long_name": "CARDAMOM"}),
        "rh_zonal_lower": zonal_ref * 0.8,
        "rh_zonal_upper": zonal_ref * 1.2,
        "rh_total_model": xr.DataArray(50 + 10 * (1 - skill) + rng.normal(0, 1.5, years.size), coords={"year": years},
                                       dims="year", attrs={"plot": "series", "role": "model", "units": "Pg yr-1",
                                                           "long_name": "global Rh total"}),
        "rh_total_reference": xr.DataArray(51 + rng.normal(0, 1, years.size) * 0 + np.linspace(-1, 1, years.size),
                                           coords={"year": years}, dims="year",
                                           attrs={"plot": "series", "role": "reference", "units": "Pg yr-1",
                                                  "long_name": "CARDAMOM"}),
    })
    totals = pd.DataFrame([
        {"label": model, "role": "model", "value": 50 + 12 * (1 - skill), "lower": np.nan, "upper": np.nan, "units": "Pg yr-1"},
        {"label": "CARDAMOM", "role": "reference", "value": 51.0, "lower": 46.0, "upper": 56.0, "units": "Pg yr-1"},
        {"label": "Hashimoto 2015", "role": "reference", "value": 57.0, "lower": 50.0, "upper": 64.0, "units": "Pg yr-1"},
        {"label": "literature", "role": "literature", "value": 50.0, "lower": 39.0, "upper": 61.0, "units": "Pg yr-1"},
    ])
    taylor = pd.DataFrame([
        {"label": model, "role": "model", "correlation": 0.5 + 0.45 * skill, "std_ratio": 0.6 + 0.8 * rng.random(),
         "crmse": 0.8 * (1 - skill) + 0.2},
        {"label": "Hashimoto 2015", "role": "reference", "correlation": 0.82, "std_ratio": 1.1, "crmse": 0.5},
    ])
    return ConfrontationResult(
        _scalars(model, "rh-global-totals", "cardamom-rh", rng, skill,
                 {"total": ("global total", "Pg yr-1"), "bias": ("bias", "g m-2 yr-1"), "rmse": ("rmse", "g m-2 yr-1")}),
        fields, {"totals": totals, "taylor": taylor},
        {"totals": {"plot": "bars", "title": "Global Rh total 2001–2010", "units": "Pg yr-1"},
         "taylor": {"plot": "taylor", "title": "Spatial pattern against CARDAMOM"}},
        ["model is a 2000-2010 climatology; compared as such"] if model == "CLM5" else [],
    )


def _sites(model: str, rng: np.random.Generator, skill: float, confrontation: str, daily: bool) -> ConfrontationResult:
    n = 60
    lat = rng.uniform(-40, 70, n)
    lon = rng.uniform(-170, 170, n)
    observed = rng.gamma(4, 150, n)
    modelled = observed * (skill + rng.normal(0, 0.3, n)) + 100
    categories = rng.choice(["model higher", "no difference", "model lower"], n, p=[0.3, 0.4, 0.3])
    groups = list(CLIMATE_GROUPS.values())
    sites = pd.DataFrame({"lat": lat, "lon": lon, "category": categories})
    scatter = pd.DataFrame({"observed": observed, "modelled": modelled, "group": rng.choice(groups, n)})
    tables = {"sites": sites, "scatter": scatter}
    meta = {
        "sites": {"plot": "site_map", "title": "Wilcoxon signed-rank class per site"},
        "scatter": {"plot": "scatter", "title": "Annual flux at sites", "units": "g m-2 yr-1",
                    "x_label": "observed", "y_label": "modelled"},
    }
    if daily:
        rows = []
        for group in groups[:4]:
            for doy in range(1, 366, 15):
                base = 2 + 1.5 * np.sin(2 * np.pi * (doy - 100) / 365)
                rows.append({"group": group, "doy": doy, "observed": base, "observed_lower": base - 0.5,
                             "observed_upper": base + 0.5, "modelled": base * skill + 0.4 * np.cos(doy / 40)})
        tables["seasonal"] = pd.DataFrame(rows)
        meta["seasonal"] = {"plot": "seasonal_cycle", "title": "Seasonal cycle per climate group",
                            "units": "g m-2 day-1"}
        # 500 rows: drawn as a histogram with a CSV link, never dumped on the page
        tables["bootstrap"] = pd.DataFrame({"sample": np.arange(500), "observed": rng.normal(2.0, 0.1, 500),
                                            "modelled": rng.normal(2.0 * skill, 0.1, 500)})
        meta["bootstrap"] = {"plot": "histogram", "title": "Bootstrap means", "units": "g m-2 day-1",
                             "columns": ["observed", "modelled"], "x_label": "bootstrap mean"}
        # a plain table longer than a page should show (collapsed), with a missing text cell
        tables["per_site"] = pd.DataFrame({"site": [f"site {i}" for i in range(60)],
                                           "biome": ["forest" if i % 7 else np.nan for i in range(60)],
                                           "n": np.arange(60)})
        meta["per_site"] = {"plot": "table", "title": "Per site"}
    else:
        tables["studies"] = pd.DataFrame({"study": [f"Study {i} <b>" for i in range(8)],
                                          "n_years": rng.integers(1, 10, 8), "p_value": rng.random(8)})
        meta["studies"] = {"plot": "table", "title": "Per study"}
    units = "g m-2 day-1" if daily else "g m-2 yr-1"
    return ConfrontationResult(
        _scalars(model, confrontation, "mgrhd" if daily else "srdb-v5-data", rng, skill,
                 {"wilcoxon": ("fraction no difference", "1"), "bias": ("bias", units)}),
        None, tables, meta, [f"{n} sites with at least 3 years"],
    )


def _turnover(model: str, rng: np.random.Generator, skill: float) -> ConfrontationResult:
    lat, lon = _grid()
    land = _land(lat, lon)
    la, _ = np.meshgrid(lat, lon, indexing="ij")
    ref = land * (10 + 200 * (np.abs(la) / 90) ** 3)
    mod = ref * (1.5 - skill) * np.exp(rng.normal(0, 0.2, ref.shape))
    attribution = np.where(np.isnan(land), np.nan, rng.integers(0, 3, ref.shape).astype(float))
    fields = xr.Dataset({
        "tau_model": _map(mod, lat, lon, role="model", colormap="sequential", units="yr", long_name="τ soil", vmin=0, vmax=300),
        "tau_reference": _map(ref, lat, lon, role="reference", colormap="sequential", units="yr", long_name="τ HWSD/CARDAMOM",
                              vmin=0, vmax=300),
        "tau_ratio": _map(mod / ref, lat, lon, role="ratio", colormap="diverging", units="1", long_name="τ model / reference"),
        "tau_attribution": _map(attribution, lat, lon, role="attribution", colormap="categorical", units="1",
                                long_name="dominant cause of τ bias",
                                categories="0:stock bias;1:flux bias;2:both"),
        # the same reference curve for every model: drawn once
        "tau_zonal_model": _zonal(mod, lat, np.nanmedian).assign_attrs(
            plot="zonal", role="model", units="yr", long_name="τ"),
        "tau_zonal_reference": _zonal(ref, lat, np.nanmedian).assign_attrs(
            plot="zonal", role="reference", units="yr", long_name="τ reference"),
    })
    twobox = pd.DataFrame([
        {"label": f"{model} fast", "role": "model", "value": 3 * (2 - skill), "lower": np.nan, "upper": np.nan, "units": "yr"},
        {"label": f"{model} slow", "role": "model", "value": 80 * (2 - skill), "lower": np.nan, "upper": np.nan, "units": "yr"},
        {"label": "observed slow", "role": "reference", "value": 90, "lower": 60, "upper": 130, "units": "yr"},
    ])
    params = pd.DataFrame({"parameter": ["k_fast", "k_slow", "f_fast"], "value": [0.3, 0.012, 0.7],
                           "units": ["yr-1", "yr-1", "1"]})
    return ConfrontationResult(
        _scalars(model, "tau-turnover", "hwsd-csoil", rng, skill, {"bias": ("bias", "yr"), "spatial": ("correlation", "1")}),
        fields, {"twobox": twobox, "twobox_params": params},
        {"twobox": {"plot": "bars", "title": "Two-box turnover times", "units": "yr"},
         "twobox_params": {"plot": "table", "title": "Two-box parameters"}},
        [],
    )


def _result(confrontation: str, model: str, rng: np.random.Generator, skill: float) -> ConfrontationResult:
    kind = CONFRONTATIONS[confrontation]["kind"]
    if kind == "global_totals":
        return _global_totals(model, rng, skill)
    if kind == "turnover":
        return _turnover(model, rng, skill)
    return _sites(model, rng, skill, confrontation, daily=kind == "daily_rh_sites")


def make_results(root: str | Path, seed: int = 0, synthetic: bool = True) -> Path:
    """Write a complete saved-results directory under ``root`` and return it."""
    out = Path(root)
    rng = np.random.default_rng(seed)
    skills = {model: float(s) for model, s in zip(MODELS, rng.uniform(0.35, 0.9, len(MODELS)))}
    all_scalars, status = [], []
    for confrontation, spec in CONFRONTATIONS.items():
        for model in MODELS:
            meta = {"model": model, "confrontation": confrontation, "kind": spec["kind"], "group": spec["group"],
                    "weight": spec["weight"], "references": spec["references"], "synthetic": synthetic, "fingerprint": f"{seed:04d}-{confrontation}-{model_slug(model)}"}
            directory = out / confrontation / model_slug(model)
            if (confrontation, model) == FAILED[:2]:
                save_failure(directory, meta, FAILED[2])
                status.append({"confrontation": confrontation, "model": model, "status": "error", "error": FAILED[2]})
                continue
            # each model is better at some things than others: the scoreboard must show that
            skill = float(np.clip(skills[model] + rng.normal(0, 0.12), 0.05, 0.98))
            result = _result(confrontation, model, rng, skill)
            result.comparison = {"quantity": "rh", "units": "g m-2 yr-1", "reference_ids": spec["references"],
                                 "period": CLIMATOLOGY_PERIOD if model == "CLM5" else PERIOD}
            if (confrontation, model) == FLAGGED[:2]:
                result.flags = [FLAGGED[2]]
            if spec["kind"] == "daily_rh_sites":  # a component no model has: shown as missing, not dropped
                missing = scalar_rows([{"reference": "mgrhd", "region": "global", "analysis": "scores",
                                        "name": "RMSE score", "type": "score", "units": "1", "value": np.nan}],
                                      model=model, confrontation=confrontation)
                result.scalars = pd.concat([result.scalars, missing], ignore_index=True)
            result.save(directory, meta)
            all_scalars.append(result.scalars)
            status.append({"confrontation": confrontation, "model": model, "status": "ok", "error": ""})
    # references against each other, as the runner writes them
    refs = ConfrontationResult(
        _scalars("references", "rh-global-totals", "cardamom-rh", rng, 0.8, {"total": ("global total", "Pg yr-1")}),
        notes=["Hashimoto 2015 against CARDAMOM"])
    refs.save(out / "rh-global-totals" / REFERENCES_SLUG,
              {"model": "references", "confrontation": "rh-global-totals", "kind": "global_totals", "group": "Rh"})
    with atomic.atomic_path(out / "scalars.csv") as tmp:
        pd.concat(all_scalars, ignore_index=True).to_csv(tmp, index=False)
    with atomic.atomic_path(out / "status.csv") as tmp:
        pd.DataFrame(status).to_csv(tmp, index=False)
    run = {
        "soilbench": "0.1.0",
        "created": "2025-01-15T10:00:00+00:00",
        "synthetic": synthetic,
        "config": {"name": "soilbench-default <i>test</i>", "confrontations": [
            {"name": name, "type": spec["kind"], "references": spec["references"], "weight": spec["weight"]}
            for name, spec in CONFRONTATIONS.items()]},
        "inputs": [{"id": "srdb-v5-data", "file": "srdb-v5/srdb-data.csv", "sha256": "cd" * 32, "citation": "Jian 2021"},
                   {"id": "literature-rh", "builtin": True}],
        "models": [{"name": m, "paths": [f"/data/{model_slug(m)}.nc"]} for m in MODELS],
    }
    atomic.write_text(out / "run.json", json.dumps(run, indent=2))
    return out


def make_not_applicable(out: str | Path, confrontation: str, model: str, reason: str) -> None:
    """Turn one saved task of a :func:`make_results` run into "not applicable", as the runner saves it."""
    directory = Path(out) / confrontation / model_slug(model)
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    for child in directory.rglob("*"):
        if child.is_file():
            child.unlink()
    save_not_applicable(directory, meta, reason)
