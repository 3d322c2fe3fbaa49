"""The soilbench provider through climate-ref's own machinery: ingest, solve, executions, bundles.

A small CMIP6-style simulation (DRS paths and attributes) is made from soilbench's synthetic
world, ingested with ``ref datasets ingest``, solved with ``ref solve`` (synchronous executor, no
network: the synthetic world's registry and data directory, an empty grey list), and every
stored score is compared with a native ``soilbench run`` on the same files.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("climate_ref")

from climate_ref_core.pycmec.metric import CMECMetric  # noqa: E402
from climate_ref_core.pycmec.output import CMECOutput  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests"))
from cmip_support import write_cmip6  # noqa: E402

from soilbench.cmec import keyed_rows, read_scalars  # noqa: E402

MODEL = "SYN-ESM r1i1p1f1"
FACETS = ("SYN-ESM", "r1i1p1f1", "historical", "gn")
#: the families the issue asks for at least, and the default benchmark's confrontations in each
REQUIRED = {"global-totals": {"rh-global-totals", "rs-global-totals"}, "taylor": {"rh-taylor"},
            "srdb-sites": {"rh-srdb-annual", "rs-srdb-annual"}, "turnover": {"soil-turnover"}}


def _ref(env, *args, timeout=1200):
    command = [str(Path(sys.executable).parent / "ref"), "--log-level", "WARNING", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    from soilbench.synthetic import generate_world

    tmp = tmp_path_factory.mktemp("ref")
    world = generate_world(tmp / "world")
    files = write_cmip6(world.models["perfect"], tmp / "esgf", FACETS[0], FACETS[1], split_years=5)
    (tmp / "grey-list.yaml").write_text("{}\n")  # no grey list download
    env = {k: v for k, v in os.environ.items() if not k.startswith("REF_")}
    env.update({
        "REF_CONFIGURATION": str(tmp / "ref"),
        "REF_EXECUTOR": "climate_ref.executor.SynchronousExecutor",
        "REF_IGNORE_DATASETS_FILE": str(tmp / "grey-list.yaml"),
        "SOILBENCH_SYNTHETIC_REGISTRY": str(world.registry),
        "SOILBENCH_DATA_DIR": str(world.root),
        "MPLBACKEND": "Agg",
    })
    providers = _ref(env, "providers", "list")  # found through the climate-ref.providers entry point
    _ref(env, "datasets", "ingest", "--source-type", "cmip6", str(tmp / "esgf"))
    _ref(env, "solve", "--timeout", "1200")
    native = subprocess.run(
        [sys.executable, "-m", "soilbench", "run", "--models", *map(str, files), "--out", str(tmp / "native"),
         "--workers", "0", "--no-report", "--quiet"],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert native.returncode == 0, native.stderr[-3000:]
    return {"tmp": tmp, "providers": providers, "db": tmp / "ref" / "db" / "climate_ref.db",
            "results": tmp / "ref" / "results", "native": tmp / "native"}


def _executions(campaign):
    with sqlite3.connect(campaign["db"]) as db:
        rows = db.execute(
            "select d.slug, e.successful, e.output_fragment, e.id from execution e "
            "join execution_group g on e.execution_group_id = g.id join diagnostic d on g.diagnostic_id = d.id"
        ).fetchall()
    return {slug: {"ok": bool(ok), "fragment": fragment, "id": i} for slug, ok, fragment, i in rows}


def _native_values(campaign, confrontations):
    scalars = read_scalars(campaign["native"])
    scalars = scalars[(scalars["model"] == MODEL) & scalars["confrontation"].isin(confrontations)]
    return {key[1:]: value for key, value, _ in keyed_rows(scalars)}


def test_provider_is_registered_and_every_family_executes(campaign):
    assert "soilbench" in campaign["providers"]
    executions = _executions(campaign)
    assert set(REQUIRED) <= set(executions)
    assert all(e["ok"] for e in executions.values()), executions


def test_bundles_are_valid_cmec_and_list_the_scorecard(campaign):
    for slug, execution in _executions(campaign).items():
        directory = campaign["results"] / execution["fragment"]
        metric = CMECMetric.load_from_json(directory / "diagnostic.json")
        assert metric.DIMENSIONS.root["json_structure"] == [
            "source_id", "member_id", "experiment_id", "grid_label", "region", "metric", "statistic"]
        output = CMECOutput.load_from_json(directory / "output.json")
        assert output.index.endswith("scorecard/index.html") and (directory / output.index).is_file(), slug
        native_bundle = directory / output.data["cmec/metric_bundle"].filename
        assert CMECMetric.load_from_json(native_bundle).DIMENSIONS.root["json_structure"][0] == "model"
        assert all((directory / item.filename).is_file() for item in output.html.values())
        # the whole scorecard reached the results directory: pages, figures, stylesheet, tables
        scorecard = (directory / output.index).parent
        assert {p.suffix for p in scorecard.rglob("*") if p.is_file()} >= {".html", ".png", ".css", ".csv"}


@pytest.mark.parametrize("family", sorted(REQUIRED))
def test_ref_scores_equal_the_native_run(campaign, family):
    execution = _executions(campaign)[family]
    directory = campaign["results"] / execution["fragment"]
    bundle = CMECMetric.load_from_json(directory / "diagnostic.json")
    from_bundle = {}
    for value in bundle.iter_results():
        dims = value.dimensions
        assert tuple(dims[k] for k in ("source_id", "member_id", "experiment_id", "grid_label")) == FACETS
        from_bundle[(dims["region"], dims["metric"], dims["statistic"])] = value.value
    native = _native_values(campaign, REQUIRED[family])
    assert len(native) > 5 and set(from_bundle) == set(native)
    with sqlite3.connect(campaign["db"]) as db:
        stored = {(r, m, s): v for r, m, s, v in db.execute(
            "select region, metric, statistic, value from metric_value where execution_id = ?", (execution["id"],))}
    assert set(stored) == set(native)
    for key, expected in native.items():
        for got in (from_bundle[key], stored[key]):
            if expected is None:
                assert got is None or got != got, key  # NaN / null on both sides
            else:
                assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), key
    overall = [v for (region, _, statistic), v in native.items() if (region, statistic) == ("global", "overall score")]
    assert len(overall) == len(REQUIRED[family]) and all(0 <= v <= 1 for v in overall)


def test_execute_never_downloads_a_missing_reference(tmp_path, monkeypatch):
    from climate_ref_soilbench.diagnostics import _require_local_references, diagnostics

    monkeypatch.setenv("SOILBENCH_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("SOILBENCH_SYNTHETIC_REGISTRY", raising=False)
    taylor = next(d for d in diagnostics() if d.slug == "taylor")
    with pytest.raises(RuntimeError, match="cardamom-rh.*ref providers setup --provider soilbench"):
        _require_local_references(taylor.benchmark())


def test_data_requirements_name_the_cmip6_variables():
    from climate_ref_soilbench import provider

    by_slug = {d.slug: d for d in provider.diagnostics()}
    turnover = by_slug["turnover"].data_requirements[0]
    wanted = set(turnover.filters[0].facets["variable_id"])
    assert {"rh", "rhSoil", "cSoil", "cLitter", "cVeg", "npp", "tas", "tsl"} <= wanted
    # optional: only Rh and cSoil are required facets of the turnover group
    required = [set(c.required_facets["variable_id"]) for c in turnover.constraints if hasattr(c, "required_facets")]
    assert not any({"tas", "tsl"} & r for r in required)
    totals = set(by_slug["global-totals"].data_requirements[0].filters[0].facets["variable_id"])
    assert {"rh", "rhSoil", "raRoot"} <= totals
    supplementary = {c.supplementary_facets["variable_id"] for c in turnover.constraints
                     if hasattr(c, "supplementary_facets")}
    assert supplementary == {"areacella", "sftlf"}


def test_a_model_without_values_gives_a_valid_empty_bundle():
    from climate_ref_soilbench.diagnostics import ref_metric_bundle

    native = {"DIMENSIONS": {"json_structure": ["model", "region", "metric", "statistic"],
                             "model": {"references": {}}, "region": {"global": {}}, "metric": {"c": {}},
                             "statistic": {"overall score": {}}},
              "RESULTS": {"references": {"global": {"c": {"overall score": 0.5}}}}}
    bundle = ref_metric_bundle(native, "SYN r1i1p1f1", dict(zip(("source_id", "member_id", "experiment_id",
                                                                  "grid_label"), FACETS)))
    assert list(bundle.iter_results()) == []
    assert bundle.DIMENSIONS.root["json_structure"][:4] == ["source_id", "member_id", "experiment_id", "grid_label"]


def test_setup_fetches_the_registry_and_validates_it(tmp_path, monkeypatch):
    """With the synthetic world as registry and data directory, setup finds everything in place."""
    from climate_ref_soilbench import provider
    from soilbench.synthetic import generate_world

    world = generate_world(tmp_path / "world")
    monkeypatch.setenv("SOILBENCH_SYNTHETIC_REGISTRY", str(world.registry))
    monkeypatch.setenv("SOILBENCH_DATA_DIR", str(world.root))
    assert {"cardamom-rh", "srdb-v5-data", "hwsd-soilc", "mgrhd", "koppen"} <= set(provider.datasets())
    assert "testbed-casacnp" not in provider.datasets()  # model files are not references
    provider.fetch_data(None)
    assert provider.validate_setup(None) and provider.get_data_path() == world.root
    monkeypatch.setenv("SOILBENCH_DATA_DIR", str(tmp_path / "empty"))
    assert not provider.validate_setup(None)
