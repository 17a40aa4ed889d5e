"""TA-Lib candlestick pattern recognition (the ``CDL*`` functions).

``pattern(name, open, high, low, close)`` returns TA-Lib's integer signal as a float64 array:
+100 / −100 for a bullish / bearish occurrence (±200 for a confirmed one in a few patterns), 0
otherwise. TA-Lib itself returns 0 (not NaN) during the warm-up; we keep that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import talib

from tradewind.errors import ConfigError
from tradewind.indicators._util import arrays, ta

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import ArrayLike, NDArray

PATTERN_NAMES: tuple[str, ...] = tuple(
    sorted(talib.get_function_groups()["Pattern Recognition"])  # type: ignore[no-untyped-call]
)
"""TA-Lib's pattern function names, e.g. ``"CDLDOJI"``, ``"CDLENGULFING"``."""


def _resolve(name: str) -> str:
    key = str(name).upper().replace("_", "").replace(" ", "")
    if not key.startswith("CDL"):
        key = "CDL" + key
    if key not in PATTERN_NAMES:
        raise ConfigError(
            f"unknown candlestick pattern {name!r}; expected one of PATTERN_NAMES "
            f"(e.g. 'CDLDOJI' or 'doji'), {len(PATTERN_NAMES)} names"
        )
    return key


def pattern(
    name: str,
    open: ArrayLike,
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    **params: Any,
) -> NDArray[np.float64]:
    """Run one TA-Lib candlestick pattern; ``name`` is ``"CDLDOJI"``, ``"doji"``, ``"cdl_doji"``...

    ``params`` are passed to TA-Lib (e.g. ``penetration=0.3`` for the star patterns).
    """
    fname = _resolve(name)
    o, h, lo, c = arrays(open, high, low, close, names=("open", "high", "low", "close"))
    return ta(getattr(talib, fname), o, h, lo, c, **params)[0]


def all_patterns(
    open: ArrayLike,
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    names: Iterable[str] | None = None,
) -> dict[str, NDArray[np.float64]]:
    """``{name: signal}`` for every pattern (or the given ``names``)."""
    chosen = PATTERN_NAMES if names is None else tuple(_resolve(n) for n in names)
    return {n: pattern(n, open, high, low, close) for n in chosen}
