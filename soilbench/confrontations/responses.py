"""Functional responses at sites: annual Rh and Rs against climate (SRDB), daily Rh against soil
temperature (MGRhD).

``site_response`` compares how respiration responds to climate, not its level at each site:

- SRDB V5 records (the filters of ``srdb_annual``) are binned by the MAT and by the MAP reported
  with them; the model's annual values at the same sites are binned on the same observed MAT/MAP
  (:func:`soilbench.analysis.responses.binned_response`), and each curve is scored over the bins
  holding at least ``min_records_per_bin`` records. The apparent Q10 of observed and modelled
  annual flux against MAT is reported with its interval.
- MGRhD daily Rh and the model's Rh on the same days at the same sites' cells, binned on the
  observed soil temperature (``Tsoil``) and on the observed soil water content (``SWC``), each
  curve scored as the SRDB curves are.
- MGRhD daily Rh: the observed apparent Q10 per study against its soil temperature (``Tsoil``),
  and, where the model has a soil temperature (``tsl``) and a time axis within the year, the
  model's own Q10 per study from its Rh and soil temperature at the study's cell on the same
  dates. The two distributions are compared by their medians (scored), Mann–Whitney and KS.

Science in :mod:`soilbench.analysis.responses`; site location and linking reuse
:mod:`soilbench.analysis.sites`. See ``docs/responses.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.analysis import partition
from soilbench.analysis import reductions as reduce_
from soilbench.analysis import responses as response
from soilbench.analysis import sites as site_analysis
from soilbench import derived
from soilbench.confrontations import build
from soilbench.confrontations.base import Confrontation, ReductionKey, Reductions
from soilbench.confrontations.gridded import model_field, rs_from_rh_data, stage_root_contribution
from soilbench.confrontations.sites import SRDB_FILTER_DEFAULTS, SrdbFilterOptions, _fetch
from soilbench.confrontations.units import Options, OptionError, is_number, number_list
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.load import sites as site_loaders
from soilbench.load.grid import cell_edges
from soilbench.regions import GLOBAL
from soilbench.results import ConfrontationResult, scalar_rows

log = logging.getLogger(__name__)

ANNUAL_UNITS = "g m-2 yr-1"
DAILY_UNITS = "g m-2 day-1"
LABELS = {"rh": "Rh", "rs": "Rs"}
#: the climate columns SRDB reports with each record, and how they are labelled
DRIVERS = {"MAT": ("mean annual temperature", "°C"), "MAP": ("mean annual precipitation", "mm")}
#: the MGRhD columns daily Rh is binned on, and how they are labelled
DAILY_DRIVERS = {"Tsoil": ("soil temperature", "°C"), "SWC": ("soil water content", "%")}
#: MGRhD columns carried with each observation (soil temperature, its depth, soil water content)
MGRHD_CLIMATE_COLUMNS = ("Tsoil", "TsDepth", "SWC")


def _edges(lower_upper: list[float], width: float) -> np.ndarray:
    lower, upper = (float(v) for v in lower_upper)
    return np.arange(lower, upper + 0.5 * width, width)


#: the binned curves' ranges and bin widths: (range option, width option)
BIN_OPTIONS = (("mat_range_degC", "mat_bin_width_degC"), ("map_range_mm", "map_bin_width_mm"),
               ("tsoil_range_degC", "tsoil_bin_width_degC"), ("swc_range_pct", "swc_bin_width_pct"))
#: integer options and their smallest value
INTEGER_OPTIONS = {"min_records_per_bin": 2, "min_q10_observations": 2, "min_observations_per_bin": 2,
                   "window_days": 0, "climatology_window_days": 0}


@dataclass(frozen=True)
class SiteResponseOptions(SrdbFilterOptions):
    """Options of ``site_response`` (see :class:`SiteResponse`), checked when the definition is read."""

    responses: list[str] = field(default_factory=lambda: ["rh", "rs"])
    rs_from_rh: str = "none"
    mat_range_degC: list[float] = field(default_factory=lambda: [-10.0, 30.0])
    mat_bin_width_degC: float = 5.0
    map_range_mm: list[float] = field(default_factory=lambda: [0.0, 4000.0])
    map_bin_width_mm: float = 250.0
    min_records_per_bin: int = 10
    max_distance_km: float = 300.0
    min_q10_observations: int = 10
    min_q10_range_degC: float = 5.0
    tsoil_range_degC: list[float] = field(default_factory=lambda: [-10.0, 35.0])
    tsoil_bin_width_degC: float = 2.5
    swc_range_pct: list[float] = field(default_factory=lambda: [0.0, 60.0])
    swc_bin_width_pct: float = 5.0
    min_observations_per_bin: int = 30
    window_days: int = 0
    climatology_window_days: int = 3

    def __post_init__(self):
        responses = self.responses
        if (not isinstance(responses, (list, tuple)) or not responses or any(q not in LABELS for q in responses)
                or len(set(responses)) != len(responses)):
            raise OptionError("responses", f"option responses must list rh and/or rs once each, got {responses!r}")
        if self.rs_from_rh not in partition.METHODS:
            raise OptionError("rs_from_rh", f"option rs_from_rh must be one of {list(partition.METHODS)}, "
                              f"got {self.rs_from_rh!r}")
        for range_key, width_key in BIN_OPTIONS:
            lower, upper = number_list(self, range_key, 2)
            width = getattr(self, width_key)
            if not (is_number(width) and width > 0 and upper > lower):
                raise OptionError(range_key, f"{range_key} needs a range [lower, upper] with upper > lower "
                                  "and a bin width > 0")
        for key, smallest in INTEGER_OPTIONS.items():
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
                raise OptionError(key, f"option {key} must be an integer >= {smallest}")
        if not is_number(self.max_distance_km) or self.max_distance_km <= 0:
            raise OptionError("max_distance_km", f"option max_distance_km must be a number > 0, "
                              f"got {self.max_distance_km!r}")
        if not is_number(self.min_q10_range_degC) or self.min_q10_range_degC < 0:
            raise OptionError("min_q10_range_degC", f"option min_q10_range_degC must be a number >= 0, "
                              f"got {self.min_q10_range_degC!r}")


def _curve_parts(add, label: str, curve: dict[str, float], scored: np.ndarray) -> None:
    """The rows of one binned curve's parts (level, shape, mean log ratio, bins scored)."""
    add(f"{label} level score", curve["level score"], kind="score")
    add(f"{label} shape score", curve["shape score"], kind="score")
    add(f"{label} mean log ratio", curve["mean log ratio"])
    add(f"n {label} bins scored", int(scored.sum()))


