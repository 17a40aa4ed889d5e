"""More streaming indicators: HMA, StochRSI, Keltner, VWAP, Ichimoku, Supertrend, SAR and the
two-input RollingBeta / RollingCorr.

Same conventions as :mod:`tradewind.indicators.streaming`: each class takes the parameters of
the vectorized function of the same name, ``update(...)`` returns the current value (``nan``
during warm-up; a tuple for multi-output indicators), ``.value`` holds the last result and
``.ready`` tells whether the warm-up is over. Price indicators take a float or anything with a
``.close``; OHLC indicators need ``.high/.low/.close`` (VWAP also ``.volume`` and ``.ts``, int64
ns). Fed bar by bar, each equals its vectorized function to 1e-9 (the TA-Lib based ones repeat
TA-Lib's arithmetic in the same order). Every update is O(1) (Ichimoku and StochRSI use
monotonic deques: amortised O(1)).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Protocol

import numpy as np
import talib
import talib.abstract

from tradewind.errors import ConfigError
from tradewind.indicators.patterns import _resolve as resolve_pattern
from tradewind.indicators.streaming import (
    ATR,
    EMA,
    RSI,
    WMA,
    HasHLC,
    PriceLike,
    _Extremes,
    _hlc,
    _period,
    _price,
    _RollMean,
)
from tradewind.indicators.volume import _session_ns

__all__ = [
    "HMA",
    "SAR",
    "VWAP",
    "Ichimoku",
    "Keltner",
    "Pattern",
    "RollingBeta",
    "RollingCorr",
    "StochRSI",
    "Supertrend",
]

_NAN = math.nan


class HasOHLC(HasHLC, Protocol):
    """An OHLC bar."""

    @property
    def open(self) -> float: ...


class HasHLCVT(HasHLC, Protocol):
    """An OHLC bar with volume and an int64-ns open timestamp ``ts``."""

    @property
    def volume(self) -> float: ...
    @property
    def ts(self) -> int: ...


def _positive(value: object, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _is_zero(v: float) -> bool:
    # TA-Lib's TA_IS_ZERO
    return -1e-8 < v < 1e-8


# --------------------------------------------------------------------------------- averages


class HMA:
    """Hull moving average: WMA(2·WMA(x, ⌊n/2⌋) − WMA(x, n), ⌊√n⌋); first value at bar
    (n − 1) + (⌊√n⌋ − 1)."""

    __slots__ = ("_full", "_half", "_out", "period", "value")

    def __init__(self, period: int) -> None:
        self.period = _period(period, minimum=2)
        self._half = WMA(self.period // 2)
        self._full = WMA(self.period)
        self._out = WMA(math.isqrt(self.period))
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._out.ready

    def update(self, x: PriceLike) -> float:
        if type(x) is not float:
            x = _price(x)
        h = self._half.update(x)
        f = self._full.update(x)
        if math.isnan(f):
            return _NAN
        v = self._out.update(2.0 * h - f)
        if not math.isnan(v):
            self.value = v
        return v


# ------------------------------------------------------------------------------ oscillators


class StochRSI:
    """Stochastic RSI (fastk, fastd) as ``talib.STOCHRSI``: RSI(``period``), fast %K over
    ``fastk_period`` RSI values (0 on a flat window), %D = SMA(%K, ``fastd_period``); both
    appear together."""

    __slots__ = ("_d", "_ext", "_rsi", "fastd_period", "fastk_period", "period", "value")

    def __init__(self, period: int = 14, fastk_period: int = 5, fastd_period: int = 3) -> None:
        self.period = _period(period, minimum=2)
        self.fastk_period = _period(fastk_period, "fastk_period")
        self.fastd_period = _period(fastd_period, "fastd_period")
        self._rsi = RSI(self.period)
        self._ext = _Extremes(self.fastk_period)
        self._d = _RollMean(self.fastd_period)
        self.value: tuple[float, float] = (_NAN, _NAN)

    @property
    def ready(self) -> bool:
        return not math.isnan(self.value[1])

    def update(self, x: PriceLike) -> tuple[float, float]:
        r = self._rsi.update(x)
        if math.isnan(r):
            return self.value
        hh, ll = self._ext.push(r, r)
        if not self._ext.full:
            return self.value
        diff = (hh - ll) / 100.0
        k = (r - ll) / diff if diff != 0.0 else 0.0
        d = self._d.push(k)
        if math.isnan(d):
            return self.value
        v = self.value = (k, d)
        return v


# ----------------------------------------------------------------------------- OHLC based


class Keltner:
    """Keltner Channels (upper, middle, lower): middle = EMA(close, ``period``), bands =
    middle ± ``multiplier`` × Wilder ATR(``atr_period``). As the vectorized ``keltner``, the
    middle appears as soon as the EMA is warm (bar ``period − 1``), the bands once the ATR is
    too (bar max(period − 1, atr_period))."""

    __slots__ = ("_atr", "_ema", "atr_period", "multiplier", "period", "value")

    def __init__(self, period: int = 20, multiplier: float = 2.0, atr_period: int = 10) -> None:
        self.period = _period(period)
        self.multiplier = _positive(multiplier, "multiplier")
        self.atr_period = _period(atr_period, "atr_period")
        self._ema = EMA(self.period)
        self._atr = ATR(self.atr_period)
        self.value: tuple[float, float, float] = (_NAN, _NAN, _NAN)

    @property
    def ready(self) -> bool:
        return self._ema.ready and self._atr.ready

    def update(self, bar: HasHLC) -> tuple[float, float, float]:
        _h, _lo, c = _hlc(bar, "Keltner")
        a = self._atr.update(bar)
        mid = self._ema.update(c)
        width = self.multiplier * a
        v = self.value = (mid + width, mid, mid - width)
        return v


class VWAP:
    """Session-anchored VWAP of the typical price (h + l + c) / 3, as the vectorized ``vwap``:
    sessions are ``session``-long intervals aligned to the Unix epoch, found from the bar's
    ``ts`` (int64 ns, bar open); NaN while the session's volume is 0 and on a bar with a NaN
    input (left out of the sums). The sums are Kahan-compensated."""

    __slots__ = ("_cpv", "_cv", "_len", "_pv", "_sid", "_v", "session", "value")

    def __init__(self, session: str = "1d") -> None:
        self._len = _session_ns(session)
        self.session = session
        self._sid: int | None = None
        self._pv = self._cpv = 0.0
        self._v = self._cv = 0.0
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return not math.isnan(self.value)

    def update(self, bar: HasHLCVT) -> float:
        h, lo, c = _hlc(bar, "VWAP")
        try:
            vol = float(bar.volume)
            ts = int(bar.ts)
        except AttributeError:
            raise TypeError(
                f"VWAP.update needs a bar with .volume and .ts, got {type(bar).__name__}"
            ) from None
        sid = ts // self._len
        if sid != self._sid:
            self._sid = sid
            self._pv = self._cpv = self._v = self._cv = 0.0
        pv = (h + lo + c) / 3.0 * vol
        if math.isnan(pv):
            self.value = _NAN
            return _NAN
        # Kahan summation
        y = pv - self._cpv
        t = self._pv + y
        self._cpv = (t - self._pv) - y
        self._pv = t
        y = vol - self._cv
        t = self._v + y
        self._cv = (t - self._v) - y
        self._v = t
        v = self.value = self._pv / self._v if self._v > 0.0 else _NAN
        return v


class Ichimoku:
    """Ichimoku lines (tenkan, kijun, senkou_a, senkou_b, chikou), unshifted, as the vectorized
    ``ichimoku``: each midpoint (highest high + lowest low) / 2 over its period including this
    bar, senkou_a = (tenkan + kijun) / 2, chikou = close."""

    __slots__ = ("_b", "_k", "_t", "kijun_period", "senkou_period", "tenkan_period", "value")

    def __init__(
        self, tenkan_period: int = 9, kijun_period: int = 26, senkou_period: int = 52
    ) -> None:
        self.tenkan_period = _period(tenkan_period, "tenkan_period", minimum=2)
        self.kijun_period = _period(kijun_period, "kijun_period", minimum=2)
        self.senkou_period = _period(senkou_period, "senkou_period", minimum=2)
        self._t = _Extremes(self.tenkan_period)
        self._k = _Extremes(self.kijun_period)
        self._b = _Extremes(self.senkou_period)
        self.value: tuple[float, float, float, float, float] = (_NAN, _NAN, _NAN, _NAN, _NAN)

    @property
    def ready(self) -> bool:
        return self._t.full and self._k.full and self._b.full

    def update(self, bar: HasHLC) -> tuple[float, float, float, float, float]:
        h, lo, c = _hlc(bar, "Ichimoku")
        hh, ll = self._t.push(h, lo)
        tenkan = (hh + ll) / 2.0 if self._t.full else _NAN
        hh, ll = self._k.push(h, lo)
        kijun = (hh + ll) / 2.0 if self._k.full else _NAN
        hh, ll = self._b.push(h, lo)
        senkou_b = (hh + ll) / 2.0 if self._b.full else _NAN
        v = self.value = (tenkan, kijun, (tenkan + kijun) / 2.0, senkou_b, c)
        return v


class Supertrend:
    """Supertrend (line, direction), TradingView convention, as the vectorized ``supertrend``:
    bands hl2 ± ``multiplier`` × Wilder ATR(``period``) ratcheted while the previous close stays
    on their side; direction starts at +1 on the first bar with an ATR (bar ``period``) and flips
    when the close crosses the previous opposite band; line = lower band if +1 else upper."""

    __slots__ = ("_atr", "_lo", "_pc", "_up", "multiplier", "period", "value")

    def __init__(self, period: int = 10, multiplier: float = 3.0) -> None:
        self.period = _period(period)
        self.multiplier = _positive(multiplier, "multiplier")
        self._atr = ATR(self.period)
        self._lo = self._up = self._pc = 0.0
        self.value: tuple[float, float] = (_NAN, _NAN)

    @property
    def ready(self) -> bool:
        return self._atr.ready

    def update(self, bar: HasHLC) -> tuple[float, float]:
        h, lo, c = _hlc(bar, "Supertrend")
        a = self._atr.update(bar)
        if math.isnan(a):
            return self.value
        width = self.multiplier * a
        hl2 = (h + lo) / 2.0
        bl = hl2 - width
        bu = hl2 + width
        d = self.value[1]
        if math.isnan(d):
            d = 1.0
        else:
            low_b = self._lo
            up_b = self._up
            pc = self._pc
            if pc > low_b and bl < low_b:
                bl = low_b
            if pc < up_b and bu > up_b:
                bu = up_b
            if d < 0.0 and c > up_b:
                d = 1.0
            elif d > 0.0 and c < low_b:
                d = -1.0
        self._lo = bl
        self._up = bu
        self._pc = c
        v = self.value = (bl if d > 0.0 else bu, d)
        return v


class SAR:
    """Parabolic SAR as ``talib.SAR``, including its start: the direction on bar 1 is short
    iff bar 1 has a −DM (low[0] − low[1] > 0 and > high[1] − high[0]); the first SAR is the
    previous bar's extreme (low[0] when long, high[0] when short). NaN on bar 0."""

    __slots__ = (
        "_af",
        "_ep",
        "_long",
        "_n",
        "_ph",
        "_pl",
        "_sar",
        "acceleration",
        "maximum",
        "value",
    )

    def __init__(self, acceleration: float = 0.02, maximum: float = 0.2) -> None:
        acc = _positive(acceleration, "acceleration")
        self.maximum = _positive(maximum, "maximum")
        self.acceleration = min(acc, self.maximum)  # TA-Lib clamps the step to the maximum
        self._n = 0
        self._ph = self._pl = 0.0  # previous bar's high/low
        self._af = self.acceleration
        self._ep = self._sar = 0.0
        self._long = True
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n > 1

    def update(self, bar: HasHLC) -> float:
        try:
            h = float(bar.high)
            lo = float(bar.low)
        except AttributeError:
            raise TypeError(
                f"SAR.update needs a bar with .high/.low, got {type(bar).__name__}"
            ) from None
        n = self._n
        self._n = n + 1
        if n == 0:
            self._ph, self._pl = h, lo
            return _NAN
        if n == 1:
            dm = self._pl - lo
            is_long = not (dm > 0.0 and h - self._ph < dm)
            if is_long:
                self._ep, self._sar = h, self._pl
            else:
                self._ep, self._sar = lo, self._ph
            self._long = is_long
            prev_h, prev_l = h, lo  # TA-Lib's "cheat" on the first iteration
        else:
            prev_h, prev_l = self._ph, self._pl
        self._ph, self._pl = h, lo
        acc = self.acceleration
        af = self._af
        ep = self._ep
        sar = self._sar
        if self._long:
            if lo <= sar:
                self._long = False
                sar = max(ep, prev_h, h)
                out = sar
                af = acc
                ep = lo
                sar = sar + af * (ep - sar)
                sar = max(sar, prev_h, h)
            else:
                out = sar
                if h > ep:
                    ep = h
                    af = min(af + acc, self.maximum)
                sar = sar + af * (ep - sar)
                sar = min(sar, prev_l, lo)
        elif h >= sar:
            self._long = True
            sar = min(ep, prev_l, lo)
            out = sar
            af = acc
            ep = h
            sar = sar + af * (ep - sar)
            sar = min(sar, prev_l, lo)
        else:
            out = sar
            if lo < ep:
                ep = lo
                af = min(af + acc, self.maximum)
            sar = sar + af * (ep - sar)
            sar = max(sar, prev_h, h)
        self._af = af
        self._ep = ep
        self._sar = sar
        self.value = out
        return out


