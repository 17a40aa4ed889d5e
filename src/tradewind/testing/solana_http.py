"""A tiny threaded HTTP/1.1 server on 127.0.0.1 for the Solana and Jupiter stand-ins.

The stand-ins answer real HTTP (so the unmodified solana-py / httpx clients talk to them), and
need a few things a framework makes awkward: closing the connection *after* the request was
processed (an ambiguous send) and answering after the client's timeout. A handler returns a
``Reply``; ``Reply.drop()`` closes the connection without a response.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False  # close the connection without answering
    delay: float = 0.0  # answer only after this many seconds

    @classmethod
    def drop(cls, delay: float = 0.0) -> Reply:
        return cls(close=True, delay=delay)


Handler = Callable[[Request], Reply]


class JsonHttpServer:
    """Serve ``handler`` on 127.0.0.1 at an ephemeral port from a background thread."""

    def __init__(self, handler: Handler) -> None:
        outer = self
        self._handler = handler

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = {k: v[-1] for k, v in parse_qs(split.query).items()}
                req = Request(
                    self.command,
                    split.path,
                    query,
                    body,
                    {k.lower(): v for k, v in self.headers.items()},
                )
                try:
                    reply = outer._handler(req)
                except Exception as exc:  # a stand-in bug: answer 500 with the reason
                    reply = Reply(500, {"error": f"{type(exc).__name__}: {exc}"})
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.close:
                    self.close_connection = True
                    return
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve  # noqa: N815
            do_POST = _serve  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
