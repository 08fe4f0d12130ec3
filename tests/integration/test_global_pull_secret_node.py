# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The global pull secret reaches a real node (chapter 5.4.3): ``global_pull_secret`` writes
``openshift-config/pull-secret``, the MCO stand-in renders it and plays the machine-config daemon, which writes the
node's ``/var/lib/kubelet/config.json`` without restarting the kubelet, and a pod with no pull secret pulls with
the node's credentials. Removing the entry takes them away again.

The kubelet reads that file through a cache that lives 5 minutes (``pkg/credentialprovider``), so the first pod that
pulls comes up to 5 minutes after the rollout: the test waits as long as a user would, and records the times in
``.sandbox/logs/node-timings.json`` (they are reported, never asserted).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .mco_stand_in import MachineConfigOperator, NodeDaemon
from .node_support import Node, PullOutcome
from .sandbox_support import Kube, ModuleRunner, Sandbox, assert_ok
from .test_pull_diagnostics_node import _prediction

KUBELET_CACHE_SECONDS = 300
# The longest a user can wait for the kubelet after a rollout: its cache, plus a probe interval and a pull.
DEADLINE = KUBELET_CACHE_SECONDS + 60
PROBE_INTERVAL = 5.0


def _first_pod(node: Node, namespace: str, image: str, until: Callable[[PullOutcome], bool]) -> tuple[float, int]:
    """Starts a pod with no pull secret every few seconds until one's outcome satisfies ``until``; returns when
    (monotonic) and how many pods it took."""
    deadline = time.monotonic() + DEADLINE
    attempt = 0
    while True:
        attempt += 1
        pod = f"probe-{attempt}"
        node.run_pod(namespace, pod, image, pull_secrets=(), pull_policy="Always")
        outcome = node.outcome(namespace, pod)
        node.delete_pod(namespace, pod)
        if until(outcome):
            return time.monotonic(), attempt
        if time.monotonic() > deadline:
            raise AssertionError(f"after {DEADLINE}s the node still gives {outcome}")
        time.sleep(PROBE_INTERVAL)


def test_global_pull_secret_reaches_the_node_and_its_removal_takes_access_away(
    sandbox: Sandbox, kube: Kube, namespace: str, restore_seed: None
) -> None:
    node = Node(sandbox, kube)
    assert node.name, "the sandbox has no node (SANDBOX_NODE=0)"
    run = ModuleRunner(sandbox)
    image = node.image(sandbox.registry)
    daemon = NodeDaemon(kube, node.name, node.node_dir / "kubelet")
    entry = {"server": sandbox.registry, "username": sandbox.registry_user, "password": sandbox.registry_password}
    figures: dict[str, Any] = {}

    with MachineConfigOperator(kube, render_delay=0.5, node_delay=0.3, node=daemon):
        # No pod is run before the change on purpose: its pull would refresh the kubelet's cache and so hold the
        # new file back for a full 5 minutes. That the node had no credential for the registry shows in the file
        # (and in the removal below, after which pods are refused again).
        before = json.loads((daemon.root / "config.json").read_text(encoding="utf-8"))
        assert sandbox.registry not in before["auths"]

        started = time.monotonic()
        added = assert_ok(run("global_pull_secret", {"registries": [entry], "wait": True, "wait_timeout": 120}))
        rolled_out = time.monotonic()
        assert added["changed"] is True
        assert all(pool["done"] for pool in added["rollout"].values()), added["rollout"]
        written = json.loads((daemon.root / "config.json").read_text(encoding="utf-8"))
        assert sandbox.registry in written["auths"]
        assert oct((daemon.root / "config.json").stat().st_mode & 0o777) == "0o600"

        pulled_at, probes = _first_pod(node, namespace, image, lambda outcome: outcome.running)
        figures["added"] = {
            "rollout_seconds": round(rolled_out - started, 1),
            "first_pull_after_rollout_seconds": round(pulled_at - rolled_out, 1),
            "probe_pods": probes,
        }

        # image_pull_access_info's view of the same pod: only the node's credentials, and they work.
        diagnosis = assert_ok(
            run(
                "image_pull_access_info",
                {
                    "namespace": namespace,
                    "image": image,
                    "pod": {"spec": {"containers": [{"name": "app", "image": image}], "imagePullSecrets": []}},
                    "check_credentials": True,
                    "registry_ca_cert": sandbox.registry_ca,
                },
            )
        )
        predicted = _prediction(diagnosis)
        assert predicted["pulls"] is True, diagnosis
        assert diagnosis["candidates"][0]["source"] == "node"
        row = {
            "case": "node-credentials-only",
            "what": "no pull secret; the global pull secret on the node has the registry",
            "predicted": predicted,
            "kubelet": {"pulls": True, "warns_missing_secret": [], "reason": "Running", "message": ""},
        }
        with (Path(sandbox.state_dir) / "logs" / "pull-table.jsonl").open("a", encoding="utf-8") as table:
            table.write(json.dumps(row) + "\n")

        started = time.monotonic()
        removed = assert_ok(
            run(
                "global_pull_secret",
                {"state": "absent", "remove_registries": [sandbox.registry], "wait": True, "wait_timeout": 120},
            )
        )
        rolled_out = time.monotonic()
        assert removed["changed"] is True
        written = json.loads((daemon.root / "config.json").read_text(encoding="utf-8"))
        assert sandbox.registry not in written["auths"]
        refused_at, probes = _first_pod(node, namespace, image, lambda outcome: outcome.unauthorized)
        figures["removed"] = {
            "rollout_seconds": round(rolled_out - started, 1),
            "first_refusal_after_rollout_seconds": round(refused_at - rolled_out, 1),
            "probe_pods": probes,
        }
    (Path(sandbox.state_dir) / "logs" / "node-timings.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(f"global pull secret on the node: {figures}")
