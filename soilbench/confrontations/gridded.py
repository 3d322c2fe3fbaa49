"""Gridded confrontations of rh / rs: global totals, zonal means and Taylor statistics.

Each type stages its references, prepares the model (the compared years, the derived field, the
period-mean map from the runner's one pass) and hands it to its analysis units
(:mod:`soilbench.confrontations.gridded_units`: global and regional totals, zonal bands,
mean-state maps); the result builder (:mod:`soilbench.confrontations.build`) writes the scalars
and the one ``overall score`` row. The science lives in :mod:`soilbench.analysis`. Methods and
scoring choices: ``docs/gridded.md``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import derived, regions
from soilbench.derived import model_field  # noqa: F401 — where the site types import it from
from soilbench.analysis import integrate, partition, periods, plausibility, reductions, totals
from soilbench.analysis.spread import coefficient_of_variation
from soilbench.confrontations import build
from soilbench.confrontations.base import Confrontation, Reductions, ReductionKey
from soilbench.confrontations.gridded_units import (  # noqa: F401 — GROUPS … TAYLOR_SCORE_WEIGHTS: public names
    GROUPS, REGION_SETS, TAYLOR_SCORE_WEIGHTS, GlobalTotal, GriddedInputs, GriddedOptions, MeanStateMaps,
    RegionalTotals, TotalsInputs, ZonalBands, ZonalOptions, _as_map, _common_maps, _Map, _pair_weights, _slug,
)
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.quantities import FLUX_TOTAL_UNITS, FLUX_UNITS
from soilbench.results import ConfrontationResult, Flag, scalar_rows

REFERENCES_LABEL = "references"


def rs_from_rh_data(method: str, quantity: str, name: str, source: str | None) -> list[str]:
    """Check an ``rs_from_rh`` option; the registry datasets it reads (for fingerprints and provenance).

    Shared by the gridded and the site confrontations so the option means the same everywhere.
    """
    if method not in partition.METHODS:
        raise ConfigError(source, f"confrontation '{name}': rs_from_rh must be one of {list(partition.METHODS)}, "
                          f"got {method!r}", "options.rs_from_rh")
    return [partition.RC_DATASET] if method == "root_contribution" and quantity == "rs" else []


def stage_root_contribution(auxiliary_data: list[str], data_dir) -> xr.Dataset | None:
    """The RC map in memory (``rc``, ``cell_area``, ``land_fraction``) when the confrontation needs it."""
    if partition.RC_DATASET not in auxiliary_data:
        return None
    from soilbench.load import load_reference

    return load_reference(partition.RC_DATASET, data_dir=data_dir)[["rc", "cell_area", "land_fraction"]].load()


def select_period(ds: xr.Dataset, period: periods.Years | None, what: str) -> tuple[xr.Dataset, list[str]]:
    """A reference's steps in the requested ``period`` (:func:`soilbench.analysis.periods.steps_in`);
    without a shared year its whole record, with a note."""
    own = periods.years_of(ds)
    if period is None or "time" not in ds.dims:
        return ds, []
    kept = periods.shared(own, period)
    if kept is None:
        return ds, [f"{what} covers {own[0]}-{own[1]}, outside the period {period[0]}-{period[1]}: "
                    f"compared as a {own[0]}-{own[1]} climatology"]
    return periods.steps_in(ds, kept), []


def period_of(ds: xr.Dataset) -> periods.Years | None:
    """First and last year a canonical dataset represents (time axis, else ``attrs['period']``)."""
    return periods.years_of(ds)


class _Gridded(Confrontation):
    """Shared option handling and reference staging of the gridded confrontations."""

    gridded_only: ClassVar[bool] = True
    reference_loaders: ClassVar[tuple[str, ...]] = ("gridded", "merge_where_positive")
    #: the options (``docs/gridded.md``), validated by their typed definition
    options_type: ClassVar[type[GriddedOptions]] = GriddedOptions

    def __init__(self, name, references, options=None, weight=1.0, data_dir=None, source=None):
        super().__init__(name, references, options, weight, data_dir, source)
        quantity = self.settings.quantity
        self.quantity = quantity
        self.group = GROUPS[quantity]
        self.quantities = (quantity,)
        self.period: tuple[int, int] | None = self.settings.years
        self.auxiliary_data = rs_from_rh_data(self.options["rs_from_rh"], quantity, name, source)
        if not self.references:
            raise ConfigError(source, f"confrontation '{name}' needs at least one reference", "references")
        if self.gridded_only:
            from soilbench.load import REFERENCE_IDS

            bad = [r for r in self.references if r not in REFERENCE_IDS]
            if bad:
                raise ConfigError(source, f"confrontation '{name}' ({self.kind}) needs gridded references "
                                  f"({', '.join(REFERENCE_IDS)}); not gridded: {bad}", "references")

    def applicable(self, available: set[str]) -> str | None:
        """The quantity, derived ones counting, ``rs`` also from ``rh`` with ``rs_from_rh``."""
        return derived.not_applicable_reason(self.quantities, available, self.options["rs_from_rh"])

    # -- staging -------------------------------------------------------------------------------
    def _stage_gridded(self, reference_id: str, ds: xr.Dataset) -> _Map:
        """The period-mean map of the loaded reference ``ds``."""
        ds, notes = select_period(ds, self.period, reference_id)
        mean = integrate.period_mean(ds, self.quantity).compute()
        item = _as_map(ds.drop_vars([v for v in ds.data_vars if v not in ("cell_area", "land_fraction")])
                       .drop_dims("time", errors="ignore"), mean, reference_id)
        item.ds.attrs["period"] = ds.attrs.get("period", "")
        item.notes = notes
        return item

    def _load_gridded(self, reference_id: str) -> xr.Dataset:
        from soilbench.load import load_reference

        ds = load_reference(reference_id, data_dir=self.data_dir)
        if self.quantity not in ds.data_vars:
            raise SoilbenchError(reference_id, f"has no {self.quantity} (it has: {', '.join(map(str, ds.data_vars))})",
                                 self.quantity)
        return ds

    def _stage(self) -> None:
        self._koppen = None  # read by the first _masks call that needs it (zonal means never do)
        self._rc = stage_root_contribution(self.auxiliary_data, self.data_dir)
        self.maps = {r: self._stage_gridded(r, self._load_gridded(r)) for r in self.references if self._is_gridded(r)}

    def _is_gridded(self, reference_id: str) -> bool:
        from soilbench.load import REFERENCE_IDS

        return reference_id in REFERENCE_IDS

    def _masks(self, lat: xr.DataArray, lon: xr.DataArray) -> dict[str, xr.DataArray]:
        codes = None
        if "koppen" in (self.options["regions"] or []):
            if self._koppen is None:
                self._koppen = regions.load_koppen_classes(self.data_dir)
            codes = regions.climate_groups_on_grid(self._koppen, lat, lon)
        masks = regions.region_masks(lat, lon, codes, float(self.options["region_band_width"]))
        if "latitude_bands" not in (self.options["regions"] or []):
            masks = {k: v for k, v in masks.items() if not k.startswith("lat_")}
        return masks

    # -- helpers ---------------------------------------------------------------------------------
    def _prepare_model(self, model: xr.Dataset) -> tuple[xr.Dataset | None, list[str], periods.PeriodChoice | None]:
        """The model over the compared years (:func:`soilbench.analysis.periods.choose_period`)
        with the quantity as variable, the notes and the period choice; None if not applicable."""
        values, notes = model_field(model, self.quantity, self.options["rs_from_rh"], self._rc)
        if values is None:
            return None, notes, None
        ds = model.assign({self.quantity: values})
        if "time" not in values.dims and "time" in ds.dims:
            ds = ds.drop_dims("time")
        choice = periods.choose_period(periods.years_of(ds), self._reference_years(), self.period,
                                       model_has_time="time" in ds.dims)
        if choice.fallback is None:
            ds = periods.steps_in(ds, choice.compared)
        return ds, notes, choice

    def _reference_years(self) -> dict[str, periods.Years | None]:
        """The years of each gridded reference as staged (None: static)."""
        return {label: periods.years_of(item.ds) for label, item in self.maps.items()}

    def _comparison(self, choice: periods.PeriodChoice) -> dict[str, Any]:
        """``meta.json`` keys: what was compared (:data:`soilbench.results.COMPARISON_KEYS`); a gridded
        reference without a year in the requested period (staged whole, with a note) is a fallback."""
        outside = [' '.join(item.notes) for item in self.maps.values() if item.notes]
        return {"quantity": self.quantity, "units": FLUX_UNITS, "reference_ids": list(self.references),
                "period": periods.with_fallback(choice, outside).as_meta()}

    def _flags(self, mine: "_Map", total_pg: float | None = None) -> list[Flag]:
        """Plausibility of the model for this confrontation (:mod:`soilbench.analysis.plausibility`):
        its valid land area against each gridded reference's, its global total, its grid."""
        flags = plausibility.grid_flags(mine.ds["cell_area"], mine.label)
        model_area = plausibility.valid_land_area_m2(mine.ds["value"], mine.ds["cell_area"], mine.ds["land_fraction"])
        for label, item in self.maps.items():
            reference_area = plausibility.valid_land_area_m2(item.ds["value"], item.ds["cell_area"],
                                                             item.ds["land_fraction"])
            flags += plausibility.land_area_flags(model_area, reference_area, label)
        if total_pg is None:
            total_pg = float(integrate.global_total(mine.ds["value"].assign_attrs(units=FLUX_UNITS),
                                                    integrate.land_area(mine.ds)))
        flags += plausibility.global_total_flags(self.quantity, total_pg)
        return flags

    def _sums_key(self, model: xr.Dataset, ds: xr.Dataset) -> ReductionKey:
        """Key of the annual step sums of the prepared field ``ds[quantity]``: the quantity, how it
        was obtained from the model (:func:`soilbench.derived.how`) and its years."""
        q = self.quantity
        first, last = period_of(ds)
        return ("annual_step_sums", q, derived.how(q, model.data_vars, self.options["rs_from_rh"]), first, last)

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray | xr.Dataset]:
        """The annual step sums (:func:`soilbench.analysis.reductions.annual_step_sums`) of the
        field over the confrontation's period: period means, annual means and annual totals all
        derive from them, for every unit (the confrontation's preparation); none for a climatology
        (no time axis: a small field read as it is). Plus any reductions the units declare."""
        ds, _, _ = self._prepare_model(model)
        own = super().model_reductions(model)  # the units' own (none for soilbench's gridded units)
        if ds is None or "time" not in ds[self.quantity].dims:
            return own
        return {self._sums_key(model, ds): reductions.annual_step_sums(ds[self.quantity]), **own}

    def _annual_sums(self, model: xr.Dataset, ds: xr.Dataset, given: Reductions | None) -> xr.Dataset | None:
        """The computed annual step sums of ``ds`` (None for a climatology)."""
        if "time" not in ds[self.quantity].dims:
            return None
        key = self._sums_key(model, ds)
        if given is not None and key in given:
            return given[key]  # the runner's pass: no need to build the lazy reduction again
        return self.reduced(model, given)[key]

    def _model_map(self, model: xr.Dataset, given: Reductions | None = None
                   ) -> tuple[xr.Dataset | None, _Map | None, list[str], xr.Dataset | None, periods.PeriodChoice | None]:
        """The prepared model (:meth:`_prepare_model`), its period-mean map labelled with the
        model's name, the notes, the annual step sums (None for a climatology) and the period
        choice; ``(None, None, notes, None, None)`` when the confrontation does not apply to it."""
        ds, notes, choice = self._prepare_model(model)
        if ds is None:
            return None, None, notes, None, None
        sums = self._annual_sums(model, ds, given)
        if sums is None:
            mean = integrate.period_mean(ds, self.quantity).compute()
        else:
            mean = reductions.period_mean_from_sums(sums, self.quantity)
        grid = ds.drop_dims("time", errors="ignore")[["cell_area", "land_fraction"]]
        return ds, _as_map(grid, mean, model.attrs.get("model", "model")), notes, sums, choice

    def _not_applicable(self, model_name: str, notes: list[str]) -> ConfrontationResult:
        # "not applicable" is said by applicable() alone, which the runner asks before confront;
        # confronting such a model anyway is an error, never a result with a NaN score
        raise SoilbenchError(f"model '{model_name}'", f"confrontation '{self.name}' does not apply: "
                             + "; ".join(notes), self.quantity)


