"""soilbench performance benchmark: soilbench vs ILAMB 2.x vs a plain read of the data.

Generates (or reuses) a synthetic campaign with ``generate_campaign.py``, then runs each case in
its own subprocess, measuring wall time and the peak resident memory of the whole process tree
(psutil polling every 50 ms: the client, dask scheduler and worker processes, MPI ranks):

``floor-rh`` / ``floor-whole``
    ``read_floor.py``: read each model's rh (rh, cSoil, cLitter) once, one global sum.
``ilamb-rh``
    ``ilamb-run`` (single process) on the equivalent rh confrontation: a standard ILAMB
    Confrontation (period mean, bias, RMSE, seasonal cycle, spatial distribution/Taylor, global
    totals) against the monthly truth, with offline Natural Earth shapefiles.
``soilbench-rh-wN`` / ``soilbench-whole-wN``
    ``soilbench run`` of ``benchmarks/rh.yaml`` (global totals, zonal means, Taylor) on the same
    model directories ILAMB reads (rh, areacella, sftlf), or of ``benchmarks/whole.yaml``
    (+ SRDB annual, MGRhD daily, turnover) on the full model directories, with N workers, fresh
    output, HTML scorecard included (ILAMB's time includes its plots and pages too).

Before the cases every campaign file is read once, untimed, so that every case reads from the
page cache. Results: ``report.json`` and ``report.md`` in ``--work`` (and ``--report-dir``), and
a table on stdout. Ratios, never wall-time limits: speed-up = ILAMB time / soilbench time;
× floor = soilbench time / floor time. Aims (issue): speed-up ≥ 5, × floor ≤ 2, peak RSS ≤ 1 GB
for a 460 MB field.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
DEFAULT_WORK = Path("/tmp/soilbench-bench")
CONFIGS = {"rh": HERE / "rh.yaml", "whole": HERE / "whole.yaml"}
FLOOR_VARIABLES = {"rh": ["rh"], "whole": ["rh", "cSoil", "cLitter"]}
GIB = 1 << 30
MIB = 1 << 20
AIM_SPEEDUP = 5.0
AIM_FLOOR_RATIO = 2.0
AIM_RSS_BYTES = GIB

ILAMB_CFG = """\
[h1: Ecosystem and Carbon Cycle]
bgcolor = "#ECFFE6"

[h2: Heterotrophic Respiration]
variable = "rh"
cmap = "Oranges"
weight = 4

