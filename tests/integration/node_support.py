# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pods on the sandbox's node (tests/sandbox/node.py): run them, and read what the kubelet did with their image.

The evidence is the kubelet's own: the container status it reports (``ErrImagePull`` with the runtime's message,
or running), the pod's events (``Pulling``, ``Pulled``, ``Failed``, ``FailedToRetrieveImagePullSecret``) and the
container's log from the kubelet's ``podLogsDir`` (the Node has no address the API server could proxy to).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ansible_collections.openshift_ops.images.tests.unit.support.kube_names import secret_path

from .sandbox_support import Kube, KubeTestError, Sandbox

# Waiting reasons of a container that is still being set up; any other one is a failure to start it.
STILL_STARTING = ("ContainerCreating", "PodInitializing")
APP_OUTPUT = "pulled and running"


def missed_secret_names(events: list[tuple[str, str]]) -> set[str]:
    """The secrets FailedToRetrieveImagePullSecret events name ("Unable to retrieve some image pull secrets
    (a, b); attempting to pull the image may not succeed.")."""
    names: set[str] = set()
    for reason, message in events:
        if reason == "FailedToRetrieveImagePullSecret" and "(" in message:
            names.update(name.strip() for name in message.split("(", 1)[1].split(")", 1)[0].split(","))
    return names


@dataclass
class PullOutcome:
    """What the kubelet did with a pod's image."""

    pod: str
    running: bool
    reason: str  # "Running", or the waiting reason (ErrImagePull, ErrImageNeverPull, ...)
    message: str  # the runtime's error, from the first failed pull when there is one
    events: list[tuple[str, str]] = field(default_factory=list)  # (reason, message), oldest first
    transient_secret_miss: bool = False  # the kubelet missed an existing secret once, and tried again

    @property
    def unauthorized(self) -> bool:
        return not self.running and "401 Unauthorized" in self.message

    def event_reasons(self) -> list[str]:
        return [reason for reason, _message in self.events]


