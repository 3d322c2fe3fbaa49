"""Writing the static site: jinja2 with autoescape, atomic files, nothing outside the output dir."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from soilbench import __version__, atomic
from soilbench.report.units import SUPERSCRIPTS, display_units
from soilbench.results import model_slug

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_FILES = ("report.css", "report.js")
#: no inline script or style anywhere, nothing from the network; images may be data: URIs
CSP = "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'"


def safe_name(name: str) -> str:
    """A file name for ``name``: as is when plainly safe, else :func:`model_slug` (hashed)."""
    text = str(name)
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,80}", text):
        return text
    return model_slug(text)


def environment() -> jinja2.Environment:
    """Templates with autoescape on for every file: all strings from results are untrusted."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the build, not the page
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["score"] = format_score
    env.filters["cell"] = format_cell
    env.filters["units"] = display_units
    env.globals["csp"] = CSP
    env.globals["version"] = __version__
    return env


def format_number(value: Any, digits: int = 3) -> str:
    """Compact display of a number; blank for missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if number != number:  # NaN
        return ""
    if number == 0:
        return "0"
    if number.is_integer() and abs(number) < 1e7:
        return str(int(number))  # study ids, years and counts: "5000", "1982", never "5,000"
    if 1e3 <= abs(number) < 1e7:
        return f"{number:,.0f}"
    if abs(number) >= 1e7 or abs(number) < 1e-4:  # "2.65×10⁷", not the programmer's "2.65e+07"
        mantissa, exponent = f"{number:.{digits}e}".split("e")
        mantissa = f"{float(mantissa):.{digits}g}"
        return f"{mantissa}×10{str(int(exponent)).translate(SUPERSCRIPTS)}"
    return f"{number:.{digits}g}"


def format_cell(value: Any) -> str:
    """A text cell: blank for missing (None, NaN, pandas NA), never the word "nan"."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # array-like values: shown as they are
        pass
    return str(value)


def format_score(value: Any) -> str:
    """Scores (0–1) with two decimals, as ILAMB prints them; blank for missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if number != number else f"{number:.2f}"


class Site:
    """The output directory; every write is atomic and checked to stay inside it."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.env = environment()

    def path(self, relative: str) -> Path:
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root):
            raise ValueError(f"refusing to write {relative!r} outside {self.root}")
        return target

    def write_text(self, relative: str, text: str) -> Path:
        return atomic.write_text(self.path(relative), text)

    def write_bytes(self, relative: str, data: bytes) -> Path:
        return atomic.write_bytes(self.path(relative), data)

    def write_csv(self, relative: str, frame: pd.DataFrame) -> Path:
        with atomic.atomic_path(self.path(relative)) as tmp:
            frame.to_csv(tmp, index=False)
        return self.path(relative)

    def render(self, relative: str, template: str, **context: Any) -> Path:
        depth = relative.count("/")
        html = self.env.get_template(template).render(root="../" * depth, **context)
        return self.write_text(relative, html)

    def copy_static(self) -> None:
        for name in STATIC_FILES:
            self.write_bytes(f"static/{name}", (PACKAGE_DIR / "static" / name).read_bytes())
