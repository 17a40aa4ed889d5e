"""API speed: ``GET /api/v1/portfolio`` throughput and latency, and WebSocket fan-out.

Run: ``uv run python benchmarks/bench_api.py [--seconds 10] [--connections 8,32] [--json]``.

The server is what ``tradewind serve`` runs (``cli_serve.build_app``: every middleware, the
structured access log as JSON lines, uvloop + httptools, the demo node replaying at 20 bars a
second in the same loop), started as a separate process on 127.0.0.1 over a fresh SQLite file,
with an API key (scope read) for the requests.

1. HTTP: for each level of ``--connections``, that many keep-alive connections each send
   ``GET /api/v1/portfolio`` back to back for ``--seconds``; requests/s and p50/p99 latency.
   Two load generators: a minimal asyncio HTTP/1.1 client (cheap, so the server is what is
   measured) and ``httpx.AsyncClient`` (the common tool, itself CPU-bound on a small machine).
   Targets: >= 2,000 req/s, p99 <= 25 ms.
2. WebSocket: ``--ws-clients`` clients subscribe to ``bars``; the server (no node) publishes
   ``--rate`` events/s through ``Platform.publish`` for ``--seconds``; each client counts what it
   receives, and the server's own counters give sent and dropped. Run with one event per frame
   and with ``batch_ms`` 20. Target: 0 drops at 1,000 events/s to 100 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# --- server process -------------------------------------------------------------------------------


def serve(args: argparse.Namespace) -> None:
    """The server side (a child process): ``serve`` as the CLI builds it, plus an optional
    publisher for the WebSocket run."""
    from tradewind.api import ApiSettings, configure_logging
    from tradewind.cli_serve import (
        ApiServer,
        build_app,
        demo_node_config,
        run_loop,
        serve_until_stopped,
        server_config,
    )
    from tradewind.live.platform import Platform
    from tradewind.store import Store

    configure_logging(json=True)  # stderr, which the parent discards: the cost is still paid
    store = Store(args.db)
    settings = ApiSettings(jwt_secret="bench-" + "x" * 40, rate_limit_per_minute=0)
    platform = Platform(store, reports_dir=Path(args.db_dir) / "reports")
    nodes = []
    if args.rate == 0:
        platform.add_node(demo_node_config())
        nodes.append("demo")
    api = build_app(store, settings, platform, ws_queue=args.ws_queue)
    server = ApiServer(server_config(api, "127.0.0.1", args.port))

    async def main() -> None:
        if args.rate:
            asyncio.get_running_loop().create_task(publish(platform, server, args))
        await serve_until_stopped(server, platform, nodes)

    run_loop(main())


async def publish(platform: Any, server: Any, args: argparse.Namespace) -> None:
    """Wait for the subscribers, publish ``rate`` events/s (in 10 ms ticks) for ``seconds``,
    then write the server's counters to ``--stats``."""
    while len(platform.subscriptions()) < args.ws_clients:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    total = int(args.rate * args.seconds)
    per_tick = max(1, args.rate // 100)
    start = time.perf_counter()
    sent = 0
    while sent < total:
        for _ in range(min(per_tick, total - sent)):
            platform.publish(
                "bars",
                {"seq": sent, "t": time.time(), "symbol": "BENCH", "close": 100.0 + sent % 7},
            )
            sent += 1
        next_tick = start + sent / args.rate
        await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))
    elapsed = time.perf_counter() - start
    await asyncio.sleep(3)  # let the writers drain
    subs = platform.subscriptions()
    Path(args.stats).write_text(
        json.dumps(
            {
                "published": sent,
                "publish_seconds": elapsed,
                "delivered": platform.delivered,
                "dropped": platform.dropped,
                "subscribers_left": len(subs),
            }
        )
    )


# --- load generators ------------------------------------------------------------------------------


