"""Units shared by loading and analysis: pint's registry, soilbench's year, unit spellings.

Every unit string soilbench reads from a file goes through :func:`normalise_unit_string` once
(:mod:`soilbench.load.units`, at the boundary); after that, pint (the cf-xarray registry,
through pint-xarray) does every conversion. Two deliberate choices, explained in
``docs/loading.md``:

- The carbon token is stripped: ``"gC m-2 day-1"`` and ``"kg C m-2 s-1"`` mean grams/kilograms
  *of carbon*; pint would read ``C`` as coulomb and ``K``-like tokens as kelvin. All soilbench
  quantities are carbon masses, so the element is implicit (``long_name`` says "as carbon").
- A year is 365 days (pint's ``common_year``), not pint's default Julian ``year`` of 365.25
  days; annual totals of time series use each step's real length, so the choice only fixes how
  a rate is labelled.

Pure functions and constants with no file I/O: both :mod:`soilbench.load` and :mod:`soilbench.analysis` import
them from here.
"""

from __future__ import annotations

import logging
import re

import pint_xarray  # noqa: F401  (registers the .pint accessor)

# cf-xarray's registry redefines CF spellings (%, yr, degrees_north...) on import and pint logs
# each redefinition as a warning; they are intended, so keep them out of users' terminals.
logging.getLogger("pint.util").setLevel(logging.ERROR)
from cf_xarray.units import units as ureg  # noqa: E402, F401 — the registry everyone converts with

#: pint's name for the 365-day year soilbench means by "yr"
YEAR_UNIT = "common_year"
DAYS_PER_YEAR = 365

# Unit spellings meaning "no unit" that pint does not know.
_DIMENSIONLESS_WORDS = {"", "1", "fraction", "unitless", "none", "dimensionless", "0-1", "-"}

_CARBON = re.compile(r"(?<![A-Za-z])([kMGTPm]?g|t)\s?C(?![A-Za-z])")  # gC, g C, kgC, PgC, MgC, tC
_KG_CAPITALISED = re.compile(r"(?<![A-Za-z])(Kg|KG)(?![A-Za-z])")
#: "degrees C" (the testbed) would be read as degree (angle) times coulomb
_CELSIUS = re.compile(r"^(degrees?|deg)[\s_]?(C|Celsius)$", re.IGNORECASE)
_YEAR = re.compile(r"(?<![A-Za-z_])(yr|year|years|yrs)(?![A-Za-z_])")


def normalise_unit_string(text: str) -> str:
    """Spell a unit string from a file so that pint parses it as soilbench means it.

    Parameters
    ----------
    text
        The ``units`` attribute as found, e.g. ``"gC m-2 day-1"``, ``"Kg/m2"``,
        ``"kg C m-2 s-1"``, ``"km^2"``, ``"%"``.

    Returns
    -------
    str
        A pint-parseable string: carbon token removed, ``Kg`` → ``kg``, years as
        ``common_year``, dimensionless spellings as ``"1"``.
    """
    cleaned = " ".join(str(text).split())
    if cleaned.lower() in _DIMENSIONLESS_WORDS:
        return "1"
    if _CELSIUS.match(cleaned):
        return "degC"
    cleaned = _KG_CAPITALISED.sub("kg", cleaned)
    cleaned = _CARBON.sub(r"\1", cleaned)
    cleaned = _YEAR.sub(YEAR_UNIT, cleaned)
    return cleaned


def pint_spelling(units: str) -> str:
    """The pint spelling of a soilbench unit string (``"g m-2 yr-1"`` → ``"g m-2 common_year-1"``)."""
    return normalise_unit_string(units)


def total_units(rate_units: str) -> str:
    """The units of a rate's amount over a year (``"g m-2 yr-1"`` → ``"g m-2"``)."""
    return re.sub(r"\s*(yr|year)-1\s*$", "", rate_units).strip() or "1"
