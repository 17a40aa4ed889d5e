"""PolygonSource against a local server speaking Polygon's aggregates wire format."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from wire import Reply, Request, WireServer

from tradewind.data.sources.base import OhlcvSource, RateLimited, SourceError
from tradewind.data.sources.polygon import PolygonSource, polygon_timespan
from tradewind.errors import ConfigError

KEY = "pOlYgOnKey_DoNotLeak_9f8e7d"
T0_MS = int(datetime(2024, 1, 2, 14, 30, tzinfo=UTC).timestamp() * 1000)
MS = 1_000_000
MIN_MS = 60_000
AGGS = re.compile(r"^/v2/aggs/ticker/[^/]+/range/\d+/\w+/(?P<frm>\d+)/(?P<to>\d+)$")


def _result(i: int, step_ms: int = MIN_MS) -> dict[str, Any]:
    return {
        "t": T0_MS + i * step_ms,
        "o": 185.0 + i,
        "h": 186.25 + i,
        "l": 184.5 + i,
        "c": 185.75 + i,
        "v": 12_345 + i,
        "vw": 185.6 + i,
        "n": 42 + i,
    }


class FakePolygon:
    """Serves ``results`` for any aggs path, filtered to [from, to] and paged by ``per_page``
    with a ``next_url`` cursor that (like Polygon's) does not carry the apiKey."""

    def __init__(self, wire: WireServer, results: list[dict[str, Any]], per_page: int) -> None:
        self.wire, self.results, self.per_page = wire, results, per_page
        self.paths: list[str] = []

    def __call__(self, req: Request) -> Reply:
        m = AGGS.match(req.path)
        assert m, req.path
        self.paths.append(req.path)
        frm, to = int(m["frm"]), int(m["to"])
        chosen = [r for r in self.results if frm <= r["t"] <= to]
        offset = int(req.arg("cursor") or 0)
        page = chosen[offset : offset + self.per_page]
        body: dict[str, Any] = {
            "ticker": req.path.split("/")[4],
            "queryCount": len(page),
            "resultsCount": len(page),
            "adjusted": req.arg("adjusted") == "true",
            "results": page,
            "status": "OK",
            "request_id": "abc123",
            "count": len(page),
        }
        if offset + self.per_page < len(chosen):
            body["next_url"] = f"{self.wire.url}{req.path}?cursor={offset + self.per_page}"
        return Reply(200, body)


class _AggsRoutes(dict[str, Any]):
    """Routes for the wire server that send every aggs path (its from/to vary) to one handler."""

    def __init__(self, handler: Any) -> None:
        super().__init__()
        self.handler = handler

    def get(self, path: str, default: Any = None) -> Any:
        return self.handler if AGGS.match(path) else default


def _route(wire: WireServer, handler: Any) -> None:
    wire.routes = _AggsRoutes(handler)


def _source(wire: WireServer, sleep: Any = None, **kw: Any) -> PolygonSource:
    return PolygonSource(
        base_url=wire.url, api_key=KEY, rate_per_sec=1e6, sleep=sleep or (lambda s: None), **kw
    )


def test_timespan_mapping() -> None:
    assert polygon_timespan("1m") == (1, "minute")
    assert polygon_timespan("15m") == (15, "minute")
    assert polygon_timespan("90m") == (90, "minute")
    assert polygon_timespan("60m") == (1, "hour")
    assert polygon_timespan("4h") == (4, "hour")
    assert polygon_timespan("1d") == (1, "day")
    assert polygon_timespan("1w") == (1, "week")
    assert polygon_timespan("30s") == (30, "second")
    for bad in ("500ms", "nope"):
        with pytest.raises(ConfigError, match=rf"polygon: timeframe {bad!r}.*1s, 1m"):
            polygon_timespan(bad)


def test_success_maps_values_and_sends_documented_request(wire: WireServer) -> None:
    fake = FakePolygon(wire, [_result(i) for i in range(3)], per_page=100)
    _route(wire, fake)
    src = _source(wire)
    assert isinstance(src, OhlcvSource)
    (page,) = src.fetch_ohlcv("AAPL", "1m", T0_MS * MS, (T0_MS + 3 * MIN_MS) * MS)
    assert page["ts"].dtype == "int64"
    assert page["ts"].tolist() == [(T0_MS + i * MIN_MS) * MS for i in range(3)]
    # "t" is the window start in unix ms -> bar open time in ns UTC
    assert pd.Timestamp(page["ts"].iloc[0], unit="ns", tz="UTC") == pd.Timestamp(
        "2024-01-02T14:30:00Z"
    )
    assert page.iloc[2][["open", "high", "low", "close", "volume"]].tolist() == [
        187.0,
        188.25,
        186.5,
        187.75,
        12_347.0,
    ]
    (req,) = wire.requests
    to_ms = T0_MS + 3 * MIN_MS - 1  # Polygon's `to` is inclusive
    assert req.path == f"/v2/aggs/ticker/AAPL/range/1/minute/{T0_MS}/{to_ms}"
    assert req.arg("apiKey") == KEY
    assert req.arg("adjusted") == "true"
    assert req.arg("sort") == "asc"
    assert req.arg("limit") == "50000"


def test_crypto_ticker_and_multiplier_in_path(wire: WireServer) -> None:
    fake = FakePolygon(wire, [], per_page=10)
    _route(wire, fake)
    src = _source(wire, adjusted=False)
    assert list(src.fetch_ohlcv("X:BTCUSD", "4h", T0_MS * MS, (T0_MS + 1) * MS)) == []
    assert fake.paths == [f"/v2/aggs/ticker/X:BTCUSD/range/4/hour/{T0_MS}/{T0_MS}"]
    assert wire.requests[0].arg("adjusted") == "false"


def test_pagination_follows_next_url_with_key_added_and_resume(wire: WireServer) -> None:
    fake = FakePolygon(wire, [_result(i) for i in range(8)], per_page=3)
    _route(wire, fake)
    src = _source(wire)
    end_ns = (T0_MS + 6 * MIN_MS) * MS
    pages = list(src.fetch_ohlcv("AAPL", "1m", T0_MS * MS, end_ns))
    assert [len(p) for p in pages] == [3, 3]
    assert pd.concat(pages)["ts"].tolist() == [(T0_MS + i * MIN_MS) * MS for i in range(6)]
    first, second = wire.requests
    assert first.arg("cursor") is None
    assert second.path == first.path
    assert second.arg("cursor") == "3"  # the cursor from next_url is kept...
    assert second.arg("apiKey") == KEY  # ...and the key, which next_url lacks, is added

    # resume from the last stored bar + 1 bar: the `from` in the path is the resume point
    last = int(pages[-1]["ts"].iloc[-1])
    wire.requests.clear()
    newer = list(src.fetch_ohlcv("AAPL", "1m", last + MIN_MS * MS, (T0_MS + 8 * MIN_MS) * MS))
    (req,) = wire.requests
    assert req.path.split("/")[-2] == str(T0_MS + 6 * MIN_MS)
    assert pd.concat(newer)["ts"].tolist() == [(T0_MS + i * MIN_MS) * MS for i in (6, 7)]


def test_repeated_next_url_stops(wire: WireServer) -> None:
    calls: list[int] = []

    def handler(req: Request) -> Reply:
        calls.append(1)
        body = {"status": "OK", "results": [_result(len(calls) - 1)], "resultsCount": 1}
        body["next_url"] = f"{wire.url}{req.path}?cursor=same"
        return Reply(200, body)

    _route(wire, handler)
    pages = list(_source(wire).fetch_ohlcv("AAPL", "1m", T0_MS * MS, (T0_MS + 60 * MIN_MS) * MS))
    assert [len(p) for p in pages] == [1, 1]
    assert len(calls) == 2


def test_next_url_host_is_not_trusted_with_the_key(wire: WireServer) -> None:
    def handler(req: Request) -> Reply:
        if req.arg("cursor"):
            return Reply(200, {"status": "OK", "results": [_result(1)]})
        body = {"status": "OK", "results": [_result(0)]}
        body["next_url"] = f"https://elsewhere.example{req.path}?cursor=1"
        return Reply(200, body)

    _route(wire, handler)
    pages = list(_source(wire).fetch_ohlcv("AAPL", "1m", T0_MS * MS, (T0_MS + 9 * MIN_MS) * MS))
    assert len(pages) == 2  # the cursor went to our base URL, not to elsewhere.example
    assert wire.requests[1].arg("apiKey") == KEY


def test_no_end_stops_before_the_forming_bar(wire: WireServer) -> None:
    now_ms = (time.time_ns() // (MIN_MS * MS)) * MIN_MS
    results = [dict(_result(0), t=now_ms - 2 * MIN_MS), dict(_result(1), t=now_ms)]
    _route(wire, lambda req: Reply(200, {"status": "OK", "results": results}))
    (page,) = _source(wire).fetch_ohlcv("AAPL", "1m", (now_ms - 5 * MIN_MS) * MS)
    assert page["ts"].tolist() == [(now_ms - 2 * MIN_MS) * MS]


def test_error_body_becomes_source_error_without_key(wire: WireServer) -> None:
    body = {"status": "ERROR", "request_id": "req-77", "error": "Unknown API Key"}
    _route(wire, lambda req: Reply(401, body))
    with pytest.raises(SourceError) as err:
        list(_source(wire).fetch_ohlcv("AAPL", "1d", T0_MS * MS, (T0_MS + 1) * MS))
    text = str(err.value)
    assert text.startswith("polygon:")
    assert "Unknown API Key" in text
    assert "'AAPL'" in text
    assert KEY not in text and "apiKey=***" in text


def test_status_error_in_a_200_body(wire: WireServer) -> None:
    body = {"status": "ERROR", "request_id": "req-8", "error": f"bad request for key {KEY}"}
    _route(wire, lambda req: Reply(200, body))
    with pytest.raises(SourceError, match=r"polygon: bad request.*'AAPL'.*req-8") as err:
        list(_source(wire).fetch_ohlcv("AAPL", "1d", T0_MS * MS, (T0_MS + 1) * MS))
    assert KEY not in str(err.value)


def test_missing_key_is_a_config_error(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADEWIND_POLYGON_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="TRADEWIND_POLYGON_API_KEY"):
        next(PolygonSource(base_url=wire.url).fetch_ohlcv("AAPL", "1d", 0, 10**9))


def test_key_from_settings_not_in_repr(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_POLYGON_API_KEY", KEY)
    _route(wire, FakePolygon(wire, [_result(0)], per_page=5))
    src = PolygonSource(base_url=wire.url, rate_per_sec=1e6)
    list(src.fetch_ohlcv("AAPL", "1m", T0_MS * MS, (T0_MS + MIN_MS) * MS))
    assert wire.requests[0].arg("apiKey") == KEY
    assert KEY not in repr(src) and KEY not in repr(src.http)


RATE_BODY = {
    "status": "ERROR",
    "request_id": "r-429",
    "error": "You've exceeded the maximum requests per minute, please wait or upgrade your "
    "subscription to continue. https://polygon.io/pricing",
}


def test_429_waits_then_succeeds(wire: WireServer) -> None:
    waits: list[float] = []
    fake = FakePolygon(wire, [_result(0), _result(1)], per_page=10)
    replies = [Reply(429, RATE_BODY), Reply(429, RATE_BODY, {"Retry-After": "12"})]
    _route(wire, lambda req: replies.pop(0) if replies else fake(req))
    src = _source(wire, sleep=waits.append)
    (page,) = src.fetch_ohlcv("AAPL", "1m", T0_MS * MS, (T0_MS + 2 * MIN_MS) * MS)
    assert len(page) == 2
    assert src.http.retries == 2
    big = [w for w in waits if w > 0.01]  # (the rest are the token bucket's tiny waits)
    assert len(big) == 2
    assert 0.25 <= big[0] <= 0.5  # no header: exponential backoff from 0.5 s, jittered
    assert big[1] == 12.0  # Retry-After honoured when present
    assert len(wire.requests) == 3


def test_429_exhausted_retries_raise_rate_limited(wire: WireServer, no_sleep: list[float]) -> None:
    _route(wire, lambda req: Reply(429, RATE_BODY))
    src = _source(wire, sleep=no_sleep.append, max_retries=3)
    with pytest.raises(RateLimited, match="exceeded the maximum requests per minute") as err:
        list(src.fetch_ohlcv("AAPL", "1m", T0_MS * MS, (T0_MS + MIN_MS) * MS))
    assert len(wire.requests) == 4
    assert KEY not in str(err.value)


def test_empty_window_makes_no_request(wire: WireServer) -> None:
    assert list(_source(wire).fetch_ohlcv("AAPL", "1m", T0_MS * MS, T0_MS * MS)) == []
    assert wire.requests == []
