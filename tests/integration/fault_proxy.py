# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fault-injecting HTTPS proxy on loopback, between the modules and a real server of the sandbox.

It terminates TLS with the upstream server's own certificate and key (so the kubeconfig's CA verifies it as the
server), forwards each request over a TLS connection of its own, and applies the faults it was told to the
requests they match: connection resets before the request reaches the server or after the server applied it,
error statuses in place of the server's answer (or after it), answers slower than the client's timeout, truncated
bodies, a 409 on a write. Every request is logged with the fault it met and whether the server saw it, so a test
can prove what reached the cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import socket
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Literal

import yaml

FaultKind = Literal[
    # the connection is reset (RST) before the request is forwarded: the server never sees it
    "reset_before",
    # the request is forwarded and answered, then the connection is reset: the server applied it, the client
    # never hears
    "reset_after",
    # ``status`` is answered in place of forwarding (a gateway or an overloaded server)
    "status",
    # the request is forwarded and applied, then ``status`` is answered instead of the server's answer
    "status_after",
    # ``delay`` seconds pass before the request is forwarded
    "slow",
    # the request is forwarded and applied, and the answer held back ``delay`` seconds
    "slow_after",
    # the request is forwarded and applied; half of the answer's body is sent, then the connection is reset
    "truncate",
    # a 409 Conflict is answered in place of forwarding, as the API server answers a stale resourceVersion
    "conflict",
]
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "accept-encoding", "te", "upgrade"}
)


@dataclass
class Fault:
    """One fault, applied to the ``times`` requests after the first ``skip`` that match ``methods`` and
    ``path_contains``."""

    kind: FaultKind
    methods: frozenset[str] = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
    path_contains: str = ""
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    times: int = 1
    skip: int = 0
    seen: int = field(default=0, init=False)
    applied: int = field(default=0, init=False)

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and self.path_contains in path

    def take(self) -> bool:
        """Whether this matching request gets the fault (counts it either way)."""
        self.seen += 1
        if self.seen <= self.skip or self.applied >= self.times:
            return False
        self.applied += 1
        return True


@dataclass(frozen=True)
class ProxyEvent:
    """One request through the proxy: ``forwarded`` when the server received it, ``upstream_status`` its answer."""

    at: float
    method: str
    path: str
    fault: FaultKind | None
    forwarded: bool
    upstream_status: int | None
    client_status: int | None  # what the client was answered; None when it got no answer


