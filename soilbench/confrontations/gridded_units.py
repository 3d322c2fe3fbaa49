"""The analysis units of the gridded confrontations (:mod:`soilbench.confrontations.gridded`).

Each unit gets the model already prepared by its confrontation (the compared years, the derived
field, the period-mean map from the runner's one pass: :class:`GriddedInputs`) and does one
analysis: global totals, regional totals, zonal bands or the mean-state maps. The formulas are
pure functions of :mod:`soilbench.analysis`; the units build the rows, fields and tables of the
plot conventions (``docs/architecture.md``) and name their components of the overall score.
Methods and scoring choices: ``docs/gridded.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import regions
from soilbench.analysis import bias, partition, reductions, regrid, scores, taylor, totals, zonal
from soilbench.analysis.integrate import land_area_m2
from soilbench.analysis.spread import cv_map
from soilbench.confrontations.units import AnalysisUnit, OptionError, Options, UnitResult
from soilbench.quantities import FLUX_TOTAL_UNITS, FLUX_UNITS

GROUPS = {"rh": "Rh", "rs": "SR"}
REGION_SETS = ("latitude_bands", "koppen")
#: ILAMB 2.x's weights of the mean-state scores in the overall score
TAYLOR_SCORE_WEIGHTS = {"bias score": 1.0, "rmse score": 2.0, "spatial distribution score": 1.0}


# -- options ---------------------------------------------------------------------------------------
def _divides_180(width: float) -> bool:
    return width > 0 and bool(np.isclose(180.0 / width, round(180.0 / width)))


@dataclass(frozen=True)
class GriddedOptions(Options):
    """Options of every gridded confrontation (``docs/gridded.md``)."""

    quantity: str = "rh"
    period: list[int] | None = None
    regions: list[str] | None = field(default_factory=lambda: list(REGION_SETS))
    region_band_width: float = 30.0
    rs_from_rh: str = "none"

    def __post_init__(self):
        if self.quantity not in GROUPS:
            raise OptionError("quantity", f"quantity must be one of {sorted(GROUPS)}, got {self.quantity!r}")
        period = self.period
        if period is not None:
            ok = isinstance(period, (list, tuple)) and len(period) == 2 and all(isinstance(y, int) for y in period)
            if not ok or period[0] > period[1]:
                raise OptionError("period", f"period must be [first_year, last_year], got {period!r}")
        unknown = sorted(set(self.regions or []) - set(REGION_SETS))
        if unknown:
            raise OptionError("regions", f"unknown region set(s) {unknown}; allowed: {list(REGION_SETS)}")
        if not _divides_180(float(self.region_band_width)):
            raise OptionError("region_band_width",
                              f"region_band_width must divide 180, got {float(self.region_band_width)}")
        if self.rs_from_rh not in partition.METHODS:
            raise OptionError("rs_from_rh", f"rs_from_rh must be one of {list(partition.METHODS)}, "
                              f"got {self.rs_from_rh!r}")

    @property
    def years(self) -> tuple[int, int] | None:
        """The requested period as (first, last) years; None: the model's whole record."""
        return None if self.period is None else (int(self.period[0]), int(self.period[1]))


@dataclass(frozen=True)
class ZonalOptions(GriddedOptions):
    """Options of ``zonal_means``: the gridded ones, the band width and the bands' CI level."""

    band_width: float = 5.0
    confidence: float = 0.95

    def __post_init__(self):
        super().__post_init__()
        if not _divides_180(float(self.band_width)):
            raise OptionError("band_width", f"band_width must divide 180, got {float(self.band_width)}")
        if not 0 < float(self.confidence) < 1:
            raise OptionError("confidence", "confidence must lie in (0, 1)")


# -- maps on a common grid -------------------------------------------------------------------------
def _slug(reference_id: str) -> str:
    """A variable-name-safe form of a reference id (``cardamom-rh`` → ``cardamom_rh``)."""
    return "".join(c if c.isalnum() else "_" for c in reference_id)


@dataclass
class _Map:
    """A period-mean map as a canonical dataset (``value`` + ``cell_area`` + ``land_fraction``)."""

    label: str
    ds: xr.Dataset
    notes: list[str] = field(default_factory=list)


