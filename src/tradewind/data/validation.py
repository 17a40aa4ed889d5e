"""Validate (and optionally repair) an OHLCV frame into the bar format the engine consumes.

Every later layer (engine, indicators, catalog) assumes clean bars, so bad rows are caught once,
here, with a message naming the source, the row, the field, the value and what was expected.
All checks are vectorized: a multi-million-row frame validates in a fraction of a second.

Row numbers in messages are 1-based data rows (header excluded). They are taken from an integer
index as ``index + 1``, so a slice of a file's frame (one symbol of a long-format file) still
reports the row number in the file; any other index falls back to the position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import SupportsFloat

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradewind.errors import DataError

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_FIELDS = ("open", "high", "low", "close", "volume")
_PRICES = ("open", "high", "low", "close")
_REQUIRED = ("timestamp", *_FIELDS)
_ALIASES = {
    "timestamp": ("timestamp", "time", "date", "datetime", "ts"),
    "symbol": ("symbol", "ticker"),
}
_MAX_LISTED_ROWS = 10
_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
# An integer epoch below 1e11 is seconds, below 1e14 milliseconds, below 1e17 microseconds.
_EPOCH_LIMITS = np.array([1e11, 1e14, 1e17])
_EPOCH_FACTORS = np.array([1_000_000_000, 1_000_000, 1_000, 1], dtype=np.int64)
_EPOCH_NAMES = ("seconds", "milliseconds", "microseconds", "nanoseconds")
_INT64_MAX = np.iinfo(np.int64).max
_TS_RANGE = "1677-09-22 to 2262-04-11"


@dataclass(frozen=True)
class _Check:
    """One rule: which rows break it, how to describe a row, and the repair-report wording."""

    mask: BoolArray
    label: str
    describe: Callable[[int], str]


def validate_ohlcv(
    df: pd.DataFrame, *, source: str, repair: bool = False, report: list[str] | None = None
) -> pd.DataFrame:
    """Return ``df`` as bars (``ts, open, high, low, close, volume``) or raise ``DataError``.

    With ``repair=True`` bad rows are dropped (never invented), rows are sorted and duplicate
    timestamps keep their first occurrence; what was done is appended to ``report``.
    """
    frame = _resolve_columns(df, source)
    n = len(frame)
    if n == 0:
        raise DataError(f"{source}: no data rows (expected a header and at least one bar)")
    rows = _row_numbers(frame.index)
    ns, ts_checks = _parse_timestamps(frame["timestamp"], rows)
    checks = list(ts_checks)
    values: dict[str, FloatArray] = {}
    for field in _FIELDS:
        values[field], non_numeric = _to_float(frame[field])
        checks.append(_non_numeric_check(field, non_numeric, frame[field]))
    checks += _value_checks(values)

    if not repair:
        ts_ok = ~np.logical_or.reduce([c.mask for c in ts_checks])
        order = _order_checks(ns, ts_ok, rows, values["close"])
        problem = _first_problem([*checks, *order], rows, source)
        if problem:
            raise DataError(problem)
        return _bars(ns, values)
    keep = _repair(ns, checks, rows, source, report)
    return _bars(ns[keep], {f: a[keep] for f, a in values.items()})


def _resolve_columns(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Rename to canonical lower-case names (aliases allowed); drop extra columns."""
    keys = {name: str(name).strip().lstrip("\ufeff").lower() for name in df.columns}
    found: dict[str, str] = {}
    missing: list[str] = []
    for canon in (*_REQUIRED, "symbol"):
        aliases = _ALIASES.get(canon, (canon,))
        hits = [name for name, key in keys.items() if key in aliases]
        if len(hits) > 1:
            listed = ", ".join(repr(str(h)) for h in hits)
            raise DataError(
                f"{source}: ambiguous {canon} columns {listed} "
                f"(expected exactly one of {', '.join(aliases)})"
            )
        if hits:
            found[canon] = hits[0]
        elif canon != "symbol":
            missing.append(canon)
    if missing:
        raise DataError(
            f"{source} row 0 (header): missing column(s) {', '.join(repr(m) for m in missing)} "
            f"(expected {', '.join(_REQUIRED)})"
        )
    return df[list(found.values())].set_axis(list(found), axis=1)


def _row_numbers(index: pd.Index) -> IntArray:
    """1-based file row numbers: ``index + 1`` for an integer index, else positions."""
    if pd.api.types.is_integer_dtype(index.dtype):
        return index.to_numpy(dtype=np.int64) + 1
    return np.arange(1, len(index) + 1, dtype=np.int64)


