"""Scoreboard numbers: overall score per (model, confrontation), colours relative across models.

Following ILAMB (methods.md §7), a cell's colour is not its absolute score but how it compares
with the other models on the same confrontation: the z-score of the score across models, binned
into seven diverging classes. The absolute score is printed in the cell.

Unlike ILAMB, the standard deviation in the z-score is floored at :data:`STD_FLOOR` (0.02): when
models score almost the same (0.311 and 0.309), a plain z-score would still paint one deep red
and the other deep blue over a difference nobody can see in the printed numbers. With the floor,
a score within ±0.01 (= 0.5 × floor) of the column mean is always neutral, and a difference only
reaches the darkest classes when it is at least 0.03 from the mean.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from soilbench.errors import SoilbenchError

#: upper edges of the z-score bins; classes are z-3 … z+3 (z0 is "about average")
Z_EDGES = (-1.5, -1.0, -0.5, 0.5, 1.0, 1.5)
Z_CLASSES = ("z-3", "z-2", "z-1", "z0", "z+1", "z+2", "z+3")
Z_LABELS = ("≤ −1.5σ", "−1.5σ … −1σ", "−1σ … −0.5σ", "within ±0.5σ", "0.5σ … 1σ", "1σ … 1.5σ", "≥ 1.5σ")
#: smallest standard deviation used in z-scores (score units): differences below ±0.01 stay neutral
STD_FLOOR = 0.02


#: the documented scoreboard row of every task (``docs/architecture.md``), as the ILAMB ctypes
#: read it (``soilbench.ilamb.results.scalar_label``)
OVERALL_ANALYSIS, OVERALL_NAME = "overall", "overall score"


def overall_scores(scalars: pd.DataFrame) -> pd.DataFrame:
    """Models × confrontations matrix of the documented ``overall score`` row of each task.

    Only that row counts (``analysis == "overall"``, ``name == "overall score"``, a score, region
    ``global``): other rows of the ``overall`` analysis (partial scores such as ``global total
    score``) are never averaged in. Two such rows for one task break the contract and raise,
    rather than put an average nobody computed on the scoreboard.
    """
    names = scalars["name"].astype(str).str.strip().str.lower()
    rows = scalars[(scalars["analysis"] == OVERALL_ANALYSIS) & (names == OVERALL_NAME)
                   & (scalars["type"] == "score") & (scalars["region"] == "global")]
    if rows.empty:
        return pd.DataFrame(dtype=float)
    repeated = rows[rows.duplicated(["model", "confrontation"], keep=False)]
    if not repeated.empty:
        first = repeated.iloc[0]
        raise SoilbenchError(f"results of {first['confrontation']} / {first['model']}",
                             f"{int((repeated['model'] == first['model']).sum())} '{OVERALL_NAME}' rows; "
                             "a task has exactly one (docs/architecture.md)", OVERALL_NAME)
    # one value per cell now; pivot_table (not pivot) keeps the matrix's shape rules: a model or a
    # confrontation without any finite score is left out
    return rows.pivot_table(index="model", columns="confrontation", values="value", aggfunc="first")


def z_scores(matrix: pd.DataFrame, std_floor: float = STD_FLOOR) -> pd.DataFrame:
    """Per column: (score − mean over models) / max(std over models, ``std_floor``).

    The floor keeps differences too small to matter neutral (module docstring); 0 when all
    models agree or only one has a score; NaN where a score is missing.
    """
    mean = matrix.mean(axis=0)
    std = matrix.std(axis=0, ddof=0).fillna(0.0).clip(lower=std_floor)
    return ((matrix - mean) / std).fillna(0.0).where(matrix.notna())  # 0/0 (floor 0, equal scores): neutral


def z_class(z: float | None) -> str:
    """CSS class of a z-score (``"missing"`` when there is no score)."""
    if z is None or (isinstance(z, float) and math.isnan(z)):
        return "missing"
    return Z_CLASSES[int(np.searchsorted(Z_EDGES, z, side="right"))]


def weighted_overall(matrix: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Per model: mean of its overall scores weighted by confrontation weight, over what it has.

    A missing (failed) confrontation is left out and the weights renormalised, so the number
    stays a score in 0–1; the scoreboard shows the failure separately.
    """
    w = pd.Series({c: float(weights.get(c, 1.0)) for c in matrix.columns}, dtype=float)
    present = matrix.notna()
    total = (matrix.fillna(0.0) * w).sum(axis=1)
    norm = (present * w).sum(axis=1)
    return (total / norm.replace(0.0, np.nan)).astype(float)
