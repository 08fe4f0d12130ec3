# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pods on a real node pull with what the modules wrote (chapter 5.4.2 and 5.4.2.2): a kubelet on containerd,
the sandbox's registries (basic and token authentication), and nothing but the modules between them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .node_support import APP_OUTPUT, Node
from .sandbox_support import REPO_ROOT, Kube, ModuleRunner, Sandbox, assert_ok

LAUNCHER = REPO_ROOT / "tests" / "sandbox" / "sandbox.py"
sys.path.insert(0, str(LAUNCHER.parent))
import node as sandbox_node  # noqa: E402 (the launcher's node module: the machine snapshot it restores)


@pytest.fixture
def node(sandbox: Sandbox, kube: Kube) -> Node:
    found = Node(sandbox, kube)
    if not found.name:
        pytest.fail("the sandbox was started without a node (SANDBOX_NODE=0): restart it with `make sandbox-up`")
    return found


def _registry(sandbox: Sandbox, which: str) -> str:
    return sandbox.registry if which == "basic" else sandbox.token_registry


def _credentials(sandbox: Sandbox, registry: str) -> list[dict[str, str]]:
    return [{"server": registry, "username": sandbox.registry_user, "password": sandbox.registry_password}]


def test_node_is_ready_with_the_pinned_kubelet_on_containerd(node: Node, kube: Kube) -> None:
    found = kube.get(f"/api/v1/nodes/{node.name}")
    ready = {c["type"]: c["status"] for c in found["status"]["conditions"]}
    assert ready["Ready"] == "True", found["status"]["conditions"]
    info = found["status"]["nodeInfo"]
    assert info["kubeletVersion"] == kube.get("/version")["gitVersion"]
    assert info["containerRuntimeVersion"].startswith("containerd://")
    assert not found["spec"].get("taints")


@pytest.mark.parametrize("which", ["basic", "token"])
def test_deployment_pulls_after_pull_secret_and_link_and_stops_after_unlink(
    node: Node, sandbox: Sandbox, namespace: str, run_module: ModuleRunner, which: str
) -> None:
    registry = _registry(sandbox, which)
    node.deployment(namespace, "app", node.image(registry))
    refused = node.deployment_outcome(namespace, "app")
    assert refused.unauthorized, refused

    assert_ok(
        run_module(
            "pull_secret",
            {"name": "private", "namespace": namespace, "registries": _credentials(sandbox, registry)},
        )
    )
    linked = assert_ok(
        run_module(
            "secret_link",
            {"service_account": "default", "namespace": namespace, "secrets": ["private"], "purpose": "pull"},
        )
    )
    assert linked["changed"] is True
    pulled = node.deployment_outcome(namespace, "app", node.rollout(namespace, "app"))
    assert pulled.running, pulled
    assert "Pulled" in pulled.event_reasons()
    assert APP_OUTPUT in node.log(namespace, pulled.pod)

    assert_ok(
        run_module(
            "secret_link",
            {
                "service_account": "default",
                "namespace": namespace,
                "secrets": ["private"],
                "purpose": "pull",
                "state": "absent",
            },
        )
    )
    unlinked = node.deployment_outcome(namespace, "app", node.rollout(namespace, "app"))
    assert unlinked.unauthorized, unlinked


def test_link_service_accounts_then_removed_secret_stops_new_pods(
    node: Node, sandbox: Sandbox, namespace: str, run_module: ModuleRunner
) -> None:
    params = {
        "name": "private",
        "namespace": namespace,
        "registries": _credentials(sandbox, sandbox.registry),
        "link_service_accounts": ["builder"],
    }
    assert_ok(run_module("pull_secret", params))
    node.run_pod(namespace, "first", node.image(sandbox.registry), service_account="builder")
    first = node.outcome(namespace, "first")
    assert first.running, first

    # Deleted but still linked: the kubelet finds no secret of that name and pulls without it.
    assert_ok(run_module("pull_secret", {"name": "private", "namespace": namespace, "state": "absent"}))
    node.run_pod(namespace, "second", node.image(sandbox.registry), service_account="builder")
    second = node.outcome(namespace, "second")
    assert second.unauthorized, second


def test_node_stop_puts_the_machine_back_and_start_brings_the_node_back(
    node: Node, sandbox: Sandbox, kube: Kube
) -> None:
    """What `make sandbox-down` does to the node, without stopping the control plane: sysctls, iptables rules
    and chains, cgroups, links, netns and the kubelet's files outside the sandbox as before the node started."""
    logs = Path(sandbox.state_dir) / "logs"
    stopped = subprocess.run(
        [sys.executable, str(LAUNCHER), "stop-node"], capture_output=True, text=True, check=False, timeout=300
    )
    try:
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        before = json.loads((logs / "node-machine-before.json").read_text(encoding="utf-8"))
        after = sandbox_node.snapshot()
        assert sandbox_node.comparable(after) == sandbox_node.comparable(before)
        restored = (logs / "node-restore.log").read_text(encoding="utf-8")
        assert "sysctl vm.overcommit_memory" in restored or before["tunables"]["vm/overcommit_memory"] == "1"
        assert "KUBE-FIREWALL" in restored
    finally:
        started = subprocess.run(
            [sys.executable, str(LAUNCHER), "start-node"], capture_output=True, text=True, check=False, timeout=300
        )
    assert started.returncode == 0, started.stdout + started.stderr
    node.run_pod("default", "after-restart", sandbox_node.PAUSE_IMAGE, pull_policy="Never")
    try:
        assert node.outcome("default", "after-restart").running
    finally:
        node.delete_pod("default", "after-restart")
