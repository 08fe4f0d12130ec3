"""``ClusterConfig``: the secrets it holds in every form they may be printed in, its ``repr``, an exec plugin's
answer taking over its credentials; and the server URL form and file reading each of its sources shares."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import basic_auth_value
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import (
    ClusterConfig,
    normalize_server_url,
    proxy_secret_values,
    read_named_file,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import ExecCredential


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("https://api.example.com:6443/", "https://api.example.com:6443"),
        ("api.example.com:6443", "https://api.example.com:6443"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://rancher.example.com/k8s/clusters/c-1", "https://rancher.example.com/k8s/clusters/c-1"),
        ("https://[::1]:6443", "https://[::1]:6443"),
    ],
)
def test_normalize_server_url(server: str, expected: str) -> None:
    assert normalize_server_url(server, where="host") == expected


@pytest.mark.parametrize("server", ["ftp://h", "https://", "https://h:99999", "https://h:port", "https://h x"])
def test_bad_server_url(server: str) -> None:
    with pytest.raises(KubeAuthConfigError, match="host"):
        normalize_server_url(server, where="host")


def test_read_named_file_says_what_the_file_is_for(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("pem")
    assert read_named_file(str(tmp_path / "ca.crt"), "ca_cert", "fix it") == "pem"
    with pytest.raises(KubeAuthConfigError, match=f"^ca_cert {tmp_path}/nope does not exist; fix it$"):
        read_named_file(str(tmp_path / "nope"), "ca_cert", "fix it")
    with pytest.raises(KubeAuthConfigError, match=f"^cannot read ca_cert {tmp_path}: .*; fix it$"):
        read_named_file(str(tmp_path), "ca_cert", "fix it")  # a directory
    (tmp_path / "binary").write_bytes(b"\xff\xfe")
    with pytest.raises(KubeAuthConfigError, match=r"not readable text; fix it$"):
        read_named_file(str(tmp_path / "binary"), "ca_cert", "fix it")


@pytest.mark.parametrize(
    ("proxy", "expected"),
    [
        ("http://proxy:3128", set()),
        ("http://bob@proxy:3128", set()),
        (
            "http://bob:p%40ss@proxy:3128",
            {"p%40ss", "p@ss", "bob:p%40ss", "bob:p@ss", basic_auth_value("bob", "p@ss")},
        ),
        ("socks5://a:b@h:1", {"b", "a:b", basic_auth_value("a", "b")}),
    ],
)
def test_proxy_credentials_are_secret_values(proxy: str, expected: set[str]) -> None:
    config = ClusterConfig(server="https://h", proxy=proxy)
    assert set(config.secret_values()) == expected
    assert set(proxy_secret_values(proxy)) == expected


def test_repr_hides_secrets() -> None:
    config = ClusterConfig(server="https://h", token="tok-123", password="pw-456", client_key_data="key-789")
    text = repr(config)
    for secret in ("tok-123", "pw-456", "key-789"):
        assert secret not in text
    assert set(config.secret_values()) == {"tok-123", "pw-456", "key-789"}
    credential = ExecCredential(token="exec-tok", client_certificate_data="cert", client_key_data="exec-key")
    assert "exec-tok" not in repr(credential) and "exec-key" not in repr(credential)
    assert "client_certificate_data='cert'" in repr(credential)


def test_credential_kind() -> None:
    assert ClusterConfig(server="https://h").credential_kind == "no credentials (anonymous)"
    both = ClusterConfig(server="https://h", token="t", client_cert_data="c", client_key_data="k")
    assert both.credential_kind == "bearer token and client certificate"
    assert ClusterConfig(server="https://h", username="", password="").credential_kind == "basic auth"


def test_an_exec_credential_takes_over_only_what_it_gives() -> None:
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    config = ClusterConfig(server="https://h", token="static", client_cert_data="c", client_key_data="k")
    with_token = config.with_exec_credential(ExecCredential(token="exec", expires_at=expires))
    assert (with_token.token, with_token.client_cert_data, with_token.token_expires_at) == ("exec", "c", expires)
    with_certificate = config.with_exec_credential(
        ExecCredential(client_certificate_data="exec-cert", client_key_data="exec-key")
    )
    assert (with_certificate.token, with_certificate.client_cert_data, with_certificate.client_key_data) == (
        "static",
        "exec-cert",
        "exec-key",
    )
    assert with_certificate.token_expires_at is None
    assert config.token == "static"  # a new configuration; the old one is left as it was
