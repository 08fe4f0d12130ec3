"""pull_secret against the sandbox cluster: the stored Secret is read back with the independent admin client, and
skopeo proves that what is stored really authenticates against the sandbox registries."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    ForbiddenError,
    PartialChangeError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config_resolution import (
    resolve_cluster_config,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import RunContext
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.apply import apply_pull_secret
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.request import PullSecretRequest
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64
from ansible_collections.openshift_ops.images.tests.unit.support.kube_names import secret_path

from .sandbox_support import (
    AuditLog,
    AuditMark,
    Kube,
    ModuleRunner,
    PlaybookRunner,
    Sandbox,
    assert_ok,
    managed_pull_secret,
    module_writes,
    skopeo_inspect,
    warnings_of,
)

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
IMAGE = "sandbox/hello:1.0"
# Ansible masks every registered secret value wherever it appears, even inside other words: test credentials
# are long, as real ones are, so that masking never garbles the output the tests read.
LINKED_AUTH = base64.b64encode(b"robot:robot-Passw0rd-for-tests").decode()


def stored_text(kube: Kube, namespace: str, name: str, key: str = ".dockerconfigjson") -> str:
    secret = kube.get(secret_path(namespace, name))
    assert secret is not None, f"secret {namespace}/{name} was not created"
    return base64.b64decode(secret["data"][key]).decode()


def stored_document(kube: Kube, namespace: str, name: str) -> dict:
    return json.loads(stored_text(kube, namespace, name))


def authfile_from_secret(kube: Kube, namespace: str, name: str, directory: Path) -> str:
    """The stored .dockerconfigjson, as an authfile for skopeo: what CRI-O would get from the kubelet."""
    path = directory / f"{name}-auth.json"
    path.touch(mode=0o600)
    path.write_text(stored_text(kube, namespace, name), encoding="utf-8")
    return str(path)


def token_realm_host(sandbox: Sandbox) -> str:
    """host:port of the token service the token registry sends clients to (from its WWW-Authenticate)."""
    context = ssl.create_default_context(cafile=sandbox.registry_ca)
    challenge = ""
    try:
        urllib.request.urlopen(f"https://{sandbox.token_registry}/v2/", context=context, timeout=10)
    except urllib.error.HTTPError as error:
        challenge = error.headers["WWW-Authenticate"] or ""
    assert 'realm="' in challenge, f"the token registry answered /v2/ without a bearer challenge: {challenge!r}"
    realm = challenge.split('realm="', 1)[1].split('"', 1)[0]
    return realm.split("://", 1)[1].split("/", 1)[0]


def kubectl_document(server: str, username: str, password: str, email: str | None = None) -> str:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed as the reference for the secret's bytes (tooling.md: preinstalled)"
    command = [
        kubectl,
        "create",
        "secret",
        "docker-registry",
        "reference",
        f"--docker-server={server}",
        f"--docker-username={username}",
        f"--docker-password={password}",
        "--dry-run=client",
        "-o",
        "json",
    ]
    if email:
        command.append(f"--docker-email={email}")
    answer = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return base64.b64decode(json.loads(answer.stdout)["data"][".dockerconfigjson"]).decode()


def secret_writes(audit: AuditLog, mark: AuditMark, namespace: str) -> list[dict[str, Any]]:
    return module_writes(audit, mark, namespace, "secrets")


# --- building secrets -------------------------------------------------------------------------------------------------


def test_from_credentials_check_mode_kubectl_bytes_skopeo_and_idempotence(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, *, audit: AuditLog, tmp_path: Path
) -> None:
    params = {
        "name": "sandbox-registry",
        "namespace": namespace,
        "registries": [
            {
                "server": sandbox.registry,
                "username": sandbox.registry_user,
                "password": sandbox.registry_password,
                "email": "ops@example.com",
            }
        ],
    }
    mark = audit.mark()
    predicted = assert_ok(run_module("pull_secret", params, check=True, diff=True))
    assert predicted["changed"] is True
    assert predicted["action"] == "created"
    assert secret_writes(audit, mark, namespace) == []
    assert kube.get(secret_path(namespace, "sandbox-registry")) is None

    result = assert_ok(run_module("pull_secret", params, diff=True))
    assert result["changed"] is True
    assert result["action"] == "created"
    assert result["registries_added"] == [sandbox.registry]
    secret = kube.get(secret_path(namespace, "sandbox-registry"))
    assert secret["type"] == DOCKERCONFIGJSON
    # Byte for byte what `kubectl create secret docker-registry` stores.
    assert stored_text(kube, namespace, "sandbox-registry") == kubectl_document(
        sandbox.registry, sandbox.registry_user, sandbox.registry_password, "ops@example.com"
    )
    summary = result["secret"]["registries"][sandbox.registry]
    assert summary["username"] == sandbox.registry_user
    assert summary["email"] == "ops@example.com"
    assert len(summary["fingerprint"]) == 12
    assert result["diff"] == predicted["diff"]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["registries"] == result["secret"]["registries"]
    for output in (json.dumps(result), json.dumps(predicted)):
        assert sandbox.registry_password not in output
        assert b64(f"{sandbox.registry_user}:{sandbox.registry_password}") not in output

    authfile = authfile_from_secret(kube, namespace, "sandbox-registry", tmp_path)
    pulled = skopeo_inspect(f"{sandbox.registry}/{IMAGE}", authfile, sandbox.registry_ca)
    assert pulled.returncode == 0, pulled.stderr
    # Control: the registry does refuse anonymous pulls, so the check above proves the credentials work.
    anonymous = skopeo_inspect(f"{sandbox.registry}/{IMAGE}", None, sandbox.registry_ca)
    assert anonymous.returncode != 0

    mark = audit.mark()
    again = assert_ok(run_module("pull_secret", params, diff=True))
    assert again["changed"] is False
    assert again["action"] == "unchanged"
    assert again["diff"]["before"] == again["diff"]["after"]
    assert secret_writes(audit, mark, namespace) == []
    checked = assert_ok(run_module("pull_secret", params, check=True))
    assert checked["changed"] is False


def test_path_scoped_key_gives_credentials_for_that_path_only(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, tmp_path: Path
) -> None:
    def secret_for(name: str, key: str) -> str:
        assert_ok(
            run_module(
                "pull_secret",
                {
                    "name": name,
                    "namespace": namespace,
                    "registries": [
                        {"server": key, "username": sandbox.registry_user, "password": sandbox.registry_password}
                    ],
                },
            )
        )
        return authfile_from_secret(kube, namespace, name, tmp_path)

    scoped = secret_for("scoped", f"{sandbox.registry}/sandbox")
    assert list(stored_document(kube, namespace, "scoped")["auths"]) == [f"{sandbox.registry}/sandbox"]
    pulled = skopeo_inspect(f"{sandbox.registry}/{IMAGE}", scoped, sandbox.registry_ca)
    assert pulled.returncode == 0, pulled.stderr
    # Control: a key scoped to another path gives nothing for sandbox/hello.
    elsewhere = secret_for("elsewhere", f"{sandbox.registry}/other-team")
    refused = skopeo_inspect(f"{sandbox.registry}/{IMAGE}", elsewhere, sandbox.registry_ca)
    assert refused.returncode != 0


def test_from_docker_config_json_keeps_every_entry_and_field(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, tmp_path: Path
) -> None:
    auth = b64(f"{sandbox.registry_user}:{sandbox.registry_password}")
    config = {
        "auths": {
            sandbox.registry: {"auth": auth, "email": "ci@example.com"},
            "https://index.docker.io/v1/": {
                "username": "hub-user",
                "password": "hub-token",
                "auth": b64("hub-user:hub-token"),
            },
        },
        "HttpHeaders": {"User-Agent": "Docker-Client/24.0.7 (linux)"},
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config, indent="\t"), encoding="utf-8")
    result = assert_ok(
        run_module("pull_secret", {"name": "from-docker", "namespace": namespace, "auth_file": str(path)})
    )
    assert result["changed"] is True
    assert stored_document(kube, namespace, "from-docker")["auths"] == config["auths"]
    assert "hub-token" not in json.dumps(result)
    assert result["secret"]["registries"]["https://index.docker.io/v1/"]["username"] == "hub-user"
    pulled = skopeo_inspect(
        f"{sandbox.registry}/{IMAGE}",
        authfile_from_secret(kube, namespace, "from-docker", tmp_path),
        sandbox.registry_ca,
    )
    assert pulled.returncode == 0, pulled.stderr
    again = assert_ok(
        run_module("pull_secret", {"name": "from-docker", "namespace": namespace, "auth_file": str(path)})
    )
    assert again["changed"] is False


def test_from_podman_auth_json_as_podmanconfigjson_is_converted(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, tmp_path: Path
) -> None:
    auth_json = json.dumps(
        {"auths": {sandbox.registry: {"auth": b64(f"{sandbox.registry_user}:{sandbox.registry_password}")}}}
    )
    params = {
        "name": "from-podman",
        "namespace": namespace,
        "auth_content": auth_json,
        "type": "kubernetes.io/podmanconfigjson",
    }
    result = assert_ok(run_module("pull_secret", params))
    assert result["changed"] is True
    assert result["secret"]["type"] == DOCKERCONFIGJSON
    assert any("podmanconfigjson" in w and "ignore" in w for w in warnings_of(result))
    secret = kube.get(secret_path(namespace, "from-podman"))
    assert secret["type"] == DOCKERCONFIGJSON
    assert list(secret["data"]) == [".dockerconfigjson"]
    assert stored_document(kube, namespace, "from-podman") == json.loads(auth_json)
    pulled = skopeo_inspect(
        f"{sandbox.registry}/{IMAGE}",
        authfile_from_secret(kube, namespace, "from-podman", tmp_path),
        sandbox.registry_ca,
    )
    assert pulled.returncode == 0, pulled.stderr
    assert assert_ok(run_module("pull_secret", params))["changed"] is False


def test_two_entries_for_delegated_authentication(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, tmp_path: Path
) -> None:
    realm = token_realm_host(sandbox)
    assert realm != sandbox.token_registry
    credentials = {"username": sandbox.registry_user, "password": sandbox.registry_password}
    result = assert_ok(
        run_module(
            "pull_secret",
            {
                "name": "delegated",
                "namespace": namespace,
                "registries": [{"server": sandbox.token_registry, **credentials}, {"server": realm, **credentials}],
            },
        )
    )
    assert result["registries_added"] == [sandbox.token_registry, realm]
    assert list(stored_document(kube, namespace, "delegated")["auths"]) == [sandbox.token_registry, realm]
    authfile = authfile_from_secret(kube, namespace, "delegated", tmp_path)
    pulled = skopeo_inspect(f"{sandbox.token_registry}/{IMAGE}", authfile, sandbox.registry_ca)
    assert pulled.returncode == 0, pulled.stderr
    anonymous = skopeo_inspect(f"{sandbox.token_registry}/{IMAGE}", None, sandbox.registry_ca)
    assert anonymous.returncode != 0


def test_merge_into_existing_secret_and_remove_entries(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    existing: dict[str, dict] = {
        "auths": {
            "cloud.openshift.com": {"auth": b64("telemetry:telemetry-Token-0001"), "email": "owner@example.com"},
            "old.example.com": {"username": "old", "password": "old-Passw0rd-1", "auth": b64("old:old-Passw0rd-1")},
            "https://quay.io": {"auth": b64("quay-old:quay-Old-Passw0rd")},
        },
        "credHelpers": {"gcr.io": "gcloud"},
    }
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "shared", "labels": {"team": "a"}, "annotations": {"owner": "ops"}},
            "type": DOCKERCONFIGJSON,
            "data": {".dockerconfigjson": b64(json.dumps(existing, indent=2))},
        },
    )
    params: dict[str, Any] = {
        "name": "shared",
        "namespace": namespace,
        "merge": True,
        "registries": [
            {"server": "quay.io", "username": "robot", "password": "new-pw"},
            {"server": sandbox.registry, "username": sandbox.registry_user, "password": sandbox.registry_password},
        ],
        "remove_registries": ["old.example.com"],
    }
    mark = audit.mark()
    predicted = assert_ok(run_module("pull_secret", params, check=True, diff=True))
    assert predicted["changed"] is True
    assert predicted["action"] == "updated"
    assert secret_writes(audit, mark, namespace) == []

    result = assert_ok(run_module("pull_secret", params, diff=True))
    assert result["diff"] == predicted["diff"]
    assert sorted(result["registries_removed"]) == ["https://quay.io", "old.example.com"]
    assert result["registries_added"] == ["quay.io", sandbox.registry]
    document = stored_document(kube, namespace, "shared")
    assert list(document["auths"]) == ["cloud.openshift.com", "quay.io", sandbox.registry]
    assert document["auths"]["cloud.openshift.com"] == existing["auths"]["cloud.openshift.com"]
    assert document["credHelpers"] == existing["credHelpers"]
    secret = kube.get(secret_path(namespace, "shared"))
    assert secret["metadata"]["labels"] == {"team": "a"}
    assert secret["metadata"]["annotations"] == {"owner": "ops"}
    assert "old-Passw0rd-1" not in json.dumps(result)
    # The helper entry in the secret is worth a warning: the kubelet ignores credential helpers.
    assert any("credHelpers" in w for w in warnings_of(result))

    mark = audit.mark()
    assert assert_ok(run_module("pull_secret", params))["changed"] is False
    assert secret_writes(audit, mark, namespace) == []

    # merge: false makes the secret hold exactly what is given.
    exact = assert_ok(
        run_module("pull_secret", {"name": "shared", "namespace": namespace, "registries": params["registries"][:1]})
    )
    assert exact["changed"] is True
    assert stored_document(kube, namespace, "shared") == {
        "auths": {"quay.io": {"username": "robot", "password": "new-pw", "auth": b64("robot:new-pw")}}
    }


def test_legacy_dockercfg_type(sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner) -> None:
    params = {
        "name": "legacy",
        "namespace": namespace,
        "type": "kubernetes.io/dockercfg",
        "registries": [{"server": sandbox.registry, "auth": LINKED_AUTH}],
    }
    assert assert_ok(run_module("pull_secret", params))["changed"] is True
    secret = kube.get(secret_path(namespace, "legacy"))
    assert secret["type"] == "kubernetes.io/dockercfg"
    assert json.loads(stored_text(kube, namespace, "legacy", ".dockercfg")) == {sandbox.registry: {"auth": LINKED_AUTH}}
    assert assert_ok(run_module("pull_secret", params))["changed"] is False


# --- validate_credentials ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("registry_attr", ["registry", "token_registry"])
def test_validate_credentials(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, *, audit: AuditLog, registry_attr: str
) -> None:
    server = getattr(sandbox, registry_attr)

    def params(password: str) -> dict:
        return {
            "name": "checked",
            "namespace": namespace,
            "registries": [{"server": server, "username": sandbox.registry_user, "password": password}],
            "validate_credentials": True,
            "registry_ca_cert": sandbox.registry_ca,
        }

    mark = audit.mark()
    wrong = run_module("pull_secret", params("not-the-password"))
    assert wrong.get("failed") is True
    assert f"- {server}:" in wrong["msg"]
    assert "nothing was written" in wrong["msg"]
    assert "not-the-password" not in json.dumps(wrong)
    assert secret_writes(audit, mark, namespace) == []
    assert kube.get(secret_path(namespace, "checked")) is None

    right = assert_ok(run_module("pull_secret", params(sandbox.registry_password)))
    assert right["changed"] is True
    [check] = right["credential_checks"]
    assert check["registry"] == server
    assert check["ok"] is True
    assert check["outcome"] == "accepted"
    if registry_attr == "token_registry":
        assert "token" in check["detail"]

    # the secret holds the entry as given: nothing is written, so nothing is checked
    again = assert_ok(run_module("pull_secret", params(sandbox.registry_password)))
    assert (again["changed"], again["credential_checks"]) == (False, [])

    # a password that differs from the stored one would be written: it is checked, refused, and nothing is written
    stored = kube.get(secret_path(namespace, "checked"))
    mark = audit.mark()
    changed_wrong = run_module("pull_secret", params("not-the-password"))
    assert changed_wrong.get("failed") is True
    assert f"- {server}:" in changed_wrong["msg"]
    assert secret_writes(audit, mark, namespace) == []
    assert kube.get(secret_path(namespace, "checked"))["data"] == stored["data"]


# --- service accounts -------------------------------------------------------------------------------------------------


def test_link_service_accounts_and_delete(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    # builder as OpenShift made it: its managed registry pull secret linked by openshift-controller-manager
    managed = managed_pull_secret(kube, namespace, "builder")
    assert managed is not None
    sa_path = f"/api/v1/namespaces/{namespace}/serviceaccounts/builder"
    kube.patch(sa_path, {"imagePullSecrets": [{"name": managed}, {"name": "other"}]})
    params = {
        "name": "linked",
        "namespace": namespace,
        "registries": [{"server": sandbox.registry, "auth": LINKED_AUTH}],
        "link_service_accounts": ["builder"],
    }
    mark = audit.mark()
    predicted = assert_ok(run_module("pull_secret", params, check=True, diff=True))
    assert predicted["changed"] is True
    assert predicted["service_accounts"][0]["image_pull_secrets"] == [managed, "other", "linked"]
    assert module_writes(audit, mark, namespace) == []

    result = assert_ok(run_module("pull_secret", params, diff=True))
    assert result["diff"] == predicted["diff"]
    names = [ref["name"] for ref in kube.get(sa_path)["imagePullSecrets"]]
    assert names == [managed, "other", "linked"]

    mark = audit.mark()
    assert assert_ok(run_module("pull_secret", params))["changed"] is False
    assert module_writes(audit, mark, namespace) == []

    deleted = assert_ok(run_module("pull_secret", {**params, "state": "absent"}, diff=True))
    assert deleted["action"] == "deleted"
    assert deleted["diff"]["after"]["service_accounts"]["builder"]["imagePullSecrets"] == [managed, "other"]
    assert kube.get(secret_path(namespace, "linked")) is None
    assert [ref["name"] for ref in kube.get(sa_path)["imagePullSecrets"]] == [managed, "other"]
    assert assert_ok(run_module("pull_secret", {**params, "state": "absent"}))["changed"] is False


# --- another type in the way ------------------------------------------------------------------------------------------


def test_secret_of_another_type_is_replaced_only_with_force(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "docs-way", "labels": {"app": "x"}},
            "type": "kubernetes.io/podmanconfigjson",
            "data": {"auth.json": b64("{}")},
        },
    )
    params = {
        "name": "docs-way",
        "namespace": namespace,
        "registries": [{"server": sandbox.registry, "auth": LINKED_AUTH}],
    }
    mark = audit.mark()
    refused = run_module("pull_secret", params)
    assert refused.get("failed") is True
    assert "exists with type kubernetes.io/podmanconfigjson" in refused["msg"]
    assert "force: true" in refused["msg"]
    assert secret_writes(audit, mark, namespace) == []

    predicted = assert_ok(run_module("pull_secret", {**params, "force": True}, check=True))
    assert predicted["action"] == "replaced"
    assert secret_writes(audit, mark, namespace) == []

    replaced = assert_ok(run_module("pull_secret", {**params, "force": True}))
    assert replaced["action"] == "replaced"
    secret = kube.get(secret_path(namespace, "docs-way"))
    assert secret["type"] == DOCKERCONFIGJSON
    assert secret["metadata"]["labels"] == {"app": "x"}
    assert list(secret["data"]) == [".dockerconfigjson"]
    assert assert_ok(run_module("pull_secret", {**params, "force": True}))["changed"] is False


def test_immutable_secret_is_recreated_only_with_force(
    sandbox: Sandbox, kube: Kube, namespace: str, run_module: ModuleRunner
) -> None:
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "frozen", "annotations": {"owner": "ops"}},
            "type": DOCKERCONFIGJSON,
            "immutable": True,
            "data": {".dockerconfigjson": b64(json.dumps({"auths": {"old.example.com": {"auth": LINKED_AUTH}}}))},
        },
    )
    before_uid = kube.get(secret_path(namespace, "frozen"))["metadata"]["uid"]
    params = {
        "name": "frozen",
        "namespace": namespace,
        "registries": [{"server": sandbox.registry, "auth": LINKED_AUTH}],
    }
    refused = run_module("pull_secret", params)
    assert refused.get("failed") is True
    assert "immutable" in refused["msg"]
    assert "force: true" in refused["msg"]
    replaced = assert_ok(run_module("pull_secret", {**params, "force": True}))
    assert replaced["action"] == "replaced"
    secret = kube.get(secret_path(namespace, "frozen"))
    assert secret["metadata"]["uid"] != before_uid
    assert secret["immutable"] is True
    assert secret["metadata"]["annotations"] == {"owner": "ops"}
    assert list(stored_document(kube, namespace, "frozen")["auths"]) == [sandbox.registry]
    assert assert_ok(run_module("pull_secret", {**params, "force": True}))["changed"] is False


def test_absent_refuses_to_delete_a_secret_that_is_not_a_pull_secret(
    kube: Kube, namespace: str, run_module: ModuleRunner
) -> None:
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "tls"},
            "type": "Opaque",
            "data": {"tls.key": b64("-----BEGIN PRIVATE KEY-----not really-----END PRIVATE KEY-----")},
        },
    )
    params = {"name": "tls", "namespace": namespace, "state": "absent"}
    refused = run_module("pull_secret", params)
    assert refused.get("failed") is True
    assert "not a pull secret" in refused["msg"]
    assert kube.get(secret_path(namespace, "tls")) is not None
    assert assert_ok(run_module("pull_secret", {**params, "force": True}))["changed"] is True
    assert kube.get(secret_path(namespace, "tls")) is None


class _InterleavingClient:
    """The collection's real client; right after its first GET of ``path`` another writer acts for real."""

    def __init__(self, client: Any, path: str, interleave: Any) -> None:
        self._client = client
        self._path = path
        self._interleave = interleave
        self._done = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get(self, path: str, **kwargs: Any) -> Any:
        answer = self._client.get(path, **kwargs)
        if path == self._path and not self._done:
            self._done = True
            self._interleave()
        return answer


