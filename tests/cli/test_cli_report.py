"""`tradewind report RUN.json -o report.html`: the tear sheet from a saved run, and its errors."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tradewind.cli import app

runner = CliRunner()
HEADER = "timestamp,open,high,low,close,volume"


def hour(i: int) -> str:
    """ISO time of hourly bar ``i`` from 2024-01-01 00:00 UTC."""
    return f"{np.datetime64('2024-01-01T00:00') + np.timedelta64(i, 'h')}:00Z"


def step_csv(path: Path) -> Path:
    """2,000 hourly bars (2024-01-01 00:00 .. 2024-03-24 07:00): price 80 for bars 0-999,
    100 for 1000-1499, 90 for 1500-1999 (open = close, high/low +-1).

    sma_cross(fast=5, slow=20) buys on bar 1000 (fast 84 > slow 81), filled at bar 1001's open
    = 100 (2024-02-11 17:00), and sells on bar 1500 (fast 98 < slow 99.5), filled at bar
    1501's open = 90 (2024-03-03 13:00).
    """
    lines = [HEADER]
    for i in range(2000):
        p = 80 if i < 1000 else 100 if i < 1500 else 90
        lines.append(f"{hour(i)},{p},{p + 1},{p - 1},{p},10")
    path.write_text("\n".join(lines) + "\n")
    return path


def figure_data(page: str, div_id: str) -> list[dict[str, Any]]:
    match = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', page)
    assert match, f"no figure {div_id}"
    data, _ = json.JSONDecoder().raw_decode(page, match.end())
    assert isinstance(data, list)
    return data


def as_array(value: Any) -> np.ndarray:
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value, dtype=np.float64)


@pytest.fixture
def run_json(tmp_path: Path) -> Path:
    data = step_csv(tmp_path / "steps.csv")
    out = tmp_path / "run.json"
    args = ["backtest", "--data", str(data), "--strategy", "sma_cross", "-q"]
    args += ["--param", "fast=5", "--param", "slow=20", "--cash", "100100", "--commission", "0.001"]
    result = runner.invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_report_from_run_json(run_json: Path, tmp_path: Path) -> None:
    page_path = tmp_path / "t.html"
    result = runner.invoke(app, ["report", str(run_json), "-o", str(page_path)])
    assert result.exit_code == 0, result.output
    assert f"wrote {page_path}" in result.output
    page = page_path.read_text()
    for div in ("tw-equity", "tw-monthly", "tw-return-dist", "tw-rolling-sharpe",
                "tw-trade-pnl", "tw-trade-duration", "tw-mae-mfe"):  # fmt: skip
        assert f'"{div}"' in page, div
    assert "tw-candles-0" not in page
    assert "has no bars: no candlestick charts" in page
    assert "<title>sma_cross backtest</title>" in page
    (heat,) = figure_data(page, "tw-monthly")
    z = as_array(heat["z"]).astype(float)[:3]
    # buy 100,100 / (100 * 1.001) = 1000 units, fee 100 -> equity 100,000 from Feb 11;
    # sell 1000 at 90 - fee 90 -> 89,910 from Mar 3.
    # Jan: 100,100 / 100,100 - 1 = 0; Feb: 100,000 / 100,100 - 1 = -0.0999 %;
    # Mar: 89,910 / 100,000 - 1 = -10.09 %
    assert z == pytest.approx([0.0, (100_000 / 100_100 - 1) * 100, -10.09])
    (scatter,) = figure_data(page, "tw-mae-mfe")
    assert len(as_array(scatter["x"])) == 1  # one trade, one point
    # long from 100 over bars 1001..1501 (exit bar included): lowest low 89 (bar 1501)
    # -> MAE 89 / 100 - 1 = -11 %; highest high 101 -> MFE +1 %
    assert as_array(scatter["x"]).tolist() == pytest.approx([-11.0])
    assert as_array(scatter["y"]).tolist() == pytest.approx([1.0])


def test_report_with_benchmark(run_json: Path, tmp_path: Path) -> None:
    bench = tmp_path / "bench.csv"
    bench.write_text("date,close\n2024-01-01,50\n2024-01-02,60\n2024-03-31,70\n")
    page_path = tmp_path / "t.html"
    args = ["report", str(run_json), "-o", str(page_path), "--benchmark", str(bench)]
    result = runner.invoke(app, [*args, "--title", "My <run>"])
    assert result.exit_code == 0, result.output
    page = page_path.read_text()
    assert "<title>My &lt;run&gt;</title>" in page
    data = figure_data(page, "tw-benchmark")
    (b,) = [t for t in data if t["name"] == "Benchmark (rebased)"]
    y = as_array(b["y"]).astype(float)
    # rebased to the starting equity 100,100: day 1 = 50 -> 100,100; day 2 = 60 -> 120,120;
    # later days carry 60 forward (the 70 is after the run's last day)
    assert y[0] == pytest.approx(100_100.0)
    assert y[1] == pytest.approx(120_120.0)
    assert y[-1] == pytest.approx(120_120.0)


def test_report_help_has_an_example() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0
    assert "tradewind report run.json -o report.html" in result.output


def _assert_error(result: Any, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_report_errors_write_nothing(run_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    missing = tmp_path / "nope.json"
    _assert_error(
        runner.invoke(app, ["report", str(missing), "-o", str(out)]), "nope.json", "does not exist"
    )
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    _assert_error(runner.invoke(app, ["report", str(bad), "-o", str(out)]), "not valid JSON")
    doc = json.loads(run_json.read_text())
    del doc["equity_daily"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    _assert_error(
        runner.invoke(app, ["report", str(old), "-o", str(out)]), "missing key(s) ['equity_daily']"
    )
    bench = tmp_path / "bench.csv"
    bench.write_text("date,close\n2024-01-01,abc\n2024-01-02,1\n")
    _assert_error(
        runner.invoke(app, ["report", str(run_json), "-o", str(out), "--benchmark", str(bench)]),
        "bench.csv",
    )
    _assert_error(
        runner.invoke(app, ["report", str(run_json), "-o", str(tmp_path / "no" / "t.html")]),
        "does not exist",
    )
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.json", "bench.csv", "old.json", "run.json", "steps.csv",
    ]  # fmt: skip


def test_report_error_keeps_an_existing_page(run_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.html"
    out.write_text("old page")
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    _assert_error(runner.invoke(app, ["report", str(bad), "-o", str(out)]), "JSON object")
    assert out.read_text() == "old page"
