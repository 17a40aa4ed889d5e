"""Overfitting statistics: probabilistic / deflated Sharpe ratio and the PBO of a sweep.

Why: a parameter sweep or strategy search that tries many configurations will find a good
backtest by luck alone. These statistics say how much of the winner's Sharpe ratio survives
that selection.

- :func:`probabilistic_sharpe_ratio` (PSR, Bailey & López de Prado 2012): the probability that
  the true Sharpe ratio exceeds a benchmark ``SR*``, given the observed one, the sample length
  and the skew/kurtosis of the returns::

      PSR = Φ( (SR − SR*)·√(n − 1) / √(1 − γ3·SR + (γ4 − 1)/4·SR²) )

- :func:`expected_max_sharpe`: the expected maximum of ``N`` Sharpe ratios whose true value is
  0 and whose cross-trial variance is ``V`` (the "false strategy" benchmark)::

      E[max SR] ≈ √V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))),  γ = Euler–Mascheroni

- :func:`deflated_sharpe_ratio` / :func:`deflated_sharpe` (DSR, Bailey & López de Prado 2014):
  PSR with the benchmark ``SR0 = expected_max_sharpe(N, V)``.
- :func:`pbo_cscv` (Bailey, Borwein, López de Prado & Zhu 2015, "The Probability of Backtest
  Overfitting"): combinatorially symmetric cross-validation over a ``T × N`` matrix of
  per-period returns of ``N`` configurations.

Conventions:

- every Sharpe ratio here is **per period** (``mean / std`` of per-period returns, ``ddof=1``,
  no annualisation, no risk-free rate — pass excess returns if you want one). Annualised
  ratios must be divided by ``√periods_per_year`` first;
- ``kurtosis`` is the **non-excess** (Pearson) kurtosis ``m4 / m2²``, 3 for a normal
  distribution — note :func:`tradewind.analytics.kurtosis` returns the *excess* kurtosis
  (add 3 to it); ``skew`` is ``m3 / m2^1.5`` (population moments, as in
  :func:`tradewind.analytics.skew`);
- the normal CDF and its inverse come from :class:`statistics.NormalDist` (exact to ~1e-15).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist

import numpy as np

from tradewind.analytics._common import ReturnsLike, clean_returns, num
from tradewind.analytics.returns import skew_kurtosis
from tradewind.errors import ConfigError

__all__ = [
    "MAX_COMBINATIONS",
    "DeflatedSharpe",
    "PBOResult",
    "column_sharpe",
    "deflated_sharpe",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "pbo_cscv",
    "probabilistic_sharpe_ratio",
]

EULER_GAMMA = 0.5772156649015329
#: Largest number of CSCV combinations :func:`pbo_cscv` accepts (C(18, 9) = 48,620).
MAX_COMBINATIONS = 50_000
#: Combinations × configurations evaluated at once (bounds memory of the vectorized ranking).
_CHUNK_CELLS = 2_000_000
_STD_NORMAL = NormalDist()

Metric = Callable[[np.ndarray], np.ndarray]


def _finite(name: str, value: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return out


def _n_obs(n_obs: int) -> int:
    if isinstance(n_obs, bool) or not isinstance(n_obs, int | np.integer) or n_obs < 2:
        raise ConfigError(f"n_obs must be an integer >= 2 (number of returns), got {n_obs!r}")
    return int(n_obs)


def probabilistic_sharpe_ratio(
    sr: float, sr_benchmark: float, n_obs: int, skew: float, kurtosis: float
) -> float:
    """Probability that the true per-period Sharpe ratio exceeds ``sr_benchmark`` (PSR).

    ``sr`` and ``sr_benchmark`` are per-period (not annualised) Sharpe ratios, ``n_obs`` the
    number of returns ``sr`` was estimated from, ``skew`` the skewness and ``kurtosis`` the
    **non-excess** kurtosis (normal = 3) of those returns. Raises :class:`ConfigError` for
    non-finite inputs, ``n_obs < 2``, ``kurtosis < 1`` (impossible for any distribution) or a
    non-positive variance term ``1 − skew·SR + (kurtosis − 1)/4·SR²``.
    """
    sr = _finite("sr", sr)
    sr_benchmark = _finite("sr_benchmark", sr_benchmark)
    n = _n_obs(n_obs)
    g3 = _finite("skew", skew)
    g4 = _finite("kurtosis", kurtosis)
    if g4 < 1.0:
        raise ConfigError(
            f"kurtosis must be the non-excess kurtosis (>= 1, normal = 3), got {kurtosis}; "
            "add 3 to an excess kurtosis"
        )
    var_term = 1.0 - g3 * sr + (g4 - 1.0) / 4.0 * sr * sr
    if not var_term > 0.0:
        raise ConfigError(
            f"PSR variance term 1 - skew*sr + (kurtosis-1)/4*sr^2 = {var_term} is not positive "
            f"(sr={sr}, skew={g3}, kurtosis={g4}); skew and kurtosis are inconsistent"
        )
    z = (sr - sr_benchmark) * math.sqrt(n - 1) / math.sqrt(var_term)
    return _STD_NORMAL.cdf(z)


def expected_max_sharpe(n_trials: float, sr_variance: float) -> float:
    """Expected maximum per-period Sharpe ratio of ``n_trials`` skill-less trials.

    ``sr_variance`` is the variance of the trials' (per-period) Sharpe ratios. ``n_trials``
    may be fractional (an *effective* number of independent trials); it must be >= 1, and one
    trial gives 0 (no selection, the true Sharpe ratio of a skill-less strategy).
    """
    n = _finite("n_trials", n_trials)
    v = _finite("sr_variance", sr_variance)
    if n < 1.0:
        raise ConfigError(f"n_trials must be >= 1, got {n_trials}")
    if v < 0.0:
        raise ConfigError(f"sr_variance must be >= 0, got {sr_variance}")
    if n == 1.0:
        return 0.0
    z1 = _STD_NORMAL.inv_cdf(1.0 - 1.0 / n)
    z2 = _STD_NORMAL.inv_cdf(1.0 - 1.0 / (n * math.e))
    return math.sqrt(v) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


@dataclass(frozen=True)
class DeflatedSharpe:
    """Deflated Sharpe ratio of the selected strategy (all Sharpe ratios per period).

    ``dsr`` is the probability that the true Sharpe ratio exceeds ``sr0``, the expected best
    Sharpe ratio of ``n_trials`` skill-less trials; ``kurtosis`` is non-excess (normal = 3).
    """

    sharpe: float
    sr0: float
    dsr: float
    n_trials: float
    n_obs: int
    skew: float
    kurtosis: float
    sr_variance: float

    def to_dict(self) -> dict[str, float | int | None]:
        """Flat JSON-safe dict (non-finite floats become ``None``)."""
        return {
            "sharpe": num(self.sharpe),
            "sr0": num(self.sr0),
            "dsr": num(self.dsr),
            "n_trials": num(self.n_trials),
            "n_obs": self.n_obs,
            "skew": num(self.skew),
            "kurtosis": num(self.kurtosis),
            "sr_variance": num(self.sr_variance),
        }


def _trial_variance(trial_sharpes: object) -> tuple[float, int]:
    """Sample variance (ddof=1) of the trials' Sharpe ratios and their count."""
    arr = np.asarray(trial_sharpes, dtype=np.float64)
    if arr.ndim != 1:
        raise ConfigError(f"trial_sharpes must be 1-D, got an array of shape {arr.shape}")
    if len(arr) < 2:
        raise ConfigError(
            f"trial_sharpes needs at least 2 Sharpe ratios to estimate their variance, "
            f"got {len(arr)}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ConfigError(
            f"trial_sharpes has {int(bad.sum())} non-finite values (first at position "
            f"{int(np.argmax(bad))}); expected finite per-period Sharpe ratios"
        )
    return float(np.var(arr, ddof=1)), len(arr)


