# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""image_puller_binding against the sandbox cluster: the real RBAC authorizer, checked with `kubectl auth can-i`,
the stored RoleBindings and the audit log.

OpenShift's own roles only (openshift-apiserver's bootstrap policy): system:image-puller, admin, view. Every project
starts with the RoleBinding ``system:image-pullers`` (ClusterRole system:image-puller for the project's own service
accounts) made by openshift-controller-manager; the module must leave it alone unless told to change it, which the
autouse fixture ``project_pullers_untouched`` checks after every test."""

from __future__ import annotations

import os
import secrets
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.tests.unit.support.kube_names import sa_user

from .sandbox_support import (
    AuditLog,
    AuditMark,
    Kube,
    ModuleRunner,
    PlaybookRunner,
    Sandbox,
    temporary_role_binding,
    wait_for_project_setup,
    warnings_of,
)

MODULE = "image_puller_binding"
PULLER = "system:image-puller"
# The RoleBinding openshift-controller-manager puts in every project: its own service accounts may pull.
PROJECT_PULLERS = "system:image-pullers"
# Tests that change PROJECT_PULLERS on purpose (every other test must leave it exactly as OpenShift made it).
CHANGES_PROJECT_PULLERS = frozenset({"test_default_image_pullers_binding_survives_absent"})
RBAC = "/apis/rbac.authorization.k8s.io/v1"
KUBECTL = "/usr/bin/kubectl"


def bindings_path(namespace: str, name: str | None = None) -> str:
    path = f"{RBAC}/namespaces/{namespace}/rolebindings"
    return f"{path}/{name}" if name else path


def puller_bindings(kube: Kube, namespace: str, role: str = PULLER) -> dict[str, list[dict[str, Any]]]:
    """name -> subjects of every RoleBinding in the namespace that grants ClusterRole ``role``."""
    listing = kube.get(bindings_path(namespace))
    return {
        item["metadata"]["name"]: item.get("subjects") or []
        for item in listing["items"]
        if item["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role}
    }


def project_pullers(namespace: str) -> dict[str, list[dict[str, Any]]]:
    """What ``puller_bindings`` shows in a project nobody has touched: OpenShift's ``system:image-pullers``."""
    group = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": f"system:serviceaccounts:{namespace}"}
    return {PROJECT_PULLERS: [group]}


def binding_versions(kube: Kube, namespace: str) -> dict[str, str]:
    """name -> resourceVersion of every RoleBinding in the namespace (any write shows as a change)."""
    listing = kube.get(bindings_path(namespace))
    return {item["metadata"]["name"]: item["metadata"]["resourceVersion"] for item in listing["items"]}


def create_binding(kube: Kube, namespace: str, name: str, subjects: list[dict[str, Any]], role: str = PULLER) -> None:
    kube.create(
        bindings_path(namespace),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": subjects,
        },
    )


