"""Streaming indicators fed bar by bar equal TA-Lib / the vectorized forms to 1e-9.

Real data: the first 100,000 BTCUSDT 1m bars from ../shared/data (skipped when absent).
Generated data: a seeded random walk, always run, so a fresh clone checks parity too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib
from numpy.lib.stride_tricks import sliding_window_view

from tradewind.indicators import core
from tradewind.indicators import streaming as st
from tradewind.model import Bar

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BTC = DATA / "binance_BTCUSDT_1m.csv.gz"
N_REAL = 100_000
TOL = 1e-9


class Frame:
    """OHLCV arrays plus the same rows as Bar objects."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.open = df["open"].to_numpy(np.float64)
        self.high = df["high"].to_numpy(np.float64)
        self.low = df["low"].to_numpy(np.float64)
        self.close = df["close"].to_numpy(np.float64)
        self.volume = df["volume"].to_numpy(np.float64)
        self.bars = [
            Bar("X", "1m", int(t), o, h, lo, c, v)
            for t, o, h, lo, c, v in zip(
                df["ts"].to_numpy(),
                self.open.tolist(),
                self.high.tolist(),
                self.low.tolist(),
                self.close.tolist(),
                self.volume.tolist(),
                strict=True,
            )
        ]


def _random_walk(n: int = 6_000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    close = np.round(close, 2)
    close[1000:1030] = close[1000]  # a flat stretch: zero ranges, zero changes
    opn = np.concatenate(([close[0]], close[:-1]))
    wick = np.abs(rng.normal(0.0, 0.1, (2, n)))
    wick[:, 1000:1030] = 0.0
    high = np.maximum(opn, close) + np.round(wick[0], 2)
    low = np.minimum(opn, close) - np.round(wick[1], 2)
    vol = np.round(rng.uniform(0.0, 50.0, n), 3)
    vol[2000:2005] = 0.0
    ts = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC").as_unit("ns").asi8
    return pd.DataFrame(
        {"ts": ts, "open": opn, "high": high, "low": low, "close": close, "volume": vol}
    )


@pytest.fixture(scope="module")
def real() -> Frame:
    if not BTC.exists():
        pytest.skip(f"real candles not found: {BTC} (needs ../shared/data)")
    from tradewind.data.loader import load_ohlcv

    df = load_ohlcv(BTC)["BTCUSDT"].iloc[:N_REAL].reset_index(drop=True)
    return Frame(df)


@pytest.fixture(scope="module")
def walk() -> Frame:
    return Frame(_random_walk())


def run(ind: Any, inputs: Sequence[Any]) -> np.ndarray:
    """Feed ``inputs`` one by one; an (n,) or (n, k) array of the returned values."""
    upd = ind.update
    return np.array([upd(x) for x in inputs], dtype=np.float64)


def assert_same(got: np.ndarray, exp: np.ndarray, tol: float = TOL) -> None:
    got = np.asarray(got, dtype=np.float64)
    exp = np.asarray(exp, dtype=np.float64)
    assert got.shape == exp.shape
    gn, en = np.isnan(got), np.isnan(exp)
    bad = np.flatnonzero(gn != en)
    assert bad.size == 0, f"NaN mismatch at {bad[:5]} (got {got[bad[:5]]}, want {exp[bad[:5]]})"
    assert not en.all(), "reference is all NaN: nothing compared"
    diff = np.abs(got[~en] - exp[~en])
    worst = int(np.argmax(diff))
    assert diff[worst] <= tol, f"max |diff| {diff[worst]:.3e} at valid index {worst}"


def _window_mean_sd(x: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pass window mean and population std (exactly 0 on a flat window)."""
    w = sliding_window_view(x, period)
    mean = w.mean(axis=1)
    sd = np.sqrt(((w - mean[:, None]) ** 2).mean(axis=1))
    flat = w.max(axis=1) == w.min(axis=1)
    mean[flat] = w[flat, 0]
    sd[flat] = 0.0
    return mean, sd


def zscore_ref(x: np.ndarray, period: int) -> np.ndarray:
    """(x − mean) / population std of the window; 0 on a flat window."""
    out = np.full(x.shape, np.nan)
    mean, sd = _window_mean_sd(x, period)
    dev = x[period - 1 :] - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        out[period - 1 :] = np.where(sd > 0, dev / sd, 0.0)
    return out


def bbands_ref(x: np.ndarray, period: int, k: float) -> tuple[np.ndarray, ...]:
    """mean ± k × population std of the window."""
    mid = np.full(x.shape, np.nan)
    sd = np.full(x.shape, np.nan)
    mid[period - 1 :], sd[period - 1 :] = _window_mean_sd(x, period)
    return mid + k * sd, mid, mid - k * sd


class DI:
    """Feeds an ADX and returns one of its DI/DX attributes (NaN before bar ``period``)."""

    def __init__(self, period: int, attr: str) -> None:
        self.adx = st.ADX(period)
        self.attr = attr

    def update(self, bar: Bar) -> float:
        self.adx.update(bar)
        return float(getattr(self.adx, self.attr))


# Each case: (id, factory, input kind, reference(frame) -> array or tuple of arrays)
Ref = Callable[[Frame], Any]
CASES: list[tuple[str, Callable[[], Any], str, Ref]] = [
    ("SMA1", lambda: st.SMA(1), "close", lambda f: talib.SMA(f.close, 1)),
    ("SMA2", lambda: st.SMA(2), "close", lambda f: talib.SMA(f.close, 2)),
    ("SMA20", lambda: st.SMA(20), "close", lambda f: talib.SMA(f.close, 20)),
    ("SMA20-core", lambda: st.SMA(20), "close", lambda f: core.sma(f.close, 20)),
    ("SMA500", lambda: st.SMA(500), "bar", lambda f: talib.SMA(f.close, 500)),
    ("EMA1", lambda: st.EMA(1), "close", lambda f: talib.EMA(f.close, 1)),
    ("EMA10", lambda: st.EMA(10), "close", lambda f: talib.EMA(f.close, 10)),
    ("EMA10-core", lambda: st.EMA(10), "bar", lambda f: core.ema(f.close, 10)),
    ("EMA200", lambda: st.EMA(200), "close", lambda f: talib.EMA(f.close, 200)),
    ("RSI14", st.RSI, "close", lambda f: talib.RSI(f.close, 14)),
    ("RSI14-core", lambda: st.RSI(14), "bar", lambda f: core.rsi(f.close, 14)),
    ("RSI2", lambda: st.RSI(2), "close", lambda f: talib.RSI(f.close, 2)),
    ("RSI50", lambda: st.RSI(50), "close", lambda f: talib.RSI(f.close, 50)),
    ("ATR14", st.ATR, "bar", lambda f: talib.ATR(f.high, f.low, f.close, 14)),
    ("ATR1", lambda: st.ATR(1), "bar", lambda f: talib.ATR(f.high, f.low, f.close, 1)),
    ("ATR30", lambda: st.ATR(30), "bar", lambda f: talib.ATR(f.high, f.low, f.close, 30)),
    ("MACD", st.MACD, "close", lambda f: talib.MACD(f.close, 12, 26, 9)),
    ("MACD5-35-5", lambda: st.MACD(5, 35, 5), "bar", lambda f: talib.MACD(f.close, 5, 35, 5)),
    ("BBANDS", st.BBANDS, "close", lambda f: talib.BBANDS(f.close, 20, 2.0, 2.0)),
    # period 2: TA-Lib's own variance rounding reaches ~3e-9 on BTC prices, so check the formula
    ("BBANDS2", lambda: st.BBANDS(2, 3.0), "close", lambda f: bbands_ref(f.close, 2, 3.0)),
    (
        "BBANDS10-1.5",
        lambda: st.BBANDS(10, 1.5),
        "close",
        lambda f: talib.BBANDS(f.close, 10, 1.5, 1.5),
    ),
    ("WMA1", lambda: st.WMA(1), "close", lambda f: talib.WMA(f.close, 1)),
    ("WMA2", lambda: st.WMA(2), "close", lambda f: talib.WMA(f.close, 2)),
    ("WMA30", lambda: st.WMA(30), "close", lambda f: talib.WMA(f.close, 30)),
    ("DEMA30", st.DEMA, "close", lambda f: talib.DEMA(f.close, 30)),
    ("DEMA5", lambda: st.DEMA(5), "close", lambda f: talib.DEMA(f.close, 5)),
    ("TEMA30", st.TEMA, "close", lambda f: talib.TEMA(f.close, 30)),
    ("TEMA5", lambda: st.TEMA(5), "bar", lambda f: talib.TEMA(f.close, 5)),
    ("ROC10", st.ROC, "close", lambda f: talib.ROC(f.close, 10)),
    ("ROC10-core", lambda: st.ROC(10), "close", lambda f: core.roc(f.close, 10)),
    ("ROC1", lambda: st.ROC(1), "close", lambda f: talib.ROC(f.close, 1)),
    ("ZSCORE20", st.ZScore, "close", lambda f: zscore_ref(f.close, 20)),
    ("ZSCORE200", lambda: st.ZScore(200), "close", lambda f: zscore_ref(f.close, 200)),
    ("STOCH", st.STOCH, "bar", lambda f: talib.STOCH(f.high, f.low, f.close)),
    (
        "STOCH14-3-5",
        lambda: st.STOCH(14, 3, 5),
        "bar",
        lambda f: talib.STOCH(f.high, f.low, f.close, 14, 3, 0, 5, 0),
    ),
    ("CCI14", st.CCI, "bar", lambda f: talib.CCI(f.high, f.low, f.close, 14)),
    ("CCI20", lambda: st.CCI(20), "bar", lambda f: talib.CCI(f.high, f.low, f.close, 20)),
    ("WILLR14", st.WILLR, "bar", lambda f: talib.WILLR(f.high, f.low, f.close, 14)),
    ("WILLR2", lambda: st.WILLR(2), "bar", lambda f: talib.WILLR(f.high, f.low, f.close, 2)),
    ("OBV", st.OBV, "bar", lambda f: talib.OBV(f.close, f.volume)),
    ("NATR14", st.NATR, "bar", lambda f: talib.NATR(f.high, f.low, f.close, 14)),
    (
        "DONCHIAN20",
        st.Donchian,
        "bar",
        lambda f: (talib.MAX(f.high, 20), talib.MIN(f.low, 20)),
    ),
    (
        "DONCHIAN20-core",
        lambda: st.Donchian(20),
        "bar",
        lambda f: core.donchian(f.high, f.low, 20),
    ),
    ("ADX14", st.ADX, "bar", lambda f: talib.ADX(f.high, f.low, f.close, 14)),
    ("ADX5", lambda: st.ADX(5), "bar", lambda f: talib.ADX(f.high, f.low, f.close, 5)),
    (
        "PLUS_DI14",
        lambda: DI(14, "plus_di"),
        "bar",
        lambda f: talib.PLUS_DI(f.high, f.low, f.close, 14),
    ),
    (
        "MINUS_DI14",
        lambda: DI(14, "minus_di"),
        "bar",
        lambda f: talib.MINUS_DI(f.high, f.low, f.close, 14),
    ),
    ("DX14", lambda: DI(14, "dx"), "bar", lambda f: talib.DX(f.high, f.low, f.close, 14)),
    ("MFI14", st.MFI, "bar", lambda f: talib.MFI(f.high, f.low, f.close, f.volume, 14)),
    ("MFI3", lambda: st.MFI(3), "bar", lambda f: talib.MFI(f.high, f.low, f.close, f.volume, 3)),
    ("KAMA30", st.KAMA, "close", lambda f: talib.KAMA(f.close, 30)),
    ("KAMA10", lambda: st.KAMA(10), "bar", lambda f: talib.KAMA(f.close, 10)),
    ("DONCHIAN1", lambda: st.Donchian(1), "bar", lambda f: core.donchian(f.high, f.low, 1)),
]


def _check(frame: Frame, factory: Callable[[], Any], kind: str, ref: Ref) -> None:
    inputs: Sequence[Any] = frame.close.tolist() if kind == "close" else frame.bars
    got = run(factory(), inputs)
    exp = ref(frame)
    if isinstance(exp, tuple):
        exp = np.column_stack(exp)
    assert_same(got, exp)


@pytest.mark.parametrize(
    ("factory", "kind", "ref"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_parity_random_walk(walk: Frame, factory: Callable[[], Any], kind: str, ref: Ref) -> None:
    _check(walk, factory, kind, ref)


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("factory", "kind", "ref"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_parity_real_btc_100k(real: Frame, factory: Callable[[], Any], kind: str, ref: Ref) -> None:
    _check(real, factory, kind, ref)
