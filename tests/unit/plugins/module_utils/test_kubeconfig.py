"""Kubeconfig files as kubectl reads them: which files, parsing (JSON, the YAML subset, PyYAML), merging, selecting
a context, and what the selected context says (its files read, its exec plugin not run yet)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.kubeconfig import (
    config_from_context,
    config_from_kubeconfig,
    kubeconfig_paths,
    merge_kubeconfigs,
    parse_kubeconfig_text,
    read_kubeconfig_files,
    select_context,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64
from ansible_collections.openshift_ops.images.tests.unit.support.kubeconfigs import (
    CA_PEM,
    CERT_PEM,
    KEY_PEM,
    V1,
    kubeconfig,
    script,
    write,
)

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


WHERE = "the kubeconfig dictionary"


def context_config(document: dict[str, Any], context: str | None = None) -> ClusterConfig:
    """What the selected context of a kubeconfig dictionary says."""
    merged = merge_kubeconfigs([(None, document)])
    return config_from_context(select_context(merged, context, where=WHERE), {}, where=WHERE)


def test_context_settings_are_read(tmp_path: Path) -> None:
    ca_file = write(tmp_path / "ca.crt", CA_PEM)
    token_file = write(tmp_path / "token", "  file-token\n")
    config = context_config(
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
    config = context_config(
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
    config = context_config(
        kubeconfig(
            clusters={"c1": {"server": "https://h", "insecure-skip-tls-verify": True}},
            users={"u1": {"username": "admin", "password": "s3cret"}},
        )
    )
    assert config.verify_tls is False
    assert config.verify_origin == "insecure-skip-tls-verify of cluster 'c1' in the kubeconfig dictionary"
    assert (config.ca_data, config.ca_origin) == (None, "the system trust store")
    assert (config.username, config.password) == ("admin", "s3cret")
    assert config.namespace == "default"
    assert config.credential_kind == "basic auth"


def test_client_files_are_read(tmp_path: Path) -> None:
    cert = write(tmp_path / "u.crt", CERT_PEM)
    key = write(tmp_path / "u.key", KEY_PEM)
    config = context_config(kubeconfig(users={"u1": {"client-certificate": cert, "client-key": key}}))
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
        context_config(kubeconfig(users={"u1": user}))
    assert "%%%not-base64%%%" not in str(raised.value)


def test_auth_provider_is_ignored_when_another_credential_exists() -> None:
    config = context_config(kubeconfig(users={"u1": {"token": "t", "auth-provider": {"name": "oidc"}}}))
    assert config.token == "t"


def test_missing_ca_file_is_explained() -> None:
    with pytest.raises(KubeAuthConfigError, match=r"certificate-authority of cluster 'c1' .* does not exist"):
        context_config(kubeconfig(clusters={"c1": {"server": "https://h", "certificate-authority": "/no/ca"}}))


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
    config = context_config(document)
    assert config.client_key_data == KEY_PEM
    values = set(config.secret_values())
    assert {written_key, KEY_PEM, "  tok-with-spaces  ", "tok-with-spaces"} <= values
    assert written_key not in repr(config)


def test_an_exec_plugin_is_not_run_until_its_credential_is_asked_for(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    body = f"""
import json
with open({str(runs)!r}, "a") as runs:
    runs.write("run\\n")
print(json.dumps({{"apiVersion": "{V1}", "kind": "ExecCredential", "status": {{"token": "exec-token"}}}}))
"""
    document = kubeconfig(
        users={"u1": {"token": "static", "exec": {"command": script(tmp_path, body), "apiVersion": V1}}}
    )
    config = context_config(document)
    assert config.token == "static"
    assert not runs.exists()
    assert config.refresh_credentials is not None
    assert config.refresh_credentials().token == "exec-token"
    assert runs.read_text() == "run\n"


def test_config_from_kubeconfig_says_where_it_looked(tmp_path: Path, home: Path) -> None:
    looked_at: list[str] = []
    empty = write(tmp_path / "empty", "")
    environ = {"HOME": str(home), "KUBECONFIG": empty}
    assert config_from_kubeconfig(None, None, environ, looked_at, required=False) is None
    assert looked_at == [f"kubeconfig {empty} (KUBECONFIG)"]
    with pytest.raises(KubeAuthConfigError, match=rf"no kubeconfig with contexts found \(looked at kubeconfig {empty}"):
        config_from_kubeconfig(None, "admin", environ, [], required=True)
    from_dict = config_from_kubeconfig(kubeconfig(), None, environ, looked_at, required=False)
    assert from_dict is not None and from_dict.source == "kubeconfig the kubeconfig dictionary, context 'ctx'"
    assert len(looked_at) == 1  # a dictionary is no file
