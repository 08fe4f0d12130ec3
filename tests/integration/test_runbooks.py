# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runbooks of playbooks/ against the sandbox, run from the installed collection as a user's project runs them
(``import_playbook: openshift_ops.images.<runbook>``): a check-mode run on a fresh target predicts the change and
writes nothing, the first run changes, a second changes nothing and sends no write, the cluster then holds what the
runbook promises, and bad variables fail before any write.

Project-level runbooks run as sandbox-user bound to OpenShift's own roles (``edit``, ``admin``, ``view``) through
the ``openshift_kubeconfig`` variable; the global pull secret needs cluster-wide rights, so those runs use the
sandbox admin (KUBECONFIG / K8S_AUTH_KUBECONFIG, which the modules read when no variable is set)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64
from ansible_collections.openshift_ops.images.tests.unit.support.kube_names import sa_user

from .mco_stand_in import MachineConfigOperator
from .runbook_support import (
    Projects,
    can_pull,
    collection_writes,
    global_pull_secret_held,
    image_pull_secrets,
    recap,
    runbook_play,
    sa_groups,
    stored_auths,
    succeeded,
)
from .sandbox_support import (
    MANAGED_PULL_SECRET_REF,
    PULL_SECRET_PATH,
    AuditLog,
    Images,
    Kube,
    PlaybookRunner,
    Sandbox,
    imagestream_path,
    spec_tag,
)

SECRET = "private-registry"


def onboarding_vars(sandbox: Sandbox, namespaces: list[str], **more: Any) -> dict[str, Any]:
    return {
        "registry_onboarding_server": sandbox.registry,
        "registry_onboarding_username": sandbox.registry_user,
        "registry_onboarding_password": sandbox.registry_password,
        "registry_onboarding_registry_ca_cert": sandbox.registry_ca,
        "registry_onboarding_namespaces": namespaces,
        **more,
    }


def secret_path(namespace: str, name: str = SECRET) -> str:
    return f"/api/v1/namespaces/{namespace}/secrets/{name}"


# --- onboard_registry ---------------------------------------------------------------------------------------------


def test_onboard_registry_for_two_projects_as_their_editor(
    sandbox: Sandbox, kube: Kube, projects: Projects, run_playbook: PlaybookRunner, audit: AuditLog
) -> None:
    namespaces = [projects.new("a"), projects.new("b")]
    for namespace in namespaces:
        projects.grant(namespace, "edit")
    extra = onboarding_vars(
        sandbox,
        namespaces,
        openshift_kubeconfig=sandbox.user_kubeconfig,
        registry_onboarding_secret_name=SECRET,
        registry_onboarding_service_accounts=["default", "builder"],
    )
    play = runbook_play("onboard_registry")

    def writes(since: Any) -> list[Any]:
        return [write for namespace in namespaces for write in collection_writes(audit, since, namespace=namespace)]

    mark = audit.mark()
    predicted = succeeded(run_playbook(play, extra_vars=extra, check=True))
    assert predicted["changed"] == 1  # the role's pull secret task (one loop over both projects)
    assert writes(mark) == []
    assert all(kube.get(secret_path(namespace)) is None for namespace in namespaces)

    first = run_playbook(play, extra_vars=extra)
    assert succeeded(first)["changed"] == predicted["changed"]
    for namespace in namespaces:
        stored = kube.get(secret_path(namespace))
        assert stored["type"] == "kubernetes.io/dockerconfigjson"
        assert list(stored_auths(kube, namespace, SECRET)) == [sandbox.registry]
        for account in ("default", "builder"):
            linked = image_pull_secrets(kube, namespace, account)
            managed = kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}")["metadata"]["annotations"]
            assert SECRET in linked
            assert managed[MANAGED_PULL_SECRET_REF] in linked  # OpenShift's own pull secret stays linked
        assert SECRET not in image_pull_secrets(kube, namespace, "deployer")
    assert f'"{namespaces[0]}": "created"' in first.stdout
    assert '"global_pull_secret": "not managed (registry_onboarding_global is false)"' in first.stdout

    mark = audit.mark()
    assert succeeded(run_playbook(play, extra_vars=extra))["changed"] == 0
    assert writes(mark) == []

    # offboarding: state absent needs no credentials
    absent = {
        key: value
        for key, value in extra.items()
        if key not in ("registry_onboarding_username", "registry_onboarding_password")
    } | {"registry_onboarding_state": "absent"}
    mark = audit.mark()
    assert succeeded(run_playbook(play, extra_vars=absent, check=True))["changed"] == 1
    assert writes(mark) == []
    assert succeeded(run_playbook(play, extra_vars=absent))["changed"] == 1
    for namespace in namespaces:
        assert kube.get(secret_path(namespace)) is None
        assert SECRET not in image_pull_secrets(kube, namespace, "default")
        assert SECRET not in image_pull_secrets(kube, namespace, "builder")
    mark = audit.mark()
    assert succeeded(run_playbook(play, extra_vars=absent))["changed"] == 0
    assert writes(mark) == []


