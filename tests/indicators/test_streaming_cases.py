"""Hand-computed values, edge cases and bad parameters of the streaming indicators."""

from __future__ import annotations

import math
import random
from typing import Any, NamedTuple

import numpy as np
import pytest
import talib

from tradewind.errors import ConfigError
from tradewind.indicators import streaming as st
from tradewind.model import Bar

nan = math.nan


class HLCV(NamedTuple):
    high: float
    low: float
    close: float
    volume: float = 1.0


def feed(ind: Any, xs: list[Any]) -> list[Any]:
    return [ind.update(x) for x in xs]


def same(a: list[Any], b: list[Any]) -> bool:
    """Element-wise equality (to 1e-12) where NaN equals NaN; tuples compared item by item."""
    fa = np.asarray(a, dtype=float)
    fb = np.asarray(b, dtype=float)
    return fa.shape == fb.shape and bool(np.allclose(fa, fb, rtol=0, atol=1e-12, equal_nan=True))


# ------------------------------------------------------------------- hand-computed values


def test_sma_hand() -> None:
    s = st.SMA(3)
    assert not s.ready
    # (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4
    assert same(feed(s, [1.0, 2.0, 3.0, 4.0, 5.0]), [nan, nan, 2.0, 3.0, 4.0])
    assert s.ready
    assert s.value == 4.0


def test_ema_hand_seeded_with_sma() -> None:
    # k = 2/(3+1) = 0.5; seed (2+4+6)/3 = 4; then (10-4)*0.5+4 = 7; (7-7)*0.5+7 = 7
    assert same(feed(st.EMA(3), [2.0, 4.0, 6.0, 10.0, 7.0]), [nan, nan, 4.0, 7.0, 7.0])


def test_wma_hand() -> None:
    # (1*1 + 2*2 + 3*3)/6 = 14/6; (2*1 + 3*2 + 4*3)/6 = 20/6
    assert same(feed(st.WMA(3), [1.0, 2.0, 3.0, 4.0]), [nan, nan, 14 / 6, 20 / 6])


def test_rsi_hand_wilder() -> None:
    # changes +1, +1, -1. After 2: gain (1+1)/2 = 1, loss 0 -> 100.
    # then gain (1*1 + 0)/2 = 0.5, loss (0*1 + 1)/2 = 0.5 -> 100*0.5/1 = 50
    assert same(feed(st.RSI(2), [1.0, 2.0, 3.0, 2.0]), [nan, nan, 100.0, 50.0])


def test_rsi_constant_prices_is_zero_like_talib() -> None:
    xs = [5.0] * 30
    got = feed(st.RSI(14), xs)
    assert all(math.isnan(v) for v in got[:14])
    assert got[14:] == [0.0] * 16
    assert same(got, list(talib.RSI(np.array(xs), 14)))


def test_atr_hand_with_gap() -> None:
    bars = [
        HLCV(10, 8, 9),
        HLCV(11, 9, 10),  # TR = max(11-9, |9-11|, |9-9|) = 2
        HLCV(12, 10, 11),  # TR = max(2, |10-12|, |10-10|) = 2 -> ATR(2) = (2+2)/2 = 2
        HLCV(15, 11, 14),  # TR = max(4, |11-15|, 0) = 4 -> (2*1 + 4)/2 = 3
        HLCV(9, 8, 8.5),  # gap down: TR = max(1, |14-9|, |14-8|) = 6 -> (3 + 6)/2 = 4.5
    ]
    a = st.ATR(2)
    assert same(feed(a, bars), [nan, nan, 2.0, 3.0, 4.5])
    # NATR = 100 * ATR / close = 100 * 4.5 / 8.5
    n = st.NATR(2)
    assert same(feed(n, bars)[-1:], [450 / 8.5])


