"""The public strategy API: everything a strategy needs, and nothing that touches a venue."""

from tradewind.strategy.base import History, Source, Strategy
from tradewind.strategy.helpers import above, cross, crossover, crossunder
from tradewind.strategy.indicator import Indicator
from tradewind.strategy.params import Param, ParamSpec, param

__all__ = [
    "History",
    "Indicator",
    "Param",
    "ParamSpec",
    "Source",
    "Strategy",
    "above",
    "cross",
    "crossover",
    "crossunder",
    "param",
]
