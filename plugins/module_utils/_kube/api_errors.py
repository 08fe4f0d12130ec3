# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failed requests turned into actionable errors: the API's ``Status`` explained per HTTP status, and transport
failures (TLS, timeouts, refused connections, proxies) explained (``_http/retry`` classifies them for retrying).

Imported by ``_kube/client`` only when a request fails, so successful module runs do not compile it.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlsplit

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ConflictError,
    ForbiddenError,
    KubeApiError,
    KubeConnectionError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
    UnauthorizedError,
    UnprocessableError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import TunnelRefusedError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import parse_status

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._http.proxy import ProxyEndpoint

_MESSAGE_LIMIT = 1000


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


# Small records are NamedTuples: a module run creates these classes every time, and a dataclass costs ten times
# more to create (measured with benchmarks/run.py).


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
        message = _clip(body_text(body))
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


# openshift-apiserver's image stream LimitRange check (admission/limitrange newLimitExceededError): a 403 that no
# role can fix.
_IMAGE_STREAM_LIMIT = re.compile(
    r"requested usage of (?P<resource>openshift\.io/image-tags|openshift\.io/images) exceeds the maximum limit per "
    r"openshift\.io/ImageStream \((?P<requested>[^ ]+) > (?P<limit>[^)]+)\)"
)
_LIMIT_COUNTS = {
    "openshift.io/image-tags": "distinct images its spec tags reference",
    "openshift.io/images": "distinct images in its status",
}


def _explain_image_stream_limit(answer: _Answer, found: re.Match[str], *, status: int = 403) -> str:
    namespace = answer.target.namespace if answer.target is not None else None
    where = f" of namespace {namespace!r}" if namespace else ""
    resource = found.group("resource")
    describe = f" -n {namespace}" if namespace else ""
    return (
        f"{answer.context.what} was refused ({status}) by the LimitRange{where}: {found.group(0)}. The image "
        f"stream would hold {found.group('requested')} {_LIMIT_COUNTS[resource]}, and the limit of type "
        f"openshift.io/ImageStream allows {found.group('limit')} ({resource}). No permission changes that: remove "
        "tags the stream no longer needs (image_tag state: absent), or ask an administrator to raise the limit "
        f"(oc describe limitrange{describe})"
    )


def _explain_forbidden(answer: _Answer) -> str:
    context, target = answer.context, answer.target
    limit = _IMAGE_STREAM_LIMIT.search(answer.message)
    if limit is not None:
        return _explain_image_stream_limit(answer, limit)
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


# openshift-apiserver's registry allowlist (validation/whitelist): "registry %q not allowed by whitelist: ...".
_NOT_ALLOWED_REGISTRY = re.compile(r'registry "(?P<registry>[^"]*)" not allowed by whitelist: (?P<allowed>.*)')


def _explain_registry_not_allowed(answer: _Answer, found: re.Match[str]) -> str:
    allowed = found.group("allowed").rstrip(".").strip()
    return (
        f"{answer.context.what}: the cluster does not allow images from registry {found.group('registry')!r} "
        f"(422): only registries in spec.allowedRegistriesForImport of images.config.openshift.io/cluster may be "
        f"tagged or imported ({allowed}). Use an image from an allowed registry, or ask an administrator to add "
        "this one (oc edit image.config.openshift.io/cluster; the openshift-apiserver pods then roll out)"
    )


def _explain_invalid(answer: _Answer) -> str:
    cause_messages = [str(c.get("message") or "") for c in answer.details.get("causes") or [] if isinstance(c, dict)]
    for text in (*cause_messages, answer.message):
        not_allowed = _NOT_ALLOWED_REGISTRY.search(text)
        if not_allowed is not None:
            return _explain_registry_not_allowed(answer, not_allowed)
        # an update's limit check runs inside validation: the 403 comes back as a 422 "Internal error"
        limit = _IMAGE_STREAM_LIMIT.search(text)
        if limit is not None:
            return _explain_image_stream_limit(answer, limit, status=answer.status)
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


def body_text(body: bytes | str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return " ".join(text.split())[:200]


def _clip(text: str) -> str:
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


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
            f"{ca_origin}; nothing was sent to the server. Set ca_cert to the CA that signed the API server's "
            "certificate (for example the one in 'oc config view --raw'), or set validate_certs: false to skip "
            "verification (insecure)"
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
    elif isinstance(error, TunnelRefusedError):
        message = (
            f"proxy {proxy.host if proxy else '?'} refused to open a tunnel to {host}:{port} "
            f"({error.answer}); check the proxy URL, its credentials and no_proxy"
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
