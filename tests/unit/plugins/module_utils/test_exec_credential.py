"""Exec credential plugins: the kubeconfig entry, ``KUBERNETES_EXEC_INFO``, the plugin's answer, and running it
(as small real scripts)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import (
    ExecPlugin,
    exec_info,
    parse_exec_credential,
    parse_exec_plugin,
    run_exec_plugin,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64
from ansible_collections.openshift_ops.images.tests.unit.support.kubeconfigs import (
    CA_PEM,
    CERT_PEM,
    KEY_PEM,
    NOW,
    V1,
    V1BETA1,
    script,
    write,
)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cmd", "has no command"),
        ({"command": "x"}, "uses apiVersion ''"),
        ({"command": "x", "apiVersion": "client.authentication.k8s.io/v1alpha1"}, "supported: client.auth"),
        ({"command": "x", "apiVersion": V1, "env": [{"value": "v"}]}, "every env entry needs a name"),
        ({"command": "x", "apiVersion": V1, "interactiveMode": "Always"}, "needs a terminal"),
    ],
)
def test_bad_exec_specs(spec: Any, message: str) -> None:
    with pytest.raises(KubeAuthConfigError, match=message):
        parse_exec_plugin(spec, where="user 'u'")


def test_exec_spec_is_parsed() -> None:
    plugin = parse_exec_plugin(
        {
            "command": "/bin/plugin",
            "apiVersion": V1BETA1,
            "args": ["get-token", 3],
            "env": [{"name": "A", "value": "1"}],
            "installHint": "brew install plugin",
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        },
        where="u",
    )
    assert plugin == ExecPlugin(
        command="/bin/plugin",
        api_version=V1BETA1,
        args=("get-token", "3"),
        env=(("A", "1"),),
        install_hint="brew install plugin",
        provide_cluster_info=True,
        interactive_mode="Never",
    )


def test_exec_info_without_and_with_cluster_info(tmp_path: Path) -> None:
    cluster = {
        "server": "https://h:6443",
        "certificate-authority": write(tmp_path / "ca.crt", CA_PEM),
        "tls-server-name": "k",
        "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "x"}}],
    }
    plain = json.loads(exec_info(ExecPlugin(command="c", api_version=V1), cluster))
    assert plain == {"apiVersion": V1, "kind": "ExecCredential", "spec": {"interactive": False}}
    full = json.loads(exec_info(ExecPlugin(command="c", api_version=V1, provide_cluster_info=True), cluster))
    assert full["spec"]["cluster"] == {
        "server": "https://h:6443",
        "tls-server-name": "k",
        "certificate-authority-data": b64(CA_PEM),
        "config": {"audience": "x"},
    }


def credential(status: Any, *, api_version: str = V1, kind: str = "ExecCredential") -> str:
    return json.dumps({"apiVersion": api_version, "kind": kind, "status": status})


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("not json", "did not print a JSON ExecCredential"),
        (json.dumps([1]), "is not an ExecCredential"),
        (credential({"token": "t"}, kind="Other"), "is not an ExecCredential"),
        (credential({"token": "t"}, api_version=V1BETA1), "configured for client.authentication.k8s.io/v1 but"),
        (json.dumps({"apiVersion": V1, "kind": "ExecCredential"}), "without status"),
        (credential({"clientCertificateData": CERT_PEM}), "only one of clientCertificateData and clientKeyData"),
        (credential({}), "neither a token nor a client certificate"),
        (credential({"token": 5}), "status.token that is not a string"),
        (credential({"token": "t", "expirationTimestamp": "yesterday"}), "not RFC 3339"),
        (credential({"token": "t", "expirationTimestamp": "2029-12-31T23:00:00Z"}), "expired at 2029-12-31"),
    ],
)
def test_bad_exec_credentials(output: str, message: str) -> None:
    with pytest.raises(KubeAuthConfigError, match=message) as raised:
        parse_exec_credential(output, api_version=V1, now=NOW, where="u")
    assert '"t"' not in str(raised.value)


def test_exec_credential_token_and_certificate() -> None:
    parsed = parse_exec_credential(
        credential({"token": "tok", "expirationTimestamp": "2030-01-01T01:00:00Z"}), api_version=V1, now=NOW, where="u"
    )
    assert parsed.token == "tok"
    assert parsed.expires_at == datetime(2030, 1, 1, 1, tzinfo=UTC)
    naive = parse_exec_credential(
        credential(
            {"clientCertificateData": CERT_PEM, "clientKeyData": KEY_PEM, "expirationTimestamp": "2031-01-01T00:00:00"}
        ),
        api_version=V1,
        now=NOW,
        where="u",
    )
    assert (naive.token, naive.client_certificate_data, naive.client_key_data) == (None, CERT_PEM, KEY_PEM)
    assert naive.expires_at == datetime(2031, 1, 1, tzinfo=UTC)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


@given(
    st.one_of(
        st.text(max_size=200),
        json_values.map(json.dumps),
        st.dictionaries(
            st.sampled_from(["token", "clientCertificateData", "clientKeyData", "expirationTimestamp"]),
            json_values,
        ).map(credential),
    )
)
def test_exec_credential_parser_fails_only_with_our_error_and_never_echoes(output: str) -> None:
    try:
        parsed = parse_exec_credential(output, api_version=V1, now=NOW, where="u")
    except KubeAuthConfigError as error:
        assert output not in str(error) or len(output) < 4
    else:
        assert parsed.token or (parsed.client_certificate_data and parsed.client_key_data)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("import sys\nsys.stderr.write('login required: run plugin login\\n')\nsys.exit(3)", "exit code 3: login req"),
        ("print('hello')", "did not print a JSON ExecCredential"),
        ("import time\ntime.sleep(5)", "did not finish within 0.5 s"),
    ],
)
def test_exec_plugin_failures(tmp_path: Path, body: str, message: str) -> None:
    plugin = ExecPlugin(command=script(tmp_path, body), api_version=V1)
    with pytest.raises(KubeAuthConfigError, match=message):
        run_exec_plugin(plugin, {}, {"PATH": os.environ["PATH"]}, where="user 'u'", now=NOW, timeout=0.5)


def test_exec_plugin_missing_or_not_executable(tmp_path: Path) -> None:
    missing = ExecPlugin(command="openshift-ops-no-such-plugin", api_version=V1, install_hint="dnf install it")
    with pytest.raises(KubeAuthConfigError, match=r"was not found; install it or fix the path \(dnf install it\)"):
        run_exec_plugin(missing, {}, {"PATH": str(tmp_path)}, where="u", now=NOW)
    plain = tmp_path / "plain"
    plain.write_text("not a program")
    with pytest.raises(KubeAuthConfigError, match="is not executable"):
        run_exec_plugin(ExecPlugin(command=str(plain), api_version=V1), {}, {}, where="u", now=NOW)


def test_the_expiry_is_checked_against_the_time_the_plugin_runs(tmp_path: Path) -> None:
    in_an_hour = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = f"""
import json
print(json.dumps({{"apiVersion": "{V1}", "kind": "ExecCredential",
                  "status": {{"token": "t", "expirationTimestamp": "{in_an_hour}"}}}}))
"""
    plugin = ExecPlugin(command=script(tmp_path, body), api_version=V1)
    assert run_exec_plugin(plugin, {}, {}, where="u").token == "t"
    with pytest.raises(KubeAuthConfigError, match="returned a credential that expired at"):
        run_exec_plugin(plugin, {}, {}, where="u", now=datetime.now(UTC) + timedelta(hours=2))
