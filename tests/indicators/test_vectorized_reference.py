"""Indicators TA-Lib does not have: a hand-computed case each plus a plain-pandas reference.

Covers hma, keltner, donchian, vwap, ichimoku, supertrend, zscore, rolling beta/correlation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tradewind.indicators as ind
from tradewind.data.loader import load_ohlcv

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ETH_5M = DATA / "binance_ETHUSDT_5m.csv.gz"
NAN = np.nan


def close_eq(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> None:
    np.testing.assert_allclose(a, b, rtol=0, atol=atol, equal_nan=True)


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    """Real ETH 5m candles when present, else a generated walk (the references run either way)."""
    if ETH_5M.exists():
        return next(iter(load_ohlcv(ETH_5M).values())).iloc[:20_000].reset_index(drop=True)
    rng = np.random.default_rng(11)
    n = 5_000
    c = 100 + np.cumsum(rng.normal(0, 1, n))
    o = np.concatenate(([100.0], c[:-1]))
    ts = pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC").as_unit("ns").asi8
    return pd.DataFrame(
        {
            "ts": ts,
            "open": o,
            "high": np.maximum(o, c) + rng.uniform(0, 1, n),
            "low": np.minimum(o, c) - rng.uniform(0, 1, n),
            "close": c,
            "volume": rng.uniform(1, 100, n),
        }
    )


# ---------------------------------------------------------------- plain-pandas references
def ref_wma(s: pd.Series, n: int) -> pd.Series:
    w = np.arange(1, n + 1, dtype=float)
    return s.rolling(n).apply(lambda a: float(np.dot(a, w) / w.sum()), raw=True)


def ref_atr(df: pd.DataFrame, n: int) -> pd.Series:
    """Wilder ATR: TR from bar 1, seed = mean of TR[1..n], then alpha = 1/n recursion."""
    pc = df["close"].shift(1)
    tr = pd.concat(
        [df["high"] - df["low"], (df["high"] - pc).abs(), (df["low"] - pc).abs()], axis=1
    ).max(axis=1, skipna=False)
    out = pd.Series(np.nan, index=df.index)
    prev = tr.iloc[1 : n + 1].mean()
    out.iloc[n] = prev
    for i in range(n + 1, len(df)):
        prev = prev + (tr.iloc[i] - prev) / n
        out.iloc[i] = prev
    return out


def ref_ema(s: pd.Series, n: int) -> pd.Series:
    """SMA-seeded EMA, alpha = 2 / (n + 1)."""
    out = pd.Series(np.nan, index=s.index)
    seeded = pd.concat([pd.Series([s.iloc[:n].mean()]), s.iloc[n:]], ignore_index=True)
    out.iloc[n - 1 :] = seeded.ewm(alpha=2 / (n + 1), adjust=False).mean().to_numpy()
    return out


def ref_supertrend(df: pd.DataFrame, n: int, m: float) -> tuple[np.ndarray, np.ndarray]:
    """TradingView's Pine script, transcribed literally (up = lower band, dn = upper band)."""
    atr = ref_atr(df, n)
    src = (df["high"] + df["low"]) / 2
    line = np.full(len(df), np.nan)
    trend_out = np.full(len(df), np.nan)
    up1 = dn1 = trend = None
    for i in range(len(df)):
        if np.isnan(atr.iloc[i]):
            continue
        up = src.iloc[i] - m * atr.iloc[i]
        dn = src.iloc[i] + m * atr.iloc[i]
        if up1 is not None:
            up = max(up, up1) if df["close"].iloc[i - 1] > up1 else up
            dn = min(dn, dn1) if df["close"].iloc[i - 1] < dn1 else dn
        if trend is None or (trend == -1 and df["close"].iloc[i] > dn1):
            trend = 1
        elif trend == 1 and df["close"].iloc[i] < up1:
            trend = -1
        line[i] = up if trend == 1 else dn
        trend_out[i] = trend
        up1, dn1 = up, dn
    return line, trend_out


