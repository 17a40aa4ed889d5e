"""PSR, expected max Sharpe, deflated Sharpe and PBO (CSCV) against hand-computed and published
numbers, Monte Carlo references and bad inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tradewind.analytics.overfit import (
    DeflatedSharpe,
    column_sharpe,
    deflated_sharpe,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe_ratio,
)
from tradewind.errors import ConfigError

EULER_GAMMA = 0.5772156649015329
# Standard normal quantiles (scipy.stats.norm.ppf; the first is the textbook z_0.99).
Z_099 = 2.3263478740408408  # Φ⁻¹(1 − 1/100)
Z_100E = 2.6802104449668875  # Φ⁻¹(1 − 1/(100·e))


def phi(z: float) -> float:
    """Standard normal CDF from math.erf (independent of the module's NormalDist)."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


# ----------------------------------------------------------------------------- PSR


def test_psr_hand_computed() -> None:
    # sr=0.1, sr*=0, n=101, skew=-0.5, kurtosis=4 (non-excess):
    # variance term = 1 - (-0.5)(0.1) + (4-1)/4 * 0.01 = 1 + 0.05 + 0.0075 = 1.0575
    # z = (0.1 - 0) * sqrt(100) / sqrt(1.0575) = 1 / 1.028348... = 0.972433...
    z = 1.0 / math.sqrt(1.0575)
    assert z == pytest.approx(0.9724333, abs=1e-6)
    psr = probabilistic_sharpe_ratio(0.1, 0.0, 101, -0.5, 4.0)
    assert psr == pytest.approx(phi(z), abs=1e-12)
    assert psr == pytest.approx(0.834584, abs=1e-5)


def test_psr_normal_returns_and_limits() -> None:
    # skew 0, kurtosis 3: variance term = 1 + SR²/2 (Lo 2002); sr=0.2, sr*=0.05, n=251
    z = 0.15 * math.sqrt(250) / math.sqrt(1.0 + 0.02)
    assert probabilistic_sharpe_ratio(0.2, 0.05, 251, 0.0, 3.0) == pytest.approx(phi(z), 1e-12)
    assert probabilistic_sharpe_ratio(0.1, 0.1, 50, 0.3, 5.0) == pytest.approx(0.5)
    # more observations -> more confidence; fatter negative tails -> less
    assert probabilistic_sharpe_ratio(0.1, 0.0, 500, 0, 3) > probabilistic_sharpe_ratio(
        0.1, 0.0, 100, 0, 3
    )
    assert probabilistic_sharpe_ratio(0.1, 0.0, 100, -2, 9) < probabilistic_sharpe_ratio(
        0.1, 0.0, 100, 0, 3
    )


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ((0.1, 0.0, 1, 0.0, 3.0), "n_obs"),
        ((0.1, 0.0, 10.5, 0.0, 3.0), "n_obs"),
        ((math.nan, 0.0, 10, 0.0, 3.0), "sr"),
        ((0.1, math.inf, 10, 0.0, 3.0), "sr_benchmark"),
        ((0.1, 0.0, 10, 0.0, 0.0), "non-excess"),  # an excess kurtosis of 0 passed by mistake
        ((2.0, 0.0, 10, 1.0, 1.0), "variance term"),  # 1 - 2 + 0 < 0
    ],
)
def test_psr_bad_inputs(args: tuple[float, float, int, float, float], word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        probabilistic_sharpe_ratio(*args)


# ----------------------------------------------------------------------------- E[max SR]


def test_expected_max_sharpe_hand_computed() -> None:
    # N=100, V=0.25: sqrt(V) * ((1-γ)·Φ⁻¹(0.99) + γ·Φ⁻¹(1 - 1/(100e)))
    expected = 0.5 * ((1 - EULER_GAMMA) * Z_099 + EULER_GAMMA * Z_100E)
    assert expected_max_sharpe(100, 0.25) == pytest.approx(expected, abs=1e-12)
    assert expected_max_sharpe(1, 0.25) == 0.0  # one trial: no selection
    assert expected_max_sharpe(100, 0.0) == 0.0
    assert expected_max_sharpe(100, 1.0) == pytest.approx(2 * expected_max_sharpe(100, 0.25))


def test_expected_max_sharpe_monotone_in_n() -> None:
    values = [expected_max_sharpe(n, 0.01) for n in (1, 2, 3, 5, 10, 100, 1_000, 10**6)]
    assert bool(np.all(np.diff(values) > 0))


@pytest.mark.parametrize("n_trials", [10, 100, 1000])
def test_expected_max_sharpe_matches_monte_carlo(n_trials: int) -> None:
    # E[max of N iid N(0, V)] = sqrt(V) * E[max of N standard normals]; the closed form is an
    # approximation (about 2.4 % high at N=10, under 1 % at N=1000).
    rng = np.random.default_rng(20240605 + n_trials)
    variance = 0.04
    draws = rng.standard_normal((20_000, n_trials)).max(axis=1) * math.sqrt(variance)
    mc = float(draws.mean())
    assert expected_max_sharpe(n_trials, variance) == pytest.approx(mc, rel=0.03)


@pytest.mark.parametrize(
    ("args", "word"),
    [((0.5, 0.1), "n_trials"), ((10, -0.1), "sr_variance"), ((10, math.nan), "sr_variance")],
)
def test_expected_max_sharpe_bad_inputs(args: tuple[float, float], word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        expected_max_sharpe(*args)


# ----------------------------------------------------------------------------- DSR


def test_dsr_published_example() -> None:
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio": annual SR 2.5, T=1250 daily
    # observations, N=100 trials, V[annual SR]=0.5, skew -3, kurtosis 10 -> DSR ≈ 0.9004.
    # Annual -> daily with sqrt(250) (variance with 250), as in the paper.
    sr_daily = 2.5 / math.sqrt(250)
    res = deflated_sharpe(sr_daily, 0.5 / 250, 100, 1250, -3.0, 10.0)
    assert res.dsr == pytest.approx(0.9004, abs=1e-3)
    # sr0 annualised ≈ 1.79: sqrt(0.5)*((1-γ)·2.32635 + γ·2.68021)
    sr0_annual = math.sqrt(0.5) * ((1 - EULER_GAMMA) * Z_099 + EULER_GAMMA * Z_100E)
    assert res.sr0 * math.sqrt(250) == pytest.approx(sr0_annual, abs=1e-9)
    z = (sr_daily - res.sr0) * math.sqrt(1249) / math.sqrt(1 + 3 * sr_daily + 9 / 4 * sr_daily**2)
    assert res.dsr == pytest.approx(phi(z), abs=1e-12)
    assert (res.n_trials, res.n_obs, res.kurtosis) == (100.0, 1250, 10.0)


def test_deflated_sharpe_ratio_from_returns_hand_computed() -> None:
    rng = np.random.default_rng(5)
    returns = rng.standard_t(df=5, size=500) * 0.01 + 0.001
    trial_sharpes = np.array([0.02, -0.01, 0.05, 0.0, 0.03, 0.08, -0.04, 0.01])
    res = deflated_sharpe_ratio(returns, trial_sharpes)

    d = returns - returns.mean()
    m2, m3, m4 = (float(np.mean(d**k)) for k in (2, 3, 4))
    skew, kurt = m3 / m2**1.5, m4 / m2**2  # kurtosis non-excess
    sr = float(returns.mean() / returns.std(ddof=1))
    v = float(np.var(trial_sharpes, ddof=1))
    # N = 8 trials: Φ⁻¹(1 - 1/8) = 1.15035, Φ⁻¹(1 - 1/(8e)) = 1.68510 (scipy.stats.norm.ppf)
    sr0 = math.sqrt(v) * ((1 - EULER_GAMMA) * 1.1503493803760079 + EULER_GAMMA * 1.6850969900384327)
    z = (sr - sr0) * math.sqrt(499) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)

    assert isinstance(res, DeflatedSharpe)
    assert res.sharpe == pytest.approx(sr, rel=1e-12)
    assert res.skew == pytest.approx(skew, rel=1e-9)
    assert res.kurtosis == pytest.approx(kurt, rel=1e-9)
    assert res.kurtosis > 3.5  # t(5) returns are fat-tailed: the convention is non-excess
    assert res.sr_variance == pytest.approx(v, rel=1e-12)
    assert res.sr0 == pytest.approx(sr0, rel=1e-12)
    assert res.dsr == pytest.approx(phi(z), abs=1e-12)
    assert (res.n_trials, res.n_obs) == (8.0, 500)
    # more trials at the same dispersion raise the bar
    assert deflated_sharpe_ratio(returns, trial_sharpes, n_trials=1000).dsr < res.dsr
    # NaN returns are dropped like everywhere in analytics
    with_gap = np.concatenate([returns[:10], [np.nan], returns[10:]])
    assert deflated_sharpe_ratio(with_gap, trial_sharpes).dsr == pytest.approx(res.dsr)

    d_json = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d_json["dsr"] == pytest.approx(res.dsr)
    assert d_json["n_obs"] == 500


def test_deflated_sharpe_bad_inputs() -> None:
    with pytest.raises(ConfigError, match="n_trials is required"):
        deflated_sharpe(0.1, 0.01, None, 100, 0.0, 3.0)
    with pytest.raises(ConfigError, match="at least 2"):
        deflated_sharpe(0.1, [0.05], None, 100, 0.0, 3.0)
    with pytest.raises(ConfigError, match="non-finite"):
        deflated_sharpe(0.1, [0.05, np.nan, 0.1], None, 100, 0.0, 3.0)
    with pytest.raises(ConfigError, match="constant"):
        deflated_sharpe_ratio([0.01] * 20, [0.1, 0.2])
    with pytest.raises(ConfigError, match="at least 2 finite"):
        deflated_sharpe_ratio([0.01], [0.1, 0.2])


# ----------------------------------------------------------------------------- PBO


def column_mean(x: np.ndarray) -> np.ndarray:
    return np.asarray(x.mean(axis=0))


def test_pbo_hand_enumerated_mean_metric() -> None:
    # T=4 rows, S=4 blocks of one row each, N=3 configurations, metric = mean.
    m = np.array(
        [
            [3.0, 0.0, -1.0],  # row 0
            [2.0, -1.0, 0.0],  # row 1
            [0.0, -1.0, 1.0],  # row 2
            [1.0, 1.0, 2.0],  # row 3
        ]
    )
    # IS blocks | IS means         -> pick | OOS rows | OOS means        | rank of pick | ω
    # (0, 1)    | 2.5, -0.5, -0.5  -> 0    | 2, 3     | 0.5, 0.0, 1.5    | 2            | 2/4
    # (0, 2)    | 1.5, -0.5,  0.0  -> 0    | 1, 3     | 1.5, 0.0, 1.0    | 3            | 3/4
    # (0, 3)    | 2.0,  0.5,  0.5  -> 0    | 1, 2     | 1.0, -1.0, 0.5   | 3            | 3/4
    # (1, 2)    | 1.0, -1.0,  0.5  -> 0    | 0, 3     | 2.0, 0.5, 0.5    | 3            | 3/4
    # (1, 3)    | 1.5,  0.0,  1.0  -> 0    | 0, 2     | 1.5, -0.5, 0.0   | 3            | 3/4
    # (2, 3)    | 0.5,  0.0,  1.5  -> 2    | 0, 1     | 2.5, -0.5, -0.5  | (1+2)/2=1.5  | 1.5/4
    # (the last OOS rank is a tie between configs 1 and 2: average rank 1.5)
    omegas = [0.5, 0.75, 0.75, 0.75, 0.75, 0.375]
    res = pbo_cscv(m, n_splits=4, metric=column_mean)
    assert res.n_combinations == 6 and res.n_splits == 4
    np.testing.assert_allclose(res.logits, [math.log(w / (1 - w)) for w in omegas], atol=1e-12)
    assert res.logits[0] == 0.0  # ω = 1/2 counts as overfit (λ <= 0)
    assert res.pbo == pytest.approx(2 / 6)
    np.testing.assert_array_equal(res.best_config, [0, 0, 0, 0, 0, 2])
    is_perf = [2.5, 1.5, 2.0, 1.0, 1.5, 1.5]
    oos_perf = [0.5, 1.5, 1.0, 2.0, 1.5, -0.5]
    np.testing.assert_allclose(res.is_best_perf, is_perf)
    np.testing.assert_allclose(res.oos_perf_of_is_best, oos_perf)
    assert res.prob_oos_loss == pytest.approx(1 / 6)
    slope, intercept = np.polyfit(is_perf, oos_perf, 1)
    assert res.degradation_slope == pytest.approx(slope)
    assert res.degradation_intercept == pytest.approx(intercept)
    assert res.degradation_slope < 0  # the better in sample, the worse out of sample here

    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["pbo"] == pytest.approx(1 / 3)
    assert d["best_config"] == [0, 0, 0, 0, 0, 2]
    assert len(d["logits"]) == 6
    assert "logits" not in res.to_dict(arrays=False)


def test_pbo_ties_in_sample_pick_lowest_column() -> None:
    # T=2, S=2, N=2, metric = mean.
    # IS row 0: [1, 1] tie -> config 0; OOS row 1: [0, 2] -> rank 1, ω=1/3, λ=ln(1/2)
    # IS row 1: [0, 2] -> config 1; OOS row 0: [1, 1] tie -> rank 1.5, ω=1/2, λ=0
    res = pbo_cscv(np.array([[1.0, 1.0], [0.0, 2.0]]), n_splits=2, metric=column_mean)
    np.testing.assert_array_equal(res.best_config, [0, 1])
    np.testing.assert_allclose(res.logits, [math.log(0.5), 0.0], atol=1e-12)
    assert res.pbo == 1.0


def test_pbo_hand_enumerated_default_sharpe() -> None:
    # T=4, S=2 (blocks rows 0-1 and 2-3), N=2; Sharpe of two values a, b is
    # mean / (|a - b| / sqrt 2).
    m = np.array([[1.0, 2.0], [3.0, 3.0], [0.0, 1.0], [2.0, -1.0]])
    # IS rows 0,1: col0 [1,3] -> 2/√2 = 1.414; col1 [2,3] -> 2.5/(1/√2) = 3.536 -> pick 1
    #   OOS rows 2,3: col0 [0,2] -> 1/√2 = 0.707; col1 [1,-1] -> 0 -> rank 1, ω=1/3
    # IS rows 2,3: col0 0.707, col1 0 -> pick 0; OOS rows 0,1: 1.414 vs 3.536 -> rank 1, ω=1/3
    res = pbo_cscv(m, n_splits=2)
    np.testing.assert_array_equal(res.best_config, [1, 0])
    np.testing.assert_allclose(res.logits, [math.log(0.5)] * 2, atol=1e-12)
    np.testing.assert_allclose(res.is_best_perf, [2.5 * math.sqrt(2), 1 / math.sqrt(2)])
    np.testing.assert_allclose(res.oos_perf_of_is_best, [0.0, math.sqrt(2)], atol=1e-12)
    assert res.pbo == 1.0
    assert res.prob_oos_loss == 0.0
    np.testing.assert_allclose(column_sharpe(m[:2]), [math.sqrt(2), 2.5 * math.sqrt(2)], rtol=1e-12)


def test_column_sharpe_matches_numpy_and_constant_columns() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0.001, 0.02, size=(50, 4))
    np.testing.assert_allclose(column_sharpe(x), x.mean(axis=0) / x.std(axis=0, ddof=1))
    c = np.column_stack([np.zeros(10), np.full(10, 0.1), np.full(10, -0.3)])
    np.testing.assert_array_equal(column_sharpe(c), [0.0, np.inf, -np.inf])


