"""Resolving the cluster configuration: options and K8S_AUTH_*, kubeconfig merging and selection, in-cluster
service accounts and exec credential plugins (run as small real scripts)."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
    KubeAuthConfigError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import basic_auth_value
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.config import (
    ClusterConfig,
    in_cluster_available,
    kubeconfig_paths,
    merge_kubeconfigs,
    normalize_server_url,
    parse_connection_options,
    parse_kubeconfig_text,
    proxy_secret_values,
    read_kubeconfig_files,
    resolve_cluster_config,
    select_context,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    CONNECTION_ENV_VARS,
    DEFAULT_REQUEST_TIMEOUT,
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import (
    ExecCredential,
    ExecPlugin,
    exec_info,
    parse_exec_credential,
    parse_exec_plugin,
    run_exec_plugin,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.yaml_subset import read_block_yaml

NOW = datetime(2030, 1, 1, tzinfo=UTC)
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
CA_PEM = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
CERT_PEM = "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n"
KEY_PEM = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def kubeconfig(
    *,
    contexts: list[tuple[str, str, str, str | None]] = (("ctx", "c1", "u1", None),),  # type: ignore[assignment]
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    current: str | None = "ctx",
) -> dict[str, Any]:
    clusters = clusters if clusters is not None else {"c1": {"server": "https://api.one:6443"}}
    users = users if users is not None else {"u1": {"token": "tok-one"}}
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": body} for name, body in clusters.items()],
        "users": [{"name": name, "user": body} for name, body in users.items()],
        "contexts": [
            {"name": name, "context": {"cluster": cluster, "user": user, **({"namespace": ns} if ns else {})}}
            for name, cluster, user, ns in contexts
        ],
    }
    if current is not None:
        document["current-context"] = current
    return document


def write(path: Path, document: dict[str, Any] | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return str(path)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


@pytest.fixture
def no_sa(tmp_path: Path) -> str:
    """A service account directory that does not exist: no in-cluster configuration."""
    return str(tmp_path / "no-serviceaccount")


def resolve(
    params: dict[str, Any] | None = None, environ: dict[str, str] | None = None, **kwargs: Any
) -> ClusterConfig:
    kwargs.setdefault("now", NOW)
    return resolve_cluster_config(params or {}, environ or {}, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Options and K8S_AUTH_*


def test_argument_spec_matches_env_table_and_marks_secrets() -> None:
    spec = connection_argument_spec()
    assert set(spec) == set(CONNECTION_ENV_VARS)
    for option, variables in CONNECTION_ENV_VARS.items():
        function, names = spec[option]["fallback"]
        assert function.__name__ == "env_fallback"
        assert names == list(variables)
    assert spec["api_key"]["no_log"] is True
    assert spec["password"]["no_log"] is True
    assert spec["validate_certs"]["aliases"] == ["verify_ssl"]
    assert spec["ca_cert"]["aliases"] == ["ssl_ca_cert"]
    assert spec["client_cert"]["aliases"] == ["cert_file"]
    assert spec["client_key"]["aliases"] == ["key_file"]
    # A fresh dict each time: modules may extend it.
    spec["host"]["required"] = True
    assert "required" not in connection_argument_spec()["host"]


def test_doc_fragment_documents_exactly_the_argument_spec() -> None:
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = connection_argument_spec()
    assert set(documented) == set(spec)
    for option, rules in spec.items():
        doc = documented[option]
        assert doc["type"] == rules["type"], option
        assert doc.get("aliases", []) == rules.get("aliases", []), option
        assert doc.get("elements") == rules.get("elements"), option
        assert doc.get("default") == rules.get("default"), option
        text = " ".join(doc["description"])
        for variable in CONNECTION_ENV_VARS[option]:
            assert variable in text, (option, variable)


@pytest.mark.parametrize(
    ("environ", "option", "expected"),
    [
        ({"K8S_AUTH_HOST": "https://h:6443"}, "host", "https://h:6443"),
        ({"K8S_AUTH_API_KEY": "t"}, "api_key", "t"),
        ({"K8S_AUTH_VERIFY_SSL": "no"}, "validate_certs", False),
        ({"K8S_AUTH_VALIDATE_CERTS": "true", "K8S_AUTH_VERIFY_SSL": "no"}, "validate_certs", True),
        ({"K8S_AUTH_SSL_CA_CERT": "/ca.crt"}, "ca_cert", "/ca.crt"),
        ({"K8S_AUTH_CERT_FILE": "/c", "K8S_AUTH_KEY_FILE": "/k"}, "client_cert", "/c"),
        ({"K8S_AUTH_IMPERSONATE_GROUPS": "a, b,,c"}, "impersonate_groups", ("a", "b", "c")),
        ({"K8S_AUTH_REQUEST_TIMEOUT": "2.5"}, "request_timeout", 2.5),
        ({"K8S_AUTH_KUBECONFIG": "/k1:/k2"}, "kubeconfig", "/k1:/k2"),
        ({}, "request_timeout", DEFAULT_REQUEST_TIMEOUT),
    ],
)
def test_env_fallbacks(environ: dict[str, str], option: str, expected: Any) -> None:
    assert getattr(parse_connection_options({}, environ), option) == expected


def test_explicit_option_beats_environment() -> None:
    options = parse_connection_options(
        {"host": "https://opt", "validate_certs": True}, {"K8S_AUTH_HOST": "https://env"}
    )
    assert options.host == "https://opt"
    assert options.validate_certs is True


@pytest.mark.parametrize(
    ("params", "environ", "message"),
    [
        ({"kubeconfig": 3}, {}, "kubeconfig must be a path"),
        ({"username": "u"}, {}, "username and password must be given together"),
        ({"client_cert": "/c"}, {}, "client_cert and client_key must be given together"),
        ({"api_key": "t", "username": "u", "password": "p"}, {}, "either api_key or username/password"),
        ({}, {"K8S_AUTH_VERIFY_SSL": "maybe"}, "K8S_AUTH_VALIDATE_CERTS/K8S_AUTH_VERIFY_SSL must be a boolean"),
        ({"request_timeout": 0}, {}, "option request_timeout must be more than 0"),
        ({}, {"K8S_AUTH_REQUEST_TIMEOUT": "soon"}, "K8S_AUTH_REQUEST_TIMEOUT must be a number"),
    ],
)
def test_bad_options_are_explained(params: dict[str, Any], environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_connection_options(params, environ)


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


@pytest.mark.parametrize("server", ["ftp://h", "https://", "https://h:99999", "https://h:port"])
def test_bad_server_url(server: str) -> None:
    with pytest.raises(KubeAuthConfigError, match="host"):
        normalize_server_url(server, where="host")


# ---------------------------------------------------------------------------------------------------------------
# Kubeconfig files: which, parsing, merging, selecting


def test_kubeconfig_paths_order(home: Path) -> None:
    environ = {"HOME": str(home), "KUBECONFIG": "/a:/b::/a"}
    assert kubeconfig_paths("/x:/y", environ) == (["/x", "/y"], True)
    assert kubeconfig_paths(None, environ) == (["/a", "/b"], False)
    assert kubeconfig_paths(None, {"HOME": str(home)}) == ([str(home / ".kube" / "config")], False)


def test_read_files_skips_missing_unless_explicit(tmp_path: Path) -> None:
    present = write(tmp_path / "present", kubeconfig())
    missing = str(tmp_path / "missing")
    documents = read_kubeconfig_files([missing, present], explicit=False)
    assert [document[0] for document in documents] == [present]
    with pytest.raises(KubeAuthConfigError, match=f"kubeconfig file {missing} does not exist"):
        read_kubeconfig_files([missing], explicit=True)


def test_unreadable_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(KubeAuthConfigError, match="cannot read kubeconfig file"):
        read_kubeconfig_files([str(tmp_path)], explicit=True)  # a directory


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [\n  - {name: a\n", "not valid YAML at line"),
        ("- just\n- a list\n", "expected a mapping at the top level"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(KubeAuthConfigError, match=message):
        parse_kubeconfig_text(text, "/k")


def test_empty_file_is_an_empty_kubeconfig() -> None:
    assert parse_kubeconfig_text("", "/k") == {}


def test_json_and_yaml_flow_kubeconfigs() -> None:
    document = kubeconfig()
    assert parse_kubeconfig_text(json.dumps(document), "/k") == document
    assert parse_kubeconfig_text("{current-context: ctx}", "/k") == {"current-context": "ctx"}  # YAML, not JSON


def test_yaml_beyond_the_subset_without_pyyaml_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # makes `import yaml` raise ImportError
    assert parse_kubeconfig_text("current-context: ctx\n", "/k") == {"current-context": "ctx"}  # the subset
    with pytest.raises(KubeAuthConfigError, match=r"PyYAML is not installed.*pip install PyYAML"):
        parse_kubeconfig_text("{current-context: ctx}", "/k")


def test_merge_first_file_wins_per_name_and_for_current_context(tmp_path: Path) -> None:
    first = kubeconfig(
        contexts=[("shared", "c1", "u1", "first-ns")],
        clusters={"c1": {"server": "https://first"}},
        users={"u1": {"token": "first"}},
        current=None,
    )
    second = kubeconfig(
        contexts=[("shared", "c1", "u1", "second-ns"), ("other", "c2", "u2", None)],
        clusters={"c1": {"server": "https://second"}, "c2": {"server": "https://two"}},
        users={"u1": {"token": "second"}, "u2": {"token": "two"}},
        current="other",
    )
    third = kubeconfig(current="shared")
    merged = merge_kubeconfigs([("/k/1", first), ("/k/2", second), ("/k/3", third)])
    assert merged["current-context"] == "other"
    assert merged["contexts"]["shared"]["namespace"] == "first-ns"
    assert merged["clusters"]["c1"]["server"] == "https://first"
    assert merged["users"]["u1"]["token"] == "first"
    assert merged["clusters"]["c2"]["server"] == "https://two"
    assert merged["origins"][("users", "u2")] == "/k/2"


def test_merge_resolves_relative_paths_against_the_file(tmp_path: Path) -> None:
    document = kubeconfig(
        clusters={"c1": {"server": "https://h", "certificate-authority": "pki/ca.crt"}},
        users={
            "u1": {
                "client-certificate": "pki/u.crt",
                "client-key": "/abs/u.key",
                "tokenFile": "tok",
                "exec": {"command": "./bin/plugin", "apiVersion": V1},
            },
            "u2": {"exec": {"command": "on-path-plugin", "apiVersion": V1}},
        },
    )
    merged = merge_kubeconfigs([("/etc/kube/config", document)])
    assert merged["clusters"]["c1"]["certificate-authority"] == "/etc/kube/pki/ca.crt"
    user = merged["users"]["u1"]
    assert user["client-certificate"] == "/etc/kube/pki/u.crt"
    assert user["client-key"] == "/abs/u.key"
    assert user["tokenFile"] == "/etc/kube/tok"
    assert user["exec"]["command"] == "/etc/kube/./bin/plugin"
    assert merged["users"]["u2"]["exec"]["command"] == "on-path-plugin"
    # The input document is not changed.
    assert document["clusters"][0]["cluster"]["certificate-authority"] == "pki/ca.crt"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"clusters": {"a": 1}}, "'clusters' must be a list"),
        ({"users": [{"user": {}}]}, "every entry of 'users' needs a name"),
        ({"contexts": [{"name": "x", "context": "nope"}]}, "contexts entry 'x' has no 'context' mapping"),
    ],
)
def test_merge_rejects_malformed_sections(document: dict[str, Any], message: str) -> None:
    with pytest.raises(KubeAuthConfigError, match=message):
        merge_kubeconfigs([("/k", document)])


names = st.sampled_from(["a", "b", "c", "d"])


@given(st.lists(st.dictionaries(names, st.integers(), max_size=4), min_size=1, max_size=4))
def test_merge_property_first_definition_wins(files: list[dict[str, int]]) -> None:
    documents = [
        (
            f"/k/{index}",
            {"clusters": [{"name": name, "cluster": {"server": f"https://{value}"}} for name, value in f.items()]},
        )
        for index, f in enumerate(files)
    ]
    merged = merge_kubeconfigs(documents)
    for name in {name for f in files for name in f}:
        first = next(index for index, f in enumerate(files) if name in f)
        assert merged["clusters"][name]["server"] == f"https://{files[first][name]}"
        assert merged["origins"][("clusters", name)] == f"/k/{first}"


def merged_of(document: dict[str, Any]) -> dict[str, Any]:
    return merge_kubeconfigs([("/k", document)])


def test_select_current_context_and_requested_one() -> None:
    document = kubeconfig(
        contexts=[("ctx", "c1", "u1", "ns1"), ("anon", "c1", "", None)],
    )
    selected = select_context(merged_of(document), None, where="/k")
    assert (selected.name, selected.cluster_name, selected.user_name, selected.namespace) == ("ctx", "c1", "u1", "ns1")
    anonymous = select_context(merged_of(document), "anon", where="/k")
    assert anonymous.user == {}
    assert anonymous.namespace is None


@pytest.mark.parametrize(
    ("document", "requested", "message"),
    [
        (kubeconfig(current=None), None, r"sets no current-context; set the context option .* one of: ctx"),
        (kubeconfig(), "nope", r"context 'nope' \(the context option\) is not defined in /k; defined contexts: ctx"),
        (kubeconfig(current="gone"), None, r"context 'gone' \(current-context\) is not defined"),
        (kubeconfig(clusters={}), None, "refers to cluster 'c1', which is not defined"),
        (kubeconfig(clusters={"c1": {}}), None, "cluster 'c1' in /k has no server URL"),
        (kubeconfig(users={}), None, "refers to user 'u1', which is not defined"),
    ],
)
def test_select_context_errors(document: dict[str, Any], requested: str | None, message: str) -> None:
    with pytest.raises(KubeAuthConfigError, match=message):
        select_context(merged_of(document), requested, where="/k")


# ---------------------------------------------------------------------------------------------------------------
# Settings of a kubeconfig context


def resolve_document(document: dict[str, Any], **params: Any) -> ClusterConfig:
    return resolve({"kubeconfig": document, **params})


def test_context_settings_are_read(tmp_path: Path) -> None:
    ca_file = write(tmp_path / "ca.crt", CA_PEM)
    token_file = write(tmp_path / "token", "  file-token\n")
    config = resolve_document(
        kubeconfig(
            contexts=[("ctx", "c1", "u1", "team")],
            clusters={
                "c1": {
                    "server": "https://api.one:6443/",
                    "certificate-authority": ca_file,
                    "tls-server-name": "kubernetes",
                    "proxy-url": "http://proxy:3128",
                }
            },
            users={"u1": {"tokenFile": token_file, "as": "alice", "as-groups": ["g1", "g2"]}},
        )
    )
    assert config.server == "https://api.one:6443"
    assert config.namespace == "team"
    assert config.ca_data == CA_PEM
    assert config.ca_origin == f"file {ca_file}"
    assert config.verify_tls is True
    assert config.tls_server_name == "kubernetes"
    assert config.proxy == "http://proxy:3128"
    assert config.token == "file-token"
    assert (config.impersonate_user, config.impersonate_groups) == ("alice", ("g1", "g2"))
    assert config.source == "kubeconfig the kubeconfig dictionary, context 'ctx'"
    assert config.user_label == "u1"
    assert config.credential_kind == "bearer token"


def test_data_fields_win_over_files_and_are_decoded() -> None:
    config = resolve_document(
        kubeconfig(
            clusters={
                "c1": {
                    "server": "https://h",
                    "certificate-authority-data": b64(CA_PEM),
                    "certificate-authority": "/does/not/exist",
                }
            },
            users={
                "u1": {
                    "client-certificate-data": b64(CERT_PEM),
                    "client-key-data": b64(KEY_PEM),
                    "client-certificate": "/does/not/exist",
                }
            },
        )
    )
    assert config.ca_data == CA_PEM
    assert config.ca_origin.startswith("certificate-authority-data of cluster 'c1'")
    assert (config.client_cert_data, config.client_key_data) == (CERT_PEM, KEY_PEM)
    assert config.token is None
    assert config.credential_kind == "client certificate"


def test_insecure_and_basic_auth_and_default_namespace() -> None:
    config = resolve_document(
        kubeconfig(
            clusters={"c1": {"server": "https://h", "insecure-skip-tls-verify": True}},
            users={"u1": {"username": "admin", "password": "s3cret"}},
        )
    )
    assert config.verify_tls is False
    assert (config.username, config.password) == ("admin", "s3cret")
    assert config.namespace == "default"
    assert config.credential_kind == "basic auth"


def test_client_files_are_read(tmp_path: Path) -> None:
    cert = write(tmp_path / "u.crt", CERT_PEM)
    key = write(tmp_path / "u.key", KEY_PEM)
    config = resolve_document(kubeconfig(users={"u1": {"client-certificate": cert, "client-key": key}}))
    assert (config.client_cert_data, config.client_key_data) == (CERT_PEM, KEY_PEM)


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"token": "t", "username": "u", "password": "p"}, "sets both a token and username/password"),
        ({"client-certificate-data": b64(CERT_PEM)}, "client certificate without its key"),
        ({"client-key-data": "%%%not-base64%%%"}, "client-key-data of user 'u1' .* is not valid base64"),
        ({"tokenFile": "/nonexistent/token"}, "tokenFile of user 'u1' .* /nonexistent/token does not exist"),
        ({"auth-provider": {"name": "oidc"}}, "auth-provider 'oidc', which this collection does not support"),
        ({"exec": {"apiVersion": V1}}, "has no command"),
    ],
)
def test_bad_users_are_explained(user: dict[str, Any], message: str) -> None:
    with pytest.raises(KubeAuthConfigError, match=message) as raised:
        resolve_document(kubeconfig(users={"u1": user}))
    assert "%%%not-base64%%%" not in str(raised.value)


def test_auth_provider_is_ignored_when_another_credential_exists() -> None:
    config = resolve_document(kubeconfig(users={"u1": {"token": "t", "auth-provider": {"name": "oidc"}}}))
    assert config.token == "t"


def test_missing_ca_file_is_explained() -> None:
    with pytest.raises(KubeAuthConfigError, match=r"certificate-authority of cluster 'c1' .* does not exist"):
        resolve_document(kubeconfig(clusters={"c1": {"server": "https://h", "certificate-authority": "/no/ca"}}))


# ---------------------------------------------------------------------------------------------------------------
# Exec credential plugins


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


def script(tmp_path: Path, body: str, name: str = "plugin") -> str:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


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
    config = resolve_cluster_config({"kubeconfig": document}, {"PATH": os.environ["PATH"]}, service_account_dir=no_sa)
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


# ---------------------------------------------------------------------------------------------------------------
# In-cluster service account


@pytest.fixture
def service_account(tmp_path: Path) -> Path:
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text("sa-token\n")
    (directory / "ca.crt").write_text(CA_PEM)
    (directory / "namespace").write_text("pod-ns\n")
    return directory


IN_CLUSTER_ENV = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def test_in_cluster(service_account: Path, home: Path) -> None:
    config = resolve({}, {**IN_CLUSTER_ENV, "HOME": str(home)}, service_account_dir=str(service_account))
    assert config.server == "https://10.0.0.1:443"
    assert config.token == "sa-token"
    assert config.ca_data == CA_PEM
    assert config.namespace == "pod-ns"
    assert config.source == f"in-cluster service account ({service_account})"


def test_in_cluster_ipv6_pod_namespace_and_no_ca(service_account: Path, home: Path) -> None:
    (service_account / "ca.crt").unlink()
    environ = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443", "POD_NAMESPACE": "downward"}
    config = resolve({}, {**environ, "HOME": str(home)}, service_account_dir=str(service_account))
    assert config.server == "https://[fd00::1]:6443"
    assert config.namespace == "downward"
    assert config.ca_data is None


def test_in_cluster_needs_env_and_token(service_account: Path) -> None:
    assert in_cluster_available(IN_CLUSTER_ENV, str(service_account))
    assert not in_cluster_available({"KUBERNETES_SERVICE_HOST": "h"}, str(service_account))
    (service_account / "token").unlink()
    assert not in_cluster_available(IN_CLUSTER_ENV, str(service_account))


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


def test_a_kubeconfig_dict_registers_its_secrets_as_written() -> None:
    # the form in the module arguments (base64, not the PEM it decodes to) is what must be masked
    written_key = b64(KEY_PEM)
    document = kubeconfig(
        users={
            "u1": {
                "client-certificate-data": b64(CERT_PEM),
                "client-key-data": written_key,
                "token": "  tok-with-spaces  ",
            }
        }
    )
    config = resolve({"kubeconfig": document})
    assert config.client_key_data == KEY_PEM
    values = set(config.secret_values())
    assert {written_key, KEY_PEM, "  tok-with-spaces  ", "tok-with-spaces"} <= values
    assert written_key not in repr(config)


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
    options = parse_connection_options({"api_key": "given-secret", "username": None, "host": "https://h"}, {})
    assert "given-secret" not in repr(options)
    assert "api_key=<hidden>" in repr(options) and "host='https://h'" in repr(options)
    credential = ExecCredential(token="exec-tok", client_certificate_data="cert", client_key_data="exec-key")
    assert "exec-tok" not in repr(credential) and "exec-key" not in repr(credential)
    assert "client_certificate_data='cert'" in repr(credential)


def test_expiration_check_uses_now_by_default(tmp_path: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = f"""
import json
print(json.dumps({{"apiVersion": "{V1}", "kind": "ExecCredential",
                  "status": {{"token": "t", "expirationTimestamp": "{soon}"}}}}))
