"""The 2-box emergent constraint on 20th-century land carbon uptake (seed 000, methods.md §5).

A model's global carbon is reduced to two boxes::

    dcVeg/dt  = NPP − cVeg/τ_veg
    dcSoil/dt = cVeg/τ_veg − cSoil/τ_soil

stepped yearly from a steady state in the first year (cVeg = NPP·τ_veg, cSoil = NPP·τ_soil).
The model's own τ series are diagnosed from its global annual totals; replacing their
1982–2018 mean by the observed value (keeping the model's interannual variation and trend)
and re-running the boxes gives the constrained stock changes. A Monte Carlo over the observed
τ's uncertainty gives their spread. ``docs/turnover.md`` documents the choices; the main ones:

- **Backward (implicit) Euler step**: the stock at the end of year t loses ``c(t)/τ(t)``.
  Steady state is preserved exactly, any τ > 0 is stable, and with τ_veg diagnosed from the
  model's own mass balance the boxes reproduce the model's cVeg exactly — so emulation errors
  measure only what the two boxes leave out (initial disequilibrium, soil outfluxes other
  than Rh), not the time step.
- **τ_veg(t) = cVeg(t) / (NPP(t) − ΔcVeg(t))** (litterfall as the outflux, seed 000 eq. 1);
  the first year, which has no Δ, takes the second year's value. **τ_soil(t) = cSoil(t) /
  Rh(t)** (seed 000 eq. 2), or optionally the mass-balance outflux.
- τ after correction is floored at :data:`MIN_TAU_YR`: a Monte Carlo draw far in the normal
  tail must not make a pool's turnover negative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from soilbench.analysis.integrate import area_sum
from soilbench.analysis import integrate
from soilbench.quantities import G_PER_PG, KG_PER_PG

#: observation-based global turnover times (mean, sd) in yr: He et al. 2021 (veg), seed 000 (soil)
TAU_VEG_OBS_YR = (10.3, 1.4)
TAU_SOIL_OBS_YR = (38.3, 11.0)
CORRECTION_PERIOD = (1982, 2018)
MIN_TAU_YR = 1.0
QUANTITIES = ("cTotal", "cVeg", "cSoil")
VARIANTS = ("original", "emulated", "constrained")


def run_two_box(
    npp_pg_yr: np.ndarray, tau_veg_yr: np.ndarray, tau_soil_yr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Step the two boxes yearly from steady state in the first year.

    Parameters
    ----------
    npp_pg_yr
        NPP per year, shape ``(n_years,)`` (any broadcastable leading dimensions allowed).
    tau_veg_yr, tau_soil_yr
        Turnover times per year, shape ``(..., n_years)``; leading dimensions (Monte Carlo
        draws) broadcast against each other and against ``npp_pg_yr``.

    Returns
    -------
    cveg_pg, csoil_pg
        Stocks at the end of each year, shape ``(..., n_years)``. Year 0 is the steady state
        ``NPP(0)·τ(0)``; for t ≥ 1 (backward Euler)::

            cVeg(t)  = (cVeg(t−1) + NPP(t)) / (1 + 1/τ_veg(t))
            cSoil(t) = (cSoil(t−1) + cVeg(t)/τ_veg(t)) / (1 + 1/τ_soil(t))
    """
    npp, tau_veg, tau_soil = np.broadcast_arrays(
        np.asarray(npp_pg_yr, float), np.asarray(tau_veg_yr, float), np.asarray(tau_soil_yr, float)
    )
    cveg = np.empty(npp.shape)
    csoil = np.empty(npp.shape)
    cveg[..., 0] = npp[..., 0] * tau_veg[..., 0]
    csoil[..., 0] = npp[..., 0] * tau_soil[..., 0]
    for t in range(1, npp.shape[-1]):
        cveg[..., t] = (cveg[..., t - 1] + npp[..., t]) / (1.0 + 1.0 / tau_veg[..., t])
        litterfall = cveg[..., t] / tau_veg[..., t]
        csoil[..., t] = (csoil[..., t - 1] + litterfall) / (1.0 + 1.0 / tau_soil[..., t])
    return cveg, csoil