def _admin_client(sandbox: Sandbox) -> Any:
    return KubeClient(resolve_cluster_config(ConnectionOptions(kubeconfig=sandbox.kubeconfig), {}))


def _request(**params: Any) -> PullSecretRequest:
    return PullSecretRequest.from_params({"registry_validate_certs": True, **params})


def _opaque(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "Opaque",
        "data": {"tls.key": b64("not a pull secret")},
    }


def test_absent_deletes_only_the_secret_it_checked(
    sandbox: Sandbox, kube: Kube, namespace: str, audit: AuditLog
) -> None:
    collection = f"/api/v1/namespaces/{namespace}/secrets"
    document = json.dumps({"auths": {"quay.io": {"auth": LINKED_AUTH}}})
    kube.create(
        collection,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "swap"},
            "type": DOCKERCONFIGJSON,
            "data": {".dockerconfigjson": b64(document)},
        },
    )

    def replace_with_an_opaque_secret() -> None:  # someone re-creates the name as another kind of secret
        kube.delete(secret_path(namespace, "swap"))
        kube.create(collection, _opaque("swap"))

    client = _InterleavingClient(_admin_client(sandbox), secret_path(namespace, "swap"), replace_with_an_opaque_secret)
    mark = audit.mark()
    with pytest.raises(ClusterStateError, match="has type Opaque, which is not a pull secret; it was not deleted"):
        apply_pull_secret(client, _request(name="swap", namespace=namespace, state="absent"), RunContext())
    assert kube.get(secret_path(namespace, "swap"))["type"] == "Opaque"  # theirs is still there
    ours = [
        e
        for e in audit.writes(since=mark, resource="secrets", namespace=namespace)
        if e.get("userAgent", "").startswith("openshift_ops.images")
    ]
    # the DELETE carried the uid that was read: refused (409), then the fresh read found another kind of secret
    assert [(e["verb"], e["responseStatus"]["code"]) for e in ours] == [("delete", 409)]


