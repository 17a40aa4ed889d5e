"""``tradewind serve``: the HTTP API, the WebSocket event stream and the trading nodes in ONE
asyncio loop (uvicorn's server and each node are tasks of it; uvloop and httptools when
installed).

Without ``--config`` it hosts one paper node replaying the embedded demo data (AAPL, daily,
2000-2013) with the built-in ``sma_cross`` at 20 bars a second, so the 13 years play in about
three minutes: something to watch on the dashboard at once. On the first start of an empty
database it creates the user ``admin`` and prints its generated password once (set
``TRADEWIND_API_ADMIN_PASSWORD`` to choose it instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import FastAPI

from tradewind.api import ApiSettings, configure_logging, create_app
from tradewind.api.accounts import ensure_admin
from tradewind.api.routes_trading import routers
from tradewind.api.ws import install_websocket, redact_query_tokens
from tradewind.cli import app
from tradewind.cli_support import out_console as _out
from tradewind.cli_support import say, user_errors
from tradewind.errors import ConfigError
from tradewind.live.config import NodeConfig, StrategyConfig, load_node_config
from tradewind.live.platform import Platform
from tradewind.store import Store, open_store

DEMO_BARS_PER_SECOND = 20
DAY_SECONDS = 86_400
_DB_HELP = "database URL (default: the node config's, TRADEWIND_DATABASE_URL or sqlite)"


def demo_node_config() -> NodeConfig:
    """The node ``serve`` hosts without a configuration: sma_cross on the daily demo data,
    ``DEMO_BARS_PER_SECOND`` bars a second (the replay speed is real seconds per bar)."""
    return NodeConfig(
        id="demo",
        speed=DAY_SECONDS * DEMO_BARS_PER_SECOND,
        strategies=[
            StrategyConfig(id="sma", strategy="sma_cross", params={"fast": 10, "slow": 30})
        ],
        cash=10_000,
    )


def build_app(
    store: Store,
    settings: ApiSettings,
    platform: Platform,
    *,
    ws_queue: int = 1000,
) -> FastAPI:
    """The full API of ``serve``: the foundation, the trading routers and the WebSocket."""
    api = create_app(store, settings, platform=platform, extra_routers=routers())
    install_websocket(api, queue_size=ws_queue)
    return api


class ApiServer(uvicorn.Server):
    """uvicorn's server, except that

    * after SIGINT/SIGTERM it does not raise the signal again once it has stopped (uvicorn
      does, which would kill the process before the nodes have stopped and committed state);
    * ``on_started`` runs once the sockets accept connections (so a banner that says "API on
      ..." is true when it is printed).
    """

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], None] | None = None):
        super().__init__(config)
        self.on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.on_started is not None:
            self.on_started()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything starts: a taken port is a clear error
    naming the address, not a log line from inside uvicorn."""
    try:
        return socket.create_server((host, port), backlog=2048)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} "
            "(choose another with --port, or stop what uses it)"
        ) from exc


def server_config(api: FastAPI, host: str, port: int) -> uvicorn.Config:
    """uvicorn for one process and one loop: httptools when installed; no access log of its
    own (the app writes a structured one without query strings)."""
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:
        http = "h11"
    return uvicorn.Config(
        api,
        host=host,
        port=port,
        http=http,
        lifespan="off",
        access_log=False,
        log_config=None,
        server_header=False,
        ws_max_size=1 << 20,
    )


async def serve_until_stopped(
    server: uvicorn.Server,
    platform: Platform,
    node_ids: Sequence[str],
    sockets: list[socket.socket] | None = None,
) -> None:
    """Start the nodes, serve until SIGINT/SIGTERM (uvicorn's handlers), then stop the nodes
    (each after its current bar, state committed) and the backtest worker."""
    try:
        for node_id in node_ids:
            await platform.start_node(node_id)
        # what exists now lives as long as the process: keep it out of every GC pass (shorter
        # pauses, a lower p99 latency)
        gc.collect()
        gc.freeze()
        await server.serve(sockets=sockets)
    finally:
        await platform.close()


def run_loop(main: Any) -> None:
    """Run ``main`` on uvloop when installed, else asyncio's default loop."""
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


@app.command(
    "serve",
    epilog="Examples:\n\n  tradewind serve\n\n  tradewind serve --config node.yaml --port 8080"
    "\n\n  tradewind serve --no-node --json-logs",
)
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    config: Annotated[
        Path | None, typer.Option("--config", help="node configuration (YAML); default: demo")
    ] = None,
    database_url: Annotated[str | None, typer.Option("--database-url", help=_DB_HELP)] = None,
    no_node: Annotated[bool, typer.Option("--no-node", help="serve the API only")] = False,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="JSON log lines")] = False,
    reports_dir: Annotated[
        Path, typer.Option("--reports-dir", help="where backtest reports are written")
    ] = Path("reports"),
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="directory API backtests may read data files from"),
    ] = None,
) -> None:
    """Run the API (with its docs at /api/v1/docs), the WebSocket event stream and a paper
    trading node in one process, until SIGINT/SIGTERM."""
    with user_errors():
        configure_logging(json=json_logs)
        redact_query_tokens()
        node_config = (
            None
            if no_node
            else (load_node_config(config) if config is not None else demo_node_config())
        )
        url = database_url or (node_config.database_url if node_config is not None else None)
        sock = listen(host, port)  # before the admin is created: its password is shown once
        port = sock.getsockname()[1]  # the real one when --port 0
        store = open_store(url)
        settings = ApiSettings()
        password = ensure_admin(store, settings)
        default_speed = node_config.speed if node_config is not None else 0.0
        platform = Platform(
            store, reports_dir=reports_dir, data_dir=data_dir, default_speed=default_speed
        )
        node_ids = []
        if node_config is not None:
            platform.add_node(node_config)
            node_ids.append(node_config.id)
        out = _out()
        if password is not None:
            name = settings.admin_user or "admin"
            say(out, f"created user {name!r} with the one-time password: {password}")
            say(out, "(shown only now; change it with PATCH /api/v1/users/" + name + ")")

        def started() -> None:
            say(
                out,
                f"Tradewind API on http://{host}:{port}/api/v1/docs "
                f"(WebSocket ws://{host}:{port}/api/v1/ws); Ctrl+C stops",
            )

        server = ApiServer(server_config(build_app(store, settings, platform), host, port), started)
        run_loop(serve_until_stopped(server, platform, node_ids, [sock]))
        store.dispose()
