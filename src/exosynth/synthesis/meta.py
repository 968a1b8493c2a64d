"""Random-effects meta-analysis of one set of effects, as R's ``metafor::rma`` computes it.

REML by Fisher scoring exactly as ``rma.uni`` runs it (starting from the Hedges estimate,
step-halving to keep tau^2 >= 0, stop when tau^2 changes by less than 1e-5, at most 100
iterations), DerSimonian-Laird, the Knapp-Hartung adjustment, metafor's I^2 (tau^2 over
tau^2 plus the typical sampling variance), Cochran's Q, the prediction interval of
``predict()``, and Egger's regression test as ``regtest()`` runs it by default (the model's
own method, the standard error as moderator).

Plain Python on purpose: analyses hold a handful of comparisons, and importing numpy or
scipy would cost the build more than the arithmetic; the chi-square and t distributions
are the regularized incomplete gamma and beta functions (Numerical Recipes' series and
continued fractions), accurate to about 1e-13.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z_975 = 1.959963984540054  # qnorm(0.975)
REML = "REML"
DL = "DL"
METHODS = (REML, DL)
THRESHOLD = 1e-5  # metafor's control$threshold
MAX_ITER = 100  # metafor's control$maxiter
LL0_TOL = 2.220446049250313e-16**0.25  # metafor's control$tol
_EPS = 1e-15
_TINY = 1e-300


class NotConvergedError(ArithmeticError):
    """REML's Fisher scoring did not settle within MAX_ITER iterations."""


# ---------------------------------------------------------------- distributions


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x)."""
    if x <= 0:
        return 1.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # series for P
        term = total = 1 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return 1 - total * math.exp(log_front)
    b = x + 1 - a  # continued fraction for Q (modified Lentz)
    c = 1 / _TINY
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return math.exp(log_front) * h


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for X chi-square with df degrees of freedom (R's pchisq(lower = FALSE))."""
    return _gamma_q(df / 2, x / 2)


def _beta_cf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1 / d
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return h


def _beta_i(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_cf(a, b, x) / a
    return 1 - front * _beta_cf(b, a, 1 - x) / b


def t_sf2(t: float, df: float) -> float:
    """Two-sided P(|T| > |t|) for Student's T with df degrees of freedom."""
    return _beta_i(df / 2, 0.5, df / (df + t * t))


def t_quantile_975(df: float) -> float:
    """qt(0.975, df): the t with two-sided tail probability 0.05 (bisection to 1e-14)."""
    low, high = 0.0, 1.0
    while t_sf2(high, df) > 0.05:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_sf2(mid, df) > 0.05:
            low = mid
        else:
            high = mid
        if high - low < 1e-14 * high:
            break
    return (low + high) / 2


# ---------------------------------------------------------------- small matrices

Matrix = list[list[float]]


def _inverse(m: Matrix) -> Matrix:
    """Inverse of a small symmetric positive-definite matrix (Gauss-Jordan)."""
    size = len(m)
    work = [[*row, *(1.0 if i == j else 0.0 for j in range(size))] for i, row in enumerate(m)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(work[r][col]))
        work[col], work[pivot] = work[pivot], work[col]
        scale = work[col][col]
        work[col] = [value / scale for value in work[col]]
        for row in range(size):
            if row != col:
                factor = work[row][col]
                work[row] = [a - factor * b for a, b in zip(work[row], work[col], strict=True)]
    return [row[size:] for row in work]


def _cross(x: Sequence[Sequence[float]], w: Sequence[float]) -> Matrix:
    """X' diag(w) X."""
    p = len(x[0])
    return [
        [sum(xi[a] * wi * xi[b] for xi, wi in zip(x, w, strict=True)) for b in range(p)]
        for a in range(p)
    ]


def _matmul(a: Matrix, b: Matrix) -> Matrix:
    return [
        [sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))]
        for i in range(len(a))
    ]


def _trace(m: Matrix) -> float:
    return sum(m[i][i] for i in range(len(m)))


@dataclass(frozen=True)
class _Wls:
    beta: list[float]
    vb: Matrix
    residuals: list[float]
    trace_p: float
    trace_pp: float


