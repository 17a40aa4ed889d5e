from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from wire import Handler, Reply, Request, WireServer

from tradewind.data.sources.base import OhlcvSource, RateLimited, SourceError
from tradewind.data.sources.birdeye import SOLANA_GENESIS_NS, BirdeyeSource
from tradewind.errors import ConfigError

MINT = "So11111111111111111111111111111111111111112"
KEY = "be-KEY-7f3a9c1d5e2b8047"  # distinctive: must never show up in errors or reprs
PATH = "/defi/ohlcv"
T0 = 1_700_000_100  # a whole 5 minutes, unix seconds
NS = 1_000_000_000


def items(n: int, step: int = 60, t0: int = T0, kind: str = "1m") -> list[dict[str, object]]:
    return [
        {
            "address": MINT,
            "unixTime": t0 + i * step,
            "o": 20.0 + i,
            "h": 21.0 + i,
            "l": 19.0 + i,
            "c": 20.5 + i,
            "v": 3000.0 + i,
            "type": kind,
        }
        for i in range(n)
    ]


def birdeye(data: list[dict[str, object]]) -> Handler:
    """The documented behaviour: items with time_from <= unixTime <= time_to, at most 1000."""

    def handler(req: Request) -> Reply:
        lo, hi = int(req.arg("time_from") or 0), int(req.arg("time_to") or 0)
        chosen = [i for i in data if lo <= int(i["unixTime"]) <= hi][:1000]  # type: ignore[call-overload]
        return Reply(200, {"success": True, "data": {"items": chosen}})

    return handler


def source(wire: WireServer, no_sleep: list[float], **kw: object) -> BirdeyeSource:
    kw.setdefault("rate_per_sec", 1000.0)
    return BirdeyeSource(wire.url, KEY, sleep=no_sleep.append, **kw)  # type: ignore[arg-type]


def collect(pages: object) -> pd.DataFrame:
    frames = list(pages)  # type: ignore[call-overload]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def test_success_maps_values_headers_and_params(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH, birdeye(items(3)))
    src = source(wire, no_sleep)
    assert isinstance(src, OhlcvSource)
    pages = list(src.fetch_ohlcv(MINT, "1m", T0 * NS, (T0 + 180) * NS))

    assert len(pages) == 1
    bars = pages[0]
    assert bars["ts"].dtype == "int64"
    assert bars["ts"].tolist() == [T0 * NS, (T0 + 60) * NS, (T0 + 120) * NS]
    assert pd.Timestamp(bars["ts"].iloc[0], tz="UTC") == pd.Timestamp(T0, unit="s", tz="UTC")
    assert bars.iloc[2][["open", "high", "low", "close", "volume"]].tolist() == [
        22.0,
        23.0,
        21.0,
        22.5,
        3002.0,
    ]
    (req,) = wire.hits(PATH)
    assert req.headers["x-api-key"] == KEY
    assert req.headers["x-chain"] == "solana"
    assert req.arg("address") == MINT
    assert req.arg("type") == "1m"
    assert req.arg("time_from") == str(T0)
    assert req.arg("time_to") == str(T0 + 179)  # inclusive end, just before end_ns


def test_pagination_forwards_in_windows_of_1000_bars(
    wire: WireServer, no_sleep: list[float]
) -> None:
    data = items(2500)
    wire.route(PATH, birdeye(data))
    pages = list(source(wire, no_sleep).fetch_ohlcv(MINT, "1m", T0 * NS, (T0 + 2500 * 60) * NS))

    reqs = wire.hits(PATH)
    windows = [(int(r.arg("time_from") or 0), int(r.arg("time_to") or 0)) for r in reqs]
    assert windows == [
        (T0, T0 + 60_000 - 1),
        (T0 + 60_000, T0 + 120_000 - 1),
        (T0 + 120_000, T0 + 150_000 - 1),
    ]
    assert [len(p) for p in pages] == [1000, 1000, 500]
    bars = pd.concat(pages, ignore_index=True)
    assert bars["ts"].is_unique
    assert bars["ts"].is_monotonic_increasing
    assert bars["ts"].tolist() == [int(i["unixTime"]) * NS for i in data]  # type: ignore[call-overload]


def test_resume_asks_only_for_newer_data(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH, birdeye(items(1500)))
    src = source(wire, no_sleep)
    stored = collect(src.fetch_ohlcv(MINT, "1m", T0 * NS, (T0 + 1200 * 60) * NS))
    assert len(stored) == 1200
    before = len(wire.hits(PATH))

    resume_ns = int(stored["ts"].iloc[-1]) + 60 * NS
    newer = collect(src.fetch_ohlcv(MINT, "1m", resume_ns, (T0 + 1500 * 60) * NS))
    (req,) = wire.hits(PATH)[before:]
    assert req.arg("time_from") == str(T0 + 1200 * 60)
    assert newer["ts"].tolist() == [(T0 + i * 60) * NS for i in range(1200, 1500)]


def test_repeated_or_stray_items_are_not_yielded_twice(
    wire: WireServer, no_sleep: list[float]
) -> None:
    same = items(5)  # a provider that ignores the window and always sends the same items
    wire.route(PATH, lambda req: Reply(200, {"success": True, "data": {"items": same}}))
    end = (T0 + 3000 * 60) * NS
    bars = collect(source(wire, no_sleep).fetch_ohlcv(MINT, "1m", T0 * NS, end))
    assert len(wire.hits(PATH)) == 3  # windows still advance and the walk ends
    assert bars["ts"].tolist() == [(T0 + i * 60) * NS for i in range(5)]


