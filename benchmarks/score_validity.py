"""Score-validity suite: do soilbench's scores tell a good model from a bad one?

Builds controlled models from each gridded reference (:mod:`soilbench.analysis.controlled`: the
reference itself on its own grid and coarsened, bias ladders ×1.1, ×1.3, ×2 and ÷1.1, ÷1.3, ÷2, a
smoothed field, a constant field at the right global mean, a spatial shuffle of land cells, a
latitude flip, zero, and seasonal shifts where there is a time axis) plus, for each site
confrontation (families ``srdb`` and ``mgrhd``), a climatology holding the mean of the
observations in each site's model cell, with its ladders, constant, shuffled, flipped and zero; and
(family ``series``) controlled annual series of the Tang 2020 global Rh (reference, ladders, detrended,
constant, shuffled, time-reversed, zero) given as series-model CSVs to the ``global_series`` type.
Each is written as a NetCDF model file (in a directory of its own: one model) and run through the
normal ``soilbench run`` with ``benchmarks/score_validity.yaml`` (the CARDAMOM Rh, HWSD/NCSCD soil
carbon, SRDB V5 and MGRhD references), beside the real testbed models. Then three tests
(``docs/scores.md``):

1. the reference itself (and its coarsened copy) scores ≥ 0.95 against the reference;
2. scores fall strictly along every ladder;
3. zero scores ≤ 0.1 everywhere (but in the series trend score: a series without flux has no trend,
   as the flat null series); constant, shuffled and flipped score ≤ 0.5 in the zonal and
   spatial scores (gridded and at sites; for τ also the climate-group and τ–MAT curve scores, where
   the flipped world is not a null model: NULL_EXEMPT; the stock's nulls only by zero) and
   below every real model there and in the Taylor and turnover overall scores.

Usage::

    python benchmarks/score_validity.py --work /tmp/sbv            # real data, writes the table
    python benchmarks/score_validity.py --work /tmp/sbv --synthetic # the synthetic world, small grid
    python benchmarks/score_validity.py --work /tmp/sbv --markdown docs/scores.md  # update the table
    python benchmarks/score_validity.py --work /tmp/sbv --families srdb mgrhd     # some families only

Exit status 0 when every test holds, 1 otherwise (the failures are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "score_validity.yaml"
RH_SOURCE = "cardamom-rh"
SERIES_SOURCE = "tang2020-rh"
STOCK_SOURCE = "hwsd-ncscd-soilc"
#: the real models shown alongside (catalog ids; with --synthetic the world's own models)
REAL_MODELS = ("testbed-casacnp", "testbed-mimics")
PERIOD_TITLE = "2001-2010 climatology"
TABLE_START = "<!-- score-validity-table:start -->"
TABLE_END = "<!-- score-validity-table:end -->"

#: (column label, confrontation, score name, reference or None for "")
COLUMNS = [
    ("totals: total score", "rh-global-totals", "total score", RH_SOURCE),
    ("totals: overall", "rh-global-totals", "overall score", None),
    ("zonal: overall", "rh-zonal-means", "overall score", None),
    ("taylor: bias", "rh-taylor", "bias score", RH_SOURCE),
    ("taylor: spatial", "rh-taylor", "spatial distribution score", RH_SOURCE),
    ("taylor: overall", "rh-taylor", "overall score", None),
    ("tau: bias", "soil-turnover", "bias score", "central"),
    ("tau: spatial", "soil-turnover", "spatial distribution score", "central"),
    ("tau: global", "soil-turnover", "global tau score", "central"),
    ("tau: zonal", "soil-turnover", "zonal tau score", "central"),
    ("tau: climate groups", "soil-turnover", "climate group tau score", "central"),
    ("tau: MAT curve", "soil-turnover", "tau-MAT curve score", "central"),
    ("tau: overall", "soil-turnover", "overall score", None),
    ("stocks: total", "soil-carbon-stocks", "total score", STOCK_SOURCE),
    ("stocks: zonal", "soil-carbon-stocks", "zonal score", STOCK_SOURCE),
    ("stocks: spatial", "soil-carbon-stocks", "spatial distribution score", STOCK_SOURCE),
    ("stocks: overall", "soil-carbon-stocks", "overall score", None),
    ("SRDB: bias", "rh-srdb-annual", "bias score", None),
    ("SRDB: spatial", "rh-srdb-annual", "spatial distribution score", None),
    ("SRDB: overall", "rh-srdb-annual", "overall score", None),
    ("MGRhD: bias", "rh-daily-mgrhd", "bias score", None),
    ("MGRhD: spatial", "rh-daily-mgrhd", "spatial distribution score", None),
    ("MGRhD: overall", "rh-daily-mgrhd", "overall score", None),
    ("series: mean", "rh-global-series", "mean score", SERIES_SOURCE),
    ("series: trend", "rh-global-series", "trend score", SERIES_SOURCE),
    ("series: IAV", "rh-global-series", "variability score", SERIES_SOURCE),
    ("series: anomaly r", "rh-global-series", "anomaly correlation score", SERIES_SOURCE),
    ("series: overall", "rh-global-series", "overall score", None),
]
#: the zonal and spatial scores, where null models must score ≤ 0.5 and below every real model
#: (not the zonal stock score: its bands score ln(model / reference), level and shape at once, so a
#: model with the right pattern but 20% too little carbon can score below a mirrored world at the
#: right level; it is tested as a ladder score; docs/scores.md)
#: Nor the ln-SOC spatial score: on the real data a real model's soil carbon pattern is as far from
#: the products' as a shuffled one (CASA-CNP 0.047, shuffled 0.062, flipped 0.064; the nulls do
#: score ≤ 0.1), so "below every real model" cannot hold there; its nulls are reported, not tested.
PATTERN_COLUMNS = ("zonal: overall", "taylor: spatial", "tau: spatial", "tau: zonal", "tau: climate groups",
                   "tau: MAT curve", "SRDB: spatial", "MGRhD: spatial")
#: the overall scores of the confrontations that should detect null models: below every real model
#: (not the site overall scores: their level part rightly rewards a field at the right mean, and at
#: the sites the testbed models are far from it; docs/scores.md, "What holds")
DETECTING_COLUMNS = PATTERN_COLUMNS + ("taylor: overall", "tau: overall")
#: scores a bias ladder cannot move, by construction: the centred pattern of log τ (of ln SOC) is
#: the same for k·τ (k·stock) (docs/scores.md); the bias and global τ scores (the total stock
#: score) carry the ladder
LADDER_EXEMPT = ("tau: spatial", "stocks: spatial", "series: anomaly r")
#: scores the coarsened reference of a family cannot reach by construction: the τ family's models
#: hold the stock on the land shared with CARDAMOM Rh (the product's carbon-bearing land without
#: Rh, 11 % of its area, is lost in coarsening), and the stock's zonal and ln-SOC scores count the
#: product's land the model lacks as wrong (the total score compares common cells only: tested)
COARSENED_EXEMPT = ("stocks: zonal", "stocks: spatial", "stocks: overall")
#: the series null models, each ≤ 0.5 in the score of what it destroys (a series has no pattern:
#: the detrended series keeps its anomalies, the shuffled one its level and spread)
SERIES_NULLS = {"series: trend": ("constant", "detrended", "flipped"),
                "series: anomaly r": ("constant", "shuffled"),
                "series: IAV": ("constant",)}
#: a series without flux has no trend, as the constant and detrended ones: its trend score is
#: theirs (≤ 0.5, tested above); its other scores and its overall are ≤ 0.1
ZERO_EXEMPT = ("series: trend",)
#: the columns each family of controlled models is about (the others are shown, not tested)
FAMILY_COLUMNS = {
    "rh": [c[0] for c in COLUMNS if c[1] in ("rh-global-totals", "rh-zonal-means", "rh-taylor")],
    "tau": [c[0] for c in COLUMNS if c[1] in ("soil-turnover", "soil-carbon-stocks")],
    "srdb": [c[0] for c in COLUMNS if c[1] == "rh-srdb-annual"],
    "mgrhd": [c[0] for c in COLUMNS if c[1] == "rh-daily-mgrhd"],
    "series": [c[0] for c in COLUMNS if c[1] == "rh-global-series"],
}
NULL_MODELS = ("constant", "shuffled", "flipped")
#: null models that are not null for a score, by construction: the Köppen groups and the mean annual
#: temperature are largely functions of |latitude|, so a world mirrored north–south still holds
#: tropical τ in the tropics and cold-climate τ in cold climates wherever it has land; its τ depends
#: on climate as the reference's does, and these scores rightly say so (the zonal and spatial
#: scores catch the mirror; docs/scores.md)
NULL_EXEMPT = {"tau: climate groups": ("flipped",), "tau: MAT curve": ("flipped",)}
#: the confrontations each family runs (the real models run them all); fewer tasks, same scores
FAMILY_CONFRONTATIONS = {"rh": ("rh-global-totals", "rh-zonal-means", "rh-taylor"), "tau": ("soil-turnover", "soil-carbon-stocks"),
                         "srdb": ("rh-srdb-annual",), "mgrhd": ("rh-daily-mgrhd",),
                         "series": ("rh-global-series",)}
#: the site families and the confrontation kind each is built for and scored by
SITE_FAMILIES = {"srdb": "srdb_annual", "mgrhd": "daily_rh"}
#: the controlled models of a site family: a climatology cannot be coarsened or smoothed without
#: losing the site values it is built to hold, so only the ladders, the null models and zero
SITE_MODELS = ("reference", "x1.1", "x1.3", "x2", "x0.91", "x0.77", "x0.5", "constant", "shuffled", "flipped",
               "zero")


@dataclass
class Suite:
    """One family of controlled models: their files and which quantities were transformed."""

    family: str
    files: dict[str, Path] = field(default_factory=dict)


def _write(ds: xr.Dataset, path: Path) -> Path:
    """A model file the loader reads as it reads any model: CMOR-like names, the period in the title.

    Written into a directory of its own (``path.parent / path.stem / path.name``), which is
    returned: files given together to ``soilbench run`` are one model, a directory is one model
    named after it (docs/running.md, "Model identity")."""
    from soilbench import atomic

    out = xr.Dataset(attrs={"title": PERIOD_TITLE, "comment": "soilbench score-validity controlled model"})
    for q in ("rh", "csoil"):
        if q in ds:
            units = "g m-2 yr-1" if q == "rh" else "kg m-2"
            name = "rh" if q == "rh" else "cSoil"
            out[name] = ds[q].astype("float32").assign_attrs(units=units)
    out["areacella"] = ds["cell_area"].assign_attrs(units="m2")
    out["sftlf"] = ds["land_fraction"].fillna(0.0).assign_attrs(units="1")
    out["lat"].attrs = {"units": "degrees_north", "standard_name": "latitude"}
    out["lon"].attrs = {"units": "degrees_east", "standard_name": "longitude"}
    directory = path.parent / path.stem
    directory.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(directory / path.name) as tmp:
        out.to_netcdf(tmp, encoding={v: {"zlib": True, "complevel": 1} for v in out.data_vars})
    return directory


def _loaded(reference_id: str, quantity: str, data_dir: str | None) -> xr.Dataset:
    from soilbench.load import load_reference

    ds = load_reference(reference_id, data_dir=data_dir)
    return ds[[quantity, "cell_area", "land_fraction"]].load()


def build_gridded(models_dir: Path, data_dir: str | None, coarse_deg: float, only: set[str] | None = None
                  ) -> list[Suite]:
    """The Rh family (from CARDAMOM) and the soil-carbon/τ family (HWSD/NCSCD stock over CARDAMOM Rh)."""
    return write_gridded_models(_loaded(RH_SOURCE, "rh", data_dir), _loaded(STOCK_SOURCE, "csoil", data_dir),
                                models_dir, coarse_deg, only)


def write_gridded_models(rh: xr.Dataset, stock: xr.Dataset, models_dir: Path, coarse_deg: float,
                         only: set[str] | None = None) -> list[Suite]:
    """Controlled models of an Rh product ``rh`` (family ``rh``) and of a soil carbon product
    ``stock`` over that Rh (family ``tau``: the stock is transformed, so τ is), as model files."""
    from soilbench.analysis import controlled, regrid

    if not regrid.same_grid(stock, rh):
        stock = regrid.regrid_field(stock, "csoil", rh).load()
    both = rh.assign(csoil=stock["csoil"], land_fraction=np.minimum(rh["land_fraction"], stock["land_fraction"]))
    suites = []
    for family, ds, quantities, pattern in (("rh", rh, ["rh"], ["rh"]), ("tau", both, ["csoil"], ["csoil", "rh"])):
        suite = Suite(family)
        for name, build in controlled.controlled_models(ds, quantities, coarse_deg, pattern_quantities=pattern).items():
            if only and name not in only:
                continue
            suite.files[name] = _write(build(), models_dir / f"{family}-{name}.nc")
        suites.append(suite)
    return suites


def build_sites(models_dir: Path, data_dir: str | None, config: Path, only: set[str] | None = None) -> list[Suite]:
    """The site families from the real data: CARDAMOM Rh with the observed cell means put in."""
    from soilbench.config import load_benchmark

    confrontations = [c for c in load_benchmark(config).build(data_dir) if c.kind in SITE_FAMILIES.values()]
    return write_site_models(_loaded(RH_SOURCE, "rh", data_dir), confrontations, models_dir, only)


def write_site_models(rh: xr.Dataset, confrontations: list, models_dir: Path, only: set[str] | None = None
                      ) -> list[Suite]:
    """Per site confrontation (``srdb_annual`` → family ``srdb``, ``daily_rh`` → ``mgrhd``): a
    climatology equal to the mean of the observations in each site's model cell (the value a
    gridded model can hold there; :func:`soilbench.analysis.sites.cell_means`), ``rh``
    elsewhere, with its bias ladders, the null models (constant at the field's land mean,
    shuffled, flipped) and zero, as model files. The cells are found as the confrontation finds
    them on this grid, so the field reproduces what the confrontation compares."""
    from soilbench.analysis import controlled
    from soilbench.analysis import sites as site_analysis
    from soilbench.load.grid import cell_edges

    valid = site_analysis.valid_land_cells(rh["rh"], rh["land_fraction"])
    suites = []
    for confrontation in confrontations:
        family = next(f for f, kind in SITE_FAMILIES.items() if kind == confrontation.kind)
        confrontation.stage_data()
        records = confrontation.site_records.records
        cells = site_analysis.locate_sites(valid, records["lat"].to_numpy(), records["lon"].to_numpy(),
                                           confrontation.options["max_distance_km"], *cell_edges(rh))
        # MGRhD's daily rates (g m-2 day-1) are held by the model as annual rates (g m-2 yr-1)
        per_year = site_analysis.DAYS_PER_CANONICAL_YEAR if family == "mgrhd" else 1.0
        reached = cells["located"].to_numpy()
        observed = records["observed"].to_numpy()[reached] * per_year
        means = site_analysis.cell_means(cells[reached].assign(observed=observed, modelled=0.0))
        values = rh["rh"].values.copy()
        values[means["ilat"].to_numpy(), means["ilon"].to_numpy()] = means["observed"].to_numpy()
        site_field = rh.assign(rh=rh["rh"].copy(data=values))
        builders = controlled.controlled_models(site_field, ["rh"], coarse_deg=None)
        suite = Suite(family)
        for name in SITE_MODELS:
            if only and name not in only:
                continue
            suite.files[name] = _write(builders[name](), models_dir / f"{family}-{name}.nc")
        suites.append(suite)
    return suites


def build_series(models_dir: Path, data_dir: str | None, only: set[str] | None = None) -> Suite:
    """The series family: controlled annual series of the Tang 2020 global Rh, as series-model CSVs."""
    from soilbench.analysis import controlled
    from soilbench.data import fetch
    from soilbench.load.series import read_digitised_series

    reference = read_digitised_series(fetch(SERIES_SOURCE, data_dir=data_dir))
    suite = Suite("series")
    models_dir.mkdir(parents=True, exist_ok=True)
    for name, values in controlled.controlled_series(reference).items():
        if only and name not in only:
            continue
        path = models_dir / f"series-{name}.csv"
        pd.DataFrame({"year": values.index, "value": values.to_numpy(), "units": "Pg C yr-1"}).to_csv(path, index=False)
        suite.files[name] = path
    return suite


def family_config(config: Path, names: tuple[str, ...] | None, out: Path) -> Path:
    """``config`` with only the confrontations ``names`` (all when None), written to ``out``."""
    import yaml

    definition = yaml.safe_load(config.read_text(encoding="utf-8"))
    if names is not None:
        definition["confrontations"] = [c for c in definition["confrontations"] if c["name"] in names]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    return out


def run_soilbench(models: list[str], out: Path, data_dir: str | None, config: Path, workers: int) -> pd.DataFrame:
    """``soilbench run`` on the models; the run's scalars."""
    command = [sys.executable, "-m", "soilbench", "run", "--config", str(config), "--models", *models,
               "--out", str(out), "--workers", str(workers), "--no-report", "--quiet"]
    if data_dir:
        command += ["--data-dir", data_dir]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"soilbench run failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    status = pd.read_csv(out / "status.csv")
    failed = status[status["status"] == "error"]
    if not failed.empty:
        print(f"warning: {len(failed)} task(s) failed:\n{failed.to_string(index=False)}", file=sys.stderr)
    return pd.read_csv(out / "scalars.csv")


