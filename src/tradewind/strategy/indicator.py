"""Indicators inside strategies: precomputed once (vectorized), revealed one bar at a time.

In a backtest ``Strategy.indicator`` runs the vectorized function over the whole series up front,
which is fast; the ``Indicator`` then only shows values up to the current bar, exactly like the
price history. A function that peeks ahead (a centred window, a ``shift(-1)``) is caught when it
is registered: it is re-run on the first half of the data and must give the same values there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tradewind.errors import ConfigError, LookAheadError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from tradewind.engine.core import Feed


class Indicator:
    """Values of one indicator series, visible up to the current bar of its feed.

    ``ind[-1]`` is the current value, ``ind[-2]`` the previous one; ``ind.value`` is ``ind[-1]``;
    ``ind.values`` is a numpy view of everything known so far. Reading past the current bar
    raises ``LookAheadError``.
    """

    __slots__ = ("_array", "_crosses", "_feed", "_list", "name")

    def __init__(self, name: str, values: NDArray[np.float64], feed: Feed) -> None:
        self.name = name
        values = np.ascontiguousarray(values)
        values.flags.writeable = False
        self._array = values
        # indexing a memoryview yields a Python float in C, as fast as a list, without the
        # cost (time and 32 bytes a value) of materialising a list of a million floats
        self._list: memoryview = values.data
        self._feed = feed
        self._crosses: dict[Indicator, list[int]] = {}  # cache for helpers.cross

    def replace(self, values: NDArray[np.float64]) -> None:
        """The series recomputed over a longer feed (a live bar was appended)."""
        values = np.ascontiguousarray(values)
        values.flags.writeable = False
        self._array = values
        self._list = values.data
        self._crosses.clear()

    def forget_crosses(self) -> None:
        self._crosses.clear()

    def __getitem__(self, k: int) -> float:
        i = self._feed.cursor
        if k < 0:
            j = i + 1 + k
            if j < 0:
                raise IndexError(f"{self.name}[{k}]: only {i + 1} values so far")
            return self._list[j]
        if k > i:
            raise LookAheadError(f"{self.name}[{k}] is in the future (current bar is {i})")
        return self._list[k]

    def __len__(self) -> int:
        return self._feed.cursor + 1

    @property
    def value(self) -> float:
        i = self._feed.cursor
        if i < 0:
            raise LookAheadError(f"{self.name}: no bar has closed yet")
        return self._list[i]

    @property
    def values(self) -> NDArray[np.float64]:
        return self._array[: self._feed.cursor + 1]

    def full_series_for_engine(self) -> NDArray[np.float64]:
        """The whole precomputed array. For the engine's vectorized fast paths only."""
        return self._array

    def __repr__(self) -> str:
        shown = self._list[self._feed.cursor] if self._feed.cursor >= 0 else float("nan")
        return f"Indicator({self.name}={shown:.6g})"


class AlignedArray:
    """A column of another (time-aligned) feed passed to an indicator, so the look-ahead check
    truncates it together with the indicator's own feed."""

    __slots__ = ("array",)

    def __init__(self, array: NDArray[Any]) -> None:
        self.array = array


def precompute(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], feed: Feed, name: str
) -> tuple[NDArray[np.float64], ...]:
    """Run ``func`` over the full series and prove it causal on a prefix."""
    full = _call(func, args, kwargs, feed, None)
    n = len(feed)
    # a prefix is enough to catch a function that peeks ahead: its values there would change
    cut = min(n // 2, 100_000)
    if cut >= 2:
        part = _call(func, args, kwargs, feed, cut)
        for a, b in zip(full, part, strict=True):
            x, y = a[:cut], b[:cut]
            same = (x == y) | (np.isnan(x) & np.isnan(y)) | np.isclose(x, y, rtol=1e-9, atol=1e-12)
            if not bool(np.all(same)):
                bad = int(np.argmin(same))
                raise LookAheadError(
                    f"indicator {name} looks ahead: its value at bar {bad} changes when later bars "
                    f"are removed ({x[bad]!r} vs {y[bad]!r}); use only past data"
                )
    return full


def recompute(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], feed: Feed
) -> tuple[NDArray[np.float64], ...]:
    """Run ``func`` over the whole (grown) feed again; causality was proven by ``precompute``."""
    return _call(func, args, kwargs, feed, None)


def _call(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], feed: Feed, cut: int | None
) -> tuple[NDArray[np.float64], ...]:
    def resolve(a: Any) -> Any:
        if isinstance(a, str) and a in feed.arrays:
            arr = feed.arrays[a]
            return arr if cut is None else arr[:cut]
        if isinstance(a, Indicator | AlignedArray):
            arr = a.full_series_for_engine() if isinstance(a, Indicator) else a.array
            return arr if cut is None else arr[:cut]
        return a

    out = func(*(resolve(a) for a in args), **{k: resolve(v) for k, v in kwargs.items()})
    outs = out if isinstance(out, tuple) else (out,)
    n = len(feed) if cut is None else cut
    result = []
    for o in outs:
        arr = np.asarray(o, dtype=np.float64)
        if arr.shape != (n,):
            raise ConfigError(
                f"indicator {getattr(func, '__name__', func)!s} returned shape {arr.shape}, "
                f"expected ({n},): one value per bar"
            )
        result.append(arr)
    return tuple(result)
