"""Score changes between two saved runs: one page and one CSV, per model and confrontation."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from soilbench.report.collect import Run, load_run
from soilbench.report.scoreboard import overall_scores
from soilbench.report.site import Site

#: changes smaller than this are "unchanged": scores are printed with three digits
THRESHOLD = 0.005


def _long(run: Run) -> pd.DataFrame:
    """Overall score per (model, confrontation), with failed tasks kept as status rows."""
    matrix = overall_scores(run.scalars)
    frame = matrix.stack().rename("score").reset_index() if not matrix.empty else pd.DataFrame(
        columns=["model", "confrontation", "score"])
    failed = pd.DataFrame(run.failures(), columns=["confrontation", "model", "error"])
    frame = frame.merge(failed, on=["model", "confrontation"], how="outer")
    groups = {name: conf.group for name, conf in run.confrontations.items()}
    frame["group"] = frame["confrontation"].map(groups).fillna("")
    return frame


def score_changes(old: Run, new: Run, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Table ``model, group, confrontation, old, new, change, verdict`` (verdict: improved/worse/…)."""
    a, b = _long(old), _long(new)
    merged = a.merge(b, on=["model", "confrontation"], how="outer", suffixes=("_old", "_new"))
    merged["group"] = merged["group_new"].fillna(merged["group_old"]).fillna("")
    merged = merged.rename(columns={"score_old": "old", "score_new": "new"})
    merged["old"] = pd.to_numeric(merged["old"], errors="coerce")
    merged["new"] = pd.to_numeric(merged["new"], errors="coerce")
    merged["change"] = merged["new"] - merged["old"]

    def verdict(row: pd.Series) -> str:
        if pd.notna(row["change"]):
            return "improved" if row["change"] > threshold else "worse" if row["change"] < -threshold else "unchanged"
        if isinstance(row.get("error_new"), str) and row["error_new"]:
            return "failed in new run"
        if isinstance(row.get("error_old"), str) and row["error_old"]:
            return "failed in old run"
        return "only in new run" if pd.notna(row["new"]) else "only in old run"

    merged["verdict"] = merged.apply(verdict, axis=1) if len(merged) else pd.Series(dtype=str)
    columns = ["model", "group", "confrontation", "old", "new", "change", "verdict"]
    return merged[columns].sort_values(["model", "group", "confrontation"], kind="stable").reset_index(drop=True)


def compare_runs(old_dir: str | Path, new_dir: str | Path, out_dir: str | Path, progress: bool = True,
                 threshold: float = THRESHOLD) -> Path:
    """Write ``compare.html`` and ``compare.csv`` into ``out_dir``; return the page's path."""
    with tqdm(total=3, desc="compare", file=sys.stderr, disable=not progress, leave=False) as bar:
        old = load_run(old_dir)
        bar.update()
        new = load_run(new_dir)
        bar.update()
        table = score_changes(old, new, threshold)
        site = Site(out_dir)
        site.copy_static()
        site.write_csv("compare.csv", table)
        counts = {
            "improved": int((table["verdict"] == "improved").sum()),
            "worse": int((table["verdict"] == "worse").sum()),
            "unchanged": int((table["verdict"] == "unchanged").sum()),
        }
        counts["other"] = len(table) - sum(counts.values())
        rows = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                for r in table.to_dict("records")]
        page = site.render("compare.html", "compare.html", title="Score changes", rows=rows, counts=counts,
                           threshold=threshold, old_label=str(old.directory), new_label=str(new.directory),
                           nav=[], synthetic=old.synthetic or new.synthetic,
                           created=str(new.info.get("created", "") or ""))
        bar.update()
    return page