class FaultProxy:
    """``with FaultProxy(upstream, cert=..., key=..., ca=...) as proxy: proxy.inject(Fault(...))``."""

    def __init__(self, upstream: str, *, cert: str, key: str, ca: str) -> None:
        parts = urllib.parse.urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 443
        self._upstream_context = ssl.create_default_context(cafile=ca)
        self._server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server_context.load_cert_chain(cert, key)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.events: list[ProxyEvent] = []
        self._server = _Server(("127.0.0.1", 0), _Handler, proxy=self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def inject(self, *faults: Fault) -> None:
        """Replace the faults (and forget the log): the next requests meet fresh copies of these, so one
        ``Fault`` can serve several runs."""
        with self._lock:
            self._faults = [dataclasses.replace(fault) for fault in faults]  # counters start again at 0
            self.events = []

    def faults_applied(self) -> int:
        with self._lock:
            return sum(fault.applied for fault in self._faults)

    def requests(self, method: str | None = None, *, forwarded: bool | None = None) -> list[ProxyEvent]:
        with self._lock:
            return [
                event
                for event in self.events
                if (method is None or event.method == method) and (forwarded is None or event.forwarded is forwarded)
            ]

    def kubeconfig(self, source: str | Path, dest: str | Path) -> str:
        """A copy of kubeconfig ``source`` whose clusters point at this proxy (same CA: the proxy presents the
        server's own certificate)."""
        config = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        for cluster in config.get("clusters") or []:
            cluster["cluster"]["server"] = self.url
        path = Path(dest)
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return str(path)

    # -- used by the handler -------------------------------------------------------------------------------------

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path) and fault.take():
                    return fault
        return None

    def _record(self, event: ProxyEvent) -> None:
        with self._lock:
            self.events.append(event)

    def _upstream(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(
            self.upstream_host, self.upstream_port, context=self._upstream_context, timeout=60
        )


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], *, proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens in the connection's own thread, not in the accepting one.
        try:
            tls = self.proxy._server_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.RequestHandlerClass(tls, client_address, self)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self._upstream_connection: http.client.HTTPSConnection | None = None

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        if self._upstream_connection is not None:
            self._upstream_connection.close()

    def do_GET(self) -> None:
        self._proxy_request()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _proxy_request(self) -> None:
        try:
            self._serve_one()
        except OSError:  # the client gave up (a timeout) or a reset of ours closed the socket
            self.close_connection = True

    def _serve_one(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        method, path = self.command, self.path
        fault = proxy._fault_for(method, path)
        kind = fault.kind if fault else None

        def record(*, forwarded: bool, upstream: int | None, answered: int | None) -> None:
            proxy._record(ProxyEvent(time.monotonic(), method, path, kind, forwarded, upstream, answered))

        if fault is not None and fault.kind == "reset_before":
            record(forwarded=False, upstream=None, answered=None)
            self._reset()
            return
        if fault is not None and fault.kind == "status":
            record(forwarded=False, upstream=None, answered=fault.status)
            self._answer_status(fault.status, fault.retry_after, path)
            return
        if fault is not None and fault.kind == "conflict":
            record(forwarded=False, upstream=None, answered=409)
            self._answer_conflict(path)
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        try:
            status, reason, headers, data = self._forward(method, path, body)
        except (OSError, http.client.HTTPException):
            record(forwarded=True, upstream=None, answered=None)
            self._reset()
            return
        if fault is None or fault.kind == "slow":
            record(forwarded=True, upstream=status, answered=status)
            self._answer(status, reason, headers, data)
        elif fault.kind == "reset_after":
            record(forwarded=True, upstream=status, answered=None)
            self._reset()
        elif fault.kind == "status_after":
            record(forwarded=True, upstream=status, answered=fault.status)
            self._answer_status(fault.status, fault.retry_after, path)
        elif fault.kind == "slow_after":
            record(forwarded=True, upstream=status, answered=status)
            time.sleep(fault.delay)
            self._answer(status, reason, headers, data)  # the client has usually given up by now
        elif fault.kind == "truncate":
            record(forwarded=True, upstream=status, answered=None)
            self._answer(status, reason, headers, data, truncate=True)

    def _forward(self, method: str, path: str, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        if self._upstream_connection is None:
            self._upstream_connection = self.server.proxy._upstream()
        connection = self._upstream_connection
        headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        try:
            connection.request(
                method, path, body=body if body or method in ("POST", "PUT", "PATCH") else None, headers=headers
            )
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self._upstream_connection = None
            raise
        kept = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
        return response.status, response.reason, kept, data

    def _answer(
        self, status: int, reason: str, headers: Iterable[tuple[str, str]], data: bytes, *, truncate: bool = False
    ) -> None:
        self.send_response(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._reset()
            return
        self.wfile.write(data)

    def _answer_status(self, status: int, retry_after: str | None, path: str) -> None:
        reasons = {429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": f"injected by the fault proxy: {status} for {path.split('?', 1)[0]}",
            "reason": reasons.get(status, ""),
            "code": status,
        }
        headers = [("Content-Type", "application/json")]
        if retry_after is not None:
            headers.append(("Retry-After", retry_after))
        self._answer(status, http.client.responses.get(status, ""), headers, json.dumps(body).encode())

    def _answer_conflict(self, path: str) -> None:
        name = path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": f'Operation cannot be fulfilled on object "{name}": the object has been modified; please '
            "apply your changes to the latest version and try again",
            "reason": "Conflict",
            "details": {"name": name},
            "code": 409,
        }
        self._answer(409, "Conflict", [("Content-Type", "application/json")], json.dumps(body).encode())

    def _reset(self) -> None:
        """Close with a TCP reset, not a clean shutdown: what a crashed server or a dropped route looks like."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.close()
        self.close_connection = True


@contextlib.contextmanager
def fault_proxy(upstream: str, *, cert: str, key: str, ca: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream, cert=cert, key=key, ca=ca) as proxy:
        yield proxy
