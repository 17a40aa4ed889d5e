"""Live-node test helpers: generated bars, node configs, a node's stored state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy import select

from tradewind.store import Store
from tradewind.store.models import BalanceRow, FillRow, NodeRow, OrderRow, PositionRow


def make_bars(n: int = 3000, seed: int = 7, sigma: float = 0.003) -> pd.DataFrame:
    """A random-walk minute series (loader format: ts + OHLCV)."""
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp("2024-01-01", tz="UTC").value + np.arange(n, dtype=np.int64) * 60_000_000_000
    close = 100 * np.exp(np.cumsum(rng.normal(0, sigma, n)))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0, sigma / 2, n))
    return pd.DataFrame(
        {
            "ts": ts,
            "open": open_,
            "high": np.maximum(open_, close) * (1 + wick),
            "low": np.minimum(open_, close) * (1 - wick),
            "close": close,
            "volume": rng.uniform(1, 10, n),
        }
    )


STRATEGIES = [
    {"id": "grid", "strategy": "grid", "params": {"levels": 5, "step_pct": 0.4}},
    {"id": "sma", "strategy": "sma_cross", "params": {"fast": 5, "slow": 20}},
]


def write_config(tmp_path: Path, data: Path, **extra: Any) -> Path:
    cfg = {
        "id": "crash-node",
        "data": str(data),
        "symbol": None,
        "strategies": STRATEGIES,
        "venue": {"kind": "paper", "commission": 0.001},
        "cash": 10_000,
        "commit_every": 16,
        **extra,
    }
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def stored_state(store: Store, node_id: str) -> dict[str, Any]:
    """Orders, fills, positions and balances of a node, comparable across runs."""
    with store.session() as s:
        orders = sorted(
            (r.strategy_id, r.seq, r.client_order_id, r.side, r.type, r.quantity, r.price,
             r.status, r.filled_qty, r.avg_price)
            for r in s.scalars(select(OrderRow).where(OrderRow.node_id == node_id))
        )  # fmt: skip
        fills = sorted(
            (r.strategy_id, int(r.fill_id), r.client_order_id, r.side, r.quantity, r.price,
             r.fee, r.ts)
            for r in s.scalars(select(FillRow).where(FillRow.node_id == node_id))
        )  # fmt: skip
        positions = sorted(
            (r.strategy_id, r.instrument, r.quantity, r.avg_price, r.realized_pnl)
            for r in s.scalars(select(PositionRow).where(PositionRow.node_id == node_id))
        )
        balances = sorted(
            (r.strategy_id, r.currency, r.total)
            for r in s.scalars(select(BalanceRow).where(BalanceRow.node_id == node_id))
        )
        node = s.get(NodeRow, node_id)
        cursor = node.checkpoint.get("cursor") if node is not None else None
    return {"orders": orders, "fills": fills, "positions": positions, "balances": balances,
            "cursor": cursor}  # fmt: skip