def deflated_sharpe(
    sr: float,
    trial_sharpes_or_variance: float | Sequence[float] | np.ndarray,
    n_trials: float | None,
    n_obs: int,
    skew: float,
    kurtosis: float,
) -> DeflatedSharpe:
    """Deflated Sharpe ratio from summary statistics.

    ``trial_sharpes_or_variance`` is either the per-period Sharpe ratios of all trials (their
    sample variance, ``ddof=1``, is used and ``n_trials`` defaults to their count) or directly
    the variance of those Sharpe ratios (then ``n_trials`` is required). ``kurtosis`` is
    non-excess (normal = 3).
    """
    if isinstance(trial_sharpes_or_variance, int | float | np.floating | np.integer):
        variance = _finite("sr_variance", float(trial_sharpes_or_variance))
        if n_trials is None:
            raise ConfigError("n_trials is required when a variance is given instead of Sharpes")
        trials = float(n_trials)
    else:
        variance, count = _trial_variance(trial_sharpes_or_variance)
        trials = float(count) if n_trials is None else float(n_trials)
    sr0 = expected_max_sharpe(trials, variance)
    dsr = probabilistic_sharpe_ratio(sr, sr0, n_obs, skew, kurtosis)
    return DeflatedSharpe(
        sharpe=float(sr),
        sr0=sr0,
        dsr=dsr,
        n_trials=trials,
        n_obs=int(n_obs),
        skew=float(skew),
        kurtosis=float(kurtosis),
        sr_variance=variance,
    )


