"""Figures for the report, chosen by plot convention (field ``plot`` attrs, table ``plot`` kinds).

Each function takes saved data and returns PNG bytes; none knows which confrontation made the
data. Figures use matplotlib's object API on the Agg canvas (no pyplot state, no display), and
maps draw soilbench's shipped coastlines (:mod:`soilbench.report.coastlines`) so nothing is
downloaded.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot: headless, no display needed

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib import colors as mcolors
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from soilbench.report.units import display_units, with_units

DPI = 100
MODEL_COLORS = ("#1b6ca8", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#e6ab02",
                "#17becf", "#8c564b")
REFERENCE_COLOR = "#222222"
#: one marker per model beside its colour, so models with near-identical statistics stay
#: distinguishable where they overlap (references keep the diamond "D", never used here)
MODEL_MARKERS = ("o", "s", "^", "v", "P", "X", "<", ">", "p", "h")
#: shared reference curves (drawn once for all models): distinct dashes and greys, never all alike
REFERENCE_STYLES = (("#222222", "--"), ("#777777", "-."), ("#444444", ":"), ("#999999", (0, (5, 1, 1, 1))))
#: several curves of one model (original / emulated / constrained): same colour, own line and marker
VARIANT_STYLES = (("-", "o"), (":", "s"), ("-.", "^"), ((0, (1, 3)), "v"))
CATEGORY_COLORS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")
#: Wilcoxon-style site classes get fixed, meaningful colours when their labels say so
CLASS_HINTS = (("higher", "#d6604d"), ("lower", "#4393c3"), ("no ", "#bababa"), ("not ", "#bababa"))


def model_color(index: int) -> str:
    return MODEL_COLORS[index % len(MODEL_COLORS)]


def model_marker(index: int) -> str:
    return MODEL_MARKERS[index % len(MODEL_MARKERS)]


PAD_INCHES = 0.12


def _png(fig: Figure) -> bytes:
    """PNG of ``fig``, cropped to what is drawn: long titles, labels and legends are never cut.

    The crop is what ``bbox_inches="tight"`` finds; for a figure without a layout engine (the
    maps) it is found here with the images hidden, since an image never reaches past its axes:
    matplotlib's own pass would resample every image once more only to measure the text around it.
    """
    canvas = FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    crop: Any = "tight"
    images = [image for ax in fig.axes for image in ax.images if image.get_visible()]
    if images and fig.get_layout_engine() is None:
        dpi = fig.dpi
        fig.dpi = DPI
        try:
            for image in images:
                image.set_visible(False)
            renderer = canvas.get_renderer()
            with renderer._draw_disabled():  # what savefig does before measuring
                fig.draw(renderer)
            crop = fig.get_tightbbox(renderer).padded(PAD_INCHES)
        finally:
            for image in images:
                image.set_visible(True)
            fig.dpi = dpi
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches=crop, pad_inches=PAD_INCHES)
    return buffer.getvalue()


def _label(attrs: dict[str, Any], fallback: str = "") -> str:
    return with_units(str(attrs.get("long_name") or fallback), attrs.get("units"))


def wrap(text: str, width: int = 32) -> str:
    """Long labels on several lines instead of cut: every word of a label is worth reading."""
    return "\n".join(textwrap.wrap(str(text), width, break_long_words=False, break_on_hyphens=False)) or str(text)


def legend_columns(labels: Sequence[str], budget: int = 96, most: int = 4) -> int:
    """How many legend columns of these (wrapped) labels fit a line of ``budget`` characters."""
    longest = max((len(line) for label in labels for line in str(label).split("\n")), default=1)
    return max(1, min(most, len(labels), budget // (longest + 6)))


def legend_below(fig: Figure, handles: Sequence[Any], labels: Sequence[str], budget: int = 96) -> None:
    """A legend under the figure, as many columns as fit; the tight PNG crop keeps it whole."""
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=legend_columns(labels, budget),
               fontsize=8, frameon=False)


# -- maps ---------------------------------------------------------------------------------------
def parse_categories(text: str) -> dict[int, str]:
    """``"0:stock bias;1:flux bias"`` → ``{0: "stock bias", 1: "flux bias"}``."""
    out: dict[int, str] = {}
    for item in str(text or "").split(";"):
        code, _, label = item.partition(":")
        try:
            out[int(code.strip())] = label.strip()
        except ValueError:
            continue
    return out


def map_limits(arrays: Sequence[xr.DataArray]) -> tuple[float, float]:
    """Shared colour limits for maps of the same variable: attrs when given, else 2–98 % of all."""
    attrs = arrays[0].attrs
    if "vmin" in attrs and "vmax" in attrs:
        return float(attrs["vmin"]), float(attrs["vmax"])
    values = np.concatenate([np.asarray(a.values, dtype=float).ravel() for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    colormap = attrs.get("colormap", "sequential")
    role = attrs.get("role")
    if colormap == "diverging" and role == "ratio":
        spread = float(np.nanpercentile(np.abs(np.log(values[values > 0])), 98)) if (values > 0).any() else 1.0
        spread = spread or 1.0
        return float(np.exp(-spread)), float(np.exp(spread))
    if colormap == "diverging":
        bound = float(np.nanpercentile(np.abs(values), 98)) or 1.0
        return -bound, bound
    low, high = np.nanpercentile(values, [2, 98])
    return float(low), float(high if high > low else low + 1)


def map_figure(field: xr.DataArray, title: str, limits: tuple[float, float] | None = None,
               projection: str = "robinson", edges: tuple[np.ndarray, np.ndarray] | None = None) -> bytes:
    """A lat×lon field on a global map with coastlines and a colour bar (or category legend).

    Each cell covers its bounds: ``edges`` (latitude, longitude: ``n + 1`` each, e.g. from the
    saved dataset's CF bounds, :func:`soilbench.report.projection.cell_edges`), else the field's
    own bounds coordinates or edges half-way between centres. The map is an image in the
    projection's coordinates, sampled once per grid (:mod:`soilbench.report.projection`).
    """
    from soilbench.report import projection as proj

    attrs = field.attrs
    data = field.transpose("lat", "lon")
    values = np.asarray(data.values, dtype=float)
    fig = Figure(figsize=(6.0, 3.6))
    box = (0.02, 0.22, 0.96, 0.70)
    ax = fig.add_axes(box, projection=proj.projection(projection))
    ax.set_global()
    ax.set_facecolor("#eef2f5")
    shape = proj.image_shape(projection, box[2] * fig.get_figwidth() * DPI, box[3] * fig.get_figheight() * DPI)
    lat_edges, lon_edges = edges if edges is not None else (proj.cell_edges(data, "lat"), proj.cell_edges(data, "lon"))
    index, extent = proj.raster_index(projection, lat_edges, lon_edges, shape)
    colormap = attrs.get("colormap", "sequential")
    legend_handles = None
    if colormap == "categorical":
        categories = parse_categories(attrs.get("categories", "")) or {
            int(v): str(int(v)) for v in np.unique(values[np.isfinite(values)])}
        codes = sorted(categories)
        cmap = mcolors.ListedColormap([CATEGORY_COLORS[i % len(CATEGORY_COLORS)] for i in range(len(codes))])
        positions = np.full(values.shape, np.nan)
        for position, code in enumerate(codes):
            positions[values == code] = position
        norm = mcolors.BoundaryNorm(np.arange(len(codes) + 1) - 0.5, cmap.N)
        image = proj.raster(positions, index)
        legend_handles = [Patch(color=cmap(i), label=wrap(categories[c], 34)) for i, c in enumerate(codes)]
    else:
        vmin, vmax = limits or map_limits([field])
        if colormap == "diverging" and attrs.get("role") == "ratio" and vmin > 0:
            norm, cmap = mcolors.LogNorm(vmin, vmax), "RdBu_r"
        elif colormap == "diverging":
            norm, cmap = mcolors.Normalize(vmin, vmax), "RdBu_r"
        else:
            norm, cmap = mcolors.Normalize(vmin, vmax), "viridis"
        image = proj.raster(values, index)
    mesh = ax.imshow(np.ma.masked_invalid(image), origin="lower", extent=extent, transform=ax.projection,
                     cmap=cmap, norm=norm, interpolation="nearest")
    ax.set_global()  # imshow sets the limits to the image's extent; the globe's outline is the frame
    proj.add_coastlines(ax, projection, "#333333", 0.5)
    ax.set_title(wrap(title, 64), fontsize=10)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="upper center", bbox_to_anchor=(0.5, 0.2),
                   ncol=legend_columns([h.get_label() for h in legend_handles], 80), fontsize=8, frameon=False)
    else:
        cax = fig.add_axes((0.2, 0.14, 0.6, 0.035))
        bar = fig.colorbar(mesh, cax=cax, orientation="horizontal", extend="both")
        label = _label(attrs)
        if isinstance(norm, mcolors.LogNorm):  # a few plain ticks read better than 6×10⁻¹
            ticks = [norm.vmin, np.sqrt(norm.vmin), 1.0, np.sqrt(norm.vmax), norm.vmax]
            bar.set_ticks(ticks, labels=[f"{t:.2g}" for t in ticks])
            bar.ax.minorticks_off()
        elif (inner := _log_units(attrs.get("units"))) is not None:
            # a map of ln(value): ticks at round values, labelled as values, so a reader sees
            # 2, 5, 20 kg C m⁻² and not 0.7, 1.6, 3.0
            ticks = [v for v in LOG_TICKS if norm.vmin <= np.log(v) <= norm.vmax]
            if len(ticks) >= 2:
                bar.set_ticks(np.log(ticks), labels=[f"{v:g}" for v in ticks])
                name = str(attrs.get("long_name") or "")
                name = name[3:] if name.lower().startswith("ln ") else name
                label = f"{name} [{display_units(inner)}, log scale]"
        bar.set_label(wrap(label, 70), fontsize=8)
        bar.ax.tick_params(labelsize=8)
    return _png(fig)


#: round values marking the colour bar of a map of ln(value)
LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def _log_units(units: Any) -> str | None:
    """The units inside ``ln(...)`` (a field saved as a natural logarithm), else None."""
    text = str(units or "").strip()
    return text[3:-1] if text.startswith("ln(") and text.endswith(")") and len(text) > 4 else None


# -- profiles and series ------------------------------------------------------------------------
#: dimensions drawn as latitude: zonal profiles' `lat_band` (and `lat` in results saved before it)
LATITUDE_DIMS = ("lat_band", "lat")


def profile_figure(curves: Sequence[dict[str, Any]], x_dim: str, title: str, y_label: str | None = None) -> bytes:
    """Zonal profiles (x = latitude band centre) or series (x = year) of several models and references.

    Each curve: ``label``, ``data`` (1-D DataArray over ``x_dim``, else over its only dimension),
    ``role``, optional ``lower``/``upper`` arrays (drawn as a band) and ``color``. A reference
    curve with ``per_model`` set belongs to one model (a zonal mean of the reference on the cells
    valid in that model): it is drawn thin and dashed in the model's colour, its band faint and
    unlabelled, so several of them stay readable. Shared references get distinct greys and dashes.

    A curve with ``value`` instead of ``data`` is a model known only as a period mean: a horizontal
    segment over its ``period`` (first, last year), or dotted across the plot when the period is
    unknown. The y axis is labelled with the curves' display units unless ``y_label`` is given.
    """
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ylabel = ""
    latitude = x_dim in LATITUDE_DIMS
    shared_refs, variants, trends = 0, {}, 0
    bands = sum(1 for c in curves if c.get("lower") is not None and c.get("upper") is not None)
    for curve in curves:
        if "data" not in curve:
            continue  # period means are drawn once the x range of the series is known
        data = curve["data"]
        dim = x_dim if x_dim in data.dims else data.dims[0]
        x = np.asarray(data[dim].values, dtype=float)
        y = np.asarray(data.values, dtype=float)
        is_ref = curve.get("role") not in ("model", None)
        per_model = bool(curve.get("per_model")) and is_ref
        color, style, marker = curve.get("color") or REFERENCE_COLOR, "--" if is_ref else "-", "o"
        if is_ref and not per_model:
            color, style = REFERENCE_STYLES[shared_refs % len(REFERENCE_STYLES)]
            shared_refs += 1
        elif not is_ref:  # a model's second and third curve must not look like its first
            nth = variants[color] = variants.get(color, -1) + 1
            style, marker = VARIANT_STYLES[nth % len(VARIANT_STYLES)]
        if curve.get("lower") is not None and curve.get("upper") is not None:
            # overlapping bands of many models add up to an opaque grey: fainter the more there are
            ax.fill_between(x, np.asarray(curve["lower"], float), np.asarray(curve["upper"], float), color=color,
                            alpha=0.08 if per_model else max(0.05, 0.15 / max(1, bands) ** 0.5), linewidth=0,
                            label=None if per_model else wrap(_band_label(str(curve["label"])), 30))
        width = 1.0 if per_model else (2.0 if is_ref else 1.6)
        ax.plot(x, y, color=color, linewidth=width, linestyle=style, label=wrap(str(curve["label"]), 30),
                marker=marker if x_dim == "year" and x.size < 40 else None, markersize=3.5)
        trends += _trend_line(ax, data.attrs, color, labelled=not trends)
        # the units alone: curves of several quantities share a figure, and the title says what
        ylabel = ylabel or display_units(data.attrs.get("units"))
    _period_means(ax, [c for c in curves if "data" not in c])
    ax.set_xlabel("latitude [°N]" if latitude else x_dim, fontsize=9)
    if latitude:
        ax.set_xlim(-90, 90)
        ax.set_xticks(range(-90, 91, 30))
    elif x_dim == "year":
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(y_label or ylabel, fontsize=9)
    ax.set_title(wrap(title, 70), fontsize=10)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    legend_below(fig, handles, labels)
    return _png(fig)


def _band_label(label: str) -> str:
    """The legend entry of a curve's band: "X range"; for an ensemble's median curve, the
    ensemble's range, not the "median range"."""
    base = label[:-len(" median")] if label.endswith(" median") else label
    return f"{base} range"


def _trend_line(ax: Any, attrs: dict[str, Any], color: str, labelled: bool = False) -> int:
    """A series' saved linear trend (``trend_slope``, ``trend_intercept``, over ``trend_first`` to
    ``trend_last``): a thin dash-dotted straight line in the curve's colour (dotted lines are a
    shared reference's style). The first one drawn carries the legend entry for all. Returns 1
    when a line was drawn."""
    try:
        slope, intercept = float(attrs["trend_slope"]), float(attrs["trend_intercept"])
        first, last = float(attrs["trend_first"]), float(attrs["trend_last"])
    except (KeyError, TypeError, ValueError):
        return 0
    if not (np.isfinite(slope) and np.isfinite(intercept)):
        return 0
    ax.plot([first, last], [intercept + slope * first, intercept + slope * last], color=color, linewidth=1.2,
            linestyle="-.", label="linear trend over the compared years (each curve's colour)" if labelled else None)
    return 1


def _period_means(ax: Any, means: Sequence[dict[str, Any]]) -> None:
    """Models saved as one period mean: a segment over their period, else dotted across the plot."""
    for curve in means:
        value, period = float(curve["value"]), curve.get("period")
        if not np.isfinite(value):
            continue
        color = curve.get("color") or MODEL_COLORS[0]
        if period is not None:
            ax.plot([period[0], period[1]], [value, value], color=color, linewidth=2.6, solid_capstyle="butt",
                    label=wrap(f"{curve['label']} ({period[0]}-{period[1]} mean)", 30))
        else:
            ax.axhline(value, color=color, linewidth=1.6, linestyle=":",
                       label=wrap(f"{curve['label']} (period mean, years not saved)", 30))


# -- tables ---------------------------------------------------------------------------------------
def taylor_figure(points: pd.DataFrame, title: str) -> bytes:
    """Taylor diagram: radius = normalised std, angle = arccos(correlation), reference at (1, 0).

    ``points``: ``label, role, correlation, std_ratio`` and optional ``color`` per row. Each model
    gets its own marker beside its colour, drawn a little smaller than the one before and with a
    white edge, so models with near-identical statistics do not hide one another.
    """
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    ax = fig.add_subplot()
    ratios = pd.to_numeric(points["std_ratio"], errors="coerce")
    r_max = max(1.6, float(np.nanmax(ratios)) * 1.1 if ratios.notna().any() else 1.6)
    theta = np.linspace(0, np.pi / 2, 200)
    for r in np.arange(0.5, r_max + 1e-9, 0.5):  # std arcs
        ax.plot(r * np.cos(theta), r * np.sin(theta), color="#cccccc", linewidth=0.6)
    for c in (0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 0.99):  # correlation rays at arccos positions
        angle = np.arccos(c)
        ax.plot([0, r_max * np.cos(angle)], [0, r_max * np.sin(angle)], color="#dddddd", linewidth=0.6)
        ax.text(r_max * 1.02 * np.cos(angle), r_max * 1.02 * np.sin(angle), f"{c:g}", fontsize=7,
                ha="left", va="bottom", color="#555555")
    for crmse in (0.25, 0.5, 0.75, 1.0):  # centred-RMSE circles about the reference point
        phi = np.linspace(0, np.pi, 200)
        x, y = 1 + crmse * np.cos(phi), crmse * np.sin(phi)
        inside = np.hypot(x, y) <= r_max
        ax.plot(np.where(inside, x, np.nan), np.where(inside, y, np.nan), color="#9ecae1", linewidth=0.6,
                linestyle=":")
    ax.plot(r_max * np.cos(theta), r_max * np.sin(theta), color="#555555", linewidth=1)
    ax.plot([0, r_max], [0, 0], color="#555555", linewidth=1)
    ax.plot([0, 0], [0, r_max], color="#555555", linewidth=1)
    ax.plot([1], [0], marker="*", markersize=14, color=REFERENCE_COLOR, linestyle="none", label="reference",
            clip_on=False, zorder=5)
    n_models = 0
    for _, row in points.iterrows():
        corr, ratio = float(row["correlation"]), float(row["std_ratio"])
        if not (np.isfinite(corr) and np.isfinite(ratio)):
            continue
        angle = np.arccos(np.clip(corr, -1, 1))
        is_model = row.get("role") == "model"
        marker, size = ("D", 7) if not is_model else (model_marker(n_models), max(6.0, 11.0 - 1.2 * n_models))
        n_models += is_model
        ax.plot(ratio * np.cos(angle), ratio * np.sin(angle), linestyle="none", marker=marker, markersize=size,
                color=row.get("color") or REFERENCE_COLOR, markeredgecolor="white", markeredgewidth=0.8,
                alpha=0.9, label=wrap(str(row["label"]), 28), zorder=6 + n_models)
    ax.text(r_max * 0.72, r_max * 0.78, "correlation", rotation=-45, fontsize=8, color="#555555")
    ax.set_xlim(0, r_max * 1.08)
    ax.set_ylim(0, r_max * 1.08)
    ax.set_aspect("equal")
    ax.set_xlabel("normalised standard deviation", fontsize=9)
    ax.set_xticks(np.arange(0, r_max + 1e-9, 0.5))
    ax.set_yticks(np.arange(0, r_max + 1e-9, 0.5))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(wrap(title, 60), fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.04, 1.0), fontsize=8, frameon=False, numpoints=1)
    return _png(fig)