def test_macd_hand() -> None:
    # fast 2 (k=2/3), slow 3 (k=1/2), signal 2 (k=2/3); prices 1,2,3,4,5,6
    # bar 2: slow seed (1+2+3)/3 = 2; fast seed on the 2 prices ending there (2+3)/2 = 2.5
    #        line 0.5
    # bar 3: fast (4-2.5)*2/3+2.5 = 3.5; slow (4-2)/2+2 = 3; line 0.5
    #        signal seed (0.5+0.5)/2 = 0.5, hist 0
    # bar 4: fast (5-3.5)*2/3+3.5 = 4.5; slow (5-3)/2+3 = 4; line 0.5; signal 0.5
    m = st.MACD(2, 3, 2)
    got = feed(m, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert same(got[:3], [(nan, nan, nan)] * 3)
    assert same(got[3:], [(0.5, 0.5, 0.0), (0.5, 0.5, 0.0)])
    assert m.ready


def test_bbands_hand() -> None:
    # window 1,2,3: mean 2, population var (1+0+1)/3 = 2/3 -> std sqrt(2/3); k = 2
    sd = math.sqrt(2 / 3)
    got = feed(st.BBANDS(3, 2.0), [1.0, 2.0, 3.0])
    assert same(got[2:], [(2 + 2 * sd, 2.0, 2 - 2 * sd)])


def test_zscore_hand() -> None:
    # window 1,2,3: mean 2, std sqrt(2/3) -> z = (3-2)/sqrt(2/3) = sqrt(1.5)
    assert same(feed(st.ZScore(3), [1.0, 2.0, 3.0]), [nan, nan, math.sqrt(1.5)])


def test_roc_hand_and_zero_base() -> None:
    # 100*(12/10 - 1) = 20; 100*(9/12 - 1) = -25
    assert same(feed(st.ROC(1), [10.0, 12.0, 9.0]), [nan, 20.0, -25.0])
    assert feed(st.ROC(1), [0.0, 5.0])[1] == 0.0  # TA-Lib: 0 when the base price is 0


def test_donchian_hand() -> None:
    bars = [HLCV(3, 1, 2), HLCV(5, 2, 3), HLCV(4, 0, 1), HLCV(1, 1, 1)]
    # windows of 2: highs (3,5)->5 lows (1,2)->1; (5,4)->5 (2,0)->0; (4,1)->4 (0,1)->0
    assert same(feed(st.Donchian(2), bars), [(nan, nan), (5, 1), (5, 0), (4, 0)])


def test_willr_and_stoch_hand() -> None:
    bars = [HLCV(10, 8, 9), HLCV(12, 9, 11), HLCV(11, 10, 10)]
    # %R(2) bar 1: -100*(12-11)/(12-8) = -25; bar 2: hh 12, ll 9: -100*(12-10)/(12-9) = -200/3
    assert same(feed(st.WILLR(2), bars), [nan, -25.0, -200 / 3])
    # fast %K(2): bar 1 100*(11-8)/4 = 75; bar 2 100*(10-9)/3 = 100/3
    # slow %K = SMA2 of fast %K = (75 + 100/3)/2; slow %D(1) = slow %K
    k = (75 + 100 / 3) / 2
    assert same(feed(st.STOCH(2, 2, 1), bars), [(nan, nan), (nan, nan), (k, k)])


def test_obv_hand() -> None:
    bars = [HLCV(0, 0, 10, 5), HLCV(0, 0, 11, 3), HLCV(0, 0, 11, 4), HLCV(0, 0, 9, 2)]
    # start at 5; up +3 = 8; unchanged 8; down -2 = 6
    assert feed(st.OBV(), bars) == [5.0, 8.0, 8.0, 6.0]


def test_mfi_hand() -> None:
    # typical prices (h=l=c) 10, 11, 10, 12 with volumes 1, 2, 3, 4
    # flows: +22 (up), -30 (down), +48 (up)
    # MFI(2) at bar 2: 100*22/(22+30); bar 3: 100*48/(48+30)
    bars = [HLCV(p, p, p, v) for p, v in [(10, 1), (11, 2), (10, 3), (12, 4)]]
    assert same(feed(st.MFI(2), bars), [nan, nan, 2200 / 52, 4800 / 78])


def test_cci_hand() -> None:
    # typical prices (h=l=c) 1, 2, 6: mean 3, mean abs dev (2+1+3)/3 = 2
    # CCI = (6-3)/(0.015*2) = 100
    bars = [HLCV(p, p, p) for p in (1.0, 2.0, 6.0)]
    assert same(feed(st.CCI(3), bars), [nan, nan, 100.0])


# ------------------------------------------------------------------------- flat prices


def test_flat_prices_give_defined_values() -> None:
    bars = [HLCV(7.0, 7.0, 7.0, 0.0)] * 40
    closes = [7.0] * 40
    assert feed(st.BBANDS(5), closes)[-1] == (7.0, 7.0, 7.0)
    assert feed(st.ZScore(5), closes)[-1] == 0.0
    assert feed(st.SMA(5), closes)[-1] == 7.0
    assert feed(st.EMA(5), closes)[-1] == 7.0
    assert feed(st.WMA(5), closes)[-1] == pytest.approx(7.0, abs=1e-12)
    assert feed(st.KAMA(5), closes)[-1] == 7.0
    assert feed(st.ROC(5), closes)[-1] == 0.0
    assert feed(st.MACD(2, 3, 2), closes)[-1] == (0.0, 0.0, 0.0)
    assert feed(st.ATR(5), bars)[-1] == 0.0
    assert feed(st.NATR(5), bars)[-1] == 0.0
    assert feed(st.STOCH(), bars)[-1] == (0.0, 0.0)
    assert feed(st.WILLR(5), bars)[-1] == 0.0
    assert feed(st.CCI(5), bars)[-1] == 0.0
    assert feed(st.MFI(5), bars)[-1] == 0.0  # no money flow at all
    adx = st.ADX(5)
    assert feed(adx, bars)[-1] == 0.0  # no directional movement: ADX stays at its 0 seed
    assert (adx.plus_di, adx.minus_di) == (0.0, 0.0)
    h = np.full(40, 7.0)
    assert talib.ADX(h, h, h, 5)[-1] == 0.0
    assert talib.STOCH(h, h, h)[0][-1] == 0.0


# ------------------------------------------------------------------------------ inputs


def test_accepts_bars_numpy_and_int_inputs() -> None:
    bar = Bar("X", "1m", 0, 1.0, 3.0, 1.0, 2.0, 10.0)
    s = st.SMA(2)
    s.update(np.float64(1.0))
    assert s.update(bar) == 1.5  # (1 + close 2)/2
    assert s.update(4) == 3.0  # (2 + 4)/2


def test_ohlc_indicator_rejects_a_float() -> None:
    with pytest.raises(TypeError, match=r"ATR\.update needs a bar"):
        st.ATR(3).update(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"STOCH\.update needs a bar"):
        st.STOCH().update(1.0)  # type: ignore[arg-type]


def test_price_indicator_rejects_garbage() -> None:
    with pytest.raises(TypeError, match="number or a bar"):
        st.SMA(2).update("abc")  # type: ignore[arg-type]


# --------------------------------------------------------------------- bad parameters

PERIOD_CLASSES = [st.SMA, st.EMA, st.WMA, st.DEMA, st.TEMA, st.ROC, st.ATR, st.NATR]
PERIOD_CLASSES += [st.Donchian, st.RSI, st.BBANDS, st.ZScore, st.WILLR, st.CCI]
PERIOD_CLASSES += [st.ADX, st.MFI, st.KAMA]


@pytest.mark.parametrize("cls", PERIOD_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "5", None])
def test_bad_period_is_config_error(cls: Any, bad: Any) -> None:
    with pytest.raises(ConfigError, match="period"):
        cls(bad)


