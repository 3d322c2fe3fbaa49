"""Confrontation classes, looked up by the ``type:`` key of a benchmark definition.

Types are declared as Python entry points of the group ``soilbench.confrontations``
(:data:`~soilbench.confrontations.base.ENTRY_POINT_GROUP`), soilbench's own in its
``pyproject.toml``; a package installed beside soilbench adds a type the same way.
"""

from soilbench.confrontations.base import (
    ENTRY_POINT_GROUP,
    Confrontation,
    confrontation_class,
    known_kinds,
    register,
)

__all__ = ["ENTRY_POINT_GROUP", "Confrontation", "confrontation_class", "known_kinds", "register"]
