"""The synthetic world: deterministic, a real data directory, and its known biases come out."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from soilbench import data
from soilbench.config import DEFAULT_CONFIG, load_benchmark
from soilbench.errors import SoilbenchError
from soilbench.runner import ModelSpec, RunOptions, run_benchmark
from soilbench.synthetic import DATASET_IDS, generate_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return generate_world(tmp_path_factory.mktemp("world"))


def hashes(registry_path):
    document = yaml.safe_load(registry_path.read_text())
    return {d["id"]: d["sha256"] for d in document["datasets"]}


def test_same_seed_gives_identical_files_other_seed_differs(world, tmp_path):
    again = generate_world(tmp_path / "again")
    assert hashes(again.registry) == hashes(world.registry)
    for name, path in world.models.items():
        assert again.models[name].read_bytes() == path.read_bytes()
    other = generate_world(tmp_path / "other", seed=7)
    assert hashes(other.registry)["cardamom-rh"] != hashes(world.registry)["cardamom-rh"]


def test_current_world_is_reused_untouched(world):
    before = {p: p.stat().st_mtime_ns for p in world.models.values()}
    generate_world(world.root)
    assert {p: p.stat().st_mtime_ns for p in world.models.values()} == before


def test_registry_is_synthetic_and_real_hashes_are_untouched(world):
    document = yaml.safe_load(world.registry.read_text())
    assert document["synthetic"] is True
    real = data.registry(data.REGISTRY_PATH)
    with data.use_registry(world.registry):
        for dataset_id in DATASET_IDS:  # every generated file passes the normal sha256 check
            assert data.fetch(dataset_id, data_dir=world.root, allow_download=False).is_file()
        assert data.registry()["cardamom-rh"]["sha256"] != real["cardamom-rh"]["sha256"]
    assert data.synthetic_registry() is None  # the override ends with the block
    assert data.registry()["cardamom-rh"]["sha256"] == real["cardamom-rh"]["sha256"]


def test_a_registry_not_declaring_synthetic_is_refused(world, tmp_path):
    document = yaml.safe_load(world.registry.read_text())
    document.pop("synthetic")
    forged = tmp_path / "registry.yaml"
    forged.write_text(yaml.safe_dump(document))
    with pytest.raises(SoilbenchError, match="synthetic: true"):
        with data.use_registry(forged):
            pass


def test_normal_loaders_read_the_world(world):
    from soilbench.analysis.integrate import period_total
    from soilbench.load import load_model, load_reference

    with data.use_registry(world.registry):
        reference = load_reference("cardamom-rh", data_dir=world.root)
    perfect = load_model(str(world.models["perfect"]))
    assert float(period_total(reference, "rh")) == pytest.approx(50, rel=0.05)
    assert float(period_total(perfect, "rh")) == pytest.approx(50, rel=0.05)
    assert perfect.sizes["time"] == 120 and {"rh", "rs", "csoil", "npp", "cveg"} <= set(perfect.data_vars)


@pytest.mark.slow
def test_known_biases_come_out_with_the_right_sign(world, tmp_path):
    options = RunOptions(out=tmp_path / "out", workers=0, data_dir=str(world.root), registry=str(world.registry),
                         synthetic=True, progress=False, report=False)
    with data.use_registry(world.registry):
        summary = run_benchmark(load_benchmark(DEFAULT_CONFIG), [ModelSpec(n, (str(p),)) for n, p in world.models.items()],
                                options)
    assert summary.ok, summary.failures
    s = pd.read_csv(tmp_path / "out" / "scalars.csv")
    s = s[(s.region == "global") & (s.model != "references")]

    def value(confrontation, name, model, reference=None):
        rows = s[(s.confrontation == confrontation) & (s.name == name) & (s.model == model)]
        if reference is not None:
            rows = rows[rows.reference.fillna("") == reference]
        return float(rows["value"].iloc[0])

    def overall(confrontation, model):
        return value(confrontation, "overall score", model)

    # +20 % Rh: 20 % more global Rh, positive map bias, lower scores, shorter τ
    ratio = value("rh-global-totals", "total", "rh-plus-20pct", "") / value("rh-global-totals", "total", "perfect", "")
    assert ratio == pytest.approx(1.2, rel=0.01)
    assert value("rh-taylor", "bias", "rh-plus-20pct") > 0
    for confrontation in ("rh-global-totals", "rh-taylor", "rh-zonal-means", "rh-srdb-annual", "rh-daily-mgrhd"):
        assert overall(confrontation, "rh-plus-20pct") < overall(confrontation, "perfect"), confrontation
    assert value("soil-turnover", "global tau", "rh-plus-20pct") < value("soil-turnover", "global tau", "perfect")
    # shifted seasonal cycle: only the daily comparison notices
    assert value("rh-daily-mgrhd", "seasonal cycle score", "shifted-season") < \
        value("rh-daily-mgrhd", "seasonal cycle score", "perfect")
    assert overall("rh-taylor", "shifted-season") == pytest.approx(overall("rh-taylor", "perfect"), abs=0.01)
    # τ too short: half the τ, lower turnover score, Rh scores unchanged
    tau_ratio = value("soil-turnover", "global tau", "short-tau") / value("soil-turnover", "global tau", "perfect")
    assert tau_ratio == pytest.approx(0.5, rel=0.02)
    assert overall("soil-turnover", "short-tau") < overall("soil-turnover", "perfect")
    assert overall("rh-global-totals", "short-tau") == pytest.approx(overall("rh-global-totals", "perfect"))
