"""Resolving the ClusterConfig from parsed options: the order of the sources (options alone, kubeconfig,
in-cluster), the options over them, the exec plugin's first run (a small real script), the transport warnings."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
    KubeAuthConfigError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import basic_auth_value
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config_resolution import (
    VALIDATE_CERTS_OFF,
    resolve_cluster_config,
    transport_warnings,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import ExecCredential
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64
from ansible_collections.openshift_ops.images.tests.unit.support.kubeconfigs import (
    CA_PEM,
    CERT_PEM,
    IN_CLUSTER_ENV,
    KEY_PEM,
    V1,
    V1BETA1,
    kubeconfig,
    script,
    write,
)


@pytest.fixture
def no_sa(tmp_path: Path) -> str:
    """A service account directory that does not exist: no in-cluster configuration."""
    return str(tmp_path / "no-serviceaccount")


def resolve(
    params: dict[str, Any] | None = None, environ: dict[str, str] | None = None, **kwargs: Any
) -> ClusterConfig:
    """What a caller that is not a module does: parse the options (their fallbacks from ``environ``), resolve."""
    environ = environ or {}
    return resolve_cluster_config(ConnectionOptions.from_params(params or {}, environ), environ, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# The resolution order


def test_explicit_host_and_credentials_read_no_kubeconfig(tmp_path: Path, home: Path, no_sa: str) -> None:
    broken = write(tmp_path / "broken", "- not a kubeconfig")
    config = resolve(
        {"host": "api.example.com:6443", "api_key": "opt-token"},
        {"KUBECONFIG": broken, "HOME": str(home)},
        service_account_dir=no_sa,
    )
    assert config.server == "https://api.example.com:6443"
    assert config.token == "opt-token"
    assert config.source == "module options"
    assert config.namespace == "default"


def test_kubeconfig_env_wins_over_in_cluster(tmp_path: Path, service_account: Path, home: Path) -> None:
    first = write(tmp_path / "one", kubeconfig(current=None))
    second = write(tmp_path / "two", kubeconfig(contexts=[("ctx", "c1", "u1", "from-two")]))
    environ = {**IN_CLUSTER_ENV, "KUBECONFIG": f"{first}:{tmp_path / 'missing'}:{second}", "HOME": str(home)}
    config = resolve({}, environ, service_account_dir=str(service_account))
    assert config.token == "tok-one"
    # The context "ctx" is defined in the first file (no namespace there): first wins, current-context from second.
    assert config.namespace == "default"
    assert config.source == f"kubeconfig {first}, {second}, context 'ctx'"


def test_home_kubeconfig_is_the_default(home: Path, no_sa: str) -> None:
    write(home / ".kube" / "config", kubeconfig())
    config = resolve({}, {"HOME": str(home)}, service_account_dir=no_sa)
    assert config.server == "https://api.one:6443"


def test_in_cluster_when_kubeconfig_files_hold_nothing(tmp_path: Path, service_account: Path, home: Path) -> None:
    empty = write(tmp_path / "empty", "")
    config = resolve(
        {}, {**IN_CLUSTER_ENV, "KUBECONFIG": empty, "HOME": str(home)}, service_account_dir=str(service_account)
    )
    assert config.token == "sa-token"


def test_nothing_found_says_what_was_looked_at(home: Path, no_sa: str) -> None:
    with pytest.raises(KubeAuthConfigError) as raised:
        resolve({}, {"HOME": str(home)}, service_account_dir=no_sa)
    message = str(raised.value)
    assert f"{home}/.kube/config (default)" in message
    assert f"the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT and {no_sa}/token)" in message
    assert "oc login" in message


def test_context_option_without_any_kubeconfig_is_an_error(home: Path, service_account: Path) -> None:
    with pytest.raises(KubeAuthConfigError, match=r"no kubeconfig with contexts found \(looked at kubeconfig"):
        resolve({"context": "admin"}, {**IN_CLUSTER_ENV, "HOME": str(home)}, service_account_dir=str(service_account))


def test_explicit_kubeconfig_must_exist(tmp_path: Path) -> None:
    with pytest.raises(KubeAuthConfigError, match="does not exist; fix the kubeconfig option"):
        resolve({"kubeconfig": str(tmp_path / "nope")})


def test_host_alone_is_anonymous_when_nothing_else(home: Path, no_sa: str) -> None:
    config = resolve({"host": "https://h"}, {"HOME": str(home)}, service_account_dir=no_sa)
    assert config.token is None
    assert config.credential_kind == "no credentials (anonymous)"


def test_k8s_auth_kubeconfig_and_context(tmp_path: Path, home: Path) -> None:
    path = write(tmp_path / "k", kubeconfig(contexts=[("ctx", "c1", "u1", None), ("two", "c1", "u1", "ns2")]))
    config = resolve({}, {"K8S_AUTH_KUBECONFIG": path, "K8S_AUTH_CONTEXT": "two", "HOME": str(home)})
    assert config.namespace == "ns2"


def test_options_override_the_kubeconfig(tmp_path: Path) -> None:
    ca = write(tmp_path / "ca.crt", CA_PEM)
    cert = write(tmp_path / "c.crt", CERT_PEM)
    key = write(tmp_path / "c.key", KEY_PEM)
    document = kubeconfig(
        clusters={"c1": {"server": "https://one", "insecure-skip-tls-verify": True, "tls-server-name": "one-name"}},
        users={"u1": {"token": "kube-token", "as": "kube-as"}},
    )
    config = resolve(
        {
            "kubeconfig": document,
            "host": "https://two:6443",
            "ca_cert": ca,
            "client_cert": cert,
            "client_key": key,
            "proxy": "http://p:1",
            "no_proxy": ".local",
            "impersonate_user": "carol",
            "impersonate_groups": ["devs"],
            "request_timeout": 5,
        }
    )
    assert config.server == "https://two:6443"
    assert config.tls_server_name is None
    assert (config.ca_data, config.verify_tls) == (CA_PEM, True)
    assert config.ca_origin == f"ca_cert {ca}"
    assert config.token is None
    assert (config.client_cert_data, config.client_key_data) == (CERT_PEM, KEY_PEM)
    assert (config.proxy, config.no_proxy) == ("http://p:1", ".local")
    assert (config.impersonate_user, config.impersonate_groups) == ("carol", ("devs",))
    assert config.request_timeout == 5.0
    assert config.source == (
        "kubeconfig the kubeconfig dictionary, context 'ctx' "
        "(overridden by the module options: host, ca_cert, proxy, credentials)"
    )


def test_same_host_keeps_tls_server_name_and_validate_certs_wins_over_ca(tmp_path: Path) -> None:
    ca = write(tmp_path / "ca.crt", CA_PEM)
    document = kubeconfig(clusters={"c1": {"server": "https://one", "tls-server-name": "n"}})
    config = resolve({"kubeconfig": document, "host": "https://one/", "ca_cert": ca, "validate_certs": False})
    assert config.tls_server_name == "n"
    assert config.verify_tls is False


def test_missing_ca_cert_option_file() -> None:
    with pytest.raises(KubeAuthConfigError, match=r"ca_cert /no/such/ca\.crt does not exist; fix the ca_cert option"):
        resolve({"host": "https://h", "api_key": "t", "ca_cert": "/no/such/ca.crt"})


def test_impersonate_groups_need_a_user() -> None:
    with pytest.raises(InvalidInputError, match="impersonate_groups needs impersonate_user"):
        resolve({"host": "https://h", "api_key": "t", "impersonate_groups": ["g"]})


def test_basic_auth_options_and_secret_values() -> None:
    config = resolve({"host": "https://h", "username": "dev", "password": "pw"})
    assert set(config.secret_values()) == {"pw", basic_auth_value("dev", "pw")}
    assert config.user_label == "dev"


# ---------------------------------------------------------------------------------------------------------------
# The in-cluster service account under the options


def test_in_cluster_options_override_and_namespace_file_missing(service_account: Path, home: Path) -> None:
    (service_account / "namespace").unlink()
    config = resolve(
        {"validate_certs": False, "impersonate_user": "bob"},
        {**IN_CLUSTER_ENV, "HOME": str(home)},
        service_account_dir=str(service_account),
    )
    assert config.namespace == "default"
    assert config.verify_tls is False
    assert config.impersonate_user == "bob"
    assert config.source.endswith("(overridden by the module options: validate_certs)")


def test_in_cluster_when_no_kubeconfig_exists(service_account: Path, home: Path) -> None:
    config = resolve({}, {**IN_CLUSTER_ENV, "HOME": str(home)}, service_account_dir=str(service_account))
    assert config.source == f"in-cluster service account ({service_account})"
    assert config.token == "sa-token"
    assert config.warnings == ()


# ---------------------------------------------------------------------------------------------------------------
# The exec plugin's first run


ECHO_PLUGIN = """
import json, os, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
with open(os.environ["CALLS_FILE"], "a") as calls:
    calls.write(json.dumps({"args": sys.argv[1:], "info": info, "stdin_tty": sys.stdin.isatty()}) + "\\n")
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential",
                  "status": {"token": os.environ["TOKEN_VALUE"], "expirationTimestamp": "2099-01-01T00:00:00Z"}}))
