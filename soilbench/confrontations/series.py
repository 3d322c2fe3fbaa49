"""The global Rh series: trend, interannual variability, anomalies, temperature sensitivity, seasonal cycle.

Kind ``global_series`` (group "Rh"). A model's annual global Rh (from the runner's one pass: the
global step totals the 2-box constraint reads too) against the digitised Hashimoto 2015 and Tang
2020 series (scored) and the CMIP6 ensemble (a spread, shown and placed, not scored); where the
model gives ``tas``, the sensitivity of Rh to the land-mean temperature, and where it has months,
the global seasonal cycle, both against [003]'s published envelopes (methods.md §9). Models given
only as annual global totals (:mod:`soilbench.load.seriesmodel`) are confronted too. The science
is in :mod:`soilbench.analysis.timeseries`; ``docs/series.md`` describes outputs and scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.analysis import integrate, reductions, scores
from soilbench.analysis import timeseries as ts
from soilbench.confrontations import build
from soilbench.confrontations.base import Confrontation, ReductionKey, Reductions
from soilbench.confrontations.units import OptionError, Options, year_range
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.load.seriesmodel import SERIES_VARIABLE, is_global_series
from soilbench.quantities import FLUX_TOTAL_UNITS, G_PER_PG
from soilbench.regions import GLOBAL
from soilbench.results import ConfrontationResult, scalar_rows

TREND_UNITS = "Pg yr-2"
SENSITIVITY_UNITS = "Pg yr-1 degC-1"
MONTH_UNITS = "Pg month-1"
#: the components of the overall score that every reference gives, and the model-only ones
REFERENCE_COMPONENTS = ("mean score", "trend score", "variability score", "anomaly correlation score")
SENSITIVITY = "temperature sensitivity score"
SEASONAL = "seasonal cycle score"
#: steps shorter than this (days) are sub-annual: the seasonal cycle applies
SUB_ANNUAL_DAYS = 40.0
MID_MONTH_DOY = np.array([16, 45, 75, 105, 136, 166, 197, 228, 258, 289, 319, 350])


@dataclass(frozen=True)
class GlobalSeriesOptions(Options):
    """Options of ``global_series`` (docs/series.md), checked when the benchmark definition is read."""

    period: list[int] = field(default_factory=lambda: [1980, 2010])
    min_years: int = 10
    rh_share_of_rs: list[float] = field(default_factory=lambda: list(ts.RH_SHARE_OF_RS))

    def __post_init__(self):
        year_range(self, "period")
        n = self.min_years
        if isinstance(n, bool) or not isinstance(n, int) or n < ts.MIN_YEARS:
            raise OptionError("min_years", f"option min_years must be an integer >= {ts.MIN_YEARS}, got {n!r}")
        share = self.rh_share_of_rs
        if (not isinstance(share, (list, tuple)) or len(share) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in share)
                or not 0 < share[0] <= share[1] <= 1):
            raise OptionError("rh_share_of_rs", "option rh_share_of_rs must be [lower, upper] with "
                              f"0 < lower <= upper <= 1, got {share!r}")


class GlobalSeries(Confrontation):
    """Annual global Rh series against digitised series, the CMIP6 spread and [003]'s envelopes."""

    kind: ClassVar[str] = "global_series"
    group: ClassVar[str] = "Rh"
    quantities: ClassVar[tuple[str, ...]] = ("rh",)
    reads_global_series: ClassVar[bool] = True
    options_type: ClassVar[type[Options]] = GlobalSeriesOptions
    reference_loaders: ClassVar[tuple[str, ...]] = ("digitised_series", "cmip6_global")

    @property
    def period(self) -> tuple[int, int]:
        return int(self.options["period"][0]), int(self.options["period"][1])

    @property
    def share(self) -> tuple[float, float]:
        return float(self.options["rh_share_of_rs"][0]), float(self.options["rh_share_of_rs"][1])

    def model_quantities(self) -> set[str]:
        """rh, and tas for the temperature sensitivity where the model has it."""
        return {"rh", "tas"}

    # -- staging ---------------------------------------------------------------------------
    def _stage(self) -> None:
        from soilbench.data import fetch
        from soilbench.load import series
        from soilbench.load.reference import reference_loader

        self.series: dict[str, pd.Series] = {}
        self.ensembles: dict[str, pd.DataFrame] = {}
        for reference_id in self.references:
            loader = reference_loader(reference_id)
            path = fetch(reference_id, data_dir=self.data_dir)
            if loader == "digitised_series":
                self.series[reference_id] = ts.as_annual_series(series.read_digitised_series(path))
            elif loader == "cmip6_global":
                table = series.read_cmip6_global(path, "rh")
                if table.empty:
                    raise SoilbenchError(reference_id, "has no rows for variable rh", "variable")
                self.ensembles[reference_id] = table
            else:
                raise ConfigError(self.source, f"confrontation '{self.name}': reference '{reference_id}' is neither a "
                                  "digitised series nor a CMIP6 global table", "references")
        if not self.series:
            raise ConfigError(self.source, f"confrontation '{self.name}' needs a digitised Rh series (e.g. "
                              "tang2020-rh) to score against", "references")
        #: each CMIP6 member's series, once (read per model, never split again)
        self._members = {ref_id: {f"{m} {e}": ts.as_annual_series(rows.set_index("year")["value"])
                                  for (m, e), rows in table.groupby(["model", "ensemble"])}
                         for ref_id, table in self.ensembles.items()}
        #: (reference, years) → members' trends and variabilities: most models share their years
        self._ensemble_stats: dict[tuple[str, tuple[int, ...]], tuple[np.ndarray, np.ndarray]] = {}

    # -- applicability ---------------------------------------------------------------------
    def applicable_to(self, model: xr.Dataset, available: set[str]) -> str | None:
        """n/a for a climatology (no time axis) and for fewer than ``min_years`` complete years in
        the period shared with some digitised series (docs/series.md)."""
        if not is_global_series(model):
            reason = self.applicable(available)
            if reason:
                return reason
            if "time" not in model["rh"].dims:
                period = model.attrs.get("period", "one period")
                return (f"the model is a climatology ({period} mean, no time axis): a trend, interannual variability "
                        "and temperature sensitivity need annual values")
        elif SERIES_VARIABLE not in model:
            return "the series model holds no annual global rh"
        years = self._model_years(model)
        first, last = self.period
        inside = years[(years >= first) & (years <= last)]
        need = int(self.options["min_years"])
        if inside.size < need:
            return (f"the model has {inside.size} complete year(s) in {first}-{last}; {self.kind} needs at least "
                    f"{need} (docs/series.md)")
        self.stage_data()
        shared = {r: np.intersect1d(inside, s.index.to_numpy(int)).size for r, s in self.series.items()}
        if max(shared.values()) < need:
            return (f"the model's years in {first}-{last} share fewer than {need} years with every reference series "
                    f"({', '.join(f'{r}: {n}' for r, n in shared.items())})")
        return None

    def _model_years(self, model: xr.Dataset) -> np.ndarray:
        """The model's complete calendar years (all of a series model's years)."""
        if is_global_series(model):
            return model["year"].values.astype(int)
        return ts.complete_years(model["time"].dt.year.values, model["step_days"].values, self._year_days(model))

    @staticmethod
    def _year_days(model: xr.Dataset) -> dict[int, float]:
        from soilbench.analysis.integrate import days_in_year

        calendar = str(model.attrs.get("calendar", "standard"))
        return {int(y): days_in_year(int(y), calendar) for y in np.unique(model["time"].dt.year.values)}

    # -- the model's series from the one pass -------------------------------------------------
    @staticmethod
    def _rh_key() -> ReductionKey:
        return ("global_step_totals", "rh", "land_area_m2")  # the 2-box constraint's key: computed once

    @staticmethod
    def _tas_key(model: xr.Dataset) -> ReductionKey:
        years = model["time"].dt.year
        return ("annual_step_sums", "tas", "tas", int(years.min()), int(years.max()))

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray | xr.Dataset]:
        """Σ rh · land area per step over the whole record, and tas's annual step sums when present."""
        if is_global_series(model) or "rh" not in model or "time" not in model["rh"].dims:
            return {}

        out = {self._rh_key(): reductions.global_step_totals(model["rh"], integrate.land_area(model))}
        if "tas" in model and "time" in model["tas"].dims:
            out[self._tas_key(model)] = reductions.annual_step_sums(model["tas"])
        return out

    def _model_series(self, model: xr.Dataset, given: Reductions | None
                      ) -> tuple[pd.Series, pd.Series | None, pd.Series | None]:
        """(annual global Rh in Pg C yr-1 over complete years, monthly amounts in Pg C per month
        for a sub-annual model, the land-mean tas per year in °C), the last two None when absent."""
        if is_global_series(model):
            values = model[SERIES_VARIABLE]
            return pd.Series(values.values.astype(float), index=pd.Index(values["year"].values.astype(int),
                                                                          name="year")), None, None

        reduced = self.reduced(model, given)
        rate = np.asarray(reduced[self._rh_key()].values, dtype=float) / G_PER_PG  # g yr-1 → Pg yr-1
        step_days = model["step_days"].values.astype(float)
        years = model["time"].dt.year.values.astype(int)
        keep = self._model_years(model)
        annual = ts.annual_amounts(rate, step_days, years, keep)
        monthly = None
        if float(np.median(step_days)) < SUB_ANNUAL_DAYS:
            monthly = ts.monthly_amounts(rate, step_days, years, model["time"].dt.month.values, keep)
        temperature = None
        if "tas" in model and self._tas_key(model) in reduced:
            sums = reduced[self._tas_key(model)]
            means = reductions.annual_mean_from_sums(sums)
            temperature = ts.land_mean_temperature(means.values, integrate.land_area(model).values, means["year"].values)
            temperature = temperature.loc[temperature.index.isin(keep)]
        return annual, monthly, temperature

    # -- confronting -----------------------------------------------------------------------
    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        self.stage_data()
        name = model.attrs.get("model", "model")
        available = {q for q in ("rh", "tas") if q in model.data_vars}
        reason = self.applicable_to(model, available)
        if reason:  # "not applicable" is said by applicable_to(), before confront; here it is an error
            raise SoilbenchError(f"model '{name}'", f"confrontation '{self.name}' does not apply: {reason}", "rh")
        annual_all, monthly, temperature = self._model_series(model, reductions)
        first, last = self.period
        need = int(self.options["min_years"])
        annual = ts.select_years(annual_all, first, last)
        rows: list[dict[str, Any]] = []
        notes: list[str] = []

        def add(analysis, name_, value, units, kind="scalar", reference=""):
            rows.append({"analysis": analysis, "name": name_, "value": float(value), "units": units, "type": kind,
                         "region": GLOBAL, "reference": reference})

        own = ts.linear_trend(annual)
        add("model", "mean", annual.mean(), FLUX_TOTAL_UNITS)
        add("model", "trend", own.slope, TREND_UNITS)
        add("model", "trend lower", own.lower, TREND_UNITS)
        add("model", "trend upper", own.upper, TREND_UNITS)
        add("model", "interannual variability", ts.interannual_variability(annual), FLUX_TOTAL_UNITS)
        add("model", "years", annual.size, "1")

        per_reference: dict[str, dict[str, float]] = {}
        compared: list[str] = []
        reference_fits: dict[str, ts.LinearFit] = {}
        for ref_id, values in self.series.items():
            reference_fits[ref_id] = ts.linear_trend(values, first, last)
            years = annual.index.intersection(values.index)
            if years.size < need:
                notes.append(f"{ref_id} shares {years.size} year(s) with the model in {first}-{last} (fewer than "
                             f"{need}): shown, not scored")
                continue
            compared.append(ref_id)
            per_reference[ref_id] = self._against(annual.loc[years], values.loc[years], ref_id, add)
        components = {c: float(np.mean([per_reference[r][c] for r in per_reference])) if per_reference else np.nan
                      for c in REFERENCE_COMPONENTS}
        for c, v in components.items():
            # the mean over the references that share enough years: NaN only if one of them gave none
            add("scores", c, v, "1", "score")

        self._ensemble_rows(annual, add)
        tables: dict[str, pd.DataFrame] = {}
        meta: dict[str, dict[str, Any]] = {}
        tables["trends"], meta["trends"] = self._trend_bars(name, own, reference_fits)
        if temperature is not None and temperature.size >= ts.MIN_YEARS:
            components[SENSITIVITY] = self._sensitivity(annual, temperature, add, tables, meta, name)
        elif not is_global_series(model):
            notes.append("the model provides no tas: temperature sensitivity not applicable")
        if monthly is not None:
            components[SEASONAL] = self._seasonal(monthly, add, tables, meta)
        overall, missing = build.overall(components)
        if missing:
            notes.append(f"incomplete: {', '.join(missing)} without a value (counted as 0)")
        add("overall", "overall score", overall, "1", "score")
        if is_global_series(model):
            notes.append("model given as annual global totals: trend, variability and anomalies only")
        notes.append("[003]'s figures are for total soil respiration (Rs); they are compared with Rh as Rs × the "
                     f"HR/SR share {self.share[0]:g}-{self.share[1]:g}")
        scalars = scalar_rows(rows, model=name, confrontation=self.name)
        comparison = {"quantity": "rh", "units": FLUX_TOTAL_UNITS, "reference_ids": list(self.references),
                      "period": {"model": [int(annual_all.index.min()), int(annual_all.index.max())],
                                 "references": {r: [int(v.index.min()), int(v.index.max())]
                                                for r, v in self.series.items()},
                                 "requested": [first, last], "compared": [int(annual.index.min()),
                                                                          int(annual.index.max())],
                                 "fallback": None}}
        fields = self._fields(annual_all, own, reference_fits)
        return ConfrontationResult(scalars, fields, tables, meta, notes, comparison)

    def _against(self, model: pd.Series, reference: pd.Series, ref_id: str, add) -> dict[str, float]:
        """Scalars and scores of the model against one reference series over their shared years."""
        m_fit, r_fit = ts.linear_trend(model), ts.linear_trend(reference)
        m_iav, r_iav = ts.interannual_variability(model), ts.interannual_variability(reference)
        correlation = ts.anomaly_correlation(model, reference)
        for label, value, units in (("shared years", model.size, "1"), ("model mean", model.mean(), FLUX_TOTAL_UNITS),
                                    ("reference mean", reference.mean(), FLUX_TOTAL_UNITS),
                                    ("model trend", m_fit.slope, TREND_UNITS),
                                    ("reference trend", r_fit.slope, TREND_UNITS),
                                    ("reference trend lower", r_fit.lower, TREND_UNITS),
                                    ("reference trend upper", r_fit.upper, TREND_UNITS),
                                    ("model interannual variability", m_iav, FLUX_TOTAL_UNITS),
                                    ("reference interannual variability", r_iav, FLUX_TOTAL_UNITS),
                                    ("anomaly correlation", correlation.r, "1")):
            add("against reference", label, value, units, reference=ref_id)
        out = {"mean score": float(scores.ratio_score(float(model.mean()), float(reference.mean()))),
               "trend score": ts.trend_score(m_fit.slope, r_fit),
               "variability score": float(scores.ratio_score(m_iav, r_iav)),
               "anomaly correlation score": ts.anomaly_correlation_score(correlation, m_iav)}
        for c, v in out.items():
            add("against reference", c, v, "1", "score", ref_id)
        return out

    def _ensemble_members(self, years: pd.Index) -> dict[str, dict[str, pd.Series]]:
        """Per CMIP6 table, each member's series (Pg C yr-1) over ``years``."""
        years = np.asarray(years, dtype=int)
        return {ref_id: {name: s[s.index.isin(years)] for name, s in members.items()}
                for ref_id, members in self._members.items()}

    def _ensemble_spread(self, ref_id: str, years: pd.Index) -> tuple[np.ndarray, np.ndarray]:
        """The trends and interannual variabilities of the members with at least ``min_years`` of ``years``."""
        key = (ref_id, tuple(int(y) for y in years))
        if key not in self._ensemble_stats:
            members = self._ensemble_members(years)[ref_id].values()
            long_enough = [s for s in members if s.size >= int(self.options["min_years"])]
            self._ensemble_stats[key] = (np.array([ts.linear_trend(s).slope for s in long_enough]),
                                         np.array([ts.interannual_variability(s) for s in long_enough]))
        return self._ensemble_stats[key]

    def _ensemble_rows(self, annual: pd.Series, add) -> None:
        """Where the model's trend and variability fall among the CMIP6 members (shown, not scored)."""
        for ref_id in self._members:
            trends, iav = self._ensemble_spread(ref_id, annual.index)
            if trends.size == 0:
                continue
            own_trend, own_iav = ts.linear_trend(annual).slope, ts.interannual_variability(annual)
            add("ensemble", "members", trends.size, "1", reference=ref_id)
            add("ensemble", "trend median", np.nanmedian(trends), TREND_UNITS, reference=ref_id)
            add("ensemble", "share of members with a lower trend", np.mean(trends < own_trend), "1", reference=ref_id)
            add("ensemble", "interannual variability median", np.nanmedian(iav), FLUX_TOTAL_UNITS, reference=ref_id)
            add("ensemble", "share of members with a lower interannual variability", np.mean(iav < own_iav), "1",
                reference=ref_id)

    def _trend_bars(self, name: str, own: ts.LinearFit, fits: dict[str, ts.LinearFit]
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        first, last = self.period
        rows = [{"label": name, "role": "model", "value": own.slope, "lower": own.lower, "upper": own.upper,
                 "units": TREND_UNITS, "reference": ""}]
        for ref_id, fit in fits.items():
            rows.append({"label": f"{ref_id} (95 % CI)", "role": "reference", "value": fit.slope, "lower": fit.lower,
                         "upper": fit.upper, "units": TREND_UNITS, "reference": ref_id})
        for ref_id in self._members:
            trends, _ = self._ensemble_spread(ref_id, pd.Index(range(first, last + 1)))
            rows.append({"label": f"CMIP6 ensemble, {trends.size} members", "role": "literature",
                         "value": float(np.nanmedian(trends)), "lower": float(np.nanmin(trends)),
                         "upper": float(np.nanmax(trends)), "units": TREND_UNITS, "reference": ref_id})
        lo, hi, mean = ts.RS_TREND_1980_2010_PG_YR2
        rh_lo, rh_hi = ts.rh_envelope((lo, hi), self.share)
        rows.append({"label": "[003] data-driven Rs, 1980-2010", "role": "literature", "value": mean, "lower": lo,
                     "upper": hi, "units": TREND_UNITS, "reference": ""})
        rows.append({"label": "[003] as Rh (x HR/SR share)", "role": "literature", "value": np.nan, "lower": rh_lo,
                     "upper": rh_hi, "units": TREND_UNITS, "reference": ""})
        return pd.DataFrame(rows), {"plot": "bars", "title": f"Trend of global Rh, {first}-{last}",
                                    "units": TREND_UNITS}

    def _sensitivity(self, annual: pd.Series, temperature: pd.Series, add, tables, meta, name: str) -> float:
        """Rh against the land-mean tas anomaly ([003]'s definition), scored against its Rh envelope."""
        fit = ts.temperature_sensitivity(annual, temperature)
        detrended = ts.temperature_sensitivity(annual, temperature, detrend=True)
        lo, hi = ts.rh_envelope(ts.RS_TEMPERATURE_SENSITIVITY_PG_YR_DEGC[:2], self.share)
        score = ts.envelope_score(fit.slope, lo, hi)
        add("temperature sensitivity", "sensitivity", fit.slope, SENSITIVITY_UNITS)
        add("temperature sensitivity", "sensitivity lower", fit.lower, SENSITIVITY_UNITS)
        add("temperature sensitivity", "sensitivity upper", fit.upper, SENSITIVITY_UNITS)
        add("temperature sensitivity", "sensitivity r2", fit.r_squared, "1")
        add("temperature sensitivity", "sensitivity (detrended)", detrended.slope, SENSITIVITY_UNITS)
        add("temperature sensitivity", "land temperature mean", temperature.mean(), "degC")
        add("temperature sensitivity", "envelope lower", lo, SENSITIVITY_UNITS)
        add("temperature sensitivity", "envelope upper", hi, SENSITIVITY_UNITS)
        add("scores", SENSITIVITY, score, "1", "score")
        rs_lo, rs_hi, rs_mean = ts.RS_TEMPERATURE_SENSITIVITY_PG_YR_DEGC
        tables["temperature_sensitivity"] = pd.DataFrame([
            {"label": name, "role": "model", "value": fit.slope, "lower": fit.lower, "upper": fit.upper,
             "units": SENSITIVITY_UNITS, "reference": ""},
            {"label": "[003] data-driven Rs", "role": "literature", "value": rs_mean, "lower": rs_lo, "upper": rs_hi,
             "units": SENSITIVITY_UNITS, "reference": ""},
            {"label": "[003] as Rh (x HR/SR share)", "role": "literature", "value": np.nan, "lower": lo, "upper": hi,
             "units": SENSITIVITY_UNITS, "reference": ""}])
        meta["temperature_sensitivity"] = {"plot": "bars", "units": SENSITIVITY_UNITS,
                                           "title": "Sensitivity of global Rh to the land-mean temperature"}
        return score

    def _seasonal(self, monthly: pd.Series, add, tables, meta) -> float:
        """The mean global cycle (Pg C per month, over the model's complete years) against [003]'s
        peak and low, as Rh envelopes: timing (ILAMB's phase score) and level, equally weighted."""
        cycle = ts.mean_seasonal_cycle(monthly)
        peak_lo, peak_hi = ts.rh_envelope(ts.RS_PEAK_PG_MONTH, self.share)
        low_lo, low_hi = ts.rh_envelope(ts.RS_LOW_PG_MONTH, self.share)
        peak_value, low_value = float(cycle.monthly_mean[cycle.peak_month]), float(cycle.monthly_mean[cycle.trough_month])
        timing = (ts.phase_score(cycle.peak_month, ts.RS_PEAK_MONTHS) + ts.phase_score(cycle.trough_month, ts.RS_LOW_MONTHS)) / 2
        level = (ts.envelope_score(peak_value, peak_lo, peak_hi) + ts.envelope_score(low_value, low_lo, low_hi)) / 2
        score = (timing + level) / 2
        for label, value, units in (("peak month", cycle.peak_month, "1"), ("low month", cycle.trough_month, "1"),
                                    ("peak", peak_value, MONTH_UNITS), ("low", low_value, MONTH_UNITS),
                                    ("amplitude", cycle.amplitude, MONTH_UNITS), ("timing score", timing, "1"),
                                    ("level score", level, "1")):
            add("seasonal cycle", label, value, units)
        add("scores", SEASONAL, score, "1", "score")
        observed = np.full(12, np.nan)
        lower, upper = np.full(12, np.nan), np.full(12, np.nan)
        for months, (lo, hi) in ((ts.RS_PEAK_MONTHS, (peak_lo, peak_hi)), (ts.RS_LOW_MONTHS, (low_lo, low_hi))):
            for m in months:
                observed[m - 1], lower[m - 1], upper[m - 1] = (lo + hi) / 2, lo, hi
        tables["seasonal_cycle"] = pd.DataFrame({"group": "global Rh", "doy": MID_MONTH_DOY, "month": np.arange(1, 13),
                                                 "observed": observed, "observed_lower": lower,
                                                 "observed_upper": upper, "modelled": cycle.monthly_mean.to_numpy()})
        meta["seasonal_cycle"] = {"plot": "seasonal_cycle", "units": MONTH_UNITS, "observed_style": "points",
                                  "observed_label": "[003] peak and low (Rs x HR/SR share)",
                                  "title": "Global seasonal cycle of Rh (mean over the model's complete years)"}
        return score

    def _fields(self, annual: pd.Series, own: ts.LinearFit, fits: dict[str, ts.LinearFit]) -> xr.Dataset:
        """Annual series over ``year`` with their trend lines (attrs), and the CMIP6 spread as a band."""
        first, last = self.period
        shown = annual[annual.index >= first]

        def series_var(values: pd.Series, role: str, long_name: str, fit: ts.LinearFit | None) -> xr.DataArray:
            da = xr.DataArray(values.to_numpy(float), dims="year", coords={"year": values.index.to_numpy(int)})
            da.attrs = {"plot": "series", "role": role, "units": FLUX_TOTAL_UNITS, "long_name": long_name}
            if fit is not None and np.isfinite(fit.slope):
                part = ts.select_years(values, first, last)
                da.attrs.update(trend_slope=fit.slope, trend_intercept=fit.intercept,
                                trend_first=int(part.index.min()), trend_last=int(part.index.max()))
            return da

        variables = {"rh_model": series_var(shown, "model", "Rh, annual global total", own)}
        for ref_id, values in self.series.items():
            variables[f"rh_{ref_id.replace('-', '_')}"] = series_var(values, "reference", ref_id, fits.get(ref_id))
        for ref_id, band in self._ensemble_band().items():
            key = ref_id.replace("-", "_")
            median = series_var(band["median"], "reference", f"{ref_id} median", None)
            median.attrs.update(lower=f"{key}_min", upper=f"{key}_max")
            variables[f"{key}_median"] = median
            for stat in ("min", "max"):
                variables[f"{key}_{stat}"] = xr.DataArray(band[stat].to_numpy(float), dims="year",
                                                          coords={"year": band.index.to_numpy(int)},
                                                          attrs={"units": FLUX_TOTAL_UNITS})
        return xr.Dataset(variables)

    def _ensemble_band(self) -> dict[str, pd.DataFrame]:
        """Per CMIP6 table, the members' median, min and max per year of the period (once)."""
        if not hasattr(self, "_band"):
            first, last = self.period
            self._band = {}
            for ref_id, members in self._ensemble_members(pd.Index(range(first, last + 1))).items():
                frame = pd.DataFrame(members)
                # years most members have: the last years of the table hold a few members only
                frame = frame[frame.notna().sum(axis=1) >= 0.9 * frame.shape[1]]
                self._band[ref_id] = pd.DataFrame({"median": frame.median(axis=1), "min": frame.min(axis=1),
                                                   "max": frame.max(axis=1)})
        return self._band
