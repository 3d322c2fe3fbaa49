"""Loading and normalisation: model output and gridded references → the canonical dataset.

Public API::

    load_model(source, name=None, period=None, data_dir=None) -> xr.Dataset
    load_reference(dataset_id, data_dir=None) -> xr.Dataset
    REFERENCE_IDS                                      # ids load_reference understands (from the catalogs)
    annual_mean(obj), annual_total(da), step_days(ds)  # time axis (soilbench.load.timeaxis)

Site tables (SRDB, MGRhD) are read by :mod:`soilbench.load.sites`.
"""

from soilbench.load.model import load_model
from soilbench.load.reference import load_reference
from soilbench.load.timeaxis import annual_mean, annual_total, step_days


def __getattr__(name: str):
    if name == "REFERENCE_IDS":  # the catalogs' gridded entries, read when asked (not at import)
        from soilbench.load.reference import gridded_reference_ids

        return gridded_reference_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["load_model", "load_reference", "REFERENCE_IDS", "annual_mean", "annual_total", "step_days"]
