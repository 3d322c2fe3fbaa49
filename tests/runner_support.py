"""Small confrontation and model types for the runner tests (importable by dask worker processes)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from soilbench import derived
from soilbench.confrontations.base import Confrontation, register
from soilbench.errors import SoilbenchError
from soilbench.results import ConfrontationResult, scalar_rows
from soilbench.runner.models import ModelSpec


@register
class MeanRh(Confrontation):
    """Area-weighted mean rh against a fixed value; optional sleep to make tasks slow."""

    kind = "test_mean_rh"
    group = "Rh"
    quantities = ("rh",)
    option_defaults = {"target": 500.0, "sleep": 0.0, "fail_model": ""}
    builtin_references = ("test-target",)

    def _stage(self) -> None:
        self.target = float(self.options["target"])

    def confront(self, model: xr.Dataset, reductions=None) -> ConfrontationResult:
        time.sleep(float(self.options["sleep"]))
        name = model.attrs["model"]
        if name == self.options["fail_model"]:
            raise ZeroDivisionError("analysis blew up")
        weights = model["cell_area"] * model["land_fraction"]
        mean = float((model["rh"] * weights).sum() / weights.where(model["rh"].notnull()).sum())
        score = float(np.exp(-abs(mean - self.target) / self.target))
        rows = [
            {"region": "global", "analysis": "mean", "name": "rh mean", "type": "scalar", "units": "g m-2 yr-1", "value": mean},
            {"region": "global", "analysis": "overall", "name": "overall score", "type": "score", "units": "1", "value": score},
        ]
        scalars = scalar_rows(rows, model=name, confrontation=self.name, reference="test-target")
        fields = xr.Dataset({"rh": model["rh"].assign_attrs(plot="map", role="model")})
        table = pd.DataFrame({"label": [name], "value": [mean]})
        return ConfrontationResult(scalars, fields, {"means": table}, {"means": {"plot": "table"}})

    def confront_references(self) -> ConfrontationResult | None:
        rows = [{"region": "global", "analysis": "mean", "name": "target", "type": "scalar", "units": "g m-2 yr-1",
                 "value": self.target}]
        return ConfrontationResult(scalar_rows(rows, model="references", confrontation=self.name, reference="test-target"))


@register
class NoReferences(MeanRh):
    kind = "test_no_references"

    def confront_references(self) -> None:
        return None


@dataclass(frozen=True)
class CanonicalFile(ModelSpec):
    """A model stored already in canonical form (the runner tests do not exercise the loader)."""

    def load(self, data_dir=None, quantities=None) -> xr.Dataset:
        from soilbench.load.model import keep_quantities

        try:
            model = xr.load_dataset(self.paths[0])
        except (OSError, ValueError) as err:
            raise SoilbenchError(self.paths[0], f"cannot read model: {' '.join(str(err).split())[:100]}") from None
        model.attrs["model"] = self.name
        return keep_quantities(model, quantities)


def canonical_model(path, scale: float = 1.0, seed: int = 0) -> str:
    lat = np.arange(-87.5, 90, 5.0)
    lon = np.arange(-177.5, 180, 5.0)
    rng = np.random.default_rng(seed)
    rh = 500 * scale * (1 + 0.1 * rng.standard_normal((lat.size, lon.size)))
    area = np.cos(np.deg2rad(lat))[:, None] * np.ones(lon.size) * 3.09e11
    ds = xr.Dataset(
        {"rh": (("lat", "lon"), rh, {"units": "g m-2 yr-1"}),
         "cell_area": (("lat", "lon"), area), "land_fraction": (("lat", "lon"), np.ones_like(area))},
        coords={"lat": lat, "lon": lon},
    )
    ds.to_netcdf(path)
    return str(path)


@register
class OtherMean(MeanRh):
    """Like MeanRh but without built-in references."""

    kind = "test_other_mean"
    builtin_references = ()


@register
class NeedsCsoil(MeanRh):
    """Compares soil carbon: not applicable to the rh-only canonical test models."""

    kind = "test_needs_csoil"
    quantities = ("csoil",)


@register
class RsOrConvertedRh(MeanRh):
    """Needs rs, or rh when its ``rs_from_rh`` option converts (its own rule, like the gridded and
    site types: the base class knows no option)."""

    kind = "test_rs_from_rh"
    quantities = ("rs",)
    option_defaults = {**MeanRh.option_defaults, "rs_from_rh": "none"}

    def applicable(self, available: set[str]) -> str | None:
        return derived.not_applicable_reason(self.quantities, available, self.options["rs_from_rh"])


@register
class RsWithAnUnusedOption(RsOrConvertedRh):
    """Has an ``rs_from_rh`` option but keeps the base class's rule."""

    kind = "test_rs_base_rule"
    applicable = Confrontation.applicable


#: regional totals of two gridded "products" (Pg yr-1), the same for every model
PRODUCT_TOTALS = {"prod-a": {"global": 50.0, "lat_-90_0": 18.0, "lat_0_90": 32.0},
                  "prod-b": {"global": 56.0, "lat_-90_0": 21.0, "lat_0_90": 35.0}}


@register
class RegionalTotals(MeanRh):
    """Saves a ``regional_totals`` table like the global-totals type (model rows + product rows)."""

    kind = "test_regional_totals"

    def confront(self, model: xr.Dataset, reductions=None) -> ConfrontationResult:
        result = super().confront(model)
        name = model.attrs["model"]
        area = model["cell_area"] * model["land_fraction"]
        grams = model["rh"] * area
        south = model["lat"] < 0
        totals = {"global": float(grams.sum()), "lat_-90_0": float(grams.where(south).sum()),
                  "lat_0_90": float(grams.where(~south).sum())}
        rows = [{"label": name, "role": "model", "reference": "", "region": r, "value": v * 1e-15, "units": "Pg yr-1"}
                for r, v in totals.items()]
        rows += [{"label": p, "role": "reference", "reference": p, "region": r, "value": v, "units": "Pg yr-1"}
                 for p, values in PRODUCT_TOTALS.items() for r, v in values.items()]
        result.tables["regional_totals"] = pd.DataFrame(rows)
        result.table_meta["regional_totals"] = {"plot": "table", "title": "Regional totals"}
        return result


@register
class ListsModels(MeanRh):
    """A type with its own cross-model summary: the models it was given, one per line."""

    kind = "test_lists_models"

    @classmethod
    def summarize_models(cls, out_dir, confrontation_name, task_dirs=None):
        import json
        from pathlib import Path

        names = sorted(json.loads((Path(d) / "meta.json").read_text())["model"] for d in task_dirs)
        (Path(out_dir) / confrontation_name / "models.txt").write_text("\n".join(names))


@register
class CountsStaging(MeanRh):
    """Appends its process id to the file ``staging_log`` each time it stages its references."""

    kind = "test_counts_staging"
    option_defaults = {**MeanRh.option_defaults, "staging_log": ""}

    def _stage(self) -> None:
        super()._stage()
        with open(self.options["staging_log"], "a") as log:
            log.write(f"{os.getpid()}\n")

    def confront(self, model: xr.Dataset, reductions=None) -> ConfrontationResult:
        result = super().confront(model)
        if model.attrs["model"] == "dies":  # the worker process dies, as when killed for memory
            os._exit(1)
        rows = [{"region": "global", "analysis": "process", "name": "worker pid", "type": "scalar", "units": "1",
                 "value": float(os.getpid())}]
        result.scalars = pd.concat([result.scalars, scalar_rows(rows, model=model.attrs["model"],
                                                                confrontation=self.name, reference="test-target")],
                                   ignore_index=True)
        return result
