"""The HTML report renders in a real browser: headless Chromium, offline, charts drawn.

Skipped (with the reason) where Chromium is not installed; `.ci/run` installs it so CI never
skips this.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tradewind.backtest.runner import run_backtest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install chromium)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _report(tmp_path: Path) -> Path:
    rng = np.random.default_rng(11)
    n = 3_000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.003, n)))
    open_ = np.r_[close[0], close[:-1]]
    bars = pd.DataFrame(
        {
            "ts": 1_700_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 3_600_000_000_000,
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": rng.uniform(1, 10, n),
        }
    )
    result = run_backtest(
        {"BTCUSDT": bars}, "sma_cross", {"fast": 10, "slow": 40}, commission=0.001
    )
    assert len(result.trades) > 5
    return result.report(tmp_path / "report.html")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    env = {**os.environ, "HOME": str(tmp_path)}
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_report_draws_its_charts_offline(tmp_path: Path) -> None:
    page = _report(tmp_path)
    # --virtual-time-budget lets plotly's scripts finish before the DOM is dumped
    done = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", page.as_uri())
    dom = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    # plotly replaces each chart div's content with SVG once it has drawn it
    assert dom.count('class="main-svg"') >= 4, "plotly did not draw the charts"
    assert "candlestick" in dom or "cartesianlayer" in dom
    assert "BTCUSDT" in dom
    assert 'src="http' not in dom  # nothing is fetched from the network


def test_report_screenshot_is_not_blank(tmp_path: Path) -> None:
    page = _report(tmp_path)
    shot = tmp_path / "shot.png"
    done = _chromium(
        tmp_path,
        "--virtual-time-budget=10000",
        f"--screenshot={shot}",
        "--window-size=1400,2400",
        page.as_uri(),
    )
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    pixels = np.asarray(img, dtype=np.int16)
    assert img.size == (1400, 2400)
    # a blank page is one colour; a drawn report has text, lines and candles in many colours
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert colours > 50, f"only {colours} colours: the page looks blank"
    # the chart area (below the tables) is not empty either
    chart_band = pixels[900:1500]
    assert chart_band.std() > 10
