"""ILAMB 2.x entry point for soilbench's soil carbon turnover time.

ILAMB resolves a cfg ``ctype = "ConfSoilbenchTurnover"`` it does not ship with
``__import__("ConfSoilbenchTurnover").__dict__["ConfSoilbenchTurnover"]``, so this top-level module (installed
with soilbench) only re-exports the class from :mod:`soilbench.ilamb.confrontation`.
"""

from soilbench.ilamb.confrontation import ConfSoilbenchTurnover

__all__ = ["ConfSoilbenchTurnover"]
