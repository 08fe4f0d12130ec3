"""Transport security of the modules against the sandbox, on both execution paths: the API server's certificate is
verified against the kubeconfig's CA by default; a wrong CA or a server name the certificate does not hold fails
with a clear message and the API server never sees a request (its audit log says so); ``validate_certs: false``
works and warns; registry credentials are not sent to a plain-HTTP registry unless it is marked insecure; backups
are private files.

The sandbox API server's certificate names kubernetes, kubernetes.default, kubernetes.default.svc, localhost and
127.0.0.1 (``openssl x509 -ext subjectAltName``), so a wrong server name is given with ``tls-server-name``. The wrong
CA is a real CA of the sandbox that did not sign it: the front-proxy CA."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import (
    RecordingRegistry,
    basic_auth_registry,
)

from .sandbox_support import (
    AuditLog,
    AuditMark,
    Kube,
    ModuleRunner,
    Sandbox,
    temporary_role_binding,
    warnings_of,
)

WRONG_SERVER_NAME = "not-the-api-server.example"
RIGHT_SERVER_NAME = "kubernetes.default.svc"  # in the certificate, and not the host the URL names
REGISTRY_USER = "robot"
REGISTRY_PASSWORD = "transport-it-Pa55word"
REGISTRY_BASIC = "Basic " + base64.b64encode(f"{REGISTRY_USER}:{REGISTRY_PASSWORD}".encode()).decode()


def front_proxy_ca(sandbox: Sandbox) -> bytes:
    return (Path(sandbox.state_dir) / "pki" / "front-proxy-ca.crt").read_bytes()


def write_kubeconfig(
    path: Path, sandbox: Sandbox, *, ca_pem: bytes, user: dict[str, str], tls_server_name: str | None = None
) -> str:
    """A kubeconfig (mode 0600) for the sandbox API server with ``ca_pem`` as its certificate-authority-data."""
    cluster: dict[str, Any] = {
        "server": sandbox.api,
        "certificate-authority-data": base64.b64encode(ca_pem).decode(),
    }
    if tls_server_name:
        cluster["tls-server-name"] = tls_server_name
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "ctx",
        "clusters": [{"name": "sandbox", "cluster": cluster}],
        "users": [{"name": "tester", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "sandbox", "user": "tester"}}],
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def admin_user(sandbox: Sandbox) -> dict[str, str]:
    """The admin kubeconfig's user entry (client certificate data)."""
    document = yaml.safe_load(Path(sandbox.kubeconfig).read_text(encoding="utf-8"))
    return dict(document["users"][0]["user"])


@pytest.fixture
def service_account(kube: Kube, namespace: str) -> Iterator[tuple[str, dict[str, str]]]:
    """An identity only this test uses (the namespace's ``default`` service account, allowed to edit the namespace):
    its user name in the audit log and its kubeconfig user entry."""
    answer = kube.create(
        f"/api/v1/namespaces/{namespace}/serviceaccounts/default/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 900}},
    )
    username = f"system:serviceaccount:{namespace}:default"
    with temporary_role_binding(kube, namespace, role="edit", user=username):
        yield username, {"token": answer["status"]["token"]}


def requests_by(audit: AuditLog, mark: AuditMark, username: str) -> list[dict[str, Any]]:
    return [event for event in audit.events(since=mark) if event.get("user", {}).get("username") == username]


def pull_secret_params(namespace: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": namespace,
        "registries": [{"server": "registry.example.com", "username": "developer", "password": "not-a-real-one"}],
        **extra,
    }


def insecure_warnings(result: dict[str, Any]) -> list[str]:
    return [text for text in warnings_of(result) if "TLS certificate verification" in text]


# --- 1. verified by default against the kubeconfig's CA ------------------------------------------------------------


def test_the_kubeconfig_ca_is_what_verifies_the_api_server(
    sandbox: Sandbox,
    namespace: str,
    service_account: tuple[str, dict[str, str]],
    run_module: ModuleRunner,
    *,
    audit: AuditLog,
    tmp_path: Path,
) -> None:
    username, user = service_account
    good = write_kubeconfig(tmp_path / "good", sandbox, ca_pem=Path(sandbox.ca).read_bytes(), user=user)
    mark = audit.mark()
    result = run_module("pull_secret", pull_secret_params(namespace, "by-kubeconfig-ca"), kubeconfig=good)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert insecure_warnings(result) == []
    created = [event for event in requests_by(audit, mark, username) if event["verb"] == "create"]
    assert [event["objectRef"]["name"] for event in created] == ["by-kubeconfig-ca"]


# --- 2. a wrong CA or a wrong server name: a clear failure, and the API server sees nothing -----------------------


