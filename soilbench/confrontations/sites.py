"""Site confrontations: SRDB V5 annual fluxes and MGRhD daily heterotrophic respiration.

``srdb_annual`` compares a model's annual Rh (or Rs) with filtered SRDB V5 records;
``daily_rh`` compares daily Rh with MGRhD per study (paired Wilcoxon signed-rank tests), pooled
(regression) and by season within Köppen climate groups. Science in
:mod:`soilbench.analysis.sites`; filters in :mod:`soilbench.load.sites`; see ``docs/sites.md``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import derived
from soilbench.analysis import periods, plausibility
from soilbench.analysis import reductions as reduce_
from soilbench.analysis import sites as analysis
from soilbench.analysis.wilcoxon import METHODS as TEST_METHODS
from soilbench.analysis import partition
from soilbench.analysis.integrate import land_area_m2
from soilbench.confrontations import build
from soilbench.confrontations.base import Confrontation, ReductionKey, Reductions
from soilbench.confrontations.gridded import rs_from_rh_data, stage_root_contribution
from soilbench.confrontations.units import AnalysisUnit, OptionError, Options, UnitResult
from soilbench.derived import model_field
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.load import sites as site_loaders
from soilbench.load.grid import cell_edges
from soilbench.regions import CLIMATE_GROUPS, GLOBAL, koppen_classes_from_file
from soilbench.results import ConfrontationResult, Flag

log = logging.getLogger(__name__)

ANNUAL_UNITS = "g m-2 yr-1"
DAILY_UNITS = "g m-2 day-1"


def _fetch(dataset_id: str, data_dir) -> Any:
    """Local path of a registered dataset or of a site table registered in a catalog."""
    from soilbench.catalogs import reference_file

    return reference_file(dataset_id, data_dir=data_dir)


def _climate_groups(map_id: str | None, data_dir, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Climate-group region name per site (None outside any group, or all None without a map)."""
    if not map_id:
        return np.full(len(lat), None, dtype=object)
    return analysis.site_climate_groups(koppen_classes_from_file(_fetch(map_id, data_dir)), lat, lon)


def _model_variable(model: xr.Dataset, quantity: str, confrontation: str, rs_from_rh: str = "none",
                    rc: xr.Dataset | None = None) -> tuple[xr.DataArray, list[str]]:
    """The model's ``quantity`` at full time resolution, and notes on how it was obtained.

    ``rs`` follows the gridded confrontations (:func:`soilbench.derived.model_field`):
    the model's rs, else rh + ra_root, else derived from rh with ``rs_from_rh``.
    """
    name = model.attrs.get("model", "model")
    field, notes = model_field(model, quantity, rs_from_rh, rc)
    if field is None:
        hint = "" if quantity != "rs" else " (set the option rs_from_rh to derive rs from rh)"
        raise SoilbenchError(f"model '{name}'", f"provides no {quantity}; confrontation '{confrontation}' needs it"
                             + hint, quantity)
    da = field.copy(deep=False)  # own attrs: the calendar is added without touching the model
    da.attrs = dict(field.attrs)
    da.attrs.setdefault("calendar", model.attrs.get("calendar", "standard"))
    return da, notes


def _group_label(group: Any) -> str:
    return CLIMATE_GROUPS.get(group, "no climate group") if isinstance(group, str) else "no climate group"


def _one_of(options: Options, allowed: dict[str, tuple]) -> None:
    """Refuse an option value outside its choices (:class:`OptionError`: the key and the choices)."""
    for key, choices in allowed.items():
        value = getattr(options, key)
        if value not in choices:
            raise OptionError(key, f"option {key} must be one of {list(choices)}, got {value!r}")


#: soilbench's site scores, on per-cell values (docs/sites.md, "Statistics and scores")
SITE_SCORE_COMPONENTS = ("bias score", "spatial distribution score")
#: daily_rh's components that need a sub-annual model (a climatology is constant within a study)
SUB_ANNUAL_COMPONENTS = ("RMSE score", "seasonal cycle score")


def _overall_score(score_values: dict[str, float], not_applicable: list[str] | tuple[str, ...] = ()
                   ) -> tuple[float, list[str]]:
    """The overall score by the one rule (:func:`soilbench.confrontations.build.overall`,
    ``docs/sites.md``): the components in ``not_applicable`` (they do not apply to the model) are
    left out; every other component is expected, and a missing (NaN) one counts as 0. Returns the
    score and the missing components."""
    result = build.overall(score_values, not_applicable=not_applicable)
    return result.value, result.missing


def _incomplete_flags(score_values: dict[str, float], missing: list[str], not_applicable: list[str], why: str
                      ) -> list[Flag]:
    """The flag that says an overall score is incomplete (its rows and note are the builder's,
    :func:`soilbench.confrontations.build.overall_rows`); ``why`` says why the not-applicable
    components do not apply."""
    if not (missing or not_applicable):
        return []
    parts = ([f"{', '.join(not_applicable)} not applicable ({why})"] if not_applicable else []) + (
        [f"{', '.join(missing)} missing, counted as 0"] if missing else [])
    return [Flag("overall_incomplete", f"overall score over {len(score_values) - len(not_applicable)} of "
                 f"{len(score_values)} components: " + "; ".join(parts))]


