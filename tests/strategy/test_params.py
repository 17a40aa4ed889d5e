"""Typed strategy parameters: coercion from strings and Python values, bounds, unknown names,
cross-checks (validate / require) and the built-ins' parameter specs."""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
import pytest

from tradewind.errors import ConfigError
from tradewind.strategy import ParamSpec, Strategy, param
from tradewind.strategy.builtin import BUILTINS


class Demo(Strategy):
    period: int = param(14, ge=2, le=500, help="lookback")
    k: float = param(2.0, gt=0, lt=10)
    long_only: bool = True
    label: str = "demo"
    mode: Literal["fast", "slow"] = "fast"
    level: Literal[1, 2, 3] = 2
    not_a_param: ClassVar[int] = 99
    _private: int = 5

    def helper(self) -> int:
        return 1


class Ordered(Strategy):
    lo: float = 1.0
    hi: float = 2.0

    def validate(self) -> None:
        self.require(self.lo < self.hi, "lo must be below hi")


def test_collected_specs() -> None:
    assert list(Demo.params) == ["period", "k", "long_only", "label", "mode", "level"]
    spec = Demo.params["period"]
    assert spec == ParamSpec("period", int, 14, ge=2, le=500, help="lookback")
    assert Demo.params["mode"].type_name == "'fast' | 'slow'"
    assert Demo.params["k"].type_name == "float"
    # the class attribute is the plain default, not the Param wrapper
    assert Demo.period == 14
    assert Demo.name == "demo"
    d = Demo()
    assert d.get_params() == {
        "period": 14,
        "k": 2.0,
        "long_only": True,
        "label": "demo",
        "mode": "fast",
        "level": 2,
    }


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("period", "20", 20),
        ("period", " 21 ", 21),
        ("period", 30, 30),
        ("period", 40.0, 40),  # an integral float is an int
        ("k", "2.5", 2.5),
        ("k", 3, 3.0),
        ("k", np.float64(1.5), 1.5),
        ("long_only", "true", True),
        ("long_only", "No", False),
        ("long_only", "1", True),
        ("long_only", "off", False),
        ("long_only", False, False),
        ("label", "x", "x"),
        ("mode", "slow", "slow"),
        ("level", "3", 3),  # a CLI string picks the int choice
        ("level", 1, 1),
    ],
)
def test_coercion(name: str, given: object, expected: object) -> None:
    s = Demo(**{name: given})
    value = getattr(s, name)
    assert value == expected
    assert type(value) is type(expected)
    assert Demo.params[name].default == getattr(Demo, name)  # the class is not changed


@pytest.mark.parametrize(
    ("name", "given", "words"),
    [
        ("period", "abc", "expects an int"),
        ("period", 2.5, "expects an int"),
        ("period", True, "expects an int, got the bool"),
        ("k", "x", "expects a float"),
        ("k", False, "expects a float, got the bool"),
        ("long_only", "maybe", "expects a bool"),
        ("long_only", 1, "expects a bool"),
        ("label", 5, "expects a str"),
        ("mode", "sideways", "must be one of 'fast', 'slow'"),
        ("level", "7", "must be one of 1, 2, 3"),
        ("period", 1, "must be >= 2"),
        ("period", "501", "must be <= 500"),
        ("k", 0, "must be > 0"),
        ("k", "10", "must be < 10"),
    ],
)
def test_bad_values_name_the_parameter(name: str, given: object, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        Demo(**{name: given})
    msg = str(err.value)
    assert f"parameter '{name}' of demo" in msg
    assert words in msg


def test_unknown_parameter() -> None:
    with pytest.raises(ConfigError) as err:
        Demo(perod=3)
    msg = str(err.value)
    assert "'perod'" in msg
    assert "period (int)" in msg  # lists what it takes
    with pytest.raises(ConfigError, match="'not_a_param'"):
        Demo(not_a_param=1)  # a ClassVar is not a parameter
    with pytest.raises(ConfigError, match="'_private'"):
        Demo(_private=1)


def test_validate_and_require() -> None:
    assert Ordered(lo=1, hi=3).hi == 3.0
    with pytest.raises(ConfigError) as err:
        Ordered(lo="5", hi="3")
    assert str(err.value) == "strategy ordered: lo must be below hi (got lo=5.0, hi=3.0)"


def test_bad_default_is_caught_at_class_definition() -> None:
    with pytest.raises(ConfigError, match="'n'"):

        class Bad(Strategy):
            n: int = param(0, ge=1)

    with pytest.raises(ConfigError, match="unsupported parameter type"):

        class Weird(Strategy):
            xs: list[int] = [1]  # noqa: RUF012


def test_subclass_inherits_and_overrides() -> None:
    class Child(Demo):
        period: int = param(50, ge=10)
        extra: float = 0.5

    assert Child.params["period"].ge == 10
    assert Child.params["k"].default == 2.0  # inherited
    assert Child().get_params()["period"] == 50
    assert Child(extra="0.25").extra == 0.25
    with pytest.raises(ConfigError, match="must be >= 10"):
        Child(period=5)
    assert Child.name == "child"


# --- built-ins ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_defaults_validate(name: str) -> None:
    cls = BUILTINS[name]
    assert cls.name == name
    assert cls.params, f"{name} declares no parameters"
    s = cls()
    for pname, spec in cls.params.items():
        assert spec.coerce(spec.default, name) == spec.default
        assert getattr(s, pname) == spec.default
        # every default survives a CLI round trip through its string form
        text = str(spec.default).lower() if spec.type is bool else str(spec.default)
        if spec.type is not str or spec.default:
            assert cls(**{pname: text}).get_params()[pname] == spec.default


def test_builtin_specs() -> None:
    sma = BUILTINS["sma_cross"].params
    assert (sma["fast"].default, sma["fast"].ge, sma["slow"].default) == (10, 1, 30)
    rsi = BUILTINS["rsi_reversion"].params
    assert (rsi["lower"].gt, rsi["lower"].lt) == (0, 100)
    assert BUILTINS["pairs"].params["allocation"].le == 1
    assert BUILTINS["grid"].params["levels"].type is int


@pytest.mark.parametrize(
    ("name", "kw", "words"),
    [
        ("sma_cross", {"fast": 30, "slow": 30}, "fast must be below slow"),
        ("sma_cross", {"fast": "50"}, "fast must be below slow"),  # 50 >= default slow 30
        ("macd_cross", {"fast": 26}, "fast must be below slow"),
        ("rsi_reversion", {"lower": 80}, "lower must be below upper"),
        ("sma_cross", {"fast": 0}, "parameter 'fast' of sma_cross must be >= 1"),
        ("grid", {"step_pct": "-1"}, "parameter 'step_pct' of grid must be > 0"),
        ("pairs", {"allocation": 1.5}, "parameter 'allocation' of pairs must be <= 1"),
        ("ema_rsi", {"entry": 100}, "parameter 'entry' of ema_rsi must be < 100"),
    ],
)
def test_builtin_bad_params(name: str, kw: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        BUILTINS[name](**kw)


def test_nan_fails_bounds() -> None:
    with pytest.raises(ConfigError, match="'k'"):
        Demo(k="nan")


def test_numpy_int_accepted() -> None:
    assert Demo(period=np.int64(20)).period == 20


def test_subclass_keeps_inherited_bounds() -> None:
    class MySma(BUILTINS["sma_cross"]):  # type: ignore[misc,valid-type]
        pass

    assert MySma.params["fast"].ge == 1
    assert MySma.params["fast"].help == "fast SMA period"
    with pytest.raises(ConfigError, match="'fast'"):
        MySma(fast=0)
