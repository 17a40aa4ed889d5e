"""Tests of the Monte Carlo core (tradewind.backtest.montecarlo) and its HTML report.

Every number is checked against a hand-computed case or an independent numpy computation.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter
from itertools import pairwise, permutations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from tradewind.analytics.metrics import longest_underwater
from tradewind.backtest.montecarlo import (
    MCConfig,
    MCResult,
    block_bootstrap,
    bootstrap_indices,
    fit_gbm,
    path_stats,
    summarize_equity_paths,
    synthetic_paths,
    trade_reshuffle,
)
from tradewind.backtest.montecarlo_report import write_montecarlo_report
from tradewind.data.synth import YEAR_NS, SynthSpec, synth_bars
from tradewind.errors import ConfigError

HOUR_NS = 3_600_000_000_000


def triples(result: MCResult) -> list[tuple[float, float, int]]:
    """(max drawdown, time under water, longest under water) of every path, rounded."""
    return [
        (round(float(d), 9), round(float(t), 9), int(lg))
        for d, t, lg in zip(
            result.max_drawdown, result.time_under_water, result.longest_underwater, strict=True
        )
    ]


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_sims": 0}, "n_sims"),
        ({"ruin": 0.0}, "ruin"),
        ({"ruin": 1.0}, "ruin"),
        ({"block": 0}, "block"),
        ({"band_points": 1}, "band_points"),
        ({"quantiles": (0.5, 1.0)}, "quantiles"),
        ({"seed": -1}, "seed"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        MCConfig(**kwargs)


def test_bad_inputs_are_config_errors() -> None:
    cfg = MCConfig(n_sims=2)
    with pytest.raises(ConfigError, match="trade_returns"):
        trade_reshuffle([0.1, float("nan")], 100.0, cfg)
    with pytest.raises(ConfigError, match="below -1"):
        trade_reshuffle([0.1, -1.5], 100.0, cfg)
    with pytest.raises(ConfigError, match="initial"):
        trade_reshuffle([0.1], 0.0, cfg)
    with pytest.raises(ConfigError, match="block"):
        block_bootstrap([0.01, 0.02], 100.0, MCConfig(n_sims=2, block=3))
    with pytest.raises(ConfigError, match="same length"):
        summarize_equity_paths([[100.0, 101.0], [100.0, 99.0, 98.0]], 100.0, cfg)
    with pytest.raises(ConfigError, match="empty"):
        summarize_equity_paths([], 100.0, cfg)


# --------------------------------------------------------------------------- path statistics


def test_time_under_water_and_longest_span_on_a_hand_made_curve() -> None:
    # peak 100; 90, 95 under; 100 recovers (span 0->3 = 3); 80 under (span 1);
    # 120 new peak (span 3->5 = 2); 110 under (span 1). Under water: 4 of 6 steps.
    curve = [100.0, 90.0, 95.0, 100.0, 80.0, 120.0, 110.0]
    stats = path_stats(curve)
    assert stats["time_under_water"] == pytest.approx(4 / 6)
    assert stats["longest_underwater"] == 3
    assert stats["max_drawdown"] == pytest.approx(-0.2)
    assert stats["final_equity"] == 110.0
    assert stats["longest_underwater"] == longest_underwater(
        np.array(curve), np.arange(len(curve), dtype=np.float64)
    )

    never_recovers = path_stats([100.0, 99.0, 98.0, 97.0])
    assert never_recovers["time_under_water"] == 1.0
    assert never_recovers["longest_underwater"] == 3
    flat = path_stats([100.0, 100.0, 100.0])  # equal to the peak is not under water
    assert (flat["time_under_water"], flat["longest_underwater"], flat["max_drawdown"]) == (
        0.0,
        0,
        0.0,
    )


def test_path_statistics_agree_with_the_analytics_helper_on_random_curves() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        curve = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 200)))
        stats = path_stats(curve)
        peak = np.maximum.accumulate(curve)
        assert stats["max_drawdown"] == pytest.approx(float((curve / peak - 1).min()))
        assert stats["time_under_water"] == pytest.approx(float((curve[1:] < peak[1:]).mean()))
        assert stats["longest_underwater"] == longest_underwater(curve, np.arange(200.0))


# --------------------------------------------------------------------------- trade reshuffle


def test_reshuffle_all_permutations_enumerated_by_hand() -> None:
    # returns +10 %, -50 %, +20 % from 100; the six orders by hand (path -> mdd, tuw, longest):
    hand = {
        (0.1, -0.5, 0.2): ([100, 110, 55, 66], -0.5, 2 / 3, 2),
        (0.1, 0.2, -0.5): ([100, 110, 132, 66], -0.5, 1 / 3, 1),
        (-0.5, 0.1, 0.2): ([100, 50, 55, 66], -0.5, 1.0, 3),
        (-0.5, 0.2, 0.1): ([100, 50, 60, 66], -0.5, 1.0, 3),
        (0.2, 0.1, -0.5): ([100, 120, 132, 66], -0.5, 1 / 3, 1),
        (0.2, -0.5, 0.1): ([100, 120, 60, 66], -0.5, 2 / 3, 2),
    }
    assert set(hand) == set(permutations((0.1, -0.5, 0.2)))
    expected = {(round(d, 9), round(t, 9), lg) for _, d, t, lg in hand.values()}

    result = trade_reshuffle([0.1, -0.5, 0.2], 100.0, MCConfig(n_sims=600, seed=3))
    seen = Counter(triples(result))
    assert set(seen) == expected
    for count in seen.values():  # each triple comes from 2 of the 6 orders
        assert count / 600 == pytest.approx(1 / 3, abs=0.08)
    # the product does not depend on the order: 1.1 × 0.5 × 1.2 × 100 in every path
    np.testing.assert_allclose(result.final_equity, 1.1 * 0.5 * 1.2 * 100.0, rtol=1e-12)
    # ruin line 50: only the orders that start with -50 % touch it (50 <= 50), i.e. 2 of 6
    np.testing.assert_array_equal(result.ruined, result.time_under_water == 1.0)
    assert result.ruin_probability == pytest.approx(1 / 3, abs=0.08)
    # bands: step 1 is 110, 50 or 120 with probability 1/3 each
    np.testing.assert_array_equal(result.band_x, [0, 1, 2, 3])
    assert result.bands[0.05][1] == 50.0
    assert result.bands[0.95][1] == 120.0
    np.testing.assert_allclose([b[3] for b in result.bands.values()], 66.0)
    # the original order is the first hand path
    assert result.original["longest_underwater"] == 2
    assert result.original["time_under_water"] == pytest.approx(2 / 3)
    np.testing.assert_allclose(result.original["path"], [100, 110, 55, 66])


def test_reshuffle_ruin_is_measured_against_initial_equity() -> None:
    # -30 %, -30 %, +100 % from 100 (the two -30 % are interchangeable, so 3 distinct paths):
    #   -,-,+ : 70, 49, 98    -> max drawdown -51 %, ruined (49 <= 50)   probability 1/3
    #   -,+,- : 70, 140, 98   -> max drawdown -30 %, not ruined          probability 1/3
    #   +,-,- : 200, 140, 98  -> max drawdown -51 %, not ruined (98 > 50) probability 1/3
    result = trade_reshuffle([-0.3, -0.3, 1.0], 100.0, MCConfig(n_sims=20_000, seed=1))
    mdds = np.round(result.max_drawdown, 9)
    assert set(mdds) == {-0.51, -0.3}
    assert np.mean(mdds == -0.51) == pytest.approx(2 / 3, abs=0.02)
    assert result.ruin_probability == pytest.approx(1 / 3, abs=0.02)
    # ruined paths are exactly the -,-,+ ones: the only order under water at all 3 steps
    np.testing.assert_array_equal(result.ruined, result.time_under_water == 1.0)
    np.testing.assert_allclose(result.final_equity, 98.0, rtol=1e-12)


def test_trade_bootstrap_matches_the_multinomial_distribution() -> None:
    returns = (0.1, -0.5, 0.2)
    n_sims = 20_000
    result = trade_reshuffle(returns, 100.0, MCConfig(n_sims=n_sims, seed=11), replace=True)
    # the final equity identifies how often each trade was drawn: 1.1^a 0.5^b 1.2^c
    expected: dict[tuple[int, int, int], float] = {}
    values: dict[tuple[int, int, int], float] = {}
    for a in range(4):
        for b in range(4 - a):
            c = 3 - a - b
            values[(a, b, c)] = 100.0 * 1.1**a * 0.5**b * 1.2**c
            expected[(a, b, c)] = (
                math.factorial(3) / (math.factorial(a) * math.factorial(b) * math.factorial(c))
            ) / 27
    keys = list(values)
    table = np.array([values[k] for k in keys])
    which = np.abs(result.final_equity[:, None] - table[None, :]).argmin(axis=1)
    np.testing.assert_allclose(result.final_equity, table[which], rtol=1e-12)
    freq = np.bincount(which, minlength=len(keys)) / n_sims
    for i, k in enumerate(keys):
        assert freq[i] == pytest.approx(expected[k], abs=0.015), k
    assert result.method == "trade_bootstrap"


# --------------------------------------------------------------------------- block bootstrap


def rotation_stats(r: np.ndarray, shift: int) -> tuple[float, float]:
    """(final equity, max drawdown) of the input rotated to start at ``shift``, by numpy."""
    eq = 100.0 * np.concatenate([[1.0], np.cumprod(1 + np.roll(r, -shift))])
    return float(eq[-1]), float((eq / np.maximum.accumulate(eq) - 1).min())


def test_block_as_long_as_the_input_gives_rotations() -> None:
    r = np.random.default_rng(2).normal(0.002, 0.03, 12)
    cfg = MCConfig(n_sims=600, seed=4, block=12)
    result = block_bootstrap(r, 100.0, cfg)
    np.testing.assert_allclose(result.final_equity, 100.0 * np.prod(1 + r), rtol=1e-12)
    # the same seed gives the same positions: each row is the input rotated by its first index
    idx = bootstrap_indices(12, 600, 12, np.random.default_rng(4))
    shifts = idx[:, 0]
    np.testing.assert_array_equal(idx, (shifts[:, None] + np.arange(12)) % 12)
    want = np.array([rotation_stats(r, int(s))[1] for s in shifts])
    np.testing.assert_allclose(result.max_drawdown, want, rtol=1e-9, atol=1e-12)
    counts = np.bincount(shifts, minlength=12)
    assert counts.min() > 0  # every rotation occurs
    assert np.all(np.abs(counts / 600 - 1 / 12) < 0.05)


def test_block_structure_and_default_length() -> None:
    idx = bootstrap_indices(12, 50, 5, np.random.default_rng(0))
    assert idx.shape == (50, 12)
    for start, length in ((0, 5), (5, 5), (10, 2)):  # blocks of 5, 5 and a cut one of 2
        block = idx[:, start : start + length]
        np.testing.assert_array_equal(block, (block[:, :1] + np.arange(length)) % 12)
    result = block_bootstrap(np.full(1000, 0.001), 100.0, MCConfig(n_sims=3))
    assert result.params["block"] == 10  # round(1000 ** (1/3))


def test_block_of_one_is_an_iid_bootstrap() -> None:
    r = np.random.default_rng(8).normal(0.001, 0.02, 50)
    idx = bootstrap_indices(50, 4000, 1, np.random.default_rng(1))
    counts = np.bincount(idx.ravel(), minlength=50) / idx.size
    np.testing.assert_allclose(counts, 1 / 50, atol=0.003)
    result = block_bootstrap(r, 100.0, MCConfig(n_sims=4000, seed=1, block=1))
    # mean over paths of each path's mean log return ≈ the input's mean log return
    per_path = np.log(result.final_equity / 100.0) / 50
    assert per_path.mean() == pytest.approx(np.log1p(r).mean(), abs=3e-4)
    assert per_path.std() == pytest.approx(np.log1p(r).std() / math.sqrt(50), rel=0.1)


def test_same_seed_same_result_different_seed_different() -> None:
    r = np.random.default_rng(3).normal(0.0, 0.01, 300)
    a = block_bootstrap(r, 1000.0, MCConfig(n_sims=50, seed=7))
    b = block_bootstrap(r, 1000.0, MCConfig(n_sims=50, seed=7))
    c = block_bootstrap(r, 1000.0, MCConfig(n_sims=50, seed=8))
    np.testing.assert_array_equal(a.final_equity, b.final_equity)
    np.testing.assert_array_equal(a.longest_underwater, b.longest_underwater)
    assert a.summary() == b.summary()
    assert not np.array_equal(a.final_equity, c.final_equity)
    t1 = trade_reshuffle(r[:40], 1000.0, MCConfig(n_sims=30, seed=1), replace=True)
    t2 = trade_reshuffle(r[:40], 1000.0, MCConfig(n_sims=30, seed=1), replace=True)
    t3 = trade_reshuffle(r[:40], 1000.0, MCConfig(n_sims=30, seed=2), replace=True)
    np.testing.assert_array_equal(t1.max_drawdown, t2.max_drawdown)
    assert not np.array_equal(t1.max_drawdown, t3.max_drawdown)


def test_bands_are_bounded_to_band_points_and_ordered() -> None:
    r = np.random.default_rng(9).normal(0.0, 0.01, 10_000)
    result = block_bootstrap(r, 100.0, MCConfig(n_sims=40, band_points=50))
    assert len(result.band_x) == 50
    assert (result.band_x[0], result.band_x[-1]) == (0, 10_000)
    qs = sorted(result.bands)
    for lo, hi in pairwise(qs):
        assert np.all(result.bands[lo] <= result.bands[hi])
    np.testing.assert_array_equal(result.bands[0.5][0], 100.0)
    # the last band point is the final equity: its median is the median final equity
    assert result.bands[0.5][-1] == pytest.approx(np.median(result.final_equity))


# --------------------------------------------------------------------------- equity paths


HAND_CURVES = [
    [100.0, 120.0, 60.0, 130.0],  # drawdown -50 % but never <= 50: not ruined
    [100.0, 80.0, 50.0, 90.0],  # touches exactly 50: ruined (<=)
    [100.0, 50.01, 200.0, 210.0],  # just above the line: not ruined
    [100.0, 200.0, 40.0, 45.0],  # ruined
]


def test_summarize_equity_paths_hand_case() -> None:
    result = summarize_equity_paths(
        (np.array(c) for c in HAND_CURVES), 100.0, MCConfig(seed=5), original=HAND_CURVES[0]
    )
    assert result.n_sims == 4
    assert result.ruin_probability == 0.5
    np.testing.assert_array_equal(result.ruined, [False, True, False, True])
    np.testing.assert_allclose(result.max_drawdown, [-0.5, -0.5, -0.4999, -0.8])
    np.testing.assert_array_equal(result.final_equity, [130.0, 90.0, 210.0, 45.0])
    np.testing.assert_allclose(result.time_under_water, [1 / 3, 1.0, 1 / 3, 2 / 3])
    np.testing.assert_array_equal(result.longest_underwater, [2, 3, 2, 2])
    # step 2 holds 60, 50, 200, 40: median 55, 5th percentile 40 + 0.15 × 10
    assert result.bands[0.5][2] == pytest.approx(55.0)
    assert result.bands[0.05][2] == pytest.approx(41.5)
    stricter = summarize_equity_paths(HAND_CURVES, 100.0, MCConfig(ruin=0.4))
    assert stricter.ruin_probability == 0.25  # only the dip to 40
    s = result.summary()
    assert s["final_equity_p50"] == pytest.approx(110.0)
    assert s["final_equity_p5"] == pytest.approx(51.75)
    assert s["final_equity_p95"] == pytest.approx(198.0)
    assert s["original_final_equity"] == 130.0
    assert (s["n_sims"], s["seed"], s["method"]) == (4, 5, "synthetic")
    json.dumps(result.to_dict(), allow_nan=False)  # JSON-safe


# --------------------------------------------------------------------------- synthetic paths


def realised_vol(close: np.ndarray, spacing_ns: int) -> float:
    return float(np.std(np.diff(np.log(close)), ddof=1) * math.sqrt(YEAR_NS / spacing_ns))


def test_fit_gbm_on_a_hand_made_series() -> None:
    # daily bars, log returns +2 %, 0, +2 %, 0: mean 0.01, sample std sqrt(4e-4 / 3)
    close = 100 * np.exp(np.cumsum([0.0, 0.02, 0.0, 0.02, 0.0]))
    day = 24 * HOUR_NS
    bars = pd.DataFrame(
        {"ts": np.arange(5, dtype=np.int64) * day, "open": close, "high": close,
         "low": close, "close": close, "volume": 1.0}
    )  # fmt: skip
    fit = fit_gbm(bars)
    vol = math.sqrt(4e-4 / 3) * math.sqrt(365)  # 0.22061
    assert fit["volatility"] == pytest.approx(vol)
    assert fit["drift"] == pytest.approx(0.01 * 365 + vol**2 / 2)  # 3.67433
    assert fit["spacing_ns"] == day


def test_synthetic_paths_shape_validity_volatility_and_reproducibility() -> None:
    spec = SynthSpec(
        bars=1500, timeframe="1h", volatility=0.4, switch_prob=0.0, jumps_per_year=0.0, seed=11
    )
    bars = synth_bars(spec)[0].drop(index=range(100, 105)).reset_index(drop=True)  # a gap
    assert fit_gbm(bars)["volatility"] == pytest.approx(0.4, rel=0.1)
    target = realised_vol(bars["close"].to_numpy(), HOUR_NS)

    cfg = MCConfig(n_sims=4, seed=2)
    paths = list(synthetic_paths(bars, cfg))
    assert len(paths) == 4
    for frame in paths:
        assert list(frame.columns) == ["ts", "open", "high", "low", "close", "volume"]
        np.testing.assert_array_equal(frame["ts"].to_numpy(), bars["ts"].to_numpy())
        o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
        assert np.all(h >= np.maximum(o, c)) and np.all(lo <= np.minimum(o, c))
        assert np.all(lo > 0) and np.all(frame["volume"].to_numpy() > 0)
        assert o[0] == pytest.approx(bars["open"].iloc[0])
        assert realised_vol(c, HOUR_NS) == pytest.approx(target, rel=0.15)
    assert not paths[0]["close"].equals(paths[1]["close"])
    # drift: the paths' mean log return per bar ≈ the input's (standard error ~5.5e-5 over 4)
    per_bar = np.mean([np.diff(np.log(p["close"].to_numpy())).mean() for p in paths])
    assert per_bar == pytest.approx(np.diff(np.log(bars["close"].to_numpy())).mean(), abs=2.5e-4)

    again = list(synthetic_paths(bars, cfg))
    for x, y in zip(paths, again, strict=True):
        pd.testing.assert_frame_equal(x, y)
    other = next(iter(synthetic_paths(bars, MCConfig(n_sims=1, seed=3))))
    assert not other["close"].equals(paths[0]["close"])


# --------------------------------------------------------------------------- report


def figure_data(page: str, div_id: str) -> list[dict[str, Any]]:
    """The ``data`` list passed to ``Plotly.newPlot`` for the div ``div_id``."""
    match = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', page)
    assert match, f"no figure {div_id}"
    data, _ = json.JSONDecoder().raw_decode(page, match.end())
    assert isinstance(data, list)
    return data


def as_array(value: Any) -> np.ndarray:
    """Decode plotly's typed-array JSON (``{"dtype", "bdata"}``) or a list."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value, dtype=np.float64)


