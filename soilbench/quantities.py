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
class PhysicalBounds:
    """The values a quantity can physically take, in its canonical units (inclusive).

    ``lower`` of a quantity that cannot be negative is a small negative tolerance for numerical
    noise (a model's −1e-12 kg m-2 s-1), not zero. Values outside are refused at the load
    boundary (``soilbench.load.checks``): they are undeclared fill values (−9999, 1e30),
    overflows or a broken model, and no total computed with them means anything.
    """

    lower: float
    upper: float
    why: str = ""

    def contains(self, value: float) -> bool:
        return self.lower <= value <= self.upper


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
        # near-surface air temperature (CMOR tas); read by the turnover and series confrontations
        # for temperature curves and sensitivities
        Quantity("tas", "near-surface air temperature", "temperature", TEMPERATURE_UNITS),
    ]
}


# Why these numbers: the largest annual soil respiration in SRDB V5 (23,046 g C m-2 yr-1) is an
# outlier; field Rs and modelled Rh stay below ~5,000 (the testbed's Rh tops at 1,830). A flux of
# 20,000 g m-2 yr-1 (55 g m-2 day-1) is beyond any ecosystem, but far below the converted
# fill values (−9999 kg m-2 s-1 is −3e14 g m-2 yr-1). Soil carbon of deep peat reaches a few
# hundred kg m-2 (testbed ≤ 150, HWSD ≤ 81, NCSCD ≤ 117); 5,000 kg m-2 leaves room for models
# spun up to absurd but finite stocks while refusing fills. NPP can be negative (respiration
# exceeding photosynthesis), so its lower bound is not a noise tolerance.
# Noise tolerances: small negative values that some models write (a few 1e-10 kg m-2 s-1) are
# not worth refusing a model for; they move a global total by far less than its uncertainty.
_FLUX_NOISE = 10.0  # g m-2 yr-1: 3 % of a typical Rh, 3e-10 kg m-2 s-1
_STOCK_NOISE = 1.0e-2  # kg m-2 (10 g m-2)

#: physical bounds per quantity (canonical units), the one definition the load checks use
PHYSICAL_BOUNDS: dict[str, PhysicalBounds] = {
    "rh": PhysicalBounds(-_FLUX_NOISE, 2.0e4, "respiration cannot be negative beyond numerical noise"),
    "rs": PhysicalBounds(-_FLUX_NOISE, 2.0e4, "respiration cannot be negative beyond numerical noise"),
    "ra_root": PhysicalBounds(-_FLUX_NOISE, 2.0e4, "respiration cannot be negative beyond numerical noise"),
    "npp": PhysicalBounds(-5.0e3, 2.0e4, "NPP may be negative, but not by more than any ecosystem respires"),
    "csoil": PhysicalBounds(-_STOCK_NOISE, 5.0e3, "a carbon stock cannot be negative"),
    "clitter": PhysicalBounds(-_STOCK_NOISE, 5.0e3, "a carbon stock cannot be negative"),
    "cveg": PhysicalBounds(-_STOCK_NOISE, 5.0e3, "a carbon stock cannot be negative"),
    # the coldest and hottest soil surfaces measured (Antarctic plateau, desert sand) with margin;
    # a temperature in K read as °C (300 °C) or an undeclared fill falls outside
    "tsl": PhysicalBounds(-100.0, 100.0, "soil temperature in °C on Earth"),
    # the coldest and hottest air temperatures measured (-89 °C Vostok, 57 °C Death Valley) with margin
    "tas": PhysicalBounds(-100.0, 100.0, "air temperature in °C on Earth"),
    # gridded reference auxiliaries (root-contribution map): fractions
    "rc": PhysicalBounds(0.0, 1.0, "a fraction of soil respiration"),
    "rc_sd": PhysicalBounds(0.0, 1.0, "a standard deviation of a fraction"),
}