class _SiteConfrontation(Confrontation):
    """Shared staging: the site file is ``references[0]``; climate groups from ``climate_map``.

    Reductions (one pass over the model, see :meth:`Confrontation.model_reductions`): the map of
    cells with a value, and the model's time series at the sites' cells. The cells must be
    chosen before the pass, when the model's values are not known yet, so they are located on
    the cells with land (``land_fraction > 0``); after the pass the sites are located again on
    the cells that really have values (as always), and the series are used when they hold every
    cell so found — otherwise (a model with no values on some land cells near a site) the
    field is read again at the right cells, with the same results.
    """

    #: the reference may be a site table of a user's catalog (soilbench.catalogs.reference_file)
    reads_site_tables: ClassVar[bool] = True

    def _field(self, model: xr.Dataset) -> tuple[xr.DataArray, list[str]]:
        """The compared model field at full time resolution, and notes (each subclass its own)."""
        raise NotImplementedError

    def _how(self, model: xr.Dataset, quantity: str) -> str | None:
        """How the compared field comes from the model (part of the reductions' keys)."""
        return derived.how(quantity, model.data_vars, self.options.get("rs_from_rh", derived.NO_CONVERSION))

    def _keys(self, model: xr.Dataset, quantity: str, cells: pd.DataFrame) -> tuple[ReductionKey, ReductionKey]:
        pairs = cells.loc[cells["located"], ["ilat", "ilon"]].drop_duplicates()
        how = self._how(model, quantity)
        return (("valid_cells", quantity, how),
                ("series_at_cells", quantity, how, reduce_.cells_key(pairs["ilat"].to_numpy(), pairs["ilon"].to_numpy())))

    def _guess_cells(self, model: xr.Dataset, da: xr.DataArray) -> pd.DataFrame:
        """Site cells located on the cells with land (before the model's values are known)."""
        records = self.site_records.records
        land = (model["land_fraction"].fillna(0) > 0) if "land_fraction" in model else xr.ones_like(
            da.isel(time=0, drop=True), dtype=bool)
        return analysis.locate_sites(land, records["lat"].to_numpy(), records["lon"].to_numpy(),
                                     self.options["max_distance_km"], *cell_edges(model))

    def _site_reductions(self, model: xr.Dataset, quantity: str) -> dict[ReductionKey, xr.DataArray]:
        try:
            da, _ = self._field(model)
        except SoilbenchError:
            return {}  # confront reports it
        if "time" not in da.dims:
            return {}  # a climatology: one map, read as it is
        self.stage_data()
        cells = self._guess_cells(model, da)
        pairs = cells.loc[cells["located"], ["ilat", "ilon"]].drop_duplicates()
        valid_key, series_key = self._keys(model, quantity, cells)
        return {valid_key: reduce_.valid_cells(da),
                series_key: reduce_.series_at_cells(da, pairs["ilat"].to_numpy(), pairs["ilon"].to_numpy())}

    def _locate(self, model: xr.Dataset, da: xr.DataArray, quantity: str, reductions: Reductions | None
                ) -> tuple[pd.DataFrame, xr.DataArray, xr.DataArray]:
        """The sites' cells (on cells with values), the field to read at them (the series
        computed in the pass when they hold every cell, else ``da`` itself) and the map of
        valid land cells."""
        records = self.site_records.records
        lat, lon = records["lat"].to_numpy(), records["lon"].to_numpy()
        if "time" not in da.dims:
            valid = analysis.valid_land_cells(da, model.get("land_fraction"))
            return analysis.locate_sites(valid, lat, lon, self.options["max_distance_km"], *cell_edges(model)), da, valid
        reduced = self.reduced(model, reductions)
        valid_key, series_key = self._keys(model, quantity, self._guess_cells(model, da))
        valid = analysis.valid_land_cells(da, model.get("land_fraction"), has_value=reduced[valid_key])
        cells = analysis.locate_sites(valid, lat, lon, self.options["max_distance_km"], *cell_edges(model))
        located = cells[cells["located"]]
        series = reduced[series_key]
        if analysis.has_cells(series, located["ilat"].to_numpy(), located["ilon"].to_numpy()):
            return cells, series, valid
        log.info("%s: some sites' cells have no model values on land; the field is read again at the right cells",
                 self.name)
        return cells, da, valid

    def _comparison(self, model: xr.Dataset, da: xr.DataArray, observed_years: periods.Years | None,
                    units: str, outside: str | None) -> dict[str, Any]:
        """``meta.json`` keys: quantity, units, reference ids and the period choice; ``outside``
        says how records outside the model's years were compared (the sites' fallback)."""
        choice = periods.choose_period(periods.years_of(da) or periods.years_of(model), {self.reference: observed_years},
                                       model_has_time="time" in da.dims)
        if outside and choice.fallback is None:
            choice = dataclasses.replace(choice, fallback=outside)
        return {"quantity": self.quantities[0], "units": units, "reference_ids": list(self.references),
                "period": choice.as_meta()}

    def _flags(self, model: xr.Dataset, valid: xr.DataArray) -> list[Flag]:
        """Plausibility (:mod:`soilbench.analysis.plausibility`): the grid, and the valid land
        area against the Earth's ice-free land (a site reference has no area of its own)."""
        name = str(model.attrs.get("model", "model"))
        flags = plausibility.grid_flags(model["cell_area"], name) if "cell_area" in model else []
        if "cell_area" in model:
            fraction = model["land_fraction"] if "land_fraction" in model else xr.ones_like(model["cell_area"])
            area = float(land_area_m2(model["cell_area"], fraction).where(valid, 0.0).sum())
            flags += plausibility.land_area_flags(area, plausibility.ICE_FREE_LAND_M2, "the Earth's ice-free land")
        return flags

    def __init__(self, name, references, options=None, weight=1.0, data_dir=None, source=None):
        super().__init__(name, references, options, weight, data_dir, source)
        if not self.references:
            raise ConfigError(source, f"confrontation '{name}' ({self.kind}) needs its site dataset as first reference",
                              "references")

    @property
    def reference(self) -> str:
        return self.references[0]

    def _rows(self, model_name: str) -> dict[str, Any]:
        return {"model": model_name, "confrontation": self.name, "reference": self.reference}