@pytest.mark.parametrize("mismatch", ["wrong CA", "wrong tls-server-name"])
def test_a_failed_verification_is_explained_and_the_api_server_sees_no_request(
    sandbox: Sandbox,
    namespace: str,
    service_account: tuple[str, dict[str, str]],
    run_module: ModuleRunner,
    *,
    audit: AuditLog,
    tmp_path: Path,
    mismatch: str,
) -> None:
    username, user = service_account
    if mismatch == "wrong CA":
        wrong = write_kubeconfig(tmp_path / "wrong", sandbox, ca_pem=front_proxy_ca(sandbox), user=user)
        right = write_kubeconfig(tmp_path / "right", sandbox, ca_pem=Path(sandbox.ca).read_bytes(), user=user)
        named = sandbox.api.removeprefix("https://")
    else:
        ca = Path(sandbox.ca).read_bytes()
        wrong = write_kubeconfig(tmp_path / "wrong", sandbox, ca_pem=ca, user=user, tls_server_name=WRONG_SERVER_NAME)
        right = write_kubeconfig(tmp_path / "right", sandbox, ca_pem=ca, user=user, tls_server_name=RIGHT_SERVER_NAME)
        named = f"{WRONG_SERVER_NAME}:{sandbox.api.rsplit(':', 1)[1]}"

    mark = audit.mark()
    failed = run_module("pull_secret", pull_secret_params(namespace, "never-sent"), kubeconfig=wrong)
    assert failed.get("failed") is True
    message = failed["msg"]
    assert f"TLS verification of the API server {named} failed" in message, message
    assert f"certificate-authority-data of cluster 'sandbox' in {wrong}" in message  # where the CA came from
    assert "Set ca_cert" in message  # the fix
    assert user["token"] not in json.dumps(failed)
    assert requests_by(audit, mark, username) == [], "the API server must never see a request from this user"

    # The same task with a configuration that verifies is seen at once: the audit log would have shown the first.
    mark = audit.mark()
    done = run_module("pull_secret", pull_secret_params(namespace, "sent"), kubeconfig=right)
    assert not done.get("failed"), done.get("msg")
    assert [event["objectRef"].get("name") for event in requests_by(audit, mark, username)] == ["sent"]


# --- 3. validate_certs: false works, with a warning --------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "params", "env"),
    [
        ("option", {"validate_certs": False}, None),
        ("K8S_AUTH_VERIFY_SSL", {}, {"K8S_AUTH_VERIFY_SSL": "false"}),
    ],
)
def test_verification_off_works_and_warns(
    sandbox: Sandbox,
    namespace: str,
    run_module: ModuleRunner,
    *,
    tmp_path: Path,
    how: str,
    params: dict[str, Any],
    env: dict[str, str] | None,
) -> None:
    wrong = write_kubeconfig(tmp_path / "wrong", sandbox, ca_pem=front_proxy_ca(sandbox), user=admin_user(sandbox))
    name = f"unverified-{how.lower().replace('_', '-')}"
    result = run_module("pull_secret", pull_secret_params(namespace, name, **params), kubeconfig=wrong, env=env)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    warned = insecure_warnings(result)
    assert len(warned) == 1, warnings_of(result)
    assert f"the API server {sandbox.api} is off (validate_certs: false" in warned[0]
    assert "Set ca_cert" in warned[0]


# --- 4. registry credentials over plain HTTP only to a registry marked insecure -----------------------------------


def authorizations(registry: RecordingRegistry) -> list[str | None]:
    """The Authorization header of every request the registry received, ``None`` for a request without one."""
    return [seen.headers.get("Authorization") for seen in registry.seen]


def test_registry_credentials_cross_plain_http_only_when_marked_insecure(
    namespace: str, run_module: ModuleRunner
) -> None:
    with RecordingRegistry(basic_auth_registry(REGISTRY_BASIC)) as registry:
        entry = {"server": registry.base, "username": REGISTRY_USER, "password": REGISTRY_PASSWORD}
        params = {"name": "plain-http", "namespace": namespace, "registries": [entry], "validate_credentials": True}
        refused = run_module("pull_secret", params)
        sent_before_marking = authorizations(registry)
        insecure = run_module("pull_secret", {**params, "registry_validate_certs": False})
    assert refused.get("failed") is True
    assert "plain HTTP" in refused["msg"], refused["msg"]
    assert "registry_validate_certs: false" in refused["msg"]
    assert "nothing was written" in refused["msg"]
    assert REGISTRY_PASSWORD not in json.dumps(refused)
    assert sent_before_marking == [None], "only the ping reached the registry, without credentials"
    assert not insecure.get("failed"), insecure.get("msg")
    assert [check["outcome"] for check in insecure["credential_checks"]] == ["accepted"]
    assert authorizations(registry)[len(sent_before_marking) :] == [None, REGISTRY_BASIC]


# --- 6. the backup file of global_pull_secret ------------------------------------------------------------------


def test_the_backup_is_private_whatever_the_umask(
    kube: Kube, namespace: str, run_module: ModuleRunner, tmp_path: Path
) -> None:
    # The module's own secret in the test's namespace: the cluster's global pull secret stays untouched.
    auth = base64.b64encode(b"quay-robot:quay-backup-Pa55word").decode()
    stored = json.dumps({"auths": {"quay.io": {"auth": auth}}}, indent=2).encode()
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "nodes-pull-secret"},
            "data": {".dockerconfigjson": base64.b64encode(stored).decode()},
        },
    )
    backup_dir = tmp_path / "backups"
    previous = os.umask(0)  # the module inherits it: a file created without an explicit mode would be 0666
    try:
        result = run_module(
            "global_pull_secret",
            {
                "name": "nodes-pull-secret",
                "namespace": namespace,
                "registries": [
                    {"server": "registry.example.com", "username": "developer", "password": "developer-Pa55word"}
                ],
                "backup": True,
                "backup_dir": str(backup_dir),
            },
        )
    finally:
        os.umask(previous)
    assert not result.get("failed"), result.get("msg")
    backup = Path(result["backup_file"])
    assert backup.read_bytes() == stored
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    assert list(backup_dir.iterdir()) == [backup], "no temporary file left behind"