def score_table(scalars: pd.DataFrame, families: dict[str, str]) -> pd.DataFrame:
    """Models × columns (COLUMNS) from a run's scalars; ``families`` maps model name → family."""
    rows = {}
    for model in families:
        mine = scalars[scalars["model"] == model]
        row = {}
        for label, confrontation, name, reference in COLUMNS:
            pick = mine[(mine["confrontation"] == confrontation) & (mine["name"] == name) & (mine["region"] == "global")]
            if reference == "central":
                pick = pick[pick["reference"].astype(str).str.contains("/")]
            elif reference is not None:
                pick = pick[pick["reference"] == reference]
            row[label] = float(pick["value"].iloc[0]) if len(pick) else np.nan
        rows[model] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def check(table: pd.DataFrame, families: dict[str, str], real: list[str]) -> list[str]:
    """The three tests; the list of failures (empty when every test holds)."""
    from soilbench.analysis import controlled

    failures = []

    def value(model: str, column: str) -> float:
        return float(table.at[model, column]) if model in table.index else np.nan

    for family, columns in FAMILY_COLUMNS.items():
        members = {m.split("-", 1)[1]: m for m, f in families.items() if f == family}
        if not members:
            continue
        for column in columns:
            for name in ("reference", "coarsened") if column not in COARSENED_EXEMPT else ("reference",):
                if name in members and not value(members[name], column) >= 0.95:
                    failures.append(f"test 1: {members[name]} scores {value(members[name], column):.3f} < 0.95 in {column}")
            for ladder in controlled.ladders() if column not in LADDER_EXEMPT else []:
                steps = [members[n] for n in ladder if n in members]
                scores_ = [value(m, column) for m in steps]
                for (a, sa), (b, sb) in zip(zip(steps, scores_), zip(steps[1:], scores_[1:])):
                    if not sb < sa:
                        failures.append(f"test 2: {b} ({sb:.3f}) does not score below {a} ({sa:.3f}) in {column}")
            # a missing component (NaN) counts as 0 in the overall score, which is tested too
            zero = value(members["zero"], column) if "zero" in members else np.nan
            if "zero" in members and column not in ZERO_EXEMPT and not (zero <= 0.1 or np.isnan(zero)):
                failures.append(f"test 3: {members['zero']} scores {zero:.3f} > 0.1 in {column}")
            for name in SERIES_NULLS.get(column, ()):
                v = value(members[name], column) if name in members else np.nan
                if name in members and not v <= 0.5:
                    failures.append(f"test 3: {members[name]} scores {v:.3f} > 0.5 in {column}")
            if column in DETECTING_COLUMNS:
                floor = min([value(m, column) for m in real if np.isfinite(value(m, column))], default=np.nan)
                for name in NULL_MODELS:
                    if name not in members or name in NULL_EXEMPT.get(column, ()):
                        continue
                    v = value(members[name], column)
                    if column in PATTERN_COLUMNS and not v <= 0.5:
                        failures.append(f"test 3: {members[name]} scores {v:.3f} > 0.5 in {column}")
                    if np.isfinite(floor) and not v < floor:
                        failures.append(f"test 3: {members[name]} ({v:.3f}) is not below every real model "
                                        f"({floor:.3f}) in {column}")
    return failures


