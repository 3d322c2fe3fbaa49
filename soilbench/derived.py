"""Quantities a confrontation may derive from a canonical model, in one place.

A canonical model (:func:`soilbench.load.load_model`) carries the quantities its files provide;
a confrontation may need one the model only has in parts:

- ``rs = rh + ra_root`` (soil respiration is heterotrophic plus root respiration), always;
- ``rs`` from ``rh`` by an ``rs_from_rh`` method (:mod:`soilbench.analysis.partition`) when a
  confrontation's options choose one (``bl2004``, ``root_contribution``).

(Soil + litter carbon, ``csoil = cSoil + cLitter``, is summed from the files' variables by the
loader's recipes, ``soilbench/load/aliases.yaml``, before a model reaches this module.)

Whether a model can give a quantity (:func:`missing`, :func:`not_applicable_reason`), how it
does (:func:`how`, part of the reductions' keys: equal keys mean equal values), and the field
itself are decided by the same rule, so a confrontation found applicable always gets its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xarray as xr

#: the parts summed into soil respiration when a model has no ``rs`` of its own
RS_PARTS = ("rh", "ra_root")
#: ``rs_from_rh`` value that converts nothing
NO_CONVERSION = "none"


def how(quantity: str, available: Iterable[str], rs_from_rh: str = NO_CONVERSION) -> str | None:
    """How ``quantity`` comes from a model providing ``available``; None when it cannot.

    ``quantity`` itself when present, ``"rh + ra_root"`` for an ``rs`` summed from its parts,
    ``"rh/<method>"`` for an ``rs`` converted from ``rh`` with ``rs_from_rh``.
    """
    available = set(available)
    if quantity in available:
        return quantity
    if quantity == "rs" and set(RS_PARTS) <= available:
        return " + ".join(RS_PARTS)
    if quantity == "rs" and rs_from_rh != NO_CONVERSION and "rh" in available:
        return f"rh/{rs_from_rh}"
    return None


def missing(quantities: Iterable[str], available: Iterable[str], rs_from_rh: str = NO_CONVERSION) -> list[str]:
    """The ``quantities`` a model providing ``available`` can neither give nor derive."""
    available = set(available)
    return [q for q in quantities if how(q, available, rs_from_rh) is None]


def not_applicable_reason(quantities: Iterable[str], available: Iterable[str],
                          rs_from_rh: str = NO_CONVERSION) -> str | None:
    """None when every quantity can be had; else the one-line reason a task is not applicable,
    e.g. ``"the model provides no csoil (it provides: rh)"``."""
    available = set(available)
    lacking = missing(quantities, available, rs_from_rh)
    if not lacking:
        return None
    provides = ", ".join(sorted(available)) or "none of the canonical quantities"
    return f"the model provides no {', '.join(lacking)} (it provides: {provides})"


def inputs(quantities: Iterable[str]) -> set[str]:
    """Canonical quantities to load so that ``quantities`` can be had or derived."""
    needed = set(quantities)
    if "rs" in needed:
        needed |= {*RS_PARTS, "rh"}
    return needed


def model_field(model: xr.Dataset, quantity: str, rs_from_rh: str = NO_CONVERSION,
                rc: xr.Dataset | None = None) -> tuple[xr.DataArray | None, list[str]]:
    """The model's ``quantity`` field, derived as :func:`how` says; None (with the reason) when it
    cannot be had, and notes saying how it was obtained.

    ``rs`` is taken as is, else ``rh + ra_root``, else (``rs_from_rh`` ≠ ``none``) derived from
    ``rh`` by :func:`soilbench.analysis.partition.rs_from_rh`: ``bl2004`` from the period-mean rh
    (a climatology), ``root_contribution`` at every time step with the RC map ``rc``.
    """
    # imported here: the confrontation registry imports this module for applicable() alone
    from soilbench.analysis import integrate, partition
    from soilbench.quantities import FLUX_UNITS, QUANTITIES

    way = how(quantity, model.data_vars, rs_from_rh)
    if way == quantity:
        return model[quantity], []
    if way == " + ".join(RS_PARTS):
        rs = (model["rh"] + model["ra_root"]).rename("rs")
        rs.attrs = {"units": FLUX_UNITS, "long_name": QUANTITIES["rs"].long_name, "source": way}
        return rs, [f"rs = {way} (the model has no rs variable)"]
    if way is not None:  # rs from rh with rs_from_rh
        # bl2004 is a relation between annual fluxes: apply it to the period mean, never per step
        rh = integrate.period_mean(model, "rh") if rs_from_rh == "bl2004" else model["rh"]
        rs = partition.rs_from_rh(rh, rs_from_rh, rc, integrate.land_area(model))
        return rs, [partition.describe(rs)]
    provides = ", ".join(q for q in QUANTITIES if q in model.data_vars) or "none"
    need = "rs or rh + ra_root" if quantity == "rs" else quantity
    return None, [f"not applicable: the model provides no {need} (it provides: {provides})"]