def mean_and_annual_totals(ds: xr.Dataset, name: str, sums: xr.Dataset, area: xr.DataArray
                           ) -> tuple[xr.DataArray, xr.DataArray]:
    """Period-mean map (g m-2 yr-1) and annual global totals (Pg yr-1) of a flux time series,
    both from its annual step sums (:func:`soilbench.analysis.reductions.annual_step_sums`).

    Σ sums / Σ step_days is ``integrate.period_mean``, and ``integrate.global_total`` of the
    per-year amounts is ``integrate.annual_totals`` (to rounding): one read of the field gives both.
    """
    mean_map = reductions.period_mean_from_sums(sums, name)
    # year by year: the temporaries (amount · area, NaN masks) are one map each, not 37 maps in float64
    annual = xr.concat([integrate.global_total(reductions.annual_total_from_sums(sums.isel(year=[k]), name), area)
                        for k in range(sums.sizes["year"])], dim="year").compute()
    annual.attrs["units"] = FLUX_TOTAL_UNITS
    return mean_map, integrate.with_year_lengths(annual, sums["days"].values, ds)


# ==============================================================================================
class GlobalTotals(_Gridded):
    """Global and regional totals of rh or rs against products, digitised series and literature.

    References: gridded products (``cardamom-rh``), digitised series (``hashimoto2015-rh``,
    ``tang2020-rh``), CMIP6 global totals (``cmip6-rh-global``, context only) and the literature
    tables ``literature-rh`` / ``literature-rs`` shipped with soilbench.
    """

    kind = "global_totals"
    gridded_only = False

    #: how each catalog loader's references enter the totals
    KIND_OF_LOADER: ClassVar[dict[str, str]] = {"gridded": "gridded", "merge_where_positive": "gridded",
                                                "digitised_series": "series", "cmip6_global": "ensemble",
                                                "literature_table": "literature"}
    reference_loaders: ClassVar[tuple[str, ...]] = tuple(KIND_OF_LOADER)
    unit_types = (GlobalTotal, RegionalTotals)

    def __init__(self, name, references, options=None, weight=1.0, data_dir=None, source=None):
        super().__init__(name, references, options, weight, data_dir, source)
        # the shipped literature forms σ even when it is not a scored reference: it is an input
        literature = f"literature-{self.quantity}"
        if literature not in self.references:
            self.auxiliary_data = [*self.auxiliary_data, literature]

    def _reference_kind(self, reference_id: str) -> str:
        from soilbench.load.reference import reference_loader

        if self._is_gridded(reference_id):
            return "gridded"
        kind = self.KIND_OF_LOADER.get(reference_loader(reference_id))
        if kind is None:
            raise SoilbenchError(self.source, f"confrontation '{self.name}': reference '{reference_id}' is neither a "
                                 "gridded product, a digitised series, a CMIP6 global table nor a literature table",
                                 "references")
        return kind

    def _stage(self) -> None:
        from soilbench.catalogs import find_entry
        from soilbench.data import fetch
        from soilbench.load import series

        super()._stage()
        self.series: dict[str, pd.Series] = {}
        self.literature: dict[str, pd.DataFrame] = {}
        self.ensembles: dict[str, pd.DataFrame] = {}
        self.reference_notes: list[str] = []
        for reference_id in self.references:
            kind = self._reference_kind(reference_id)
            if kind == "series":
                self.series[reference_id] = series.read_digitised_series(fetch(reference_id, data_dir=self.data_dir))
            elif kind == "ensemble":
                table = series.read_cmip6_global(fetch(reference_id, data_dir=self.data_dir), self.quantity)
                if table.empty:
                    raise SoilbenchError(reference_id, f"has no rows for variable {self.quantity}", "variable")
                self.ensembles[reference_id] = table
            elif kind == "literature":
                entry = find_entry(reference_id)
                quantity = ", ".join(entry.metadata.get("quantities") or {}) or "no declared quantity"
                if quantity != self.quantity:
                    raise ConfigError(self.source, f"confrontation '{self.name}' compares {self.quantity}; "
                                      f"reference '{reference_id}' is about {quantity}", "references")
                self.literature[reference_id] = series.read_literature_table(entry.paths(self.data_dir)[0])
        #: the shipped estimates of the global total: they form σ whether or not they are scored
        self.spread_literature = series.read_literature_table(
            find_entry(f"literature-{self.quantity}").paths(self.data_dir)[0])
        # reference totals (period means) and their regional breakdown, once
        self.gridded_totals: dict[str, float] = {}
        self.gridded_regional: dict[str, pd.Series] = {}
        for reference_id, item in self.maps.items():
            area = integrate.land_area(item.ds)
            masks = self._masks(item.ds["lat"], item.ds["lon"])
            regional = totals.regional_rate_totals(item.ds["value"], area, masks).to_series()
            self.gridded_regional[reference_id] = regional
            self.gridded_totals[reference_id] = float(regional[regions.GLOBAL])

    # -- reference values for one model period ------------------------------------------------------
    def _reference_rows(self, years: tuple[int, int] | None) -> tuple[list[dict[str, Any]], list[str]]:
        """Bars rows (label, role, value, lower, upper, reference, scored, half_width) and notes."""
        rows, notes = [], []
        for reference_id, total in self.gridded_totals.items():
            rows.append({"label": reference_id, "role": "reference", "value": total, "lower": np.nan,
                         "upper": np.nan, "reference": reference_id, "scored": True, "half_width": 0.0,
                         "point_estimate": True})
        for reference_id, values in self.series.items():
            used = values
            if years is not None:
                used = values[(values.index >= years[0]) & (values.index <= years[1])]
            if used.empty:
                used = values
                notes.append(f"{reference_id} ({values.index.min()}-{values.index.max()}) does not overlap the model "
                             "period: compared with its whole-record mean")
            rows.append({"label": f"{reference_id} ({used.index.min()}-{used.index.max()})", "role": "reference",
                         "value": float(used.mean()), "lower": float(used.min()), "upper": float(used.max()),
                         "reference": reference_id, "scored": True, "half_width": 0.0, "point_estimate": True})
        for reference_id, table in self.literature.items():
            for row in self._literature_rows(table, reference_id):
                rows.append(row)
        for reference_id, table in self.ensembles.items():
            used = table
            if years is not None:
                inside = table[(table["year"] >= years[0]) & (table["year"] <= years[1])]
                used = inside if not inside.empty else table
            per_model = used.groupby("model")["value"].mean()
            first, last = int(used["year"].min()), int(used["year"].max())
            rows.append({"label": f"CMIP6 ensemble, {per_model.size} models ({first}-{last})", "role": "literature",
                         "value": float(per_model.mean()), "lower": float(per_model.min()),
                         "upper": float(per_model.max()), "reference": reference_id, "scored": False,
                         "half_width": 0.0, "point_estimate": False})
        return rows, notes

    def _counted_elsewhere(self, table: pd.DataFrame, row: pd.Series) -> str:
        """The estimate(s) a literature row repeats that the confrontation already counts ("" if none).

        ``same_as`` names digitised series (``hashimoto2015-rh``) or other rows of the table
        (a range row spanning ``hashimoto2015;warner2019;tang2020``); such a row is drawn for
        context, never scored and never part of σ, so each estimate counts once.
        """
        same_as = [x.strip() for x in str(row.get("same_as", "") or "").split(";") if x.strip() and x.strip() != "nan"]
        present = set(self.series) | set(self.maps) | set(table["id"].astype(str))
        return ", ".join(x for x in same_as if x in present)

    def _literature_rows(self, table: pd.DataFrame, reference_id: str) -> list[dict[str, Any]]:
        """Bars rows of a literature table: data-driven estimates not counted elsewhere are scored."""
        rows = []
        for _, row in table.iterrows():
            data_driven = row["category"] == "data-driven"
            repeats = self._counted_elsewhere(table, row)
            counted = data_driven and not repeats
            label = f"{row['estimate']}" + ("" if data_driven else " [models]") + (
                f" [counted as {repeats}]" if repeats else "")
            rows.append({"label": label, "role": "literature", "value": float(row["value"]),
                         "lower": row["lower"], "upper": row["upper"], "reference": reference_id,
                         "scored": counted, "half_width": float(row["half_width"]),
                         "point_estimate": counted and not bool(row["value_is_midpoint"])})
        return rows

    def _spread(self, rows: list[dict[str, Any]], fallback: float) -> tuple[float, float]:
        """σ and the mean of the independent point estimates of the global total, each counted
        once: gridded products (own land), digitised series (means over the model's years) and
        the shipped literature's data-driven best values (whether or not the literature is scored)."""
        values = [r["value"] for r in rows if r["point_estimate"] and r["role"] == "reference"]
        literature = [r for r in rows if r["role"] == "literature"]
        if not literature:
            literature = self._literature_rows(self.spread_literature, "")
        values += [r["value"] for r in literature if r["point_estimate"]]
        mean = float(np.mean(values)) if values else float(fallback)
        return totals.estimate_spread(values, fallback), mean

    def _common_cell_totals(self, annual_map: xr.DataArray, ds: xr.Dataset, product: _Map
                            ) -> tuple[dict[str, tuple[float, float]], xr.Dataset]:
        """Per region, the model's and the product's totals on the land both have (Pg yr-1),
        on the coarser grid: each cell weighted by its area × the smaller land fraction."""
        grid = ds.drop_dims("time", errors="ignore")[["cell_area", "land_fraction"]]
        target, (mine, theirs) = _common_maps([_as_map(grid, annual_map, "model"), product])
        weights = _pair_weights(mine, theirs)
        masks = self._masks(target["lat"], target["lon"])
        shared = weights > 0
        model_totals = totals.regional_rate_totals(mine["value"].where(shared), weights, masks).compute()
        product_totals = totals.regional_rate_totals(theirs["value"].where(shared), weights, masks).compute()
        out = {str(region): (float(model_totals.sel(region=region)), float(product_totals.sel(region=region)))
               for region in model_totals["region"].values}
        # how much of the product's own land the comparison covers (a model on a few cells
        # can agree there and miss the rest: that shows here and in the regional scores)
        own = integrate.land_area(product.ds).where(product.ds["value"].notnull()).sum()
        out["_common_land_share"] = (float(weights.sum() / own) if float(own) > 0 else np.nan, np.nan)
        return out, target

    def _annual_mean_map(self, mean_map: xr.DataArray, annual: xr.DataArray | None,
                         sums: xr.Dataset | None) -> xr.DataArray:
        """The map whose global total is the period total: per cell, the mean over complete
        calendar years of the carbon emitted in each year (each step its real length, so a
        360-day year holds 360 days of flux, as in the global total); a climatology's map as is."""
        if sums is None:
            return mean_map
        complete = (annual["days_covered"] >= annual["days_in_year"] - 1e-6).values
        if not complete.any():
            complete[:] = True
        amounts = reductions.annual_total_from_sums(sums.isel(year=np.flatnonzero(complete)), self.quantity)
        out = amounts.mean("year", skipna=False)
        out.attrs = {**mean_map.attrs, "units": FLUX_UNITS}
        return out.compute()

    # -- confront ----------------------------------------------------------------------------------------
    # -- confront ----------------------------------------------------------------------------------------
    def _totals_inputs(self, model: xr.Dataset, ds: xr.Dataset, reductions: Reductions | None,
                       choice: periods.PeriodChoice, notes: list[str]) -> tuple[TotalsInputs, xr.DataArray]:
        """What the totals units compare (:class:`TotalsInputs`) and the model's period-mean map;
        notes on partial years and on series outside the model's years are appended to ``notes``."""
        q = self.quantity
        area = integrate.land_area(ds)
        masks = self._masks(ds["lat"], ds["lon"])
        annual = None
        sums = self._annual_sums(model, ds, reductions)
        if sums is not None:
            mean_map, annual = mean_and_annual_totals(ds, q, sums, area)
        else:
            mean_map = integrate.period_mean(ds, q)
        # regional totals from the map whose global sum is the period total (complete years'
        # emissions), so the regions add up to the global total in any calendar
        annual_map = self._annual_mean_map(mean_map.compute(), annual, sums)
        regional = totals.regional_rate_totals(annual_map, area, masks).compute().to_series()
        if annual is not None:
            mean_total, any_complete = integrate.complete_years_mean(annual)
            if not any_complete:
                notes.append("no complete calendar year: the period total averages partial years")
            model_total = float(mean_total)
        else:
            model_total = float(regional[regions.GLOBAL])
        ref_rows, ref_notes = self._reference_rows(choice.compared)
        notes += ref_notes
        sigma, mean_estimate = self._spread(ref_rows, fallback=model_total)
        # σ relative to the estimates' mean: transferred to totals over other areas (common cells, regions)
        relative_spread = sigma / abs(mean_estimate) if mean_estimate else 1.0
        common = {reference_id: self._common_cell_totals(annual_map, ds, item)[0]
                  for reference_id, item in self.maps.items()}
        inputs = TotalsInputs(str(model.attrs.get("model", "model")), list(self.references), model_total, regional,
                              annual, ref_rows, sigma, relative_spread, common, self.gridded_regional)
        return inputs, mean_map

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        model_name = model.attrs.get("model", "model")
        ds, notes, choice = self._prepare_model(model)
        if ds is None:
            return self._not_applicable(model_name, notes)
        q = self.quantity
        inputs, mean_map = self._totals_inputs(model, ds, reductions, choice, notes)
        annual, model_total = inputs.annual, inputs.model_total
        model_row = {"label": model_name, "role": "model", "value": model_total, "units": FLUX_TOTAL_UNITS,
                     "lower": float(annual.min()) if annual is not None else np.nan,
                     "upper": float(annual.max()) if annual is not None else np.nan}
        bars = pd.DataFrame([model_row] + [{**r, "units": FLUX_TOTAL_UNITS} for r in inputs.ref_rows])
        bars = bars[["label", "role", "value", "lower", "upper", "units", "reference"]]
        regional_rows = [{"label": model_name, "role": "model", "reference": "", "region": region, "value": float(v),
                          "units": FLUX_TOTAL_UNITS} for region, v in inputs.regional.items()]
        regional_rows[0]["value"] = model_total  # the global row is the mean of the annual totals
        for reference_id, values in self.gridded_regional.items():
            regional_rows += [{"label": reference_id, "role": "reference", "reference": reference_id, "region": region,
                               "value": float(v), "units": FLUX_TOTAL_UNITS} for region, v in values.items()]
        tables = {"global_totals": bars, "regional_totals": pd.DataFrame(regional_rows)}
        table_meta = {
            "global_totals": {"plot": "bars", "title": f"Global {q} total", "units": FLUX_TOTAL_UNITS,
                              "x_label": f"{q} (Pg C yr-1)"},
            "regional_totals": {"plot": "table", "title": f"Regional {q} totals", "units": FLUX_TOTAL_UNITS},
        }
        # the digitised series are cut to the model's years (never the other way): listed, not
        # constraining; one that shares none keeps its whole record, the references' fallback
        series_years = {r: (int(v.index.min()), int(v.index.max())) for r, v in self.series.items() if len(v)}
        outside = [f"{r} ({y[0]}-{y[1]}) shares no year with the compared period: its whole-record mean is used"
                   for r, y in series_years.items() if periods.shared(y, choice.compared) is None]
        choice = dataclasses.replace(choice, references={**choice.references, **series_years})
        choice = periods.with_fallback(choice, outside)
        mine = _as_map(ds.drop_dims("time", errors="ignore")[["cell_area", "land_fraction"]], mean_map, model_name)
        result = build.build_result([unit(inputs) for unit in self.units], model=model_name, confrontation=self.name,
                                    notes=notes, comparison=self._comparison(choice),
                                    flags=self._flags(mine, model_total), with_parts=True)
        result.fields = self._series_fields(model_name, annual)
        result.tables, result.table_meta = tables, table_meta
        return result

    def _series_fields(self, model_name: str, annual: xr.DataArray | None) -> xr.Dataset | None:
        """Annual global totals over ``year``: the model's and each digitised series."""
        variables = {}
        if annual is not None:
            model_series = annual.drop_vars([c for c in annual.coords if c != "year"]).astype("float64")
            model_series.attrs = {"plot": "series", "role": "model", "units": FLUX_TOTAL_UNITS,
                                  "long_name": f"{model_name} global {self.quantity}"}
            variables["total_model"] = model_series
        for reference_id, values in self.series.items():
            da = xr.DataArray(values.to_numpy(float), coords={"year": values.index.to_numpy()}, dims="year")
            da.attrs = {"plot": "series", "role": "reference", "units": FLUX_TOTAL_UNITS, "long_name": reference_id}
            variables[f"total_{_slug(reference_id)}"] = da
        if not variables:
            return None
        return xr.Dataset(variables)

    def confront_references(self) -> ConfrontationResult | None:
        """Every reference's total side by side, and their spread (CV) globally and per region."""
        ref_rows, notes = self._reference_rows(self.period)
        if not ref_rows:
            return None
        scalars = [{"reference": r["reference"], "region": regions.GLOBAL, "analysis": "global total",
                    "name": "total", "type": "scalar", "units": FLUX_TOTAL_UNITS, "value": r["value"]}
                   for r in ref_rows if r["point_estimate"]]
        point = [r["value"] for r in ref_rows if r["point_estimate"]]
        scalars.append({"reference": "", "region": regions.GLOBAL, "analysis": "spread",
                        "name": "coefficient of variation across estimates", "type": "scalar", "units": "1",
                        "value": coefficient_of_variation(point)})
        if len(self.gridded_regional) >= 2:
            frame = pd.DataFrame(self.gridded_regional)
            for region, values in frame.iterrows():
                scalars.append({"reference": "", "region": region, "analysis": "spread",
                                "name": "coefficient of variation across products", "type": "scalar", "units": "1",
                                "value": coefficient_of_variation(values.to_numpy(float))})
        scalars += build.overall_rows({}, notes, completeness=False)  # not scored against each other: NaN
        bars = pd.DataFrame([{**r, "units": FLUX_TOTAL_UNITS} for r in ref_rows])[
            ["label", "role", "value", "lower", "upper", "units", "reference"]]
        meta = {"global_totals": {"plot": "bars", "title": f"Global {self.quantity} total", "units": FLUX_TOTAL_UNITS}}
        return ConfrontationResult(scalar_rows(scalars, model=REFERENCES_LABEL, confrontation=self.name),
                                   self._series_fields("", None), {"global_totals": bars}, meta,
                                   notes + ["reference totals are not scored against each other"])