def test_onboard_registry_cluster_wide_keeps_every_other_global_entry(
    sandbox: Sandbox, kube: Kube, projects: Projects, run_playbook: PlaybookRunner, audit: AuditLog
) -> None:
    namespace = projects.new("c")
    extra = onboarding_vars(sandbox, [namespace], registry_onboarding_global=True)
    play = runbook_play("onboard_registry")
    with global_pull_secret_held(sandbox, kube):
        before = stored_auths(kube, "openshift-config", "pull-secret")
        assert sandbox.registry not in before
        mark = audit.mark()
        predicted = succeeded(run_playbook(play, extra_vars=extra, check=True))
        assert predicted["changed"] == 2  # the project's pull secret and the global entry
        assert collection_writes(audit, mark, namespace="openshift-config") == []
        assert collection_writes(audit, mark, namespace=namespace) == []
        assert stored_auths(kube, "openshift-config", "pull-secret") == before

        first = run_playbook(play, extra_vars=extra)
        assert succeeded(first)["changed"] == 2
        after = stored_auths(kube, "openshift-config", "pull-secret")
        assert list(after) == [*before, sandbox.registry]
        assert {key: after[key] for key in before} == before
        assert base64.b64decode(after[sandbox.registry]["auth"]).decode() == (
            f"{sandbox.registry_user}:{sandbox.registry_password}"
        )
        assert '"global_pull_secret": "added"' in first.stdout

        mark = audit.mark()
        assert succeeded(run_playbook(play, extra_vars=extra))["changed"] == 0
        assert collection_writes(audit, mark, namespace="openshift-config") == []
        assert collection_writes(audit, mark, namespace=namespace) == []


# --- grant_image_pull / revoke_image_pull --------------------------------------------------------------------------


