"""Tradewind's vectorized engine against vectorbt, backtesting.py and backtrader, same rules.

    uv run --frozen --group bench python benchmarks/bench_peers.py [--bars N] [--quick]
        [--json PATH] [--markdown PATH]

Data: the first ``--bars`` (default 1,000,000) Binance BTC/USDT 1m candles of
../shared/data/binance_BTCUSDT_1m.csv.gz. Rules for every engine: SMA(fast) / SMA(slow) cross on
the close, long only, enter when fast crosses above slow and exit when it crosses below; the
signal of bar t fills at bar t+1's open; all-in (the whole cash, fees included); commission 0.1 %
of notional per fill; cash 100,000; an open position is marked at the last close.

Tasks: a single SMA(10, 30) backtest on every engine, and the 90-pair sweep (fast 5..50 step 5 x
slow 20..200 step 20, fast < slow) on Tradewind (``optimize``) and vectorbt (one
``Portfolio.from_signals`` call with 90 columns, as its users write it). backtesting.py and
backtrader run the single backtest only (backtrader on a 100k-bar slice: it is slow).

Each task runs in its own process, so the peak RSS reported is that task's (the whole process:
Python, the engine's imports and the data). JIT compilation is excluded: every task first runs
its path on a small slice (numba caches on disk). The peers are benchmark-only dependencies
(the ``bench`` group); nothing in ``src/`` imports them. Check: the trade counts and final
equity of Tradewind and vectorbt for SMA(10, 30) and for every column of the sweep.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"
CASH = 100_000.0
FEE = 0.001
FAST, SLOW = 10, 30
GRID = {"fast": "5:50:5", "slow": "20:200:20"}
CONSTRAINTS = ["fast < slow"]
WARM_BARS = 3_000
VBT_MIN_SIZE = 1e-8  # vectorbt's default ``min_size`` (settings.portfolio)
# vectorbt's 90-column sweep peaks at ~12 KB per bar (1M bars: 11.9 GB RSS, measured), + margin
VBT_SWEEP_BYTES_PER_BAR = 13_500

Result = dict[str, Any]
TW = "Tradewind (vector)"


# --- shared helpers --------------------------------------------------------------------------


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Run ``fn`` ``repeat`` times; (wall times, last result). The previous result is dropped
    before each run so memory holds one run's worth."""
    times: list[float] = []
    out: Any = None
    for _ in range(repeat):
        out = None
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def row(
    key: str, engine: str, task: str, bars: int, runs: int, times: list[float], note: str = ""
) -> Result:
    """One line of the results table (``key`` names it for the comparisons)."""
    return {
        "key": key,
        "engine": engine,
        "task": task,
        "bars": bars,
        "runs": runs,
        "best_s": min(times),
        "median_s": statistics.median(times),
        "times_s": times,
        "note": note,
    }


def grid_points() -> list[dict[str, int]]:
    """The 90 (fast, slow) pairs, in the order of ``ParamSpace.grid`` (fast-major)."""
    fast = range(5, 51, 5)
    slow = range(20, 201, 20)
    return [{"fast": f, "slow": s} for f in fast for s in slow if f < s]


def ohlcv_frame(d: dict[str, np.ndarray], bars: int) -> pd.DataFrame:
    """Tradewind's bar frame (ts int64 ns + OHLCV) of the first ``bars`` rows."""
    cols = ("ts", "open", "high", "low", "close", "volume")
    return pd.DataFrame({c: d[c][:bars] for c in cols})


def naive_index(ts: np.ndarray, tz_aware: bool = False) -> pd.DatetimeIndex:
    """UTC wall-clock times. tz-naive by default: vectorbt 1.2 on pandas 3 turns a tz-aware
    index into an object array of Timestamps on every result it wraps (~60x slower)."""
    idx = pd.DatetimeIndex(ts.astype("datetime64[ns]"))
    return idx.tz_localize("UTC") if tz_aware else idx


def capitalized(d: dict[str, np.ndarray], bars: int) -> pd.DataFrame:
    """The Open/High/Low/Close/Volume frame backtesting.py and backtrader read."""
    return pd.DataFrame(
        {
            "Open": d["open"][:bars],
            "High": d["high"][:bars],
            "Low": d["low"][:bars],
            "Close": d["close"][:bars],
            "Volume": d["volume"][:bars],
        },
        index=naive_index(d["ts"][:bars]),
    )


# --- Tradewind --------------------------------------------------------------------------------