def diagnose_turnover(
    npp_pg_yr: np.ndarray,
    rh_pg_yr: np.ndarray,
    cveg_pg: np.ndarray,
    csoil_pg: np.ndarray,
    tau_soil_outflux: str = "rh",
) -> tuple[np.ndarray, np.ndarray]:
    """A model's own global τ_veg and τ_soil series (yr) from its annual global totals.

    ``τ_veg(t) = cVeg(t) / (NPP(t) − ΔcVeg(t))`` with ΔcVeg(t) = cVeg(t) − cVeg(t−1); year 0
    copies year 1. ``tau_soil_outflux="rh"`` gives ``τ_soil = cSoil / Rh``; ``"mass_balance"``
    uses the 2-box's own outflux ``litterfall − ΔcSoil`` instead (then the boxes reproduce
    the model's cSoil exactly, too).
    """
    npp, rh, cveg, csoil = (np.asarray(x, float) for x in (npp_pg_yr, rh_pg_yr, cveg_pg, csoil_pg))
    if npp.size < 2:
        raise ValueError("the 2-box model needs at least two years")
    d_cveg = np.diff(cveg, prepend=np.nan)
    litterfall = npp - d_cveg
    tau_veg = cveg / litterfall
    tau_veg[0] = tau_veg[1]
    if tau_soil_outflux == "rh":
        tau_soil = csoil / rh
    elif tau_soil_outflux == "mass_balance":
        tau_soil = csoil / (litterfall - np.diff(csoil, prepend=np.nan))
        tau_soil[0] = tau_soil[1]
    else:
        raise ValueError(f"tau_soil_outflux must be 'rh' or 'mass_balance', got {tau_soil_outflux!r}")
    return tau_veg, tau_soil


def correct_turnover(
    tau_yr: np.ndarray, years: np.ndarray, tau_obs_yr: float | np.ndarray,
    period: tuple[int, int] = CORRECTION_PERIOD,
) -> np.ndarray:
    """Shift a τ series so its mean over ``period`` equals ``tau_obs_yr`` (seed 000 eqs. 4–5).

    ``τ_corr(t) = τ(t) + (τ_obs − mean_period τ)``: interannual variation and trend are kept.
    ``tau_obs_yr`` may be an array of draws (shape ``(n,)``): the result is ``(n, n_years)``.
    Floored at :data:`MIN_TAU_YR`.
    """
    years = np.asarray(years)
    in_period = (years >= period[0]) & (years <= period[1])
    if not in_period.any():
        raise ValueError(f"no year of the series falls in the correction period {period[0]}-{period[1]}")
    offset = np.asarray(tau_obs_yr, float)[..., None] - np.mean(np.asarray(tau_yr)[in_period])
    return np.maximum(np.asarray(tau_yr, float) + offset, MIN_TAU_YR)


@dataclass
class TwoBoxResult:
    """The 2-box emulation and constraint of one model.

    ``series`` holds yearly stocks (Pg C) by ``(variant, quantity)``; the ``constrained``
    series is the Monte Carlo mean and ``constrained_sd`` its standard deviation. ``changes``
    has one row per quantity × variant: ``value`` = change from the first to the last year (Pg
    C), ``sd`` (Monte Carlo sd for constrained, 0 otherwise).
    """

    model: str
    years: np.ndarray
    series: dict[tuple[str, str], np.ndarray]
    constrained_sd: dict[str, np.ndarray]
    changes: pd.DataFrame
    tau_veg_model_yr: float
    tau_soil_model_yr: float
    n_draws: int
    notes: list[str] = field(default_factory=list)

    def change(self, quantity: str, variant: str) -> float:
        row = self.changes[(self.changes["quantity"] == quantity) & (self.changes["variant"] == variant)]
        return float(row["value"].iloc[0])

    def table(self) -> pd.DataFrame:
        """The changes as a ``bars`` table (label, role, value, lower, upper, units) + detail columns."""
        frame = self.changes.copy()
        frame.insert(0, "label", [f"Δ{q} {v}" for q, v in zip(frame["quantity"], frame["variant"])])
        frame.insert(1, "role", "model")
        frame["lower"] = frame["value"] - frame["sd"]
        frame["upper"] = frame["value"] + frame["sd"]
        frame["units"] = "Pg"
        frame["model"] = self.model
        frame["first_year"] = int(self.years[0])
        frame["last_year"] = int(self.years[-1])
        return frame[["label", "role", "value", "lower", "upper", "units", "model", "quantity", "variant", "sd",
                      "first_year", "last_year"]]


