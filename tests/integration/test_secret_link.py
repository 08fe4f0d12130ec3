"""secret_link against the sandbox cluster: the ServiceAccount as stored, read with the independent admin client."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import pytest

from .sandbox_support import (
    AuditLog,
    DockercfgController,
    Kube,
    ModuleRunner,
    assert_ok,
    module_writes,
    warnings_of,
)

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"


def sa_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}"


def make_secret(kube: Kube, namespace: str, name: str, *, secret_type: str = DOCKERCONFIGJSON) -> None:
    data: dict[str, str] = {}
    if secret_type == DOCKERCONFIGJSON:
        document = {"auths": {"registry.example.com": {"auth": base64.b64encode(b"robot:robot-Passw0rd").decode()}}}
        data = {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()}
    elif secret_type == "kubernetes.io/basic-auth":
        data = {"username": base64.b64encode(b"git").decode(), "password": base64.b64encode(b"git-Passw0rd").decode()}
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": secret_type, "data": data},
    )


def make_sa(kube: Kube, namespace: str, name: str, *, pull: list[str] | None = None, mount: list | None = None) -> None:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
    if pull is not None:
        body["imagePullSecrets"] = [{"name": n} for n in pull]
    if mount is not None:
        body["secrets"] = mount
    kube.create(f"/api/v1/namespaces/{namespace}/serviceaccounts", body)


def pull_names(kube: Kube, namespace: str, name: str) -> list[str]:
    return [ref["name"] for ref in kube.get(sa_path(namespace, name)).get("imagePullSecrets") or []]


def mount_entries(kube: Kube, namespace: str, name: str) -> list[dict]:
    return kube.get(sa_path(namespace, name)).get("secrets") or []


def test_link_keeps_other_entries_check_mode_diff_and_idempotence(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    make_secret(kube, namespace, "other-registry")
    make_sa(
        kube,
        namespace,
        "builder",
        pull=["builder-dockercfg-x7k2p", "other-registry", "other-registry"],
        mount=[{"name": "builder-token-abcde"}],
    )
    params = {"service_account": "builder", "namespace": namespace, "secrets": ["secret/company-registry"]}

    mark = audit.mark()
    predicted = assert_ok(run_module("secret_link", params, check=True, diff=True))
    assert predicted["changed"] is True
    assert predicted["action"] == "linked"
    assert predicted["added"] == {"pull": ["company-registry"]}
    assert predicted["diff"]["before"]["imagePullSecrets"] == [
        "builder-dockercfg-x7k2p",
        "other-registry",
        "other-registry",
    ]
    assert predicted["diff"]["after"]["imagePullSecrets"][-1] == "company-registry"
    assert module_writes(audit, mark, namespace, "serviceaccounts") == []
    assert "company-registry" not in pull_names(kube, namespace, "builder")

    result = assert_ok(run_module("secret_link", params, diff=True))
    assert result["changed"] is True
    expected = ["builder-dockercfg-x7k2p", "other-registry", "other-registry", "company-registry"]
    assert pull_names(kube, namespace, "builder") == expected
    assert result["service_account"]["image_pull_secrets"] == expected
    assert result["diff"] == predicted["diff"]
    # The mount list was not named, so it is untouched.
    assert mount_entries(kube, namespace, "builder") == [{"name": "builder-token-abcde"}]

    mark = audit.mark()
    again = assert_ok(run_module("secret_link", {**params, "secrets": ["company-registry"]}, diff=True))
    assert again["changed"] is False
    assert again["action"] == "unchanged"
    assert module_writes(audit, mark, namespace, "serviceaccounts") == []
    assert pull_names(kube, namespace, "builder") == expected


def test_link_for_pull_and_mount_then_unlink_one_purpose(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "git-credentials", secret_type="kubernetes.io/basic-auth")
    make_sa(kube, namespace, "pipeline", mount=[{"name": "pipeline-token-q1w2e"}])
    params = {"service_account": "pipeline", "namespace": namespace, "secrets": ["git-credentials"]}

    linked = assert_ok(run_module("secret_link", {**params, "purpose": ["mount", "pull"]}))
    assert linked["added"] == {"pull": ["git-credentials"], "mount": ["git-credentials"]}
    # The kubelet ignores basic-auth secrets for pulls: say so.
    assert any("ignores it for pulls" in w for w in warnings_of(linked))
    assert pull_names(kube, namespace, "pipeline") == ["git-credentials"]
    assert mount_entries(kube, namespace, "pipeline") == [{"name": "pipeline-token-q1w2e"}, {"name": "git-credentials"}]

    unlinked = assert_ok(run_module("secret_link", {**params, "purpose": ["pull"], "state": "absent"}))
    assert unlinked["changed"] is True
    assert unlinked["action"] == "unlinked"
    assert unlinked["removed"] == {"pull": ["git-credentials"]}
    assert pull_names(kube, namespace, "pipeline") == []
    assert mount_entries(kube, namespace, "pipeline") == [{"name": "pipeline-token-q1w2e"}, {"name": "git-credentials"}]

    mark = audit.mark()
    again = assert_ok(run_module("secret_link", {**params, "purpose": ["pull"], "state": "absent"}))
    assert again["changed"] is False
    assert module_writes(audit, mark, namespace, "serviceaccounts") == []


def test_unlink_removes_duplicates_and_works_for_deleted_secrets(
    kube: Kube, namespace: str, run_module: ModuleRunner
) -> None:
    make_sa(kube, namespace, "app", pull=["app-dockercfg-bcdfg", "gone", "kept", "gone"])
    result = assert_ok(
        run_module(
            "secret_link", {"service_account": "app", "namespace": namespace, "secrets": ["gone"], "state": "absent"}
        )
    )
    assert result["changed"] is True
    assert pull_names(kube, namespace, "app") == ["app-dockercfg-bcdfg", "kept"]


def test_missing_secret_is_an_error_unless_allowed(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_sa(kube, namespace, "app", pull=["app-dockercfg-bcdfg"])
    params = {"service_account": "app", "namespace": namespace, "secrets": ["not-yet"]}

    mark = audit.mark()
    failed = run_module("secret_link", params)
    assert failed.get("failed") is True
    assert f"secret {namespace}/not-yet does not exist" in failed["msg"]
    assert "allow_missing" in failed["msg"]
    assert module_writes(audit, mark, namespace) == []

    allowed = assert_ok(run_module("secret_link", {**params, "allow_missing": True}))
    assert allowed["changed"] is True
    assert allowed["missing_secrets"] == ["not-yet"]
    assert any("does not exist yet" in w for w in warnings_of(allowed))
    assert pull_names(kube, namespace, "app") == ["app-dockercfg-bcdfg", "not-yet"]


def test_missing_service_account_and_bad_names(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    mark = audit.mark()
    failed = run_module(
        "secret_link", {"service_account": "nobody", "namespace": namespace, "secrets": ["company-registry"]}
    )
    assert failed.get("failed") is True
    assert f"service account {namespace}/nobody does not exist" in failed["msg"]

    bad_kind = run_module(
        "secret_link", {"service_account": "default", "namespace": namespace, "secrets": ["configmap/company-registry"]}
    )
    assert bad_kind.get("failed") is True
    assert "expected a secret" in bad_kind["msg"]

    bad_purpose = run_module(
        "secret_link",
        {"service_account": "default", "namespace": namespace, "secrets": ["company-registry"], "purpose": ["push"]},
    )
    assert bad_purpose.get("failed") is True
    assert "purpose" in bad_purpose["msg"]
    assert module_writes(audit, mark, namespace) == []

    # Unlinking from a service account that does not exist is already done.
    absent = assert_ok(
        run_module(
            "secret_link",
            {"service_account": "nobody", "namespace": namespace, "secrets": ["company-registry"], "state": "absent"},
        )
    )
    assert absent["changed"] is False


def test_wait_for_service_account_created_later_with_dockercfg_controller(
    kube: Kube, namespace: str, run_module: ModuleRunner
) -> None:
    make_secret(kube, namespace, "company-registry")
    params = {
        "service_account": "pipeline",
        "namespace": namespace,
        "secrets": ["company-registry"],
        "wait_for_service_account": True,
        "wait_timeout": 60,
    }
    outcome: dict[str, Any] = {}

    def run() -> None:
        outcome["result"] = run_module("secret_link", params)
        outcome["finished"] = time.monotonic()

    with DockercfgController(kube, namespace, "pipeline", delay=2.0) as controller:
        worker = threading.Thread(target=run)
        worker.start()
        time.sleep(1.5)  # the module is polling for a service account that does not exist yet
        make_sa(kube, namespace, "pipeline")
        controller.wait(timeout=30)
        linked_at = time.monotonic()
        worker.join(timeout=90)
    assert not worker.is_alive()
    result = assert_ok(outcome["result"])
    assert result["changed"] is True
    # It waited for OpenShift's managed secret, and the two writers lost nothing of each other's.
    assert outcome["finished"] >= linked_at - 1.5
    assert pull_names(kube, namespace, "pipeline") == [controller.secret_name, "company-registry"]
    assert result["service_account"]["image_pull_secrets"] == [controller.secret_name, "company-registry"]


def test_wait_for_service_account_times_out_with_a_clear_message(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    make_sa(kube, namespace, "lonely")
    mark = audit.mark()
    started = time.monotonic()
    failed = run_module(
        "secret_link",
        {
            "service_account": "lonely",
            "namespace": namespace,
            "secrets": ["company-registry"],
            "wait_for_service_account": True,
            "wait_timeout": 3,
        },
    )
    elapsed = time.monotonic() - started
    assert failed.get("failed") is True
    assert "lonely-dockercfg-*" in failed["msg"]
    assert "wait_timeout" in failed["msg"]
    assert 3 <= elapsed < 30
    assert module_writes(audit, mark, namespace, "serviceaccounts") == []


@pytest.mark.parametrize("check", [True, False])
def test_wait_in_check_mode_does_not_wait_for_a_missing_service_account(
    kube: Kube, namespace: str, run_module: ModuleRunner, check: bool
) -> None:
    make_secret(kube, namespace, "company-registry")
    params = {
        "service_account": "later",
        "namespace": namespace,
        "secrets": ["company-registry"],
        "wait_for_service_account": True,
        "wait_timeout": 4,
    }
    started = time.monotonic()
    result = run_module("secret_link", params, check=check)
    elapsed = time.monotonic() - started
    if check:
        assert_ok(result)
        assert result["changed"] is True
        assert any("check mode did not wait" in w for w in warnings_of(result))
        assert elapsed < 4
    else:
        assert result.get("failed") is True
        assert f"service account {namespace}/later did not appear within 4s" in result["msg"]
    assert kube.get(sa_path(namespace, "later")) is None