def _parse_timestamps(col: pd.Series, rows: IntArray) -> tuple[IntArray, list[_Check]]:
    """Convert any supported timestamp column to int64 ns UTC (0 where invalid), with checks.

    Accepts datetime64 (naive = UTC), epoch numbers, numeric strings and ISO-8601 strings.
    """
    missing = col.isna().to_numpy(dtype=np.bool_)
    unparseable = np.zeros(len(col), dtype=np.bool_)
    extra: list[_Check]
    if pd.api.types.is_bool_dtype(col.dtype):
        unparseable = ~missing
        ns, extra = np.zeros(len(col), np.int64), []
    elif pd.api.types.is_datetime64_any_dtype(col.dtype):
        ns, extra = _datetimes_to_ns(col, col)
    elif pd.api.types.is_numeric_dtype(col.dtype):
        ns, extra = _epoch_to_ns(col, col, rows)
    elif _looks_numeric(col[~missing]):
        numbers = pd.to_numeric(col, errors="coerce")
        unparseable = ~missing & numbers.isna().to_numpy(dtype=np.bool_)
        ns, extra = _epoch_to_ns(numbers, col, rows)
    else:
        parsed = pd.to_datetime(col, utc=True, format="ISO8601", errors="coerce")
        unparseable = ~missing & parsed.isna().to_numpy(dtype=np.bool_)
        ns, extra = _datetimes_to_ns(parsed, col)
        extra.append(_mixed_zones(col, ~missing & ~unparseable, rows))
    return ns, [
        _Check(missing, "missing timestamps", lambda i: "timestamp is missing"),
        _Check(
            unparseable,
            "unparseable timestamps",
            lambda i: (
                f"timestamp {_fmt_raw(col.iloc[i])} cannot be parsed "
                "(expected ISO-8601 date/time or epoch seconds/ms/us/ns)"
            ),
        ),
        *extra,
    ]


_AWARE = r"(?:Z|[+-]\d\d(?::?\d\d)?)$"


def _mixed_zones(col: pd.Series, ok: BoolArray, rows: IntArray) -> _Check:
    """Rows whose time-zone awareness differs from the first parsed row's: a naive
    ``2024-01-02 17:40`` among ``…Z`` rows would silently be read as UTC."""
    aware = col.astype("string").str.strip().str.contains(_AWARE, regex=True, na=False)
    aware_arr = aware.to_numpy(dtype=np.bool_)
    mixed = np.zeros(len(col), np.bool_)
    if ok.any():
        first = int(np.argmax(ok))
        mixed = ok & (aware_arr != aware_arr[first])

        def describe(i: int) -> str:
            has, ref = (
                ("has a time zone", "has none") if aware_arr[i] else ("has no time zone", "has one")
            )
            return (
                f"timestamp {_fmt_raw(col.iloc[i])} {has} but row {rows[first]} "
                f"({_fmt_raw(col.iloc[first])}) {ref}: naive and time-zone-aware timestamps "
                "are mixed"
            )

        return _Check(mixed, "timestamps mixing naive and time-zone-aware", describe)
    return _Check(mixed, "timestamps mixing naive and time-zone-aware", lambda i: "")


def _looks_numeric(present: pd.Series) -> bool:
    """Decide epoch-number vs date-string mode from a sample (full ``to_numeric`` is slow)."""
    sample = present.iloc[:1000]
    return bool(pd.to_numeric(sample, errors="coerce").notna().mean() > 0.5)


def _out_of_range(mask: BoolArray, raw: pd.Series) -> _Check:
    return _Check(
        mask,
        "out-of-range timestamps",
        lambda i: f"timestamp {_fmt_raw(raw.iloc[i])} is outside {_TS_RANGE}",
    )


