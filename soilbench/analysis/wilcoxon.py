"""Paired Wilcoxon signed-rank tests with explicit, documented zero and tie handling.

The daily site confrontation tests, per study, whether modelled and observed Rh differ
(methods.md §4, Jian et al. 2021). Which p-value one gets depends on choices that scipy and R
make differently by default, so soilbench states them:

``method="r"`` (default) reproduces R's ``wilcox.test(model, observed, paired = TRUE)`` with its
defaults (``exact = NULL, correct = TRUE``), the call behind the published analysis:

- zero differences are dropped before ranking (Wilcoxon's original rule, ``zero_method="wilcox"``);
- with fewer than 50 non-zero differences and neither ties nor zeros, the exact null
  distribution of the signed-rank statistic;
- otherwise the normal approximation with the tie-corrected variance and a continuity
  correction of 0.5.

scipy's own ``method="auto"`` differs: it goes exact up to n = 50 (R: n < 50) and switches to
a permutation test for n <= 13 with ties or zeros, so its p-values differ from R's there.

``method="permutation"`` is the exact conditional test: the p-value over all 2^n sign
assignments of the observed (mid-)ranks, correct with ties and zeros (``zero_method`` "wilcox"
drops zeros first, "pratt" ranks them and lets them contribute to neither sum). It is what
``coin::wilcoxsign_test(distribution = "exact")`` computes; feasible for n <= 20.

``method="asymptotic"`` is the normal approximation with or without ``correction`` (R:
``exact = FALSE, correct = TRUE/FALSE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

#: largest sample for which the permutation test enumerates every sign assignment
MAX_EXACT_PERMUTATION_N = 20
#: R's wilcox.test uses the exact distribution only below this many non-zero differences
R_EXACT_LIMIT = 50

METHODS = ("r", "permutation", "asymptotic")
ZERO_METHODS = ("wilcox", "pratt")


@dataclass(frozen=True)
class SignedRankResult:
    """One paired signed-rank test.

    Attributes
    ----------
    statistic
        V = sum of the ranks of positive differences (R's ``V``), after the zero handling.
    p_value
        Two-sided p-value; 1.0 when every difference is zero (no evidence of a difference).
    method
        What was computed: ``exact``, ``normal approximation (continuity corrected)``,
        ``normal approximation``, ``exact permutation`` or ``all differences zero``.
    n_nonzero, n_zero, has_ties
        Sample description (ties among the absolute non-zero differences).
    """

    statistic: float
    p_value: float
    method: str
    n_nonzero: int
    n_zero: int
    has_ties: bool


def paired_signed_rank_test(modelled: np.ndarray, observed: np.ndarray, *, method: str = "r",
                            zero_method: str = "wilcox", correction: bool = True) -> SignedRankResult:
    """Two-sided paired Wilcoxon signed-rank test of ``modelled - observed``.

    Parameters
    ----------
    modelled, observed
        Paired values (same length); pairs with a NaN are removed first.
    method
        ``"r"``, ``"permutation"`` or ``"asymptotic"`` (see the module docstring).
    zero_method
        ``"wilcox"`` (drop zero differences; R's only choice) or ``"pratt"``.
        ``method="r"`` requires ``"wilcox"``.
    correction
        Continuity correction of the normal approximation (``method="asymptotic"`` only;
        ``method="r"`` always corrects, like R's default).

    Returns
    -------
    SignedRankResult
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if zero_method not in ZERO_METHODS:
        raise ValueError(f"zero_method must be one of {ZERO_METHODS}, got {zero_method!r}")
    if method == "r" and zero_method != "wilcox":
        raise ValueError("method='r' reproduces R's wilcox.test, which always drops zeros (zero_method='wilcox')")
    modelled = np.asarray(modelled, float)
    observed = np.asarray(observed, float)
    if modelled.shape != observed.shape:
        raise ValueError("modelled and observed must have the same length")
    keep = np.isfinite(modelled) & np.isfinite(observed)
    diff = modelled[keep] - observed[keep]
    nonzero = diff[diff != 0]
    n_zero = int(diff.size - nonzero.size)
    has_ties = bool(np.unique(np.abs(nonzero)).size < nonzero.size)
    if nonzero.size == 0:
        return SignedRankResult(0.0, 1.0, "all differences zero", 0, n_zero, False)
    ranked = diff if zero_method == "pratt" else nonzero
    ranks = stats.rankdata(np.abs(ranked))
    statistic = float(ranks[ranked > 0].sum())

    if method == "permutation":
        if ranked.size > MAX_EXACT_PERMUTATION_N:
            raise ValueError(f"exact permutation needs n <= {MAX_EXACT_PERMUTATION_N}, got {ranked.size}")
        result = stats.wilcoxon(ranked, zero_method=zero_method, alternative="two-sided",
                                method=stats.PermutationMethod(n_resamples=2 ** ranked.size))
        return SignedRankResult(statistic, float(result.pvalue), "exact permutation", int(nonzero.size), n_zero,
                                has_ties)
    if method == "r":
        exact = nonzero.size < R_EXACT_LIMIT and not has_ties and n_zero == 0
        if exact:
            result = stats.wilcoxon(nonzero, zero_method="wilcox", alternative="two-sided", method="exact")
            return SignedRankResult(statistic, float(result.pvalue), "exact", int(nonzero.size), 0, False)
        correction = True
    result = stats.wilcoxon(ranked, zero_method=zero_method, correction=correction, alternative="two-sided",
                            method="asymptotic")
    label = "normal approximation (continuity corrected)" if correction else "normal approximation"
    return SignedRankResult(statistic, float(result.pvalue), label, int(nonzero.size), n_zero, has_ties)
