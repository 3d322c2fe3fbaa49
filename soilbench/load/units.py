"""Units at the boundary: spell them so pint understands, check what they measure, convert.

Every unit string soilbench reads from a file goes through :func:`normalise_unit_string` once
(the registry, the year and the spellings live in :mod:`soilbench.units`, shared with the
analyses); after that, pint (the cf-xarray registry, through pint-xarray) does every conversion. Two
deliberate choices, explained in ``docs/loading.md``:

- The carbon token is stripped: ``"gC m-2 day-1"`` and ``"kg C m-2 s-1"`` mean grams/kilograms
  *of carbon*; pint would read ``C`` as coulomb and ``K``-like tokens as kelvin. All soilbench
  quantities are carbon masses, so the element is implicit (``long_name`` says "as carbon").
- A year is 365 days (pint's ``common_year``), not pint's default Julian ``year`` of 365.25
  days. Model climatologies of day-1 rates, the biogeochemical testbed and CMOR ``noleap``
  models all count 365-day years; annual totals of time series use each step's real length
  (see :mod:`soilbench.load.timeaxis`), so the choice only fixes how a rate is labelled.
"""

from __future__ import annotations

from os import PathLike

import pint
import xarray as xr

from soilbench.errors import SoilbenchError
from soilbench.units import (  # noqa: F401 — shared with analysis; importable from here as before
    DAYS_PER_YEAR, YEAR_UNIT, normalise_unit_string, pint_spelling, ureg,
)
from soilbench.quantities import FLUX_UNITS, QUANTITIES, STOCK_UNITS, TEMPERATURE_UNITS


_DIMENSIONALITY = {
    "flux": "[mass] / [length] ** 2 / [time]",
    "stock": "[mass] / [length] ** 2",
    "fraction": "[]",
    "area": "[length] ** 2",
    "temperature": "[temperature]",
}
_KIND_WORDS = {
    "flux": "mass per area per time (e.g. kg m-2 s-1)",
    "stock": "mass per area (e.g. kg m-2)",
    "fraction": "a fraction (1 or %)",
    "area": "an area (e.g. m2, km^2)",
    "temperature": "a temperature (e.g. K, degC)",
}


def parse_units(text: str | None, source: str | PathLike | None = None, variable: str | None = None) -> pint.Unit:
    """Parse a unit string (after :func:`normalise_unit_string`) into a pint unit.

    Raises
    ------
    SoilbenchError
        When the string is missing or pint does not know it.
    """
    if text is None:
        raise SoilbenchError(source, "has no 'units' attribute; soilbench needs units to convert it", variable)
    try:
        return ureg.Unit(normalise_unit_string(text))
    except (pint.errors.PintError, ValueError, TypeError, AttributeError, AssertionError) as err:
        raise SoilbenchError(source, f"has unknown units '{text}' ({type(err).__name__})", variable) from None


def check_kind(unit: pint.Unit, kind: str, text: str, source: str | PathLike | None, variable: str | None) -> None:
    """Raise a one-line error unless ``unit`` measures what a ``kind`` quantity needs."""
    if unit.dimensionality != ureg.get_dimensionality(_DIMENSIONALITY[kind]):
        raise SoilbenchError(
            source, f"has units '{text}', which is not {_KIND_WORDS[kind]} as a {kind} needs", variable
        )


def convert(da: xr.DataArray, target_units: str, kind: str, source: str | PathLike | None = None,
            variable: str | None = None) -> xr.DataArray:
    """Convert ``da`` from its ``units`` attribute to ``target_units`` (lazily for dask data).

    Parameters
    ----------
    da
        Data with a ``units`` attribute as found in the file.
    target_units
        soilbench spelling of the result's units (e.g. :data:`FLUX_UNITS`); written to
        ``attrs["units"]`` unchanged.
    kind
        ``"flux"``, ``"stock"``, ``"fraction"`` or ``"area"``: what the units must measure.
    source, variable
        Named in the error when the units are missing, unknown or of the wrong kind.
    """
    text = da.attrs.get("units")
    unit = parse_units(text, source, variable)
    check_kind(unit, kind, text, source, variable)
    quantified = da.pint.quantify(unit, unit_registry=ureg)
    converted = quantified.pint.to(pint_spelling(target_units)).pint.dequantify()
    converted.attrs = {k: v for k, v in da.attrs.items() if k not in ("units", "_FillValue", "missing_value")}
    converted.attrs["units"] = target_units
    converted.attrs["units_found"] = str(text)
    return converted


def to_canonical(da: xr.DataArray, quantity: str, source: str | PathLike | None = None,
                 variable: str | None = None) -> xr.DataArray:
    """Convert one variable to the canonical units of a soilbench quantity (see quantities.py)."""
    kind = QUANTITIES[quantity].kind
    target = {"flux": FLUX_UNITS, "stock": STOCK_UNITS, "temperature": TEMPERATURE_UNITS}[kind]
    return convert(da, target, kind, source, variable or str(da.name))


def factor(from_units: str, to_units: str) -> float:
    """The number to multiply a value in ``from_units`` by to express it in ``to_units``.

    Both strings are soilbench/CF spellings (normalised here), e.g.
    ``factor("g m-2 yr-1 m2", "Pg yr-1") == 1e-15``.
    """
    return float(ureg.Quantity(1.0, pint_spelling(from_units)).to(pint_spelling(to_units)).magnitude)