def test_pbo_default_metric_equals_explicit_sharpe_metric() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 0.01, size=(203, 7))  # 203 rows: blocks of unequal size (21/20)
    fast = pbo_cscv(x, n_splits=10)
    slow = pbo_cscv(x, n_splits=10, metric=column_sharpe)
    assert fast.n_combinations == math.comb(10, 5)
    np.testing.assert_array_equal(fast.best_config, slow.best_config)
    np.testing.assert_allclose(fast.logits, slow.logits, atol=1e-12)
    np.testing.assert_allclose(fast.is_best_perf, slow.is_best_perf, rtol=1e-9)
    np.testing.assert_allclose(fast.oos_perf_of_is_best, slow.oos_perf_of_is_best, rtol=1e-9)
    assert fast.pbo == slow.pbo


def test_pbo_pure_noise_is_near_one_half() -> None:
    # N=10 skill-less configs: the IS winner's OOS rank is uniform on 1..10, so
    # P(rank <= 5) = 0.5. One matrix is noisy (combinations overlap), so average 20.
    rng = np.random.default_rng(42)
    pbos = [pbo_cscv(rng.standard_normal((400, 10)), n_splits=8).pbo for _ in range(20)]
    assert 0.35 < float(np.mean(pbos)) < 0.65


def test_pbo_strong_edge_is_near_zero() -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1000, 20)) * 0.01
    x[:, 13] += 0.004  # per-period Sharpe ≈ 0.4: the best in any half, in sample and out
    res = pbo_cscv(x, n_splits=16)
    assert res.n_combinations == 12_870
    assert res.pbo < 0.01
    assert float(np.mean(res.best_config == 13)) > 0.99
    assert res.prob_oos_loss == 0.0
    assert float(np.median(res.logits)) == pytest.approx(math.log(20), abs=1e-9)  # rank N