[SYNTH]
source = "DATA/rh/SYNTH/rh.nc"
table_unit = "Pg yr-1"
plot_unit = "g m-2 d-1"
space_mean = False
weight = 15
"""


@dataclass
class Measurement:
    """One case: its command, exit status, wall time and peak memory."""

    case: str
    command: list[str]
    returncode: int | None = None
    wall_s: float | None = None
    peak_rss_tree_bytes: int = 0      # peak of the sum over the process tree
    peak_rss_process_bytes: int = 0   # largest single process
    peak_processes: int = 0
    #: after ``marker`` appeared (run.json: the scorecard is being built), when a marker is given
    report_s: float | None = None
    report_peak_rss_tree_bytes: int = 0
    report_peak_rss_process_bytes: int = 0
    #: CPU seconds of the process tree after ``marker`` appeared (the scorecard's CPU)
    report_cpu_s: float | None = None
    run_duration_s: float | None = None  # run.json's duration_s: the tasks, without start-up and scorecard
    #: user + system CPU seconds of the whole process tree: unlike wall time, hardly changed by other
    #: work on the machine, so parallel runs can be compared on a busy machine
    cpu_s: float | None = None
    timed_out: bool = False
    log: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def _tree_rss(root: psutil.Process, cpu: dict[int, float] | None = None) -> tuple[int, int, int]:
    """(sum, max, count) of the RSS of ``root`` and all its descendants now; each process's CPU
    seconds so far into ``cpu`` (by pid)."""
    total = largest = count = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0, 0
    for proc in processes:
        try:
            rss = proc.memory_info().rss
            if cpu is not None:
                times = proc.cpu_times()
                cpu[proc.pid] = times.user + times.system
        except psutil.Error:
            continue
        total += rss
        largest = max(largest, rss)
        count += 1
    return total, largest, count


def measure(case: str, command: list[str], env: dict[str, str], cwd: Path, log_path: Path,
            timeout_s: float, interval_s: float = 0.05, marker: Path | None = None) -> Measurement:
    """Run ``command`` and poll its process tree's memory until it exits (or times out).

    With ``marker`` (a file the command writes part-way, e.g. ``run.json`` before the scorecard),
    the time and peak memory after it appeared are reported apart (``report_*``).
    """
    result = Measurement(case=case, command=command, log=str(log_path))
    marked_at: float | None = None
    cpu_at_marker = 0.0
    cpu: dict[int, float] = {}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            total, largest, count = _tree_rss(root, cpu)
            result.peak_rss_tree_bytes = max(result.peak_rss_tree_bytes, total)
            result.peak_rss_process_bytes = max(result.peak_rss_process_bytes, largest)
            result.peak_processes = max(result.peak_processes, count)
            if marker is not None and marked_at is None and marker.exists():
                marked_at = time.perf_counter()
                cpu_at_marker = sum(cpu.values())
            if marked_at is not None:
                result.report_peak_rss_tree_bytes = max(result.report_peak_rss_tree_bytes, total)
                result.report_peak_rss_process_bytes = max(result.report_peak_rss_process_bytes, largest)
            if time.perf_counter() - started > timeout_s:
                result.timed_out = True
                for child in root.children(recursive=True):
                    child.kill()
                proc.kill()
                proc.wait()
                break
            time.sleep(interval_s)
        ended = time.perf_counter()
        result.wall_s = round(ended - started, 2)
        result.cpu_s = round(sum(cpu.values()), 1)  # up to one poll interval of each process is missed
        result.returncode = proc.returncode
        if marked_at is not None:
            result.report_s = round(ended - marked_at, 2)
            result.report_cpu_s = round(sum(cpu.values()) - cpu_at_marker, 1)
    return result


# -- cases -------------------------------------------------------------------------------------------
def campaign(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(HERE))
    import generate_campaign

    gen_args = generate_campaign.build_parser().parse_args([
        "--out", str(args.work / "campaign"), "--years", args.years, "--resolution", str(args.resolution),
        "--models", str(args.models), "--srdb-rows", str(args.srdb_rows), "--mgrhd-rows", str(args.mgrhd_rows),
        "--mgrhd-studies", str(args.mgrhd_studies), *(["--force"] if args.regenerate else []),
    ])
    return generate_campaign.generate(gen_args)


def warm_page_cache(root: Path) -> float:
    """Read every campaign file once (untimed) so that no case pays for the first disk read."""
    started = time.perf_counter()
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as stream:
                while stream.read(16 * MIB):
                    pass
    return time.perf_counter() - started


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("MPLBACKEND", "Agg")
    env["OMP_NUM_THREADS"] = env.get("OMP_NUM_THREADS", "1")
    return env


def model_dirs(mode: str, manifest: dict) -> list[str]:
    """rh mode: the ILAMB model directories (rh, areacella, sftlf: exactly ILAMB's inputs);
    whole mode: the full model directories (with cSoil and cLitter)."""
    if mode == "rh":
        return [str(Path(manifest["ilamb_root"]) / "MODELS" / name) for name in manifest["models"]]
    return list(manifest["models"].values())


def floor_case(mode: str, manifest: dict, args: argparse.Namespace, n_models: int | None = None) -> Measurement:
    case = f"floor-{mode}" if n_models is None else f"floor-{mode}-n{n_models}"
    command = [sys.executable, str(HERE / "read_floor.py"), *model_dirs(mode, manifest)[:n_models],
               "--variables", *FLOOR_VARIABLES[mode]]
    return measure(case, command, base_env(), args.work, args.work / "logs" / f"{case}.log", args.timeout)


def natural_earth_dir(work: Path) -> Path:
    """Offline Natural Earth shapefiles for ILAMB's maps (soilbench.ilamb's mechanism)."""
    from soilbench.ilamb.naturalearth import write_layers

    return write_layers(work / "natural_earth")


def ilamb_case(manifest: dict, args: argparse.Namespace) -> Measurement:
    run_dir = args.work / "ilamb-run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    (run_dir / "rh.cfg").write_text(ILAMB_CFG)
    env = base_env()
    env.update(ILAMB_ROOT=manifest["ilamb_root"], CARTOPY_DATA_DIR=str(natural_earth_dir(args.work)))
    command = [shutil.which("ilamb-run") or "ilamb-run", "--config", "rh.cfg",
               "--model_root", str(Path(manifest["ilamb_root"]) / "MODELS"), "--build_dir", str(run_dir / "_build")]
    result = measure("ilamb-rh", command, env, run_dir, args.work / "logs" / "ilamb-rh.log", args.timeout)
    scores = run_dir / "_build" / "scores.csv"
    if result.ok and not scores.is_file():
        result.notes.append("ilamb-run exited 0 but wrote no scores.csv")
        result.returncode = result.returncode or 1
    return result


def soilbench_case(mode: str, workers: int, manifest: dict, args: argparse.Namespace,
                   n_models: int | None = None) -> Measurement:
    """``soilbench run`` of one mode; with ``n_models``, on the campaign's first N models only
    (a point of the scaling series)."""
    case = f"soilbench-{mode}-w{workers}" if n_models is None else f"soilbench-{mode}-n{n_models}-w{workers}"
    out = args.work / f"out-{case.removeprefix('soilbench-')}"
    if out.exists():
        shutil.rmtree(out)
    env = base_env()
    env["SOILBENCH_SYNTHETIC_REGISTRY"] = manifest["registry"]
    command = [sys.executable, "-m", "soilbench", "run", "--config", str(CONFIGS[mode]),
               "--models", *model_dirs(mode, manifest)[:n_models], "--out", str(out), "--data-dir",
               manifest["data_dir"], "--workers", str(workers), "--quiet", "--force"]
    if args.no_html:
        command.append("--no-report")
    result = measure(case, command, env, args.work, args.work / "logs" / f"{case}.log", args.timeout,
                     marker=out / "run.json")
    try:
        result.run_duration_s = json.loads((out / "run.json").read_text())["duration_s"]
    except (OSError, ValueError, KeyError):
        pass
    status = out / "status.csv"
    if status.is_file():
        import csv

        with open(status, newline="") as stream:
            rows = list(csv.DictReader(stream))
        failed = [f"{r['confrontation']}/{r['model']}: {r['error']}" for r in rows if r["status"] != "ok"]
        result.notes.extend(f"task failed: {f}" for f in failed)
        result.notes.append(f"{len(rows) - len(failed)}/{len(rows)} tasks ok")
    return result


def median_run(runs: list[Measurement]) -> Measurement:
    """The run of median wall time (of the successful ones; the lower middle one for an even
    count), its case's other wall times in its notes."""
    ok = sorted((m for m in runs if m.ok), key=lambda m: m.wall_s or 0.0)
    if not ok:
        return runs[0]
    median = ok[(len(ok) - 1) // 2]
    if len(runs) > 1:
        median.notes.append(f"wall times of the {len(runs)} rounds: {[m.wall_s for m in runs]}; "
                            f"CPU: {[m.cpu_s for m in runs]}")
    return median


# -- report -------------------------------------------------------------------------------------------
def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def summarise(results: dict[str, Measurement], manifest: dict,
              rounds: list[dict[str, Measurement]] | None = None) -> dict:
    """Ratios and aims for every soilbench case."""
    field_bytes = manifest["rh_uncompressed_bytes"]
    rows = []
    ilamb = results.get("ilamb-rh")
    for case, m in results.items():
        if not case.startswith("soilbench-"):
            continue
        mode = case.split("-")[1]
        series = re.fullmatch(r"soilbench-(\w+)-n(\d+)-w\d+", case)
        floor = results.get(f"floor-{mode}" if series is None else f"floor-{mode}-n{series.group(2)}")
        speedup = _ratio(ilamb.wall_s, m.wall_s) if (mode == "rh" and ilamb and ilamb.ok and m.ok) else None
        floor_ratio = _ratio(m.wall_s, floor.wall_s) if (floor and floor.ok and m.ok) else None
        rows.append({
            "case": case, "ok": m.ok, "wall_s": m.wall_s,
            "speedup_vs_ilamb": speedup, "times_floor": floor_ratio,
            "peak_rss_tree_mib": round(m.peak_rss_tree_bytes / MIB),
            "peak_rss_process_mib": round(m.peak_rss_process_bytes / MIB),
            "run_s": m.run_duration_s, "scorecard_s": m.report_s,
            "scorecard_share": _ratio(m.report_s, m.wall_s),
            "scorecard_peak_rss_process_mib": round(m.report_peak_rss_process_bytes / MIB),
            "aims": {
                "speedup_ge_5": None if speedup is None else speedup >= AIM_SPEEDUP,
                "within_2x_floor": None if floor_ratio is None else floor_ratio <= AIM_FLOOR_RATIO,
                "peak_rss_le_1gib": m.peak_rss_tree_bytes <= AIM_RSS_BYTES,
            },
        })
    return {"rh_field_uncompressed_mib": round(field_bytes / MIB, 1), "soilbench": rows,
            "scaling": scaling(results, rounds)}


def scaling(results: dict[str, Measurement], rounds: list[dict[str, Measurement]] | None = None) -> list[dict]:
    """The scaling series (cases ``soilbench-rh-n<N>-w<W>``): per N, wall time per worker count,
    the speed-up of the largest worker count over 1 worker (of the median runs, and of each round's
    pair of runs), seconds per model, the scorecard's share of the wall and CPU time, and memory."""
    paired: dict[int, list[float | None]] = {}
    for by_case in rounds or []:
        for case, m in by_case.items():
            match = re.fullmatch(r"soilbench-(\w+)-n(\d+)-w(\d+)", case)
            if match and int(match.group(3)) != 1 and m.ok:
                one = by_case.get(f"soilbench-{match.group(1)}-n{match.group(2)}-w1")
                if one is not None and one.ok:
                    paired.setdefault(int(match.group(2)), []).append(_ratio(one.wall_s, m.wall_s))
    points: dict[int, dict[int, Measurement]] = {}
    for case, m in results.items():
        match = re.fullmatch(r"soilbench-\w+-n(\d+)-w(\d+)", case)
        if match and m.ok:
            points.setdefault(int(match.group(1)), {})[int(match.group(2))] = m
    rows = []
    for n, by_workers in sorted(points.items()):
        one, most = by_workers.get(1), by_workers[max(by_workers)]
        floor = results.get(next((c for c in results if re.fullmatch(rf"floor-\w+-n{n}", c)), ""))
        rows.append({
            "models": n,
            "wall_s": {w: m.wall_s for w, m in sorted(by_workers.items())},
            "cpu_s": {w: m.cpu_s for w, m in sorted(by_workers.items())},
            "run_s": {w: m.run_duration_s for w, m in sorted(by_workers.items())},
            "scorecard_s": {w: m.report_s for w, m in sorted(by_workers.items())},
            "scorecard_share": {w: _ratio(m.report_s, m.wall_s) for w, m in sorted(by_workers.items())},
            "scorecard_cpu_share": {w: _ratio(m.report_cpu_s, m.cpu_s) for w, m in sorted(by_workers.items())},
            "paired_speedups": paired.get(n, []),
            "floor_s": floor.wall_s if floor is not None and floor.ok else None,
            "speedup_most_workers": _ratio(one.wall_s, most.wall_s) if one is not None and most is not one else None,
            "s_per_model": {w: round(m.wall_s / n, 2) for w, m in sorted(by_workers.items())},
            "peak_rss_process_mib": {w: round(m.peak_rss_process_bytes / MIB) for w, m in sorted(by_workers.items())},
            "scorecard_peak_rss_process_mib": {w: round(m.report_peak_rss_process_bytes / MIB)
                                               for w, m in sorted(by_workers.items())},
        })
    return rows


def markdown(report: dict) -> str:
    lines = [
        f"# soilbench performance benchmark — {report['created']}", "",
        f"Machine: {report['machine']['cpus']} CPUs, {report['machine']['memory_gib']} GiB RAM, "
        f"{report['machine']['platform']}; Python {report['machine']['python']}; load average (1, 5, 15 min) "
        f"{report['machine'].get('load_average_at_start')} at the start, {report['machine']['load_average_at_end']} "
        f"at the end; {report.get('rounds', 1)} round(s), median runs below.",
        f"Campaign: {report['campaign']['models']} models, grid {report['campaign']['grid'][0]}×"
        f"{report['campaign']['grid'][1]}, {report['campaign']['time_steps']} monthly steps "
        f"({report['campaign']['years']}); one model's rh = {report['summary']['rh_field_uncompressed_mib']} MiB "
        "uncompressed.", "",
        f"Command: `{report['command']}`", "",
        "| case | ok | wall (s) | CPU (s) | peak RSS tree (MiB) | largest process (MiB) | processes |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for m in report["measurements"]:
        lines.append(f"| {m['case']} | {'yes' if m['ok'] else 'NO'} | {m['wall_s']} | {m.get('cpu_s')} | "
                     f"{round(m['peak_rss_tree_bytes'] / MIB)} | {round(m['peak_rss_process_bytes'] / MIB)} | "
                     f"{m['peak_processes']} |")
    lines += ["", "| soilbench case | speed-up vs ILAMB (aim ≥ 5) | × floor (aim ≤ 2) | peak RSS MiB (aim ≤ 1024) |",
              "|---|---:|---:|---:|"]

    def mark(value, ok):
        if value is None:
            return "n/a"
        return f"{value} {'✓' if ok else '✗'}"

    for row in report["summary"]["soilbench"]:
        aims = row["aims"]
        lines.append(f"| {row['case']} | {mark(row['speedup_vs_ilamb'], aims['speedup_ge_5'])} | "
                     f"{mark(row['times_floor'], aims['within_2x_floor'])} | "
                     f"{mark(row['peak_rss_tree_mib'], aims['peak_rss_le_1gib'])} |")
    if report["summary"].get("scaling"):
        lines += ["", "Scaling series (rh confrontations, first N models of the campaign):", "",
                  "| N | workers | wall (s) | CPU (s) | run.json (s) | scorecard (s) | scorecard share of wall / CPU "
                  "| s per model | largest process (MiB) | scorecard process (MiB) | floor (s) |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in report["summary"]["scaling"]:
            for w, wall in row["wall_s"].items():
                lines.append(f"| {row['models']} | {w} | {wall} | {row['cpu_s'][w]} | {row['run_s'][w]} | "
                             f"{row['scorecard_s'][w]} | {row['scorecard_share'][w]} / {row['scorecard_cpu_share'][w]} | "
                             f"{row['s_per_model'][w]} | {row['peak_rss_process_mib'][w]} | "
                             f"{row['scorecard_peak_rss_process_mib'][w]} | {row['floor_s']} |")
        lines += ["", "| N | speed-up, most workers vs 1, median runs (aim ≥ 1.7 at 12 and 24) | each round's pair |",
                  "|---:|---:|---|"]
        lines += [f"| {row['models']} | {row['speedup_most_workers']} | {row['paired_speedups']} |"
                  for row in report["summary"]["scaling"]]
    notes = [f"- {m['case']}: {n}" for m in report["measurements"] for n in m["notes"]]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines) + "\n"


def print_table(report: dict) -> None:
    print(f"\n{'case':24} {'ok':>3} {'wall s':>8} {'RSS tree MiB':>13} {'max proc MiB':>13}")
    for m in report["measurements"]:
        print(f"{m['case']:24} {'y' if m['ok'] else 'N':>3} {m['wall_s']!s:>8} "
              f"{round(m['peak_rss_tree_bytes'] / MIB):>13} {round(m['peak_rss_process_bytes'] / MIB):>13}")
    print(f"\n{'soilbench case':24} {'vs ILAMB':>9} {'x floor':>8} {'RSS MiB':>8}")
    for row in report["summary"]["soilbench"]:
        print(f"{row['case']:24} {row['speedup_vs_ilamb']!s:>9} {row['times_floor']!s:>8} {row['peak_rss_tree_mib']:>8}")


# -- main ---------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="work directory (campaign, outputs, logs)")
    parser.add_argument("--report-dir", type=Path, help="also copy report.json/report.md here")
    parser.add_argument("--years", default="1982-2018", help="FIRST-LAST years of the campaign")
    parser.add_argument("--resolution", type=float, default=0.5, help="grid spacing in degrees")
    parser.add_argument("--models", type=int, default=3, help="number of models")
    parser.add_argument("--srdb-rows", type=int, default=10366)
    parser.add_argument("--mgrhd-rows", type=int, default=11811)
    parser.add_argument("--mgrhd-studies", type=int, default=304)
    parser.add_argument("--modes", nargs="+", choices=sorted(CONFIGS), default=["rh", "whole"],
                        help="rh: gridded rh confrontations only; whole: the whole benchmark")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2], help="soilbench worker counts to run")
    parser.add_argument("--skip-ilamb", action="store_true", help="do not run the ILAMB 2.x baseline")
    parser.add_argument("--no-html", action="store_true", help="soilbench without its HTML scorecard")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds per case")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the campaign")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every case this many times, interleaved (all cases once per round); the "
                             "report gives each case's median run and each round's paired speed-ups")
    parser.add_argument("--scaling", nargs="+", type=int, metavar="N",
                        help="run the scaling series instead: rh confrontations on the first N models for each N "
                             "(the campaign gets max(N) models), each with every --workers count, and the floor")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.scaling:
        args.models = max(args.models, *args.scaling)
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    manifest = campaign(args)
    warm_s = warm_page_cache(args.work / "campaign")

    rounds: list[dict[str, Measurement]] = []
    for _ in range(max(1, args.rounds)):
        results: dict[str, Measurement] = {}
        if args.scaling:
            for n in sorted(set(args.scaling)):
                results[f"floor-rh-n{n}"] = floor_case("rh", manifest, args, n)
                for workers in args.workers:
                    m = soilbench_case("rh", workers, manifest, args, n)
                    results[m.case] = m
        else:
            for mode in args.modes:
                results[f"floor-{mode}"] = floor_case(mode, manifest, args)
            if "rh" in args.modes and not args.skip_ilamb:
                results["ilamb-rh"] = ilamb_case(manifest, args)
            for mode in args.modes:
                for workers in args.workers:
                    m = soilbench_case(mode, workers, manifest, args)
                    results[m.case] = m
        rounds.append(results)
    results = {case: median_run([r[case] for r in rounds]) for case in rounds[0]}
    for m in results.values():
        print(f"{m.case}: {'ok' if m.ok else 'FAILED'} in {m.wall_s} s (log {m.log})", file=sys.stderr)

    report = {
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "benchmarks/run_benchmark.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / GIB, 1),
                    "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_start": load_at_start,
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "campaign": {"years": manifest["params"]["years"], "resolution": manifest["params"]["resolution"],
                     "models": manifest["params"]["models"], "grid": manifest["grid"],
                     "time_steps": manifest["time_steps"], "directory": str(args.work / "campaign"),
                     "file_bytes": manifest["file_bytes"], "page_cache_warm_s": round(warm_s, 1)},
        "rounds": len(rounds),
        "measurements": [{**asdict(m), "ok": m.ok} for m in results.values()],
        "all_rounds": [[{**asdict(m), "ok": m.ok} for m in r.values()] for r in rounds] if len(rounds) > 1 else [],
        "summary": summarise(results, manifest, rounds),
    }
    text = markdown(report)
    for directory in filter(None, [args.work, args.report_dir]):
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "report.json").write_text(json.dumps(report, indent=2))
        (directory / "report.md").write_text(text)
    print_table(report)
    print(f"\nreport: {args.work / 'report.md'}")
    return 0 if all(m.ok for m in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
