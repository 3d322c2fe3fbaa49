"""Figures a climate scientist can read: log τ axes, ln maps labelled in their units, trend and
ensemble legends, °C. Each test inspects the matplotlib figure itself (``plots._png`` patched)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench.report import plots
from soilbench.report.units import display_units


@pytest.fixture
def figures(monkeypatch):
    monkeypatch.setattr(plots, "_png", lambda fig: fig)


def tau_table() -> pd.DataFrame:
    x = np.arange(-20.0, 30.0, 5.0)
    tau = 50.0 * 2.0 ** (-x / 10.0)  # 200 to 3 yr: two orders of magnitude
    return pd.DataFrame({"group": "τ vs MAT", "x": x, "x_label": "MAT (°C)", "observed": tau,
                         "observed_lower": tau * 0.8, "observed_upper": tau * 1.2, "modelled": tau * 1.5})


def test_response_figure_log_axis_only_when_asked(figures):
    meta = {"units": "yr", "y_label": "turnover time"}
    linear = plots.response_figure(tau_table(), "t", meta, "#1f77b4")
    logged = plots.response_figure(tau_table(), "t", {**meta, "y_scale": "log"}, "#1f77b4")
    assert linear.axes[0].get_yscale() == "linear"
    assert logged.axes[0].get_yscale() == "log"
    logged.canvas.draw()
    labels = {t.get_text() for t in logged.axes[0].get_yticklabels(minor=True) + logged.axes[0].get_yticklabels()}
    assert {"5", "10", "20", "50", "100"} <= labels  # plain numbers, not 5×10⁰
    assert not any("10^" in t or "×" in t for t in labels)


def test_plain_tick_labels_one_two_five_only():
    assert [plots._plain_tick(v) for v in (1, 2, 3, 5, 7, 20, 300, 500, 0.05)] == \
        ["1", "2", "", "5", "", "20", "", "500", "0.05"]


def test_ln_map_colour_bar_in_the_field_units(figures):
    lat, lon = np.arange(-85.0, 90.0, 10.0), np.arange(-175.0, 180.0, 10.0)
    values = np.log(np.linspace(0.5, 60.0, lat.size))[:, None] * np.ones(lon.size)
    field = xr.DataArray(values, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"),
                         attrs={"units": "ln(kg m-2)", "long_name": "ln soil carbon, M", "plot": "map",
                                "colormap": "sequential"})
    fig = plots.map_figure(field, "ln soil carbon", (-1.0, 4.5))
    bar = fig.axes[-1]
    ticks = [t.get_text() for t in bar.get_xticklabels()]
    assert ticks == ["0.5", "1", "2", "5", "10", "20", "50"]
    np.testing.assert_allclose(bar.get_xticks(), np.log([0.5, 1, 2, 5, 10, 20, 50]))
    assert bar.get_xlabel() == "soil carbon, M [kg C m⁻², log scale]"
    # a field not in ln units keeps matplotlib's ticks and its plain label
    field.attrs["units"] = "kg m-2"
    assert plots.map_figure(field, "x", (-1.0, 4.5)).axes[-1].get_xlabel() == "ln soil carbon, M [kg C m⁻²]"


def test_series_legend_names_trend_lines_once_and_the_ensemble_range(figures):
    years = np.arange(1990, 2001)

    def curve(label, role, slope, **extra):
        data = xr.DataArray(50 + slope * (years - 1990), coords={"year": years}, dims="year",
                            attrs={"units": "Pg yr-1", "trend_slope": slope, "trend_intercept": 50 - slope * 1990,
                                   "trend_first": 1990, "trend_last": 2000})
        return {"label": label, "role": role, "data": data, **extra}

    curves = [curve("m1", "model", 0.1, color="#1f77b4"), curve("m2", "model", 0.2, color="#ff7f0e"),
              curve("cmip6 median", "reference", 0.0, lower=np.full(years.size, 45.0), upper=np.full(years.size, 55.0))]
    fig = plots.profile_figure(curves, "year", "series")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sum("linear trend" in label for label in labels) == 1
    assert "cmip6 range" in labels and "cmip6 median range" not in labels
    trend_lines = [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "-."]
    assert len(trend_lines) == 3


def test_degrees_celsius_displayed():
    assert display_units("Pg yr-1 degC-1") == "Pg C yr⁻¹ °C⁻¹"
    assert display_units("degC") == "°C"


def test_categorical_panel_has_its_tick_labels_and_no_line(figures):
    groups = pd.DataFrame({"group": "τ by group", "x": np.arange(3.0), "x_label": "Köppen climate group",
                           "x_tick": ["A", "B", "D"], "observed": [10.0, 40.0, 50.0], "observed_lower": np.nan,
                           "observed_upper": np.nan, "modelled": [8.0, 39.0, 55.0]})
    fig = plots.response_figure(pd.concat([groups, tau_table()], ignore_index=True), "t", {"y_scale": "log"}, "#1f77b4")
    categorical, continuous = fig.axes[0], fig.axes[1]
    assert [t.get_text() for t in categorical.get_xticklabels()] == ["A", "B", "D"]
    modelled = [line for line in categorical.get_lines() if line.get_label() == "modelled mean"][0]
    assert modelled.get_linewidth() == 0
    assert [line for line in continuous.get_lines() if line.get_label() == "modelled mean"][0].get_linewidth() > 0