def can_pull(sandbox: Sandbox, namespace: str, user: str, groups: tuple[str, ...] = ()) -> bool:
    """`kubectl auth can-i` as the subject. `can-i` reads TYPE/NAME, so the subresource goes in --subresource
    (``imagestreams/layers.image.openshift.io`` would ask about an image stream *named* layers.image.openshift.io)."""
    command = [
        KUBECTL,
        "auth",
        "can-i",
        "get",
        "imagestreams.image.openshift.io",
        "--subresource=layers",
        f"--as={user}",
        *(f"--as-group={group}" for group in groups),
        "-n",
        namespace,
    ]
    completed = subprocess.run(
        command,
        env={**os.environ, "KUBECONFIG": sandbox.kubeconfig},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = completed.stdout.strip()
    assert answer in {"yes", "no"}, f"{command}: {completed.stdout}{completed.stderr}"
    return answer == "yes"


def sa_groups(namespace: str) -> tuple[str, str]:
    return (f"system:serviceaccounts:{namespace}", "system:serviceaccounts")


@pytest.fixture
def source(kube: Kube) -> Iterator[str]:
    """A second project (the one whose pods want to pull), set up by OpenShift's controllers like ``namespace``
    (service accounts default, builder, deployer; its own ``system:image-pullers``)."""
    name = f"it-src-{secrets.token_hex(4)}"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    wait_for_project_setup(kube, name)
    yield name
    if os.environ.get("SANDBOX_KEEP_NAMESPACES") != "1":
        kube.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture(autouse=True)
def project_pullers_untouched(request: pytest.FixtureRequest, kube: Kube) -> Iterator[None]:
    """After each test that uses ``namespace``: OpenShift's ``system:image-pullers`` there is the very object it
    was (same uid, same resourceVersion: never written), unless the test is about changing it."""
    if "namespace" not in request.fixturenames or request.node.originalname in CHANGES_PROJECT_PULLERS:
        yield
        return
    namespace = request.getfixturevalue("namespace")
    before = kube.get(bindings_path(namespace, PROJECT_PULLERS))
    assert before is not None, f"OpenShift made no {PROJECT_PULLERS} RoleBinding in {namespace}"
    yield
    after = kube.get(bindings_path(namespace, PROJECT_PULLERS))
    assert after is not None, f"{namespace}/{PROJECT_PULLERS} was deleted"
    assert (after["metadata"]["uid"], after["metadata"]["resourceVersion"]) == (
        before["metadata"]["uid"],
        before["metadata"]["resourceVersion"],
    ), f"{namespace}/{PROJECT_PULLERS} was written: {before} -> {after}"
    assert after["subjects"] == project_pullers(namespace)[PROJECT_PULLERS]


@pytest.fixture
def cluster_role_binding(kube: Kube) -> Iterator[dict[str, Any]]:
    """A ClusterRoleBinding the test fills in (cluster-scoped, so it is deleted here whatever happens)."""
    name = f"it-pull-everything-{secrets.token_hex(4)}"
    body: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PULLER},
        "subjects": [],
    }
    yield body
    kube.delete(f"{RBAC}/clusterrolebindings/{name}")


# ---------------------------------------------------------------------------------------------------------------
# The two procedures and their reversal