def _datetimes_to_ns(col: pd.Series, raw: pd.Series) -> tuple[IntArray, list[_Check]]:
    """Datetime64 (any unit, naive = UTC) to int64 ns, flagging values outside the ns range."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        col = col.dt.tz_convert(None)
    arr = col.to_numpy()
    factor = _NS_PER_UNIT[np.datetime_data(arr.dtype)[0]]
    nat = np.isnat(arr)
    ints = arr.view(np.int64)
    limit = _INT64_MAX // factor
    out_of_range = ~nat & ((ints > limit) | (ints < -limit))
    ns = np.where(nat | out_of_range, 0, ints) * factor
    return ns, [_out_of_range(out_of_range, raw)]


def _epoch_to_ns(col: pd.Series, raw: pd.Series, rows: IntArray) -> tuple[IntArray, list[_Check]]:
    """Epoch numbers to ns, detecting s/ms/us/ns per value by magnitude; units must agree."""
    values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    present = ~np.isnan(values)
    magnitude = np.abs(np.where(present, values, 0.0))
    unit = np.searchsorted(_EPOCH_LIMITS, magnitude, side="right")
    factor = _EPOCH_FACTORS[unit]
    out_of_range = present & (magnitude * factor > 9.2e18)
    first = int(np.argmax(present))
    mixed = present & ~out_of_range & (unit != unit[first])
    bad = ~present | out_of_range | mixed
    if pd.api.types.is_integer_dtype(col.dtype):
        ns = np.where(bad, 0, col.to_numpy(dtype=np.int64, na_value=0)) * factor
    else:  # whole and fractional parts apart, so whole epochs convert exactly
        whole = np.where(bad, 0.0, values)
        int_part = np.trunc(whole)
        fraction = np.round((whole - int_part) * factor).astype(np.int64)
        ns = int_part.astype(np.int64) * factor + fraction

    def describe_mixed(i: int) -> str:
        return (
            f"timestamp {_fmt_raw(raw.iloc[i])} looks like epoch {_EPOCH_NAMES[unit[i]]} but "
            f"row {rows[first]} looks like epoch {_EPOCH_NAMES[unit[first]]}"
        )

    return ns, [
        _out_of_range(out_of_range, raw),
        _Check(mixed, "timestamps in a different epoch unit", describe_mixed),
    ]


def _to_float(col: pd.Series) -> tuple[FloatArray, BoolArray]:
    """Column as float64 (NaN where missing) plus a mask of present-but-non-numeric cells."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=np.float64, na_value=np.nan), np.zeros(len(col), np.bool_)
    numbers = pd.to_numeric(col, errors="coerce")
    non_numeric = col.notna().to_numpy(dtype=np.bool_) & numbers.isna().to_numpy(dtype=np.bool_)
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan), non_numeric


def _non_numeric_check(field: str, mask: BoolArray, col: pd.Series) -> _Check:
    """Check for cells such as ``'abc'`` in a price or volume column."""
    return _Check(
        mask,
        "non-numeric values",
        lambda i: f"{field} {_fmt_raw(col.iloc[i])} is not a number",
    )


def _value_checks(v: dict[str, FloatArray]) -> list[_Check]:
    """NaN, infinity, sign and high/low consistency checks, in reporting priority order."""
    checks = [_Check(np.isnan(v[f]), "NaN values", _is_nan(f)) for f in _FIELDS]
    checks += [
        _field_check(f, v[f], np.isinf(v[f]), "non-finite values", "is not finite") for f in _FIELDS
    ]
    checks += [
        _field_check(f, v[f], v[f] <= 0, "non-positive prices", "must be > 0") for f in _PRICES
    ]
    vol = v["volume"]
    checks.append(_field_check("volume", vol, vol < 0, "negative volume", "must be >= 0"))
    high, low = v["high"], v["low"]
    top, bottom = np.fmax(v["open"], v["close"]), np.fmin(v["open"], v["close"])
    label = "high/low inconsistent with open/close"
    checks += [
        _Check(
            high < low,
            label,
            lambda i: f"high {_fmt_num(high[i])} is below low {_fmt_num(low[i])}",
        ),
        _Check(
            high < top,
            label,
            lambda i: f"high {_fmt_num(high[i])} is below max(open, close) = {_fmt_num(top[i])}",
        ),
        _Check(
            low > bottom,
            label,
            lambda i: f"low {_fmt_num(low[i])} is above min(open, close) = {_fmt_num(bottom[i])}",
        ),
    ]
    return checks


def _is_nan(field: str) -> Callable[[int], str]:
    return lambda i: f"{field} is NaN"


def _field_check(
    field: str, values: FloatArray, mask: BoolArray, label: str, problem: str
) -> _Check:
    """A rule on one column; the message is ``<field> <value> <problem>``."""
    return _Check(mask, label, lambda i: f"{field} {_fmt_num(values[i])} {problem}")


