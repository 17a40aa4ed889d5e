"""Instrument rounding / validation and Order validation (errors name the bad field)."""

from __future__ import annotations

import pytest

from tradewind.errors import ConfigError
from tradewind.model import (
    Fill,
    Instrument,
    InstrumentKind,
    LiquiditySide,
    Order,
    OrderSide,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL


# --- Instrument -------------------------------------------------------------------------------


def test_round_price_to_nearest_tick() -> None:
    inst = Instrument.spot("BTCUSD", "BTC", "USD", price_increment=0.01)
    assert inst.round_price(101.237) == 101.24  # 10123.7 ticks -> 10124
    assert inst.round_price(101.232) == 101.23  # 10123.2 ticks -> 10123
    assert inst.round_price(0.1 + 0.2) == 0.3  # float noise stripped
    half = Instrument.spot("X", "X", "USD", price_increment=0.5)
    assert half.round_price(100.26) == 100.5  # 200.52 ticks -> 201 -> 100.5
    assert half.round_price(100.24) == 100.0  # 200.48 ticks -> 200
    assert half.round_price(99.9) == 100.0  # rounds up as well as down
    five = Instrument.spot("Y", "Y", "USD", price_increment=5.0)
    assert five.round_price(1237.0) == 1235.0  # 247.4 ticks -> 247


def test_round_size_floors() -> None:
    inst = Instrument.spot("BTCUSD", "BTC", "USD", size_increment=0.01)
    assert inst.round_size(1.239) == 1.23  # never rounds up
    assert inst.round_size(1.2) == 1.2
    assert inst.round_size(0.009) == 0.0
    tenth = Instrument.spot("X", "X", "USD", size_increment=0.1)
    assert tenth.round_size(0.3) == 0.3  # 0.3 / 0.1 = 2.9999999999999996: still 3 steps
    assert tenth.round_size(0.39) == 0.3
    lot = Instrument.equity("AAPL")
    assert lot.size_increment == 1.0
    assert lot.price_increment == 0.01
    assert lot.round_size(5.99) == 5.0


def test_no_increment_means_no_rounding() -> None:
    inst = Instrument("RAW")
    assert inst.round_price(1.23456789) == 1.23456789
    assert inst.round_size(0.987654321) == 0.987654321


def test_spl_token_base_units() -> None:
    tok = Instrument.spl_token("BONK", mint="DezX...", decimals=6)
    assert tok.kind is InstrumentKind.SPL_TOKEN
    assert tok.size_increment == pytest.approx(1e-6)
    assert tok.to_base_units(1.5) == 1_500_000  # 1.5 x 10^6
    assert tok.to_base_units(0.000001) == 1
    assert tok.round_size(1.23456789) == 1.234567  # floored to 6 decimals
    sol = Instrument.spl_token("WSOL", mint="So111...", decimals=9)
    assert sol.to_base_units(1.1) == 1_100_000_000  # exact int despite 1.1 x 1e9 float noise
    assert isinstance(sol.to_base_units(2.0), int)


def test_base_units_need_decimals() -> None:
    with pytest.raises(ConfigError, match="decimals"):
        Instrument.spot("BTCUSD", "BTC", "USD").to_base_units(1.0)
    with pytest.raises(ConfigError, match="decimals"):
        Instrument("TOK", kind=InstrumentKind.SPL_TOKEN)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"price_increment": 0.0}, "price_increment"),
        ({"price_increment": -0.01}, "price_increment"),
        ({"size_increment": float("nan")}, "size_increment"),
        ({"multiplier": 0.0}, "multiplier"),
        ({"margin_init": 0.1, "margin_maint": 0.2}, "margin_maint"),
        ({"margin_init": 1.5}, "margin_init"),
    ],
)
def test_instrument_validation_names_field(kw: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        Instrument("X", **kw)  # type: ignore[arg-type]


def test_instrument_needs_symbol() -> None:
    with pytest.raises(ConfigError, match="symbol"):
        Instrument("")


def test_factories() -> None:
    perp = Instrument.perpetual("BTC-PERP", "BTC", "USD")
    assert perp.is_margin_settled
    assert (perp.margin_init, perp.margin_maint) == (0.1, 0.05)
    assert not Instrument.spot("BTCUSD", "BTC", "USD").is_margin_settled
    assert Instrument.spot("BTCUSD", "BTC", "USD").with_fees(0.001, 0.002).taker_fee == 0.002


# --- Order ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"type": OrderType.LIMIT}, "price"),  # limit without a price
        ({"type": OrderType.LIMIT, "price": 0.0}, "price"),
        ({"type": OrderType.STOP_LIMIT, "trigger_price": 90.0}, "price"),
        ({"type": OrderType.STOP_MARKET}, "trigger_price"),  # stop without a trigger
        ({"type": OrderType.STOP_LIMIT, "price": 90.0}, "trigger_price"),
        ({"type": OrderType.TRAILING_STOP}, "trailing_offset"),  # trailing without offset
        ({"type": OrderType.TRAILING_STOP, "trailing_offset": -1.0}, "trailing_offset"),
        ({"type": OrderType.LIMIT, "price": 1.0, "trailing_offset": 1.0}, "trailing_offset"),
        ({"tif": TimeInForce.GTD}, "expire_ts"),  # GTD without expiry
        ({"post_only": True}, "post_only"),  # post-only on a market order
        ({"price": 100.0}, "price"),  # a market order takes no price
    ],
)
def test_order_validation_names_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        Order("BTCUSD", BUY, 1.0, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("qty", [0.0, -1.0, float("nan")])
def test_order_quantity_must_be_positive(qty: float) -> None:
    with pytest.raises(ConfigError, match="quantity"):
        Order("BTCUSD", BUY, qty)


def test_quote_quantity_only_on_market_orders() -> None:
    with pytest.raises(ConfigError, match="quote_quantity"):
        Order("BTCUSD", SELL, 0.0, OrderType.LIMIT, price=10.0, quote_quantity=100.0)
    with pytest.raises(ConfigError, match="quote_quantity"):
        Order("BTCUSD", SELL, 0.0, quote_quantity=-5.0)
    short = Order("BTCUSD", SELL, 0.0, quote_quantity=100.0)  # a short sized by notional
    assert short.quote_quantity == 100.0
    with pytest.raises(ConfigError, match="quote_quantity"):
        Order("BTCUSD", BUY, 0.0, OrderType.LIMIT, price=10.0, quote_quantity=100.0)
    with pytest.raises(ConfigError, match="quote_quantity"):
        Order("BTCUSD", BUY, 0.0, quote_quantity=0.0)
    o = Order("BTCUSD", BUY, 0.0, quote_quantity=100.0)  # quantity worked out at the fill
    assert o.quote_quantity == 100.0


def test_trigger_price_only_on_stop_orders() -> None:
    # a limit with a trigger looks like a stop-limit but would rest as a plain limit
    with pytest.raises(ConfigError, match="trigger_price"):
        Order("BTCUSD", BUY, 1.0, OrderType.LIMIT, price=100.0, trigger_price=105.0)
    with pytest.raises(ConfigError, match="trigger_price"):
        Order("BTCUSD", BUY, 1.0, trigger_price=105.0)
    # a trailing stop may carry its current stop level
    o = Order("BTCUSD", SELL, 1.0, OrderType.TRAILING_STOP, trailing_offset=2.0, trigger_price=98.0)
    o.validate()


def test_percent_trailing_offset_is_a_fraction() -> None:
    # 0.02 means 2 %; 2.0 would put a sell stop at extreme x (1 - 2) < 0: it could never trigger
    with pytest.raises(ConfigError, match="trailing_offset"):
        Order(
            "BTCUSD",
            SELL,
            1.0,
            OrderType.TRAILING_STOP,
            trailing_offset=2.0,
            trailing_offset_type=TrailingOffsetType.PERCENT,
        )
    ok = Order(
        "BTCUSD",
        SELL,
        1.0,
        OrderType.TRAILING_STOP,
        trailing_offset=0.02,
        trailing_offset_type=TrailingOffsetType.PERCENT,
    )
    assert ok.trailing_offset == 0.02


def test_valid_orders_and_properties() -> None:
    lim = Order("BTCUSD", BUY, 2.0, OrderType.LIMIT, price=100.0, post_only=True)
    assert lim.leaves_qty == 2.0
    assert not lim.is_stop
    assert lim.status.value == "initialized"
    assert not lim.is_open
    assert not lim.is_closed
    gtd = Order("BTCUSD", BUY, 1.0, tif=TimeInForce.GTD, expire_ts=123)
    assert gtd.expire_ts == 123
    sl = Order("BTCUSD", SELL, 1.0, OrderType.STOP_LIMIT, price=90.0, trigger_price=91.0)
    assert sl.is_stop
    a, b = Order("BTCUSD", BUY, 1.0), Order("BTCUSD", BUY, 1.0)
    assert a.client_order_id != b.client_order_id
    assert Order("BTCUSD", BUY, 1.0, client_order_id="mine").client_order_id == "mine"
    d = sl.to_dict()
    assert (d["type"], d["price"], d["trigger_price"]) == ("stop_limit", 90.0, 91.0)


def test_fill_signed_qty() -> None:
    def fill(side: OrderSide) -> Fill:
        return Fill(1, "c", "BTCUSD", side, 2.5, 100.0, 0.1, "USD", LiquiditySide.TAKER, 0)

    assert fill(BUY).signed_qty == 2.5
    assert fill(SELL).signed_qty == -2.5
    assert not fill(BUY).liquidation
