"""The README's Python examples run as written (docs that drift are worse than none)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradewind.backtest.runner import run_backtest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if "../shared" not in b and "class SmaCross" not in b],
    ids=lambda b: b.strip().splitlines()[-1][:40],
)
def test_self_contained_examples_run(block: str) -> None:
    exec(compile(block, "README.md", "exec"), {})


def test_quick_start_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = next(b for b in BLOCKS if "run_backtest" in b)
    if not (SHARED / "data").is_dir():
        pytest.skip(f"real data not found at {SHARED / 'data'} (the example reads it)")
    work = tmp_path / "repo"
    work.mkdir()
    (tmp_path / "shared").symlink_to(SHARED)
    monkeypatch.chdir(work)  # the example's ../shared/data paths resolve as in a checkout
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert (work / "out.json").stat().st_size > 0
    assert "plotly" in (work / "report.html").read_text()[:200_000].lower()


def test_strategy_example_defines_a_working_strategy() -> None:
    block = next(b for b in BLOCKS if "class SmaCross" in b)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    cls = namespace["SmaCross"]
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, 3_000)))
    ts = 1_700_000_000_000_000_000 + np.arange(3_000, dtype=np.int64) * 60_000_000_000
    bars = pd.DataFrame(
        {
            "ts": ts,
            "open": close,
            "high": close * 1.001,
            "low": close * 0.999,
            "close": close,
            "volume": 1.0,
        }
    )
    mine = run_backtest({"XUSD": bars}, cls, {"fast": 5, "slow": 20}, commission=0.001)  # type: ignore[arg-type]
    builtin = run_backtest({"XUSD": bars}, "sma_cross", {"fast": 5, "slow": 20}, commission=0.001)
    assert len(mine.trades) > 0
    assert mine.final_equity == builtin.final_equity  # the README shows the built-in verbatim