@dataclass(frozen=True)
class SrdbFilterOptions(Options):
    """The SRDB record filters (docs/sites.md) and their defaults, shared by every type reading SRDB
    (None / [] / false switch one off)."""

    min_years_of_data: float | None = 1.0
    manipulation: str | None = "None"
    exclude_methods: list[str] | None = field(default_factory=lambda: list(site_loaders.DEFAULT_EXCLUDED_METHODS))
    drop_negative: bool = True
    outlier_sd: float | None = 6.0
    require_rs_above_rh: bool = True


#: the SRDB filters' defaults (for types that declare their options as a dict)
SRDB_FILTER_DEFAULTS: dict[str, Any] = SrdbFilterOptions.defaults()


@dataclass(frozen=True)
class SrdbAnnualOptions(SrdbFilterOptions):
    """Options of ``srdb_annual`` (see :class:`SrdbAnnual`)."""

    quantity: str = "rh"
    max_distance_km: float = 300.0
    climate_map: str | None = "koppen"
    rs_from_rh: str = "none"

    def __post_init__(self):
        _one_of(self, {"quantity": ("rh", "rs")})
        if self.rs_from_rh not in partition.METHODS:
            raise OptionError("rs_from_rh", f"rs_from_rh must be one of {list(partition.METHODS)}, "
                              f"got {self.rs_from_rh!r}")


@dataclass
class SiteInputs:
    """Annual values at the sites for :class:`SiteStatistics`: every record (``sites``: observed,
    modelled, difference, climate group, located / relocated), the records with a model value
    (``used``, with their cells ``ilat``/``ilon``) and the quantity's label (Rh, Rs)."""

    sites: pd.DataFrame
    used: pd.DataFrame
    label: str


class SiteStatistics(AnalysisUnit):
    """Site statistics per region (global and climate groups): n, bias, RMSE, correlations and
    soilbench's per-cell scores (the components: :data:`SITE_SCORE_COMPONENTS`), the site map
    and the scatter (``docs/sites.md``, "Statistics and scores")."""

    name = "site statistics"
    Options = SrdbAnnualOptions

    def __call__(self, inputs: SiteInputs) -> UnitResult:
        sites, used, label = inputs.sites, inputs.used, inputs.label
        rows: list[dict[str, Any]] = []
        regions = [(GLOBAL, used, len(sites))] + [(g, used[used["group"] == g], int((sites["group"] == g).sum()))
                                                   for g in CLIMATE_GROUPS]
        global_scores: dict[str, float] = {}
        for region, part, n_records in regions:
            stats = analysis.site_statistics(part["observed"].to_numpy(), part["modelled"].to_numpy())
            per_cell = analysis.cell_means(part)
            cell = analysis.cell_scores(per_cell["observed"].to_numpy(), per_cell["modelled"].to_numpy(),
                                        len(part) / n_records if n_records else np.nan)
            if region == GLOBAL:
                global_scores = cell
            for key, value in {**stats, **cell}.items():
                # soilbench's scores are the per-cell ones; ILAMB's per-record forms are information
                is_score = key in SITE_SCORE_COMPONENTS
                units = ANNUAL_UNITS if key in ("observed mean", "modelled mean", "bias", "RMSE") else "1"
                rows.append({"region": region, "analysis": "site statistics", "name": key if key != "n" else "n sites",
                             "type": "score" if is_score else "scalar", "units": units, "value": value})
        rows += [
            {"region": GLOBAL, "analysis": "site statistics", "name": "n sites on a substitute cell", "type": "scalar",
             "units": "1", "value": int((sites["relocated"] & sites["located"]).sum())},
            {"region": GLOBAL, "analysis": "site statistics", "name": f"n sites beyond {self.options.max_distance_km:g} km",
             "type": "scalar", "units": "1", "value": int((~sites["located"]).sum())},
        ]
        site_map = sites.assign(value=sites["difference"])
        scatter = used.assign(group=[_group_label(g) for g in used["group"]])[["observed", "modelled", "group"]]
        meta = {
            "sites": {"plot": "site_map", "title": f"Modelled − observed annual {label} at SRDB sites",
                      "units": ANNUAL_UNITS},
            "scatter": {"plot": "scatter", "title": f"Annual {label} at SRDB sites", "units": ANNUAL_UNITS,
                        "x_label": f"observed {label}", "y_label": f"modelled {label}"},
        }
        return UnitResult(rows=rows, tables={"sites": site_map, "scatter": scatter}, table_meta=meta,
                          components={k: global_scores[k] for k in SITE_SCORE_COMPONENTS})


