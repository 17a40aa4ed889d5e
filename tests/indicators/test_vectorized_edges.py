"""Edge cases of every vectorized indicator: empty input, short series, constant prices, NaN
gaps, bad parameters, and causality (the output on a prefix is the prefix of the output)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import talib

import tradewind.indicators as ind
from tradewind.errors import ConfigError
from tradewind.indicators import core

Bars = dict[str, np.ndarray]
NAN = np.nan


def _t(x: object) -> tuple[np.ndarray, ...]:
    return tuple(x) if isinstance(x, tuple | list) else (x,)  # type: ignore[arg-type]


# name -> (call on bars, warm-up length: index of the first non-NaN value of output 0)
FUNCS: dict[str, tuple[Callable[[Bars], tuple[np.ndarray, ...]], int]] = {
    "sma": (lambda d: _t(ind.sma(d["c"], 10)), 9),
    "ema": (lambda d: _t(ind.ema(d["c"], 10)), 9),
    "wma": (lambda d: _t(ind.wma(d["c"], 10)), 9),
    "dema": (lambda d: _t(ind.dema(d["c"], 10)), 18),
    "tema": (lambda d: _t(ind.tema(d["c"], 10)), 27),
    "kama": (lambda d: _t(ind.kama(d["c"], 10)), 10),
    "hma": (lambda d: _t(ind.hma(d["c"], 9)), 10),
    "rsi": (lambda d: _t(ind.rsi(d["c"], 14)), 14),
    "macd": (lambda d: ind.macd(d["c"], 12, 26, 9), 33),
    "stoch": (lambda d: ind.stoch(d["h"], d["l"], d["c"]), 8),
    "stochrsi": (lambda d: ind.stochrsi(d["c"]), 20),
    "cci": (lambda d: _t(ind.cci(d["h"], d["l"], d["c"])), 13),
    "adx": (lambda d: _t(ind.adx(d["h"], d["l"], d["c"])), 27),
    "plus_di": (lambda d: _t(ind.plus_di(d["h"], d["l"], d["c"])), 14),
    "minus_di": (lambda d: _t(ind.minus_di(d["h"], d["l"], d["c"])), 14),
    "atr": (lambda d: _t(ind.atr(d["h"], d["l"], d["c"])), 14),
    "natr": (lambda d: _t(ind.natr(d["h"], d["l"], d["c"])), 14),
    "bbands": (lambda d: ind.bbands(d["c"]), 19),
    "keltner": (lambda d: ind.keltner(d["h"], d["l"], d["c"]), 19),
    "donchian": (lambda d: ind.donchian(d["h"], d["l"]), 19),
    "obv": (lambda d: _t(ind.obv(d["c"], d["v"])), 0),
    "vwap": (lambda d: _t(ind.vwap(d["h"], d["l"], d["c"], d["v"], d["ts"])), 0),
    "mfi": (lambda d: _t(ind.mfi(d["h"], d["l"], d["c"], d["v"])), 14),
    "roc": (lambda d: _t(ind.roc(d["c"])), 10),
    "willr": (lambda d: _t(ind.willr(d["h"], d["l"], d["c"])), 13),
    "ichimoku": (lambda d: tuple(ind.ichimoku(d["h"], d["l"], d["c"])), 8),
    "supertrend": (lambda d: ind.supertrend(d["h"], d["l"], d["c"]), 10),
    "sar": (lambda d: _t(ind.sar(d["h"], d["l"])), 1),
    "stddev": (lambda d: _t(ind.stddev(d["c"], 10)), 9),
    "zscore": (lambda d: _t(ind.zscore(d["c"], 10)), 9),
    "rolling_beta": (lambda d: _t(ind.rolling_beta(d["c"], d["o"], 10)), 9),
    "rolling_corr": (lambda d: _t(ind.rolling_corr(d["c"], d["o"], 10)), 9),
    "spread": (lambda d: _t(ind.spread(d["c"], d["o"], 0.5)), 0),
    "pattern": (lambda d: _t(ind.pattern("engulfing", d["o"], d["h"], d["l"], d["c"])), 0),
}


def walk(n: int, seed: int = 5) -> Bars:
    rng = np.random.default_rng(seed)
    c = 100.0 + np.cumsum(rng.normal(0, 1, n))
    o = np.concatenate(([100.0], c[:-1]))[:n]
    ts = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC").as_unit("ns").asi8
    return {
        "o": o,
        "h": np.maximum(o, c) + rng.uniform(0, 1, n),
        "l": np.minimum(o, c) - rng.uniform(0, 1, n),
        "c": c,
        "v": rng.uniform(1, 100, n),
        "ts": ts,
    }


def constant(n: int, price: float = 50.0) -> Bars:
    d = walk(n)
    for k in "ohlc":
        d[k] = np.full(n, price)
    return d


def test_every_public_function_is_covered() -> None:
    callables = {n for n in ind.__all__ if callable(getattr(ind, n)) and n not in {"Ichimoku"}}
    covered = set(FUNCS) | {"all_patterns", "simple_returns"}
    assert callables <= covered, callables - covered


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_empty_input_gives_empty_float_output(name: str) -> None:
    outs = FUNCS[name][0](walk(0))
    assert outs
    for o in outs:
        assert o.dtype == np.float64 and o.shape == (0,)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_warmup_and_short_series(name: str) -> None:
    call, warm = FUNCS[name]
    full = call(walk(300))
    first = int(np.flatnonzero(~np.isnan(full[0]))[0])
    assert first == warm  # the documented warm-up
    if warm > 0:  # a series shorter than the warm-up is all NaN, no error
        short = call(walk(warm))
        assert all(o.shape == (warm,) for o in short)
        assert np.isnan(short[0]).all()  # (ichimoku's chikou is the close itself)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_causal_prefix(name: str) -> None:
    call = FUNCS[name][0]
    d = walk(400, seed=9)
    full = call(d)
    for k in (1, 37, 150, 399):
        part = call({key: v[:k] for key, v in d.items()})
        for p, f in zip(part, full, strict=True):
            np.testing.assert_allclose(p, f[:k], rtol=0, atol=1e-12, equal_nan=True)


def test_constant_prices_match_talib_conventions() -> None:
    # TA-Lib's behaviour on a flat market, which we keep (and document): no NaN, no inf.
    d = constant(100)
    h, lo, c, v = d["h"], d["l"], d["c"], d["v"]
    assert (ind.rsi(c)[14:] == 0).all()  # no gains and no losses: TA-Lib gives 0, not 50
    k, dd = ind.stoch(h, lo, c)
    assert (k[8:] == 0).all() and (dd[8:] == 0).all()  # zero range: 0
    assert (ind.stochrsi(c)[0][20:] == 0).all()
    assert (ind.willr(h, lo, c)[13:] == 0).all()
    assert (ind.cci(h, lo, c)[13:] == 0).all()
    assert (ind.adx(h, lo, c)[27:] == 0).all()
    assert (ind.atr(h, lo, c)[14:] == 0).all()
    assert (ind.mfi(h, lo, c, v)[14:] == 0).all()
    assert (ind.zscore(c, 10)[9:] == 0).all()  # zero std: 0 by definition here
    assert (ind.rolling_corr(c, c, 10)[9:] == 0).all()  # TA-Lib CORREL: 0
    assert (ind.rolling_beta(c, c, 10)[9:] == 0).all()  # zero benchmark variance: 0
    up, mid, low = ind.bbands(c)
    np.testing.assert_allclose(mid[19:], 50.0, atol=1e-9)
    np.testing.assert_allclose(up[19:], 50.0, atol=1e-9)
    np.testing.assert_allclose(low[19:], 50.0, atol=1e-9)
    line, direction = ind.supertrend(h, lo, c)
    assert (line[10:] == 50.0).all() and (direction[10:] == 1).all()  # bands collapse on hl2
    np.testing.assert_allclose(ind.vwap(h, lo, c, v, d["ts"]), 50.0, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_nan_gap_restarts_instead_of_spreading(name: str) -> None:
    call = FUNCS[name][0]
    d = walk(300, seed=2)
    gap = 120
    gapped = {k: v.copy() for k, v in d.items()}
    for k in "ohlcv":
        gapped[k][gap] = NAN
    outs = call(gapped)
    before = call({k: v[:gap] for k, v in d.items()})
    after = call({k: v[gap + 1 :] for k, v in d.items()})
    for o, b, a in zip(outs, before, after, strict=True):
        np.testing.assert_allclose(o[:gap], b, rtol=0, atol=1e-9, equal_nan=True)
        if name not in ("pattern",):
            assert np.isnan(o[gap])
        tail = o[gap + 1 :]
        assert not np.isnan(tail[-1])  # one NaN does not poison the rest of the series
        if name in ("vwap", "obv", "pattern", "spread"):
            continue  # session/cumulative: checked separately below
        np.testing.assert_allclose(tail, a, rtol=0, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("field", ["o", "h", "l", "c", "v"])
def test_nan_in_a_single_input_is_a_gap_too(name: str, field: str) -> None:
    # TA-Lib treats a lone NaN differently per input (ATR ignores a NaN close, CCI/STOCH may
    # skip one): whatever the input, the bar is a gap and the indicator restarts after it.
    call = FUNCS[name][0]
    d = walk(300, seed=4)
    base = call(d)
    bumped = call({**d, field: d[field] + 1.0})
    # outputs that read this input (e.g. keltner's middle line does not read high)
    reads = [not np.array_equal(b, x, equal_nan=True) for b, x in zip(base, bumped, strict=True)]
    for gap in (100, 299):
        gapped = dict(d)
        gapped[field] = d[field].copy()
        gapped[field][gap] = NAN
        outs = call(gapped)
        after = call({k: v[gap + 1 :] for k, v in d.items()})
        for o, a, r in zip(outs, after, reads, strict=True):
            if not r:
                continue
            if name != "pattern":
                assert np.isnan(o[gap]) or name in ("vwap", "ichimoku", "obv", "sar", "spread")
            # keltner: a high/low gap restarts the ATR, not the EMA of close (which never saw it)
            partial = name == "keltner" and field in "hl"
            if name not in ("vwap", "obv", "pattern", "spread") and gap < 299 and not partial:
                np.testing.assert_allclose(o[gap + 1 :], a, rtol=0, atol=1e-9, equal_nan=True)


def test_nan_gap_vwap_skips_the_bar_and_obv_restarts() -> None:
    ts = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC").as_unit("ns").asi8
    px = np.array([10.0, NAN, 20.0, 30.0])
    vol = np.array([1.0, 5.0, 1.0, 2.0])
    # the NaN bar is left out: 10; NaN; (10 + 20)/2 = 15; (10 + 20 + 60)/4 = 22.5
    np.testing.assert_allclose(ind.vwap(px, px, px, vol, ts), [10, NAN, 15, 22.5], equal_nan=True)
    # OBV restarts after the gap at the next volume: 1, NaN, 1, 1 + 2 (close rose) = 3
    np.testing.assert_allclose(ind.obv(px, vol), [1, NAN, 1, 3], equal_nan=True)


def test_leading_nan_is_skipped_like_talib() -> None:
    x = np.concatenate(([NAN] * 5, walk(100)["c"]))
    np.testing.assert_allclose(ind.ema(x, 10), talib.EMA(x, 10), equal_nan=True, atol=1e-12)
    np.testing.assert_allclose(ind.sma(x, 10), talib.SMA(x, 10), equal_nan=True, atol=1e-9)
    np.testing.assert_allclose(ind.rsi(x, 14), talib.RSI(x, 14), equal_nan=True, atol=1e-12)
    assert np.isnan(ind.sma(np.full(30, NAN), 5)).all()  # all-NaN input: all NaN, no error


def test_period_one_keeps_old_semantics() -> None:
    x = np.array([1.0, 3.0, 2.0, 2.0])
    np.testing.assert_array_equal(ind.sma(x, 1), x)
    np.testing.assert_array_equal(ind.ema(x, 1), x)
    # RSI(1): 100 after a rise, 0 after a fall or no change
    np.testing.assert_array_equal(ind.rsi(x, 1), [NAN, 100, 0, 0])
    up, lo = ind.donchian(x, x, 1)
    np.testing.assert_array_equal(up, x)
    np.testing.assert_array_equal(lo, x)
    np.testing.assert_array_equal(ind.stddev(x, 1), [0, 0, 0, 0])


def test_core_module_still_exports_the_original_functions() -> None:
    for name in core.__all__:
        assert getattr(core, name) is getattr(ind, name)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ind.sma([1.0, 2.0], 0), "period must be an int >= 1, got 0"),
        (lambda: ind.ema([1.0, 2.0], -3), "period must be an int >= 1"),
        (lambda: ind.rsi([1.0, 2.0], 2.5), "period must be an int"),  # type: ignore[arg-type]
        (lambda: ind.wma([1.0, 2.0], True), "period must be an int"),  # type: ignore[arg-type]
        (lambda: ind.dema([1.0, 2.0], 1), "period must be an int >= 2"),
        (lambda: ind.macd([1.0] * 50, 26, 12), "fast period (26) must be below slow (12)"),
        (lambda: ind.macd([1.0] * 50, 12, 12), "must be below slow"),
        (lambda: ind.atr([1.0, 2.0], [1.0], [1.0, 2.0]), "same length, got high=2, low=1"),
        (lambda: ind.spread([1.0, 2.0], [1.0]), "same length"),
        (lambda: ind.rolling_beta([1.0], [1.0, 2.0], 2), "same length"),
        (lambda: ind.keltner([1.0], [1.0], [1.0], multiplier=0), "multiplier must be a positive"),
        (lambda: ind.supertrend([1.0], [1.0], [1.0], multiplier=-1), "multiplier must be"),
        (lambda: ind.bbands([1.0], k=float("nan")), "k must be a positive finite number"),
        (lambda: ind.sar([1.0], [1.0], acceleration=0), "acceleration must be a positive"),
        (lambda: ind.vwap([1.0], [1.0], [1.0], [1.0], [0], session="day"), "vwap session"),
        (lambda: ind.vwap([1.0], [1.0], [1.0], [1.0], [0, 1]), "same length"),
        (lambda: ind.pattern("nosuch", [1.0], [1.0], [1.0], [1.0]), "unknown candlestick"),
        (lambda: ind.sma(np.ones((2, 2)), 2), "1-D"),
    ],
)
def test_bad_parameters_raise_config_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
