"""The local market-data catalog: Parquet files per venue/symbol/timeframe and one manifest.

Layout (hive-style folders, so DuckDB/pyarrow/polars can read it directly)::

    catalog/manifest.json
    catalog/venue=binance/symbol=BTC%2FUSDT/timeframe=1m/part-<id>.parquet

The manifest is the source of truth: it lists each series' part files, row count and time
range. A write puts new part files beside the old ones, then replaces the manifest atomically
(temp file + ``os.replace``), then deletes the parts it no longer lists. So a failed or
interrupted write — of one series or of 505 at once — leaves the catalog exactly as it was (at
worst with unlisted files, which the next write removes). Writers take a lock file.

Appending bars newer than a series' end adds a part (cheap for incremental downloads); any other
merge rewrites the series as one part, and a series is compacted once it has 16 parts.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradewind.data.symbols import SeriesKey
from tradewind.errors import ConfigError, DataError
from tradewind.files import write_atomic

MANIFEST = "manifest.json"
FORMAT = 1
MAX_PARTS = 16
ROW_GROUP = 65_536
_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("ns", tz="UTC")),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.float64()),
    ]
)
COLUMNS = tuple(_SCHEMA.names)


@dataclass
class Entry:
    """What the manifest says about one series."""

    key: str
    parts: list[str]  # paths relative to the catalog root, oldest data first
    rows: int
    start_ns: int  # first bar's open time
    end_ns: int  # last bar's open time
    source: str = ""  # where the data came from ("file:…", "ccxt:binance", "synth", …)
    updated: str = ""  # ISO time of the last write
    close_only: bool = False  # imported from a close-only (wide) file: o = h = l = c

    @property
    def series(self) -> SeriesKey:
        return SeriesKey.parse(self.key)


@dataclass
class WriteResult:
    """Per series: rows added, rows replaced with different values, rows total after."""

    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)


class Catalog:
    """A catalog rooted at ``root`` (created on first write)."""

    def __init__(self, root: str | Path | None = None) -> None:
        if root is None:
            from tradewind.config import Settings

            root = Settings().catalog
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"Catalog({str(self.root)!r})"

    # ------------------------------------------------------------------ reading
    def manifest(self) -> dict[str, Entry]:
        path = self.root / MANIFEST
        if not path.exists():
            return {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT:
                raise DataError(
                    f"{path}: manifest format {raw.get('format')!r} is not supported "
                    f"(expected {FORMAT})"
                )
            return {k: Entry(**v) for k, v in raw["series"].items()}
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"{path}: manifest is corrupt ({exc})") from exc

    def entries(self) -> list[Entry]:
        return sorted(self.manifest().values(), key=lambda e: e.key)

    def entry(self, key: str | SeriesKey) -> Entry:
        text = str(key if isinstance(key, SeriesKey) else SeriesKey.parse(key))
        found = self.manifest().get(text)
        if found is None:
            raise ConfigError(self._unknown(text))
        return found

    def __contains__(self, key: object) -> bool:
        return str(key) in self.manifest()

    def read(
        self,
        key: str | SeriesKey,
        start: int | str | pd.Timestamp | None = None,
        end: int | str | pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Bars of ``key`` with ``start <= ts < end`` (ns ints, ISO strings or Timestamps) as
        the loader's frame: int64 ns ``ts`` and float64 OHLCV. Row groups outside the range
        are skipped using the Parquet statistics, so a month of a 2M-row series reads fast."""
        entry = self.entry(key)
        lo, hi = _to_ns(start), _to_ns(end)
        filters: list[tuple[str, str, Any]] = []
        if lo is not None:
            filters.append(("ts", ">=", pd.Timestamp(lo, tz="UTC")))
        if hi is not None:
            filters.append(("ts", "<", pd.Timestamp(hi, tz="UTC")))
        tables = [pq.read_table(self.root / part, filters=filters or None) for part in entry.parts]
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        return _table_to_bars(table)

    def sql(self, query: str) -> pd.DataFrame:
        """Run DuckDB SQL over a view ``bars(venue, symbol, timeframe, ts, open, …)`` of every
        series the manifest lists (stale or unlisted files are never read)."""
        import duckdb

        entries = self.entries()
        con = duckdb.connect()
        try:
            if not entries:
                con.execute(
                    "CREATE VIEW bars AS SELECT NULL::VARCHAR venue, NULL::VARCHAR symbol, "
                    "NULL::VARCHAR timeframe, NULL::TIMESTAMPTZ ts, NULL::DOUBLE open, "
                    "NULL::DOUBLE high, NULL::DOUBLE low, NULL::DOUBLE close, "
                    "NULL::DOUBLE volume WHERE false"
                )
            else:
                rows = [
                    (str(self.root / p), e.series.venue, e.series.symbol, e.series.timeframe)
                    for e in entries
                    for p in e.parts
                ]
                parts = pd.DataFrame(rows, columns=["file", "venue", "symbol", "timeframe"])
                con.register("parts", parts)
                files = ", ".join("'" + r[0].replace("'", "''") + "'" for r in rows)
                con.execute(
                    "CREATE VIEW bars AS SELECT p.venue, p.symbol, p.timeframe, d.ts, d.open, "
                    "d.high, d.low, d.close, d.volume "
                    f"FROM read_parquet([{files}], filename=true) d "
                    "JOIN parts p ON p.file = d.filename"
                )
            result: pd.DataFrame = con.execute(query).df()
            return result
        finally:
            con.close()

    # ------------------------------------------------------------------ writing
    def write(
        self,
        series: Mapping[str | SeriesKey, pd.DataFrame],
        *,
        source: str = "",
        replace: bool = False,
        close_only: bool = False,
    ) -> WriteResult:
        """Store several series at once, all or nothing.

        Frames are bars (``ts`` int64 ns + OHLCV), already validated. By default a series that
        exists is merged (new rows win on equal ``ts``); ``replace=True`` overwrites it.
        """
        result = WriteResult()
        with self._lock():
            self._vacuum()
            manifest = self.manifest()
            created: list[Path] = []
            obsolete: list[str] = []
            try:
                for raw_key, bars in series.items():
                    key = SeriesKey.parse(str(raw_key))
                    text = str(key)
                    new = _checked(bars, text)
                    old = None if replace else manifest.get(text)
                    entry, added, changed, dropped = self._stage(
                        key, new, old, source, close_only, created
                    )
                    if replace and text in manifest:
                        dropped = manifest[text].parts
                    obsolete += dropped
                    manifest[text] = entry
                    result.added[text], result.changed[text] = added, changed
                    result.total[text] = entry.rows
                self._save(manifest)
            except BaseException:
                for path in created:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                raise
            for part in obsolete:
                with contextlib.suppress(FileNotFoundError):
                    (self.root / part).unlink()
        return result

    def delete(self, keys: list[str | SeriesKey]) -> None:
        """Remove series from the catalog (all or nothing)."""
        with self._lock():
            manifest = self.manifest()
            texts = [str(k) for k in keys]
            for text in texts:
                if text not in manifest:
                    raise ConfigError(self._unknown(text))
            parts = [p for t in texts for p in manifest.pop(t).parts]
            self._save(manifest)
            for part in parts:
                with contextlib.suppress(FileNotFoundError):
                    (self.root / part).unlink()

    # ------------------------------------------------------------------ internals
    def _stage(
        self,
        key: SeriesKey,
        new: pd.DataFrame,
        old: Entry | None,
        source: str,
        close_only: bool,
        created: list[Path],
    ) -> tuple[Entry, int, int, list[str]]:
        """Write the part file(s) for one series; return its entry, rows added/changed and
        the parts it replaces."""
        folder = _folder(key)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if (
            old is not None
            and len(new)
            and int(new["ts"].iloc[0]) > old.end_ns
            and (len(old.parts) < MAX_PARTS)
        ):
            part = self._write_part(folder, new, created)
            entry = Entry(
                str(key), [*old.parts, part], old.rows + len(new), old.start_ns,
                int(new["ts"].iloc[-1]), source or old.source, now, old.close_only and close_only,
            )  # fmt: skip
            return entry, len(new), 0, []
        added, changed = len(new), 0
        merged = new
        if old is not None:
            existing = self.read(str(key))
            merged, added, changed = _merge(existing, new)
        if merged.empty:
            raise DataError(f"{key}: nothing to store (no bars)")
        part = self._write_part(folder, merged, created)
        entry = Entry(
            str(key), [part], len(merged), int(merged["ts"].iloc[0]), int(merged["ts"].iloc[-1]),
            source or (old.source if old else ""), now,
            close_only if old is None else (old.close_only and close_only),
        )  # fmt: skip
        return entry, added, changed, (old.parts if old else [])

    def _write_part(self, folder: str, bars: pd.DataFrame, created: list[Path]) -> str:
        rel = f"{folder}/part-{uuid.uuid4().hex[:16]}.parquet"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        created.append(path)
        table = pa.Table.from_arrays(
            [pa.array(bars["ts"].to_numpy(np.int64)).cast(_SCHEMA.field("ts").type)]
            + [pa.array(bars[c].to_numpy(np.float64)) for c in COLUMNS[1:]],
            schema=_SCHEMA,
        )
        pq.write_table(table, path, row_group_size=ROW_GROUP, compression="zstd")
        return rel

    def _save(self, manifest: dict[str, Entry]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        body = {"format": FORMAT, "series": {k: asdict(manifest[k]) for k in sorted(manifest)}}
        write_atomic(self.root / MANIFEST, json.dumps(body, indent=1) + "\n")

    def _vacuum(self) -> None:
        """Remove part files no manifest entry lists (left by an interrupted write)."""
        listed = {p for e in self.manifest().values() for p in e.parts}
        for path in self.root.glob("venue=*/symbol=*/timeframe=*/part-*.parquet"):
            if path.relative_to(self.root).as_posix() not in listed:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            try:
                import fcntl
            except ImportError:  # pragma: no cover
                yield
                return
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _unknown(self, key: str) -> str:
        known = sorted(self.manifest())
        close = [k for k in known if key.split(":")[1:2] == k.split(":")[1:2]] if ":" in key else []
        hint = f"; did you mean {', '.join(close[:5])}?" if close else ""
        where = f" (it has {len(known)} series; `tradewind data list` shows them)" if known else ""
        return f"no series {key!r} in catalog {self.root}{where}{hint}"


def _folder(key: SeriesKey) -> str:
    return (
        f"venue={quote(key.venue, safe='')}/symbol={quote(key.symbol, safe='')}/"
        f"timeframe={quote(key.timeframe, safe='')}"
    )


def _checked(bars: pd.DataFrame, key: str) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in bars.columns]
    if missing:
        raise DataError(f"{key}: bars lack column(s) {', '.join(missing)}")
    ts = bars["ts"].to_numpy(np.int64)
    if len(ts) > 1 and not (np.diff(ts) > 0).all():
        raise DataError(f"{key}: bars must be sorted by ts without duplicates")
    return bars[list(COLUMNS)].reset_index(drop=True)


