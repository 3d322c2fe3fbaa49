"""Paired signed-rank p-values against two independent oracles.

1. R's ``wilcox.test`` (run through Rscript; skipped with a reason when R is absent):
   - ``wilcox.test(m, o, paired = TRUE)`` (defaults exact = NULL, correct = TRUE)
     ↔ ``paired_signed_rank_test(m, o, method="r")``: zeros dropped; exact for < 50 non-zero
     differences without ties or zeros, else normal approximation, tie-corrected variance,
     continuity correction;
   - ``wilcox.test(m, o, paired = TRUE, exact = FALSE, correct = FALSE)``
     ↔ ``method="asymptotic", correction=False`` (zeros dropped).
2. Exact enumeration of all 2^n sign assignments in pure Python
   ↔ ``method="permutation"`` with ``zero_method="wilcox"`` (zeros dropped, then mid-ranks) and
   ``zero_method="pratt"`` (zeros ranked, contributing to neither sum). Without ties or zeros the
   enumeration also equals R's exact p-value.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess

import numpy as np
import pytest

from soilbench.analysis.wilcoxon import paired_signed_rank_test

# Values on a 0.25 grid, so that equal differences are exactly equal in binary floating point
# (ties are then ties for R, scipy and the oracle alike).
FIXTURES = {
    # differences 1.25, -0.75, 2.5, 0.25, 4.5, -0.5, 1.75, 3.25, -2.0, 2.25: distinct magnitudes
    "no_ties_no_zeros": ([3.25, 1.5, 4.0, 2.75, 5.5, 1.0, 2.0, 6.25, 0.75, 2.75],
                         [2.0, 2.25, 1.5, 2.5, 1.0, 1.5, 0.25, 3.0, 2.75, 0.5]),
    # three zero differences; |differences| 1.0 ×5 and 0.5 ×4 tie
    "ties_and_zeros": ([1.0, 2.5, 3.0, 0.5, 5.0, 2.25, 1.0, 3.25, 4.0, 2.0, 1.5, 0.75],
                       [1.0, 2.5, 2.0, 1.0, 4.0, 1.25, 1.5, 2.25, 4.0, 1.5, 1.0, 1.25]),
    "many_ties": ([2.0, 2.0, 3.0, 1.0, 4.0, 2.0, 3.0, 1.0, 2.0, 5.0],
                  [1.0, 3.0, 2.0, 2.0, 3.0, 1.0, 2.0, 1.0, 1.0, 3.0]),
    "one_sided_shift": ([x + 1.0 for x in range(8)], [float(x) for x in range(8)]),
}


def _large_fixture() -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(7)
    observed = np.round(rng.gamma(2.0, 1.0, 60) * 4) / 4
    modelled = np.round((observed * 1.1 + rng.normal(0, 0.5, 60)) * 4) / 4
    return modelled.tolist(), observed.tolist()


def _midranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def enumeration_p_value(modelled: list[float], observed: list[float], zero_method: str) -> float:
    """Two-sided exact p-value over every sign assignment of the observed mid-ranks."""
    diffs = [m - o for m, o in zip(modelled, observed)]
    if zero_method == "wilcox":
        diffs = [d for d in diffs if d != 0]
    ranks = _midranks([abs(d) for d in diffs])
    counted = [r for r, d in zip(ranks, diffs) if d != 0]  # zeros (Pratt) never enter the sum
    observed_t = sum(r for r, d in zip(ranks, diffs) if d > 0)
    null = [sum(r for r, s in zip(counted, signs) if s) for signs in itertools.product((0, 1), repeat=len(counted))]
    tol = 1e-9
    low = sum(t <= observed_t + tol for t in null) / len(null)
    high = sum(t >= observed_t - tol for t in null) / len(null)
    return min(1.0, 2 * min(low, high))


@pytest.mark.parametrize("name", sorted(FIXTURES))
@pytest.mark.parametrize("zero_method", ["wilcox", "pratt"])
def test_permutation_equals_enumeration(name, zero_method):
    modelled, observed = FIXTURES[name]
    result = paired_signed_rank_test(np.array(modelled), np.array(observed), method="permutation",
                                     zero_method=zero_method)
    assert result.method == "exact permutation"
    assert result.p_value == pytest.approx(enumeration_p_value(modelled, observed, zero_method), rel=1e-12, abs=1e-15)


def test_zero_handling_changes_the_p_value():
    """Pratt and Wilcox zero handling are different tests: the fixture must tell them apart."""
    modelled, observed = FIXTURES["ties_and_zeros"]
    wilcox = enumeration_p_value(modelled, observed, "wilcox")
    pratt = enumeration_p_value(modelled, observed, "pratt")
    assert wilcox != pytest.approx(pratt)


def test_all_zero_differences_give_p_one():
    result = paired_signed_rank_test(np.ones(7), np.ones(7))
    assert result.p_value == 1.0 and result.method == "all differences zero"


def test_r_method_requires_wilcox_zeros():
    with pytest.raises(ValueError, match="drops zeros"):
        paired_signed_rank_test(np.ones(7), np.zeros(7), method="r", zero_method="pratt")


RSCRIPT = shutil.which("Rscript")


@pytest.fixture(scope="module")
def r_p_values() -> dict[str, dict[str, float]]:
    if RSCRIPT is None:
        pytest.skip("Rscript not found: install r-base-core (.ci/run does) to compare with R's wilcox.test")
    cases = {**FIXTURES, "large_n_with_ties": _large_fixture()}
    lines = ["out <- list()"]
    for name, (m, o) in cases.items():
        mv = ",".join(repr(float(x)) for x in m)
        ov = ",".join(repr(float(x)) for x in o)
        lines += [
            f"m <- c({mv}); o <- c({ov})",
            f"out[['{name}']] <- c(default = suppressWarnings(wilcox.test(m, o, paired = TRUE)$p.value),"
            f" normal_uncorrected = suppressWarnings(wilcox.test(m, o, paired = TRUE, exact = FALSE,"
            f" correct = FALSE)$p.value))",
        ]
    lines.append("for (n in names(out)) cat(n, sprintf('%.17g', out[[n]]), '\\n')")
    completed = subprocess.run([RSCRIPT, "--vanilla", "-e", "\n".join(lines)], capture_output=True, text=True,
                               timeout=60)
    assert completed.returncode == 0, completed.stderr
    values = {}
    for line in completed.stdout.strip().splitlines():
        name, default, uncorrected = line.split()
        values[name] = {"default": float(default), "normal_uncorrected": float(uncorrected)}
    values["_cases"] = json.loads(json.dumps({k: list(map(list, v)) for k, v in cases.items()}))
    return values


@pytest.mark.parametrize("name", sorted(FIXTURES) + ["large_n_with_ties"])
def test_r_default_call(r_p_values, name):
    modelled, observed = r_p_values["_cases"][name]
    result = paired_signed_rank_test(np.array(modelled), np.array(observed), method="r")
    assert result.p_value == pytest.approx(r_p_values[name]["default"], rel=1e-9)


@pytest.mark.parametrize("name", sorted(FIXTURES) + ["large_n_with_ties"])
def test_r_normal_approximation_without_correction(r_p_values, name):
    modelled, observed = r_p_values["_cases"][name]
    result = paired_signed_rank_test(np.array(modelled), np.array(observed), method="asymptotic",
                                     correction=False)
    assert result.p_value == pytest.approx(r_p_values[name]["normal_uncorrected"], rel=1e-9)


def test_r_exact_equals_enumeration_without_ties(r_p_values):
    modelled, observed = FIXTURES["no_ties_no_zeros"]
    assert paired_signed_rank_test(np.array(modelled), np.array(observed), method="r").method == "exact"
    assert r_p_values["no_ties_no_zeros"]["default"] == pytest.approx(
        enumeration_p_value(modelled, observed, "wilcox"), rel=1e-12)


def test_ties_use_the_normal_approximation_like_r():
    modelled, observed = FIXTURES["ties_and_zeros"]
    result = paired_signed_rank_test(np.array(modelled), np.array(observed), method="r")
    assert result.method == "normal approximation (continuity corrected)"
    assert result.n_zero == 3 and result.has_ties