class SrdbAnnual(_SiteConfrontation):
    """Annual Rh or Rs at SRDB V5 sites: n, bias, RMSE, Pearson r, scores, by climate group.

    Options: ``quantity`` (rh | rs), ``max_distance_km`` (largest distance to a substitute
    cell for sites on masked cells), and the SRDB filters of :func:`load_srdb_annual`
    (``min_years_of_data``, ``manipulation``, ``exclude_methods``, ``drop_negative``,
    ``outlier_sd``, ``require_rs_above_rh``; None / [] / false switch one off), ``climate_map``
    (registry id of the Köppen table; null: no climate groups).
    """

    kind: ClassVar[str] = "srdb_annual"
    reference_loaders: ClassVar[tuple[str, ...]] = ("srdb_annual",)
    quantities: ClassVar[tuple[str, ...]] = ("rh",)
    group: ClassVar[str] = "Rh"
    options_type: ClassVar[type[Options]] = SrdbAnnualOptions
    unit_types = (SiteStatistics,)

    def __init__(self, name, references, options=None, weight=1.0, data_dir=None, source=None):
        super().__init__(name, references, options, weight, data_dir, source)
        self.quantities = (self.options["quantity"],)
        self.group = "Rh" if self.options["quantity"] == "rh" else "SR"
        # the RC map (rs_from_rh: root_contribution) enters fingerprints and provenance
        self.auxiliary_data = rs_from_rh_data(self.options["rs_from_rh"], self.options["quantity"], name, source)

    def applicable(self, available: set[str]) -> str | None:
        """The quantity, derived ones counting, ``rs`` also from ``rh`` with ``rs_from_rh``."""
        return derived.not_applicable_reason(self.quantities, available, self.options["rs_from_rh"])

    def _stage(self) -> None:
        o = self.options
        self.site_records = site_loaders.load_srdb_annual(
            _fetch(self.reference, self.data_dir), o["quantity"], min_years_of_data=o["min_years_of_data"],
            manipulation=o["manipulation"], exclude_methods=o["exclude_methods"], drop_negative=o["drop_negative"],
            outlier_sd=o["outlier_sd"], require_rs_above_rh=o["require_rs_above_rh"])
        records = self.site_records.records
        self.site_groups = _climate_groups(o["climate_map"], self.data_dir, records["lat"].to_numpy(),
                                           records["lon"].to_numpy())
        self._rc = stage_root_contribution(self.auxiliary_data, self.data_dir)

    def _field(self, model: xr.Dataset) -> tuple[xr.DataArray, list[str]]:
        self.stage_data()
        return _model_variable(model, self.options["quantity"], self.name, self.options["rs_from_rh"], self._rc)

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray]:
        """Cells with values, and the series at the sites' cells (see :class:`_SiteConfrontation`)."""
        return self._site_reductions(model, self.options["quantity"])

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        self.stage_data()
        model_name = str(model.attrs.get("model", "model"))
        quantity = self.options["quantity"]
        da, field_notes = self._field(model)
        records = self.site_records.records
        cells, source, valid = self._locate(model, da, quantity, reductions)
        modelled, link = analysis.annual_at_sites(source, cells, records["year_start"].to_numpy(),
                                                  records["year_end"].to_numpy())
        sites = records.assign(group=self.site_groups, modelled=modelled, difference=modelled - records["observed"],
                               cell_lat=cells["cell_lat"], cell_lon=cells["cell_lon"],
                               distance_km=cells["distance_km"].round(1), relocated=cells["relocated"],
                               located=cells["located"], model_value=link)
        has_value = np.isfinite(sites["modelled"].to_numpy())
        used = sites[has_value].assign(ilat=cells["ilat"].to_numpy()[has_value], ilon=cells["ilon"].to_numpy()[has_value])
        n_relocated = int((sites["relocated"] & sites["located"]).sum())
        n_unlocated = int((~sites["located"]).sum())
        n_no_value = int((sites["located"] & ~np.isfinite(sites["modelled"])).sum())
        label = "Rh" if quantity == "rh" else "Rs"
        notes = [f"{len(used)} of {len(records)} SRDB {label} records compared (filters: see table filter_counts)."]
        notes += field_notes
        outside = None
        if "time" not in da.dims:
            notes.append(f"Model is a {model.attrs.get('period', 'period')} mean (climatology); every record is "
                         "compared with it whatever its year.")
            outside = "the model is one period mean: every record is compared with it whatever its years"
        else:
            n_outside = int((sites["model_value"] == "record mean").sum())
            if n_outside:
                notes.append(f"{n_outside} records outside the model record compared with the record mean.")
                outside = (f"{n_outside} of {int(np.isfinite(sites['modelled']).sum())} records outside the model's "
                           "years are compared with its record mean")
        observed_years = (int(np.floor(records["year_start"].min())), int(np.ceil(records["year_end"].max())) - 1) \
            if len(records) else None
        if n_relocated:
            notes.append(f"{n_relocated} sites on masked cells or outside every cell took the nearest valid "
                         f"land cell (median {sites.loc[sites['relocated'] & sites['located'], 'distance_km'].median():.0f} km).")
        if n_unlocated or n_no_value:
            notes.append(f"{n_unlocated} sites farther than {self.options['max_distance_km']:g} km from any valid cell "
                         f"and {n_no_value} without a model value in their years were left out.")

        statistics = self.units[0](SiteInputs(sites, used, label))
        # both components are expected: a missing one (e.g. too few cells for a pattern) counts as 0
        _, missing = _overall_score(statistics.components)
        incomplete = _incomplete_flags(statistics.components, missing, [], "")
        result = build.build_result([statistics], model=model_name, confrontation=self.name, notes=notes,
                                    comparison=self._comparison(model, da, observed_years, ANNUAL_UNITS, outside),
                                    flags=self._flags(model, valid) + incomplete, reference=self.reference,
                                    not_applicable=[])
        result.tables["filter_counts"] = self.site_records.filter_counts
        result.table_meta["filter_counts"] = {"plot": "table", "title": "SRDB V5 records left after each filter"}
        return result


