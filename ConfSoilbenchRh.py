"""ILAMB 2.x entry point for soilbench's gridded heterotrophic respiration (global totals, zonal means, Taylor).

ILAMB resolves a cfg ``ctype = "ConfSoilbenchRh"`` it does not ship with
``__import__("ConfSoilbenchRh").__dict__["ConfSoilbenchRh"]``, so this top-level module (installed
with soilbench) only re-exports the class from :mod:`soilbench.ilamb.confrontation`.
"""

from soilbench.ilamb.confrontation import ConfSoilbenchRh

__all__ = ["ConfSoilbenchRh"]
