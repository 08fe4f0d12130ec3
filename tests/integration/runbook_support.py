# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the runbook tests share (``test_runbooks.py``, ``test_ansible_runner.py``): fresh projects with OpenShift's
roles granted to sandbox-user, the collection's writes in the audit log, the play recap, access reviews, and the
lock around the cluster's global pull secret."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .sandbox_support import AuditLog, AuditMark, Kube, Sandbox, seed, wait_for_project_setup

USER = "sandbox-user"
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def runbook_play(name: str) -> str:
    """A playbook that runs the installed collection's runbook, as a user's project would."""
    return f"- ansible.builtin.import_playbook: openshift_ops.images.{name}\n"


def recap(completed: subprocess.CompletedProcess[str], host: str = "localhost") -> dict[str, int]:
    """The PLAY RECAP counts of ``host``."""
    for match in RECAP.finditer(completed.stdout):
        if match["host"] == host:
            return {key: int(match[key]) for key in ("ok", "changed", "unreachable", "failed")}
    raise AssertionError(f"no PLAY RECAP line for {host}:\n{completed.stdout[-3000:]}\n{completed.stderr[-2000:]}")


def succeeded(completed: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The recap of a run that must have succeeded (its output shows when it did not)."""
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    counts = recap(completed)
    assert counts["failed"] == 0, completed.stdout[-6000:]
    return counts


def collection_writes(
    audit: AuditLog, mark: AuditMark, *, resource: str | None = None, namespace: str | None = None
) -> list[tuple[str, str, str | None, str | None]]:
    """(verb, resource, namespace, name) of every write the collection sent after ``mark`` (by its User-Agent);
    access reviews are left out (they are POSTs that change nothing)."""
    return [
        (
            event["verb"],
            event["objectRef"]["resource"],
            event["objectRef"].get("namespace"),
            event["objectRef"].get("name"),
        )
        for event in audit.writes(since=mark, resource=resource, namespace=namespace)
        if str(event.get("userAgent", "")).startswith("openshift_ops.images")
        and not event["objectRef"]["resource"].endswith("subjectaccessreviews")
    ]


class Projects:
    """Fresh namespaces set up by OpenShift's controllers, deleted at the end of the test."""

    def __init__(self, kube: Kube, label: str) -> None:
        self.kube = kube
        self.label = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")[:24].strip("-")
        self.created: list[str] = []

    def new(self, role: str) -> str:
        name = f"rb-{self.label}-{role}-{secrets.token_hex(3)}"
        self.kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        self.created.append(name)
        wait_for_project_setup(self.kube, name)
        return name

    def grant(self, namespace: str, role: str, user: str = USER) -> None:
        """OpenShift's ``role`` for ``user`` in ``namespace``, as ``oc adm policy add-role-to-user`` gives it."""
        self.kube.create(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": f"test-{role.replace(':', '-')}-{secrets.token_hex(3)}"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
            },
        )

    def delete_all(self) -> None:
        for name in self.created:
            self.kube.delete(f"/api/v1/namespaces/{name}")


def sa_groups(namespace: str) -> list[str]:
    return ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]


def can_pull(kube: Kube, namespace: str, user: str, groups: list[str]) -> bool:
    """The authorizer's answer for pulling from ``namespace`` (get imagestreams/layers), as the kubelet asks it."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": user,
            "groups": groups,
            "resourceAttributes": {
                "namespace": namespace,
                "verb": "get",
                "group": "image.openshift.io",
                "resource": "imagestreams",
                "subresource": "layers",
            },
        },
    }
    answer = kube.create("/apis/authorization.k8s.io/v1/subjectaccessreviews", review)
    return bool(answer["status"].get("allowed"))


def image_pull_secrets(kube: Kube, namespace: str, service_account: str) -> list[str]:
    sa = kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}") or {}
    return [entry["name"] for entry in sa.get("imagePullSecrets") or []]


@contextlib.contextmanager
def global_pull_secret_held(sandbox: Sandbox, kube: Kube) -> Iterator[None]:
    """The cluster's global pull secret and pools for this block alone (the lock test_global_pull_secret.py takes),
    put back as seeded afterwards."""
    with open(Path(sandbox.kubeconfig).parent / "global-pull-secret.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            seed(kube, reset=True)
            fcntl.flock(lock, fcntl.LOCK_UN)


def stored_auths(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    """The ``auths`` of a dockerconfigjson Secret as stored."""
    secret = kube.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")
    assert secret is not None, f"{namespace}/{name} is missing"
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
