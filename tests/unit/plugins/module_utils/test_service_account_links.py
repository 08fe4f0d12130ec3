"""Adding and removing secret names in a ServiceAccount's imagePullSecrets and secrets lists."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import (
    LEGACY_SA_ANNOTATION,
    REGISTRY_AUTH_SA_ANNOTATION,
    managed_secret_owner,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._secret_link.plan import (
    normalize_purposes,
    normalize_secret_names,
    secret_name_from_reference,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._secret_link.request import SecretLinkRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._service_accounts.secret_links import (
    PULL_REF_ANNOTATION,
    PURPOSE_FIELDS,
    is_managed_secret_name,
    linked_names,
    managed_dockercfg_secret,
    managed_secret_name_prefix,
    managed_secret_ready,
    plan_links,
    service_account_lists,
    unlink_warnings,
)


def service_account(pull: list[str] | None = None, mount: list | None = None, **extra) -> dict:
    sa: dict = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "project-a", "resourceVersion": "42", "labels": {"a": "b"}},
    }
    if pull is not None:
        sa["imagePullSecrets"] = [{"name": name} for name in pull]
    if mount is not None:
        sa["secrets"] = mount
    sa.update(extra)
    return sa


@pytest.mark.parametrize(
    ("reference", "name"),
    [("quay-robot", "quay-robot"), ("secret/quay-robot", "quay-robot"), ("secrets/a.b-c", "a.b-c")],
)
def test_secret_name_from_reference_accepts_oc_spellings(reference: str, name: str) -> None:
    assert secret_name_from_reference(reference) == name


@pytest.mark.parametrize(
    ("reference", "fragment"),
    [
        ("configmap/x", "expected a secret"),
        ("sa/x", "expected a secret"),
        ("secret/", "non-empty"),
        ("", "non-empty"),
        ("Upper", "is not a valid secret name"),
        ("-dash", "is not a valid secret name"),
        ("a_b", "is not a valid secret name"),
        ("secret/x/y", "is not a valid secret name"),
        ("a" * 254, "at most 253"),
    ],
)
def test_secret_name_from_reference_rejects(reference: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        secret_name_from_reference(reference)


def test_secret_name_from_reference_rejects_non_strings() -> None:
    with pytest.raises(InvalidInputError, match="must be a string"):
        secret_name_from_reference(3)  # type: ignore[arg-type]


def test_normalize_secret_names_keeps_order_and_drops_repeats() -> None:
    assert normalize_secret_names(["b", "secret/a", "secrets/b", "c"]) == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("references", "message"),
    [
        ([], "secrets is empty: name at least one secret"),
        (["secret/"], "secrets ('secret/'): '' is not a valid secret name; it must be non-empty"),
        (["secrets/a/b"], "secrets ('secrets/a/b'): 'a/b' is not a valid secret name"),
    ],
)
def test_normalize_secret_names_refuses(references: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        normalize_secret_names(references)
    assert message in str(raised.value)


def test_normalize_purposes() -> None:
    assert normalize_purposes(["mount", "pull", "mount"]) == ["pull", "mount"]
    assert normalize_purposes(["mount"]) == ["mount"]
    with pytest.raises(InvalidInputError, match="unknown purpose 'push'"):
        normalize_purposes(["push"])
    with pytest.raises(InvalidInputError, match="at least one"):
        normalize_purposes([])


def test_linked_names_skips_nameless_entries_and_keeps_duplicates() -> None:
    sa = service_account(mount=[{"name": "a"}, {}, {"name": ""}, "junk", {"name": "a", "namespace": "x"}])
    assert linked_names(sa, "mount") == ["a", "a"]
    assert linked_names(sa, "pull") == []
    assert linked_names({"imagePullSecrets": None}, "pull") == []


def test_service_account_lists() -> None:
    sa = service_account(pull=["x", "y"], mount=[{"name": "z"}])
    assert service_account_lists(sa) == {"imagePullSecrets": ["x", "y"], "secrets": ["z"]}
    assert service_account_lists(None) == {"imagePullSecrets": [], "secrets": []}


@pytest.mark.parametrize(
    ("pull", "expected"),
    [
        (["builder-dockercfg-x7k2p", "other"], "builder-dockercfg-x7k2p"),
        (["other", "builder-dockercfg-abcde"], "builder-dockercfg-abcde"),
        (["builder-x-dockercfg-abcde"], None),  # another service account's secret
        (["builder-dockercfg-"], None),
        ([], None),
    ],
)
def test_managed_dockercfg_secret(pull: list[str], expected: str | None) -> None:
    assert managed_dockercfg_secret(service_account(pull=pull)) == expected


def test_managed_dockercfg_secret_on_sa_without_list() -> None:
    assert managed_dockercfg_secret(service_account()) is None


def test_link_appends_in_given_order_and_keeps_everything_else() -> None:
    sa = service_account(
        pull=["builder-dockercfg-x7k2p", "existing"],
        mount=[{"name": "builder-token-abc"}, {"name": "kept", "namespace": "project-a"}],
        automountServiceAccountToken=False,
    )
    before = copy.deepcopy(sa)
    plan = plan_links(sa, ["zeta", "alpha", "existing"], ["pull"], state="present")
    assert plan.changed
    assert plan.added == {"pull": ["zeta", "alpha"]}
    assert plan.removed == {}
    assert plan.service_account is not None
    assert plan.service_account["imagePullSecrets"] == [
        {"name": "builder-dockercfg-x7k2p"},
        {"name": "existing"},
        {"name": "zeta"},
        {"name": "alpha"},
    ]
    # Every other field, resourceVersion included (the PUT needs it), is unchanged; the input is not mutated.
    rest = {k: v for k, v in plan.service_account.items() if k != "imagePullSecrets"}
    assert rest == {k: v for k, v in before.items() if k != "imagePullSecrets"}
    assert sa == before


def test_link_creates_missing_lists_for_both_purposes() -> None:
    plan = plan_links(service_account(), ["a"], ["pull", "mount"], state="present")
    assert plan.service_account is not None
    assert plan.service_account["imagePullSecrets"] == [{"name": "a"}]
    assert plan.service_account["secrets"] == [{"name": "a"}]
    assert plan.added == {"pull": ["a"], "mount": ["a"]}


def test_link_of_linked_secret_is_no_change_and_duplicates_are_left_alone() -> None:
    sa = service_account(pull=["a", "a", "b"], mount=[{"name": "a"}])
    plan = plan_links(sa, ["a"], ["pull", "mount"], state="present")
    assert not plan.changed
    assert plan.service_account is None


def test_link_only_touches_the_lists_named() -> None:
    sa = service_account(pull=["x"], mount=[{"name": "y"}])
    plan = plan_links(sa, ["n"], ["mount"], state="present")
    assert plan.service_account is not None
    assert plan.service_account["imagePullSecrets"] == [{"name": "x"}]
    assert plan.service_account["secrets"] == [{"name": "y"}, {"name": "n"}]


def test_unlink_removes_every_entry_with_the_name_and_nothing_else() -> None:
    sa = service_account(
        pull=["builder-dockercfg-x7k2p", "gone", "kept", "gone"],
        mount=[{"name": "gone", "namespace": "project-a"}, {"name": "kept"}],
    )
    plan = plan_links(sa, ["gone", "never-linked"], ["pull"], state="absent")
    assert plan.removed == {"pull": ["gone"]}
    assert plan.added == {}
    assert plan.service_account is not None
    assert plan.service_account["imagePullSecrets"] == [{"name": "builder-dockercfg-x7k2p"}, {"name": "kept"}]
    # mount was not named: unlike `oc secrets unlink`, the secrets list is left alone.
    assert plan.service_account["secrets"] == sa["secrets"]


def test_unlink_from_both_lists() -> None:
    sa = service_account(pull=["gone"], mount=[{"name": "gone", "namespace": "project-a"}])
    plan = plan_links(sa, ["gone"], ["pull", "mount"], state="absent")
    assert plan.service_account is not None
    assert plan.service_account["imagePullSecrets"] == []
    assert plan.service_account["secrets"] == []
    assert plan.removed == {"pull": ["gone"], "mount": ["gone"]}


def test_unlink_of_unlinked_secret_is_no_change() -> None:
    assert not plan_links(service_account(pull=["x"]), ["y"], ["pull", "mount"], state="absent").changed
    assert not plan_links(service_account(), ["y"], ["pull"], state="absent").changed


def test_plan_links_rejects_unknown_state() -> None:
    with pytest.raises(InvalidInputError, match="state must be present or absent"):
        plan_links(service_account(), ["a"], ["pull"], state="linked")


def test_unlink_warnings_for_managed_secret() -> None:
    sa = service_account(pull=["builder-dockercfg-x7k2p"])
    [warning] = unlink_warnings(sa, {"pull": ["builder-dockercfg-x7k2p"]})
    assert "adds it back to imagePullSecrets" in warning
    # the controller lists its secret in secrets too (openshift-controller-manager applies both lists)
    [mounted] = unlink_warnings(sa, {"pull": ["other"], "mount": ["builder-dockercfg-x7k2p"]})
    assert mounted.endswith("adds it back to secrets")
    assert unlink_warnings(sa, {"pull": ["other"]}) == []


_names = st.lists(st.sampled_from(["a", "b", "c", "builder-dockercfg-q1w2e", "d"]), max_size=6)


@given(
    existing=_names,
    mounted=_names,
    wanted=st.lists(st.sampled_from(["a", "b", "c", "builder-dockercfg-q1w2e", "d"]), min_size=1, max_size=6),
    purposes=st.sampled_from([["pull"], ["mount"], ["pull", "mount"]]),
)
def test_link_then_unlink_properties(
    existing: list[str], mounted: list[str], wanted: list[str], purposes: list[str]
) -> None:
    sa = service_account(pull=existing, mount=[{"name": n} for n in mounted])
    names = normalize_secret_names(wanted)
    linked = plan_links(sa, names, purposes, state="present")
    after = linked.service_account or sa
    for purpose in purposes:
        now = linked_names(after, purpose)
        before = linked_names(sa, purpose)
        # Nothing lost, order of the old entries kept, every wanted name present, no new duplicates.
        assert now[: len(before)] == before
        assert set(names) <= set(now)
        assert len(now) == len(before) + len(set(names) - set(before))
    for purpose in set(PURPOSE_FIELDS) - set(purposes):
        assert linked_names(after, purpose) == linked_names(sa, purpose)
    # Idempotent: linking again changes nothing.
    assert not plan_links(after, names, purposes, state="present").changed
    unlinked = plan_links(after, names, purposes, state="absent")
    final = unlinked.service_account or after
    for purpose in purposes:
        assert [n for n in linked_names(sa, purpose) if n not in names] == linked_names(final, purpose)
    assert not plan_links(final, names, purposes, state="absent").changed


def test_secret_link_request_from_params() -> None:
    request = SecretLinkRequest.from_params(
        {
            "service_account": "builder",
            "namespace": "",
            "secrets": ["secret/a", "b", "secrets/a"],
            "purpose": ["mount", "pull"],
            "state": "absent",
            "allow_missing": True,
            "wait_for_service_account": False,
            "wait_timeout": 30,
        }
    )
    assert request.namespace is None  # the kubeconfig context's namespace is used
    assert request.secrets == ("a", "b")
    assert request.purposes == ("pull", "mount")
    assert request.state == "absent"
    assert request.wait_timeout == 30.0
    defaults = SecretLinkRequest.from_params({"service_account": "default", "secrets": ["x"]})
    assert defaults.purposes == ("pull",)
    assert defaults.state == "present"
    assert defaults.wait_timeout == 120.0
    with pytest.raises(InvalidInputError, match="wait_timeout"):
        SecretLinkRequest.from_params({"service_account": "default", "secrets": ["x"], "wait_timeout": -1})
    with pytest.raises(InvalidInputError, match="service account name"):
        SecretLinkRequest.from_params({"service_account": "Default", "secrets": ["x"]})


# --- the managed registry pull secret -------------------------------------------------------------------------


def test_managed_secret_names_follow_the_controllers_generator() -> None:
    assert managed_secret_name_prefix("builder") == "builder-dockercfg-"
    long_name = "a" * 48
    prefix = managed_secret_name_prefix(long_name)
    # library-go GetName: cut, an 8-hex FNV-1a of the whole name, the suffix; 58 characters before the random part
    assert len(prefix) == 58 and prefix.endswith("-dockercfg-")
    assert prefix.startswith("a" * 38 + "-") and prefix != managed_secret_name_prefix("a" * 49)


def test_the_managed_secret_is_found_by_annotation_or_by_its_generated_name() -> None:
    annotated = service_account(pull=["builder-dockercfg-x7k2p", "mine"])
    annotated["metadata"]["annotations"] = {PULL_REF_ANNOTATION: "mine"}
    assert managed_dockercfg_secret(annotated) == "mine"
    assert is_managed_secret_name(annotated, "mine") and not is_managed_secret_name(annotated, "other")
    unlisted = service_account(pull=["other"])
    unlisted["metadata"]["annotations"] = {PULL_REF_ANNOTATION: "mine"}
    assert managed_dockercfg_secret(unlisted) is None  # named but not linked yet
    generated = service_account(pull=["team-secret", "builder-dockercfg-x7k2p"])
    assert managed_dockercfg_secret(generated) == "builder-dockercfg-x7k2p"
    assert is_managed_secret_name(generated, "builder-dockercfg-abcde")
    assert not is_managed_secret_name(generated, "builder-dockercfg-toolong")


def _dockercfg(data: object, **annotations: str) -> dict:
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    return {
        "type": "kubernetes.io/dockercfg",
        "metadata": {"annotations": annotations},
        "data": {".dockercfg": encoded},
    }


def test_the_managed_secret_is_ready_once_it_holds_credentials_for_its_account() -> None:
    token = {"image-registry.openshift-image-registry.svc:5000": {"auth": "dG9rZW4="}}
    assert managed_secret_ready(_dockercfg(token, **{REGISTRY_AUTH_SA_ANNOTATION: "builder"}), "builder")
    assert not managed_secret_ready(_dockercfg({}, **{REGISTRY_AUTH_SA_ANNOTATION: "builder"}), "builder")
    assert not managed_secret_ready(_dockercfg(token, **{LEGACY_SA_ANNOTATION: "deployer"}), "builder")
    assert not managed_secret_ready({"type": "kubernetes.io/dockerconfigjson"}, "builder")
    assert not managed_secret_ready(None, "builder")
    broken = _dockercfg(token)
    broken["data"][".dockercfg"] = "%%%"
    assert not managed_secret_ready(broken, "builder")


@pytest.mark.parametrize(
    ("annotations", "owner"),
    [
        ({REGISTRY_AUTH_SA_ANNOTATION: "builder"}, "builder"),
        ({LEGACY_SA_ANNOTATION: "deployer"}, "deployer"),
        ({REGISTRY_AUTH_SA_ANNOTATION: "builder", LEGACY_SA_ANNOTATION: "other"}, "builder"),
        ({REGISTRY_AUTH_SA_ANNOTATION: ""}, None),
        ({"example.com/owner": "someone"}, None),
        (None, None),
    ],
)
def test_the_managed_secret_owner_is_the_controllers_annotation(annotations, owner):
    assert managed_secret_owner({"metadata": {"annotations": annotations}}) == owner
