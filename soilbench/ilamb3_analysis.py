"""soilbench's Taylor analysis as an ilamb3 ``ILAMBAnalysis``, for Rh confrontations in an ilamb3 YAML.

ilamb3 (Python ≥ 3.12, an optional dependency) looks the names under ``analyses:`` up in
``ilamb3.analysis.ALL_ANALYSES``, which it builds from its own package only; :func:`register`
adds soilbench's analyses to it, and must be called before ``ilamb3.run.run_study`` or
``run_single_block`` (docs/ilamb.md, "soilbench's analyses in ilamb3").

``soilbench_taylor`` scores the period-mean map of a model against a gridded reference exactly
as soilbench's ``taylor`` confrontation scores it against one reference, with the same functions
of :mod:`soilbench.analysis`: the model's period mean from its annual step sums, both maps on the
coarser grid by conservative regridding, area weights over the land both have, the ratio bias
score, Taylor's spatial-distribution score and, when both have an annual series, the RMSE score,
weighted into the mean-state score. ilamb3 averages every row of type ``score`` into its
``Overall Score``, so the mean-state score is the analysis's one score row (its parts are given
as scalars): ilamb3's Overall Score is then soilbench's overall score.

ilamb3 loads and merges the files before an analysis sees them; this module turns its datasets
into soilbench's canonical form with soilbench's own loader code
(:func:`soilbench.load.canonical.canonicalise`: units to g m-2 yr-1, grid orientation and cell
bounds, step lengths from the time bounds). One difference is ilamb3's: it hands over a model's
``areacella × sftlf / 100`` as one ``cell_measures`` variable. soilbench splits it into the
sphere's cell area (:func:`soilbench.load.grid.grid_cell_area`) and the fraction that gives the
same product, so land areas are the model's; where ``areacella`` is itself the sphere's cell
area (radius 6371.229 km) the result is the native one to rounding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

try:
    from ilamb3.analysis.base import ILAMBAnalysis
    from ilamb3.exceptions import AnalysisNotAppropriate
except ImportError as err:  # pragma: no cover - the module is only imported where ilamb3 is installed
    raise ImportError("soilbench.ilamb3_analysis needs ilamb3 (Python >= 3.12): pip install ilamb3") from err

from soilbench.analysis import bias, periods, reductions, regrid, scores, taylor
from soilbench.errors import SoilbenchError
from soilbench.quantities import FLUX_UNITS

#: the weights of the mean-state scores, as soilbench's taylor confrontation (ILAMB 2.x's)
TAYLOR_SCORE_WEIGHTS = {"bias score": 1.0, "rmse score": 2.0, "spatial distribution score": 1.0}
#: the ilamb3 variables each soilbench quantity is scored from
QUANTITY_OF_VARIABLE = {"rh": "rh"}
#: ilamb3's cell measure of a model: areacella × sftlf / 100 (ilamb3.dataset.cmip_cell_measures)
CELL_MEASURES = "cell_measures"
#: name the analysis's columns are given in ilamb3's scalar table
ANALYSIS_NAME = "soilbench Taylor"


def _cftime_axis(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with a cftime time axis, as soilbench's loader decodes it: ilamb3 opens standard
    calendars as datetime64, whose bounds have no ``total_seconds`` (step lengths then come from
    the calendar months or years, as soilbench infers them for files without bounds)."""
    if "time" not in ds.dims or not np.issubdtype(ds["time"].dtype, np.datetime64):
        return ds
    bounds = ds["time"].attrs.get("bounds")
    ds = ds.drop_vars([b for b in [bounds] if b in ds.variables])
    return ds.convert_calendar("proleptic_gregorian", use_cftime=True)


