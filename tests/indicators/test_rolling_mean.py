"""The two SMA kernels: the fast one against pandas/exact sums, the compensated one against
pandas bit for bit, and the streaming SMA against both bit for bit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.indicators import sma
from tradewind.indicators.rolling_mean import _mean_finite, _mean_with_nans
from tradewind.indicators.streaming import SMA

BTC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"


def awkward_series(rng: np.random.Generator, n: int, *, nans: bool) -> np.ndarray:
    """Values of mixed scale and sign, flat stretches, and (optionally) NaN gaps."""
    a = rng.normal(0.0, 1.0, n) * rng.choice([1.0, 1e6]) + rng.choice([0.0, 1e4])
    for _ in range(5):
        i, length = int(rng.integers(0, n)), int(rng.integers(1, 100))
        a[i : i + length] = a[i]
    if nans:
        a[rng.integers(0, n, 3)] = np.nan
    return a


def pandas_mean(a: np.ndarray, p: int) -> np.ndarray:
    return pd.Series(a).rolling(p).mean().to_numpy()


@pytest.mark.parametrize("seed", range(40))
def test_compensated_is_pandas_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = awkward_series(rng, int(rng.integers(1, 6000)), nans=seed % 2 == 0)
    p = int(rng.integers(2, 60))
    assert np.array_equal(sma(a, p, compensated=True), pandas_mean(a, p), equal_nan=True)


@pytest.mark.parametrize("seed", range(40))
def test_fast_matches_pandas_and_is_exact_on_flat_windows(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    a = awkward_series(rng, int(rng.integers(1, 6000)), nans=seed % 2 == 0)
    p = int(rng.integers(2, 60))
    got, ref = sma(a, p), pandas_mean(a, p)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    ok = ~np.isnan(ref)
    scale = np.nanmax(np.abs(a)) if len(a) else 1.0
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-12, atol=1e-12 * scale)
    s = pd.Series(a)
    flat = (s.rolling(p).max() == s.rolling(p).min()).to_numpy()
    assert np.array_equal(got[flat], a[flat])  # a window of equal values returns that value


def test_flat_stretch_gives_exact_tie_between_two_averages() -> None:
    # 0.1 is not exact in binary: a plain running sum over 30 of them is not 0.1 * 30 / 30
    a = np.concatenate([np.linspace(1.0, 2.0, 50), np.full(100, 0.1), np.linspace(2.0, 1.0, 50)])
    fast, slow = sma(a, 10), sma(a, 30)
    assert (fast[79:150] == slow[79:150]).all()
    assert (fast[79:150] == 0.1).all()


def test_drift_stays_bounded_over_two_million_values() -> None:
    # a plain running sum (TA-Lib's) drifts to ~1e-14 relative here (median); the re-sum keeps
    # the fast kernel ~10x closer to the compensated (pandas) mean
    rng = np.random.default_rng(7)
    a = 1e5 * np.exp(np.cumsum(rng.normal(0.0, 1e-3, 2_000_000)))
    got, ref = sma(a, 30), sma(a, 30, compensated=True)
    rel = np.abs(got[29:] - ref[29:]) / ref[29:]
    assert rel.max() < 3e-14
    assert np.median(rel) < 3e-15
    for k in (29, 4_125, 999_999, 1_999_999):  # exact mean of the window, rounded once
        exact = math.fsum(a[k - 29 : k + 1]) / 30
        assert abs(got[k] - exact) <= 1e-14 * exact


def test_nan_path_equals_finite_path_on_finite_values() -> None:
    # the NaN-aware kernel performs the same operations on finite input: same bits
    rng = np.random.default_rng(11)
    a = awkward_series(rng, 20_000, nans=False)
    for p in (2, 17, 30):
        fast, general = np.empty(len(a)), np.empty(len(a))
        assert _mean_finite(a, p, fast)
        _mean_with_nans(a, p, general)
        assert np.array_equal(fast, general, equal_nan=True)


@pytest.mark.parametrize("compensated", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_streaming_equals_vectorized_bit_for_bit(seed: int, compensated: bool) -> None:
    rng = np.random.default_rng(200 + seed)
    a = awkward_series(rng, 12_000, nans=seed % 2 == 1)  # crosses the 1,024-value re-sum many times
    p = int(rng.integers(1, 40))
    stream = SMA(p, compensated=compensated)
    got = np.array([stream.update(float(x)) for x in a])
    assert np.array_equal(got, sma(a, p, compensated=compensated), equal_nan=True)


@pytest.mark.skipif(not BTC.exists(), reason=f"real data not found at {BTC}")
def test_real_btc_closes() -> None:
    c = pd.read_csv(BTC, usecols=["close"])["close"].to_numpy(dtype=np.float64)
    for p in (10, 30):
        ref = pandas_mean(c, p)
        assert np.array_equal(sma(c, p, compensated=True), ref, equal_nan=True)
        np.testing.assert_allclose(sma(c, p)[p - 1 :], ref[p - 1 :], rtol=1e-13, atol=0)