# ==============================================================================================
class ZonalMeans(_Gridded):
    """Area-weighted band means and band totals of model and gridded references (methods.md §2)."""

    kind = "zonal_means"
    options_type: ClassVar[type[ZonalOptions]] = ZonalOptions
    unit_types = (ZonalBands,)

    def _inputs(self, first: _Map, others: list[_Map], role: str) -> GriddedInputs:
        return GriddedInputs(first.label, first, others, self._masks, role)

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        model_name = model.attrs.get("model", "model")
        ds, mine, notes, _, choice = self._model_map(model, reductions)
        if ds is None:
            return self._not_applicable(model_name, notes)
        for item in self.maps.values():
            notes += item.notes
        inputs = self._inputs(mine, list(self.maps.values()), "model")
        result = build.build_result([unit(inputs) for unit in self.units], model=model_name, confrontation=self.name,
                                    notes=notes, comparison=self._comparison(choice), flags=self._flags(mine))
        result.notes.append(f"compared on the coarsest grid ({result.fields.attrs['grid']}) after conservative "
                            "regridding")
        return result

    def confront_references(self) -> ConfrontationResult | None:
        """Products against the first product (needs at least two gridded products)."""
        items = list(self.maps.values())
        if len(items) < 2:
            return None
        inputs = self._inputs(items[0], items[1:], "reference")
        return build.build_result([unit(inputs) for unit in self.units], model=REFERENCES_LABEL,
                                  confrontation=self.name, notes=[f"products compared with {items[0].label}"],
                                  reference=items[0].label)