def test_grant_then_revoke_image_pull_as_project_admin(
    sandbox: Sandbox, kube: Kube, projects: Projects, run_playbook: PlaybookRunner, audit: AuditLog
) -> None:
    images_ns, team_ns, other_ns = projects.new("img"), projects.new("team"), projects.new("other")
    projects.grant(images_ns, "admin")
    extra = {
        "openshift_kubeconfig": sandbox.user_kubeconfig,
        "cross_project_access_image_namespace": images_ns,
        "cross_project_access_from_namespaces": [team_ns],
        "cross_project_access_service_accounts": [f"{other_ns}:builder"],
    }
    team = (sa_user(team_ns, "deployer"), sa_groups(team_ns))
    builder = (sa_user(other_ns, "builder"), sa_groups(other_ns))
    other_default = (sa_user(other_ns), sa_groups(other_ns))

    def access() -> tuple[bool, bool, bool]:
        return tuple(can_pull(kube, images_ns, user, groups) for user, groups in (team, builder, other_default))

    def binding_writes(since: Any) -> list[Any]:
        return collection_writes(audit, since, resource="rolebindings", namespace=images_ns)

    grant, revoke = runbook_play("grant_image_pull"), runbook_play("revoke_image_pull")
    assert access() == (False, False, False)
    mark = audit.mark()
    assert succeeded(run_playbook(grant, extra_vars=extra, check=True))["changed"] == 1
    assert binding_writes(mark) == []
    assert access() == (False, False, False)

    first = run_playbook(grant, extra_vars=extra)
    assert succeeded(first)["changed"] == 1
    assert access() == (True, True, False)
    assert f'"system:serviceaccounts:{team_ns}": "added"' in first.stdout

    mark = audit.mark()
    assert succeeded(run_playbook(grant, extra_vars=extra))["changed"] == 0
    assert binding_writes(mark) == []

    mark = audit.mark()
    assert succeeded(run_playbook(revoke, extra_vars=extra, check=True))["changed"] == 1
    assert binding_writes(mark) == []
    assert access() == (True, True, False)
    revoked = run_playbook(revoke, extra_vars=extra)
    assert succeeded(revoked)["changed"] == 1
    assert access() == (False, False, False)
    assert f'"system:serviceaccounts:{team_ns}": "removed"' in revoked.stdout
    mark = audit.mark()
    assert succeeded(run_playbook(revoke, extra_vars=extra))["changed"] == 0
    assert binding_writes(mark) == []
    # the project's own service accounts keep pulling (OpenShift's system:image-pullers binding is untouched)
    assert can_pull(kube, images_ns, sa_user(images_ns), sa_groups(images_ns))


# --- promote_image ------------------------------------------------------------------------------------------------


def test_promote_image_pins_the_digest_across_projects(
    sandbox: Sandbox,
    kube: Kube,
    images: Images,
    *,
    projects: Projects,
    run_playbook: PlaybookRunner,
    audit: AuditLog,
) -> None:
    ci, prod = projects.new("ci"), projects.new("prod")
    digest = images.import_tag(ci, "app", "build-1")
    # a release engineer: edit in prod, view in ci (which reads the source and grants imagestreams/layers there)
    projects.grant(prod, "edit")
    projects.grant(ci, "view")
    extra = {
        "openshift_kubeconfig": sandbox.user_kubeconfig,
        "image_promotion_source": f"{ci}/app:build-1",
        "image_promotion_targets": [f"{prod}/app:1.0", f"{prod}/app:stable"],
    }
    play = runbook_play("promote_image")
    pinned = {"kind": "ImageStreamImage", "name": f"app@{digest}", "namespace": ci}

    mark = audit.mark()
    assert succeeded(run_playbook(play, extra_vars=extra, check=True))["changed"] == 1
    assert collection_writes(audit, mark, namespace=prod) == []
    assert kube.get(imagestream_path(prod, "app")) is None

    first = run_playbook(play, extra_vars=extra)
    assert succeeded(first)["changed"] == 1
    for tag in ("1.0", "stable"):
        assert spec_tag(kube, prod, "app", tag)["from"] == pinned
    assert f'"{prod}/app:1.0": "created: {digest}"' in first.stdout

    mark = audit.mark()
    assert succeeded(run_playbook(play, extra_vars=extra))["changed"] == 0
    assert collection_writes(audit, mark, namespace=prod) == []

    # the source moves on; the promoted tags stay on the digest they were pinned to
    moved = images.import_tag(ci, "app", "build-1")
    assert moved != digest
    for tag in ("1.0", "stable"):
        assert spec_tag(kube, prod, "app", tag)["from"] == pinned


# --- rotate_global_pull_secret --------------------------------------------------------------------------------------


