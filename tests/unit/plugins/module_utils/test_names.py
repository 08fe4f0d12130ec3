"""The API server's name rules and the API paths, in one place (_kube/names.py)."""

from __future__ import annotations

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    cluster_role_binding_path,
    cluster_role_path,
    image_stream_path,
    image_stream_tag_path,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_path_segment_name,
    local_subject_access_review_path,
    namespace_path,
    role_binding_path,
    role_path,
    secret_path,
    self_subject_access_review_path,
    service_account_path,
    subject_access_review_path,
    validate_dns_subdomain_name,
    validate_namespace_name,
    validate_path_segment_name,
)


@pytest.mark.parametrize(
    ("value", "label", "subdomain", "segment"),
    [
        ("a", True, True, True),
        ("a-b.c", False, True, True),
        ("a" * 63, True, True, True),
        ("a" * 64, False, True, True),
        ("a" * 253, False, True, True),
        ("a" * 254, False, False, True),
        ("-a", False, False, True),
        ("a-", False, False, True),
        ("A", False, False, True),
        ("a_b", False, False, True),
        ("system:image-puller", False, False, True),
        ("", False, False, False),
        (".", False, False, False),
        ("..", False, False, False),
        ("a/b", False, False, False),
        ("a%2Fb", False, False, False),
    ],
)
def test_the_three_rules(value: str, label: bool, subdomain: bool, segment: bool) -> None:
    assert (is_dns1123_label(value), is_dns1123_subdomain(value), is_path_segment_name(value)) == (
        label,
        subdomain,
        segment,
    )


def test_non_strings_are_no_names() -> None:
    for value in (None, 3, ["a"]):
        assert not is_dns1123_label(value)  # type: ignore[arg-type]
        assert not is_dns1123_subdomain(value)  # type: ignore[arg-type]
        assert not is_path_segment_name(value)  # type: ignore[arg-type]


def test_messages_name_the_option_the_value_and_the_rule() -> None:
    with pytest.raises(InvalidInputError, match=r"^service_account: 'A' is not a valid service account name; .*"):
        validate_dns_subdomain_name("A", what="service_account", kind="service account")
    with pytest.raises(InvalidInputError, match=r"^name: '' is not a valid secret name; it must be non-empty"):
        validate_dns_subdomain_name("", what="name", kind="secret")
    with pytest.raises(InvalidInputError, match=r"^namespace: 'Bad' is not a valid namespace name.*DNS-1123 label"):
        validate_namespace_name("Bad")
    with pytest.raises(InvalidInputError, match=r"^role: ' edit' is not a valid name.*white space"):
        validate_path_segment_name(" edit", what="role")
    assert validate_dns_subdomain_name("a" * 253, what="name", kind="secret") == "a" * 253
    assert validate_path_segment_name("system:image-puller", what="role") == "system:image-puller"


def test_paths() -> None:
    assert secret_path("ns") == "/api/v1/namespaces/ns/secrets"
    assert secret_path("ns", "s") == "/api/v1/namespaces/ns/secrets/s"
    assert service_account_path("ns", "builder") == "/api/v1/namespaces/ns/serviceaccounts/builder"
    assert image_stream_path("ns", "ruby") == "/apis/image.openshift.io/v1/namespaces/ns/imagestreams/ruby"
    assert (
        image_stream_tag_path("ns", "ruby", "2.0")
        == "/apis/image.openshift.io/v1/namespaces/ns/imagestreamtags/ruby:2.0"
    )
    assert role_binding_path("ns", "system:image-pullers") == (
        "/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings/system:image-pullers"
    )
    # a string that is no valid name cannot reach another path
    assert secret_path("ns", "../../x?y") == "/api/v1/namespaces/ns/secrets/..%2F..%2Fx%3Fy"
    assert secret_path("a/b") == "/api/v1/namespaces/a%2Fb/secrets"


def test_rbac_and_review_paths() -> None:
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    assert role_path("ns", "reader") == f"{rbac}/namespaces/ns/roles/reader"
    assert cluster_role_path("system:image-puller") == f"{rbac}/clusterroles/system:image-puller"
    assert cluster_role_binding_path() == f"{rbac}/clusterrolebindings"
    assert namespace_path("ns") == "/api/v1/namespaces/ns"
    assert subject_access_review_path() == "/apis/authorization.k8s.io/v1/subjectaccessreviews"
    assert self_subject_access_review_path() == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    assert local_subject_access_review_path("ns") == (
        "/apis/authorization.k8s.io/v1/namespaces/ns/localsubjectaccessreviews"
    )
    # names read from bindings are quoted too: a role name cannot reach another path
    assert cluster_role_path("../secrets") == f"{rbac}/clusterroles/..%2Fsecrets"
    assert role_path("ns", "a?b") == f"{rbac}/namespaces/ns/roles/a%3Fb"