def bars_figure(rows: pd.DataFrame, title: str, units: str) -> bytes:
    """Horizontal bars of values with their ranges; references and literature as shaded spans.

    ``rows``: ``label, role, value, lower, upper`` and optional ``color`` (models' colours).
    """
    rows = rows.reset_index(drop=True)
    labels = [wrap(str(label), 38) for label in rows["label"]]
    lines = sum(max(1, label.count("\n") + 1) for label in labels)
    height = max(2.4, 0.2 * lines + 0.16 * len(rows) + 1.0)
    fig = Figure(figsize=(7.0, height), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    values = pd.to_numeric(rows["value"], errors="coerce")
    for yi, (_, row), value in zip(y, rows.iterrows(), values):
        role = str(row.get("role", "model"))
        color = (row.get("color") or MODEL_COLORS[0]) if role == "model" else (
            "#999999" if role == "literature" else "#555555")
        lower = pd.to_numeric(pd.Series([row.get("lower")]), errors="coerce").iloc[0]
        upper = pd.to_numeric(pd.Series([row.get("upper")]), errors="coerce").iloc[0]
        if role != "model" and np.isfinite(lower) and np.isfinite(upper):
            # product spread / literature range, spanning the plot so models can be read against it
            ax.axvspan(lower, upper, color=color, alpha=0.08 if role == "literature" else 0.06, zorder=0)
        if np.isfinite(value):
            ax.barh(yi, value, color=color, alpha=0.9 if role == "model" else 0.55, height=0.62,
                    hatch="//" if role == "literature" else None, edgecolor="white")
        if np.isfinite(lower) and np.isfinite(upper):
            ax.plot([lower, upper], [yi, yi], color="black", linewidth=1.2)
            ax.plot([lower, lower, upper, upper], [yi - 0.15, yi + 0.15, yi - 0.15, yi + 0.15], color="black",
                    linewidth=0, marker="|", markersize=6)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    _model_legend(ax, rows)
    ax.set_xlabel(display_units(units), fontsize=9)
    ax.set_title(wrap(title, 70), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _model_legend(ax: Any, rows: pd.DataFrame) -> None:
    """Which colour is which model, when the model rows' labels do not say it (several rows per model)."""
    if "model" not in rows or "color" not in rows:
        return
    models = rows[(rows.get("role", "model") == "model") & rows["model"].notna()]
    if models.empty or (models["label"].astype(str) == models["model"].astype(str)).all():
        return
    colors = dict(zip(models["model"].astype(str), models["color"]))
    ax.legend([Patch(color=c or MODEL_COLORS[0]) for c in colors.values()], [wrap(m, 24) for m in colors],
              loc="lower right", fontsize=8, frameon=True, framealpha=0.9)


def _class_colors(labels: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    spare = iter(CATEGORY_COLORS)
    for label in labels:
        hint = next((color for key, color in CLASS_HINTS if key in label.lower()), None)
        out[label] = hint or next(spare, "#777777")
    return out


def site_map_figure(table: pd.DataFrame, title: str, projection: str = "robinson", units: str = "") -> bytes:
    """Sites on a map, coloured by category (e.g. Wilcoxon class) or by value."""
    import cartopy.crs as ccrs

    from soilbench.report import projection as proj

    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.add_axes((0.02, 0.2, 0.96, 0.72), projection=proj.projection(projection))
    ax.set_global()
    ax.set_facecolor("#f4f6f8")
    proj.add_coastlines(ax, projection, "#555555", 0.5)
    lon = pd.to_numeric(table["lon"], errors="coerce")
    lat = pd.to_numeric(table["lat"], errors="coerce")
    if "category" in table:
        labels = sorted(table["category"].astype(str).unique())
        palette = _class_colors(labels)
        for label in labels:
            sel = table["category"].astype(str) == label
            ax.scatter(lon[sel], lat[sel], s=18, color=palette[label], edgecolor="black", linewidth=0.3,
                       transform=ccrs.PlateCarree(), label=wrap(f"{label} ({int(sel.sum())})", 34), zorder=3)
        handles, names = ax.get_legend_handles_labels()
        fig.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.2), ncol=legend_columns(names, 80),
                   fontsize=8, frameon=False)
    else:
        points = ax.scatter(lon, lat, s=18, c=pd.to_numeric(table["value"], errors="coerce"), cmap="viridis",
                            edgecolor="black", linewidth=0.3, transform=ccrs.PlateCarree(), zorder=3)
        cax = fig.add_axes((0.2, 0.12, 0.6, 0.035))
        bar = fig.colorbar(points, cax=cax, orientation="horizontal")
        bar.set_label(display_units(units), fontsize=8)
    ax.set_title(wrap(title, 64), fontsize=10)
    return _png(fig)


def scatter_figure(table: pd.DataFrame, title: str, meta: dict[str, Any]) -> bytes:
    """Observed against modelled with the 1:1 line; coloured by ``group`` when present."""
    fig = Figure(figsize=(4.8, 4.4), layout="constrained")
    ax = fig.add_subplot()
    x = pd.to_numeric(table["observed"], errors="coerce")
    y = pd.to_numeric(table["modelled"], errors="coerce")
    if "group" in table:
        for i, group in enumerate(sorted(table["group"].astype(str).unique())):
            sel = table["group"].astype(str) == group
            ax.scatter(x[sel], y[sel], s=14, alpha=0.8, color=CATEGORY_COLORS[i % len(CATEGORY_COLORS)],
                       label=group, edgecolor="none")
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    else:
        ax.scatter(x, y, s=14, alpha=0.8, color=MODEL_COLORS[0], edgecolor="none")
    finite = np.concatenate([x[np.isfinite(x)], y[np.isfinite(y)]])
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        ax.plot([low, high], [low, high], color="black", linewidth=0.8, linestyle="--")
    units = meta.get("units")
    ax.set_xlabel(with_units(str(meta.get("x_label", "observed")), units), fontsize=9)
    ax.set_ylabel(with_units(str(meta.get("y_label", "modelled")), units), fontsize=9)
    ax.set_title(wrap(title, 50), fontsize=10)
    ax.grid(alpha=0.3)
    return _png(fig)


#: month starts (day of year, non-leap) and their labels: a shared x axis people read at a glance
MONTH_STARTS = (1, 32, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335)
MONTH_LABELS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def seasonal_figure(table: pd.DataFrame, title: str, meta: dict[str, Any], color: str) -> bytes:
    """Seasonal cycles per climate group: observed with its shaded CI band, modelled as a line.

    Two panels per row (three rows for the five climate groups), months on a shared x axis, and
    ``R2``/``RMSE`` in each panel's title when the table carries them. The legend takes a spare
    panel when there is one, else goes below.
    """
    groups = list(dict.fromkeys(table["group"].astype(str)))
    ncols = 2 if len(groups) > 1 else 1
    nrows = int(np.ceil(len(groups) / ncols)) or 1
    fig = Figure(figsize=(4.6 * ncols + 0.6, 2.7 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax, group in zip(axes.ravel(), groups):
        _seasonal_panel(ax, table[table["group"].astype(str) == group].sort_values("doy"), group, meta, color)
    for ax in axes[-1, :]:
        ax.set_xticks(MONTH_STARTS, MONTH_LABELS, fontsize=7)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    spare = axes.ravel()[len(groups):]
    for ax in spare:
        ax.set_axis_off()
    for ax in spare:  # the panel above an empty slot is the lowest of its column: give it month labels
        above = axes.ravel()[list(axes.ravel()).index(ax) - ncols]
        above.xaxis.set_tick_params(labelbottom=True)
        above.set_xticks(MONTH_STARTS, MONTH_LABELS, fontsize=7)
    if len(spare):
        spare[0].legend(handles, labels, loc="center", fontsize=9, frameon=False)
    else:
        legend_below(fig, handles, labels)
    y_label = str(meta.get("y_label") or "")
    fig.supylabel(with_units(y_label, meta.get("units")) if y_label else display_units(meta.get("units")), fontsize=9)
    fig.suptitle(wrap(title, 90), fontsize=11)
    return _png(fig)


def _seasonal_panel(ax: Any, rows: pd.DataFrame, group: str, meta: dict[str, Any], color: str) -> None:
    """One climate group: observed band and line, modelled line (and band when saved)."""
    doy = pd.to_numeric(rows["doy"], errors="coerce")
    observed_label = str(meta.get("observed_label") or "observed")
    if meta.get("observed_style") == "points":  # a few published values with their ranges, not a curve
        observed = pd.to_numeric(rows["observed"], errors="coerce")
        lower = pd.to_numeric(rows.get("observed_lower", observed), errors="coerce")
        upper = pd.to_numeric(rows.get("observed_upper", observed), errors="coerce")
        keep = observed.notna()
        ax.errorbar(doy[keep], observed[keep], yerr=[(observed - lower)[keep], (upper - observed)[keep]], fmt="s",
                    color=REFERENCE_COLOR, markersize=4, capsize=4, linewidth=1.3, label=wrap(observed_label, 40))
    elif {"observed_lower", "observed_upper"} <= set(rows.columns):
        ax.fill_between(doy, pd.to_numeric(rows["observed_lower"], errors="coerce"),
                        pd.to_numeric(rows["observed_upper"], errors="coerce"), color="#7a7a7a", alpha=0.3,
                        linewidth=0, label="observed 95 % CI")
    if meta.get("observed_style") != "points":
        ax.plot(doy, pd.to_numeric(rows["observed"], errors="coerce"), color=REFERENCE_COLOR, linewidth=1.3,
                label=observed_label)
    if {"modelled_lower", "modelled_upper"} <= set(rows.columns):
        ax.fill_between(doy, pd.to_numeric(rows["modelled_lower"], errors="coerce"),
                        pd.to_numeric(rows["modelled_upper"], errors="coerce"), color=color, alpha=0.2, linewidth=0)
    ax.plot(doy, pd.to_numeric(rows["modelled"], errors="coerce"), color=color, linewidth=1.8, label="modelled")
    _fit_lines(ax, rows)
    if meta.get("observed_style") == "points":  # a published range is the reference itself: show it whole
        low, high = ax.get_ylim()
        ranges = pd.concat([pd.to_numeric(rows.get(c, pd.Series(dtype=float)), errors="coerce")
                            for c in ("observed_lower", "observed_upper")]).dropna()
        if len(ranges):
            pad = 0.05 * (max(high, ranges.max()) - min(low, ranges.min()))
            ax.set_ylim(min(low, ranges.min() - pad), max(high, ranges.max() + pad))
    ax.set_title(_panel_title(rows, group, meta), fontsize=9)
    ax.tick_params(labelsize=7)
    ax.set_xlim(1, 366)
    ax.grid(alpha=0.3)


def _fit_lines(ax: Any, rows: pd.DataFrame) -> None:
    """y limits from the observed and modelled lines: a few bins with one or two observations have
    huge CIs, which would squash every curve into a flat line; their band is cut at the edge."""
    lines = pd.concat([pd.to_numeric(rows[c], errors="coerce") for c in ("observed", "modelled")]).dropna()
    if lines.empty:
        return
    low, high = float(lines.min()), float(lines.max())
    pad = 0.25 * (high - low) or 0.1 * abs(high) or 1.0
    ax.set_ylim(low - pad, high + pad)


def _panel_title(rows: pd.DataFrame, group: str, meta: dict[str, Any]) -> str:
    """The group's name, with its R² and RMSE when the saved table has them (one value per group)."""
    stats = []
    for column, name in (("R2", "R²"), ("RMSE", "RMSE")):
        values = pd.to_numeric(rows[column], errors="coerce").dropna() if column in rows else pd.Series(dtype=float)
        if len(values):
            stats.append(f"{name} {values.iloc[0]:.2f}")
    return group + (f"  ({', '.join(stats)})" if stats else "")


def response_figure(table: pd.DataFrame, title: str, meta: dict[str, Any], color: str) -> bytes:
    """Binned response curves, one panel per ``group`` (e.g. "Rh vs MAT"): the observed bin means
    with their CI as error bars, the modelled means as a line. Bins not scored (``scored`` False:
    too few records) are drawn faded. The x axis of each panel is its rows' ``x_label``; a panel
    whose rows give ``x_tick`` is categorical (ticks labelled, the model as markers only); with
    ``meta["y_scale"] == "log"`` the y axes are logarithmic (a response spanning orders of
    magnitude, such as τ against temperature, is otherwise a flat line beside one tall bin)."""
    log_y = str(meta.get("y_scale", "linear")).lower() == "log"
    groups = list(dict.fromkeys(table["group"].astype(str)))
    ncols = 2 if len(groups) > 1 else 1
    nrows = int(np.ceil(len(groups) / ncols)) or 1
    fig = Figure(figsize=(4.6 * ncols + 0.6, 2.9 * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, group in zip(axes.ravel(), groups):
        rows = table[table["group"].astype(str) == group].sort_values("x")
        x = pd.to_numeric(rows["x"], errors="coerce").to_numpy(float)
        obs = pd.to_numeric(rows["observed"], errors="coerce").to_numpy(float)
        scored = rows["scored"].astype(str).str.lower().isin(["true", "1"]).to_numpy() if "scored" in rows \
            else np.ones(x.size, bool)
        for keep, alpha, label in ((scored, 1.0, "observed mean, 95 % CI"), (~scored, 0.35, "observed (not scored)")):
            if not keep.any():
                continue
            lower = pd.to_numeric(rows["observed_lower"], errors="coerce").to_numpy(float)[keep]
            upper = pd.to_numeric(rows["observed_upper"], errors="coerce").to_numpy(float)[keep]
            err = np.vstack([np.nan_to_num(obs[keep] - lower), np.nan_to_num(upper - obs[keep])]).clip(min=0)
            ax.errorbar(x[keep], obs[keep], yerr=err, fmt="o", color=REFERENCE_COLOR, alpha=alpha, markersize=4,
                        capsize=2, linewidth=1, label=label)
        # the tables of several panels are concatenated: a panel is categorical when its own rows name ticks
        ticks = rows["x_tick"].astype(str).to_numpy() if "x_tick" in rows and rows["x_tick"].notna().all() \
            else None
        # categories (climate groups) are not a continuum: the model's values as markers, no line
        ax.plot(x, pd.to_numeric(rows["modelled"], errors="coerce"), color=color, linewidth=0 if ticks is not None
                else 1.8, marker="s", markersize=6 if ticks is not None else 3, label="modelled mean")
        if ticks is not None:
            ax.set_xticks(x, ticks)
            ax.set_xlim(x.min() - 0.5, x.max() + 0.5)
        x_label = str(rows["x_label"].iloc[0]) if "x_label" in rows and len(rows) else str(meta.get("x_label", ""))
        ax.set_xlabel(x_label, fontsize=8)
        if log_y:
            # non-positive values (a lower CI bound below 0) have no place on a log axis: clipped
            ax.set_yscale("log", nonpositive="clip")
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_plain_tick))  # 20, 50, 100, not 2×10¹
            ax.yaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(_plain_tick))
            ax.tick_params(axis="y", which="both", labelsize=7)
        ax.set_title(group, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(groups):]:
        ax.set_axis_off()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    legend_below(fig, handles, labels)
    y_label = str(meta.get("y_label") or "")
    fig.supylabel(with_units(y_label, meta.get("units")) if y_label else display_units(meta.get("units")), fontsize=9)
    fig.suptitle(wrap(title, 90), fontsize=11)
    return _png(fig)


def _plain_tick(value: float, _position: Any = None) -> str:
    """A log axis' tick label: 1, 2 and 5 times a power of ten as plain numbers, others blank."""
    if not (np.isfinite(value) and value > 0):
        return ""
    leading = value / 10.0 ** np.floor(np.log10(value) + 1e-9)
    return f"{value:g}" if any(abs(leading - d) < 1e-6 for d in (1.0, 2.0, 5.0)) else ""


def histogram_figure(table: pd.DataFrame, title: str, meta: dict[str, Any], color: str) -> bytes:
    """Overlaid step histograms of a table's series (one column each), e.g. bootstrap means.

    ``meta["columns"]`` names the series (default: every numeric column but ``sample``); a
    column named like an observation is drawn in the reference colour, the others in ``color``
    and then the category colours. A dashed line marks each series' mean.
    """
    columns = [c for c in (meta.get("columns") or histogram_columns(table)) if c in table]
    if not columns:
        raise ValueError("no numeric columns to draw as a histogram")
    series = {c: pd.to_numeric(table[c], errors="coerce").dropna().to_numpy(float) for c in columns}
    values = np.concatenate(list(series.values()))
    edges = np.histogram_bin_edges(values, bins=min(40, max(10, int(np.sqrt(values.size))))) if values.size else 10
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    spare = iter(CATEGORY_COLORS[1:])
    for i, (column, data) in enumerate(series.items()):
        observed = any(key in column.lower() for key in ("observ", "reference"))
        shade = REFERENCE_COLOR if observed else (color if i <= 1 else next(spare, "#777777"))
        ax.hist(data, bins=edges, histtype="stepfilled", color=shade, alpha=0.18)
        ax.hist(data, bins=edges, histtype="step", color=shade, linewidth=1.6,
                label=f"{column.replace('_', ' ')} (mean {np.mean(data):.3g})" if data.size else column)
        if data.size:
            ax.axvline(float(np.mean(data)), color=shade, linestyle="--", linewidth=1)
    ax.set_xlabel(with_units(str(meta.get("x_label", "value")), meta.get("units")), fontsize=9)
    ax.set_ylabel(str(meta.get("y_label", "count")), fontsize=9)
    ax.set_title(wrap(title, 64), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)


def histogram_columns(table: pd.DataFrame) -> list[str]:
    """A histogram table's series when ``columns`` is not given: numeric columns but a sample index."""
    return [str(c) for c in table.columns if str(c).lower() not in ("sample", "index", "id")
            and pd.api.types.is_numeric_dtype(table[c])]


def matrix_labels(table: pd.DataFrame) -> list[str] | None:
    """The labels of a ``matrix`` table (column ``label``, then one column per label), else None."""
    if "label" not in table.columns or table.empty:
        return None
    labels = [str(label) for label in table["label"]]
    return labels if [str(c) for c in table.columns if c != "label"] == labels else None


def matrix_figure(table: pd.DataFrame, title: str, meta: dict[str, Any] | None = None) -> bytes:
    """A ``matrix`` table as a heat map with every value printed (e.g. pattern correlations)."""
    meta = meta or {}
    labels = matrix_labels(table)
    if labels is None:
        raise ValueError("a matrix table needs a 'label' column and one column per label")
    values = table[labels].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    vmin, vmax = float(meta.get("vmin", -1.0)), float(meta.get("vmax", 1.0))
    size = max(3.6, 0.7 * len(labels) + 2.2)
    fig = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu_r", vmin=vmin, vmax=vmax)
    short = [wrap(label, 18) for label in labels]
    ax.set_xticks(range(len(labels)), short, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), short, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            value = values[i, j]
            text = f"{value:.2f}" if np.isfinite(value) else "n/a"
            dark = np.isfinite(value) and abs(value - (vmin + vmax) / 2) > 0.3 * (vmax - vmin)
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    units = display_units(str(meta.get("units") or ""))
    fig.colorbar(image, ax=ax, shrink=0.8, label=units if units and units != "1" else None)
    ax.set_title(wrap(title, 60), fontsize=10)
    return _png(fig)
