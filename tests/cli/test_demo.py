"""The embedded demo dataset and `tradewind demo`."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradewind.cli import app
from tradewind.demo import demo_bars
from tradewind.errors import DataError

runner = CliRunner()
DAY_NS = 86_400_000_000_000


def test_demo_bars_format_and_adjustment() -> None:
    bars = demo_bars()["AAPL"]
    assert list(bars.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert bars["ts"].dtype == np.int64
    # 2000-03-01 is day 11,017 after 1970-01-01: 11,017 * 86,400 s = 951,868,800 s
    assert int(bars["ts"].iloc[0]) == 951_868_800 * 1_000_000_000
    assert pd.Timestamp(int(bars["ts"].iloc[-1]), tz="UTC") == pd.Timestamp("2013-03-01", tz="UTC")
    # file row: AAPL,2000-03-01,118.56,132.06,118.5,130.31,9616100,4.186662803811
    factor = 4.186662803811 / 130.31  # Adj Close / Close
    first = bars.iloc[0]
    assert first["open"] == pytest.approx(118.56 * factor)
    assert first["high"] == pytest.approx(132.06 * factor)
    assert first["low"] == pytest.approx(118.5 * factor)
    assert first["close"] == pytest.approx(4.186662803811)
    assert first["volume"] == pytest.approx(9_616_100 / factor)


def test_demo_bars_remove_the_split_gap() -> None:
    bars = demo_bars()["AAPL"]
    ts = bars["ts"].to_numpy()
    # 2000-06-21 is a 2:1 split: raw close 101.25 -> 55.63 (-45 %); adjusted closes are the
    # Adj Close column: 3.2530090467797 -> 3.5746151757502 (+9.9 %)
    day = int(pd.Timestamp("2000-06-21", tz="UTC").value)
    i = int(np.searchsorted(ts, day))
    assert ts[i] == day
    assert ts[i] - ts[i - 1] == DAY_NS  # 2000-06-20 is the previous bar
    change = bars["close"].iloc[i] / bars["close"].iloc[i - 1] - 1
    assert change == pytest.approx(3.5746151757502 / 3.2530090467797 - 1)
    assert change > 0


def test_demo_bars_several_symbols() -> None:
    bars = demo_bars(("AAPL", "MSFT"))
    assert list(bars) == ["AAPL", "MSFT"]
    assert len(bars["MSFT"]) == 3270  # every trading day 2000-03-01 .. 2013-03-01


def test_demo_bars_unknown_symbol() -> None:
    with pytest.raises(DataError, match=r"no symbol 'TSLA' \(available: AAPL, IBM"):
        demo_bars(("TSLA",))


def test_demo_bars_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.setattr(importlib.resources, "files", missing)
    with pytest.raises(DataError, match="needs the 'bokeh_sampledata' package"):
        demo_bars()


def test_demo_command_writes_both_files(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    result = runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "demo.json").read_text())
    assert doc["strategy"] == "sma_cross"
    assert doc["params"] == {"fast": 20, "slow": 50}  # the demo's daily-bar defaults
    assert doc["settings"]["data"]["AAPL"]["bars"] == 3270
    assert doc["settings"]["data"]["AAPL"]["timeframe"] == "1d"
    assert doc["settings"]["fees"] == "0.001 of notional per fill"
    assert doc["settings"]["currency"] == "USD"
    html = (out / "demo_report.html").read_text()
    assert 'class="plotly-graph-div"' in html
    assert "Final equity" in result.stdout
    assert f"{doc['final_equity']:,.2f} USD" in result.stdout
    assert "2000-03-01 → 2013-03-01" in result.stdout
    assert f"wrote {out / 'demo.json'}" in result.stdout


def test_demo_with_other_strategy_and_params(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["demo", "-o", str(tmp_path), "-s", "sma_cross", "-p", "fast=5", "--symbols", "msft"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "demo.json").read_text())
    assert doc["params"] == {"fast": 5, "slow": 50}  # only fast overridden
    assert list(doc["settings"]["data"]) == ["MSFT"]


def test_demo_bad_param_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = runner.invoke(app, ["demo", "--out", str(out), "--param", "fast=abc"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: parameter 'fast' of sma_cross expects an int")
    assert not out.exists()
