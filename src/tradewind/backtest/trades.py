"""Round-trip trades from fills: a trade opens when a position leaves zero and closes when it
returns to zero (a fill that flips the position closes one trade and opens the next)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from tradewind.model.instrument import Instrument
from tradewind.model.order import Fill
from tradewind.timeutil import utc_index

TRADE_COLUMNS = [
    "instrument",
    "side",
    "quantity",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "pnl",
    "return_pct",
    "fees",
    "duration",
    "entry_fills",
    "exit_fills",
]

_REL = 1e-9


class _Open:
    __slots__ = (
        "direction",
        "entry_fills",
        "entry_notional",
        "entry_qty",
        "entry_ts",
        "exit_fills",
        "exit_notional",
        "exit_qty",
        "exit_ts",
        "fees",
        "qty",
    )

    def __init__(self, direction: int, ts: int) -> None:
        self.direction = direction
        self.qty = 0.0
        self.entry_qty = self.entry_notional = 0.0
        self.exit_qty = self.exit_notional = 0.0
        self.fees = 0.0
        self.entry_ts = ts
        self.exit_ts = ts
        self.entry_fills = self.exit_fills = 0


def round_trips(
    fills: Iterable[Fill], instruments: Mapping[str, Instrument]
) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """Closed trades as a DataFrame (``TRADE_COLUMNS``) and the still-open ones as dicts."""
    fills = list(fills)
    fast = _paired_round_trips(fills, instruments)
    if fast is not None:
        return fast
    open_: dict[str, _Open] = {}
    closed: list[dict[str, object]] = []
    for f in fills:
        mult = instruments[f.instrument].multiplier
        left = f.quantity
        sign = f.side.sign
        while left > _REL * f.quantity:
            tr = open_.get(f.instrument)
            if tr is None:
                tr = open_[f.instrument] = _Open(sign, f.ts)
            part = left if sign == tr.direction else min(left, abs(tr.qty))
            fee = f.fee * part / f.quantity
            tr.fees += fee
            if sign == tr.direction:
                tr.entry_qty += part
                tr.entry_notional += part * f.price * mult
                tr.entry_fills += 1
                tr.qty += sign * part
            else:
                tr.exit_qty += part
                tr.exit_notional += part * f.price * mult
                tr.exit_fills += 1
                tr.qty += sign * part
                tr.exit_ts = f.ts
                if abs(tr.qty) <= _REL * tr.entry_qty:
                    closed.append(_close(f.instrument, tr, mult))
                    del open_[f.instrument]
            left -= part
    return _finish(pd.DataFrame(closed, columns=TRADE_COLUMNS)), [
        _open_dict(s, t, instruments[s].multiplier) for s, t in open_.items()
    ]


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed time columns and durations (also for an empty frame)."""
    if len(frame):
        for col in ("entry_time", "exit_time"):
            frame[col] = utc_index(frame[col].to_numpy(np.int64))
        frame["duration"] = frame["exit_time"] - frame["entry_time"]
    else:
        frame = frame.astype(
            {
                "entry_time": "datetime64[ns, UTC]",
                "exit_time": "datetime64[ns, UTC]",
                "pnl": float,
                "return_pct": float,
                "fees": float,
            }
        )
    return frame


def _open_dict(symbol: str, t: _Open, mult: float) -> dict[str, object]:
    return {
        "instrument": symbol,
        "side": "long" if t.direction > 0 else "short",
        "quantity": abs(t.qty),
        "entry_time": pd.Timestamp(t.entry_ts, tz="UTC").isoformat(),
        "entry_price": t.entry_notional / (t.entry_qty * mult),
        "fees": t.fees,
    }


