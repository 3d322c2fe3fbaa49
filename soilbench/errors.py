"""One exception type for every problem a user can fix.

Every message names the file (or catalog entry / configuration), the variable or column at
fault, and what is wrong, on one line; the command line prints it without a traceback.
"""

from __future__ import annotations

from os import PathLike


class SoilbenchError(Exception):
    """A user-fixable problem with input data, a catalog or a configuration.

    Parameters
    ----------
    source
        The file, catalog entry or configuration the problem is in.
    problem
        What is wrong, phrased so the user knows what to change.
    variable
        The variable, column, key or coordinate at fault, when there is one.
    """

    def __init__(self, source: str | PathLike | None, problem: str, variable: str | None = None):
        self.source = None if source is None else str(source)
        self.variable = variable
        self.problem = problem
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source)
        if self.variable:
            parts.append(f"variable '{self.variable}'")
        where = ": ".join(parts)
        text = f"{where}: {self.problem}" if where else self.problem
        return " ".join(text.split())  # one line, whatever the inputs contained


class DataNotAvailable(SoilbenchError):
    """A registered dataset is neither in the data directory nor downloadable right now."""


class UnsafeCatalog(SoilbenchError):
    """A catalog asks for something outside soilbench's allowlist (code, drivers, paths)."""


class ConfigError(SoilbenchError):
    """A benchmark definition (YAML) is invalid."""
