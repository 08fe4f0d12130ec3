"""Unit tests of the ``openshift_ops.images.pull_policy`` filter."""

from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.openshift_ops.images.plugins.filter import pull_policy as plugin

pull_policy = plugin.FilterModule().filters()["pull_policy"]


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:" + "a" * 64, "Always"),
        ("::not an image::", "IfNotPresent"),
    ],
)
def test_pull_policy(image, policy):
    assert pull_policy(image) == policy


@pytest.mark.parametrize("value", [None, 1, ["nginx"], {"image": "nginx"}])
def test_non_strings_are_refused(value):
    with pytest.raises(AnsibleFilterError, match="expects an image reference string"):
        pull_policy(value)


def test_documentation_parses():
    for text in (plugin.DOCUMENTATION, plugin.EXAMPLES, plugin.RETURN):
        assert yaml.safe_load(text)
