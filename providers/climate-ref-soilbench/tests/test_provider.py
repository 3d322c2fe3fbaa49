"""The soilbench provider through climate-ref's own machinery: ingest, solve, executions, bundles.

A small CMIP6-style simulation (DRS paths and attributes) is made from soilbench's synthetic
world, ingested with ``ref datasets ingest``, solved with ``ref solve`` (synchronous executor, no
network: the synthetic world's registry and data directory, an empty grey list), and every
stored score is compared with a native ``soilbench run`` on the same files. A second member of
the simulation also has soil temperature (``tsl``), an optional variable of the site-response
family: both members are solved for it, the one with ``tsl`` reads it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

pytest.importorskip("climate_ref")

from climate_ref_core.pycmec.metric import CMECMetric  # noqa: E402
from climate_ref_core.pycmec.output import CMECOutput  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests"))
from cmip_support import write_cmip6  # noqa: E402

from soilbench.cmec import keyed_rows, read_scalars  # noqa: E402

MODEL = "SYN-ESM r1i1p1f1"
FACETS = ("SYN-ESM", "r1i1p1f1", "historical", "gn")
#: the member that also has soil temperature (tsl), solved for the site-response family only
TSL_MEMBER = "r2i1p1f1"
#: the families the issue asks for at least, and the default benchmark's confrontations in each
REQUIRED = {"global-totals": {"rh-global-totals", "rs-global-totals"}, "taylor": {"rh-taylor"},
            "srdb-sites": {"rh-srdb-annual", "rs-srdb-annual"}, "turnover": {"soil-turnover"}}
SITE_RESPONSE = {"rh-climate-response"}


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
    with_tsl = write_cmip6(world.models["perfect"], tmp / "esgf", FACETS[0], TSL_MEMBER, split_years=5)
    with_tsl.append(_write_tsl(world.models["perfect"], with_tsl[0]))
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
    # every family on the first member; the second (with tsl) for the site responses only
    _ref(env, "solve", "--timeout", "1200", "--dataset-filter", f"member_id={FACETS[1]}")
    _ref(env, "solve", "--timeout", "1200", "--diagnostic", "site-response")
    native = _native_run(env, files, tmp / "native")
    site_response_only = tmp / "site-response.yaml"
    default = yaml.safe_load((REPO / "confrontations" / "default.yaml").read_text(encoding="utf-8"))
    default["confrontations"] = [c for c in default["confrontations"] if c["name"] in SITE_RESPONSE]
    site_response_only.write_text(yaml.safe_dump(default), encoding="utf-8")
    native_tsl = _native_run(env, with_tsl, tmp / "native-tsl", "--config", str(site_response_only))
    return {"tmp": tmp, "providers": providers, "db": tmp / "ref" / "db" / "climate_ref.db",
            "results": tmp / "ref" / "results", "native": native, "native_tsl": native_tsl}


def _native_run(env, files, out, *options):
    done = subprocess.run(
        [sys.executable, "-m", "soilbench", "run", "--models", *map(str, files), "--out", str(out),
         "--workers", "0", "--no-report", "--quiet", *options],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _write_tsl(model_file, rh_file):
    """CMIP6 tsl (K, two soil layers) beside ``rh_file``, with its attributes: the synthetic
    truth's mean temperature plus a seasonal cycle peaking with Rh (July north, January south)."""
    from soilbench.synthetic.truth import Truth

    model = xr.load_dataset(model_file, decode_times=False)
    rh = xr.open_dataset(rh_file, decode_times=False)
    lat, lon = model["lat"].values, model["lon"].values
    months = np.arange(model.sizes["time"]) % 12 + 1
    phase = 2 * np.pi * (months[:, None] + 0.5 - Truth.peak_month(lat)[None, :]) / 12.0
    celsius = Truth().temperature(lat, lon)[None] + 10.0 * np.cos(phase)[:, :, None]
    layers = np.stack([celsius, celsius - 2.0], axis=1) + 273.15  # the deeper layer cooler: top one is read
    tsl = xr.Dataset(
        {"tsl": (("time", "depth", "lat", "lon"), layers.astype("float32"),
                 {"standard_name": "soil_temperature", "units": "K", "long_name": "Temperature of Soil"}),
         "time_bnds": model["time_bnds"]},
        coords={"time": model["time"], "depth": ("depth", [0.05, 0.3], {"units": "m", "positive": "down", "axis": "Z"}),
                "lat": model["lat"], "lon": model["lon"]},
        attrs={**rh.attrs, "variable_id": "tsl", "tracking_id": f"{rh.attrs['tracking_id']}-tsl"},
    )
    rh.close()
    directory = Path(rh_file).parents[2] / "tsl" / "gn" / Path(rh_file).parent.name
    directory.mkdir(parents=True)
    path = directory / f"tsl_{tsl.attrs['table_id']}_{'_'.join(Path(rh_file).stem.split('_')[2:6])}_200101-201012.nc"
    tsl.to_netcdf(path)
    return path


def _executions(campaign, member=FACETS[1]):
    """The executions of ``member`` by family: success, output fragment, id and the variables read."""
    with sqlite3.connect(campaign["db"]) as db:
        rows = db.execute(
            "select d.slug, e.successful, e.output_fragment, e.id, c.member_id, c.variable_id from execution e "
            "join execution_group g on e.execution_group_id = g.id join diagnostic d on g.diagnostic_id = d.id "
            "join execution_dataset x on x.execution_id = e.id join cmip6_dataset c on c.id = x.dataset_id"
        ).fetchall()
    found = {}
    for slug, ok, fragment, i, member_id, variable in rows:
        if member_id == member:
            execution = found.setdefault(slug, {"ok": bool(ok), "fragment": fragment, "id": i, "variables": set()})
            assert execution["id"] == i, f"{slug} executed twice for {member}"
            execution["variables"].add(variable)
    return found


