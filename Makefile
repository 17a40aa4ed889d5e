# Tradewind — the two set-up commands are `make serve` (main job) and `make test` (tests).
# Both install what they need first: uv (from PyPI, if missing) and the locked dependencies.

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
RUN = $(UV) run --frozen

.PHONY: setup serve demo test lint typecheck check bench bench-peers clean

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
		|| python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv
	$(UV) sync --frozen
	@touch $@

setup: .venv/.synced  ## install the locked dependencies into .venv

serve: setup  ## main job: API + a paper node replaying bundled real data (Ctrl+C stops)
	$(RUN) tradewind serve

demo: setup  ## one-shot backtest of a built-in strategy on bundled real data, write out/
	$(RUN) tradewind demo --out out

test: setup  ## the test suite
	$(RUN) pytest

lint: setup
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks

typecheck: setup
	$(RUN) mypy

check: lint typecheck

bench: setup  ## speed benchmark (needs ../shared/data)
	$(RUN) python benchmarks/bench_backtest.py
	$(RUN) python benchmarks/bench_data.py
	$(RUN) python benchmarks/bench_vector.py

bench-peers: setup  ## Tradewind vs vectorbt, backtesting.py, backtrader (benchmark-only deps)
	$(UV) run --frozen --group bench python benchmarks/bench_peers.py

clean:
	rm -rf .venv out .pytest_cache .mypy_cache .ruff_cache