def tw_single(d: dict[str, np.ndarray], cfg: Result) -> Result:
    """One SMA(10, 30) backtest: ``simulate`` alone, and signals + simulate."""
    from tradewind.backtest.vector import VECTOR_BUILTINS, Bars, VectorConfig, simulate

    n, repeat = cfg["bars"], cfg["repeat"]
    vcfg = VectorConfig(cash=CASH, commission=FEE)
    sma = VECTOR_BUILTINS["sma_cross"]
    frame = ohlcv_frame(d, n)
    warm = Bars(frame.iloc[:WARM_BARS], "BTCUSDT")
    simulate(warm, sma(fast=FAST, slow=SLOW).signals(warm), vcfg)

    bars = Bars(frame, "BTCUSDT")
    sig = sma(fast=FAST, slow=SLOW).signals(bars)
    sim_t, res = timed(lambda: simulate(bars, sig, vcfg), repeat)
    fresh = iter([Bars(frame, "BTCUSDT") for _ in range(repeat)])  # empty indicator caches

    def full() -> Any:
        b = next(fresh)
        return simulate(b, sma(fast=FAST, slow=SLOW).signals(b), vcfg)

    full_t, _ = timed(full, repeat)
    m = res.summary()
    note = f"{int(m['trades'])} closed trades, final equity {m['final_equity']:.6g}"
    return {
        "rows": [
            row("tw_sim", TW, "single run: simulate (signals precomputed)", n, 1, sim_t, note),
            row("tw_single", TW, "single run: signals + simulate", n, 1, full_t),
        ]
    }


def tw_sweep(d: dict[str, np.ndarray], cfg: Result) -> Result:
    """The 90-pair grid through ``optimize``: parameter list to metrics table."""
    from tradewind.backtest.optimize import ParamSpace, optimize
    from tradewind.backtest.vector import VECTOR_BUILTINS, Bars, VectorConfig

    n, repeat = cfg["bars"], cfg["sweep_repeat"]
    vcfg = VectorConfig(cash=CASH, commission=FEE)
    space = ParamSpace(VECTOR_BUILTINS["sma_cross"], GRID, CONSTRAINTS)
    if space.grid() != grid_points():
        raise RuntimeError("ParamSpace.grid() order changed; the column checks assume it")
    frame = ohlcv_frame(d, n)

    def sweep(b: Any) -> Any:
        return optimize(
            b,
            "sma_cross",
            space,
            method="grid",
            objectives=["sharpe"],
            vector_config=vcfg,
            overfit=False,
        )

    sweep(Bars(frame.iloc[:WARM_BARS], "BTCUSDT"))
    fresh = iter([Bars(frame, "BTCUSDT") for _ in range(repeat)])
    times, res = timed(lambda: sweep(next(fresh)), repeat)
    import numba

    threads = int(numba.get_num_threads())
    task = f"{len(res.table)}-pair SMA sweep (optimize, grid), {threads} thread(s)"
    return {
        "rows": [row(f"tw_sweep_{threads}t", TW, task, n, len(res.table), times)],
        "columns": {
            "trades": res.table["trades"].astype(int).tolist(),
            "final_equity": res.table["final_equity"].astype(float).tolist(),
        },
    }


# --- vectorbt ---------------------------------------------------------------------------------


def _vbt() -> Any:
    return importlib.import_module("vectorbt")


def vbt_signals(vbt: Any, close: pd.Series, fast: Any, slow: Any) -> tuple[Any, Any]:
    """vectorbt's idiom (``MA.run`` + ``ma_crossed_above/below``), shifted one bar so that
    a cross at bar t's close trades at bar t+1's price (the open, given as ``price``)."""
    fm = vbt.MA.run(close, window=fast, short_name="fast")
    sm = vbt.MA.run(close, window=slow, short_name="slow")
    entries = fm.ma_crossed_above(sm).shift(1, fill_value=False)
    exits = fm.ma_crossed_below(sm).shift(1, fill_value=False)
    return entries, exits


def vbt_portfolio(
    vbt: Any, close: pd.Series, openp: pd.Series, entries: Any, exits: Any, **kw: Any
) -> Any:
    """All-in long (size=inf buys cash / (price * (1 + fees))), filled at ``price`` = open."""
    return vbt.Portfolio.from_signals(
        close,
        entries,
        exits,
        price=openp,
        fees=FEE,
        init_cash=CASH,
        size=np.inf,
        freq="1min",
        **kw,
    )


def vbt_stats(pf: Any) -> tuple[Any, Any, Any, Any]:
    """The metrics a sweep ranks by (Tradewind's table has these and more)."""
    return pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown(), pf.trades.count()


def vbt_single(d: dict[str, np.ndarray], cfg: Result) -> Result:
    """One SMA(10, 30) backtest: from_signals + stats, and signals + from_signals + stats."""
    vbt = _vbt()
    n, repeat, tz = cfg["bars"], cfg["repeat"], bool(cfg.get("tz_aware"))
    idx = naive_index(d["ts"][:n], tz)
    close = pd.Series(d["close"][:n], index=idx)
    openp = pd.Series(d["open"][:n], index=idx)

    def once(c: pd.Series, o: pd.Series) -> Any:
        en, ex = vbt_signals(vbt, c, FAST, SLOW)
        pf = vbt_portfolio(vbt, c, o, en, ex)
        vbt_stats(pf)
        return pf

    once(close.iloc[:WARM_BARS], openp.iloc[:WARM_BARS])
    entries, exits = vbt_signals(vbt, close, FAST, SLOW)

    def portfolio() -> Any:
        pf = vbt_portfolio(vbt, close, openp, entries, exits)
        vbt_stats(pf)
        return pf

    pf_t, pf = timed(portfolio, repeat)
    if tz:
        task = "single run: from_signals + stats, tz-aware index"
        return {"rows": [row("vbt_tz", "vectorbt", task, n, 1, pf_t)]}
    full_t, _ = timed(lambda: once(close, openp), repeat)
    note = (
        f"{int(pf.trades.closed.count())} closed trades, final value {float(pf.final_value()):.6g}"
    )
    return {
        "rows": [
            row(
                "vbt_sim",
                "vectorbt",
                "single run: from_signals + stats (signals precomputed)",
                n,
                1,
                pf_t,
                note,
            ),
            row(
                "vbt_single", "vectorbt", "single run: signals + from_signals + stats", n, 1, full_t
            ),
        ]
    }


