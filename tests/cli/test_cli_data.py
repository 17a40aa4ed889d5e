"""`tradewind data …` end to end through the CLI, and `backtest --data catalog:…`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradewind.backtest.runner import run_backtest
from tradewind.cli import app
from tradewind.data.catalog import Catalog
from tradewind.strategy.registry import load_strategy

runner = CliRunner()
BTC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "binance_BTCUSDT_1m.csv.gz"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def write_csv(path: Path, n: int = 3000, gap: tuple[int, int] | None = None) -> Path:
    rng = np.random.default_rng(5)
    idx = np.arange(n)
    if gap:
        idx = idx[(idx < gap[0]) | (idx >= gap[1])]
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(idx, unit="min")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, len(idx))))
    pd.DataFrame(
        {
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "open": close,
            "high": close * 1.001,
            "low": close * 0.999,
            "close": close,
            "volume": 1.0,
        }
    ).to_csv(path, index=False)
    return path


def test_import_list_show_validate_resample_backtest(tmp_path: Path) -> None:
    cat = str(tmp_path / "cat")
    src = write_csv(tmp_path / "binance_ABCUSDT_1m.csv", gap=(1000, 1030))
    code, out = run("data", "import", str(src), "--catalog", cat, "--json")
    assert code == 0, out
    payload = json.loads(out)
    assert payload["series"][0]["series"] == "binance:ABC/USDT:1m"
    assert payload["series"][0]["rows"] == 2970

    code, out = run("data", "list", "--catalog", cat, "--json")
    assert [s["series"] for s in json.loads(out)["series"]] == ["binance:ABC/USDT:1m"]

    code, out = run(
        "data", "show", "binance:ABC/USDT:1m", "--catalog", cat, "--json",
        "--start", "2024-01-01T00:10", "--end", "2024-01-01T00:13",
    )  # fmt: skip
    shown = json.loads(out)
    assert shown["rows"] == 3 and shown["bars"][0]["ts"].startswith("2024-01-01T00:10")

    code, out = run("data", "validate", "binance:ABC/USDT:1m", "--catalog", cat, "--json")
    assert code == 1  # something was found
    report = json.loads(out)[0]
    assert [(g["missing"], g["text"][:10]) for g in report["gaps"]] == [(30, "30 minutes")]

    code, out = run("data", "resample", "binance:ABC/USDT:1m", "--to", "1h", "--catalog", cat)
    assert code == 0, out
    hourly = Catalog(cat).read("binance:ABC/USDT:1h")
    assert len(hourly) == 50  # 3000 minutes, the last hour complete

    code, out = run(
        "backtest", "--data", "catalog:binance:ABC/USDT:1m", "--catalog", cat,
        "--strategy", "sma_cross", "--json", str(tmp_path / "r.json"), "-q",
    )  # fmt: skip
    assert code == 0, out
    via_catalog = json.loads((tmp_path / "r.json").read_text())
    direct = run_backtest(
        {"ABC/USDT": Catalog(cat).read("binance:ABC/USDT:1m")}, load_strategy("sma_cross")()
    )
    assert via_catalog["metrics"]["num_trades"] == direct.metrics["num_trades"] > 0
    assert via_catalog["metrics"]["final_equity"] == pytest.approx(direct.metrics["final_equity"])


def test_repair_fill_gaps_then_validate_is_clean(tmp_path: Path) -> None:
    cat = str(tmp_path / "cat")
    run(
        "data",
        "import",
        str(write_csv(tmp_path / "binance_XUSDT_1m.csv", 500, (100, 110))),
        "--catalog",
        cat,
    )
    code, out = run(
        "data", "repair", "binance:X/USDT:1m", "--fill-gaps", "--catalog", cat, "--json"
    )
    assert code == 0, out
    assert json.loads(out)["rows_after"] == 500
    code, out = run("data", "validate", "binance:X/USDT:1m", "--catalog", cat, "--json")
    assert json.loads(out)[0]["gaps"] == []
    assert code == 1  # the 10 filled bars have volume 0: a reported zero-volume run


def test_synth_is_deterministic(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    for cat in (a, b):
        code, out = run("data", "synth", "--bars", "500", "--seed", "3", "--catalog", cat)
        assert code == 0, out
    pd.testing.assert_frame_equal(
        Catalog(a).read("synth:SYN/USD:1m"), Catalog(b).read("synth:SYN/USD:1m")
    )


def test_errors_are_one_line_and_change_nothing(tmp_path: Path) -> None:
    cat = tmp_path / "cat"
    run("data", "synth", "--bars", "50", "--catalog", str(cat))
    before = sorted(p.name for p in cat.rglob("*"))
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp;open;high;low;close;volume\n2024-01-01T00:00:00Z;1;1;1;1;1\n")
    for args in (
        ("data", "import", str(bad)),
        ("data", "show", "synth:NOPE:1m"),
        ("data", "resample", "synth:SYN/USD:1m", "--to", "banana"),
        ("data", "import", str(tmp_path / "missing.csv")),
        ("backtest", "--data", "catalog:nope", "--strategy", "sma_cross"),
    ):
        code, out = run(*args, "--catalog", str(cat))
        assert code == 2, (args, out)
        assert out.startswith("error: ") and out.count("\n") <= 2, out
    assert sorted(p.name for p in cat.rglob("*")) == before


@pytest.mark.realdata
@pytest.mark.skipif(not BTC.exists(), reason=f"real data not found at {BTC}")
def test_real_btc_validate_file_reports_exactly_one_gap() -> None:
    code, out = run("data", "validate", str(BTC), "--json")
    report = json.loads(out)[0]
    assert code == 1
    assert len(report["gaps"]) == 1
    assert report["gaps"][0]["missing"] == 80
    assert "2023-03-24T12:40" in report["gaps"][0]["text"]
    assert "resumes 2023-03-24T14:00" in report["gaps"][0]["text"]
    assert report["spikes"] == [] and report["file_problems"] == []
