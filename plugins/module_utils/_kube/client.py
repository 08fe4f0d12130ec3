# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talking to the API server on the standard library: one keep-alive TLS connection per run, proxies, bounded
retries, API errors turned into actionable messages, and the GET/compute/PUT loop that survives conflicts.

Proxy rules (``_kube/proxy``) and error explanations (``_kube/api_errors``) are imported only when needed: a
module run compiles its module_utils from source, so code a run does not use still costs it time.
"""

from __future__ import annotations

import copy
import dataclasses
import http.client
import json
import os
import random
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, Protocol, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ConflictError,
    ImagesError,
    InvalidInputError,
    KubeApiError,
    KubeAuthConfigError,
    KubeConnectionError,
    NotFoundError,
    UncertainWriteError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.config import (
    ClusterConfig,
    basic_auth_value,
    resolve_cluster_config,
)

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import (
        FailureKind,
        RequestContext,
    )
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.proxy import ProxyEndpoint

USER_AGENT = (
    f"openshift_ops.images ansible-core/{ANSIBLE_VERSION} "
    f"Python/{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
}
MAX_ATTEMPTS = 4
# A timed-out request already cost request_timeout: tried twice at most.
TIMEOUT_ATTEMPTS = 2
SAFE_RETRY_STATUSES = frozenset({500, 502, 503, 504})
# POSTed like a create, but only asked: sending one again changes nothing.
REVIEW_RESOURCES = ("subjectaccessreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews", "tokenreviews")
# Exec credentials are fetched again this long before they expire, so no request is sent with one that expires
# on the way.
CREDENTIAL_REFRESH_MARGIN = timedelta(seconds=10)
BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0
RETRY_AFTER_CAP = 10.0
# Reconnect instead of reusing a connection idle this long: the server may have closed it, and a write sent on a
# closed connection cannot be safely retried.
IDLE_RECONNECT_SECONDS = 30.0
# Writes whose answers were lost, each read back and found not applied, before read_modify_write gives up.
LOST_WRITE_ATTEMPTS = 5


# ---------------------------------------------------------------------------------------------------------------
# Pure decisions


def choose_proxy(server: str, proxy: str | None, no_proxy: str | None) -> ProxyEndpoint | None:
    """The proxy to use for ``server``, or ``None`` to connect directly."""
    if not proxy:
        return None
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.proxy import (  # noqa: PLC0415 - compiled only when needed
        no_proxy_matches,
        parse_proxy_url,
    )

    parts = urlsplit(server)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if no_proxy_matches(parts.hostname or "", port, no_proxy):
        return None
    return parse_proxy_url(proxy)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (the API server sends whole seconds); ``None`` when absent or odd."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def backoff_delay(attempt: int, jitter: float) -> float:
    """Exponential backoff for retry number ``attempt`` (1-based), scaled by ``jitter`` in [0, 1) into 50-100 %."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) * (0.5 + jitter / 2)


def retry_safe(method: str, path: str) -> bool:
    """A request that may be sent again whatever happened to the last one: reads, and the access reviews, which are
    POSTed but change nothing."""
    if method in SAFE_METHODS:
        return True
    return method == "POST" and path.split("?", 1)[0].rstrip("/").endswith(REVIEW_RESOURCES)


