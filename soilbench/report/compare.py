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
from soilbench.results import ERROR, NOT_APPLICABLE, OK

#: changes smaller than this are "unchanged": scores are printed with three digits
THRESHOLD = 0.005


#: a task's state in one run, beside its score: ``ok``, ``error``, ``not_applicable``, or absent
ABSENT = "absent"


def _long(run: Run) -> pd.DataFrame:
    """Overall score per (model, confrontation), with tasks without a score kept as status rows.

    Columns ``model, confrontation, score, status, note, group``; ``note`` is a failure's error
    or why a task is not applicable (the model lacks what it compares: no score, not a failure).
    """
    matrix = overall_scores(run.scalars)
    frame = matrix.stack().rename("score").reset_index() if not matrix.empty else pd.DataFrame(
        columns=["model", "confrontation", "score"])
    frame["status"], frame["note"] = OK, ""
    unscored = pd.DataFrame(
        [(c, m, ERROR, e) for c, m, e in run.failures()] + [(c, m, NOT_APPLICABLE, r) for c, m, r in run.not_applicable()],
        columns=["confrontation", "model", "status", "note"])
    frame = pd.concat([frame[~_keys(frame).isin(_keys(unscored))], unscored], ignore_index=True)
    groups = {name: conf.group for name, conf in run.confrontations.items()}
    frame["group"] = frame["confrontation"].map(groups).fillna("")
    return frame


def _keys(frame: pd.DataFrame) -> pd.Series:
    return frame["model"].astype(str) + "\0" + frame["confrontation"].astype(str)


def _verdict(row: pd.Series, threshold: float) -> str:
    """improved/worse/unchanged when both runs scored the task; else what the runs say about it.

    A failure in the new run outranks everything (it needs fixing); "n/a" (not applicable) is
    kept apart from failures because there is nothing to fix: the model lacks the quantity.
    """
    if pd.notna(row["change"]):
        return "improved" if row["change"] > threshold else "worse" if row["change"] < -threshold else "unchanged"
    old, new = row["old_status"], row["new_status"]
    if new == ERROR:
        return "failed in new run"
    if new == NOT_APPLICABLE:
        return "n/a" if old == NOT_APPLICABLE else "n/a in new run"
    if old == ERROR:
        return "failed in old run"
    if old == NOT_APPLICABLE:
        return "n/a in old run"
    return "only in new run" if pd.notna(row["new"]) else "only in old run"


def score_changes(old: Run, new: Run, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Table ``model, group, confrontation, old, new, change, verdict`` and, per run,
    ``old_status, old_note, new_status, new_note``.

    ``verdict``: improved/worse/unchanged, failed in new/old run, n/a (in new/old run), only in
    new/old run. ``*_status``: ok, error, not_applicable or absent; ``*_note``: that run's error,
    or why the task is not applicable.
    """
    a, b = _long(old), _long(new)
    merged = a.merge(b, on=["model", "confrontation"], how="outer", suffixes=("_old", "_new"))
    merged["group"] = merged["group_new"].fillna(merged["group_old"]).fillna("")
    merged = merged.rename(columns={"score_old": "old", "score_new": "new",
                                    "status_old": "old_status", "status_new": "new_status"})
    merged["old"] = pd.to_numeric(merged["old"], errors="coerce")
    merged["new"] = pd.to_numeric(merged["new"], errors="coerce")
    merged["change"] = merged["new"] - merged["old"]
    for column in ("old_status", "new_status"):
        merged[column] = merged[column].fillna(ABSENT)
    for side in ("old", "new"):
        merged[f"{side}_note"] = merged[f"note_{side}"].fillna("")
    merged["verdict"] = merged.apply(_verdict, axis=1, threshold=threshold) if len(merged) else pd.Series(dtype=str)
    columns = ["model", "group", "confrontation", "old", "new", "change", "verdict",
               "old_status", "old_note", "new_status", "new_note"]
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
        counts["not_applicable"] = int(table["verdict"].str.startswith("n/a").sum())
        counts["other"] = len(table) - sum(counts.values())
        rows = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
                for r in table.to_dict("records")]
        page = site.render("compare.html", "compare.html", title="Score changes", rows=rows, counts=counts,
                           threshold=threshold, old_label=str(old.directory), new_label=str(new.directory),
                           nav=[], synthetic=old.synthetic or new.synthetic,
                           created=str(new.info.get("created", "") or ""))
        bar.update()
    return page
