"""ILAMB 2.x confrontation types that run soilbench's confrontations.

An ILAMB cfg leaf chooses one with ``ctype`` and describes the soilbench confrontation with
``soilbench_*`` keys (ILAMB passes every cfg key to the constructor)::

    [CARDAMOM]
    ctype                    = "ConfSoilbenchRh"
    source                   = "DATA/soilbench/rh/CARDAMOM/rh.nc"   # shown on ILAMB's data page
    soilbench_kind           = "taylor"                             # a soilbench confrontation type
    soilbench_references     = "cardamom-rh"                        # registry/catalog ids, comma separated
    soilbench_option_period  = "2001, 2010"                         # one key per option (YAML values;
                                                                    #   commas make a list)
    soilbench_data_dir       = "DATA/soilbench/files"               # optional, relative to ILAMB_ROOT

ILAMB's lifecycle maps onto soilbench's as follows:

``confront(m)``
    loads the model through :func:`soilbench.load.load_model` (the files of ILAMB's model result
    that hold the quantities the confrontation needs), runs the soilbench confrontation, saves
    the soilbench result under ``<output_path>/_soilbench/`` and writes its scalars, including
    soilbench's overall score as ``Overall Score global``, to ``<name>_<model>.nc``.
``computeOverallScore(m)``
    does nothing: ILAMB would re-blend every ``… Score`` scalar with its own weights and
    overwrite soilbench's overall score. Writing the score in ``confront`` also keeps it out of
    ILAMB's plotting try-block, where a failed plot would lose it.
``determinePlotLimits`` / ``modelPlots`` / ``compositePlots``
    lay out and draw soilbench's figures (:mod:`soilbench.ilamb.figures`).
"""

from __future__ import annotations

import glob
import logging
import os
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import yaml
from ILAMB.Confrontation import Confrontation
from matplotlib.colors import to_hex

from soilbench.confrontations.base import confrontation_class
from soilbench.errors import ConfigError
from soilbench.ilamb import figures as figs
from soilbench.ilamb.naturalearth import use_offline_natural_earth
from soilbench.ilamb.results import read_attrs, read_scalars, write_results
from soilbench.results import REFERENCES_SLUG, ConfrontationResult, load_result, model_slug, save_not_applicable

log = logging.getLogger(__name__)

RESULTS_DIR = "_soilbench"
BENCHMARK = "Benchmark"
OPTION_PREFIX = "soilbench_option_"


def parse_option(text: str) -> Any:
    """One cfg option value: a YAML scalar, or a list of them when the text has commas.

    ILAMB's cfg reader treats any line containing ``[…]`` as a new section and strips double
    quotes, so YAML flow lists cannot be written there: ``"2001, 2010"`` is the list instead,
    and a trailing comma makes a one-element list (``"koppen,"``).
    """
    text = str(text).strip()
    if "," in text:
        return [yaml.safe_load(part.strip()) for part in text.split(",") if part.strip()]
    return yaml.safe_load(text)


def soilbench_settings(keywords: dict[str, Any]) -> dict[str, Any]:
    """kind, references, options and data_dir of a cfg leaf's ``soilbench_*`` keys."""
    references = [r.strip() for r in str(keywords.get("soilbench_references") or "").split(",") if r.strip()]
    options = {key[len(OPTION_PREFIX):]: parse_option(value) for key, value in keywords.items()
               if key.startswith(OPTION_PREFIX)}
    data_dir = keywords.get("soilbench_data_dir")
    if data_dir:
        data_dir = Path(os.environ.get("ILAMB_ROOT", "."), str(data_dir))
    return {"kind": keywords.get("soilbench_kind"), "references": references, "options": options,
            "data_dir": data_dir}


def model_files(model) -> list[str]:
    """Files of an ILAMB ModelResult holding any soilbench quantity, cell areas or land fractions.

    Using ILAMB's file index keeps its ``--filter``/``--regex`` choices, and skipping unrelated
    variables keeps a CMIP-style directory of hundreds of files cheap. Every quantity counts, not
    only the confrontation's own: some use more when present (turnover's 2-box part: npp, cveg),
    and a native ``soilbench run`` on the same directory would see them too.
    """
    from soilbench.load.aliases import alias_table, quantity_names, recipes_for

    wanted = {str(n).lower() for kind in ("cell_area", "land_fraction") for n in alias_table().get(kind, [])}
    for quantity in quantity_names():
        wanted |= {name.lower() for recipe in recipes_for(quantity) for name in recipe.variables}
    variables = model.variables or {}
    files = sorted({path for name, paths in variables.items() if name.lower() in wanted for path in paths})
    if not files:
        found = ", ".join(sorted(variables)[:20]) or "none"
        raise ConfigError(model.path, f"no file with a quantity soilbench knows (variables found: {found})")
    return files


