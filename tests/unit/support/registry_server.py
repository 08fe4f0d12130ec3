"""A Docker Registry v2 stand-in for the registry check's tests: an HTTP or HTTPS server on 127.0.0.1, in a thread,
that records every request it receives and answers with a route function of the test's. Its answers may also be
streamed in chunks, as an API server sends a watch (``Streamed``), for the watch's tests; with ``keep_alive`` it
serves many requests on one connection, as an API server does (``image_stream_api.py``)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Streamed:
    """A body sent in chunks (``Transfer-Encoding: chunked``), each flushed as it goes, as an API server sends a
    watch. Then the answer ends (``"end"``), the connection is cut in the middle of a chunk (``"drop"``), or it is
    held open without a word (``"hold"``) until ``release`` is set or the server stops."""

    chunks: list[bytes]
    ending: Literal["end", "drop", "hold"] = "end"
    release: threading.Event = field(default_factory=threading.Event)


Answer = tuple[int, dict[str, str], bytes | Streamed]  # status, headers, body
ISSUED_TOKEN = "issued-token"  # what the stand-in token service issues unless told otherwise


class _Server(ThreadingHTTPServer):
    # socketserver's backlog of 5 drops the sixth of many connections opened at once (a client sending requests side
    # by side), which the client's TCP then sends again only a second later
    request_queue_size = 64


@dataclass
class RecordingRegistry:
    """An HTTP(S) server on 127.0.0.1 that records every request and answers with ``route(seen)``; HTTPS when a
    server ``context`` is given; on ``port`` when one is given (a server started again where another stopped);
    HTTP/1.1 with connections kept open between requests when ``keep_alive``. Use it as a context manager."""

    route: Callable[[Seen], Answer]
    context: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    keep_alive: bool = False

    def __post_init__(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if recorder.keep_alive else "HTTP/1.0"
            # the status line and headers go out before the body: with Nagle's algorithm, a connection kept open
            # would wait for the client's delayed ACK (40 ms) before each answer's body
            disable_nagle_algorithm = True

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
                recorder.seen.append(seen)
                status, headers, body = recorder.route(seen)
                self.send_response(status)
                if isinstance(body, Streamed):
                    self._stream(headers, body)
                    return
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _stream(self, headers: dict[str, str], body: Streamed) -> None:
                for name, value in {"Transfer-Encoding": "chunked", **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                for chunk in body.chunks:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                self.close_connection = True
                if body.ending == "end":
                    self.wfile.write(b"0\r\n\r\n")
                elif body.ending == "drop":
                    self.wfile.write(b'40\r\n{"type":')
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    while not body.release.wait(0.05) and not recorder.stopping.is_set():
                        pass

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", self.port), Handler)
        if self.context is not None:
            self._server.socket = self.context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.scheme = "https" if self.context is not None else "http"
        self.netloc = f"127.0.0.1:{self.port}"
        self.base = f"{self.scheme}://{self.netloc}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="recording-registry", daemon=True
        )

    def __enter__(self) -> RecordingRegistry:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def authorizations(self) -> list[str]:
        """Every Authorization header received, in order (requests without one are left out)."""
        return [value for seen in self.seen for name, value in seen.headers.items() if name.lower() == "authorization"]


def basic_auth_registry(authorization: str) -> Callable[[Seen], Answer]:
    """A route: ``/v2/`` answers 200 to the ``authorization`` header value, and a Basic challenge otherwise."""

    def route(seen: Seen) -> Answer:
        if seen.headers.get("Authorization") == authorization:
            return 200, {}, b"{}"
        return 401, {"WWW-Authenticate": 'Basic realm="registry"'}, b""

    return route


def bearer_registry(realm: str, token: str = ISSUED_TOKEN) -> Callable[[Seen], Answer]:
    """A route: ``/v2/`` answers 200 to ``Bearer <token>``, and a Bearer challenge naming ``realm`` otherwise."""

    def route(seen: Seen) -> Answer:
        if seen.headers.get("Authorization") == f"Bearer {token}":
            return 200, {}, b"{}"
        return 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="test-registry"'}, b""

    return route


def token_service_for(authorization: str, token: str = ISSUED_TOKEN) -> Callable[[Seen], Answer]:
    """A route: a token service that issues ``token`` to the ``authorization`` header value, and 401 otherwise."""

    def route(seen: Seen) -> Answer:
        if seen.headers.get("Authorization") == authorization:
            return 200, {"Content-Type": "application/json"}, json.dumps({"token": token}).encode()
        return 401, {}, b""

    return route
