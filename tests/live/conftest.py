"""Fixtures for live-node tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from live_helpers import make_bars


@pytest.fixture
def bars_csv(tmp_path: Path) -> Path:
    path = tmp_path / "BTCUSDT.csv"
    df = make_bars()
    out = df.assign(ts=pd.to_datetime(df["ts"], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    out.to_csv(path, index=False)
    return path
