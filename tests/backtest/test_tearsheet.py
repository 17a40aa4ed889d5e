"""Tests of the tear sheet (tradewind.backtest.tearsheet) and its sections in the report."""

from __future__ import annotations

import base64
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from tradewind.analytics.rolling import rolling_sharpe
from tradewind.backtest.report import render_report
from tradewind.backtest.result import BacktestResult
from tradewind.backtest.runner import run_backtest
from tradewind.backtest.tearsheet import (
    daily_equity,
    daily_returns,
    group_metrics,
    histogram,
    load_benchmark,
    load_run,
    monthly_returns,
    rebase_benchmark,
    render_run,
)
from tradewind.errors import DataError

HOUR_NS = 3_600_000_000_000
DAY_NS = 24 * HOUR_NS


def figure_data(page: str, div_id: str) -> list[dict[str, Any]]:
    """The ``data`` list passed to ``Plotly.newPlot`` for the div ``div_id``."""
    match = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', page)
    assert match, f"no figure {div_id}"
    data, _ = json.JSONDecoder().raw_decode(page, match.end())
    assert isinstance(data, list)
    return data


def as_array(value: Any) -> np.ndarray:
    """Decode plotly's typed-array JSON (``{"dtype", "bdata"[, "shape"]}``) or a list."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            shape = value["shape"]
            dims = [int(x) for x in str(shape).split(",")] if not isinstance(shape, list) else shape
            arr = arr.reshape(dims)
        return arr
    return np.asarray(value, dtype=np.float64)


def trades_frame(rows: list[tuple[str, int, int, float, float, float]]) -> pd.DataFrame:
    """rows: (side, entry_hour, exit_hour, pnl, mae, mfe), hours from 2024-01-01 00:00 UTC."""
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "instrument": ["BTC"] * len(rows),
            "side": [r[0] for r in rows],
            "quantity": [1.0] * len(rows),
            "entry_time": [t0 + pd.Timedelta(hours=r[1]) for r in rows],
            "entry_price": [100.0] * len(rows),
            "exit_time": [t0 + pd.Timedelta(hours=r[2]) for r in rows],
            "exit_price": [100.0 + r[3] for r in rows],
            "pnl": [r[3] for r in rows],
            "return_pct": [r[3] / 100.0 for r in rows],
            "fees": [0.0] * len(rows),
            "mae": [r[4] for r in rows],
            "mfe": [r[5] for r in rows],
        }
    )


def jan_feb_equity() -> pd.Series:
    """Hourly equity 2024-01-01 .. 2024-02-29 23:00: 100 until Jan 31 12:00, then 110 until
    Feb 29 12:00, then 104.5 (= 110 * 0.95)."""
    idx = pd.date_range("2024-01-01", "2024-02-29 23:00", freq="1h", tz="UTC")
    values = np.where(idx < pd.Timestamp("2024-01-31 12:00", tz="UTC"), 100.0, 110.0)
    values = np.where(idx >= pd.Timestamp("2024-02-29 12:00", tz="UTC"), 104.5, values)
    return pd.Series(values, index=idx)


# --------------------------------------------------------------------------- computations


def test_daily_equity_keeps_the_last_value_of_each_utc_day() -> None:
    t = pd.to_datetime(
        ["2024-01-01 00:00", "2024-01-01 12:00", "2024-01-01 23:59", "2024-01-02 00:00",
         "2024-01-04 05:00"], utc=True,
    )  # fmt: skip
    daily = daily_equity(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=t))
    assert daily.tolist() == [3.0, 4.0, 5.0]  # no day 3: no row for it
    assert [d.strftime("%Y-%m-%d") for d in daily.index] == [
        "2024-01-01", "2024-01-02", "2024-01-04",
    ]  # fmt: skip
    assert str(daily.index.tz) == "UTC"
    # a non-UTC index is converted first: 2024-01-02 01:00+02:00 is 2024-01-01 23:00 UTC
    t2 = pd.to_datetime(["2024-01-01 10:00", "2024-01-02 01:00"]).tz_localize("Etc/GMT-2")
    assert daily_equity(pd.Series([7.0, 8.0], index=t2)).tolist() == [8.0]
    # unsorted input is sorted first
    shuffled = pd.Series([5.0, 1.0, 3.0], index=t[[4, 0, 2]])
    assert daily_equity(shuffled).tolist() == [3.0, 5.0]
    assert len(daily_equity(pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC")))) == 0


def test_daily_returns_first_day_against_the_starting_equity() -> None:
    idx = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)
    daily = pd.Series([110.0, 99.0, 99.0], index=idx)
    # 110/100 - 1 = 0.1; 99/110 - 1 = -0.1; 99/99 - 1 = 0
    assert daily_returns(daily, 100.0).to_numpy() == pytest.approx([0.1, -0.1, 0.0])
    assert daily_returns(daily).to_numpy() == pytest.approx([-0.1, 0.0])  # no base: no day 1


def test_monthly_returns_hand_computed() -> None:
    daily = daily_equity(jan_feb_equity())
    table = monthly_returns(daily, 100.0)
    assert list(table.index) == [2024]
    assert list(table.columns) == list(range(1, 13))
    # January: 110 / 100 - 1 = 0.10; February: 104.5 / 110 - 1 = -0.05
    assert table.loc[2024, 1] == pytest.approx(0.10)
    assert table.loc[2024, 2] == pytest.approx(-0.05)
    assert table.loc[2024, 3:].isna().all()


def test_monthly_heatmap_cells_on_the_page() -> None:
    equity = jan_feb_equity()
    page = render_report(
        title="t", bars={}, equity=equity, trades=trades_frame([]), metrics={}, settings={},
        tearsheet=True,
    )  # fmt: skip
    (heat,) = figure_data(page, "tw-monthly")
    z = as_array(heat["z"]).reshape(-1, 12)
    assert z.shape == (1, 12)
    assert z[0, 0] == pytest.approx(10.0)  # percent: +10 % in January
    assert z[0, 1] == pytest.approx(-5.0)  # -5 % in February
    assert np.isnan(z[0, 2:].astype(float)).all() or all(v is None for v in heat["z"][0][2:])
    assert heat["y"] == ["2024"]


def test_rolling_sharpe_chart_equals_analytics_on_daily_returns() -> None:
    rng = np.random.default_rng(5)
    idx = pd.date_range("2024-01-01", periods=200 * 24, freq="1h", tz="UTC")
    equity = pd.Series(1000 * np.exp(np.cumsum(rng.normal(0, 0.002, len(idx)))), index=idx)
    page = render_report(
        title="t", bars={}, equity=equity, trades=trades_frame([]), metrics={}, settings={},
        tearsheet=True,
    )  # fmt: skip
    (line,) = figure_data(page, "tw-rolling-sharpe")
    daily = daily_equity(equity)
    returns = daily_returns(daily, float(equity.iloc[0]))
    assert len(returns) == 200  # 200 days, the first against the starting equity
    # a 24/7 calendar (weekends included): 365.25 periods per year
    expected = rolling_sharpe(returns, 63, 365.25)
    y = as_array(line["y"]).astype(float)
    assert len(y) == 200
    assert np.isnan(y[:62]).all()
    np.testing.assert_allclose(y[62:], np.asarray(expected)[62:], rtol=1e-12)
    assert "annualised with 365.25 days per year" in page


def test_rolling_sharpe_uses_252_on_a_trading_calendar() -> None:
    idx = pd.bdate_range("2024-01-01", periods=100, tz="UTC")
    rng = np.random.default_rng(2)
    equity = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, 100))), index=idx)
    page = render_report(
        title="t", bars={}, equity=equity, trades=trades_frame([]), metrics={}, settings={},
        tearsheet=True,
    )  # fmt: skip
    assert "annualised with 252 days per year" in page


def test_short_runs_say_why_there_is_no_rolling_sharpe() -> None:
    equity = jan_feb_equity().iloc[: 10 * 24]  # 10 days < 63
    page = render_report(
        title="t", bars={}, equity=equity, trades=trades_frame([]), metrics={}, settings={},
        tearsheet=True,
    )  # fmt: skip
    assert '"tw-rolling-sharpe"' not in page
    assert "Needs at least 63 daily returns, got 10." in page


def test_histogram_bins() -> None:
    centres, counts, widths = histogram(np.array([1.0, 2.0, 2.0, 3.0, np.nan]), bins=2)
    # edges 1, 2, 3: [1, 2) holds 1.0; [2, 3] holds 2, 2, 3
    assert centres.tolist() == [1.5, 2.5]
    assert counts.tolist() == [1, 3]
    assert widths.tolist() == [1.0, 1.0]
    c2, n2, _ = histogram(np.array([5.0, 5.0]), bins=10)  # constant: one bin holds all
    assert n2.sum() == 2 and len(c2) == 2


def test_trade_analysis_charts_and_mae_mfe_one_point_per_trade() -> None:
    trades = trades_frame(
        [
            ("long", 1, 3, 4.0, -0.01, 0.05),
            ("short", 5, 29, -2.0, -0.03, 0.01),
            ("long", 30, 36, 1.0, -0.002, 0.02),
        ]
    )
    equity = jan_feb_equity()
    page = render_report(
        title="t", bars={}, equity=equity, trades=trades, metrics={}, settings={},
        tearsheet=True,
    )  # fmt: skip
    (scatter,) = figure_data(page, "tw-mae-mfe")
    assert as_array(scatter["x"]).tolist() == pytest.approx([-1.0, -3.0, -0.2])  # MAE %
    assert as_array(scatter["y"]).tolist() == pytest.approx([5.0, 1.0, 2.0])  # MFE %
    assert scatter["marker"]["color"] == ["#16a34a", "#dc2626", "#16a34a"]
    (dur,) = figure_data(page, "tw-trade-duration")
    # durations 2 h, 24 h, 6 h: 3 trades in the bins
    assert as_array(dur["y"]).sum() == 3
    assert as_array(dur["x"]).min() > 2.0 and as_array(dur["x"]).max() < 24.0
    (pnl,) = figure_data(page, "tw-trade-pnl")
    assert as_array(pnl["y"]).sum() == 3
    # without mae/mfe columns the scatter is left out, the histograms stay
    page2 = render_report(
        title="t", bars={}, equity=equity, trades=trades.drop(columns=["mae", "mfe"]),
        metrics={}, settings={}, tearsheet=True,
    )  # fmt: skip
    assert '"tw-mae-mfe"' not in page2
    assert '"tw-trade-pnl"' in page2 and '"tw-trade-duration"' in page2


def test_benchmark_is_rebased_to_the_starting_equity() -> None:
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)
    daily = pd.Series([1000.0, 1010.0, 990.0], index=days)
    bench = pd.Series(
        [40.0, 50.0, 55.0, 60.0],
        index=pd.to_datetime(
            ["2023-12-31 12:00", "2024-01-01 08:00", "2024-01-02 23:00", "2024-01-03 01:00"],
            utc=True,
        ),
    )
    # last per day: Jan 1 = 50, Jan 2 = 55, Jan 3 = 60; scaled by 1000 / 50 = 20
    assert rebase_benchmark(bench, daily, 1000.0).tolist() == [1000.0, 1100.0, 1200.0]
    equity = jan_feb_equity()
    page = render_report(
        title="t", bars={}, equity=equity, trades=trades_frame([]), metrics={}, settings={},
        tearsheet=True, benchmark=bench,
    )  # fmt: skip
    data = figure_data(page, "tw-benchmark")
    (b,) = [t for t in data if t["name"] == "Benchmark (rebased)"]
    y = as_array(b["y"]).astype(float)
    assert y[0] == pytest.approx(100.0)  # 50 rebased to the starting equity 100
    assert y[1] == pytest.approx(110.0)  # 55 * 100 / 50
    assert '"tw-benchmark"' not in render_report(
        title="t", bars={}, equity=equity, trades=trades_frame([]), metrics={}, settings={},
        tearsheet=True,
    )  # fmt: skip


def test_group_metrics() -> None:
    groups = group_metrics({"sharpe": 1.0, "total_return": 0.1, "num_trades": 3, "zzz": 1})
    assert groups == {
        "Returns": {"total_return": 0.1},
        "Risk": {"sharpe": 1.0},
        "Trades": {"num_trades": 3},
        "Other": {"zzz": 1},
    }


def test_page_has_no_external_urls_and_escapes_text() -> None:
    trades = trades_frame([("long", 1, 3, 4.0, -0.01, 0.05)])
    trades["instrument"] = "A&B <x>"
    page = render_report(
        title="<b>x</b>", bars={}, equity=jan_feb_equity(), trades=trades,
        metrics={"sharpe": 1.5}, settings={"s": "<i>"}, tearsheet=True,
        no_bars_note="no <bars>",
    )  # fmt: skip
    plotlyjs = get_plotlyjs()
    assert page.count(plotlyjs) == 1
    rest = page.replace(plotlyjs, "")
    assert "http://" not in rest and "https://" not in rest
    assert "<link" not in rest and "url(" not in rest
    assert all("src" not in tag for tag in re.findall(r"<script\b[^>]*>", rest))
    assert "<b>x</b>" not in rest and "&lt;b&gt;x&lt;/b&gt;" in rest
    assert "A&B <x>" not in rest and "<i>" not in rest
    assert "no &lt;bars&gt;" in rest
    assert "<h2>Metrics: risk</h2>" in rest


# --------------------------------------------------------------------------- results and JSON


def hourly_bars(days: int, seed: int = 3) -> pd.DataFrame:
    n = days * 24
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    open_ = np.r_[100.0, close[:-1]]
    t0 = pd.Timestamp("2024-01-01", tz="UTC").value
    return pd.DataFrame(
        {
            "ts": t0 + np.arange(n, dtype=np.int64) * HOUR_NS,
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": np.full(n, 5.0),
        }
    )


def test_to_dict_equity_daily_round_trips_through_load_run(tmp_path: Path) -> None:
    result = run_backtest({"BTC": hourly_bars(40)}, "sma_cross", {"fast": 5, "slow": 20})
    assert len(result.trades) > 2
    doc = result.to_dict()
    for key in ("strategy", "params", "settings", "metrics", "trades", "final_equity", "stats"):
        assert key in doc  # the existing keys are kept
    days = doc["equity_daily"]["date"]
    assert days[0] == "2024-01-01" and days[-1] == "2024-02-09" and len(days) == 40
    # the last equity of each UTC day: the 23:00 bar's
    at_2300 = result.equity[result.equity.index.hour == 23]
    assert doc["equity_daily"]["equity"] == pytest.approx(at_2300.tolist())

    path = tmp_path / "run.json"
    result.to_json(path)
    run = load_run(path)
    assert run.strategy == result.strategy and run.params == result.params
    assert run.equity_daily.tolist() == pytest.approx(at_2300.tolist())
    assert [d.strftime("%Y-%m-%d") for d in run.equity_daily.index] == days
    assert len(run.trades) == len(result.trades)
    np.testing.assert_allclose(run.trades["mae"], result.trades["mae"], rtol=1e-12)
    np.testing.assert_allclose(run.trades["mfe"], result.trades["mfe"], rtol=1e-12)
    assert (run.trades["entry_time"] == result.trades["entry_time"]).all()
    assert run.initial_equity == pytest.approx(result.metrics["initial_equity"])
    page = render_run(run)
    assert '"tw-monthly"' in page and '"tw-mae-mfe"' in page
    assert "has no bars: no candlestick charts" in page


def test_result_report_is_the_tear_sheet(tmp_path: Path) -> None:
    result = run_backtest({"BTC": hourly_bars(90)}, "sma_cross", {"fast": 5, "slow": 20})
    page = result.report(tmp_path / "r.html").read_text()
    for div in ("tw-equity", "tw-monthly", "tw-return-dist", "tw-rolling-sharpe",
                "tw-trade-pnl", "tw-trade-duration", "tw-mae-mfe", "tw-candles-0"):  # fmt: skip
        assert f'"{div}"' in page, div
    for group in ("returns", "risk", "trades"):
        assert f"<h2>Metrics: {group}</h2>" in page
    assert "<td>Sortino</td>" in page and "<td>VaR (historical)</td>" in page  # full_metrics


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"strategy": "x", "params": {}}), "missing key(s) ['settings', 'metrics'"),
        (
            json.dumps(
                {
                    "strategy": "x",
                    "params": {},
                    "settings": {},
                    "metrics": {},
                    "trades": [],
                    "equity_daily": {"date": ["2024-01-01"], "equity": [1.0, 2.0]},
                }
            ),
            "1 dates but 2 equity values",
        ),
    ],
)
def test_load_run_errors(tmp_path: Path, content: str | None, fragment: str) -> None:
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError) as info:
        load_run(path)
    assert fragment in str(info.value)
    assert "run.json" in str(info.value)


def test_load_benchmark_csv(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("date,close\n2024-01-02,11\n2024-01-01,10\n")
    bench = load_benchmark(path)
    assert bench.tolist() == [10.0, 11.0]  # sorted by time
    assert str(bench.index[0]) == "2024-01-01 00:00:00+00:00"
    path.write_text("ts,price\n1704067200000,5\n1704153600000,6\n")  # epoch ms
    assert str(load_benchmark(path).index[1]) == "2024-01-02 00:00:00+00:00"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="close/price column"):
        load_benchmark(path)
    path.write_text("date,close\n2024-01-01,10\n2024-01-02,-1\n")
    with pytest.raises(DataError, match="finite and > 0"):
        load_benchmark(path)


# --------------------------------------------------------------------------- speed


def test_two_million_minute_result_renders_fast_and_small(tmp_path: Path) -> None:
    n = 2_000_000
    rng = np.random.default_rng(0)
    ts = pd.Timestamp("2020-01-01", tz="UTC").value + np.arange(n, dtype=np.int64) * 60 * 10**9
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0005, n)))
    bars = pd.DataFrame(
        {"ts": ts, "open": close, "high": close * 1.001, "low": close * 0.999, "close": close,
         "volume": np.ones(n)}
    )  # fmt: skip
    index = pd.DatetimeIndex(pd.to_datetime(ts, utc=True))
    equity = pd.Series(100.0 * close, index=index, name="equity")
    k = 5_000
    entry = np.sort(rng.choice(n - 100, k, replace=False))
    exit_ = entry + 50
    trades = pd.DataFrame(
        {
            "instrument": "BTC",
            "side": np.where(rng.random(k) < 0.5, "long", "short"),
            "quantity": 1.0,
            "entry_time": index[entry],
            "entry_price": close[entry],
            "exit_time": index[exit_],
            "exit_price": close[exit_],
            "pnl": close[exit_] - close[entry],
            "return_pct": close[exit_] / close[entry] - 1,
            "fees": 0.0,
            "duration": index[exit_] - index[entry],
            "mae": -rng.random(k) * 0.01,
            "mfe": rng.random(k) * 0.01,
        }
    )
    result = BacktestResult(
        strategy="synthetic", params={}, settings={"cash": 10_000.0}, equity=equity,
        frame=pd.DataFrame(), trades=trades, open_trades=[], fill_log=[], order_log=[],
        positions=[], metrics={"total_fees": 0.0}, final_equity=float(equity.iloc[-1]),
        stats={}, bars={"BTC": bars},
    )  # fmt: skip
    start = time.perf_counter()
    path = result.report(tmp_path / "big.html", benchmark=equity * 0.5)
    elapsed = time.perf_counter() - start
    size = path.stat().st_size
    assert elapsed < 10.0, f"{elapsed:.1f} s"
    assert size < 12_000_000, f"{size / 1e6:.1f} MB"
    page = path.read_text()
    (line,) = figure_data(page, "tw-rolling-sharpe")
    # 2,000,000 minutes = 1388.9 days: one point per daily return, not per bar
    assert len(as_array(line["y"])) == math.ceil(n / 1440)
    doc = result.to_dict()
    assert len(doc["equity_daily"]["date"]) == math.ceil(n / 1440)