"""


def test_exec_plugin_runs_once_with_its_env_and_args(tmp_path: Path, no_sa: str) -> None:
    calls = tmp_path / "calls"
    command = script(tmp_path, ECHO_PLUGIN)
    document = kubeconfig(
        clusters={"c1": {"server": "https://h:6443", "certificate-authority-data": b64(CA_PEM)}},
        users={
            "u1": {
                "token": "static-token",
                "exec": {
                    "command": command,
                    "apiVersion": V1BETA1,
                    "args": ["--flag", "x"],
                    "env": [
                        {"name": "TOKEN_VALUE", "value": "exec-token"},
                        {"name": "CALLS_FILE", "value": str(calls)},
                    ],
                    "provideClusterInfo": True,
                },
            }
        },
    )
    config = resolve({"kubeconfig": document}, {"PATH": os.environ["PATH"]}, service_account_dir=no_sa)
    assert config.token == "exec-token"
    assert config.token_expires_at == datetime(2099, 1, 1, tzinfo=UTC)
    assert "exec-token" in config.secret_values()
    lines = calls.read_text().splitlines()
    assert len(lines) == 1
    call = json.loads(lines[0])
    assert call["args"] == ["--flag", "x"]
    assert call["stdin_tty"] is False
    assert call["info"]["apiVersion"] == V1BETA1
    assert call["info"]["spec"]["cluster"]["server"] == "https://h:6443"


def test_exec_plugin_is_not_run_when_options_give_credentials(tmp_path: Path) -> None:
    document = kubeconfig(users={"u1": {"exec": {"command": str(tmp_path / "never"), "apiVersion": V1}}})
    config = resolve({"kubeconfig": document, "api_key": "given"})
    assert config.token == "given"


def test_exec_plugin_certificate_replaces_kubeconfig_certificate(tmp_path: Path) -> None:
    body = f"""
