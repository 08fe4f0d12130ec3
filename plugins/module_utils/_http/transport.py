# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP transport of the collection, on the standard library, for the API client (``_kube/client``) and the
registry check (``_registry/check``): a connection to host:port, directly or through an HTTP proxy (a CONNECT tunnel
for HTTPS, absolute-form request targets for plain HTTP), TLS contexts, timeouts, answers read whole or line by line
as they arrive (watches), and failures reported with the phase they happened in for the retry rules
(``_http/retry``).

Redirects are never followed: ``http.client`` does not follow them and nothing here does, so a request reaches only
the host its caller named. Which proxy a request uses is decided by the caller (``_http/proxy``).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import socket
import ssl
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._http.proxy import ProxyEndpoint
    from ansible_collections.openshift_ops.images.plugins.module_utils._http.retry import Phase


def basic_auth_value(username: str, password: str) -> str:
    """The credentials of a ``Basic`` Authorization or Proxy-Authorization header; a secret."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


# ---------------------------------------------------------------------------------------------------------------
# TLS


def tls_context(*, verify: bool = True, ca_data: str | None = None, ca_file: str | None = None) -> ssl.SSLContext:
    """A client TLS context that trusts only ``ca_data`` (PEM text) or ``ca_file`` when one is given, else the
    system trust store; ``verify=False`` turns the certificate and host name checks off. Bad CA material raises
    ``ssl.SSLError``, ``ValueError`` or ``OSError`` for the caller to explain."""
    context = ssl.create_default_context(cafile=ca_file or None, cadata=ca_data or None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def load_client_certificate(context: ssl.SSLContext, certificate_pem: str, key_pem: str) -> None:
    """Present a client certificate given as PEM text. ``ssl`` reads key pairs from files only: this one goes
    through a private (0600) temporary file that is removed before this returns. Raises ``ssl.SSLError`` when the
    PEM is not valid or the key does not belong to the certificate."""
    descriptor, path = tempfile.mkstemp(prefix="openshift_ops-", suffix=".pem")  # created 0600
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(certificate_pem.rstrip("\n") + "\n" + key_pem)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)


# ---------------------------------------------------------------------------------------------------------------
# Connections


class Route(NamedTuple):
    """Where the requests to one server go: straight to ``host:port``, or through ``proxy``."""

    scheme: str  # "https" or "http"
    host: str  # without brackets
    port: int
    netloc: str  # host[:port] as the server URL writes it
    proxy: ProxyEndpoint | None = None

    def target(self, path: str) -> str:
        """The request target for ``path`` (with its query): absolute-form for plain HTTP through a proxy, which
        needs the whole URL; origin-form otherwise (a CONNECT tunnel carries origin-form requests)."""
        return f"http://{self.netloc}{path}" if self.proxy is not None and self.scheme != "https" else path

    def proxy_headers(self) -> list[tuple[str, str]]:
        """Proxy-Authorization for each plain-HTTP request through an authenticating proxy. Through a tunnel it is
        sent with the CONNECT only, so the server behind the proxy never receives it."""
        if self.proxy is None or self.scheme == "https" or not self.proxy.authorization:
            return []
        return [("Proxy-Authorization", self.proxy.authorization)]

    def connection(
        self,
        *,
        timeout: float,
        context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        on_connect: Callable[[], None] | None = None,
    ) -> http.client.HTTPConnection:
        """A new, unconnected connection: to the proxy when there is one (with a CONNECT tunnel to host:port for
        HTTPS), else to host:port. HTTPS needs ``context``; ``server_hostname`` is the name the certificate must hold
        when it is not the host (a kubeconfig's ``tls-server-name``); ``on_connect`` is called after each connect
        (and TLS handshake)."""
        connect_host, connect_port = (self.proxy.host, self.proxy.port) if self.proxy else (self.host, self.port)
        if self.scheme != "https":
            return _HTTPConnection(connect_host, connect_port, timeout=timeout, on_connect=on_connect)
        if context is None:
            raise ValueError("an HTTPS route needs a TLS context")
        connection = _HTTPSConnection(
            connect_host,
            connect_port,
            timeout=timeout,
            context=context,
            server_hostname=server_hostname,
            on_connect=on_connect,
        )
        if self.proxy is not None:
            authorization = self.proxy.authorization
            connection.set_tunnel(
                self.host, self.port, headers={"Proxy-Authorization": authorization} if authorization else None
            )
        return connection


class TunnelRefusedError(OSError):
    """The proxy answered the CONNECT with something other than 200; ``answer`` is its status line's rest."""

    def __init__(self, answer: str) -> None:
        super().__init__(f"the proxy refused the tunnel: {answer}")
        self.answer = answer


# http.client tells a refused CONNECT apart from other socket errors only by this message.
_TUNNEL_FAILED = "Tunnel connection failed"


class _HTTPSConnection(http.client.HTTPSConnection):
    """HTTPSConnection that verifies ``server_hostname`` when one is given and reports each connect."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        context: ssl.SSLContext,
        server_hostname: str | None,
        on_connect: Callable[[], None] | None,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_hostname = server_hostname
        self._on_connect = on_connect
        self._tls_context = context

    def connect(self) -> None:
        try:
            http.client.HTTPConnection.connect(self)  # TCP, and the CONNECT tunnel when a proxy is set
        except OSError as error:
            if str(error).startswith(_TUNNEL_FAILED):
                raise TunnelRefusedError(str(error).split(":", 1)[-1].strip()) from None
            raise
        name = self._server_hostname or getattr(self, "_tunnel_host", None) or self.host
        self.sock = self._tls_context.wrap_socket(self.sock, server_hostname=name)
        if self._on_connect is not None:
            self._on_connect()


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, timeout: float, on_connect: Callable[[], None] | None) -> None:
        super().__init__(host, port, timeout=timeout)
        self._on_connect = on_connect

    def connect(self) -> None:
        super().connect()
        if self._on_connect is not None:
            self._on_connect()


# ---------------------------------------------------------------------------------------------------------------
# One exchange


class TransportFailure(Exception):
    """A failure below HTTP and the phase it happened in; the caller closes the connection."""

    def __init__(self, error: BaseException, phase: Phase) -> None:
        super().__init__(type(error).__name__)
        self.error = error
        self.phase: Phase = phase


class Response(NamedTuple):
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes
    will_close: bool  # the server closes the connection after this answer


def connect(connection: http.client.HTTPConnection) -> None:
    try:
        connection.connect()
    except (OSError, http.client.HTTPException) as error:
        raise TransportFailure(error, "connect") from None


def send_request(
    connection: http.client.HTTPConnection,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
) -> None:
    """Send one request: the Host header, ``headers`` in order, and a Content-Length for a body (0 for a POST, PUT
    or PATCH without one); no Accept-Encoding unless ``headers`` hold one."""
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
    except (OSError, http.client.HTTPException) as error:
        raise TransportFailure(error, "send") from None


def response_head(connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
    """The status and headers of the answer to the request just sent, its body left to be read as it arrives."""
    try:
        return connection.getresponse()
    except (OSError, http.client.HTTPException) as error:
        raise TransportFailure(error, "response") from None


def read_response(connection: http.client.HTTPConnection, *, limit: int | None = None) -> Response:
    """The answer to the request just sent, its body whole or cut at ``limit`` bytes."""
    try:
        response = connection.getresponse()
        body = response.read(limit)
    except (OSError, http.client.HTTPException) as error:
        raise TransportFailure(error, "response") from None
    return Response(response.status, response.reason, response.headers, body, bool(response.will_close))


class LineStream:
    """An answer read line by line as it arrives (a Kubernetes watch), on a connection used for nothing else, each
    read waiting at most ``idle_timeout`` seconds. ``abort`` may be called from another thread: it ends a read that
    is waiting for data. A context manager that closes the connection.

    ``sock`` is the connection's socket as it was when the request was sent: ``http.client`` hands it over to an
    answer that ends with the connection (HTTP/1.0, ``Connection: close``) and forgets it."""

    def __init__(
        self,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        *,
        sock: socket.socket,
        idle_timeout: float,
    ) -> None:
        self._connection = connection
        self._response = response
        self._sock = sock
        sock.settimeout(idle_timeout)

    def __iter__(self) -> Iterator[bytes]:
        """Each line as sent (chunked or not), until the server ends the answer; a broken connection, or no data
        within ``idle_timeout``, raises ``TransportFailure``."""
        while True:
            try:
                line = self._response.readline()
            except (OSError, http.client.HTTPException, ValueError) as error:
                raise TransportFailure(error, "response") from None
            if not line:
                return
            yield line

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # already closed
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._response.close()
        self._connection.close()

    def __enter__(self) -> LineStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
