"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Per customer: x = repeat purchases, t_x = time of the last purchase and T = time since the first
purchase, all in the same unit (weeks here). Fitted by maximum likelihood over the four
population parameters r, alpha, a, b; vectorised with numpy, optimised with scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from orchestration.clv.optimise import minimise


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int


def _log_likelihood_terms(
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
    distinct: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Per-customer log-likelihood, equation (6) of the paper, computed in log space.

    The special functions depend on x alone, which takes few distinct values: they are
    evaluated once per distinct x and indexed back, the costly part of a large fit.
    `distinct` is np.unique(x, return_inverse=True), computed once per fit.
    """
    distinct_x, index = distinct
    beta_ab = special.betaln(a, b)
    common = (special.gammaln(r + distinct_x) - special.gammaln(r))[index] + r * np.log(alpha)
    alive = (special.betaln(a, b + distinct_x) - beta_ab)[index] - (r + x) * np.log(alpha + big_t)
    # The dropout term exists only for customers with at least one repeat purchase.
    dropout = special.betaln(a + 1, np.maximum(b + distinct_x - 1, 1e-12)) - beta_ab
    dropped = np.where(x > 0, dropout[index] - (r + x) * np.log(alpha + t_x), -np.inf)
    return common + np.logaddexp(alive, dropped)


# The range a and b are searched in (see fit).
AB_LIMITS = (1e-4, 1e4)


def fit(
    x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, weights: np.ndarray | None = None
) -> BgNbdParams:
    """Maximum-likelihood fit; parameters are optimised on the log scale to stay positive.

    `weights` counts customers sharing one (x, t_x, T) history, so a large base can be fitted
    on its distinct histories.
    """
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if len(x) == 0:
        raise ValueError("BG/NBD needs at least one customer")
    # One order for one set of histories: floating-point sums depend on the order of their
    # terms, and the optimiser turns a last-digit difference into a different stopping point.
    # Sorted, the same histories give the same parameters whatever order they arrived in.
    order = np.lexsort((weights, big_t, t_x, x))
    x, t_x, big_t, weights = x[order], t_x[order], big_t[order], weights[order]

    distinct = np.unique(x, return_inverse=True)

    def negative_ll(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        terms = _log_likelihood_terms(r, alpha, a, b, x, t_x, big_t, distinct)
        # np.sum (numpy's own pairwise sum), not np.dot: BLAS may split a dot product across
        # threads, and the split (so the last digits) depends on the machine.
        return -float(np.sum(weights * terms))

    # Start near the scale of the data: alpha is a time scale, so start at mean T.
    start = np.log([1.0, max(float(np.mean(big_t)), 1e-3), 1.0, 1.0])
    # Data with no sign of customers dropping out pull a towards 0 and b towards infinity (the
    # NBD limit) along a flat ridge; by b = 3.5e16 equation (10) is rounding noise (predicted
    # purchases of ±1e16 on a demo base). a and b stay within [1e-4, 1e4]: a dropout chance
    # a/(a+b) down to 1e-8 per purchase, no different in practice, and equation (10) keeps
    # twelve significant digits. Published fits (CDNOW: a 0.79, b 2.43) lie far inside.
    limits = (float(np.log(AB_LIMITS[0])), float(np.log(AB_LIMITS[1])))
    best = minimise(negative_ll, start, [(None, None), (None, None), limits, limits])
    r, alpha, a, b = (float(v) for v in np.exp(best.x))
    return BgNbdParams(
        r=r, alpha=alpha, a=a, b=b, log_likelihood=-float(best.fun), customers=int(weights.sum())
    )


def _dropout_odds(p: BgNbdParams, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
    """a/(b+x-1) · ((alpha+T)/(alpha+t_x))^(r+x) for repeat buyers, 0 otherwise."""
    repeat = x > 0
    ratio = np.where(repeat, p.a / np.maximum(p.b + x - 1, 1e-12), 0.0)
    return ratio * np.exp((p.r + x) * (np.log(p.alpha + big_t) - np.log(p.alpha + t_x)))


def probability_alive(
    p: BgNbdParams, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """P(customer still active at T | x, t_x, T), equation (11)."""
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    return 1.0 / (1.0 + _dropout_odds(p, x, t_x, big_t))


def expected_purchases(
    p: BgNbdParams, horizon: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + horizon] given the history, equation (10)."""
    x, t_x, big_t = (np.asarray(v, dtype=float) for v in (x, t_x, big_t))
    horizon = np.asarray(horizon, dtype=float)
    # Valid for any a != 1: for a < 1 numerator and denominator change sign together.
    z = horizon / (p.alpha + big_t + horizon)
    hyp = special.hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z)
    shrink = np.exp((p.r + x) * (np.log(p.alpha + big_t) - np.log(p.alpha + big_t + horizon)))
    numerator = (p.a + p.b + x - 1) / (p.a - 1) * (1.0 - shrink * hyp)
    return numerator / (1.0 + _dropout_odds(p, x, t_x, big_t))