def _paired_round_trips(
    fills: list[Fill], instruments: Mapping[str, Instrument]
) -> tuple[pd.DataFrame, list[dict[str, object]]] | None:
    """The common case, vectorized: per instrument, fills alternate entry/exit with equal
    quantities (one fill in, one fill out). Same arithmetic as the general loop, so the numbers
    are identical; returns None when the fills do not have that shape."""
    if not fills:
        return None
    cols = list(zip(*fills, strict=True))
    sym = np.asarray(cols[2])
    sign = np.fromiter((s.sign for s in cols[3]), np.int64, len(fills))
    qty = np.asarray(cols[4], np.float64)
    price = np.asarray(cols[5], np.float64)
    fee = np.asarray(cols[6], np.float64)
    ts = np.asarray(cols[9], np.int64)
    parts: list[pd.DataFrame] = []
    still_open: list[dict[str, object]] = []
    for s in np.unique(sym):
        idx = np.flatnonzero(sym == s)
        n_closed = len(idx) // 2
        e, x = idx[0 : 2 * n_closed : 2], idx[1 : 2 * n_closed : 2]
        if np.any(sign[e] != -sign[x]) or np.any(qty[e] != qty[x]):
            return None
        mult = instruments[str(s)].multiplier
        q = qty[e]
        entry_notional = q * price[e] * mult
        exit_notional = q * price[x] * mult
        fees = (0.0 + fee[e] * q / q) + fee[x] * q / q
        pnl = (exit_notional - entry_notional) * sign[e] - fees
        parts.append(
            pd.DataFrame(
                {
                    "instrument": str(s),
                    "side": np.where(sign[e] > 0, "long", "short"),
                    "quantity": q,
                    "entry_time": ts[e],
                    "entry_price": entry_notional / (q * mult),
                    "exit_time": ts[x],
                    "exit_price": exit_notional / (q * mult),
                    "pnl": pnl,
                    "return_pct": pnl / entry_notional,
                    "fees": fees,
                    "duration": None,
                    "entry_fills": 1,
                    "exit_fills": 1,
                    "_order": x,
                }
            )
        )
        if len(idx) % 2:
            last = idx[-1]
            t = _Open(int(sign[last]), int(ts[last]))
            t.qty = sign[last] * qty[last]
            t.entry_qty = float(qty[last])
            t.entry_notional = float(qty[last] * price[last] * mult)
            t.fees = float(0.0 + fee[last] * qty[last] / qty[last])
            still_open.append(_open_dict(str(s), t, mult))
    frame = pd.concat(parts, ignore_index=True).sort_values("_order", kind="stable")
    frame = frame.drop(columns="_order").reset_index(drop=True)
    return _finish(frame[TRADE_COLUMNS]), still_open


def _close(symbol: str, tr: _Open, mult: float) -> dict[str, object]:
    gross = (tr.exit_notional - tr.entry_notional) * tr.direction
    pnl = gross - tr.fees
    return {
        "instrument": symbol,
        "side": "long" if tr.direction > 0 else "short",
        "quantity": tr.entry_qty,
        "entry_time": tr.entry_ts,
        "entry_price": tr.entry_notional / (tr.entry_qty * mult),
        "exit_time": tr.exit_ts,
        "exit_price": tr.exit_notional / (tr.exit_qty * mult),
        "pnl": pnl,
        "return_pct": pnl / tr.entry_notional if tr.entry_notional else float("nan"),
        "fees": tr.fees,
        "duration": None,
        "entry_fills": tr.entry_fills,
        "exit_fills": tr.exit_fills,
    }


def add_excursions(
    trades: pd.DataFrame, bars: Mapping[str, pd.DataFrame | Mapping[str, np.ndarray]]
) -> pd.DataFrame:
    """Add ``mae`` and ``mfe``: each trade's maximum adverse and favourable excursion.

    Fractions of the entry price over the bars from the entry bar to the exit bar (inclusive):
    for a long, MAE = min(low) / entry − 1 (≤ 0 when price went against it) and
    MFE = max(high) / entry − 1; for a short the roles of high and low swap and the sign flips.
    Bars are the instrument's own (the finest feed); a trade without bars gets NaN.
    """
    out = trades.copy()
    mae = np.full(len(out), np.nan)
    mfe = np.full(len(out), np.nan)
    for sym, rows in out.groupby("instrument", sort=False).indices.items():
        frame = bars.get(str(sym))
        if frame is None or not len(frame):
            continue
        ts = np.asarray(frame["ts"], dtype=np.int64)
        high = np.asarray(frame["high"], dtype=np.float64)
        low = np.asarray(frame["low"], dtype=np.float64)
        sub = out.iloc[rows]
        start = np.searchsorted(ts, pd.DatetimeIndex(sub["entry_time"]).as_unit("ns").asi8)
        stop = np.searchsorted(
            ts, pd.DatetimeIndex(sub["exit_time"]).as_unit("ns").asi8, side="right"
        )
        lows, highs = _range_extremes(low, high, start, stop)
        entry = sub["entry_price"].to_numpy(np.float64)
        long = (sub["side"] == "long").to_numpy()
        mae[rows] = np.where(long, lows / entry - 1.0, 1.0 - highs / entry)
        mfe[rows] = np.where(long, highs / entry - 1.0, 1.0 - lows / entry)
    out["mae"] = mae
    out["mfe"] = mfe
    return out


def _range_extremes(
    low: np.ndarray, high: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """min(low[a:b]) and max(high[a:b]) for each range; one reduceat pass when the ranges
    follow each other without overlap (the usual case), else range by range."""
    bounds = np.empty(2 * len(start), dtype=np.int64)
    bounds[0::2], bounds[1::2] = start, stop
    if len(bounds) and np.all(np.diff(bounds) >= 0) and np.all(stop > start):
        ext_low = np.append(low, np.nan)  # so an exclusive stop == len is a valid index
        ext_high = np.append(high, np.nan)
        return (
            np.minimum.reduceat(ext_low, bounds)[0::2],
            np.maximum.reduceat(ext_high, bounds)[0::2],
        )
    lows = np.array([low[a:b].min() if b > a else np.nan for a, b in zip(start, stop, strict=True)])
    highs = np.array(
        [high[a:b].max() if b > a else np.nan for a, b in zip(start, stop, strict=True)]
    )
    return lows, highs