def _curve_table(group: str, x_label: str, observed: pd.DataFrame, simulated: pd.DataFrame,
                 scored: np.ndarray) -> pd.DataFrame:
    """One binned curve as rows of a ``response`` table (docs/architecture.md, plot conventions)."""
    return pd.DataFrame({
        "group": group, "x": observed["bin_centre"], "x_label": x_label, "bin_lower": observed["bin_lower"],
        "bin_upper": observed["bin_upper"], "n": observed["n"], "observed": observed["mean"],
        "observed_lower": observed["ci_lower"], "observed_upper": observed["ci_upper"],
        "modelled": simulated["mean"], "modelled_lower": simulated["ci_lower"],
        "modelled_upper": simulated["ci_upper"], "scored": scored})


def srdb_with_climate(path, quantity: str, **filters) -> site_loaders.SiteRecords:
    """SRDB records of ``quantity`` (the ``srdb_annual`` filters) with the MAT and MAP reported with them.

    The climate columns are joined on ``Record_number``, which must then be unique.
    """
    loaded = site_loaders.load_srdb_annual(path, quantity, **filters)
    climate = site_loaders.read_site_csv(path, ["Record_number", "MAT", "MAP"])
    if climate["Record_number"].duplicated().any():
        raise SoilbenchError(path, "Record_number is not unique, so the MAT and MAP of a record cannot be found",
                             "Record_number")
    climate = pd.DataFrame({"record": climate["Record_number"].to_numpy(),
                            "mat": pd.to_numeric(climate["MAT"], errors="coerce").to_numpy(float),
                            "map": pd.to_numeric(climate["MAP"], errors="coerce").to_numpy(float)})
    records = loaded.records.merge(climate, on="record", how="left", validate="one_to_one")
    return site_loaders.SiteRecords(records, loaded.filter_counts, loaded.source)