def _split_cell_measures(ds: xr.Dataset, variable: str) -> xr.Dataset:
    """Replace ilamb3's ``cell_measures`` (areacella × land fraction, NaN off land) by a cell area
    and a land fraction (0–1) whose product it is (see the module docstring)."""
    from soilbench.load import grid

    if CELL_MEASURES not in ds.data_vars:
        return ds
    lat, lon = grid.find_lat_lon(ds, variable)
    sphere = grid.grid_cell_area(ds, lat, lon)
    land_m2 = ds[CELL_MEASURES].fillna(0.0).transpose(*sphere.dims).load()
    area = np.maximum(sphere, land_m2)  # a model area above the sphere's keeps its land area whole
    fraction = (land_m2 / area).clip(0.0, 1.0)
    return ds.drop_vars(CELL_MEASURES).assign(
        areacella=area.assign_attrs(units="m2", long_name="grid cell area"),
        sftlf=fraction.assign_attrs(units="1", long_name="land fraction"))


def canonical_from_ilamb3(ds: xr.Dataset, variable: str, quantity: str, name: str,
                          period: str | None = None) -> xr.Dataset:
    """An ilamb3 reference or comparison dataset in soilbench's canonical form.

    Parameters
    ----------
    ds
        The dataset ilamb3's loaders give an analysis (``ilamb3.load``).
    variable
        The variable of ``ds`` to score (the block's ``required_variable``).
    quantity
        The canonical quantity it is (``rh``).
    name
        Display name (``attrs["model"]``) and the name errors give.
    period
        The years a dataset without a time axis stands for ("2001-2010"); None: a static product.
    """
    from soilbench.load.canonical import canonicalise

    if variable not in ds.data_vars:
        raise SoilbenchError(name, f"has no {variable} (it has: {', '.join(map(str, ds.data_vars))})", variable)
    bounds = [str(ds[c].attrs["bounds"]) for c in ds.coords if "bounds" in ds[c].attrs]
    keep = [v for v in ds.data_vars if v in (variable, CELL_MEASURES, *bounds)]
    raw = _split_cell_measures(_cftime_axis(ds[keep]), variable)
    metadata: dict[str, Any] = {"quantities": {quantity: variable}}
    if "time" not in raw[variable].dims:
        metadata.update({"period": period} if period else {"static": True})
    canonical = canonicalise(raw, name, name, metadata=metadata)
    return canonical[[quantity, "cell_area", "land_fraction"]]


def _period_map(ds: xr.Dataset, quantity: str) -> tuple[xr.Dataset, xr.Dataset | None]:
    """The period-mean map (``value``, ``cell_area``, ``land_fraction``) and the annual step sums
    (None for a climatology), as soilbench's gridded confrontations compute them."""
    grid = ds.drop_dims("time", errors="ignore")[["cell_area", "land_fraction"]]
    if "time" not in ds[quantity].dims:
        return grid.assign(value=ds[quantity].compute()), None
    sums = reductions.annual_step_sums(ds[quantity]).compute()
    return grid.assign(value=reductions.period_mean_from_sums(sums, quantity)), sums


def _pair_weights(a: xr.Dataset, b: xr.Dataset) -> xr.DataArray:
    """Area counted when comparing two regridded maps: cell area × the land both have."""
    fraction = np.minimum(a["land_fraction"], b["land_fraction"])
    return (a["cell_area"] * fraction).where(a["value"].notnull() & b["value"].notnull(), 0.0)


def _annual_on(target: xr.Dataset, annual: xr.DataArray, source: xr.Dataset, years: np.ndarray) -> xr.DataArray:
    """The annual means of ``years`` on ``target``'s grid, one step of weight 1 per year (the RMSE
    score's series, as the taylor confrontation builds them)."""
    one = xr.Dataset({"value": annual.sel(year=years).rename(year="time"),
                      "cell_area": source["cell_area"], "land_fraction": source["land_fraction"]})
    return regrid.regrid_field(one, "value", target)["value"].assign_coords(step_days=("time", np.ones(years.size)))