def _merge(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """``old`` ∪ ``new`` by ts, ``new`` winning; returns (merged, rows added, rows changed)."""
    both = pd.concat([old, new], ignore_index=True)
    src = np.r_[np.zeros(len(old), np.int8), np.ones(len(new), np.int8)]
    order = np.lexsort((src, both["ts"].to_numpy(np.int64)))
    both = both.iloc[order].reset_index(drop=True)
    ts = both["ts"].to_numpy(np.int64)
    dup_next = np.r_[ts[1:] == ts[:-1], False]  # an old row followed by its new version
    if dup_next.any():
        olds = both[dup_next].reset_index(drop=True)
        news = both[np.r_[False, dup_next[:-1]]].reset_index(drop=True)
        values = list(COLUMNS[1:])
        same = (olds[values].to_numpy() == news[values].to_numpy()).all(axis=1)
        changed = int((~same).sum())
    else:
        changed = 0
    merged = both[~dup_next].reset_index(drop=True)
    return merged, len(merged) - len(old), changed


def _table_to_bars(table: pa.Table) -> pd.DataFrame:
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    data = {"ts": np.asarray(ts, dtype=np.int64)}
    for name in COLUMNS[1:]:
        data[name] = table.column(name).to_numpy()
    return pd.DataFrame(data)


def _to_ns(value: int | str | pd.Timestamp | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"time {value!r} is not valid (expected ISO date/time)") from exc
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.as_unit("ns").value)
