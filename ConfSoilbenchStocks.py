"""ILAMB 2.x entry point for soilbench's soil carbon stocks.

ILAMB resolves a cfg ``ctype = "ConfSoilbenchStocks"`` it does not ship with
``__import__("ConfSoilbenchStocks").__dict__["ConfSoilbenchStocks"]``, so this top-level module (installed
with soilbench) only re-exports the class from :mod:`soilbench.ilamb.confrontation`.
"""

from soilbench.ilamb.confrontation import ConfSoilbenchStocks

__all__ = ["ConfSoilbenchStocks"]
