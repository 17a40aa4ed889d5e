"""AlphaVantageSource against a local server speaking Alpha Vantage's /query wire format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from wire import Reply, Request, WireServer

from tradewind.data.sources.alphavantage import AlphaVantageSource, alphavantage_interval
from tradewind.data.sources.base import OhlcvSource, RateLimited, SourceError
from tradewind.errors import ConfigError

KEY = "AVKEY_secret_31337"
NS = 1_000_000_000
MIN = 60 * NS
DAY = 86_400 * NS
ET = ZoneInfo("America/New_York")


def _ns(text: str) -> int:
    return int(pd.Timestamp(text).as_unit("ns").value)


def _bar(i: int) -> dict[str, str]:
    return {
        "1. open": f"{150 + i:.4f}",
        "2. high": f"{151.5 + i:.4f}",
        "3. low": f"{149.25 + i:.4f}",
        "4. close": f"{150.75 + i:.4f}",
        "5. volume": str(2000 + i),
    }


def _daily(days: list[str], symbol: str = "IBM") -> dict[str, Any]:
    series = {d: _bar(i) for i, d in enumerate(days)}
    return {
        "Meta Data": {
            "1. Information": "Daily Prices (open, high, low, close) and Volumes",
            "2. Symbol": symbol,
            "3. Last Refreshed": max(days),
            "4. Output Size": "Full size",
            "5. Time Zone": "US/Eastern",
        },
        "Time Series (Daily)": dict(sorted(series.items(), reverse=True)),  # newest first
    }


def _intraday(keys: list[str], interval: str = "5min", symbol: str = "IBM") -> dict[str, Any]:
    series = {k: _bar(i) for i, k in enumerate(keys)}
    return {
        "Meta Data": {
            "1. Information": f"Intraday ({interval}) open, high, low, close prices and volume",
            "2. Symbol": symbol,
            "3. Last Refreshed": max(keys) if keys else "",
            "4. Interval": interval,
            "5. Output Size": "Full size",
            "6. Time Zone": "US/Eastern",
        },
        f"Time Series ({interval})": dict(sorted(series.items(), reverse=True)),
    }


def _intraday_provider(keys: list[str], interval: str = "5min") -> Callable[[Request], Reply]:
    """Serves, for ``month=YYYY-MM``, the keys of that month (the whole month, as with
    outputsize=full)."""

    def handler(req: Request) -> Reply:
        assert req.arg("function") == "TIME_SERIES_INTRADAY"
        month = req.arg("month") or ""
        return Reply(200, _intraday([k for k in keys if k.startswith(month)], interval))

    return handler


def _source(wire: WireServer, sleep: Any = None, **kw: Any) -> AlphaVantageSource:
    return AlphaVantageSource(
        base_url=wire.url, api_key=KEY, rate_per_sec=1e6, sleep=sleep or (lambda s: None), **kw
    )


def test_interval_mapping() -> None:
    assert alphavantage_interval("1m") == "1min"
    assert alphavantage_interval("5m") == "5min"
    assert alphavantage_interval("15m") == "15min"
    assert alphavantage_interval("30m") == "30min"
    assert alphavantage_interval("1h") == "60min"
    assert alphavantage_interval("60m") == "60min"
    assert alphavantage_interval("1d") is None
    for bad in ("4h", "2m", "1w", "x"):
        with pytest.raises(ConfigError, match=rf"{bad!r}.*1m, 5m, 15m, 30m, 1h, 1d"):
            alphavantage_interval(bad)


def test_daily_success_one_full_request_filtered(wire: WireServer) -> None:
    days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-07-01"]
    wire.route("/query", lambda req: Reply(200, _daily(days)))
    src = _source(wire)
    assert isinstance(src, OhlcvSource)
    start, end = _ns("2024-01-03T05:00:00Z"), _ns("2024-07-01T04:00:00Z")
    (page,) = src.fetch_ohlcv("IBM", "1d", start, end)
    # a daily bar is stamped midnight US/Eastern of its date: 05:00Z in winter, 04:00Z in summer
    assert page["ts"].tolist() == [
        _ns("2024-01-03T05:00:00Z"),
        _ns("2024-01-04T05:00:00Z"),
        _ns("2024-01-05T05:00:00Z"),
    ]  # 2024-07-01 opens exactly at end (exclusive) -> left out
    assert page["ts"].dtype == "int64"
    assert page.iloc[0][["open", "high", "low", "close", "volume"]].tolist() == [
        151.0,
        152.5,
        150.25,
        151.75,
        2001.0,
    ]
    (req,) = wire.requests
    assert req.path == "/query"
    assert req.arg("function") == "TIME_SERIES_DAILY"
    assert req.arg("symbol") == "IBM"
    assert req.arg("outputsize") == "full"
    assert req.arg("datatype") == "json"
    assert req.arg("apikey") == KEY


def test_daily_recent_start_uses_compact_and_no_end_drops_the_forming_bar(
    wire: WireServer,
) -> None:
    today = datetime.now(ET).date()
    days = [(today - timedelta(days=n)).isoformat() for n in (3, 2, 1, 0)]
    wire.route("/query", lambda req: Reply(200, _daily(days)))
    start = int(pd.Timestamp(days[0], tz=ET).value)
    (page,) = _source(wire).fetch_ohlcv("IBM", "1d", start)
    assert page["ts"].tolist() == [int(pd.Timestamp(d, tz=ET).value) for d in days[:3]]
    assert wire.requests[0].arg("outputsize") == "compact"


def test_intraday_keys_are_bar_open_times_in_eastern(wire: WireServer) -> None:
    keys = ["2024-01-05 04:00:00", "2024-01-05 09:30:00", "2024-01-05 19:55:00"]
    wire.route("/query", _intraday_provider(keys))
    (page,) = _source(wire).fetch_ohlcv(
        "IBM", "5m", _ns("2024-01-05T05:00:00Z"), _ns("2024-01-06T05:00:00Z")
    )
    # EST = UTC-5; the 19:55 key is the last 5-minute bar of the 04:00-20:00 day (its open)
    assert page["ts"].tolist() == [
        _ns("2024-01-05T09:00:00Z"),
        _ns("2024-01-05T14:30:00Z"),
        _ns("2024-01-06T00:55:00Z"),
    ]
    assert page["close"].tolist() == [150.75, 151.75, 152.75]
    (req,) = wire.requests
    assert req.arg("function") == "TIME_SERIES_INTRADAY"
    assert req.arg("interval") == "5min"
    assert req.arg("month") == "2024-01"
    assert req.arg("outputsize") == "full"
    assert req.arg("adjusted") == "true"
    assert req.arg("extended_hours") == "true"
    assert req.arg("apikey") == KEY


def test_intraday_summer_time_and_options(wire: WireServer) -> None:
    wire.route("/query", _intraday_provider(["2024-07-01 09:30:00"], "60min"))
    src = _source(wire, adjusted=False, extended_hours=False)
    start, end = _ns("2024-07-01T04:00:00Z"), _ns("2024-07-02T04:00:00Z")  # one New York day
    (page,) = src.fetch_ohlcv("IBM", "1h", start, end)
    assert page["ts"].tolist() == [_ns("2024-07-01T13:30:00Z")]  # EDT = UTC-4
    (req,) = wire.requests
    assert req.arg("interval") == "60min"
    assert req.arg("adjusted") == "false"
    assert req.arg("extended_hours") == "false"


def test_intraday_pages_by_month_and_resume(wire: WireServer) -> None:
    keys = [
        "2024-01-31 15:55:00",
        "2024-02-01 09:30:00",
        "2024-02-29 15:55:00",
        "2024-03-01 09:30:00",
        "2024-03-01 09:35:00",
        "2024-03-01 09:40:00",
    ]
    wire.route("/query", _intraday_provider(keys))
    src = _source(wire)
    # 2024-01-31 21:00Z is 16:00 ET on the 31st: January's month is asked for, its bars are older
    start, end = _ns("2024-01-31T20:55:00Z"), _ns("2024-03-01T14:40:00Z")
    pages = list(src.fetch_ohlcv("IBM", "5m", start, end))
    assert [r.arg("month") for r in wire.requests] == ["2024-01", "2024-02", "2024-03"]
    assert [len(p) for p in pages] == [1, 2, 2]
    assert pd.concat(pages)["ts"].tolist() == [
        _ns("2024-01-31T20:55:00Z"),
        _ns("2024-02-01T14:30:00Z"),
        _ns("2024-02-29T20:55:00Z"),
        _ns("2024-03-01T14:30:00Z"),
        _ns("2024-03-01T14:35:00Z"),
    ]
    # resume from the last stored bar + one bar: only that month is asked for, only newer bars
    last = int(pages[-1]["ts"].iloc[-1])
    wire.requests.clear()
    (newer,) = src.fetch_ohlcv("IBM", "5m", last + 5 * MIN, _ns("2024-03-02T00:00:00Z"))
    assert [r.arg("month") for r in wire.requests] == ["2024-03"]
    assert newer["ts"].tolist() == [_ns("2024-03-01T14:40:00Z")]


def test_intraday_month_in_eastern_time(wire: WireServer) -> None:
    wire.route("/query", _intraday_provider([]))
    # 2024-03-01T02:00Z is still February 29th in New York
    list(
        _source(wire).fetch_ohlcv(
            "IBM", "1m", _ns("2024-03-01T02:00:00Z"), _ns("2024-03-01T03:00:00Z")
        )
    )
    assert [r.arg("month") for r in wire.requests] == ["2024-02"]


def test_intraday_history_starts_in_2000(wire: WireServer) -> None:
    wire.route("/query", _intraday_provider([]))
    list(_source(wire).fetch_ohlcv("IBM", "30m", 0, _ns("2000-02-15T00:00:00Z")))
    assert [r.arg("month") for r in wire.requests] == ["2000-01", "2000-02"]


def test_error_message_becomes_source_error_naming_symbol(wire: WireServer) -> None:
    message = (
        "Invalid API call. Please retry or visit the documentation "
        "(https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."
    )
    wire.route("/query", lambda req: Reply(200, {"Error Message": message}))
    with pytest.raises(SourceError) as err:
        list(_source(wire).fetch_ohlcv("NOSUCH", "1d", 0, _ns("2024-01-01T00:00:00Z")))
    text = str(err.value)
    assert not isinstance(err.value, RateLimited)
    assert text.startswith("alphavantage: Invalid API call.")
    assert "'NOSUCH'" in text
    assert KEY not in text


def test_premium_information_is_an_error_not_a_rate_limit(wire: WireServer) -> None:
    info = (
        "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe "
        "to any of the premium plans at https://www.alphavantage.co/premium/ to instantly "
        "unlock all premium endpoints"
    )
    wire.route("/query", lambda req: Reply(200, {"Information": info}))
    waits: list[float] = []
    with pytest.raises(SourceError, match="premium endpoint") as err:
        list(_source(wire, sleep=waits.append).fetch_ohlcv("IBM", "1d", 0, DAY))
    assert not isinstance(err.value, RateLimited)
    assert len(wire.requests) == 1 and waits == []


def test_http_error_names_symbol_without_key(wire: WireServer) -> None:
    wire.route("/query", lambda req: Reply(404, "Not Found"))
    with pytest.raises(SourceError, match=r"HTTP 404.*'IBM'") as err:
        list(_source(wire).fetch_ohlcv("IBM", "1d", 0, DAY))
    assert KEY not in str(err.value) and "apikey=***" in str(err.value)


def test_missing_key_is_a_config_error(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADEWIND_ALPHAVANTAGE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="TRADEWIND_ALPHAVANTAGE_API_KEY"):
        next(AlphaVantageSource(base_url=wire.url).fetch_ohlcv("IBM", "1d", 0, DAY))
    assert wire.requests == []


def test_key_from_settings_not_in_repr(wire: WireServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIND_ALPHAVANTAGE_API_KEY", KEY)
    wire.route("/query", lambda req: Reply(200, _daily(["2024-01-02"])))
    src = AlphaVantageSource(base_url=wire.url, rate_per_sec=1e6)
    list(src.fetch_ohlcv("IBM", "1d", 0, _ns("2024-02-01T00:00:00Z")))
    assert wire.requests[0].arg("apikey") == KEY
    assert KEY not in repr(src) and KEY not in repr(src.http)


NOTE = {
    "Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per "
    "minute and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you "
    "would like to target a higher API call frequency."
}
INFO_LIMIT = {
    "Information": "Thank you for using Alpha Vantage! Our standard API rate limit is 25 "
    "requests per day. Please subscribe to any of the premium plans at "
    "https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."
}


@pytest.mark.parametrize("limited", [NOTE, INFO_LIMIT], ids=["Note", "Information"])
def test_rate_limit_body_waits_then_succeeds(wire: WireServer, limited: dict[str, str]) -> None:
    waits: list[float] = []
    wire.sequence(
        "/query", [Reply(200, limited)], then=lambda req: Reply(200, _daily(["2024-01-02"]))
    )
    src = _source(wire, sleep=waits.append, rate_limit_wait=60.0)
    (page,) = src.fetch_ohlcv("IBM", "1d", 0, _ns("2024-02-01T00:00:00Z"))
    assert page["ts"].tolist() == [_ns("2024-01-02T05:00:00Z")]
    assert src.rate_limit_waits == 1
    assert 60.0 in waits
    assert len(wire.requests) == 2
    assert wire.requests[0].query == wire.requests[1].query  # the same request, retried


def test_rate_limit_body_exhausted_raises_rate_limited(
    wire: WireServer, no_sleep: list[float]
) -> None:
    wire.route("/query", lambda req: Reply(200, NOTE))
    src = _source(wire, sleep=no_sleep.append, max_retries=3)
    expected = r"alphavantage: rate limited after 4 attempts.*'IBM'.*5 calls per minute"
    with pytest.raises(RateLimited, match=expected) as err:
        list(src.fetch_ohlcv("IBM", "1d", 0, DAY))
    assert len(wire.requests) == 4
    assert [w for w in no_sleep if w > 1] == [60.0] * 3
    assert KEY not in str(err.value)


def test_http_429_with_retry_after_waits_then_succeeds(wire: WireServer) -> None:
    waits: list[float] = []
    wire.sequence(
        "/query",
        [Reply(429, {"Information": "Too many requests"}, {"Retry-After": "7"})],
        then=lambda req: Reply(200, _daily(["2024-01-02"])),
    )
    src = _source(wire, sleep=waits.append)
    (page,) = src.fetch_ohlcv("IBM", "1d", 0, _ns("2024-02-01T00:00:00Z"))
    assert len(page) == 1
    assert 7.0 in waits and src.http.retries == 1


def test_http_429_exhausted_raises_rate_limited(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route("/query", lambda req: Reply(429, {"Information": "Too many requests"}))
    src = _source(wire, sleep=no_sleep.append, max_retries=1)
    with pytest.raises(RateLimited, match="Too many requests") as err:
        list(src.fetch_ohlcv("IBM", "1d", 0, DAY))
    assert len(wire.requests) == 2
    assert KEY not in str(err.value)


def test_empty_window_makes_no_request(wire: WireServer) -> None:
    start = _ns("2024-01-02T05:00:00Z")
    assert list(_source(wire).fetch_ohlcv("IBM", "5m", start, start)) == []
    assert wire.requests == []
