"""Column types: floats come back bit for bit (a restarted node must rebuild exactly the state
it had) and datetimes come back tz-aware UTC, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import random
import struct

from sqlalchemy import select

from tradewind.store import Store
from tradewind.store.models import EquityRow, UserRow


def _random_doubles(n: int) -> list[float]:
    rng = random.Random(5)
    out = [0.1, 1 / 3, 2.0**-1074, 1.7976931348623157e308, -123456.789e-300, 0.0]
    while len(out) < n:
        bits = rng.getrandbits(64)
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if math.isfinite(x):
            out.append(x)
    return out


def test_floats_round_trip_exactly(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    values = _random_doubles(300)
    with store.session() as s:
        for i, v in enumerate(values):
            s.add(EquityRow(node_id="n", strategy_id="s", ts=i, equity=v, cash=-v))
    with store.session() as s:
        rows = list(s.scalars(select(EquityRow).order_by(EquityRow.ts)))
    assert [r.equity for r in rows] == values
    assert [r.cash for r in rows] == [-v for v in values]
    assert all(type(r.equity) is float for r in rows)
    store.dispose()


def test_datetimes_come_back_aware_utc(db_url: str) -> None:
    store = Store(db_url)
    store.migrate()
    when = dt.datetime(2026, 11, 21, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with store.session() as s:
        s.add(UserRow(username="u", password_hash="x", created_at=when))
    with store.session() as s:
        got = s.scalars(select(UserRow)).one().created_at
    assert got == when and got.tzinfo == dt.UTC
    store.dispose()
