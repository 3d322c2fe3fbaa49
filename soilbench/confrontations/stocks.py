"""Soil carbon stocks: global stock, zonal means and log-SOC patterns against HWSD, NCSCD and their merge.

Kind ``soil_carbon`` (group "Soil C"). References: gridded stock products (the first is central:
it alone enters the overall score; the others are compared for information) and the literature
table ``literature-soilc`` (methods.md §10, [004]). The science lives in
:mod:`soilbench.analysis.stocks`; ``docs/stocks.md`` describes outputs and scores.

Depth: the products are treated as the top metre (HWSD as ILAMB does), while ``csoil`` is the
model's whole soil column plus litter (``docs/architecture.md``); every result says so.
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
from soilbench.analysis import integrate, reductions, regrid
from soilbench.analysis import stocks as soc
from soilbench.confrontations import build
from soilbench.confrontations.base import Confrontation, ReductionKey, Reductions
from soilbench.confrontations.units import OptionError, Options, year_range
from soilbench.errors import ConfigError, SoilbenchError
from soilbench.quantities import STOCK_TOTAL_UNITS, STOCK_UNITS
from soilbench.regions import GLOBAL
from soilbench.results import OK, REFERENCES_SLUG, ConfrontationResult, scalar_rows

LITERATURE = "literature-soilc"
MERGED_STOCK = "hwsd-ncscd-soilc"
MERGED_STOCK_FILES = ("hwsd-soilc", "ncscd-soilc")
#: literature ``scope`` of an estimate of the global stock (others, e.g. NCSCD's permafrost region, are shown only)
GLOBAL_SCOPE = "global"
#: the cross-model summary: ``OUT/_summary/<confrontation>/<MATRIX_SUMMARY>.csv``
MATRIX_SUMMARY = "log_soc_correlations"
MATRIX_PREFIX = "matrix_csoil_"
SCORE_WEIGHTS = {"total score": 1.0, "zonal score": 1.0, "spatial distribution score": 1.0}


#: what is compared in depth, for every model (the task's own note also names the model's variables)
DEPTH = ("products treated as 0-1 m (HWSD as ILAMB does; NCSCD 0-1 m) against the model's csoil: its whole soil "
         "column plus litter where it has litter, not cSoilAbove1m")


def depth_caveat(model: xr.Dataset) -> str:
    """What was compared with what, in depth: the products' top metre against the model's column."""
    csoil = model["csoil"]
    litter = " plus litter" if int(csoil.attrs.get("includes_litter", 0) or 0) else ""
    source = csoil.attrs.get("source", "csoil")
    return (f"depth: the products are treated as 0-1 m (HWSD as ILAMB does; NCSCD 0-1 m); the model's csoil is its "
            f"whole soil column{litter} ({source}), not cSoilAbove1m")


def _slug(reference_id: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in reference_id)


@dataclass(frozen=True)
class SoilCarbonOptions(Options):
    """Options of ``soil_carbon`` (docs/stocks.md), checked when the benchmark definition is read."""

    period: list[int] = field(default_factory=lambda: [2001, 2010])
    zonal_band_deg: float = 5.0
    matrix_resolution_deg: float = 2.5

    def __post_init__(self):
        year_range(self, "period")
        for key in ("zonal_band_deg", "matrix_resolution_deg"):
            value = getattr(self, key)
            if (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
                    or not np.isclose(180.0 / value, round(180.0 / value))):
                raise OptionError(key, f"option {key} must be a number of degrees that divides 180, got {value!r}")


class SoilCarbonStocks(Confrontation):
    """A model's soil carbon stock (csoil) against gridded products and published global totals."""

    kind: ClassVar[str] = "soil_carbon"
    group: ClassVar[str] = "Soil C"
    quantities: ClassVar[tuple[str, ...]] = ("csoil",)
    options_type: ClassVar[type[Options]] = SoilCarbonOptions
    #: gridded products (the merged one is a catalog entry combining HWSD and NCSCD) and the
    #: shipped literature table, each through its catalog entry's loader
    reference_loaders: ClassVar[tuple[str, ...]] = ("gridded", "merge_where_positive", "literature_table")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.products = [r for r in self.references if r != LITERATURE]
        if not self.products:
            raise ConfigError(self.source, f"confrontation '{self.name}' needs a gridded soil carbon product "
                                           f"(e.g. hwsd-soilc) besides {LITERATURE}", "references")
        from soilbench.load import REFERENCE_IDS

        not_gridded = [r for r in self.products if r not in REFERENCE_IDS]
        if not_gridded:
            raise ConfigError(self.source, f"confrontation '{self.name}' ({self.kind}) compares gridded soil carbon "
                                           f"products ({', '.join(r for r in REFERENCE_IDS if 'soilc' in r)}) and "
                                           f"{LITERATURE}; not one of them: {not_gridded}", "references")
        self.auxiliary_data = list(MERGED_STOCK_FILES) if MERGED_STOCK in self.references else []

    # -- staging ---------------------------------------------------------------------------
    def _stage(self) -> None:
        from soilbench.catalogs import find_entry
        from soilbench.load import load_reference
        from soilbench.load import series

        self._products: dict[str, xr.Dataset] = {}
        for ref_id in self.products:
            ds = load_reference(ref_id, data_dir=self.data_dir)
            if "csoil" not in ds:
                raise ConfigError(self.source, f"confrontation '{self.name}': reference '{ref_id}' has no soil carbon "
                                               f"(it has: {', '.join(map(str, ds.data_vars))})", "references")
            self._products[ref_id] = ds[["csoil", "cell_area", "land_fraction"]].load()
        self._literature = (series.read_literature_table(find_entry(LITERATURE).paths(self.data_dir)[0])
                            if LITERATURE in self.references else None)
        self._own_totals = {ref_id: float(integrate.global_total(ds["csoil"], integrate.land_area(ds)))
                            for ref_id, ds in self._products.items()}
        self._matrix_grid = soc.regular_grid(float(self.options["matrix_resolution_deg"]))
        self._products_on_matrix = {ref_id: regrid.regrid_field(ds, "csoil", self._matrix_grid)["csoil"].load()
                                    for ref_id, ds in self._products.items()}

    def describe(self) -> dict[str, Any]:
        """The definition, with the depth compared (it belongs to what the numbers mean)."""
        return {**super().describe(), "depth": DEPTH}

    @property
    def central(self) -> str:
        return self.products[0]

    def _global_estimates(self) -> pd.DataFrame:
        """Every global-stock estimate: products (own land) and literature rows, each counted once.

        ``scored``: an independent estimate of the *global* stock (in the spread σ); literature
        rows of a configured product repeat that product's number and only label it; rows whose
        scope is not global (NCSCD: the permafrost region) and model results are shown only.
        """
        rows = [{"label": ref_id, "role": "reference", "value": total, "lower": np.nan, "upper": np.nan,
                 "units": STOCK_TOTAL_UNITS, "reference": ref_id, "scope": self._scope(ref_id),
                 "scored": self._scope(ref_id) == GLOBAL_SCOPE}
                for ref_id, total in self._own_totals.items()]
        if self._literature is not None:
            for _, row in self._literature.iterrows():
                product = str(row.get("product") or "")
                scope = str(row.get("scope") or GLOBAL_SCOPE)
                independent = (row["category"] == "data-driven" and scope == GLOBAL_SCOPE
                               and product not in self._own_totals and not bool(row["value_is_midpoint"]))
                label = str(row["estimate"]) + ("" if row["category"] == "data-driven" else " [models]")
                if scope != GLOBAL_SCOPE:
                    label += f" [{scope} only]"
                rows.append({"label": label, "role": "literature", "value": float(row["value"]),
                             "lower": row["lower"], "upper": row["upper"], "units": STOCK_TOTAL_UNITS,
                             "reference": LITERATURE, "scope": scope, "scored": independent})
        return pd.DataFrame(rows)

    def _scope(self, ref_id: str) -> str:
        """NCSCD covers the northern circumpolar permafrost region only: not a global estimate."""
        return "northern permafrost region" if ref_id == "ncscd-soilc" else GLOBAL_SCOPE

    # -- the model -------------------------------------------------------------------------
    def _period_steps(self, model: xr.Dataset) -> tuple[xr.Dataset, bool]:
        """The model over the option ``period`` (the whole record when no year falls in it)."""
        if "time" not in model["csoil"].dims:
            return model, True
        first, last = (int(y) for y in self.options["period"])
        inside = (model["time"].dt.year >= first) & (model["time"].dt.year <= last)
        if not bool(inside.any()):
            return model, False
        return model.isel(time=np.flatnonzero(inside.values)), True

    def _sums_key(self, ds: xr.Dataset) -> ReductionKey:
        years = ds["time"].dt.year
        return ("annual_step_sums", "csoil", "csoil", int(years.min()), int(years.max()))

    def model_reductions(self, model: xr.Dataset) -> dict[ReductionKey, xr.DataArray | xr.Dataset]:
        """The annual step sums of csoil over the period (the same key as the turnover type's)."""
        if "csoil" not in model or "time" not in model["csoil"].dims:
            return {}
        ds, _ = self._period_steps(model)
        return {self._sums_key(ds): reductions.annual_step_sums(ds["csoil"])}

    def _model_mean(self, model: xr.Dataset, notes: list[str], given: Reductions | None) -> xr.Dataset:
        ds, found = self._period_steps(model)
        if not found:
            first, last = (int(y) for y in self.options["period"])
            years = model["time"].dt.year
            notes.append(f"the model has no year in {first}-{last}; its whole record "
                         f"({int(years.min())}-{int(years.max())}) is averaged")
        if "time" in ds["csoil"].dims:
            mean = reductions.period_mean_from_sums(self.reduced(model, given)[self._sums_key(ds)], "csoil")
        else:
            mean = integrate.period_mean(ds, "csoil")
        out = xr.Dataset({"csoil": mean.assign_attrs(model["csoil"].attrs)})
        out["cell_area"] = model["cell_area"]
        out["land_fraction"] = model["land_fraction"].fillna(0.0)
        return out.load()

    def confront(self, model: xr.Dataset, reductions: Reductions | None = None) -> ConfrontationResult:
        self.stage_data()
        name = model.attrs.get("model", "model")
        if "csoil" not in model:
            raise SoilbenchError(model.attrs.get("source_files", name),
                                 "soil carbon stocks need csoil, which the model does not provide", "csoil")
        notes = [depth_caveat(model)]
        mean = self._model_mean(model, notes, reductions)
        own_total = float(integrate.global_total(mean["csoil"], integrate.land_area(mean)))
        rows: list[dict[str, Any]] = []

        def add(analysis, name_, value, units, kind="scalar", reference="", region=GLOBAL):
            rows.append({"analysis": analysis, "name": name_, "value": value, "units": units, "type": kind,
                         "region": region, "reference": reference})

        add("global stock", "total (own land)", own_total, STOCK_TOTAL_UNITS)
        estimates = self._global_estimates()
        sigma = soc.log_spread(list(estimates.loc[estimates["scored"], "value"]))
        add("global stock", "spread of global estimates (ln)", sigma, "1")
        band = float(self.options["zonal_band_deg"])
        fields: dict[str, xr.DataArray] = {}
        parts: dict[str, float] = {}
        product_bands: dict[str, xr.DataArray] = {}
        taylor_rows = []
        for ref_id, product in self._products.items():
            central = ref_id == self.central
            coarser = regrid.median_cell_size_deg2(mean) >= regrid.median_cell_size_deg2(product)
            target = mean if coarser else product
            m_on = regrid.regrid_field(mean, "csoil", target).load()
            r_on = regrid.regrid_field(product, "csoil", target).load()
            common_fraction = np.minimum(m_on["land_fraction"], r_on["land_fraction"])
            both = m_on["csoil"].notnull() & r_on["csoil"].notnull()
            area_common = (target["cell_area"] * common_fraction).where(both, 0.0)
            m_total = float(integrate.global_total(m_on["csoil"].where(both), area_common.assign_attrs(units="m2")))
            r_total = float(integrate.global_total(r_on["csoil"].where(both), area_common.assign_attrs(units="m2")))
            add("global stock", "model total (common cells)", m_total, STOCK_TOTAL_UNITS, reference=ref_id)
            add("global stock", "reference total (common cells)", r_total, STOCK_TOTAL_UNITS, reference=ref_id)
            add("global stock", "reference total (own land)", self._own_totals[ref_id], STOCK_TOTAL_UNITS,
                reference=ref_id)
            # only the central product's scores are scores; the others' are shown as information
            kind = "score" if central else "scalar"
            # on shared cells: for NCSCD that is its permafrost region (its scope only keeps it out of σ)
            total_score = float(soc.log_ratio_score(m_total, r_total, sigma)) if r_total > 0 else float("nan")
            add("global stock", "total score", total_score, "1", kind, ref_id)
            # the reference's own land decides what counts: its cells the model lacks are counted as wrong
            area_ref = target["cell_area"] * r_on["land_fraction"]
            zonal = soc.zonal_log_comparison(m_on["csoil"], r_on["csoil"], area_ref, band)
            if self._scope(ref_id) == GLOBAL_SCOPE:
                product_bands[ref_id] = zonal["reference_mean"]
            zonal_score = soc.zonal_log_score(zonal)
            add("zonal means", "zonal score", zonal_score, "1", kind, ref_id)
            stats = soc.log_taylor(m_on["csoil"], r_on["csoil"], area_ref)
            for key, label, unit in (("correlation", "correlation of ln SOC", "1"),
                                     ("std_ratio", "normalised standard deviation of ln SOC", "1"),
                                     ("crmse_normalised", "normalised centred RMSE of ln SOC", "1"),
                                     ("bias", "mean of ln(model / reference)", "1"),
                                     ("coverage", "coverage of the reference's carbon-bearing land", "1")):
                add("taylor (ln SOC)", label, stats[key], unit, reference=ref_id)
            add("taylor (ln SOC)", "spatial distribution score", stats["score"], "1", kind, ref_id)
            if central:
                taylor_rows.append({"label": name, "role": "model", "correlation": stats["correlation"],
                                    "std_ratio": stats["std_ratio"], "crmse": stats["crmse_normalised"],
                                    "reference": ref_id})
                parts = {"total score": total_score, "zonal score": zonal_score,
                         "spatial distribution score": stats["score"]}
                fields.update(self._maps(name, ref_id, m_on["csoil"], r_on["csoil"]))
                central_zonal = zonal
                notes.append(f"{name}: {own_total:,.0f} Pg C on its own land; on the cells shared with {ref_id} "
                             f"{m_total:,.0f} against {r_total:,.0f} Pg C ({ref_id} on its own land: "
                             f"{self._own_totals[ref_id]:,.0f}); compared on the coarser grid "
                             f"({target.sizes['lat']}x{target.sizes['lon']})")
        fields.update(self._zonal_fields(name, self.central, central_zonal, product_bands))
        overall, missing = build.overall(parts, SCORE_WEIGHTS)
        if missing:
            notes.append(f"overall score incomplete: {', '.join(missing)} missing (counted as 0)")
        add("overall", "overall score", overall, "1", "score")
        notes.append(f"overall score: mean of the global total, zonal and spatial distribution scores against "
                     f"{self.central} (the first product); other products are compared for information")

        matrix_model = regrid.regrid_field(mean, "csoil", self._matrix_grid)["csoil"]
        fields.update(self._matrix_fields({"model": matrix_model, **self._products_on_matrix}))
        matrix = soc.log_pattern_correlations({name: matrix_model, **self._products_on_matrix},
                                              soc.cell_weights(self._matrix_grid))
        tables = {
            "global_stock": self._bars(name, own_total, estimates),
            "taylor_log_soc": pd.DataFrame(taylor_rows + self._reference_taylor_rows()),
            MATRIX_SUMMARY: soc.matrix_table(matrix),
        }
        table_meta = {
            "global_stock": {"plot": "bars", "title": "Global soil carbon stock (model column vs products' top metre)",
                             "units": STOCK_TOTAL_UNITS, "x_label": "soil carbon (Pg C)", "depth": notes[0]},
            "taylor_log_soc": {"plot": "taylor", "title": f"Spatial pattern of ln SOC (normalised by {self.central})"},
            MATRIX_SUMMARY: {"plot": "matrix", "title": "Correlation of ln SOC, model and products "
                                                        f"({self.options['matrix_resolution_deg']:g}° grid)",
                             "units": "1", "vmin": -1.0, "vmax": 1.0},
        }
        result_fields = xr.Dataset(fields)
        result_fields = result_fields.drop_vars([c for c in result_fields.coords
                                                 if c not in ("lat", "lon", "lat_band", "matrix_lat", "matrix_lon")])
        return ConfrontationResult(scalar_rows(rows, model=name, confrontation=self.name), result_fields, tables,
                                   table_meta, notes)

    def _maps(self, model_name: str, ref_id: str, model_kg_m2: xr.DataArray, reference_kg_m2: xr.DataArray
              ) -> dict[str, xr.DataArray]:
        """ln SOC of model and central product and their difference ln(model / product), per the plot conventions."""
        log_m, log_r = soc.log_field(model_kg_m2), soc.log_field(reference_kg_m2)
        units = "ln(kg m-2)"
        # one colour range for model and product (e^-1 to e^4.5, 0.4-90 kg m-2), so the two maps compare
        shared = {"plot": "map", "colormap": "sequential", "units": units, "vmin": -1.0, "vmax": 4.5}
        return {
            "log_csoil_model": log_m.assign_attrs(shared, role="model", long_name=f"ln soil carbon, {model_name}"),
            f"log_csoil_{_slug(ref_id)}": log_r.assign_attrs(shared, role="reference",
                                                             long_name=f"ln soil carbon, {ref_id}"),
            "log_csoil_difference": (log_m - log_r).assign_attrs(
                plot="map", role="difference", colormap="diverging", units="1", vmin=-2.0, vmax=2.0,
                long_name=f"ln({model_name} / {ref_id})"),
        }

    def _zonal_fields(self, model_name: str, ref_id: str, zonal: xr.Dataset,
                      product_bands: dict[str, xr.DataArray]) -> dict[str, xr.DataArray]:
        """Zonal curves over ``lat_band``; the central product's band is the range of the global
        products' band means (their spread, not the spread of cells within a band)."""
        ref_var = f"zonal_csoil_{_slug(ref_id)}"
        reference = zonal["reference_mean"].assign_attrs(plot="zonal", role="reference", units=STOCK_UNITS,
                                                         long_name=f"soil carbon, {ref_id}")
        out = {
            "zonal_csoil_model": zonal["model_mean"].assign_attrs(
                plot="zonal", role="model", units=STOCK_UNITS, long_name=f"soil carbon, {model_name}"),
            ref_var: reference,
            "zonal_score": zonal["score"].assign_attrs(units="1", long_name=f"band score against {ref_id}"),
        }
        if len(product_bands) >= 2:
            stacked = xr.concat(list(product_bands.values()), dim="product")
            reference.attrs.update(lower=f"{ref_var}_lower", upper=f"{ref_var}_upper")
            names = ", ".join(product_bands)
            out[f"{ref_var}_lower"] = stacked.min("product").assign_attrs(
                units=STOCK_UNITS, long_name=f"lowest band mean of {names}")
            out[f"{ref_var}_upper"] = stacked.max("product").assign_attrs(
                units=STOCK_UNITS, long_name=f"highest band mean of {names}")
        return out

    def _matrix_fields(self, stocks_on_grid: dict[str, xr.DataArray]) -> dict[str, xr.DataArray]:
        """The stocks on the fixed matrix grid (no ``plot``: read by :meth:`summarize_models`)."""
        out = {}
        for key, da in stocks_on_grid.items():
            out[f"{MATRIX_PREFIX}{_slug(key)}"] = da.rename(lat="matrix_lat", lon="matrix_lon").assign_attrs(
                units=STOCK_UNITS, long_name=f"soil carbon of {key} on the "
                                             f"{self.options['matrix_resolution_deg']:g}° matrix grid",
                source=key)
        return out

    def _bars(self, model_name: str, own_total: float, estimates: pd.DataFrame) -> pd.DataFrame:
        model_row = {"label": model_name, "role": "model", "value": own_total, "lower": np.nan, "upper": np.nan,
                     "units": STOCK_TOTAL_UNITS, "reference": ""}
        columns = ["label", "role", "value", "lower", "upper", "units", "reference"]
        return pd.concat([pd.DataFrame([model_row]), estimates[columns]], ignore_index=True)

    def _reference_taylor_rows(self) -> list[dict[str, Any]]:
        """The other products against the central one on its grid: the observational spread."""
        central = self._products[self.central]
        rows = []
        for ref_id, product in self._products.items():
            if ref_id == self.central:
                continue
            other = regrid.regrid_field(product, "csoil", central)
            stats = soc.log_taylor(other["csoil"], central["csoil"], central["cell_area"] * central["land_fraction"])
            rows.append({"label": ref_id, "role": "reference", "correlation": stats["correlation"],
                         "std_ratio": stats["std_ratio"], "crmse": stats["crmse_normalised"],
                         "reference": self.central})
        return rows

    # -- references against each other ----------------------------------------------------
    def confront_references(self) -> ConfrontationResult | None:
        """Every product's and literature estimate's global stock, and the products' log-SOC patterns."""
        self.stage_data()
        estimates = self._global_estimates()
        rows = [{"analysis": "global stock", "name": "total (own land)", "value": r["value"],
                 "units": STOCK_TOTAL_UNITS, "type": "scalar", "region": GLOBAL, "reference": r["reference"]}
                for _, r in estimates.iterrows() if r["role"] == "reference"]
        bars = estimates[["label", "role", "value", "lower", "upper", "units", "reference"]]
        tables = {"global_stock": bars}
        meta = {"global_stock": {"plot": "bars", "title": "Global soil carbon stock (model column vs products' top "
                                                          "metre)", "units": STOCK_TOTAL_UNITS}}
        taylor_rows = self._reference_taylor_rows()
        if taylor_rows:
            tables["taylor_log_soc"] = pd.DataFrame(taylor_rows)
            meta["taylor_log_soc"] = {"plot": "taylor",
                                      "title": f"Spatial pattern of ln SOC (normalised by {self.central})"}
        notes = ["products are not scored against each other; NCSCD covers the northern permafrost region only "
                 "and is not a global estimate"]
        rows += build.overall_rows({}, notes, completeness=False)  # not scored against each other: NaN
        return ConfrontationResult(scalar_rows(rows, model="references", confrontation=self.name), None, tables,
                                   meta, notes)

    # -- across models ---------------------------------------------------------------------
    @classmethod
    def summarize_models(cls, out_dir: str | Path, confrontation_name: str,
                         task_dirs: Iterable[str | Path] | None = None) -> list[Path]:
        """The matrix of ln-SOC pattern correlations across this run's models and the products.

        Read from each ok model task's saved stocks on the matrix grid (``fields.nc``), written
        to ``OUT/_summary/<confrontation>/log_soc_correlations.csv`` (``matrix`` layout: column
        ``label``, then one column per label). Returns the files written (none, and an earlier
        file removed, when no model task saved its stock).
        """
        from soilbench.runner.summaries import SUMMARY_DIR

        path = Path(out_dir) / SUMMARY_DIR / confrontation_name / f"{MATRIX_SUMMARY}.csv"
        if task_dirs is None:
            directory = Path(out_dir) / confrontation_name
            task_dirs = sorted(p for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []
        stocks_by_label: dict[str, xr.DataArray] = {}
        products: dict[str, xr.DataArray] = {}
        for task_dir in map(Path, task_dirs):
            saved = _saved_matrix_stocks(task_dir)
            if saved is None:
                continue
            label, model_stock, product_stocks = saved
            stocks_by_label[label] = model_stock
            for key, value in product_stocks.items():
                products.setdefault(key, value)
        if not stocks_by_label:
            path.unlink(missing_ok=True)  # an earlier run's matrix would describe other models
            return []
        fields = {**stocks_by_label, **{k: v for k, v in products.items() if k not in stocks_by_label}}
        grid = next(iter(fields.values()))
        matrix = soc.log_pattern_correlations(fields, soc.cell_weights(grid))
        with atomic.atomic_path(path) as tmp:
            soc.matrix_table(matrix).to_csv(tmp, index=False)
        return [path]


def _saved_matrix_stocks(task_dir: Path) -> tuple[str, xr.DataArray, dict[str, xr.DataArray]] | None:
    """(model name, model stock, {product id: stock}) on the matrix grid from an ok task; None otherwise."""
    if task_dir.name == REFERENCES_SLUG or not (task_dir / "fields.nc").is_file():
        return None
    try:
        meta = json.loads((task_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("status") != OK:
        return None
    with xr.open_dataset(task_dir / "fields.nc") as ds:
        saved = {name: ds[name].load().rename(matrix_lat="lat", matrix_lon="lon")
                 for name in ds.data_vars if str(name).startswith(MATRIX_PREFIX)}
    model_var = f"{MATRIX_PREFIX}model"
    if model_var not in saved:
        return None
    products = {str(da.attrs.get("source", name)): da for name, da in saved.items() if name != model_var}
    return str(meta.get("model", task_dir.name)), saved[model_var], products