def test_one_service_account(
    *, sandbox: Sandbox, kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str, source: str
) -> None:
    params = {"namespace": namespace, "service_accounts": [f"{source}:default"]}
    assert not can_pull(sandbox, namespace, sa_user(source))

    mark = audit.mark()
    predicted = run_module(MODULE, params, check=True, diff=True)
    assert not predicted.get("failed"), predicted
    assert predicted["changed"] is True
    assert predicted["bindings"] == [PULLER]
    [subject] = predicted["subjects"]
    assert subject["action"] == "added"
    assert subject["allowed"] is False  # check mode reviews the cluster as it is, and does not fail for it
    assert predicted["diff"]["before"] == {}
    assert predicted["diff"]["after"][PULLER]["subjects"] == [
        {"kind": "ServiceAccount", "name": "default", "namespace": source}
    ]
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []
    assert puller_bindings(kube, namespace) == project_pullers(namespace)

    mark = audit.mark()
    result = run_module(MODULE, params, diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["bindings"] == [PULLER]
    assert result["diff"] == predicted["diff"]  # check mode predicted exactly this
    # reviewed before the write (may this user review at all?) and again after it, which is what proves the grant
    assert len(review_creates(audit, mark)) >= 2, review_creates(audit, mark)
    [subject] = result["subjects"]
    assert subject == {
        "kind": "ServiceAccount",
        "namespace": source,
        "name": "default",
        "subject": sa_user(source),
        "action": "added",
        "bindings": [PULLER],
        "exists": True,
        "allowed": True,
        "reason": subject["reason"],
    }
    assert f'RoleBinding "{PULLER}/{namespace}"' in subject["reason"]
    assert puller_bindings(kube, namespace) == {
        **project_pullers(namespace),
        PULLER: [{"kind": "ServiceAccount", "name": "default", "namespace": source}],
    }
    assert can_pull(sandbox, namespace, sa_user(source))
    assert not can_pull(sandbox, namespace, sa_user(source, "builder"))  # only the one service account

    mark = audit.mark()
    again = run_module(MODULE, params, diff=True)
    assert not again.get("failed"), again
    assert again["changed"] is False
    assert again["bindings"] == []
    assert again["subjects"][0]["action"] == "already_bound"
    assert again["subjects"][0]["bindings"] == [PULLER]
    assert again["diff"] == {"before": {}, "after": {}}
    assert again["subjects"][0]["allowed"] is True
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []
    # nothing was written, so the review sent before the writes is the answer: it is not sent twice
    assert len(review_creates(audit, mark)) == 1, review_creates(audit, mark)
    assert sorted(puller_bindings(kube, namespace)) == [PULLER, PROJECT_PULLERS]  # no system:image-puller-0

    # the reversal, first predicted
    absent = {**params, "state": "absent"}
    mark = audit.mark()
    predicted = run_module(MODULE, absent, check=True, diff=True)
    assert not predicted.get("failed"), predicted
    assert predicted["changed"] is True
    assert predicted["subjects"][0]["action"] == "removed"
    assert predicted["subjects"][0]["allowed"] is True  # as the cluster is now
    assert predicted["subjects"][0]["granted_by"] == []  # nothing would be left to grant it
    assert predicted["diff"]["after"] == {}  # left empty: the binding goes
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []
    assert can_pull(sandbox, namespace, sa_user(source))

    result = run_module(MODULE, absent, diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["diff"] == predicted["diff"]
    assert result["subjects"][0]["action"] == "removed"
    assert result["subjects"][0]["allowed"] is False
    assert "granted_by" not in result["subjects"][0]
    assert not result.get("warnings")
    assert kube.get(bindings_path(namespace, PULLER)) is None
    assert puller_bindings(kube, namespace) == project_pullers(namespace)
    assert not can_pull(sandbox, namespace, sa_user(source))

    mark = audit.mark()
    again = run_module(MODULE, absent)
    assert again["changed"] is False
    assert again["subjects"][0]["action"] == "not_bound"
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []


def test_every_service_account_of_a_project(
    *, sandbox: Sandbox, kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str, source: str
) -> None:
    params = {"namespace": namespace, "from_namespaces": [source]}
    group = f"system:serviceaccounts:{source}"
    assert not can_pull(sandbox, namespace, sa_user(source), sa_groups(source))

    result = run_module(MODULE, params)
    assert not result.get("failed"), result
    assert result["changed"] is True
    [subject] = result["subjects"]
    assert (subject["kind"], subject["name"], subject["action"]) == ("Group", group, "added")
    assert subject["exists"] is True and subject["allowed"] is True
    assert puller_bindings(kube, namespace) == {
        **project_pullers(namespace),
        PULLER: [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }
    assert can_pull(sandbox, namespace, sa_user(source), sa_groups(source))
    assert can_pull(sandbox, namespace, sa_user(source, "any-other"), sa_groups(source))
    assert not can_pull(sandbox, namespace, sa_user("elsewhere"), sa_groups("elsewhere"))

    mark = audit.mark()
    again = run_module(MODULE, params)
    assert again["changed"] is False
    assert again["subjects"][0]["action"] == "already_bound"
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []
    assert sorted(puller_bindings(kube, namespace)) == [PULLER, PROJECT_PULLERS]

    result = run_module(MODULE, {**params, "state": "absent"})
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert kube.get(bindings_path(namespace, PULLER)) is None
    assert puller_bindings(kube, namespace) == project_pullers(namespace)
    assert not can_pull(sandbox, namespace, sa_user(source), sa_groups(source))
    assert can_pull(sandbox, namespace, sa_user(namespace), sa_groups(namespace))  # the project's own SAs still


def test_playbook_grants_once(
    sandbox: Sandbox, kube: Kube, run_playbook: PlaybookRunner, namespace: str, source: str
) -> None:
    playbook = textwrap.dedent(
        """\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Let {{ source }}'s default and robot service accounts pull from {{ target }}
              openshift_ops.images.image_puller_binding:
                namespace: "{{ target }}"
                service_accounts:
                  - namespace: "{{ source }}"
                    name: default
                  - "system:serviceaccount:{{ source }}:robot"
        """
    )
    extra_vars = {"source": source, "target": namespace}
    first = run_playbook(playbook, extra_vars=extra_vars, diff=True)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed=1" in first.stdout
    # the warning (robot is no account OpenShift makes; builder and deployer exist in every project)
    assert f"service account {source}/robot does not exist" in first.stdout + first.stderr
    second = run_playbook(playbook, extra_vars=extra_vars)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "changed=0" in second.stdout
    assert sorted(puller_bindings(kube, namespace)) == [PULLER, PROJECT_PULLERS]
    assert can_pull(sandbox, namespace, sa_user(source))
    assert can_pull(sandbox, namespace, sa_user(source, "robot"))
    assert not can_pull(sandbox, namespace, sa_user(source, "builder"))


# ---------------------------------------------------------------------------------------------------------------
# Existing bindings


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param({"kind": "ServiceAccount", "name": "default", "namespace": "SOURCE"}, id="service-account"),
        pytest.param(
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:serviceaccount:SOURCE:default"},
            id="user-form",
        ),
    ],
)
def test_oc_style_binding_is_recognised(
    *,
    sandbox: Sandbox,
    kube: Kube,
    run_module: ModuleRunner,
    audit: AuditLog,
    namespace: str,
    source: str,
    entry: dict[str, str],
) -> None:
    entry = {key: value.replace("SOURCE", source) for key, value in entry.items()}
    # what a second `oc policy add-role-to-user` leaves when `system:image-puller` is taken
    create_binding(
        kube, namespace, PULLER, [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]
    )
    create_binding(kube, namespace, f"{PULLER}-0", [entry])
    params = {"namespace": namespace, "service_accounts": [f"{source}:default"]}

    mark = audit.mark()
    result = run_module(MODULE, params)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["subjects"][0]["action"] == "already_bound"
    assert result["subjects"][0]["bindings"] == [f"{PULLER}-0"]
    assert result["subjects"][0]["allowed"] is True
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []

    result = run_module(MODULE, {**params, "state": "absent"})
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["bindings"] == [f"{PULLER}-0"]
    assert kube.get(bindings_path(namespace, f"{PULLER}-0")) is None  # left empty: deleted
    assert puller_bindings(kube, namespace)[PULLER] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}
    ]
    assert not can_pull(sandbox, namespace, sa_user(source))