def _as_map(ds: xr.Dataset, values: xr.DataArray, label: str) -> _Map:
    out = xr.Dataset({"value": values, "cell_area": ds["cell_area"], "land_fraction": ds["land_fraction"]},
                     attrs=dict(ds.attrs))
    return _Map(label, out)


def _on_grid(item: _Map, target: xr.Dataset) -> xr.Dataset:
    return regrid.regrid_field(item.ds, "value", target).compute()


def _common_maps(items: list[_Map]) -> tuple[xr.Dataset, list[xr.Dataset]]:
    """All maps conservatively on the coarsest of their grids."""
    target = items[regrid.coarsest([i.ds for i in items])].ds
    return target, [_on_grid(i, target) for i in items]


def _pair_weights(a: xr.Dataset, b: xr.Dataset) -> xr.DataArray:
    """Area counted when comparing two regridded maps: cell area × the land both have."""
    fraction = np.minimum(a["land_fraction"], b["land_fraction"])
    return land_area_m2(a["cell_area"], fraction).where(a["value"].notnull() & b["value"].notnull(), 0.0)


# -- what the units get ----------------------------------------------------------------------------
Masks = Callable[[xr.DataArray, xr.DataArray], dict[str, xr.DataArray]]


@dataclass
class GriddedInputs:
    """A prepared comparison: ``first`` (the model's period-mean map, or the first product when
    products are compared with each other, ``role="reference"``) against ``others`` (the staged
    gridded references). ``ds`` is the prepared model over the compared years and ``sums`` its
    annual step sums (None for a climatology or for references); ``masks`` the region masks of
    the confrontation's options on a grid."""

    name: str
    first: _Map
    others: list[_Map]
    masks: Masks
    role: str = "model"
    ds: xr.Dataset | None = None
    sums: xr.Dataset | None = None
    #: each gridded reference's annual means over its whole record (None: a climatology)
    series: dict[str, xr.Dataset | None] = field(default_factory=dict)


@dataclass
class TotalsInputs:
    """A model's totals prepared by ``global_totals`` for its units: the model's annual-mean map
    (``annual_map``: its global sum is the period total), regional and global totals, the
    references' bars rows, the spread σ of the global estimates and, per gridded product, the
    totals of model and product on their common cells."""

    name: str
    references: list[str]
    model_total: float
    regional: pd.Series
    annual: xr.DataArray | None
    ref_rows: list[dict[str, Any]]
    sigma: float
    relative_spread: float
    common: dict[str, dict[str, tuple[float, float]]]
    gridded_regional: dict[str, pd.Series]


def _missing_note(missing: list[str]) -> list[str]:
    return ([f"incomplete: no model value in {len(missing)} region(s) where the product has flux "
             f"({', '.join(missing)}); each scores 0"] if missing else [])


