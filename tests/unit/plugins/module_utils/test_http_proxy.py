"""Which proxy a request uses: ``no_proxy`` matching (Go's rules without its localhost special case), proxy URLs,
the ``proxy`` option of the API client and the environment of the registry check. Pure: no server."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
    KubeAuthConfigError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.proxy import (
    ProxyEndpoint,
    choose_proxy,
    environment_proxy,
    no_proxy_matches,
    parse_proxy_url,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import basic_auth_value


@pytest.mark.parametrize(
    ("host", "port", "no_proxy", "direct"),
    [
        ("api.example.com", 6443, None, False),
        ("api.example.com", 6443, "", False),
        ("api.example.com", 6443, "*", True),
        ("api.example.com", 6443, "example.com", True),
        ("example.com", 6443, "example.com", True),
        ("badexample.com", 6443, "example.com", False),
        ("api.example.com", 6443, ".example.com", True),
        ("example.com", 6443, ".example.com", False),
        ("api.example.com", 6443, "*.example.com", True),
        ("API.Example.COM.", 6443, "example.com", True),
        ("api.example.com", 6443, "other.org, example.com ", True),
        ("api.example.com", 6443, "example.com:6443", True),
        ("api.example.com", 443, "example.com:6443", False),
        ("10.1.2.3", 6443, "10.0.0.0/8", True),
        ("11.1.2.3", 6443, "10.0.0.0/8", False),
        ("api.example.com", 6443, "10.0.0.0/8", False),
        ("10.1.2.3", 6443, "10.1.2.3", True),
        ("10.1.2.4", 6443, "10.1.2.3", False),
        ("127.0.0.1", 6443, "127.0.0.1:6443", True),
        ("::1", 6443, "::1", True),
        ("[::1]", 6443, "[::1]:6443", True),
        ("[::1]", 443, "[::1]:6443", False),
        ("fd00::5", 6443, "fd00::/16", True),
        ("api.example.com", 6443, "not/a/cidr", False),
        ("localhost", 6443, "localhost", True),
    ],
)
def test_no_proxy_matches(host: str, port: int, no_proxy: str | None, direct: bool) -> None:
    assert no_proxy_matches(host, port, no_proxy) is direct


@given(st.text(max_size=40), st.integers(min_value=0, max_value=65535), st.text(max_size=60))
@example("", 0, ":\u00b2")  # a superscript two is a digit to str.isdigit() but not to int()
@example("h", 0, "[::1]:\u0663")
def test_no_proxy_never_raises(host: str, port: int, no_proxy: str) -> None:
    assert isinstance(no_proxy_matches(host, port, no_proxy), bool)


def test_parse_proxy_url() -> None:
    assert parse_proxy_url("http://proxy.local:3128") == ProxyEndpoint("http", "proxy.local", 3128, None)
    assert parse_proxy_url("proxy.local") == ProxyEndpoint("http", "proxy.local", 80, None)
    with_auth = parse_proxy_url("http://us%40er:p%3Ass@proxy:8080")
    assert with_auth.authorization == f"Basic {basic_auth_value('us@er', 'p:ss')}"
    assert basic_auth_value("us@er", "p:ss") not in repr(with_auth)


@pytest.mark.parametrize(
    ("proxy", "message"),
    [
        ("socks5://p:1080", "proxy scheme 'socks5' is not supported"),
        ("https://p:443", "proxy scheme 'https' is not supported"),
        ("http://:3128", "has no host"),
        ("http://p:notaport", "invalid port"),
    ],
)
def test_bad_proxy_urls(proxy: str, message: str) -> None:
    with pytest.raises(KubeAuthConfigError, match=message):
        parse_proxy_url(proxy)


def test_choose_proxy_honours_no_proxy() -> None:
    assert choose_proxy("https://api.example.com:6443", None, None) is None
    assert choose_proxy("https://api.example.com:6443", "http://p:1", ".example.com") is None
    chosen = choose_proxy("https://api.example.com", "http://p:1", "example.com:6443")
    assert chosen == ProxyEndpoint("http", "p", 1, None)


# ---------------------------------------------------------------------------------------------------------------
# The environment, for the registry check

P1 = ProxyEndpoint("http", "p1", 3128, None)
P2 = ProxyEndpoint("http", "p2", 8080, None)


@pytest.mark.parametrize(
    ("scheme", "host", "environ", "expected"),
    [
        ("https", "quay.io", {}, None),
        ("https", "quay.io", {"HTTPS_PROXY": "http://p1:3128"}, ("HTTPS_PROXY", P1)),
        ("https", "quay.io", {"https_proxy": "p1:3128"}, ("https_proxy", P1)),  # no scheme: http://
        # upper case wins over lower case when both are set, as in Go's httpproxy.FromEnvironment
        ("https", "quay.io", {"HTTPS_PROXY": "http://p1:3128", "https_proxy": "http://p2:8080"}, ("HTTPS_PROXY", P1)),
        # an empty variable counts as unset
        ("https", "quay.io", {"HTTPS_PROXY": "", "https_proxy": "http://p2:8080"}, ("https_proxy", P2)),
        # HTTPS requests never fall back to HTTP_PROXY; plain HTTP ones use only HTTP_PROXY
        ("https", "quay.io", {"HTTP_PROXY": "http://p1:3128", "http_proxy": "http://p1:3128"}, None),
        ("http", "quay.io", {"HTTPS_PROXY": "http://p1:3128"}, None),
        ("http", "quay.io", {"HTTP_PROXY": "http://p2:8080", "HTTPS_PROXY": "http://p1:3128"}, ("HTTP_PROXY", P2)),
        ("http", "quay.io", {"http_proxy": "http://p2:8080"}, ("http_proxy", P2)),
        # NO_PROXY, with no_proxy_matches' rules; upper case wins here too
        ("https", "quay.io", {"HTTPS_PROXY": "http://p1:3128", "NO_PROXY": "quay.io"}, None),
        ("https", "cdn.quay.io", {"HTTPS_PROXY": "http://p1:3128", "no_proxy": ".quay.io"}, None),
        ("https", "quay.io", {"HTTPS_PROXY": "http://p1:3128", "NO_PROXY": "quay.io:5000"}, ("HTTPS_PROXY", P1)),
        (
            "https",
            "quay.io",
            {"HTTPS_PROXY": "http://p1:3128", "NO_PROXY": "other.example", "no_proxy": "quay.io"},
            ("HTTPS_PROXY", P1),
        ),
        ("https", "10.1.2.3", {"HTTPS_PROXY": "http://p1:3128", "NO_PROXY": "10.0.0.0/8"}, None),
        ("https", "quay.io", {"HTTPS_PROXY": "http://p1:3128", "NO_PROXY": "*"}, None),
        # unlike Go, localhost and loopback addresses are proxied unless NO_PROXY names them
        ("https", "localhost", {"HTTPS_PROXY": "http://p1:3128"}, ("HTTPS_PROXY", P1)),
        ("https", "127.0.0.1", {"HTTPS_PROXY": "http://p1:3128"}, ("HTTPS_PROXY", P1)),
        ("https", "127.0.0.1", {"HTTPS_PROXY": "http://p1:3128", "NO_PROXY": "127.0.0.1"}, None),
        # the variables of the API client are not read here
        ("https", "quay.io", {"K8S_AUTH_PROXY": "http://p1:3128"}, None),
    ],
)
def test_environment_proxy(
    scheme: str, host: str, environ: dict[str, str], expected: tuple[str, ProxyEndpoint] | None
) -> None:
    port = 443 if scheme == "https" else 80
    assert environment_proxy(scheme, host, port, environ) == expected


def test_environment_proxy_credentials_become_proxy_authorization() -> None:
    chosen = environment_proxy("https", "quay.io", 443, {"HTTPS_PROXY": "http://bob:s%40cret@p1:3128"})
    assert chosen is not None
    assert chosen[1].authorization == f"Basic {basic_auth_value('bob', 's@cret')}"
    assert "s@cret" not in repr(chosen)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("socks5://bob:s3cret@p:1080", "the HTTPS_PROXY environment variable: proxy scheme 'socks5' is not supported"),
        ("https://bob:s3cret@p:443", "the HTTPS_PROXY environment variable: proxy scheme 'https' is not supported"),
        ("http://bob:s3cret@p:port", "the HTTPS_PROXY environment variable: the proxy URL has an invalid port"),
    ],
)
def test_an_unusable_environment_proxy_is_named_not_shown(value: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as raised:
        environment_proxy("https", "quay.io", 443, {"HTTPS_PROXY": value})
    assert "s3cret" not in str(raised.value)