def test_new_subject_joins_the_binding_named_after_the_role(
    sandbox: Sandbox, kube: Kube, run_module: ModuleRunner, namespace: str, source: str
) -> None:
    alice = {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}
    create_binding(kube, namespace, PULLER, [alice])
    before = kube.get(bindings_path(namespace, PULLER))
    result = run_module(MODULE, {"namespace": namespace, "service_accounts": [f"{source}:default"], "users": ["alice"]})
    assert not result.get("failed"), result
    assert [s["action"] for s in result["subjects"]] == ["added", "already_bound"]
    after = kube.get(bindings_path(namespace, PULLER))
    assert after["metadata"]["uid"] == before["metadata"]["uid"]  # updated in place, not re-created
    assert after["subjects"] == [alice, {"kind": "ServiceAccount", "name": "default", "namespace": source}]
    assert sorted(puller_bindings(kube, namespace)) == [PULLER, PROJECT_PULLERS]
    assert can_pull(sandbox, namespace, sa_user(source))

    # removing one subject keeps the binding for the other
    result = run_module(MODULE, {"namespace": namespace, "service_accounts": [f"{source}:default"], "state": "absent"})
    assert result["changed"] is True
    assert kube.get(bindings_path(namespace, PULLER))["subjects"] == [alice]


def test_default_image_pullers_binding_survives_absent(
    sandbox: Sandbox, kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str
) -> None:
    # made by openshift-controller-manager's default-rolebindings controller, as in every project
    original = kube.get(bindings_path(namespace, PROJECT_PULLERS))
    # OpenShift's own advice on it: emptying it is how to turn it off (a deleted one is made again)
    assert "remove subjects to disable" in original["metadata"]["annotations"]["openshift.io/description"]
    assert puller_bindings(kube, namespace) == project_pullers(namespace)
    assert can_pull(sandbox, namespace, sa_user(namespace), sa_groups(namespace))
    params = {"namespace": namespace, "from_namespaces": [namespace], "state": "absent"}

    mark = audit.mark()
    present = run_module(MODULE, {**params, "state": "present"})
    assert present["changed"] is False
    assert present["subjects"][0]["bindings"] == [PROJECT_PULLERS]
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []

    result = run_module(MODULE, params, diff=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["bindings"] == ["system:image-pullers"]
    assert result["diff"]["after"] == {
        "system:image-pullers": {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PULLER},
            "subjects": [],
        }
    }
    kept = kube.get(bindings_path(namespace, PROJECT_PULLERS))
    assert kept is not None
    assert kept["metadata"]["uid"] == original["metadata"]["uid"]  # emptied in place, not deleted and re-made
    assert kept.get("subjects") in (None, [])
    assert not can_pull(sandbox, namespace, sa_user(namespace), sa_groups(namespace))

    mark = audit.mark()
    again = run_module(MODULE, params)
    assert again["changed"] is False
    assert again["subjects"][0]["action"] == "not_bound"
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []


def test_binding_name(sandbox: Sandbox, kube: Kube, run_module: ModuleRunner, namespace: str, source: str) -> None:
    params = {"namespace": namespace, "service_accounts": [f"{source}:default"], "binding_name": "team-pullers"}
    result = run_module(MODULE, params)
    assert not result.get("failed"), result
    assert result["bindings"] == ["team-pullers"]
    assert puller_bindings(kube, namespace) == {
        **project_pullers(namespace),
        "team-pullers": [{"kind": "ServiceAccount", "name": "default", "namespace": source}],
    }
    assert can_pull(sandbox, namespace, sa_user(source))
    assert run_module(MODULE, params)["changed"] is False


def test_absent_warns_when_access_remains(
    *,
    sandbox: Sandbox,
    kube: Kube,
    run_module: ModuleRunner,
    namespace: str,
    source: str,
    cluster_role_binding: dict[str, Any],
) -> None:
    params = {"namespace": namespace, "service_accounts": [f"{source}:default"]}
    assert run_module(MODULE, params)["changed"] is True
    cluster_role_binding["subjects"] = [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": f"system:serviceaccounts:{source}"}
    ]
    kube.create(f"{RBAC}/clusterrolebindings", cluster_role_binding)
    name = cluster_role_binding["metadata"]["name"]
    expected = f"ClusterRoleBinding {name} (ClusterRole {PULLER})"

    predicted = run_module(MODULE, {**params, "state": "absent"}, check=True)
    assert predicted["changed"] is True
    assert predicted["subjects"][0]["granted_by"] == [expected]
    assert any("would still be able to pull" in warning and name in warning for warning in warnings_of(predicted))

    result = run_module(MODULE, {**params, "state": "absent"})
    assert not result.get("failed"), result
    assert result["changed"] is True
    [subject] = result["subjects"]
    assert subject["action"] == "removed"
    assert subject["allowed"] is True
    assert f'ClusterRoleBinding "{name}"' in subject["reason"]
    assert subject["granted_by"] == [expected]
    assert any(f"can still pull images from {namespace} through {expected}" in w for w in warnings_of(result))
    assert kube.get(bindings_path(namespace, PULLER)) is None
    assert can_pull(sandbox, namespace, sa_user(source))


# ---------------------------------------------------------------------------------------------------------------
# Service accounts that do not exist yet


def test_missing_service_account_warns(run_module: ModuleRunner, namespace: str, source: str) -> None:
    result = run_module(
        MODULE,
        {"namespace": namespace, "service_accounts": [f"{source}:robot", "nowhere-x1:default"]},
    )
    assert not result.get("failed"), result
    assert [s["exists"] for s in result["subjects"]] == [False, False]
    assert [s["allowed"] for s in result["subjects"]] == [True, True]  # RBAC binds names, not objects
    warnings = "\n".join(warnings_of(result))
    assert f"service account {source}/robot does not exist" in warnings
    assert "namespace nowhere-x1 does not exist" in warnings


def test_wait_for_service_accounts(kube: Kube, run_module: ModuleRunner, namespace: str, source: str) -> None:
    def create_later() -> None:
        time.sleep(2)
        kube.create(
            f"/api/v1/namespaces/{source}/serviceaccounts",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "late"}},
        )

    creator = threading.Thread(target=create_later)
    creator.start()
    try:
        started = time.monotonic()
        result = run_module(
            MODULE,
            {
                "namespace": namespace,
                "service_accounts": [f"{source}:late"],
                "wait_for_service_accounts": True,
                "wait_timeout": 60,
            },
        )
    finally:
        creator.join()
    assert not result.get("failed"), result
    assert time.monotonic() - started >= 2
    assert result["subjects"][0]["exists"] is True
    assert not result.get("warnings")


def test_wait_for_service_accounts_times_out(
    kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str, source: str
) -> None:
    mark = audit.mark()
    result = run_module(
        MODULE,
        {
            "namespace": namespace,
            "service_accounts": [f"{source}:never"],
            "wait_for_service_accounts": True,
            "wait_timeout": 2,
        },
    )
    assert result["failed"] is True
    assert f"service account {source}/never does not exist after waiting 2 s" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []


