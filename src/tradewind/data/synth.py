"""Deterministic synthetic bars: geometric Brownian motion with regimes and jumps.

For demos and tests that need data of any length without files or a network. The same seed
gives the same bars on every machine (numpy's PCG64 generator).

- Regimes: a two-state Markov chain (calm / volatile) switching with probability
  ``switch_prob`` per bar; the volatile state multiplies volatility by ``vol_multiplier`` and
  adds ``bear_drift`` to the annual drift.
- Jumps: Poisson arrivals (``jumps_per_year``) with normal log-sizes (``jump_sigma``).
- Bars: each bar's close follows the path; the open is the previous close, high/low come from
  the bar's intrabar range (a Brownian-bridge-scaled draw), volume is lognormal and rises
  with the size of the move.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradewind.data.loader import timeframe_to_ns
from tradewind.errors import ConfigError

YEAR_NS = 365 * 86_400_000_000_000


@dataclass(frozen=True)
class SynthSpec:
    bars: int = 10_000
    timeframe: str = "1m"
    start: str = "2024-01-01"
    price: float = 100.0
    drift: float = 0.05  # annual, in the calm regime
    volatility: float = 0.6  # annual, in the calm regime
    vol_multiplier: float = 3.0
    bear_drift: float = -0.5
    switch_prob: float = 0.001
    jumps_per_year: float = 20.0
    jump_sigma: float = 0.03
    volume: float = 10.0  # median volume per bar
    seed: int = 7

    def check(self) -> None:
        for name in ("price", "drift", "volatility", "vol_multiplier", "bear_drift",
                     "switch_prob", "jumps_per_year", "jump_sigma", "volume"):  # fmt: skip
            if not np.isfinite(getattr(self, name)):
                raise ConfigError(f"{name} must be a finite number, got {getattr(self, name)}")
        try:
            if pd.isna(pd.Timestamp(self.start)):
                raise ValueError
        except ValueError:
            raise ConfigError(f"start {self.start!r} is not a date/time") from None
        if self.bars < 1:
            raise ConfigError(f"bars must be at least 1, got {self.bars}")
        for name in ("price", "volatility", "vol_multiplier", "volume"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.switch_prob <= 1:
            raise ConfigError(f"switch_prob must be in [0, 1], got {self.switch_prob}")
        if self.jumps_per_year < 0 or self.jump_sigma < 0:
            raise ConfigError("jumps_per_year and jump_sigma must be non-negative")


def synth_bars(spec: SynthSpec | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Return (bars, regime per bar: 0 calm, 1 volatile)."""
    spec = spec or SynthSpec()
    spec.check()
    tf_ns = timeframe_to_ns(spec.timeframe)
    dt = tf_ns / YEAR_NS
    rng = np.random.default_rng(spec.seed)
    n = spec.bars
    flips = rng.random(n) < spec.switch_prob
    regime = (np.cumsum(flips) % 2).astype(np.int8)
    sigma = spec.volatility * np.where(regime == 1, spec.vol_multiplier, 1.0)
    mu = spec.drift + np.where(regime == 1, spec.bear_drift, 0.0)
    shocks = rng.standard_normal(n)
    jumps = rng.poisson(spec.jumps_per_year * dt, n) * rng.normal(0.0, spec.jump_sigma, n)
    log_ret = (mu - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * shocks + jumps
    close = spec.price * np.exp(np.cumsum(log_ret))
    open_ = np.r_[spec.price, close[:-1]]
    # intrabar excursion beyond the open/close range, scaled to the bar's volatility
    reach = np.abs(rng.standard_normal((2, n))) * sigma * np.sqrt(dt) * 0.5
    high = np.maximum(open_, close) * np.exp(reach[0])
    low = np.minimum(open_, close) * np.exp(-reach[1])
    move = np.abs(log_ret) / (sigma * np.sqrt(dt))
    volume = spec.volume * np.exp(0.5 * rng.standard_normal(n)) * (1.0 + move)
    start = pd.Timestamp(spec.start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    ts = start.as_unit("ns").value + np.arange(n, dtype=np.int64) * tf_ns
    bars = pd.DataFrame(
        {"ts": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}
    )
    return bars, regime
