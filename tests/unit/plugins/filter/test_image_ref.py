"""The ``image_ref`` filter: a reference string to a dict of its parts."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_ops.images.plugins.filter.image_ref import FilterModule, image_ref

DIGEST = "sha256:" + "c" * 64


def test_the_filter_is_registered() -> None:
    assert FilterModule().filters()["image_ref"] is image_ref


def test_external_image() -> None:
    assert image_ref("quay.io/org/app:1.4") == {
        "registry": "quay.io",
        "namespace": "org",
        "name": "app",
        "repository": "org/app",
        "tag": "1.4",
        "digest": "",
        "exact": "quay.io/org/app:1.4",
        "source_kind": "DockerImage",
        "normalized": {
            "registry": "quay.io",
            "repository": "org/app",
            "tag": "1.4",
            "digest": None,
            "name": "quay.io/org/app",
            "reference": "quay.io/org/app:1.4",
        },
    }


def test_short_name_is_an_image_stream_tag_for_oc_but_docker_hub_for_the_kubelet() -> None:
    parts = image_ref("mysql:8.0")
    assert (parts["registry"], parts["namespace"], parts["name"], parts["tag"]) == ("", "", "mysql", "8.0")
    assert parts["source_kind"] == "ImageStreamTag"
    assert parts["normalized"]["reference"] == "docker.io/library/mysql:8.0"


@pytest.mark.parametrize(
    ("reference", "kind", "normalized"),
    [
        ("mysql", "DockerImage", "docker.io/library/mysql:latest"),
        (f"ruby@{DIGEST}", "ImageStreamImage", f"docker.io/library/ruby@{DIGEST}"),
        ("openshift/ruby:2.0", "ImageStreamTag", "docker.io/openshift/ruby:2.0"),
        ("localhost:5000/a:1", "DockerImage", "localhost:5000/a:1"),
    ],
)
def test_kinds(reference: str, kind: str, normalized: str) -> None:
    parts = image_ref(reference)
    assert parts["source_kind"] == kind
    assert parts["normalized"]["reference"] == normalized
    assert parts["exact"] == reference


def test_bare_registry_has_no_normalized_form() -> None:
    parts = image_ref("quay.io")
    assert (parts["registry"], parts["name"], parts["normalized"]) == ("quay.io", "", None)


@pytest.mark.parametrize(("value", "message"), [("Quay.io/Org/App", "must be lowercase"), ("a//b", "must look like")])
def test_bad_reference(value: str, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        image_ref(value)


def test_not_a_string() -> None:
    with pytest.raises(AnsibleFilterError, match="expects a string, got int"):
        image_ref(42)