class Node:
    """``node.run_pod(ns, name, image, ...)``, ``node.outcome(ns, name)``, ``node.deployment(...)``."""

    def __init__(self, sandbox: Sandbox, kube: Kube) -> None:
        self.sandbox = sandbox
        self.kube = kube
        self.name = sandbox.env.get("SANDBOX_NODE", "")
        self.node_dir = Path(sandbox.env.get("SANDBOX_NODE_DIR", ""))

    def image(self, registry: str, tag: str = "1") -> str:
        return f"{registry}/{self.sandbox.env['SANDBOX_APP_IMAGE']}:{tag}"

    # --- pods --------------------------------------------------------------------------------------------------------

    def run_pod(
        self,
        namespace: str,
        name: str,
        image: str,
        *,
        service_account: str | None = None,
        pull_secrets: tuple[str, ...] | None = None,
        pull_policy: str | None = "Always",
    ) -> dict[str, Any]:
        container: dict[str, Any] = {"name": "app", "image": image}
        if pull_policy is not None:
            container["imagePullPolicy"] = pull_policy
        spec: dict[str, Any] = {
            "containers": [container],
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,
        }
        if service_account is not None:
            spec["serviceAccountName"] = service_account
        if pull_secrets is not None:
            spec["imagePullSecrets"] = [{"name": secret} for secret in pull_secrets]
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
        return self.kube.create(f"/api/v1/namespaces/{namespace}/pods", body)

    def outcome(self, namespace: str, pod: str, *, timeout: float = 120.0) -> PullOutcome:
        """Waits until the container runs or its image pull has failed, and says which."""
        deadline = time.monotonic() + timeout
        retry_until = deadline
        transient = False
        failures_at_miss = 0
        while True:
            found = self.kube.get(f"/api/v1/namespaces/{namespace}/pods/{pod}") or {}
            statuses = found.get("status", {}).get("containerStatuses") or []
            state = statuses[0].get("state", {}) if statuses else {}
            if "running" in state or "terminated" in state:
                ran = PullOutcome(pod, True, "Running", "", self._settled_events(namespace, pod))
                ran.transient_secret_miss = transient
                return ran
            waiting = state.get("waiting") or {}
            # Pull failures have their own reasons; a pull secret the kubelet cannot parse fails the pod with the
            # parser's error as the reason (e.g. "illegal base64 data at input byte 0").
            if waiting.get("reason") and waiting["reason"] not in STILL_STARTING:
                events = self._settled_events(namespace, pod)
                failures = self.event_count(namespace, pod, "Failed")
                if transient and failures <= failures_at_miss and time.monotonic() < deadline:
                    time.sleep(0.5)  # the status still shows the attempt before the retry
                    continue
                if self.secrets_missed_but_present(namespace, events) and time.monotonic() < retry_until:
                    # The kubelet could not read a pull secret that exists (its watch of a secret of a pod it just
                    # got can lose the race with the Node authorizer's graph) and pulled without it; it reads it
                    # again at the next attempt, after its back-off. That attempt is the outcome.
                    retry_until = 0.0
                    transient = True
                    failures_at_miss = failures
                    self._wait_past_backoff(namespace, pod)
                    continue
                failed = [message for reason, message in events if reason == "Failed" and "pull" in message]
                message = waiting.get("message", "") if waiting["reason"] != "ImagePullBackOff" else ""
                found_outcome = PullOutcome(pod, False, waiting["reason"], failed[0] if failed else message, events)
                found_outcome.transient_secret_miss = transient
                return found_outcome
            if time.monotonic() > deadline:
                raise AssertionError(f"pod {namespace}/{pod} neither ran nor failed to pull in {timeout}s: {found}")
            time.sleep(0.2)

    def secrets_missed_but_present(self, namespace: str, events: list[tuple[str, str]]) -> list[str]:
        """Secrets a FailedToRetrieveImagePullSecret event names that do exist."""
        return [name for name in missed_secret_names(events) if self.kube.get(secret_path(namespace, name))]

    def _wait_past_backoff(self, namespace: str, pod: str) -> None:
        """Until the kubelet's next pull attempt for the pod has begun (its first back-off is 10 s)."""
        deadline = time.monotonic() + 40
        pulls = self.event_count(namespace, pod, "Pulling")
        while time.monotonic() < deadline:
            time.sleep(1.0)
            if self.event_count(namespace, pod, "Pulling") > pulls:
                time.sleep(2.0)
                return

    def _settled_events(self, namespace: str, pod: str) -> list[tuple[str, str]]:
        """The pod's events once the kubelet's have arrived: they are sent asynchronously, so a warning given
        before the pull (FailedToRetrieveImagePullSecret) may reach the API server after the container started."""
        deadline = time.monotonic() + 10
        events = self.events(namespace, pod)
        while not {"Pulled", "Failed"} & {reason for reason, _message in events} and time.monotonic() < deadline:
            time.sleep(0.2)
            events = self.events(namespace, pod)
        time.sleep(1.0)
        return self.events(namespace, pod)

    def event_count(self, namespace: str, pod: str, reason: str) -> int:
        """How many times the kubelet gave an event (repeats are folded into one Event with a count)."""
        return sum(
            max(int(event.get("count") or 1), int((event.get("series") or {}).get("count") or 0))
            for event in self._event_items(namespace, pod)
            if event.get("reason") == reason
        )

    def _event_items(self, namespace: str, pod: str) -> list[dict[str, Any]]:
        return self.kube.get(
            f"/api/v1/namespaces/{namespace}/events?fieldSelector=involvedObject.kind%3DPod,involvedObject.name%3D{pod}"
        )["items"]

    def events(self, namespace: str, pod: str) -> list[tuple[str, str]]:
        items = self._event_items(namespace, pod)
        items.sort(key=lambda e: (e.get("firstTimestamp") or e.get("eventTime") or "", e["metadata"]["name"]))
        return [(e.get("reason", ""), e.get("message", "")) for e in items]

    def log(self, namespace: str, pod: str) -> str:
        """The container's output, from the kubelet's podLogsDir (``<ns>_<pod>_<uid>/<container>/0.log``)."""
        found = self.kube.get(f"/api/v1/namespaces/{namespace}/pods/{pod}")
        uid = found["metadata"]["uid"]
        path = self.node_dir / "pod-logs" / f"{namespace}_{pod}_{uid}" / "app" / "0.log"
        deadline = time.monotonic() + 20
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def delete_pod(self, namespace: str, pod: str) -> None:
        try:
            self.kube.request("DELETE", f"/api/v1/namespaces/{namespace}/pods/{pod}", {"gracePeriodSeconds": 0})
        except KubeTestError as error:
            if error.status != 404:
                raise

    # --- deployments -------------------------------------------------------------------------------------------------

    def deployment(self, namespace: str, name: str, image: str, *, service_account: str = "default") -> None:
        """A one-replica Deployment (Recreate, so each rollout has one pod); :meth:`rollout` starts a new pod."""
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}, "annotations": {"sandbox/rollout": "1"}},
                    "spec": {
                        "serviceAccountName": service_account,
                        "terminationGracePeriodSeconds": 1,
                        "automountServiceAccountToken": False,
                        "containers": [{"name": "app", "image": image, "imagePullPolicy": "Always"}],
                    },
                },
            },
        }
        self.kube.create(f"/apis/apps/v1/namespaces/{namespace}/deployments", body)

    def rollout(self, namespace: str, name: str) -> str:
        """Rolls the Deployment's pods (as `oc rollout restart` does) and returns the new rollout's number."""
        path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
        current = int(self.kube.get(path)["spec"]["template"]["metadata"]["annotations"]["sandbox/rollout"])
        patch = {"spec": {"template": {"metadata": {"annotations": {"sandbox/rollout": str(current + 1)}}}}}
        self.kube.patch(path, patch)
        return str(current + 1)

    def deployment_outcome(
        self, namespace: str, name: str, rollout: str = "1", *, timeout: float = 120.0
    ) -> PullOutcome:
        """The outcome of the pod the Deployment made for ``rollout``."""
        deadline = time.monotonic() + timeout
        while True:
            pods = self.kube.get(f"/api/v1/namespaces/{namespace}/pods?labelSelector=app%3D{name}")["items"]
            ours = [
                pod["metadata"]["name"]
                for pod in pods
                if pod["metadata"].get("annotations", {}).get("sandbox/rollout") == rollout
                and not pod["metadata"].get("deletionTimestamp")
            ]
            if ours:
                return self.outcome(namespace, ours[0], timeout=max(deadline - time.monotonic(), 1.0))
            if time.monotonic() > deadline:
                raise AssertionError(f"no pod of deployment {namespace}/{name} rollout {rollout} in {timeout}s")
            time.sleep(0.2)
