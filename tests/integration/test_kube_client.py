# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection layer against the real sandbox API server: credentials, TLS, error mapping, keep-alive, exec
plugins, impersonation, proxies and read_modify_write's conflict retry. The only stand-ins are a real CONNECT proxy
and a silent socket, neither of which pretends to be the API."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import socket
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ConflictError,
    ForbiddenError,
    KubeConnectionError,
    NotFoundError,
    UnauthorizedError,
    UnprocessableError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config_resolution import (
    resolve_cluster_config,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.read_modify_write import read_modify_write
from ansible_collections.openshift_ops.images.tests.unit.support.certificates import new_authority
from ansible_collections.openshift_ops.images.tests.unit.support.forward_proxy import ForwardProxy
from ansible_collections.openshift_ops.images.tests.unit.support.ports import closed_port

from .sandbox_support import Kube, Sandbox

SELF_SUBJECT_REVIEWS = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
REVIEW = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


def clean_environ(tmp_path: Path) -> dict[str, str]:
    """No KUBECONFIG, no K8S_AUTH_*, an empty HOME: only what a test passes in counts."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return clean_environ(tmp_path)


def client_for(environ: dict[str, str], **params: Any) -> KubeClient:
    options = ConnectionOptions.from_params(params, environ)
    return KubeClient(resolve_cluster_config(options, environ, service_account_dir="/nonexistent"))


@pytest.fixture
def admin(sandbox: Sandbox, environ: dict[str, str]) -> Iterator[KubeClient]:
    with client_for(environ, kubeconfig=sandbox.kubeconfig) as client:
        yield client


def configmap(name: str, data: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {}}


def whoami(client: KubeClient) -> dict[str, Any]:
    return client.create(SELF_SUBJECT_REVIEWS, REVIEW)["status"]["userInfo"]


# ---------------------------------------------------------------------------------------------------------------
# Credentials and TLS


def test_admin_kubeconfig_with_client_certificate(admin: KubeClient, namespace: str) -> None:
    assert admin.config.client_cert_data and admin.config.token is None
    assert admin.config.ca_data is not None and admin.config.verify_tls
    assert admin.get(f"/api/v1/namespaces/{namespace}")["metadata"]["name"] == namespace  # type: ignore[index]
    assert "system:masters" in whoami(admin)["groups"]
    assert admin.default_namespace == "default"


def test_k8s_auth_kubeconfig_and_context_namespace(sandbox: Sandbox, environ: dict[str, str], tmp_path: Path) -> None:
    document = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    for context in document["contexts"]:
        context["context"]["namespace"] = "team-a"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    environ = {**environ, "K8S_AUTH_KUBECONFIG": str(path)}
    client = KubeClient(resolve_cluster_config(ConnectionOptions.from_params({}, environ), environ))
    assert client.default_namespace == "team-a"
    assert client.get("/api/v1/namespaces/default")["metadata"]["name"] == "default"  # type: ignore[index]


def test_crud_round_trip(admin: KubeClient, namespace: str) -> None:
    collection = f"/api/v1/namespaces/{namespace}/configmaps"
    path = f"{collection}/settings"
    created = admin.create(collection, configmap("settings", {"a": "1"}))
    assert created["data"] == {"a": "1"}
    created["data"]["b"] = "2"
    replaced = admin.replace(path, created)
    assert replaced["data"] == {"a": "1", "b": "2"}
    assert admin.patch(path, {"data": {"c": "3"}})["data"] == {"a": "1", "b": "2", "c": "3"}
    assert admin.patch(path, {"data": {"a": None}}, patch_type="strategic")["data"] == {"b": "2", "c": "3"}
    patched = admin.patch(path, [{"op": "replace", "path": "/data/b", "value": "two"}], patch_type="json")
    assert patched["data"] == {"b": "two", "c": "3"}
    listed = admin.request("GET", collection, query={"fieldSelector": "metadata.name=settings"})
    assert [item["metadata"]["name"] for item in listed["items"]] == ["settings"]
    assert admin.delete(path) is not None
    assert admin.get(path, allow_missing=True) is None
    assert admin.delete(path, allow_missing=True) is None


def test_low_privileged_user_is_forbidden_with_a_useful_message(
    sandbox: Sandbox, environ: dict[str, str], namespace: str
) -> None:
    client = client_for(environ, kubeconfig=sandbox.user_kubeconfig)
    with pytest.raises(ForbiddenError) as raised:
        client.get(f"/api/v1/namespaces/{namespace}/secrets/anything")
    message = str(raised.value)
    assert raised.value.status == 403
    assert f"GET /api/v1/namespaces/{namespace}/secrets/anything was forbidden (403)" in message
    assert f"User 'sandbox-user' needs permission to get secrets in namespace '{namespace}'" in message
    assert f"oc adm policy add-role-to-user edit sandbox-user -n {namespace}" in message
    assert client.config.token is not None and client.config.token not in message


def test_bad_token_is_unauthorized(sandbox: Sandbox, environ: dict[str, str]) -> None:
    client = client_for(environ, host=sandbox.api, api_key="not-a-valid-token-12345", ca_cert=sandbox.ca)
    with pytest.raises(UnauthorizedError) as raised:
        client.get("/api/v1/namespaces/default")
    message = str(raised.value)
    assert "did not accept the bearer token from module options (401 Unauthorized)" in message
    assert "not-a-valid-token-12345" not in message
    assert "not-a-valid-token-12345" not in repr(raised.value.args)


def unrelated_ca(path: Path) -> str:
    return new_authority("some-other-ca").write(path)


def test_wrong_ca_gives_a_tls_message_and_validate_certs_false_connects(
    sandbox: Sandbox, environ: dict[str, str], tmp_path: Path
) -> None:
    wrong_ca = unrelated_ca(tmp_path / "other-ca.crt")
    client = client_for(environ, kubeconfig=sandbox.kubeconfig, ca_cert=wrong_ca)
    with pytest.raises(KubeConnectionError) as raised:
        client.get("/api/v1/namespaces/default")
    message = str(raised.value)
    assert "TLS verification of the API server" in message
    assert f"The CA used was ca_cert {wrong_ca}" in message
    assert "Set ca_cert" in message and "validate_certs: false" in message
    assert "(after" not in message  # a TLS failure is not retried
    insecure = client_for(environ, kubeconfig=sandbox.kubeconfig, ca_cert=wrong_ca, validate_certs=False)
    assert insecure.get("/api/v1/namespaces/default") is not None


# ---------------------------------------------------------------------------------------------------------------
# Error mapping


def test_404_409_422_are_mapped(admin: KubeClient, namespace: str) -> None:
    collection = f"/api/v1/namespaces/{namespace}/configmaps"
    with pytest.raises(NotFoundError, match=r'not found \(404\): configmaps "missing" not found'):
        admin.get(f"{collection}/missing")
    admin.create(collection, configmap("once"))
    with pytest.raises(ConflictError, match=r"already exists \(409 AlreadyExists\)") as exists:
        admin.create(collection, configmap("once"))
    assert exists.value.reason == "AlreadyExists"
    stale = admin.get(f"{collection}/once")
    assert stale is not None
    admin.patch(f"{collection}/once", {"data": {"moved": "on"}})
    with pytest.raises(ConflictError, match=r"conflict \(409\).*changed by someone else") as conflict:
        admin.replace(f"{collection}/once", stale)
    assert conflict.value.reason == "Conflict"
    with pytest.raises(UnprocessableError) as invalid:
        admin.create(collection, configmap("Not_A_Valid_Name"))
    assert "rejected the object as invalid (422)" in str(invalid.value)
    assert "Causes: metadata.name:" in str(invalid.value)


def test_api_that_is_not_served(admin: KubeClient) -> None:
    path = "/apis/nothing.example.com/v1/namespaces/default/widgets/w"
    with pytest.raises(NotFoundError, match=r"does not serve widgets.nothing.example.com \(nothing.example.com/v1\)"):
        admin.get(path, allow_missing=True)  # not "the object is missing": the API is


def test_connection_refused_names_the_host(sandbox: Sandbox, environ: dict[str, str]) -> None:
    port = closed_port()
    client = client_for(environ, host=f"https://127.0.0.1:{port}", api_key="x", ca_cert=sandbox.ca)
    with pytest.raises(KubeConnectionError, match=rf"connection to 127.0.0.1:{port} was refused \(after 4 attempts\)"):
        client.get("/api/v1/namespaces/default")


def test_timeout_is_retried_once_then_reported(sandbox: Sandbox, environ: dict[str, str]) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = client_for(environ, host=f"https://127.0.0.1:{port}", api_key="x", request_timeout=0.5)
        with pytest.raises(
            KubeConnectionError, match=rf"no answer from 127.0.0.1:{port} within 0.5 s \(after 2 attempts\); check"
        ):
            client.get("/api/v1/namespaces/default")


# ---------------------------------------------------------------------------------------------------------------
# Keep-alive


def test_one_connection_serves_every_request(admin: KubeClient, namespace: str) -> None:
    opened: list[Any] = []
    factory = admin.connection_factory

    def counting_factory() -> Any:
        connection = factory()
        opened.append(connection)
        return connection

    admin.connection_factory = counting_factory
    local_ports = set()
    for _request in range(5):
        admin.get(f"/api/v1/namespaces/{namespace}")
        local_ports.add(opened[-1].sock.getsockname()[1])
    admin.create(f"/api/v1/namespaces/{namespace}/configmaps", configmap("keepalive"))
    local_ports.add(opened[-1].sock.getsockname()[1])
    assert len(opened) == 1
    assert len(local_ports) == 1
    assert admin.connections_opened == 1
    assert admin.requests_sent == 6


def test_new_client_per_request_opens_new_connections(sandbox: Sandbox, environ: dict[str, str]) -> None:
    config = resolve_cluster_config(ConnectionOptions(kubeconfig=sandbox.kubeconfig), environ)
    counts = []
    for _client in range(3):
        with KubeClient(config) as client:
            client.get("/api/v1/namespaces/default")
            counts.append(client.connections_opened)
    assert counts == [1, 1, 1]


# ---------------------------------------------------------------------------------------------------------------
# Exec plugin and impersonation


def service_account_token(kube: Kube, namespace: str, name: str) -> str:
    """A real bearer token for a ServiceAccount that is cluster-admin in ``namespace`` (TokenRequest API)."""
    kube.create(
        f"/api/v1/namespaces/{namespace}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}},
    )
    kube.create(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{name}-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    )
    answer = kube.create(
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}},
    )
    return str(answer["status"]["token"])


@pytest.mark.parametrize("api_version", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_exec_plugin_token(sandbox: Sandbox, kube: Kube, namespace: str, tmp_path: Path, api_version: str) -> None:
    environ = clean_environ(tmp_path)
    # not "deployer": openshift-controller-manager makes that service account (and builder) in every project
    token = service_account_token(kube, namespace, "exec-client")
    token_file = tmp_path / "token"
    token_file.write_text(token)
    plugin = tmp_path / "credential-plugin"
    plugin.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "info = json.loads(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "token = open(os.environ['TOKEN_FILE']).read()\n"
        "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential', 'status': {'token': token}}))\n"
    )
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandbox", "cluster": {"server": sandbox.api, "certificate-authority": sandbox.ca}}],
        "users": [
            {
                "name": "exec-client",
                "user": {
                    "exec": {
                        "command": str(plugin),
                        "apiVersion": api_version,
                        "env": [{"name": "TOKEN_FILE", "value": str(token_file)}],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [
            {"name": "exec-client", "context": {"cluster": "sandbox", "user": "exec-client", "namespace": namespace}}
        ],
        "current-context": "exec-client",
    }
    client = client_for(environ, kubeconfig=document)
    assert client.config.token == token
    assert client.default_namespace == namespace
    assert whoami(client)["username"] == f"system:serviceaccount:{namespace}:exec-client"
    created = client.create(f"/api/v1/namespaces/{namespace}/configmaps", configmap("from-exec"))
    assert created["metadata"]["name"] == "from-exec"


def _counting_plugin(tmp_path: Path, sandbox: Sandbox, namespace: str, tokens: list[str], expires: list[str | None]):
    """A kubeconfig whose exec plugin hands out ``tokens`` one per run (the last one again after that), each with
    the matching ``expires`` (RFC 3339 or None); the runs are counted in ``<tmp_path>/runs``."""
    (tmp_path / "tokens.json").write_text(json.dumps({"tokens": tokens, "expires": expires}))
    plugin = tmp_path / "counting-plugin"
    plugin.write_text(
        f"#!{sys.executable}\n"
        "import json, os, pathlib\n"
        "base = pathlib.Path(os.environ['PLUGIN_DIR'])\n"
        "runs = int((base / 'runs').read_text()) + 1 if (base / 'runs').exists() else 1\n"
        "(base / 'runs').write_text(str(runs))\n"
        "spec = json.loads((base / 'tokens.json').read_text())\n"
        "index = min(runs, len(spec['tokens'])) - 1\n"
        "status = {'token': spec['tokens'][index]}\n"
        "if spec['expires'][index]: status['expirationTimestamp'] = spec['expires'][index]\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        " 'status': status}))\n"
    )
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    user = {
        "exec": {
            "command": str(plugin),
            "apiVersion": "client.authentication.k8s.io/v1",
            "env": [{"name": "PLUGIN_DIR", "value": str(tmp_path)}],
            "interactiveMode": "Never",
        }
    }
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandbox", "cluster": {"server": sandbox.api, "certificate-authority": sandbox.ca}}],
        "users": [{"name": "exec", "user": user}],
        "contexts": [{"name": "exec", "context": {"cluster": "sandbox", "user": "exec", "namespace": namespace}}],
        "current-context": "exec",
    }


def test_exec_credentials_are_fetched_again_before_they_expire(
    sandbox: Sandbox, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    first, second = (service_account_token(kube, namespace, name) for name in ("exec-first", "exec-second"))
    expiry = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    stamp = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    later = (expiry + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = _counting_plugin(tmp_path, sandbox, namespace, [first, second], [stamp, later])
    now = [dt.datetime.now(dt.UTC)]
    config = resolve_cluster_config(
        ConnectionOptions(kubeconfig=document), clean_environ(tmp_path), service_account_dir="/x"
    )
    client = KubeClient(config, clock=lambda: now[0])
    seen: list[str] = []
    client.on_new_secrets = seen.extend
    assert whoami(client)["username"] == f"system:serviceaccount:{namespace}:exec-first"
    assert (tmp_path / "runs").read_text() == "1"
    now[0] = expiry - dt.timedelta(seconds=5)  # a long wait later: the credential is about to expire
    assert whoami(client)["username"] == f"system:serviceaccount:{namespace}:exec-second"
    assert (tmp_path / "runs").read_text() == "2"
    assert seen == [second]  # the new token is registered for masking
    whoami(client)
    assert (tmp_path / "runs").read_text() == "2"  # and used until it nears its own expiry


def test_a_refused_exec_credential_is_fetched_again_once(
    sandbox: Sandbox, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    good = service_account_token(kube, namespace, "exec-good")
    document = _counting_plugin(tmp_path, sandbox, namespace, ["revoked-token-xyz", good, "never-used"], [None] * 3)
    client = client_for(clean_environ(tmp_path), kubeconfig=document)
    assert whoami(client)["username"] == f"system:serviceaccount:{namespace}:exec-good"
    assert (tmp_path / "runs").read_text() == "2"
    # a credential refused right after a refresh is not fetched a third time: the 401 is reported
    (tmp_path / "bad").mkdir()
    bad = _counting_plugin(tmp_path / "bad", sandbox, namespace, ["revoked-1", "revoked-2", "revoked-3"], [None] * 3)
    with pytest.raises(UnauthorizedError):
        whoami(client_for(clean_environ(tmp_path), kubeconfig=bad))
    assert (tmp_path / "bad" / "runs").read_text() == "2"


def test_impersonation(sandbox: Sandbox, environ: dict[str, str], namespace: str) -> None:
    as_user = client_for(environ, kubeconfig=sandbox.kubeconfig, impersonate_user="sandbox-user")
    assert whoami(as_user)["username"] == "sandbox-user"
    with pytest.raises(ForbiddenError, match="User 'sandbox-user' needs permission to list secrets"):
        as_user.get(f"/api/v1/namespaces/{namespace}/secrets")
    with_groups = client_for(
        environ,
        kubeconfig=sandbox.kubeconfig,
        impersonate_user="sandbox-user",
        impersonate_groups=["system:authenticated", "system:masters"],
    )
    assert set(whoami(with_groups)["groups"]) >= {"system:authenticated", "system:masters"}
    assert with_groups.get(f"/api/v1/namespaces/{namespace}/secrets") is not None
    not_allowed = client_for(environ, kubeconfig=sandbox.user_kubeconfig, impersonate_user="someone-else")
    with pytest.raises(ForbiddenError, match="User 'sandbox-user' may not impersonate"):
        not_allowed.get(f"/api/v1/namespaces/{namespace}")


# ---------------------------------------------------------------------------------------------------------------
# Proxy


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with ForwardProxy() as running:
        yield running


def test_proxy_connect_tunnel_and_no_proxy(sandbox: Sandbox, environ: dict[str, str], proxy: ForwardProxy) -> None:
    api_netloc = sandbox.api.split("://", 1)[1].rstrip("/")
    via = client_for(environ, kubeconfig=sandbox.kubeconfig, proxy=f"http://bob:pw@127.0.0.1:{proxy.port}")
    assert via.get("/api/v1/namespaces/default") is not None
    assert via.get("/api/v1/namespaces/kube-system") is not None
    # One tunnel, reused (http.client speaks HTTP/1.0 for the CONNECT itself).
    assert [request.rsplit(" ", 1)[0] for request in proxy.requests] == [f"CONNECT {api_netloc}"]
    assert proxy.authorizations == ["Basic Ym9iOnB3"]
    direct = client_for(
        environ, kubeconfig=sandbox.kubeconfig, proxy=f"http://127.0.0.1:{proxy.port}", no_proxy="localhost,127.0.0.1"
    )
    assert direct.get("/api/v1/namespaces/default") is not None
    assert len(proxy.requests) == 1


# ---------------------------------------------------------------------------------------------------------------
# read_modify_write


def test_read_modify_write_retries_a_real_conflict(admin: KubeClient, kube: Kube, namespace: str, audit: Any) -> None:
    collection = f"/api/v1/namespaces/{namespace}/configmaps"
    path = f"{collection}/counter"
    admin.create(collection, configmap("counter", {"count": "0"}))
    calls: list[dict[str, Any] | None] = []

    def add_ours(current: dict[str, Any] | None) -> dict[str, Any] | None:
        calls.append(json.loads(json.dumps(current)))
        assert current is not None
        if len(calls) == 1:
            kube.patch(path, {"data": {"theirs": "yes"}})  # someone else writes between our GET and PUT
        current["data"]["ours"] = "yes"
        return current

    mark = audit.mark()
    outcome = read_modify_write(admin, path, add_ours)
    assert outcome.changed is True
    assert outcome.conflicts == 1
    assert len(calls) == 2
    assert calls[1] is not None and calls[1]["data"].get("theirs") == "yes"  # the retry saw their change
    assert outcome.after is not None and outcome.after["data"] == {"count": "0", "theirs": "yes", "ours": "yes"}
    assert kube.get(path)["data"] == {"count": "0", "theirs": "yes", "ours": "yes"}
    updates = audit.writes(since=mark, resource="configmaps", namespace=namespace, name="counter")
    codes = [(event["verb"], event["responseStatus"]["code"]) for event in updates]
    assert codes == [("patch", 200), ("update", 409), ("update", 200)]


def test_read_modify_write_create_no_change_and_check_mode(
    admin: KubeClient, kube: Kube, namespace: str, audit: Any
) -> None:
    collection = f"/api/v1/namespaces/{namespace}/configmaps"
    path = f"{collection}/settings"

    def want(current: dict[str, Any] | None) -> dict[str, Any] | None:
        if current is None:
            return configmap("settings", {"mode": "on"})
        if current.get("data", {}).get("mode") == "on":
            return None
        current.setdefault("data", {})["mode"] = "on"
        return current

    mark = audit.mark()
    predicted = read_modify_write(admin, path, want, create_path=collection, check_mode=True)
    assert (predicted.before, predicted.changed) == (None, True)
    assert predicted.after == configmap("settings", {"mode": "on"})
    assert kube.get(path) is None
    created = read_modify_write(admin, path, want, create_path=collection)
    assert created.changed and created.after is not None and created.after["metadata"]["uid"]
    again = read_modify_write(admin, path, want, create_path=collection)
    assert (again.changed, again.before, again.after) == (False, again.before, again.before)
    # An unchanged copy counts as no change too, and sends nothing.
    same = read_modify_write(admin, path, lambda current: current)
    assert same.changed is False
    writes = audit.writes(since=mark, resource="configmaps", namespace=namespace)
    assert [event["verb"] for event in writes] == ["create"]


def test_read_modify_write_missing_without_create_path(admin: KubeClient, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/absent"
    with pytest.raises(NotFoundError, match="does not exist and this task does not create it"):
        read_modify_write(admin, path, lambda current: configmap("absent"), check_mode=True)


def test_proxy_credentials_and_an_inline_kubeconfig_never_reach_the_output(
    sandbox: Sandbox, proxy: ForwardProxy, run_playbook: Any, namespace: str
) -> None:
    # A kubeconfig passed as a dict is a module argument (not no_log) and so is the proxy URL: both are printed
    # with the invocation at -vvv unless the secrets inside them are registered.
    kubeconfig = yaml.safe_load(Path(sandbox.kubeconfig).read_text(encoding="utf-8"))
    key_data = kubeconfig["users"][0]["user"]["client-key-data"]
    key_pem = base64.b64decode(key_data).decode()
    password = "s3cret-Proxy-pw"
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - openshift_ops.images.pull_secret:
        kubeconfig: "{{ inline_kubeconfig }}"
        proxy: "{{ proxy_url }}"
        name: sealed
        namespace: "{{ namespace }}"
        registries:
          - server: registry.example.com
            username: robot
            password: robot-Passw0rd-1
"""
    completed = run_playbook(
        playbook,
        extra_vars={
            "inline_kubeconfig": kubeconfig,
            "proxy_url": f"http://bob:{password}@127.0.0.1:{proxy.port}",
            "namespace": namespace,
        },
        diff=True,
        verbosity=3,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-3000:]
    assert (
        proxy.authorizations
        and proxy.authorizations[0] == "Basic " + base64.b64encode(f"bob:{password}".encode()).decode()
    )
    for secret in (password, base64.b64encode(f"bob:{password}".encode()).decode(), key_data, "robot-Passw0rd-1"):
        assert secret not in output, secret[:12]
    body_lines = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    assert body_lines and not any(line in output for line in body_lines)
    assert f"127.0.0.1:{proxy.port}" in output  # the rest of the proxy URL stays visible
