"""Kill switch, reconciliation discrepancies, and the README's node example through the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from live_helpers import make_bars
from sqlalchemy import select, update
from typer.testing import CliRunner

from tradewind.cli import app
from tradewind.errors import ConfigError
from tradewind.live import NodeConfig, StrategyConfig, TradingNode
from tradewind.store import Store
from tradewind.store.models import AuditRow, BalanceRow, DiscrepancyRow, NodeRow

ROOT = Path(__file__).resolve().parents[2]


def _node(store: Store, strategies: list[StrategyConfig], **kw: object) -> TradingNode:
    cfg = NodeConfig(id="ctl", strategies=strategies, cash=10_000, **kw)  # type: ignore[arg-type]
    return TradingNode(cfg, store, data={"BTCUSDT": make_bars(1500, seed=5)})


@pytest.fixture
def store(sqlite_url: str) -> Store:
    s = Store(sqlite_url)
    s.migrate()
    return s


def test_halt_cancels_orders_and_flatten_closes_positions(store: Store) -> None:
    node = _node(store, [StrategyConfig(id="grid", strategy="grid", params={"levels": 4})])
    node.start()
    t = node.traders["grid"]
    while not (t.engine.oms.open and t.engine.portfolio.qty["BTCUSDT"]):
        node.step()  # until the grid holds a position and has resting orders
    node.halt(flatten=True, actor="user:test", reason="drill")
    node.step()  # the flattening market order fills at the next open
    assert not t.engine.oms.open
    assert t.engine.portfolio.qty["BTCUSDT"] == 0
    bars_before = len(t.engine.portfolio.fills)
    for _ in range(50):
        node.step()  # halted: the strategy's new orders are denied, nothing trades
    assert len(t.engine.portfolio.fills) == bars_before
    with store.session() as s:
        assert s.get(NodeRow, "ctl").halt == "halted"  # type: ignore[union-attr]
        actions = [(a.actor, a.action) for a in s.scalars(select(AuditRow))]
    assert ("user:test", "halt") in actions
    node.resume(actor="user:test")
    assert not t.engine.risk.limits.halted


def test_reduce_only_allows_shrinking_and_denies_growing(store: Store) -> None:
    fast = StrategyConfig(id="s", strategy="sma_cross", params={"fast": 3, "slow": 8})
    node = _node(store, [fast])
    node.start()
    t = node.traders["s"]
    while not t.engine.portfolio.qty["BTCUSDT"]:
        node.step()
    node.halt(reduce_only=True)
    q = t.engine.portfolio.qty["BTCUSDT"]
    grow = t.backtest.strategy.buy(q / 2)
    assert grow is not None and grow.status.value == "rejected"
    assert "reduce-only" in grow.reason
    shrink = t.backtest.strategy.sell(q / 2)
    assert shrink is not None and shrink.status.value == "submitted"


def test_a_tampered_balance_halts_the_node_until_resumed(store: Store) -> None:
    strategies = [StrategyConfig(id="s", strategy="sma_cross", params={"fast": 3, "slow": 8})]
    first = _node(store, strategies)
    first.start()
    for _ in range(300):
        first.step()
    first.commit()
    with store.session() as s:  # someone edits the stored balance behind the node's back
        s.execute(update(BalanceRow).values(total=BalanceRow.total + 1000))
    second = _node(store, strategies)
    second.start()
    assert second.state == "halted"
    assert [d.kind for d in second.discrepancies] == ["balance"]
    with store.session() as s:
        rows = list(s.scalars(select(DiscrepancyRow)))
    assert rows and rows[0].kind == "balance"
    t = second.traders["s"]
    assert t.engine.risk.limits.halted
    order = t.backtest.strategy.sell(1.0) or t.backtest.strategy.buy(1.0)
    assert order is not None and order.status.value == "rejected"
    second.resume(actor="user:ops")  # the explicit override
    assert second.state == "running" and not t.engine.risk.limits.halted


def test_unknown_strategy_in_halt_is_named(store: Store) -> None:
    node = _node(store, [StrategyConfig(id="s")])
    node.start()
    with pytest.raises(ConfigError, match="no strategy 'nope'"):
        node.halt("nope")


def test_readme_node_example_runs_and_the_cli_kill_switch_is_audited(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    yaml_text = re.search(r"cat > node.yaml <<'YAML'\n(.*?)YAML\n", readme, re.S)
    assert yaml_text is not None
    cfg = tmp_path / "node.yaml"
    cfg.write_text(yaml_text.group(1))
    url = f"sqlite:///{tmp_path / 'readme.db'}"
    runner = CliRunner()
    res = runner.invoke(app, ["run", str(cfg), "--database-url", url, "--json"])
    assert res.exit_code == 0, res.output
    assert '"state": "finished"' in res.output
    res = runner.invoke(app, ["halt", "paper-1", "--flatten", "--database-url", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["resume", "paper-1", "--database-url", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["halt", "nope", "--database-url", url])
    assert res.exit_code == 2 and "no node 'nope'" in res.output
    store = Store(url)
    with store.session() as s:
        audit = [(a.action, a.source) for a in s.scalars(select(AuditRow).order_by(AuditRow.id))]
        assert s.get(NodeRow, "paper-1").halt == ""  # type: ignore[union-attr]
    assert audit == [("halt", "cli"), ("resume", "cli")]
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nstrategies: []\n")
    res = runner.invoke(app, ["run", str(bad), "--database-url", url])
    assert res.exit_code == 2 and "at least one strategy" in res.output


def test_a_halt_set_while_the_node_was_down_applies_on_start(store: Store) -> None:
    strategies = [StrategyConfig(id="s", strategy="sma_cross", params={"fast": 3, "slow": 8})]
    first = _node(store, strategies)
    first.start()
    while not first.traders["s"].engine.portfolio.qty["BTCUSDT"]:
        first.step()
    first.commit()
    with store.session() as s:  # `tradewind halt ctl --flatten` while it is down
        s.execute(update(NodeRow).values(halt="flatten"))
    second = _node(store, strategies)
    second.start()
    assert second.state == "halted" and second.halt_mode == "halted"
    second.step()  # the flattening order fills at the next open
    t = second.traders["s"]
    assert t.engine.portfolio.qty["BTCUSDT"] == 0
    assert t.engine.risk.limits.halted
