"""Readers of global-total reference series and tables (soilbench.load.series)."""

import pytest

from soilbench.errors import SoilbenchError
from soilbench.load import series


def test_digitised_series_with_header_and_no_final_newline(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("#DataThief\n1990, 51.0\n1991.02, 50.5\n1989, 52", encoding="utf-8")
    s = series.read_digitised_series(path)
    assert list(s.index) == [1989, 1990, 1991] and list(s) == [52.0, 51.0, 50.5]
    path.write_text("#DataThief\n1990, 51\n1990.1, 52\n", encoding="utf-8")
    with pytest.raises(SoilbenchError, match="more than one value"):
        series.read_digitised_series(path)
    path.write_text("1990; 51\n", encoding="utf-8")
    with pytest.raises(SoilbenchError, match="line 1"):
        series.read_digitised_series(path)


def test_cmip6_values_from_grams_to_petagrams(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('"year","variable","experiment","ensemble","model","units","value"\n'
                    '1980,"rh","historical","r1","A","g yr-1",5.0e16\n'
                    '1980,"npp","historical","r1","A","g yr-1",6.0e16\n', encoding="utf-8")
    table = series.read_cmip6_global(path, "rh")
    assert len(table) == 1 and table["value"].iloc[0] == pytest.approx(50.0)
    path.write_text('"year","variable","experiment","ensemble","model","units","value"\n'
                    '1980,"rh","historical","r1","A","kg s-1",1\n', encoding="utf-8")
    with pytest.raises(SoilbenchError, match="units"):
        series.read_cmip6_global(path)


def test_literature_half_widths_and_midpoints(tmp_path):
    header = "id,estimate,category,value,lower,upper,uncertainty_kind,period_start,period_end,source\n"
    path = tmp_path / "lit.csv"
    path.write_text(header + "a,A,data-driven,48.8,47.9,49.7,sd,1982,2018,x\n"
                    "b,B,data-driven,,68,101,range,,,y\n"
                    "c,C,models,51,,,none,,,z\n", encoding="utf-8")
    table = series.read_literature_table(path).set_index("id")
    assert table.loc["a", "half_width"] == pytest.approx(0.9)
    assert table.loc["b", "value"] == pytest.approx(84.5) and bool(table.loc["b", "value_is_midpoint"])
    assert table.loc["c", "half_width"] == 0.0
    path.write_text(header + "a,A,guess,48.8,,,none,,,x\n", encoding="utf-8")
    with pytest.raises(SoilbenchError, match="category"):
        series.read_literature_table(path)


@pytest.mark.parametrize("quantity", ["rh", "rs"])
def test_shipped_literature_tables_read(quantity):
    table = series.read_literature_table(series.literature_path(quantity))
    assert (table["category"] == "data-driven").sum() >= 4
