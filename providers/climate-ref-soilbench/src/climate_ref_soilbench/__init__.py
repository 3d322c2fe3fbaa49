"""soilbench as a diagnostic provider of the CMIP Rapid Evaluation Framework (climate-ref).

Registered through the ``climate-ref.providers`` entry point as ``soilbench``; the diagnostics
are soilbench's confrontation families (:mod:`climate_ref_soilbench.diagnostics`).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

from climate_ref_core.providers import DiagnosticProvider
from loguru import logger

from climate_ref_soilbench.diagnostics import diagnostics, registry_ids

__version__ = importlib.metadata.version("climate-ref-soilbench")


class SoilbenchProvider(DiagnosticProvider):
    """soilbench's diagnostics; reference data through soilbench's registry (pooch, sha256)."""

    def datasets(self) -> list[str]:
        """The registry datasets the diagnostics read."""
        return sorted(set().union(*(registry_ids(d.benchmark()) for d in self.diagnostics())))

    def fetch_data(self, config: Any) -> None:
        """Download and verify the datasets the diagnostics read into soilbench's data directory
        (``SOILBENCH_DATA_DIR``), so that executions run offline."""
        from soilbench import data
        from soilbench.errors import SoilbenchError

        unavailable = []
        for dataset_id in self.datasets():
            try:
                data.fetch(dataset_id)
            except SoilbenchError as err:  # e.g. a reformatted file that must be copied in by hand
                logger.error(str(err))
                unavailable.append(dataset_id)
        if unavailable:
            raise RuntimeError(f"soilbench reference data not available: {', '.join(unavailable)} "
                               f"(see the errors above; the data directory is {data.data_dir()})")

    def validate_setup(self, config: Any) -> bool:
        if not super().validate_setup(config):
            return False
        from soilbench import data

        missing = [i for i in self.datasets() if data.locate(i) is None]
        for dataset_id in missing:
            logger.error(f"soilbench reference {dataset_id} is not in {data.data_dir()}")
        if missing:
            logger.error(f"run `ref providers setup --provider {self.slug}` to fetch soilbench's reference data")
        return not missing

    def get_data_path(self) -> Path | None:
        from soilbench import data

        return data.data_dir()


provider = SoilbenchProvider("soilbench", __version__, slug="soilbench")
for _diagnostic in diagnostics():
    provider.register(_diagnostic)