def vbt_sweep(d: dict[str, np.ndarray], cfg: Result) -> Result:
    """The 90 pairs as 90 columns: ``MA.run`` over the windows, one ``from_signals`` call."""
    vbt = _vbt()
    n, repeat = cfg["bars"], cfg["vbt_sweep_repeat"]
    idx = naive_index(d["ts"][:n])
    close = pd.Series(d["close"][:n], index=idx)
    openp = pd.Series(d["open"][:n], index=idx)
    pts = grid_points()
    fast = [p["fast"] for p in pts]
    slow = [p["slow"] for p in pts]
    parts: list[tuple[float, float]] = []

    def sweep(c: pd.Series, o: pd.Series) -> Any:
        t0 = time.perf_counter()
        en, ex = vbt_signals(vbt, c, fast, slow)
        t1 = time.perf_counter()
        pf = vbt_portfolio(vbt, c, o, en, ex)
        out = vbt_stats(pf)
        parts.append((t1 - t0, time.perf_counter() - t1))
        return pf, out

    sweep(close.iloc[:WARM_BARS], openp.iloc[:WARM_BARS])
    parts.clear()
    times, (pf, stats) = timed(lambda: sweep(close, openp), repeat)
    k = int(np.argmin(times))
    sig_s, pf_s = parts[k]
    if len(stats[0]) != len(pts):
        raise RuntimeError(f"vectorbt sweep returned {len(stats[0])} columns, not {len(pts)}")
    note = f"signals {sig_s:.1f} s + from_signals & stats {pf_s:.1f} s"
    return {
        "rows": [
            row(
                "vbt_sweep",
                "vectorbt",
                f"{len(pts)}-column SMA sweep (one from_signals call)",
                n,
                len(pts),
                times,
                note,
            )
        ],
        "columns": {
            "max_open": float(np.max(d["open"][:n])),
            "trades": pf.trades.closed.count().astype(int).tolist(),
            "final_equity": pf.final_value().astype(float).tolist(),
        },
    }


# --- backtesting.py and backtrader ------------------------------------------------------------


def btpy_single(d: dict[str, np.ndarray], cfg: Result) -> Result:
    """backtesting.py's SMA cross with ``self.I``, long only. ``FractionalBacktest`` (a
    ``Backtest`` trading in satoshi units): plain ``Backtest`` buys whole units, i.e. whole
    bitcoins, so its all-in entry is not all-in and the runs would not compare."""
    bt = importlib.import_module("backtesting")
    lib = importlib.import_module("backtesting.lib")
    n, repeat = cfg["btpy_bars"], cfg["slow_repeat"]

    def sma(values: Any, period: int) -> pd.Series:
        return pd.Series(values).rolling(period).mean()

    class SmaCross(bt.Strategy):  # type: ignore[misc,name-defined]
        fast = FAST
        slow = SLOW

        def init(self) -> None:
            self.f = self.I(sma, self.data.Close, self.fast)
            self.s = self.I(sma, self.data.Close, self.slow)

        def next(self) -> None:
            if lib.crossover(self.f, self.s):
                if not self.position:
                    self.buy()  # default size: all the equity, fees included
            elif lib.crossover(self.s, self.f) and self.position:
                self.position.close()

    def run(df: pd.DataFrame) -> Any:
        test = lib.FractionalBacktest(df, SmaCross, cash=CASH, commission=FEE, trade_on_close=False)
        return test.run()

    run(capitalized(d, WARM_BARS))
    df = capitalized(d, n)
    times, stats = timed(lambda: run(df), repeat)
    note = (
        f"FractionalBacktest (satoshi units); {int(stats['# Trades'])} closed trades, "
        f"final equity {float(stats['Equity Final [$]']):.6g}"
    )
    return {
        "rows": [row("btpy", "backtesting.py", "single run: Backtest.run", n, 1, times, note)],
        "check": {"trades": int(stats["# Trades"]), "final": float(stats["Equity Final [$]"])},
    }