# ==============================================================================================
class TaylorStatistics(_Gridded):
    """Period-mean maps: Taylor statistics, spatial-distribution, bias and RMSE scores (methods.md §3, §7)."""

    kind = "taylor"
    unit_types = (MeanStateMaps,)

    def _stage(self) -> None:
        #: each gridded reference's annual means over its whole record (None for a climatology),
        #: read once when staging: the RMSE score's series
        self._series: dict[str, xr.Dataset | None] = {}
        super()._stage()

    def _stage_gridded(self, reference_id: str, ds: xr.Dataset) -> _Map:
        from soilbench.load import timeaxis

        self._series[reference_id] = (timeaxis.annual_mean(ds[[self.quantity]]).load()
                                      if "time" in ds[self.quantity].dims else None)
        return super()._stage_gridded(reference_id, ds)

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        model_name = model.attrs.get("model", "model")
        ds, mine, notes, sums, choice = self._model_map(model, reductions)
        if ds is None:
            return self._not_applicable(model_name, notes)
        inputs = GriddedInputs(model_name, mine, list(self.maps.values()), self._masks, "model", ds, sums, self._series)
        result = build.build_result([unit(inputs) for unit in self.units], model=model_name, confrontation=self.name,
                                    notes=notes, comparison=self._comparison(choice), flags=self._flags(mine))
        grid = result.fields["mean_model"]
        result.notes.append(f"maps compared on the coarsest grid ({grid.sizes['lat']}x{grid.sizes['lon']}) after "
                            "conservative regridding; statistics area-weighted over land valid in both")
        return result

    def confront_references(self) -> ConfrontationResult | None:
        """Products against the first product, and the CV across products (needs ≥ 2 products).

        The overall score is the mean of the products' spatial-distribution scores against the first."""
        items = list(self.maps.values())
        if len(items) < 2:
            return None
        inputs = GriddedInputs(items[0].label, items[0], items[1:], self._masks, "reference")
        return build.build_result([unit(inputs) for unit in self.units], model=REFERENCES_LABEL,
                                  confrontation=self.name, reference=items[0].label, completeness=False)
