"""Bad input to the CLI: a clear `error: ...` on stderr, exit code 2, no traceback, no files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tradewind.backtest.result import BacktestResult
from tradewind.cli import app
from tradewind.errors import ConfigError

runner = CliRunner()
HEADER = "timestamp,open,high,low,close,volume"
GOOD_ROW = "{t},100,102,99,101,10"


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def t(i: int) -> str:
    return f"2024-01-01T00:{i:02d}:00Z"


def good_rows(n: int = 40) -> list[str]:
    return [GOOD_ROW.format(t=t(i)) for i in range(n)]


def assert_user_error(result: Result, *fragments: str) -> None:
    """Exit 2, ``error: `` on stderr naming every fragment, and no traceback."""
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def run_backtest(tmp_path: Path, data: Path | str, *extra: str) -> Result:
    """Run a backtest whose outputs would go to tmp_path/o.json and tmp_path/r.html."""
    args = ["backtest", "--data", str(data), "--strategy", "sma_cross", *extra]
    args += ["--json", str(tmp_path / "o.json"), "--report", str(tmp_path / "r.html")]
    return runner.invoke(app, args)


def assert_nothing_written(tmp_path: Path) -> None:
    assert not (tmp_path / "o.json").exists()
    assert not (tmp_path / "r.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# Each case: rows of a CSV (row numbers below are 1-based data rows, header excluded) and the
# fragments the message must contain.
BAD_FILES = {
    "unsorted": (
        [GOOD_ROW.format(t=t(0)), GOOD_ROW.format(t=t(2)), GOOD_ROW.format(t=t(1))],
        HEADER,
        [
            "bad.csv row 3",
            "timestamp 2024-01-01T00:01:00Z is not after the previous row's 2024-01-01T00:02:00Z",
        ],
    ),
    "duplicate": (
        [GOOD_ROW.format(t=t(0)), GOOD_ROW.format(t=t(1)), GOOD_ROW.format(t=t(1))],
        HEADER,
        ["bad.csv row 3", "duplicate timestamp 2024-01-01T00:01:00Z (also at row 2)"],
    ),
    "nan": (
        [GOOD_ROW.format(t=t(0)), f"{t(1)},100,102,99,,10"],
        HEADER,
        ["bad.csv row 2", "close is NaN"],
    ),
    "non_positive_price": (
        [GOOD_ROW.format(t=t(0)), f"{t(1)},100,102,0,101,10"],
        HEADER,
        ["bad.csv row 2", "low 0.0 must be > 0"],
    ),
    "high_below_open_close": (
        [GOOD_ROW.format(t=t(0)), f"{t(1)},100,100.5,99,101,10"],
        HEADER,
        ["bad.csv row 2", "high 100.5 is below max(open, close) = 101.0"],
    ),
    "missing_column": (
        [f"{t(0)},100,102,99,101"],
        "timestamp,open,high,low,close",
        ["bad.csv", "missing column(s) 'volume'"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_data_file(tmp_path: Path, case: str) -> None:
    rows, header, fragments = BAD_FILES[case]
    data = write_csv(tmp_path / "bad.csv", rows, header)
    result = run_backtest(tmp_path, data)
    assert_user_error(result, *fragments)
    assert_nothing_written(tmp_path)


def test_unknown_strategy(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "good.csv", good_rows())
    args = ["backtest", "-d", str(data), "-s", "no_such", "--json", str(tmp_path / "o.json")]
    result = runner.invoke(app, args)
    assert_user_error(result, "unknown strategy 'no_such'", "sma_cross")
    assert not (tmp_path / "o.json").exists()


@pytest.mark.parametrize(
    ("params", "fragments"),
    [
        (["fastest=3"], ["unknown parameter(s) 'fastest'", "sma_cross", "fast (int)"]),
        (["fast=abc"], ["parameter 'fast' of sma_cross expects an int, got 'abc'"]),
        (["fast=0"], ["parameter 'fast' of sma_cross must be >= 1, got 0"]),
        (["fast=30", "slow=10"], ["strategy sma_cross: fast must be below slow"]),
        (["fast"], ["--param expects NAME=VALUE", "'fast'"]),
        (["fast=3", "fast=4"], ["--param fast is given more than once"]),
    ],
    ids=["unknown", "wrong-type", "out-of-bounds", "inconsistent", "no-equals", "twice"],
)
def test_bad_parameters(tmp_path: Path, params: list[str], fragments: list[str]) -> None:
    data = write_csv(tmp_path / "good.csv", good_rows())
    extra = [x for p in params for x in ("--param", p)]
    result = run_backtest(tmp_path, data, *extra)
    assert_user_error(result, *fragments)
    assert_nothing_written(tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    result = run_backtest(tmp_path, tmp_path / "nope.csv")
    assert_user_error(result, "file not found", "nope.csv")
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (["--cash", "0"], ["cash must be a positive number, got 0.0"]),
        (["--commission", "-0.1"], ["commission rate must be in [0, 1), got -0.1"]),
        (["--slippage-bps", "-1"], ["slippage bps must be >= 0, got -1.0"]),
        (["--volume-cap", "1.5"], ["volume_cap must be in (0, 1], got 1.5"]),
        (["--leverage", "3", "--account", "cash"], ["leverage 3.0 needs a margin account"]),
        (["--timeframe", "abc"], ["timeframe 'abc' is not valid"]),
        (["--latency-ms", "nan"], ["--latency-ms must be a finite number, got nan"]),
        (["--leverage", "inf"], ["--leverage must be a finite number, got inf"]),
        (["--start", "yesterday-ish"], ["--start 'yesterday-ish' is not an ISO date/time"]),
        (["--start", "2024-02-01"], ["no bars between 2024-02-01 and the end"]),
        (["--start", "2024-01-02", "--end", "2024-01-01"], ["--start 2024-01-02 is after --end"]),
    ],
    ids=[
        "cash",
        "commission",
        "slippage",
        "volume-cap",
        "leverage-cash",
        "timeframe",
        "latency-nan",
        "leverage-inf",
        "start-format",
        "empty-range",
        "start-after-end",
    ],
)
def test_bad_options(tmp_path: Path, options: list[str], fragments: list[str]) -> None:
    data = write_csv(tmp_path / "good.csv", good_rows())
    result = run_backtest(tmp_path, data, *options)
    assert_user_error(result, *fragments)
    assert_nothing_written(tmp_path)


def test_output_directory_must_exist(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "good.csv", good_rows())
    target = tmp_path / "missing" / "o.json"
    result = runner.invoke(
        app, ["backtest", "-d", str(data), "-s", "sma_cross", "--json", str(target)]
    )
    assert_user_error(result, "--json: directory", "missing", "does not exist")
    assert not target.parent.exists()


def test_failed_run_leaves_earlier_outputs_untouched(tmp_path: Path) -> None:
    (tmp_path / "o.json").write_text("earlier json")
    (tmp_path / "r.html").write_text("earlier report")
    data = write_csv(tmp_path / "bad.csv", [GOOD_ROW.format(t=t(1)), GOOD_ROW.format(t=t(0))])
    result = run_backtest(tmp_path, data)
    assert_user_error(result, "bad.csv row 2")
    assert (tmp_path / "o.json").read_text() == "earlier json"
    assert (tmp_path / "r.html").read_text() == "earlier report"


def test_report_failure_after_json_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON is staged first; when the report then fails, neither file is replaced."""
    (tmp_path / "o.json").write_text("earlier json")

    def broken_report(self: BacktestResult, path: str | Path, title: str | None = None) -> Path:
        raise ConfigError("report cannot be rendered")

    monkeypatch.setattr(BacktestResult, "report", broken_report)
    data = write_csv(tmp_path / "good.csv", good_rows())
    result = run_backtest(tmp_path, data)
    assert_user_error(result, "report cannot be rendered")
    assert (tmp_path / "o.json").read_text() == "earlier json"
    assert not (tmp_path / "r.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.csv", "o.json"]


