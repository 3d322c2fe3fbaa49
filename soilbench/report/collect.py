"""Read a saved run (the ``OUT/`` layout) into memory for the report; never recomputes anything.

Everything the pages show comes from here: ``run.json`` (provenance, weights, synthetic flag),
the tidy scalars, the status of every task, each task's saved fields and tables, and the
cross-model summaries under ``OUT/_summary/``.

When ``run.json`` records the run's task set (``results``), exactly those task directories are
read: directories that earlier runs into the same ``OUT/`` left behind (models or confrontations
since dropped) stay on disk for reuse but are not part of this run's report.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from soilbench.errors import SoilbenchError
from soilbench.results import (
    NOT_APPLICABLE, OK, REFERENCES_SLUG, SCALAR_COLUMNS, ConfrontationResult, Flag, load_result, saved_flags,
)

log = logging.getLogger(__name__)

GROUP_ORDER = ("Rh", "SR", "τ", "Soil C")


@dataclass
class Task:
    """One saved (confrontation, model) task: its meta.json, its scalars when it succeeded, and
    its whole result (fields, tables) read from disk when asked for (:attr:`result`).

    The report reads each result when a page needs it and lets it go afterwards
    (:meth:`release`), so that its memory does not grow with the number of models.
    """

    meta: dict[str, Any]
    scalars: pd.DataFrame | None
    directory: Path
    _result: ConfrontationResult | None = field(default=None, repr=False)
    _unreadable: bool = field(default=False, repr=False)

    @property
    def model(self) -> str:
        return str(self.meta.get("model", self.directory.name))

    @property
    def result(self) -> ConfrontationResult | None:
        """The saved result (read now unless already read); None for a task without one, or
        whose files cannot be read (logged, then left off the pages like a failed figure)."""
        if self._result is None and self.meta.get("status") == "ok" and self.scalars is not None \
                and not self._unreadable:
            try:
                _, self._result = load_result(self.directory)
            except (OSError, ValueError, KeyError) as err:
                log.warning("%s: cannot read saved result (%s); skipped", self.directory, " ".join(str(err).split()))
                self._unreadable = True
        return self._result

    def release(self) -> None:
        """Forget the result read from disk (read again if asked for)."""
        self._result = None

    @property
    def ok(self) -> bool:
        return self.meta.get("status") == "ok" and self.scalars is not None and not self._unreadable

    @property
    def not_applicable(self) -> bool:
        """The model lacks what the confrontation compares: no score, and not a failure."""
        return self.meta.get("status") == NOT_APPLICABLE

    @property
    def failed(self) -> bool:
        return not self.ok and not self.not_applicable

    @property
    def error(self) -> str:
        return " ".join(str(self.meta.get("error") or "").split())

    @property
    def reason(self) -> str:
        """Why the task is not applicable (empty otherwise)."""
        return " ".join(str(self.meta.get("reason") or "").split())

    @property
    def flags(self) -> list[Flag]:
        """Plausibility and completeness warnings saved with the task (``meta.json["flags"]``)."""
        return saved_flags(self.meta)

    @property
    def period(self) -> dict[str, Any]:
        """The saved period choice (``meta.json["period"]``: model, references, requested, compared,
        fallback); empty when the task saved none (older results, failures)."""
        period = self.meta.get("period")
        return period if isinstance(period, dict) else {}

    def period_facts(self) -> list[tuple[str, str]]:
        """The period choice as (label, text) pairs for a page, from meta.json only."""
        period = self.period
        if not period:
            return []
        facts = [("model period", years_text(period.get("model"))),
                 ("compared period", years_text(period.get("compared")))]
        if period.get("requested"):
            facts.append(("requested period", years_text(period.get("requested"))))
        references = period.get("references")
        if isinstance(references, dict) and references:
            facts.append(("reference periods", "; ".join(f"{ref} {years_text(years)}"
                                                         for ref, years in references.items())))
        if period.get("fallback"):
            facts.append(("fallback", " ".join(str(period["fallback"]).split())))
        return facts


def years_text(years: Any) -> str:
    """``[2001, 2010]`` → "2001–2010" (one year: "2001"); "static" for a reference without years."""
    if isinstance(years, (list, tuple)) and len(years) == 2:
        try:
            first, last = int(years[0]), int(years[1])
        except (TypeError, ValueError):
            return "unknown"
        return str(first) if first == last else f"{first}–{last}"
    return "static" if years is None else "unknown"


@dataclass
class Confrontation:
    """All tasks of one confrontation: per model, plus references against each other."""

    name: str
    kind: str = ""
    group: str = ""
    weight: float = 1.0
    references: list[str] = field(default_factory=list)
    tasks: dict[str, Task] = field(default_factory=dict)  # model name → task
    reference_task: Task | None = None


@dataclass
class Run:
    """A whole saved run."""

    directory: Path
    info: dict[str, Any]
    scalars: pd.DataFrame
    confrontations: dict[str, Confrontation]
    #: per confrontation: cross-model summary tables by file stem (``regional_spread``)
    summaries: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        """Model names in run.json order, then any others found on disk."""
        names: list[str] = []
        for item in self.info.get("models", []) or []:
            name = item.get("name") if isinstance(item, dict) else item
            if name is not None and str(name) not in names:
                names.append(str(name))
        for conf in self.confrontations.values():
            for name in conf.tasks:
                if name not in names:
                    names.append(name)
        return names

    @property
    def synthetic(self) -> bool:
        """Labelled synthetic in run.json, or (run.json missing) in any task's meta.json."""
        if "synthetic" in self.info:
            return bool(self.info["synthetic"])
        return any(task.meta.get("synthetic") for conf in self.confrontations.values() for task in conf.tasks.values())

    def failures(self) -> list[tuple[str, str, str]]:
        """``(confrontation, model, one-line error)`` of every failed task."""
        return [(conf.name, task.model, task.error)
                for conf in self.confrontations.values() for task in conf.tasks.values() if task.failed]

    def not_applicable(self) -> list[tuple[str, str, str]]:
        """``(confrontation, model, reason)`` of every task that did not apply to its model."""
        return [(conf.name, task.model, task.reason)
                for conf in self.confrontations.values() for task in conf.tasks.values() if task.not_applicable]


