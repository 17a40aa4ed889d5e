"""`tradewind backtest`, `strategies`, `--help`, `--version`: happy paths and options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tradewind import __version__
from tradewind.cli import app, parse_params, split_paths

runner = CliRunner()
REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HEADER = "timestamp,open,high,low,close,volume"
BUILTINS = (
    "sma_cross",
    "ema_rsi",
    "macd_cross",
    "rsi_reversion",
    "bollinger_reversion",
    "donchian_breakout",
    "momentum",
    "pairs",
    "grid",
)


def minute(i: int) -> str:
    """ISO time of 1-minute bar ``i`` from 2024-01-01 00:00 UTC."""
    return f"2024-01-{1 + i // 1440:02d}T{i % 1440 // 60:02d}:{i % 60:02d}:00Z"


def step_csv(path: Path) -> Path:
    """2,000 one-minute bars: price 80 for bars 0-999, 100 for 1000-1499, 90 for 1500-1999.

    open = close = price, high = price + 1, low = price - 1, volume 10. Integer prices keep the
    SMAs exact, so sma_cross(fast=5, slow=20) crosses exactly twice:
    - bar 1000: fast = (4*80 + 100)/5 = 84 > slow = (19*80 + 100)/20 = 81 (both 80 before)
      -> buy, filled at bar 1001's open = 100;
    - bar 1500: fast = (4*100 + 90)/5 = 98 < slow = (19*100 + 90)/20 = 99.5 (both 100 before)
      -> close, filled at bar 1501's open = 90.
    """
    lines = [HEADER]
    for i in range(2000):
        p = 80 if i < 1000 else 100 if i < 1500 else 90
        lines.append(f"{minute(i)},{p},{p + 1},{p - 1},{p},10")
    path.write_text("\n".join(lines) + "\n")
    return path


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_backtest_happy_path_writes_json_and_report(tmp_path: Path) -> None:
    data = step_csv(tmp_path / "steps.csv")
    out, rep = tmp_path / "o.json", tmp_path / "r.html"
    args = ["backtest", "--data", str(data), "--strategy", "sma_cross"]
    args += ["--param", "fast=5", "--param", "slow=20", "--cash", "100100", "--commission", "0.001"]
    result = runner.invoke(app, [*args, "--json", str(out), "--report", str(rep)])
    assert result.exit_code == 0, result.output
    doc = read_json(out)
    # buy: all cash 100,100 at 100 with a 0.1 % fee -> qty = 100100 / (100 * 1.001) = 1000,
    #      fee 1000 * 100 * 0.001 = 100, cash left 0
    # sell: 1000 at 90 -> 90,000 - fee 90 = 89,910
    # pnl = 1000 * (90 - 100) - 100 - 90 = -10,190
    assert doc["final_equity"] == pytest.approx(89_910.0)
    assert doc["params"] == {"fast": 5, "slow": 20}
    assert doc["metrics"]["num_trades"] == 1
    assert doc["metrics"]["total_return"] == pytest.approx(89_910 / 100_100 - 1)
    (trade,) = doc["trades"]
    assert trade["side"] == "long"
    assert trade["quantity"] == pytest.approx(1000.0)
    assert trade["entry_price"] == pytest.approx(100.0)
    assert trade["exit_price"] == pytest.approx(90.0)
    # bar 1001 opens 1001 min = 16 h 41 min after the start; bar 1501 = 25 h 01 min after
    assert trade["entry_time"] == "2024-01-01T16:41:00+00:00"
    assert trade["exit_time"] == "2024-01-02T01:01:00+00:00"
    assert trade["pnl"] == pytest.approx(-10_190.0)
    assert trade["fees"] == pytest.approx(190.0)
    assert doc["settings"]["data"]["steps"]["bars"] == 2000
    assert doc["settings"]["data"]["steps"]["timeframe"] == "1m"
    assert doc["settings"]["market_orders_fill_at"] == "next bar's open"
    html = rep.read_text()
    assert 'class="plotly-graph-div"' in html
    assert "Final equity" in result.stdout
    assert "89,910.00" in result.stdout
    assert f"wrote {out}" in result.stdout
    assert f"wrote {rep}" in result.stdout
    assert not list(tmp_path.glob(".*staged"))  # no temp files left behind


def test_backtest_replaces_outputs_of_an_earlier_run(tmp_path: Path) -> None:
    data = step_csv(tmp_path / "steps.csv")
    out = tmp_path / "o.json"
    out.write_text("old")
    args = ["backtest", "-d", str(data), "-s", "sma_cross", "-p", "fast=5", "-p", "slow=20"]
    result = runner.invoke(app, [*args, "--json", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert read_json(out)["metrics"]["num_trades"] == 1
    assert "Final equity" not in result.stdout  # --quiet: no summary, only the files
    assert result.stdout.strip() == f"wrote {out}"


def test_start_end_slice_bars(tmp_path: Path) -> None:
    data = step_csv(tmp_path / "steps.csv")
    out = tmp_path / "o.json"
    base = ["backtest", "-d", str(data), "-s", "sma_cross", "--json", str(out), "-q"]
    # 01:00 to 01:59 inclusive = 60 one-minute bars
    r = runner.invoke(app, [*base, "--start", "2024-01-01T01:00", "--end", "2024-01-01T01:59"])
    assert r.exit_code == 0, r.output
    info = read_json(out)["settings"]["data"]["steps"]
    assert (info["bars"], info["start"]) == (60, "2024-01-01T01:00:00+00:00")
    assert info["end"] == "2024-01-01T01:59:00+00:00"
    # a date-only --end includes that whole day: bars 0..1439 of 2024-01-01 = 1440 bars
    r = runner.invoke(app, [*base, "--end", "2024-01-01"])
    assert r.exit_code == 0, r.output
    assert read_json(out)["settings"]["data"]["steps"]["bars"] == 1440
    # from 2024-01-02 on: bars 1440..1999 = 560 bars
    r = runner.invoke(app, [*base, "--start", "2024-01-02"])
    assert r.exit_code == 0, r.output
    assert read_json(out)["settings"]["data"]["steps"]["bars"] == 560


def test_settings_options_are_echoed(tmp_path: Path) -> None:
    data = step_csv(tmp_path / "steps.csv")
    out = tmp_path / "o.json"
    args = ["backtest", "-d", str(data), "-s", "sma_cross", "--json", str(out), "-q"]
    args += ["--fill-at-close", "--volume-cap", "0.5", "--slippage-bps", "5", "--timeframe", "1m"]
    args += ["--leverage", "2", "--cash", "5000"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    s = read_json(out)["settings"]
    assert s["market_orders_fill_at"] == "this bar's close"
    assert s["volume_cap"] == 0.5
    assert s["slippage"] == "5 bps per taker fill"
    assert s["account"] == "margin"  # leverage > 1 implies a margin account
    assert s["leverage"] == 2
    assert s["cash"] == 5000


def test_several_data_files_comma_separated_and_repeated(tmp_path: Path) -> None:
    a, b, c = (step_csv(tmp_path / f"{n}.csv") for n in ("aaa", "bbb", "ccc"))
    out = tmp_path / "o.json"
    args = ["backtest", "--data", f"{a},{b}", "--data", str(c), "-s", "sma_cross"]
    r = runner.invoke(app, [*args, "--json", str(out), "-q"])
    assert r.exit_code == 0, r.output
    assert sorted(read_json(out)["settings"]["data"]) == ["aaa", "bbb", "ccc"]


def test_strategy_from_a_file(tmp_path: Path) -> None:
    data = step_csv(tmp_path / "steps.csv")
    (tmp_path / "mine.py").write_text(
        "from tradewind.strategy import Strategy, param\n\n"
        "class BuyOnce(Strategy):\n"
        "    at: int = param(10, ge=0)\n\n"
        "    def on_bar(self, bar):\n"
        "        if len(self.history()) == self.at + 1:\n"
        "            self.buy(2)\n"
    )
    out = tmp_path / "o.json"
    spec = f"{tmp_path / 'mine.py'}:BuyOnce"
    r = runner.invoke(
        app, ["backtest", "-d", str(data), "-s", spec, "-p", "at=1000", "--json", str(out)]
    )
    assert r.exit_code == 0, r.output
    doc = read_json(out)
    # buy 2 on bar 1000 -> filled at bar 1001's open 100; marked at the last close 90:
    # equity = 100,000 - 2 * 100 + 2 * 90 = 99,980
    assert doc["final_equity"] == pytest.approx(99_980.0)
    assert doc["params"] == {"at": 1000}


def test_parse_params_and_paths() -> None:
    assert parse_params(["fast=10", " slow = 30 ", "name=a=b"]) == {
        "fast": "10",
        "slow": "30",
        "name": "a=b",
    }
    assert parse_params(None) == {}
    assert split_paths(["a.csv,b.csv", "c.csv,"]) == [Path("a.csv"), Path("b.csv"), Path("c.csv")]


def test_strategies_lists_all_builtins_with_parameters() -> None:
    r = runner.invoke(app, ["strategies"])
    assert r.exit_code == 0, r.output
    for name in BUILTINS:
        assert name in r.stdout
    assert "fast SMA period" in r.stdout

    r = runner.invoke(app, ["strategies", "--json"])
    assert r.exit_code == 0, r.output
    info = {s["name"]: s for s in json.loads(r.stdout)}
    assert sorted(info) == sorted(BUILTINS)
    fast, slow = info["sma_cross"]["params"]
    assert fast == {
        "name": "fast",
        "type": "int",
        "default": 10,
        "bounds": ">= 1",
        "help": "fast SMA period",
    }
    assert (slow["name"], slow["default"]) == ("slow", 30)
    assert info["sma_cross"]["description"].startswith("Long when the fast SMA crosses above")


@pytest.mark.parametrize(
    "command",
    [[], ["backtest"], ["demo"], ["strategies"], ["data"], ["data", "check"]],
    ids=lambda c: " ".join(c) or "root",
)
def test_help_for_every_command(command: list[str]) -> None:
    r = runner.invoke(app, [*command, "--help"])
    assert r.exit_code == 0, r.output
    assert "Usage:" in r.stdout
    if command != ["data"]:
        assert "Examples" in r.stdout


def test_version() -> None:
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0
    assert r.stdout.strip() == f"tradewind {__version__}"


@pytest.mark.realdata
def test_acceptance_command_on_real_btc_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    btc = REAL_DATA / "binance_BTCUSDT_1m.csv.gz"
    if not btc.exists():
        pytest.skip(f"real data file not found: {btc} (see ../shared/data/README.md)")
    monkeypatch.chdir(tmp_path)
    args = ["backtest", "--data", str(btc), "--strategy", "sma_cross"]
    args += ["--param", "fast=10", "--param", "slow=30", "--cash", "100000"]
    args += ["--commission", "0.001", "--json", "out.json", "--report", "r.html"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    doc = read_json(tmp_path / "out.json")
    info = doc["settings"]["data"]["BTCUSDT"]
    # ../shared/data/README.md: 2,059,120 one-minute rows, 2022-01-01 00:00 -> 2025-11-30 23:59
    assert (info["bars"], info["timeframe"]) == (2_059_120, "1m")
    assert info["start"] == "2022-01-01T00:00:00+00:00"
    assert info["end"] == "2025-11-30T23:59:00+00:00"
    assert doc["settings"]["fees"] == "0.001 of notional per fill"
    assert doc["metrics"]["num_trades"] == len(doc["trades"]) > 0
    assert all(t["fees"] > 0 for t in doc["trades"][:100])
    assert 'class="plotly-graph-div"' in (tmp_path / "r.html").read_text()


def test_progress_bar_path_reports_every_bar(tmp_path: Path) -> None:
    """The progress callback wiring works (the bar itself only shows on a terminal)."""
    from tradewind.backtest.runner import Backtest
    from tradewind.cli import _run
    from tradewind.data.loader import load_ohlcv

    bars = load_ohlcv(step_csv(tmp_path / "steps.csv"))
    seen: list[tuple[int, int]] = []
    bt = Backtest(bars, "sma_cross", fast=5, slow=20)
    res = _run(bt, show_progress=True)
    assert res.metrics["num_trades"] == 1  # same two crosses as in the happy path
    bt.run(progress=lambda done, total: seen.append((done, total)))
    # 2,000 events in one chunk of max(2000 // 100, 50_000) -> a single call (2000, 2000)
    assert seen == [(2000, 2000)]


def test_summary_lists_at_most_five_instruments(tmp_path: Path) -> None:
    files = [step_csv(tmp_path / f"s{i}.csv") for i in range(7)]
    r = runner.invoke(app, ["backtest", "-d", ",".join(map(str, files)), "-s", "sma_cross"])
    assert r.exit_code == 0, r.output
    for i in range(5):
        assert f"Data s{i} " in r.stdout
    assert "Data s5" not in r.stdout
    # s5 and s6: 2 files of 2,000 bars each
    assert "Data +2 more" in r.stdout
    assert "4,000 bars" in r.stdout
