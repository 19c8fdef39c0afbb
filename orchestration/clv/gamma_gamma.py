"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV").

Per repeat customer: x = repeat purchases and m = their average value. Fitted by maximum
likelihood over p, q and gamma; customers without a repeat purchase carry no spend information
and are left out of the fit, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from orchestration.clv.optimise import minimise


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int


def _log_likelihood_terms(
    p: float,
    q: float,
    gamma: float,
    x: np.ndarray,
    m: np.ndarray,
    log_m: np.ndarray,
    distinct: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    # Gamma functions depend on x alone: evaluated per distinct x (np.unique(x,
    # return_inverse=True), computed once per fit) and indexed back.
    distinct_x, index = distinct
    by_x = (
        special.gammaln(p * distinct_x + q)
        - special.gammaln(p * distinct_x)
        + p * distinct_x * np.log(distinct_x)
    )
    return (
        by_x[index]
        - special.gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * log_m
        - (p * x + q) * np.log(gamma + m * x)
    )


def fit(x: np.ndarray, m: np.ndarray) -> GammaGammaParams:
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    usable = (x > 0) & (m > 0)
    x, m = x[usable], m[usable]
    if len(x) == 0:
        raise ValueError("Gamma-Gamma needs customers with a repeat purchase of positive value")
    # One order for one set of customers: floating-point sums depend on the order of their
    # terms, and the optimiser turns a last-digit difference into a different stopping point
    # on the flat p/q/gamma ridge. Sorted, the same customers give the same parameters to the
    # last digit whatever order the rows arrived in.
    order = np.lexsort((m, x))
    x, m = x[order], m[order]

    log_m = np.log(m)
    distinct = np.unique(x, return_inverse=True)

    def negative_ll(log_params: np.ndarray) -> float:
        p, q, gamma = np.exp(log_params)
        return -float(np.sum(_log_likelihood_terms(p, q, gamma, x, m, log_m, distinct)))

    start = np.log([1.0, 1.0, max(float(np.mean(m)), 1e-3)])
    best = minimise(negative_ll, start)
    p, q, gamma = (float(v) for v in np.exp(best.x))
    return GammaGammaParams(
        p=p, q=q, gamma=gamma, log_likelihood=-float(best.fun), customers=len(x)
    )


def expected_average_value(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[M | x, m]: a weighted mean of the population mean and the customer's own mean.

    Customers with no repeat purchase get the population mean p·gamma/(q-1).
    """
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    if params.q <= 1:
        raise ValueError(f"the mean spend needs q > 1, fitted q = {params.q:.4f}")
    m = np.where(x > 0, m, 0.0)
    return params.p * (params.gamma + m * x) / (params.p * x + params.q - 1)
