"""Live commands: ``tradewind run NODE.yaml``, the kill switch (``halt`` / ``resume``), and
``db upgrade|downgrade``.

The kill switch works on a node running in another process through the database: the command
sets the node's halt mode (and writes the audit log); the node applies it at its next commit
(within ``commit_every`` bars) — cancelling its open orders, and closing positions with
``--flatten``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from tradewind.cli import app
from tradewind.cli_support import out_console as _out
from tradewind.cli_support import say, user_errors
from tradewind.errors import ConfigError
from tradewind.live.config import load_node_config
from tradewind.live.live_node import LiveNode
from tradewind.live.node import TradingNode, set_halt_mode
from tradewind.store import Store, open_store
from tradewind.store.models import AuditRow

_DB_HELP = "database URL (default: TRADEWIND_DATABASE_URL or sqlite:///tradewind.db)"

db_app = typer.Typer(help="The operational database: schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command(
    "run",
    epilog="Examples:\n\n  tradewind run node.yaml\n\n  tradewind run node.yaml --json",
)
def run_node(
    config: Annotated[Path, typer.Argument(help="node configuration (YAML)")],
    database_url: Annotated[str | None, typer.Option("--database-url", help=_DB_HELP)] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="print the final status as JSON")
    ] = False,
) -> None:
    """Start a trading node: restore its state, reconcile, and trade — the replayed feed on the
    paper venue until the data ends, or a real venue (``venue.kind`` ccxt) — until
    SIGINT/SIGTERM (open orders cancelled or kept, as the config's ``on_stop`` says)."""
    with user_errors():
        cfg = load_node_config(config)
        store = open_store(database_url or cfg.database_url)
        node = TradingNode(cfg, store) if cfg.venue.kind == "paper" else LiveNode(cfg, store)
        status = asyncio.run(node.run(install_signals=True))
        store.dispose()
    if json_out:
        say(_out(), json.dumps(dataclasses.asdict(status), indent=2))
    else:
        where = f"at bar {status.bar + 1} of {status.bars}"
        say(_out(), f"node {status.node_id}: {status.state} {where}")
        for sid, t in status.traders.items():
            say(_out(), f"  {sid}: equity {t['equity']:.2f}, position {t['position']:g}, "
                      f"open orders {t['open_orders']}")  # fmt: skip


def _set_halt(url: str | None, node_id: str, mode: str, reason: str, action: str) -> None:
    store = open_store(url)
    with store.session() as s:
        if not set_halt_mode(s, node_id, mode, reason):
            raise ConfigError(f"no node {node_id!r} in the database")
        s.add(AuditRow(actor=f"cli:{getpass.getuser()}", action=action, target=f"node:{node_id}",
                       detail={"mode": mode, "reason": reason}, source="cli"))  # fmt: skip
    store.dispose()


@app.command(epilog="Examples:\n\n  tradewind halt paper-1\n\n  tradewind halt paper-1 --flatten")
def halt(
    node_id: Annotated[str, typer.Argument(help="the node to halt")],
    flatten: Annotated[bool, typer.Option(help="also close every position")] = False,
    reduce_only: Annotated[
        bool, typer.Option("--reduce-only", help="allow only orders that shrink positions")
    ] = False,
    reason: Annotated[str, typer.Option(help="why (stored in the audit log)")] = "",
    database_url: Annotated[str | None, typer.Option("--database-url", help=_DB_HELP)] = None,
) -> None:
    """Kill switch: halt a node (cancel its open orders; optionally flatten) or make it
    reduce-only. A running node applies it at its next commit."""
    if flatten and reduce_only:
        raise typer.BadParameter("--flatten and --reduce-only exclude each other")
    mode = "flatten" if flatten else "reduce_only" if reduce_only else "halted"
    with user_errors():
        _set_halt(database_url, node_id, mode, reason, "halt" if mode != "reduce_only" else mode)
    say(_out(), f"node {node_id}: {mode.replace('_', '-')}")


@app.command(epilog="Examples:\n\n  tradewind resume paper-1")
def resume(
    node_id: Annotated[str, typer.Argument(help="the node to resume")],
    database_url: Annotated[str | None, typer.Option("--database-url", help=_DB_HELP)] = None,
) -> None:
    """Lift a halt or reduce-only mode (also the explicit override after a reconciliation
    discrepancy)."""
    with user_errors():
        _set_halt(database_url, node_id, "", "", "resume")
    say(_out(), f"node {node_id}: resumed")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
    database_url: Annotated[str | None, typer.Option("--database-url", help=_DB_HELP)] = None,
) -> None:
    """Apply the schema migrations up to REVISION (default: the newest)."""
    with user_errors():
        store = open_store(database_url, migrate=False)
        store.migrate(revision)
        say(_out(), f"database at revision {store.current_revision()}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="target revision ('base' empties it)")],
    database_url: Annotated[str | None, typer.Option("--database-url", help=_DB_HELP)] = None,
) -> None:
    """Revert the schema migrations down to REVISION."""
    with user_errors():
        store: Store = open_store(database_url, migrate=False)
        store.check()
        store.downgrade(revision)
        say(_out(), f"database at revision {store.current_revision() or 'base (empty)'}")
