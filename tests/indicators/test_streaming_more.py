"""Streaming HMA, StochRSI, Keltner, VWAP, Ichimoku, Supertrend, SAR, RollingBeta, RollingCorr.

Hand-computed cases (the arithmetic is in the comments), bad parameters, and the parity of the
forms the bar-by-bar harness in test_stream_vs_vector cannot check: VWAP (needs ``ts``) and the
two-input RollingBeta / RollingCorr, over a generated walk and 100,000 real BTC minutes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradewind import indicators as vec
from tradewind.data.loader import load_ohlcv
from tradewind.errors import ConfigError
from tradewind.indicators import streaming_more as sm
from tradewind.model import Bar

NAN = math.nan
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MIN = 60_000_000_000


def bar(h: float, lo: float, c: float, v: float = 1.0, ts: int = 0) -> Bar:
    return Bar("X", "1m", ts, c, h, lo, c, v)


def same(got: Any, want: Any, tol: float = 1e-12) -> bool:
    """Equal to ``tol`` with NaN == NaN, elementwise for tuples."""
    if isinstance(want, tuple):
        return len(got) == len(want) and all(
            same(g, w, tol) for g, w in zip(got, want, strict=True)
        )
    if math.isnan(want):
        return math.isnan(got)
    return abs(got - want) <= tol


# ------------------------------------------------------------------------------- hand cases


def test_hma_of_a_straight_line_has_no_lag() -> None:
    # For x[t] = t, WMA(n) = t − (n − 1)/3: WMA(2) = t − 1/3, WMA(4) = t − 1, so
    # raw = 2(t − 1/3) − (t − 1) = t + 1/3 and HMA(4) = WMA(raw, 2) = t + 1/3 − 1/3 = t.
    # First value at (4 − 1) + (2 − 1) = 4.
    h = sm.HMA(4)
    out = [h.update(float(t)) for t in range(8)]
    assert all(math.isnan(v) for v in out[:4])
    assert out[4:] == pytest.approx([4.0, 5.0, 6.0, 7.0], abs=1e-12)
    assert h.ready and h.value == pytest.approx(7.0)


def test_hma_constant_and_bar_input() -> None:
    h = sm.HMA(9)  # first value at 8 + (3 − 1) = 10
    out = [h.update(bar(6.0, 4.0, 5.0)) for _ in range(12)]
    assert out[10:] == pytest.approx([5.0, 5.0])
    assert all(math.isnan(v) for v in out[:10])


def test_stochrsi_constant_prices_is_zero_after_warmup() -> None:
    # RSI(2) first at index 2 (0 on flat prices, TA-Lib), %K over 2 RSIs first at 3
    # (flat window -> 0), %D = SMA(%K, 2) first at 4.
    s = sm.StochRSI(2, 2, 2)
    out = [s.update(7.0) for _ in range(6)]
    assert all(same(v, (NAN, NAN)) for v in out[:4])
    assert out[4] == (0.0, 0.0) and out[5] == (0.0, 0.0)
    assert s.ready


def test_stochrsi_hand_values() -> None:
    # prices 10, 11, 12, 11: RSI(2) at 2 = 100 (two gains of 1); at 3: gain = (1·1 + 0)/2
    # = 0.5, loss = (0·1 + 1)/2 = 0.5 -> 50. %K(2) at 3 = (50 − 50)/(100 − 50)·100 = 0;
    # %D(2) needs a second %K. Then 13: gain = (0.5 + 2)/2 = 1.25, loss = 0.25 -> RSI
    # 1.25/1.5·100 = 83.333..; %K = (83.33 − 50)/(83.33 − 50)·100 = 100; %D = (0 + 100)/2 = 50.
    s = sm.StochRSI(2, 2, 2)
    out = [s.update(x) for x in (10.0, 11.0, 12.0, 11.0, 13.0)]
    assert same(out[3], (NAN, NAN))
    assert out[4] == pytest.approx((100.0, 50.0))


def test_keltner_middle_before_bands_then_ema_pm_multiplier_atr() -> None:
    # h/l/c = 11/9/10 every bar: EMA(2) = 10 from index 1; TR = 2 from bar 1, ATR(3) = 2 from
    # index 3; bands 10 ± 2·2 = 14 / 6.
    k = sm.Keltner(2, 2.0, 3)
    out = []
    ready = []
    for _ in range(5):
        out.append(k.update(bar(11.0, 9.0, 10.0)))
        ready.append(k.ready)
    assert same(out[0], (NAN, NAN, NAN))
    assert same(out[1], (NAN, 10.0, NAN)) and same(out[2], (NAN, 10.0, NAN))
    assert out[3] == (14.0, 10.0, 6.0) and out[4] == (14.0, 10.0, 6.0)
    assert ready == [False, False, False, True, True]


def test_vwap_typical_price_weighting_and_session_reset() -> None:
    # session 1h. bar 0: tp = (12 + 8 + 10)/3 = 10, v 1 -> 10.
    # bar 1 (+30 min, same hour): tp = (21 + 18 + 21)/3 = 20, v 3 -> (10 + 60)/4 = 17.5.
    # bar 2 (60 min: new session): tp = (6 + 3 + 3)/3 = 4 -> 4.
    # bar 3 (120 min, new session) with volume 0 -> NaN (no trade yet).
    # bar 4 (150 min): tp 9, v 2 -> 9.
    w = sm.VWAP("1h")
    out = [
        w.update(bar(12.0, 8.0, 10.0, 1.0, 0)),
        w.update(bar(21.0, 18.0, 21.0, 3.0, 30 * MIN)),
        w.update(bar(6.0, 3.0, 3.0, 2.0, 60 * MIN)),
        w.update(bar(5.0, 5.0, 5.0, 0.0, 120 * MIN)),
        w.update(bar(10.0, 8.0, 9.0, 2.0, 150 * MIN)),
    ]
    assert out[:3] == [10.0, 17.5, 4.0]
    assert math.isnan(out[3])
    assert out[4] == 9.0 and w.ready


def test_vwap_needs_ts() -> None:
    with pytest.raises(TypeError, match="ts"):
        sm.VWAP().update(type("B", (), {"high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0})())


def test_ichimoku_hand_values() -> None:
    # periods 2/3/4. bars (h, l, c): (10, 8, 9), (12, 9, 11), (11, 7, 8), (14, 10, 13).
    # bar 1: tenkan = (12 + 8)/2 = 10; bar 2: tenkan = (12 + 7)/2 = 9.5, kijun = (12 + 7)/2
    # = 9.5, senkou_a = 9.5; bar 3: tenkan = (14 + 7)/2 = 10.5, kijun = (14 + 7)/2 = 10.5,
    # senkou_a = 10.5, senkou_b = (14 + 7)/2 = 10.5; chikou = close always.
    ich = sm.Ichimoku(2, 3, 4)
    bars = [(10.0, 8.0, 9.0), (12.0, 9.0, 11.0), (11.0, 7.0, 8.0), (14.0, 10.0, 13.0)]
    out = [ich.update(bar(*b)) for b in bars]
    assert same(out[0], (NAN, NAN, NAN, NAN, 9.0))
    assert same(out[1], (10.0, NAN, NAN, NAN, 11.0))
    assert same(out[2], (9.5, 9.5, 9.5, NAN, 8.0))
    assert out[3] == (10.5, 10.5, 10.5, 10.5, 13.0) and ich.ready
    # (14, 12, 13) then: tenkan (14 + 10)/2 = 12, kijun (14 + 7)/2 = 10.5, a = 11.25,
    # senkou_b over 4 bars (14 + 7)/2 = 10.5
    assert ich.update(bar(14.0, 12.0, 13.0)) == (12.0, 10.5, 11.25, 10.5, 13.0)


def test_supertrend_hand_flip() -> None:
    # period 2, multiplier 1. Bars 11/9/10: TR = 2 from bar 1, ATR(2) = 2 at index 2:
    # bands 10 ∓ 2 = 8 / 12, direction +1 -> line 8 (index 2 and 3: ratchets unchanged).
    # Bar 10/5/5: TR = max(5, |10 − 10|, |10 − 5|) = 5, ATR = (2 + 5)/2 = 3.5, hl2 = 7.5:
    # basic 4 / 11; prev close 10 > 8 -> lower = max(4, 8) = 8; prev close 10 < 12 ->
    # upper = min(11, 12) = 11; close 5 < previous lower 8 -> direction −1, line = upper 11.
    st = sm.Supertrend(2, 1.0)
    out = [st.update(bar(11.0, 9.0, 10.0)) for _ in range(4)]
    assert same(out[0], (NAN, NAN)) and same(out[1], (NAN, NAN))
    assert out[2] == (8.0, 1.0) and out[3] == (8.0, 1.0)
    assert st.update(bar(10.0, 5.0, 5.0)) == (11.0, -1.0)


def test_sar_long_start_and_reversal() -> None:
    # (h, l): (10, 8), (11, 9): low fell by 8 − 9 = −1 (no −DM) -> long, ep = 11, sar = low0 8;
    # bar 1 output 8; next sar = 8 + 0.02·(11 − 8) = 8.06 (below lows 9, 9).
    # (12, 10): output 8.06; new high -> ep 12, af 0.04; sar = 8.06 + 0.04·3.94 = 8.2176.
    # (9, 7): low 7 <= 8.2176 -> short, output max(ep 12, prev high 12, high 9) = 12.
    s = sm.SAR(0.02, 0.2)
    out = [s.update(bar(h, lo, lo)) for h, lo in ((10, 8), (11, 9), (12, 10), (9, 7))]
    assert math.isnan(out[0])
    assert out[1:] == pytest.approx([8.0, 8.06, 12.0], abs=1e-12)
    assert s.ready


def test_sar_short_start() -> None:
    # (10, 8), (9, 6): −DM = 8 − 6 = 2 > 0 and > +DM (9 − 10 = −1) -> short: ep = 6,
    # sar = high0 10; output 10; next = 10 + 0.02·(6 − 10) = 9.92 (above highs 9, 9).
    # (9.5, 5): output 9.92; new low -> ep 5, af 0.04: 9.92 + 0.04·(5 − 9.92) = 9.7232.
    # (9.6, 5.5): output 9.7232.
    s = sm.SAR()
    out = [s.update(bar(h, lo, lo)) for h, lo in ((10, 8), (9, 6), (9.5, 5), (9.6, 5.5))]
    assert out[1:] == pytest.approx([10.0, 9.92, 9.7232], abs=1e-12)


def test_rolling_beta_on_values() -> None:
    # x = 2y + 1 exactly: beta = 2. y = 1, 2, 3; x = 3, 5, 7 (period 3):
    # cov = mean(xy) − mx·my = (3 + 10 + 21)/3 − 5·2 = 4/3, var = 14/3 − 4 = 2/3 -> 2.
    b = sm.RollingBeta(3)
    out = [b.update(x, y) for x, y in ((3.0, 1.0), (5.0, 2.0), (7.0, 3.0))]
    assert math.isnan(out[0]) and math.isnan(out[1])
    assert out[2] == pytest.approx(2.0, abs=1e-12)
    # constant benchmark -> var 0 -> 0
    c = sm.RollingBeta(2)
    assert [c.update(x, 5.0) for x in (1.0, 2.0, 4.0)][1:] == [0.0, 0.0]


def test_rolling_beta_on_returns() -> None:
    # benchmark y 100, 110, 99 -> returns +0.1, −0.1; x 100, 120, 96 -> +0.2, −0.2: beta 2
    # at index 2 (period 2 returns = 3 prices).
    b = sm.RollingBeta(2, returns=True)
    out = [b.update(x, y) for x, y in ((100.0, 100.0), (120.0, 110.0), (96.0, 99.0))]
    assert math.isnan(out[0]) and math.isnan(out[1])
    assert out[2] == pytest.approx(2.0, abs=1e-12)


def test_rolling_corr_hand_values() -> None:
    c = sm.RollingCorr(3)
    out = [c.update(x, y) for x, y in ((1.0, 3.0), (2.0, 2.0), (3.0, 1.0))]
    assert out[2] == pytest.approx(-1.0, abs=1e-12)  # y = 4 − x exactly
    flat = sm.RollingCorr(2)
    assert [flat.update(x, 2.0) for x in (1.0, 2.0, 3.0)][1:] == [0.0, 0.0]
    # returns: x 100, 110, 99 -> +0.1, −0.1; y 100, 90, 99 -> −0.1, +0.1: correlation −1
    r = sm.RollingCorr(2, returns=True)
    out = [r.update(x, y) for x, y in ((100.0, 100.0), (110.0, 90.0), (99.0, 99.0))]
    assert math.isnan(out[1]) and out[2] == pytest.approx(-1.0, abs=1e-9)


@pytest.mark.parametrize(
    ("factory", "name"),
    [
        (lambda: sm.HMA(1), "period"),
        (lambda: sm.HMA(2.5), "period"),
        (lambda: sm.StochRSI(1), "period"),
        (lambda: sm.StochRSI(14, 0), "fastk_period"),
        (lambda: sm.StochRSI(14, 5, 0), "fastd_period"),
        (lambda: sm.Keltner(0), "period"),
        (lambda: sm.Keltner(20, 0.0), "multiplier"),
        (lambda: sm.Keltner(20, 2.0, 0), "atr_period"),
        (lambda: sm.VWAP("1x"), "session"),
        (lambda: sm.VWAP("0d"), "session"),
        (lambda: sm.Ichimoku(1), "tenkan_period"),
        (lambda: sm.Ichimoku(9, 1), "kijun_period"),
        (lambda: sm.Ichimoku(9, 26, 0), "senkou_period"),
        (lambda: sm.Supertrend(0), "period"),
        (lambda: sm.Supertrend(10, -1.0), "multiplier"),
        (lambda: sm.SAR(0.0), "acceleration"),
        (lambda: sm.SAR(0.02, math.nan), "maximum"),
        (lambda: sm.RollingBeta(1), "period"),
        (lambda: sm.RollingBeta(20, returns=1), "returns"),  # type: ignore[arg-type]
        (lambda: sm.RollingCorr(True), "period"),
    ],
)
def test_bad_parameters_raise_config_error_naming_them(factory: Any, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        factory()


def test_ohlc_classes_reject_plain_floats() -> None:
    for ind in (sm.Keltner(), sm.Ichimoku(), sm.Supertrend(), sm.SAR(), sm.VWAP()):
        with pytest.raises(TypeError):
            ind.update(1.0)


# ---------------------------------------------------------------------------------- parity


def _walk(n: int = 20_000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.r_[close[0], close[:-1]] * (1 + rng.normal(0, 0.0005, n))
    spread = np.abs(rng.normal(0, 0.002, n)) * close
    return pd.DataFrame(
        {
            "ts": np.arange(n, dtype=np.int64) * MIN,
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(0.5, 5.0, n),
        }
    )


@pytest.fixture(scope="module")
def real_bars() -> pd.DataFrame:
    path = DATA / "binance_BTCUSDT_1m.csv.gz"
    if not path.exists():
        pytest.skip(f"real data not found at {path}")
    return load_ohlcv(path)["BTCUSDT"].iloc[:100_000].reset_index(drop=True)


def _assert_parity(streamed: list[float], vectorized: Any) -> None:
    s = np.asarray(streamed, dtype=np.float64)
    v = np.asarray(vectorized, dtype=np.float64)
    assert np.array_equal(np.isnan(s), np.isnan(v))
    ok = ~np.isnan(s)
    assert ok.sum() > len(s) // 2
    assert np.abs(s[ok] - v[ok]).max() <= 1e-9


def _vwap_parity(b: pd.DataFrame, session: str) -> None:
    w = sm.VWAP(session)
    cols = [b[k].tolist() for k in ("ts", "high", "low", "close", "volume")]
    got = [
        w.update(Bar("X", "1m", t, c, h, lo, c, v)) for t, h, lo, c, v in zip(*cols, strict=True)
    ]
    want = vec.vwap(b["high"], b["low"], b["close"], b["volume"], b["ts"].to_numpy(), session)
    _assert_parity(got, want)


@pytest.mark.parametrize("session", ["1d", "4h", "45min"])
def test_vwap_equals_vector_on_generated_bars(session: str) -> None:
    _vwap_parity(_walk(), session)


@pytest.mark.parametrize("session", ["1d", "4h"])
def test_vwap_equals_vector_on_real_bars(session: str, real_bars: pd.DataFrame) -> None:
    _vwap_parity(real_bars, session)


def _pair_parity(x: np.ndarray, y: np.ndarray, kind: str, returns: bool) -> None:
    ind = sm.RollingBeta(20, returns) if kind == "beta" else sm.RollingCorr(20, returns)
    got = [ind.update(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    fn = vec.rolling_beta if kind == "beta" else vec.rolling_corr
    _assert_parity(got, fn(x, y, 20, returns=returns))


@pytest.mark.parametrize("returns", [False, True])
@pytest.mark.parametrize("kind", ["beta", "corr"])
def test_two_input_equals_vector_on_generated_walks(kind: str, returns: bool) -> None:
    x = _walk(seed=5)["close"].to_numpy()
    y = 0.5 * x + 50 * _walk(seed=9)["close"].to_numpy() / 100  # partly correlated benchmark
    _pair_parity(x, y, kind, returns)


@pytest.mark.parametrize("returns", [False, True])
@pytest.mark.parametrize("kind", ["beta", "corr"])
def test_two_input_equals_vector_on_real_bars(
    kind: str, returns: bool, real_bars: pd.DataFrame
) -> None:
    x = real_bars["close"].to_numpy(np.float64)
    y = real_bars["open"].to_numpy(np.float64)
    _pair_parity(x, y, kind, returns)