# ------------------------------------------------------------------------------- two-input


def _simple_return(prev: float, x: float) -> float:
    """x / prev − 1 with numpy's division semantics (±inf, or nan for 0 / 0)."""
    if prev == 0.0:
        q = _NAN if x == 0.0 or math.isnan(x) else math.copysign(math.inf, x)
    else:
        q = x / prev
    return q - 1.0


class RollingBeta:
    """Rolling OLS beta of ``x`` on the benchmark ``y`` — ``update(x, y)`` — as the vectorized
    ``rolling_beta(x, y, period, returns)``.

    ``returns=False``: cov(x, y) / var(y) over the last ``period`` values, population moments
    from running means kept in TA-Lib's SMA order (0 when var(y) <= 0). ``returns=True``: on
    the simple returns of the two price series, over the ``period`` returns ending now (first
    value at bar ``period``), exactly as TA-Lib ``BETA(y, x)``: a return from a price within
    1e-8 of zero counts as 0 and a near-zero denominator gives 0.
    """

    __slots__ = ("_i", "_n", "_px", "_py", "_s", "_wx", "_wy", "period", "returns", "value")

    def __init__(self, period: int = 20, returns: bool = False) -> None:
        self.period = _period(period, minimum=2)
        if not isinstance(returns, bool):
            raise ConfigError(f"returns must be a bool, got {returns!r}")
        self.returns = returns
        self._wx = [0.0] * self.period  # window of x (or of the benchmark's returns)
        self._wy = [0.0] * self.period  # window of y (or of x's returns)
        self._i = 0
        self._n = -1 if returns else 0  # window values seen (-1: no price yet)
        self._px = self._py = 0.0  # previous prices (returns=True)
        self._s = [0.0, 0.0, 0.0, 0.0]
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n >= self.period

    def update(self, x: PriceLike, y: PriceLike) -> float:
        a = x if type(x) is float else _price(x)
        b = y if type(y) is float else _price(y)
        p = self.period
        s = self._s
        if self.returns:
            # TA-Lib BETA names the benchmark X: u = benchmark return, w = x's return
            if self._n < 0:
                self._n = 0
                self._px, self._py = a, b
                return _NAN
            u = (b - self._py) / self._py if not _is_zero(self._py) else 0.0
            w = (a - self._px) / self._px if not _is_zero(self._px) else 0.0
            self._px, self._py = a, b
            s[0] += u * u  # S_xx
            s[1] += u  # S_x
            s[2] += u * w  # S_xy
            s[3] += w  # S_y
        else:
            u, w = a, b
            s[0] += a  # Σx
            s[1] += b  # Σy
            s[2] += a * b  # Σxy
            s[3] += b * b  # Σyy
        i = self._i
        self._wx[i] = u
        self._wy[i] = w
        i = self._i = 0 if i + 1 == p else i + 1
        if self._n < p:
            self._n += 1
            if self._n < p:
                return _NAN
        # output, then the oldest value leaves the sums (TA-Lib's order)
        ou, ow = self._wx[i], self._wy[i]
        if self.returns:
            t = p * s[0] - s[1] * s[1]
            v = (p * s[2] - s[1] * s[3]) / t if not _is_zero(t) else 0.0
            s[0] -= ou * ou
            s[1] -= ou
            s[2] -= ou * ow
            s[3] -= ow
        else:
            ma = s[0] / p
            mb = s[1] / p
            cov = s[2] / p - ma * mb
            var = s[3] / p - mb * mb
            v = cov / var if var > 0.0 else 0.0
            s[0] -= ou
            s[1] -= ow
            s[2] -= ou * ow
            s[3] -= ow * ow
        self.value = v
        return v


