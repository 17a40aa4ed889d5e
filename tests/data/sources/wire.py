"""A real HTTP server on 127.0.0.1 that serves a provider's documented response shapes.

Tests register a handler per path; the handler sees the request and returns a ``Reply``
(status, JSON or raw body, headers). Every request is recorded for assertions. Used by every
source's tests (success, pagination/resume, error bodies, HTTP 429 with rate-limit headers).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes/str
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


class WireServer:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        server = self

        class _H(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                req = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                server.requests.append(req)
                handler = server.routes.get(parts.path)
                reply = handler(req) if handler else Reply(404, {"error": f"no route {parts.path}"})
                body = reply.body
                if isinstance(body, str):
                    data = body.encode()
                    ctype = "text/plain"
                elif isinstance(body, bytes):
                    data, ctype = body, "application/octet-stream"
                else:
                    data, ctype = json.dumps(body).encode(), "application/json"
                self.send_response(reply.status)
                headers = {"Content-Type": ctype, **reply.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def sequence(self, path: str, replies: list[Reply], then: Handler | None = None) -> None:
        """Serve ``replies`` in order on ``path``, then ``then`` (or the last reply) forever."""
        pending = list(replies)

        def handler(req: Request) -> Reply:
            if pending:
                return pending.pop(0)
            return then(req) if then else replies[-1]

        self.routes[path] = handler

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def start(self) -> WireServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def serve() -> Iterator[WireServer]:
    server = WireServer().start()
    try:
        yield server
    finally:
        server.stop()
