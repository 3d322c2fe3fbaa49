"""soilbench's confrontation families as REF diagnostics.

Each :class:`SoilbenchDiagnostic` is one family of the default benchmark (``confrontations/
default.yaml``: global totals, zonal means, Taylor, SRDB sites, daily MGRhD, turnover, site
responses, soil carbon stocks). The REF
solver groups CMIP6 datasets per simulation (source, member, experiment, grid); ``execute`` runs
the family's confrontations on that simulation's files with soilbench's own runner, in this
process, and the bundles are soilbench's CMEC bundles of that run, re-keyed from soilbench's
``model`` dimension to the REF's ``source_id``/``member_id``/``experiment_id``/``grid_label``.
Scores are therefore exactly those of ``soilbench run`` on the same files.

Reference data come from soilbench's registry (pooch, sha256-verified) in soilbench's data
directory; ``execute`` never downloads: a missing reference fails the execution with a message
saying to run ``ref providers setup --provider soilbench``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from climate_ref_core.constraints import AddSupplementaryDataset, RequireFacets
from climate_ref_core.datasets import FacetFilter, SourceDatasetType
from climate_ref_core.diagnostics import DataRequirement, Diagnostic, ExecutionDefinition, ExecutionResult
from climate_ref_core.pycmec.metric import CMECMetric
from climate_ref_core.pycmec.output import CMECOutput

#: CMIP6 facets a simulation is identified by (one execution each)
GROUP_BY = ("source_id", "member_id", "experiment_id", "grid_label")
#: the REF dimensions that replace soilbench's ``model`` in the metric bundle
MODEL_DIMENSIONS = ("source_id", "member_id", "experiment_id", "grid_label")
#: where soilbench writes its run inside the execution's output directory
RUN_SUBDIR = "soilbench"
RESULTS_SUBDIR = "results"

#: CMIP6 variables each soilbench quantity can be read from (the CMIP6 names of
#: soilbench/load/aliases.yaml); a family requests those of every quantity its confrontations read
RH_VARIABLES = ("rh", "rhSoil", "rhLitter")
CMIP6_VARIABLES: dict[str, tuple[str, ...]] = {
    "rh": RH_VARIABLES,
    "ra_root": ("raRoot",),
    "rs": (*RH_VARIABLES, "raRoot"),
    "npp": ("npp",),
    "csoil": ("cSoil", "cLitter"),
    "clitter": ("cLitter",),
    "cveg": ("cVeg",),
    "tsl": ("tsl",),
    "tas": ("tas",),
}
SUPPLEMENTARY = ("areacella", "sftlf")


def cmip6_variables(quantities: tuple[str, ...]) -> tuple[str, ...]:
    """The CMIP6 variables ``quantities`` can be read from, in a stable order without repeats."""
    return tuple(dict.fromkeys(v for q in quantities for v in CMIP6_VARIABLES[q]))


def _requirement(variables: tuple[str, ...], required: tuple[tuple[str, ...], ...]) -> tuple[DataRequirement, ...]:
    """One CMIP6 requirement: monthly ``variables`` of a simulation, at least one variable of
    each tuple of ``required`` present, with the simulation's cell area and land fraction.

    A variable in ``variables`` but in no tuple of ``required`` is optional: the filter selects it
    when the simulation has it, and no constraint drops a simulation without it (e.g. ``tsl``).
    """
    return (
        DataRequirement(
            source_type=SourceDatasetType.CMIP6,
            filters=(FacetFilter(facets={"variable_id": variables, "frequency": "mon"}),),
            group_by=GROUP_BY,
            constraints=(
                *(RequireFacets("variable_id", any_of, operator="any") for any_of in required),
                AddSupplementaryDataset.from_defaults("areacella", SourceDatasetType.CMIP6),
                AddSupplementaryDataset.from_defaults("sftlf", SourceDatasetType.CMIP6),
            ),
        ),
    )


class SoilbenchDiagnostic(Diagnostic):
    """One family of soilbench confrontations (all default-benchmark entries of some types)."""

    facets = (*MODEL_DIMENSIONS, "region", "metric", "statistic")

    def __init__(self, name: str, slug: str, types: tuple[str, ...], reads: tuple[str, ...],
                 required: tuple[tuple[str, ...], ...] = (RH_VARIABLES,)) -> None:
        self.name = name
        self.slug = slug
        self.types = types
        #: the soilbench quantities the family's confrontations may read (their model_quantities)
        self.reads = reads
        self.data_requirements = _requirement(cmip6_variables(reads), required)
        super().__init__()

    # -- what runs -------------------------------------------------------------------------------
    def benchmark(self) -> Any:
        """The default benchmark's confrontations of this family (a soilbench ``Benchmark``)."""
        from soilbench.config import DEFAULT_CONFIG, load_benchmark

        default = load_benchmark(DEFAULT_CONFIG)
        chosen = tuple(spec for spec in default.confrontations if spec.type in self.types)
        if not chosen:
            raise RuntimeError(f"the default benchmark has no confrontation of type {', '.join(self.types)}")
        return dataclasses.replace(default, name=f"{default.name}-{self.slug}", confrontations=chosen)

    def model_spec(self, definition: ExecutionDefinition) -> Any:
        """The simulation's files as one soilbench model, named as ``soilbench run`` names it."""
        from soilbench.runner.models import ModelSpec, identity_name

        datasets = definition.datasets[SourceDatasetType.CMIP6]
        selector = datasets.selector_dict()
        identity = {key: str(selector.get(key, "")) for key in ("source_id", "member_id", "experiment_id")}
        paths = tuple(sorted(dict.fromkeys(str(p) for p in datasets.datasets["path"])))
        metadata = {**identity, "grid_label": str(selector.get("grid_label", ""))}
        return ModelSpec(name=identity_name(identity) or "model", paths=paths, metadata=metadata)

    def execute(self, definition: ExecutionDefinition) -> None:
        """Run the family on the simulation with soilbench's runner; write soilbench's outputs
        (results, CMEC bundles, scorecard) under ``<output>/soilbench/``."""
        from soilbench.runner import RunOptions, run_benchmark

        benchmark = self.benchmark()
        _require_local_references(benchmark)
        out = definition.to_output_path(RUN_SUBDIR) / RESULTS_SUBDIR
        options = RunOptions(out=out, workers=0, progress=False, report=True, report_dir=out.parent / "scorecard")
        _label_synthetic(options)
        summary = run_benchmark(benchmark, [self.model_spec(definition)], options)
        if not summary.ok:
            failures = "; ".join(f"{r['confrontation']}: {r['error']}" for r in summary.failures)
            raise RuntimeError(f"soilbench failed for {definition.key}: {failures}")

    # -- what the REF stores -----------------------------------------------------------------------
    def build_execution_result(self, definition: ExecutionDefinition) -> ExecutionResult:
        out = definition.to_output_path(RUN_SUBDIR) / RESULTS_SUBDIR
        spec = self.model_spec(definition)
        native = json.loads((out / "cmec" / "metric_bundle.json").read_text(encoding="utf-8"))
        metric = ref_metric_bundle(native, spec.name, {k: spec.metadata.get(k, "") for k in MODEL_DIMENSIONS})
        output = ref_output_bundle(json.loads((out / "cmec" / "output_bundle.json").read_text(encoding="utf-8")),
                                   prefix=f"{RUN_SUBDIR}/{RESULTS_SUBDIR}")
        return ExecutionResult.build_from_output_bundle(definition, cmec_output_bundle=output,
                                                        cmec_metric_bundle=metric)