def _order_checks(
    ns: IntArray, valid: BoolArray, rows: IntArray, close: FloatArray | None = None
) -> list[_Check]:
    """Duplicate and out-of-order timestamps among ``valid`` rows (duplicates reported first).

    A row is out of order when an earlier row has a later timestamp. Where the timestamps jump
    back and the price level does not match the earlier rows of the same time, the message
    says that another series seems to be appended there.
    """
    idx = np.flatnonzero(valid)
    t = ns[idx]
    if np.all(t[1:] > t[:-1]):  # the usual case; skips hashing millions of values
        dup_sub = np.zeros(t.size, np.bool_)
    else:
        dup_sub = pd.Series(t).duplicated(keep="first").to_numpy(dtype=np.bool_)
    prev_max = np.empty_like(t)
    if t.size:
        prev_max[0] = np.iinfo(np.int64).min
        prev_max[1:] = np.maximum.accumulate(t)[:-1]
    duplicate = np.zeros(len(ns), np.bool_)
    duplicate[idx[dup_sub]] = True
    unsorted = np.zeros(len(ns), np.bool_)
    unsorted[idx[(t < prev_max) & ~dup_sub]] = True

    def appended_hint(i: int, twin: int | None) -> str:
        prev = idx[np.searchsorted(idx, i) - 1] if np.searchsorted(idx, i) > 0 else None
        if prev is None or ns[prev] <= ns[i]:
            return ""
        if close is not None and twin is not None and close[twin] > 0 and close[i] > 0:
            ratio = close[i] / close[twin]
            if ratio > 1.25 or ratio < 0.8:
                return (
                    f"; the timestamps jump back here from {_fmt_ts(ns[prev])} and the close "
                    f"{_fmt_num(close[i])} is far from row {rows[twin]}'s {_fmt_num(close[twin])}"
                    " at that time: is another symbol's data appended?"
                )
        return ""

    def describe_dup(i: int) -> str:
        first = idx[np.argmax(t == ns[i])]
        return f"duplicate timestamp {_fmt_ts(ns[i])} (also at row {rows[first]})" + appended_hint(
            i, int(first)
        )

    def describe_unsorted(i: int) -> str:
        prev = idx[np.searchsorted(idx, i) - 1]
        return (
            f"timestamp {_fmt_ts(ns[i])} is not after the previous row's {_fmt_ts(ns[prev])} "
            "(timestamps must be strictly increasing)" + appended_hint(i, None)
        )

    return [
        _Check(duplicate, "duplicate timestamps", describe_dup),
        _Check(unsorted, "out-of-order rows", describe_unsorted),
    ]


def _first_problem(checks: list[_Check], rows: IntArray, source: str) -> str | None:
    """Message for the earliest offending row (ties: earlier check wins), or None if clean."""
    best: tuple[int, int] | None = None  # (position, check number)
    for k, check in enumerate(checks):
        if check.mask.any():
            pos = int(np.argmax(check.mask))
            if best is None or pos < best[0]:
                best = (pos, k)
    if best is None:
        return None
    pos, k = best
    check = checks[k]
    message = f"{source} row {rows[pos]}: {check.describe(pos)}"
    more = int(np.count_nonzero(check.mask)) - 1
    if more:
        message += f" (and {more} more {_plural(more, 'row')} with the same problem)"
    return message


def _repair(
    ns: IntArray, checks: list[_Check], rows: IntArray, source: str, report: list[str] | None
) -> IntArray:
    """Positions of the rows to keep, in output order; report lines describe every change."""
    lines: list[str] = []
    dropped = np.zeros(len(ns), np.bool_)
    labels = list(dict.fromkeys(c.label for c in checks))
    for label in labels:
        mask = np.logical_or.reduce([c.mask for c in checks if c.label == label]) & ~dropped
        if mask.any():
            count = int(np.count_nonzero(mask))
            lines.append(
                f"{source}: dropped {count} {_plural(count, 'row')} with {label} "
                f"({_list_rows(rows[mask])})"
            )
            dropped |= mask
    duplicate, unsorted = (c.mask for c in _order_checks(ns, ~dropped, rows))
    if unsorted.any():
        count = int(np.count_nonzero(unsorted))
        lines.append(
            f"{source}: sorted {count} out-of-order {_plural(count, 'row')} "
            f"({_list_rows(rows[unsorted])})"
        )
    if duplicate.any():
        count = int(np.count_nonzero(duplicate))
        lines.append(
            f"{source}: dropped {count} duplicate {_plural(count, 'timestamp')} "
            f"({_list_rows(rows[duplicate])})"
        )
    if report is not None:
        report.extend(lines)
    keep = np.flatnonzero(~dropped & ~duplicate)
    if keep.size == 0:
        raise DataError(f"{source}: no rows left after repair ({'; '.join(lines)})")
    return keep[np.argsort(ns[keep], kind="stable")]


def _bars(ns: IntArray, values: dict[str, FloatArray]) -> pd.DataFrame:
    """The output frame: int64 ``ts`` and float64 OHLCV in new contiguous memory."""
    return pd.DataFrame({"ts": ns, **values}, copy=True)


def _list_rows(numbers: IntArray) -> str:
    """``row 9`` / ``rows 4, 9, 12`` / first ten then ``…``."""
    shown = ", ".join(str(r) for r in numbers[:_MAX_LISTED_ROWS])
    if numbers.size > _MAX_LISTED_ROWS:
        shown += ", …"
    return f"{_plural(numbers.size, 'row')} {shown}"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _fmt_num(x: SupportsFloat) -> str:
    return repr(float(x))


def _fmt_raw(x: object) -> str:
    return repr(x) if isinstance(x, str) else str(x)


def _fmt_ts(ns: int) -> str:
    """``2024-01-01T00:03:00Z`` (sub-second digits only when present)."""
    return pd.Timestamp(int(ns)).isoformat() + "Z"
