# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Link secrets to a ServiceAccount and unlink them: the reads and the conflict-safe write around
``_service_accounts/secret_links.py``. Serves the ``secret_link`` module and ``pull_secret``'s
``link_service_accounts``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    ForbiddenError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    secret_path,
    service_account_path,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.read_modify_write import read_modify_write
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import (
    PULL_SECRET_DATA_KEYS,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._service_accounts.secret_links import (
    LinkPlan,
    managed_dockercfg_secret,
    managed_secret_name_prefix,
    managed_secret_ready,
    plan_links,
    service_account_lists,
    unlink_warnings,
)

# The kubelet builds its keyring only from these two types; any other type in imagePullSecrets is ignored (§3.3).
PULL_SECRET_TYPES = tuple(PULL_SECRET_DATA_KEYS)

_POLL_INTERVAL = 1.0


@dataclass(frozen=True)
class LinkOutcome:
    """What happened to one ServiceAccount; ``lists_before``/``lists_after`` hold names only, never secret data."""

    namespace: str
    service_account: str
    changed: bool
    exists: bool
    lists_before: dict[str, list[str]]
    lists_after: dict[str, list[str]]
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    missing_secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_result(self) -> dict[str, Any]:
        return {
            "name": self.service_account,
            "namespace": self.namespace,
            "image_pull_secrets": self.lists_after["imagePullSecrets"],
            "secrets": self.lists_after["secrets"],
        }


def wait_for_service_account(
    client: KubeApi,
    namespace: str,
    name: str,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll until the ServiceAccount exists, OpenShift's controller has listed its managed registry pull secret and
    that secret holds credentials (since 4.16 the secret is linked before its token is written)."""
    deadline = clock() + timeout
    path = service_account_path(namespace, name)
    managed: str | None = None
    while True:
        current = client.get(path, allow_missing=True)
        managed = managed_dockercfg_secret(current) if current is not None else None
        if current is not None and managed is not None:
            try:
                if managed_secret_ready(client.get(secret_path(namespace, managed), allow_missing=True), name):
                    return current
            except ForbiddenError:
                # Without 'get secrets' the link is all that can be seen; it is what `oc` users wait for too.
                return current
        remaining = deadline - clock()
        if remaining <= 0:
            break
        sleep(min(_POLL_INTERVAL, remaining))
    if current is None:
        raise ClusterStateError(
            f"service account {namespace}/{name} did not appear within {timeout:g}s (wait_timeout); create it first "
            "or raise wait_timeout"
        )
    if managed is not None:
        raise ClusterStateError(
            f"service account {namespace}/{name} lists its managed registry pull secret {managed}, but after "
            f"{timeout:g}s (wait_timeout) the secret still holds no credentials; OpenShift's controller writes a "
            "bound service account token into it: check openshift-controller-manager, or raise wait_timeout"
        )
    raise ClusterStateError(
        f"service account {namespace}/{name} exists but OpenShift's controller has not added its managed registry "
        f"pull secret ({managed_secret_name_prefix(name)}*) to imagePullSecrets after {timeout:g}s (wait_timeout). "
        "It never does on clusters without the integrated image registry (ImageRegistry capability disabled) or on "
        "plain Kubernetes: set wait_for_service_account: false there"
    )


def _check_secrets(client: KubeApi, namespace: str, names: Sequence[str], purposes: Sequence[str]) -> tuple[list, list]:
    """Return (missing names, warnings about secrets the kubelet would ignore)."""
    missing: list[str] = []
    warnings: list[str] = []
    for name in names:
        secret = client.get(secret_path(namespace, name), allow_missing=True)
        if secret is None:
            missing.append(name)
        elif "pull" in purposes and secret.get("type") not in PULL_SECRET_TYPES:
            warnings.append(
                f"secret {namespace}/{name} has type {secret.get('type') or 'Opaque'}; the kubelet ignores it for "
                "pulls (only kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg are read)"
            )
    return missing, warnings


def link_secrets(
    client: KubeApi,
    *,
    namespace: str,
    service_account: str,
    names: Sequence[str],
    purposes: Sequence[str],
    state: str = "present",
    allow_missing: bool = False,
    wait: bool = False,
    wait_timeout: float = 120.0,
    check_mode: bool = False,
    check_secrets: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> LinkOutcome:
    """Add or remove ``names`` in the ServiceAccount's lists of ``purposes``; PUT with resourceVersion, retry on 409.

    ``check_secrets=False`` skips reading the secrets (the caller has just written the one it links).
    """
    warnings: list[str] = []
    missing: list[str] = []
    if state == "present" and check_secrets:
        missing, type_warnings = _check_secrets(client, namespace, names, purposes)
        warnings.extend(type_warnings)
        if missing and not allow_missing:
            listed = ", ".join(f"{namespace}/{name}" for name in missing)
            subject = f"secret {listed} does not exist" if len(missing) == 1 else f"secrets {listed} do not exist"
            raise ClusterStateError(
                f"{subject}; create it first (for example with openshift_ops.images.pull_secret) or set "
                "allow_missing: true to link it anyway"
            )
        for name in missing:
            warnings.append(f"secret {namespace}/{name} does not exist yet; pulls ignore it until it is created")

    if wait and state == "present":
        if check_mode:
            # Waiting is for a real run; in check mode predict from what exists now.
            if client.get(service_account_path(namespace, service_account), allow_missing=True) is None:
                warnings.append(
                    f"service account {namespace}/{service_account} does not exist yet; check mode did not wait for it"
                )
                plan = plan_links({"metadata": {"name": service_account}}, names, purposes, state=state)
                return LinkOutcome(
                    namespace=namespace,
                    service_account=service_account,
                    changed=plan.changed,
                    exists=False,
                    lists_before=service_account_lists(None),
                    lists_after=service_account_lists(plan.service_account or {}),
                    added=plan.added,
                    missing_secrets=missing,
                    warnings=warnings,
                )
        else:
            wait_for_service_account(client, namespace, service_account, timeout=wait_timeout, sleep=sleep, clock=clock)

    def decide(current: dict[str, Any] | None) -> LinkPlan:
        if current is None:
            if state == "absent":
                return LinkPlan(service_account=None)
            raise ClusterStateError(
                f"service account {namespace}/{service_account} does not exist; create it first or set "
                "wait_for_service_account: true to wait until it exists"
            )
        return plan_links(current, names, purposes, state=state)

    path = service_account_path(namespace, service_account)
    outcome = read_modify_write(client, path, decide, check_mode=check_mode)
    links = outcome.plan or LinkPlan(service_account=None)
    if outcome.before is None:
        warnings.append(f"service account {namespace}/{service_account} does not exist; nothing to unlink")
    else:
        warnings.extend(unlink_warnings(outcome.before, links.removed))
    return LinkOutcome(
        namespace=namespace,
        service_account=service_account,
        changed=bool(outcome.changed),
        exists=outcome.before is not None,
        lists_before=service_account_lists(outcome.before),
        lists_after=service_account_lists(outcome.after if outcome.after is not None else outcome.before),
        added=links.added,
        removed=links.removed,
        missing_secrets=missing,
        warnings=warnings,
    )