@dataclass(frozen=True)
class DailyRhOptions(Options):
    """Options of ``daily_rh`` (see :class:`DailyRh`)."""

    window_days: int = 0
    climatology_window_days: int = 3
    min_observations: int = 6
    alpha: float = 0.05
    test_unit: str = "study"
    test_method: str = "r"
    max_distance_km: float = 300.0
    bootstrap_samples: int = 2000
    seed: int = 20210701
    seasonal_bin_days: int = 1
    min_cycle_months: int = 6
    manipulation: str | None = "None"
    exclude_methods: list[str] | None = field(default_factory=lambda: list(site_loaders.DEFAULT_EXCLUDED_METHODS))
    drop_negative: bool = True
    climate_map: str | None = "koppen"

    def __post_init__(self):
        _one_of(self, {"test_unit": ("study", "site"), "test_method": TEST_METHODS})
        for key in ("window_days", "climatology_window_days", "bootstrap_samples", "seasonal_bin_days"):
            value = getattr(self, key)
            if not isinstance(value, int) or value < 0:
                raise OptionError(key, f"option {key} must be a non-negative integer")


def _row(name: str, value: Any, units: str = "1", kind: str = "scalar", analysis_name: str = "wilcoxon",
         region: str = GLOBAL) -> dict[str, Any]:
    """One scalar row of ``daily_rh`` (the builder adds model, confrontation and reference)."""
    return {"region": region, "analysis": analysis_name, "name": name, "type": kind, "units": units, "value": value}


@dataclass
class DailyInputs:
    """The MGRhD observations linked to a model for ``daily_rh``'s units: every filtered record
    (``records``), each with its cell, link and climate group (``frame``), those with a model
    value (``paired``), whether the model has a sub-annual time axis and its name (for labels)."""

    records: pd.DataFrame
    frame: pd.DataFrame
    paired: pd.DataFrame
    sub_annual: bool
    model_name: str


def _unit_plural(options: DailyRhOptions) -> str:
    return {"study": "studies", "site": "sites"}[options.test_unit]


class DailyLinks(AnalysisUnit):
    """How many observations were linked to the model, in its record or on its climatology, and
    their mean error."""

    name = "sites daily"
    Options = DailyRhOptions

    def __call__(self, inputs: DailyInputs) -> UnitResult:
        paired = inputs.paired
        in_record = paired["link"] == analysis.LINK_IN_RECORD
        mean_error = float((paired["modelled"] - paired["observed"]).mean()) if len(paired) else np.nan
        return UnitResult(rows=[
            _row("n observations", len(paired), analysis_name=self.name),
            _row("n observations in record", int(in_record.sum()), analysis_name=self.name),
            _row("n observations on climatology", int((~in_record).sum()), analysis_name=self.name),
            _row("mean error", mean_error, DAILY_UNITS, analysis_name=self.name)])


