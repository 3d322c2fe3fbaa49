"""Figures of the cross-model summaries under ``OUT/_summary/`` (drawn from the saved CSV only)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from soilbench.report.plots import REFERENCE_COLOR, _png, model_color

#: the spread table's columns the figure draws, with their legend labels
SPREAD_BARS = (("cv_models", "across models"), ("cv_products", "across products"))


def spread_figure(table: pd.DataFrame, title: str) -> bytes:
    """Grouped bars per region: coefficient of variation across models and across products (%).

    ``table`` is ``regional_spread.csv`` as saved (:func:`soilbench.analysis.spread.spread_table`);
    a missing CV (fewer than two models or products in a region) is simply not drawn.
    """
    regions = table["region"].astype(str).tolist()
    if not regions:
        raise ValueError("the spread table has no regions")
    x = np.arange(len(regions))
    width = 0.38
    fig = Figure(figsize=(max(6.0, 0.75 * len(regions) + 2.0), 3.8))
    ax = fig.add_subplot()
    colors = (model_color(0), REFERENCE_COLOR)
    for i, ((column, label), color) in enumerate(zip(SPREAD_BARS, colors)):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(float) * 100.0
        if not np.isfinite(values).any():
            label += " (fewer than two: none)"  # say why the bars are missing rather than draw zeros
        ax.bar(x + (i - 0.5) * width, np.where(np.isfinite(values), values, 0.0), width, label=label, color=color,
               alpha=0.85 if i == 0 else 0.55)
    ax.set_xticks(x, regions, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("coefficient of variation (%)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.18)  # room for the legend above the bars
    ax.legend(fontsize=8, frameon=False, loc="upper center", ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)