def constrain_model(
    model: str,
    years: np.ndarray,
    npp_pg_yr: np.ndarray,
    rh_pg_yr: np.ndarray,
    cveg_pg: np.ndarray,
    csoil_pg: np.ndarray,
    tau_veg_obs_yr: tuple[float, float] = TAU_VEG_OBS_YR,
    tau_soil_obs_yr: tuple[float, float] = TAU_SOIL_OBS_YR,
    n_draws: tuple[int, int] = (100, 100),
    seed: int = 0,
    period: tuple[int, int] = CORRECTION_PERIOD,
    tau_soil_outflux: str = "rh",
) -> TwoBoxResult:
    """Emulate one model with the 2-box model and constrain it with observed turnover times.

    Parameters
    ----------
    model
        Display name.
    years, npp_pg_yr, rh_pg_yr, cveg_pg, csoil_pg
        Global annual series (Pg C yr-1 for fluxes, Pg C for stocks), consecutive years.
    tau_veg_obs_yr, tau_soil_obs_yr
        Observed (mean, sd) of the global turnover times; the Monte Carlo draws from normals.
    n_draws
        Draws of τ_veg × draws of τ_soil; every pair is run (100 × 100 = 10,000 by default).
    seed
        Seed of the :class:`numpy.random.Generator`; the same seed gives every model the same
        draws, so ensemble statistics compare like with like.
    period
        Years over which the model's mean τ is matched to the observed one.
    tau_soil_outflux
        See :func:`diagnose_turnover`.
    """
    years = np.asarray(years, int)
    if np.any(np.diff(years) != 1):
        raise ValueError("the 2-box model needs consecutive years")
    tau_veg, tau_soil = diagnose_turnover(npp_pg_yr, rh_pg_yr, cveg_pg, csoil_pg, tau_soil_outflux)
    if not (np.all(np.isfinite(tau_veg)) and np.all(np.isfinite(tau_soil)) and np.all(tau_veg > 0)
            and np.all(tau_soil > 0)):
        raise ValueError("the model's diagnosed turnover times are not all positive and finite")
    in_period = (years >= period[0]) & (years <= period[1])
    notes = []
    if not in_period.all() and (years[0] > period[0] or years[-1] < period[1]):
        notes.append(f"correction period {period[0]}-{period[1]} only partly covered "
                     f"({int(in_period.sum())} years of the model's record)")

    emu_veg, emu_soil = run_two_box(npp_pg_yr, tau_veg, tau_soil)

    rng = np.random.default_rng(seed)
    veg_draws = rng.normal(tau_veg_obs_yr[0], tau_veg_obs_yr[1], n_draws[0])
    soil_draws = rng.normal(tau_soil_obs_yr[0], tau_soil_obs_yr[1], n_draws[1])
    # (n_veg, 1, years) and (1, n_soil, years): broadcasting crosses every pair of draws
    veg_series = correct_turnover(tau_veg, years, veg_draws, period)[:, None, :]
    soil_series = correct_turnover(tau_soil, years, soil_draws, period)[None, :, :]
    mc_veg, mc_soil = run_two_box(npp_pg_yr, veg_series, soil_series)
    mc_veg, mc_soil = mc_veg.reshape(-1, years.size), mc_soil.reshape(-1, years.size)
    mc_total = mc_veg + mc_soil

    cveg_pg, csoil_pg = np.asarray(cveg_pg, float), np.asarray(csoil_pg, float)
    series = {
        ("original", "cVeg"): cveg_pg, ("original", "cSoil"): csoil_pg, ("original", "cTotal"): cveg_pg + csoil_pg,
        ("emulated", "cVeg"): emu_veg, ("emulated", "cSoil"): emu_soil, ("emulated", "cTotal"): emu_veg + emu_soil,
        ("constrained", "cVeg"): mc_veg.mean(0), ("constrained", "cSoil"): mc_soil.mean(0),
        ("constrained", "cTotal"): mc_total.mean(0),
    }
    constrained_sd = {"cVeg": mc_veg.std(0), "cSoil": mc_soil.std(0), "cTotal": mc_total.std(0)}
    mc_changes = {"cVeg": mc_veg[:, -1] - mc_veg[:, 0], "cSoil": mc_soil[:, -1] - mc_soil[:, 0],
                  "cTotal": mc_total[:, -1] - mc_total[:, 0]}
    rows = []
    for quantity in QUANTITIES:
        for variant in VARIANTS:
            if variant == "constrained":
                value, sd = float(mc_changes[quantity].mean()), float(mc_changes[quantity].std())
            else:
                s = series[(variant, quantity)]
                value, sd = float(s[-1] - s[0]), 0.0
            rows.append({"quantity": quantity, "variant": variant, "value": value, "sd": sd})
    return TwoBoxResult(
        model=model, years=years, series=series, constrained_sd=constrained_sd,
        changes=pd.DataFrame(rows),
        tau_veg_model_yr=float(np.mean(tau_veg[in_period])),
        tau_soil_model_yr=float(np.mean(tau_soil[in_period])),
        n_draws=int(n_draws[0] * n_draws[1]), notes=notes,
    )


