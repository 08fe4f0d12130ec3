# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""image_pull_access_info against the sandbox: real pull secrets and service accounts (with the managed
``<sa>-dockercfg-*`` secret openshift-controller-manager links), the seeded global pull secret, the basic-auth and
the token registry for credential checks, and the real RBAC authorizer for image stream pulls (as admin and as a
project user bound to ``edit``). Every run is also checked to write nothing and to show no secret."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

from .sandbox_support import (
    AuditLog,
    Kube,
    ModuleRunner,
    Sandbox,
    temporary_role_binding,
    wait_for_project_setup,
)

MODULE = "image_pull_access_info"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
INTERNAL = "image-registry.openshift-image-registry.svc:5000"


def wrong_password() -> str:
    # random: the module masks every value it read, so a password that is also a plain word would garble its output
    return f"wrong-{secrets.token_hex(8)}"


def make_pull_secret(kube: Kube, namespace: str, name: str, auths: dict[str, tuple[str, str]]) -> None:
    document = {"auths": {key: {"auth": b64(f"{user}:{password}")} for key, (user, password) in auths.items()}}
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "type": DOCKERCONFIGJSON,
            "data": {".dockerconfigjson": b64(json.dumps(document))},
        },
    )


def link_to_default(kube: Kube, namespace: str, name: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts/default"
    account = kube.get(path)
    kube.patch(path, {"imagePullSecrets": [*(account.get("imagePullSecrets") or []), {"name": name}]})


def diagnose(run_module: ModuleRunner, sandbox: Sandbox, params: dict[str, Any], **kw: Any) -> dict[str, Any]:
    result = run_module(MODULE, {"registry_ca_cert": sandbox.registry_ca, **params}, **kw)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    shown = run_module.last.stdout + run_module.last.stderr
    assert sandbox.registry_password not in shown
    return result


@pytest.fixture
def other_project(kube: Kube) -> Iterator[str]:
    name = f"it-pull-src-{secrets.token_hex(3)}"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    wait_for_project_setup(kube, name)
    yield name
    if os.environ.get("SANDBOX_KEEP_NAMESPACES") != "1":
        kube.delete(f"/api/v1/namespaces/{name}")


def test_the_pods_own_secret_is_used_and_accepted(
    run_module: ModuleRunner, sandbox: Sandbox, kube: Kube, namespace: str, audit: AuditLog
) -> None:
    make_pull_secret(kube, namespace, "own", {sandbox.registry: (sandbox.registry_user, sandbox.registry_password)})
    make_pull_secret(kube, namespace, "linked", {sandbox.registry: (sandbox.registry_user, wrong_password())})
    link_to_default(kube, namespace, "linked")
    mark = audit.mark()
    pod = {"spec": {"imagePullSecrets": [{"name": "own"}], "containers": [{"name": "c", "image": "x"}]}}
    result = diagnose(
        run_module,
        sandbox,
        {
            "namespace": namespace,
            "image": f"{sandbox.registry}/sandbox/hello:1.0",
            "pod": pod,
            "check_credentials": True,
        },
    )
    assert audit.writes(since=mark, namespace=namespace) == []
    assert result["pull_secrets_from"] == "pod"
    assert [s["name"] for s in result["pull_secrets"]] == ["own"]
    assert result["credential"]["secret"] == f"{namespace}/own"
    assert result["credential"]["username"] == sandbox.registry_user
    assert result["candidates"][0]["check"]["outcome"] == "accepted"
    assert result["problems"] == []
    assert result["default_pull_policy"] == "IfNotPresent"


def test_the_service_accounts_secret_is_used(
    run_module: ModuleRunner, sandbox: Sandbox, kube: Kube, namespace: str
) -> None:
    make_pull_secret(
        kube, namespace, "token", {sandbox.token_registry: (sandbox.registry_user, sandbox.registry_password)}
    )
    link_to_default(kube, namespace, "token")
    result = diagnose(
        run_module,
        sandbox,
        {"namespace": namespace, "image": f"{sandbox.token_registry}/sandbox/hello", "check_credentials": True},
    )
    assert result["pull_secrets_from"] == "service_account"
    # the managed dockercfg secret first, then ours; only ours matches this registry
    assert [s["name"] for s in result["pull_secrets"]][-1] == "token"
    assert all(s["status"] == "ok" for s in result["pull_secrets"])
    assert [c["secret"] for c in result["candidates"]] == [f"{namespace}/token"]
    assert result["candidates"][0]["source"] == "service_account"
    check = result["candidates"][0]["check"]
    assert check["outcome"] == "accepted" and "repository:sandbox/hello:pull" in check["detail"]
    assert result["problems"] == []
    assert result["default_pull_policy"] == "Always"


def test_the_global_pull_secret_is_used_as_admin_and_unreadable_as_a_project_user(
    run_module: ModuleRunner, sandbox: Sandbox, kube: Kube, namespace: str
) -> None:
    params = {"namespace": namespace, "image": "quay.io/org/app:1.0"}
    result = diagnose(run_module, sandbox, params)
    assert result["global_pull_secret"]["status"] == "ok"
    assert "quay.io" in result["global_pull_secret"]["keys"]
    assert result["credential"] == {**result["candidates"][0]}
    assert result["credential"]["secret"] == "openshift-config/pull-secret"
    assert result["credential"]["source"] == "node" and result["credential"]["key"] == "quay.io"
    assert result["containers_image"]["key"] == "quay.io"
    assert result["problems"] == []

    with temporary_role_binding(kube, namespace, role="edit"):
        result = diagnose(run_module, sandbox, params, kubeconfig=sandbox.user_kubeconfig)
    assert result["global_pull_secret"] == {
        "namespace": "openshift-config",
        "name": "pull-secret",
        "status": "forbidden",
        "keys": [],
    }
    assert result["containers_image"] is None
    assert any("could not be read (forbidden)" in note for note in result["notes"])
    [problem] = result["problems"]
    assert "unknown" in problem["problem"]
    assert "openshift_ops.images.pull_secret" in problem["fix"]


def test_no_credential_matches(run_module: ModuleRunner, sandbox: Sandbox, namespace: str) -> None:
    result = diagnose(run_module, sandbox, {"namespace": namespace, "image": f"{sandbox.registry}/sandbox/hello:1.0"})
    assert result["candidates"] == [] and result["credential"] is None
    [problem] = result["problems"]
    assert f"no pull secret of {namespace}:default has a credential for {sandbox.registry}" in problem["problem"]
    assert "openshift_ops.images.secret_link with purpose: pull" in problem["fix"]


def test_a_wrong_password_is_rejected_by_the_registry(
    run_module: ModuleRunner, sandbox: Sandbox, kube: Kube, namespace: str
) -> None:
    make_pull_secret(
        kube,
        namespace,
        "wrong",
        {
            sandbox.registry: ("nobody", wrong_password()),
            sandbox.token_registry: (sandbox.registry_user, wrong_password()),
        },
    )
    link_to_default(kube, namespace, "wrong")
    for registry in (sandbox.registry, sandbox.token_registry):
        result = diagnose(
            run_module,
            sandbox,
            {"namespace": namespace, "image": f"{registry}/sandbox/hello:1.0", "check_credentials": True},
        )
        assert [c["check"]["outcome"] for c in result["candidates"]] == ["rejected"]
        [problem] = result["problems"]
        assert "rejected every credential" in problem["problem"]
        assert f"{namespace}/wrong key {registry}" in problem["problem"]
        assert "openshift_ops.images.pull_secret" in problem["fix"]


def test_a_path_scoped_key_wins_over_the_host_key(
    run_module: ModuleRunner, sandbox: Sandbox, kube: Kube, namespace: str
) -> None:
    make_pull_secret(kube, namespace, "host", {sandbox.token_registry: (sandbox.registry_user, wrong_password())})
    make_pull_secret(
        kube,
        namespace,
        "scoped",
        {f"{sandbox.token_registry}/sandbox": (sandbox.registry_user, sandbox.registry_password)},
    )
    pod = {"imagePullSecrets": [{"name": "host"}, {"name": "scoped"}]}
    result = diagnose(
        run_module,
        sandbox,
        {
            "namespace": namespace,
            "image": f"{sandbox.token_registry}/sandbox/hello:1.0",
            "pod": pod,
            "check_credentials": True,
        },
    )
    assert [(c["secret"], c["key"]) for c in result["candidates"]] == [
        (f"{namespace}/scoped", f"{sandbox.token_registry}/sandbox"),
        (f"{namespace}/host", sandbox.token_registry),
    ]
    assert [c["check"]["outcome"] for c in result["candidates"]] == ["accepted", "rejected"]
    assert result["credential"]["key"] == f"{sandbox.token_registry}/sandbox"
    assert result["problems"] == []


def test_missing_and_wrong_type_secrets_are_problems(
    run_module: ModuleRunner, sandbox: Sandbox, kube: Kube, namespace: str
) -> None:
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "opaque"},
            "type": "Opaque",
            "data": {"a": b64("b")},
        },
    )
    pod = {"imagePullSecrets": [{"name": "gone"}, {"name": "opaque"}]}
    result = diagnose(run_module, sandbox, {"namespace": namespace, "image": f"{sandbox.registry}/x/y:1", "pod": pod})
    assert [(s["name"], s["status"]) for s in result["pull_secrets"]] == [("gone", "missing"), ("opaque", "wrong_type")]
    texts = [p["problem"] for p in result["problems"]]
    assert any("gone" in text and "does not exist" in text for text in texts)
    assert any("opaque" in text and "type Opaque" in text for text in texts)
    assert any(f"no pull secret of the pod has a credential for {sandbox.registry}" in text for text in texts)


