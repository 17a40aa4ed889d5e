"""Run an event-driven backtest: data in time order → simulated venue → strategy → result.

The loop is deliberately thin. Per bar it matches resting orders (only if there are any), moves
the feed cursor, and calls ``on_bar``; accounting happens at fills, and the equity curve is
rebuilt with numpy from the change logs after the run. That is what makes a Python strategy run
at millions of bars per second.
"""

from __future__ import annotations

import copy
import gc
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from tradewind.backtest.result import BacktestResult, build_result
from tradewind.data.loader import infer_timeframe_ns, ns_to_timeframe, timeframe_to_ns
from tradewind.data.resample import resample_bars
from tradewind.engine.core import FIELDS, Feed, TradingEngine
from tradewind.engine.portfolio import Portfolio
from tradewind.engine.risk import RiskEngine, RiskLimits
from tradewind.errors import ConfigError
from tradewind.model.account import Account
from tradewind.model.data import Bar, QuoteTick, TradeTick
from tradewind.model.enums import (
    CASH as _CASH,
)
from tradewind.model.enums import (
    EQUITY as _EQUITY,
)
from tradewind.model.enums import (
    MARGIN as _MARGIN,
)
from tradewind.model.enums import (
    SPOT as _SPOT,
)
from tradewind.model.enums import AccountType, CostBasis
from tradewind.model.instrument import Instrument
from tradewind.sim.fees import FeeModel, PercentFee
from tradewind.sim.slippage import FixedBps, SlippageModel
from tradewind.sim.venue import FillConfig, SimulatedVenue
from tradewind.strategy.base import Strategy
from tradewind.strategy.registry import load_strategy

_QUOTES = (
    "USDT",
    "USDC",
    "BUSD",
    "FDUSD",
    "TUSD",
    "DAI",
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "BTC",
    "ETH",
    "BNB",
    "SOL",
)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BacktestConfig:
    """Every assumption of a run; all of it is echoed in the result's ``settings``."""

    cash: float = 100_000.0
    currency: str | None = None  # default: the quote currency of the first instrument
    commission: float = 0.0  # fraction of notional per fill (ignored when ``fees`` is given)
    fees: FeeModel | None = None
    slippage_bps: float = 0.0  # ignored when ``slippage`` is given
    slippage: SlippageModel | None = None
    fill_at_close: bool = False
    volume_cap: float | None = None
    latency_ms: float = 0.0
    account: AccountType | None = None  # default: cash, or margin when leverage > 1
    leverage: float = 1.0
    cost_basis: CostBasis = CostBasis.FIFO
    risk: RiskLimits = field(default_factory=RiskLimits)
    liquidation_fee: float = 0.0

    def fee_model(self) -> FeeModel:
        return self.fees if self.fees is not None else PercentFee(self.commission)

    def slippage_model(self) -> SlippageModel:
        return self.slippage if self.slippage is not None else FixedBps(self.slippage_bps)

    def account_type(self) -> AccountType:
        if self.account is not None:
            return self.account
        return _MARGIN if self.leverage > 1 else _CASH

    def validate(self) -> None:
        for name in (
            "cash",
            "commission",
            "slippage_bps",
            "latency_ms",
            "leverage",
            "liquidation_fee",
        ):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ConfigError(f"{name} must be a finite number, got {value}")
        self.fee_model()  # the models check their own numbers
        self.slippage_model()
        if self.liquidation_fee < 0:
            raise ConfigError(f"liquidation_fee must be >= 0, got {self.liquidation_fee}")
        if self.leverage < 1:
            raise ConfigError(f"leverage must be >= 1, got {self.leverage}")
        if not (self.cash > 0 and math.isfinite(self.cash)):
            raise ConfigError(f"cash must be a positive number, got {self.cash}")
        if self.volume_cap is not None and not 0 < self.volume_cap <= 1:
            raise ConfigError(f"volume_cap must be in (0, 1], got {self.volume_cap}")
        if self.latency_ms < 0:
            raise ConfigError(f"latency_ms must be >= 0, got {self.latency_ms}")
        if self.fill_at_close and self.latency_ms:
            raise ConfigError("fill_at_close cannot be combined with a submission latency")
        if self.account_type() is _CASH and self.leverage != 1:
            raise ConfigError(f"leverage {self.leverage} needs a margin account")


