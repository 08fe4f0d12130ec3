"""The registry credential check reaches a registry as podman and skopeo on the same host would: through the proxy
that HTTPS_PROXY (HTTP_PROXY for an http:// registry) names, unless NO_PROXY names the registry.

The registry is a loopback HTTPS server of the test's own with a test CA, answering ``/v2/`` with a Basic challenge;
the proxy is a real forward proxy on loopback that records every CONNECT it tunnels."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import entry_from_credentials
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import (
    ACCEPTED,
    ERROR,
    UNREACHABLE,
    check_registry_credentials,
)
from ansible_collections.openshift_ops.images.tests.unit.support.certificates import (
    Authority,
    loopback_tls,
    new_authority,
)
from ansible_collections.openshift_ops.images.tests.unit.support.forward_proxy import ForwardProxy
from ansible_collections.openshift_ops.images.tests.unit.support.ports import closed_port
from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import (
    RecordingRegistry,
    basic_auth_registry,
    bearer_registry,
    token_service_for,
)

USER = "robot"
PASSWORD = "proxied-Pa55word"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
ENTRY = entry_from_credentials(username=USER, password=PASSWORD)


token_service = token_service_for(BASIC)


@pytest.fixture(scope="module")
def registry_ca() -> Authority:
    return new_authority("registry-proxy-test CA")


@pytest.fixture
def tls(tmp_path: Path, registry_ca: Authority) -> tuple[Callable[[], ssl.SSLContext], str]:
    return loopback_tls(tmp_path, registry_ca)


def test_the_check_goes_through_the_https_proxy(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Callable[[], ssl.SSLContext], str]
) -> None:
    contexts, ca_data = tls
    with ForwardProxy() as proxy, RecordingRegistry(basic_auth_registry(BASIC), contexts()) as registry:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        result = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
    assert (result.ok, result.outcome) == (True, ACCEPTED), result.detail
    # the ping and the request with basic auth, each through a tunnel of its own
    assert proxy.requests == [f"CONNECT {registry.netloc} HTTP/1.0"] * 2
    assert registry.authorizations == [BASIC]


def test_a_no_proxy_match_connects_directly(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Callable[[], ssl.SSLContext], str]
) -> None:
    contexts, ca_data = tls
    with ForwardProxy() as proxy, RecordingRegistry(basic_auth_registry(BASIC), contexts()) as registry:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "registry.example.com,127.0.0.1")
        result = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
    assert (result.ok, result.outcome) == (True, ACCEPTED), result.detail
    assert proxy.requests == []
    assert registry.authorizations == [BASIC]


def test_upper_case_wins_and_lower_case_alone_is_read(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Callable[[], ssl.SSLContext], str]
) -> None:
    contexts, ca_data = tls
    with (
        ForwardProxy() as upper,
        ForwardProxy() as lower,
        RecordingRegistry(basic_auth_registry(BASIC), contexts()) as registry,
    ):
        monkeypatch.setenv("HTTPS_PROXY", upper.url)
        monkeypatch.setenv("https_proxy", lower.url)
        both = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
        monkeypatch.delenv("HTTPS_PROXY")
        lower_only = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
    assert (both.outcome, lower_only.outcome) == (ACCEPTED, ACCEPTED), (both.detail, lower_only.detail)
    assert len(upper.requests) == 2
    assert len(lower.requests) == 2


def test_http_proxy_is_not_used_for_an_https_registry(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Callable[[], ssl.SSLContext], str]
) -> None:
    contexts, ca_data = tls
    with ForwardProxy() as proxy, RecordingRegistry(basic_auth_registry(BASIC), contexts()) as registry:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        result = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
    assert result.outcome == ACCEPTED, result.detail
    assert proxy.requests == []


def test_the_proxy_credentials_go_to_the_proxy_only(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Callable[[], ssl.SSLContext], str]
) -> None:
    contexts, ca_data = tls
    proxy_basic = "Basic " + base64.b64encode(b"bob:proxy-s3cret").decode()
    with (
        ForwardProxy(require_authorization=proxy_basic) as proxy,
        RecordingRegistry(basic_auth_registry(BASIC), contexts()) as registry,
    ):
        monkeypatch.setenv("HTTPS_PROXY", f"http://bob:proxy-s3cret@127.0.0.1:{proxy.port}")
        result = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
    assert result.outcome == ACCEPTED, result.detail
    assert proxy.authorizations == [proxy_basic, proxy_basic]
    assert all("Proxy-Authorization" not in seen.headers for seen in registry.seen)
    assert "proxy-s3cret" not in result.detail


def test_a_proxy_refusing_the_tunnel_is_named_with_its_variable(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Callable[[], ssl.SSLContext], str]
) -> None:
    contexts, ca_data = tls
    with (
        ForwardProxy(require_authorization="Basic b3RoZXI6dXNlcg==") as proxy,
        RecordingRegistry(basic_auth_registry(BASIC), contexts()) as registry,
    ):
        monkeypatch.setenv("HTTPS_PROXY", f"http://bob:proxy-s3cret@127.0.0.1:{proxy.port}")
        result = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
    assert (result.ok, result.outcome) == (False, UNREACHABLE)
    assert result.detail == (
        f"the proxy 127.0.0.1:{proxy.port} from HTTPS_PROXY refused to open a tunnel to https://{registry.netloc} "
        "(407 Proxy Authentication Required); check HTTPS_PROXY (and its credentials) and NO_PROXY"
    )
    assert len(proxy.requests) == 1, "a refused tunnel is not asked again"
    assert registry.seen == []


def test_a_proxy_nobody_listens_on_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("https_proxy", f"http://bob:proxy-s3cret@127.0.0.1:{port}")
    result = check_registry_credentials("registry.example.com", ENTRY, timeout=5)
    assert (result.ok, result.outcome) == (False, UNREACHABLE)
    assert result.detail == (
        f"connection to the proxy 127.0.0.1:{port} from https_proxy for https://registry.example.com refused: "
        "nothing listens there; check https_proxy (after 3 attempts)"
    )


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("socks5://bob:proxy-s3cret@127.0.0.1:1080", "proxy scheme 'socks5' is not supported"),
        ("https://bob:proxy-s3cret@127.0.0.1:3129", "proxy scheme 'https' is not supported"),
    ],
)
def test_an_unusable_proxy_variable_is_reported_not_shown(
    monkeypatch: pytest.MonkeyPatch, value: str, fragment: str
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", value)
    result = check_registry_credentials("registry.example.com", ENTRY, timeout=5)
    assert (result.ok, result.outcome) == (False, UNREACHABLE)
    assert result.detail.startswith(
        "cannot reach https://registry.example.com through a proxy: the HTTPS_PROXY environment variable: "
    )
    assert fragment in result.detail
    assert "proxy-s3cret" not in result.detail


def test_a_plain_http_registry_goes_through_http_proxy_in_absolute_form(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy_basic = "Basic " + base64.b64encode(b"bob:proxy-s3cret").decode()
    with (
        ForwardProxy(require_authorization=proxy_basic) as proxy,
        RecordingRegistry(basic_auth_registry(BASIC)) as registry,
    ):
        monkeypatch.setenv("HTTP_PROXY", f"http://bob:proxy-s3cret@127.0.0.1:{proxy.port}")
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # for https only: never used here
        # plain HTTP carries credentials only to a registry marked insecure
        result = check_registry_credentials(registry.base, ENTRY, validate_certs=False, timeout=5)
    assert result.outcome == ACCEPTED, result.detail
    assert proxy.requests == [f"GET {registry.base}/v2/ HTTP/1.1"] * 2
    assert proxy.authorizations == [proxy_basic, proxy_basic]
    assert registry.authorizations == [BASIC]


def test_a_plain_http_proxy_asking_for_credentials_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with (
        ForwardProxy(require_authorization="Basic b3RoZXI6dXNlcg==") as proxy,
        RecordingRegistry(basic_auth_registry(BASIC)) as registry,
    ):
        monkeypatch.setenv("http_proxy", proxy.url)
        result = check_registry_credentials(registry.base, ENTRY, validate_certs=False, timeout=5)
    assert (result.ok, result.outcome) == (False, UNREACHABLE)
    assert result.detail == (
        f"the proxy 127.0.0.1:{proxy.port} from http_proxy asked for credentials for {registry.base} "
        "(HTTP 407 Proxy Authentication Required); give them in http_proxy as http://user:password@host:port, or "
        "add the registry to NO_PROXY"
    )
    assert registry.seen == []


def test_each_url_gets_its_own_proxy_decision(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Callable[[], ssl.SSLContext], str]
) -> None:
    # The registry is in NO_PROXY (with its port), the token realm it names is not: only the realm is proxied.
    contexts, ca_data = tls
    with (
        ForwardProxy() as proxy,
        RecordingRegistry(token_service, contexts()) as realm,
        RecordingRegistry(bearer_registry(f"{realm.base}/token"), contexts()) as registry,
    ):
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", f"127.0.0.1:{registry.port}")
        result = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
    assert result.outcome == ACCEPTED, result.detail
    assert proxy.requests == [f"CONNECT {realm.netloc} HTTP/1.0"]
    assert realm.authorizations == [BASIC]
    assert registry.authorizations == ["Bearer issued-token"]


def test_a_redirect_is_not_followed_through_the_proxy_either(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Callable[[], ssl.SSLContext], str]
) -> None:
    contexts, ca_data = tls
    with (
        ForwardProxy() as proxy,
        RecordingRegistry(basic_auth_registry(BASIC), contexts()) as elsewhere,
        RecordingRegistry(
            lambda seen: (307, {"Location": f"{elsewhere.base}{seen.path}"}, b""), contexts()
        ) as registry,
    ):
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        result = check_registry_credentials(registry.netloc, ENTRY, ca_data=ca_data, timeout=5)
    assert (result.ok, result.outcome) == (False, ERROR), result.detail
    assert "not followed" in result.detail
    assert proxy.requests == [f"CONNECT {registry.netloc} HTTP/1.0"]
    assert elsewhere.seen == []


def test_the_task_environment_is_what_counts(tls: tuple[Callable[[], ssl.SSLContext], str]) -> None:
    # environ= stands for the process environment, which holds the task's environment on both execution paths
    contexts, ca_data = tls
    with ForwardProxy() as proxy, RecordingRegistry(basic_auth_registry(BASIC), contexts()) as registry:
        result = check_registry_credentials(
            registry.netloc, ENTRY, ca_data=ca_data, timeout=5, environ={"HTTPS_PROXY": proxy.url}
        )
    assert result.outcome == ACCEPTED, result.detail
    assert len(proxy.requests) == 2
