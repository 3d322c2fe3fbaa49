"""Colour limits shared by a map variable's maps across models, with memory that does not grow
with the number of models.

:func:`soilbench.report.plots.map_limits` takes the 2nd and 98th percentiles of every model's
values at once (of ``|value|`` for a diverging map, of ``|ln value|`` for a ratio). Here the same
percentiles are found in two passes over the models, one at a time: the first counts the values
in 65,536 bins that follow the floats' order (the top 16 bits of each value's ordered integer
form: no range needs to be known in advance); the second keeps only the values in the few bins
holding the percentiles' ranks, from which the order statistics are exact. The limits equal
:func:`~soilbench.report.plots.map_limits` on all values to rounding (the same order statistics
and interpolation).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

BINS = 1 << 16
_SHIFT = 48


def kind(attrs: dict[str, Any]) -> str | None:
    """How a map variable's limits are found: None when it needs no values (categorical, or
    limits of its own), else ``"sequential"``, ``"diverging"`` or ``"ratio"``."""
    if attrs.get("colormap") == "categorical" or ("vmin" in attrs and "vmax" in attrs):
        return None
    colormap = attrs.get("colormap", "sequential")
    if colormap == "diverging":
        return "ratio" if attrs.get("role") == "ratio" else "diverging"
    return "sequential"


def transformed(values: np.ndarray, how: str) -> np.ndarray:
    """The finite values whose percentiles give the limits."""
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if how == "ratio":
        return np.abs(np.log(values[values > 0]))
    if how == "diverging":
        return np.abs(values)
    return values


def _bins(values: np.ndarray) -> np.ndarray:
    """Bin of each float, in the floats' order (IEEE bits made monotonic, top 16 bits)."""
    bits = values.astype(np.float64).view(np.int64)
    ordered = np.where(bits < 0, ~bits & np.int64(0x7FFFFFFFFFFFFFFF), bits | np.int64(-0x8000000000000000))
    return (ordered.view(np.uint64) >> np.uint64(_SHIFT)).astype(np.int64)


class SharedLimits:
    """Two passes over the models' fields: :meth:`count` each, then :meth:`keep` each, then
    :meth:`limits`."""

    def __init__(self) -> None:
        self.how: dict[str, str | None] = {}
        self.attrs: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, np.ndarray] = {}
        self.finite: dict[str, int] = {}  # finite values before the transform
        self.kept: dict[str, list[np.ndarray]] = {}
        self._wanted: dict[str, np.ndarray] | None = None

    def _variables(self, fields: xr.Dataset | None, counting: bool = False):
        if fields is None:
            return
        for var, data in fields.data_vars.items():
            if data.attrs.get("plot") != "map":
                continue
            if var not in self.how:  # the first model's attributes decide, as in plots.map_limits
                self.how[var], self.attrs[var] = kind(data.attrs), dict(data.attrs)
            if self.how[var] is not None:
                raw = np.asarray(data.values, dtype=float)
                if counting:
                    self.finite[var] = self.finite.get(var, 0) + int(np.isfinite(raw).sum())
                yield var, transformed(raw, self.how[var])

    def count(self, fields: xr.Dataset | None) -> None:
        for var, values in self._variables(fields, counting=True):
            counts = self.counts.setdefault(var, np.zeros(BINS, dtype=np.int64))
            counts += np.bincount(_bins(values), minlength=BINS)

    def _positions(self, var: str) -> list[float]:
        n = int(self.counts[var].sum())
        quantiles = [0.02, 0.98] if self.how[var] == "sequential" else [0.98]
        return [q * (n - 1) for q in quantiles]

    def _ranks(self, var: str) -> set[int]:
        return {int(r) for position in self._positions(var) for r in (np.floor(position), np.ceil(position))}

    def needs_values(self) -> bool:
        """Whether :meth:`keep` has anything to keep (some variable has values)."""
        return any(counts.sum() for counts in self.counts.values())

    def keep(self, fields: xr.Dataset | None) -> None:
        if self._wanted is None:
            self._wanted = {}
            for var, counts in self.counts.items():
                if counts.sum():
                    ends = np.cumsum(counts)
                    self._wanted[var] = np.unique([np.searchsorted(ends, r, side="right") for r in self._ranks(var)])
        for var, values in self._variables(fields):
            if var in self._wanted:  # distinct values with their counts: a constant map keeps one
                self.kept.setdefault(var, []).append(np.unique(values[np.isin(_bins(values), self._wanted[var])],
                                                               return_counts=True))

    def limits(self) -> dict[str, tuple[float, float]]:
        """Per map variable that needs shared limits (the same keys as
        :func:`soilbench.report.figure_choice.map_limits`)."""
        out: dict[str, tuple[float, float]] = {}
        for var, how in self.how.items():
            attrs = self.attrs[var]
            if attrs.get("colormap") == "categorical":
                continue
            if how is None:
                out[var] = float(attrs["vmin"]), float(attrs["vmax"])
                continue
            counts = self.counts.get(var)
            if not self.finite.get(var):
                out[var] = (0.0, 1.0)  # no finite value at all
                continue
            if counts is None or not counts.sum():  # a ratio without a positive value
                out[var] = _limits(how, [1.0])
                continue
            pairs = self.kept.get(var, [])
            values_kept = np.concatenate([v for v, _ in pairs]) if pairs else np.empty(0)
            counts_kept = np.concatenate([c for _, c in pairs]) if pairs else np.empty(0, dtype=np.int64)
            distinct, inverse = np.unique(values_kept, return_inverse=True)
            multiplicity = np.bincount(inverse.ravel(), weights=counts_kept, minlength=distinct.size).astype(np.int64)
            # the rank of each kept value's last copy among all values: the bins before it, then the kept ones
            distinct_bins = _bins(distinct)
            before = np.concatenate([[0], np.cumsum(counts)])[distinct_bins]
            within = np.cumsum(multiplicity) - np.concatenate([[0], np.cumsum(multiplicity)])[
                np.searchsorted(distinct_bins, distinct_bins, side="left")]
            last_rank = before + within - 1

            def order_statistic(rank: int) -> float:
                return float(distinct[np.searchsorted(last_rank, rank, side="left")])

            values = []
            for position in self._positions(var):
                low, high = int(np.floor(position)), int(np.ceil(position))
                a, b = order_statistic(low), order_statistic(high)
                values.append(a + (b - a) * (position - low))
            out[var] = _limits(how, values)
        return out


def _limits(how: str, values: list[float]) -> tuple[float, float]:
    """As :func:`soilbench.report.plots.map_limits` turns its percentiles into limits."""
    if how == "ratio":
        spread = values[0] or 1.0
        return float(np.exp(-spread)), float(np.exp(spread))
    if how == "diverging":
        bound = values[0] or 1.0
        return -bound, bound
    low, high = values
    return float(low), float(high if high > low else low + 1)
