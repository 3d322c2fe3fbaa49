"""Figures for the report, chosen by plot convention (field ``plot`` attrs, table ``plot`` kinds).

Each function takes saved data and returns PNG bytes; none knows which confrontation made the
data. Figures use matplotlib's object API on the Agg canvas (no pyplot state, no display), and
maps draw soilbench's shipped coastlines (:mod:`soilbench.report.coastlines`) so nothing is
downloaded.
"""

from __future__ import annotations

import io
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

from soilbench.report.coastlines import coastlines

DPI = 100
MODEL_COLORS = ("#1b6ca8", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#e6ab02",
                "#17becf", "#8c564b")
REFERENCE_COLOR = "#222222"
CATEGORY_COLORS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb")
#: Wilcoxon-style site classes get fixed, meaningful colours when their labels say so
CLASS_HINTS = (("higher", "#d6604d"), ("lower", "#4393c3"), ("no ", "#bababa"), ("not ", "#bababa"))


def model_color(index: int) -> str:
    return MODEL_COLORS[index % len(MODEL_COLORS)]


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _label(attrs: dict[str, Any], fallback: str = "") -> str:
    name = str(attrs.get("long_name") or fallback)
    units = attrs.get("units")
    return f"{name} [{units}]" if units and str(units) != "1" else name


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


def _projection(name: str):
    import cartopy.crs as ccrs  # heavy import, only when a map is drawn

    return ccrs.Robinson() if name == "robinson" else ccrs.PlateCarree()


def map_figure(field: xr.DataArray, title: str, limits: tuple[float, float] | None = None,
               projection: str = "robinson") -> bytes:
    """A lat×lon field on a global map with coastlines and a colour bar (or category legend)."""
    import cartopy.crs as ccrs

    attrs = field.attrs
    data = field.transpose("lat", "lon")
    lat = np.asarray(data["lat"].values, dtype=float)
    lon = np.asarray(data["lon"].values, dtype=float)
    values = np.ma.masked_invalid(np.asarray(data.values, dtype=float))
    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.add_axes((0.02, 0.22, 0.96, 0.70), projection=_projection(projection))
    ax.set_global()
    ax.set_facecolor("#eef2f5")
    colormap = attrs.get("colormap", "sequential")
    legend_handles = None
    if colormap == "categorical":
        categories = parse_categories(attrs.get("categories", "")) or {
            int(v): str(int(v)) for v in np.unique(values.compressed())}
        codes = sorted(categories)
        cmap = mcolors.ListedColormap([CATEGORY_COLORS[i % len(CATEGORY_COLORS)] for i in range(len(codes))])
        index = np.ma.masked_invalid(np.full(values.shape, np.nan))
        for position, code in enumerate(codes):
            index = np.ma.where(values == code, position, index)
        norm = mcolors.BoundaryNorm(np.arange(len(codes) + 1) - 0.5, cmap.N)
        mesh = ax.pcolormesh(lon, lat, np.ma.masked_invalid(index.filled(np.nan)), cmap=cmap, norm=norm,
                             transform=ccrs.PlateCarree(), shading="nearest", rasterized=True)
        legend_handles = [Patch(color=cmap(i), label=categories[c]) for i, c in enumerate(codes)]
    else:
        vmin, vmax = limits or map_limits([field])
        if colormap == "diverging" and attrs.get("role") == "ratio" and vmin > 0:
            norm, cmap = mcolors.LogNorm(vmin, vmax), "RdBu_r"
        elif colormap == "diverging":
            norm, cmap = mcolors.Normalize(vmin, vmax), "RdBu_r"
        else:
            norm, cmap = mcolors.Normalize(vmin, vmax), "viridis"
        mesh = ax.pcolormesh(lon, lat, values, cmap=cmap, norm=norm, transform=ccrs.PlateCarree(),
                             shading="nearest", rasterized=True)
    ax.add_geometries([coastlines()], crs=ccrs.PlateCarree(), facecolor="none", edgecolor="#333333",
                      linewidth=0.5)
    ax.set_title(title, fontsize=10)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center", ncol=min(4, len(legend_handles)), fontsize=8,
                   frameon=False)
    else:
        cax = fig.add_axes((0.2, 0.14, 0.6, 0.035))
        bar = fig.colorbar(mesh, cax=cax, orientation="horizontal", extend="both")
        if isinstance(norm, mcolors.LogNorm):  # a few plain ticks read better than 6×10⁻¹
            ticks = [norm.vmin, np.sqrt(norm.vmin), 1.0, np.sqrt(norm.vmax), norm.vmax]
            bar.set_ticks(ticks, labels=[f"{t:.2g}" for t in ticks])
            bar.ax.minorticks_off()
        bar.set_label(_label(attrs), fontsize=8)
        bar.ax.tick_params(labelsize=8)
    return _png(fig)


