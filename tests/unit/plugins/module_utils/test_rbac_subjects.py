"""Unit tests for _rbac/authorization (subjects, reading bindings, access reviews, rule matching) and
_image_puller_binding/plan (subject parsing, RoleBinding decisions)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_puller_binding import plan
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    validate_namespace_name,
    validate_path_segment_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac import authorization as rbac
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac.authorization import Subject

SA_A = Subject("ServiceAccount", "default", "project-a")
SA_BUILDER = Subject("ServiceAccount", "builder", "project-a")
GROUP_A = Subject("Group", "system:serviceaccounts:project-a")
ALICE = Subject("User", "alice")
PULLER = "system:image-puller"


def binding(
    name: str,
    subjects: list[dict[str, Any]] | None,
    *,
    role: str = PULLER,
    kind: str = "ClusterRole",
    namespace: str = "project-b",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "resourceVersion": "7", "uid": "u-1"}
    if annotations:
        metadata["annotations"] = annotations
    result: dict[str, Any] = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
    }
    if subjects is not None:
        result["subjects"] = subjects
    return result


SA_ENTRY = {"kind": "ServiceAccount", "name": "default", "namespace": "project-a"}
GROUP_ENTRY = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:serviceaccounts:project-a"}
ALICE_ENTRY = {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}


# ---------------------------------------------------------------------------------------------------------------
# Subject


@pytest.mark.parametrize(
    ("subject", "reference", "description", "rbac_entry", "result"),
    [
        (
            SA_A,
            "system:serviceaccount:project-a:default",
            "service account project-a/default",
            SA_ENTRY,
            {
                "kind": "ServiceAccount",
                "name": "default",
                "namespace": "project-a",
                "subject": "system:serviceaccount:project-a:default",
            },
        ),
        (
            GROUP_A,
            "system:serviceaccounts:project-a",
            "group system:serviceaccounts:project-a",
            GROUP_ENTRY,
            {
                "kind": "Group",
                "name": "system:serviceaccounts:project-a",
                "subject": "system:serviceaccounts:project-a",
            },
        ),
        (ALICE, "alice", "user alice", ALICE_ENTRY, {"kind": "User", "name": "alice", "subject": "alice"}),
    ],
)
def test_subject_faces(
    subject: Subject, reference: str, description: str, rbac_entry: dict, result: dict[str, str]
) -> None:
    assert subject.reference == reference
    assert subject.describe() == description
    assert subject.as_rbac() == rbac_entry
    assert subject.as_result() == result


# ---------------------------------------------------------------------------------------------------------------
# Name validation


@pytest.mark.parametrize(
    ("value", "label", "subdomain"),
    [
        ("project-a", True, True),
        ("a", True, True),
        ("0abc9", True, True),
        ("a" * 63, True, True),
        ("a" * 64, False, True),
        ("a" * 253, False, True),
        ("a" * 254, False, False),
        ("my.sa", False, True),
        ("a..b", False, False),
        ("-a", False, False),
        ("a-", False, False),
        ("Project", False, False),
        ("a_b", False, False),
        ("", False, False),
        ("a:b", False, False),
    ],
)
def test_dns1123(value: str, label: bool, subdomain: bool) -> None:
    assert is_dns1123_label(value) is label
    assert is_dns1123_subdomain(value) is subdomain


def test_validate_namespace_and_service_account_name_messages() -> None:
    assert validate_namespace_name("ok", what="namespace") == "ok"
    assert plan.validate_service_account_name("ok.name", what="sa") == "ok.name"
    with pytest.raises(InvalidInputError, match=r"namespace: 'Bad' is not a valid namespace name.*DNS-1123 label"):
        validate_namespace_name("Bad", what="namespace")
    with pytest.raises(InvalidInputError, match=r"'Bad' is not a valid service account name.*DNS-1123 subdomain"):
        plan.validate_service_account_name("Bad", what="sa")


@pytest.mark.parametrize("value", ["system:image-puller", "my-binding", "x", "a:b:c", "UPPER"])
def test_validate_path_segment_name_accepts(value: str) -> None:
    assert validate_path_segment_name(value, what="role") == value


@pytest.mark.parametrize("value", ["", ".", "..", "a/b", "a%b", " lead", "trail "])
def test_validate_path_segment_name_rejects(value: str) -> None:
    with pytest.raises(InvalidInputError, match=r"role: .* is not a valid name"):
        validate_path_segment_name(value, what="role")


# ---------------------------------------------------------------------------------------------------------------
# Parsing subjects


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("project-a:default", SA_A),
        ("system:serviceaccount:project-a:default", SA_A),
        ({"namespace": "project-a", "name": "default"}, SA_A),
        ("ns:my.sa", Subject("ServiceAccount", "my.sa", "ns")),
        ("system:x", Subject("ServiceAccount", "x", "system")),
    ],
)
def test_parse_service_account(value: object, expected: Subject) -> None:
    assert plan.parse_service_account(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("default", r"not of the form 'NAMESPACE:NAME'"),
        ("a:b:c", r"not of the form"),
        ("system:serviceaccounts:project-a", r"group of every service account.*from_namespaces"),
        ("system:serviceaccount:a", r"not of the form"),
        ("system:serviceaccount:a:b:c", r"not of the form"),
        (":default", r"empty namespace or name"),
        ("project-a:", r"empty namespace or name"),
        ("system:serviceaccount::x", r"empty namespace or name"),
        ("", r"not of the form"),
        ("Project:default", r"not a valid namespace name"),
        ("project-a:De_fault", r"not a valid service account name"),
        (f"{'a' * 64}:default", r"not a valid namespace name"),
        ({"namespace": "a"}, r"needs both namespace and name"),
        ({"namespace": "a", "name": 3}, r"needs both namespace and name"),
        ({"namespace": "a", "name": "b", "kind": "User"}, r"unknown keys kind"),
        ({"namespace": "", "name": "b"}, r"empty namespace or name"),
        (42, r"must be a string 'NAMESPACE:NAME' or a dict"),
        (None, r"must be a string"),
    ],
)
def test_parse_service_account_rejects(value: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        plan.parse_service_account(value)


_label = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")


@given(namespace=_label, name=_label)
def test_parse_service_account_forms_agree(namespace: str, name: str) -> None:
    expected = Subject("ServiceAccount", name, namespace)
    assert plan.parse_service_account(f"{namespace}:{name}") == expected
    assert plan.parse_service_account(f"system:serviceaccount:{namespace}:{name}") == expected
    assert plan.parse_service_account({"namespace": namespace, "name": name}) == expected
    assert plan.parse_service_account(expected.reference) == expected


@given(st.text(max_size=40))
def test_parse_service_account_never_fails_otherwise(text: str) -> None:
    # Any string either parses into a valid subject or raises our error: never another exception.
    try:
        subject = plan.parse_service_account(text)
    except InvalidInputError:
        return
    assert is_dns1123_label(subject.namespace)
    assert is_dns1123_subdomain(subject.name)


def test_service_accounts_of_namespace() -> None:
    assert plan.service_accounts_of_namespace("project-a") == GROUP_A
    with pytest.raises(InvalidInputError, match=r"from_namespaces: 'a:b'"):
        plan.service_accounts_of_namespace("a:b")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("developers", Subject("Group", "developers")),
        ("system:serviceaccounts:project-a", GROUP_A),
        ("system:serviceaccounts", Subject("Group", "system:serviceaccounts")),
        ("system:authenticated", Subject("Group", "system:authenticated")),
    ],
)
def test_parse_group(value: str, expected: Subject) -> None:
    assert plan.parse_group(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", r"groups: '' is not a valid name"),
        ("a/b", r"not a valid name"),
        ("system:serviceaccounts:Bad", r"group 'system:serviceaccounts:Bad'.*not a valid namespace name"),
        ("system:serviceaccounts:", r"not a valid namespace name"),
        (7, r"groups: 7 must be a string"),
    ],
)
def test_parse_group_rejects(value: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        plan.parse_group(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice", ALICE),
        ("system:admin", Subject("User", "system:admin")),
        ("system:serviceaccount:project-a:default", SA_A),
    ],
)
def test_parse_user(value: str, expected: Subject) -> None:
    assert plan.parse_user(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", r"users: '' is not a valid name"),
        ("system:serviceaccount:only-namespace", r"not of the form"),
        ("system:serviceaccount:a:B", r"not a valid service account name"),
        (["alice"], r"must be a string"),
    ],
)
def test_parse_user_rejects(value: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        plan.parse_user(value)


def test_requested_subjects_order_and_duplicates() -> None:
    subjects = plan.requested_subjects(
        service_accounts=["project-a:default", {"namespace": "project-a", "name": "builder"}],
        from_namespaces=["project-a"],
        groups=["system:serviceaccounts:project-a", "devs"],
        users=["system:serviceaccount:project-a:default", "alice"],
    )
    assert subjects == (SA_A, SA_BUILDER, GROUP_A, Subject("Group", "devs"), ALICE)


def test_requested_subjects_needs_one() -> None:
    with pytest.raises(InvalidInputError, match=r"no subject given: set at least one of service_accounts"):
        plan.requested_subjects()


def test_requested_subjects_rejects_non_string_namespace() -> None:
    with pytest.raises(InvalidInputError, match=r"from_namespaces: \['a'\] must be a string"):
        plan.requested_subjects(from_namespaces=[["a"]])


def test_requested_subjects_fails_on_first_bad_one() -> None:
    with pytest.raises(InvalidInputError, match=r"'a:b:c'"):
        plan.requested_subjects(service_accounts=["project-a:default", "a:b:c"])


# ---------------------------------------------------------------------------------------------------------------
# Reading RoleBindings


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (SA_ENTRY, SA_A),
        ({"kind": "ServiceAccount", "name": "default"}, Subject("ServiceAccount", "default", "project-b")),
        (
            {"kind": "ServiceAccount", "name": "default", "namespace": ""},
            Subject("ServiceAccount", "default", "project-b"),
        ),
        ({"kind": "User", "name": "system:serviceaccount:project-a:default"}, SA_A),
        ({"kind": "User", "name": "system:serviceaccount:broken"}, Subject("User", "system:serviceaccount:broken")),
        ({"kind": "User", "name": "system:serviceaccount::x"}, Subject("User", "system:serviceaccount::x")),
        (ALICE_ENTRY, ALICE),
        (GROUP_ENTRY, GROUP_A),
        ({"kind": "SystemUser", "name": "x"}, None),
        ({"kind": "User"}, None),
        ({"kind": "User", "name": ""}, None),
    ],
)
def test_subject_from_rbac(entry: dict, expected: Subject | None) -> None:
    assert rbac.subject_from_rbac(entry, binding_namespace="project-b") == expected


def test_binding_accessors() -> None:
    held = binding("b", [SA_ENTRY, {"kind": "Odd", "name": "x"}, ALICE_ENTRY])
    assert rbac.binding_name(held) == "b"
    assert rbac.binding_namespace(held) == "project-b"
    assert rbac.binding_subjects(held) == [SA_A, ALICE]
    assert rbac.binding_subjects(binding("empty", None)) == []
    assert rbac.binding_name({}) == ""


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PULLER}, True),
        ({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": PULLER}, False),
        ({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-pusher"}, False),
        ({"apiGroup": "other", "kind": "ClusterRole", "name": PULLER}, False),
        ({}, False),
    ],
)
def test_grants_cluster_role(ref: dict, expected: bool) -> None:
    assert rbac.grants_cluster_role({"roleRef": ref}, PULLER) is expected


def test_bindings_for_role_and_holding() -> None:
    bindings = [
        binding("system:image-pullers", [GROUP_ENTRY]),
        binding("system:image-puller-0", [SA_ENTRY]),
        binding("edit", [SA_ENTRY], role="edit"),
        binding("local-role", [SA_ENTRY], kind="Role"),
    ]
    for_role = rbac.bindings_for_role(bindings, PULLER)
    assert [rbac.binding_name(b) for b in for_role] == ["system:image-pullers", "system:image-puller-0"]
    assert rbac.holding_bindings(for_role, SA_A) == ["system:image-puller-0"]
    assert rbac.holding_bindings(for_role, GROUP_A) == ["system:image-pullers"]
    assert rbac.holding_bindings(for_role, ALICE) == []


# ---------------------------------------------------------------------------------------------------------------
# Choosing and editing bindings


@pytest.mark.parametrize(
    ("bindings", "wanted", "expected"),
    [
        ([], None, PULLER),
        ([], "team-pullers", "team-pullers"),
        ([binding(PULLER, [ALICE_ENTRY])], None, PULLER),
        ([binding("system:image-puller-0", [ALICE_ENTRY])], None, PULLER),  # never ROLE-N
        ([binding("team-pullers", [])], "team-pullers", "team-pullers"),
    ],
)
def test_target_binding_name(bindings: list[dict], wanted: str | None, expected: str) -> None:
    assert plan.target_binding_name(bindings, role=PULLER, wanted_name=wanted) == expected


@pytest.mark.parametrize(
    ("existing", "wanted", "message"),
    [
        (binding("mine", [], role="edit"), "mine", r"RoleBinding project-b/mine grants ClusterRole edit, not"),
        (binding("mine", [], kind="Role"), "mine", r"grants Role system:image-puller, not ClusterRole"),
        (binding(PULLER, [], role="view"), None, r"RoleBinding project-b/system:image-puller grants ClusterRole view"),
    ],
)
def test_target_binding_name_refuses_other_role(existing: dict, wanted: str | None, message: str) -> None:
    with pytest.raises(ClusterStateError, match=message):
        plan.target_binding_name([existing], role=PULLER, wanted_name=wanted)


def test_add_subjects_creates_binding() -> None:
    created = plan.add_subjects(None, namespace="project-b", name=PULLER, role=PULLER, subjects=[SA_A, GROUP_A, SA_A])
    assert created == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": PULLER, "namespace": "project-b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PULLER},
        "subjects": [SA_ENTRY, GROUP_ENTRY],
    }


def test_add_subjects_appends_and_keeps_the_rest() -> None:
    current = binding(PULLER, [ALICE_ENTRY], annotations={"note": "kept"})
    original = copy.deepcopy(current)
    updated = plan.add_subjects(current, namespace="project-b", name=PULLER, role=PULLER, subjects=[SA_A, ALICE])
    assert updated is not None
    assert updated["subjects"] == [ALICE_ENTRY, SA_ENTRY]
    assert updated["metadata"] == current["metadata"]  # resourceVersion travels with the PUT
    assert current == original  # the input is not modified


@pytest.mark.parametrize(
    "subjects",
    [
        [SA_ENTRY],
        [{"kind": "ServiceAccount", "name": "default", "namespace": "project-a", "apiGroup": ""}],
        [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccount:project-a:default"}],
    ],
)
def test_add_subjects_no_change_when_held(subjects: list[dict]) -> None:
    assert (
        plan.add_subjects(binding(PULLER, subjects), namespace="project-b", name=PULLER, role=PULLER, subjects=[SA_A])
        is None
    )


def test_add_subjects_to_binding_without_subjects_field() -> None:
    updated = plan.add_subjects(
        binding(PULLER, None), namespace="project-b", name=PULLER, role=PULLER, subjects=[ALICE]
    )
    assert updated is not None
    assert updated["subjects"] == [ALICE_ENTRY]


def test_add_subjects_refuses_other_role() -> None:
    with pytest.raises(ClusterStateError, match=r"cannot be changed"):
        plan.add_subjects(
            binding(PULLER, [], role="edit"), namespace="project-b", name=PULLER, role=PULLER, subjects=[ALICE]
        )


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (binding("x", []), False),
        (binding("system:image-pullers", []), True),
        (binding("system:image-builders", [], role="system:image-builder"), True),
        (binding("system:deployers", [], role="system:deployer"), True),
        # the name alone is not enough: the default binding grants the default role
        (binding("system:image-pullers", [], role="edit"), False),
        (binding("x", [], annotations={plan.AUTOUPDATE_ANNOTATION: "false"}), True),
        (binding("x", [], annotations={plan.AUTOUPDATE_ANNOTATION: "true"}), False),
    ],
)
def test_keeps_empty_binding(current: dict, expected: bool) -> None:
    assert plan.keeps_empty_binding(current) is expected


@pytest.mark.parametrize(
    ("current", "subjects", "kept", "delete"),
    [
        (binding(PULLER, [SA_ENTRY, ALICE_ENTRY]), [SA_A], [ALICE_ENTRY], False),
        (binding(PULLER, [SA_ENTRY]), [SA_A], [], True),
        (binding("system:image-pullers", [GROUP_ENTRY]), [GROUP_A], [], False),
        (
            binding(PULLER, [{"kind": "ServiceAccount", "name": "default"}]),
            [Subject("ServiceAccount", "default", "project-b")],
            [],
            True,
        ),
        (
            binding(PULLER, [{"kind": "User", "name": "system:serviceaccount:project-a:default"}, ALICE_ENTRY]),
            [SA_A],
            [ALICE_ENTRY],
            False,
        ),
        (binding(PULLER, [SA_ENTRY, SA_ENTRY, GROUP_ENTRY]), [SA_A, GROUP_A], [], True),
        (binding(PULLER, [{"kind": "Odd", "name": "x"}, SA_ENTRY]), [SA_A], [{"kind": "Odd", "name": "x"}], False),
    ],
)
def test_remove_subjects(current: dict, subjects: list[Subject], kept: list[dict], delete: bool) -> None:
    original = copy.deepcopy(current)
    removal = plan.remove_subjects(current, subjects=subjects)
    assert removal is not None
    assert removal.binding["subjects"] == kept
    assert removal.delete is delete
    assert removal.binding["metadata"]["resourceVersion"] == "7"
    assert current == original


@pytest.mark.parametrize(
    "current",
    [
        None,
        binding(PULLER, [ALICE_ENTRY]),
        binding(PULLER, None),
        binding(PULLER, [{"kind": "ServiceAccount", "name": "default", "namespace": "other"}]),
    ],
)
def test_remove_subjects_no_change(current: dict | None) -> None:
    assert plan.remove_subjects(current, subjects=[SA_A]) is None


def test_binding_summary_and_autoupdate() -> None:
    current = binding(PULLER, [SA_ENTRY], annotations={plan.AUTOUPDATE_ANNOTATION: "true"})
    assert plan.binding_summary(current) == {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PULLER},
        "subjects": [SA_ENTRY],
    }
    assert plan.binding_summary(None) is None
    assert plan.binding_summary(binding(PULLER, None))["subjects"] == []  # type: ignore[index]
    assert plan.is_autoupdated(current)
    assert not plan.is_autoupdated(binding(PULLER, []))


# ---------------------------------------------------------------------------------------------------------------
# Access reviews


@pytest.mark.parametrize(
    ("subject", "user", "groups"),
    [
        (
            SA_A,
            "system:serviceaccount:project-a:default",
            ("system:serviceaccounts", "system:serviceaccounts:project-a", "system:authenticated"),
        ),
        (
            GROUP_A,
            rbac.GROUP_PROBE_USER,
            ("system:serviceaccounts:project-a", "system:serviceaccounts", "system:authenticated"),
        ),
        (Subject("Group", "devs"), rbac.GROUP_PROBE_USER, ("devs", "system:authenticated")),
        (Subject("Group", "system:authenticated"), rbac.GROUP_PROBE_USER, ("system:authenticated",)),
        (ALICE, "alice", ("system:authenticated",)),
    ],
)
def test_access_identity(subject: Subject, user: str, groups: tuple[str, ...]) -> None:
    assert rbac.access_identity(subject) == (user, groups)


def test_image_pull_review_cluster_and_local() -> None:
    review = rbac.image_pull_review(SA_A, "project-b")
    assert review == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": "system:serviceaccount:project-a:default",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:project-a", "system:authenticated"],
            "resourceAttributes": {
                "namespace": "project-b",
                "verb": "get",
                "group": "image.openshift.io",
                "resource": "imagestreams",
                "subresource": "layers",
            },
        },
    }
    local = rbac.image_pull_review(ALICE, "project-b", local=True)
    assert local["kind"] == "LocalSubjectAccessReview"
    assert local["metadata"] == {"namespace": "project-b"}
    assert local["spec"]["resourceAttributes"]["namespace"] == "project-b"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (
            {"status": {"allowed": True, "reason": 'RBAC: allowed by RoleBinding "x"'}},
            (True, 'RBAC: allowed by RoleBinding "x"'),
        ),
        ({"status": {"allowed": True}}, (True, "allowed")),
        ({"status": {"allowed": False}}, (False, "no RoleBinding or ClusterRoleBinding grants it")),
        ({"status": {}}, (False, "no RoleBinding or ClusterRoleBinding grants it")),
        ({}, (False, "no RoleBinding or ClusterRoleBinding grants it")),
        ({"status": {"allowed": True, "denied": True, "reason": "webhook says no"}}, (False, "webhook says no")),
        ({"status": {"allowed": False, "evaluationError": "boom"}}, (False, "evaluation error: boom")),
        (
            {"status": {"allowed": False, "reason": "r", "evaluationError": "boom"}},
            (False, "r; evaluation error: boom"),
        ),
    ],
)
def test_review_outcome(response: dict, expected: tuple[bool, str]) -> None:
    assert rbac.review_outcome(response) == expected


PULLER_RULES = [{"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": ["get"]}]


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (PULLER_RULES, True),
        (
            [{"apiGroups": ["image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": ["get", "update"]}],
            True,
        ),
        ([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}], True),
        ([{"apiGroups": ["image.openshift.io"], "resources": ["*/layers"], "verbs": ["get"]}], True),
        ([{"apiGroups": ["image.openshift.io"], "resources": ["imagestreams"], "verbs": ["get"]}], False),  # view
        ([{"apiGroups": [""], "resources": ["imagestreams/layers"], "verbs": ["get"]}], False),
        ([{"apiGroups": ["image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": ["update"]}], False),
        ([{"apiGroups": ["image.openshift.io"], "resources": ["*/status"], "verbs": ["get"]}], False),
        (
            [
                {
                    "apiGroups": ["image.openshift.io"],
                    "resources": ["imagestreams/layers"],
                    "verbs": ["get"],
                    "resourceNames": ["one"],
                }
            ],
            False,
        ),
        ([{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}], False),
        ([], False),
        (None, False),
    ],
)
def test_rules_allow_pull(rules: list[dict] | None, expected: bool) -> None:
    assert rbac.rules_allow_pull(rules) is expected


def test_rules_allow_without_subresource() -> None:
    rules = [{"apiGroups": [""], "resources": ["*/layers", "secrets"], "verbs": ["list"]}]
    assert rbac.rules_allow(rules, verb="list", group="", resource="secrets")
    assert not rbac.rules_allow(rules, verb="list", group="", resource="configmaps")


@pytest.mark.parametrize(
    ("entry", "namespace", "expected"),
    [
        (SA_ENTRY, "project-b", True),
        ({"kind": "ServiceAccount", "name": "default"}, "project-a", True),
        ({"kind": "ServiceAccount", "name": "default"}, "project-b", False),
        ({"kind": "ServiceAccount", "name": "default"}, "", False),  # ClusterRoleBinding without namespace
        ({"kind": "User", "name": "system:serviceaccount:project-a:default"}, "", True),
        ({"kind": "Group", "name": "system:serviceaccounts:project-a"}, "", True),
        ({"kind": "Group", "name": "system:serviceaccounts"}, "", True),
        ({"kind": "Group", "name": "system:authenticated"}, "", True),
        ({"kind": "Group", "name": "system:serviceaccounts:project-c"}, "", False),
        ({"kind": "User", "name": "alice"}, "", False),
        ({"kind": "Odd", "name": "x"}, "", False),
    ],
)
def test_identity_matches_service_account(entry: dict, namespace: str, expected: bool) -> None:
    user, groups = rbac.access_identity(SA_A)
    assert rbac.identity_matches(entry, user=user, groups=groups, binding_namespace=namespace) is expected


def test_bindings_reaching_and_describe() -> None:
    cluster_wide = {
        "metadata": {"name": "pull-everything"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PULLER},
        "subjects": [{"kind": "Group", "name": "system:serviceaccounts"}],
    }
    bindings = [
        binding("direct", [SA_ENTRY]),
        binding("others", [ALICE_ENTRY]),
        binding("empty", None),
        cluster_wide,
    ]
    reaching = rbac.bindings_reaching(bindings, SA_A)
    assert [rbac.describe_binding(b) for b in reaching] == [
        "RoleBinding project-b/direct (ClusterRole system:image-puller)",
        "ClusterRoleBinding pull-everything (ClusterRole system:image-puller)",
    ]
    # a member of the group system:serviceaccounts:project-a is reached through system:serviceaccounts too
    assert rbac.bindings_reaching(bindings, GROUP_A) == [cluster_wide]
    assert rbac.bindings_reaching(bindings, ALICE) == [bindings[1]]
    assert rbac.describe_binding({"metadata": {"name": "x"}}) == "ClusterRoleBinding x (? ?)"


_subjects = st.one_of(
    st.builds(lambda ns, name: Subject("ServiceAccount", name, ns), _label, _label),
    st.builds(lambda ns: Subject("Group", f"system:serviceaccounts:{ns}"), _label),
    st.builds(lambda name: Subject("Group", name), st.text(min_size=1, max_size=20).filter(lambda s: s == s.strip())),
    st.builds(lambda name: Subject("User", name), _label),
)


@given(subject=_subjects, namespace=_label)
def test_written_entries_read_back_as_the_same_subject(subject: Subject, namespace: str) -> None:
    # What add_subjects writes is recognised by holding_bindings and taken out by remove_subjects.
    assert rbac.subject_from_rbac(subject.as_rbac(), binding_namespace=namespace) == subject
    created = plan.add_subjects(None, namespace=namespace, name=PULLER, role=PULLER, subjects=[subject])
    assert created is not None
    assert rbac.holding_bindings([created], subject) == [PULLER]
    removal = plan.remove_subjects(created, subjects=[subject])
    assert removal is not None
    assert removal.delete
    assert removal.binding["subjects"] == []
