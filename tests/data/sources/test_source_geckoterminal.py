from __future__ import annotations

import math

import pandas as pd
import pytest
from wire import Handler, Reply, Request, WireServer

from tradewind.data.sources.base import OhlcvSource, RateLimited, SourceError
from tradewind.data.sources.geckoterminal import GeckoTerminalSource
from tradewind.errors import ConfigError

POOL = "58oQChx4yWmvKdwLLZzBi4ChoCc2fqCUWBkwMihLYQo2"  # a SOL/USDC pool address
PATH_1M = f"/api/v2/networks/solana/pools/{POOL}/ohlcv/minute"
T0 = 1_699_999_980  # a whole minute, unix seconds
NS = 1_000_000_000
MIN_NS = 60 * NS


def rows(n: int, step: int = 60, t0: int = T0) -> list[list[float]]:
    """``n`` ascending [ts, o, h, l, c, v] rows with distinct values."""
    return [
        [t0 + i * step, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 1000.0 + i] for i in range(n)
    ]


def gecko(bars: list[list[float]], *, inclusive: bool = False) -> Handler:
    """The documented behaviour: rows before ``before_timestamp``, newest first, ``limit`` max."""

    def handler(req: Request) -> Reply:
        before = float(req.arg("before_timestamp") or math.inf)
        limit = int(req.arg("limit") or 100)
        older = [r for r in bars if (r[0] <= before if inclusive else r[0] < before)]
        page = list(reversed(older[-limit:]))
        return Reply(
            200,
            {
                "data": {
                    "id": "a1b2",
                    "type": "ohlcv_request_response",
                    "attributes": {"ohlcv_list": page},
                },
                "meta": {
                    "base": {"address": "So11111111111111111111111111111111111111112"},
                    "quote": {"address": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"},
                },
            },
        )

    return handler


def source(wire: WireServer, no_sleep: list[float], **kw: object) -> GeckoTerminalSource:
    kw.setdefault("rate_per_sec", 1000.0)
    return GeckoTerminalSource(wire.url, sleep=no_sleep.append, **kw)  # type: ignore[arg-type]


def collect(pages: object) -> pd.DataFrame:
    frames = list(pages)  # type: ignore[call-overload]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def test_success_maps_values_and_request(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH_1M, gecko(rows(3)))
    src = source(wire, no_sleep)
    assert isinstance(src, OhlcvSource)
    end_ns = (T0 + 180) * NS
    pages = list(src.fetch_ohlcv(POOL, "1m", T0 * NS, end_ns))

    assert len(pages) == 1
    bars = pages[0]
    assert list(bars.columns) == ["ts", "open", "high", "low", "close", "volume"]
    assert bars["ts"].dtype == "int64"
    assert bars["ts"].tolist() == [T0 * NS, (T0 + 60) * NS, (T0 + 120) * NS]  # ascending, ns
    assert pd.Timestamp(bars["ts"].iloc[0], tz="UTC") == pd.Timestamp(T0, unit="s", tz="UTC")
    assert bars.iloc[1][["open", "high", "low", "close", "volume"]].tolist() == [
        101.0,
        102.0,
        100.0,
        101.5,
        1001.0,
    ]
    (req,) = wire.hits(PATH_1M)
    assert req.method == "GET"
    assert req.arg("aggregate") == "1"
    assert req.arg("before_timestamp") == str(T0 + 180)
    assert req.arg("limit") == "1000"
    assert req.arg("currency") == "usd"
    assert req.arg("token") == "base"


def test_bars_outside_the_range_are_dropped(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH_1M, gecko(rows(10), inclusive=True))  # even if the provider includes `before`
    bars = collect(source(wire, no_sleep).fetch_ohlcv(POOL, "1m", (T0 + 120) * NS, (T0 + 300) * NS))
    assert bars["ts"].tolist() == [(T0 + s) * NS for s in (120, 180, 240)]


@pytest.mark.parametrize("inclusive", [False, True])
def test_pagination_backwards_yields_oldest_first(
    wire: WireServer, no_sleep: list[float], inclusive: bool
) -> None:
    data = rows(2500)
    wire.route(PATH_1M, gecko(data, inclusive=inclusive))
    end_ns = (T0 + 2500 * 60) * NS
    pages = list(source(wire, no_sleep).fetch_ohlcv(POOL, "1m", T0 * NS, end_ns))

    befores = [int(r.arg("before_timestamp") or 0) for r in wire.hits(PATH_1M)]
    assert befores[0] == T0 + 2500 * 60
    assert befores == sorted(befores, reverse=True)  # walking back in time
    assert len(befores) == 3  # 1000 + 1000 + 500 rows, the last page reaches start
    firsts = [int(p["ts"].iloc[0]) for p in pages]
    assert firsts == sorted(firsts)  # pages oldest first
    bars = pd.concat(pages, ignore_index=True)
    assert bars["ts"].is_unique
    assert bars["ts"].is_monotonic_increasing
    assert bars["ts"].tolist() == [int(r[0]) * NS for r in data]
    assert bars["close"].tolist() == [r[4] for r in data]


def test_resume_only_fetches_newer_bars(wire: WireServer, no_sleep: list[float]) -> None:
    data = rows(1500)
    wire.route(PATH_1M, gecko(data))
    src = source(wire, no_sleep)
    first_end = (T0 + 1200 * 60) * NS
    stored = collect(src.fetch_ohlcv(POOL, "1m", T0 * NS, first_end))
    assert len(stored) == 1200
    first_calls = len(wire.hits(PATH_1M))

    resume_ns = int(stored["ts"].iloc[-1]) + MIN_NS
    newer = collect(src.fetch_ohlcv(POOL, "1m", resume_ns, (T0 + 1500 * 60) * NS))
    resumed = wire.hits(PATH_1M)[first_calls:]
    assert len(resumed) == 1  # the newest page already reaches the resume point
    assert resumed[0].arg("before_timestamp") == str(T0 + 1500 * 60)
    assert newer["ts"].tolist() == [(T0 + i * 60) * NS for i in range(1200, 1500)]


def test_gaps_without_swaps_are_kept_as_gaps(wire: WireServer, no_sleep: list[float]) -> None:
    data = [r for i, r in enumerate(rows(6)) if i not in (2, 3)]  # no swaps in two minutes
    wire.route(PATH_1M, gecko(data))
    bars = collect(source(wire, no_sleep).fetch_ohlcv(POOL, "1m", T0 * NS, (T0 + 360) * NS))
    assert bars["ts"].tolist() == [(T0 + s) * NS for s in (0, 60, 240, 300)]


def test_no_progress_stops_instead_of_looping(wire: WireServer, no_sleep: list[float]) -> None:
    page = list(reversed(rows(5, t0=T0 + 600)))
    wire.route(PATH_1M, lambda req: Reply(200, {"data": {"attributes": {"ohlcv_list": page}}}))
    bars = collect(source(wire, no_sleep).fetch_ohlcv(POOL, "1m", T0 * NS, (T0 + 900) * NS))
    assert len(wire.hits(PATH_1M)) == 2  # the repeat is noticed and the walk ends
    assert len(bars) == 5


def test_empty_history_yields_nothing(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH_1M, gecko([]))
    assert list(source(wire, no_sleep).fetch_ohlcv(POOL, "1m", T0 * NS, (T0 + 60) * NS)) == []
    assert len(wire.hits(PATH_1M)) == 1


def test_default_end_is_the_newest_closed_bar(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(f"/api/v2/networks/solana/pools/{POOL}/ohlcv/hour", gecko(rows(3, step=3600)))
    bars = collect(source(wire, no_sleep).fetch_ohlcv(POOL, "1h", T0 * NS))
    assert len(bars) == 3
    (req,) = wire.hits(f"/api/v2/networks/solana/pools/{POOL}/ohlcv/hour")
    before = int(req.arg("before_timestamp") or 0)
    assert before % 3600 == 0
    assert before <= pd.Timestamp.now(tz="UTC").timestamp() < before + 3600


@pytest.mark.parametrize(
    ("timeframe", "period", "aggregate"),
    [
        ("5m", "minute", "5"),
        ("15m", "minute", "15"),
        ("1h", "hour", "1"),
        ("4h", "hour", "4"),
        ("12h", "hour", "12"),
        ("1d", "day", "1"),
        ("1D", "day", "1"),
        ("60m", "hour", "1"),
    ],
)
def test_timeframes_map_to_period_and_aggregate(
    wire: WireServer, no_sleep: list[float], timeframe: str, period: str, aggregate: str
) -> None:
    path = f"/api/v2/networks/eth/pools/{POOL}/ohlcv/{period}"
    wire.route(path, gecko([]))
    src = source(wire, no_sleep, network="eth")
    list(src.fetch_ohlcv(POOL, timeframe, T0 * NS, (T0 + 86_400) * NS))
    (req,) = wire.hits(path)
    assert req.arg("aggregate") == aggregate


@pytest.mark.parametrize("timeframe", ["3m", "2h", "1w", "bogus"])
def test_unsupported_timeframe_is_a_config_error(timeframe: str) -> None:
    src = GeckoTerminalSource("http://127.0.0.1:9")
    with pytest.raises(ConfigError, match=rf"'{timeframe}'.*1m, 5m, 15m, 1h, 4h, 12h, 1d"):
        src.fetch_ohlcv(POOL, timeframe, 0)


def test_error_body_becomes_source_error_naming_the_pool(
    wire: WireServer, no_sleep: list[float]
) -> None:
    wire.route(
        PATH_1M, lambda req: Reply(404, {"errors": [{"status": "404", "title": "Not Found"}]})
    )
    with pytest.raises(SourceError) as err:
        list(source(wire, no_sleep).fetch_ohlcv(POOL, "1m", T0 * NS, (T0 + 60) * NS))
    text = str(err.value)
    assert text.startswith("geckoterminal:")
    assert POOL in text
    assert "Not Found" in text
    assert not isinstance(err.value, RateLimited)


def test_errors_in_a_200_body_are_reported(wire: WireServer, no_sleep: list[float]) -> None:
    body = {"errors": [{"status": "422", "title": "Unprocessable", "detail": "bad aggregate"}]}
    wire.route(PATH_1M, lambda req: Reply(200, body))
    with pytest.raises(SourceError, match="422 Unprocessable bad aggregate"):
        list(source(wire, no_sleep).fetch_ohlcv(POOL, "1m", T0 * NS, (T0 + 60) * NS))


def test_429_waits_then_succeeds(wire: WireServer, no_sleep: list[float]) -> None:
    limited = Reply(429, {"status": {"error_code": 429, "error_message": "Throttled"}})
    wire.sequence(
        PATH_1M,
        [Reply(429, limited.body, {"Retry-After": "20"}), limited],
        then=gecko(rows(2)),
    )
    bars = collect(source(wire, no_sleep).fetch_ohlcv(POOL, "1m", T0 * NS, (T0 + 120) * NS))
    assert len(bars) == 2
    assert len(wire.hits(PATH_1M)) == 3
    waits = [w for w in no_sleep if w >= 1.0]  # retry waits, not the tiny rate-bucket ones
    assert waits[0] == 20.0  # Retry-After honoured
    assert 7.5 <= waits[1] <= 60.0  # no header: backoff sized for a per-minute limit


def test_exhausted_retries_raise_rate_limited(wire: WireServer, no_sleep: list[float]) -> None:
    wire.route(PATH_1M, lambda req: Reply(429, {"status": {"error_message": "Throttled"}}))
    with pytest.raises(RateLimited, match=POOL):
        list(source(wire, no_sleep, max_retries=2).fetch_ohlcv(POOL, "1m", T0 * NS, (T0 + 60) * NS))
    assert len(wire.hits(PATH_1M)) == 3
    assert len([w for w in no_sleep if w >= 1.0]) == 2  # two retry waits (not rate-bucket ones)
