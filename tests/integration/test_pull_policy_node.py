# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The image pull policy (chapter 5.3) on a real node: the ``pull_policy`` filter's default is what the API server
stores, and ``Always``, ``IfNotPresent`` and ``Never`` do on the kubelet what docs/pull_diagnostics.md says,
including for an image another pod pulled with a secret (the kubelet's KubeletEnsureSecretPulledImages checks)."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.openshift_ops.images.plugins.filter.pull_policy import pull_policy

from .node_support import Node
from .sandbox_support import Kube, Sandbox

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    "image",
    [
        "{registry}/sandbox/app:1",
        "{registry}/sandbox/app",
        "{registry}/sandbox/app:latest",
        f"{{registry}}/sandbox/app@{DIGEST}",
        f"{{registry}}/sandbox/app:latest@{DIGEST}",
        "app",
        "docker.io/library/app:latest",
    ],
)
def test_filter_default_is_what_the_api_server_stores(image: str, sandbox: Sandbox, kube: Kube) -> None:
    image = image.format(registry=sandbox.registry)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "policy-probe"},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }
    stored = kube.request("POST", "/api/v1/namespaces/default/pods?dryRun=All", pod)
    assert stored["spec"]["containers"][0]["imagePullPolicy"] == pull_policy(image)


def _pull_secret(kube: Kube, sandbox: Sandbox, namespace: str) -> None:
    auth = base64.b64encode(f"{sandbox.registry_user}:{sandbox.registry_password}".encode()).decode()
    document = {"auths": {sandbox.registry: {"auth": auth}}}
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "good"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()},
        },
    )


def test_always_ifnotpresent_and_never_on_the_node(sandbox: Sandbox, kube: Kube, namespace: str) -> None:
    node = Node(sandbox, kube)
    assert node.name, "the sandbox has no node (SANDBOX_NODE=0)"
    _pull_secret(kube, sandbox, namespace)
    image = node.image(sandbox.registry)

    node.run_pod(namespace, "first", image, pull_secrets=("good",), pull_policy="IfNotPresent")
    first = node.outcome(namespace, "first")
    assert first.running, first

    # Present, and this pod holds the secret it was pulled with: no pull.
    node.run_pod(namespace, "present", image, pull_secrets=("good",), pull_policy="IfNotPresent")
    present = node.outcome(namespace, "present")
    assert present.running, present
    assert "Pulling" not in present.event_reasons()
    assert any("already present on machine and can be accessed" in message for _reason, message in present.events)

    # Present, but pulled with a secret this pod does not have: Never refuses it, IfNotPresent pulls (and fails).
    node.run_pod(namespace, "never-without", image, pull_secrets=(), pull_policy="Never")
    never_without = node.outcome(namespace, "never-without")
    assert never_without.reason == "ErrImageNeverPull", never_without
    node.run_pod(namespace, "ifnotpresent-without", image, pull_secrets=(), pull_policy="IfNotPresent")
    ifnotpresent_without = node.outcome(namespace, "ifnotpresent-without")
    assert ifnotpresent_without.unauthorized, ifnotpresent_without

    # Never with the secret: the image on the node is used.
    node.run_pod(namespace, "never-with", image, pull_secrets=("good",), pull_policy="Never")
    never_with = node.outcome(namespace, "never-with")
    assert never_with.running, never_with
    assert "Pulling" not in never_with.event_reasons()

    # Always pulls again (a manifest request at least), even though the image is there.
    node.run_pod(namespace, "always", image, pull_secrets=("good",), pull_policy="Always")
    always = node.outcome(namespace, "always")
    assert always.running, always
    assert "Pulling" in always.event_reasons()

    # Never for an image the node does not have.
    node.run_pod(namespace, "never-absent", node.image(sandbox.registry, "not-on-the-node"), pull_policy="Never")
    never_absent = node.outcome(namespace, "never-absent")
    assert never_absent.reason == "ErrImageNeverPull", never_absent
