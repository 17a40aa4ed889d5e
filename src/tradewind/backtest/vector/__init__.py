"""The vectorized engine: signal arrays over many columns, simulated by a compiled loop with the
simulated venue's conventions (see ``kernel`` for the rules, ``replay`` for the event-driven
twin that the parity test compares against)."""

from tradewind.backtest.vector.engine import (
    METRIC_COLUMNS,
    Bars,
    Signals,
    VectorConfig,
    VectorResult,
    simulate,
)
from tradewind.backtest.vector.strategies import (
    VECTOR_BUILTINS,
    VectorStrategy,
    load_vector_strategy,
)

__all__ = [
    "METRIC_COLUMNS",
    "VECTOR_BUILTINS",
    "Bars",
    "Signals",
    "VectorConfig",
    "VectorResult",
    "VectorStrategy",
    "load_vector_strategy",
    "simulate",
]
