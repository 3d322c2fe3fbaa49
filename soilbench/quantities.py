"""The quantities soilbench compares, with their canonical units.

Canonical units are used inside every analysis: fluxes as rates in g C m-2 yr-1, stocks in
kg C m-2, turnover time in yr. The carbon is implicit in the unit strings (``g m-2 yr-1``) so
that pint can parse them; ``long_name`` says "as carbon".
"""

from __future__ import annotations

from dataclasses import dataclass

FLUX_UNITS = "g m-2 yr-1"
STOCK_UNITS = "kg m-2"
FLUX_TOTAL_UNITS = "Pg yr-1"  # Pg C yr-1
STOCK_TOTAL_UNITS = "Pg"  # Pg C
TIME_UNITS = "yr"
TEMPERATURE_UNITS = "degC"

# Mass conversions for totals (carbon): one definition for every module that sums to Pg.
G_PER_PG = 1.0e15
KG_PER_PG = 1.0e12


@dataclass(frozen=True)
class Quantity:
    name: str
    long_name: str
    kind: str  # "flux", "stock", "time" or "temperature"
    units: str

    @property
    def total_units(self) -> str | None:
        return {"flux": FLUX_TOTAL_UNITS, "stock": STOCK_TOTAL_UNITS}.get(self.kind)


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in [
        Quantity("rh", "soil heterotrophic respiration (as carbon)", "flux", FLUX_UNITS),
        Quantity("rs", "total soil respiration, rh + root respiration (as carbon)", "flux", FLUX_UNITS),
        Quantity("ra_root", "root (belowground autotrophic) respiration (as carbon)", "flux", FLUX_UNITS),
        Quantity("npp", "net primary production (as carbon)", "flux", FLUX_UNITS),
        Quantity("csoil", "soil carbon including litter where the model has it", "stock", STOCK_UNITS),
        Quantity("clitter", "litter carbon", "stock", STOCK_UNITS),
        Quantity("cveg", "vegetation carbon", "stock", STOCK_UNITS),
        Quantity("tau_soil", "soil carbon turnover time, csoil / rh", "time", TIME_UNITS),
        # the model's top soil layer (CMOR tsl, first layer); read only by the response confrontations
        Quantity("tsl", "soil temperature of the top layer", "temperature", TEMPERATURE_UNITS),
    ]
}
