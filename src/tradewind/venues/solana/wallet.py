"""The trading wallet: a Solana keypair loaded from a file or an environment variable.

The secret never leaves this object: ``repr``/``str`` show only the public key, errors name the
file or variable but never its content, and nothing here logs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from solders.keypair import Keypair
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature

from tradewind.errors import ConfigError


class Wallet:
    """Signs messages with a keypair it never reveals."""

    __slots__ = ("_kp",)

    def __init__(self, keypair: Keypair) -> None:
        self._kp = keypair

    @property
    def pubkey(self) -> Pubkey:
        return self._kp.pubkey()

    def sign(self, message: MessageV0) -> Signature:
        """The signature of a v0 message (what goes in our signer slot)."""
        return self._kp.sign_message(to_bytes_versioned(message))

    def __repr__(self) -> str:
        return f"Wallet(pubkey={self.pubkey}, secret=<redacted>)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:  # never pickle a secret by accident
        raise TypeError("a Wallet cannot be pickled")

    @classmethod
    def from_secret(cls, text: str, *, source: str = "keypair") -> Wallet:
        """A JSON array of 64 bytes (``solana-keygen`` format) or a base58 string."""
        text = text.strip()
        try:
            if text.startswith("["):
                raw = json.loads(text)
                if not (isinstance(raw, list) and len(raw) == 64):
                    raise ValueError("not 64 bytes")
                return cls(Keypair.from_bytes(bytes(raw)))
            return cls(Keypair.from_base58_string(text))
        except Exception:
            raise ConfigError(
                f"{source}: not a Solana keypair (expected a JSON array of 64 bytes or a "
                "base58 secret key)"
            ) from None

    @classmethod
    def from_file(cls, path: str | Path) -> Wallet:
        p = Path(path).expanduser()
        try:
            text = p.read_text()
        except OSError as exc:
            raise ConfigError(f"keypair file {p}: cannot read ({exc.strerror})") from None
        return cls.from_secret(text, source=f"keypair file {p}")

    @classmethod
    def from_env(cls, var: str = "TRADEWIND_SOLANA_KEYPAIR") -> Wallet:
        """From ``$var``: the secret itself, or a path to a keypair file."""
        value = os.environ.get(var)
        if not value:
            raise ConfigError(f"environment variable {var} is not set (Solana keypair)")
        if not value.lstrip().startswith("[") and Path(value).expanduser().is_file():
            return cls.from_file(value)
        return cls.from_secret(value, source=f"environment variable {var}")