# ---------------------------------------------------------------------------------------------------------------
# Bad input: a clear error and nothing written


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"service_accounts": ["a:b:c"]}, "not of the form 'NAMESPACE:NAME'"),
        ({"service_accounts": [":default"]}, "empty namespace or name"),
        ({"service_accounts": ["project-a:"]}, "empty namespace or name"),
        ({"service_accounts": ["default"]}, "not of the form 'NAMESPACE:NAME'"),
        ({"service_accounts": ["system:serviceaccount:a"]}, "not of the form"),
        ({"service_accounts": ["Project-A:default"]}, "not a valid namespace name"),
        ({"service_accounts": ["a:Default_SA"]}, "not a valid service account name"),
        ({"service_accounts": [{"namespace": "a"}]}, "needs both namespace and name"),
        ({"service_accounts": ["system:serviceaccounts:a"]}, "from_namespaces"),
        ({"from_namespaces": ["a:b"]}, "not a valid namespace name"),
        ({"users": ["system:serviceaccount:a:b:c"]}, "not of the form"),
        ({}, "no subject given"),
        ({"service_accounts": ["a:b"], "role": "does-not-exist"}, "ClusterRole does-not-exist does not exist"),
        # OpenShift's image auditor reads images, not image stream layers (view, edit and admin do grant pulls)
        (
            {"service_accounts": ["a:b"], "role": "system:image-auditor"},
            "ClusterRole system:image-auditor does not grant get on imagestreams/layers",
        ),
        ({"service_accounts": ["a:b"], "binding_name": "not/valid"}, "binding_name: 'not/valid' is not a valid name"),
    ],
)
def test_bad_input(
    *, kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str, params: dict[str, Any], message: str
) -> None:
    before = binding_versions(kube, namespace)
    mark = audit.mark()
    result = run_module(MODULE, {"namespace": namespace, **params})
    assert result.get("failed") is True, result
    assert message in result["msg"]
    assert result.get("changed", False) is False
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []
    assert binding_versions(kube, namespace) == before == {PROJECT_PULLERS: before[PROJECT_PULLERS]}


def test_openshift_view_role_grants_pulls(
    sandbox: Sandbox, kube: Kube, run_module: ModuleRunner, namespace: str, source: str
) -> None:
    """OpenShift's view (aggregating system:openshift:aggregate-to-view) includes get on imagestreams/layers, so the
    role check accepts it and the access review proves the pull."""
    result = run_module(MODULE, {"namespace": namespace, "service_accounts": [f"{source}:default"], "role": "view"})
    assert not result.get("failed"), result
    assert result["bindings"] == ["view"]
    assert result["subjects"][0]["allowed"] is True
    assert puller_bindings(kube, namespace, role="view") == {
        "view": [{"kind": "ServiceAccount", "name": "default", "namespace": source}]
    }
    assert can_pull(sandbox, namespace, sa_user(source))


def test_unknown_role_without_verify_only_warns(kube: Kube, run_module: ModuleRunner, namespace: str) -> None:
    result = run_module(
        MODULE, {"namespace": namespace, "service_accounts": ["a:b"], "role": "does-not-exist", "verify": False}
    )
    assert not result.get("failed"), result
    assert "ClusterRole does-not-exist does not exist" in "\n".join(warnings_of(result))
    assert "allowed" not in result["subjects"][0]
    assert list(puller_bindings(kube, namespace, role="does-not-exist")) == ["does-not-exist"]


def test_binding_name_for_another_role(kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str) -> None:
    create_binding(kube, namespace, "mine", [], role="view")
    mark = audit.mark()
    result = run_module(MODULE, {"namespace": namespace, "service_accounts": ["a:b"], "binding_name": "mine"})
    assert result["failed"] is True
    assert f"RoleBinding {namespace}/mine grants ClusterRole view, not ClusterRole {PULLER}" in result["msg"]
    assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []


def test_missing_namespace(run_module: ModuleRunner) -> None:
    result = run_module(MODULE, {"namespace": f"it-missing-{secrets.token_hex(3)}", "service_accounts": ["a:b"]})
    assert result["failed"] is True
    assert "does not exist; create the project first" in result["msg"]


# ---------------------------------------------------------------------------------------------------------------
# A project admin (no cluster-wide rights) can run it


def review_creates(audit: AuditLog, mark: AuditMark) -> list[tuple[str, str | None, str, int]]:
    """(resource, namespace, user, HTTP code) of every access review the collection created after ``mark``."""
    return [
        (
            event["objectRef"]["resource"],
            event["objectRef"].get("namespace"),
            event["user"]["username"],
            event["responseStatus"]["code"],
        )
        for event in audit.writes(since=mark, resource=None)
        if event["objectRef"].get("resource") in {"subjectaccessreviews", "localsubjectaccessreviews"}
        and str(event.get("userAgent", "")).startswith("openshift_ops.images")
    ]


