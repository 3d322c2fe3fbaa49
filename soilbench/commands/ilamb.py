"""``soilbench ilamb``: use soilbench's confrontations inside ILAMB 2.x's ``ilamb-run``.

``soilbench ilamb prepare --root DIR`` lays out an ILAMB_ROOT: soilbench's reference data as
ILAMB reference files under ``DIR/DATA/soilbench/``, the testbed models in CMOR names under
``DIR/MODELS/``, and the cfg ``DIR/soilbench-ilamb.cfg``. See ``docs/ilamb.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from soilbench.errors import SoilbenchError

CFG_NAME = "soilbench-ilamb.cfg"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ilamb", help="run soilbench's confrontations inside ILAMB 2.x (ilamb-run)",
        description="Helpers for running soilbench's confrontations as ILAMB 2.x confrontation types.")
    actions = parser.add_subparsers(dest="ilamb_command", metavar="ACTION", required=True)
    prepare = actions.add_parser(
        "prepare", help="write an ILAMB_ROOT with soilbench's references, the testbed models and the cfg",
        description="Write DIR/DATA/soilbench/ (soilbench's registered data, and its references as ILAMB "
        "reference files), DIR/MODELS/<name>/ (the testbed models in CMOR names and units) and "
        f"DIR/{CFG_NAME}. Then: ILAMB_ROOT=DIR ilamb-run --config DIR/{CFG_NAME} --model_root DIR/MODELS")
    prepare.add_argument("--root", required=True, metavar="DIR", help="the ILAMB_ROOT to write into")
    prepare.add_argument("--data-dir", metavar="DIR", help="data directory with soilbench's reference files")
    prepare.add_argument("--models", nargs="*", metavar="NAME=ID",
                         help="models to convert as ILAMB name=registered model id "
                              "(default: CASA-CNP=testbed-casacnp MIMICS=testbed-mimics; none with no values)")
    prepare.set_defaults(func=main_prepare)


def parse_models(items: list[str] | None) -> dict[str, str] | None:
    """``["CASA=testbed-casacnp"]`` → ``{"CASA": "testbed-casacnp"}``; None keeps the default."""
    if items is None:
        return None
    models = {}
    for item in items:
        name, sep, model_id = item.partition("=")
        if not sep or not name.strip() or not model_id.strip():
            raise SoilbenchError("--models", f"'{item}' is not NAME=ID")
        if not all(c.isalnum() or c in "-_." for c in name.strip()):
            # ILAMB uses the name in file paths it passes to the shell
            raise SoilbenchError("--models", f"model name '{name}' may only use letters, digits, '-', '_' and '.'")
        models[name.strip()] = model_id.strip()
    return models


def main_prepare(args: argparse.Namespace) -> int:
    from soilbench.config import CONFRONTATIONS_DIR
    from soilbench.ilamb.prepare import prepare

    cfg = CONFRONTATIONS_DIR / CFG_NAME
    done = prepare(Path(args.root), data_dir=args.data_dir, models=parse_models(args.models),
                   cfg=cfg if cfg.is_file() else None)
    root = done.root.resolve()
    print(f"ILAMB_ROOT {root}: {len(done.references)} reference files, {len(done.models)} model files, "
          f"{len(done.files)} data files copied")
    if done.missing:
        print(f"not available (confrontations that need them will fail): {', '.join(done.missing)}")
    if cfg.is_file():
        print(f"run: ILAMB_ROOT={root} ilamb-run --config {root / CFG_NAME} --model_root {root / 'MODELS'} "
              f"--build_dir {root / '_build'}")
    return 0
