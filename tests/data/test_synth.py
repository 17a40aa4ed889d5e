"""synth_bars: deterministic GBM bars with regimes and jumps; consistent OHLC; checked specs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradewind.data.synth import SynthSpec, synth_bars
from tradewind.errors import ConfigError

T0_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
YEAR_S = 365 * 86_400


def log_returns(bars: pd.DataFrame, price: float) -> np.ndarray:
    close = bars["close"].to_numpy()
    return np.diff(np.log(np.r_[price, close]))


def test_same_seed_gives_identical_bars() -> None:
    spec = SynthSpec(bars=2_000, seed=123)
    first, regime1 = synth_bars(spec)
    second, regime2 = synth_bars(SynthSpec(bars=2_000, seed=123))
    pd.testing.assert_frame_equal(first, second)
    np.testing.assert_array_equal(regime1, regime2)


def test_different_seed_gives_different_bars() -> None:
    first, _ = synth_bars(SynthSpec(bars=500, seed=1))
    second, _ = synth_bars(SynthSpec(bars=500, seed=2))
    assert first["ts"].tolist() == second["ts"].tolist()
    assert not np.allclose(first["close"], second["close"])
    assert (first["close"] != second["close"]).mean() > 0.99


def test_default_spec_is_used_without_an_argument() -> None:
    bars, regime = synth_bars()
    expected, expected_regime = synth_bars(SynthSpec())
    assert len(bars) == 10_000
    assert len(regime) == 10_000
    pd.testing.assert_frame_equal(bars, expected)
    np.testing.assert_array_equal(regime, expected_regime)


@pytest.mark.parametrize("seed", [0, 7, 99])
def test_ohlc_is_consistent_and_positive(seed: int) -> None:
    # many regime switches and jumps, so the volatile state and jumps are exercised
    spec = SynthSpec(bars=20_000, seed=seed, switch_prob=0.01, jumps_per_year=5_000.0)
    bars, regime = synth_bars(spec)
    assert list(bars.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert set(np.unique(regime)) == {0, 1}
    o, h, lo, c, v = (bars[k].to_numpy() for k in ("open", "high", "low", "close", "volume"))
    assert np.isfinite(bars[["open", "high", "low", "close", "volume"]].to_numpy()).all()
    assert (h >= np.maximum(o, c)).all()
    assert (lo <= np.minimum(o, c)).all()
    assert (lo > 0).all()
    assert (v > 0).all()


@pytest.mark.parametrize(
    ("timeframe", "step_ns"),
    [("1m", 60_000_000_000), ("5m", 300_000_000_000), ("1h", 3_600_000_000_000)],
)
def test_ts_starts_at_start_and_steps_by_the_timeframe(timeframe: str, step_ns: int) -> None:
    bars, _ = synth_bars(SynthSpec(bars=300, timeframe=timeframe))
    ts = bars["ts"].to_numpy()
    assert bars["ts"].dtype == np.int64
    assert ts[0] == T0_NS
    assert (np.diff(ts) == step_ns).all()


def test_start_with_a_time_zone_is_converted_to_utc() -> None:
    bars, _ = synth_bars(SynthSpec(bars=3, start="2024-01-01T05:00:00+05:00"))
    assert int(bars["ts"].iloc[0]) == T0_NS


def test_open_is_the_previous_close() -> None:
    bars, _ = synth_bars(SynthSpec(bars=1_000, price=250.0))
    assert bars["open"].iloc[0] == 250.0
    np.testing.assert_array_equal(bars["open"].to_numpy()[1:], bars["close"].to_numpy()[:-1])


@pytest.mark.parametrize(
    ("timeframe", "n", "rel_tol"),
    [("1m", 200_000, 0.01), ("1d", 40_000, 0.03)],
)
def test_calm_gbm_has_the_requested_volatility(timeframe: str, n: int, rel_tol: float) -> None:
    seconds = 60 if timeframe == "1m" else 86_400
    dt = seconds / YEAR_S
    volatility = 0.8
    spec = SynthSpec(
        bars=n,
        timeframe=timeframe,
        volatility=volatility,
        drift=0.1,
        jumps_per_year=0.0,
        switch_prob=0.0,
        seed=11,
    )
    bars, regime = synth_bars(spec)
    assert (regime == 0).all()
    r = log_returns(bars, spec.price)
    expected_std = volatility * math.sqrt(dt)
    # the sample std of n normals has relative standard error 1/sqrt(2n): ~0.16 % / 0.35 %
    assert r.std(ddof=1) == pytest.approx(expected_std, rel=rel_tol)
    # the mean log return is (drift - vol²/2)·dt, within 5 standard errors
    expected_mean = (0.1 - 0.5 * volatility**2) * dt
    assert abs(r.mean() - expected_mean) < 5 * expected_std / math.sqrt(n)


def test_volatile_regime_scales_volatility_by_the_multiplier() -> None:
    spec = SynthSpec(
        bars=200_000, switch_prob=0.001, jumps_per_year=0.0, vol_multiplier=3.0, seed=5
    )
    bars, regime = synth_bars(spec)
    r = log_returns(bars, spec.price)
    calm, volatile = r[regime == 0], r[regime == 1]
    assert len(calm) > 10_000
    assert len(volatile) > 10_000
    assert volatile.std() / calm.std() == pytest.approx(3.0, rel=0.05)


def test_switch_prob_one_flips_every_bar() -> None:
    _, regime = synth_bars(SynthSpec(bars=10, switch_prob=1.0))
    assert (np.diff(regime) != 0).all()


def test_switch_prob_zero_never_leaves_the_calm_regime() -> None:
    _, regime = synth_bars(SynthSpec(bars=50_000, switch_prob=0.0))
    assert (regime == 0).all()


def test_volume_scales_with_the_spec_volume() -> None:
    low, _ = synth_bars(SynthSpec(bars=5_000, volume=10.0, seed=3))
    high, _ = synth_bars(SynthSpec(bars=5_000, volume=1_000.0, seed=3))
    # the same draws scaled by the volume parameter
    np.testing.assert_allclose(high["volume"].to_numpy(), 100.0 * low["volume"].to_numpy())


@pytest.mark.parametrize(
    "changes",
    [
        {"bars": 0},
        {"price": 0.0},
        {"price": -1.0},
        {"volatility": 0.0},
        {"vol_multiplier": -2.0},
        {"volume": 0.0},
        {"switch_prob": -0.1},
        {"switch_prob": 1.5},
        {"jumps_per_year": -1.0},
        {"jump_sigma": -0.01},
        {"price": float("nan")},
        {"timeframe": "bogus"},
        {"timeframe": "0m"},
    ],
    ids=str,
)
def test_invalid_spec_is_a_config_error(changes: dict[str, object]) -> None:
    spec = SynthSpec(**{"bars": 10, **changes})  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        synth_bars(spec)


@pytest.mark.parametrize(
    "changes",
    [
        {"start": "not a date"},
        {"jumps_per_year": float("nan")},
        {"drift": float("nan")},
        {"jump_sigma": float("nan")},
    ],
    ids=str,
)
def test_unchecked_invalid_spec_is_a_config_error(changes: dict[str, object]) -> None:
    spec = SynthSpec(**{"bars": 10, **changes})  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        synth_bars(spec)
