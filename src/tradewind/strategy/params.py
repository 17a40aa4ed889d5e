"""Typed strategy parameters declared as class attributes.

    class SmaCross(Strategy):
        fast: int = param(10, ge=1, help="fast moving-average period")
        slow: int = 30

Every annotated public class attribute with a default is a parameter. Values are checked against
the annotation (int, float, bool, str, or a ``Literal`` of choices) and the bounds, whether they
come from Python, the CLI (strings) or an optimizer.
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, get_args, get_origin

import numpy as np

from tradewind.errors import ConfigError

_TRUE = {"true", "1", "yes", "on", "y"}
_FALSE = {"false", "0", "no", "off", "n"}


@dataclass(frozen=True)
class Param:
    """A parameter's default and constraints (what ``param(...)`` returns)."""

    default: Any
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    lt: float | None = None
    help: str = ""


def param(
    default: Any,
    *,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    help: str = "",
) -> Any:
    """Declare a parameter with bounds and a help text (typed ``Any`` so it fits any annotation)."""
    return Param(default, ge=ge, le=le, gt=gt, lt=lt, help=help)


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: Any
    default: Any
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    lt: float | None = None
    help: str = ""

    @property
    def type_name(self) -> str:
        if get_origin(self.type) is Literal:
            return " | ".join(repr(a) for a in get_args(self.type))
        return getattr(self.type, "__name__", str(self.type))

    def coerce(self, value: Any, owner: str) -> Any:
        """Check (and from CLI strings, convert) a value; ``ConfigError`` names what is wrong."""
        where = f"parameter {self.name!r} of {owner}"
        t = self.type
        if get_origin(t) is Literal:
            choices = get_args(t)
            for c in choices:
                if value == c or (isinstance(value, str) and str(c) == value):
                    return c
            raise ConfigError(
                f"{where} must be one of {', '.join(map(repr, choices))}, got {value!r}"
            )
        out = _convert(value, t, where)
        self._check_bounds(out, where)
        return out

    def _check_bounds(self, v: Any, where: str) -> None:
        if isinstance(v, bool) or not isinstance(v, int | float):
            return
        checks = (
            (self.ge, ">=", self.ge is not None and v < self.ge),
            (self.le, "<=", self.le is not None and v > self.le),
            (self.gt, ">", self.gt is not None and v <= self.gt),
            (self.lt, "<", self.lt is not None and v >= self.lt),
        )
        for bound, word, broken in checks:
            if broken:
                raise ConfigError(f"{where} must be {word} {bound:g}, got {v!r}")


def _convert(value: Any, t: Any, where: str) -> Any:
    if t is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ConfigError(f"{where} expects a bool (true/false), got {value!r}")
    if t is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where} expects an int, got the bool {value!r}")
        if isinstance(value, int | np.integer):
            return int(value)
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConfigError(f"{where} expects an int, got {value!r}")
    if t is float:
        out: float | None = None
        if isinstance(value, bool):
            raise ConfigError(f"{where} expects a float, got the bool {value!r}")
        if isinstance(value, int | float | np.integer | np.floating):
            out = float(value)
        elif isinstance(value, str):
            try:
                out = float(value.strip())
            except ValueError:
                out = None
        if out is None:
            raise ConfigError(f"{where} expects a float, got {value!r}")
        if not math.isfinite(out):
            raise ConfigError(f"{where} must be a finite number, got {value!r}")
        return out
    if t is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where} expects a str, got {value!r}")
    raise ConfigError(
        f"{where}: unsupported parameter type {t!r} (use int, float, bool, str, Literal)"
    )


def collect_params(cls: type) -> dict[str, ParamSpec]:
    """Find the parameters of a strategy class (including inherited ones).

    A subclass that sets a new plain default for an inherited parameter keeps its type, bounds
    and help.
    """
    inherited: dict[str, ParamSpec] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited.update(getattr(base, "params", {}) or {})
    hints = typing.get_type_hints(cls)
    specs: dict[str, ParamSpec] = {}
    for name, hint in hints.items():
        if name.startswith("_") or get_origin(hint) is typing.ClassVar:
            continue
        if not hasattr(cls, name):
            continue
        raw = getattr(cls, name)
        if (callable(raw) and not isinstance(raw, Param)) or isinstance(raw, property):
            continue
        if isinstance(raw, Param):
            spec = ParamSpec(name, hint, raw.default, raw.ge, raw.le, raw.gt, raw.lt, raw.help)
        elif name in inherited:
            spec = replace(inherited[name], default=raw)
        else:
            spec = ParamSpec(name, hint, raw)
        spec.coerce(spec.default, cls.__name__)  # a bad default is a bug in the strategy
        specs[name] = spec
    return specs


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Parameterized:
    """Typed class-level parameters, checked on construction: the shared base of event-driven
    and vectorized strategies (``name`` defaults to the class name in snake_case)."""

    params: ClassVar[dict[str, ParamSpec]] = {}
    name: ClassVar[str] = "strategy"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake(cls.__name__)
        cls.params = collect_params(cls)
        for pname, spec in cls.params.items():
            setattr(cls, pname, spec.default)

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            known = ", ".join(f"{n} ({s.type_name})" for n, s in self.params.items()) or "none"
            raise ConfigError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for strategy "
                f"{self.name}; it takes: {known}"
            )
        for pname, value in params.items():
            setattr(self, pname, self.params[pname].coerce(value, self.name))
        self.validate()

    def validate(self) -> None:
        """Check parameters against each other; raise ``ConfigError`` with a clear message."""

    def require(self, condition: bool, message: str) -> None:
        """Raise ``ConfigError`` naming the strategy and its parameters unless ``condition``."""
        if not condition:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            raise ConfigError(f"strategy {self.name}: {message} (got {shown})")

    def get_params(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self.params}