def _native_values(native, confrontations, model=MODEL):
    scalars = read_scalars(native)
    scalars = scalars[(scalars["model"] == model) & scalars["confrontation"].isin(confrontations)]
    return {key[1:]: value for key, value, _ in keyed_rows(scalars)}


def test_provider_is_registered_and_every_family_executes(campaign):
    from climate_ref_soilbench import provider

    assert "soilbench" in campaign["providers"]
    executions = _executions(campaign)
    assert set(REQUIRED) <= {d.slug for d in provider.diagnostics()} == set(executions)
    assert all(e["ok"] for e in executions.values()), executions
    # the second member was solved for the site responses only (dataset filter of the first solve)
    assert set(_executions(campaign, TSL_MEMBER)) == {"site-response"}


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


def _ref_values(campaign, execution, member):
    """One execution's values from its metric bundle and from the REF's database, by (region,
    metric, statistic); the bundle's simulation facets are checked on the way."""
    directory = campaign["results"] / execution["fragment"]
    bundle = CMECMetric.load_from_json(directory / "diagnostic.json")
    from_bundle = {}
    for value in bundle.iter_results():
        dims = value.dimensions
        assert tuple(dims[k] for k in ("source_id", "member_id", "experiment_id", "grid_label")) == (
            FACETS[0], member, *FACETS[2:])
        from_bundle[(dims["region"], dims["metric"], dims["statistic"])] = value.value
    with sqlite3.connect(campaign["db"]) as db:
        stored = {(r, m, s): v for r, m, s, v in db.execute(
            "select region, metric, statistic, value from metric_value where execution_id = ?", (execution["id"],))}
    return from_bundle, stored


def _assert_equal_values(native, *from_ref):
    for got_values in from_ref:
        assert set(got_values) == set(native)
        for key, expected in native.items():
            got = got_values[key]
            if expected is None:
                assert got is None or got != got, key  # NaN / null on both sides
            else:
                assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), key


@pytest.mark.parametrize("family", sorted(REQUIRED))
def test_ref_scores_equal_the_native_run(campaign, family):
    from_bundle, stored = _ref_values(campaign, _executions(campaign)[family], FACETS[1])
    native = _native_values(campaign["native"], REQUIRED[family])
    assert len(native) > 5
    _assert_equal_values(native, from_bundle, stored)
    overall = [v for (region, _, statistic), v in native.items() if (region, statistic) == ("global", "overall score")]
    assert len(overall) == len(REQUIRED[family]) and all(0 <= v <= 1 for v in overall)


def test_optional_soil_temperature_is_read_when_the_simulation_has_it(campaign):
    """tsl is optional: the member without it is solved and scored (its model Q10 n/a), the member
    with it has tsl among the execution's datasets and a model Q10; both equal the native runs."""
    without, with_tsl = _executions(campaign)["site-response"], _executions(campaign, TSL_MEMBER)["site-response"]
    assert without["ok"] and with_tsl["ok"]
    assert "tsl" not in without["variables"] and "rh" in without["variables"]
    assert "tsl" in with_tsl["variables"]
    native = _native_values(campaign["native"], SITE_RESPONSE)
    native_tsl = _native_values(campaign["native_tsl"], SITE_RESPONSE, model=f"{FACETS[0]} {TSL_MEMBER}")
    [q10] = [key for key in native_tsl if key[2] == "scores: MGRhD Q10 score"]
    assert 0 <= native_tsl[q10] <= 1
    assert native.get(q10) is None or native[q10] != native[q10]  # no tsl: no model Q10
    _assert_equal_values(native, *_ref_values(campaign, without, FACETS[1]))
    _assert_equal_values(native_tsl, *_ref_values(campaign, with_tsl, TSL_MEMBER))


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
    required = {v for c in turnover.constraints if getattr(c, "dimension", None) == "variable_id"
                for v in c.required_facets}
    assert {"rh", "cSoil"} <= required and not {"tas", "tsl"} & required
    totals = set(by_slug["global-totals"].data_requirements[0].filters[0].facets["variable_id"])
    assert {"rh", "rhSoil", "raRoot"} <= totals
    supplementary = {c.supplementary_facets["variable_id"] for c in turnover.constraints
                     if hasattr(c, "supplementary_facets")}
    assert supplementary == {"areacella", "sftlf"}
    # tsl is requested for the site responses, and required by no constraint
    site_response = by_slug["site-response"].data_requirements[0]
    assert "tsl" in site_response.filters[0].facets["variable_id"]
    required = {v for c in site_response.constraints if getattr(c, "dimension", None) == "variable_id"
                for v in c.required_facets}
    assert required and "tsl" not in required


def test_each_family_requests_every_variable_its_confrontations_read():
    """A confrontation that starts reading a quantity (e.g. tas) needs its family to request it."""
    from climate_ref_soilbench import provider
    from climate_ref_soilbench.diagnostics import CMIP6_VARIABLES
    from soilbench.config import DEFAULT_CONFIG, load_benchmark

    families = provider.diagnostics()
    default_types = {spec.type for spec in load_benchmark(DEFAULT_CONFIG).confrontations}
    assert default_types == {t for d in families for t in d.types}
    for family in families:
        reads = set().union(*(c.model_quantities() for c in family.benchmark().build()))
        assert reads <= set(family.reads) <= set(CMIP6_VARIABLES), family.slug
        requested = set(family.data_requirements[0].filters[0].facets["variable_id"])
        assert requested == {v for q in family.reads for v in CMIP6_VARIABLES[q]}, family.slug


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
