# Tradewind — the two set-up commands are `make demo` (main job) and `make test` (tests).
# Both install everything they need first (uv + the locked dependencies in .venv).

UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PY_RUN = $(UV) run --frozen

.PHONY: setup demo test lint typecheck check bench clean

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

setup: .venv/.synced  ## install the locked dependencies into .venv

demo: setup  ## main job: backtest a built-in strategy on bundled real data, write out/
	$(PY_RUN) tradewind demo --out out

test: setup  ## the test suite
	$(PY_RUN) pytest

lint: setup
	$(PY_RUN) ruff check src tests benchmarks
	$(PY_RUN) ruff format --check src tests benchmarks

typecheck: setup
	$(PY_RUN) mypy

check: lint typecheck

bench: setup  ## speed benchmarks (need ../shared/data)
	$(PY_RUN) python benchmarks/bench_backtest.py

clean:
	rm -rf .venv out .pytest_cache .mypy_cache .ruff_cache