class RollingCorr:
    """Rolling Pearson correlation of ``x`` and ``y`` — ``update(x, y)`` — as the vectorized
    ``rolling_corr(x, y, period, returns)`` (TA-Lib ``CORREL``): over the last ``period``
    values, or with ``returns=True`` over the simple returns x / x[t−1] − 1 (first value at
    bar ``period``). 0 on a window where either series is constant.

    The co-moments are kept relative to reference values re-centred (with an exact re-sum) each
    time the ring wraps, so large prices lose no digits to cancellation (amortised O(1)).
    """

    __slots__ = (
        "_i",
        "_n",
        "_px",
        "_py",
        "_rx",
        "_ry",
        "_s",
        "_wx",
        "_wy",
        "period",
        "returns",
        "value",
    )

    def __init__(self, period: int = 20, returns: bool = False) -> None:
        self.period = _period(period, minimum=2)
        if not isinstance(returns, bool):
            raise ConfigError(f"returns must be a bool, got {returns!r}")
        self.returns = returns
        self._wx = [0.0] * self.period
        self._wy = [0.0] * self.period
        self._i = 0
        self._n = -1 if returns else 0
        self._px = self._py = 0.0
        self._rx = self._ry = _NAN  # reference values (set by the first value)
        self._s = [0.0, 0.0, 0.0, 0.0, 0.0]  # Σdx, Σdx², Σdx·dy, Σdy, Σdy² (d = value − ref)
        self.value = _NAN

    @property
    def ready(self) -> bool:
        return self._n >= self.period

    def update(self, x: PriceLike, y: PriceLike) -> float:
        a = x if type(x) is float else _price(x)
        b = y if type(y) is float else _price(y)
        if self.returns:
            if self._n < 0:
                self._n = 0
                self._px, self._py = a, b
                return _NAN
            ra = _simple_return(self._px, a)
            rb = _simple_return(self._py, b)
            self._px, self._py = a, b
            a, b = ra, rb
        p = self.period
        s = self._s
        i = self._i
        if math.isnan(self._rx):
            self._rx, self._ry = a, b
        rx, ry = self._rx, self._ry
        if self._n >= p:  # the oldest value leaves
            tx, ty = self._wx[i] - rx, self._wy[i] - ry
            s[0] -= tx
            s[1] -= tx * tx
            s[2] -= tx * ty
            s[3] -= ty
            s[4] -= ty * ty
        else:
            self._n += 1
        dx, dy = a - rx, b - ry
        s[0] += dx
        s[1] += dx * dx
        s[2] += dx * dy
        s[3] += dy
        s[4] += dy * dy
        self._wx[i] = a
        self._wy[i] = b
        i += 1
        if i == p:  # re-centre on the window means and re-sum exactly: no drift
            i = 0
            rx = self._rx = math.fsum(self._wx) / p
            ry = self._ry = math.fsum(self._wy) / p
            ex = [w - rx for w in self._wx]
            ey = [w - ry for w in self._wy]
            s[0] = math.fsum(ex)
            s[1] = math.fsum([e * e for e in ex])
            s[2] = math.fsum([e * f for e, f in zip(ex, ey, strict=True)])
            s[3] = math.fsum(ey)
            s[4] = math.fsum([f * f for f in ey])
        self._i = i
        if self._n < p:
            return _NAN
        vx = s[1] - s[0] * s[0] / p
        vy = s[4] - s[3] * s[3] / p
        # a constant series leaves only rounding noise (relative to the raw second moment)
        if not (vx > 1e-12 * s[1] and vy > 1e-12 * s[4]):
            v = self.value = 0.0
            return v
        v = self.value = (s[2] - s[0] * s[3] / p) / math.sqrt(vx * vy)
        return v