def deflated_sharpe_ratio(
    returns_of_best: ReturnsLike,
    trial_sharpes: Sequence[float] | np.ndarray,
    *,
    n_trials: float | None = None,
) -> DeflatedSharpe:
    """Deflated Sharpe ratio of the best strategy of a search, from its per-period returns.

    ``trial_sharpes`` are the per-period Sharpe ratios of every trial of the search (the best
    one included); ``n_trials`` overrides their count (e.g. an effective number of independent
    trials, or when only a sample of the trials' Sharpe ratios is at hand). NaN/inf returns
    are dropped, as everywhere in :mod:`tradewind.analytics`.
    """
    r = clean_returns(returns_of_best)
    if len(r) < 2:
        raise ConfigError(f"returns_of_best needs at least 2 finite returns, got {len(r)}")
    g3, excess = skew_kurtosis(r)
    if g3 is None or excess is None:
        raise ConfigError("returns_of_best are constant; the Sharpe ratio is undefined")
    sr = float(np.mean(r)) / float(np.std(r, ddof=1))
    return deflated_sharpe(sr, trial_sharpes, n_trials, len(r), g3, excess + 3.0)


# --------------------------------------------------------------------------------------------
# Probability of backtest overfitting (CSCV)


@dataclass(frozen=True)
class PBOResult:
    """Outcome of :func:`pbo_cscv`; arrays have one entry per combination (in-sample half).

    - ``pbo``: share of combinations whose logit is <= 0 (the in-sample winner ranks in the
      bottom half out of sample);
    - ``logits``: ``ln(ω / (1 − ω))`` with ``ω = OOS rank / (N + 1)`` of the in-sample winner;
    - ``best_config``: column index of the in-sample winner;
    - ``is_best_perf`` / ``oos_perf_of_is_best``: its metric in and out of sample;
    - ``degradation_slope`` / ``degradation_intercept``: OLS line of ``oos_perf_of_is_best`` on
      ``is_best_perf`` over the combinations where both are finite (NaN if undefined);
    - ``prob_oos_loss``: share of combinations where the winner's OOS metric is < 0.
    """

    pbo: float
    logits: np.ndarray
    best_config: np.ndarray
    is_best_perf: np.ndarray
    oos_perf_of_is_best: np.ndarray
    degradation_slope: float
    degradation_intercept: float
    prob_oos_loss: float
    n_combinations: int
    n_splits: int

    def to_dict(self, *, arrays: bool = True) -> dict[str, object]:
        """JSON-safe dict (non-finite floats become ``None``); ``arrays=False`` keeps only the
        scalars (the arrays have ``n_combinations`` entries each)."""
        out: dict[str, object] = {
            "pbo": num(self.pbo),
            "degradation_slope": num(self.degradation_slope),
            "degradation_intercept": num(self.degradation_intercept),
            "prob_oos_loss": num(self.prob_oos_loss),
            "n_combinations": self.n_combinations,
            "n_splits": self.n_splits,
        }
        if arrays:
            out["logits"] = [num(v) for v in self.logits.tolist()]
            out["best_config"] = [int(v) for v in self.best_config.tolist()]
            out["is_best_perf"] = [num(v) for v in self.is_best_perf.tolist()]
            out["oos_perf_of_is_best"] = [num(v) for v in self.oos_perf_of_is_best.tolist()]
        return out