def test_rotate_global_pull_secret_replaces_one_entry_and_waits_for_the_pools(
    sandbox: Sandbox, kube: Kube, run_playbook: PlaybookRunner, audit: AuditLog, tmp_path: Path
) -> None:
    registry = sandbox.registry
    backup_dir = tmp_path / "backups"
    extra = {
        "rotate_global_pull_secret_server": registry,
        "rotate_global_pull_secret_username": sandbox.registry_user,
        "rotate_global_pull_secret_password": sandbox.registry_password,
        "rotate_global_pull_secret_email": "ops@example.org",
        "rotate_global_pull_secret_registry_ca_cert": sandbox.registry_ca,
        "rotate_global_pull_secret_backup": True,
        "rotate_global_pull_secret_backup_dir": str(backup_dir),
        "rotate_global_pull_secret_wait": True,
        "rotate_global_pull_secret_wait_timeout": 120,
    }
    play = runbook_play("rotate_global_pull_secret")

    def secret_writes(since: Any) -> list[Any]:
        return collection_writes(audit, since, resource="secrets", namespace="openshift-config")

    with global_pull_secret_held(sandbox, kube):
        # the registry's entry as it is after the registry changed its password: stale credentials
        stale = {"auth": b64(f"{sandbox.registry_user}:stale-Pa55word-0000"), "email": "ops@example.org"}

        def add_stale(secret: dict[str, Any]) -> bool:
            document = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
            document["auths"][registry] = stale
            secret["data"][".dockerconfigjson"] = b64(json.dumps(document))
            return True

        kube.update_with_retry(PULL_SECRET_PATH, add_stale)
        raw_before = base64.b64decode(kube.get(PULL_SECRET_PATH)["data"][".dockerconfigjson"])
        before = stored_auths(kube, "openshift-config", "pull-secret")

        mark = audit.mark()
        assert succeeded(run_playbook(play, extra_vars=extra, check=True))["changed"] == 1
        assert secret_writes(mark) == []
        assert stored_auths(kube, "openshift-config", "pull-secret") == before
        assert not backup_dir.exists()

        with MachineConfigOperator(kube):
            first = run_playbook(play, extra_vars=extra)
            assert succeeded(first)["changed"] == 1
        after = stored_auths(kube, "openshift-config", "pull-secret")
        assert list(after) == list(before)  # the rotated key keeps its place
        assert {key: value for key, value in after.items() if key != registry} == {
            key: value for key, value in before.items() if key != registry
        }
        assert base64.b64decode(after[registry]["auth"]).decode() == (
            f"{sandbox.registry_user}:{sandbox.registry_password}"
        )
        assert after[registry]["email"] == "ops@example.org"
        [backup] = list(backup_dir.iterdir())
        assert backup.read_bytes() == raw_before
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert f'"rotated": [\n            "{registry}"' in first.stdout
        assert '"master": "done"' in first.stdout

        mark = audit.mark()
        assert succeeded(run_playbook(play, extra_vars=extra))["changed"] == 0
        assert secret_writes(mark) == []
        assert len(list(backup_dir.iterdir())) == 1  # no write, no backup


# --- bad variables ----------------------------------------------------------------------------------------------------

