"""Vectorized indicators equal TA-Lib's function of the same name (1e-9 absolute, same NaN).

Runs on the real ETHUSDT 5-minute candles in ../shared/data when present, and always on a
generated random walk so a fresh clone still checks something.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import talib

import tradewind.indicators as ind
from tradewind.data.loader import load_ohlcv

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ETH_5M = DATA / "binance_ETHUSDT_5m.csv.gz"

Bars = dict[str, np.ndarray]
Outputs = Callable[[Bars], tuple[np.ndarray, ...]]


def _t(x: object) -> tuple[np.ndarray, ...]:
    return tuple(x) if isinstance(x, tuple | list) else (x,)  # type: ignore[arg-type]


# name -> (ours, TA-Lib's)
CASES: dict[str, tuple[Outputs, Outputs]] = {
    "sma_2": (lambda d: _t(ind.sma(d["c"], 2)), lambda d: _t(talib.SMA(d["c"], 2))),
    "sma_20": (lambda d: _t(ind.sma(d["c"], 20)), lambda d: _t(talib.SMA(d["c"], 20))),
    "sma_200": (lambda d: _t(ind.sma(d["c"], 200)), lambda d: _t(talib.SMA(d["c"], 200))),
    "ema_10": (lambda d: _t(ind.ema(d["c"], 10)), lambda d: _t(talib.EMA(d["c"], 10))),
    "ema_200": (lambda d: _t(ind.ema(d["c"], 200)), lambda d: _t(talib.EMA(d["c"], 200))),
    "wma_14": (lambda d: _t(ind.wma(d["c"], 14)), lambda d: _t(talib.WMA(d["c"], 14))),
    "dema_30": (lambda d: _t(ind.dema(d["c"], 30)), lambda d: _t(talib.DEMA(d["c"], 30))),
    "tema_30": (lambda d: _t(ind.tema(d["c"], 30)), lambda d: _t(talib.TEMA(d["c"], 30))),
    "kama_30": (lambda d: _t(ind.kama(d["c"], 30)), lambda d: _t(talib.KAMA(d["c"], 30))),
    "rsi_14": (lambda d: _t(ind.rsi(d["c"])), lambda d: _t(talib.RSI(d["c"], 14))),
    "rsi_2": (lambda d: _t(ind.rsi(d["c"], 2)), lambda d: _t(talib.RSI(d["c"], 2))),
    "macd": (lambda d: ind.macd(d["c"]), lambda d: _t(talib.MACD(d["c"], 12, 26, 9))),
    "macd_5_35_5": (
        lambda d: ind.macd(d["c"], 5, 35, 5),
        lambda d: _t(talib.MACD(d["c"], 5, 35, 5)),
    ),
    "stoch": (
        lambda d: ind.stoch(d["h"], d["l"], d["c"]),
        lambda d: _t(talib.STOCH(d["h"], d["l"], d["c"])),  # TA-Lib defaults 5/3/SMA/3/SMA
    ),
    "stochrsi": (
        lambda d: ind.stochrsi(d["c"]),
        lambda d: _t(talib.STOCHRSI(d["c"], 14, 5, 3, 0)),
    ),
    "cci": (
        lambda d: _t(ind.cci(d["h"], d["l"], d["c"])),
        lambda d: _t(talib.CCI(d["h"], d["l"], d["c"], 14)),
    ),
    "adx": (
        lambda d: _t(ind.adx(d["h"], d["l"], d["c"])),
        lambda d: _t(talib.ADX(d["h"], d["l"], d["c"], 14)),
    ),
    "plus_di": (
        lambda d: _t(ind.plus_di(d["h"], d["l"], d["c"])),
        lambda d: _t(talib.PLUS_DI(d["h"], d["l"], d["c"], 14)),
    ),
    "minus_di": (
        lambda d: _t(ind.minus_di(d["h"], d["l"], d["c"])),
        lambda d: _t(talib.MINUS_DI(d["h"], d["l"], d["c"], 14)),
    ),
    "atr": (
        lambda d: _t(ind.atr(d["h"], d["l"], d["c"])),
        lambda d: _t(talib.ATR(d["h"], d["l"], d["c"], 14)),
    ),
    "natr": (
        lambda d: _t(ind.natr(d["h"], d["l"], d["c"])),
        lambda d: _t(talib.NATR(d["h"], d["l"], d["c"], 14)),
    ),
    "bbands": (
        lambda d: ind.bbands(d["c"], 20, 2.0),
        lambda d: _t(talib.BBANDS(d["c"], 20, 2.0, 2.0, 0)),
    ),
    "stddev": (lambda d: _t(ind.stddev(d["c"], 20)), lambda d: _t(talib.STDDEV(d["c"], 20, 1.0))),
    "obv": (lambda d: _t(ind.obv(d["c"], d["v"])), lambda d: _t(talib.OBV(d["c"], d["v"]))),
    "mfi": (
        lambda d: _t(ind.mfi(d["h"], d["l"], d["c"], d["v"])),
        lambda d: _t(talib.MFI(d["h"], d["l"], d["c"], d["v"], 14)),
    ),
    "roc": (lambda d: _t(ind.roc(d["c"])), lambda d: _t(talib.ROC(d["c"], 10))),
    "willr": (
        lambda d: _t(ind.willr(d["h"], d["l"], d["c"])),
        lambda d: _t(talib.WILLR(d["h"], d["l"], d["c"], 14)),
    ),
    "sar": (lambda d: _t(ind.sar(d["h"], d["l"])), lambda d: _t(talib.SAR(d["h"], d["l"]))),
    "donchian_vs_max_min": (
        lambda d: ind.donchian(d["h"], d["l"], 20),
        lambda d: (talib.MAX(d["h"], 20), talib.MIN(d["l"], 20)),
    ),
    "ichimoku_tenkan_kijun_vs_midprice": (
        lambda d: tuple(ind.ichimoku(d["h"], d["l"], d["c"]))[:2],
        lambda d: (talib.MIDPRICE(d["h"], d["l"], 9), talib.MIDPRICE(d["h"], d["l"], 26)),
    ),
    "rolling_corr": (
        lambda d: _t(ind.rolling_corr(d["c"], d["o"], 30)),
        lambda d: _t(talib.CORREL(d["c"], d["o"], 30)),
    ),
    # TA-Lib's BETA(benchmark, asset) regresses the asset's simple returns on the benchmark's.
    "rolling_beta_returns": (
        lambda d: _t(ind.rolling_beta(d["c"], d["h"], 30, returns=True)),
        lambda d: _t(talib.BETA(d["h"], d["c"], 30)),
    ),
}


def assert_parity(ours: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == np.float64
        assert a.shape == b.shape
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        ok = ~np.isnan(b)
        assert ok.any()
        assert np.max(np.abs(a[ok] - b[ok])) <= 1e-9


def random_walk(n: int, seed: int = 7) -> Bars:
    rng = np.random.default_rng(seed)
    c = 100.0 + np.cumsum(rng.normal(0, 1, n))
    o = np.concatenate(([100.0], c[:-1]))
    h = np.maximum(o, c) + rng.uniform(0, 1, n)
    lo = np.minimum(o, c) - rng.uniform(0, 1, n)
    v = rng.uniform(1, 100, n)
    return {"o": o, "h": h, "l": lo, "c": c, "v": v}


@pytest.fixture(scope="module")
def eth() -> Bars:
    if not ETH_5M.exists():
        pytest.skip(f"real candles not available: {ETH_5M} is missing (../shared/data)")
    frame = next(iter(load_ohlcv(ETH_5M).values()))
    return {
        k: frame[col].to_numpy(dtype=np.float64)
        for k, col in zip("ohlcv", ["open", "high", "low", "close", "volume"], strict=True)
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_real_candles(name: str, eth: Bars) -> None:
    assert len(eth["c"]) > 70_000
    ours, theirs = CASES[name]
    assert_parity(ours(eth), theirs(eth))


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity_generated(name: str) -> None:
    d = random_walk(3_000)
    ours, theirs = CASES[name]
    assert_parity(ours(d), theirs(d))


def test_patterns_equal_talib_real_candles(eth: Bars) -> None:
    assert len(ind.PATTERN_NAMES) == 61  # TA-Lib 0.6's candlestick set
    for name in ind.PATTERN_NAMES:
        got = ind.pattern(name, eth["o"], eth["h"], eth["l"], eth["c"])
        want = getattr(talib, name)(eth["o"], eth["h"], eth["l"], eth["c"]).astype(np.float64)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_patterns_generated_and_name_forms() -> None:
    d = random_walk(2_000, seed=3)
    args = (d["o"], d["h"], d["l"], d["c"])
    want = talib.CDLENGULFING(*args).astype(np.float64)
    assert np.count_nonzero(want) > 0  # the case actually exercises signals
    for name in ("CDLENGULFING", "engulfing", "cdl_engulfing", "Engulfing"):
        np.testing.assert_array_equal(ind.pattern(name, *args), want)
    star = ind.pattern("morningstar", *args, penetration=0.5)
    np.testing.assert_array_equal(star, talib.CDLMORNINGSTAR(*args, penetration=0.5))
    every = ind.all_patterns(*args)
    assert set(every) == set(ind.PATTERN_NAMES)
    assert set(ind.all_patterns(*args, names=["doji"])) == {"CDLDOJI"}
