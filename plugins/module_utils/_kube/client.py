# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes API client: keep-alive connections over the shared transport (``_http/transport``), one per
request in flight (so a single one for requests sent one after another), the retry rules of ``_http/retry`` with
Kubernetes' own notion of a safe request, exec credentials refreshed as client-go does, and API errors turned into
actionable messages; a streamed GET on a connection of its own for watches (``_kube/watch``). The write loop is
``_kube/read_modify_write``.

Proxy rules (``_http/proxy``) and error explanations (``_kube/api_errors``) are imported only when needed: a module
run compiles its module_utils from source, so code a run does not use still costs it time.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ImagesError,
    InvalidInputError,
    KubeAuthConfigError,
    KubeConnectionError,
    UncertainWriteError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.retry import (
    MAX_ATTEMPTS,
    SAFE_METHODS,
    backoff_delay,
    classify_failure,
    retry_delay,
    write_outcome_unknown,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import (
    LineStream,
    Route,
    TransportFailure,
    basic_auth_value,
    connect,
    load_client_certificate,
    read_response,
    response_head,
    send_request,
    tls_context,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config_resolution import (
    resolve_cluster_config,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import RequestContext

USER_AGENT = (
    f"openshift_ops.images ansible-core/{ANSIBLE_VERSION} "
    f"Python/{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
)
PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}
# POSTed like a create, but only asked: sending one again changes nothing.
REVIEW_RESOURCES = ("subjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews", "tokenreviews")
# Exec credentials are fetched again this long before they expire, so no request is sent with one that expires
# on the way.
CREDENTIAL_REFRESH_MARGIN = timedelta(seconds=10)
# Reconnect instead of reusing a connection idle this long: the server may have closed it, and a write sent on a
# closed connection cannot be safely retried.
IDLE_RECONNECT_SECONDS = 30.0
# What is read of an error answer to a streamed request: a Status object is far smaller.
ERROR_BODY_LIMIT = 65536


def retry_safe(method: str, path: str) -> bool:
    """A request that may be sent again whatever happened to the last one: reads, and the access reviews, which are
    POSTed but change nothing."""
    if method in SAFE_METHODS:
        return True
    return method == "POST" and path.split("?", 1)[0].rstrip("/").endswith(REVIEW_RESOURCES)


def route_to(config: ClusterConfig) -> Route:
    """Where the API requests go: the server, or the ``proxy`` option's proxy unless ``no_proxy`` matches (the
    environment's HTTPS_PROXY/NO_PROXY are not read, as in kubernetes.core)."""
    server = urlsplit(config.server)
    proxy = None
    if config.proxy:
        from ansible_collections.openshift_ops.images.plugins.module_utils._http.proxy import (  # noqa: PLC0415 - compiled only when needed
            choose_proxy,
        )

        proxy = choose_proxy(config.server, config.proxy, config.no_proxy)
    port = server.port or (443 if server.scheme == "https" else 80)
    return Route(server.scheme, server.hostname or "", port, server.netloc, proxy)


def build_ssl_context(config: ClusterConfig) -> ssl.SSLContext:
    """TLS settings of ``config``; PEM text is loaded without touching disk except the client key pair, which goes
    through a private temporary file that is removed before this returns."""
    try:
        context = tls_context(verify=config.verify_tls, ca_data=config.ca_data)
    except (ssl.SSLError, ValueError):
        raise KubeAuthConfigError(
            f"the CA from {config.ca_origin} is not a valid PEM certificate; fix ca_cert or the kubeconfig"
        ) from None
    if config.client_cert_data and config.client_key_data:
        try:
            load_client_certificate(context, config.client_cert_data, config.client_key_data)
        except ssl.SSLError:
            raise KubeAuthConfigError(
                f"the client certificate and key from {config.source} are not valid PEM or do not belong together"
            ) from None
    return context


class KubeClient:
    """A JSON client for one API server over keep-alive connections; the contract is in docs/architecture.md.

    Safe to share between threads: each request in flight has a connection of its own, taken from the idle ones
    (one, when requests go one after another) or opened, and given back after its answer."""

    def __init__(
        self,
        config: ClusterConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._route = route_to(config)
        self._https = self._route.scheme == "https"
        self._base_path = urlsplit(config.server).path.rstrip("/")
        self._ssl_context = build_ssl_context(config) if self._https else None
        self._headers = self._static_headers()
        self._proxy_headers = self._route.proxy_headers()
        self._sleep = sleep
        self._max_attempts = max_attempts
        # connections waiting for the next request, each with the time its last answer ended, oldest first
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []
        # raised when a new client certificate (or close) makes the connections open until then unfit for reuse
        self._generation = 0
        self._lock = threading.Lock()  # the idle connections and the counters
        # one exec plugin run at a time; a request refused with an older credential than the current one only
        # retries, instead of running the plugin again (many threads may meet the same expired token)
        self._credential_lock = threading.Lock()
        self._credential_generation = 0
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        # Replaceable to observe connections (tests, benchmarks); must return an unconnected HTTPConnection.
        self.connection_factory: Callable[[], http.client.HTTPConnection] = self._new_connection
        self.connections_opened = 0
        self.requests_sent = 0
        # Told about every secret a refresh of exec credentials brings (a module passes no_log_values.update).
        self.on_new_secrets: Callable[[Iterable[str]], None] = lambda _values: None
        self._clock = clock

    @property
    def default_namespace(self) -> str:
        return self.config.namespace

    # -- the contract ------------------------------------------------------------------------------------------

    def get(self, path: str, *, allow_missing: bool = False, query: Mapping[str, Any] | None = None) -> dict | None:
        return self._send("GET", path, query=query, allow_missing=allow_missing)

    def create(self, path: str, body: Mapping[str, Any]) -> dict:
        return self.request("POST", path, body=body)

    def replace(self, path: str, body: Mapping[str, Any]) -> dict:
        return self.request("PUT", path, body=body)

    def patch(self, path: str, body: Any, *, patch_type: str = "merge") -> dict:
        if patch_type not in PATCH_CONTENT_TYPES:
            raise InvalidInputError(f"patch_type must be one of {', '.join(PATCH_CONTENT_TYPES)}, not {patch_type!r}")
        return self.request("PATCH", path, body=body, content_type=PATCH_CONTENT_TYPES[patch_type])

    def delete(self, path: str, *, allow_missing: bool = False, body: Mapping[str, Any] | None = None) -> dict | None:
        return self._send("DELETE", path, body=body, allow_missing=allow_missing)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict:
        """Send one request (retrying what is safe to retry) and return the decoded JSON answer.

        A write whose answer was lost raises ``UncertainWriteError`` (``read_modify_write`` reads the object again
        and decides). A DELETE is settled here: it is sent again, its preconditions (uid, resourceVersion) keeping
        it to the object first meant, and a 404 to the repeat says the lost one was applied. Reading the object
        instead would not do: an image stream tag without an image answers GET with 404 while it still exists."""
        answer = self._send(method, path, body=body, query=query, content_type=content_type)
        if answer is None:  # only with allow_missing; for the type checker
            raise AssertionError("a request without allow_missing answered None")
        return answer

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        allow_missing: bool = False,
    ) -> dict | None:
        """``request``, and None for a 404 saying the object is missing when ``allow_missing``: told from the
        answer's Status, so a run that finds nothing there never builds (nor imports) an error to explain it."""
        method = method.upper()
        target = self._target(path, query)
        payload, body_headers = (
            (None, [])
            if body is None
            else (json.dumps(body, separators=(",", ":")).encode("utf-8"), [("Content-Type", content_type)])
        )
        safe = retry_safe(method, path)
        lost_delete = False
        refreshed = self._refresh_expiring_credentials()
        attempt = 0
        while True:
            attempt += 1
            credential_generation = self._credential_generation
            headers = [*self._headers, *self._proxy_headers, *body_headers]
            try:
                status, reason, retry_after, data = self._exchange(method, target, payload, headers)
            except TransportFailure as failure:
                kind = classify_failure(failure.error, phase=failure.phase)
                delay = retry_delay(
                    method=method,
                    attempt=attempt,
                    jitter=self._random.random(),
                    failure=kind,
                    phase=failure.phase,
                    safe=safe,
                    max_attempts=self._max_attempts,
                )
                if delay is not None:
                    self._sleep(delay)
                    continue
                error = self._connection_error(failure, method, path, attempt)
                if not write_outcome_unknown(safe=safe, failure=kind, phase=failure.phase):
                    raise error from None
                lost: ImagesError = error
            else:
                if 200 <= status < 300:
                    return self._decode(data, method, path)
                if status == 401 and not refreshed and self.config.refresh_credentials is not None:
                    # client-go's exec authenticator asks the plugin again when the server refuses its credential
                    refreshed = self._refresh_credentials(refused=credential_generation)
                    attempt -= 1
                    continue
                delay = retry_delay(
                    method=method,
                    attempt=attempt,
                    jitter=self._random.random(),
                    status=status,
                    retry_after=retry_after,
                    safe=safe,
                    max_attempts=self._max_attempts,
                    unprocessed=status == 403 and self._sends_credentials and refused_as_anonymous(data),
                )
                if delay is not None:
                    self._sleep(delay)
                    continue
                if status == 404 and (lost_delete or (allow_missing and _object_missing(data, reason))):
                    # the DELETE whose answer was lost was applied; or the object is missing, as the caller allows
                    return {} if lost_delete else None
                from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import (  # noqa: PLC0415 - compiled only when needed
                    api_error,
                )

                api_failure = api_error(status, data, self._context(method, path, attempt), reason=reason)
                if not write_outcome_unknown(safe=safe, status=status):
                    raise api_failure
                lost = api_failure
            if method != "DELETE" or attempt >= self._max_attempts:
                raise UncertainWriteError(
                    f"{lost.message}. The request was sent, so it may or may not have been applied; it was not sent "
                    "again blindly",
                    method=method,
                    path=path,
                ) from None
            lost_delete = True
            self._sleep(backoff_delay(attempt, self._random.random()))

    def open_stream(self, path: str, *, query: Mapping[str, Any] | None = None, idle_timeout: float) -> LineStream:
        """GET ``path`` on a connection of its own and return its answer to read line by line as it arrives (a
        watch), each read waiting at most ``idle_timeout`` seconds. One attempt: the caller (``_kube/watch``) decides
        when to try again. A 401 runs the exec plugin again once, as ``request`` does; failures raise what
        ``request`` raises."""
        target = self._target(path, query)
        refreshed = self._refresh_expiring_credentials()
        while True:
            credential_generation = self._credential_generation
            connection = self.connection_factory()
            try:
                connect(connection)
                sock = connection.sock
                send_request(connection, "GET", target, [*self._headers, *self._proxy_headers], None)
                self._count_request()
                response = response_head(connection)
            except TransportFailure as failure:
                connection.close()
                raise self._connection_error(failure, "GET", path, 1) from None
            if response.status == 200:
                return LineStream(connection, response, sock=sock, idle_timeout=idle_timeout)
            try:
                body = response.read(ERROR_BODY_LIMIT)
            except (OSError, http.client.HTTPException):
                body = b""
            connection.close()
            if response.status == 401 and not refreshed and self.config.refresh_credentials is not None:
                refreshed = self._refresh_credentials(refused=credential_generation)
                continue
            from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import (  # noqa: PLC0415 - compiled only when needed
                api_error,
            )

            raise api_error(response.status, body, self._context("GET", path, 1), reason=response.reason)

    def close(self) -> None:
        """Close the idle connections; one still carrying a request is closed when its answer has been read."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for connection, _returned in idle:
            connection.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------------------

    def _refresh_expiring_credentials(self) -> bool:
        """Run the exec plugin again when its credential expires within the next seconds (a long wait outlives
        tokens of a few minutes); True when it (or another thread just now) did."""
        generation = self._credential_generation
        expires = self.config.token_expires_at
        if expires is None or self.config.refresh_credentials is None:
            return False
        if self._clock() < expires - CREDENTIAL_REFRESH_MARGIN:
            return False
        return self._refresh_credentials(refused=generation)

    def _refresh_credentials(self, *, refused: int) -> bool:
        """Run the exec plugin again, unless another thread already replaced the credential of generation
        ``refused`` (the one the caller's request carried): then the caller only retries with the new one."""
        refresh = self.config.refresh_credentials
        if refresh is None:
            return False
        with self._credential_lock:
            if self._credential_generation != refused:
                return True
            credential = refresh()
            self.on_new_secrets([value for value in (credential.token, credential.client_key_data) if value])
            self.config = self.config.with_exec_credential(credential)
            self._headers = self._static_headers()
            if credential.client_certificate_data and self._https:
                self._ssl_context = build_ssl_context(self.config)
                self.close()  # the next request handshakes with the new certificate
            self._credential_generation += 1
        return True

    @property
    def _sends_credentials(self) -> bool:
        config = self.config
        return bool(config.token or config.password or config.client_cert_data or config.refresh_credentials)

    def _static_headers(self) -> list[tuple[str, str]]:
        config = self.config
        headers = [("Accept", "application/json"), ("User-Agent", USER_AGENT)]
        if config.token:
            headers.append(("Authorization", f"Bearer {config.token}"))
        elif config.username is not None:
            headers.append(("Authorization", f"Basic {basic_auth_value(config.username, config.password or '')}"))
        if config.impersonate_user:
            headers.append(("Impersonate-User", config.impersonate_user))
            headers.extend(("Impersonate-Group", group) for group in config.impersonate_groups)
        return headers

    def _target(self, path: str, query: Mapping[str, Any] | None) -> str:
        if not path.startswith("/") or any(ch.isspace() or ord(ch) < 32 for ch in path):
            raise InvalidInputError(
                f"API path {path!r} must start with '/' and contain no spaces or control characters"
            )
        target = self._base_path + path
        if query:
            target += ("&" if "?" in target else "?") + urlencode(query, doseq=True)
        return self._route.target(target)

    def _context(self, method: str, path: str, attempt: int) -> RequestContext:
        """Who sent the request to where, built only to explain a failure."""
        from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import (  # noqa: PLC0415 - compiled only when needed
            RequestContext,
        )

        return RequestContext(
            method=method,
            path=path,
            server=self.config.server,
            source=self.config.source,
            credential_kind=self.config.credential_kind,
            user_label=self.config.user_label,
            impersonate_user=self.config.impersonate_user,
            attempts=attempt,
        )

    def _connection_error(self, failure: TransportFailure, method: str, path: str, attempt: int) -> KubeConnectionError:
        from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import (  # noqa: PLC0415 - compiled only when needed
            connection_error,
        )

        return connection_error(
            failure.error,
            context=self._context(method, path, attempt),
            proxy=self._route.proxy,
            ca_origin=self.config.ca_origin,
            timeout=self.config.request_timeout,
            tls_server_name=self.config.tls_server_name,
        )

    def _new_connection(self) -> http.client.HTTPConnection:
        return self._route.connection(
            timeout=self.config.request_timeout,
            context=self._ssl_context,
            server_hostname=self.config.tls_server_name,
            on_connect=self._count_connection,
        )

    def _count_connection(self) -> None:
        with self._lock:
            self.connections_opened += 1

    def _count_request(self) -> None:
        with self._lock:
            self.requests_sent += 1

    def _take_connection(self) -> tuple[http.client.HTTPConnection, int]:
        """The most recently used idle connection, else a new one; and the generation to give it back with."""
        with self._lock:
            generation = self._generation
            now = time.monotonic()
            stale = [connection for connection, returned in self._idle if now - returned > IDLE_RECONNECT_SECONDS]
            del self._idle[: len(stale)]  # given back in time order: the stale ones come first
            taken = self._idle.pop()[0] if self._idle else None
        for connection in stale:
            connection.close()
        if taken is not None:
            return taken, generation
        connection = self.connection_factory()
        try:
            connect(connection)
        except TransportFailure:
            connection.close()
            raise
        return connection, generation

    def _give_back(self, connection: http.client.HTTPConnection, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._idle.append((connection, time.monotonic()))
                return
        connection.close()  # the client was closed, or its certificate replaced, while this answer was read

    def _exchange(
        self, method: str, target: str, payload: bytes | None, headers: list[tuple[str, str]]
    ) -> tuple[int, str, str | None, bytes]:
        connection, generation = self._take_connection()
        try:
            send_request(connection, method, target, headers, payload)
        except TransportFailure:
            connection.close()
            raise
        self._count_request()
        try:
            response = read_response(connection)
        except TransportFailure:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._give_back(connection, generation)
        return response.status, response.reason, response.headers.get("Retry-After"), response.body

    def _decode(self, data: bytes, method: str, path: str) -> dict:
        if not data.strip():
            return {}
        try:
            document = json.loads(data)
        except ValueError:
            from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import (  # noqa: PLC0415 - compiled only when needed
                body_text,
            )

            raise KubeConnectionError(
                f"{method} {path}: {self._route.netloc} answered with something that is not JSON "
                f"({body_text(data)[:80]!r}); is the host the Kubernetes API server URL (port 6443 on OpenShift)?"
            ) from None
        if not isinstance(document, dict):
            raise KubeConnectionError(f"{method} {path}: the API server answered with JSON that is not an object")
        return document


def refused_as_anonymous(body: bytes) -> bool:
    """Whether a 403 refused ``system:anonymous``. Sent with credentials, the request reached a server that did not
    see who sent it: an aggregated API server (openshift-apiserver) that has just started answers so until it trusts
    kube-apiserver's front-proxy certificate. It authorized nothing and wrote nothing, so it is retried as a 503."""
    document = parse_status(body)
    return document is not None and 'User "system:anonymous" cannot' in str(document.get("message") or "")


def parse_status(body: bytes | str) -> dict[str, Any] | None:
    """The ``Status`` object of an error response, or ``None`` when the body is not one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(document, dict) and document.get("kind") == "Status":
        return document
    return None


def _object_missing(body: bytes, reason: str) -> bool:
    """Whether a 404 is about the object itself, not an API the server does not serve: its reason, as its error
    would carry it (the Status's, else the HTTP reason phrase), is NotFound."""
    document = parse_status(body)
    return (reason if document is None else str(document.get("reason") or reason)) == "NotFound"


# ---------------------------------------------------------------------------------------------------------------
# Modules


def client_for(options: ConnectionOptions, hide: Callable[[Iterable[str]], None]) -> KubeClient:
    """Resolve the connection from a module's parsed connection options, hide every credential it read (and every
    one it reads later, such as a refreshed exec token), and return the client."""
    config = resolve_cluster_config(options)
    hide(config.secret_values())
    client = KubeClient(config)
    client.on_new_secrets = hide
    return client


# How many connections ``kept_client_for`` keeps: a loop's items reach one cluster, seldom a few.
KEPT_CLIENTS = 4
_kept_clients: dict[ClusterConfig, KubeClient] = {}
_kept_by_process: list[int] = []  # the process that made them: a forked child must not share its connections


def kept_client_for(options: ConnectionOptions, hide: Callable[[Iterable[str]], None]) -> KubeClient:
    """``client_for``, reusing the client an earlier run in this process made for the same configuration: its TLS
    context and its open connection. The items of a loop run one after another in one forked worker, and each
    would otherwise build the context and handshake again.

    The configuration is still resolved and its secrets hidden on every run, so a kubeconfig or token that
    changed between items gets a client of its own. A configuration with an exec plugin is never kept: its client
    replaces the credential as it expires, which a later run must get from the plugin itself."""
    config = resolve_cluster_config(options)
    hide(config.secret_values())
    if _kept_by_process != [os.getpid()]:
        # Made before a fork: their TLS sessions belong to the parent, and a second user of one breaks it. They are
        # dropped, not closed, since closing would end the parent's connections too.
        _kept_clients.clear()
        _kept_by_process[:] = [os.getpid()]
    client = None if config.refresh_credentials is not None else _kept_clients.pop(config, None)
    if client is None:
        client = KubeClient(config)
    if config.refresh_credentials is None:
        _kept_clients[config] = client  # the most recently used last
        while len(_kept_clients) > KEPT_CLIENTS:
            _kept_clients.pop(next(iter(_kept_clients))).close()
    client.on_new_secrets = hide
    return client
