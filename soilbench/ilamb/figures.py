"""Which soilbench figures go on an ILAMB dataset page, drawn by soilbench's report plots.

The figures are the ones soilbench's own report draws, chosen by the same functions
(:mod:`soilbench.report.figure_choice`): maps, site maps, scatter plots and seasonal cycles per
model; profiles (zonal, series) and comparison tables (Taylor, bars) combined across models. The
drawing itself is :mod:`soilbench.report.plots`, so a figure looks the same in both; this module
only names the files and places them in ILAMB's page sections.

A :class:`FigureSpec` knows its ILAMB page entry (``key`` is the ``<img>`` id, ``pattern`` the
file name with ILAMB's ``MNAME`` token) and how to draw itself, so the page can be laid out on
every MPI rank while only the rank that owns a model draws it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from soilbench import atomic
from soilbench.report import figure_choice as choice
from soilbench.report.figure_choice import ModelResult  # one model's result and its ILAMB colour
from soilbench.results import ConfrontationResult

__all__ = ["FigureSpec", "ModelResult", "combined_figures", "draw", "map_limits", "model_figures", "safe_key"]

log = logging.getLogger(__name__)

SECTION_COMBINED = "Global totals and Taylor diagrams"
SECTION_PROFILES = "Zonal means and series"
SECTION_MAPS = "Maps"
SECTION_SITES = "Sites"
SECTIONS = [SECTION_COMBINED, SECTION_PROFILES, SECTION_MAPS, SECTION_SITES]


@dataclass
class FigureSpec:
    """One figure on the ILAMB page: where it goes and how to draw it."""

    key: str
    section: str
    title: str
    per_model: bool
    draw: Callable[[], bytes]

    @property
    def pattern(self) -> str:
        """File name as ILAMB's page script expects it (``MNAME`` is replaced by the model)."""
        return f"MNAME_{self.key}.png" if self.per_model else f"{self.key}.png"

    def file_name(self, model: str | None = None) -> str:
        return self.pattern.replace("MNAME", model) if self.per_model else self.pattern


def safe_key(text: str) -> str:
    """An HTML id / file-name part: ILAMB builds JavaScript from it, so keep ``[A-Za-z0-9_]``."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", str(text)).strip("_") or "figure"


def map_limits(results: Sequence[ModelResult]) -> dict[str, tuple[float, float]]:
    """Shared colour limits per map variable across models (ILAMB's ``determinePlotLimits``)."""
    return choice.map_limits(item.result for item in results)


def model_figures(item: ModelResult, limits: dict[str, tuple[float, float]]) -> list[FigureSpec]:
    """Maps, site maps, scatter plots and seasonal cycles of one model."""
    figures = []
    for chosen in choice.model_choices(item, limits):
        # the key is the same for every model (ILAMB swaps the image per model): no model name in it
        prefix, section = ("map", SECTION_MAPS) if chosen.kind == "map" else ("table", SECTION_SITES)
        figures.append(FigureSpec(f"{prefix}_{safe_key(chosen.name)}", section, chosen.title, True, chosen.draw))
    return figures


def combined_figures(results: Sequence[ModelResult], references: ConfrontationResult | None = None) -> list[FigureSpec]:
    """Profiles and comparison tables (Taylor, totals bars) with all models in one figure.

    A reference profile that differs per model (a zonal mean on the cells valid in each model) is
    drawn for every model in its colour, as in soilbench's report: both use
    :func:`soilbench.report.figure_choice.profile_groups`.
    """
    figures = [FigureSpec(f"{chosen.kind}_{safe_key(chosen.name or 'none')}", SECTION_PROFILES, chosen.title, False,
                          chosen.draw)
               for chosen in choice.profile_choices(results)]
    figures += [FigureSpec(f"table_{safe_key(chosen.name)}", SECTION_COMBINED, chosen.title, False, chosen.draw)
                for chosen, _ in choice.combined_table_choices(results, references)]
    return figures


def draw(spec: FigureSpec, path) -> bool:
    """Write one figure; a figure that cannot be drawn is logged and skipped, never fatal."""
    try:
        data = spec.draw()
    except Exception as err:  # noqa: BLE001 — one bad table must not lose the page (or, in ILAMB, the run)
        log.warning("soilbench: cannot draw %s: %s", spec.title, " ".join(str(err).split()))
        return False
    atomic.write_bytes(path, data)
    return True
