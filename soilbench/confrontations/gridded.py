"""Gridded confrontations of rh / rs: global totals, zonal means and Taylor statistics.

The science lives in :mod:`soilbench.analysis` (``integrate``, ``totals``, ``zonal``, ``taylor``,
``bias``, ``regrid``, ``spread``); these classes stage the references, put model and references
on a common grid and turn the numbers into a :class:`ConfrontationResult` following the plot
conventions of ``docs/architecture.md``. Methods and scoring choices: ``docs/gridded.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import derived, regions
from soilbench.derived import model_field  # noqa: F401 — where the site types import it from
from soilbench.analysis import bias, integrate, partition, periods, plausibility, reductions, regrid, scores, taylor, totals, zonal
from soilbench.analysis.spread import coefficient_of_variation, cv_map
from soilbench.confrontations.base import Confrontation, Reductions, ReductionKey
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.quantities import FLUX_TOTAL_UNITS, FLUX_UNITS
from soilbench.results import ConfrontationResult, Flag, scalar_rows

GROUPS = {"rh": "Rh", "rs": "SR"}
REGION_SETS = ("latitude_bands", "koppen")
REFERENCES_LABEL = "references"
#: ILAMB 2.x's weights of the mean-state scores in the overall score
TAYLOR_SCORE_WEIGHTS = {"bias score": 1.0, "rmse score": 2.0, "spatial distribution score": 1.0}


def _slug(reference_id: str) -> str:
    """A variable-name-safe form of a reference id (``cardamom-rh`` → ``cardamom_rh``)."""
    return "".join(c if c.isalnum() else "_" for c in reference_id)


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


class _Gridded(Confrontation):
    """Shared option handling and reference staging of the gridded confrontations."""

    gridded_only: ClassVar[bool] = True
    reference_loaders: ClassVar[tuple[str, ...]] = ("gridded", "merge_where_positive")
    option_defaults: ClassVar[dict[str, Any]] = {
        "quantity": "rh",
        "period": None,
        "regions": list(REGION_SETS),
        "region_band_width": 30.0,
        "rs_from_rh": "none",
    }

    def __init__(self, name, references, options=None, weight=1.0, data_dir=None, source=None):
        super().__init__(name, references, options, weight, data_dir, source)
        quantity = self.options["quantity"]
        if quantity not in GROUPS:
            raise ConfigError(source, f"confrontation '{name}': quantity must be one of {sorted(GROUPS)}, got {quantity!r}",
                              "options.quantity")
        self.quantity = quantity
        self.group = GROUPS[quantity]
        self.quantities = (quantity,)
        period = self.options["period"]
        if period is not None:
            ok = isinstance(period, (list, tuple)) and len(period) == 2 and all(isinstance(y, int) for y in period)
            if not ok or period[0] > period[1]:
                raise ConfigError(source, f"confrontation '{name}': period must be [first_year, last_year], got {period!r}",
                                  "options.period")
            self.period: tuple[int, int] | None = (int(period[0]), int(period[1]))
        else:
            self.period = None
        unknown = sorted(set(self.options["regions"] or []) - set(REGION_SETS))
        if unknown:
            raise ConfigError(source, f"confrontation '{name}': unknown region set(s) {unknown}; allowed: {list(REGION_SETS)}",
                              "options.regions")
        width = float(self.options["region_band_width"])
        if width <= 0 or not np.isclose(180.0 / width, round(180.0 / width)):
            raise ConfigError(source, f"confrontation '{name}': region_band_width must divide 180, got {width}",
                              "options.region_band_width")
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
        derive from them. None for a climatology (no time axis: a small field read as it is)."""
        ds, _, _ = self._prepare_model(model)
        if ds is None or "time" not in ds[self.quantity].dims:
            return {}
        return {self._sums_key(model, ds): reductions.annual_step_sums(ds[self.quantity])}

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
    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        model_name = model.attrs.get("model", "model")
        ds, notes, choice = self._prepare_model(model)
        if ds is None:
            return self._not_applicable(model_name, notes)
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

        scalars: list[dict[str, Any]] = [
            {"reference": "", "region": regions.GLOBAL, "analysis": "global total", "name": "total",
             "type": "scalar", "units": FLUX_TOTAL_UNITS, "value": model_total},
            {"reference": "", "region": regions.GLOBAL, "analysis": "global total", "name": "spread of estimates",
             "type": "scalar", "units": FLUX_TOTAL_UNITS, "value": sigma},
        ]
        for region, value in regional.items():
            if region != regions.GLOBAL:
                scalars.append({"reference": "", "region": region, "analysis": "regional total", "name": "total",
                                "type": "scalar", "units": FLUX_TOTAL_UNITS, "value": float(value)})
        if annual is not None and annual.sizes["year"] > 1:
            slope = float(np.polyfit(annual["year"].values, annual.values, 1)[0])
            scalars.append({"reference": "", "region": regions.GLOBAL, "analysis": "global total", "name": "trend",
                            "type": "scalar", "units": "Pg yr-2", "value": slope})

        # gridded products: model and product on the land both have (docs/scores.md, "Land: totals on common cells")
        common = {reference_id: self._common_cell_totals(annual_map, ds, item)
                  for reference_id, item in self.maps.items()}
        missing_regions: list[str] = []

        # one score per reference: the mean over its scored estimates
        global_scores: dict[str, float] = {}
        for reference_id in self.references:
            mine = [r for r in ref_rows if r["reference"] == reference_id and r["scored"]]
            if not mine:
                continue
            if reference_id in common:
                model_common, reference_common = common[reference_id][0][regions.GLOBAL]
                score = totals.total_uncertainty_score(model_common, reference_common, 0.0,
                                                       relative_spread * abs(reference_common))
                if not np.isfinite(score):
                    score = 0.0  # no land in common with the product
                    missing_regions.append(f"{regions.GLOBAL} ({reference_id})")
                global_scores[reference_id] = score
                scalars += [
                    {"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                     "name": "common land share", "type": "scalar", "units": "1",
                     "value": common[reference_id][0]["_common_land_share"][0]},
                    {"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                     "name": "model total on common cells", "type": "scalar", "units": FLUX_TOTAL_UNITS,
                     "value": model_common},
                    {"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                     "name": "reference total on common cells", "type": "scalar", "units": FLUX_TOTAL_UNITS,
                     "value": reference_common},
                ]
            else:
                each = [totals.total_uncertainty_score(model_total, r["value"], r["half_width"], sigma) for r in mine]
                global_scores[reference_id] = float(np.mean(each))
            reference_value = float(np.mean([r["value"] for r in mine])) if len(mine) == 1 else np.nan
            if np.isfinite(reference_value):
                scalars.append({"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                                "name": "reference total", "type": "scalar", "units": FLUX_TOTAL_UNITS,
                                "value": reference_value})
            scalars.append({"reference": reference_id, "region": regions.GLOBAL, "analysis": "global total",
                            "name": "total score", "type": "score", "units": "1", "value": global_scores[reference_id]})

        # regional totals against gridded products on common cells; σ per region: the products'
        # spread (own land) with two or more products, else the relative spread of the global estimates
        regional_scores: list[float] = []
        region_names = [r for r in regional.index if r != regions.GLOBAL]
        for region in region_names:
            product_values = [float(self.gridded_regional[r][region]) for r in self.maps]
            for reference_id in self.maps:
                reference_own = float(self.gridded_regional[reference_id][region])
                if not (np.isfinite(reference_own) and reference_own != 0):
                    continue  # the product has nothing there: nothing to score
                model_value, reference_value = common[reference_id][0].get(region, (np.nan, np.nan))
                if not (np.isfinite(model_value) and np.isfinite(reference_value)):
                    score = 0.0  # the product has flux in the region, the model no value on its land
                    missing_regions.append(f"{region} ({reference_id})")
                else:
                    spread = (totals.estimate_spread(product_values, fallback=np.nan) if len(product_values) > 1
                              else np.nan)
                    region_sigma = (spread * abs(reference_value / reference_own) if np.isfinite(spread)
                                    else relative_spread * abs(reference_value))
                    if not region_sigma > 0:  # no product flux on the common land: scale by its own total
                        region_sigma = relative_spread * abs(reference_own)
                    score = totals.total_uncertainty_score(model_value, reference_value, 0.0, region_sigma)
                regional_scores.append(score)
                scalars += [
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
        if missing_regions:
            notes.append(f"incomplete: no model value in {len(missing_regions)} region(s) where the product has "
                         f"flux ({', '.join(missing_regions)}); each scores 0")
        parts = {"global total score": float(np.mean(list(global_scores.values()))) if global_scores else np.nan}
        if self.maps and region_names:
            parts["regional total score"] = float(np.mean(regional_scores)) if regional_scores else np.nan
        scalars += _overall_rows(parts, notes)
        model_row = {"label": model_name, "role": "model", "value": model_total, "units": FLUX_TOTAL_UNITS,
                     "lower": float(annual.min()) if annual is not None else np.nan,
                     "upper": float(annual.max()) if annual is not None else np.nan}
        bars = pd.DataFrame([model_row] + [{**r, "units": FLUX_TOTAL_UNITS} for r in ref_rows])
        bars = bars[["label", "role", "value", "lower", "upper", "units", "reference"]]
        regional_rows = [{"label": model_name, "role": "model", "reference": "", "region": region, "value": float(v),
                          "units": FLUX_TOTAL_UNITS} for region, v in regional.items()]
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
        fields = self._series_fields(model_name, annual)
        result_scalars = scalar_rows(scalars, model=model_name, confrontation=self.name)
        # the digitised series are cut to the model's years (never the other way): listed, not
        # constraining; one that shares none keeps its whole record, the references' fallback
        series_years = {r: (int(v.index.min()), int(v.index.max())) for r, v in self.series.items() if len(v)}
        outside = [f"{r} ({y[0]}-{y[1]}) shares no year with the compared period: its whole-record mean is used"
                   for r, y in series_years.items() if periods.shared(y, choice.compared) is None]
        choice = dataclasses.replace(choice, references={**choice.references, **series_years})
        choice = periods.with_fallback(choice, outside)
        mine = _as_map(ds.drop_dims("time", errors="ignore")[["cell_area", "land_fraction"]], mean_map, model_name)
        return ConfrontationResult(result_scalars, fields, tables, table_meta, notes, self._comparison(choice),
                                   self._flags(mine, model_total))

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
        scalars.append({"reference": "", "region": regions.GLOBAL, "analysis": "overall", "name": "overall score",
                        "type": "score", "units": "1", "value": np.nan})
        bars = pd.DataFrame([{**r, "units": FLUX_TOTAL_UNITS} for r in ref_rows])[
            ["label", "role", "value", "lower", "upper", "units", "reference"]]
        meta = {"global_totals": {"plot": "bars", "title": f"Global {self.quantity} total", "units": FLUX_TOTAL_UNITS}}
        return ConfrontationResult(scalar_rows(scalars, model=REFERENCES_LABEL, confrontation=self.name),
                                   self._series_fields("", None), {"global_totals": bars}, meta,
                                   notes + ["reference totals are not scored against each other"])


# ==============================================================================================
def _overall_rows(parts: dict[str, float], notes: list[str], weights: dict[str, float] | None = None,
                  with_parts: bool = True) -> list[dict[str, Any]]:
    """The ``overall score`` row (with the component rows when ``with_parts``): every component is
    expected, so a missing one counts as 0, is named in a note and counted in the scalar
    ``missing components`` (``docs/scores.md``, "Missing components")."""
    overall, missing = scores.overall_score_counting_missing(parts, weights)
    common = {"reference": "", "region": regions.GLOBAL, "analysis": "overall", "units": "1"}
    rows = [{**common, "name": name, "type": "score", "value": value} for name, value in parts.items()] if with_parts else []
    if missing:
        notes.append(f"incomplete: {', '.join(missing)} missing (no value on the cells or regions compared); "
                     "counted as 0 in the overall score")
    rows.append({**common, "analysis": "completeness", "name": "missing components", "type": "scalar",
                 "value": float(len(missing))})
    rows.append({**common, "name": "overall score", "type": "score", "value": overall})
    return rows


def _common_maps(items: list[_Map]) -> tuple[xr.Dataset, list[xr.Dataset]]:
    """All maps conservatively on the coarsest of their grids."""
    target = items[regrid.coarsest([i.ds for i in items])].ds
    return target, [_on_grid(i, target) for i in items]


def _pair_weights(a: xr.Dataset, b: xr.Dataset) -> xr.DataArray:
    """Area counted when comparing two regridded maps: cell area × the land both have."""
    fraction = np.minimum(a["land_fraction"], b["land_fraction"])
    return (a["cell_area"] * fraction).where(a["value"].notnull() & b["value"].notnull(), 0.0)


class ZonalMeans(_Gridded):
    """Area-weighted band means and band totals of model and gridded references (methods.md §2)."""

    kind = "zonal_means"
    option_defaults: ClassVar[dict[str, Any]] = {**_Gridded.option_defaults, "band_width": 5.0, "confidence": 0.95}

    def __init__(self, name, references, options=None, weight=1.0, data_dir=None, source=None):
        super().__init__(name, references, options, weight, data_dir, source)
        width = float(self.options["band_width"])
        if width <= 0 or not np.isclose(180.0 / width, round(180.0 / width)):
            raise ConfigError(source, f"confrontation '{name}': band_width must divide 180, got {width}", "options.band_width")
        if not 0 < float(self.options["confidence"]) < 1:
            raise ConfigError(source, f"confrontation '{name}': confidence must lie in (0, 1)", "options.confidence")

    def _compare(self, first: _Map, others: list[_Map], first_role: str) -> tuple[xr.Dataset, list[dict], dict[str, float]]:
        target, on_grid = _common_maps([first] + others)
        width, confidence = float(self.options["band_width"]), float(self.options["confidence"])
        q = self.quantity
        fields, rows, band_scores = {}, [], {}
        for other, other_ds in zip(others, on_grid[1:]):
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
        ds = xr.Dataset(fields)
        ds.attrs = {"band_width_deg": width, "confidence": confidence, "grid": f"{target.sizes['lat']}x{target.sizes['lon']}",
                    "quantity": q}
        return ds, rows, band_scores

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        model_name = model.attrs.get("model", "model")
        ds, mine, notes, _, choice = self._model_map(model, reductions)
        if ds is None:
            return self._not_applicable(model_name, notes)
        for item in self.maps.values():
            notes += item.notes
        fields, rows, band_scores = self._compare(mine, list(self.maps.values()), "model")
        rows += _overall_rows(band_scores, notes, with_parts=False)
        notes.append(f"compared on the coarsest grid ({fields.attrs['grid']}) after conservative regridding")
        return ConfrontationResult(scalar_rows(rows, model=model_name, confrontation=self.name), fields, notes=notes,
                                   comparison=self._comparison(choice), flags=self._flags(mine))

    def confront_references(self) -> ConfrontationResult | None:
        """Products against the first product (needs at least two gridded products)."""
        items = list(self.maps.values())
        if len(items) < 2:
            return None
        fields, rows, band_scores = self._compare(items[0], items[1:], "reference")
        notes = [f"products compared with {items[0].label}"]
        rows += [{**row, "reference": items[0].label} for row in _overall_rows(band_scores, notes, with_parts=False)]
        return ConfrontationResult(scalar_rows(rows, model=REFERENCES_LABEL, confrontation=self.name), fields,
                                   notes=notes)


# ==============================================================================================
class TaylorStatistics(_Gridded):
    """Period-mean maps: Taylor statistics, spatial-distribution, bias and RMSE scores (methods.md §3, §7)."""

    kind = "taylor"

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

    def _region_stats(self, model: xr.Dataset, reference: xr.Dataset, reference_id: str,
                      rmse_score_map: xr.DataArray | None) -> tuple[list[dict], dict[str, float]]:
        weights = _pair_weights(model, reference)
        masks = self._masks(model["lat"], model["lon"])
        score_map = bias.bias_score_map(model["value"], reference["value"])
        rows, global_parts = [], {}
        for region, mask in masks.items():
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

    def _rmse_map(self, ds: xr.Dataset, sums: xr.Dataset | None, reference_id: str, target: xr.Dataset
                  ) -> tuple[xr.DataArray | None, list[str]]:
        """RMSE score map on the common grid when model and reference both have annual series
        (the model's annual means from its annual step sums ``sums``, the reference's staged)."""
        if sums is None:
            return None, []
        r_years = self._series[reference_id]
        if r_years is None:
            return None, [f"{reference_id} is a climatology: no RMSE score"]
        m_years = reductions.annual_mean_from_sums(sums, self.quantity).to_dataset()
        common = np.intersect1d(m_years["year"].values, r_years["year"].values)
        if common.size < 2:
            return None, [f"fewer than two common years with {reference_id}: no RMSE score"]

        def on_target(years: xr.Dataset, source: xr.Dataset) -> xr.DataArray:
            one = xr.Dataset({"value": years[self.quantity].sel(year=common).rename(year="time"),
                              "cell_area": source["cell_area"], "land_fraction": source["land_fraction"]})
            return regrid.regrid_field(one, "value", target)["value"].assign_coords(
                step_days=("time", np.ones(common.size)))

        _, score = bias.rmse_score_map(on_target(m_years, ds), on_target(r_years, self.maps[reference_id].ds))
        return score.compute(), []

    def _taylor_rows(self, primary: str, on_grid: dict[str, xr.Dataset]) -> list[dict[str, Any]]:
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

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        model_name = model.attrs.get("model", "model")
        ds, mine, notes, sums, choice = self._model_map(model, reductions)
        if ds is None:
            return self._not_applicable(model_name, notes)
        items = list(self.maps.values())
        target, on_grid = _common_maps([mine] + items)
        model_grid, refs_grid = on_grid[0], dict(zip([i.label for i in items], on_grid[1:]))
        units = FLUX_UNITS
        fields = {"mean_model": model_grid["value"].assign_attrs(
            plot="map", role="model", colormap="sequential", units=units, long_name=f"{model_name} period-mean {self.quantity}")}
        rows, overall_parts = [], {}
        primary = items[0].label
        taylor_rows = []
        for item in items:
            ref = refs_grid[item.label]
            notes += item.notes
            rmse_map, rmse_notes = self._rmse_map(ds, sums, item.label, target)
            notes += rmse_notes
            region_rows, parts = self._region_stats(model_grid, ref, item.label, rmse_map)
            rows += region_rows
            stats_ = parts.pop("_stats")
            overall_parts[item.label], missing = scores.overall_score_counting_missing(parts, TAYLOR_SCORE_WEIGHTS)
            if missing:
                notes.append(f"incomplete against {item.label}: {', '.join(missing)} missing (no value on the "
                             "cells compared); counted as 0")
            rows.append({"reference": item.label, "region": regions.GLOBAL, "analysis": "taylor",
                         "name": "mean-state score", "type": "score", "units": "1", "value": overall_parts[item.label]})
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
        rows += _overall_rows(overall_parts, notes, with_parts=False)
        notes.append(f"maps compared on the coarsest grid ({target.sizes['lat']}x{target.sizes['lon']}) after "
                     "conservative regridding; statistics area-weighted over land valid in both")
        table_meta = {"taylor": {"plot": "taylor", "title": f"{self.quantity} period-mean maps (normalised by {primary})"}}
        return ConfrontationResult(scalar_rows(rows, model=model_name, confrontation=self.name), xr.Dataset(fields),
                                   {"taylor": pd.DataFrame(taylor_rows)}, table_meta, notes,
                                   self._comparison(choice), self._flags(mine))

    def confront_references(self) -> ConfrontationResult | None:
        """Products against the first product, and the CV across products (needs ≥ 2 products)."""
        items = list(self.maps.values())
        if len(items) < 2:
            return None
        target, on_grid = _common_maps(items)
        refs_grid = dict(zip([i.label for i in items], on_grid))
        primary = items[0].label
        rows = []
        for item in items[1:]:
            region_rows, parts = self._region_stats(refs_grid[item.label], refs_grid[primary], primary, None)
            parts.pop("_stats")
            rows += [{**r, "reference": primary, "analysis": f"taylor: {item.label}"} for r in region_rows]
        spatial = [r["value"] for r in rows if r["name"] == "spatial distribution score" and r["region"] == regions.GLOBAL]
        rows.append({"reference": primary, "region": regions.GLOBAL, "analysis": "overall", "name": "overall score",
                     "type": "score", "units": "1", "value": float(np.mean(spatial))})
        fields = {f"mean_{_slug(label)}": ds["value"].assign_attrs(
            plot="map", role="reference", colormap="sequential", units=FLUX_UNITS, long_name=f"{label} period-mean")
            for label, ds in refs_grid.items()}
        fields["cv_products"] = cv_map([ds["value"] for ds in refs_grid.values()]).assign_attrs(
            plot="map", role="reference", colormap="sequential", units="1",
            long_name="coefficient of variation across products")
        meta = {"taylor": {"plot": "taylor", "title": f"{self.quantity} products (normalised by {primary})"}}
        return ConfrontationResult(scalar_rows(rows, model=REFERENCES_LABEL, confrontation=self.name), xr.Dataset(fields),
                                   {"taylor": pd.DataFrame(self._taylor_rows(primary, refs_grid))}, meta,
                                   [f"products compared with {primary} on the {target.sizes['lat']}x{target.sizes['lon']} grid"])
