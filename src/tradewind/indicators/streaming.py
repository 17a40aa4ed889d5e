"""Streaming indicators: O(1) ``update`` per bar, the form live trading uses.

Each class takes the same parameters as the vectorized function of the same name and has
``update(x)`` -> the current value (``nan`` during warm-up; a tuple for multi-output
indicators), plus ``.value`` (last result) and ``.ready`` (warm-up over). ``x`` is a float or
anything with a ``.close`` (e.g. :class:`tradewind.model.Bar`) for price indicators; OHLC
indicators need an object with ``.high/.low/.close`` (and ``.volume`` for OBV/MFI).

Warm-up, seeding and edge conventions follow TA-Lib (EMA seeded with the SMA of the first
``period`` values, Wilder smoothing for RSI/ATR/ADX, TA-Lib's MACD fast-EMA alignment, 0 on
flat windows), so a stream fed bar by bar equals TA-Lib over the same bars to 1e-9. Per update
everything is plain Python arithmetic on ring buffers and running sums; nothing grows with the
number of updates. Window sums (SMA, WMA, BBANDS, z-score, MFI) are re-summed exactly
(``math.fsum``) each time their ring wraps (amortised O(1)), and BBANDS/z-score/WMA keep them
relative to a recent reference price, so they neither drift over millions of updates nor lose
digits to cancellation on large prices.

Exceptions to strict O(1): Donchian/Stochastic/Williams %R use monotonic deques (amortised
O(1)); CCI's mean absolute deviation is inherently O(period), as in TA-Lib.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

from tradewind.errors import ConfigError

__all__ = [
    "ADX",
    "ATR",
    "BBANDS",
    "CCI",
    "DEMA",
    "EMA",
    "KAMA",
    "MACD",
    "MFI",
    "NATR",
    "OBV",
    "ROC",
    "RSI",
    "SMA",
    "STOCH",
    "TEMA",
    "WILLR",
    "WMA",
    "Donchian",
    "ZScore",
]

_NAN = math.nan


class HasClose(Protocol):
    """Anything with a closing price (e.g. ``tradewind.model.Bar``)."""

    @property
    def close(self) -> float: ...


class HasHLC(Protocol):
    """Anything with high, low and close prices."""

    @property
    def high(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def close(self) -> float: ...


class HasHLCV(HasHLC, Protocol):
    """An OHLC bar with volume."""

    @property
    def volume(self) -> float: ...


PriceLike = float | HasClose


def _period(value: object, name: str = "period", minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _price(x: PriceLike) -> float:
    """The price of ``x``: its ``.close`` if it has one, else ``float(x)``."""
    c = getattr(x, "close", None)
    if c is not None:
        return float(c)
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"expected a number or a bar with .close, got {type(x).__name__}") from None


def _hlc(bar: HasHLC, who: str) -> tuple[float, float, float]:
    try:
        return float(bar.high), float(bar.low), float(bar.close)
    except AttributeError:
        raise TypeError(
            f"{who}.update needs a bar with .high/.low/.close, got {type(bar).__name__}"
        ) from None


# --------------------------------------------------------------------------------- averages


class SMA:
    """Simple moving average of the last ``period`` prices.

    The same bits as the vectorized ``sma``, NaN gaps included: the same running sum,
    flat-window rule and re-sum every ``max(1024, 4·period)`` values. ``compensated=True``
    follows ``sma(..., compensated=True)``, i.e. pandas' Kahan-compensated ``rolling().mean()``.
    Live and backtest crosses of two averages therefore agree even at rounding-level ties.
    """

    __slots__ = (
        "_buf", "_comp_add", "_comp_remove", "_compensated", "_i", "_k", "_last", "_nans",
        "_negs", "_resync", "_run", "_sum", "period", "value",
    )  # fmt: skip

    def __init__(self, period: int, *, compensated: bool = False) -> None:
        self.period = _period(period)
        self._compensated = bool(compensated)
        self._buf = [_NAN] * self.period  # ring; _i is the oldest value's slot
        self._i = 0
        self._k = 0  # values seen
        self._sum = 0.0
        self._nans = 0  # NaNs in the window
        self._run = 0  # fast: equal neighbours in a row; compensated: equal values in a row
        self._resync = max(1024, 4 * self.period)
        self._comp_add = 0.0
        self._comp_remove = 0.0
        self._negs = 0
        self._last = _NAN  # compensated: the newest non-NaN value
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._k >= self.period and self._nans == 0

    def update(self, x: PriceLike) -> float:
        if type(x) is not float:
            x = _price(x)
        if self._compensated:
            return self._update_compensated(x)
        p = self.period
        buf = self._buf
        i = self._i
        add = x
        if math.isnan(x):
            add = 0.0
            self._nans += 1
        self._run = self._run + 1 if x == buf[i - 1] else 0
        if self._k >= p:
            y = buf[i]
            if not math.isnan(y):
                add = add - y
            else:
                self._nans -= 1
        self._sum += add
        buf[i] = x
        i = self._i = i + 1 if i + 1 < p else 0
        k = self._k = self._k + 1
        if k < p or self._nans:
            v = _NAN
        elif self._run >= p - 1:
            v = x
        else:
            v = self._sum / p
        if k > p and (k - p) % self._resync == 0:  # re-sum the window, as the kernel does
            total = 0.0
            for j in range(p):
                y = buf[(i + j) % p]
                if not math.isnan(y):
                    total += y
            self._sum = total
        self.value = v
        return v

    def _update_compensated(self, x: float) -> float:
        p = self.period
        buf = self._buf
        i = self._i
        if self._k >= p:
            y = buf[i]
            if not math.isnan(y):
                d = -y - self._comp_remove
                t = self._sum + d
                self._comp_remove = t - self._sum - d
                self._sum = t
                if math.copysign(1.0, y) < 0.0:
                    self._negs -= 1
            else:
                self._nans -= 1
        if not math.isnan(x):
            d = x - self._comp_add
            t = self._sum + d
            self._comp_add = t - self._sum - d
            self._sum = t
            if math.copysign(1.0, x) < 0.0:
                self._negs += 1
            self._run = self._run + 1 if x == self._last else 1
            self._last = x
        else:
            self._nans += 1
        buf[i] = x
        self._i = i + 1 if i + 1 < p else 0
        self._k += 1
        nobs = min(self._k, p) - self._nans
        v = _NAN
        if nobs >= p:
            v = self._sum / nobs
            if self._run >= nobs:
                v = self._last
            elif (self._negs == 0 and v < 0.0) or (self._negs == nobs and v > 0.0):
                v = 0.0  # a one-signed window keeps its sign (pandas' guard)
        self.value = v
        return v


class EMA:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the first SMA."""

    __slots__ = ("_k", "_n", "_sum", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = _period(period)
        self._k = 2.0 / (self.period + 1)
        self._n = 0
        self._sum = 0.0
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n >= self.period

    def update(self, x: PriceLike) -> float:
        if type(x) is not float:
            x = _price(x)
        if self._n >= self.period:
            prev = self.value
            v = self.value = (x - prev) * self._k + prev
            return v
        self._n += 1
        self._sum += x
        if self._n == self.period:
            self.value = self._sum / self.period
        return self.value


class WMA:
    """Linearly weighted moving average (weights 1..period, newest heaviest).

    Running sums are kept relative to a reference price and re-summed exactly each time the
    ring wraps, so they neither drift nor cancel (amortised O(1)).
    """

    __slots__ = ("_buf", "_div", "_i", "_n", "_ref", "_sub", "_sum", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = _period(period)
        self._div = float((self.period * (self.period + 1)) // 2)
        self._buf = [0.0] * self.period
        self._i = 0
        self._n = 0
        self._ref = 0.0
        self._sub = 0.0  # sum of (x - ref) over the window
        self._sum = 0.0  # weighted sum of (x - ref)
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n >= self.period

    def update(self, x: PriceLike) -> float:
        if type(x) is not float:
            x = _price(x)
        p = self.period
        if p == 1:
            self._n = 1
            self.value = x
            return x
        buf = self._buf
        i = self._i
        if self._n == 0:
            self._ref = x
        ref = self._ref
        d = x - ref
        if self._n >= p:
            s = self._sum - self._sub + p * d
            sub = self._sub + d - (buf[i] - ref)
        else:
            self._n += 1
            s = self._sum + self._n * d
            sub = self._sub + d
        buf[i] = x
        i += 1
        if i == p:
            i = 0
            ref = self._ref = math.fsum(buf) / p
            devs = [b - ref for b in buf]
            sub = math.fsum(devs)
            s = math.fsum([(j + 1) * e for j, e in enumerate(devs)])
        self._i = i
        self._sub = sub
        self._sum = s
        if self._n < p:
            return _NAN
        v = self.value = ref + s / self._div
        return v


class DEMA:
    """Double EMA: 2·EMA(x) − EMA(EMA(x))."""

    __slots__ = ("_e1", "_e2", "period", "value")

    def __init__(self, period: int = 30) -> None:
        self.period = _period(period)
        self._e1 = EMA(self.period)
        self._e2 = EMA(self.period)
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._e2.ready

    def update(self, x: PriceLike) -> float:
        e1 = self._e1.update(x)
        if math.isnan(e1):
            return _NAN
        e2 = self._e2.update(e1)
        if not math.isnan(e2):
            self.value = 2.0 * e1 - e2
        return self.value


class TEMA:
    """Triple EMA: 3·e1 − 3·e2 + e3 with e2 = EMA(e1), e3 = EMA(e2)."""

    __slots__ = ("_e1", "_e2", "_e3", "period", "value")

    def __init__(self, period: int = 30) -> None:
        self.period = _period(period)
        self._e1 = EMA(self.period)
        self._e2 = EMA(self.period)
        self._e3 = EMA(self.period)
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._e3.ready

    def update(self, x: PriceLike) -> float:
        e1 = self._e1.update(x)
        if math.isnan(e1):
            return _NAN
        e2 = self._e2.update(e1)
        if math.isnan(e2):
            return _NAN
        e3 = self._e3.update(e2)
        if not math.isnan(e3):
            self.value = 3.0 * e1 - 3.0 * e2 + e3
        return self.value


# ------------------------------------------------------------------------------ oscillators


class RSI:
    """Wilder's relative strength index (0-100); first value after ``period`` price changes."""

    __slots__ = ("_gain", "_loss", "_n", "_prev", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period, minimum=2)
        self._n = -1  # number of price changes seen (-1: no price yet)
        self._prev = 0.0
        self._gain = 0.0
        self._loss = 0.0
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n >= self.period

    def update(self, x: PriceLike) -> float:
        if type(x) is not float:
            x = _price(x)
        d = x - self._prev
        self._prev = x
        p = self.period
        if self._n >= p:
            gain = self._gain * (p - 1)
            loss = self._loss * (p - 1)
            if d < 0:
                loss -= d
            else:
                gain += d
            gain /= p
            loss /= p
        else:
            self._n += 1
            if self._n == 0:
                return _NAN
            if d < 0:
                self._loss -= d
            else:
                self._gain += d
            if self._n < p:
                return _NAN
            gain = self._gain / p
            loss = self._loss / p
        self._gain = gain
        self._loss = loss
        s = gain + loss
        v = self.value = 100.0 * (gain / s) if s != 0.0 else 0.0
        return v


class MACD:
    """MACD (line, signal, histogram), TA-Lib style: all three appear together once the signal
    EMA is seeded, and the fast EMA is seeded on the ``fast`` prices ending where the slow EMA
    is seeded (TA-Lib's alignment), so values equal ``talib.MACD`` from the first output.
    """

    __slots__ = (
        "_kf",
        "_ks",
        "_n",
        "_sf",
        "_sig",
        "_ss",
        "fast",
        "signal",
        "slow",
        "value",
    )

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        self.fast = _period(fast, "fast")
        self.slow = _period(slow, "slow")
        self.signal = _period(signal, "signal")
        if self.fast >= self.slow:
            raise ConfigError(f"fast ({fast}) must be below slow ({slow})")
        self._kf = 2.0 / (self.fast + 1)
        self._ks = 2.0 / (self.slow + 1)
        self._n = 0
        self._sf = 0.0  # fast EMA (sum during warm-up)
        self._ss = 0.0  # slow EMA (sum during warm-up)
        self._sig = EMA(self.signal)
        self.value: tuple[float, float, float] = (_NAN, _NAN, _NAN)

    @property
    def ready(self) -> bool:
        return self._sig.ready

    def update(self, x: PriceLike) -> tuple[float, float, float]:
        if type(x) is not float:
            x = _price(x)
        slow = self.slow
        if self._n >= slow:
            sf = self._sf
            ss = self._ss
            sf = self._sf = (x - sf) * self._kf + sf
            ss = self._ss = (x - ss) * self._ks + ss
        else:
            self._n += 1
            self._ss += x
            if self._n > slow - self.fast:
                self._sf += x
            if self._n < slow:
                return self.value
            sf = self._sf = self._sf / self.fast
            ss = self._ss = self._ss / slow
        line = sf - ss
        sig = self._sig.update(line)
        if math.isnan(sig):
            return self.value
        v = self.value = (line, sig, line - sig)
        return v


class ROC:
    """Rate of change in percent: 100 × (x / x[t − period] − 1); 0 when x[t − period] is 0."""

    __slots__ = ("_buf", "_i", "_n", "period", "value")

    def __init__(self, period: int = 10) -> None:
        self.period = _period(period)
        self._buf = [0.0] * self.period
        self._i = 0
        self._n = 0
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n > self.period

    def update(self, x: PriceLike) -> float:
        if type(x) is not float:
            x = _price(x)
        buf = self._buf
        i = self._i
        old = buf[i]
        buf[i] = x
        self._i = 0 if i + 1 == self.period else i + 1
        if self._n < self.period:
            self._n += 1
            return _NAN
        self._n = self.period + 1
        v = self.value = (x / old - 1.0) * 100.0 if old != 0.0 else 0.0
        return v


class BBANDS:
    """Bollinger Bands (upper, middle, lower) = SMA ± k × population std over ``period``.

    Moments are kept relative to a reference price re-centred (with an exact re-sum) each time
    the ring wraps: no drift and no catastrophic cancellation on large prices.
    """

    __slots__ = ("_m", "k", "period", "value")

    def __init__(self, period: int = 20, k: float = 2.0) -> None:
        self.period = _period(period, minimum=2)
        self.k = _number(k, "k")
        self._m = _Moments(self.period)
        self.value: tuple[float, float, float] = (_NAN, _NAN, _NAN)

    @property
    def ready(self) -> bool:
        return self._m.n >= self.period

    def update(self, x: PriceLike) -> tuple[float, float, float]:
        if type(x) is not float:
            x = _price(x)
        m = self._m
        m.push(x)
        if m.n < self.period:
            return self.value
        mean = m.s1 / self.period
        var = m.s2 / self.period - mean * mean
        mid = m.ref + mean
        dev = math.sqrt(var) * self.k if (var > 0.0 and m.run < self.period) else 0.0
        v = self.value = (mid + dev, mid, mid - dev)
        return v


class _Moments:
    """Window sums of (x − ref) and (x − ref)² with ``ref`` re-centred at every wrap."""

    __slots__ = ("_buf", "_i", "n", "period", "ref", "run", "s1", "s2")

    def __init__(self, period: int) -> None:
        self.period = period
        self.run = 0  # how many of the latest values are equal: >= period means a flat window
        self._buf = [0.0] * period
        self._i = 0
        self.n = 0
        self.ref = 0.0
        self.s1 = 0.0
        self.s2 = 0.0

    def push(self, x: float) -> None:
        p = self.period
        buf = self._buf
        i = self._i
        if self.n == 0:
            self.ref = x
        self.run = self.run + 1 if x == buf[i - 1] else 1
        ref = self.ref
        d = x - ref
        if self.n >= p:
            o = buf[i] - ref
            s1 = self.s1 + d - o
            s2 = self.s2 + d * d - o * o
        else:
            self.n += 1
            s1 = self.s1 + d
            s2 = self.s2 + d * d
        buf[i] = x
        i += 1
        if i == p:
            i = 0
            ref = self.ref = math.fsum(buf) / p
            devs = [b - ref for b in buf]
            s1 = math.fsum(devs)
            s2 = math.fsum([e * e for e in devs])
        self._i = i
        self.s1 = s1
        self.s2 = s2


class ZScore:
    """Rolling z-score (x − mean) / population std over the last ``period`` prices; 0.0 when
    the window is flat (std 0). Same drift-free moments as :class:`BBANDS`."""

    __slots__ = ("_m", "period", "value")

    def __init__(self, period: int = 20) -> None:
        self.period = _period(period, minimum=2)
        self._m = _Moments(self.period)
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._m.n >= self.period

    def update(self, x: PriceLike) -> float:
        if type(x) is not float:
            x = _price(x)
        m = self._m
        m.push(x)
        if m.n < self.period:
            return _NAN
        mean = m.s1 / self.period
        var = m.s2 / self.period - mean * mean
        flat = var <= 0.0 or m.run >= self.period
        v = self.value = 0.0 if flat else ((x - m.ref) - mean) / math.sqrt(var)
        return v


# ----------------------------------------------------------------------------- OHLC based


def _true_range(h: float, lo: float, pc: float) -> float:
    tr = h - lo
    a = abs(pc - h)
    tr = max(tr, a)
    b = abs(pc - lo)
    tr = max(tr, b)
    return tr


class ATR:
    """Average true range with Wilder smoothing, seeded with the mean of the first ``period``
    true ranges (the first bar has none), as TA-Lib: first value at bar index ``period``."""

    __slots__ = ("_n", "_pc", "_sum", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period)
        self._n = -1  # true ranges seen (-1: no bar yet)
        self._pc = 0.0
        self._sum = 0.0
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n >= self.period

    def update(self, bar: HasHLC) -> float:
        try:
            h = bar.high
            lo = bar.low
            c = bar.close
        except AttributeError:
            h, lo, c = _hlc(bar, "ATR")
        pc = self._pc
        self._pc = c
        tr = h - lo
        a = pc - h
        if a < 0.0:
            a = -a
        tr = max(tr, a)
        a = pc - lo
        if a < 0.0:
            a = -a
        tr = max(tr, a)
        p = self.period
        if self._n >= p:
            v = self.value = (self.value * (p - 1) + tr) / p
            return v
        self._n += 1
        if self._n == 0:
            return _NAN
        self._sum += tr
        if self._n == p:
            self.value = self._sum / p
        return self.value


class NATR:
    """Normalized ATR: 100 × ATR / close (0 when close is 0)."""

    __slots__ = ("_atr", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period)
        self._atr = ATR(self.period)
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._atr.ready

    def update(self, bar: HasHLC) -> float:
        a = self._atr.update(bar)
        if math.isnan(a):
            return _NAN
        c = float(bar.close)
        v = self.value = (a / c) * 100.0 if c != 0.0 else 0.0
        return v


class _Extremes:
    """Rolling max and min over the last ``period`` values (monotonic deques, amortised O(1))."""

    __slots__ = ("_hi", "_lo", "_t", "period")

    def __init__(self, period: int) -> None:
        self.period = period
        self._t = 0
        self._hi: deque[tuple[int, float]] = deque()
        self._lo: deque[tuple[int, float]] = deque()

    def push(self, high: float, low: float) -> tuple[float, float]:
        t = self._t
        self._t = t + 1
        start = t - self.period + 1
        hi = self._hi
        while hi and hi[-1][1] <= high:
            hi.pop()
        hi.append((t, high))
        if hi[0][0] < start:
            hi.popleft()
        lo = self._lo
        while lo and lo[-1][1] >= low:
            lo.pop()
        lo.append((t, low))
        if lo[0][0] < start:
            lo.popleft()
        return hi[0][1], lo[0][1]

    @property
    def full(self) -> bool:
        return self._t >= self.period


class Donchian:
    """Donchian channel (highest high, lowest low) over ``period`` bars including this one."""

    __slots__ = ("_ext", "period", "value")

    def __init__(self, period: int = 20) -> None:
        self.period = _period(period)
        self._ext = _Extremes(self.period)
        self.value: tuple[float, float] = (_NAN, _NAN)

    @property
    def ready(self) -> bool:
        return self._ext.full

    def update(self, bar: HasHLC | float) -> tuple[float, float]:
        if isinstance(bar, int | float):
            h = lo = float(bar)
        else:
            h = float(bar.high)
            lo = float(bar.low)
        hl = self._ext.push(h, lo)
        if self._ext.full:
            self.value = hl
        return self.value


class WILLR:
    """Williams %R: −100 × (highest high − close) / (highest high − lowest low); 0 on a flat
    window."""

    __slots__ = ("_ext", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period, minimum=2)
        self._ext = _Extremes(self.period)
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._ext.full

    def update(self, bar: HasHLC) -> float:
        h, lo, c = _hlc(bar, "WILLR")
        hh, ll = self._ext.push(h, lo)
        if not self._ext.full:
            return _NAN
        diff = (hh - ll) / -100.0
        v = self.value = (hh - c) / diff if diff != 0.0 else 0.0
        return v


class _RollMean:
    """Running-sum SMA in TA-Lib's order (for short internal smoothings)."""

    __slots__ = ("_buf", "_i", "_n", "_sum", "period")

    def __init__(self, period: int) -> None:
        self.period = period
        self._buf = [0.0] * period
        self._i = 0
        self._n = 0
        self._sum = 0.0

    def push(self, x: float) -> float:
        i = self._i
        s = self._sum = self._sum + x - self._buf[i]
        self._buf[i] = x
        self._i = 0 if i + 1 == self.period else i + 1
        if self._n < self.period:
            self._n += 1
            if self._n < self.period:
                return _NAN
        return s / self.period


class STOCH:
    """Slow stochastic (slowk, slowd) as ``talib.STOCH`` with SMA smoothing: fast %K over
    ``fastk_period`` bars, slow %K = SMA(fast %K, ``slowk_period``), slow %D = SMA(slow %K,
    ``slowd_period``); both appear together. Fast %K is 0 on a flat window."""

    __slots__ = ("_d", "_ext", "_k", "fastk_period", "slowd_period", "slowk_period", "value")

    def __init__(self, fastk_period: int = 5, slowk_period: int = 3, slowd_period: int = 3) -> None:
        self.fastk_period = _period(fastk_period, "fastk_period")
        self.slowk_period = _period(slowk_period, "slowk_period")
        self.slowd_period = _period(slowd_period, "slowd_period")
        self._ext = _Extremes(self.fastk_period)
        self._k = _RollMean(self.slowk_period)
        self._d = _RollMean(self.slowd_period)
        self.value: tuple[float, float] = (_NAN, _NAN)

    @property
    def ready(self) -> bool:
        return not math.isnan(self.value[1])

    def update(self, bar: HasHLC) -> tuple[float, float]:
        h, lo, c = _hlc(bar, "STOCH")
        hh, ll = self._ext.push(h, lo)
        if not self._ext.full:
            return self.value
        diff = (hh - ll) / 100.0
        fk = (c - ll) / diff if diff != 0.0 else 0.0
        sk = self._k.push(fk)
        if math.isnan(sk):
            return self.value
        sd = self._d.push(sk)
        if math.isnan(sd):
            return self.value
        v = self.value = (sk, sd)
        return v


class CCI:
    """Commodity channel index over typical prices (h + l + c) / 3; 0 when the price equals its
    mean or the mean deviation is 0. O(period) per update (mean absolute deviation)."""

    __slots__ = ("_buf", "_i", "_n", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period, minimum=2)
        self._buf = [0.0] * self.period
        self._i = 0
        self._n = 0
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n >= self.period

    def update(self, bar: HasHLC) -> float:
        h, lo, c = _hlc(bar, "CCI")
        tp = (h + lo + c) / 3.0
        buf = self._buf
        i = self._i
        buf[i] = tp
        self._i = 0 if i + 1 == self.period else i + 1
        if self._n < self.period:
            self._n += 1
            if self._n < self.period:
                return _NAN
        p = self.period
        avg = 0.0
        for b in buf:
            avg += b
        avg /= p
        dev = 0.0
        for b in buf:
            dev += abs(b - avg)
        t = tp - avg
        # TA-Lib treats |x| < 1e-8 as zero here (flat windows give 0, not rounding noise)
        flat = -1e-8 < t < 1e-8 or dev < 1e-8
        v = self.value = 0.0 if flat else t / (0.015 * (dev / p))
        return v


class OBV:
    """On-balance volume: starts at the first bar's volume; adds the volume on an up close,
    subtracts it on a down close."""

    __slots__ = ("_n", "_pc", "value")

    def __init__(self) -> None:
        self._n = 0
        self._pc = 0.0
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n > 0

    def update(self, bar: HasHLCV) -> float:
        try:
            c = float(bar.close)
            vol = float(bar.volume)
        except AttributeError:
            raise TypeError(
                f"OBV.update needs a bar with .close/.volume, got {type(bar).__name__}"
            ) from None
        if self._n == 0:
            self._n = 1
            self.value = vol
        elif c > self._pc:
            self.value += vol
        elif c < self._pc:
            self.value -= vol
        self._pc = c
        return self.value


class ADX:
    """Average directional index with Wilder smoothing, as ``talib.ADX``; ``plus_di`` and
    ``minus_di`` (``talib.PLUS_DI``/``MINUS_DI``, from bar index ``period``) and ``dx`` are
    attributes updated on every bar. ADX appears at bar index 2·period − 1."""

    __slots__ = (
        "_mdm",
        "_n",
        "_pc",
        "_pdm",
        "_ph",
        "_pl",
        "_sumdx",
        "_tr",
        "dx",
        "minus_di",
        "period",
        "plus_di",
        "value",
    )

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period, minimum=2)
        self._n = 0  # bars seen
        self._ph = self._pl = self._pc = 0.0
        self._pdm = self._mdm = self._tr = 0.0
        self._sumdx = 0.0
        self.plus_di = self.minus_di = self.dx = _NAN
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n >= 2 * self.period

    def update(self, bar: HasHLC) -> float:
        h, lo, c = _hlc(bar, "ADX")
        n = self._n
        self._n = n + 1
        p = self.period
        if n == 0:
            self._ph, self._pl, self._pc = h, lo, c
            return _NAN
        up = h - self._ph
        down = self._pl - lo
        tr = _true_range(h, lo, self._pc)
        self._ph, self._pl, self._pc = h, lo, c
        pdm = self._pdm
        mdm = self._mdm
        if n < p:  # raw sums over the first period - 1 changes
            if down > 0.0 and up < down:
                self._mdm = mdm + down
            elif up > 0.0 and up > down:
                self._pdm = pdm + up
            self._tr += tr
            return _NAN
        mdm -= mdm / p
        pdm -= pdm / p
        if down > 0.0 and up < down:
            mdm += down
        elif up > 0.0 and up > down:
            pdm += up
        trs = self._tr = self._tr - self._tr / p + tr
        self._pdm = pdm
        self._mdm = mdm
        dx = _NAN
        if trs != 0.0:
            mdi = 100.0 * (mdm / trs)
            pdi = 100.0 * (pdm / trs)
            s = mdi + pdi
            if s != 0.0:
                dx = 100.0 * (abs(mdi - pdi) / s)
        else:
            mdi = pdi = 0.0
        self.plus_di = pdi
        self.minus_di = mdi
        self.dx = dx
        if n < 2 * p - 1:
            if not math.isnan(dx):
                self._sumdx += dx
            return _NAN
        if n == 2 * p - 1:
            if not math.isnan(dx):
                self._sumdx += dx
            self.value = self._sumdx / p
        elif not math.isnan(dx):
            self.value = (self.value * (p - 1) + dx) / p
        return self.value


class MFI:
    """Money flow index over typical price × volume (0 when the window's total flow is < 1)."""

    __slots__ = ("_i", "_n", "_nbuf", "_neg", "_pbuf", "_pos", "_ptp", "period", "value")

    def __init__(self, period: int = 14) -> None:
        self.period = _period(period, minimum=2)
        self._pbuf = [0.0] * self.period
        self._nbuf = [0.0] * self.period
        self._i = 0
        self._n = 0  # bars seen
        self._ptp = 0.0
        self._pos = 0.0
        self._neg = 0.0
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n > self.period

    def update(self, bar: HasHLCV) -> float:
        h, lo, c = _hlc(bar, "MFI")
        tp = (h + lo + c) / 3.0
        n = self._n
        self._n = n + 1
        d = tp - self._ptp
        self._ptp = tp
        if n == 0:
            return _NAN
        flow = tp * float(bar.volume)
        i = self._i
        # like TA-Lib, a typical-price change within ±1e-8 (rounding noise) counts as no change
        pf = flow if d > 1e-8 else 0.0
        nf = flow if d < -1e-8 else 0.0
        pos = self._pos + pf - self._pbuf[i]
        neg = self._neg + nf - self._nbuf[i]
        self._pbuf[i] = pf
        self._nbuf[i] = nf
        i += 1
        if i == self.period:
            i = 0
            pos = math.fsum(self._pbuf)  # exact re-sum once per wrap: no drift
            neg = math.fsum(self._nbuf)
        self._i = i
        self._pos = pos
        self._neg = neg
        if n < self.period:
            return _NAN
        total = pos + neg
        v = self.value = 100.0 * (pos / total) if total >= 1.0 else 0.0
        return v


class KAMA:
    """Kaufman adaptive moving average (fast 2, slow 30), as ``talib.KAMA``: first value at
    bar index ``period``."""

    __slots__ = ("_buf", "_i", "_n", "_prev", "_sum", "period", "value")

    _SLOW = 2.0 / 31.0
    _DIFF = 2.0 / 3.0 - 2.0 / 31.0

    def __init__(self, period: int = 30) -> None:
        self.period = _period(period, minimum=2)
        self._buf = [0.0] * (self.period + 1)  # the last period + 1 prices
        self._i = 0
        self._n = 0
        self._prev = 0.0
        self._sum = 0.0  # sum of |x[t] - x[t-1]| over the last period changes
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n > self.period

    def update(self, x: PriceLike) -> float:
        if type(x) is not float:
            x = _price(x)
        buf = self._buf
        i = self._i
        n = self._n
        self._n = n + 1
        p = self.period
        oldest = buf[i]  # x[t - period - 1] once full
        buf[i] = x
        i += 1
        if i > p:
            i = 0
        self._i = i
        if n > 0:
            self._sum += abs(x - self._prev)
        self._prev = x
        if n < p:
            return _NAN
        if n > p:  # drop |x[t-p] - x[t-p-1]|
            self._sum -= abs(buf[i] - oldest)
        s = self._sum
        roc = x - buf[i]  # x[t] - x[t-period]
        er = 1.0 if (s <= roc or -1e-8 < s < 1e-8) else abs(roc / s)
        sc = er * self._DIFF + self._SLOW
        sc *= sc
        prev = buf[i - 2] if n == p else self.value
        v = self.value = (x - prev) * sc + prev
        return v