def test_report_is_written_with_titles_and_summary_numbers(tmp_path: Path) -> None:
    result = summarize_equity_paths(HAND_CURVES, 100.0, MCConfig(), original=HAND_CURVES[0])
    out = write_montecarlo_report(result, tmp_path / "mc.html", title="MC <demo>")
    assert out == tmp_path / "mc.html"
    page = out.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["mc.html"]  # no temp file left
    assert "MC &lt;demo&gt;" in page
    for heading in (
        "Equity confidence bands",
        "Final equity distribution",
        "Max drawdown distribution",
        "Time under water distribution",
        "Ruin probability",
    ):
        assert heading in page
    assert "50.00 %" in page  # ruin probability: 2 of 4 paths
    # final equity: median 110, 5th / 95th percentiles 51.75 / 198, mean 118.75
    for text in ("110.00", "51.75", "198.00", "118.75", "-57.50 %"):
        assert text in page, text
    assert get_plotlyjs()[:200] in page  # plotly.js inline: works offline
    assert "<script src" not in page
    bands = figure_data(page, "tw-mc-bands")
    median = next(t for t in bands if t.get("name") == "Median")
    np.testing.assert_allclose(as_array(median["y"]), [100.0, 100.0, 55.0, 110.0])
    original = next(t for t in bands if t.get("name") == "Original")
    np.testing.assert_allclose(as_array(original["y"]), HAND_CURVES[0])
    hist = figure_data(page, "tw-mc-final_equity")
    assert int(as_array(hist[0]["y"]).sum()) == 4