def _sharpe(mean: np.ndarray, sq_dev: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``mean / std(ddof=1)`` from the sum of squared deviations; 0/0 -> 0, x/0 -> ±inf.

    A std below ``1e-13·|mean|`` is rounding noise of a constant series and counts as 0.
    """
    std = np.sqrt(np.maximum(sq_dev, 0.0) / (n - 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(mean / std, dtype=np.float64)
    zero_std = std <= 1e-13 * np.abs(mean)
    if zero_std.any():
        limit = np.where(mean > 0.0, np.inf, np.where(mean < 0.0, -np.inf, 0.0))
        out[zero_std] = limit[zero_std]
    return out


def column_sharpe(returns: np.ndarray) -> np.ndarray:
    """Per-period Sharpe ratio ``mean / std(ddof=1)`` of every column of a ``T × N`` matrix.

    The default metric of :func:`pbo_cscv`. A constant column gets 0 when its mean is 0 (a
    configuration that never trades) and ±inf otherwise, so it still ranks.
    """
    x = np.asarray(returns, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ConfigError(f"column_sharpe needs a T x N matrix with T >= 2, got shape {x.shape}")
    mean = x.mean(axis=0)
    d = x - mean
    n = np.full(x.shape[1], float(x.shape[0]))
    return _sharpe(mean, (d * d).sum(axis=0), n)


def _validate_performance(performance: np.ndarray, n_splits: int) -> np.ndarray:
    x = np.asarray(performance, dtype=np.float64)
    if x.ndim != 2:
        raise ConfigError(
            f"performance must be a 2-D array (T periods x N configurations), got shape {x.shape}"
        )
    t, n = x.shape
    if n < 2:
        raise ConfigError(f"performance needs at least 2 configurations (columns), got N={n}")
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise ConfigError(
            f"performance has {int(bad.sum())} non-finite values (first at row {row}, "
            f"column {col}); expected finite per-period returns"
        )
    if isinstance(n_splits, bool) or not isinstance(n_splits, int | np.integer):
        raise ConfigError(f"n_splits must be an even integer >= 2, got {n_splits!r}")
    if n_splits < 2 or n_splits % 2:
        raise ConfigError(f"n_splits must be an even integer >= 2, got {n_splits}")
    if n_splits > t:
        raise ConfigError(
            f"n_splits={n_splits} is larger than the number of periods T={t}; "
            "every block needs at least one row"
        )
    n_comb = math.comb(int(n_splits), int(n_splits) // 2)
    if n_comb > MAX_COMBINATIONS:
        raise ConfigError(
            f"n_splits={n_splits} gives {n_comb} combinations, more than the limit of "
            f"{MAX_COMBINATIONS}; use n_splits <= 18 (16 is the usual choice)"
        )
    return x


def _oos_rank(oos: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Average (tie-aware) ascending rank, 1..N, of column ``best[k]`` within row ``k``."""
    chosen = oos[np.arange(len(best)), best][:, None]
    below = (oos < chosen).sum(axis=1)
    equal = (oos == chosen).sum(axis=1)  # includes the chosen column itself
    return np.asarray(below + (equal + 1) / 2.0, dtype=np.float64)


def pbo_cscv(
    performance: np.ndarray,
    n_splits: int = 16,
    metric: Metric | None = None,
) -> PBOResult:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation.

    ``performance`` is a ``T × N`` matrix of per-period returns (rows = periods in time order,
    columns = the configurations of a sweep). Its rows are cut into ``n_splits`` (even)
    contiguous blocks — sizes differ by at most one row when ``T`` is not a multiple, the
    first ``T mod n_splits`` blocks getting the extra row. Every choice of ``n_splits / 2``
    blocks is an in-sample (IS) set and the remaining blocks the out-of-sample (OOS) set. For
    each: the configuration with the best IS metric is picked (the lowest column index on
    ties), its OOS rank among all ``N`` (ascending, ties averaged) gives
    ``ω = rank / (N + 1)`` and the logit ``λ = ln(ω / (1 − ω))``; ``PBO = share of λ <= 0``.

    ``metric`` maps a ``rows × N`` matrix to ``N`` scores (higher is better); the default is
    :func:`column_sharpe` (computed from block sums, fully vectorized). A custom metric is
    called twice per combination. A NaN score raises :class:`ConfigError`.
    """
    x = _validate_performance(performance, n_splits)
    t, n_cfg = x.shape
    s = int(n_splits)
    sizes = np.full(s, t // s)
    sizes[: t % s] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    combos = np.array(list(combinations(range(s), s // 2)), dtype=np.int64)
    n_comb = len(combos)
    in_sample = np.zeros((n_comb, s), dtype=bool)
    in_sample[np.arange(n_comb)[:, None], combos] = True

    if metric is None:
        half_rows = in_sample.astype(np.float64) @ sizes.astype(np.float64)
        if float(min(half_rows.min(), t - half_rows.max())) < 2:
            raise ConfigError(
                f"T={t} rows in n_splits={s} blocks leave a half with fewer than 2 rows; the "
                "Sharpe metric needs at least 2 (use more periods or fewer splits)"
            )
        centre = x.mean(axis=0)
        d = x - centre  # centred: sums of squares stay exact for constant columns
        block_sum = np.add.reduceat(d, bounds[:-1], axis=0)
        block_sq = np.add.reduceat(d * d, bounds[:-1], axis=0)
    is_perf = np.empty(n_comb)
    oos_perf = np.empty(n_comb)
    best = np.empty(n_comb, dtype=np.int64)
    ranks = np.empty(n_comb)
    chunk = max(1, _CHUNK_CELLS // n_cfg)
    for start in range(0, n_comb, chunk):
        stop = min(start + chunk, n_comb)
        mask = in_sample[start:stop]
        if metric is None:
            is_scores, oos_scores = (
                _block_sharpe(m, block_sum, block_sq, sizes, centre) for m in (mask, ~mask)
            )
        else:
            row_in = np.repeat(mask, sizes, axis=1)
            is_scores = np.stack([_call_metric(metric, x[r], n_cfg) for r in row_in])
            oos_scores = np.stack([_call_metric(metric, x[~r], n_cfg) for r in row_in])
        for label, scores in (("in-sample", is_scores), ("out-of-sample", oos_scores)):
            if np.isnan(scores).any():
                k, j = (int(v) for v in np.argwhere(np.isnan(scores))[0])
                raise ConfigError(
                    f"metric returned NaN {label} for configuration {j} in combination "
                    f"{start + k} (blocks {combos[start + k].tolist()} in sample)"
                )
        chosen = np.argmax(is_scores, axis=1)
        rows = np.arange(stop - start)
        best[start:stop] = chosen
        is_perf[start:stop] = is_scores[rows, chosen]
        oos_perf[start:stop] = oos_scores[rows, chosen]
        ranks[start:stop] = _oos_rank(oos_scores, chosen)

    omega = ranks / (n_cfg + 1.0)
    logits = np.log(omega / (1.0 - omega))
    slope, intercept = _ols(is_perf, oos_perf)
    return PBOResult(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        best_config=best,
        is_best_perf=is_perf,
        oos_perf_of_is_best=oos_perf,
        degradation_slope=slope,
        degradation_intercept=intercept,
        prob_oos_loss=float(np.mean(oos_perf < 0.0)),
        n_combinations=n_comb,
        n_splits=s,
    )


def _block_sharpe(
    mask: np.ndarray,
    block_sum: np.ndarray,
    block_sq: np.ndarray,
    sizes: np.ndarray,
    centre: np.ndarray,
) -> np.ndarray:
    """Sharpe of every column over the blocks selected by each row of ``mask`` (C × S).

    ``block_sum`` / ``block_sq`` are per-block sums of the column-centred values ``d`` and of
    ``d²``; the variance is shift-invariant, so ``Σ(d − mean_d)² = Σd² − (Σd)²/n``.
    """
    m = mask.astype(np.float64)
    n = (m @ sizes.astype(np.float64))[:, None]
    d_sum = m @ block_sum
    sq_dev = m @ block_sq - d_sum * d_sum / n
    mean = centre[None, :] + d_sum / n
    return _sharpe(mean, sq_dev, np.broadcast_to(n, mean.shape))


def _call_metric(metric: Metric, rows: np.ndarray, n_cfg: int) -> np.ndarray:
    out = np.asarray(metric(rows), dtype=np.float64)
    if out.shape != (n_cfg,):
        raise ConfigError(
            f"metric must return one score per configuration, shape ({n_cfg},), "
            f"got shape {out.shape}"
        )
    return out


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the least-squares line of ``y`` on ``x`` (finite pairs only)."""
    ok = np.isfinite(x) & np.isfinite(y)
    if int(ok.sum()) < 2:
        return math.nan, math.nan
    xs, ys = x[ok], y[ok]
    dx = xs - xs.mean()
    sxx = float(dx @ dx)
    if not sxx > 0.0:
        return math.nan, math.nan
    slope = float(dx @ (ys - ys.mean())) / sxx
    return slope, float(ys.mean()) - slope * float(xs.mean())