def bt_single(d: dict[str, np.ndarray], cfg: Result) -> Result:
    """backtrader's SMA ``CrossOver``, long only. ``cheat_on_open``: the cross seen at bar t's
    close becomes an order in ``next_open`` of bar t+1, sized from that open (cash / (open x
    (1 + fee)), less 1e-12 so rounding cannot exceed the cash) and filled at it."""
    bt = importlib.import_module("backtrader")
    n, repeat = cfg["bt_bars"], cfg["slow_repeat"]

    class SmaCross(bt.Strategy):  # type: ignore[misc,name-defined]
        params = (("fast", FAST), ("slow", SLOW))

        def __init__(self) -> None:
            fast = bt.ind.SMA(self.data.close, period=self.p.fast)
            slow = bt.ind.SMA(self.data.close, period=self.p.slow)
            self.cross = bt.ind.CrossOver(fast, slow)
            self.want = 0
            self.closed = 0

        def next(self) -> None:
            if not self.position and self.cross[0] > 0:
                self.want = 1
            elif self.position and self.cross[0] < 0:
                self.want = -1

        def next_open(self) -> None:
            if self.want > 0:
                cash = self.broker.getcash()
                self.buy(size=cash / (self.data.open[0] * (1 + FEE)) * (1 - 1e-12))
            elif self.want < 0:
                self.close()
            self.want = 0

        def notify_trade(self, trade: Any) -> None:
            if trade.isclosed:
                self.closed += 1

    def run(df: pd.DataFrame) -> tuple[int, float]:
        cerebro = bt.Cerebro(cheat_on_open=True, stdstats=False)
        cerebro.adddata(bt.feeds.PandasData(dataname=df))
        cerebro.addstrategy(SmaCross)
        cerebro.broker.setcash(CASH)
        cerebro.broker.setcommission(commission=FEE)
        cerebro.broker.set_coo(True)
        strat = cerebro.run()[0]
        return int(strat.closed), float(cerebro.broker.getvalue())

    run(capitalized(d, WARM_BARS))
    df = capitalized(d, n)
    times, (trades, final) = timed(lambda: run(df), repeat)
    note = f"cheat_on_open, stdstats off; {trades} closed trades, final equity {final:.6g}"
    return {
        "rows": [row("bt", "backtrader", "single run: Cerebro.run", n, 1, times, note)],
        "check": {"trades": trades, "final": final},
    }


# --- agreement check --------------------------------------------------------------------------


def check(d: dict[str, np.ndarray], cfg: Result) -> Result:
    """Untimed: SMA(10, 30) on Tradewind and vectorbt, on the same and on each one's own
    signals, trade by trade; and Tradewind on the slices backtesting.py and backtrader ran."""
    from tradewind.backtest.vector import VECTOR_BUILTINS, Bars, VectorConfig, simulate

    vbt = _vbt()
    n = cfg["bars"]
    vcfg = VectorConfig(cash=CASH, commission=FEE)
    sma = VECTOR_BUILTINS["sma_cross"]
    bars = Bars(ohlcv_frame(d, n), "BTCUSDT")
    sig = sma(fast=FAST, slow=SLOW).signals(bars)
    tw = simulate(bars, sig, vcfg)
    eq_tw = tw.equity.iloc[:, 0].to_numpy()
    entry_idx_tw = np.searchsorted(bars.ts, tw.trades["entry_time"].astype("int64").to_numpy())
    qty_tw = tw.trades["quantity"].to_numpy()

    idx = naive_index(d["ts"][:n])
    close = pd.Series(d["close"][:n], index=idx)
    openp = pd.Series(d["open"][:n], index=idx)
    ent = pd.Series(np.asarray(sig.entries), index=idx).shift(1, fill_value=False)
    ext = pd.Series(np.asarray(sig.exits), index=idx).shift(1, fill_value=False)

    def summary(pf: Any) -> Result:
        return {
            "closed": int(pf.trades.closed.count()),
            "open": int(pf.trades.open.count()),
            "final": float(pf.final_value()),
        }

    same = vbt_portfolio(vbt, close, openp, ent, ext)
    exact = vbt_portfolio(vbt, close, openp, ent, ext, min_size=0.0)
    v_en, v_ex = vbt_signals(vbt, close, FAST, SLOW)
    own = vbt_portfolio(vbt, close, openp, v_en, v_ex)

    rec = exact.trades.closed.records_arr
    m = min(len(rec), len(qty_tw))
    idx_v = np.asarray(rec["entry_idx"])[:m]
    diverge = np.nonzero(idx_v != entry_idx_tw[:m])[0]
    eq_v = exact.value().to_numpy()
    solvent = eq_tw > 1.0  # compare the curves while the account holds more than $1
    rec_d = same.trades.closed.records_arr
    first = int(entry_idx_tw[0]) if len(entry_idx_tw) else -1
    by_hand = CASH / (d["open"][first] * (1 + FEE)) if first >= 0 else float("nan")

    slices: dict[str, Result] = {}
    for name, k in (("backtesting.py", cfg["btpy_bars"]), ("backtrader", cfg["bt_bars"])):
        b = Bars(ohlcv_frame(d, k), "BTCUSDT")
        r = simulate(b, sma(fast=FAST, slow=SLOW).signals(b), vcfg)
        slices[name] = {
            "bars": k,
            "trades": int(r.metrics["trades"].iloc[0]),
            "final": float(r.metrics["final_equity"].iloc[0]),
        }
    differ_en = int(np.count_nonzero(np.asarray(v_en, dtype=bool) != np.asarray(ent, dtype=bool)))
    differ_ex = int(np.count_nonzero(np.asarray(v_ex, dtype=bool) != np.asarray(ext, dtype=bool)))
    columns = sweep_signal_check(vbt, bars, close)
    return {
        "check": {
            "bars": n,
            "params": {"fast": FAST, "slow": SLOW},
            "tradewind": {
                "closed": len(tw.trades),
                "open": len(tw.open_positions),
                "final": float(eq_tw[-1]),
            },
            "vectorbt_same_signals": summary(same),
            "vectorbt_same_signals_min_size_0": summary(exact),
            "vectorbt_own_signals": summary(own),
            "entry_signals_differing_bars": differ_en,
            "exit_signals_differing_bars": differ_ex,
            "min_size_0_identical_leading_trades": int(diverge[0]) if len(diverge) else m,
            "min_size_0_size_max_rel_diff": float(
                np.max(np.abs(np.asarray(rec["size"])[:m] / qty_tw[:m] - 1.0)) if m else 0.0
            ),
            "min_size_0_equity_max_rel_diff_while_above_1usd": float(
                np.max(np.abs(eq_v[solvent] / eq_tw[solvent] - 1.0)) if solvent.any() else 0.0
            ),
            "default_last_trade_size": float(rec_d["size"][-1]) if len(rec_d) else None,
            "first_entry": {
                "bar": first,
                "by_hand_cash_over_open_x_1_plus_fee": float(by_hand),
                "tradewind": float(qty_tw[0]) if len(qty_tw) else None,
                "vectorbt": float(rec_d["size"][0]) if len(rec_d) else None,
            },
            "slices": slices,
            "sweep_columns": columns,
        }
    }


