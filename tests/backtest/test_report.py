"""Tests of the self-contained HTML backtest report (tradewind.backtest.report)."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from tradewind.analytics.metrics import basic_metrics
from tradewind.backtest.report import (
    downsample_extremes,
    downsample_ohlc,
    render_report,
    write_report,
)
from tradewind.errors import ConfigError

MINUTE_NS = 60_000_000_000
T0_NS = pd.Timestamp("2024-03-01", tz="UTC").value
SETTINGS = {"fill_model": "next_bar_open", "fee_rate": 0.001, "slippage_bps": 2.5, "cash": 10_000}


def make_bars(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    return pd.DataFrame(
        {
            "ts": T0_NS + np.arange(n, dtype=np.int64) * MINUTE_NS,
            "open": open_,
            "high": np.maximum(open_, close) * (1 + rng.uniform(0, 0.002, n)),
            "low": np.minimum(open_, close) * (1 - rng.uniform(0, 0.002, n)),
            "close": close,
            "volume": rng.uniform(1, 5, n),
        }
    )


def make_equity(n: int, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.to_datetime(T0_NS + np.arange(n, dtype=np.int64) * MINUTE_NS, utc=True)
    return pd.Series(10_000 * np.exp(np.cumsum(rng.normal(0, 0.001, n))), index=idx)


def make_trades(rows: list[tuple[str, str, float, int, float, int, float]]) -> pd.DataFrame:
    """rows: (instrument, side, quantity, entry_minute, entry_price, exit_minute, exit_price)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "instrument", "side", "quantity", "entry_m", "entry_price", "exit_m", "exit_price",
        ],
    )  # fmt: skip
    sign = np.where(frame["side"] == "long", 1.0, -1.0)
    frame["fees"] = 0.001 * (frame["entry_price"] + frame["exit_price"]) * frame["quantity"]
    gross = sign * (frame["exit_price"] - frame["entry_price"]) * frame["quantity"]
    frame["pnl"] = gross - frame["fees"]
    frame["return_pct"] = frame["pnl"] / (frame["entry_price"] * frame["quantity"])
    for col in ("entry", "exit"):
        frame[f"{col}_time"] = pd.to_datetime(T0_NS + frame[f"{col}_m"] * MINUTE_NS, utc=True)
    return frame.drop(columns=["entry_m", "exit_m"])


def empty_trades() -> pd.DataFrame:
    return make_trades([])


@pytest.fixture
def small_report() -> dict[str, Any]:
    bars = {"BTC/USDT": make_bars(300, 0), "A&B <x>": make_bars(300, 1)}
    equity = make_equity(300)
    trades = make_trades(
        [
            ("BTC/USDT", "long", 0.5, 10, 101.25, 40, 103.5),
            ("BTC/USDT", "short", 1.0, 60, 102.0, 90, 100.0),
            ("A&B <x>", "long", 2.0, 100, 99.0, 150, 98.0),
        ]
    )
    metrics = basic_metrics(equity, trades)
    return {
        "title": "SMA <cross> & friends",
        "bars": bars,
        "equity": equity,
        "trades": trades,
        "metrics": metrics,
        "settings": SETTINGS,
    }


def figure_data(page: str, div_id: str) -> list[dict[str, Any]]:
    """The ``data`` list passed to ``Plotly.newPlot`` for the div ``div_id``."""
    match = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', page)
    assert match, f"no figure {div_id}"
    data, _ = json.JSONDecoder().raw_decode(page, match.end())
    assert isinstance(data, list)
    return data