def test_image_stream_of_another_project(
    run_module: ModuleRunner, sandbox: Sandbox, kube: Kube, namespace: str, other_project: str
) -> None:
    image = f"{INTERNAL}/{other_project}/app:latest"
    result = diagnose(run_module, sandbox, {"namespace": namespace, "image": image})
    stream = result["image_stream"]
    assert (stream["namespace"], stream["name"], stream["tag"]) == (other_project, "app", "latest")
    assert stream["allowed"] is False
    assert stream["granted_by"] == []
    # the service account's managed dockercfg secret holds the integrated registry's credential
    assert result["credential"]["source"] == "service_account"
    assert result["credential"]["secret"].startswith(f"{namespace}/default-dockercfg-")
    [problem] = result["problems"]
    assert f"may not pull from project {other_project}" in problem["problem"]
    assert "openshift_ops.images.image_puller_binding" in problem["fix"]

    granted = run_module(
        "image_puller_binding", {"namespace": other_project, "service_accounts": [f"{namespace}:default"]}
    )
    assert granted["changed"] is True
    result = diagnose(run_module, sandbox, {"namespace": namespace, "image_stream": f"{other_project}/app:latest"})
    assert result["image"]["given"] == image
    stream = result["image_stream"]
    assert stream["allowed"] is True
    assert stream["granted_by"] == [
        f"RoleBinding {other_project}/system:image-puller (ClusterRole system:image-puller)"
    ]
    assert any("image stream" in p["problem"] and "does not exist" in p["problem"] for p in result["problems"])

    # in its own project the default system:image-pullers binding (group system:serviceaccounts:<ns>) grants it
    result = diagnose(run_module, sandbox, {"namespace": namespace, "image": f"{INTERNAL}/{namespace}/app:1.0"})
    stream = result["image_stream"]
    assert stream["allowed"] is True
    assert f"RoleBinding {namespace}/system:image-pullers (ClusterRole system:image-puller)" in stream["granted_by"]
    assert result["problems"] == []
    assert result["default_pull_policy"] == "IfNotPresent"