def sweep_signal_check(vbt: Any, bars: Any, close: pd.Series) -> Result:
    """Per sweep column: do vectorbt's own signals (its MA and crossing kernel) equal
    Tradewind's? Where they differ, is it at a tie: Tradewind's two SMAs within 1e-10 x close
    of each other on that bar or the one before (equal to the cent, ordered by rounding, which
    vectorbt's running-sum mean, off by ~1e-7, orders differently)?"""
    from tradewind.backtest.vector import VECTOR_BUILTINS
    from tradewind.indicators import sma

    pts = grid_points()
    windows = sorted({p["fast"] for p in pts} | {p["slow"] for p in pts})
    ma = vbt.MA.run(close, window=windows).ma.to_numpy()
    equal: list[bool] = []
    differing = 0
    at_ties = 0
    for p in pts:
        sig = VECTOR_BUILTINS["sma_cross"](**p).signals(bars)
        fa = ma[:, windows.index(p["fast"])][:, None]
        sa = ma[:, windows.index(p["slow"])][:, None]
        en = vbt.generic.nb.crossed_above_nb(fa, sa)[:, 0]  # what ma_crossed_above runs
        ex = vbt.generic.nb.crossed_above_nb(sa, fa)[:, 0]
        bad = np.nonzero((en != np.asarray(sig.entries)) | (ex != np.asarray(sig.exits)))[0]
        equal.append(len(bad) == 0)
        if len(bad):
            diff = np.abs(
                bars.ind(sma, "close", p["fast"], compensated=True)
                - bars.ind(sma, "close", p["slow"], compensated=True)
            )
            tol = 1e-10 * bars.close[bad]
            tie = (diff[bad] <= tol) | (diff[np.maximum(bad - 1, 0)] <= tol)
            differing += len(bad)
            at_ties += int(np.count_nonzero(tie))
    return {"signals_equal": equal, "differing_bars": differing, "differing_at_ties": at_ties}


def baseline(d: dict[str, np.ndarray], cfg: Result) -> Result:
    """A process that only imports pandas + Tradewind's engine and holds the data."""
    importlib.import_module("tradewind.backtest.vector")
    ohlcv_frame(d, cfg["bars"])
    return {}


WORKERS: dict[str, Callable[[dict[str, np.ndarray], Result], Result]] = {
    "baseline": baseline,
    "tw_single": tw_single,
    "tw_sweep": tw_sweep,
    "tw_sweep_1thread": tw_sweep,
    "vbt_single": vbt_single,
    "vbt_single_tz": vbt_single,
    "vbt_sweep": vbt_sweep,
    "btpy_single": btpy_single,
    "bt_single": bt_single,
    "check": check,
}
ENGINES = {
    "tradewind": ("tw_single", "tw_sweep", "tw_sweep_1thread"),
    "vectorbt": ("vbt_single", "vbt_single_tz", "vbt_sweep"),
    "backtesting": ("btpy_single",),
    "backtrader": ("bt_single",),
}


def worker(task: str, workdir: Path) -> int:
    """Child process: run one task, write ``<task>.json`` into ``workdir``."""
    warnings.simplefilter("ignore")
    cfg = json.loads((workdir / "config.json").read_text())
    if task == "vbt_single_tz":
        cfg["tz_aware"] = True
        cfg["repeat"] = 1
    with np.load(workdir / "data.npz") as z:
        d = {k: z[k] for k in z.files}
    out = WORKERS[task](d, cfg)
    out["peak_rss_mb"] = peak_rss_mb()
    (workdir / f"{task}.json").write_text(json.dumps(out))
    return 0


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM: since its exec, unlike ``ru_maxrss`` of a
    child, which also counts the parent's memory at the fork)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