def retry_delay(
    *,
    method: str,
    attempt: int,
    jitter: float,
    status: int | None = None,
    retry_after: str | None = None,
    failure: FailureKind | None = None,
    phase: Literal["connect", "send", "response"] | None = None,
    safe: bool | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> float | None:
    """Seconds to wait before trying again after ``attempt`` (1-based) failed, or ``None`` to give up.

    Retried with backoff: anything that failed before it was sent (connect, send); safe requests (``safe``, by
    default the safe methods) after a broken answer or a 500/502/503/504; any request after a 429 or 503, which
    the server sends for requests it did not process (its ``Retry-After`` honoured, capped). A timeout is retried
    once, when the request was safe or never sent: each costs ``request_timeout``. Never retried: TLS failures,
    other statuses, and a write whose answer was lost (``write_outcome_unknown``: it is read again instead).
    """
    if attempt >= max_attempts:
        return None
    is_safe = method in SAFE_METHODS if safe is None else safe
    if failure is not None:
        return backoff_delay(attempt, jitter) if _transport_retryable(failure, phase, attempt, safe=is_safe) else None
    wait = parse_retry_after(retry_after)
    retryable = status in (429, 503) or (is_safe and status in SAFE_RETRY_STATUSES)
    if not retryable:
        return None
    return min(wait, RETRY_AFTER_CAP) if wait is not None else backoff_delay(attempt, jitter)


def _transport_retryable(
    failure: FailureKind, phase: Literal["connect", "send", "response"] | None, attempt: int, *, safe: bool
) -> bool:
    if failure == "timeout":
        return attempt < TIMEOUT_ATTEMPTS and (safe or phase == "connect")
    return failure != "tls" and (safe or failure in ("connect", "send"))


def write_outcome_unknown(
    *,
    safe: bool,
    status: int | None = None,
    failure: FailureKind | None = None,
    phase: Literal["connect", "send", "response"] | None = None,
) -> bool:
    """Whether a write that failed may nevertheless have been applied: it was sent and its answer was lost, or a
    gateway or the server failed after taking it (500, 502, 504; a 503 or 429 is never processed)."""
    if safe:
        return False
    if failure is not None:
        return failure == "response" or (failure == "timeout" and phase != "connect")
    return status in (500, 502, 504)


# ---------------------------------------------------------------------------------------------------------------
# Transport


def build_ssl_context(config: ClusterConfig) -> ssl.SSLContext:
    """TLS settings of ``config``; PEM text is loaded without touching disk except the client key pair, which goes
    through a private temporary file that is removed before this returns."""
    try:
        context = ssl.create_default_context(cadata=config.ca_data) if config.ca_data else ssl.create_default_context()
    except (ssl.SSLError, ValueError):
        raise KubeAuthConfigError(
            f"the CA from {config.ca_origin} is not a valid PEM certificate; fix ca_cert or the kubeconfig"
        ) from None
    if not config.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if config.client_cert_data and config.client_key_data:
        descriptor, path = tempfile.mkstemp(prefix="openshift_ops-", suffix=".pem")  # created 0600
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(config.client_cert_data.rstrip("\n") + "\n" + config.client_key_data)
            context.load_cert_chain(path)
        except ssl.SSLError:
            raise KubeAuthConfigError(
                f"the client certificate and key from {config.source} are not valid PEM or do not belong together"
            ) from None
        finally:
            os.unlink(path)
    return context


class _HTTPSConnection(http.client.HTTPSConnection):
    """HTTPSConnection that verifies ``tls_server_name`` when the kubeconfig names one and reports each connect."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        context: ssl.SSLContext,
        server_hostname: str | None,
        on_connect: Callable[[], None],
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_hostname = server_hostname
        self._on_connect = on_connect
        self._tls_context = context

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # TCP, and the CONNECT tunnel when a proxy is set
        name = self._server_hostname or getattr(self, "_tunnel_host", None) or self.host
        self.sock = self._tls_context.wrap_socket(self.sock, server_hostname=name)
        self._on_connect()


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, timeout: float, on_connect: Callable[[], None]) -> None:
        super().__init__(host, port, timeout=timeout)
        self._on_connect = on_connect

    def connect(self) -> None:
        super().connect()
        self._on_connect()


class _TransportFailure(Exception):
    """A failure below HTTP and the phase it happened in; classified for retrying only when one happens."""

    def __init__(self, error: BaseException, phase: Literal["connect", "send", "response"]) -> None:
        super().__init__(type(error).__name__)
        self.error = error
        self.phase: Literal["connect", "send", "response"] = phase


class KubeClient:
    """A JSON client for one API server over one keep-alive connection; the contract is in docs/architecture.md."""

    def __init__(
        self,
        config: ClusterConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._server = urlsplit(config.server)
        self._https = self._server.scheme == "https"
        self._base_path = self._server.path.rstrip("/")
        self._proxy = choose_proxy(config.server, config.proxy, config.no_proxy)
        self._ssl_context = build_ssl_context(config) if self._https else None
        self._headers = self._static_headers()
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._connection: http.client.HTTPConnection | None = None
        self._last_used = 0.0
        self._uses = 0
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
        try:
            return self.request("GET", path, query=query)
        except NotFoundError as error:
            if allow_missing and _object_missing(error):
                return None
            raise

    def create(self, path: str, body: Mapping[str, Any]) -> dict:
        return self.request("POST", path, body=body)

    def replace(self, path: str, body: Mapping[str, Any]) -> dict:
        return self.request("PUT", path, body=body)

    def patch(self, path: str, body: Any, *, patch_type: str = "merge") -> dict:
        if patch_type not in PATCH_CONTENT_TYPES:
            raise InvalidInputError(f"patch_type must be one of {', '.join(PATCH_CONTENT_TYPES)}, not {patch_type!r}")
        return self.request("PATCH", path, body=body, content_type=PATCH_CONTENT_TYPES[patch_type])

    def delete(self, path: str, *, allow_missing: bool = False, body: Mapping[str, Any] | None = None) -> dict | None:
        try:
            return self.request("DELETE", path, body=body)
        except NotFoundError as error:
            if allow_missing and _object_missing(error):
                return None
            raise

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
        method = method.upper()
        target = self._target(path, query)
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        safe = retry_safe(method, path)
        lost_delete = False
        refreshed = self._refresh_expiring_credentials()
        attempt = 0
        while True:
            attempt += 1
            headers = list(self._headers)
            if payload is not None:
                headers.append(("Content-Type", content_type))
            try:
                status, reason, retry_after, data = self._exchange(method, target, payload, headers)
            except _TransportFailure as failure:
                from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import (  # noqa: PLC0415 - compiled only when needed
                    classify_failure,
                    connection_error,
                )

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
                error = connection_error(
                    failure.error,
                    context=self._context(method, path, attempt),
                    proxy=self._proxy,
                    ca_origin=self.config.ca_origin,
                    timeout=self.config.request_timeout,
                    tls_server_name=self.config.tls_server_name,
                )
                if not write_outcome_unknown(safe=safe, failure=kind, phase=failure.phase):
                    raise error from None
                lost: ImagesError = error
            else:
                if 200 <= status < 300:
                    return self._decode(data, method, path)
                if status == 401 and not refreshed and self.config.refresh_credentials is not None:
                    # client-go's exec authenticator asks the plugin again when the server refuses its credential
                    refreshed = self._refresh_credentials()
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
                )
                if delay is not None:
                    self._sleep(delay)
                    continue
                if status == 404 and lost_delete:
                    return {}  # the DELETE whose answer was lost was applied
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

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------------------

    def _refresh_expiring_credentials(self) -> bool:
        """Run the exec plugin again when its credential expires within the next seconds (a long wait outlives
        tokens of a few minutes); True when it did."""
        expires = self.config.token_expires_at
        if expires is None or self.config.refresh_credentials is None:
            return False
        if self._clock() < expires - CREDENTIAL_REFRESH_MARGIN:
            return False
        return self._refresh_credentials()

    def _refresh_credentials(self) -> bool:
        refresh = self.config.refresh_credentials
        if refresh is None:
            return False
        credential = refresh()
        self.on_new_secrets([value for value in (credential.token, credential.client_key_data) if value])
        changes: dict[str, Any] = {"token_expires_at": credential.expires_at}
        if credential.token:
            changes["token"] = credential.token
        if credential.client_certificate_data:
            changes["client_cert_data"] = credential.client_certificate_data
            changes["client_key_data"] = credential.client_key_data
        self.config = dataclasses.replace(self.config, **changes)
        self._headers = self._static_headers()
        if credential.client_certificate_data and self._https:
            self._ssl_context = build_ssl_context(self.config)
            self.close()  # the next request handshakes with the new certificate
        return True

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
        if self._proxy is not None and not self._https:
            target = f"http://{self._server.netloc}{target}"  # absolute form for a plain HTTP proxy
        return target

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

    def _new_connection(self) -> http.client.HTTPConnection:
        host = self._server.hostname or ""
        port = self._server.port or (443 if self._https else 80)
        timeout = self.config.request_timeout
        connect_host, connect_port = (self._proxy.host, self._proxy.port) if self._proxy else (host, port)
        connection: http.client.HTTPConnection
        if self._ssl_context is not None:  # built for https servers only
            connection = _HTTPSConnection(
                connect_host,
                connect_port,
                timeout=timeout,
                context=self._ssl_context,
                server_hostname=self.config.tls_server_name,
                on_connect=self._count_connection,
            )
            if self._proxy is not None:
                authorization = self._proxy.authorization
                connection.set_tunnel(
                    host, port, headers={"Proxy-Authorization": authorization} if authorization else None
                )
        else:
            connection = _HTTPConnection(connect_host, connect_port, timeout=timeout, on_connect=self._count_connection)
        return connection

    def _count_connection(self) -> None:
        self.connections_opened += 1

    def _open(self) -> http.client.HTTPConnection:
        idle = time.monotonic() - self._last_used
        if self._connection is not None and self._uses and idle > IDLE_RECONNECT_SECONDS:
            self.close()
        if self._connection is None:
            connection = self.connection_factory()
            try:
                connection.connect()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                raise _TransportFailure(error, "connect") from None
            self._connection = connection
            self._uses = 0
        return self._connection

    def _exchange(
        self, method: str, target: str, payload: bytes | None, headers: list[tuple[str, str]]
    ) -> tuple[int, str, str | None, bytes]:
        connection = self._open()
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            if payload is not None or method in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(payload or b"")))
            connection.endheaders(payload)
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise _TransportFailure(error, "send") from None
        self.requests_sent += 1
        try:
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise _TransportFailure(error, "response") from None
        self._uses += 1
        self._last_used = time.monotonic()
        if response.will_close:
            self.close()
        return response.status, response.reason, response.getheader("Retry-After"), data

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
                f"{method} {path}: {self._server.netloc} answered with something that is not JSON "
                f"({body_text(data)[:80]!r}); is the host the Kubernetes API server URL (port 6443 on OpenShift)?"
            ) from None
        if not isinstance(document, dict):
            raise KubeConnectionError(f"{method} {path}: the API server answered with JSON that is not an object")
        return document


def _object_missing(error: NotFoundError) -> bool:
    """A 404 about the object itself, not about an API the server does not serve."""
    return error.reason == "NotFound"


# ---------------------------------------------------------------------------------------------------------------
# Read, compute, write


class Planned(Protocol):
    """What a plan function may return instead of the bare object: a plan that names the object to write."""

    @property
    def write(self) -> dict | None: ...


PlanT = TypeVar("PlanT")
_UNREAD: Any = object()


class WriteOutcome(NamedTuple, Generic[PlanT]):
    """What ``read_modify_write`` did: the object before and after, and the plan it carried out (the one made from
    the last object read, after any conflicts)."""

    before: dict | None
    after: dict | None
    changed: bool
    conflicts: int = 0
    plan: PlanT | None = None


def read_modify_write(
    client: KubeClient,
    path: str,
    plan: Callable[[dict | None], PlanT],
    *,
    current: dict | None = _UNREAD,
    create_path: str | None = None,
    check_mode: bool = False,
    attempts: int = 10,
    before_write: Callable[[PlanT, dict | None], None] | None = None,
) -> WriteOutcome[PlanT]:
    """Plan from the current object, write what the plan says, and on a 409 read again and plan again.

    ``plan(current)`` gets its own copy of the object (None when missing) and returns either the wanted object
    (``None``: no change) or a plan whose ``write`` is that object; it must not change anything outside itself.
    ``current`` is an object already read (the first GET is skipped). The wanted object is PUT with the current
    ``resourceVersion`` (POSTed to ``create_path`` when missing), so a concurrent change is detected, never
    overwritten. ``before_write(plan, current)`` runs before each write is sent (not in check mode): the place for
    a side effect that belongs to the write, such as a backup of what it replaces.

    A write whose answer was lost (``UncertainWriteError``) is never sent again as it was: the object is read
    again and planned again. When that plan wants nothing more, the lost write was applied (``changed``, with
    ``before`` the object it replaced); otherwise it was not, and the new plan is written with the new
    ``resourceVersion``.
    """
    conflicts = 0
    lost_writes = 0
    lost: UncertainWriteError | None = None
    # the latest lost write: the object it was planned from, and its plan
    replaced: dict | None = None
    lost_plan: PlanT | None = None
    while True:
        if current is _UNREAD:
            current = client.get(path, allow_missing=True) if lost is None else _read_after(lost, client, path)
        decided = plan(copy.deepcopy(current))
        wanted = decided if decided is None or isinstance(decided, dict) else cast(Planned, decided).write
        if wanted is None or _same_object(current, wanted):
            if lost_writes:  # the lost write was applied: report it, not the plan that found nothing left to do
                return WriteOutcome(before=replaced, after=current, changed=True, conflicts=conflicts, plan=lost_plan)
            return WriteOutcome(before=current, after=current, changed=False, conflicts=conflicts, plan=decided)
        if lost is not None and lost_writes >= LOST_WRITE_ATTEMPTS:
            raise KubeConnectionError(
                f"{lost.message}. {lost_writes} writes of {path} were lost like this; it was read again after each "
                "and does not hold the change: nothing was changed. Run the task again once the connection to the "
                "API server is stable"
            )
        write, target, wanted = _write_for(client, path, create_path, current, wanted)
        if check_mode:
            return WriteOutcome(before=current, after=wanted, changed=True, conflicts=conflicts, plan=decided)
        if before_write is not None:
            before_write(decided, current)
        try:
            after = write(target, wanted)
        except ConflictError as error:
            conflicts += 1
            if conflicts >= attempts:
                raise ConflictError(
                    f"{error.message.rstrip('.')}; gave up after {conflicts} conflicting writes: something else "
                    "keeps changing the object",
                    status=409,
                    reason=error.reason,
                    method=error.method,
                    path=error.path,
                    details=error.details,
                ) from None
            # Exponential backoff with full jitter before reading again: 20 writers on one image stream (whose
            # writes pass through kube-apiserver to openshift-apiserver) spread out instead of colliding again.
            time.sleep(random.uniform(0, min(0.5, 0.02 * 2**conflicts)))  # noqa: S311 - jitter
            current = _UNREAD
            continue
        except UncertainWriteError as error:
            lost_writes += 1
            lost, replaced, lost_plan, current = error, current, decided, _UNREAD
            continue
        return WriteOutcome(before=current, after=after, changed=True, conflicts=conflicts, plan=decided)


def _write_for(
    client: KubeClient, path: str, create_path: str | None, current: dict | None, wanted: dict
) -> tuple[Callable[[str, Mapping[str, Any]], dict], str, dict]:
    """How ``wanted`` is written: PUT over ``current`` with its resourceVersion, or POST when there is none."""
    if current is not None:
        return client.replace, path, _with_resource_version(wanted, current)
    if create_path is not None:
        return client.create, create_path, wanted
    raise NotFoundError(
        f"GET {path}: the object does not exist and this task does not create it; create it first",
        status=404,
        reason="NotFound",
        method="GET",
        path=path,
    )


def _read_after(lost: UncertainWriteError, client: KubeClient, path: str) -> dict | None:
    """The object after a write whose answer was lost; when even that read fails, the error says both."""
    try:
        return client.get(path, allow_missing=True)
    except (KubeConnectionError, KubeApiError) as error:
        raise UncertainWriteError(
            f"{lost.message}, and reading {path} again to find out failed too ({error.message}). The object is "
            "either as it was before or as the task wanted it, never in between: run the task again, it writes "
            "only what is missing",
            method=lost.method,
            path=path,
        ) from None


def _same_object(current: dict | None, wanted: dict) -> bool:
    return current is not None and current == wanted


def _with_resource_version(wanted: dict, current: dict) -> dict:
    version = (current.get("metadata") or {}).get("resourceVersion")
    metadata = wanted.get("metadata") or {}
    if version is None or metadata.get("resourceVersion"):
        return wanted
    return {**wanted, "metadata": {**metadata, "resourceVersion": version}}


# ---------------------------------------------------------------------------------------------------------------
# Modules


def client_for(params: Mapping[str, Any], hide: Callable[[Iterable[str]], None]) -> KubeClient:
    """Resolve the connection from a module's options, hide every credential it read (and every one it reads
    later, such as a refreshed exec token), and return the client."""
    config = resolve_cluster_config(params)
    hide(config.secret_values())
    client = KubeClient(config)
    client.on_new_secrets = hide
    return client