"""
    document = kubeconfig(users={"u1": {"exec": {"command": script(tmp_path, body), "apiVersion": V1}}})
    config = resolve_cluster_config({"kubeconfig": document}, {})
    assert config.token == "t"


# ---------------------------------------------------------------------------------------------------------------
# The kubectl YAML subset read without the yaml package: whatever it returns is what yaml.safe_load returns


def _safe_load_or_error(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return "yaml rejects it"


KUBECTL_STYLE = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://api.example.com:6443
    tls-server-name: "api.internal"
  name: api-example-com:6443
contexts:
- context:
    cluster: api-example-com:6443
    namespace: project-a
    user: admin/api-example-com:6443
  name: project-a/api-example-com:6443/admin
current-context: project-a/api-example-com:6443/admin
kind: Config
preferences: {}
users:
- name: admin/api-example-com:6443
  user:
    token: sha256~0a1B2c3D
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      args:
      - get-token
      - --login=azurecli
      command: kubelogin
      env: null
      interactiveMode: IfAvailable
      provideClusterInfo: false
"""


@pytest.mark.parametrize(
    "text",
    [
        KUBECTL_STYLE,
        "---\n# written by hand\nclusters:\n  - name: c\n    cluster:\n      server: https://h\n\n",
        "a: 'it''s'\nb: \"quoted\"\nc: []\nd:\ne: ~\nf: TRUE\n",
        "token: 00a3d3\nother: 0o7\nplus: +abc\nurl: x:y\nlist: a, b\n",
    ],
)
def test_block_yaml_subset_reads_what_kubectl_writes(text: str) -> None:
    assert read_block_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\n",  # YAML 1.1 booleans, numbers, timestamps
        "a: 6443\n",
        "a: .5\n",
        "a: 2001-12-14\n",
        "on: x\n",
        "a: b # comment\n",
        "a: [x]\n",
        "a: &anchor x\n",
        "a: |\n  block\n",
        "a: b\n  c: d\n",  # a multi-line plain scalar
        "a: b\na: c\n",  # duplicate keys
        "a:\n   - x\n  - y\n",
        "- a\n",
        'a: "esc\\u0041"\n',
        "a:\tb\n",
        "a: caf\u00e9\n",
        "",
    ],
)
def test_block_yaml_subset_leaves_the_rest_to_pyyaml(text: str) -> None:
    assert read_block_yaml(text) is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "  ", "    ", "- ", "  - ", "   "]),
            st.sampled_from(
                [
                    "a",
                    "b",
                    "key",
                    "on",
                    "-x",
                    "'q'",
                    '"d"',
                    "{}",
                    "[]",
                    "1",
                    "a b",
                    "x:y",
                    "#c",
                    "",
                    "--x",
                    "---",
                    "- -",
                ]
            ),
            st.sampled_from(
                ["", ":", ": ", ": v", ": 1", ": yes", ": 'it''s'", ': "x"', ": a: b", ": #", ": -", ": --l=x", ": - x"]
            ),
        ),
        max_size=8,
    )
)
def test_block_yaml_subset_never_disagrees_with_pyyaml(lines: list[tuple[str, str, str]]) -> None:
    text = "".join(f"{indent}{key}{rest}\n" for indent, key, rest in lines)
    document = read_block_yaml(text)
    assert document is None or document == _safe_load_or_error(text)


scalars = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    st.booleans(),
    st.none(),
    st.integers(),
)
keys = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=8)


@given(
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=12,
    ).map(lambda value: {"top": value})
)
def test_block_yaml_subset_round_trips_safe_dump(document: dict[str, Any]) -> None:
    for text in (yaml.safe_dump(document), yaml.safe_dump(document, indent=4, sort_keys=False)):
        read = read_block_yaml(text)
        assert read is None or read == document