def taylor_scores(model: xr.Dataset, reference: xr.Dataset, quantity: str,
                  requested: periods.Years | None = None) -> tuple[dict[str, float], dict[str, xr.DataArray]]:
    """soilbench's ``taylor`` scores of a canonical ``model`` against one canonical ``reference``.

    Returns the global numbers (``bias score``, ``spatial distribution score``, ``rmse score``
    when both have two or more common years, ``mean-state score``, the Taylor statistics) and the
    maps on the common grid (``mean_model``, ``mean_reference``, ``bias_score``).
    """
    choice = periods.choose_period(periods.years_of(model), {"reference": periods.years_of(reference)}, requested,
                                   model_has_time="time" in model.dims)
    if choice.fallback is None:
        model = periods.steps_in(model, choice.compared)
    if requested is not None and "time" in reference.dims:
        kept = periods.shared(periods.years_of(reference), requested)
        reference = periods.steps_in(reference, kept) if kept is not None else reference
    mine, model_sums = _period_map(model, quantity)
    theirs, _ = _period_map(reference, quantity)
    index = regrid.coarsest([mine, theirs])
    target = (mine, theirs)[index]
    model_grid = regrid.regrid_field(mine, "value", target).compute()
    reference_grid = regrid.regrid_field(theirs, "value", target).compute()
    weights = _pair_weights(model_grid, reference_grid)
    stats = taylor.taylor_statistics(model_grid["value"], reference_grid["value"], weights)
    score_map = bias.bias_score_map(model_grid["value"], reference_grid["value"])
    parts = {"bias score": scores.area_weighted_mean(score_map, weights),
             "spatial distribution score": stats["score"]}
    if model_sums is not None and "time" in reference[quantity].dims:
        from soilbench.load import timeaxis

        r_years = timeaxis.annual_mean(reference[[quantity]]).load()[quantity]
        m_years = reductions.annual_mean_from_sums(model_sums, quantity)
        common = np.intersect1d(m_years["year"].values, r_years["year"].values)
        if common.size >= 2:
            _, rmse_map = bias.rmse_score_map(_annual_on(target, m_years, mine, common),
                                              _annual_on(target, r_years, theirs, common))
            parts["rmse score"] = scores.area_weighted_mean(rmse_map.compute(), weights)
    overall, _ = scores.overall_score_counting_missing(parts, TAYLOR_SCORE_WEIGHTS)
    numbers = {**parts, "mean-state score": overall,
               **{k: stats[k] for k in ("correlation", "std_ratio", "crmse", "bias")}}
    maps = {"mean_model": model_grid["value"], "mean_reference": reference_grid["value"], "bias_score": score_map}
    return numbers, maps


