"""The API client's pure decisions: which requests are safe to send again, API paths and RBAC verbs, error
messages from Status objects and socket failures, TLS context building, headers. No server is started here; the I/O
is exercised against the sandbox cluster in tests/integration/test_kube_client.py. The transport's own decisions
(proxies, retries) are tested in test_http_proxy.py and test_http_retry.py."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

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
from ansible_collections.openshift_ops.images.plugins.module_utils._http.proxy import ProxyEndpoint
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import (
    TunnelRefusedError,
    basic_auth_value,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube import client as kube_client
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api_errors import (
    ApiPath,
    RequestContext,
    api_error,
    connection_error,
    parse_api_path,
    verb_for,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import (
    USER_AGENT,
    KubeClient,
    build_ssl_context,
    client_for,
    kept_client_for,
    parse_status,
    retry_safe,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.tests.unit.support.certificates import (
    certificate_error,
    key_pem,
    new_authority,
)

# ---------------------------------------------------------------------------------------------------------------
# Requests safe to send again


@pytest.mark.parametrize(
    ("method", "path", "safe"),
    [
        ("GET", "/api/v1/namespaces/a/secrets/b", True),
        ("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", True),
        ("POST", "/apis/authorization.k8s.io/v1/namespaces/a/localsubjectaccessreviews", True),
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?timeout=5s", True),
        ("POST", "/api/v1/namespaces/a/secrets", False),
        ("PUT", "/apis/authorization.k8s.io/v1/subjectaccessreviews", False),
        ("DELETE", "/api/v1/namespaces/a/secrets/b", False),
    ],
)
def test_retry_safe(method: str, path: str, safe: bool) -> None:
    assert retry_safe(method, path) is safe


# ---------------------------------------------------------------------------------------------------------------
# API paths and verbs


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/namespaces/ns/secrets/s", ApiPath("", "v1", "ns", "secrets", "s", None)),
        ("/api/v1/namespaces/ns/secrets", ApiPath("", "v1", "ns", "secrets", None, None)),
        ("/api/v1/namespaces/ns", ApiPath("", "v1", None, "namespaces", "ns", None)),
        ("/api/v1/namespaces", ApiPath("", "v1", None, "namespaces", None, None)),
        (
            "/apis/image.openshift.io/v1/namespaces/p/imagestreams/ruby/status?x=1",
            ApiPath("image.openshift.io", "v1", "p", "imagestreams", "ruby", "status"),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/a%3Ab",
            ApiPath("rbac.authorization.k8s.io", "v1", None, "clusterroles", "a:b", None),
        ),
        ("/readyz", None),
        ("/apis/image.openshift.io/v1", None),
        ("/api", None),
    ],
)
def test_parse_api_path(path: str, expected: ApiPath | None) -> None:
    assert parse_api_path(path) == expected


@pytest.mark.parametrize(
    ("method", "path", "verb"),
    [
        ("GET", "/api/v1/namespaces/ns/secrets/s", "get"),
        ("GET", "/api/v1/namespaces/ns/secrets", "list"),
        ("POST", "/api/v1/namespaces/ns/secrets", "create"),
        ("PUT", "/api/v1/namespaces/ns/secrets/s", "update"),
        ("PATCH", "/api/v1/namespaces/ns/secrets/s", "patch"),
        ("DELETE", "/api/v1/namespaces/ns/secrets/s", "delete"),
        ("DELETE", "/api/v1/namespaces/ns/secrets", "deletecollection"),
        ("HEAD", "/readyz", "head"),
    ],
)
def test_verb_for(method: str, path: str, verb: str) -> None:
    assert verb_for(method, parse_api_path(path)) == verb


# ---------------------------------------------------------------------------------------------------------------
# Error responses


def status_body(code: int, reason: str, message: str, **details: Any) -> bytes:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return json.dumps(body).encode()


def context(method: str = "GET", path: str = "/api/v1/namespaces/ns/secrets/s", **kwargs: Any) -> RequestContext:
    defaults: dict[str, Any] = {
        "server": "https://api.example.com:6443",
        "source": "kubeconfig /k, context 'admin'",
        "credential_kind": "bearer token",
        "user_label": "admin",
    }
    return RequestContext(method=method, path=path, **{**defaults, **kwargs})


FORBIDDEN = (
    'imagestreams.image.openshift.io "ruby" is forbidden: User "sandbox-user" cannot get resource "imagestreams" '
    'in API group "image.openshift.io" in the namespace "team"'
)


@pytest.mark.parametrize(
    ("status", "body", "ctx", "error_class", "fragments"),
    [
        (
            401,
            status_body(401, "Unauthorized", "Unauthorized"),
            context(),
            UnauthorizedError,
            ["GET /api/v1/namespaces/ns/secrets/s", "did not accept the bearer token from kubeconfig /k", "oc login"],
        ),
        (
            401,
            status_body(401, "Unauthorized", "Unauthorized"),
            context(credential_kind="no credentials (anonymous)"),
            UnauthorizedError,
            ["no credentials were sent", "set api_key"],
        ),
        (
            403,
            status_body(403, "Forbidden", FORBIDDEN, name="ruby", group="image.openshift.io", kind="imagestreams"),
            context(path="/apis/image.openshift.io/v1/namespaces/team/imagestreams/ruby"),
            ForbiddenError,
            [
                "was forbidden (403)",
                FORBIDDEN,
                "User 'sandbox-user' needs permission to get imagestreams.image.openshift.io in namespace 'team'",
                "oc adm policy add-role-to-user edit sandbox-user -n team",
            ],
        ),
        (
            403,
            status_body(403, "Forbidden", "forbidden"),
            context(method="PUT", path="/api/v1/namespaces/x/serviceaccounts/sa/status", impersonate_user="bob"),
            ForbiddenError,
            ["User 'bob' needs permission to update serviceaccounts/status in namespace 'x'"],
        ),
        (
            403,
            status_body(403, "Forbidden", ""),
            context(method="GET", path="/apis/machineconfiguration.openshift.io/v1/machineconfigpools"),
            ForbiddenError,
            ["no reason given", "User 'admin' needs permission to list machineconfigpools.machineconfiguration"],
        ),
        (
            403,
            status_body(
                403,
                "Forbidden",
                'users "bob" is forbidden: User "sandbox-user" cannot impersonate resource "users" in API group "" '
                "at the cluster scope",
            ),
            context(impersonate_user="bob"),
            ForbiddenError,
            ["User 'sandbox-user' may not impersonate", "'impersonate' verb on users", "drop impersonate_user"],
        ),
        (
            404,
            status_body(404, "NotFound", 'secrets "s" not found', name="s", kind="secrets"),
            context(),
            NotFoundError,
            ['not found (404): secrets "s" not found; check the name and the namespace'],
        ),
        (
            404,
            b"404 page not found\n",
            context(path="/apis/image.openshift.io/v1/namespaces/p/imagestreams/ruby"),
            NotFoundError,
            ["does not serve imagestreams.image.openshift.io (image.openshift.io/v1)", "404: 404 page not found"],
        ),
        (
            409,
            status_body(409, "Conflict", "the object has been modified; please apply your changes"),
            context(method="PUT"),
            ConflictError,
            ["conflict (409)", "changed by someone else"],
        ),
        (
            409,
            status_body(409, "AlreadyExists", 'secrets "s" already exists'),
            context(method="POST", path="/api/v1/namespaces/ns/secrets"),
            ConflictError,
            ["already exists (409 AlreadyExists)"],
        ),
        (
            422,
            status_body(
                422,
                "Invalid",
                'Secret "s" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>"',
                causes=[
                    {"reason": "FieldValueInvalid", "message": "Invalid value: bad json", "field": "data[.dockercfg]"},
                    {"reason": "FieldValueRequired"},
                    "junk",
                ],
            ),
            context(method="POST", path="/api/v1/namespaces/ns/secrets"),
            UnprocessableError,
            ["rejected the object as invalid (422)", "Causes: data[.dockercfg]: Invalid value: bad json; (object):"],
        ),
        (
            429,
            status_body(429, "TooManyRequests", "too many requests"),
            context(attempts=4),
            TooManyRequestsError,
            ["throttling requests (429 Too Many Requests) (after 4 attempts)", "fewer tasks"],
        ),
        (
            503,
            status_body(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
            context(path="/apis/image.openshift.io/v1/namespaces/p/imagestreams"),
            ServerError,
            ["failed (503 ServiceUnavailable)", "openshift-apiserver", "oc get clusteroperators"],
        ),
        (
            500,
            b"<html>oops</html>",
            context(),
            ServerError,
            ["failed (500 Internal Server Error): <html>oops</html>", "Retry later"],
        ),
        (
            400,
            status_body(400, "BadRequest", "bad request"),
            context(),
            KubeApiError,
            ["answered 400 BadRequest: bad request"],
        ),
    ],
)
def test_api_errors(
    status: int, body: bytes, ctx: RequestContext, error_class: type[KubeApiError], fragments: list[str]
) -> None:
    reason = http.client.responses.get(status, "")
    error = api_error(status, body, ctx, reason=reason)
    assert error.__class__ is error_class
    assert error.status == status
    assert (error.method, error.path) == (ctx.method, ctx.path)
    for fragment in fragments:
        assert fragment in str(error), (fragment, str(error))


STREAM_PATH = "/apis/image.openshift.io/v1/namespaces/team/imagestreams/ruby"


def test_an_image_stream_limit_is_not_explained_as_missing_permission() -> None:
    # openshift-apiserver's strategy answers a LimitRange of type openshift.io/ImageStream with a 403
    message = (
        'imagestreams.image.openshift.io "ruby" is forbidden: requested usage of openshift.io/image-tags exceeds the '
        "maximum limit per openshift.io/ImageStream (3 > 2)"
    )
    error = api_error(403, status_body(403, "Forbidden", message), context("PUT", STREAM_PATH), reason="Forbidden")
    assert isinstance(error, ForbiddenError)
    text = str(error)
    assert "refused (403) by the LimitRange of namespace 'team'" in text
    assert "would hold 3 distinct images its spec tags reference" in text
    assert "allows 2 (openshift.io/image-tags)" in text
    assert "oc describe limitrange -n team" in text
    assert "needs permission" not in text and "grant" not in text
    # an update: the strategy runs the check inside validation, and the server answers 422 with an internal error
    invalid = (
        'ImageStream.image.openshift.io "ruby" is invalid: []: Internal error: ImageStream.image.openshift.io "ruby" '
        "is forbidden: requested usage of openshift.io/image-tags exceeds the maximum limit per "
        "openshift.io/ImageStream (3 > 2)"
    )
    body = status_body(
        422, "Invalid", invalid, causes=[{"reason": "InternalError", "message": invalid[48:], "field": "[]"}]
    )
    error = api_error(422, body, context("PUT", STREAM_PATH))
    assert isinstance(error, UnprocessableError)
    assert "refused (422) by the LimitRange of namespace 'team'" in str(error)
    assert "allows 2 (openshift.io/image-tags)" in str(error)
    images = message.replace("image-tags", "images").replace("(3 > 2)", "(11 > 10)")
    text = str(api_error(403, status_body(403, "Forbidden", images), context("POST", STREAM_PATH)))
    assert "11 distinct images in its status" in text


def test_a_registry_outside_the_import_allowlist_names_the_image_config() -> None:
    cause = 'registry "ghcr.io" not allowed by whitelist: "quay.io:443", "127.0.0.1:*"'
    body = status_body(
        422,
        "Invalid",
        f'ImageStream.image.openshift.io "ruby" is invalid: spec.tags[x].from.name: Forbidden: {cause}',
        name="ruby",
        kind="ImageStream",
        causes=[{"reason": "FieldValueForbidden", "message": f"Forbidden: {cause}", "field": "spec.tags[x].from.name"}],
    )
    error = api_error(422, body, context("PUT", STREAM_PATH), reason="Unprocessable Entity")
    assert isinstance(error, UnprocessableError)
    text = str(error)
    assert "does not allow images from registry 'ghcr.io' (422)" in text
    assert "spec.allowedRegistriesForImport of images.config.openshift.io/cluster" in text
    assert '("quay.io:443", "127.0.0.1:*")' in text
    # found in the message too, when the server sent no causes
    bare = status_body(422, "Invalid", f"ImageStreamImport.image.openshift.io is invalid: {cause}")
    assert "does not allow images from registry 'ghcr.io'" in str(api_error(422, bare, context("POST", STREAM_PATH)))


def test_api_error_keeps_status_details_and_reason() -> None:
    error = api_error(404, status_body(404, "NotFound", "gone", name="s", kind="secrets"), context())
    assert error.reason == "NotFound"
    assert error.details == {"name": "s", "kind": "secrets"}


def test_long_messages_are_clipped() -> None:
    error = api_error(500, status_body(500, "InternalError", "x" * 5000), context())
    assert len(str(error)) < 1300


@given(st.integers(min_value=300, max_value=599), st.binary(max_size=300))
def test_api_error_accepts_any_body(status: int, body: bytes) -> None:
    error = api_error(status, body, context())
    assert isinstance(error, KubeApiError)
    assert str(error).startswith("GET /api/v1/namespaces/ns/secrets/s")


def test_parse_status() -> None:
    assert parse_status(status_body(404, "NotFound", "x"))["reason"] == "NotFound"  # type: ignore[index]
    assert parse_status(b'{"kind": "Secret"}') is None
    assert parse_status(b"\xff\xfe") is None


# ---------------------------------------------------------------------------------------------------------------
# Failures below HTTP


PROXY = ProxyEndpoint("http", "proxy.corp", 3128, None)


@pytest.mark.parametrize(
    ("error", "proxy", "fragments"),
    [
        (
            certificate_error(),
            None,
            [
                "TLS verification of the API server api.example.com:6443 failed: unable to get local issuer",
                "The CA used was kubeconfig CA",
                "Set ca_cert",
                "validate_certs: false",
            ],
        ),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), None, ["TLS handshake with"]),
        (TimeoutError("timed out"), None, ["no answer from api.example.com:6443 within 7 s", "request_timeout"]),
        (ConnectionRefusedError(111, "Connection refused"), None, ["connection to api.example.com:6443 was refused"]),
        (ConnectionRefusedError(111, "Connection refused"), PROXY, ["connection to proxy proxy.corp:3128 was refused"]),
        (socket.gaierror(-2, "Name or service not known"), None, ["cannot resolve host name 'api.example.com'"]),
        (
            TunnelRefusedError("407 Proxy Authentication Required"),
            PROXY,
            ["proxy proxy.corp refused to open a tunnel", "407 Proxy Authentication Required"],
        ),
        (
            http.client.RemoteDisconnected("Remote end closed connection without response"),
            None,
            ["broke before an answer arrived (RemoteDisconnected)"],
        ),
        (OSError(113, "No route to host"), PROXY, ["through proxy proxy.corp:3128", "No route to host"]),
    ],
)
def test_connection_errors(error: BaseException, proxy: ProxyEndpoint | None, fragments: list[str]) -> None:
    raised = connection_error(error, context=context(), proxy=proxy, ca_origin="kubeconfig CA", timeout=7)
    assert isinstance(raised, KubeConnectionError)
    assert str(raised).startswith("GET /api/v1/namespaces/ns/secrets/s: ")
    for fragment in fragments:
        assert fragment in str(raised), (fragment, str(raised))


def test_tls_server_name_is_named_in_tls_errors() -> None:
    raised = connection_error(
        certificate_error(), context=context(), proxy=None, ca_origin="x", timeout=1, tls_server_name="kubernetes"
    )
    assert "API server kubernetes:6443" in str(raised)


# ---------------------------------------------------------------------------------------------------------------
# TLS context


def make_certificates() -> tuple[str, str, str, str]:
    """A CA, and a client certificate signed by it with its key, as PEM; plus an unrelated key."""
    ca = new_authority("test-ca")
    client, client_key = ca.issue_client("client")
    return ca.pem, client, client_key, key_pem(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def certificates() -> tuple[str, str, str, str]:
    return make_certificates()


def temp_entries() -> set[str]:
    return {entry for entry in os.listdir(tempfile.gettempdir()) if entry.startswith("openshift_ops-")}


@pytest.fixture(autouse=True)
def private_temp_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The temp-file checks count files in the temp directory: another test process (xdist) must not share it.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def test_ssl_context_with_ca_and_client_certificate(certificates: tuple[str, str, str, str]) -> None:
    ca, cert, key = certificates[:3]
    before = temp_entries()
    context = build_ssl_context(
        ClusterConfig(server="https://h", ca_data=ca, client_cert_data=cert, client_key_data=key)
    )
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert [item["subject"] for item in context.get_ca_certs()] == [((("commonName", "test-ca"),),)]
    assert temp_entries() == before  # the key pair's temporary file is gone


def test_ssl_context_insecure_and_system_trust() -> None:
    insecure = build_ssl_context(ClusterConfig(server="https://h", verify_tls=False))
    assert (insecure.verify_mode, insecure.check_hostname) == (ssl.CERT_NONE, False)


def test_ssl_context_rejects_bad_ca() -> None:
    with pytest.raises(KubeAuthConfigError, match="the CA from ca_cert /x is not a valid PEM certificate"):
        build_ssl_context(ClusterConfig(server="https://h", ca_data="not pem", ca_origin="ca_cert /x"))


def test_ssl_context_rejects_mismatched_key(certificates: tuple[str, str, str, str]) -> None:
    cert, other_key = certificates[1], certificates[3]
    before = temp_entries()
    with pytest.raises(KubeAuthConfigError, match="are not valid PEM or do not belong together") as raised:
        build_ssl_context(
            ClusterConfig(server="https://h", client_cert_data=cert, client_key_data=other_key, source="kubeconfig /k")
        )
    assert "PRIVATE KEY" not in str(raised.value)
    assert temp_entries() == before


# ---------------------------------------------------------------------------------------------------------------
# The client before any request


def headers_of(client: KubeClient) -> list[tuple[str, str]]:
    return client._static_headers()


def test_headers_bearer_and_impersonation() -> None:
    client = KubeClient(
        ClusterConfig(
            server="https://h:6443",
            token="tok",
            impersonate_user="bob",
            impersonate_groups=("g1", "g2"),
            namespace="team",
        )
    )
    assert headers_of(client) == [
        ("Accept", "application/json"),
        ("User-Agent", USER_AGENT),
        ("Authorization", "Bearer tok"),
        ("Impersonate-User", "bob"),
        ("Impersonate-Group", "g1"),
        ("Impersonate-Group", "g2"),
    ]
    assert client.default_namespace == "team"
    assert USER_AGENT.startswith("openshift_ops.images ansible-core/")


def test_headers_basic_and_anonymous() -> None:
    basic = KubeClient(ClusterConfig(server="https://h", username="u", password="p"))
    assert ("Authorization", f"Basic {basic_auth_value('u', 'p')}") in headers_of(basic)
    anonymous = KubeClient(ClusterConfig(server="https://h"))
    assert [header[0] for header in headers_of(anonymous)] == ["Accept", "User-Agent"]


def test_request_targets() -> None:
    client = KubeClient(ClusterConfig(server="https://rancher.example.com/k8s/clusters/c-1"))
    assert client._target("/api/v1/namespaces", None) == "/k8s/clusters/c-1/api/v1/namespaces"
    assert client._target("/api/v1/pods", {"labelSelector": "a=b", "limit": 5}) == (
        "/k8s/clusters/c-1/api/v1/pods?labelSelector=a%3Db&limit=5"
    )
    via_proxy = KubeClient(ClusterConfig(server="http://h:8080", proxy="http://p:3128"))
    assert via_proxy._target("/api", None) == "http://h:8080/api"


@pytest.mark.parametrize("path", ["api/v1", "/api/v1\r\nX-Injected: 1", "/api/v1 x"])
def test_bad_paths_are_refused_before_sending(path: str) -> None:
    client = KubeClient(ClusterConfig(server="https://h"))
    with pytest.raises(InvalidInputError, match="must start with '/' and contain no spaces"):
        client.request("GET", path)
    assert client.requests_sent == 0
    assert client.connections_opened == 0


def test_unknown_patch_type() -> None:
    with pytest.raises(InvalidInputError, match="patch_type must be one of merge, strategic, json"):
        KubeClient(ClusterConfig(server="https://h")).patch("/api/v1/namespaces/x", {}, patch_type="apply")


def test_client_for_hides_every_secret_it_reads() -> None:
    hidden: set[str] = set()
    options = ConnectionOptions(host="https://h:6443", username="dev", password="pw", request_timeout=3.0)
    client = client_for(options, hidden.update)
    assert hidden == {"pw", basic_auth_value("dev", "pw")}
    client.on_new_secrets(["refreshed-token"])
    assert "refreshed-token" in hidden
    assert client.config.request_timeout == 3.0
    assert client.connections_opened == 0


@pytest.fixture
def no_kept_clients(monkeypatch: pytest.MonkeyPatch) -> dict[ClusterConfig, KubeClient]:
    kept: dict[ClusterConfig, KubeClient] = {}
    monkeypatch.setattr(kube_client, "_kept_clients", kept)
    monkeypatch.setattr(kube_client, "_kept_by_process", [])
    return kept


def test_kept_client_is_reused_for_the_same_cluster_and_still_hides_its_secrets(
    no_kept_clients: dict[ClusterConfig, KubeClient],
) -> None:
    first_hidden: set[str] = set()
    second_hidden: set[str] = set()
    options = ConnectionOptions(host="https://h:6443", username="dev", password="pw")
    first = kept_client_for(options, first_hidden.update)
    second = kept_client_for(options, second_hidden.update)
    assert second is first
    # each run masks with its own no_log values: the second is told the secrets again, and told refreshed ones
    assert second_hidden == first_hidden == {"pw", basic_auth_value("dev", "pw")}
    second.on_new_secrets(["refreshed-token"])
    assert "refreshed-token" in second_hidden
    assert "refreshed-token" not in first_hidden


def test_kept_client_is_not_shared_between_clusters_or_credentials(
    no_kept_clients: dict[ClusterConfig, KubeClient],
) -> None:
    base = kept_client_for(ConnectionOptions(host="https://h:6443", api_key="a"), lambda _values: None)
    other_token = kept_client_for(ConnectionOptions(host="https://h:6443", api_key="b"), lambda _values: None)
    other_server = kept_client_for(ConnectionOptions(host="https://g:6443", api_key="a"), lambda _values: None)
    assert len({id(base), id(other_token), id(other_server)}) == 3
    assert kept_client_for(ConnectionOptions(host="https://h:6443", api_key="a"), lambda _values: None) is base


def test_kept_clients_are_bounded_and_the_least_recently_used_is_closed(
    no_kept_clients: dict[ClusterConfig, KubeClient],
) -> None:
    clients = [
        kept_client_for(ConnectionOptions(host=f"https://h{number}:6443"), lambda _values: None)
        for number in range(kube_client.KEPT_CLIENTS)
    ]
    assert kept_client_for(ConnectionOptions(host="https://h0:6443"), lambda _values: None) is clients[0]
    closed: list[KubeClient] = []

    def recording_close(client: KubeClient) -> Callable[[], None]:
        return lambda: closed.append(client)

    for client in clients:
        client.close = recording_close(client)  # type: ignore[method-assign]
    kept_client_for(ConnectionOptions(host="https://another:6443"), lambda _values: None)
    assert closed == [clients[1]]  # h0 was used again since, so h1 is the oldest
    assert len(no_kept_clients) == kube_client.KEPT_CLIENTS


def test_kept_clients_are_not_used_by_a_forked_child(
    no_kept_clients: dict[ClusterConfig, KubeClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    options = ConnectionOptions(host="https://h:6443", api_key="a")
    parents = kept_client_for(options, lambda _values: None)
    parents.close = lambda: pytest.fail("the parent's connections were closed")  # type: ignore[method-assign]
    monkeypatch.setattr(os, "getpid", lambda: -1)  # the same memory, another process
    childs = kept_client_for(options, lambda _values: None)
    assert childs is not parents
    assert kept_client_for(options, lambda _values: None) is childs


def test_a_client_with_an_exec_plugin_is_never_kept(
    no_kept_clients: dict[ClusterConfig, KubeClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refresh() -> Any:
        raise AssertionError("not run here")

    config = ClusterConfig(server="https://h:6443", token="t", refresh_credentials=refresh)
    monkeypatch.setattr(kube_client, "resolve_cluster_config", lambda _options: config)
    first = kept_client_for(ConnectionOptions(), lambda _values: None)
    second = kept_client_for(ConnectionOptions(), lambda _values: None)
    assert first is not second
    assert no_kept_clients == {}