def as_array(value: Any) -> np.ndarray:
    """Decode plotly's typed-array JSON (``{"dtype", "bdata"}``) or a plain list."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


def trace(data: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [t for t in data if t.get("name") == name]
    assert len(found) == 1, [t.get("name") for t in data]
    return found[0]


# --------------------------------------------------------------------------- content


def test_page_is_self_contained(small_report: dict[str, Any]) -> None:
    page = render_report(**small_report)
    plotlyjs = get_plotlyjs()
    assert page.count(plotlyjs) == 1  # inlined exactly once
    script_tags = re.findall(r"<script\b[^>]*>", page.replace(plotlyjs, ""))
    assert script_tags, "expected inline scripts"
    assert all("src" not in tag for tag in script_tags), script_tags
    rest = page.replace(plotlyjs, "")
    assert "<link" not in rest
    assert "http://" not in rest and "https://" not in rest
    assert "@import" not in rest and "url(" not in rest
    # 1 equity figure + 1 per instrument
    assert rest.count("Plotly.newPlot(") == 3


def test_page_shows_names_metrics_settings_and_trades(small_report: dict[str, Any]) -> None:
    page = render_report(**small_report)
    m = small_report["metrics"]
    assert "<title>SMA &lt;cross&gt; &amp; friends</title>" in page
    assert "<h1>SMA &lt;cross&gt; &amp; friends</h1>" in page
    assert "<h2>BTC/USDT</h2>" in page
    assert "<h2>A&amp;B &lt;x&gt;</h2>" in page
    assert "A&B <x>" not in page  # never unescaped

    def kv(label: str, value: str) -> bool:
        return f'<td>{label}</td><td class="num">{value}</td>' in page

    assert kv("Total return", f"{m['total_return'] * 100:,.2f} %")
    assert kv("Max drawdown", f"{m['max_drawdown'] * 100:,.2f} %")
    assert kv("Sharpe", f"{m['sharpe']:,.3f}")
    assert kv("Trades", "3")
    assert kv("Win rate", "66.67 %")
    assert kv("Profit factor", f"{m['profit_factor']:,.3f}")
    assert kv("fill_model", "next_bar_open")
    assert kv("fee_rate", "0.001")
    assert kv("slippage_bps", "2.5")

    rows = re.findall(r"<tr>(.*?)</tr>", page)
    trade_rows = [r for r in rows if "<td>BTC/USDT</td>" in r]
    assert len(trade_rows) == 2
    first = trade_rows[0]
    assert "<td>long</td>" in first
    assert '<td class="num">101.2500</td>' in first  # entry price
    assert '<td class="num">103.5000</td>' in first  # exit price
    assert "2024-03-01 00:10:00" in first  # entry time
    assert '<span class="pos">1.02</span>' in first  # 0.5 * 2.25 - fees 0.102375


def test_trade_markers_on_candles(small_report: dict[str, Any]) -> None:
    page = render_report(**small_report)
    data = figure_data(page, "tw-candles-0")
    long_entry = trace(data, "Long entry")
    assert long_entry["marker"]["symbol"] == "triangle-up"
    assert as_array(long_entry["y"]).tolist() == [101.25]
    assert long_entry["x"] == ["2024-03-01T00:10:00.000"]
    short_entry = trace(data, "Short entry")
    assert short_entry["marker"]["symbol"] == "triangle-down"
    assert as_array(short_entry["y"]).tolist() == [102.0]
    exits = trace(data, "Exit")
    assert exits["marker"]["symbol"] == "x"
    assert sorted(as_array(exits["y"]).tolist()) == [100.0, 103.5]
    # the second instrument only gets its own trade
    other = figure_data(page, "tw-candles-1")
    assert as_array(trace(other, "Long entry")["y"]).tolist() == [99.0]
    assert [t.get("name") for t in other].count("Short entry") == 0


def test_empty_trades_and_more_than_four_instruments() -> None:
    bars = {f"SYM{i}": make_bars(50, i) for i in range(6)}
    page = render_report(
        title="t",
        bars=bars,
        equity=make_equity(50),
        trades=empty_trades(),
        metrics={"num_trades": 0, "win_rate": None},
        settings={},
    )
    assert "No closed trades." in page
    assert '<td>Win rate</td><td class="num">—</td>' in page
    for i in range(4):
        assert f'"tw-candles-{i}"' in page
    assert '"tw-candles-4"' not in page
    assert "not charted: SYM4, SYM5." in page


def test_long_trade_list_is_cut_in_the_middle_oldest_first() -> None:
    n = 1200
    rows = [("X", "long", 1.0, i, 1000.0 + i, i + 1, 1000.0 + i) for i in range(n)]
    trades = make_trades(rows).sample(frac=1.0, random_state=3)  # shuffled input
    page = render_report(
        title="t",
        bars={"X": make_bars(1300)},
        equity=make_equity(1300),
        trades=trades,
        metrics={},
        settings={},
    )
    table = page[page.index('id="trades"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    rows_html = re.findall(r"<tr[^>]*>.*?</tr>", body)
    assert len(rows_html) == 501
    assert "… 700 more …" in rows_html[250]
    assert "1,000.00" in rows_html[0]  # oldest trade first
    assert "1,249.00" in rows_html[249]
    assert "1,950.00" in rows_html[251]
    assert "2,199.00" in rows_html[-1]  # newest last
    assert "1,250.00" not in body


# --------------------------------------------------------------------------- downsampling


def test_candles_are_bucketed_to_max_candles_with_true_extremes() -> None:
    n, max_candles = 200_000, 1000
    bars = make_bars(n, 5)
    page = render_report(
        title="big",
        bars={"BIG": bars},
        equity=make_equity(n),
        trades=empty_trades(),
        metrics={},
        settings={},
        max_candles=max_candles,
    )
    candles = trace(figure_data(page, "tw-candles-0"), "Price")
    high = as_array(candles["high"])
    assert 0 < len(high) <= max_candles
    k = 200  # ceil(200_000 / 1000) bars per candle
    assert len(high) == n // k
    np.testing.assert_array_equal(high, bars["high"].to_numpy().reshape(-1, k).max(axis=1))
    np.testing.assert_array_equal(
        as_array(candles["low"]), bars["low"].to_numpy().reshape(-1, k).min(axis=1)
    )
    np.testing.assert_array_equal(as_array(candles["open"]), bars["open"].to_numpy()[::k])
    np.testing.assert_array_equal(as_array(candles["close"]), bars["close"].to_numpy()[k - 1 :: k])
    assert candles["x"][1] == "2024-03-01T03:20:00.000"  # open time of bar 200
    assert "200,000 bars aggregated into 1,000 candles of 200 bars each." in page


def test_downsample_ohlc_uneven_last_bucket() -> None:
    bars = make_bars(1003, 9)
    candles, k = downsample_ohlc(bars, 10)
    assert k == 101
    assert len(candles) == 10
    for j in range(10):
        chunk = bars.iloc[j * k : (j + 1) * k]
        row = candles.iloc[j]
        assert row["ts"] == chunk["ts"].iloc[0]
        assert row["open"] == chunk["open"].iloc[0]
        assert row["high"] == chunk["high"].max()
        assert row["low"] == chunk["low"].min()
        assert row["close"] == chunk["close"].iloc[-1]
        assert row["volume"] == pytest.approx(chunk["volume"].sum())
    same, k1 = downsample_ohlc(bars, 5000)
    assert k1 == 1 and len(same) == 1003
    with pytest.raises(ConfigError):
        downsample_ohlc(bars, 0)


def test_downsample_extremes_keeps_spikes_and_dips() -> None:
    values = np.linspace(100.0, 200.0, 100_001)
    values[12_345] = 1.0
    values[67_890] = 1e6
    keep = downsample_extremes(values, 1000, "minmax")
    assert len(keep) <= 1000
    assert {0, 12_345, 67_890, 100_000} <= set(keep.tolist())
    assert np.all(np.diff(keep) > 0)
    keep_min = downsample_extremes(values, 1000, "min")
    assert len(keep_min) <= 1000
    assert 12_345 in keep_min
    np.testing.assert_array_equal(downsample_extremes(values[:10], 1000), np.arange(10))


def test_equity_and_drawdown_keep_the_worst_point() -> None:
    n = 200_000
    equity = make_equity(n)
    equity.iloc[123_457] = equity.iloc[123_456] * 0.5  # one-bar crash
    page = render_report(
        title="t",
        bars={},
        equity=equity,
        trades=empty_trades(),
        metrics={},
        settings={},
    )
    data = figure_data(page, "tw-equity")
    eq_y = as_array(trace(data, "Equity")["y"])
    dd_y = as_array(trace(data, "Drawdown %")["y"])
    assert len(eq_y) <= 5000 and len(dd_y) <= 5000
    assert eq_y.min() == equity.min()
    assert eq_y.max() == equity.max()
    true_dd = (equity / equity.cummax() - 1).min() * 100
    assert dd_y.min() == pytest.approx(true_dd, abs=1e-12)
    assert eq_y[-1] == equity.iloc[-1]


# --------------------------------------------------------------------------- writing


def test_write_report_writes_the_rendered_page(
    small_report: dict[str, Any], tmp_path: Path
) -> None:
    dest = write_report(tmp_path / "report.html", **small_report)
    assert dest == tmp_path / "report.html"
    assert dest.read_text(encoding="utf-8") == render_report(**small_report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_write_report_is_atomic(
    small_report: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "report.html"

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)  # fails after the page was written to the temp file
    with pytest.raises(OSError, match="disk full"):
        write_report(dest, **small_report)
    assert list(tmp_path.iterdir()) == []

    dest.write_text("previous report", encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        write_report(dest, **small_report)
    assert dest.read_text(encoding="utf-8") == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_bad_arguments_raise_config_error(small_report: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing columns"):
        render_report(**{**small_report, "bars": {"X": make_bars(10).drop(columns=["volume"])}})
    with pytest.raises(ConfigError, match="trades is missing"):
        render_report(**{**small_report, "trades": pd.DataFrame({"pnl": [1.0]})})
    with pytest.raises(ConfigError, match="max_candles"):
        render_report(**small_report, max_candles=0)
    with pytest.raises(ConfigError, match="does not exist"):
        write_report(tmp_path / "missing" / "r.html", **small_report)
