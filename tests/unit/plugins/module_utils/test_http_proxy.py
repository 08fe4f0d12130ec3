"""Which proxy a request uses: ``no_proxy`` matching (Go's rules without its localhost special case), proxy URLs,
the ``proxy`` option of the API client. Pure: no server."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._http.proxy import (
    ProxyEndpoint,
    choose_proxy,
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