def test_project_admin_uses_local_access_reviews(
    *, sandbox: Sandbox, kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str, source: str
) -> None:
    """sandbox-user with OpenShift's admin role in the project, as `oc adm policy add-role-to-user admin` gives it:
    it may bind system:image-puller there (admin holds imagestreams/layers, so RBAC's escalation check passes) and
    create LocalSubjectAccessReviews, but not cluster-wide SubjectAccessReviews. Every authenticated user reads
    ClusterRoles on OpenShift (basic-user), so the role is checked, not skipped with a warning."""
    with temporary_role_binding(kube, namespace, role="admin"):
        params = {"namespace": namespace, "service_accounts": [f"{source}:default"]}
        mark = audit.mark()
        result = run_module(MODULE, params, kubeconfig=sandbox.user_kubeconfig)
        assert not result.get("failed"), result
        assert result["changed"] is True
        [subject] = result["subjects"]
        assert subject["allowed"] is True
        assert "exists" not in subject  # the user may not read service accounts in the source project
        assert not any("cannot read ClusterRole" in warning for warning in warnings_of(result))
        assert can_pull(sandbox, namespace, sa_user(source))
        reviews = review_creates(audit, mark)
        # the cluster-wide review is refused once, then every review is a local one in the project
        assert reviews[0] == ("subjectaccessreviews", None, "sandbox-user", 403), reviews
        assert reviews[1:] and set(reviews[1:]) == {("localsubjectaccessreviews", namespace, "sandbox-user", 201)}

        # the role check runs for the project admin too: a role that grants no pulls is refused before any write
        before = binding_versions(kube, namespace)
        refused = run_module(MODULE, {**params, "role": "system:image-auditor"}, kubeconfig=sandbox.user_kubeconfig)
        assert refused.get("failed") is True, refused
        assert "ClusterRole system:image-auditor does not grant get on imagestreams/layers" in refused["msg"]
        assert binding_versions(kube, namespace) == before

        mark = audit.mark()
        again = run_module(MODULE, params, kubeconfig=sandbox.user_kubeconfig)
        assert again["changed"] is False
        assert audit.writes(since=mark, resource="rolebindings", namespace=namespace) == []
        removed = run_module(MODULE, {**params, "state": "absent"}, kubeconfig=sandbox.user_kubeconfig)
        assert not removed.get("failed"), removed
        assert removed["changed"] is True
        assert not can_pull(sandbox, namespace, sa_user(source))


def test_clusterroles_unreadable_only_warns(
    sandbox: Sandbox, kube: Kube, run_module: ModuleRunner, namespace: str, source: str
) -> None:
    """A project admin who may not read ClusterRoles: on OpenShift everyone in system:authenticated may (the
    basic-users ClusterRoleBinding), so the one way to meet such a user without editing that shared binding is a
    user outside system:authenticated. The admin kubeconfig impersonates one (group system:unauthenticated, which
    keeps the API server from adding system:authenticated) who holds OpenShift's admin role in the project."""
    user = f"it-no-basic-user-{secrets.token_hex(3)}"
    impersonation = {"impersonate_user": user, "impersonate_groups": ["system:unauthenticated"]}
    with temporary_role_binding(kube, namespace, role="admin", user=user):
        params = {"namespace": namespace, "service_accounts": [f"{source}:default"], **impersonation}
        result = run_module(MODULE, params)
        assert not result.get("failed"), result
        assert result["changed"] is True
        assert result["subjects"][0]["allowed"] is True  # proven by the local access review instead
        assert any(
            f"cannot read ClusterRole {PULLER} (forbidden)" in warning and "access review after the change" in warning
            for warning in warnings_of(result)
        ), warnings_of(result)
        assert can_pull(sandbox, namespace, sa_user(source))

        # unchecked, a role this admin does not hold is stopped by the API server's RBAC escalation check
        before = binding_versions(kube, namespace)
        refused = run_module(MODULE, {**params, "role": "system:image-auditor"})
        assert refused.get("failed") is True, refused
        assert (
            f'rolebindings.rbac.authorization.k8s.io "system:image-auditor" is forbidden: user "{user}"'
            in (refused["msg"])
        )
        assert "is attempting to grant RBAC permissions not currently held" in refused["msg"]
        assert binding_versions(kube, namespace) == before