ONBOARD_OK = {
    "registry_onboarding_server": "registry.example.com",
    "registry_onboarding_username": "robot",
    "registry_onboarding_password": "Pa55word-never-shown",
    "registry_onboarding_namespaces": ["it-runbooks-never-created"],
}
ROTATE_OK = {
    "rotate_global_pull_secret_server": "registry.example.com",
    "rotate_global_pull_secret_username": "robot",
    "rotate_global_pull_secret_password": "Pa55word-never-shown",
}
GRANT_OK = {
    "cross_project_access_image_namespace": "it-runbooks-never-created",
    "cross_project_access_from_namespaces": ["it-runbooks-other"],
}
BAD_VARIABLES = [
    pytest.param(
        "onboard_registry",
        {key: value for key, value in ONBOARD_OK.items() if key != "registry_onboarding_namespaces"},
        "Nothing to onboard: set registry_onboarding_namespaces",
        id="onboard-nothing-to-do",
    ),
    pytest.param(
        "onboard_registry",
        {key: value for key, value in ONBOARD_OK.items() if key != "registry_onboarding_password"},
        "registry_onboarding_username and registry_onboarding_password are required",
        id="onboard-no-password",
    ),
    pytest.param(
        "onboard_registry",
        ONBOARD_OK | {"registry_onboarding_state": "gone"},
        "value of registry_onboarding_state must be one of: present, absent, got: gone",
        id="onboard-bad-state",
    ),
    pytest.param(
        "onboard_registry",
        {key: value for key, value in ONBOARD_OK.items() if key != "registry_onboarding_server"},
        "missing required arguments: registry_onboarding_server",
        id="onboard-no-server",
    ),
    pytest.param(
        "onboard_registry",
        ONBOARD_OK | {"registry_onboarding_namespaces": "team-a,team-b"},
        "registry_onboarding_namespaces must be a list of project names",
        id="onboard-projects-as-a-string",
    ),
    pytest.param(
        "grant_image_pull",
        {"cross_project_access_image_namespace": "it-runbooks-never-created"},
        "Name at least one subject",
        id="grant-no-subject",
    ),
    pytest.param(
        "grant_image_pull",
        GRANT_OK | {"cross_project_access_state": "absent"},
        "This runbook grants; leave cross_project_access_state unset and run revoke_image_pull.yml",
        id="grant-state-absent",
    ),
    pytest.param(
        "revoke_image_pull",
        {key: value for key, value in GRANT_OK.items() if key != "cross_project_access_image_namespace"},
        "missing required arguments: cross_project_access_image_namespace",
        id="revoke-no-namespace",
    ),
    pytest.param(
        "promote_image",
        {"image_promotion_source": "ci/app:1"},
        "missing required arguments: image_promotion_targets",
        id="promote-no-targets",
    ),
    pytest.param(
        "promote_image",
        {
            "image_promotion_source": "ci/app:1",
            "image_promotion_targets": ["prod/app:1"],
            "image_promotion_source_type": "Tag",
        },
        "value of image_promotion_source_type must be one of",
        id="promote-bad-source-type",
    ),
    pytest.param(
        "rotate_global_pull_secret",
        {key: value for key, value in ROTATE_OK.items() if key != "rotate_global_pull_secret_password"},
        "missing required arguments: rotate_global_pull_secret_password",
        id="rotate-no-password",
    ),
    pytest.param(
        "rotate_global_pull_secret",
        ROTATE_OK | {"rotate_global_pull_secret_username": ""},
        "must not be empty",
        id="rotate-empty-username",
    ),
    pytest.param(
        "rotate_global_pull_secret",
        ROTATE_OK,
        "The global pull secret has no entry for registry.example.com (it holds cloud.openshift.com, quay.io,",
        id="rotate-entry-missing",
    ),
    pytest.param(
        "promote_image",
        {
            "image_promotion_source": "ci/app:1",
            "image_promotion_targets": ["prod/app:1"],
            "openshift_validate_certs": "maybe",
        },
        "argument 'openshift_validate_certs' is of type str and we were unable to convert to bool",
        id="connection-bad-bool",
    ),
]


@pytest.mark.parametrize(("runbook", "extra", "message"), BAD_VARIABLES)
def test_bad_variables_fail_before_any_write(
    runbook: str, extra: dict[str, Any], message: str, run_playbook: PlaybookRunner, audit: AuditLog
) -> None:
    mark = audit.mark()
    completed = run_playbook(runbook_play(runbook), extra_vars=extra)
    assert completed.returncode != 0
    assert recap(completed)["failed"] == 1
    assert message in completed.stdout + completed.stderr, completed.stdout[-4000:]
    assert collection_writes(audit, mark) == []
    assert "Pa55word-never-shown" not in completed.stdout + completed.stderr


def test_onboarding_with_a_wrong_password_writes_nothing(
    sandbox: Sandbox, kube: Kube, projects: Projects, run_playbook: PlaybookRunner, audit: AuditLog
) -> None:
    namespace = projects.new("wrong")
    extra = onboarding_vars(sandbox, [namespace], registry_onboarding_password="wrong-Pa55word-0000")
    mark = audit.mark()
    completed = run_playbook(runbook_play("onboard_registry"), extra_vars=extra)
    assert completed.returncode != 0
    assert "rejected" in completed.stdout, completed.stdout[-4000:]
    assert collection_writes(audit, mark, namespace=namespace) == []
    assert kube.get(secret_path(namespace, "registry-pull-secret")) is None