class WilcoxonClasses(AnalysisUnit):
    """Paired Wilcoxon signed-rank test per study (or site): the class shares, globally and per
    climate group, the map of classes and the table of tests."""

    name = "wilcoxon"
    Options = DailyRhOptions

    def __call__(self, inputs: DailyInputs) -> UnitResult:
        o, paired = self.options, inputs.paired
        tests = analysis.study_tests(paired, unit=o.test_unit, min_observations=o.min_observations, alpha=o.alpha,
                                     method=o.test_method)
        shares = analysis.class_shares(tests)
        plural = _unit_plural(o)
        rows = [_row(f"n {plural} tested", len(tests))]
        for cls in analysis.CLASSES:
            rows.append(_row(f"n {analysis.CLASS_LABELS[cls]}", int((tests["class"] == cls).sum())))
            rows.append(_row(f"share {analysis.CLASS_LABELS[cls]}", shares[cls]))
        for region in CLIMATE_GROUPS:
            in_group = tests[tests["study"].isin(paired.loc[paired["group"] == region, "study"].unique())]
            if len(in_group):
                rows.append(_row(f"n {plural} tested", len(in_group), region=region))
                for cls, share in analysis.class_shares(in_group).items():
                    rows.append(_row(f"share {analysis.CLASS_LABELS[cls]}", share, region=region))
        study_columns = ["study", "site", "lat", "lon", "n", "p_value", "mean_error", "class", "n_locations",
                         "observed_mean", "modelled_mean", "test"]
        study_table = tests[study_columns]
        study_map = study_table.assign(category=[analysis.CLASS_LABELS[c] for c in study_table["class"]])
        meta = {
            "study_classes": {"plot": "site_map", "title": f"Wilcoxon class per {o.test_unit} (α = {o.alpha:g})"},
            "studies": {"plot": "table", "title": f"Paired Wilcoxon signed-rank test per {o.test_unit}",
                        "units": DAILY_UNITS},
        }
        return UnitResult(rows=rows, tables={"study_classes": study_map, "studies": study_table}, table_meta=meta)


class PooledRegression(AnalysisUnit):
    """Modelled against observed daily Rh, every paired observation pooled: R², RMSE, slope,
    intercept and the scatter."""

    name = "regression"
    Options = DailyRhOptions

    def __call__(self, inputs: DailyInputs) -> UnitResult:
        paired = inputs.paired
        regression = analysis.pooled_regression(paired["observed"].to_numpy(), paired["modelled"].to_numpy())
        rows = [_row(f"regression {key}", regression[key], DAILY_UNITS if key in ("RMSE", "intercept") else "1",
                     analysis_name=self.name) for key in ("R2", "RMSE", "slope", "intercept")]
        scatter = paired.assign(group=[_group_label(g) for g in paired["group"]])[["observed", "modelled", "group"]]
        meta = {"scatter": {"plot": "scatter", "title": "Daily Rh at MGRhD sites", "units": DAILY_UNITS,
                            "x_label": "observed Rh", "y_label": "modelled Rh"}}
        return UnitResult(rows=rows, tables={"scatter": scatter}, table_meta=meta)


class BootstrapMeans(AnalysisUnit):
    """Bootstrap distributions of the observed and modelled mean daily Rh (``bootstrap_samples``
    draws, ``seed``) and their 95 % intervals."""

    name = "bootstrap"
    Options = DailyRhOptions

    def __call__(self, inputs: DailyInputs) -> UnitResult:
        o, paired = self.options, inputs.paired
        boot = analysis.bootstrap_means(paired["observed"].to_numpy(), paired["modelled"].to_numpy(),
                                        o.bootstrap_samples, o.seed)
        rows = [_row(f"{side} mean", float(np.mean(paired[side])), DAILY_UNITS, analysis_name=self.name)
                for side in ("observed", "modelled")] if len(boot) else []
        bars = pd.DataFrame([
            {"label": label, "role": role, "value": float(boot[side].mean()) if len(boot) else np.nan,
             "lower": float(boot[side].quantile(0.025)) if len(boot) else np.nan,
             "upper": float(boot[side].quantile(0.975)) if len(boot) else np.nan, "units": DAILY_UNITS}
            for label, role, side in (("MGRhD observed", "reference", "observed"),
                                      (inputs.model_name, "model", "modelled"))
        ])
        meta = {
            "bootstrap_mean": {"plot": "bars", "title": "Bootstrap mean daily Rh (95 % interval)",
                               "units": DAILY_UNITS},
            "bootstrap_samples": {"plot": "histogram", "title": f"Bootstrap distribution of the mean (seed {o.seed})",
                                  "units": DAILY_UNITS, "columns": ["observed", "modelled"],
                                  "x_label": "bootstrap mean daily Rh", "y_label": "samples"},
        }
        return UnitResult(rows=rows, tables={"bootstrap_mean": bars, "bootstrap_samples": boot}, table_meta=meta)