def test_unexpected_exception_shows_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bugs are not dressed up as user errors."""

    def buggy_report(self: BacktestResult, path: str | Path, title: str | None = None) -> Path:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(BacktestResult, "report", buggy_report)
    data = write_csv(tmp_path / "good.csv", good_rows())
    result = run_backtest(tmp_path, data)
    assert isinstance(result.exception, ZeroDivisionError)
    assert result.exit_code == 1
    assert not (tmp_path / "o.json").exists()


def test_repair_fixes_unsorted_duplicate_and_nan_rows(tmp_path: Path) -> None:
    rows = [
        GOOD_ROW.format(t=t(0)),  # row 1
        GOOD_ROW.format(t=t(2)),  # row 2
        GOOD_ROW.format(t=t(1)),  # row 3: out of order
        GOOD_ROW.format(t=t(2)),  # row 4: duplicate of row 2
        f"{t(3)},100,102,99,,10",  # row 5: NaN close
        GOOD_ROW.format(t=t(4)),  # row 6
    ]
    data = write_csv(tmp_path / "bad.csv", rows)
    result = run_backtest(tmp_path, data, "--repair", "-p", "fast=1", "-p", "slow=2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "repair: bad.csv: dropped 1 row with NaN values (row 5)" in out
    assert "repair: bad.csv: sorted 1 out-of-order row (row 3)" in out
    assert "repair: bad.csv: dropped 1 duplicate timestamp (row 4)" in out
    # 6 rows - NaN row - duplicate = 4 bars (minutes 0, 1, 2, 4)
    assert '"bars": 4' in (tmp_path / "o.json").read_text()
    assert (tmp_path / "r.html").exists()


def test_data_check_reports_each_file(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", good_rows(3))
    bad = write_csv(tmp_path / "bad.csv", [GOOD_ROW.format(t=t(1)), GOOD_ROW.format(t=t(0))])
    result = runner.invoke(app, ["data", "check", str(good), str(bad)])
    assert result.exit_code == 2
    assert "error: bad.csv row 2: timestamp 2024-01-01T00:00:00Z is not after" in result.stderr
    # good.csv: 3 one-minute bars from 00:00 to 00:02
    assert "good" in result.stdout
    assert "1m" in result.stdout
    assert "2024-01-01 00:02" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "good.csv"]


def test_data_check_repair_prints_what_would_be_dropped(tmp_path: Path) -> None:
    rows = [GOOD_ROW.format(t=t(0)), GOOD_ROW.format(t=t(0)), GOOD_ROW.format(t=t(1))]
    bad = write_csv(tmp_path / "bad.csv", rows)
    result = runner.invoke(app, ["data", "check", "--repair", str(bad)])
    assert result.exit_code == 0, result.output
    assert "repair: bad.csv: dropped 1 duplicate timestamp (row 2)" in result.stdout
    assert bad.read_text().count("\n") == 4  # file untouched: header + 3 rows


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--strategy", "no_such"], "unknown strategy 'no_such'"),
        (["--strategy", "sma_cross", "--param", "fast=abc"], "parameter 'fast'"),
        (["--strategy", "sma_cross", "--start", "not-a-date"], "--start 'not-a-date'"),
        (["--strategy", "sma_cross", "--cash", "-5"], "cash must be a positive number"),
    ],
    ids=["strategy", "param", "start", "cash"],
)
def test_settings_are_checked_before_loading_data(
    tmp_path: Path, extra: list[str], fragment: str
) -> None:
    """A typo is reported at once, not after loading a large file (here: a missing one)."""
    result = runner.invoke(app, ["backtest", "--data", str(tmp_path / "absent.csv"), *extra])
    assert_user_error(result, fragment)
    assert "file not found" not in result.stderr