def ensemble(results: Sequence[TwoBoxResult | pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Combine per-model 2-box results once every model is done.

    Parameters
    ----------
    results
        :class:`TwoBoxResult` objects or their saved tables (:meth:`TwoBoxResult.table`,
        ``tables/twobox.csv``), one per model.

    Returns
    -------
    dict
        ``"changes"``: per quantity × variant the ensemble mean change, the inter-model sd and,
        for constrained, the root-mean-square of the per-model Monte Carlo sd (``mc_sd``), as a
        ``bars`` table (lower/upper = mean ∓ inter-model sd); ``"emulation"``: how well the
        2-box reproduces the models' own ΔcTotal across models — ``slope`` through the origin
        of emulated on original (seed 000: 0.77), ``r_squared`` (squared Pearson correlation;
        0.90), ``n_models``; and the constraint's effect ``constrained_minus_original`` and
        ``constrained_over_original`` on the ensemble-mean ΔcTotal.
    """
    tables = [r.table() if isinstance(r, TwoBoxResult) else r for r in results]
    if not tables:
        raise ValueError("the 2-box ensemble needs at least one model")
    frame = pd.concat(tables, ignore_index=True)
    n_models = frame["model"].nunique()
    rows = []
    for quantity in QUANTITIES:
        for variant in VARIANTS:
            part = frame[(frame["quantity"] == quantity) & (frame["variant"] == variant)]
            mean = float(part["value"].mean())
            spread = float(part["value"].std(ddof=1)) if len(part) > 1 else 0.0
            rows.append({
                "label": f"Δ{quantity} {variant}", "role": "model", "value": mean,
                "lower": mean - spread, "upper": mean + spread, "units": "Pg",
                "quantity": quantity, "variant": variant, "inter_model_sd": spread,
                "mc_sd": float(np.sqrt(np.mean(part["sd"] ** 2))), "n_models": len(part),
            })
    changes = pd.DataFrame(rows)

    pivot = frame[frame["quantity"] == "cTotal"].pivot_table(index="model", columns="variant", values="value")
    original, emulated = pivot["original"].to_numpy(), pivot["emulated"].to_numpy()
    slope = float(np.sum(original * emulated) / np.sum(original**2)) if np.any(original) else float("nan")
    if len(original) > 2 and np.std(original) > 0 and np.std(emulated) > 0:
        r_squared = float(np.corrcoef(original, emulated)[0, 1] ** 2)
    else:
        r_squared = float("nan")
    total = changes[changes["quantity"] == "cTotal"].set_index("variant")["value"]
    emulation = pd.DataFrame([{
        "slope": slope, "r_squared": r_squared, "n_models": n_models,
        "constrained_minus_original": float(total["constrained"] - total["original"]),
        "constrained_over_original": float(total["constrained"] / total["original"]) if total["original"] else float("nan"),
    }])
    return {"changes": changes, "emulation": emulation}


# -- from a canonical dataset -----------------------------------------------------------------

TWO_BOX_VARIABLES = ("npp", "rh", "cveg", "csoil")


def two_box_unavailable_reason(model: xr.Dataset, period: tuple[int, int] = CORRECTION_PERIOD) -> str | None:
    """Why the 2-box constraint cannot run for ``model`` (None when it can)."""
    missing = [v for v in TWO_BOX_VARIABLES if v not in model.data_vars]
    if missing:
        return f"the model has no {', '.join(missing)}"
    if "time" not in model.dims:
        return "the model has no time axis (a one-period mean gives no stock changes)"
    years = np.unique(model["time"].dt.year.values)
    if years.size < 2:
        return "the model covers fewer than two years"
    if np.any(np.diff(years) != 1):
        return "the model's years are not consecutive"
    if years[-1] < period[0] or years[0] > period[1]:
        return f"the model's years {years[0]}-{years[-1]} miss the correction period {period[0]}-{period[1]}"
    return None


def global_annual_series(model: xr.Dataset, step_totals: Mapping[str, xr.DataArray] | None = None) -> pd.DataFrame:
    """Global annual totals of npp, rh (Pg C yr-1), cveg and csoil (Pg C) of a canonical dataset.

    Each year's value is the mean over its steps weighted by their length (``step_days``),
    summed over land with ``cell_area · land_fraction``. Annual files give their values as-is.
    ``step_totals`` may give, per variable, the computed Σ value · :func:`soilbench.analysis.integrate.land_area` over
    lat and lon per step (:func:`soilbench.analysis.reductions.global_step_totals`), so that
    the fields need not be read again.
    """
    area_m2 = integrate.land_area(model)
    step_days = model["step_days"] if "step_days" in model.coords or "step_days" in model else xr.ones_like(
        model["time"], dtype=float)
    year = model["time"].dt.year.rename("year")
    out = {}
    for name, to_pg in (("npp", G_PER_PG), ("rh", G_PER_PG), ("cveg", KG_PER_PG), ("csoil", KG_PER_PG)):
        if step_totals is not None and name in step_totals:
            summed = step_totals[name]
        else:
            summed = area_sum(model[name], area_m2)
        total = summed / to_pg
        weights = step_days.where(total.notnull(), 0.0)
        out[name] = ((total.fillna(0.0) * weights).groupby(year).sum() / weights.groupby(year).sum()).values
    years = np.unique(year.values)
    return pd.DataFrame({"year": years, "npp_pg_yr": out["npp"], "rh_pg_yr": out["rh"],
                         "cveg_pg": out["cveg"], "csoil_pg": out["csoil"]})