class DailyScores(AnalysisUnit):
    """soilbench's per-cell scores (level and site-to-site pattern, what a climatology can hold
    too) and the per-study RMSE score (within-study variation, sub-annual models only): the
    components :data:`SITE_SCORE_COMPONENTS` and ``RMSE score``; ILAMB's per-study bias score
    beside them for comparison (docs/sites.md)."""

    name = "scores"
    Options = DailyRhOptions

    def __call__(self, inputs: DailyInputs) -> UnitResult:
        o, paired, records = self.options, inputs.paired, inputs.records
        study_score = analysis.study_scores(paired, unit=o.test_unit, min_observations=o.min_observations)
        notes: list[str] = []
        rmse_score = study_score["RMSE score"]
        if not inputs.sub_annual:
            # the model is constant within each study's dates: its centred RMSE is the observations'
            # SD, so every study would score e^-1 whatever the model
            rmse_score = np.nan
            notes.append("RMSE score not applicable: the model has no sub-annual time axis, so within a study it is "
                         "constant and its centred RMSE equals the observations' SD (a score of e⁻¹ for any model).")
        elif study_score["n units without model variation"]:
            notes.append(f"{study_score['n units without model variation']:.0f} {_unit_plural(o)} where the model "
                         "does not vary have no RMSE score.")
        per_cell = analysis.cell_means(paired)
        cell = analysis.cell_scores(per_cell["observed"].to_numpy(), per_cell["modelled"].to_numpy(),
                                    len(paired) / len(records) if len(records) else np.nan)
        rows = [_row(key, cell[key], analysis_name=self.name)
                for key in ("n cells", "share of records compared", "cell correlation", "cell std ratio")]
        # ILAMB's per-study bias score exp(-|ME|/σ_study), for comparison; not a component
        rows.append(_row("ILAMB bias score", study_score["bias score"], analysis_name=self.name))
        components = {**{k: cell[k] for k in SITE_SCORE_COMPONENTS}, "RMSE score": rmse_score}
        rows += [_row(key, value, kind="score", analysis_name=self.name) for key, value in components.items()]
        return UnitResult(rows=rows, notes=notes, components=components)


class SeasonalCycles(AnalysisUnit):
    """Seasonal cycles of daily Rh per climate group in the northern hemisphere (sub-annual models
    only): fit, peak shift, amplitudes and the ``seasonal cycle score`` component (the groups'
    cycle scores weighted by their observations)."""

    name = "seasonal cycle"
    Options = DailyRhOptions

    def __call__(self, inputs: DailyInputs) -> UnitResult:
        o, paired = self.options, inputs.paired
        rows: list[dict[str, Any]] = []
        tables: dict[str, pd.DataFrame] = {}
        meta: dict[str, dict[str, Any]] = {}
        cycle_score = np.nan
        if inputs.sub_annual:
            north = paired[(paired["lat"] > 0) & paired["group"].notna()]
            cycle_table, group_stats = analysis.seasonal_cycles(north, bin_days=o.seasonal_bin_days,
                                                                min_months=o.min_cycle_months)
            for _, g in group_stats.iterrows():
                region = g["group"]
                rows += [
                    _row("seasonal R2", g["R2"], analysis_name=self.name, region=region),
                    _row("seasonal RMSE", g["RMSE"], DAILY_UNITS, analysis_name=self.name, region=region),
                    _row("n observations", g["n"], analysis_name=self.name, region=region),
                    _row("peak shift", g["peak_shift_days"], "day", analysis_name=self.name, region=region),
                    _row("observed amplitude", g["observed_amplitude"], DAILY_UNITS, analysis_name=self.name,
                         region=region),
                    _row("modelled amplitude", g["modelled_amplitude"], DAILY_UNITS, analysis_name=self.name,
                         region=region),
                    _row("timing score", g["timing_score"], kind="score", analysis_name=self.name, region=region),
                    _row("amplitude score", g["amplitude_score"], kind="score", analysis_name=self.name,
                         region=region),
                    _row("seasonal cycle score", g["cycle_score"], kind="score", analysis_name=self.name,
                         region=region),
                ]
            scored = group_stats[np.isfinite(group_stats["cycle_score"])]
            if len(scored):
                cycle_score = float(np.average(scored["cycle_score"], weights=scored["n"]))
            # each group's fit beside its curves, so the report can print it in the panel's title
            fit = group_stats.set_index("group")[["R2", "RMSE"]]
            cycle_table = cycle_table.join(fit, on="group")
            cycle_table = cycle_table.assign(group=[_group_label(g) for g in cycle_table["group"]])
            if len(cycle_table):
                tables["seasonal_cycle"] = cycle_table
                meta["seasonal_cycle"] = {"plot": "seasonal_cycle", "units": DAILY_UNITS, "x_label": "day of year",
                                          "y_label": "daily Rh",
                                          "title": "Daily Rh by day of year per climate group, northern hemisphere"}
        rows.append(_row("seasonal cycle score", cycle_score, kind="score", analysis_name="scores"))
        return UnitResult(rows=rows, tables=tables, table_meta=meta, components={"seasonal cycle score": cycle_score})