def test_a_type_change_that_cannot_create_the_new_secret_puts_the_old_one_back(
    sandbox: Sandbox, kube: Kube, namespace: str
) -> None:
    collection = f"/api/v1/namespaces/{namespace}/secrets"
    old = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "legacy", "labels": {"app": "x"}, "annotations": {"owner": "ops"}},
        "type": "kubernetes.io/dockercfg",
        "data": {".dockercfg": b64(json.dumps({"quay.io": {"auth": LINKED_AUTH}}))},
    }
    kube.create(collection, old)

    class RefusingCreate:
        """The real client, except that the first create of the new secret fails as a webhook or quota would."""

        def __init__(self, client: Any) -> None:
            self._client = client
            self.refused = False

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

        def create(self, path: str, body: dict[str, Any]) -> Any:
            if body.get("type") == DOCKERCONFIGJSON and not self.refused:
                self.refused = True
                raise ForbiddenError("POST: exceeded quota: secrets", status=403, method="POST", path=path)
            return self._client.create(path, body)

    client = RefusingCreate(_admin_client(sandbox))
    request = _request(
        name="legacy", namespace=namespace, force=True, registries=[{"server": sandbox.registry, "auth": LINKED_AUTH}]
    )
    with pytest.raises(PartialChangeError) as failed:
        apply_pull_secret(client, request, RunContext())
    message = str(failed.value)
    assert "was deleted to change its type from kubernetes.io/dockercfg to kubernetes.io/dockerconfigjson" in message
    assert "exceeded quota" in message
    assert "the old secret was put back" in message
    assert failed.value.result == {"changed": True, "action": "restored"}
    restored = kube.get(secret_path(namespace, "legacy"))
    assert restored["type"] == "kubernetes.io/dockercfg"
    assert restored["data"] == old["data"]
    assert restored["metadata"]["labels"] == {"app": "x"}
    assert restored["metadata"]["annotations"] == {"owner": "ops"}


