"""Monte Carlo robustness tests of a strategy: how lucky was the one history we backtested?

Three ways to make alternative histories, all summarised by the same statistics:

- :func:`trade_reshuffle`: the strategy's trade returns in a random order (a permutation) or
  drawn with replacement (a bootstrap); trades compound (``equity *= 1 + r`` per trade);
- :func:`block_bootstrap`: per-bar returns resampled in circular blocks, which keeps the
  short-range dependence (volatility clusters) that an iid bootstrap destroys;
- :func:`synthetic_paths`: synthetic bars with the input's fitted drift and volatility, to be
  re-run through the strategy; :func:`summarize_equity_paths` turns the resulting equity
  curves into the same statistics.

Statistics of every path (step 0 is the starting point and the first running peak):

- final equity;
- max drawdown: the most negative ``equity / running_peak - 1`` (a fraction, <= 0);
- time under water: the fraction of steps after step 0 whose equity is below the running peak;
- longest under water: the longest peak-to-recovery (or peak-to-end) span, in steps, with the
  same rule as :func:`tradewind.analytics.metrics.longest_underwater` (a point equal to the
  running peak has recovered);
- ruin: the equity fell to ``<= cfg.ruin * initial`` at some step.

Memory stays bounded whatever the path length: paths are generated in chunks of about
:data:`CHUNK_ELEMENTS` values, each path's statistics are computed by a compiled single pass
while it exists, and only its equity at ``<= cfg.band_points`` evenly spaced steps is kept for
the confidence bands (``n_sims × band_points`` floats in all). Every random draw comes from
``np.random.default_rng(cfg.seed)``, so a seed reproduces a result exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numba import njit
from numpy.typing import ArrayLike, NDArray

from tradewind.data.loader import ns_to_timeframe
from tradewind.data.synth import YEAR_NS, SynthSpec, synth_bars
from tradewind.errors import ConfigError

__all__ = [
    "CHUNK_ELEMENTS",
    "DISTRIBUTIONS",
    "MAX_BAND_POINTS",
    "MCConfig",
    "MCResult",
    "block_bootstrap",
    "bootstrap_indices",
    "fit_gbm",
    "path_stats",
    "summarize_equity_paths",
    "synthetic_paths",
    "trade_reshuffle",
]

#: Paths are generated in chunks of about this many values (indices + one equity buffer).
CHUNK_ELEMENTS = 1 << 21
#: Upper bound of ``MCConfig.band_points`` (bands are kept as ``n_sims × band_points`` floats).
MAX_BAND_POINTS = 500
#: The per-path distributions of a result, in report order.
DISTRIBUTIONS: tuple[str, ...] = (
    "final_equity",
    "max_drawdown",
    "time_under_water",
    "longest_underwater",
)
_PERCENTILES = (5, 50, 95)
_BAR_COLUMNS = ("ts", "open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class MCConfig:
    """Settings of a Monte Carlo run.

    ``ruin``: a path is ruined when its equity falls to ``<= ruin × initial`` at any step.
    ``block``: block length of :func:`block_bootstrap`; None = ``round(n ** (1/3))``.
    ``band_points``: how many evenly spaced steps the confidence bands keep (2..500).
    ``quantiles``: the bands' quantiles, each in (0, 1).
    """

    n_sims: int = 1000
    seed: int = 0
    ruin: float = 0.5
    block: int | None = None
    band_points: int = 200
    quantiles: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)

    def __post_init__(self) -> None:
        if not _is_int(self.n_sims) or self.n_sims < 1:
            raise ConfigError(f"n_sims must be an integer >= 1, got {self.n_sims!r}")
        if not _is_int(self.seed) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        if isinstance(self.ruin, bool) or not isinstance(self.ruin, int | float):
            raise ConfigError(f"ruin must be a number in (0, 1), got {self.ruin!r}")
        if not 0 < self.ruin < 1:
            raise ConfigError(
                f"ruin must be in (0, 1) (a fraction of the initial equity), got {self.ruin!r}"
            )
        if self.block is not None and (not _is_int(self.block) or self.block < 1):
            raise ConfigError(f"block must be an integer >= 1 or None, got {self.block!r}")
        if not _is_int(self.band_points) or not 2 <= self.band_points <= MAX_BAND_POINTS:
            raise ConfigError(
                f"band_points must be an integer in [2, {MAX_BAND_POINTS}], "
                f"got {self.band_points!r}"
            )
        qs = tuple(self.quantiles)
        if not qs or not all(
            isinstance(q, int | float) and not isinstance(q, bool) and 0 < q < 1 for q in qs
        ):
            raise ConfigError(
                f"quantiles must be a non-empty sequence of numbers in (0, 1), got {qs!r}"
            )
        object.__setattr__(self, "quantiles", tuple(sorted({float(q) for q in qs})))


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _num(value: object) -> float | None:
    """Plain float, or None for NaN/inf (JSON-safe)."""
    out = float(value)  # type: ignore[arg-type]
    return out if math.isfinite(out) else None


@dataclass
class MCResult:
    """Distributions of a Monte Carlo run: one value per simulated path in each array.

    ``band_x``: the step positions (0..n) at which ``bands`` (quantile -> equity at each
    position, across paths) are kept. ``original``: the same statistics for the input's own
    path (``final_equity``, ``max_drawdown``, ``time_under_water``, ``longest_underwater``,
    ``ruined``, and ``path``: its equity at the steps ``path_x``, normally ``band_x``); empty
    when unknown. ``params``: the
    method's settings (block length, with/without replacement, ...).
    """

    method: str
    initial: float
    seed: int
    ruin: float
    final_equity: NDArray[np.float64]
    max_drawdown: NDArray[np.float64]
    time_under_water: NDArray[np.float64]
    longest_underwater: NDArray[np.int64]
    ruined: NDArray[np.bool_]
    ruin_probability: float
    band_x: NDArray[np.int64]
    bands: dict[float, NDArray[np.float64]]
    original: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_sims(self) -> int:
        return len(self.final_equity)

    def summary(self) -> dict[str, Any]:
        """Flat JSON-safe dict: method, n_sims, seed, initial, ruin level and probability,
        ``<distribution>_p5/_p50/_p95/_mean`` of each distribution, the original path's
        statistics as ``original_<name>`` and the method's params."""
        out: dict[str, Any] = {
            "method": self.method,
            "n_sims": self.n_sims,
            "seed": int(self.seed),
            "initial": _num(self.initial),
            "ruin": _num(self.ruin),
            "ruin_probability": _num(self.ruin_probability),
        }
        for name in DISTRIBUTIONS:
            values = np.asarray(getattr(self, name), dtype=np.float64)
            pcts = np.percentile(values, _PERCENTILES)
            for p, v in zip(_PERCENTILES, pcts, strict=True):
                out[f"{name}_p{p}"] = _num(v)
            out[f"{name}_mean"] = _num(values.mean())
        for name in (*DISTRIBUTIONS, "ruined"):
            if name in self.original:
                value = self.original[name]
                out[f"original_{name}"] = value if isinstance(value, bool) else _num(value)
        for key, value in self.params.items():
            out[key] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-safe: the summary, every distribution, the bands and the original."""

        def floats(a: ArrayLike) -> list[float | None]:
            return [_num(v) for v in np.asarray(a, dtype=np.float64)]

        return {
            "summary": self.summary(),
            "final_equity": floats(self.final_equity),
            "max_drawdown": floats(self.max_drawdown),
            "time_under_water": floats(self.time_under_water),
            "longest_underwater": [int(v) for v in self.longest_underwater],
            "ruined": [bool(v) for v in self.ruined],
            "band_x": [int(v) for v in self.band_x],
            "bands": {str(q): floats(v) for q, v in self.bands.items()},
            "original": {
                k: (
                    floats(v)
                    if k == "path"
                    else [int(x) for x in v]
                    if k == "path_x"
                    else v
                    if isinstance(v, bool)
                    else _num(v)
                )
                for k, v in self.original.items()
            },
        }


# --------------------------------------------------------------------------- compiled kernels


@njit(cache=True, nogil=True)
def _scan(
    eq: NDArray[np.float64],
    ruin_level: float,
    band_pos: NDArray[np.int64],
    band_out: NDArray[np.float64],
) -> tuple[float, float, float, int, bool]:
    """One pass over an equity path: (final, max drawdown, time under water, longest under
    water, ruined); also copies the equity at ``band_pos`` into ``band_out``."""
    n = eq.shape[0]
    peak = eq[0]
    last_peak = 0
    prev_at_peak = True
    under = 0
    longest = 0
    mdd = 0.0
    ruined = eq[0] <= ruin_level
    for k in range(1, n):
        v = eq[k]
        if v <= ruin_level:
            ruined = True
        if v >= peak:
            if not prev_at_peak and k - last_peak > longest:
                longest = k - last_peak
            peak = v
            last_peak = k
            prev_at_peak = True
        else:
            under += 1
            longest = max(longest, k - last_peak)
            dd = v / peak - 1.0
            mdd = min(dd, mdd)
            prev_at_peak = False
    for j in range(band_pos.shape[0]):
        band_out[j] = eq[band_pos[j]]
    tuw = under / (n - 1) if n > 1 else 0.0
    return eq[n - 1], mdd, tuw, longest, ruined


@njit(cache=True, nogil=True)
def _resampled(
    growth: NDArray[np.float64],
    idx: NDArray[np.int64],
    initial: float,
    ruin_level: float,
    band_pos: NDArray[np.int64],
    offset: int,
    final: NDArray[np.float64],
    mdd: NDArray[np.float64],
    tuw: NDArray[np.float64],
    longest: NDArray[np.int64],
    ruined: NDArray[np.bool_],
    bands: NDArray[np.float64],
) -> None:
    """Compound ``growth[idx[p]]`` from ``initial`` for each row ``p`` and store its
    statistics at ``offset + p``; one equity buffer is reused for every path."""
    n_paths, n = idx.shape
    eq = np.empty(n + 1)
    for p in range(n_paths):
        eq[0] = initial
        for j in range(n):
            eq[j + 1] = eq[j] * growth[idx[p, j]]
        f, d, t, lg, r = _scan(eq, ruin_level, band_pos, bands[offset + p])
        final[offset + p] = f
        mdd[offset + p] = d
        tuw[offset + p] = t
        longest[offset + p] = lg
        ruined[offset + p] = r


# --------------------------------------------------------------------------- helpers


def _band_positions(n_points: int, band_points: int) -> NDArray[np.int64]:
    """At most ``band_points`` evenly spaced positions of ``0..n_points-1``, both ends kept."""
    k = min(band_points, n_points)
    return np.unique(np.linspace(0, n_points - 1, k).round().astype(np.int64))


def path_stats(
    equity: ArrayLike, initial: float | None = None, ruin: float = 0.5
) -> dict[str, Any]:
    """Statistics of one equity curve (see the module docstring): ``final_equity``,
    ``max_drawdown``, ``time_under_water``, ``longest_underwater`` and ``ruined`` (equity
    ``<= ruin × initial``; ``initial`` defaults to the first value)."""
    eq = _check_equity(equity, "equity")
    start = float(eq[0]) if initial is None else _check_initial(initial)
    empty = np.empty(0, dtype=np.float64)
    f, d, t, lg, r = _scan(eq, ruin * start, np.empty(0, dtype=np.int64), empty)
    return {
        "final_equity": float(f),
        "max_drawdown": float(d),
        "time_under_water": float(t),
        "longest_underwater": int(lg),
        "ruined": bool(r),
    }


def _original(
    eq: NDArray[np.float64], initial: float, ruin: float, band_pos: NDArray[np.int64]
) -> dict[str, Any]:
    out = path_stats(eq, initial, ruin)
    out["path_x"] = band_pos
    out["path"] = eq[band_pos].astype(np.float64)
    return out


def _check_initial(initial: object) -> float:
    if isinstance(initial, bool) or not isinstance(initial, int | float | np.number):
        raise ConfigError(f"initial must be a positive number, got {initial!r}")
    value = float(initial)
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"initial must be a positive finite number, got {initial!r}")
    return value


def _check_returns(returns: ArrayLike, what: str) -> NDArray[np.float64]:
    try:
        r = np.asarray(returns, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a 1-D sequence of numbers") from None
    if r.ndim != 1 or len(r) == 0:
        raise ConfigError(f"{what} must be a non-empty 1-D sequence, got shape {r.shape}")
    bad = ~np.isfinite(r)
    if bad.any():
        raise ConfigError(
            f"{what} has {int(bad.sum())} NaN/inf values (first at position "
            f"{int(np.argmax(bad))}); expected finite simple returns"
        )
    if (r < -1).any():
        first = int(np.argmax(r < -1))
        raise ConfigError(
            f"{what}[{first}] = {r[first]} is below -1 (a loss of more than 100 %); "
            "expected simple returns >= -1"
        )
    return r


def _check_equity(equity: ArrayLike, what: str) -> NDArray[np.float64]:
    try:
        eq = np.ascontiguousarray(np.asarray(equity, dtype=np.float64))
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a 1-D sequence of equity values") from None
    if eq.ndim != 1 or len(eq) == 0:
        raise ConfigError(f"{what} must be a non-empty 1-D equity curve, got shape {eq.shape}")
    if not np.isfinite(eq).all():
        raise ConfigError(f"{what} has NaN/inf values; expected finite equity")
    if not eq[0] > 0:
        raise ConfigError(f"{what} must start positive, got {eq[0]}")
    return eq


class _Collector:
    """Preallocated per-path arrays, filled chunk by chunk."""

    def __init__(self, n_sims: int, n_band: int) -> None:
        self.final = np.empty(n_sims, dtype=np.float64)
        self.mdd = np.empty(n_sims, dtype=np.float64)
        self.tuw = np.empty(n_sims, dtype=np.float64)
        self.longest = np.empty(n_sims, dtype=np.int64)
        self.ruined = np.empty(n_sims, dtype=np.bool_)
        self.bands = np.empty((n_sims, n_band), dtype=np.float64)

    def result(
        self,
        *,
        method: str,
        initial: float,
        cfg: MCConfig,
        band_x: NDArray[np.int64],
        original: dict[str, Any],
        params: dict[str, Any],
    ) -> MCResult:
        qs = np.quantile(self.bands, cfg.quantiles, axis=0)
        return MCResult(
            method=method,
            initial=initial,
            seed=cfg.seed,
            ruin=cfg.ruin,
            final_equity=self.final,
            max_drawdown=self.mdd,
            time_under_water=self.tuw,
            longest_underwater=self.longest,
            ruined=self.ruined,
            ruin_probability=float(self.ruined.mean()),
            band_x=band_x,
            bands={q: qs[i] for i, q in enumerate(cfg.quantiles)},
            original=original,
            params=params,
        )


def _simulate(
    r: NDArray[np.float64],
    initial: float,
    cfg: MCConfig,
    method: str,
    params: dict[str, Any],
    draw: Callable[[np.random.Generator, int], NDArray[np.int64]],
) -> MCResult:
    """Run ``draw(rng, n_paths) -> int64 index matrix (n_paths × n)`` chunk by chunk."""
    n = len(r)
    growth = np.ascontiguousarray(1.0 + r)
    band_pos = _band_positions(n + 1, cfg.band_points)
    col = _Collector(cfg.n_sims, len(band_pos))
    rng = np.random.default_rng(cfg.seed)
    chunk = max(1, CHUNK_ELEMENTS // n)
    level = cfg.ruin * initial
    for start in range(0, cfg.n_sims, chunk):
        m = min(chunk, cfg.n_sims - start)
        idx = np.ascontiguousarray(draw(rng, m), dtype=np.int64)
        _resampled(
            growth, idx, initial, level, band_pos, start,
            col.final, col.mdd, col.tuw, col.longest, col.ruined, col.bands,
        )  # fmt: skip
    eq = initial * np.concatenate([[1.0], np.cumprod(growth)])
    return col.result(
        method=method,
        initial=initial,
        cfg=cfg,
        band_x=band_pos,
        original=_original(eq, initial, cfg.ruin, band_pos),
        params=params,
    )


# --------------------------------------------------------------------------- resampling


def trade_reshuffle(
    trade_returns: ArrayLike, initial: float, cfg: MCConfig, *, replace: bool = False
) -> MCResult:
    """Reorder the strategy's trades: each path compounds the trade returns
    (``equity *= 1 + r`` per trade, step k = after k trades) in a new order.

    ``replace=False`` (method ``"trade_reshuffle"``): a random permutation per path. The
    product of the same factors does not depend on their order, so **the final equity is the
    same in every path** (up to float rounding); only the path — max drawdown, time and
    longest span under water, ruin — varies. ``replace=True`` (``"trade_bootstrap"``): as many
    trades drawn with replacement, so the final equity varies too.
    """
    r = _check_returns(trade_returns, "trade_returns")
    initial = _check_initial(initial)
    n = len(r)

    if replace:

        def draw(rng: np.random.Generator, m: int) -> NDArray[np.int64]:
            return rng.integers(0, n, size=(m, n), dtype=np.int64)

    else:
        base = np.arange(n, dtype=np.int64)

        def draw(rng: np.random.Generator, m: int) -> NDArray[np.int64]:
            return rng.permuted(np.broadcast_to(base, (m, n)), axis=1)

    method = "trade_bootstrap" if replace else "trade_reshuffle"
    return _simulate(r, initial, cfg, method, {"replace": bool(replace), "n_trades": n}, draw)


def bootstrap_indices(
    n: int, n_paths: int, block: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Circular block bootstrap positions, shape ``(n_paths, n)``: each row concatenates
    blocks ``s, s+1, …, s+block-1`` (mod ``n``) with uniform random starts ``s``, cut to
    ``n``. ``block == n`` gives rotations of the input; ``block == 1`` an iid bootstrap."""
    if not _is_int(n) or n < 1:
        raise ConfigError(f"n must be an integer >= 1, got {n!r}")
    if not _is_int(block) or not 1 <= block <= n:
        raise ConfigError(
            f"block must be an integer in [1, {n}] (the series length), got {block!r}"
        )
    n_blocks = -(-n // block)
    starts = rng.integers(0, n, size=(n_paths, n_blocks, 1), dtype=np.int64)
    idx = (starts + np.arange(block, dtype=np.int64)) % n
    return idx.reshape(n_paths, n_blocks * block)[:, :n]


def block_bootstrap(returns: ArrayLike, initial: float, cfg: MCConfig) -> MCResult:
    """Circular block bootstrap of per-bar simple returns (method ``"block_bootstrap"``):
    every path is as long as the input and made of blocks of ``cfg.block`` consecutive
    returns (default ``round(n ** (1/3))``) that start at uniform random positions and wrap
    around the end (see :func:`bootstrap_indices`)."""
    r = _check_returns(returns, "returns")
    initial = _check_initial(initial)
    n = len(r)
    block = cfg.block if cfg.block is not None else max(1, round(n ** (1 / 3)))
    if block > n:
        raise ConfigError(f"block must be at most the number of returns ({n}), got {block}")

    def draw(rng: np.random.Generator, m: int) -> NDArray[np.int64]:
        return bootstrap_indices(n, m, block, rng)

    return _simulate(r, initial, cfg, "block_bootstrap", {"block": int(block), "n_bars": n}, draw)


# --------------------------------------------------------------------------- synthetic paths


def _ts_ns(ts: pd.Series) -> NDArray[np.int64]:
    if pd.api.types.is_datetime64_any_dtype(ts.dtype):
        idx = pd.DatetimeIndex(ts)
        if idx.tz is not None:
            idx = idx.tz_convert("UTC").tz_localize(None)
        return idx.as_unit("ns").asi8
    if not pd.api.types.is_integer_dtype(ts.dtype):
        raise ConfigError(
            f"bars['ts'] must be int64 nanoseconds since epoch or datetimes, got {ts.dtype}"
        )
    return ts.to_numpy(dtype=np.int64)


def fit_gbm(bars: pd.DataFrame) -> dict[str, float | int]:
    """Annual drift and volatility of a geometric Brownian motion fitted to the close-to-close
    log returns, annualised with the median bar spacing over a 365-day year (as
    :mod:`tradewind.data.synth` uses): ``volatility = std(log r) / sqrt(dt)``,
    ``drift = mean(log r) / dt + volatility² / 2``. Also returns ``spacing_ns``."""
    if not isinstance(bars, pd.DataFrame):
        raise ConfigError(f"bars must be a pandas DataFrame, got {type(bars).__name__}")
    missing = [c for c in _BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ConfigError(f"bars is missing columns {missing}; expected {list(_BAR_COLUMNS)}")
    if len(bars) < 3:
        raise ConfigError(f"bars must have at least 3 rows to fit a volatility, got {len(bars)}")
    ts = _ts_ns(bars["ts"])
    spacing = np.diff(ts)
    if not (spacing > 0).all():
        raise ConfigError("bars['ts'] must be strictly increasing (sorted, no duplicates)")
    close = bars["close"].to_numpy(dtype=np.float64)
    if not (np.isfinite(close).all() and (close > 0).all()):
        raise ConfigError("bars['close'] must be positive finite prices")
    spacing_ns = int(np.median(spacing))
    dt = spacing_ns / YEAR_NS
    log_r = np.diff(np.log(close))
    vol = float(np.std(log_r, ddof=1) / math.sqrt(dt))
    drift = float(np.mean(log_r) / dt + 0.5 * vol**2)
    return {"drift": drift, "volatility": vol, "spacing_ns": spacing_ns}


def synthetic_paths(
    bars: pd.DataFrame, cfg: MCConfig, *, template: SynthSpec | None = None
) -> Iterator[pd.DataFrame]:
    """Yield ``cfg.n_sims`` synthetic OHLCV frames shaped like ``bars`` (same length, the
    same ``ts`` values), generated lazily by :func:`tradewind.data.synth.synth_bars`.

    Drift and volatility are fitted to ``bars`` (:func:`fit_gbm`); the first open is the
    input's first open and the median volume its median volume. Regimes and jumps are **off**
    by default (``switch_prob = 0``, ``jumps_per_year = 0``): they would widen the paths beyond
    the fitted volatility, since their own parameters are not fitted. To turn them on, pass a
    ``template`` SynthSpec: its regime/jump fields are used, the fitted fields replaced. Path
    ``i`` uses seed ``SeedSequence(cfg.seed).generate_state(n_sims)[i]``.
    """
    fit = fit_gbm(bars)
    n = len(bars)
    vol_med = float(np.nanmedian(bars["volume"].to_numpy(dtype=np.float64)))
    base = template or SynthSpec(switch_prob=0.0, jumps_per_year=0.0)
    first_open = float(bars["open"].iloc[0])
    if not (math.isfinite(first_open) and first_open > 0):
        first_open = float(bars["close"].iloc[0])
    spec = replace(
        base,
        bars=n,
        timeframe=ns_to_timeframe(int(fit["spacing_ns"])),
        price=first_open,
        drift=float(fit["drift"]),
        volatility=max(float(fit["volatility"]), 1e-12),
        volume=vol_med if math.isfinite(vol_med) and vol_med > 0 else base.volume,
    )
    spec.check()
    ts = bars["ts"].to_numpy(copy=True)
    state = np.random.SeedSequence(cfg.seed).generate_state(cfg.n_sims, dtype=np.uint64)
    seeds = [int(s) for s in state]
    return _generate(spec, seeds, ts)


def _generate(spec: SynthSpec, seeds: list[int], ts: NDArray[Any]) -> Iterator[pd.DataFrame]:
    for seed in seeds:
        frame, _ = synth_bars(replace(spec, seed=seed))
        frame["ts"] = ts.copy()
        yield frame


def summarize_equity_paths(
    paths: Iterable[ArrayLike],
    initial: float,
    cfg: MCConfig,
    method: str = "synthetic",
    *,
    original: ArrayLike | None = None,
) -> MCResult:
    """Statistics of equity curves made elsewhere (e.g. backtests on :func:`synthetic_paths`).

    Each path is consumed once, its statistics computed and its equity at the band positions
    kept; all paths must have the same length (the first fixes the band positions). Ruin is
    measured against ``initial``; the running peak starts at each path's first value.
    ``original``: the strategy's equity on the real data, summarised as ``result.original``.
    ``seed`` in the result is ``cfg.seed``; ``n_sims`` is the number of paths given.
    """
    initial = _check_initial(initial)
    level = cfg.ruin * initial
    stats: list[tuple[float, float, float, int, bool]] = []
    band_rows: list[NDArray[np.float64]] = []
    band_pos: NDArray[np.int64] | None = None
    length = 0
    for i, path in enumerate(paths):
        eq = _check_equity(path, f"paths[{i}]")
        if band_pos is None:
            length = len(eq)
            band_pos = _band_positions(length, cfg.band_points)
        elif len(eq) != length:
            raise ConfigError(
                f"paths[{i}] has {len(eq)} points but paths[0] has {length}; "
                "all equity paths must have the same length"
            )
        row = np.empty(len(band_pos), dtype=np.float64)
        stats.append(_scan(eq, level, band_pos, row))
        band_rows.append(row)
    if band_pos is None:
        raise ConfigError("paths is empty; expected at least one equity curve")
    col = _Collector(0, len(band_pos))
    col.final = np.array([s[0] for s in stats], dtype=np.float64)
    col.mdd = np.array([s[1] for s in stats], dtype=np.float64)
    col.tuw = np.array([s[2] for s in stats], dtype=np.float64)
    col.longest = np.array([s[3] for s in stats], dtype=np.int64)
    col.ruined = np.array([s[4] for s in stats], dtype=np.bool_)
    col.bands = np.vstack(band_rows)
    orig: dict[str, Any] = {}
    if original is not None:
        eq = _check_equity(original, "original")
        pos = _band_positions(len(eq), cfg.band_points)
        if len(eq) == length:
            pos = band_pos
        orig = _original(eq, initial, cfg.ruin, pos)
    return col.result(
        method=method,
        initial=initial,
        cfg=cfg,
        band_x=band_pos,
        original=orig,
        params={"n_steps": length - 1},
    )
