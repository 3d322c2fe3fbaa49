"""ILAMB 2.x entry point for soilbench's site observations (SRDB annual fluxes, MGRhD daily Rh).

ILAMB resolves a cfg ``ctype = "ConfSoilbenchSites"`` it does not ship with
``__import__("ConfSoilbenchSites").__dict__["ConfSoilbenchSites"]``, so this top-level module (installed
with soilbench) only re-exports the class from :mod:`soilbench.ilamb.confrontation`.
"""

from soilbench.ilamb.confrontation import ConfSoilbenchSites

__all__ = ["ConfSoilbenchSites"]