def markdown(table: pd.DataFrame, families: dict[str, str]) -> str:
    """The table as Markdown, each family's columns filled, others left blank."""
    labels = [c[0] for c in COLUMNS]
    lines = ["| model | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for model, row in table.iterrows():
        family = families[model]
        shown = set(labels) if family == "real" else set(FAMILY_COLUMNS[family])
        cells = [f"{row[c]:.3f}" if c in shown and np.isfinite(row[c]) else ("n/a" if c in shown else "")
                 for c in labels]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def replace_table(path: Path, table_md: str, header: str) -> None:
    """Put the table between the markers of ``path`` (a Markdown document), atomically."""
    from soilbench import atomic

    text = path.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{path}: no {TABLE_START} … {TABLE_END} block to fill")
    before, rest = text.split(TABLE_START, 1)
    _, after = rest.split(TABLE_END, 1)
    with atomic.atomic_path(path) as tmp:
        Path(tmp).write_text(f"{before}{TABLE_START}\n{header}\n\n{table_md}{TABLE_END}{after}", encoding="utf-8")


def run_suite(work: Path, data_dir: str | None, *, synthetic: bool = False, coarse_deg: float = 2.0,
              sites: bool = True, workers: int = 1, only: set[str] | None = None,
              config: Path = CONFIG, real_models: list[str] | None = None, families_only: set[str] | None = None
              ) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Build the controlled models, run them with the real models, and test; (table, families, failures).

    ``families_only``: build and test only these families (the real models run only their
    confrontations)."""
    models_dir = work / "models"
    wanted = set(families_only or FAMILY_CONFRONTATIONS)
    suites = build_gridded(models_dir, data_dir, coarse_deg, only) if wanted & {"rh", "tau"} else []
    if sites and wanted & set(SITE_FAMILIES):
        suites += build_sites(models_dir, data_dir, config, only)
    if "series" in wanted:
        suites.append(build_series(models_dir, data_dir, only))
    suites = [s for s in suites if s.family in wanted]
    families = {f"{s.family}-{name}": s.family for s in suites for name in s.files}
    real_models = list(real_models if real_models is not None else REAL_MODELS)
    runs = [(s.family, [str(p) for p in s.files.values()], FAMILY_CONFRONTATIONS[s.family]) for s in suites]
    real_confrontations = None if families_only is None else tuple(
        name for family in sorted(wanted) for name in FAMILY_CONFRONTATIONS[family])
    runs.append(("real", real_models, real_confrontations))
    parts = []
    for family, models, names in runs:
        if models:
            family_yaml = family_config(config, names, work / "configs" / f"{family}.yaml")
            parts.append(run_soilbench(models, work / "out" / family, data_dir, family_yaml, workers))
    scalars = pd.concat(parts, ignore_index=True)
    real_names = sorted(set(scalars["model"]) - set(families) - {"references"})
    families.update({m: "real" for m in real_names})
    table = score_table(scalars, families)
    return table, families, check(table, families, real_names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="work directory (models, run output, table)")
    parser.add_argument("--data-dir", help="soilbench data directory (default: soilbench's own resolution)")
    parser.add_argument("--synthetic", action="store_true", help="use the synthetic world (no real data needed)")
    parser.add_argument("--coarse", type=float, default=2.0, help="grid of the coarsened reference (degrees)")
    parser.add_argument("--no-sites", action="store_true", help="skip the site-field models")
    parser.add_argument("--families", nargs="+", choices=sorted(FAMILY_CONFRONTATIONS),
                        help="only these families of controlled models (not with --markdown: the table is whole)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--markdown", type=Path, help="update the table block of this Markdown file")
    args = parser.parse_args(argv)
    if args.families and args.markdown:
        parser.error("--markdown needs every family (leave out --families)")
    args.work.mkdir(parents=True, exist_ok=True)
    data_dir, real = args.data_dir, None
    if args.synthetic:
        from soilbench.synthetic import generate_world

        world = generate_world(args.work / "world")
        os.environ["SOILBENCH_SYNTHETIC_REGISTRY"] = str(world.registry)
        data_dir, real = str(world.root), [str(p) for p in world.models.values()]
    table, families, failures = run_suite(args.work, data_dir, synthetic=args.synthetic, coarse_deg=args.coarse,
                                          sites=not args.no_sites, workers=args.workers, real_models=real,
                                          families_only=set(args.families) if args.families else None)
    table_md = markdown(table, families)
    (args.work / "table.md").write_text(table_md, encoding="utf-8")
    (args.work / "failures.json").write_text(json.dumps(failures, indent=1), encoding="utf-8")
    print(table_md)
    print("\n".join(failures) if failures else "every test holds")
    if args.markdown:
        source = "the synthetic world" if args.synthetic else "CARDAMOM, HWSD/NCSCD, SRDB V5 and MGRhD"
        replace_table(args.markdown, table_md, f"Controlled models built from {source}; "
                      f"`python benchmarks/score_validity.py --work DIR{' --synthetic' if args.synthetic else ''}`.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