class SiteResponse(Confrontation):
    """Rh and Rs against climate at SRDB sites, and the per-study Q10 of daily Rh in MGRhD.

    References: the SRDB table first, the MGRhD table second (optional: without it there is no
    Q10 comparison). Options: ``responses`` (the annual fluxes compared, rh and/or rs),
    ``rs_from_rh`` (as ``srdb_annual``), ``mat_range_degC``/``mat_bin_width_degC`` and
    ``map_range_mm``/``map_bin_width_mm`` (the bins), ``min_records_per_bin`` (bins scored),
    ``max_distance_km``, the SRDB filters of ``srdb_annual``, and for MGRhD
    ``tsoil_range_degC``/``tsoil_bin_width_degC`` and ``swc_range_pct``/``swc_bin_width_pct`` (the
    daily curves' bins), ``min_observations_per_bin`` (their bins scored),
    ``min_q10_observations`` and ``min_q10_range_degC`` (studies fitted), ``window_days`` and
    ``climatology_window_days`` (how model days are linked, as ``daily_rh``).
    """

    kind: ClassVar[str] = "site_response"
    quantities: ClassVar[tuple[str, ...]] = ("rh",)
    group: ClassVar[str] = "Rh"
    reads_site_tables: ClassVar[bool] = True
    reference_loaders: ClassVar[tuple[str, ...]] = ("srdb_annual", "mgrhd_daily")
    options_type: ClassVar[type[Options]] = SiteResponseOptions

    def __init__(self, name, references, options=None, weight=1.0, data_dir=None, source=None):
        super().__init__(name, references, options, weight, data_dir, source)
        o = self.options
        if not self.references or len(self.references) > 2:
            raise ConfigError(source, f"confrontation '{name}' ({self.kind}) needs the SRDB table and, optionally, "
                              "the MGRhD table as references", "references")
        responses = list(o["responses"])
        self.edges = {"MAT": _edges(o["mat_range_degC"], o["mat_bin_width_degC"]),
                      "MAP": _edges(o["map_range_mm"], o["map_bin_width_mm"])}
        self.daily_edges = {"Tsoil": _edges(o["tsoil_range_degC"], o["tsoil_bin_width_degC"]),
                            "SWC": _edges(o["swc_range_pct"], o["swc_bin_width_pct"])}
        self.auxiliary_data = rs_from_rh_data(o["rs_from_rh"], "rs" if "rs" in responses else "rh", name, source)

    # -- staging ---------------------------------------------------------------------------
    def _stage(self) -> None:
        o = self.options
        filters = {k: o[k] for k in SRDB_FILTER_DEFAULTS}
        path = _fetch(self.references[0], self.data_dir)
        self.srdb = {q: srdb_with_climate(path, q, **filters) for q in o["responses"]}
        self.mgrhd = None
        if len(self.references) > 1:
            self.mgrhd = site_loaders.load_mgrhd(
                _fetch(self.references[1], self.data_dir), manipulation=o["manipulation"],
                exclude_methods=o["exclude_methods"], drop_negative=o["drop_negative"],
                min_study_observations=o["min_q10_observations"], extra_columns=MGRHD_CLIMATE_COLUMNS)
        self._rc = stage_root_contribution(self.auxiliary_data, self.data_dir)

    def applicable(self, available: set[str]) -> str | None:
        if "rh" in available or "rs" in available:
            return None
        return f"the model provides no rh or rs (it provides: {', '.join(sorted(available)) or 'none'})"

    def model_quantities(self) -> set[str]:
        return {"rh", "rs", "ra_root", "tsl"}

    # -- where the sites are on the model grid (as the site confrontations do) ---------------
    def _field(self, model: xr.Dataset, quantity: str) -> tuple[xr.DataArray | None, list[str]]:
        if quantity == "tsl":
            return (model["tsl"], []) if "tsl" in model.data_vars else (None, [])
        self.stage_data()
        field, notes = model_field(model, quantity, self.options["rs_from_rh"], self._rc)
        if field is None:
            return None, notes
        da = field.copy(deep=False)
        da.attrs = dict(field.attrs)
        da.attrs.setdefault("calendar", model.attrs.get("calendar", "standard"))
        return da, notes

    def _how(self, model: xr.Dataset, quantity: str) -> str:
        """How the field comes from the model: the same words as the site confrontations, so their
        reductions of the same field at the same cells are computed once."""
        return derived.how(quantity, model.data_vars, self.options["rs_from_rh"])

    def _sites(self) -> dict[str, pd.DataFrame]:
        """Each compared field's site table: SRDB records per flux, MGRhD observations for daily Rh."""
        out = {q: records.records for q, records in self.srdb.items()}
        if self.mgrhd is not None:
            out["mgrhd"] = self.mgrhd.records
        return out

    @staticmethod
    def _quantity(site_set: str) -> str:
        return "rh" if site_set == "mgrhd" else site_set

    def _guess_cells(self, model: xr.Dataset, da: xr.DataArray, records: pd.DataFrame) -> pd.DataFrame:
        land = (model["land_fraction"].fillna(0) > 0) if "land_fraction" in model else xr.ones_like(
            da.isel(time=0, drop=True), dtype=bool)
        return site_analysis.locate_sites(land, records["lat"].to_numpy(), records["lon"].to_numpy(),
                                          self.options["max_distance_km"], *cell_edges(model))

    def _keys(self, model: xr.Dataset, quantity: str, cells: pd.DataFrame) -> tuple[ReductionKey, ReductionKey]:
        pairs = cells.loc[cells["located"], ["ilat", "ilon"]].drop_duplicates()
        how = self._how(model, quantity)
        return (("valid_cells", quantity, how),
                ("series_at_cells", quantity, how,
                 reduce_.cells_key(pairs["ilat"].to_numpy(), pairs["ilon"].to_numpy())))

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray]:
        """Per site table: the cells with values and the series at the sites' cells (located on land
        before the pass, as ``srdb_annual`` and ``daily_rh`` do, whose equal keys are shared); soil
        temperature at the MGRhD cells when the model has it."""
        self.stage_data()
        wanted: dict[ReductionKey, xr.DataArray] = {}
        for site_set, records in self._sites().items():
            quantities = [self._quantity(site_set)] + (["tsl"] if site_set == "mgrhd" else [])
            for quantity in quantities:
                da, _ = self._field(model, quantity)
                if da is None or "time" not in da.dims:
                    continue  # missing (reported by confront) or a period mean, read as it is
                cells = self._guess_cells(model, da, records)
                pairs = cells.loc[cells["located"], ["ilat", "ilon"]].drop_duplicates()
                valid_key, series_key = self._keys(model, quantity, cells)
                wanted[valid_key] = reduce_.valid_cells(da)
                wanted[series_key] = reduce_.series_at_cells(da, pairs["ilat"].to_numpy(), pairs["ilon"].to_numpy())
        return wanted

    def _locate(self, model: xr.Dataset, da: xr.DataArray, quantity: str, records: pd.DataFrame,
                reduced: dict[ReductionKey, Any]) -> tuple[pd.DataFrame, xr.DataArray]:
        """The sites' cells (on cells where ``da`` has values) and the field to read there."""
        lat, lon = records["lat"].to_numpy(), records["lon"].to_numpy()
        has_value = None
        if "time" in da.dims:
            has_value = reduced.get(self._keys(model, quantity, self._guess_cells(model, da, records))[0])
        valid = site_analysis.valid_land_cells(da, model.get("land_fraction"), has_value=has_value)
        cells = site_analysis.locate_sites(valid, lat, lon, self.options["max_distance_km"], *cell_edges(model))
        return cells, self._source(model, da, quantity, records, cells, reduced)

    def _source(self, model: xr.Dataset, da: xr.DataArray, quantity: str, records: pd.DataFrame,
                cells: pd.DataFrame, reduced: dict[ReductionKey, Any]) -> xr.DataArray:
        """The series of the pass when it holds every located cell, else the field itself."""
        if "time" not in da.dims:
            return da
        series = reduced.get(self._keys(model, quantity, self._guess_cells(model, da, records))[1])
        located = cells[cells["located"]]
        if series is not None and site_analysis.has_cells(series, located["ilat"].to_numpy(),
                                                          located["ilon"].to_numpy()):
            return series
        log.info("%s: the %s series of the pass lack some sites' cells; the field is read again", self.name, quantity)
        return da

    # -- confront ------------------------------------------------------------------------------
    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        self.stage_data()
        o = self.options
        model_name = str(model.attrs.get("model", "model"))
        reduced = self.reduced(model, reductions)
        rows: list[dict[str, Any]] = []
        notes: list[str] = []
        components: dict[str, float] = {}
        missing: dict[str, str] = {}
        curve_tables, q10_rows = [], []

        def add(name, value, units="1", kind="scalar", analysis_name="response", region=GLOBAL):
            rows.append({"region": region, "analysis": analysis_name, "name": name, "type": kind, "units": units,
                         "value": value})

        for quantity in o["responses"]:
            label = LABELS[quantity]
            da, field_notes = self._field(model, quantity)
            if da is None:
                reason = f"the model provides no {quantity}" + (
                    " (set the option rs_from_rh to derive it from rh)" if quantity == "rs" else "")
                for driver in DRIVERS:
                    missing[f"{label} vs {driver} score"] = reason
                continue
            notes += field_notes
            records = self.srdb[quantity].records
            cells, source = self._locate(model, da, quantity, records, reduced)
            modelled, _ = site_analysis.annual_at_sites(source, cells, records["year_start"].to_numpy(),
                                                        records["year_end"].to_numpy())
            paired = records.assign(modelled=modelled)
            paired = paired[np.isfinite(paired["modelled"])]
            notes.append(f"SRDB {label}: {len(paired)} of {len(records)} filtered records have a model value "
                         f"({int(paired['mat'].notna().sum())} with MAT, {int(paired['map'].notna().sum())} with MAP).")
            add(f"n {label} records", len(paired))
            for driver, (_, driver_units) in DRIVERS.items():
                x = paired[driver.lower()].to_numpy(float)
                observed = response.binned_response(x, paired["observed"].to_numpy(), self.edges[driver])
                simulated = response.binned_response(x, paired["modelled"].to_numpy(), self.edges[driver])
                scored = response.scored_bins(observed, simulated, o["min_records_per_bin"])
                curve = response.response_scores(observed, simulated, o["min_records_per_bin"])
                name = f"{label} vs {driver} score"
                components[name] = curve["score"]
                add(name, curve["score"], kind="score", analysis_name="scores")
                _curve_parts(add, f"{label} vs {driver}", curve, scored)
                curve_tables.append(_curve_table(f"{label} vs {driver}", f"{driver} ({driver_units})",
                                                 observed, simulated, scored))
            for side in ("observed", "modelled"):
                fit = response.fit_q10(paired["mat"].to_numpy(float), paired[side].to_numpy(float))
                add(f"{label} vs MAT Q10 {side}", fit.q10, analysis_name="Q10")
                q10_rows.append({"response": f"SRDB annual {label} vs MAT (across sites)", "side": side,
                                 "q10": fit.q10, "lower": fit.lower, "upper": fit.upper, "n": fit.n,
                                 "r_squared": fit.r_squared, "n_dropped_nonpositive": fit.n_dropped_nonpositive})

        tables: dict[str, pd.DataFrame] = {}
        meta: dict[str, dict[str, Any]] = {}
        if curve_tables:
            tables["binned_responses"] = pd.concat(curve_tables, ignore_index=True)
            meta["binned_responses"] = {
                "plot": "response", "units": ANNUAL_UNITS, "y_label": "annual flux",
                "title": f"Annual flux at SRDB sites binned by the observed climate (mean, 95 % CI; "
                         f"bins with ≥ {o['min_records_per_bin']} records scored)"}

        if self.mgrhd is not None:
            daily_curves = self._daily_curves(model, reduced, add, notes, missing, components)
            if daily_curves is not None:
                tables["mgrhd_binned_responses"] = daily_curves
                meta["mgrhd_binned_responses"] = {
                    "plot": "response", "units": DAILY_UNITS, "y_label": "daily Rh",
                    "title": f"Daily Rh at MGRhD sites binned by the observed soil temperature and water content "
                             f"(mean, 95 % CI; bins with ≥ {o['min_observations_per_bin']} observations scored)"}
            study_table, q10_score = self._daily_q10(model, reduced, add, notes, missing, q10_rows)
            components["MGRhD Q10 score"] = q10_score
            tables["study_q10"] = study_table
            meta["study_q10"] = {"plot": "table", "title": "Apparent Q10 of daily Rh per MGRhD study"}
            # the modelled series only when the model has one (an empty series would still get a legend entry)
            sides = ["observed"] + (["modelled"] if study_table["q10_modelled"].notna().any() else [])
            distribution = pd.DataFrame({side: pd.Series(study_table[f"q10_{side}"].dropna().to_numpy())
                                         for side in sides})
            tables["q10_distribution"] = distribution
            meta["q10_distribution"] = {"plot": "histogram", "title": "Apparent Q10 per MGRhD study",
                                        "columns": sides, "x_label": "Q10", "y_label": "studies"}

        tables["q10"] = pd.DataFrame(q10_rows, columns=["response", "side", "q10", "lower", "upper", "n",
                                                        "r_squared", "n_dropped_nonpositive"])
        meta["q10"] = {"plot": "table", "title": "Apparent Q10 (exponential fit, 95 % CI)"}

        for name, reason in missing.items():
            components[name] = float("nan")
            add(name, float("nan"), kind="score", analysis_name="scores")
            notes.append(f"{name}: n/a, {reason}.")
        finite = {k: v for k, v in components.items() if np.isfinite(v)}
        n_missing = len(components) - len(finite)
        add("n score components missing", n_missing)
        if n_missing:
            notes.append(f"Overall score incomplete: the mean of {len(finite)} of {len(components)} components "
                         f"({n_missing} n/a: {', '.join(k for k, v in components.items() if not np.isfinite(v))}).")
        add("overall score", build.overall(components, not_applicable=[k for k, v in components.items() if not np.isfinite(v)]).value,
            kind="score", analysis_name="overall")
        tables["filter_counts"] = self.srdb[o["responses"][0]].filter_counts
        meta["filter_counts"] = {"plot": "table", "title": f"SRDB V5 {LABELS[o['responses'][0]]} records left "
                                                           "after each filter"}
        scalars = scalar_rows(rows, model=model_name, confrontation=self.name, reference=self.references[0])
        return ConfrontationResult(scalars, None, tables, meta, notes)

    def _daily_curves(self, model, reduced, add, notes, missing, components) -> pd.DataFrame | None:
        """Observed MGRhD daily Rh and the model's Rh on the same days at the same sites' cells,
        both binned on the observed soil temperature and on the observed soil water content (as
        the SRDB curves bin the model on the observed MAT/MAP), each curve scored with
        ``response_scores`` over the bins holding ≥ ``min_observations_per_bin`` observations."""
        o = self.options
        records = self.mgrhd.records
        rh, _ = self._field(model, "rh")
        if rh is None:
            for driver in DAILY_DRIVERS:
                missing[f"MGRhD Rh vs {driver} score"] = "the model provides no rh"
            return None
        cells, source = self._locate(model, rh, "rh", records, reduced)
        modelled, _, _ = site_analysis.link_daily(source, cells, records["year"].to_numpy(), records["doy"].to_numpy(),
                                                  window_days=o["window_days"],
                                                  climatology_window_days=o["climatology_window_days"])
        curves = []
        for driver, (_, driver_units) in DAILY_DRIVERS.items():
            x = records[driver.lower()].to_numpy(float)
            name = f"MGRhD Rh vs {driver} score"
            if not np.isfinite(x).any():
                missing[name] = f"no MGRhD observation carries a {driver} value"
                continue
            observed = response.binned_response(x, records["observed"].to_numpy(float), self.daily_edges[driver])
            simulated = response.binned_response(x, modelled, self.daily_edges[driver])
            scored = response.scored_bins(observed, simulated, o["min_observations_per_bin"])
            curve = response.response_scores(observed, simulated, o["min_observations_per_bin"])
            n_pairs = int((np.isfinite(x) & np.isfinite(modelled)).sum())
            notes.append(f"MGRhD Rh vs {driver}: {n_pairs} of {len(records)} filtered observations have a {driver} "
                         f"value and a model value on their day.")
            if not scored.any():
                missing[name] = (f"no {driver} bin holds ≥ {o['min_observations_per_bin']} observations with a "
                                 "model value")
            elif not np.isfinite(curve["score"]):
                missing[name] = (f"the observed curve over the {int(scored.sum())} scored {driver} bin(s) is flat, "
                                 "so it has no shape to score against")
            else:
                components[name] = curve["score"]
                add(name, curve["score"], kind="score", analysis_name="scores")
            _curve_parts(add, f"MGRhD Rh vs {driver}", curve, scored)
            curves.append(_curve_table(f"daily Rh vs {driver}",
                                       f"observed {DAILY_DRIVERS[driver][0]} ({driver_units})",
                                       observed, simulated, scored))
        return pd.concat(curves, ignore_index=True) if curves else None

    def _daily_q10(self, model, reduced, add, notes, missing, q10_rows) -> tuple[pd.DataFrame, float]:
        """Per-study Q10 of MGRhD daily Rh against soil temperature, observed and (where it can be
        fitted) modelled; the score of the modelled median against the observed median."""
        o = self.options
        records = self.mgrhd.records
        with_t = records[np.isfinite(records["tsoil"])]
        observed = response.q10_by_group(with_t, "study", "tsoil", "observed", min_points=o["min_q10_observations"],
                                         min_range=o["min_q10_range_degC"])
        fitted = observed[np.isfinite(observed["q10"].to_numpy(float))]
        depth = with_t.groupby("study")["tsdepth"].median()
        swc = with_t.groupby("study")["swc"].mean()
        table = pd.DataFrame({
            "study": fitted["study"].to_numpy(), "n": fitted["n"].to_numpy(),
            "tsoil_range_degC": fitted["temperature_range"].to_numpy(),
            "tsoil_depth_cm": depth.reindex(fitted["study"]).to_numpy(),
            "mean_swc": swc.reindex(fitted["study"]).to_numpy(),
            "q10_observed": fitted["q10"].to_numpy(), "q10_observed_lower": fitted["lower"].to_numpy(),
            "q10_observed_upper": fitted["upper"].to_numpy(), "q10_modelled": np.nan, "n_modelled": 0})
        depths = table["tsoil_depth_cm"].to_numpy(float)
        depth_text = (f" (median soil-temperature depth {np.nanmedian(depths):.0f} cm)"
                      if np.isfinite(depths).any() else "")
        notes.append(f"MGRhD: {len(with_t)} of {len(records)} filtered observations carry a soil temperature; "
                     f"{len(table)} studies with ≥ {o['min_q10_observations']} of them over ≥ "
                     f"{o['min_q10_range_degC']:g} °C give an observed Q10{depth_text}.")
        add("n studies with observed Q10", len(table), analysis_name="MGRhD Q10")

        reason = self._model_q10_reason(model)
        if not len(table):
            reason = (f"no MGRhD study has ≥ {o['min_q10_observations']} observations with a soil temperature "
                      f"(Tsoil) over ≥ {o['min_q10_range_degC']:g} °C, so there is no observed Q10")
        if reason is None:
            rh, _ = self._field(model, "rh")
            tsl, _ = self._field(model, "tsl")
            # located for every observation (as in the pass), both fields at the cells located for
            # Rh, so that each pair comes from one cell
            all_cells, rh_source = self._locate(model, rh, "rh", records, reduced)
            tsl_source = self._source(model, tsl, "tsl", records, all_cells, reduced)
            keep = (np.isfinite(records["tsoil"]) & records["study"].isin(table["study"])).to_numpy()
            used = records[keep].reset_index(drop=True)
            cells = all_cells[keep].reset_index(drop=True)
            link = dict(window_days=o["window_days"], climatology_window_days=o["climatology_window_days"])
            years, doys = used["year"].to_numpy(), used["doy"].to_numpy()
            rh_daily, _, _ = site_analysis.link_daily(rh_source, cells, years, doys, **link)
            # link_daily gives a rate per day (the value / 365): a temperature is scaled back
            tsl_daily = site_analysis.link_daily(tsl_source, cells, years, doys, **link)[0] \
                * site_analysis.DAYS_PER_CANONICAL_YEAR
            modelled = response.q10_by_group(used.assign(model_rh=rh_daily, model_tsl=tsl_daily), "study",
                                             "model_tsl", "model_rh", min_points=o["min_q10_observations"],
                                             min_range=o["min_q10_range_degC"]).set_index("study")
            table["q10_modelled"] = modelled["q10"].reindex(table["study"]).to_numpy()
            table["n_modelled"] = modelled["n"].reindex(table["study"]).fillna(0).astype(int).to_numpy()
            n_no_fit = int((~np.isfinite(table["q10_modelled"])).sum())
            if n_no_fit:
                notes.append(f"MGRhD: {n_no_fit} of {len(table)} studies have no model Q10 (fewer than "
                             f"{o['min_q10_observations']} positive model rates, or a model soil temperature range "
                             f"under {o['min_q10_range_degC']:g} °C, at their dates and cells).")
            notes.append("MGRhD: the model's soil temperature is its top layer (tsl); the observed one is measured at "
                         "the depth in table study_q10.")

        compared = response.compare_q10_distributions(table["q10_observed"], table["q10_modelled"])
        for key, value in compared.items():
            add(key, value, analysis_name="MGRhD Q10")
        for side in ("observed", "modelled"):
            q10_rows.append({"response": "MGRhD daily Rh vs Tsoil (median of per-study Q10)", "side": side,
                             "q10": compared[f"{side} median"], "lower": np.nan, "upper": np.nan,
                             "n": int(compared[f"n {side}"]), "r_squared": np.nan, "n_dropped_nonpositive": 0})
        if reason is not None:
            missing["MGRhD Q10 score"] = reason
            return table, float("nan")
        # a model that could be fitted but gives no Q10 anywhere (e.g. no positive Rh) has no response: 0
        score = response.q10_score(compared["modelled median"], compared["observed median"])
        if not np.isfinite(score) and np.isfinite(compared["observed median"]):
            score = 0.0
        add("MGRhD Q10 score", score, kind="score", analysis_name="scores")
        return table, score

    def _model_q10_reason(self, model: xr.Dataset) -> str | None:
        """Why the model's own per-study Q10 cannot be fitted; None when it can."""
        if "rh" not in model.data_vars:
            return "the model provides no rh"
        if "tsl" not in model.data_vars:
            return "the model provides no soil temperature (tsl), so its own Q10 cannot be fitted"
        if "time" not in model["rh"].dims or "time" not in model["tsl"].dims:
            return ("the model is a period mean (one value per site), so Rh and soil temperature do not vary "
                    "together within a study")
        return None