def _configured(info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Confrontation definitions from run.json's configuration, by name (any of the usual shapes)."""
    config = info.get("config") or {}
    items = config.get("confrontations") if isinstance(config, dict) else None
    items = items if items is not None else info.get("confrontations", [])
    if isinstance(items, dict):
        return {str(k): dict(v or {}) for k, v in items.items()}
    return {str(item["name"]): dict(item) for item in items or [] if isinstance(item, dict) and "name" in item}


def _read_task(directory: Path) -> Task | None:
    """A task's meta.json and scalars; its fields and tables are read when a page needs them."""
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        scalars = None
        if meta.get("status") == OK:
            scalars = pd.read_csv(directory / "scalars.csv", keep_default_na=False, na_values=[""])
    except (OSError, ValueError, json.JSONDecodeError, AttributeError) as err:
        # a half-written or damaged task must not take the whole report down
        log.warning("%s: cannot read saved result (%s); skipped", directory, " ".join(str(err).split()))
        return None
    return Task(meta, scalars, directory)


def load_run(results_dir: str | Path) -> Run:
    """Read every complete task (those with ``meta.json``) of a results directory."""
    root = Path(results_dir)
    if not root.is_dir():
        raise SoilbenchError(root, "results directory does not exist")
    run_json = root / "run.json"
    info: dict[str, Any] = {}
    if run_json.exists():
        try:
            info = json.loads(run_json.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise SoilbenchError(run_json, f"not valid JSON ({err.msg} at line {err.lineno})") from err
    configured = _configured(info)
    confrontations: dict[str, Confrontation] = {}
    for conf_dir, task_dirs in _task_dirs(root, info).items():
        spec = configured.get(conf_dir.name, {})
        conf = Confrontation(conf_dir.name, references=list(spec.get("references", [])))
        for task_dir in task_dirs:
            task = _read_task(task_dir)
            if task is None:
                continue
            if task_dir.name == REFERENCES_SLUG:
                conf.reference_task = task
            else:
                conf.tasks[task.model] = task
            conf.kind = conf.kind or str(task.meta.get("kind", ""))
            conf.group = conf.group or str(task.meta.get("group", ""))
            if "weight" in task.meta and "weight" not in spec:
                spec = {**spec, "weight": task.meta["weight"]}
            if not conf.references and isinstance(task.meta.get("references"), list):
                conf.references = [str(r) for r in task.meta["references"]]
        conf.kind = conf.kind or str(spec.get("type", spec.get("kind", "")))
        conf.weight = _weight(spec.get("weight", 1.0))
        confrontations[conf.name] = conf
    return Run(root, info, _scalars(root, confrontations), _ordered(confrontations),
               _summaries(root, info, set(confrontations)))


def _inside(root: Path, relative: Any) -> Path | None:
    """``root / relative`` when it stays inside ``root`` (run.json is data, not trusted paths)."""
    if not isinstance(relative, str) or not relative:
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) else None


def _task_dirs(root: Path, info: dict[str, Any]) -> dict[Path, list[Path]]:
    """Complete task directories per confrontation directory: run.json's ``results`` when recorded
    (exactly this run's tasks), else every one found (results written by other tools)."""
    recorded = info.get("results")
    found: dict[Path, list[Path]] = {}
    if isinstance(recorded, list):
        for item in recorded:
            directory = _inside(root, item.get("directory") if isinstance(item, dict) else None)
            if directory is not None and (directory / "meta.json").is_file() and directory.parent != root.resolve():
                found.setdefault(directory.parent, []).append(directory)
        return {conf: sorted(set(dirs)) for conf, dirs in sorted(found.items())}
    for conf_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        task_dirs = sorted(p for p in conf_dir.iterdir() if (p / "meta.json").is_file())
        if task_dirs:  # else not a confrontation directory (e.g. a previous report)
            found[conf_dir] = task_dirs
    return found


def _summaries(root: Path, info: dict[str, Any], names: set[str]) -> dict[str, dict[str, pd.DataFrame]]:
    """Cross-model summary CSVs (``_summary/<confrontation>/<name>.csv``) of this run's confrontations:
    those run.json lists when it lists them, else every one on disk."""
    base = (root / "_summary").resolve()
    listed = info.get("summaries")
    if isinstance(listed, list):
        paths = [p for p in (_inside(root, item) for item in listed) if p is not None and p.is_relative_to(base)]
    else:
        paths = sorted(base.glob("*/*.csv")) if base.is_dir() else []
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for path in paths:
        if path.parent.parent != base or path.parent.name not in names or not path.is_file():
            continue
        try:
            out.setdefault(path.parent.name, {})[path.stem] = pd.read_csv(path, keep_default_na=False, na_values=[""])
        except (OSError, ValueError) as err:
            log.warning("%s: cannot read summary (%s); skipped", path, " ".join(str(err).split()))
    return out


def _weight(value: Any) -> float:
    try:
        weight = float(value)
    except (TypeError, ValueError):
        return 1.0
    return weight if weight >= 0 else 1.0


def _ordered(confrontations: dict[str, Confrontation]) -> dict[str, Confrontation]:
    """Group order Rh, SR, τ, Soil C (others after), then by name: the scoreboard's column order."""
    def key(conf: Confrontation) -> tuple[int, str, str]:
        rank = GROUP_ORDER.index(conf.group) if conf.group in GROUP_ORDER else len(GROUP_ORDER)
        return rank, conf.group, conf.name
    return {c.name: c for c in sorted(confrontations.values(), key=key)}


def _scalars(root: Path, confrontations: dict[str, Confrontation]) -> pd.DataFrame:
    """The run's tidy scalars: per-task files (the truth the runner concatenates), else scalars.csv."""
    frames = [task.scalars for conf in confrontations.values() for task in conf.tasks.values() if task.ok]
    if frames:
        scalars = pd.concat(frames, ignore_index=True)
    elif (root / "scalars.csv").exists():
        scalars = pd.read_csv(root / "scalars.csv", keep_default_na=False, na_values=[""])
    else:
        scalars = pd.DataFrame(columns=SCALAR_COLUMNS)
    for column in SCALAR_COLUMNS:
        if column not in scalars:
            scalars[column] = pd.NA
    scalars = scalars[SCALAR_COLUMNS].copy()
    scalars["model"] = scalars["model"].astype(str)
    scalars["value"] = pd.to_numeric(scalars["value"], errors="coerce")
    return scalars
