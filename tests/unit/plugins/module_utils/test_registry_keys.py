"""Unit tests of registry keys: which keys can name a registry, and which spellings name the same one (§3.4, §6.1,
§7)."""

from __future__ import annotations

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import (
    normalize_registry_key,
    registry_keys_equivalent,
    split_registry_key,
    validate_registry_key,
)


@pytest.mark.parametrize(
    "key",
    [
        "quay.io",
        "quay.io/ns",
        "quay.io/ns/repo",
        "localhost:5000",
        "localhost:5000/foo",
        "https://index.docker.io/v1/",
        "http://insecure.example.com",
        "docker.io/library",
        "*.example.com",
        "[::1]:5000",
        "registry.example.com:443/Team".lower(),
    ],
)
def test_validate_registry_key_accepts(key):
    assert validate_registry_key(key) == key


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ("", "non-empty"),
        ("quay.io/ns/repo:tag", "not a tag"),
        ("quay.io/ns/repo@sha256:" + "a" * 64, "not a digest"),
        ("user@quay.io", "contains '@'"),
        ("quay.io/MyOrg", "upper-case"),
        ("ftp://quay.io", "only https:// or http://"),
        ("https://", "no registry host"),
        ("/ns", "no registry host"),
        ("quay.io /ns", "whitespace"),
        ("quay.io?x=1", "'?' or '#'"),
        ("quay.io//ns", "empty path component"),
    ],
)
def test_validate_registry_key_refuses(key, needle):
    with pytest.raises(InvalidInputError, match=needle):
        validate_registry_key(key)


def test_validate_registry_key_refuses_non_strings():
    with pytest.raises(InvalidInputError):
        validate_registry_key(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "equivalent"),
    [
        ("https://index.docker.io/v1/", "docker.io", True),
        ("https://index.docker.io/v1/", "index.docker.io", True),
        ("registry-1.docker.io", "docker.io", True),
        ("docker.io/library", "index.docker.io/library", True),
        ("https://quay.io", "quay.io", True),
        ("http://quay.io/", "quay.io", True),
        ("https://quay.io/v2/", "quay.io", True),
        ("quay.io/v1/ns", "quay.io/ns", True),
        ("Quay.IO", "quay.io", True),
        ("quay.io/ns/", "quay.io/ns", True),
        ("https://quay.io/ns", "quay.io/ns", True),  # the kubelet keeps a scheme key's path
        ("quay.io/ns", "quay.io", False),  # path kept
        ("quay.io/ns", "quay.io/ns-other", False),
        ("quay.io:443", "quay.io", False),  # the kubelet wants equal ports
        ("quay.io/v2", "quay.io", False),  # only "/v2/" is the API path
        ("docker.io", "quay.io", False),
    ],
)
def test_registry_keys_equivalent(a, b, equivalent):
    assert registry_keys_equivalent(a, b) is equivalent
    first, second = b, a
    assert registry_keys_equivalent(first, second) is equivalent  # symmetric


@pytest.mark.parametrize(
    ("key", "parts", "normalized"),
    [
        ("quay.io", ("", "quay.io", ""), "quay.io"),
        ("https://Quay.io/ns/", ("https://", "Quay.io", "/ns/"), "quay.io/ns"),
        ("http://localhost:5000/v2/", ("http://", "localhost:5000", "/v2/"), "localhost:5000"),
        ("https://index.docker.io/v1/", ("https://", "index.docker.io", "/v1/"), "docker.io"),
        ("registry-1.docker.io/library", ("", "registry-1.docker.io", "/library"), "docker.io/library"),
    ],
)
def test_split_and_normalize(key, parts, normalized):
    assert split_registry_key(key) == parts
    assert normalize_registry_key(key) == normalized
