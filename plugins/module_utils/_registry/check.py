# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check registry credentials with the real Docker Registry v2 handshake (§6.1), which ``oc registry login`` never
does: ``GET /v2/``; on a Basic challenge retry with basic auth; on a Bearer challenge get a token from the realm
(basic auth, ``service`` and a ``repository:<path>:pull`` scope for path-scoped keys) and retry with it.

Transport rules: credentials (basic auth, an identity token, a bearer token) go over plain HTTP only when the
registry is marked insecure (``validate_certs=False``, as docker's ``insecure-registries`` and an image import's
``insecure`` cover both plain HTTP and unverified TLS); redirects are never followed, so a credential reaches only
the registry and the token realm the registry names (how Docker's token authentication works).

The requests go over the collection's one transport (``_http/transport``), through the proxy the environment names
for each URL (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``: ``_http/proxy.environment_proxy``), as podman and skopeo
on the same host would reach the registry. Results and messages name the registry, the user and the proxy's host,
never a password, token or the proxy's credentials.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ImagesError
from ansible_collections.openshift_ops.images.plugins.module_utils._http.retry import short_retry_delay
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import (
    Response,
    Route,
    TransportFailure,
    TunnelRefusedError,
    connect,
    read_response,
    send_request,
    tls_context,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import entry_basic_auth
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import split_registry_key

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._http.proxy import ProxyEndpoint

ACCEPTED = "accepted"  # the registry (or its token service) accepted the credentials
ANONYMOUS = "anonymous"  # /v2/ answered without asking for credentials: nothing to verify there
REJECTED = "rejected"  # the credentials were refused
UNREACHABLE = "unreachable"  # no HTTP answer: refused, timeout, DNS, TLS
UNCHECKED = "unchecked"  # the entry or the registry gives no way to check (wildcard key, token-only entry, ...)
ERROR = "error"  # the registry answered something a v2 registry should not

_USER_AGENT = "openshift_ops.images-registry-check/1"
_MAX_BODY = 1 << 20
_DOCKER_HUB_KEYS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_CHALLENGE_PARAM = re.compile(r'([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


@dataclass(frozen=True, slots=True)
class RegistryCheckResult:
    """``ok`` is True when the credentials were accepted, or when the registry asks for none (``outcome``
    ``anonymous``); ``detail`` says what happened in words; ``outcome`` is one of the constants above."""

    key: str
    ok: bool
    detail: str
    outcome: str = ACCEPTED


@dataclass(frozen=True, slots=True)
class _Endpoint:
    scheme: str  # "https" or "http"
    host: str  # host[:port] as given, for the Host header and messages
    path: str  # repository path the key is scoped to, "" for the whole registry

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}"


class _Unreachable(Exception):
    """No HTTP answer; the message says why in words."""


class _NotSent(Exception):
    """A request that would have carried credentials over plain HTTP to a registry not marked insecure."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


def registry_endpoint(key: str) -> tuple[str, str, str]:
    """``(scheme, host[:port], path)`` to contact for a registry key: ``http`` only for an ``http://`` key, Docker
    Hub's API host for its names, a leading ``/v1/`` or ``/v2/`` dropped from the path."""
    scheme, host, path = split_registry_key(key)
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    path = path.strip("/")
    if host.lower() in _DOCKER_HUB_KEYS:
        host = "registry-1.docker.io"
    return ("http" if scheme == "http://" else "https"), host, path


@dataclass(frozen=True, slots=True)
class _Via:
    """The proxy a request went through, and the environment variable that named it."""

    variable: str
    proxy: ProxyEndpoint

    def __str__(self) -> str:
        return f"the proxy {self.proxy.host}:{self.proxy.port} from {self.variable}"


def _describe_proxy_failure(error: OSError, where: str, via: _Via) -> str | None:
    """What went wrong with the proxy itself, or ``None`` when the failure is the registry's."""
    if isinstance(error, ConnectionRefusedError):
        return f"connection to {via} for {where} refused: nothing listens there; check {via.variable}"
    if isinstance(error, socket.gaierror):  # through a proxy, only the proxy's name is resolved here
        return f"cannot resolve the host of {via} for {where}: {error.strerror}; check {via.variable}"
    if isinstance(error, TunnelRefusedError):
        return (
            f"{via} refused to open a tunnel to {where} ({error.answer}); check {via.variable} (and its credentials) "
            "and NO_PROXY"
        )
    return None


def _describe_os_error(error: OSError, where: str, timeout: float, via: _Via | None = None) -> str:
    about_proxy = _describe_proxy_failure(error, where, via) if via is not None else None
    if about_proxy is not None:
        return about_proxy
    return _describe_registry_failure(error, f"{where} (through {via})" if via is not None else where, timeout)


def _describe_registry_failure(error: OSError, where: str, timeout: float) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate of {where} is not trusted ({error.verify_message}); give the registry's CA in "
            "registry_ca_cert, or set registry_validate_certs to false"
        )
    if isinstance(error, ssl.SSLError):
        reason = error.reason or str(error)
        hint = " (does it speak plain HTTP? then write the key with http://)" if "WRONG_VERSION" in reason else ""
        return f"TLS handshake with {where} failed: {reason}{hint}"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host of {where}: {error.strerror}"
    if isinstance(error, TimeoutError | socket.timeout):
        return f"{where} did not answer within {timeout:g} seconds"
    if isinstance(error, ConnectionRefusedError):
        return f"connection to {where} refused: nothing listens there"
    return f"cannot connect to {where}: {error.strerror or error}"


class _Client:
    """One request per connection: a check sends at most four. Redirects are not followed (the transport never
    does), so nothing is sent to a host the caller did not name. Each URL gets the proxy the environment names for
    it."""

    def __init__(
        self, context: ssl.SSLContext, timeout: float, *, allow_plain_http: bool, environ: Mapping[str, str]
    ) -> None:
        self.context = context
        self.timeout = timeout
        self.allow_plain_http = allow_plain_http
        self.environ = environ
        self.sleep: Callable[[float], None] = time.sleep

    def request(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        parts = urllib.parse.urlsplit(url)
        where = f"{parts.scheme}://{parts.netloc}"
        # Every credential this check sends is an Authorization header or (the identity token) a request body.
        carries_credentials = body is not None or any(name.lower() == "authorization" for name in headers or {})
        if parts.scheme != "https" and carries_credentials and not self.allow_plain_http:
            raise _NotSent(where)
        route, via = self._route(parts, where)
        target = route.target(urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, "")))
        all_headers = [
            # what http.client's request() sends, as this check always did
            ("Accept-Encoding", "identity"),
            ("User-Agent", _USER_AGENT),
            ("Accept", "application/json"),
            *(headers or {}).items(),
            *route.proxy_headers(),
        ]
        attempt = 1
        while True:
            try:
                answer = self._exchange(route, method, target, body, all_headers)
            except TransportFailure as failure:
                error = failure.error
                if isinstance(error, OSError) and not isinstance(error, ConnectionError):
                    raise _Unreachable(_describe_os_error(error, where, self.timeout, via)) from None
                # A refused or reset connection or a cut answer: a GET asks again (every request of a check is
                # one, but the identity token's POST, which is not repeated).
                wait = short_retry_delay(attempt=attempt) if method == "GET" else None
                if wait is None:
                    raise _Unreachable(_describe_failure(error, where, self.timeout, attempt, via)) from None
            else:
                if via is not None and route.scheme != "https" and answer.status == 407:
                    raise _Unreachable(
                        f"{via} asked for credentials for {where} ({_status(answer)}); give them in {via.variable} "
                        "as http://user:password@host:port, or add the registry to NO_PROXY"
                    )
                retry_after = answer.headers.get("Retry-After")
                wait = (
                    short_retry_delay(attempt=attempt, status=answer.status, retry_after=retry_after)
                    if method == "GET"
                    else None
                )
                if wait is None:
                    return answer
            self.sleep(wait)
            attempt += 1

    def _route(self, parts: urllib.parse.SplitResult, where: str) -> tuple[Route, _Via | None]:
        """Where the request goes, by the URL and the environment's proxy variables."""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise _Unreachable(f"{where} does not name a valid port") from None
        host = parts.hostname or ""
        from ansible_collections.openshift_ops.images.plugins.module_utils._http.proxy import (  # noqa: PLC0415 - compiled only when a check runs
            environment_proxy,
        )

        try:
            chosen = environment_proxy(parts.scheme, host, port, self.environ)
        except ImagesError as error:
            raise _Unreachable(f"cannot reach {where} through a proxy: {error}") from None
        via = _Via(*chosen) if chosen is not None else None
        return Route(parts.scheme, host, port, parts.netloc, via.proxy if via else None), via

    def _exchange(
        self, route: Route, method: str, target: str, body: bytes | None, headers: list[tuple[str, str]]
    ) -> Response:
        connection = route.connection(timeout=self.timeout, context=self.context)
        try:
            connect(connection)
            send_request(connection, method, target, headers, body)
            return read_response(connection, limit=_MAX_BODY)
        finally:
            connection.close()


