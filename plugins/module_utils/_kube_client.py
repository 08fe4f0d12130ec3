# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talking to the API server on the standard library: one keep-alive TLS connection per run, proxies, bounded
retries, API errors turned into actionable messages, and the GET/compute/PUT loop that survives conflicts.
"""

from __future__ import annotations

import copy
import http.client
import ipaddress
import json
import os
import random
import re
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote, urlencode, urlsplit

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    KubeApiError,
    KubeAuthConfigError,
    KubeConnectionError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
    UnauthorizedError,
    UnprocessableError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube_config import (
    ClusterConfig,
    basic_auth_value,
    resolve_cluster_config,
)

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
BACKOFF_BASE = 0.25
BACKOFF_CAP = 4.0
RETRY_AFTER_CAP = 10.0
# Reconnect instead of reusing a connection idle this long: the server may have closed it, and a write sent on a
# closed connection cannot be safely retried.
IDLE_RECONNECT_SECONDS = 30.0
_MESSAGE_LIMIT = 1000

FailureKind = Literal["tls", "timeout", "connect", "send", "response"]


# ---------------------------------------------------------------------------------------------------------------
# Pure decisions


def no_proxy_matches(host: str, port: int | None, no_proxy: str | None) -> bool:
    """Whether ``host`` is reached directly by the rules of ``no_proxy`` (Go's ``httpproxy`` semantics):
    ``*`` matches every host; an IP or CIDR matches addresses; ``example.com`` matches it and its subdomains,
    ``.example.com`` only subdomains; an entry with ``:port`` matches that port only.
    """
    if not no_proxy:
        return False
    host = host.strip("[]").lower().rstrip(".")
    address = _ip_or_none(host)
    return any(_no_proxy_entry_matches(entry.strip().lower(), host, address, port) for entry in no_proxy.split(","))


def _no_proxy_entry_matches(
    entry: str, host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, port: int | None
) -> bool:
    if entry == "*":
        return True
    entry, entry_port = _split_entry_port(entry)
    if not entry or (entry_port is not None and entry_port != port):
        return False
    if "/" in entry:
        try:
            return address is not None and address in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    entry_address = _ip_or_none(entry)
    if entry_address is not None:
        return address == entry_address
    domain = entry.rstrip(".").removeprefix("*")
    return host.endswith(domain) if domain.startswith(".") else host == domain or host.endswith(f".{domain}")


def _split_entry_port(entry: str) -> tuple[str, int | None]:
    """``host:port``, ``[v6]:port`` or a bare host/IP (a bare IPv6 address has colons but no port)."""
    if _ip_or_none(entry) is not None:
        return entry, None
    bracketed = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", entry)
    if bracketed:
        return bracketed.group(1), int(bracketed.group(2)) if bracketed.group(2) else None
    name, colon, digits = entry.rpartition(":")
    if colon and digits.isdigit():
        return name, int(digits)
    return entry, None


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# Small records are NamedTuples: a module run creates these classes every time, and a dataclass costs ten times
# more to create (measured with benchmarks/run.py).


class ProxyEndpoint(NamedTuple):
    scheme: str
    host: str
    port: int
    authorization: str | None = None  # the Proxy-Authorization value; a secret

    def __repr__(self) -> str:
        hidden = "<hidden>" if self.authorization else None
        return f"ProxyEndpoint(scheme={self.scheme!r}, host={self.host!r}, port={self.port}, authorization={hidden})"


def parse_proxy_url(proxy: str) -> ProxyEndpoint:
    text = proxy if "://" in proxy else f"http://{proxy}"
    parts = urlsplit(text)
    if parts.scheme != "http":
        raise KubeAuthConfigError(
            f"proxy scheme {parts.scheme!r} is not supported; use an HTTP proxy URL like http://proxy.example.com:3128"
        )
    if not parts.hostname:
        raise KubeAuthConfigError("the proxy URL has no host; write it like http://proxy.example.com:3128")
    try:
        port = parts.port or 80
    except ValueError:
        raise KubeAuthConfigError("the proxy URL has an invalid port") from None
    authorization = None
    if parts.username is not None:
        user, password = unquote(parts.username), unquote(parts.password or "")
        authorization = f"Basic {basic_auth_value(user, password)}"
    return ProxyEndpoint(scheme=parts.scheme, host=parts.hostname, port=port, authorization=authorization)


def choose_proxy(server: str, proxy: str | None, no_proxy: str | None) -> ProxyEndpoint | None:
    """The proxy to use for ``server``, or ``None`` to connect directly."""
    if not proxy:
        return None
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


def retry_delay(
    *,
    method: str,
    attempt: int,
    jitter: float,
    status: int | None = None,
    retry_after: str | None = None,
    failure: FailureKind | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> float | None:
    """Seconds to wait before trying again after ``attempt`` (1-based) failed, or ``None`` to give up.

    Retried: any request that failed before it was sent (connect, send), safe methods whatever happened, 429 and
    503 (the server did not process the request; its ``Retry-After`` is honoured, capped) and other 5xx on safe
    methods when the server sent ``Retry-After``. Never retried: TLS failures and timeouts (neither heals in a
    second, and a timeout already cost ``request_timeout``), other statuses.
    """
    if attempt >= max_attempts:
        return None
    if failure is not None:
        unsent = failure in ("connect", "send")
        return backoff_delay(attempt, jitter) if unsent or (failure == "response" and method in SAFE_METHODS) else None
    wait = parse_retry_after(retry_after)
    retryable = status in (429, 503) or (
        status is not None and status >= 500 and wait is not None and method in SAFE_METHODS
    )
    if not retryable:
        return None
    return min(wait, RETRY_AFTER_CAP) if wait is not None else backoff_delay(attempt, jitter)


class ApiPath(NamedTuple):
    """What an API path addresses; used to explain errors."""

    group: str
    version: str
    namespace: str | None
    resource: str
    name: str | None
    subresource: str | None

    @property
    def qualified_resource(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource


def parse_api_path(path: str) -> ApiPath | None:
    """``/api/v1/namespaces/ns/secrets/x`` → ApiPath; ``None`` for paths that are not resource paths."""
    segments = [unquote(part) for part in path.split("?", 1)[0].strip("/").split("/") if part]
    if len(segments) >= 2 and segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    elif len(segments) >= 3 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return None
    return ApiPath(
        group=group,
        version=version,
        namespace=namespace,
        resource=rest[0],
        name=rest[1] if len(rest) > 1 else None,
        subresource=rest[2] if len(rest) > 2 else None,
    )


def verb_for(method: str, target: ApiPath | None) -> str:
    """The RBAC verb the API server checks for ``method`` on ``target``."""
    named = target is not None and target.name is not None
    verbs = {
        "GET": "get" if named else "list",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if named else "deletecollection",
    }
    return verbs.get(method, method.lower())


def parse_status(body: bytes | str) -> dict[str, Any] | None:
    """The ``Status`` object of an error response, or ``None`` when the body is not one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(document, dict) and document.get("kind") == "Status":
        return document
    return None


class RequestContext(NamedTuple):
    """Who sent a request to where; enough to explain a failure without holding any secret."""

    method: str
    path: str
    server: str
    source: str = ""
    credential_kind: str = ""
    user_label: str = ""
    impersonate_user: str | None = None
    attempts: int = 1

    @property
    def what(self) -> str:
        return f"{self.method} {self.path}"


_STATUS_CLASSES: dict[int, type[KubeApiError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableError,
    429: TooManyRequestsError,
}


class _Answer(NamedTuple):
    """An error response, digested."""

    status: int
    reason: str
    message: str
    details: Mapping[str, Any]
    context: RequestContext
    target: ApiPath | None
    is_status: bool

    @property
    def said(self) -> str:
        return f": {self.message}" if self.message else ""

    @property
    def tries(self) -> str:
        return f" (after {self.context.attempts} attempts)" if self.context.attempts > 1 else ""

    @property
    def host(self) -> str:
        return urlsplit(self.context.server).netloc


def api_error(status: int, body: bytes | str, context: RequestContext, *, reason: str = "") -> KubeApiError:
    """The typed error for an error response, with a message from the API's ``Status`` a person can act on."""
    document = parse_status(body)
    details: dict[str, Any] = {}
    if document is not None:
        message = _clip(str(document.get("message") or ""))
        reason = str(document.get("reason") or reason)
        if isinstance(document.get("details"), dict):
            details = document["details"]
    else:
        message = _clip(_body_text(body))
    answer = _Answer(
        status=status,
        reason=reason,
        message=message,
        details=details,
        context=context,
        target=parse_api_path(context.path),
        is_status=document is not None,
    )
    explain = _EXPLAIN.get(status, _explain_server if status >= 500 else _explain_other)
    error_class = _STATUS_CLASSES.get(status, ServerError if status >= 500 else KubeApiError)
    return error_class(
        explain(answer), status=status, reason=reason, method=context.method, path=context.path, details=details
    )


def _explain_unauthorized(answer: _Answer) -> str:
    context = answer.context
    if context.credential_kind.startswith("no credentials"):
        return (
            f"{context.what}: the API server at {answer.host} requires authentication and no credentials were sent "
            "(401 Unauthorized); log in with 'oc login', or set api_key or a kubeconfig user"
        )
    return (
        f"{context.what}: the API server at {answer.host} did not accept the {context.credential_kind} from "
        f"{context.source} (401 Unauthorized). The token has expired or is wrong, or the client certificate is not "
        "trusted: log in again ('oc login') and use the new kubeconfig or api_key"
    )


_USER_IN_MESSAGE = re.compile(r'User "([^"]*)"')


def _explain_forbidden(answer: _Answer) -> str:
    context, target = answer.context, answer.target
    found = _USER_IN_MESSAGE.search(answer.message)
    if "cannot impersonate" in answer.message:
        who = f"User {found.group(1)!r}" if found else "The authenticated user"
        return (
            f"{context.what} was forbidden (403): {answer.message}. {who} may not impersonate: grant it the "
            "'impersonate' verb on users (and groups), or drop impersonate_user/impersonate_groups"
        )
    user = found.group(1) if found else context.impersonate_user or context.user_label or "the user"
    verb = verb_for(context.method, target)
    resource, scope, grant = context.path, "", ""
    if target is not None:
        resource = target.qualified_resource + (f"/{target.subresource}" if target.subresource else "")
        scope = f" in namespace {target.namespace!r}" if target.namespace else " (cluster-wide)"
        if target.namespace and found:
            grant = f"; for example 'oc adm policy add-role-to-user edit {user} -n {target.namespace}'"
    return (
        f"{context.what} was forbidden (403): {answer.message or 'no reason given'}. "
        f"User {user!r} needs permission to {verb} {resource}{scope}: grant a Role or ClusterRole that allows it"
        f"{grant}, or use other credentials"
    )


def _explain_not_found(answer: _Answer) -> str:
    what, target = answer.context.what, answer.target
    if not answer.is_status and target is not None:
        api = f"{target.group}/{target.version}" if target.group else target.version
        return (
            f"{what}: the API server at {answer.host} does not serve {target.qualified_resource} ({api}) "
            f"(404{answer.said}). Is this an OpenShift cluster with that API installed, and is the resource right?"
        )
    return f"{what}: not found (404){answer.said}; check the name and the namespace"


def _explain_conflict(answer: _Answer) -> str:
    if answer.reason == "AlreadyExists":
        return f"{answer.context.what}: the object already exists (409 AlreadyExists){answer.said}"
    return (
        f"{answer.context.what}: conflict (409){answer.said}. The object was changed by someone else since it was "
        "read; run the task again"
    )


def _explain_invalid(answer: _Answer) -> str:
    causes = [
        f"{cause.get('field') or '(object)'}: {cause.get('message') or cause.get('reason') or 'invalid'}"
        for cause in answer.details.get("causes") or []
        if isinstance(cause, dict)
    ]
    listed = f" Causes: {'; '.join(causes)}." if causes else ""
    return f"{answer.context.what}: the API server rejected the object as invalid (422){answer.said}.{listed}"


def _explain_throttled(answer: _Answer) -> str:
    return (
        f"{answer.context.what}: the API server is throttling requests (429 Too Many Requests){answer.tries}"
        f"{answer.said}; retry later or run fewer tasks against the cluster at once (forks, throttle)"
    )


def _explain_server(answer: _Answer) -> str:
    hint = (
        " An aggregated API (for OpenShift, openshift-apiserver) may be down; check 'oc get clusteroperators'."
        if answer.status == 503
        else " Retry later; if it persists, check the API server's health."
    )
    return (
        f"{answer.context.what}: the API server at {answer.host} failed ({answer.status} "
        f"{answer.reason or 'error'}){answer.tries}{answer.said}.{hint}"
    )


def _explain_other(answer: _Answer) -> str:
    return f"{answer.context.what}: the API server answered {answer.status} {answer.reason}{answer.said}"


_EXPLAIN: dict[int, Callable[[_Answer], str]] = {
    401: _explain_unauthorized,
    403: _explain_forbidden,
    404: _explain_not_found,
    409: _explain_conflict,
    422: _explain_invalid,
    429: _explain_throttled,
}


def _body_text(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return " ".join(text.split())[:200]


def _clip(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def classify_failure(error: BaseException, *, phase: Literal["connect", "send", "response"]) -> FailureKind:
    """What a transport exception means for retrying: TLS verification never heals by itself."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return "tls"
    if phase == "connect" and isinstance(error, ssl.SSLError):
        return "tls"
    if isinstance(error, TimeoutError):
        return "timeout"
    return phase


def connection_error(
    error: BaseException,
    *,
    context: RequestContext,
    proxy: ProxyEndpoint | None,
    ca_origin: str,
    timeout: float,
    tls_server_name: str | None = None,
) -> KubeConnectionError:
    """An actionable message for a failure below HTTP."""
    parts = urlsplit(context.server)
    host = parts.hostname or "?"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    via = f" through proxy {proxy.host}:{proxy.port}" if proxy else ""
    tries = f" (after {context.attempts} attempts)" if context.attempts > 1 else ""
    if isinstance(error, ssl.SSLCertVerificationError):
        reason = error.verify_message or getattr(error, "reason", None) or "verification failed"
        message = (
            f"TLS verification of the API server {tls_server_name or host}:{port} failed: {reason}. The CA used was "
            f"{ca_origin}. Set ca_cert to the CA that signed the API server's certificate (for example the one in "
            "'oc config view --raw'), or set validate_certs: false to skip verification (insecure)"
        )
    elif isinstance(error, ssl.SSLError):
        detail = getattr(error, "reason", None) or error
        message = (
            f"the TLS handshake with {host}:{port}{via} failed ({detail}); check that the host is the API server's "
            "HTTPS URL and that the client certificate and key belong together"
        )
    elif isinstance(error, TimeoutError):
        message = (
            f"no answer from {host}:{port}{via} within {timeout:g} s{tries}; check the host and the network, or "
            "raise request_timeout"
        )
    elif isinstance(error, ConnectionRefusedError):
        refused_by = f"proxy {proxy.host}:{proxy.port}" if proxy else f"{host}:{port}"
        message = (
            f"connection to {refused_by} was refused{tries}: nothing listens there. Check the host (or the "
            "kubeconfig server) and that the API server is running"
        )
    elif isinstance(error, socket.gaierror):
        message = f"cannot resolve host name {proxy.host if proxy else host!r}; check the host or DNS"
    elif isinstance(error, OSError) and str(error).startswith("Tunnel connection failed"):
        message = (
            f"proxy {proxy.host if proxy else '?'} refused to open a tunnel to {host}:{port} "
            f"({str(error).split(':', 1)[-1].strip()}); check the proxy URL, its credentials and no_proxy"
        )
    elif isinstance(error, http.client.HTTPException | ConnectionError):
        message = (
            f"the connection to {host}:{port}{via} broke before an answer arrived{tries} ({type(error).__name__}); "
            "the API server may be restarting, try again"
        )
    else:
        message = (
            f"cannot talk to {host}:{port}{via}{tries}: {getattr(error, 'strerror', None) or type(error).__name__}"
        )
    return KubeConnectionError(f"{context.what}: {message}")


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
    def __init__(self, error: BaseException, kind: FailureKind) -> None:
        super().__init__(type(error).__name__)
        self.error = error
        self.kind = kind


class KubeClient:
    """A JSON client for one API server over one keep-alive connection; the contract is in docs/architecture.md."""

    def __init__(
        self,
        config: ClusterConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
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
        """Send one request (retrying what is safe to retry) and return the decoded JSON answer."""
        method = method.upper()
        target = self._target(path, query)
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        headers = list(self._headers)
        if payload is not None:
            headers.append(("Content-Type", content_type))
        attempt = 0
        while True:
            attempt += 1
            context = self._context(method, path, attempt)
            try:
                status, reason, retry_after, data = self._exchange(method, target, payload, headers)
            except _TransportFailure as failure:
                delay = retry_delay(
                    method=method,
                    attempt=attempt,
                    jitter=self._random.random(),
                    failure=failure.kind,
                    max_attempts=self._max_attempts,
                )
                if delay is None:
                    raise connection_error(
                        failure.error,
                        context=context,
                        proxy=self._proxy,
                        ca_origin=self.config.ca_origin,
                        timeout=self.config.request_timeout,
                        tls_server_name=self.config.tls_server_name,
                    ) from None
                self._sleep(delay)
                continue
            if 200 <= status < 300:
                return self._decode(data, context)
            delay = retry_delay(
                method=method,
                attempt=attempt,
                jitter=self._random.random(),
                status=status,
                retry_after=retry_after,
                max_attempts=self._max_attempts,
            )
            if delay is None:
                raise api_error(status, data, context, reason=reason)
            self._sleep(delay)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------------------

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
                raise _TransportFailure(error, classify_failure(error, phase="connect")) from None
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
            raise _TransportFailure(error, classify_failure(error, phase="send")) from None
        self.requests_sent += 1
        try:
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise _TransportFailure(error, classify_failure(error, phase="response")) from None
        self._uses += 1
        self._last_used = time.monotonic()
        if response.will_close:
            self.close()
        return response.status, response.reason, response.getheader("Retry-After"), data

    def _decode(self, data: bytes, context: RequestContext) -> dict:
        if not data.strip():
            return {}
        try:
            document = json.loads(data)
        except ValueError:
            raise KubeConnectionError(
                f"{context.what}: {urlsplit(context.server).netloc} answered with something that is not JSON "
                f"({_body_text(data)[:80]!r}); is the host the Kubernetes API server URL (port 6443 on OpenShift)?"
            ) from None
        if not isinstance(document, dict):
            raise KubeConnectionError(f"{context.what}: the API server answered with JSON that is not an object")
        return document


def _object_missing(error: NotFoundError) -> bool:
    """A 404 about the object itself, not about an API the server does not serve."""
    return error.reason == "NotFound"


# ---------------------------------------------------------------------------------------------------------------
# Read, compute, write


class WriteOutcome(NamedTuple):
    before: dict | None
    after: dict | None
    changed: bool
    conflicts: int = 0


def read_modify_write(
    client: KubeClient,
    path: str,
    compute: Callable[[dict | None], dict | None],
    *,
    create_path: str | None = None,
    check_mode: bool = False,
    attempts: int = 5,
) -> WriteOutcome:
    """GET ``path``, let ``compute`` decide the wanted object (``None``: no change), PUT it (POST to ``create_path``
    when missing), and on a 409 start again from a fresh GET. ``compute`` gets its own copy of the current object.
    The current ``resourceVersion`` is sent with every PUT, so a concurrent change is detected, never overwritten.
    """
    conflicts = 0
    while True:
        current = client.get(path, allow_missing=True)
        wanted = compute(copy.deepcopy(current))
        if wanted is None or _same_object(current, wanted):
            return WriteOutcome(before=current, after=current, changed=False, conflicts=conflicts)
        if current is not None:
            wanted = _with_resource_version(wanted, current)
            write, target = client.replace, path
        elif create_path is not None:
            write, target = client.create, create_path
        else:
            raise NotFoundError(
                f"GET {path}: the object does not exist and this task does not create it; create it first",
                status=404,
                reason="NotFound",
                method="GET",
                path=path,
            )
        if check_mode:
            return WriteOutcome(before=current, after=wanted, changed=True, conflicts=conflicts)
        try:
            after = write(target, wanted)
        except ConflictError as error:
            conflicts += 1
            if conflicts >= attempts:
                raise ConflictError(
                    f"{error.message} Gave up after {conflicts} conflicting writes; something else keeps changing "
                    "the object",
                    status=409,
                    reason=error.reason,
                    method=error.method,
                    path=error.path,
                    details=error.details,
                ) from None
            # Like client-go's DefaultRetry: a short, jittered pause before reading again.
            time.sleep(0.01 * conflicts * (1 + random.random()))  # noqa: S311 - jitter
            continue
        return WriteOutcome(before=current, after=after, changed=True, conflicts=conflicts)


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


def client_from_module(module: Any) -> KubeClient:
    """Resolve the connection from ``module.params``, hide every credential it read, and return the client."""
    config = resolve_cluster_config(module.params)
    for value in config.secret_values():
        module.no_log_values.add(value)
    return KubeClient(config)