async def raw_client(
    port: int, path: str, headers: dict[str, str], until: float, lat: list[float]
) -> int:
    """One keep-alive connection sending requests back to back; returns the error count."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode()
    errors = 0
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        writer.write(request)
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        lat.append(time.perf_counter() - t0)
        if b" 200 " not in status_line:
            errors += 1
    writer.close()
    return errors


async def httpx_client(
    port: int, path: str, headers: dict[str, str], until: float, lat: list[float], client: Any
) -> int:
    errors = 0
    url = f"http://127.0.0.1:{port}{path}"
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        r = await client.get(url, headers=headers)
        lat.append(time.perf_counter() - t0)
        errors += r.status_code != 200
    return errors


async def http_load(kind: str, port: int, key: str, seconds: float, conns: int) -> dict[str, Any]:
    """``conns`` connections for a 1 s warm-up, then ``seconds`` measured."""
    import httpx

    headers = {"X-API-Key": key}
    path = "/api/v1/portfolio"
    lat: list[float] = []
    clients = [httpx.AsyncClient(timeout=30) for _ in range(conns)] if kind == "httpx" else []
    try:
        for span, sink in ((1.0, []), (seconds, lat)):
            until = time.perf_counter() + span
            t0 = time.perf_counter()
            if kind == "raw":
                tasks = [raw_client(port, path, headers, until, sink) for _ in range(conns)]
            else:
                tasks = [httpx_client(port, path, headers, until, sink, c) for c in clients]
            errors = sum(await asyncio.gather(*tasks))
            elapsed = time.perf_counter() - t0
    finally:
        for c in clients:
            await c.aclose()
    lat.sort()
    return {
        "client": kind,
        "connections": conns,
        "requests": len(lat),
        "errors": errors,
        "req_per_s": round(len(lat) / elapsed),
        "p50_ms": round(1000 * lat[len(lat) // 2], 2),
        "p99_ms": round(1000 * lat[int(len(lat) * 0.99)], 2),
        "max_ms": round(1000 * lat[-1], 2),
    }


async def ws_load(
    port: int, key: str, clients: int, expected: int, batch_ms: int, timeout: float
) -> dict[str, Any]:
    import websockets

    counts = [0] * clients
    latencies: list[float] = []
    closes: list[str] = []

    async def one(i: int) -> None:
        url = f"ws://127.0.0.1:{port}/api/v1/ws?token={key}"
        async with websockets.connect(url, max_queue=None) as ws:
            await ws.send(json.dumps({"op": "subscribe", "topics": ["bars"], "batch_ms": batch_ms}))
            json.loads(await ws.recv())
            try:
                while counts[i] < expected:
                    msg = json.loads(await ws.recv())
                    events = msg if isinstance(msg, list) else [msg]
                    counts[i] += len(events)
                    if i % 10 == 0:  # sample latency on a tenth of the clients
                        now = time.time()
                        latencies.extend(now - e["data"]["t"] for e in events)
            except websockets.ConnectionClosed as exc:
                closes.append(
                    f"{exc.rcvd.code if exc.rcvd else '?'} {exc.rcvd.reason if exc.rcvd else ''}"
                )

    await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(clients))), timeout)
    latencies.sort()
    return {
        "received": sum(counts),
        "min_per_client": min(counts),
        "closed_by_server": closes,
        "latency_p50_ms": round(1000 * latencies[len(latencies) // 2], 2) if latencies else None,
        "latency_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2)
        if latencies
        else None,
    }


# --- orchestration --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_dir: str, db: str, port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        __file__,
        "--serve",
        "--db",
        db,
        "--db-dir",
        db_dir,
        "--port",
        str(port),
        *extra,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=db_dir)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the benchmark server did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


def provision(db: str) -> str:
    """A migrated database with an admin and a read-scope API key (returned)."""
    from tradewind.api import accounts
    from tradewind.store import Store

    store = Store(db)
    store.migrate()
    accounts.create_user(store, "bench", "bench-password-1", "admin")
    _row, key = accounts.create_api_key(store, "bench", "bench", ["read"])
    store.dispose()
    return key


def run_loop(main: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(main)
    except ImportError:
        return asyncio.run(main)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--connections", default="8,32", help="comma-separated levels")
    ap.add_argument("--ws-clients", type=int, default=100)
    ap.add_argument("--rate", type=int, default=1000, help="WebSocket events per second")
    ap.add_argument("--ws-queue", type=int, default=1000)
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--skip-ws", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--db-dir", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--stats", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args)
        return 0

    results: dict[str, Any] = {"cpus": os.cpu_count(), "http": [], "ws": []}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_http:
            db = f"sqlite:///{tmp}/http.db"
            key = provision(db)
            port = free_port()
            proc = start_server(tmp, db, port, ["--rate", "0"])
            try:
                time.sleep(1.0)  # the node starts replaying
                for conns in (int(c) for c in args.connections.split(",")):
                    for kind in ("raw", "httpx"):
                        load = http_load(kind, port, key, args.seconds, conns)
                        results["http"].append(run_loop(load))
            finally:
                stop_server(proc)
        if not args.skip_ws:
            for batch_ms in (0, 20):
                db = f"sqlite:///{tmp}/ws{batch_ms}.db"
                key = provision(db)
                port = free_port()
                stats = Path(tmp) / f"stats{batch_ms}.json"
                extra = [
                    "--rate",
                    str(args.rate),
                    "--seconds",
                    str(args.seconds),
                    "--ws-clients",
                    str(args.ws_clients),
                    "--stats",
                    str(stats),
                    "--ws-queue",
                    str(args.ws_queue),
                ]
                proc = start_server(tmp, db, port, extra)
                expected = int(args.rate * args.seconds)
                try:
                    got = run_loop(
                        ws_load(port, key, args.ws_clients, expected, batch_ms, args.seconds + 60)
                    )
                    deadline = time.monotonic() + 30
                    while not stats.exists() and time.monotonic() < deadline:
                        time.sleep(0.2)
                    server = json.loads(stats.read_text()) if stats.exists() else {}
                finally:
                    stop_server(proc)
                results["ws"].append(
                    {
                        "batch_ms": batch_ms,
                        "clients": args.ws_clients,
                        "rate": args.rate,
                        "expected_per_client": expected,
                        **got,
                        "server": server,
                    }
                )
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"GET /api/v1/portfolio ({results['cpus']} CPUs; server and client on this machine)")
    print(
        f"{'client':8} {'conns':>5} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'errors':>6}"
    )
    for r in results["http"]:
        print(
            f"{r['client']:8} {r['connections']:>5} {r['requests']:>9} {r['req_per_s']:>7} "
            f"{r['p50_ms']:>7} {r['p99_ms']:>7} {r['errors']:>6}"
        )
    print("target: >= 2000 req/s, p99 <= 25 ms\n")
    print("WebSocket fan-out")
    print(
        f"{'batch_ms':>8} {'clients':>7} {'events/s':>8} {'published':>9} {'received':>9} "
        f"{'expected':>9} {'dropped':>7} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for w in results["ws"]:
        s = w["server"]
        print(
            f"{w['batch_ms']:>8} {w['clients']:>7} {w['rate']:>8} {s.get('published', '?'):>9} "
            f"{w['received']:>9} {w['expected_per_client'] * w['clients']:>9} "
            f"{s.get('dropped', '?'):>7} {w['latency_p50_ms']!s:>7} {w['latency_p99_ms']!s:>7}"
        )
        if w["closed_by_server"]:
            print(
                f"   closed by the server: {len(w['closed_by_server'])}: {w['closed_by_server'][0]}"
            )
    print("target: 0 dropped at 1000 events/s to 100 clients")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