class DailyRh(_SiteConfrontation):
    """Daily Rh against MGRhD: per-study Wilcoxon classes, pooled regression, seasonal cycles.

    Options: ``window_days`` (± days averaged on in-record dates), ``climatology_window_days``
    (± days of the climatological window for dates outside the record), ``min_observations``
    (per tested study), ``alpha``, ``test_unit`` (study | site), ``test_method`` (r |
    permutation | asymptotic, see :mod:`soilbench.analysis.wilcoxon`), ``max_distance_km``,
    ``bootstrap_samples``, ``seed``, ``seasonal_bin_days``, ``min_cycle_months``, the MGRhD
    filters (``manipulation``, ``exclude_methods``, ``drop_negative``) and ``climate_map``.

    The confrontation links the observations to the model; its analysis units
    (:class:`DailyLinks`, :class:`WilcoxonClasses`, :class:`PooledRegression`,
    :class:`BootstrapMeans`, :class:`DailyScores`, :class:`SeasonalCycles`) do the rest, and the
    builder writes the overall score (the RMSE and seasonal cycle components are not applicable
    to a model without a sub-annual time axis).
    """

    kind: ClassVar[str] = "daily_rh"
    reference_loaders: ClassVar[tuple[str, ...]] = ("mgrhd_daily",)
    quantities: ClassVar[tuple[str, ...]] = ("rh",)
    group: ClassVar[str] = "Rh"
    options_type: ClassVar[type[Options]] = DailyRhOptions
    unit_types = (DailyLinks, WilcoxonClasses, PooledRegression, BootstrapMeans, DailyScores, SeasonalCycles)

    def _stage(self) -> None:
        o = self.options
        self.site_records = site_loaders.load_mgrhd(
            _fetch(self.reference, self.data_dir), manipulation=o["manipulation"],
            exclude_methods=o["exclude_methods"], drop_negative=o["drop_negative"],
            min_study_observations=o["min_observations"])
        records = self.site_records.records
        self.site_groups = _climate_groups(o["climate_map"], self.data_dir, records["lat"].to_numpy(),
                                           records["lon"].to_numpy())

    def _field(self, model: xr.Dataset) -> tuple[xr.DataArray, list[str]]:
        return _model_variable(model, "rh", self.name)

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray]:
        """Cells with values, and the series at the sites' cells (see :class:`_SiteConfrontation`)."""
        return self._site_reductions(model, "rh")

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        self.stage_data()
        o = self.settings
        model_name = str(model.attrs.get("model", "model"))
        da, _ = self._field(model)
        records = self.site_records.records
        cells, source, valid = self._locate(model, da, "rh", reductions)
        modelled, link, sub_annual = analysis.link_daily(
            source, cells, records["year"].to_numpy(), records["doy"].to_numpy(), window_days=o.window_days,
            climatology_window_days=o.climatology_window_days)
        frame = records.assign(group=self.site_groups, modelled=modelled, link=link,
                               distance_km=cells["distance_km"].round(1), relocated=cells["relocated"],
                               located=cells["located"], ilat=cells["ilat"].to_numpy(), ilon=cells["ilon"].to_numpy())
        paired = frame[np.isfinite(frame["modelled"])]

        notes = [f"{len(paired)} of {len(records)} MGRhD observations linked to the model "
                 "(filters: see table filter_counts)."]
        if not sub_annual:
            notes.append("Model has no sub-annual time axis: every observation is compared with the model's annual "
                         "mean rate / 365 (annual-climatology comparison); seasonal cycle not applicable.")
        n_climatology = int((paired["link"] == analysis.LINK_CLIMATOLOGY).sum())
        outside = None
        if n_climatology:
            notes.append(f"{n_climatology} observations outside the model record took the ±"
                         f"{o.climatology_window_days}-day climatological window over the record's years.")
            outside = (f"{n_climatology} of {len(paired)} observations outside the model's years took the "
                       f"±{o.climatology_window_days}-day climatological window over its years")
        if not sub_annual:
            outside = "the model has no sub-annual time axis: every observation is compared with its annual mean rate"
        n_unlocated = int((~frame["located"]).sum())
        if n_unlocated:
            notes.append(f"{n_unlocated} observations farther than {o.max_distance_km:g} km from any valid "
                         "model cell were left out.")

        results = [unit(DailyInputs(records, frame, paired, sub_annual, model_name)) for unit in self.units]
        components = {name: value for result in results for name, value in result.components.items()}
        # the within-study variation and the seasonal cycle need a sub-annual model
        not_applicable = [] if sub_annual else [k for k in SUB_ANNUAL_COMPONENTS if k in components]
        _, missing = _overall_score(components, not_applicable)
        incomplete = _incomplete_flags(components, missing, not_applicable, "the model has no sub-annual time axis")
        observed_years = (int(records["year"].min()), int(records["year"].max())) if len(records) else None
        result = build.build_result(results, model=model_name, confrontation=self.name, notes=notes,
                                    comparison=self._comparison(model, da, observed_years, DAILY_UNITS, outside),
                                    flags=self._flags(model, valid) + incomplete, reference=self.reference,
                                    not_applicable=not_applicable)
        result.tables["filter_counts"] = self.site_records.filter_counts
        result.table_meta["filter_counts"] = {"plot": "table", "title": "MGRhD observations left after each filter"}
        return result
