"""A real forward HTTP proxy on 127.0.0.1 for the tests: CONNECT tunnels (HTTPS) and absolute-form requests (plain
HTTP), each in a thread of its own, recording every request line and Proxy-Authorization it receives."""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from urllib.parse import urlsplit

_RELAY_IDLE_SECONDS = 30
_PROXY_ONLY_HEADERS = ("proxy-authorization", "proxy-connection", "connection")


class ForwardProxy:
    """``requests`` holds each request line (``CONNECT 127.0.0.1:8443 HTTP/1.0``, ``GET http://h:80/v2/ HTTP/1.1``),
    ``authorizations`` the Proxy-Authorization of each (``None`` when absent). With ``require_authorization``, a
    request without exactly that Proxy-Authorization value is answered 407. Use it as a context manager (or
    ``close()`` it)."""

    def __init__(self, *, require_authorization: str | None = None) -> None:
        self.requests: list[str] = []
        self.authorizations: list[str | None] = []
        self.require_authorization = require_authorization
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="forward-proxy", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> ForwardProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(_RELAY_IDLE_SECONDS)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                return
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines if ":" in line]
        authorization = next((value for name, value in headers if name.lower() == "proxy-authorization"), None)
        self.requests.append(request_line)
        self.authorizations.append(authorization)
        if self.require_authorization is not None and authorization != self.require_authorization:
            client.sendall(
                b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test-proxy"\r\n'
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        method, target, version = request_line.split(" ", 2)
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            upstream.sendall(rest)
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            upstream = socket.create_connection((parts.hostname, parts.port or 80), timeout=5)
            origin_form = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            forwarded = [f"{method} {origin_form} {version}"]
            forwarded += [f"{name}: {value}" for name, value in headers if name.lower() not in _PROXY_ONLY_HEADERS]
            forwarded.append("Connection: close")
            upstream.sendall(("\r\n".join(forwarded) + "\r\n\r\n").encode("latin-1") + rest)
        with upstream:
            _relay(client, upstream)


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes or both stay quiet for a while."""
    sockets = [client, upstream]
    while True:
        readable = select.select(sockets, [], [], _RELAY_IDLE_SECONDS)[0]
        if not readable:
            return
        for source in readable:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            (upstream if source is client else client).sendall(data)
