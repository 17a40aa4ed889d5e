"""ccxt exceptions -> Tradewind's venue errors, with every secret taken out of the text.

ccxt puts the request URL (with Binance's ``signature=`` query parameter) into many of its
messages and logs the request headers (with ``X-MBX-APIKEY``) at DEBUG. ``redact`` removes the
API key, the secret and any signature from a text; ``RedactingFilter`` does the same to every
record of the logger a ``CcxtVenue`` hands to its ccxt exchange.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable

import ccxt

from tradewind.data.sources.base import redact as redact_values
from tradewind.errors import (
    InsufficientFunds,
    InvalidOrder,
    VenueError,
    VenueRateLimited,
    VenueUnavailable,
)

_SIGNATURE = re.compile(r"(?i)(signature[=:\"' ]+)[0-9a-z%+/=_-]{16,}")
_BODY = re.compile(r"\{.*\}", re.S)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` without the given secret values and without any request signature."""
    return _SIGNATURE.sub(r"\1***", redact_values(text, tuple(secrets)))


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with ``redact`` (ccxt logs URLs and request headers)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self._secrets)
        record.args = None
        return True


def reason(exc: BaseException, secrets: Iterable[str], venue: str = "") -> str:
    """The venue's own reason from a ccxt exception: Binance-style ``{"code", "msg"}`` bodies
    become ``msg (code -2010)``; anything else is the (redacted) exception text without ccxt's
    leading exchange id."""
    text = str(exc)
    if venue and text.startswith(venue + " "):
        text = text[len(venue) + 1 :]
    match = _BODY.search(text)
    if match:
        try:
            body = json.loads(match.group(0))
        except ValueError:
            body = None
        if isinstance(body, dict) and "msg" in body:
            code = body.get("code")
            text = f"{body['msg']} (code {code})" if code is not None else str(body["msg"])
    return redact(text, secrets) or type(exc).__name__


def is_rate_limit(exc: BaseException) -> bool:
    return isinstance(exc, (ccxt.RateLimitExceeded, ccxt.DDoSProtection))


def is_uncertain(exc: BaseException) -> bool:
    """A failure after which the request may or may not have been processed: network errors
    (timeouts, dropped connections, 5xx) and the exchange's own "unknown error / execution
    status unknown" answers (ccxt ``OperationFailed``, e.g. Binance -1000, -1006)."""
    return isinstance(exc, (ccxt.NetworkError, ccxt.OperationFailed)) and not is_rate_limit(exc)


def map_error(
    exc: BaseException,
    *,
    venue: str,
    request: str,
    secrets: Iterable[str],
    retry_after: float | None = None,
) -> VenueError:
    """The Tradewind error for a ccxt exception raised by ``request`` on ``venue``."""
    why = reason(exc, secrets, venue)
    where = f"{venue}: {request}"
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientFunds(f"{where} rejected, insufficient funds: {why}")
    if isinstance(exc, (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended)):
        return VenueError(
            f"{where} failed authentication: {why}. Check the API key and secret "
            "(and that the key allows this request and this IP)"
        )
    if isinstance(exc, ccxt.InvalidNonce):
        return VenueError(f"{where} refused the request time (is the clock in sync?): {why}")
    if isinstance(exc, (ccxt.InvalidOrder, ccxt.BadSymbol, ccxt.OrderNotFound, ccxt.BadRequest)):
        return InvalidOrder(f"{where} rejected: {why}")
    if is_rate_limit(exc):
        return VenueRateLimited(f"{where} rate-limited after retries: {why}", retry_after)
    if is_uncertain(exc):
        return VenueUnavailable(f"{where} failed, venue unreachable: {type(exc).__name__}: {why}")
    if isinstance(exc, ccxt.NotSupported):
        return InvalidOrder(f"{where} not supported by {venue}: {why}")
    return VenueError(f"{where} failed: {type(exc).__name__}: {why}")