# -- profiles and series ------------------------------------------------------------------------
#: dimensions drawn as latitude: zonal profiles' `lat_band` (and `lat` in results saved before it)
LATITUDE_DIMS = ("lat_band", "lat")


def profile_figure(curves: Sequence[dict[str, Any]], x_dim: str, title: str) -> bytes:
    """Zonal profiles (x = latitude band centre) or series (x = year) of several models and references.

    Each curve: ``label``, ``data`` (1-D DataArray over ``x_dim``, else over its only dimension),
    ``role``, optional ``lower``/``upper`` arrays (drawn as a band) and ``color``. A reference
    curve with ``per_model`` set belongs to one model (a zonal mean of the reference on the cells
    valid in that model): it is drawn thin and dashed in the model's colour, its band faint and
    unlabelled, so several of them stay readable.
    """
    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.add_axes((0.11, 0.15, 0.56, 0.75))
    ylabel = ""
    latitude = x_dim in LATITUDE_DIMS
    for curve in curves:
        data = curve["data"]
        dim = x_dim if x_dim in data.dims else data.dims[0]
        x = np.asarray(data[dim].values, dtype=float)
        y = np.asarray(data.values, dtype=float)
        is_ref = curve.get("role") not in ("model", None)
        per_model = bool(curve.get("per_model")) and is_ref
        color = curve.get("color") or REFERENCE_COLOR
        if curve.get("lower") is not None and curve.get("upper") is not None:
            ax.fill_between(x, np.asarray(curve["lower"], float), np.asarray(curve["upper"], float), color=color,
                            alpha=0.08 if per_model else 0.15, linewidth=0,
                            label=None if per_model else _short(f"{curve['label']} range", 24))
        width = 1.0 if per_model else (2.2 if is_ref else 1.4)
        ax.plot(x, y, color=color, linewidth=width, linestyle="--" if is_ref else "-",
                label=_short(str(curve["label"]), 24), marker="o" if x_dim == "year" and x.size < 40 else None, markersize=3)
        ylabel = ylabel or _label(data.attrs)
    ax.set_xlabel("latitude [°N]" if latitude else x_dim)
    if latitude:
        ax.set_xlim(-90, 90)
        ax.set_xticks(range(-90, 91, 30))
    ax.set_ylabel(ylabel, fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return _png(fig)


# -- tables ---------------------------------------------------------------------------------------
def taylor_figure(points: pd.DataFrame, title: str) -> bytes:
    """Taylor diagram: radius = normalised std, angle = arccos(correlation), reference at (1, 0).

    ``points``: ``label, role, correlation, std_ratio`` and optional ``color`` per row.
    """
    fig = Figure(figsize=(6.0, 4.6))
    ax = fig.add_axes((0.08, 0.1, 0.58, 0.78))
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
    for _, row in points.iterrows():
        corr, ratio = float(row["correlation"]), float(row["std_ratio"])
        if not (np.isfinite(corr) and np.isfinite(ratio)):
            continue
        angle = np.arccos(np.clip(corr, -1, 1))
        is_model = row.get("role") == "model"
        ax.plot(ratio * np.cos(angle), ratio * np.sin(angle), linestyle="none",
                marker="o" if is_model else "D", markersize=8 if is_model else 7,
                color=row.get("color") or REFERENCE_COLOR, markeredgecolor="white",
                label=_short(str(row["label"]), 26), zorder=6)
    ax.text(r_max * 0.72, r_max * 0.78, "correlation", rotation=-45, fontsize=8, color="#555555")
    ax.set_xlim(0, r_max * 1.08)
    ax.set_ylim(0, r_max * 1.08)
    ax.set_aspect("equal")
    ax.set_xlabel("normalised standard deviation", fontsize=9)
    ax.set_xticks(np.arange(0, r_max + 1e-9, 0.5))
    ax.set_yticks(np.arange(0, r_max + 1e-9, 0.5))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.04, 1.0), fontsize=8, frameon=False, numpoints=1)
    return _png(fig)


