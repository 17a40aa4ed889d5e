"""`tradewind optimize | walkforward | montecarlo`: outputs, reports, and errors before work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradewind.backtest.tearsheet import histogram
from tradewind.cli import app
from tradewind.data.synth import SynthSpec, synth_bars

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    df, _ = synth_bars(SynthSpec(bars=6000, volatility=1.0, seed=4))
    path = tmp_path_factory.mktemp("research") / "synth_SYNUSD_1m.csv"
    df.to_csv(path, index=False)
    return path


def test_optimize_writes_table_json_and_report(data: Path, tmp_path: Path) -> None:
    out, rep = tmp_path / "o.json", tmp_path / "o.html"
    args = ["optimize", "-d", str(data), "-s", "sma_cross", "-p", "fast=5:20:5",
            "-p", "slow=20:80:20", "-c", "fast < slow", "--commission", "0.001",
            "--objective", "sharpe", "--objective", "max_drawdown",
            "--json", str(out), "--report", str(rep)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "best: fast=" in result.output
    doc = json.loads(out.read_text())
    assert doc["trials"] == 15 and doc["method"] == "grid" and doc["engine"] == "vector"
    best = doc["results"][0]
    assert best["sharpe"] == max(r["sharpe"] for r in doc["results"] if r["sharpe"] is not None)
    assert {"pbo", "deflated_sharpe"} <= set(doc["overfit"])
    html = rep.read_text()
    for title in ("Objective heatmap", "Pareto front", "Top trials", "Probability of backtest"):
        assert title in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "fast=50:5"], "empty range"),
        (["-p", "fast=5:20", "-p", "slow=20:30", "-c", "fast > slow"], "exclude every one"),
        (["-p", "speed=1:5"], "unknown parameter"),
        (["-p", "fast=1.5:4"], "is an int"),
        (["-p", "fast=5:9", "--objective", "shrape"], "unknown objective"),
        (["-p", "fast=5:9", "--method", "anneal"], "--method"),
    ],
)
def test_optimize_errors_before_any_work(
    data: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "o.json"
    missing = tmp_path / "no-such-file.csv"  # proves nothing was loaded or run
    result = runner.invoke(
        app, ["optimize", "-d", str(missing), "-s", "sma_cross", *args, "--json", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not out.exists()


def test_walkforward_and_montecarlo(data: Path, tmp_path: Path) -> None:
    wf_json, wf_html = tmp_path / "wf.json", tmp_path / "wf.html"
    result = runner.invoke(
        app,
        ["walkforward", "-d", str(data), "-s", "sma_cross", "-p", "fast=5,10", "-p", "slow=40,80",
         "--train", "1d", "--test", "12h", "--json", str(wf_json), "--report", str(wf_html)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(wf_json.read_text())
    assert len(doc["windows"]) == len(range(1440, 6000, 720))
    first = doc["windows"][0]
    assert first["oos_start_equity"] == 100_000.0
    assert "Out-of-sample equity" in wf_html.read_text()

    mc_json, mc_html = tmp_path / "mc.json", tmp_path / "mc.html"
    result = runner.invoke(
        app,
        ["montecarlo", "-d", str(data), "-s", "sma_cross", "--commission", "0.001", "--sims", "200",
         "--json", str(mc_json), "--report", str(mc_html)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    mc = json.loads(mc_json.read_text())
    finals = mc["final_equity"]
    assert len(finals) == 200
    # reshuffling trades keeps the final equity: any spread is rounding only
    assert max(finals) - min(finals) <= 1e-9 * max(finals)
    assert min(mc["max_drawdown"]) < max(mc["max_drawdown"])  # but the path changes
    assert "probability of ruin" in result.output
    assert "Equity confidence bands" in mc_html.read_text()


def test_histogram_of_values_equal_up_to_rounding() -> None:
    centres, counts, _ = histogram([41310.0, 41310.000000001, 41310.0000000005])
    assert counts.sum() == 3 and len(centres) >= 1
