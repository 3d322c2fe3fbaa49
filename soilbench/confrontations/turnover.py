"""Soil carbon turnover time: τ = csoil / rh against observations, with attribution and the 2-box constraint.

Kind ``turnover`` (group "τ"). References: soil carbon products (the first one is central;
put ``hwsd-ncscd-soilc`` first) and Rh products (the first one is central, e.g.
``cardamom-rh``); every stock × Rh combination gives an observed τ, and their range is the
observational uncertainty. The science lives in :mod:`soilbench.analysis.turnover` and
:mod:`soilbench.analysis.twobox`; ``docs/turnover.md`` describes outputs and scores.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import atomic
from soilbench import regions
from soilbench.analysis import periods, plausibility, reductions, regrid, responses, scores, taylor
from soilbench.analysis import turnover as tau
from soilbench.analysis import turnover_climate as climate
from soilbench.analysis import twobox
from soilbench.analysis.integrate import land_area, period_mean
from soilbench.confrontations import build
from soilbench.confrontations.base import Confrontation, ReductionKey, Reductions
from soilbench.confrontations.units import OptionError, Options, is_number, number_list
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.regions import CLIMATE_GROUPS, GLOBAL, region_masks
from soilbench.quantities import FLUX_UNITS
from soilbench.results import REFERENCES_SLUG, ConfrontationResult, Flag, scalar_rows

#: the published observation-based global soil turnover time (seed 000), shown beside the products
LITERATURE_TAU_SOIL = {"label": "observation-based 0-1 m, Rh upscaling (seed 000)", "value": 38.3, "sd": 11.0}
SCORE_NAMES = ("bias score", "spatial distribution score", "global tau score", "zonal tau score")
#: score components of the climate analyses, listed when their option is set (climate_map, temperature_map)
CLIMATE_GROUP_SCORE = "climate group tau score"
CURVE_SCORE = "tau-MAT curve score"
#: the model temperatures its own τ curve is drawn against, in order of preference (ILAMB and
#: Koven et al. 2017 use the air temperature)
MODEL_TEMPERATURES = ("tas", "tsl")
TWOBOX_TABLE = "twobox"
MERGED_STOCK = "hwsd-ncscd-soilc"
MERGED_STOCK_FILES = ("hwsd-soilc", "ncscd-soilc")
ENSEMBLE_FILES = {"changes": "twobox_ensemble.csv", "emulation": "twobox_emulation.csv"}


@dataclass(frozen=True)
class TurnoverOptions(Options):
    """Options of ``turnover`` (docs/turnover.md), checked when the benchmark definition is read."""

    rh_threshold_g_m2_yr: float = tau.RH_THRESHOLD_G_M2_YR
    tau_range_yr: list[float] = field(default_factory=lambda: list(tau.TAU_RANGE_YR))
    zonal_band_deg: float = tau.ZONAL_BAND_DEG
    period: list[int] = field(default_factory=lambda: [2001, 2010])
    twobox: bool = True
    twobox_tau_veg_obs_yr: list[float] = field(default_factory=lambda: list(twobox.TAU_VEG_OBS_YR))
    twobox_tau_soil_obs_yr: list[float] = field(default_factory=lambda: list(twobox.TAU_SOIL_OBS_YR))
    twobox_draws: list[int] = field(default_factory=lambda: [100, 100])
    twobox_seed: int = 0
    twobox_correction_period: list[int] = field(default_factory=lambda: list(twobox.CORRECTION_PERIOD))
    climate_map: str | None = "koppen"
    temperature_map: str | None = "root-contribution"
    mat_range_degC: list[float] = field(default_factory=lambda: [-22.0, 30.0])
    mat_bin_width_degC: float = 2.0
    min_cells_per_bin: int = 10

    def __post_init__(self):
        def fail(key: str, problem: str) -> None:
            raise OptionError(key, f"option {key} {problem}")

        threshold = self.rh_threshold_g_m2_yr
        if not is_number(threshold) or not threshold >= 0:
            fail("rh_threshold_g_m2_yr", f"must be a number >= 0, got {threshold!r}")
        low, high = number_list(self, "tau_range_yr", 2)
        if not 0 <= low < high:
            fail("tau_range_yr", f"must be [low, high] with 0 <= low < high, got {self.tau_range_yr!r}")
        band = self.zonal_band_deg
        if not is_number(band) or band <= 0 or not np.isclose(180.0 / band, round(180.0 / band)):
            fail("zonal_band_deg", f"must divide 180, got {band!r}")
        for key in ("period", "twobox_correction_period"):
            first, last = number_list(self, key, 2)
            if first > last or first != int(first) or last != int(last):
                fail(key, f"must be [first_year, last_year], got {getattr(self, key)!r}")
        for key in ("twobox_tau_veg_obs_yr", "twobox_tau_soil_obs_yr"):
            mean, sd = number_list(self, key, 2)
            if mean <= 0 or sd < 0:
                fail(key, f"must be [mean > 0, sd >= 0] in yr, got {getattr(self, key)!r}")
        draws = number_list(self, "twobox_draws", 2)
        if not all(d >= 1 and d == int(d) for d in draws):
            fail("twobox_draws", f"must be two positive integers, got {self.twobox_draws!r}")
        if not isinstance(self.twobox, bool):
            fail("twobox", f"must be true or false, got {self.twobox!r}")
        seed = self.twobox_seed
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            fail("twobox_seed", f"must be an integer >= 0, got {seed!r}")
        for key in ("climate_map", "temperature_map"):
            value = getattr(self, key)
            if value is not None and not (isinstance(value, str) and value):
                fail(key, f"must be a dataset id or null, got {value!r}")
        low, high = number_list(self, "mat_range_degC", 2)
        width = self.mat_bin_width_degC
        if (not is_number(width) or not width > 0 or low >= high
                or not np.isclose((high - low) / width, round((high - low) / width))):
            fail("mat_bin_width_degC", f"must be > 0 and divide mat_range_degC {self.mat_range_degC!r}, got {width!r}")
        count = self.min_cells_per_bin
        if isinstance(count, bool) or not isinstance(count, int) or count < 2:
            fail("min_cells_per_bin", f"must be an integer >= 2, got {count!r}")


class TurnoverConfrontation(Confrontation):
    """Soil carbon turnover time of a model against observed stock × Rh products."""

    kind: ClassVar[str] = "turnover"
    group: ClassVar[str] = "τ"
    quantities: ClassVar[tuple[str, ...]] = ("csoil", "rh")
    options_type: ClassVar[type[Options]] = TurnoverOptions

    reference_loaders: ClassVar[tuple[str, ...]] = ("gridded", "merge_where_positive")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # the merged stock is read from these registered files: provenance and fingerprints need them
        self.auxiliary_data = list(MERGED_STOCK_FILES) if MERGED_STOCK in self.references else []

    def model_quantities(self) -> set[str]:
        """csoil and rh, the 2-box constraint's npp and cveg when it is on, and the model's own
        temperature (tas, else tsl) for its τ curve when there is an observed temperature map."""
        extra = set(twobox.TWO_BOX_VARIABLES) if self.options["twobox"] else set()
        if self.options["temperature_map"]:
            extra |= set(MODEL_TEMPERATURES)
        return set(self.quantities) | extra

    def score_names(self) -> tuple[str, ...]:
        """Every score component of the overall score (equal weights), as the options define them."""
        return (SCORE_NAMES + ((CLIMATE_GROUP_SCORE,) if self.options["climate_map"] else ())
                + ((CURVE_SCORE,) if self.options["temperature_map"] else ()))

    # -- staging ---------------------------------------------------------------------------
    def _stage(self) -> None:
        from soilbench.load import load_reference  # local: the loader pulls pint/cftime

        stocks, fluxes = {}, {}
        for ref_id in self.references:
            ds = load_reference(ref_id, data_dir=self.data_dir)
            if "csoil" in ds:
                stocks[ref_id] = ds
            if "rh" in ds:
                fluxes[ref_id] = ds
        if not stocks or not fluxes:
            missing = "soil carbon (csoil)" if not stocks else "heterotrophic respiration (rh)"
            raise ConfigError(self.source, f"confrontation '{self.name}' needs a {missing} reference; "
                                           f"got {self.references}", "references")
        #: each reference's years as loaded (None: static), for the period rule and meta.json
        self._reference_years = {ref_id: periods.years_of(ds) for ref_id, ds in {**stocks, **fluxes}.items()}
        #: each flux product's valid land area (m²): a model far below it is flagged
        self._reference_land_m2 = {ref_id: plausibility.valid_land_area_m2(ds["rh"], ds["cell_area"], ds["land_fraction"])
                                   for ref_id, ds in fluxes.items()}
        products = list(stocks.values()) + list(fluxes.values())
        self._obs_grid = products[regrid.coarsest(products)][["cell_area"]].load()
        self._stocks = {k: regrid.regrid_field(v, "csoil", self._obs_grid).load() for k, v in stocks.items()}
        self._fluxes = {k: regrid.regrid_field(v, "rh", self._obs_grid).load() for k, v in fluxes.items()}
        climate_map, temperature_map = self.options["climate_map"], self.options["temperature_map"]
        self._koppen = regions.load_koppen_classes(self.data_dir, climate_map) if climate_map else None
        self._mat = None
        if temperature_map:
            ds = load_reference(temperature_map, data_dir=self.data_dir)
            if "mat" not in ds:
                raise ConfigError(self.source, f"confrontation '{self.name}': temperature_map {temperature_map!r} has "
                                               "no gridded mean annual temperature (mat)", "options.temperature_map")
            self._mat = ds[["mat", "cell_area", "land_fraction"]].load()

    def _threshold(self) -> dict[str, Any]:
        return {"rh_threshold_g_m2_yr": float(self.options["rh_threshold_g_m2_yr"]),
                "tau_range_yr": tuple(float(x) for x in self.options["tau_range_yr"])}

    def _observed_on(self, target: xr.Dataset) -> tuple[xr.Dataset, xr.DataArray]:
        """Observed τ combinations on ``target``'s grid and the fraction valid in every product."""
        stocks, fluxes, fraction = {}, {}, None
        for group, products, out in (("csoil", self._stocks, stocks), ("rh", self._fluxes, fluxes)):
            for ref_id, ds in products.items():
                on_target = regrid.regrid_field(ds, group, target)
                out[ref_id] = on_target[group]
                frac = on_target["land_fraction"]
                fraction = frac if fraction is None else np.minimum(fraction, frac)
        return tau.observed_turnover(stocks, fluxes, **self._threshold()), fraction

    # -- the model -------------------------------------------------------------------------
    def _period_steps(self, model: xr.Dataset) -> tuple[xr.Dataset, periods.PeriodChoice]:
        """The model over the years it shares with the option ``period`` and the dated references
        (:func:`soilbench.analysis.periods.choose_period`; its whole record when none), and the choice."""
        self.stage_data()
        first, last = (int(y) for y in self.options["period"])
        choice = periods.choose_period(periods.years_of(model), self._reference_years, (first, last),
                                       model_has_time="time" in model.dims)
        if choice.fallback is not None or "time" not in model.dims:
            return model, choice
        return periods.steps_in(model, choice.compared), choice

    def _twobox_period(self) -> tuple[int, int]:
        return tuple(int(y) for y in self.options["twobox_correction_period"])

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray | xr.Dataset]:
        """Annual step sums of csoil and rh over the period (their period means derive from them)
        and, with the 2-box constraint, the global totals per step of its four variables."""
        if any(q not in model for q in self.quantities) or "time" not in model.dims:
            return {}
        ds, _ = self._period_steps(model)
        first, last = int(ds["time"].dt.year.min()), int(ds["time"].dt.year.max())
        out: dict[ReductionKey, Any] = {}
        temperature, _ = self._model_temperature_quantity(model)
        for v in ("csoil", "rh") + ((temperature,) if temperature else ()):
            if "time" in ds[v].dims:
                out[("annual_step_sums", v, v, first, last)] = reductions.annual_step_sums(ds[v])
        if self.options["twobox"] and twobox.two_box_unavailable_reason(model, self._twobox_period()) is None:
            area_m2 = land_area(model)
            for v in twobox.TWO_BOX_VARIABLES:
                out[("global_step_totals", v, "land_area_m2")] = reductions.global_step_totals(model[v], area_m2)
        return out

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        self.stage_data()
        name = model.attrs.get("model", "model")
        missing = [q for q in self.quantities if q not in model]
        if missing:
            raise SoilbenchError(model.attrs.get("source_files", name),
                                 f"turnover needs {', '.join(missing)}, which the model does not provide", missing[0])
        notes: list[str] = []
        reduced = self.reduced(model, reductions)
        means = self._model_means(model, notes, reduced)
        opts = self._threshold()
        band = float(self.options["zonal_band_deg"])

        # global τ on the model's own grid: every valid land cell, no per-cell mask (a ratio of
        # totals has no small-denominator problem)
        tau_global_native = tau.global_turnover_time(means["csoil"], means["rh"], land_area(means))

        # common grid: the coarser of model and observations
        coarser = regrid.median_cell_size_deg2(means) >= regrid.median_cell_size_deg2(self._obs_grid)
        target = means if coarser else self._obs_grid
        model_c = regrid.regrid_field(means, "csoil", target)
        model_r = regrid.regrid_field(means, "rh", target)
        observed, obs_fraction = self._observed_on(target)
        fraction = np.minimum(np.minimum(model_c["land_fraction"], model_r["land_fraction"]), obs_fraction)
        area_m2 = (target["cell_area"] * fraction).rename("area")
        csoil_m, rh_m = model_c["csoil"], model_r["rh"]
        tau_m = tau.soil_turnover_time(csoil_m, rh_m, **opts)
        tau_obs_all = observed["tau_soil"]
        tau_o = tau_obs_all.isel(combination=0, drop=True)
        common = tau_m.notnull() & tau_obs_all.notnull().all("combination") & (area_m2 > 0)
        central = observed.attrs["central"]
        stock0, flux0 = (str(observed["combination_stock"].values[0]), str(observed["combination_flux"].values[0]))
        csoil_o, rh_o = observed["csoil"].sel(stock=stock0, drop=True), observed["rh"].sel(flux=flux0, drop=True)

        codes = None if self._koppen is None else regions.climate_groups_on_grid(self._koppen, target["lat"],
                                                                                  target["lon"])
        masks = region_masks(target["lat"], target["lon"], codes)
        rows: list[dict[str, Any]] = []

        def add(analysis, name_, value, units, kind="scalar", region=GLOBAL, reference=central):
            rows.append({"analysis": analysis, "name": name_, "value": value, "units": units, "type": kind,
                         "region": region, "reference": reference})

        # global and regional τ on common cells, observed range across combinations
        obs_global_by_region = {}
        for region, mask in masks.items():
            sel = common & mask
            tau_model_region = tau.global_turnover_time(csoil_m, rh_m, area_m2, sel)
            obs_values = tau.observed_global_turnover(observed, area_m2, sel)
            obs_global_by_region[region] = obs_values
            add("turnover", "tau model (common cells)", tau_model_region, "yr", region=region)
            add("turnover", "tau observed (common cells)", obs_values[central], "yr", region=region)
            add("turnover", "tau observed lower", min(obs_values.values()), "yr", region=region)
            add("turnover", "tau observed upper", max(obs_values.values()), "yr", region=region)
            score_map = tau.tau_bias_score(tau_m.where(sel), tau_o.where(sel))
            add("bias", "bias score", scores.area_weighted_mean(score_map, area_m2, sel), "1", "score", region)
            log_ratio_map = tau.log_ratio(tau_m, tau_o).where(sel)
            add("bias", "mean log tau ratio", scores.area_weighted_mean(log_ratio_map, area_m2, sel), "1", region=region)
        add("turnover", "global tau", tau_global_native, "yr", reference="")
        tau_model_common = tau.global_turnover_time(csoil_m, rh_m, area_m2, common)
        obs_global = obs_global_by_region[GLOBAL]
        lower, upper = min(obs_global.values()), max(obs_global.values())
        add("bias", "log tau ratio (global)", float(np.log(tau_model_common / obs_global[central])), "1")
        global_score = float(tau.tau_bias_score(tau_model_common, obs_global[central]))
        add("bias", "global tau score", global_score, "1", "score")

        # attribution: ln(τm/τo) = ln(Cm/Co) − ln(Rm/Ro)
        attribution = tau.attribute_bias(csoil_m, rh_m, csoil_o, rh_o, common)
        attribution_rows = []
        for region, mask in masks.items():
            share = tau.rh_dominated_share(attribution["attribution"], area_m2, mask)
            add("attribution", "Rh-dominated area share", share, "1", region=region)
            mean_c = scores.area_weighted_mean(attribution["log_csoil_ratio"], area_m2, mask)
            mean_r = scores.area_weighted_mean(attribution["log_rh_ratio"], area_m2, mask)
            add("attribution", "mean log csoil ratio", mean_c, "1", region=region)
            add("attribution", "mean log rh ratio", mean_r, "1", region=region)
            attribution_rows.append({"region": region, "rh_dominated_share": share,
                                     "mean_log_csoil_ratio": mean_c, "mean_log_rh_ratio": mean_r,
                                     "area_km2": float(area_m2.where(attribution["attribution"].notnull() & mask,
                                                                     0.0).sum()) / 1e6})

        # spatial pattern of log10 τ
        stats = taylor.taylor_statistics(np.log10(tau_m.where(common)), np.log10(tau_o.where(common)), area_m2)
        add("spatial distribution", "correlation of log tau", stats["correlation"], "1")
        add("spatial distribution", "std ratio of log tau", stats["std_ratio"], "1")
        add("spatial distribution", "spatial distribution score", stats["score"], "1", "score")
        taylor_rows = [{"label": name, "role": "model", "correlation": stats["correlation"],
                        "std_ratio": stats["std_ratio"], "crmse": stats["crmse_normalised"]}]
        taylor_rows += self._reference_taylor_rows(observed, common, area_m2)

        # turnover against climate: latitude bands, climate groups, τ against the observed MAT
        # (and the model's own temperature, shown only); docs/turnover.md
        tables: dict[str, pd.DataFrame] = {}
        table_meta: dict[str, dict[str, Any]] = {}
        self._climate(model, name, target, means, reduced, csoil_m, rh_m, tau_m, tau_o, csoil_o, rh_o, obs_fraction,
                      area_m2, common, masks, obs_global_by_region, add, tables, table_meta, notes)

        named = {r["name"]: r["value"] for r in rows if r["region"] == GLOBAL and r["type"] == "score"}
        # every component is expected: a missing one (no common cell with a turnover time) counts as 0
        overall, missing = build.overall({k: named[k] for k in self.score_names()})
        if missing:
            notes.append(f"incomplete: {', '.join(missing)} missing (no cell where model and observations both "
                         "have a turnover time); counted as 0 in the overall score")
        add("completeness", "missing components", float(len(missing)), "1", reference="")
        add("overall", "overall score", overall, "1", "score")

        fields = self._fields(tau_m.where(common), tau_o.where(common), attribution, csoil_m, rh_m, observed,
                              area_m2, common, band, name)
        tables.update({
            "global_tau": self._global_bars(name, tau_global_native),
            "taylor_log_tau": pd.DataFrame(taylor_rows),
            "attribution": pd.DataFrame(attribution_rows),
        })
        table_meta.update({
            "global_tau": {"plot": "bars", "title": "Global soil carbon turnover time", "units": "yr"},
            "taylor_log_tau": {"plot": "taylor", "title": "Spatial pattern of log10 turnover time"},
            "attribution": {"plot": "table", "title": "Turnover bias attribution (stock vs Rh) by region"},
        })
        if tau_global_native and np.isfinite(tau_global_native):
            notes.append(f"{name}: global τ {tau_global_native:.1f} yr on its own grid; on cells shared with "
                         f"the observations {tau_model_common:.1f} yr vs observed {obs_global[central]:.1f} yr "
                         f"({lower:.1f}-{upper:.1f} across products).")
        fields, rows = self._two_box(model, name, fields, rows, tables, table_meta, notes, reduced)
        scalars = scalar_rows(rows, model=name, confrontation=self.name)
        _, choice = self._period_steps(model)
        comparison = {"quantity": "tau", "units": "yr", "reference_ids": list(self.references),
                      "period": choice.as_meta()}
        return ConfrontationResult(scalars, fields, tables, table_meta, notes, comparison,
                                   self._flags(model, means, name))

    # -- turnover against climate -------------------------------------------------------------
    def _model_temperature_quantity(self, model: xr.Dataset) -> tuple[str | None, str | None]:
        """The model temperature its own τ curve is drawn against (tas, else tsl), or the reason
        there is none."""
        if not self.options["temperature_map"]:
            return None, "no observed temperature map (option temperature_map)"
        for q in MODEL_TEMPERATURES:
            if q in model.data_vars:
                return q, None
        return None, "the model provides neither near-surface air temperature (tas) nor soil temperature (tsl)"

    def _climate(self, model, name, target, means, reduced, csoil_m, rh_m, tau_m, tau_o, csoil_o, rh_o,
                 obs_fraction, area_m2, common, masks, obs_by_region, add, tables, table_meta, notes) -> None:
        """τ by latitude band and climate group (profile scores), τ against the observed MAT (curve
        score) and against the model's own temperature with ILAMB's Q10 (shown only)."""
        band = float(self.options["zonal_band_deg"])
        # where the observations have τ and the model has land: a region the model leaves without τ
        # there is a region it gets wrong, not one it may skip (turnover_climate.region_profile)
        land = means["land_fraction"].where(means["land_fraction"] > 0)
        model_land = regrid.regrid_field(means.assign(land=land), "land", target)["land_fraction"]
        area_any = (target["cell_area"] * np.minimum(model_land, obs_fraction)).rename("area")
        observed_cells = tau_o.notnull() & (area_any > 0)

        def profile(region_masks):
            m = climate.regional_turnover(csoil_m, rh_m, area_m2, region_masks, common)
            o = climate.regional_turnover(csoil_o, rh_o, area_m2, region_masks, common)
            anywhere = climate.regional_turnover(csoil_o, rh_o, area_any, region_masks, observed_cells)
            return climate.region_profile(m, o, anywhere)

        bands = {k: v for k, v in region_masks(target["lat"], target["lon"], band_width_deg=band).items()
                 if k != GLOBAL}
        zonal_score, zonal_table = profile(bands)
        add("zonal", "zonal tau score", zonal_score, "1", "score")
        for row in zonal_table.itertuples():
            if np.isfinite(row.score):
                add("zonal", "band score", float(row.score), "1", "score", row.region)

        curve_tables = []
        if self._koppen is not None:
            groups = {k: masks[k] for k in CLIMATE_GROUPS}
            group_score, group_table = profile(groups)
            add("climate groups", CLIMATE_GROUP_SCORE, group_score, "1", "score")
            for row in group_table.itertuples():
                if np.isfinite(row.score):
                    add("climate groups", "climate group score", float(row.score), "1", "score", row.region)
            observed_range = [obs_by_region[g] for g in group_table["region"]]
            curve_tables.append(pd.DataFrame({
                "group": "τ by Köppen climate group", "x": np.arange(len(group_table)),
                "x_label": "Köppen climate group",
                "x_tick": [str(g).removeprefix("koppen_") for g in group_table["region"]],
                "region": group_table["region"],
                "observed": group_table["tau_observed"],
                "observed_lower": [min(v.values()) if v else np.nan for v in observed_range],
                "observed_upper": [max(v.values()) if v else np.nan for v in observed_range],
                "modelled": group_table["tau_model"], "scored": group_table["area_m2"] > 0}))
            tables["tau_by_climate_group"] = group_table.assign(
                label=[CLIMATE_GROUPS[g] for g in group_table["region"]], area_km2=group_table["area_m2"] / 1e6,
                tau_observed_lower=[min(v.values()) if v else np.nan for v in observed_range],
                tau_observed_upper=[max(v.values()) if v else np.nan for v in observed_range],
            )[["region", "label", "tau_model", "tau_observed", "tau_observed_lower", "tau_observed_upper",
               "area_km2", "score"]]
            table_meta["tau_by_climate_group"] = {
                "plot": "table", "units": "yr",
                "title": "Turnover time by Köppen climate group (ratio of totals on common cells; score per group)"}

        if self._mat is not None:
            self._temperature_curves(model, name, target, means, reduced, tau_m, tau_o, common, add, curve_tables,
                                     tables, table_meta, notes)
        if curve_tables:
            tables["tau_climate"] = pd.concat(curve_tables, ignore_index=True)
            table_meta["tau_climate"] = {
                "plot": "response", "units": "yr", "y_label": "turnover time", "y_scale": "log",
                "title": "Soil carbon turnover time by climate (observed: central stock / Rh; τ vs MAT: geometric "
                         f"bin means, 95 % CI; bins with ≥ {self.options['min_cells_per_bin']} cells scored)"}

    def _temperature_curves(self, model, name, target, means, reduced, tau_m, tau_o, common, add, curve_tables,
                            tables, table_meta, notes) -> None:
        """τ binned on the observed MAT (model and observations on the same cells: scored), and the
        model's τ against its own temperature with ILAMB's Q10 at −10, +10 and +25 °C (shown only)."""
        o = self.options
        edges = climate.temperature_edges(o["mat_range_degC"], float(o["mat_bin_width_degC"]))
        mat = regrid.regrid_field(self._mat, "mat", target)["mat"]
        cells = common & mat.notnull()
        t = mat.where(cells).values
        observed = climate.binned_turnover(t, tau_o.where(cells).values, edges)
        modelled = climate.binned_turnover(t, tau_m.where(cells).values, edges)
        scored = responses.scored_bins(observed, modelled, int(o["min_cells_per_bin"]))
        curve = responses.response_scores(observed, modelled, int(o["min_cells_per_bin"]))
        add("climate response", CURVE_SCORE, curve["score"], "1", "score")
        add("climate response", "tau-MAT level score", curve["level score"], "1", "score")
        add("climate response", "tau-MAT shape score", curve["shape score"], "1", "score")
        add("climate response", "tau-MAT mean log ratio", curve["mean log ratio"], "1")
        add("climate response", "n tau-MAT bins scored", float(scored.sum()), "1")
        mat_label = f"MAT of {o['temperature_map']} (°C)"
        curve_tables.append(pd.DataFrame({
            "group": "τ vs observed MAT", "x": observed["bin_centre"], "x_label": mat_label,
            "bin_lower": observed["bin_lower"], "bin_upper": observed["bin_upper"], "n": observed["n"],
            "observed": observed["mean"], "observed_lower": observed["ci_lower"],
            "observed_upper": observed["ci_upper"], "modelled": modelled["mean"],
            "modelled_lower": modelled["ci_lower"], "modelled_upper": modelled["ci_upper"], "scored": scored}))

        q10_rows = []
        central = str(self._central_label())
        for side, values, temperature_label in (("observed", tau_o, "observed MAT"), ("model", tau_m, "observed MAT")):
            fit = climate.turnover_q10(t, values.where(cells).values)
            q10_rows.append({"curve": f"{side} τ vs {temperature_label}", "scored": False, **fit})
            for T in climate.Q10_TEMPERATURES_DEGC:
                add("climate response", f"{side} Q10 at {T:+g} degC (observed MAT)", fit[f"Q10 at {T:+g} degC"], "1",
                    reference=central if side == "observed" else "")

        quantity, reason = self._model_temperature_quantity(model)
        if quantity is None:
            notes.append(f"τ against the model's own temperature not shown (n/a): {reason}.")
        else:
            own_t = self._model_temperature(model, quantity, reduced)
            own_tau = tau.soil_turnover_time(means["csoil"], means["rh"], **self._threshold())
            fit = climate.turnover_q10(own_t.values, own_tau.values)
            q10_rows.append({"curve": f"model τ vs its own {quantity}", "scored": False, **fit})
            for T in climate.Q10_TEMPERATURES_DEGC:
                add("climate response", f"model Q10 at {T:+g} degC (own {quantity})", fit[f"Q10 at {T:+g} degC"],
                    "1", reference="")
            own = climate.binned_turnover(own_t.values, own_tau.values, edges)
            curve_tables.append(pd.DataFrame({
                "group": f"τ vs the model's own {quantity} (shown only)", "x": observed["bin_centre"],
                "x_label": f"temperature (°C): observed τ vs MAT, model τ vs its own {quantity}",
                "bin_lower": observed["bin_lower"], "bin_upper": observed["bin_upper"], "n": own["n"],
                "observed": observed["mean"], "observed_lower": observed["ci_lower"],
                "observed_upper": observed["ci_upper"], "modelled": own["mean"], "modelled_lower": own["ci_lower"],
                "modelled_upper": own["ci_upper"], "scored": False}))
            notes.append(f"{name}: τ against its own {quantity} on its own grid ({int(fit['n'])} cells) is shown with "
                         "ILAMB's Q10 but not scored: a score would exist only for models that give a temperature, so "
                         "overall scores would not compare (docs/turnover.md).")
        tables["tau_q10"] = pd.DataFrame(q10_rows)
        table_meta["tau_q10"] = {
            "plot": "table", "title": "Apparent Q10 of 1/τ from the quadratic fit of log10 τ on temperature "
                                      "(ILAMB ConfSoilCarbon, Koven et al. 2017); not scored"}

    def _model_temperature(self, model: xr.Dataset, quantity: str, reduced: Reductions) -> xr.DataArray:
        """The model's period-mean temperature (°C) on its own grid, from the one pass when it has time."""
        ds, _ = self._period_steps(model)
        if "time" in ds[quantity].dims:
            key = ("annual_step_sums", quantity, quantity, int(ds["time"].dt.year.min()),
                   int(ds["time"].dt.year.max()))
            return reductions.period_mean_from_sums(reduced[key], quantity).load()
        return period_mean(ds, quantity).load()

    def _central_label(self) -> str:
        return f"{next(iter(self._stocks))} / {next(iter(self._fluxes))}"

    def _flags(self, model: xr.Dataset, means: xr.Dataset, name: str) -> list[Flag]:
        """Plausibility (:mod:`soilbench.analysis.plausibility`): grid, valid land area against each
        flux product's, global Rh and soil carbon totals."""
        from soilbench.analysis.integrate import global_total

        flags = plausibility.grid_flags(model["cell_area"], name)
        both = means["rh"].where(means["csoil"].notnull())
        area = plausibility.valid_land_area_m2(both, means["cell_area"], means["land_fraction"])
        for ref_id, reference_area in self._reference_land_m2.items():
            flags += plausibility.land_area_flags(area, reference_area, ref_id)
        for q, units in (("rh", FLUX_UNITS), ("csoil", "kg m-2")):
            total = float(global_total(means[q].assign_attrs(units=units), land_area(means)))
            flags += plausibility.global_total_flags(q, total)
        return flags

    def _model_means(self, model: xr.Dataset, notes: list[str], reduced: Reductions) -> xr.Dataset:
        """Period-mean csoil and rh (step-length weighted; from their annual step sums in
        ``reduced`` when the model has a time axis), with cell_area and land_fraction."""
        ds, _ = self._period_steps(model)
        means = {}
        for v in ("csoil", "rh"):
            if "time" in ds[v].dims:
                key = ("annual_step_sums", v, v, int(ds["time"].dt.year.min()), int(ds["time"].dt.year.max()))
                means[v] = reductions.period_mean_from_sums(reduced[key], v)
            else:
                means[v] = period_mean(ds, v)
        out = xr.Dataset(means)
        out["cell_area"] = model["cell_area"]
        out["land_fraction"] = model["land_fraction"].fillna(0.0)
        return out.load()

    def _reference_taylor_rows(self, observed: xr.Dataset, common: xr.DataArray, area_m2: xr.DataArray
                               ) -> list[dict[str, Any]]:
        """Every non-central combination against the central one: the observational spread."""
        central = np.log10(observed["tau_soil"].isel(combination=0).where(common))
        out = []
        for label in observed["combination"].values[1:]:
            other = np.log10(observed["tau_soil"].sel(combination=label).where(common))
            s = taylor.taylor_statistics(other.drop_vars(["combination", "combination_stock", "combination_flux"]),
                                         central.drop_vars(["combination", "combination_stock", "combination_flux"]),
                                         area_m2)
            out.append({"label": str(label), "role": "reference", "correlation": s["correlation"],
                        "std_ratio": s["std_ratio"], "crmse": s["crmse_normalised"]})
        return out

    def _global_bars(self, model_name: str, tau_model_yr: float) -> pd.DataFrame:
        """Model's global τ beside each observed combination (own cells) and the published value."""
        rows = [{"label": model_name, "role": "model", "value": tau_model_yr, "lower": np.nan, "upper": np.nan,
                 "units": "yr"}]
        obs = self._observed_global_own()
        lo, hi = min(obs.values()), max(obs.values())
        for i, (label, value) in enumerate(obs.items()):
            rows.append({"label": label, "role": "reference", "value": value,
                         "lower": lo if i == 0 else np.nan, "upper": hi if i == 0 else np.nan, "units": "yr"})
        lit = LITERATURE_TAU_SOIL
        rows.append({"label": lit["label"], "role": "literature", "value": lit["value"],
                     "lower": lit["value"] - lit["sd"], "upper": lit["value"] + lit["sd"], "units": "yr"})
        return pd.DataFrame(rows)

    def _observed_global_own(self) -> dict[str, float]:
        """Global τ of each combination on the observations' own grid and cells (model-independent)."""
        if getattr(self, "_obs_global_cache", None) is None:
            observed, fraction = self._observed_on(self._obs_grid)
            area_m2 = self._obs_grid["cell_area"] * fraction
            valid = observed["tau_soil"].notnull().all("combination")
            self._obs_global_cache = tau.observed_global_turnover(observed, area_m2, valid)
        return self._obs_global_cache

    def _fields(self, tau_m, tau_o, attribution, csoil_m, rh_m, observed, area_m2, common, band, model_name
                ) -> xr.Dataset:
        """Maps over (lat, lon) and zonal curves over ``lat_band`` (band centres), per the plot conventions."""
        zonal_m = tau.zonal_turnover_time(csoil_m, rh_m, area_m2, common, band)
        zonal_o = tau.observed_zonal_turnover(observed, area_m2, common, band)

        def zonal_attrs(role, long_name, **extra):
            return {"plot": "zonal", "role": role, "units": "yr", "long_name": long_name,
                    "band_width_deg": band, "comment": f"ratio of totals in {band:g}° bands, common cells", **extra}

        central = observed.attrs["central"]
        fields = xr.Dataset({
            "tau_model": tau_m.assign_attrs(plot="map", role="model", colormap="sequential", units="yr",
                                            long_name=f"soil carbon turnover time, {model_name}"),
            "tau_observed": tau_o.assign_attrs(plot="map", role="reference", colormap="sequential", units="yr",
                                               long_name=f"observed soil carbon turnover time, {central}"),
            "tau_log_ratio": attribution["log_tau_ratio"].assign_attrs(
                plot="map", role="difference", colormap="diverging", vmin=-2.0, vmax=2.0),
            "log_csoil_ratio": attribution["log_csoil_ratio"].assign_attrs(
                plot="map", role="difference", colormap="diverging", vmin=-2.0, vmax=2.0),
            "log_rh_ratio": attribution["log_rh_ratio"].assign_attrs(
                plot="map", role="difference", colormap="diverging", vmin=-2.0, vmax=2.0),
            "tau_attribution": attribution["attribution"].assign_attrs(plot="map", role="attribution",
                                                                       colormap="categorical"),
            "tau_zonal_model": zonal_m.assign_attrs(zonal_attrs("model", f"τ soil, {model_name}")),
            "tau_zonal_observed": zonal_o.isel(combination=0).assign_attrs(zonal_attrs(
                "reference", f"τ soil observed ({central})",
                lower="tau_zonal_observed_lower", upper="tau_zonal_observed_upper")),
            "tau_zonal_observed_lower": zonal_o.min("combination").assign_attrs(
                units="yr", long_name="lowest observed zonal turnover time across stock x Rh products"),
            "tau_zonal_observed_upper": zonal_o.max("combination").assign_attrs(
                units="yr", long_name="highest observed zonal turnover time across stock x Rh products"),
        })
        # keep the dimension coordinates only (combination labels are not needed for plots)
        drop = [c for c in fields.coords if c not in ("lat", "lon", "lat_band")]
        return fields.drop_vars(drop)

    # -- the 2-box constraint --------------------------------------------------------------
    def _two_box(self, model, name, fields, rows, tables, table_meta, notes, reduced):
        if not self.options["twobox"]:
            return fields, rows
        period = self._twobox_period()
        reason = twobox.two_box_unavailable_reason(model, period)
        if reason is not None:
            notes.append(f"2-box constraint not run: {reason}; it needs annual npp, cveg, csoil and rh series "
                         f"covering {period[0]}-{period[1]}.")
            return fields, rows
        step_totals = {key[1]: value for key, value in reduced.items() if key[0] == "global_step_totals"}
        series = twobox.global_annual_series(model, step_totals)
        try:
            result = twobox.constrain_model(
                name, series["year"].to_numpy(), series["npp_pg_yr"].to_numpy(), series["rh_pg_yr"].to_numpy(),
                series["cveg_pg"].to_numpy(), series["csoil_pg"].to_numpy(),
                tau_veg_obs_yr=tuple(self.options["twobox_tau_veg_obs_yr"]),
                tau_soil_obs_yr=tuple(self.options["twobox_tau_soil_obs_yr"]),
                n_draws=tuple(int(n) for n in self.options["twobox_draws"]),
                seed=int(self.options["twobox_seed"]), period=period,
            )
        except ValueError as err:
            notes.append(f"2-box constraint not run: {err}.")
            return fields, rows
        notes.extend(result.notes)
        first, last = int(result.years[0]), int(result.years[-1])
        for _, row in result.changes.iterrows():
            rows.append({"analysis": "two-box", "name": f"delta {row['quantity']} {row['variant']}",
                         "value": row["value"], "units": "Pg", "type": "scalar", "region": GLOBAL,
                         "reference": f"{first}-{last}"})
            if row["variant"] == "constrained":
                rows.append({"analysis": "two-box", "name": f"delta {row['quantity']} constrained sd",
                             "value": row["sd"], "units": "Pg", "type": "scalar", "region": GLOBAL,
                             "reference": f"{first}-{last}"})
        for label, value in (("model tau_veg", result.tau_veg_model_yr), ("model tau_soil", result.tau_soil_model_yr)):
            rows.append({"analysis": "two-box", "name": f"{label} {period[0]}-{period[1]}", "value": value,
                         "units": "yr", "type": "scalar", "region": GLOBAL, "reference": ""})
        tables[TWOBOX_TABLE] = result.table()
        table_meta[TWOBOX_TABLE] = {"plot": "bars", "title": f"2-box: carbon stock changes {first}-{last}",
                                    "units": "Pg"}
        year = xr.DataArray(result.years, dims="year", name="year")
        series_vars = {}
        for variant in twobox.VARIANTS:
            var = f"ctotal_{variant}"
            attrs = {"plot": "series", "role": "model", "units": "Pg",
                     "long_name": f"total land carbon (veg + soil), {variant}"}
            if variant == "constrained":
                attrs.update(lower=f"{var}_lower", upper=f"{var}_upper")
                sd = result.constrained_sd["cTotal"]
                mean = result.series[(variant, "cTotal")]
                series_vars[f"{var}_lower"] = xr.DataArray(mean - sd, coords={"year": year}, dims="year",
                                                           attrs={"units": "Pg"})
                series_vars[f"{var}_upper"] = xr.DataArray(mean + sd, coords={"year": year}, dims="year",
                                                           attrs={"units": "Pg"})
            series_vars[var] = xr.DataArray(result.series[(variant, "cTotal")], coords={"year": year}, dims="year",
                                            attrs=attrs)
        return fields.assign(series_vars), rows

    @classmethod
    def summarize_models(cls, out_dir: str | Path, confrontation_name: str,
                         task_dirs: Iterable[str | Path] | None = None) -> dict[str, pd.DataFrame] | None:
        """2-box ensemble over the models' saved ``tables/twobox.csv`` (run after all models).

        ``task_dirs`` are the model task directories to combine (the runner passes this run's ok
        model tasks); without them every model directory of the confrontation is read. Passing
        them matters: directories of models dropped since an earlier run into the same ``OUT/``
        stay on disk for reuse and must not join this run's ensemble.

        Writes ``OUT/<confrontation>/twobox_ensemble.csv`` (ensemble changes, ``bars`` layout) and
        ``twobox_emulation.csv`` (slope and R² of emulated vs original ΔcTotal across models).
        Returns the tables, or None (and removes earlier ensemble files) when no model had the
        2-box constraint.
        """
        directory = Path(out_dir) / confrontation_name
        if task_dirs is None:
            task_dirs = sorted(p for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []
        frames = [pd.read_csv(table) for table in _twobox_tables(task_dirs)]
        if not frames:
            for file_name in ENSEMBLE_FILES.values():
                (directory / file_name).unlink(missing_ok=True)  # an earlier run's ensemble would describe other models
            return None
        combined = twobox.ensemble(frames)
        for key, file_name in ENSEMBLE_FILES.items():
            with atomic.atomic_path(directory / file_name) as tmp:
                combined[key].to_csv(tmp, index=False)
        return combined

    # -- references against each other ----------------------------------------------------
    def confront_references(self) -> ConfrontationResult | None:
        """Observed τ of every stock × Rh combination on the observations' grid."""
        self.stage_data()
        observed, fraction = self._observed_on(self._obs_grid)
        area_m2 = self._obs_grid["cell_area"] * fraction
        valid = observed["tau_soil"].notnull().all("combination") & (area_m2 > 0)
        central = observed.attrs["central"]
        rows = []
        for region, mask in region_masks(self._obs_grid["lat"], self._obs_grid["lon"]).items():
            for label, value in tau.observed_global_turnover(observed, area_m2, valid & mask).items():
                rows.append({"analysis": "turnover", "name": "tau observed", "value": value, "units": "yr",
                             "type": "scalar", "region": region, "reference": label})
        scalars = scalar_rows(rows, model="references", confrontation=self.name)
        tau_o = observed["tau_soil"].isel(combination=0, drop=True).where(valid)
        fields = xr.Dataset({"tau_observed": tau_o.assign_attrs(
            plot="map", role="reference", colormap="sequential", units="yr",
            long_name=f"observed soil carbon turnover time, {central}")})
        fields = fields.drop_vars([c for c in fields.coords if c not in ("lat", "lon")])
        taylor_rows = self._reference_taylor_rows(observed, valid, area_m2)
        obs = self._observed_global_own()
        bars = pd.DataFrame([{"label": k, "role": "reference", "value": v, "lower": np.nan, "upper": np.nan,
                              "units": "yr"} for k, v in obs.items()])
        tables = {"global_tau": bars}
        meta = {"global_tau": {"plot": "bars", "title": "Global soil carbon turnover time", "units": "yr"}}
        if taylor_rows:
            tables["taylor_log_tau"] = pd.DataFrame(taylor_rows)
            meta["taylor_log_tau"] = {"plot": "taylor", "title": "Spatial pattern of log10 turnover time"}
        notes = [f"observed τ: soil carbon {', '.join(self._stocks)} over Rh {', '.join(self._fluxes)}; "
                 f"central {central}; cells with Rh > {self.options['rh_threshold_g_m2_yr']:g} g m-2 yr-1."]
        return ConfrontationResult(scalars, fields, tables, meta, notes)


def _twobox_tables(task_dirs: Iterable[str | Path]) -> list[Path]:
    """The saved 2-box tables of those model tasks that completed ok (references skipped)."""
    tables = []
    for task_dir in map(Path, task_dirs):
        table = task_dir / "tables" / f"{TWOBOX_TABLE}.csv"
        if task_dir.name == REFERENCES_SLUG or not table.is_file():
            continue
        try:
            meta = json.loads((task_dir / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # incomplete task
        if meta.get("status") == "ok":
            tables.append(table)
    return tables