def test_solana_history_starts_at_mainnet_beta(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH, birdeye([]))
    genesis_s = SOLANA_GENESIS_NS // NS
    end = (genesis_s + 2 * 86_400) * NS
    assert collect(source(wire, no_sleep).fetch_ohlcv(MINT, "1d", 0, end)).empty
    (req,) = wire.hits(PATH)
    assert req.arg("time_from") == str(genesis_s)
    assert req.arg("type") == "1D"


@pytest.mark.parametrize(
    ("timeframe", "code"),
    [("3m", "3m"), ("30m", "30m"), ("1h", "1H"), ("2h", "2H"), ("8h", "8H"), ("12h", "12H"),
     ("1d", "1D"), ("3d", "3D"), ("1w", "1W"), ("1H", "1H")],
)  # fmt: skip
def test_timeframes_map_to_birdeye_types(
    wire: WireServer, no_sleep: list[float], timeframe: str, code: str
) -> None:
    wire.route(PATH, birdeye([]))
    list(source(wire, no_sleep).fetch_ohlcv(MINT, timeframe, T0 * NS, (T0 + 60) * NS))
    assert {r.arg("type") for r in wire.hits(PATH)} == {code}


@pytest.mark.parametrize("timeframe", ["1M", "10m", "2d", "x"])
def test_unsupported_timeframe_is_a_config_error(timeframe: str) -> None:
    src = BirdeyeSource("http://127.0.0.1:9", KEY)
    with pytest.raises(ConfigError, match=rf"'{timeframe}'.*1m, 3m, 5m, 15m, 30m, 1h"):
        src.fetch_ohlcv(MINT, timeframe, 0)


def test_missing_key_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, wire: WireServer
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TRADEWIND_BIRDEYE_API_KEY", raising=False)
    src = BirdeyeSource(wire.url)
    with pytest.raises(ConfigError, match="TRADEWIND_BIRDEYE_API_KEY"):
        src.fetch_ohlcv(MINT, "1m", T0 * NS)
    assert wire.requests == []


def test_key_is_read_from_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, wire: WireServer, no_sleep: list[float]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRADEWIND_BIRDEYE_API_KEY", KEY)
    wire.route(PATH, birdeye(items(1)))
    src = BirdeyeSource(wire.url, sleep=no_sleep.append, rate_per_sec=1000.0)
    list(src.fetch_ohlcv(MINT, "1m", T0 * NS, (T0 + 60) * NS))
    assert wire.hits(PATH)[0].headers["x-api-key"] == KEY
    assert KEY not in repr(src)


def test_error_body_becomes_source_error_without_the_key(
    wire: WireServer, no_sleep: list[float]
) -> None:
    bad = "NotAMint111"
    body = {"success": False, "message": f"address is invalid format (key {KEY})"}
    wire.route(PATH, lambda req: Reply(400, body))
    with pytest.raises(SourceError) as err:
        list(source(wire, no_sleep).fetch_ohlcv(bad, "1m", T0 * NS, (T0 + 60) * NS))
    text = str(err.value)
    assert text.startswith("birdeye:")
    assert bad in text
    assert "address is invalid format" in text
    assert KEY not in text


def test_unsuccessful_200_body_is_a_source_error(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH, lambda req: Reply(200, {"success": False, "message": "Token not found"}))
    with pytest.raises(SourceError, match=rf"{MINT}.*Token not found"):
        list(source(wire, no_sleep).fetch_ohlcv(MINT, "1m", T0 * NS, (T0 + 60) * NS))


def test_unauthorized_is_a_source_error_without_the_key(
    wire: WireServer, no_sleep: list[float]
) -> None:
    wire.route(PATH, lambda req: Reply(401, {"success": False, "message": "Unauthorized"}))
    with pytest.raises(SourceError) as err:
        list(source(wire, no_sleep).fetch_ohlcv(MINT, "1m", T0 * NS, (T0 + 60) * NS))
    assert "Unauthorized" in str(err.value)
    assert "401" in str(err.value)
    assert KEY not in str(err.value)
    assert KEY not in repr(err.value)


def test_429_waits_then_succeeds(wire: WireServer, no_sleep: list[float]) -> None:
    limited = {"success": False, "message": "Too many requests"}
    wire.sequence(PATH, [Reply(429, limited, {"Retry-After": "2"})], then=birdeye(items(2)))
    bars = collect(source(wire, no_sleep).fetch_ohlcv(MINT, "1m", T0 * NS, (T0 + 120) * NS))
    assert len(bars) == 2
    assert len(wire.hits(PATH)) == 2
    assert 2.0 in no_sleep
    assert all(r.headers["x-api-key"] == KEY for r in wire.hits(PATH))


def test_exhausted_retries_raise_rate_limited(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH, lambda req: Reply(429, {"success": False, "message": "Too many requests"}))
    with pytest.raises(RateLimited) as err:
        list(source(wire, no_sleep, max_retries=3).fetch_ohlcv(MINT, "1m", T0 * NS, (T0 + 60) * NS))
    assert "Too many requests" in str(err.value)
    assert KEY not in str(err.value)
    assert len(wire.hits(PATH)) == 4
