"""``soilbench inspect``: show what soilbench reads from model output or a reference.

Per quantity: the source variable(s), the units found and the canonical units, and the global
total; for the dataset: the grid as found, calendar, period and time steps. ``--json`` prints
the same as machine-readable JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soilbench.errors import SoilbenchError

if TYPE_CHECKING:
    import xarray as xr


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="show what soilbench reads from model output or a reference",
        description="Show, per quantity, the source variables, units found and canonical, the grid, "
        "calendar, period, time steps and the global total. PATHs that are files are read together "
        "as one model (e.g. one file per variable); a directory, registry id (cardamom-rh, "
        "testbed-casacnp...) or catalog entry id is inspected on its own.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="NetCDF file(s), directory, registry or catalog id")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--period", nargs=2, type=int, metavar=("Y0", "Y1"), help="years to keep (inclusive)")
    parser.add_argument("--data-dir", default=None, help="data directory for registry ids")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    period = tuple(args.period) if args.period else None
    reports = [describe(_load(target, period, args.data_dir), target) for target in _targets(args.paths)]
    if args.json:
        print(json.dumps(reports if len(reports) > 1 else reports[0], indent=2))
    else:
        print("\n\n".join(format_report(r) for r in reports))
    return 0


def _targets(paths: list[str]) -> list[Any]:
    """Group existing files into one model; everything else stands alone."""
    files = [p for p in paths if Path(p).is_file()]
    others = [p for p in paths if not Path(p).is_file()]
    return ([files if len(files) > 1 else files[0]] if files else []) + others


def _load(target: Any, period, data_dir) -> xr.Dataset:
    from soilbench.load import load_model, load_reference, sources
    from soilbench.load.reference import gridded_reference_ids

    if isinstance(target, list) or Path(target).exists():
        return load_model(target, period=period)
    if target in gridded_reference_ids():
        return load_reference(target, data_dir=data_dir)
    if sources.is_registry_id(target):
        return load_model(target, period=period, data_dir=data_dir)
    from soilbench import catalogs

    try:
        entry = catalogs.find_entry(target)
    except SoilbenchError:
        raise SoilbenchError(target, "is not a file, directory, registry id or catalog entry") from None
    return load_model(entry, period=period, data_dir=data_dir)


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


def describe(ds: xr.Dataset, target: Any) -> dict[str, Any]:
    """The facts ``inspect`` shows about one canonical dataset, as plain JSON-able values."""
    from soilbench.analysis import integrate
    from soilbench.quantities import QUANTITIES

    quantities = []
    for name in ds.data_vars:
        da = ds[name]
        if name in ("cell_area", "land_fraction"):
            continue
        entry = {"quantity": name, "source": da.attrs.get("source", name), "units_found": _units_found(da),
                 "units": da.attrs.get("units", ""), "global_total": None, "total_units": None}
        if name in QUANTITIES and QUANTITIES[name].total_units:
            total = integrate.period_total(ds, name)
            entry.update(global_total=_number(float(total.values)), total_units=total.attrs["units"])
        quantities.append(entry)
    has_time = "time" in ds.dims
    land = integrate.land_area(ds)
    return {
        "target": target if isinstance(target, str) else [str(t) for t in target],
        "name": ds.attrs.get("model", ""),
        "kind": "reference" if "reference" in ds.attrs else "model",
        "source_files": ds.attrs.get("source_files", "").split(";"),
        "grid": {
            "nlat": ds.sizes["lat"], "nlon": ds.sizes["lon"], "found": ds.attrs.get("grid_found", ""),
            "lon_convention_found": ds.attrs.get("lon_convention_found", ""),
            "lat_order_found": ds.attrs.get("lat_order_found", ""),
            "canonical": "lat ascending, lon -180-180",
        },
        "cell_area": ds["cell_area"].attrs.get("source", ""),
        "land_fraction": ds["land_fraction"].attrs.get("source", ""),
        "land_area_Mkm2": _number(float(land.sum()) / 1e12),
        "calendar": ds.attrs.get("calendar", ""),
        "period": ds.attrs.get("period", ""),
        "period_requested": ds.attrs.get("period_requested"),
        "period_overlap": ds.attrs.get("period_overlap"),
        "climatology": bool(ds.attrs.get("climatology", 0)),
        "time_steps": int(ds.sizes["time"]) if has_time else 0,
        "step_lengths": ds["step_days"].attrs.get("source", "") if has_time else "",
        "quantities": quantities,
    }


def _units_found(da: xr.DataArray) -> str:
    if da.attrs.get("units_found"):
        return str(da.attrs["units_found"])
    found = []
    for part in str(da.attrs.get("source", "")).split(" + "):
        if "[" in part:
            unit = part[part.index("[") + 1: part.rindex("]")]
            if unit not in found:
                found.append(unit)
    return ", ".join(found)


def format_report(report: dict[str, Any]) -> str:
    """The human-readable table for one dataset."""
    grid = report["grid"]
    if report["climatology"]:
        time_text = f"one-period mean {report['period']} (no time axis)"
    else:
        time_text = f"{report['time_steps']} steps, {report['period']} ({report['step_lengths']})"
    if report["period_requested"]:
        time_text += f"; requested {report['period_requested']}, overlap {report['period_overlap']}"
    lines = [
        f"{report['name']}  [{report['kind']}]",
        f"  files       {'; '.join(report['source_files'])}",
        f"  grid        {grid['found']} -> {grid['canonical']}",
        f"  calendar    {report['calendar'] or '-'}",
        f"  time        {time_text}",
        f"  cell area   {report['cell_area']}",
        f"  land frac.  {report['land_fraction']}  (land area {report['land_area_Mkm2']:.2f} Mkm2)",
        "",
    ]
    rows = [("quantity", "source", "units found -> canonical", "global total")]
    for q in report["quantities"]:
        total = "" if q["global_total"] is None else f"{q['global_total']:,.2f} {q['total_units'].replace('Pg', 'Pg C')}"
        names = re.sub(r"\s*\[[^\]]*\]", "", q["source"])  # units are in the next column
        rows.append((q["quantity"], names, f"{q['units_found']} -> {q['units']}", total))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        lines.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3].rjust(16))
    return "\n".join(lines)
