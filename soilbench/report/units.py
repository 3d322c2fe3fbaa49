"""Units as people read them: ``"g m-2 yr-1"`` → ``"g C m⁻² yr⁻¹"``.

Saved results keep pint-parsable strings (``docs/results.md``); only what the report shows
(figure labels, table headers and unit cells) goes through :func:`display_units`. Every mass in
soilbench is a mass of carbon, so a mass unit is followed by "C", as the literature writes it.
"""

from __future__ import annotations

import re
from typing import Any

#: mass units that get the "C" of carbon after them
MASS_UNITS = {"Pg", "Tg", "Gg", "Mg", "kg", "g", "mg"}
#: spelled-out units shortened the way papers print them
SHORT_NAMES = {"day": "d", "days": "d", "year": "yr", "years": "yr", "degrees_north": "°N", "degrees_east": "°E",
               "degC": "°C", "degree_Celsius": "°C"}
SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_TOKEN = re.compile(r"^([A-Za-z_°%]+)(?:\^|\*\*)?(-?\d+)?$")


def display_units(units: Any) -> str:
    """A pint-style units string for display; blank for none or dimensionless ``"1"``.

    Tokens it does not understand are kept as they are (never guessed at): the display may then
    be less pretty, but never wrong.
    """
    text = "" if units is None else str(units).strip()
    if text in ("", "1", "nan", "None"):
        return ""
    tokens = text.replace("·", " ").split()
    out: list[str] = []
    carbon_added = False
    for token in tokens:
        match = _TOKEN.match(token)
        if match is None:
            out.append(token)
            continue
        name, power = match.groups()
        name = SHORT_NAMES.get(name, name)
        out.append(name + (power.translate(SUPERSCRIPTS) if power and power != "1" else ""))
        if name in MASS_UNITS and not power and not carbon_added and "C" not in tokens:
            out.append("C")
            carbon_added = True
    return " ".join(out)


def with_units(label: str, units: Any) -> str:
    """``"label [units]"`` with display units, or the label alone when dimensionless."""
    shown = display_units(units)
    return f"{label} [{shown}]" if shown else label
