"""Small confrontation and model types for the runner tests (importable by dask worker processes)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

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

    def confront(self, model: xr.Dataset) -> ConfrontationResult:
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

    def load(self, data_dir=None) -> xr.Dataset:
        try:
            model = xr.load_dataset(self.paths[0])
        except (OSError, ValueError) as err:
            raise SoilbenchError(self.paths[0], f"cannot read model: {' '.join(str(err).split())[:100]}") from None
        model.attrs["model"] = self.name
        return model


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
