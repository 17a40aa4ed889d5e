"""Credentials: argon2id password hashes, HS256 JWT access/refresh tokens, and API keys.

API keys look like ``tw_<prefix>_<secret>``: an 8-character url-safe prefix (shown in listings,
the lookup key) and a 32-byte ``secrets.token_urlsafe`` secret. Only the SHA-256 of the secret is
stored: the secret carries 256 bits of entropy, so a fast hash is as safe as a slow one against
guessing, and argon2 on every request would cap throughput. Comparisons are constant-time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tradewind.api.errors import Unauthorized

TokenType = Literal["access", "refresh"]

ALGORITHM = "HS256"
KEY_MARK = "tw_"
PREFIX_LEN = 8
SECRET_BYTES = 32
_SECRET_LEN = len(secrets.token_urlsafe(SECRET_BYTES))  # 43 characters
_KEY_LEN = len(KEY_MARK) + PREFIX_LEN + 1 + _SECRET_LEN
_URLSAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_REQUIRED_CLAIMS = ["sub", "typ", "scp", "ver", "iat", "exp", "jti"]

_hasher = PasswordHasher()  # argon2id with the RFC 9106 low-memory profile


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a missing user costs the same time."""
    return _hasher.hash(secrets.token_urlsafe(16))


# --- passwords ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """The argon2id hash (with its own salt and parameters) of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``stored_hash``, and a fresh hash when the stored one uses
    outdated parameters (store it). ``stored_hash=None`` (no such user) burns the same time."""
    try:
        _hasher.verify(stored_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False, None
    if stored_hash is None:
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored_hash) else None)


# --- tokens ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified claims of a token."""

    username: str
    typ: TokenType
    scopes: tuple[str, ...]
    version: int
    issued_at: int
    expires_at: int
    jti: str


def issue_token(
    key: str,
    *,
    username: str,
    typ: TokenType,
    scopes: Iterable[str],
    version: int,
    ttl_s: int,
    now: float | None = None,
) -> str:
    """A signed token for ``username`` valid ``ttl_s`` seconds from ``now``."""
    iat = int(time.time() if now is None else now)
    claims = {
        "sub": username,
        "typ": typ,
        "scp": sorted(set(scopes)),
        "ver": version,
        "iat": iat,
        "exp": iat + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def decode_token(key: str, token: str, expected: TokenType) -> TokenClaims:
    """The claims of ``token`` if its signature, lifetime and type are right, else
    ``Unauthorized`` saying which (never echoing the token)."""
    try:
        raw = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": _REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired; log in again or refresh it") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("invalid token") from exc
    typ, scp, ver, sub = raw["typ"], raw["scp"], raw["ver"], raw["sub"]
    if typ not in {"access", "refresh"} or not isinstance(scp, list) or type(ver) is not int:
        raise Unauthorized("invalid token")
    if typ != expected:
        raise Unauthorized(f"a {typ} token cannot be used here; send the {expected} token")
    if not isinstance(sub, str) or not all(isinstance(s, str) for s in scp):
        raise Unauthorized("invalid token")
    return TokenClaims(
        username=sub,
        typ=typ,
        scopes=tuple(scp),
        version=ver,
        issued_at=int(raw["iat"]),
        expires_at=int(raw["exp"]),
        jti=str(raw["jti"]),
    )


# --- API keys ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly generated key: ``plaintext`` is shown once; only ``prefix`` and ``key_hash``
    are stored."""

    prefix: str
    plaintext: str
    key_hash: str


def _new_prefix() -> str:
    return secrets.token_urlsafe(PREFIX_LEN)[:PREFIX_LEN]


def generate_api_key() -> NewApiKey:
    prefix = _new_prefix()
    secret = secrets.token_urlsafe(SECRET_BYTES)
    return NewApiKey(prefix, f"{KEY_MARK}{prefix}_{secret}", hash_secret(secret))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_api_key(value: str) -> bool:
    return value.startswith(KEY_MARK)


def split_api_key(value: str) -> tuple[str, str]:
    """``(prefix, secret)`` of a well-formed key, else ``Unauthorized`` (the prefix and secret
    may themselves contain ``_``, so the parts are taken by position)."""
    prefix = value[len(KEY_MARK) : len(KEY_MARK) + PREFIX_LEN]
    sep = value[len(KEY_MARK) + PREFIX_LEN : len(KEY_MARK) + PREFIX_LEN + 1]
    secret = value[len(KEY_MARK) + PREFIX_LEN + 1 :]
    if (
        len(value) != _KEY_LEN
        or not value.startswith(KEY_MARK)
        or sep != "_"
        or not _URLSAFE.issuperset(prefix)
        or not _URLSAFE.issuperset(secret)
    ):
        raise Unauthorized("malformed API key")
    return prefix, secret


def secret_matches(secret: str, key_hash: str) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return hmac.compare_digest(hash_secret(secret).encode(), key_hash.encode())