def test_image_stream_access_as_a_project_user(
    run_module: ModuleRunner, sandbox: Sandbox, kube: Kube, namespace: str, other_project: str
) -> None:
    with temporary_role_binding(kube, namespace, role="edit"):
        result = diagnose(
            run_module,
            sandbox,
            {"namespace": namespace, "image": f"{INTERNAL}/{other_project}/app:latest"},
            kubeconfig=sandbox.user_kubeconfig,
        )
    stream = result["image_stream"]
    # the user may neither review nor list the other project's bindings: unknown, not a denial, and no crash
    assert stream["allowed"] is None and stream["granted_by"] is None
    assert any("could not be listed" in note for note in result["notes"])
    assert any(f"may pull from {other_project} is unknown" in note for note in result["notes"])
    assert not any("may not pull" in problem["problem"] for problem in result["problems"])


def test_default_pull_policy(run_module: ModuleRunner, sandbox: Sandbox, namespace: str) -> None:
    policies = {
        image: diagnose(run_module, sandbox, {"namespace": namespace, "image": image}, diff=False)[
            "default_pull_policy"
        ]
        for image in ("quay.io/a/b", "quay.io/a/b:latest", "quay.io/a/b:1.0", f"quay.io/a/b@sha256:{'0' * 64}")
    }
    assert policies == {
        "quay.io/a/b": "Always",
        "quay.io/a/b:latest": "Always",
        "quay.io/a/b:1.0": "IfNotPresent",
        f"quay.io/a/b@sha256:{'0' * 64}": "IfNotPresent",
    }


def test_check_mode_is_the_same_report(run_module: ModuleRunner, sandbox: Sandbox, namespace: str) -> None:
    params = {"namespace": namespace, "image": "quay.io/org/app:1.0"}
    fields = ("credential", "candidates", "global_pull_secret", "problems", "notes", "default_pull_policy")
    checked = diagnose(run_module, sandbox, params, check=True)
    real = diagnose(run_module, sandbox, params)
    assert {name: checked[name] for name in fields} == {name: real[name] for name in fields}


def test_a_user_without_rights_gets_unknowns_not_a_crash(
    run_module: ModuleRunner, sandbox: Sandbox, namespace: str
) -> None:
    result = diagnose(
        run_module,
        sandbox,
        {"namespace": namespace, "image": "quay.io/org/app:1.0"},
        kubeconfig=sandbox.user_kubeconfig,
    )
    assert result["service_account"]["exists"] is None
    assert result["pull_secrets_from"] == "unknown"
    assert result["global_pull_secret"]["status"] == "forbidden"
    assert result["problems"] == []
    assert any("are unknown" in note for note in result["notes"])
