"""Find a strategy class by built-in name, ``package.module:Class`` or ``path/file.py:Class``."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import TypeVar

from tradewind.errors import StrategyNotFound
from tradewind.strategy.base import Strategy

T = TypeVar("T")


def builtin_strategies() -> dict[str, type[Strategy]]:
    from tradewind.strategy.builtin import BUILTINS

    return BUILTINS


def load_strategy(spec: str) -> type[Strategy]:
    builtins = builtin_strategies()
    if spec in builtins:
        return builtins[spec]
    if ":" not in spec:
        raise StrategyNotFound(
            f"unknown strategy {spec!r}: built-ins are {', '.join(sorted(builtins))}; "
            "or give module:Class / path/to/file.py:Class"
        )
    return import_class(spec, Strategy)


def import_class(spec: str, base: type[T]) -> type[T]:
    """The ``base`` subclass named by ``package.module:Class`` or ``path/to/file.py:Class``."""
    where, _, cls_name = spec.rpartition(":")
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise StrategyNotFound(f"strategy file {where!r} not found")
            mod_spec = importlib.util.spec_from_file_location(path.stem, path)
            if mod_spec is None or mod_spec.loader is None:
                raise StrategyNotFound(f"cannot import {where!r}")
            module = importlib.util.module_from_spec(mod_spec)
            mod_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except ImportError as exc:
        raise StrategyNotFound(f"cannot import strategy module {where!r}: {exc}") from exc
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise StrategyNotFound(f"{where} has no {base.__name__} subclass named {cls_name!r}")
    return cls
