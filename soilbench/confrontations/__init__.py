"""Confrontation classes, looked up by the ``type:`` key of a benchmark definition."""

from soilbench.confrontations.base import Confrontation, confrontation_class, register

__all__ = ["Confrontation", "confrontation_class", "register"]
