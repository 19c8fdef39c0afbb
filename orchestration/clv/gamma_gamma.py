"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV").

Per repeat customer: x = repeat purchases and m = their average value. Fitted by maximum
likelihood over p, q and gamma; customers without a repeat purchase carry no spend information
and are left out of the fit, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int


def _log_likelihood_terms(p: float, q: float, gamma: float, x: np.ndarray,
                          m: np.ndarray) -> np.ndarray:
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
            + q * np.log(gamma) + (p * x - 1) * np.log(m) + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + m * x))


def fit(x: np.ndarray, m: np.ndarray) -> GammaGammaParams:
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    usable = (x > 0) & (m > 0)
    x, m = x[usable], m[usable]
    if len(x) == 0:
        raise ValueError("Gamma-Gamma needs customers with a repeat purchase of positive value")

    def negative_ll(log_params: np.ndarray) -> float:
        p, q, gamma = np.exp(log_params)
        return -float(np.sum(_log_likelihood_terms(p, q, gamma, x, m)))

    start = np.log([1.0, 1.0, max(float(np.mean(m)), 1e-3)])
    result = optimize.minimize(negative_ll, start, method="Nelder-Mead",
                               options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20_000,
                                        "maxfev": 40_000})
    polished = optimize.minimize(negative_ll, result.x, method="L-BFGS-B",
                                 options={"ftol": 1e-15, "gtol": 1e-10})
    best = polished if polished.fun <= result.fun else result
    p, q, gamma = (float(v) for v in np.exp(best.x))
    return GammaGammaParams(p=p, q=q, gamma=gamma, log_likelihood=-float(best.fun),
                            customers=len(x))


def expected_average_value(params: GammaGammaParams, x: np.ndarray,
                           m: np.ndarray) -> np.ndarray:
    """E[M | x, m]: a weighted mean of the population mean and the customer's own mean.

    Customers with no repeat purchase get the population mean p·gamma/(q-1).
    """
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    if params.q <= 1:
        raise ValueError(f"the mean spend needs q > 1, fitted q = {params.q:.4f}")
    m = np.where(x > 0, m, 0.0)
    return params.p * (params.gamma + m * x) / (params.p * x + params.q - 1)
