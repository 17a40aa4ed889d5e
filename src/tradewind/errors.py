"""One exception hierarchy for Tradewind.

Every error a user can cause (bad file, bad parameter, rejected order) is a ``TradewindError``
whose message names the file/field/value and what was expected, so the CLI can print it and
exit non-zero without a traceback.
"""

from __future__ import annotations


class TradewindError(Exception):
    """Base class of every error Tradewind raises on purpose."""


class DataError(TradewindError):
    """Market data is malformed: missing columns, NaN, unsorted or duplicate timestamps, ..."""


class ConfigError(TradewindError):
    """A setting, CLI option or strategy parameter is wrong (unknown name, wrong type, range)."""


class StrategyNotFound(ConfigError):
    """No built-in strategy or ``module:Class`` of that name."""


class InvalidOrderTransition(TradewindError):
    """An order was asked to move between two states the order state machine does not allow."""


class OrderRejected(TradewindError):
    """An order was denied by the pre-trade risk checks or rejected by the venue."""


class LookAheadError(TradewindError):
    """A strategy tried to read data that is not yet known at the current time."""