class Pattern:
    """A TA-Lib candlestick pattern, bar by bar: ``Pattern("engulfing").update(bar)``.

    Keeps the last ``lookback + 1`` bars (TA-Lib's own lookback for the pattern, which covers
    its body/shadow averages) and runs the pattern on that window: O(1) in the length of the
    history. Returns TA-Lib's signal (±100, ±200 or 0) as a float, like the vectorized
    :func:`tradewind.indicators.pattern`.
    """

    __slots__ = ("_c", "_fn", "_h", "_l", "_o", "_params", "name", "size", "value")

    def __init__(self, name: str, **params: float) -> None:
        self.name = resolve_pattern(name)
        self._fn = getattr(talib, self.name)
        self._params = params
        fn = talib.abstract.Function(self.name, **params)  # type: ignore[attr-defined]
        self.size = int(fn.lookback) + 1
        self._o: deque[float] = deque(maxlen=self.size)
        self._h: deque[float] = deque(maxlen=self.size)
        self._l: deque[float] = deque(maxlen=self.size)
        self._c: deque[float] = deque(maxlen=self.size)
        self.value = 0.0

    @property
    def ready(self) -> bool:
        return len(self._c) == self.size

    def update(self, bar: HasOHLC) -> float:
        self._o.append(float(bar.open))
        self._h.append(float(bar.high))
        self._l.append(float(bar.low))
        self._c.append(float(bar.close))
        if len(self._c) < self.size:
            self.value = 0.0  # TA-Lib reports 0 during the warm-up too
            return self.value
        arrays = [
            np.fromiter(d, np.float64, self.size) for d in (self._o, self._h, self._l, self._c)
        ]
        self.value = float(self._fn(*arrays, **self._params)[-1])
        return self.value