def _hex(color) -> str:
    try:
        return to_hex(np.asarray(color, dtype=float)[:3])
    except (TypeError, ValueError):
        return "#1b6ca8"


class SoilbenchConfrontation(Confrontation):
    """Base of the soilbench ctypes: one soilbench confrontation inside ILAMB's lifecycle."""

    #: soilbench confrontation types this ctype accepts; the first is the default
    kinds: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **keywords: Any):
        super().__init__(**keywords)
        # ILAMB draws its map backgrounds (and soilbench its coastlines) from Natural Earth;
        # provide them before any plot so an offline run keeps its scores (see naturalearth.py).
        use_offline_natural_earth()
        settings = soilbench_settings(keywords)
        kind = settings["kind"] or self.kinds[0]
        where = f"ILAMB cfg [{self.longname}]"
        if kind not in self.kinds:
            raise ConfigError(where, f"{type(self).__name__} runs soilbench types {list(self.kinds)}, "
                                     f"not {kind!r}", "soilbench_kind")
        if not settings["references"]:
            raise ConfigError(where, "names no references", "soilbench_references")
        name = str(keywords.get("soilbench_name") or re.sub(r"[^a-z0-9]+", "-", self.longname.lower()).strip("-"))
        self.soilbench = confrontation_class(kind, where)(
            name=name, references=settings["references"], options=settings["options"],
            data_dir=settings["data_dir"], source=where)
        self.soilbench_kind = kind
        self.figures: list[figs.FigureSpec] = []
        self._results: list[figs.ModelResult] = []  # every model's saved result, read by determinePlotLimits
        page = self._mean_state_page()
        page.setSections(list(figs.SECTIONS))

    # -- helpers ------------------------------------------------------------------------------
    def _mean_state_page(self):
        return next(page for page in self.layout.pages if page.name == "MeanState")

    def result_dir(self, model_name: str) -> Path:
        slug = REFERENCES_SLUG if model_name == BENCHMARK else model_slug(model_name)
        return Path(self.output_path, RESULTS_DIR, slug)

    def result_file(self, model_name: str) -> Path:
        return Path(self.output_path, f"{self.name}_{model_name}.nc")

    def _meta(self, model_name: str) -> dict[str, Any]:
        return {"model": model_name, "confrontation": self.soilbench.name, "kind": self.soilbench_kind,
                "group": self.soilbench.group, "ilamb": self.longname}

    def _save(self, model_name: str, result: ConfrontationResult, color, weight: float) -> None:
        """Save the soilbench result, then the ILAMB result file (the one ILAMB caches on)."""
        if result.fields is not None:
            # ILAMB's HarvestScalarDatabase opens every *.nc below the build directory and skips
            # only files whose `complete` attribute is not 1; this one is soilbench's, not ILAMB's.
            result.fields.attrs["complete"] = 0
        result.save(self.result_dir(model_name), self._meta(model_name))
        write_results(self.result_file(model_name), model_name, color, weight, result.scalars)

    def saved_results(self) -> list[figs.ModelResult]:
        """Every model's saved soilbench result in this confrontation's output, by model name."""
        items = []
        for path in sorted(glob.glob(os.path.join(self.output_path, RESULTS_DIR, "*", "meta.json"))):
            meta, result = load_result(Path(path).parent)
            if result is None or meta.get("model") == BENCHMARK:
                continue
            color = "#1b6ca8"
            nc = self.result_file(str(meta["model"]))
            if nc.exists():
                color = _hex(read_attrs(nc).get("color"))
            items.append(figs.ModelResult(str(meta["model"]), color, result, meta))
        return sorted(items, key=lambda item: item.model.lower())

    def _references_result(self) -> ConfrontationResult | None:
        directory = self.result_dir(BENCHMARK)
        if not (directory / "meta.json").exists():
            return None
        return load_result(directory)[1]

    # -- ILAMB lifecycle ----------------------------------------------------------------------
    def confront(self, m) -> None:
        from soilbench.confrontations.base import NUMPY_ERRORS

        with np.errstate(**NUMPY_ERRORS):  # ILAMB's modules set over/under to "raise" globally
            self._confront(m)

    def _confront(self, m) -> None:
        from soilbench.load import load_model
        from soilbench.runner.tasks import available_quantities

        self.soilbench.stage_data()
        model = load_model(model_files(m), name=m.name)
        reason = self.soilbench.applicable_to(model, set(available_quantities(model)))
        if reason:
            self._not_applicable(m.name, " ".join(str(reason).split()))
        else:
            self._save(m.name, self.soilbench.confront(model), m.color, self.cweight)
            log.info("[%s][%s] soilbench %s: success", self.longname, m.name, self.soilbench_kind)
        if self.master and not self.result_file(BENCHMARK).exists():
            references = self.soilbench.confront_references()
            if references is not None:
                self._save(BENCHMARK, references, (0.5, 0.5, 0.5), self.cweight)

    def _not_applicable(self, model_name: str, reason: str) -> None:
        """A model without what the confrontation compares: recorded, not a failure.

        ILAMB 2.x raises ``VarNotInModel`` from ``confront`` for a model lacking a variable, and
        ``ilamb-run`` prints it in red as an error. soilbench says "not applicable" instead, as
        a native run does: the soilbench result directory records the reason (``status:
        not_applicable``), ILAMB gets no result file, so its scoreboard leaves the cell empty and
        the ``h2`` row averages the datasets the model has; the run reports no error.
        """
        save_not_applicable(self.result_dir(model_name), self._meta(model_name), reason)
        message = f"not applicable: {reason}"
        log.warning("[%s][%s] soilbench %s: %s", self.longname, model_name, self.soilbench_kind, message)
        print(f"    {self.longname:>45} {model_name:<20} {message}", flush=True)

    def computeOverallScore(self, m) -> None:  # noqa: N802 — ILAMB's method name
        """Keep soilbench's overall score (written by :meth:`confront`); see the module docstring."""

    def determinePlotLimits(self) -> None:  # noqa: N802
        """Shared map limits across models, and the page layout (on every rank, before plotting).

        ``ilamb-run`` calls this after every model's ``confront``, so the saved results read here
        are all there are: :meth:`modelPlots` and :meth:`compositePlots` draw from them instead
        of reading every model's results again.
        """
        results = self._results = self.saved_results()
        self.limits = figs.map_limits(results)
        page = self._mean_state_page()
        self.figures = []
        seen: set[str] = set()
        candidates = figs.combined_figures(results, self._references_result())
        for item in results:
            candidates += figs.model_figures(item, self.limits)
        for spec in candidates:
            if spec.key in seen:
                continue
            seen.add(spec.key)
            self.figures.append(spec)
            page.addFigure(spec.section, spec.key, spec.pattern, side=spec.title.upper(), legend=False)

    def modelPlots(self, m) -> None:  # noqa: N802
        """This model's soilbench figures (maps, sites, scatter, seasonal cycles)."""
        item = next((i for i in self._results if i.model == m.name), None)
        if item is None:
            return
        for spec in figs.model_figures(item, self.limits or {}):
            figs.draw(spec, os.path.join(self.output_path, spec.file_name(m.name)))

    def compositePlots(self) -> None:  # noqa: N802
        """Figures with every model: profiles, Taylor diagrams, totals bars (master rank only)."""
        if not self.master:
            return
        for spec in self.figures:  # laid out by determinePlotLimits: combined first, per model after
            if not spec.per_model:
                figs.draw(spec, os.path.join(self.output_path, spec.file_name()))

    def generateHtml(self) -> None:  # noqa: N802
        """ILAMB's page, with soilbench's regions (latitude bands, climate groups) selectable."""
        regions = list(self.regions)
        for path in glob.glob(os.path.join(self.output_path, "*.nc")):
            for key in read_scalars(path):
                region = key.rsplit(" ", 1)[-1]
                if region not in regions:
                    regions.append(region)
        self.regions = regions if "global" in regions else ["global"] + regions
        super().generateHtml()


class ConfSoilbenchRh(SoilbenchConfrontation):
    """Heterotrophic respiration: global totals, zonal means, Taylor statistics, the global series
    (climatologies, such as the testbed models, are n/a on the series with the reason)."""

    kinds = ("global_totals", "zonal_means", "taylor", "global_series")


class ConfSoilbenchSites(SoilbenchConfrontation):
    """Site observations: SRDB annual fluxes, MGRhD daily Rh, and their climate responses."""

    kinds = ("srdb_annual", "daily_rh", "site_response")


class ConfSoilbenchTurnover(SoilbenchConfrontation):
    """Soil carbon turnover time (csoil / rh) against observation-based products."""

    kinds = ("turnover",)


class ConfSoilbenchStocks(SoilbenchConfrontation):
    """Soil carbon stocks (global stock, zonal means, ln-SOC patterns) against HWSD, NCSCD and their merge."""

    kinds = ("soil_carbon",)


__all__ = ["ConfSoilbenchRh", "ConfSoilbenchSites", "ConfSoilbenchStocks", "ConfSoilbenchTurnover",
           "SoilbenchConfrontation"]