# --- bad input --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"auth_content": "{not json"}, "auth_content is not valid JSON"),
        ({"auth_content": {"auths": ["quay.io"]}}, "auths must be an object"),
        ({"registries": [{"server": "quay.io", "auth": b64("no-colon-here")}]}, 'does not decode to "user:password"'),
        ({"registries": [{"server": "quay.io", "auth": "%%%not-base64"}]}, "not standard base64"),
        ({"registries": [{"server": "quay.io/ns/app:1.0", "username": "u", "password": "Passw0rd-x"}]}, "not a tag"),
        ({"registries": [{"username": "u", "password": "Passw0rd-x"}]}, "missing required arguments: server"),
        (
            {"registries": [{"server": "quay.io", "username": "u", "password": "Passw0rd-x"}], "type": "Opaque"},
            "value of type must be one of",
        ),
        ({"auth_file": "/nonexistent/auth.json"}, "/nonexistent/auth.json"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog, *, options: dict, fragment: str
) -> None:
    mark = audit.mark()
    result = run_module("pull_secret", {"name": "bad", "namespace": namespace, **options})
    assert result.get("failed") is True
    assert fragment in result["msg"]
    assert "Traceback" not in result["msg"]
    assert module_writes(audit, mark, namespace) == []
    assert kube.get(secret_path(namespace, "bad")) is None