# -- global_totals ---------------------------------------------------------------------------------
class GlobalTotal(AnalysisUnit):
    """The model's global total against every reference's estimates (component ``global total
    score``: the mean over the references of each one's score)."""

    name = "global total"
    Options = GriddedOptions

    def __call__(self, inputs: TotalsInputs) -> UnitResult:
        rows: list[dict[str, Any]] = [
            {"reference": "", "region": regions.GLOBAL, "analysis": "global total", "name": "total",
             "type": "scalar", "units": FLUX_TOTAL_UNITS, "value": inputs.model_total},
            {"reference": "", "region": regions.GLOBAL, "analysis": "global total", "name": "spread of estimates",
             "type": "scalar", "units": FLUX_TOTAL_UNITS, "value": inputs.sigma},
        ]
        annual = inputs.annual
        if annual is not None and annual.sizes["year"] > 1:
            slope = float(np.polyfit(annual["year"].values, annual.values, 1)[0])
            rows.append({"reference": "", "region": regions.GLOBAL, "analysis": "global total", "name": "trend",
                         "type": "scalar", "units": "Pg yr-2", "value": slope})
        missing: list[str] = []
        # one score per reference: the mean over its scored estimates
        global_scores: dict[str, float] = {}
        for reference_id in inputs.references:
            mine = [r for r in inputs.ref_rows if r["reference"] == reference_id and r["scored"]]
            if not mine:
                continue
            if reference_id in inputs.common:
                # gridded products: model and product on the land both have (docs/scores.md)
                model_common, reference_common = inputs.common[reference_id][regions.GLOBAL]
                score = totals.total_uncertainty_score(model_common, reference_common, 0.0,
                                                       inputs.relative_spread * abs(reference_common))
                if not np.isfinite(score):
                    score = 0.0  # no land in common with the product
                    missing.append(f"{regions.GLOBAL} ({reference_id})")
                global_scores[reference_id] = score
                rows += [
                    {"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                     "name": "common land share", "type": "scalar", "units": "1",
                     "value": inputs.common[reference_id]["_common_land_share"][0]},
                    {"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                     "name": "model total on common cells", "type": "scalar", "units": FLUX_TOTAL_UNITS,
                     "value": model_common},
                    {"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                     "name": "reference total on common cells", "type": "scalar", "units": FLUX_TOTAL_UNITS,
                     "value": reference_common},
                ]
            else:
                each = [totals.total_uncertainty_score(inputs.model_total, r["value"], r["half_width"], inputs.sigma)
                        for r in mine]
                global_scores[reference_id] = float(np.mean(each))
            reference_value = float(np.mean([r["value"] for r in mine])) if len(mine) == 1 else np.nan
            if np.isfinite(reference_value):
                rows.append({"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                             "name": "reference total", "type": "scalar", "units": FLUX_TOTAL_UNITS,
                             "value": reference_value})
            rows.append({"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                         "name": "total score", "type": "score", "units": "1", "value": global_scores[reference_id]})
        score = float(np.mean(list(global_scores.values()))) if global_scores else np.nan
        return UnitResult(rows=rows, notes=_missing_note(missing), components={"global total score": score})


class RegionalTotals(AnalysisUnit):
    """The model's regional totals against each gridded product on their common cells
    (component ``regional total score``, when there are products and regions)."""

    name = "regional totals"
    Options = GriddedOptions

    def __call__(self, inputs: TotalsInputs) -> UnitResult:
        rows = [{"reference": "", "region": region, "analysis": "regional total", "name": "total",
                 "type": "scalar", "units": FLUX_TOTAL_UNITS, "value": float(value)}
                for region, value in inputs.regional.items() if region != regions.GLOBAL]
        # σ per region: the products' spread (own land) with two or more products, else the
        # relative spread of the global estimates
        scores_: list[float] = []
        missing: list[str] = []
        region_names = [r for r in inputs.regional.index if r != regions.GLOBAL]
        products = list(inputs.gridded_regional)
        for region in region_names:
            product_values = [float(inputs.gridded_regional[r][region]) for r in products]
            for reference_id in products:
                reference_own = float(inputs.gridded_regional[reference_id][region])
                if not (np.isfinite(reference_own) and reference_own != 0):
                    continue  # the product has nothing there: nothing to score
                model_value, reference_value = inputs.common[reference_id].get(region, (np.nan, np.nan))
                if not (np.isfinite(model_value) and np.isfinite(reference_value)):
                    score = 0.0  # the product has flux in the region, the model no value on its land
                    missing.append(f"{region} ({reference_id})")
                else:
                    spread = (totals.estimate_spread(product_values, fallback=np.nan) if len(product_values) > 1
                              else np.nan)
                    region_sigma = (spread * abs(reference_value / reference_own) if np.isfinite(spread)
                                    else inputs.relative_spread * abs(reference_value))
                    if not region_sigma > 0:  # no product flux on the common land: scale by its own total
                        region_sigma = inputs.relative_spread * abs(reference_own)
                    score = totals.total_uncertainty_score(model_value, reference_value, 0.0, region_sigma)
                scores_.append(score)
                rows += [
                    {"reference": reference_id, "region": region, "analysis": "regional total",
                     "name": "reference total", "type": "scalar", "units": FLUX_TOTAL_UNITS, "value": reference_own},
                    {"reference": reference_id, "region": region, "analysis": "regional total",
                     "name": "model total on common cells", "type": "scalar", "units": FLUX_TOTAL_UNITS,
                     "value": model_value},
                    {"reference": reference_id, "region": region, "analysis": "regional total",
                     "name": "reference total on common cells", "type": "scalar", "units": FLUX_TOTAL_UNITS,
                     "value": reference_value},
                    {"reference": reference_id, "region": region, "analysis": "regional total",
                     "name": "total score", "type": "score", "units": "1", "value": score},
                ]
        components = {}
        if products and region_names:
            components["regional total score"] = float(np.mean(scores_)) if scores_ else np.nan
        return UnitResult(rows=rows, notes=_missing_note(missing), components=components)


# -- zonal_means -----------------------------------------------------------------------------------
class ZonalBands(AnalysisUnit):
    """Area-weighted band means and totals of ``first`` and each of ``others`` on the land both
    have, with CIs, and a zonal score per reference (methods.md §2): the components, one per
    reference, equally weighted."""

    name = "zonal bands"
    Options = ZonalOptions

    def __call__(self, inputs: GriddedInputs) -> UnitResult:
        target, on_grid = _common_maps([inputs.first] + inputs.others)
        width, confidence = float(self.options.band_width), float(self.options.confidence)
        first, first_role = inputs.first, inputs.role
        fields, rows, band_scores = {}, [], {}
        for other, other_ds in zip(inputs.others, on_grid[1:]):
            weights = _pair_weights(on_grid[0], other_ds)
            comp = zonal.zonal_comparison(on_grid[0]["value"], other_ds["value"], weights, width, confidence)
            slug = _slug(other.label)
            first_name = "model" if first_role == "model" else _slug(first.label)
            for stat, unit, what in (("mean", FLUX_UNITS, "zonal mean"), ("total", FLUX_TOTAL_UNITS, "band total")):
                for side, name, role, label in (("model", f"zonal_{stat}_{first_name}_vs_{slug}", first_role,
                                                 f"{first.label} ({what} on cells valid in {other.label})"),
                                                ("reference", f"zonal_{stat}_{slug}", "reference",
                                                 f"{other.label} ({what})")):
                    da = comp[f"{side}_{stat}"]
                    attrs = {"plot": "zonal", "role": role, "units": unit, "long_name": label}
                    if stat == "mean":
                        attrs.update(lower=f"{name}_lower", upper=f"{name}_upper")
                        for bound in ("lower", "upper"):
                            fields[f"{name}_{bound}"] = comp[f"{side}_{bound}"].assign_attrs(
                                units=unit, long_name=f"{label}, {bound} {confidence:.0%} limit")
                    fields[name] = da.assign_attrs(attrs)
            fields[f"zonal_score_{slug}"] = comp["score"].assign_attrs(long_name=f"band score against {other.label}")
            score = zonal.zonal_score(comp)
            band_scores[other.label] = score
            rows.append({"reference": other.label, "region": regions.GLOBAL, "analysis": "zonal means",
                         "name": "zonal score", "type": "score", "units": "1", "value": score})
            for centre, value in comp["score"].to_series().items():
                if np.isfinite(value):
                    lo, hi = centre - width / 2, centre + width / 2
                    rows.append({"reference": other.label, "region": f"lat_{lo:g}_{hi:g}", "analysis": "zonal means",
                                 "name": "band score", "type": "score", "units": "1", "value": float(value)})
        attrs = {"band_width_deg": width, "confidence": confidence,
                 "grid": f"{target.sizes['lat']}x{target.sizes['lon']}", "quantity": self.options.quantity}
        return UnitResult(rows=rows, fields=fields, components=band_scores, field_attrs=attrs)


# -- taylor ----------------------------------------------------------------------------------------
class MeanStateMaps(AnalysisUnit):
    """Period-mean maps against each gridded reference: Taylor statistics, bias, RMSE and
    spatial-distribution scores per region (methods.md §3, §7). Against a model, one component
    per reference (its mean-state score: ILAMB's weights :data:`TAYLOR_SCORE_WEIGHTS`); products
    against the first product, one component per product (its spatial-distribution score)."""

    name = "mean-state maps"
    Options = GriddedOptions

    def _region_stats(self, model: xr.Dataset, reference: xr.Dataset, reference_id: str,
                      rmse_score_map: xr.DataArray | None, masks: Masks) -> tuple[list[dict], dict[str, Any]]:
        weights = _pair_weights(model, reference)
        score_map = bias.bias_score_map(model["value"], reference["value"])
        rows, global_parts = [], {}
        for region, mask in masks(model["lat"], model["lon"]).items():
            w = weights.where(mask.values, 0.0)
            stats_ = taylor.taylor_statistics(model["value"], reference["value"], w)
            parts = {"bias score": scores.area_weighted_mean(score_map, w),
                     "spatial distribution score": stats_["score"]}
            # ILAMB 2.x's numbers, for comparison with ILAMB runs (docs/scores.md): scalars, not scored
            ilamb_parts = {"ILAMB bias score": scores.area_weighted_mean(bias.ilamb_bias_score_map(
                model["value"], reference["value"]), w), "ILAMB spatial distribution score": stats_["score_ilamb"]}
            if rmse_score_map is not None:
                parts["rmse score"] = scores.area_weighted_mean(rmse_score_map, w)
            common = {"reference": reference_id, "region": region, "analysis": "taylor"}
            rows += [
                {**common, "name": "correlation", "type": "scalar", "units": "1", "value": stats_["correlation"]},
                {**common, "name": "normalised standard deviation", "type": "scalar", "units": "1",
                 "value": stats_["std_ratio"]},
                {**common, "name": "centred RMSE", "type": "scalar", "units": FLUX_UNITS, "value": stats_["crmse"]},
                {**common, "name": "normalised centred RMSE", "type": "scalar", "units": "1",
                 "value": stats_["crmse_normalised"]},
                {**common, "name": "bias", "type": "scalar", "units": FLUX_UNITS, "value": stats_["bias"]},
            ]
            rows += [{**common, "name": name, "type": "score", "units": "1", "value": value} for name, value in parts.items()]
            rows += [{**common, "name": name, "type": "scalar", "units": "1", "value": value}
                     for name, value in ilamb_parts.items()]
            if region == regions.GLOBAL:
                global_parts = {**parts, "_stats": stats_}
        return rows, global_parts

    def _rmse_map(self, inputs: GriddedInputs, reference: _Map, target: xr.Dataset
                  ) -> tuple[xr.DataArray | None, list[str]]:
        """RMSE score map on the common grid when model and reference both have annual series
        (the model's annual means from its annual step sums, the reference's staged)."""
        if inputs.sums is None:
            return None, []
        q = self.options.quantity
        r_years = inputs.series.get(reference.label)
        if r_years is None:
            return None, [f"{reference.label} is a climatology: no RMSE score"]
        m_years = reductions.annual_mean_from_sums(inputs.sums, q).to_dataset()
        common = np.intersect1d(m_years["year"].values, r_years["year"].values)
        if common.size < 2:
            return None, [f"fewer than two common years with {reference.label}: no RMSE score"]

        def on_target(years: xr.Dataset, source: xr.Dataset) -> xr.DataArray:
            one = xr.Dataset({"value": years[q].sel(year=common).rename(year="time"),
                              "cell_area": source["cell_area"], "land_fraction": source["land_fraction"]})
            return regrid.regrid_field(one, "value", target)["value"].assign_coords(
                step_days=("time", np.ones(common.size)))

        _, score = bias.rmse_score_map(on_target(m_years, inputs.ds), on_target(r_years, reference.ds))
        return score.compute(), []

    @staticmethod
    def _taylor_rows(primary: str, on_grid: dict[str, xr.Dataset]) -> list[dict[str, Any]]:
        """Every other product against ``primary``. ``primary`` itself is not a row: the diagram's
        reference star at (1, 0) stands for it, and a second point there would only duplicate it."""
        rows = []
        for label, ds in on_grid.items():
            if label == primary:
                continue
            s = taylor.taylor_statistics(ds["value"], on_grid[primary]["value"], _pair_weights(ds, on_grid[primary]))
            rows.append({"label": label, "role": "reference", "correlation": s["correlation"],
                         "std_ratio": s["std_ratio"], "crmse": s["crmse_normalised"], "reference": primary})
        return rows

    def __call__(self, inputs: GriddedInputs) -> UnitResult:
        return self._products(inputs) if inputs.role == "reference" else self._model(inputs)

    def _model(self, inputs: GriddedInputs) -> UnitResult:
        q, model_name, items = self.options.quantity, inputs.name, inputs.others
        target, on_grid = _common_maps([inputs.first] + items)
        model_grid, refs_grid = on_grid[0], dict(zip([i.label for i in items], on_grid[1:]))
        units = FLUX_UNITS
        fields = {"mean_model": model_grid["value"].assign_attrs(
            plot="map", role="model", colormap="sequential", units=units, long_name=f"{model_name} period-mean {q}")}
        rows, components, notes = [], {}, []
        primary = items[0].label
        taylor_rows = []
        for item in items:
            ref = refs_grid[item.label]
            notes += item.notes
            rmse_map, rmse_notes = self._rmse_map(inputs, item, target)
            notes += rmse_notes
            region_rows, parts = self._region_stats(model_grid, ref, item.label, rmse_map, inputs.masks)
            rows += region_rows
            stats_ = parts.pop("_stats")
            components[item.label], missing = scores.overall_score_counting_missing(parts, TAYLOR_SCORE_WEIGHTS)
            if missing:
                notes.append(f"incomplete against {item.label}: {', '.join(missing)} missing (no value on the "
                             "cells compared); counted as 0")
            rows.append({"reference": item.label, "region": regions.GLOBAL, "analysis": "taylor",
                         "name": "mean-state score", "type": "score", "units": "1", "value": components[item.label]})
            slug = _slug(item.label)
            fields[f"mean_{slug}"] = ref["value"].assign_attrs(
                plot="map", role="reference", colormap="sequential", units=units, long_name=f"{item.label} period-mean")
            fields[f"difference_{slug}"] = bias.bias_map(model_grid["value"], ref["value"]).assign_attrs(
                plot="map", role="difference", colormap="diverging", units=units,
                long_name=f"{model_name} − {item.label}")
            fields[f"bias_score_{slug}"] = bias.bias_score_map(model_grid["value"], ref["value"]).assign_attrs(
                plot="map", role="model", colormap="sequential", units="1", vmin=0.0, vmax=1.0,
                long_name=f"bias score against {item.label}")
            if rmse_map is not None:
                fields[f"rmse_score_{slug}"] = rmse_map.assign_attrs(
                    plot="map", role="model", colormap="sequential", units="1", vmin=0.0, vmax=1.0,
                    long_name=f"RMSE score against {item.label}")
            if item.label == primary:
                taylor_rows.append({"label": model_name, "role": "model", "correlation": stats_["correlation"],
                                    "std_ratio": stats_["std_ratio"], "crmse": stats_["crmse_normalised"],
                                    "reference": primary})
        taylor_rows += self._taylor_rows(primary, refs_grid)
        table_meta = {"taylor": {"plot": "taylor", "title": f"{q} period-mean maps (normalised by {primary})"}}
        return UnitResult(rows=rows, fields=fields, tables={"taylor": pd.DataFrame(taylor_rows)},
                          table_meta=table_meta, notes=notes, components=components)

    def _products(self, inputs: GriddedInputs) -> UnitResult:
        items = [inputs.first] + inputs.others
        target, on_grid = _common_maps(items)
        refs_grid = dict(zip([i.label for i in items], on_grid))
        primary = items[0].label
        rows, components = [], {}
        for item in items[1:]:
            region_rows, parts = self._region_stats(refs_grid[item.label], refs_grid[primary], primary, None,
                                                    inputs.masks)
            components[item.label] = parts["spatial distribution score"]
            rows += [{**r, "reference": primary, "analysis": f"taylor: {item.label}"} for r in region_rows]
        fields = {f"mean_{_slug(label)}": ds["value"].assign_attrs(
            plot="map", role="reference", colormap="sequential", units=FLUX_UNITS, long_name=f"{label} period-mean")
            for label, ds in refs_grid.items()}
        fields["cv_products"] = cv_map([ds["value"] for ds in refs_grid.values()]).assign_attrs(
            plot="map", role="reference", colormap="sequential", units="1",
            long_name="coefficient of variation across products")
        meta = {"taylor": {"plot": "taylor", "title": f"{self.options.quantity} products (normalised by {primary})"}}
        return UnitResult(rows=rows, fields=fields, tables={"taylor": pd.DataFrame(self._taylor_rows(primary, refs_grid))},
                          table_meta=meta, components=components,
                          notes=[f"products compared with {primary} on the {target.sizes['lat']}x{target.sizes['lon']} grid"])