def bars_figure(rows: pd.DataFrame, title: str, units: str) -> bytes:
    """Horizontal bars of values with their ranges; references and literature as shaded spans.

    ``rows``: ``label, role, value, lower, upper`` and optional ``color`` (models' colours).
    """
    rows = rows.reset_index(drop=True)
    height = max(2.4, 0.34 * len(rows) + 1.2)
    fig = Figure(figsize=(6.0, height))
    ax = fig.add_axes((0.32, 0.8 / height, 0.64, 1 - 1.4 / height))
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
    ax.set_yticklabels([_short(str(label)) for label in rows["label"]], fontsize=8)
    ax.set_xlabel(units, fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _class_colors(labels: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    spare = iter(CATEGORY_COLORS)
    for label in labels:
        hint = next((color for key, color in CLASS_HINTS if key in label.lower()), None)
        out[label] = hint or next(spare, "#777777")
    return out


def site_map_figure(table: pd.DataFrame, title: str, projection: str = "robinson") -> bytes:
    """Sites on a map, coloured by category (e.g. Wilcoxon class) or by value."""
    import cartopy.crs as ccrs

    fig = Figure(figsize=(6.0, 3.6))
    ax = fig.add_axes((0.02, 0.2, 0.96, 0.72), projection=_projection(projection))
    ax.set_global()
    ax.set_facecolor("#f4f6f8")
    ax.add_geometries([coastlines()], crs=ccrs.PlateCarree(), facecolor="none", edgecolor="#555555",
                      linewidth=0.5)
    lon = pd.to_numeric(table["lon"], errors="coerce")
    lat = pd.to_numeric(table["lat"], errors="coerce")
    if "category" in table:
        labels = sorted(table["category"].astype(str).unique())
        palette = _class_colors(labels)
        for label in labels:
            sel = table["category"].astype(str) == label
            ax.scatter(lon[sel], lat[sel], s=18, color=palette[label], edgecolor="black", linewidth=0.3,
                       transform=ccrs.PlateCarree(), label=f"{label} ({int(sel.sum())})", zorder=3)
        fig.legend(loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)
    else:
        points = ax.scatter(lon, lat, s=18, c=pd.to_numeric(table["value"], errors="coerce"), cmap="viridis",
                            edgecolor="black", linewidth=0.3, transform=ccrs.PlateCarree(), zorder=3)
        cax = fig.add_axes((0.2, 0.12, 0.6, 0.035))
        fig.colorbar(points, cax=cax, orientation="horizontal")
    ax.set_title(title, fontsize=10)
    return _png(fig)


def scatter_figure(table: pd.DataFrame, title: str, meta: dict[str, Any]) -> bytes:
    """Observed against modelled with the 1:1 line; coloured by ``group`` when present."""
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.add_axes((0.15, 0.13, 0.8, 0.78))
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
    ax.set_xlabel(f"{meta.get('x_label', 'observed')}" + (f" [{units}]" if units else ""), fontsize=9)
    ax.set_ylabel(f"{meta.get('y_label', 'modelled')}" + (f" [{units}]" if units else ""), fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    return _png(fig)


def seasonal_figure(table: pd.DataFrame, title: str, meta: dict[str, Any], color: str) -> bytes:
    """Seasonal cycles per climate group: observed with its band, modelled (with CI when given)."""
    groups = list(dict.fromkeys(table["group"].astype(str)))
    ncols = min(3, max(1, len(groups)))
    nrows = int(np.ceil(len(groups) / ncols)) or 1
    fig = Figure(figsize=(2.4 * ncols + 0.6, 2.0 * nrows + 0.7))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
    for ax in axes.ravel()[len(groups):]:
        ax.set_visible(False)
    for ax, group in zip(axes.ravel(), groups):
        rows = table[table["group"].astype(str) == group].sort_values("doy")
        doy = pd.to_numeric(rows["doy"], errors="coerce")
        if {"observed_lower", "observed_upper"} <= set(rows.columns):
            ax.fill_between(doy, rows["observed_lower"].astype(float), rows["observed_upper"].astype(float),
                            color="#888888", alpha=0.25, linewidth=0)
        ax.plot(doy, rows["observed"].astype(float), color=REFERENCE_COLOR, linewidth=1.6, label="observed")
        if {"modelled_lower", "modelled_upper"} <= set(rows.columns):
            ax.fill_between(doy, rows["modelled_lower"].astype(float), rows["modelled_upper"].astype(float),
                            color=color, alpha=0.2, linewidth=0)
        ax.plot(doy, rows["modelled"].astype(float), color=color, linewidth=1.6, label="modelled")
        ax.set_title(_short(group, 32), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(1, 366)
        ax.set_xticks([1, 91, 182, 274])
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, frameon=False)
    fig.supxlabel("day of year", fontsize=8)
    if meta.get("units"):
        fig.supylabel(str(meta["units"]), fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _png(fig)
