"""Unit tests of the default imagePullPolicy (§9, ``SetDefaults_Container`` with ``parsers.ParseImageName``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._images.pull_policy import (
    default_pull_policy,
    defaulted_tag,
)

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("image", "tag", "policy"),
    [
        # §9's table
        ("nginx", "latest", "Always"),
        ("docker.io/library/nginx", "latest", "Always"),
        ("nginx:latest", "latest", "Always"),
        ("nginx:1.25", "1.25", "IfNotPresent"),
        (f"nginx@{DIGEST}", "", "IfNotPresent"),
        (f"nginx:latest@{DIGEST}", "latest", "Always"),  # the digest is ignored for this rule
        ("Not A Valid Image!", "", "IfNotPresent"),
        # more of the same rules
        ("", "", "IfNotPresent"),
        ("quay.io/ns/app", "latest", "Always"),
        ("quay.io/ns/app:v1", "v1", "IfNotPresent"),
        (f"quay.io/ns/app:v1@{DIGEST}", "v1", "IfNotPresent"),
        ("localhost:5000/app", "latest", "Always"),
        ("localhost:5000/app:LATEST", "LATEST", "IfNotPresent"),  # tags are case-sensitive
        ("registry.example.com:5000/a/b/c:latest", "latest", "Always"),
        ("[::1]:5000/app", "latest", "Always"),
        ("quay.io/Upper/app", "", "IfNotPresent"),  # cannot be parsed
        ("Upper.example.com/app", "latest", "Always"),  # upper case is fine in the domain
        ("nginx@sha256:abc", "", "IfNotPresent"),  # a short digest cannot be parsed
        ("nginx@md5:" + "0" * 32, "", "IfNotPresent"),  # unknown algorithm
        ("0123456789abcdef" * 4, "", "IfNotPresent"),  # a bare image ID
        ("https://quay.io/app", "", "IfNotPresent"),
        ("quay.io/app:" + "t" * 129, "", "IfNotPresent"),  # tags have at most 128 characters
    ],
)
def test_default_pull_policy(image, tag, policy):
    assert defaulted_tag(image) == tag
    assert default_pull_policy(image) == policy


NAME = st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}", fullmatch=True)
TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}", fullmatch=True)
DOMAIN = st.sampled_from(["", "quay.io/", "localhost:5000/", "docker.io/", "r.example.com/"])


@given(DOMAIN, NAME, st.none() | TAG, st.booleans())
def test_policy_follows_the_tag(domain, name, tag, with_digest):
    image = domain + name + (f":{tag}" if tag is not None else "") + (f"@{DIGEST}" if with_digest else "")
    implied_latest = tag is None and not with_digest
    expected = "Always" if tag == "latest" or implied_latest else "IfNotPresent"
    assert default_pull_policy(image) == expected


@given(st.text(max_size=40))
def test_any_string_gets_one_of_the_two_policies(image):
    assert default_pull_policy(image) in ("Always", "IfNotPresent")