def guess_instrument(symbol: str) -> Instrument:
    """An instrument for a bare symbol: a spot pair if it ends in a known quote currency
    (``BTCUSDT``, ``ETH/USDT``), else a US equity. Quantities are not rounded."""
    s = symbol.upper().replace("-", "/").replace("_", "/")
    if "/" in s:
        base, quote = s.split("/", 1)
        return Instrument(symbol=symbol, kind=_SPOT, base=base, quote=quote)
    for q in _QUOTES:
        if s.endswith(q) and len(s) > len(q):
            return Instrument(symbol=symbol, kind=_SPOT, base=s[: -len(q)], quote=q)
    return Instrument(symbol=symbol, kind=_EQUITY, base=symbol, quote="USD")


def as_bar_frame(symbol: str, df: pd.DataFrame) -> pd.DataFrame:
    """Accept the loader's frame (``ts`` column) or a DatetimeIndex-ed OHLCV frame."""
    cols = {c.lower(): c for c in df.columns}
    missing = [c for c in ("open", "high", "low", "close") if c not in cols]
    if missing:
        raise ConfigError(f"{symbol}: bar data lacks column(s) {', '.join(missing)}")
    if "ts" in cols:
        col = df[cols["ts"]]
        if pd.api.types.is_datetime64_any_dtype(col):
            stamps = pd.DatetimeIndex(col)
            stamps = stamps if stamps.tz is not None else stamps.tz_localize("UTC")
            ts = stamps.as_unit("ns").asi8
        else:
            ts = col.to_numpy(dtype=np.int64)
    elif isinstance(df.index, pd.DatetimeIndex):
        idx = df.index if df.index.tz is not None else df.index.tz_localize("UTC")
        ts = idx.as_unit("ns").asi8
    else:
        raise ConfigError(f"{symbol}: bar data needs a 'ts' column or a DatetimeIndex")
    vol = df[cols["volume"]].to_numpy(np.float64) if "volume" in cols else np.zeros(len(df))
    out = pd.DataFrame(
        {
            "ts": ts,
            **{k: df[cols[k]].to_numpy(np.float64) for k in ("open", "high", "low", "close")},
            "volume": vol,
        }
    )
    if len(out) > 1 and not bool(np.all(np.diff(ts) > 0)):
        raise ConfigError(f"{symbol}: bar timestamps must be strictly increasing")
    return out