def ref_metric_bundle(native: dict[str, Any], model: str, facets: dict[str, str]) -> CMECMetric:
    """soilbench's metric bundle for one model, with ``model`` replaced by the REF's facets.

    The references compared with each other (soilbench's ``references`` model) are not a
    simulation and stay in soilbench's own bundle (listed in the output bundle's data).
    """
    bundle = CMECMetric(**native)
    dimensions = bundle.DIMENSIONS.root
    if model not in bundle.RESULTS:  # every task not applicable: no values, a valid empty bundle
        dimensions = {"json_structure": dimensions["json_structure"], "model": {model: {}},
                      **{d: {} for d in dimensions["json_structure"] if d != "model"}}
        results: dict[str, Any] = {model: {}}
        keep = {model: {}}
    else:
        keep = {model: dimensions["model"][model]}
        results = {model: bundle.RESULTS[model]}
    single = CMECMetric(
        DIMENSIONS={**dimensions, "model": keep}, RESULTS=results,
        PROVENANCE=bundle.PROVENANCE, NOTES=bundle.NOTES,
    )
    return single.remove_dimensions("model").prepend_dimensions({k: str(v) for k, v in facets.items()})


def ref_output_bundle(native: dict[str, Any], prefix: str) -> CMECOutput:
    """soilbench's output bundle with paths made relative to the execution's output directory."""
    bundle = json.loads(json.dumps(native))
    for section in ("data", "plots", "html", "metrics"):
        for item in (bundle.get(section) or {}).values():
            item["filename"] = f"{prefix}/{item['filename']}"
    if bundle.get("index"):
        bundle["index"] = f"{prefix}/{bundle['index']}"
    # the REF keeps the files of data, plots and html: soilbench's own bundles go with the data
    data = bundle.setdefault("data", {})
    for key, item in (bundle.pop("metrics", None) or {}).items():
        data[f"cmec/{key}"] = item
    data["cmec/output_bundle"] = {"filename": f"{prefix}/cmec/output_bundle.json",
                                  "long_name": "soilbench's CMEC output bundle",
                                  "description": "the run's files, relative to soilbench's results directory"}
    provenance = bundle["provenance"]
    provenance["log"] = f"{prefix}/{provenance['log']}"
    provenance["modeldata"] = {str(k): v for k, v in provenance.get("modeldata", {}).items()}
    return CMECOutput.model_validate(bundle)