# --- parent -----------------------------------------------------------------------------------


def spawn(task: str, workdir: Path, env: dict[str, str]) -> tuple[Result | None, float, int]:
    """Run one worker; (its output, its peak RSS in MB, exit code)."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        task,
        "--workdir",
        str(workdir),
    ]
    code = subprocess.run(cmd, env=env, check=False).returncode
    path = workdir / f"{task}.json"
    out = json.loads(path.read_text()) if code == 0 and path.exists() else None
    return out, float(out["peak_rss_mb"]) if out else float("nan"), code


def mem_available() -> float:
    """Bytes the kernel reports as available (inf where /proc/meminfo is missing)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float("inf")


def markdown(rows: list[Result]) -> str:
    out = [
        "| engine | task | bars | runs | best s | median s | bar-steps/s | runs/s "
        "| peak RSS MB | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r.get("skipped"):
            out.append(
                f"| {r['engine']} | {r['task']} | {r['bars']:,} | {r['runs']} "
                f"| – | – | – | – | – | {r['note']} |"
            )
            continue
        best = r["best_s"]
        out.append(
            f"| {r['engine']} | {r['task']} | {r['bars']:,} | {r['runs']} | {best:.3f} "
            f"| {r['median_s']:.3f} | {r['bars'] * r['runs'] / best:,.0f} "
            f"| {r['runs'] / best:,.2f} | {r['peak_rss_mb']:,.0f} | {r['note']} |"
        )
    return "\n".join(out)


def _find(rows: list[Result], *keys: str) -> Result | None:
    """The first measured row with one of ``keys`` (in the order given)."""
    for key in keys:
        for r in rows:
            if r.get("key") == key and not r.get("skipped"):
                return r
    return None


def _rate(r: Result) -> float:
    return float(r["bars"] * r["runs"] / r["best_s"])


def findings(rows: list[Result], outs: dict[str, Result], n: int) -> list[str]:
    """Speed ratios, extrapolations and the agreement checks, as printable lines."""
    lines: list[str] = []
    tw1 = _find(rows, "tw_single")
    tws = _find(rows, *(f"tw_sweep_{k}t" for k in range(os.cpu_count() or 1, 0, -1)))
    v1 = _find(rows, "vbt_single")
    vs = _find(rows, "vbt_sweep")
    if tw1 and v1:
        lines.append(
            f"single run (signals included): Tradewind {v1['best_s'] / tw1['best_s']:.1f}x "
            f"faster than vectorbt"
        )
    if tws and vs:
        lines.append(
            f"90-pair sweep: Tradewind {vs['best_s'] / tws['best_s']:.1f}x faster than vectorbt"
        )
    for eng, key in (("backtesting.py", "btpy"), ("backtrader", "bt")):
        r = _find(rows, key)
        if r and tw1:
            scale = (
                f"est. {n / _rate(r):,.1f} s for {n:,} bars (linear extrapolation)"
                if r["bars"] < n
                else f"measured on all {n:,} bars"
            )
            lines.append(
                f"{eng}: {_rate(r):,.0f} bars/s, {scale}; Tradewind's single run (signals "
                f"included) is {_rate(tw1) / _rate(r):,.0f}x its bars/s"
            )
    chk = outs.get("check", {}).get("check")
    if chk:
        t, s, e, o = (
            chk["tradewind"],
            chk["vectorbt_same_signals"],
            chk["vectorbt_same_signals_min_size_0"],
            chk["vectorbt_own_signals"],
        )
        fe = chk["first_entry"]
        lines += [
            f"agreement, SMA({FAST}, {SLOW}) on {chk['bars']:,} bars "
            "(closed trades / open / final equity):",
            f"  Tradewind                                  {t['closed']:>6} / {t['open']} / "
            f"{t['final']:.10g}",
            f"  vectorbt, same signals (defaults)          {s['closed']:>6} / {s['open']} / "
            f"{s['final']:.10g}",
            f"  vectorbt, same signals, min_size=0         {e['closed']:>6} / {e['open']} / "
            f"{e['final']:.10g}",
            f"  vectorbt, its own MA + crossed_above/below {o['closed']:>6} / {o['open']} / "
            f"{o['final']:.10g}",
            f"  first entry (bar {fe['bar']}): size by hand cash/(open*(1+fee)) "
            f"{fe['by_hand_cash_over_open_x_1_plus_fee']:.12g}, Tradewind {fe['tradewind']:.12g}, "
            f"vectorbt {fe['vectorbt']:.12g}",
            f"  same signals, min_size=0: the first {chk['min_size_0_identical_leading_trades']}"
            f" trades enter on the same bars (of {e['closed']} / {t['closed']}); sizes max rel "
            f"diff {chk['min_size_0_size_max_rel_diff']:.2e}; equity curve max rel diff while "
            f"> $1: {chk['min_size_0_equity_max_rel_diff_while_above_1usd']:.2e}",
            f"  vectorbt's own signals differ from Tradewind's on "
            f"{chk['entry_signals_differing_bars']} entry and "
            f"{chk['exit_signals_differing_bars']} exit bars",
        ]
        if s["closed"] < t["closed"]:
            lines.append(
                f"  with defaults vectorbt's last trade was {chk['default_last_trade_size']:.3g} "
                f"BTC: it stops once the all-in order is under its min_size {VBT_MIN_SIZE:g}"
            )
        for eng, key in (("backtesting.py", "btpy_single"), ("backtrader", "bt_single")):
            peer = outs.get(key, {}).get("check")
            tw_s = chk["slices"][eng]
            if peer:
                lines.append(
                    f"  {eng} on {tw_s['bars']:,} bars: {peer['trades']} closed trades, final "
                    f"{peer['final']:.10g}; Tradewind: {tw_s['trades']}, {tw_s['final']:.10g}"
                )
    a = outs.get("tw_sweep", {}).get("columns")
    b = outs.get("vbt_sweep", {}).get("columns")
    if a and b:
        lines += sweep_agreement(a, b, chk.get("sweep_columns") if chk else None)
    return lines


def sweep_agreement(a: Result, b: Result, cols: Result | None) -> list[str]:
    """Tradewind's and vectorbt's sweep columns (each with its own signals), compared."""
    ta, tb = np.array(a["trades"]), np.array(b["trades"])
    fa, fb = np.array(a["final_equity"]), np.array(b["final_equity"])
    same = ta == tb
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(fb / fa - 1.0)
    dust = (tb < ta) & (fb < VBT_MIN_SIZE * b["max_open"] * (1 + FEE))
    alive = fa >= 1.0

    def worst(mask: np.ndarray) -> str:
        return f"{float(rel[mask].max()):.2e}" if mask.any() else "n/a"

    lines = [
        f"sweep agreement ({len(ta)} columns, each engine with its own signals): identical "
        f"closed-trade counts in {int(same.sum())}; of the {int((~same).sum())} others, "
        f"{int(dust.sum())} are columns where vectorbt stopped trading with under "
        f"{VBT_MIN_SIZE:g} BTC of equity (Tradewind keeps trading the dust); "
        f"{int(alive.sum())} columns end with >= $1"
    ]
    if cols and len(cols["signals_equal"]) == len(ta):
        eq = np.array(cols["signals_equal"])
        lines += [
            f"  signals identical in {int(eq.sum())} columns: final equity max rel diff "
            f"{worst(eq & same & alive)} where >= $1, {worst(eq & same)} over all with equal "
            f"trade counts",
            f"  signals differ in {int((~eq).sum())} columns, on {cols['differing_bars']} bars, "
            f"{cols['differing_at_ties']} of them at SMA ties (fast and slow within 1e-10 x "
            f"close; vectorbt's running-sum mean drifts ~1e-7 and orders the tie differently): "
            f"final equity max rel diff {worst(~eq & alive)} where >= $1",
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    ap.add_argument("--bars", type=int, default=1_000_000, help="first N bars (default 1M)")
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 100k bars (backtrader 20k), fewer repeats"
    )
    ap.add_argument("--repeat", type=int, default=5, help="runs of each single backtest")
    ap.add_argument("--sweep-repeat", type=int, default=3, help="runs of Tradewind's sweep")
    ap.add_argument("--vbt-sweep-repeat", type=int, default=1, help="runs of vectorbt's sweep")
    ap.add_argument(
        "--slow-repeat", type=int, default=1, help="runs of backtesting.py and backtrader"
    )
    ap.add_argument(
        "--btpy-bars", type=int, default=None, help="bars for backtesting.py (default: --bars)"
    )
    ap.add_argument("--bt-bars", type=int, default=100_000, help="bars for backtrader")
    ap.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help=f"comma-separated subset of {','.join(ENGINES)}",
    )
    ap.add_argument("--no-check", action="store_true", help="skip the agreement check")
    ap.add_argument(
        "--vbt-tz-aware",
        action="store_true",
        help="also time vectorbt's single run on a tz-aware index",
    )
    ap.add_argument("--data", type=Path, default=DATA, help="BTC/USDT 1m candles (csv.gz)")
    ap.add_argument("--json", type=Path, default=None, metavar="PATH", help="write JSON here")
    ap.add_argument(
        "--markdown", type=Path, default=None, metavar="PATH", help="write the Markdown table here"
    )
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.workdir)

    if args.quick:
        args.bars, args.bt_bars = 100_000, 20_000
        args.repeat, args.sweep_repeat = 3, 1
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    bad = [e for e in engines if e not in ENGINES]
    if bad:
        ap.error(f"--engines: unknown {', '.join(bad)}; choose from {', '.join(ENGINES)}")
    if not args.data.exists():
        print(f"skipped: data file {args.data} not found (nothing measured)")
        return 0
    missing = [
        m
        for e, m in (
            ("vectorbt", "vectorbt"),
            ("backtesting", "backtesting"),
            ("backtrader", "backtrader"),
        )
        if e in engines and importlib.util.find_spec(m) is None
    ]
    if missing:
        print(
            f"skipped: {', '.join(missing)} not installed; run with "
            "`uv run --frozen --group bench python benchmarks/bench_peers.py`"
        )
        return 0

    from tradewind.data.loader import load_ohlcv

    t0 = time.perf_counter()
    frame = next(iter(load_ohlcv(args.data).values()))
    load_s = time.perf_counter() - t0
    n = min(args.bars, len(frame))
    btpy_bars = min(args.btpy_bars or n, len(frame))
    bt_bars = min(args.bt_bars, len(frame))
    if min(n, btpy_bars, bt_bars) < 2 * WARM_BARS:
        ap.error(f"bar counts must be >= {2 * WARM_BARS}")
    top = max(n, btpy_bars, bt_bars)
    cfg = {
        "bars": n,
        "btpy_bars": btpy_bars,
        "bt_bars": bt_bars,
        "repeat": args.repeat,
        "sweep_repeat": args.sweep_repeat,
        "vbt_sweep_repeat": args.vbt_sweep_repeat,
        "slow_repeat": args.slow_repeat,
    }
    tasks = ["baseline"] + [t for e in engines for t in ENGINES[e]]
    if not args.vbt_tz_aware and "vbt_single_tz" in tasks:
        tasks.remove("vbt_single_tz")
    if not args.no_check and {"tradewind", "vectorbt"} <= set(engines):
        tasks.append("check")
    load_before = os.getloadavg()
    rows: list[Result] = []
    outs: dict[str, Result] = {}
    rss: dict[str, float] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tw-peers-") as tmp:
        work = Path(tmp)
        arrays: dict[str, Any] = {c: frame[c].to_numpy()[:top] for c in frame.columns}
        np.savez(work / "data.npz", **arrays)
        del frame
        (work / "config.json").write_text(json.dumps(cfg))
        for i, task in enumerate(tasks, 1):
            env = dict(os.environ, TQDM_DISABLE="1")
            if task == "tw_sweep_1thread":
                env["NUMBA_NUM_THREADS"] = "1"
            if task == "vbt_sweep":
                need = n * VBT_SWEEP_BYTES_PER_BAR
                if mem_available() < need:
                    msg = (
                        f"skipped: needs ~{need / 2**30:.1f} GiB free, "
                        f"{mem_available() / 2**30:.1f} available"
                    )
                    print(f"[{i}/{len(tasks)}] vbt_sweep {msg}", file=sys.stderr)
                    rows.append(
                        {
                            "key": task,
                            "engine": "vectorbt",
                            "task": "90-column SMA sweep",
                            "bars": n,
                            "runs": 90,
                            "skipped": True,
                            "note": msg,
                        }
                    )
                    continue
            print(f"[{i}/{len(tasks)}] {task} ...", file=sys.stderr, flush=True)
            t1 = time.perf_counter()
            out, peak, code = spawn(task, work, env)
            print(
                f"[{i}/{len(tasks)}] {task} done in {time.perf_counter() - t1:.1f} s "
                f"(exit {code}, peak RSS {peak:,.0f} MB)",
                file=sys.stderr,
            )
            rss[task] = peak
            if out is None:
                rows.append(
                    {
                        "key": task,
                        "engine": task,
                        "task": "failed",
                        "bars": n,
                        "runs": 0,
                        "skipped": True,
                        "note": f"exit code {code}",
                    }
                )
                continue
            outs[task] = out
            for r in out.get("rows", []):
                r["peak_rss_mb"] = peak
                rows.append(r)
    total_s = time.perf_counter() - started
    load_after = os.getloadavg()

    table = markdown(rows)
    notes = findings(rows, outs, n)
    import numba

    header = (
        f"SMA({FAST}, {SLOW}) cross, long only, all-in, commission {FEE:.1%}, cash {CASH:,.0f}, "
        f"fill at next open; Binance BTC/USDT 1m, first {n:,} bars\n"
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"numba {numba.__version__}, {os.cpu_count()} CPUs; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; "
        f"baseline process RSS {rss.get('baseline', float('nan')):,.0f} MB"
    )
    print(header + "\n")
    print(table)
    print()
    for line in notes:
        print(line)
    print(f"\n(total {total_s:.0f} s, data load {load_s:.1f} s not counted)")
    if args.markdown:
        bullets = [f"  - {x.strip()}" if x.startswith("  ") else f"- {x}" for x in notes]
        text = header.replace("\n", "  \n") + "\n\n" + table + "\n\n" + "\n".join(bullets)
        args.markdown.write_text(text + "\n")
    if args.json:
        versions = {}
        for mod in ("vectorbt", "backtesting", "backtrader"):
            spec = importlib.util.find_spec(mod)
            if spec is not None:
                from importlib.metadata import version

                versions[mod] = version(mod)
        args.json.write_text(
            json.dumps(
                {
                    "settings": cfg | {"cash": CASH, "commission": FEE, "fast": FAST, "slow": SLOW},
                    "machine": {
                        "cpus": os.cpu_count(),
                        "load_before": load_before,
                        "load_after": load_after,
                        "python": platform.python_version(),
                        "numpy": np.__version__,
                        "pandas": pd.__version__,
                        "numba": numba.__version__,
                        **versions,
                    },
                    "results": rows,
                    "check": outs.get("check", {}).get("check"),
                    "notes": notes,
                    "total_seconds": total_s,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