class SoilbenchTaylor(ILAMBAnalysis):
    """soilbench's Taylor analysis of period-mean maps (module docstring), for ilamb3.

    Parameters (keys of the ilamb3 block; ilamb3 passes the whole block)
    ----------
    required_variable
        The block's variable (``rh``).
    period
        ``[first_year, last_year]``: the years compared, as soilbench's ``period`` option.
    reference_period
        The years a reference without a time axis stands for (``[2001, 2010]``); without it such
        a reference is static and constrains no year.
    """

    def __init__(self, required_variable: str, period: list[int] | None = None,
                 reference_period: list[int] | None = None, variable_cmap: str = "viridis", **kwargs: Any):
        if required_variable not in QUANTITY_OF_VARIABLE:
            raise SoilbenchError("ilamb3 block", f"soilbench_taylor scores {sorted(QUANTITY_OF_VARIABLE)}, "
                                 f"not {required_variable!r}", "required_variable")
        self.req_variable = required_variable
        self.quantity = QUANTITY_OF_VARIABLE[required_variable]
        self.period = None if period is None else periods.parse_years(period)
        if period is not None and self.period is None:
            raise SoilbenchError("ilamb3 block", f"period must be [first_year, last_year], got {period!r}", "period")
        reference_years = None if reference_period is None else periods.parse_years(reference_period)
        if reference_period is not None and reference_years is None:
            raise SoilbenchError("ilamb3 block", "reference_period must be [first_year, last_year], got "
                                 f"{reference_period!r}", "reference_period")
        self.reference_period = None if reference_years is None else "{}-{}".format(*reference_years)
        self.cmap = variable_cmap

    def name(self) -> str:
        return ANALYSIS_NAME

    def required_variables(self) -> list[str]:
        return [self.req_variable]

    def __call__(self, ref: xr.Dataset, com: xr.Dataset) -> tuple[pd.DataFrame, xr.Dataset, xr.Dataset]:
        v, q = self.req_variable, self.quantity
        if v not in com.data_vars:
            raise AnalysisNotAppropriate(f"the comparison has no {v}")
        # importing ilamb3 sets xarray's keep_attrs=True for the whole process; soilbench's code
        # runs under xarray's defaults, as in a native run
        with xr.set_options(keep_attrs="default"):
            model = canonical_from_ilamb3(com, v, q, str(com.attrs.get("source_id", "comparison")))
            reference = canonical_from_ilamb3(ref, v, q, str(ref.attrs.get("title", "reference")),
                                              self.reference_period)
            numbers, maps = taylor_scores(model, reference, q, self.period)
        rows = [["Comparison", "None", self.name(), "Mean-State Score", "score", "1", numbers["mean-state score"]]]
        for key, label, units in (("bias score", "Bias Score", "1"),
                                  ("spatial distribution score", "Spatial Distribution Score", "1"),
                                  ("rmse score", "RMSE Score", "1"), ("correlation", "Correlation", "1"),
                                  ("std_ratio", "Normalized Standard Deviation", "1"),
                                  ("crmse", "Centralized RMSE", FLUX_UNITS), ("bias", "Bias", FLUX_UNITS)):
            if key in numbers:
                rows.append(["Comparison", "None", self.name(), label, "scalar", units, numbers[key]])
        df = pd.DataFrame(rows, columns=["source", "region", "analysis", "name", "type", "units", "value"])
        unit = {"units": FLUX_UNITS}
        out_ref = xr.Dataset({"soilbench_mean": maps["mean_reference"].assign_attrs(unit)})
        out_com = xr.Dataset({"soilbench_mean": maps["mean_model"].assign_attrs(unit),
                              "soilbench_biasscore": maps["bias_score"].assign_attrs(units="1")})
        return df, out_ref, out_com

    def plots(self, df: pd.DataFrame, ref: xr.Dataset, com: dict[str, xr.Dataset], path: Path) -> pd.DataFrame:
        """Period-mean maps of the reference and every model, and each model's bias-score map."""
        import matplotlib.pyplot as plt
        import ilamb3.plot as ilp
        from ilamb3.analysis.base import get_plot_name

        if self.name() not in set(df["analysis"]):
            return pd.DataFrame()
        path.mkdir(parents=True, exist_ok=True)
        sources = {"Reference": ref, **com}
        limits = ilp.determine_plot_limits(sources)
        meta = {"soilbench_mean": (self.cmap, "Period Mean"), "soilbench_biasscore": ("plasma", "Bias Score")}
        out = []
        for plot, (cmap, title) in meta.items():
            if plot not in limits.index:
                continue
            for source, ds in sources.items():
                if plot not in ds:
                    continue
                name = get_plot_name(source, None, plot, path)
                ax = ilp.plot_map(ds[plot], vmin=limits.loc[plot, "low"], vmax=limits.loc[plot, "high"], cmap=cmap,
                                  title=f"{source} {title}")
                ax.get_figure().savefig(name)
                plt.close()
                out.append({"name": plot, "title": title, "source": source, "region": None, "path": name,
                            "analysis": self.name()})
        return pd.DataFrame(out)


#: soilbench's analyses by the name an ilamb3 block gives under ``analyses:``
ANALYSES = {"soilbench_taylor": SoilbenchTaylor}


def register(analyses: dict | None = None) -> dict:
    """Add soilbench's analyses to ilamb3's ``ALL_ANALYSES`` (or to ``analyses``); returns that dict.

    ilamb3's maps are drawn over cartopy's Natural Earth land and ocean, which cartopy downloads
    on first use; as for ILAMB 2.x (docs/ilamb.md, "Maps offline"), soilbench provides them when
    cartopy has none, so the pages are drawn offline too.
    """
    from soilbench.ilamb.naturalearth import use_offline_natural_earth

    if analyses is None:
        import ilamb3.analysis

        analyses = ilamb3.analysis.ALL_ANALYSES
    analyses.update(ANALYSES)
    use_offline_natural_earth()
    return analyses