@pytest.mark.parametrize(
    ("matrix", "n_splits", "word"),
    [
        (np.zeros((20, 3)), 5, "even"),
        (np.zeros((20, 3)), 0, "even"),
        (np.zeros((20, 3)), 4.0, "even integer"),
        (np.zeros((6, 3)), 8, "larger than the number of periods"),
        (np.zeros((20, 1)), 4, "at least 2 configurations"),
        (np.zeros(20), 4, "2-D"),
        (np.zeros((3, 2)), 2, "fewer than 2 rows"),
        (np.zeros((40, 3)), 20, "combinations"),
    ],
)
def test_pbo_bad_inputs(matrix: np.ndarray, n_splits: int, word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        pbo_cscv(matrix, n_splits=n_splits)


def test_pbo_non_finite_and_bad_metric_are_named() -> None:
    x = np.zeros((20, 3))
    x[7, 2] = np.inf
    with pytest.raises(ConfigError, match="row 7, column 2"):
        pbo_cscv(x, n_splits=4)
    ok = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(ConfigError, match=r"shape \(3,\)"):
        pbo_cscv(ok, n_splits=4, metric=lambda a: a.mean())
    with pytest.raises(ConfigError, match="NaN"):
        pbo_cscv(ok, n_splits=4, metric=lambda a: np.full(a.shape[1], np.nan))


def test_pbo_uneven_blocks_give_extra_rows_to_the_first_blocks() -> None:
    # T=7, S=4 -> block sizes 2, 2, 2, 1 (first T mod S blocks get the extra row); with a
    # column of ones and metric = sum, the chosen config's score is the number of rows.
    m = np.column_stack([np.ones(7), np.zeros(7)])
    res = pbo_cscv(m, n_splits=4, metric=lambda a: np.asarray(a.sum(axis=0)))
    # combinations (0,1) (0,2) (0,3) (1,2) (1,3) (2,3) -> IS rows 4 4 3 4 3 3, OOS the rest
    np.testing.assert_array_equal(res.is_best_perf, [4, 4, 3, 4, 3, 3])
    np.testing.assert_array_equal(res.oos_perf_of_is_best, [3, 3, 4, 3, 4, 4])
    assert res.pbo == 0.0  # config 0 always ranks 2 of 2 out of sample: λ = ln 2