class Backtest:
    """One configured run. ``Backtest(data, "sma_cross", fast=10).run()``."""

    def __init__(
        self,
        data: Mapping[str, pd.DataFrame],
        strategy: str | type[Strategy] | Strategy,
        config: BacktestConfig | None = None,
        *,
        instruments: Mapping[str, Instrument] | None = None,
        quotes: Mapping[str, pd.DataFrame] | None = None,
        trades: Mapping[str, pd.DataFrame] | None = None,
        funding: Mapping[str, pd.DataFrame] | None = None,
        timeframes: Mapping[str, str] | None = None,
        resample: Mapping[str, Sequence[str]] | None = None,
        **params: Any,
    ) -> None:
        """``data``: bars per symbol; ``timeframes``: override the inferred timeframe per symbol;
        ``resample``: extra coarser feeds per symbol (e.g. ``{"BTCUSDT": ["1h"]}``) that a
        strategy reads with ``history(sym, "1h")`` / ``indicator(..., timeframe="1h")``; each
        resampled bar is delivered when it closes."""
        self.config = config or BacktestConfig()
        self.config.validate()
        if not data and not quotes and not trades:
            raise ConfigError("no market data given")
        if isinstance(strategy, Strategy):
            if params:
                raise ConfigError("give parameters to the strategy instance, not to Backtest")
            self.strategy = strategy
        else:
            cls = load_strategy(strategy) if isinstance(strategy, str) else strategy
            self.strategy = cls(**params)
        self.bars = {s: as_bar_frame(s, df) for s, df in data.items()}
        symbols = list(dict.fromkeys([*self.bars, *(quotes or {}), *(trades or {})]))
        given = dict(instruments or {})
        self.instruments = {s: given.get(s) or guess_instrument(s) for s in symbols}
        self.quotes = dict(quotes or {})
        self.trades = dict(trades or {})
        self.funding = dict(funding or {})
        self.timeframes = dict(timeframes or {})
        self.resample = {s: list(tfs) for s, tfs in (resample or {}).items()}
        for s in self.resample:
            if s not in self.bars:
                raise ConfigError(f"resample given for {s!r}, which has no bar data")
        for s in self.funding:
            if s not in self.instruments:
                raise ConfigError(f"funding rates given for unknown instrument {s!r}")

    # --- setup --------------------------------------------------------------------------------

    def build_engine(self) -> tuple[TradingEngine, SimulatedVenue]:
        """The engine, portfolio and simulated venue of this run (a replay node reuses them)."""
        cfg = self.config
        first = next(iter(self.instruments.values()))
        currency = cfg.currency or first.quote
        for inst in self.instruments.values():
            if inst.quote != currency:
                raise ConfigError(
                    f"{inst.symbol} is quoted in {inst.quote} but the account is in {currency}; "
                    "a backtest currently needs all instruments quoted in the account currency"
                )
            if inst.is_margin_settled and cfg.account_type() is _CASH:
                raise ConfigError(
                    f"{inst.symbol} is a perpetual: use a margin account "
                    "(--leverage or account=margin)"
                )
        account = Account(
            currency, type=cfg.account_type(), leverage=cfg.leverage, balances={currency: cfg.cash}
        )
        portfolio = Portfolio(account, self.instruments, cfg.cost_basis)
        engine = TradingEngine(
            self.instruments, portfolio, risk=RiskEngine(copy.deepcopy(cfg.risk))
        )
        for sym, df in self.bars.items():
            ts = df["ts"].to_numpy(np.int64)
            tf = self.timeframes.get(sym)
            if tf is None:
                tf_ns = infer_timeframe_ns(ts) if len(ts) > 1 else 60_000_000_000
                tf = ns_to_timeframe(tf_ns)
            else:
                tf_ns = timeframe_to_ns(tf)
            arrays = {
                "ts": ts,
                **{
                    k: df[k].to_numpy(np.float64)
                    for k in ("open", "high", "low", "close", "volume")
                },
            }
            engine.add_feed(Feed(sym, tf, tf_ns, arrays))
            for extra in self.resample.get(sym, []):
                coarse = resample_bars(df, timeframe_to_ns(extra), tf_ns)
                engine.add_feed(
                    Feed(
                        sym,
                        extra,
                        timeframe_to_ns(extra),
                        {
                            "ts": coarse["ts"].to_numpy(np.int64),
                            **{k: coarse[k].to_numpy(np.float64) for k in FIELDS},
                        },
                    )
                )
        venue = SimulatedVenue(
            self.instruments,
            portfolio,
            engine,
            fees=cfg.fee_model(),
            slippage=cfg.slippage_model(),
            config=FillConfig(
                cfg.fill_at_close, cfg.volume_cap, int(cfg.latency_ms * 1e6), cfg.liquidation_fee
            ),
        )
        engine.attach_venue(venue)
        return engine, venue

    # --- the run ------------------------------------------------------------------------------

    def run(self, progress: Progress | None = None) -> BacktestResult:
        """Run the backtest. The cyclic GC is paused meanwhile: the run makes no reference
        cycles, so a collection would only re-scan its many live objects (memory is still freed
        by reference counting); it is restored afterwards."""
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run(progress)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _run(self, progress: Progress | None) -> BacktestResult:
        engine, venue = self.build_engine()
        strategy = self.strategy
        primary = next(iter(self.instruments))
        strategy.bind(engine, primary)
        margin_events: list[dict[str, Any]] = []
        venue.on_margin_call = lambda s, eq, mm: margin_events.append(
            {"ts": engine.clock.now(), "instrument": s, "equity": eq, "maintenance": mm}
        )
        schedule = self.schedule(engine)
        strategy.on_start()
        t0 = time.perf_counter()
        loop = EventLoop(engine, venue, strategy, schedule, self.funding_events(engine))
        n = schedule.size
        chunk = max(n // 100, 50_000)
        for start in range(0, n, chunk):
            loop.run(start, min(start + chunk, n))
            if progress is not None:
                progress(min(start + chunk, n), n)
        elapsed = time.perf_counter() - t0
        engine.clock.set(schedule.times[-1] if n else 0)
        strategy.on_stop()
        return build_result(self, engine, schedule, elapsed, margin_events)

    def schedule(self, engine: TradingEngine) -> Schedule:
        """Every event of the run in time order."""
        kinds: list[np.ndarray] = []
        times: list[np.ndarray] = []
        srcs: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        self._sources: list[Any] = []
        for feed in engine.feeds.values():
            n = len(feed)
            self._sources.append(feed)
            times.append(feed.arrays["ts"] + feed.tf_ns)  # a bar is known when it closes
            kinds.append(np.zeros(n, np.int8))
            srcs.append(np.full(n, len(self._sources) - 1, np.int32))
            rows.append(np.arange(n, dtype=np.int64))
        for kind, ticks in ((1, self.quotes), (2, self.trades)):
            for sym, df in ticks.items():
                cols = ("bid", "ask") if kind == 1 else ("price", "size")
                missing = [c for c in ("ts", *cols) if c not in df.columns]
                if missing:
                    what = "quotes" if kind == 1 else "trades"
                    raise ConfigError(f"{sym} {what} lack column(s) {', '.join(missing)}")
                ts = df["ts"].to_numpy(np.int64)
                self._sources.append((kind, sym, df))
                times.append(ts)
                kinds.append(np.full(len(ts), kind, np.int8))
                srcs.append(np.full(len(ts), len(self._sources) - 1, np.int32))
                rows.append(np.arange(len(ts), dtype=np.int64))
        if len(times) == 1:  # one bar feed: already in time order
            return Schedule(times[0], kinds[0], srcs[0], rows[0], self._sources)
        all_t = np.concatenate(times)
        all_k = np.concatenate(kinds)
        all_s = np.concatenate(srcs)
        all_r = np.concatenate(rows)
        order = np.lexsort((all_r, all_s, all_k, all_t))
        return Schedule(all_t[order], all_k[order], all_s[order], all_r[order], self._sources)

    def funding_events(self, engine: TradingEngine) -> list[tuple[int, str, float]]:
        events: list[tuple[int, str, float]] = []
        for sym, df in self.funding.items():
            if not self.instruments[sym].is_margin_settled:
                raise ConfigError(f"funding rates given for {sym}, which is not a perpetual")
            for col in ("ts", "rate"):
                if col not in df.columns:
                    raise ConfigError(f"{sym} funding rates lack column {col!r}")
            events.extend(
                zip(
                    df["ts"].astype(np.int64).tolist(),
                    repeat(sym),
                    df["rate"].astype(float).tolist(),
                    strict=False,
                )
            )
        events.sort()
        return events


@dataclass
class Schedule:
    """Every event of the run in time order (bars at their close time; ties: bars first)."""

    times: np.ndarray
    kinds: np.ndarray  # 0 bar, 1 quote, 2 trade
    sources: np.ndarray
    rows: np.ndarray
    source_list: list[Any]

    @property
    def size(self) -> int:
        return len(self.times)


class EventLoop:
    """The per-event loop, split out so it can run in chunks (for the progress bar)."""

    def __init__(
        self,
        engine: TradingEngine,
        venue: SimulatedVenue,
        strategy: Strategy,
        schedule: Schedule,
        funding: list[tuple[int, str, float]],
    ) -> None:
        self.engine = engine
        self.venue = venue
        self.strategy = strategy
        self.schedule = schedule
        self.funding = funding
        self.fi = 0
        single_feed = len(schedule.source_list) == 1 and isinstance(schedule.source_list[0], Feed)
        self.single: Feed | None = schedule.source_list[0] if single_feed else None
        if self.single is None or funding:
            self._src = schedule.sources.tolist()
            self._row = schedule.rows.tolist()
            self._kind = schedule.kinds.tolist()
            self._lists = [
                {k: v.tolist() for k, v in s.arrays.items()} if isinstance(s, Feed) else None
                for s in schedule.source_list
            ]

    def _next_funding(self) -> int:
        return self.funding[self.fi][0] if self.fi < len(self.funding) else 2**63 - 1

    def _pay_funding(self, now: int) -> None:
        while self.fi < len(self.funding) and self.funding[self.fi][0] <= now:
            ts, sym, rate = self.funding[self.fi]
            mark = self.engine.mark(sym)
            if not math.isnan(mark):
                amount = self.venue.apply_funding(sym, rate, mark)
                if amount:
                    self.engine.bus.publish(
                        "funding", {"ts": ts, "instrument": sym, "rate": rate, "amount": amount}
                    )
            self.fi += 1

    def run(self, start: int, stop: int) -> None:
        if self.single is not None and not self.funding:
            self._run_single(self.single, start, stop)
        else:
            self._run_general(start, stop)

    def _run_single(self, feed: Feed, start: int, stop: int) -> None:
        """The common case, one bar feed: the tightest loop we can write in Python."""
        a = feed.arrays
        sym, tf, tf_ns = feed.instrument, feed.timeframe, feed.tf_ns
        # memoryviews yield Python ints/floats lazily: ~3x cheaper than .tolist() + iterating
        ts, o, h, lo, c, v = (
            a[k].data[start:stop] for k in ("ts", "open", "high", "low", "close", "volume")
        )
        book = self.venue.book[sym]
        process_bar = self.venue.process_bar
        fill_at_close = self.venue.fill_at_close if self.venue.config.fill_at_close else None
        pf = self.engine.portfolio
        clock = self.engine.clock
        margin = pf.account.is_margin
        on_bar = self.strategy.on_bar
        # Bars are built in C (map over tuple.__new__), not by a Python call per bar.
        rows = zip(repeat(sym), repeat(tf), ts, o, h, lo, c, v, strict=False)
        bars = map(tuple.__new__, repeat(Bar), rows)
        if not margin and fill_at_close is None:
            # The common case gets the leanest loop: the clock reads the time off the feed
            # cursor instead of being set on every bar.
            clock.follow(feed)
            for i, bar in enumerate(bars, start):
                if book:
                    pf.step = i  # fills are tagged with the step they happen in
                    process_bar(sym, bar[2], bar[3], bar[4], bar[5], bar[6], bar[7])
                feed.cursor = i
                on_bar(bar)
            clock.follow(None)
            clock.ts = ts[-1] + tf_ns if len(ts) else clock.ts
            return
        for i, bar in enumerate(bars, start):
            t = bar[2]
            if book:
                pf.step = i  # fills are tagged with the step they happen in
                process_bar(sym, t, bar[3], bar[4], bar[5], bar[6], bar[7])
            feed.cursor = i
            clock.ts = t + tf_ns
            if margin and pf.borrowing():
                pf.step = i
                self.venue.check_liquidation(sym, t, bar[3], bar[4], bar[5])
            on_bar(bar)
            if fill_at_close is not None and book:
                pf.step = i
                fill_at_close(sym, t, bar[6], bar[7])

    def _run_general(self, start: int, stop: int) -> None:
        """Many feeds, ticks and/or funding: dispatch each event by kind."""
        eng, venue, strat = self.engine, self.venue, self.strategy
        pf, clock = eng.portfolio, eng.clock
        srcs, rows, kinds = self.schedule.source_list, self._row, self._kind
        times = self.schedule.times
        margin = pf.account.is_margin
        at_close = venue.config.fill_at_close
        next_funding = self._next_funding()
        for k in range(start, stop):
            s = self._src[k]
            i = rows[k]
            kind = kinds[k]
            now = int(times[k])
            pf.step = k
            if kind == 0:
                feed: Feed = srcs[s]
                lst = self._lists[s]
                assert lst is not None
                sym = feed.instrument
                t = lst["ts"][i]
                if t >= next_funding:
                    clock.ts = t
                    self._pay_funding(t)
                    next_funding = self._next_funding()
                o, h, lo, c, v = (
                    lst["open"][i],
                    lst["high"][i],
                    lst["low"][i],
                    lst["close"][i],
                    lst["volume"][i],
                )
                exec_feed = eng.exec_feed[sym] is feed
                if exec_feed and venue.book[sym]:
                    venue.process_bar(sym, t, o, h, lo, c, v)
                feed.cursor = i
                if exec_feed:
                    eng.last_tick_price.pop(sym, None)
                clock.ts = now
                if margin and exec_feed and pf.borrowing():
                    venue.check_liquidation(sym, t, o, h, lo)
                strat.on_bar(Bar(sym, feed.timeframe, t, o, h, lo, c, v))
                if at_close and exec_feed and venue.book[sym]:
                    venue.fill_at_close(sym, t, c, v)
                continue
            _, sym, df = srcs[s]
            if now >= next_funding:
                clock.ts = now
                self._pay_funding(now)
                next_funding = self._next_funding()
            clock.ts = now
            if kind == 1:
                bid, ask = float(df["bid"].iat[i]), float(df["ask"].iat[i])
                bs = float(df["bid_size"].iat[i]) if "bid_size" in df.columns else 0.0
                asz = float(df["ask_size"].iat[i]) if "ask_size" in df.columns else 0.0
                venue.process_quote(sym, now, bid, ask, bs, asz)
                eng.last_tick_price[sym] = (bid + ask) / 2.0
                strat.on_quote(QuoteTick(sym, now, bid, ask, bs, asz))
            else:
                px, size = float(df["price"].iat[i]), float(df["size"].iat[i])
                venue.process_trade(sym, now, px, size)
                eng.last_tick_price[sym] = px
                strat.on_trade(TradeTick(sym, now, px, size))
        if stop >= self.schedule.size:
            self._pay_funding(int(times[-1]) if len(times) else 0)


def run_backtest(
    data: Mapping[str, pd.DataFrame],
    strategy: str | type[Strategy],
    params: Mapping[str, Any] | None = None,
    *,
    config: BacktestConfig | None = None,
    progress: Progress | None = None,
    **config_kw: Any,
) -> BacktestResult:
    """Convenience: ``run_backtest({"BTCUSDT": df}, "sma_cross", {"fast": 10}, cash=1e5)``."""
    cfg = replace(config or BacktestConfig(), **config_kw)
    return Backtest(data, strategy, cfg, **dict(params or {})).run(progress)
