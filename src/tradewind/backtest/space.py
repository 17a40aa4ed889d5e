"""Parameter spaces for optimization: ranges and choices over a strategy's typed parameters,
plus constraints such as ``fast < slow``. Every mistake is reported before any work starts.

Syntax (CLI ``--param`` values, or strings in Python):

- ``5:50:5`` — from 5 to 50 inclusive in steps of 5 (ints or floats);
- ``0.5:3.0`` — a continuous float range (random and Bayesian search only);
- ``a,b,c`` or ``10,20,40`` — a list of choices;
- ``10`` — a fixed value.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradewind.errors import ConfigError
from tradewind.strategy.params import Parameterized, ParamSpec

_MAX_GRID = 1_000_000


@dataclass(frozen=True)
class Dimension:
    """One searched parameter: a list of values, or a continuous range ``[low, high]``."""

    name: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def continuous(self) -> bool:
        return not self.values


def _parse_dimension(spec: ParamSpec, text: Any, owner: str) -> Dimension:
    where = f"--param {spec.name}={text}"
    if not isinstance(text, str):  # a Python value or list of values
        items = list(text) if isinstance(text, list | tuple | range) else [text]
        return Dimension(spec.name, tuple(spec.coerce(v, owner) for v in items))
    text = text.strip()
    if not text:
        raise ConfigError(f"{where}: empty value")
    if ":" in text and spec.type in (int, float):
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ConfigError(f"{where}: a range is START:STOP or START:STOP:STEP")
        try:
            lo, hi = (float(p) for p in parts[:2])
            step = float(parts[2]) if len(parts) == 3 else None
        except ValueError:
            raise ConfigError(f"{where}: range bounds must be numbers") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ConfigError(f"{where}: range bounds must be finite")
        if lo > hi:
            raise ConfigError(f"{where}: empty range (start {lo:g} > stop {hi:g})")
        if step is not None and not step > 0:
            raise ConfigError(f"{where}: step must be > 0, got {step:g}")
        if spec.type is int:
            for v, what in ((lo, "start"), (hi, "stop"), (step, "step")):
                if v is not None and not float(v).is_integer():
                    raise ConfigError(f"{where}: {spec.name} is an int, {what} {v:g} is not")
            step = step or 1.0
        if step is None:
            spec.coerce(lo, owner)
            spec.coerce(hi, owner)
            return Dimension(spec.name, low=lo, high=hi)
        count = math.floor((hi - lo) / step + 1e-9) + 1
        values = tuple(spec.coerce(round(lo + i * step, 12), owner) for i in range(count))
        return Dimension(spec.name, values)
    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise ConfigError(f"{where}: empty item in the list")
    values = tuple(dict.fromkeys(spec.coerce(t, owner) for t in items))
    return Dimension(spec.name, values)


_ALLOWED = (
    ast.Expression, ast.Compare, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load,
    ast.Constant, ast.And, ast.Or, ast.Not, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.FloorDiv, ast.USub,
)  # fmt: skip


@dataclass(frozen=True)
class Constraint:
    """A boolean expression over parameter names (``fast < slow``, ``fast * 2 <= slow``)."""

    text: str
    code: Any

    @classmethod
    def parse(cls, text: str, names: Sequence[str]) -> Constraint:
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            raise ConfigError(f"constraint {text!r} is not a valid expression") from None
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                raise ConfigError(
                    f"constraint {text!r}: only comparisons, arithmetic, and/or/not of "
                    f"parameters and numbers are allowed (found {type(node).__name__})"
                )
            if isinstance(node, ast.Name) and node.id not in names:
                raise ConfigError(
                    f"constraint {text!r} names unknown parameter {node.id!r}; "
                    f"parameters: {', '.join(names)}"
                )
        return cls(text, compile(tree, "<constraint>", "eval"))

    def holds(self, params: Mapping[str, Any]) -> bool:
        return bool(eval(self.code, {"__builtins__": {}}, dict(params)))


class ParamSpace:
    """The searched dimensions of one strategy, its fixed parameters, and the constraints."""

    def __init__(
        self,
        strategy: type[Parameterized],
        params: Mapping[str, Any],
        constraints: Sequence[str] = (),
    ) -> None:
        self.strategy = strategy
        specs = strategy.params
        owner = strategy.name
        unknown = sorted(set(params) - set(specs))
        if unknown:
            known = ", ".join(f"{n} ({s.type_name})" for n, s in specs.items()) or "none"
            raise ConfigError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for strategy {owner}; "
                f"it takes: {known}"
            )
        dims = [_parse_dimension(specs[name], text, owner) for name, text in params.items()]
        self.fixed = {d.name: d.values[0] for d in dims if len(d.values) == 1}
        self.dims = [d for d in dims if d.continuous or len(d.values) > 1]
        if not self.dims:
            raise ConfigError(
                "nothing to search: give at least one --param NAME=START:STOP[:STEP] or A,B,C"
            )
        self.constraints = [Constraint.parse(c, list(specs)) for c in constraints]

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dims]

    @property
    def gridable(self) -> bool:
        return all(not d.continuous for d in self.dims)

    def full(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """The strategy's complete parameters: defaults, fixed values, then ``point``."""
        base = {n: s.default for n, s in self.strategy.params.items()}
        return {**base, **self.fixed, **point}

    def allowed(self, point: Mapping[str, Any]) -> bool:
        """Constraints hold and the strategy accepts the parameters (its own ``validate``)."""
        full = self.full(point)
        if not all(c.holds(full) for c in self.constraints):
            return False
        try:
            self.strategy(**{**self.fixed, **point})
        except ConfigError:
            return False
        return True

    def grid_size(self) -> int:
        return math.prod(len(d.values) for d in self.dims)

    def grid(self) -> list[dict[str, Any]]:
        """Every allowed combination, in order; errors if none is allowed."""
        if not self.gridable:
            cont = ", ".join(d.name for d in self.dims if d.continuous)
            raise ConfigError(
                f"grid search needs a step or a list for every parameter; {cont} "
                "is a continuous range (add :STEP, or use --method random / bayes)"
            )
        size = self.grid_size()
        if size > _MAX_GRID:
            raise ConfigError(
                f"the grid has {size:,} points (limit {_MAX_GRID:,}); "
                "use --method random or bayes with --trials"
            )
        points = [
            dict(zip(self.names, combo, strict=True))
            for combo in itertools.product(*(d.values for d in self.dims))
        ]
        kept = [p for p in points if self.allowed(p)]
        if not kept:
            raise ConfigError(self._nothing_left(size))
        return kept

    def _nothing_left(self, tried: int) -> str:
        rules = "; ".join(c.text for c in self.constraints) or "the strategy's own checks"
        return f"the constraints exclude every one of {tried:,} parameter sets ({rules})"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        point: dict[str, Any] = {}
        for d in self.dims:
            if d.continuous:
                assert d.low is not None and d.high is not None
                point[d.name] = float(rng.uniform(d.low, d.high))
            else:
                point[d.name] = d.values[int(rng.integers(len(d.values)))]
        return point

    def random(self, n: int, seed: int) -> list[dict[str, Any]]:
        """``n`` distinct allowed points (fewer if the space is smaller), reproducibly."""
        if n < 1:
            raise ConfigError(f"--trials must be >= 1, got {n}")
        rng = np.random.default_rng(seed)
        seen: set[tuple[Any, ...]] = set()
        out: list[dict[str, Any]] = []
        attempts = 0
        limit = max(1000, 50 * n)
        while len(out) < n and attempts < limit:
            attempts += 1
            p = self.sample(rng)
            key = tuple(p.values())
            if key in seen:
                continue
            seen.add(key)
            if self.allowed(p):
                out.append(p)
        if not out:
            raise ConfigError(self._nothing_left(attempts))
        return out

    def check_feasible(self, seed: int = 0) -> None:
        """Raise now if no point satisfies the constraints (before any backtest runs)."""
        if self.gridable and self.grid_size() <= 100_000:
            self.grid()
        else:
            self.random(1, seed)

    def describe(self) -> dict[str, Any]:
        return {
            "dimensions": {
                d.name: list(d.values) if d.values else {"low": d.low, "high": d.high}
                for d in self.dims
            },
            "fixed": self.fixed,
            "constraints": [c.text for c in self.constraints],
        }

    def __iter__(self) -> Iterator[Dimension]:
        return iter(self.dims)