def _wls(y: Sequence[float], x: Sequence[Sequence[float]], w: Sequence[float]) -> _Wls:
    """Weighted least squares with P = W - W X (X'WX)^-1 X'W summarised by its traces."""
    a = _inverse(_cross(x, w))
    xwy = [sum(xi[j] * wi * yi for xi, wi, yi in zip(x, w, y, strict=True)) for j in range(len(a))]
    beta = [sum(a[i][j] * xwy[j] for j in range(len(a))) for i in range(len(a))]
    residuals = [
        yi - sum(b * xij for b, xij in zip(beta, xi, strict=True))
        for yi, xi in zip(y, x, strict=True)
    ]
    xw2x = _cross(x, [wi * wi for wi in w])
    xw3x = _cross(x, [wi**3 for wi in w])
    a_xw2x = _matmul(a, xw2x)
    trace_p = sum(w) - _trace(a_xw2x)
    trace_pp = (
        sum(wi * wi for wi in w) - 2 * _trace(_matmul(a, xw3x)) + _trace(_matmul(a_xw2x, a_xw2x))
    )
    return _Wls(beta, a, residuals, trace_p, trace_pp)


# ---------------------------------------------------------------- tau^2 estimators


def tau2_dl(y: Sequence[float], v: Sequence[float], x: Sequence[Sequence[float]]) -> float:
    """DerSimonian-Laird: (Q - (k - p)) / tr(P), truncated at 0."""
    w = [1 / vi for vi in v]
    fit = _wls(y, x, w)
    q = sum(wi * e * e for wi, e in zip(w, fit.residuals, strict=True))
    return max(0.0, (q - (len(y) - len(x[0]))) / fit.trace_p)


def tau2_he(y: Sequence[float], v: Sequence[float], x: Sequence[Sequence[float]]) -> float:
    """Hedges' (HE) estimator, REML's starting value in metafor: (RSS - tr(PV)) / (k - p)."""
    ones = [1.0] * len(y)
    a = _inverse(_cross(x, ones))
    fit = _wls(y, x, ones)
    rss = sum(e * e for e in fit.residuals)
    # tr(PV) with P = I - X (X'X)^-1 X': sum v_i (1 - h_ii)
    hat = [sum(xi[i] * a[i][j] * xi[j] for i in range(len(a)) for j in range(len(a))) for xi in x]
    tr_pv = sum(vi * (1 - hi) for vi, hi in zip(v, hat, strict=True))
    return max(0.0, (rss - tr_pv) / (len(y) - len(x[0])))


def tau2_reml(y: Sequence[float], v: Sequence[float], x: Sequence[Sequence[float]]) -> float:
    """REML by metafor's Fisher scoring; raises NotConvergedError after MAX_ITER iterations."""
    tau2 = tau2_he(y, v, x)
    change = THRESHOLD + 1
    iteration = 0
    while change > THRESHOLD:
        iteration += 1
        old = tau2
        w = [1 / (vi + tau2) for vi in v]
        fit = _wls(y, x, w)
        ypppy = sum((wi * e) ** 2 for wi, e in zip(w, fit.residuals, strict=True))
        adj = (ypppy - fit.trace_p) / fit.trace_pp
        while tau2 + adj < 0:
            adj /= 2
        tau2 += adj
        change = abs(old - tau2)
        if iteration > MAX_ITER:
            raise NotConvergedError
    # metafor's ll0check: Fisher scoring stuck at a local maximum above tau^2 = 0.
    if _reml_loglik(y, v, x, 0.0) - _reml_loglik(y, v, x, tau2) > LL0_TOL and tau2 > THRESHOLD:
        tau2 = 0.0
    return max(0.0, tau2)


def _determinant(m: Matrix) -> float:
    work = [list(row) for row in m]
    det = 1.0
    for col in range(len(work)):
        pivot = max(range(col, len(work)), key=lambda r: abs(work[r][col]))
        if work[pivot][col] == 0:
            return 0.0
        if pivot != col:
            work[col], work[pivot] = work[pivot], work[col]
            det = -det
        det *= work[col][col]
        for row in range(col + 1, len(work)):
            factor = work[row][col] / work[col][col]
            work[row] = [a - factor * b for a, b in zip(work[row], work[col], strict=True)]
    return det


def _reml_loglik(
    y: Sequence[float], v: Sequence[float], x: Sequence[Sequence[float]], tau2: float
) -> float:
    w = [1 / (vi + tau2) for vi in v]
    fit = _wls(y, x, w)
    rss = sum(wi * e * e for wi, e in zip(w, fit.residuals, strict=True))
    return (
        -0.5 * (len(y) - len(x[0])) * math.log(2 * math.pi)
        - 0.5 * sum(math.log(vi + tau2) for vi in v)
        - 0.5 * math.log(_determinant(_cross(x, w)))
        - 0.5 * rss
    )


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class Fit:
    """One pooled estimate with its heterogeneity (None where k = 1)."""

    method: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    tau2: float | None
    i2: float | None
    q: float | None
    q_p: float | None
    pi_low: float | None
    pi_high: float | None