def registry_ids(benchmark: Any) -> set[str]:
    """The registry datasets a benchmark's confrontations read (references and auxiliary data)."""
    from soilbench import data
    from soilbench.runner.core import data_ids

    registry = data.registry()
    return {i for c in benchmark.build() for i in data_ids(c) if i in registry}


def _require_local_references(benchmark: Any) -> None:
    """Every dataset the family reads is already in the data directory: execute never downloads."""
    from soilbench import data

    missing = sorted(i for i in registry_ids(benchmark) if data.locate(i) is None)
    if missing:
        raise RuntimeError(f"reference data {', '.join(missing)} not in {data.data_dir()}; "
                           "run `ref providers setup --provider soilbench` (it downloads soilbench's registry)")


def _label_synthetic(options: Any) -> None:
    from soilbench.data import synthetic_registry

    selected = synthetic_registry()
    if selected is not None:
        options.registry = str(selected)
        options.synthetic = True


def diagnostics() -> list[SoilbenchDiagnostic]:
    """The families, each requesting the CMIP6 variables of every quantity its confrontations read
    (``Confrontation.model_quantities``; the provider's tests check the two agree). Only the
    variables in ``required`` are needed to solve; the rest (``tsl`` for the site responses) are
    used when the simulation has them (the turnover family's cVeg and npp for the 2-box constraint,
    tas and tsl for τ against the model's own temperature)."""
    return [
        SoilbenchDiagnostic("Global totals of Rh and soil respiration", "global-totals", ("global_totals",),
                            ("rh", "rs", "ra_root")),
        SoilbenchDiagnostic("Zonal means of Rh", "zonal-means", ("zonal_means",), ("rh",)),
        SoilbenchDiagnostic("Rh Taylor diagram and maps", "taylor", ("taylor",), ("rh",)),
        SoilbenchDiagnostic("SRDB site Rh and soil respiration", "srdb-sites", ("srdb_annual",),
                            ("rh", "rs", "ra_root")),
        SoilbenchDiagnostic("Daily Rh at MGRhD sites", "daily-rh", ("daily_rh",), ("rh",)),
        SoilbenchDiagnostic("Soil carbon turnover time", "turnover", ("turnover",),
                            ("rh", "csoil", "cveg", "npp", "tas", "tsl"), (RH_VARIABLES, ("cSoil",))),
        SoilbenchDiagnostic("Rh and soil respiration against climate and soil temperature", "site-response",
                            ("site_response",), ("rh", "rs", "ra_root", "tsl")),
        SoilbenchDiagnostic("Soil carbon stocks", "soil-carbon", ("soil_carbon",), ("csoil",),
                            (("cSoil",),)),
        SoilbenchDiagnostic("Annual global Rh: trend, variability and temperature sensitivity", "global-series",
                            ("global_series",), ("rh", "tas")),
    ]
