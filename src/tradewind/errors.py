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


class VenueError(TradewindError):
    """A venue (exchange, broker, chain) refused or failed a request; the message names the
    venue, the request and the venue's own reason."""


class InsufficientFunds(VenueError):
    """The account cannot pay for the order (balance, margin, SOL for fees or rent)."""


class InvalidOrder(VenueError):
    """The venue cannot take this order as given: unsupported type, precision, limits, symbol."""


class VenueRateLimited(VenueError):
    """The venue kept answering "too many requests" after every allowed retry."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VenueUnavailable(VenueError):
    """The venue could not be reached (timeout, refused connection, 5xx, disconnect)."""


class OrderStateUnknown(VenueError):
    """A submit may or may not have reached the venue, and looking it up did not settle it yet.

    The order must not be sent again until its client order id has been looked up; the node
    keeps it SUBMITTED and the venue's reconciliation resolves it."""