import json
print(json.dumps({{"apiVersion": "{V1}", "kind": "ExecCredential",
                  "status": {{"clientCertificateData": "exec-cert", "clientKeyData": "exec-key"}}}}))
"""
    document = kubeconfig(
        users={
            "u1": {
                "client-certificate-data": b64(CERT_PEM),
                "client-key-data": b64(KEY_PEM),
                "exec": {"command": script(tmp_path, body), "apiVersion": V1},
            }
        }
    )
    config = resolve({"kubeconfig": document})
    assert (config.client_cert_data, config.client_key_data) == ("exec-cert", "exec-key")


def test_expiration_check_uses_now_by_default(tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = f"""
import json
print(json.dumps({{"apiVersion": "{V1}", "kind": "ExecCredential",
                  "status": {{"token": "t", "expirationTimestamp": "{soon}"}}}}))
"""
    document = kubeconfig(users={"u1": {"exec": {"command": script(tmp_path, body), "apiVersion": V1}}})
    config = resolve({"kubeconfig": document})
    assert config.token == "t"


# ---------------------------------------------------------------------------------------------------------------
# One parse, and what the task is warned about


def test_resolution_reads_no_option_from_the_environment(home: Path, no_sa: str) -> None:
    """The options were parsed (their K8S_AUTH_* fallbacks included) before: resolving does not parse them again."""
    environ = {"HOME": str(home), "K8S_AUTH_HOST": "https://from-env", "K8S_AUTH_API_KEY": "t"}
    with pytest.raises(KubeAuthConfigError, match="no cluster configuration found"):
        resolve_cluster_config(ConnectionOptions(), environ, service_account_dir=no_sa)
    assert resolve({}, environ, service_account_dir=no_sa).server == "https://from-env"


@pytest.mark.parametrize(
    ("config", "warning"),
    [
        (ClusterConfig(server="https://h"), None),
        (ClusterConfig(server="https://h", verify_tls=False), "is off (insecure): anyone on the network path"),
        (
            ClusterConfig(server="https://h", verify_tls=False, verify_origin=VALIDATE_CERTS_OFF),
            f"is off ({VALIDATE_CERTS_OFF})",
        ),
        (ClusterConfig(server="http://h", verify_tls=False), None),  # anonymous: no credential to expose
        (ClusterConfig(server="http://h", token="t", user_label="dev"), "the credentials of dev cross the network"),
        (ClusterConfig(server="http://h", username="u", password="p"), "the credentials of the user cross"),
        (ClusterConfig(server="http://h", refresh_credentials=lambda: ExecCredential(token="t")), "is plain HTTP"),
    ],
)
def test_transport_warnings(config: ClusterConfig, warning: str | None) -> None:
    warnings = transport_warnings(config)
    if warning is None:
        assert warnings == ()
    else:
        assert len(warnings) == 1 and warning in warnings[0], warnings


def test_the_warning_names_what_turned_verification_off(tmp_path: Path) -> None:
    document = kubeconfig(clusters={"c1": {"server": "https://h", "insecure-skip-tls-verify": True}})
    from_kubeconfig = resolve({"kubeconfig": document})
    assert "(insecure-skip-tls-verify of cluster 'c1' in the kubeconfig dictionary)" in from_kubeconfig.warnings[0]
    from_option = resolve({"host": "https://h", "api_key": "t", "validate_certs": False})
    assert f"({VALIDATE_CERTS_OFF})" in from_option.warnings[0]
    # the ca_cert option turns verification back on
    assert resolve({"kubeconfig": document, "ca_cert": write(tmp_path / "ca.crt", CA_PEM)}).warnings == ()
