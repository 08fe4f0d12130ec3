"""The sandbox's OpenShift bootstrap RBAC (tests/sandbox/manifests/openshift-rbac): structural facts the manifests must
keep, checked without a cluster. The rules themselves reproduce openshift-apiserver's pkg/bootstrappolicy/policy.go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

MANIFESTS = Path(__file__).resolve().parents[2] / "sandbox" / "manifests" / "openshift-rbac"
API_VERSION = "rbac.authorization.k8s.io/v1"
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
DESCRIPTION = "openshift.io/description"
IMAGE_GROUPS = ("", "image.openshift.io")  # OpenShift lists the legacy "" group beside every image.openshift.io rule

CLUSTER_ROLES = {
    "system:image-puller",
    "system:image-pusher",
    "system:image-builder",
    "system:image-auditor",
    "registry-viewer",
    "registry-editor",
    "registry-admin",
    "basic-user",
    "system:openshift:aggregate-to-basic-user",
    "system:openshift:aggregate-to-admin",
    "system:openshift:aggregate-to-edit",
    "system:openshift:aggregate-to-view",
}
CLUSTER_ROLE_BINDINGS = {"basic-users"}

# name -> the labels OpenShift's bootstrap policy sets (the aggregation labels decide what fills admin, edit and view)
LABELS = {
    "system:openshift:aggregate-to-admin": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"},
    "system:openshift:aggregate-to-edit": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
    "system:openshift:aggregate-to-view": {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
    "system:openshift:aggregate-to-basic-user": {"authorization.openshift.io/aggregate-to-basic-user": "true"},
    "system:image-builder": {
        "rbac.authorization.k8s.io/aggregate-to-admin": "true",
        "rbac.authorization.k8s.io/aggregate-to-edit": "true",
    },
    "registry-admin": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"},
    "registry-editor": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"},
    "registry-viewer": {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
}

DESCRIPTIONS = {
    "system:image-puller": "Grants the right to pull images from within a project.",
    "system:image-pusher": "Grants the right to push and pull images from within a project.",
    "system:image-builder": "Grants the right to build, push and pull images from within a project.  "
    "Used primarily with service accounts for builds.",
    "basic-user": "A user that can get basic information about projects.",
}


def _load(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as stream:
        return list(yaml.safe_load_all(stream))


def _files() -> list[Path]:
    return sorted(MANIFESTS.glob("*.yaml"))


def _objects() -> dict[tuple[str, str], dict[str, Any]]:
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    for path in _files():
        (obj,) = _load(path)
        objects[obj["kind"], obj["metadata"]["name"]] = obj
    return objects


def _role(name: str) -> dict[str, Any]:
    return _objects()["ClusterRole", name]


def _grants(rules: list[dict[str, Any]], verb: str, resource: str, group: str) -> bool:
    """Whether a rule allows verb on resource in group (no wildcards, no resourceNames: the bootstrap roles use neither
    for these resources)."""
    return any(
        verb in rule.get("verbs", [])
        and resource in rule.get("resources", [])
        and group in rule.get("apiGroups", [])
        and not rule.get("resourceNames")
        for rule in rules
    )


def _aggregated(target: str) -> list[dict[str, Any]]:
    """The rules the clusterrole-aggregation controller adds to admin/edit/view from these manifests alone."""
    label = f"rbac.authorization.k8s.io/aggregate-to-{target}"
    return [
        rule
        for (kind, _name), obj in _objects().items()
        if kind == "ClusterRole" and obj["metadata"].get("labels", {}).get(label) == "true"
        for rule in obj.get("rules", [])
    ]


def test_every_file_is_one_rbac_object_named_after_it() -> None:
    assert _files(), f"no manifests in {MANIFESTS}"
    for path in _files():
        documents = _load(path)
        assert len(documents) == 1, path.name
        (obj,) = documents
        assert isinstance(obj, dict), path.name
        assert obj["apiVersion"] == API_VERSION, path.name
        assert obj["kind"] in {"ClusterRole", "ClusterRoleBinding"}, path.name
        assert path.name == obj["metadata"]["name"].replace(":", "_") + ".yaml"
        assert "namespace" not in obj["metadata"], path.name
        assert path.read_text(encoding="utf-8").startswith("# "), f"{path.name}: the comment naming the OpenShift role"


def test_exactly_the_expected_objects() -> None:
    objects = _objects()
    assert {name for kind, name in objects if kind == "ClusterRole"} == CLUSTER_ROLES
    assert {name for kind, name in objects if kind == "ClusterRoleBinding"} == CLUSTER_ROLE_BINDINGS


def test_annotations_as_openshift_sets_them() -> None:
    for (_kind, name), obj in _objects().items():
        annotations = obj["metadata"]["annotations"]
        assert annotations[AUTOUPDATE] == "true", name
        assert annotations.get(DESCRIPTION) == DESCRIPTIONS.get(name), name
        assert set(annotations) <= {AUTOUPDATE, DESCRIPTION}, name


def test_labels_as_openshift_sets_them() -> None:
    for (_kind, name), obj in _objects().items():
        assert obj["metadata"].get("labels", {}) == LABELS.get(name, {}), name


def test_rules_are_well_formed() -> None:
    for (kind, name), obj in _objects().items():
        if kind != "ClusterRole":
            continue
        for rule in obj.get("rules", []):
            assert set(rule) <= {"apiGroups", "resources", "resourceNames", "verbs"}, name
            assert rule["verbs"] and rule["resources"] and rule["apiGroups"], name
            for key, values in rule.items():
                assert all(isinstance(value, str) for value in values), (name, key)
                assert values == sorted(values), (name, key)  # as the bootstrap policy's rule builder sorts them
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], name


def test_basic_user_aggregates_and_is_bound_to_every_authenticated_user() -> None:
    basic_user = _role("basic-user")
    assert "rules" not in basic_user  # the clusterrole-aggregation controller fills them
    assert basic_user["aggregationRule"] == {
        "clusterRoleSelectors": [{"matchLabels": {"authorization.openshift.io/aggregate-to-basic-user": "true"}}]
    }
    source = _role("system:openshift:aggregate-to-basic-user")
    assert _grants(source["rules"], "create", "selfsubjectaccessreviews", "authorization.k8s.io")
    assert _grants(source["rules"], "list", "projects", "project.openshift.io")
    binding = _objects()["ClusterRoleBinding", "basic-users"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "basic-user"}
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}
    ]


@pytest.mark.parametrize("group", IMAGE_GROUPS)
def test_image_puller_grants_layers_only(group: str) -> None:
    rules = _role("system:image-puller")["rules"]
    assert _grants(rules, "get", "imagestreams/layers", group)
    assert not _grants(rules, "update", "imagestreams/layers", group)
    assert rules == [{"apiGroups": list(IMAGE_GROUPS), "resources": ["imagestreams/layers"], "verbs": ["get"]}]


@pytest.mark.parametrize("group", IMAGE_GROUPS)
def test_image_pusher_and_builder_push(group: str) -> None:
    for name in ("system:image-pusher", "system:image-builder"):
        rules = _role(name)["rules"]
        assert _grants(rules, "get", "imagestreams/layers", group), name
        assert _grants(rules, "update", "imagestreams/layers", group), name
    assert _grants(_role("system:image-builder")["rules"], "create", "imagestreams", group)


@pytest.mark.parametrize("group", IMAGE_GROUPS)
def test_image_auditor_reads_and_annotates_images_but_cannot_pull(group: str) -> None:
    rules = _role("system:image-auditor")["rules"]
    for verb in ("get", "list", "watch", "patch", "update"):
        assert _grants(rules, verb, "images", group)
    assert not _grants(rules, "get", "imagestreams/layers", group)


@pytest.mark.parametrize("name", ["system:openshift:aggregate-to-edit", "system:openshift:aggregate-to-admin"])
@pytest.mark.parametrize("group", IMAGE_GROUPS)
def test_edit_and_admin_aggregates_pull_push_and_delete_tags(name: str, group: str) -> None:
    rules = _role(name)["rules"]
    assert _grants(rules, "get", "imagestreams/layers", group)
    assert _grants(rules, "update", "imagestreams/layers", group)
    assert _grants(rules, "delete", "imagestreamtags", group)
    assert _grants(rules, "create", "imagestreamimports", group)
    # the status of an image stream is read-only for them
    assert _grants(rules, "get", "imagestreams/status", group)
    assert not _grants(rules, "update", "imagestreams/status", group)


@pytest.mark.parametrize("group", IMAGE_GROUPS)
def test_view_aggregate_reads_streams_but_holds_no_layers(group: str) -> None:
    rules = _role("system:openshift:aggregate-to-view")["rules"]
    assert _grants(rules, "get", "imagestreamtags", group)
    assert not any("imagestreams/layers" in rule["resources"] for rule in rules)
    assert not any(set(rule["verbs"]) - {"get", "list", "watch", "view"} for rule in rules)


def test_aggregated_view_still_pulls_through_registry_viewer() -> None:
    # OpenShift labels registry-viewer aggregate-to-view, so the aggregated view role may get imagestreams/layers
    # although system:openshift:aggregate-to-view does not (the module docs and integration tests rely on it)
    view = _aggregated("view")
    assert _grants(view, "get", "imagestreams/layers", "image.openshift.io")
    assert not _grants(view, "update", "imagestreams/layers", "image.openshift.io")
    assert not _grants(view, "delete", "imagestreamtags", "image.openshift.io")
    for target in ("edit", "admin"):
        assert _grants(_aggregated(target), "update", "imagestreams/layers", "image.openshift.io"), target