def _describe_failure(error: BaseException, where: str, timeout: float, attempt: int, via: _Via | None = None) -> str:
    after = f" (after {attempt} attempts)" if attempt > 1 else ""
    if isinstance(error, OSError):
        return _describe_os_error(error, where, timeout, via) + after
    through = f" (through {via})" if via is not None else ""
    return f"{where}{through} did not answer with valid HTTP ({type(error).__name__}){after}"


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``('bearer', {'realm': ..., 'service': ...})`` from a ``WWW-Authenticate`` value (scheme lower-cased)."""
    scheme, _space, rest = header.strip().partition(" ")
    params = {}
    for name, raw in _CHALLENGE_PARAM.findall(rest):
        params[name.lower()] = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
    return scheme.lower(), params


def _challenges(answer: Response) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for header in answer.headers.get_all("WWW-Authenticate") or []:
        scheme, params = parse_challenge(header)
        found.setdefault(scheme, params)
    return found


def _status(answer: Response) -> str:
    status = f"HTTP {answer.status} {answer.reason}".rstrip()
    location = answer.headers.get("Location") if 300 <= answer.status < 400 else None
    if location:
        # Never followed: a credential must not travel to a host the registry key does not name.
        status += f" (a redirect to {location[:200]}, not followed; nothing was sent there)"
    return status


def _token_from(answer: Response) -> str | None:
    try:
        body = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    token = body.get("token") or body.get("access_token")
    return token if isinstance(token, str) and token else None


def _oauth_error(answer: Response) -> str | None:
    try:
        body = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


class _Check:
    def __init__(self, key: str, entry: Mapping[str, Any], client: _Client) -> None:
        self.key = key
        self.client = client
        scheme, host, path = registry_endpoint(key)
        self.endpoint = _Endpoint(scheme, host, path)
        self.basic = entry_basic_auth(entry)
        token = entry.get("identitytoken")
        self.identity_token = token if isinstance(token, str) and token else None

    def result(self, outcome: str, detail: str) -> RegistryCheckResult:
        return RegistryCheckResult(self.key, outcome in (ACCEPTED, ANONYMOUS), detail, outcome)

    @property
    def user(self) -> str:
        return f"user {self.basic.username!r}" if self.basic else "the identity token"

    def _cannot_check(self) -> RegistryCheckResult | None:
        if any(char in self.endpoint.host for char in "*?"):
            return self.result(UNCHECKED, "a wildcard key names no single registry to ask; not checked")
        if self.basic is None and self.identity_token is None:
            return self.result(UNCHECKED, "the entry holds no username/password (or auth) to check")
        return None

    def run(self) -> RegistryCheckResult:
        skipped = self._cannot_check()
        if skipped is not None:
            return skipped
        ping_url = f"{self.endpoint.base}/v2/"
        ping = self.client.request("GET", ping_url)
        if ping.status == 200:
            return self.result(
                ANONYMOUS,
                f"{ping_url} answered without asking for credentials, so they could not be verified (the registry "
                "allows anonymous access there)",
            )
        challenges = _challenges(ping) if ping.status == 401 else {}
        if "bearer" in challenges and challenges["bearer"].get("realm"):
            return self._bearer(ping_url, challenges["bearer"])
        if "basic" in challenges:
            return self._basic(ping_url)
        if ping.status != 401:
            hint = " (it may speak HTTPS: write the key without http://)" if self.endpoint.scheme == "http" else ""
            return self.result(
                ERROR, f"{ping_url} answered {_status(ping)}; a Docker Registry v2 API answers 200 or 401{hint}"
            )
        offered = ", ".join(challenges) or "no WWW-Authenticate challenge"
        return self.result(ERROR, f"{ping_url} asked for credentials with an unsupported scheme ({offered})")

    def _basic(self, ping_url: str) -> RegistryCheckResult:
        if self.basic is None:
            return self.result(
                UNCHECKED, "the registry wants basic auth, but the entry holds only an identity token; not checked"
            )
        answer = self.client.request("GET", ping_url, headers={"Authorization": f"Basic {self.basic.auth}"})
        if answer.status == 200:
            return self.result(ACCEPTED, f"{ping_url} accepted {self.user} (basic auth)")
        if answer.status in (401, 403):
            return self.result(REJECTED, f"{ping_url} rejected {self.user}: {_status(answer)}")
        return self.result(ERROR, f"{ping_url} answered {_status(answer)} to basic auth")

    def _token_request_params(self, challenge: Mapping[str, str]) -> dict[str, str]:
        params = {}
        if challenge.get("service"):
            params["service"] = challenge["service"]
        if self.endpoint.path:
            params["scope"] = f"repository:{self.endpoint.path}:pull"
        elif challenge.get("scope"):
            params["scope"] = challenge["scope"]
        return params

    def _request_token(self, realm: str, params: Mapping[str, str]) -> Response:
        if self.basic is not None:
            url = f"{realm}{'&' if '?' in realm else '?'}{urllib.parse.urlencode(params)}"
            return self.client.request("GET", url, headers={"Authorization": f"Basic {self.basic.auth}"})
        # Only an identity token: docker's OAuth2 refresh-token grant.
        form = {"grant_type": "refresh_token", "refresh_token": self.identity_token or "", "client_id": _USER_AGENT}
        return self.client.request(
            "POST",
            realm,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=urllib.parse.urlencode({**form, **params}).encode("ascii"),
        )

    def _token(self, realm: str, params: Mapping[str, str]) -> str | RegistryCheckResult:
        """The token the realm issues, or the result that ends the check."""
        scope_text = f" for {params['scope']}" if "scope" in params else ""
        answer = self._request_token(realm, params)
        if self.basic is None and answer.status == 400 and _oauth_error(answer) == "unsupported_grant_type":
            return self.result(
                UNCHECKED,
                f"the token service {realm} does not take identity tokens (OAuth2 refresh_token grant); the entry "
                "holds nothing else to check",
            )
        if answer.status in (401, 403) or (answer.status == 400 and self.basic is None):
            return self.result(
                REJECTED, f"the token service {realm} rejected {self.user}{scope_text}: {_status(answer)}"
            )
        if answer.status != 200:
            return self.result(ERROR, f"the token service {realm} answered {_status(answer)}")
        token = _token_from(answer)
        if token is None:
            return self.result(ERROR, f"the token service {realm} answered 200 without a token")
        return token

    def _bearer(self, ping_url: str, challenge: Mapping[str, str]) -> RegistryCheckResult:
        realm = challenge["realm"]
        realm_scheme = urllib.parse.urlsplit(realm).scheme
        if realm_scheme not in ("https", "http") or (realm_scheme == "http" and self.endpoint.scheme == "https"):
            return self.result(
                ERROR, f"the registry's token realm {realm} is not an https URL; credentials were not sent to it"
            )
        params = self._token_request_params(challenge)
        token = self._token(realm, params)
        if isinstance(token, RegistryCheckResult):
            return token
        retry = self.client.request("GET", ping_url, headers={"Authorization": f"Bearer {token}"})
        scope_text = f" for {params['scope']}" if "scope" in params else ""
        if retry.status == 200:
            return self.result(
                ACCEPTED, f"the token service {realm} issued a token to {self.user}{scope_text} and {ping_url} took it"
            )
        if retry.status in (401, 403):
            return self.result(
                REJECTED, f"{ping_url} refused the token its token service issued to {self.user}: {_status(retry)}"
            )
        return self.result(ERROR, f"{ping_url} answered {_status(retry)} to the token")


def check_registry_credentials(
    key: str,
    entry: Mapping[str, Any],
    *,
    ca_data: str | None = None,
    validate_certs: bool = True,
    timeout: float = 15.0,
    environ: Mapping[str, str] | None = None,
) -> RegistryCheckResult:
    """Check one entry against its registry. Never raises for network or registry trouble: the result says what
    went wrong (``outcome`` ``unreachable``, ``rejected``, ``error``, ``unchecked``). ``entry`` is one that
    ``load_auth_document`` accepted or ``entry_from_*`` built: its ``auth`` goes out as it is (``entry_basic_auth``).

    ``validate_certs=False`` marks the registry insecure: TLS is not verified and credentials may go over plain HTTP
    (an ``http://`` key, or a plain-HTTP token realm of such a registry); otherwise they never do. The proxy
    variables are read from ``environ`` (default: the process environment, which holds the task's ``environment``
    on either execution path)."""
    context = tls_context(verify=validate_certs, ca_data=ca_data if validate_certs else None)
    client = _Client(
        context, timeout, allow_plain_http=not validate_certs, environ=os.environ if environ is None else environ
    )
    check = _Check(key, entry, client)
    try:
        return check.run()
    except _Unreachable as error:
        return check.result(UNREACHABLE, str(error))
    except _NotSent as refused:
        return check.result(
            ERROR,
            f"{refused.where} is plain HTTP, so the credentials of {check.user} were not sent to it (they would cross "
            "the network unencrypted). Write the key without http:// if the registry speaks HTTPS; to check over "
            "plain HTTP anyway, mark the registries insecure with registry_validate_certs: false",
        )


def check_all(entries: Mapping[str, Mapping[str, Any]], **kwargs: Any) -> list[RegistryCheckResult]:
    """:func:`check_registry_credentials` for every entry, in order; ``kwargs`` are passed on."""
    return [check_registry_credentials(key, entry, **kwargs) for key, entry in entries.items()]
