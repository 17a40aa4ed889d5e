"""Round-trip trades from fills: a trade opens when a position leaves zero and closes when it
returns to zero (a fill that flips the position closes one trade and opens the next)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from tradewind.model.instrument import Instrument
from tradewind.model.order import Fill

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
    frame = pd.DataFrame(closed, columns=TRADE_COLUMNS)
    if len(frame):
        for col in ("entry_time", "exit_time"):
            frame[col] = pd.to_datetime(frame[col].to_numpy(np.int64), utc=True)
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
    still_open: list[dict[str, object]] = [
        {
            "instrument": s,
            "side": "long" if t.direction > 0 else "short",
            "quantity": abs(t.qty),
            "entry_time": pd.Timestamp(t.entry_ts, tz="UTC").isoformat(),
            "entry_price": t.entry_notional / (t.entry_qty * instruments[s].multiplier),
            "fees": t.fees,
        }
        for s, t in open_.items()
    ]
    return frame, still_open


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