@dataclass(frozen=True)
class Coefficients:
    """A meta-regression's coefficients, SEs, test statistics and p-values."""

    tau2: float
    beta: list[float]
    se: list[float]
    stat: list[float]
    p: list[float]
    df: int | None  # None: normal test; else t with df (Knapp-Hartung)


def _regression(
    y: Sequence[float], v: Sequence[float], x: Sequence[Sequence[float]], method: str, knha: bool
) -> tuple[Coefficients, _Wls, list[float]]:
    tau2 = tau2_reml(y, v, x) if method == REML else tau2_dl(y, v, x)
    w = [1 / (vi + tau2) for vi in v]
    fit = _wls(y, x, w)
    vb = fit.vb
    df: int | None = None
    if knha:
        df = len(y) - len(x[0])
        rss = sum(wi * e * e for wi, e in zip(w, fit.residuals, strict=True))
        s2w = 0.0 if rss <= 2.220446049250313e-16 else rss / df
        vb = [[s2w * value for value in row] for row in vb]
    se = [math.sqrt(vb[i][i]) for i in range(len(vb))]
    stat = [b / s for b, s in zip(fit.beta, se, strict=True)]
    p = [2 * normal_sf(abs(z)) if df is None else t_sf2(z, df) for z in stat]
    return Coefficients(tau2, fit.beta, se, stat, p, df), fit, w


def fit_model(
    y: Sequence[float], v: Sequence[float], method: str = REML, knha: bool = False
) -> Fit:
    """rma(yi, vi, method=method[, test="knha"]) and predict() on one set of effects.

    k = 1: the comparison itself (normal CI and p), no heterogeneity.
    Raises NotConvergedError when REML does not settle.
    """
    k = len(y)
    if k == 1:
        se = math.sqrt(v[0])
        return Fit(
            method,
            1,
            y[0],
            se,
            y[0] - Z_975 * se,
            y[0] + Z_975 * se,
            2 * normal_sf(abs(y[0] / se)),
            None,
            None,
            None,
            None,
            None,
            None,
        )
    x = [[1.0] for _ in y]
    coef, _, _ = _regression(y, v, x, method, knha)
    estimate, se, tau2 = coef.beta[0], coef.se[0], coef.tau2
    crit = Z_975 if coef.df is None else t_quantile_975(coef.df)
    w_fe = [1 / vi for vi in v]
    fe = _wls(y, x, w_fe)
    q = sum(wi * e * e for wi, e in zip(w_fe, fe.residuals, strict=True))
    typical = (k - 1) / fe.trace_p
    half_pi = crit * math.sqrt(tau2 + se * se)
    return Fit(
        method=method,
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        p=coef.p[0],
        tau2=tau2,
        i2=100 * tau2 / (typical + tau2),
        q=q,
        q_p=chi2_sf(q, k - 1),
        pi_low=estimate - half_pi,
        pi_high=estimate + half_pi,
    )


@dataclass(frozen=True)
class Egger:
    """regtest(): the test of the SE as moderator, and the limit estimate (SE -> 0)."""

    k: int
    stat: float
    df: int | None
    p: float
    limit: float
    limit_ci_low: float
    limit_ci_high: float


def egger_test(
    y: Sequence[float], v: Sequence[float], method: str = REML, knha: bool = False
) -> Egger:
    """metafor's regtest() default: rma(yi, vi, mods = ~ sei, method = the model's)."""
    x = [[1.0, math.sqrt(vi)] for vi in v]
    coef, _, _ = _regression(y, v, x, method, knha)
    crit = Z_975 if coef.df is None else t_quantile_975(coef.df)
    limit, limit_se = coef.beta[0], coef.se[0]
    return Egger(
        len(y),
        coef.stat[1],
        coef.df,
        coef.p[1],
        limit,
        limit - crit * limit_se,
        limit + crit * limit_se,
    )


def subgroup_test(estimates: Sequence[float], ses: Sequence[float]) -> tuple[float, int, float]:
    """Q between subgroup estimates (fixed-effect weights 1/SE^2), its df and p."""
    w = [1 / (s * s) for s in ses]
    mean = sum(wi * e for wi, e in zip(w, estimates, strict=True)) / sum(w)
    q = sum(wi * (e - mean) ** 2 for wi, e in zip(w, estimates, strict=True))
    df = len(estimates) - 1
    return q, df, chi2_sf(q, df)