# ---------------------------------------------------------------- HMA
def test_hma_hand() -> None:
    # period 4: WMA2, WMA4, then WMA2 (isqrt(4) = 2) of raw = 2*WMA2 - WMA4.
    # x = 1,1,1,1,4: WMA2[3] = (1+2)/3 = 1, WMA2[4] = (1+2*4)/3 = 3;
    # WMA4[3] = 1, WMA4[4] = (1+2+3+4*4)/10 = 2.2; raw[3] = 1, raw[4] = 6 - 2.2 = 3.8;
    # HMA[4] = (raw[3] + 2*raw[4]) / 3 = 8.6 / 3. First value at (4-1)+(2-1) = 4.
    close_eq(ind.hma([1, 1, 1, 1, 4], 4), np.array([NAN, NAN, NAN, NAN, 8.6 / 3]))
    # on a straight line the Hull average has no lag: HMA = x from index 4
    close_eq(ind.hma(np.arange(1.0, 8.0), 4), np.array([NAN] * 4 + [5.0, 6.0, 7.0]))


@pytest.mark.parametrize("n", [4, 9, 16, 21])
def test_hma_reference(bars: pd.DataFrame, n: int) -> None:
    s = bars["close"].iloc[:3000]
    raw = 2 * ref_wma(s, n // 2) - ref_wma(s, n)
    want = ref_wma(raw.dropna(), int(np.sqrt(n))).reindex(s.index)
    close_eq(ind.hma(s.to_numpy(), n), want.to_numpy())


# ---------------------------------------------------------------- Keltner
def test_keltner_hand() -> None:
    # period 2, atr_period 1, multiplier 2. TR[1..3] = max(h-l, |h-pc|, |l-pc|) = 2 each.
    # EMA2 (alpha 2/3): seed (2+3)/2 = 2.5; 2.5 + 2/3*(4-2.5) = 3.5; 3.5 + 2/3*(5-3.5) = 4.5.
    # bands = mid ± 2*2.
    up, mid, lo = ind.keltner([3, 4, 5, 6], [1, 2, 3, 4], [2, 3, 4, 5], 2, 2.0, 1)
    close_eq(mid, np.array([NAN, 2.5, 3.5, 4.5]))
    close_eq(up, np.array([NAN, 6.5, 7.5, 8.5]))
    close_eq(lo, np.array([NAN, -1.5, -0.5, 0.5]))


def test_keltner_reference(bars: pd.DataFrame) -> None:
    df = bars.iloc[:3000]
    up, mid, lo = ind.keltner(df["high"], df["low"], df["close"], 20, 1.5, 10)
    want_mid = ref_ema(df["close"], 20)
    width = 1.5 * ref_atr(df, 10)
    close_eq(mid, want_mid.to_numpy())
    close_eq(up, (want_mid + width).to_numpy())
    close_eq(lo, (want_mid - width).to_numpy())


# ---------------------------------------------------------------- Donchian
def test_donchian_hand() -> None:
    # period 3: upper = max of high over the 3 bars ending here, lower = min of low.
    # bars 0..2: max(1,3,2) = 3, min(0,2,1) = 0; 1..3: max(3,2,5) = 5, min(2,1,3) = 1;
    # 2..4: max(2,5,4) = 5, min(1,3,2) = 1.
    up, lo = ind.donchian([1, 3, 2, 5, 4], [0, 2, 1, 3, 2], 3)
    close_eq(up, np.array([NAN, NAN, 3, 5, 5]))
    close_eq(lo, np.array([NAN, NAN, 0, 1, 1]))


def test_donchian_reference(bars: pd.DataFrame) -> None:
    up, lo = ind.donchian(bars["high"], bars["low"], 55)
    close_eq(up, bars["high"].rolling(55).max().to_numpy(), 0)
    close_eq(lo, bars["low"].rolling(55).min().to_numpy(), 0)


# ---------------------------------------------------------------- VWAP
def test_vwap_hand_resets_at_utc_midnight() -> None:
    ts = pd.to_datetime(
        ["2024-01-01 23:00", "2024-01-01 23:30", "2024-01-02 00:00", "2024-01-02 00:30"], utc=True
    )
    ts_ns = ts.as_unit("ns").asi8
    # typical prices (h+l+c)/3: (12+9+9)/3 = 10, (22+19+19)/3 = 20, (32+29+29)/3 = 30, 40
    high, low, close = [12, 22, 32, 42], [9, 19, 29, 39], [9, 19, 29, 39]
    vol = [1, 3, 2, 0]
    # day 1: 10*1/1 = 10; (10*1 + 20*3)/(1+3) = 70/4 = 17.5
    # day 2 restarts: 30*2/2 = 30; then a zero-volume bar leaves it at 60/2 = 30
    close_eq(ind.vwap(high, low, close, vol, ts_ns), np.array([10, 17.5, 30, 30]))
    # a 30-minute session resets every bar: 10, 20, 30, NaN (no volume in that session yet).
    close_eq(ind.vwap(high, low, close, vol, ts_ns, session="30min"), np.array([10, 20, 30, NAN]))


def test_vwap_reference(bars: pd.DataFrame) -> None:
    tp = (bars["high"] + bars["low"] + bars["close"]) / 3
    day = pd.to_datetime(bars["ts"], utc=True).dt.floor("D")
    want = (tp * bars["volume"]).groupby(day).cumsum() / bars["volume"].groupby(day).cumsum()
    got = ind.vwap(bars["high"], bars["low"], bars["close"], bars["volume"], bars["ts"])
    np.testing.assert_allclose(got, want.to_numpy(), rtol=1e-12)


# ---------------------------------------------------------------- Ichimoku
def test_ichimoku_hand() -> None:
    h = [2.0, 4, 6, 8, 10]
    lo = [0.0, 2, 4, 6, 8]
    c = [1.0, 3, 5, 7, 9]
    r = ind.ichimoku(h, lo, c, 2, 3, 4)
    # tenkan(2)[t] = (max h[t-1:t+1] + min l[t-1:t+1]) / 2 = (h[t] + l[t-1]) / 2: 2, 4, 6, 8
    close_eq(r.tenkan, np.array([NAN, 2, 4, 6, 8]))
    # kijun(3): (6+0)/2 = 3, (8+2)/2 = 5, (10+4)/2 = 7
    close_eq(r.kijun, np.array([NAN, NAN, 3, 5, 7]))
    # senkou_a = (tenkan + kijun)/2, unshifted: (4+3)/2, (6+5)/2, (8+7)/2
    close_eq(r.senkou_a, np.array([NAN, NAN, 3.5, 5.5, 7.5]))
    # senkou_b(4): (8+0)/2 = 4, (10+2)/2 = 6
    close_eq(r.senkou_b, np.array([NAN, NAN, NAN, 4, 6]))
    close_eq(r.chikou, np.array(c))


def test_ichimoku_reference(bars: pd.DataFrame) -> None:
    def mid(n: int) -> pd.Series:
        return (bars["high"].rolling(n).max() + bars["low"].rolling(n).min()) / 2

    r = ind.ichimoku(bars["high"], bars["low"], bars["close"])
    close_eq(r.tenkan, mid(9).to_numpy())
    close_eq(r.kijun, mid(26).to_numpy())
    close_eq(r.senkou_a, ((mid(9) + mid(26)) / 2).to_numpy())
    close_eq(r.senkou_b, mid(52).to_numpy())
    close_eq(r.chikou, bars["close"].to_numpy(), 0)


# ---------------------------------------------------------------- Supertrend
def test_supertrend_hand() -> None:
    # period 1 (ATR = true range, from bar 1), multiplier 1; bands hl2 ± TR.
    # bar1: TR 2, hl2 10 -> lower 8, upper 12; starts up: line 8.
    # bar2: TR 2, hl2 11 -> basic 9/13; lower max(9, 8) = 9 (prev close 10 > 8);
    #       upper min(13, 12) = 12 (prev close 10 < 12); close 11 >= 8 stays up: line 9.
    # bar3: TR max(4, 0, 4) = 4, hl2 9 -> basic 5/13; lower stays 9, upper stays 12;
    #       close 7.5 < previous lower 9 -> down: line = upper 12.
    # bar4: TR max(2, 1.5, .5) = 2, hl2 8 -> basic 6/10; prev close 7.5 < 9 so lower = 6;
    #       upper = min(10, 12) = 10; close 8 <= 12 stays down: line 10.
    # bar5: TR max(2, 5, 3) = 5, hl2 12 -> basic 7/17; lower = max(7, 6) = 7 (prev close 8 > 6);
    #       upper min(17, 10) = 10; close 12.5 > previous upper 10 -> up: line = lower 7.
    h = [10, 11, 12, 11, 9, 13]
    lo = [8, 9, 10, 7, 7, 11]
    c = [9, 10, 11, 7.5, 8, 12.5]
    line, direction = ind.supertrend(h, lo, c, 1, 1.0)
    close_eq(line, np.array([NAN, 8, 9, 12, 10, 7]))
    close_eq(direction, np.array([NAN, 1, 1, -1, -1, 1]))


def test_supertrend_reference(bars: pd.DataFrame) -> None:
    df = bars.iloc[:3000]
    line, direction = ind.supertrend(df["high"], df["low"], df["close"], 10, 3.0)
    want_line, want_dir = ref_supertrend(df, 10, 3.0)
    close_eq(line, want_line)
    close_eq(direction, want_dir, 0)
    assert set(np.unique(direction[~np.isnan(direction)])) == {-1.0, 1.0}


# ---------------------------------------------------------------- z-score
def test_zscore_hand() -> None:
    # period 3 over 1,2,3: mean 2, population std sqrt((1+0+1)/3) = sqrt(2/3);
    # z = (3-2)/sqrt(2/3) = sqrt(1.5). Same for 2,3,4. Constant window 5,5,5: std 0 -> z = 0.
    got = ind.zscore([1, 2, 3, 4, 5, 5, 5], 3)
    z = np.sqrt(1.5)
    # window 3,4,5: z = sqrt(1.5); window 4,5,5: mean 14/3, dev 1/3,
    # var = ((2/3)^2 + 2*(1/3)^2)/3 = (6/9)/3 = 2/9 -> z = (1/3)/sqrt(2/9) = 1/sqrt(2)
    close_eq(got, np.array([NAN, NAN, z, z, z, 1 / np.sqrt(2), 0.0]))


def test_zscore_reference(bars: pd.DataFrame) -> None:
    s = bars["close"]
    # exact two-pass reference per window (pandas' one-pass rolling std drifts by ~1e-9 here)
    windows = np.lib.stride_tricks.sliding_window_view(s.to_numpy(), 20)
    want = np.full(len(s), np.nan)
    want[19:] = (windows[:, -1] - windows.mean(axis=1)) / windows.std(axis=1)
    close_eq(ind.zscore(s, 20), want)


# ---------------------------------------------------------------- beta / correlation
def test_beta_corr_hand() -> None:
    # y = 1,2,3 (benchmark), x = 1,3,2: means 2 and 2; cov = ((-1)(-1) + 0*1 + 1*0)/3 = 1/3;
    # var(y) = 2/3 -> beta = 0.5; var(x) = (1+1+0)/3 = 2/3 -> corr = (1/3)/(2/3) = 0.5
    close_eq(ind.rolling_beta([1, 3, 2], [1, 2, 3], 3), np.array([NAN, NAN, 0.5]))
    close_eq(ind.rolling_corr([1, 3, 2], [1, 2, 3], 3), np.array([NAN, NAN, 0.5]))
    # x = 2*y + 1 exactly: beta 2, corr 1 in every window
    y = np.array([1.0, 2, 4, 3])
    close_eq(ind.rolling_beta(2 * y + 1, y, 3), np.array([NAN, NAN, 2, 2]))
    close_eq(ind.rolling_corr(2 * y + 1, y, 3), np.array([NAN, NAN, 1, 1]))
    # returns=True: prices 100, 110, 99 -> returns NaN, 0.1, -0.1; benchmark 100, 105, 99.75
    # -> NaN, 0.05, -0.05; beta over 2 returns = 0.1/0.05 = 2 (first value at index 2)
    close_eq(
        ind.rolling_beta([100, 110, 99], [100, 105, 99.75], 2, returns=True),
        np.array([NAN, NAN, 2.0]),
    )


def test_beta_corr_reference(bars: pd.DataFrame) -> None:
    rx = bars["close"].pct_change()
    ry = bars["open"].pct_change()
    want_beta = rx.rolling(30).cov(ry) / ry.rolling(30).var()
    want_corr = rx.rolling(30).corr(ry)
    close_eq(ind.rolling_beta(bars["close"], bars["open"], 30, returns=True), want_beta.to_numpy())
    close_eq(ind.rolling_corr(rx, ry, 30), want_corr.to_numpy())
    # on prices (levels) the correlation follows the pandas definition too
    close_eq(
        ind.rolling_corr(bars["close"], bars["open"], 30),
        bars["close"].rolling(30).corr(bars["open"]).to_numpy(),
        1e-7,
    )
