"""Shared helpers: input coercion, parameter checks and the TA-Lib call wrapper.

NaN policy (the same for every indicator): leading NaN are skipped (the warm-up starts at the
first valid value, as in TA-Lib). A NaN *inside* the series is a gap: the output is NaN on the gap
and the indicator restarts its warm-up on the next valid value, as if a new series began there.
(TA-Lib itself lets one NaN poison every later value of a running-sum indicator; we detect that
case in O(1) — the last output is NaN — and recompute segment by segment, so the common no-gap
path costs nothing extra.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tradewind.errors import ConfigError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def arr(x: ArrayLike) -> NDArray[np.float64]:
    """``x`` as a C-contiguous float64 array (no copy when it already is one)."""
    a = np.ascontiguousarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ConfigError(f"indicator inputs must be 1-D arrays, got shape {a.shape}")
    return a


def arrays(*xs: ArrayLike, names: tuple[str, ...] = ()) -> list[NDArray[np.float64]]:
    """Coerce several inputs and check that they have the same length."""
    out = [arr(x) for x in xs]
    lengths = {len(a) for a in out}
    if len(lengths) > 1:
        desc = ", ".join(f"{names[i] if i < len(names) else i}={len(a)}" for i, a in enumerate(out))
        raise ConfigError(f"indicator inputs must have the same length, got {desc}")
    return out


def check_period(period: object, name: str = "period", minimum: int = 1) -> int:
    """Validate an integer window parameter and return it as a plain ``int``."""
    if (
        isinstance(period, bool)
        or not isinstance(period, int | np.integer)
        or int(period) < minimum
    ):
        raise ConfigError(f"{name} must be an int >= {minimum}, got {period!r}")
    return int(period)


def check_positive(value: object, name: str) -> float:
    """Validate a positive real parameter (multipliers, accelerations)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise ConfigError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _call(
    func: Callable[..., Any], inputs: list[NDArray[np.float64]], kw: dict[str, Any]
) -> list[NDArray[np.float64]]:
    try:
        res = func(*inputs, **kw)
    except Exception as exc:  # TA-Lib raises a bare Exception for TA_BAD_PARAM
        raise ConfigError(f"{func.__name__}: invalid parameters {kw}: {exc}") from exc
    outs = list(res) if isinstance(res, tuple | list) else [res]
    return [o if o.dtype == np.float64 else o.astype(np.float64) for o in outs]


# Recursive / running-sum TA-Lib functions in which a NaN in any input reaches every later
# output (checked input by input and position by position). ATR/NATR swallow a NaN *close*
# (the true range falls back to high − low), so their close (input 2) is still scanned.
# CCI, STOCH and STDDEV are deliberately absent: they do not always propagate.
_PROPAGATES_NAN: dict[str, tuple[int, ...]] = {
    "ATR": (2,),
    "BBANDS": (),
    "DEMA": (),
    "EMA": (),
    "KAMA": (),
    "MACD": (),
    "MFI": (),
    "NATR": (2,),
    "TEMA": (),
}


def ta(
    func: Callable[..., Any], *inputs: NDArray[np.float64], **kw: Any
) -> list[NDArray[np.float64]]:
    """Call a TA-Lib function with the NaN-gap policy of this package; returns a list of outputs.

    TA-Lib handles leading NaN itself; an interior NaN would either poison every later value
    (running sums) or be silently treated as a number (comparisons), so a series with an
    interior gap is computed segment by segment between the gaps. The gap check is one ``min``
    per input (NaN iff a NaN is present), so gap-free input costs almost nothing.

    For the recursive / running-sum functions in ``_PROPAGATES_NAN`` (EMA, ATR, ...) a NaN
    reaches every later output, so a finite last output proves the input has no interior gap:
    an O(1) test (the gap tests in ``test_vectorized_edges`` check each such function).
    """
    ins = list(inputs)
    n = len(ins[0])
    if n == 0:
        return [np.empty(0) for _ in range(_n_outputs(func, ins, kw))]
    scan_only = _PROPAGATES_NAN.get(getattr(func, "__name__", ""))
    if scan_only is not None:
        outs = _call(func, ins, kw)
        if not np.isnan(outs[0][-1]) and not any(np.isnan(ins[k].min()) for k in scan_only):
            return outs
    elif not any(np.isnan(a.min()) for a in ins):
        return _call(func, ins, kw)
    bad = np.zeros(n, dtype=bool)
    for a in ins:
        bad |= np.isnan(a)
    first_valid = int(np.argmin(bad))
    if bad[first_valid] or not bad[first_valid:].any():
        return _call(func, ins, kw)  # only leading NaN (TA-Lib skips those) or all NaN
    first = _call(func, [a[:1] for a in ins], kw)
    result = [np.full(n, np.nan) for _ in first]
    edges = np.flatnonzero(np.diff(np.concatenate(([0], (~bad).astype(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        seg = _call(func, [a[start:stop] for a in ins], kw)
        for r, s in zip(result, seg, strict=True):
            r[start:stop] = s
    return result


def _n_outputs(func: Callable[..., Any], ins: list[NDArray[np.float64]], kw: dict[str, Any]) -> int:
    return len(_call(func, [np.full(1, np.nan) for _ in ins], kw))