# --- the password never shows ---------------------------------------------------------------------------------------


def test_password_appears_nowhere_in_playbook_output(
    sandbox: Sandbox, kube: Kube, namespace: str, run_playbook: PlaybookRunner, tmp_path: Path
) -> None:
    file_password = "file-Pa55-never-shown"
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {"file.example.com": {"auth": b64(f"fileuser:{file_password}")}}}))
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "pb"},
            "type": DOCKERCONFIGJSON,
            "data": {
                ".dockerconfigjson": b64(
                    json.dumps({"auths": {"old.example.com": {"auth": b64("olduser:old-Pa55-secret")}}})
                )
            },
        },
    )
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Write the pull secret
      openshift_ops.images.pull_secret:
        name: pb
        namespace: "{{ ns }}"
        merge: true
        auth_file: "{{ auth_file }}"
        registries:
          - server: "{{ registry }}"
            username: "{{ user }}"
            password: "{{ password }}"
        remove_registries: [old.example.com]
"""
    extra_vars = {
        "ns": namespace,
        "auth_file": str(auth_file),
        "registry": sandbox.registry,
        "user": sandbox.registry_user,
        "password": sandbox.registry_password,
    }
    first = run_playbook(playbook, extra_vars=extra_vars, diff=True, verbosity=3)
    assert first.returncode == 0, first.stdout[-3000:]
    assert "changed=1" in first.stdout
    second = run_playbook(playbook, extra_vars=extra_vars, diff=True, verbosity=3, check=True)
    assert second.returncode == 0, second.stdout[-3000:]
    assert "changed=0" in second.stdout
    stored = stored_text(kube, namespace, "pb")
    secrets = [
        sandbox.registry_password,
        b64(f"{sandbox.registry_user}:{sandbox.registry_password}"),
        file_password,
        b64(f"fileuser:{file_password}"),
        "old-Pa55-secret",
        b64("olduser:old-Pa55-secret"),
        b64(stored),
    ]
    for run in (first, second):
        for secret in secrets:
            assert secret not in run.stdout
            assert secret not in run.stderr
    # The diff is there, with user names and keys.
    assert sandbox.registry_user in first.stdout
    assert "file.example.com" in first.stdout