@pytest.mark.parametrize("cls", [st.RSI, st.BBANDS, st.ZScore, st.WILLR, st.CCI, st.ADX, st.MFI])
def test_period_one_rejected_where_talib_needs_two(cls: Any) -> None:
    with pytest.raises(ConfigError, match="period must be an int >= 2"):
        cls(1)


def test_multi_parameter_errors_name_the_parameter() -> None:
    with pytest.raises(ConfigError, match="fast"):
        st.MACD(26, 12)
    with pytest.raises(ConfigError, match="signal"):
        st.MACD(12, 26, 0)
    with pytest.raises(ConfigError, match="slow"):
        st.MACD(12, "26")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="k must be a finite number"):
        st.BBANDS(20, math.nan)
    with pytest.raises(ConfigError, match="fastk_period"):
        st.STOCH(0)
    with pytest.raises(ConfigError, match="slowk_period"):
        st.STOCH(5, 0)
    with pytest.raises(ConfigError, match="slowd_period"):
        st.STOCH(5, 3, -1)


# -------------------------------------------------------------------------- no drift


def test_no_drift_over_300k_updates_of_large_prices() -> None:
    rng = random.Random(3)
    xs = [1e6 + rng.uniform(-500.0, 500.0) for _ in range(300_000)]
    period = 50
    sma, bb, z, w = st.SMA(period), st.BBANDS(period, 2.0), st.ZScore(period), st.WMA(period)
    for x in xs:
        sma.update(x)
        bb.update(x)
        z.update(x)
        w.update(x)
    win = xs[-period:]
    mean = math.fsum(win) / period
    sd = math.sqrt(math.fsum([(v - mean) ** 2 for v in win]) / period)
    wma = math.fsum([(i + 1) * v for i, v in enumerate(win)]) / (period * (period + 1) / 2)
    # SMA is the vectorized kernel's running sum, re-summed every 1,024 values: a few ulp of
    # 1e6 (a plain running sum, TA-Lib's, is off by 1.6e-8 here)
    assert abs(sma.value - mean) < 1e-8
    assert abs(bb.value[1] - mean) < 1e-9
    assert abs((bb.value[0] - bb.value[1]) / 2 - sd) < 1e-9
    assert abs(z.value - (xs[-1] - mean) / sd) < 1e-9
    assert abs(w.value - wma) < 1e-9
