"""soilbench's tidy scalars in the netCDF layout ILAMB 2.x reads.

ILAMB's scoreboard (``Scoreboard.CompositeScores``) takes each dataset's score from the variable
``MeanState/scalars/"Overall Score global"`` of ``<output_path>/<confrontation>_<model>.nc``; the
dataset page (``Confrontation.generateHtml``) tabulates every variable of that group, splitting
the region off the end of the name (``"<scalar> <region>"``); ``HarvestScalarDatabase`` treats a
name containing ``Score`` as a score and skips files whose ``complete`` attribute is not 1.
This module maps each soilbench scalar row to one such variable and writes the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd

from soilbench import atomic

SECTION = "MeanState"
OVERALL = "Overall Score"
#: characters that break ILAMB's HTML/CSV/pandas-query handling of scalar names, or netCDF names
_UNSAFE = re.compile(r"[/,'\"\\]+")


def _clean(text: object) -> str:
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return " ".join(_UNSAFE.sub(" ", text).split())


def scalar_label(row: pd.Series) -> str:
    """ILAMB scalar name (without region) of one soilbench scalar row.

    The scoreboard row (``analysis="overall"``, ``name="overall score"``; ``docs/architecture.md``)
    becomes ILAMB's ``Overall Score``. Other rows keep their
    name, qualified by analysis and reference so that names stay unique within a region. ILAMB
    recognises scores by the substring ``Score``: score rows always contain it, scalar rows never.
    """
    if str(row["analysis"]) == "overall" and str(row["name"]).strip().lower() == "overall score":
        return OVERALL
    name = _clean(row["name"])
    name = name[:1].upper() + name[1:]
    if str(row["type"]) == "score":
        name = re.sub(r"\bscore\b", "Score", name, flags=re.IGNORECASE)
        if "Score" not in name:
            name += " Score"
    else:
        name = name.replace("Score", "score")
    qualifiers = [q for q in (_clean(row["analysis"]), _clean(row["reference"])) if q]
    return f"{name} ({'; '.join(qualifiers)})" if qualifiers else name


def region_token(region: object) -> str:
    """Region names must be one token: ILAMB takes the last word of a scalar name as the region."""
    token = re.sub(r"\s+", "_", _clean(region))
    return token or "global"


def ilamb_scalars(scalars: pd.DataFrame) -> dict[str, tuple[float, str]]:
    """``{"<label> <region>": (value, units)}`` for every soilbench scalar row.

    Rows that share a label and region (the references' table lists every literature estimate
    under one reference id) are numbered ``(…; 2 of 7)`` so that none is lost. Two overall scores
    for one region are an error: ILAMB's scoreboard can show only one.
    """
    keyed = [(scalar_label(row), region_token(row["region"]), row) for _, row in scalars.iterrows()]
    counts: dict[tuple[str, str], int] = {}
    for label, region, _ in keyed:
        counts[(label, region)] = counts.get((label, region), 0) + 1
    out: dict[str, tuple[float, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for label, region, row in keyed:
        total = counts[(label, region)]
        if total > 1:
            if label == OVERALL:
                raise ValueError(f"{total} soilbench overall scores for region {region!r}")
            seen[(label, region)] = seen.get((label, region), 0) + 1
            number = f"{seen[(label, region)]} of {total}"
            label = f"{label[:-1]}; {number})" if label.endswith(")") else f"{label} ({number})"
        out[f"{label} {region}"] = (float(row["value"]), _clean(row["units"]) or "1")
    return out


def write_results(path: str | Path, name: str, color, weight: float, scalars: pd.DataFrame) -> Path:
    """Write ``scalars`` as an ILAMB result file for model (or ``"Benchmark"``) ``name``.

    The file is written under a temporary name and renamed (:mod:`soilbench.atomic`), with
    ``complete = 1`` set last, so ``ilamb-run`` never caches a half-written result.
    """
    path = Path(path)
    values = ilamb_scalars(scalars)
    with atomic.atomic_path(path) as tmp, netCDF4.Dataset(tmp, mode="w") as dset:
        dset.setncatts({"name": name, "color": np.asarray(color, dtype=float), "weight": float(weight),
                        "complete": 0, "soilbench": 1})
        group = dset.createGroup(SECTION).createGroup("scalars")
        for key, (value, units) in values.items():
            variable = group.createVariable(key, "f8", ())
            variable.setncattr("units", units)
            variable[...] = value
        dset.setncattr("complete", 1)
    return path


def read_scalars(path: str | Path) -> dict[str, float]:
    """Every scalar of an ILAMB result file's ``MeanState/scalars`` group (NaN where masked)."""
    with netCDF4.Dataset(path) as dset:
        group = dset.groups[SECTION].groups["scalars"]
        return {key: float(np.ma.filled(np.ma.asarray(var[...], dtype=float), np.nan))
                for key, var in group.variables.items()}


def read_attrs(path: str | Path) -> dict[str, object]:
    """Global attributes of an ILAMB result file (``name``, ``color``, ``weight``, ``complete``)."""
    with netCDF4.Dataset(path) as dset:
        return {key: dset.getncattr(key) for key in dset.ncattrs()}
