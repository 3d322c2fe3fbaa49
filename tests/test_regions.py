import numpy as np
import pandas as pd
import pytest
import xarray as xr

from soilbench import regions


@pytest.mark.parametrize(
    "code, group",
    [("Af", "koppen_A"), ("BWh", "koppen_B"), ("Cfb", "koppen_Cfw"), ("Cwa", "koppen_Cfw"),
     ("Csa", "koppen_Cs"), ("Dfc", "koppen_D"), ("Dsb", "koppen_D"), ("Dwd", "koppen_D"),
     ("ET", "koppen_E"), ("EF", "koppen_E"), ("Ocean", None), ("", None), ("nan", None)],
)
def test_climate_group_of_koppen_class(code, group):
    assert regions.climate_group(code) == group


def test_latitude_bands_cover_the_globe_without_overlap():
    bands = regions.latitude_bands(30)
    assert bands[0] == ("lat_-90_-60", -90, -60) and bands[-1][2] == 90
    lat = xr.DataArray(np.arange(-89.75, 90, 0.5), dims="lat")
    lon = xr.DataArray(np.arange(-179.75, 180, 0.5), dims="lon")
    masks = regions.region_masks(lat, lon)
    total = sum(masks[name].astype(int) for name, _, _ in bands)
    assert int(total.min()) == 1 and int(total.max()) == 1


def test_climate_groups_sampled_on_a_coarser_grid():
    table = pd.DataFrame(
        {"Latitude": [0.25, 0.25, 0.75, 0.75], "Longitude": [10.25, 10.75, 10.25, 10.75],
         "ClimateTypes": ["Af", "Af", "Dfb", "Ocean"]}
    )
    classes = regions.koppen_classes_from_table(table)
    codes = regions.climate_groups_on_grid(classes, xr.DataArray([0.3, 0.7], dims="lat"),
                                           xr.DataArray([10.7], dims="lon"))
    assert codes.values.ravel().tolist() == [regions.GROUP_CODES["koppen_A"], -1]


def test_koppen_table_without_needed_columns_names_them():
    with pytest.raises(regions.SoilbenchError, match="ClimateTypes"):
        regions.koppen_classes_from_table(pd.DataFrame({"Latitude": [0], "Longitude": [0]}), "k.csv")
