# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``image_pull_access_info`` held against a real kubelet: for each case the module predicts whether the pod's
image will pull (and which warnings the kubelet gives), then the pod runs on the sandbox's node and the kubelet's
outcome (container status, events) is compared. Every disagreement is a bug in the module.

Each case's prediction and outcome is appended to ``.sandbox/logs/pull-table.jsonl``; docs/pull_diagnostics.md shows
the table from such a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64
from ansible_collections.openshift_ops.images.tests.unit.support.kube_names import secret_path

from .node_support import Node, missed_secret_names
from .sandbox_support import Kube, ModuleRunner, Sandbox, assert_ok

WRONG_PASSWORD = "not-the-password"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"


@dataclass(frozen=True)
class Setup:
    """Where the case's image is and what credentials it is given."""

    sandbox: Sandbox
    kube: Kube
    namespace: str

    @property
    def basic(self) -> str:
        return self.sandbox.registry

    @property
    def token(self) -> str:
        return self.sandbox.token_registry

    def secret(self, name: str, keys: dict[str, bool], *, secret_type: str = DOCKERCONFIGJSON) -> None:
        """A pull secret with one entry per key; True: the right password, False: a wrong one."""
        auths = {key: self.entry(good) for key, good in keys.items()}
        if secret_type == "kubernetes.io/dockercfg":
            data = {".dockercfg": b64(json.dumps(auths))}
        else:
            data = {".dockerconfigjson": b64(json.dumps({"auths": auths}))}
        self._create(name, secret_type, data)

    def raw_secret(self, name: str, secret_type: str, data: dict[str, str]) -> None:
        self._create(name, secret_type, {key: b64(value) for key, value in data.items()})

    def link(self, *names: str, service_account: str = "default") -> None:
        path = f"/api/v1/namespaces/{self.namespace}/serviceaccounts/{service_account}"

        def add(account: dict[str, Any]) -> bool:
            account["imagePullSecrets"] = [*account.get("imagePullSecrets", []), *({"name": n} for n in names)]
            return True

        self.kube.update_with_retry(path, add)

    def entry(self, good: bool) -> dict[str, str]:
        password = self.sandbox.registry_password if good else WRONG_PASSWORD
        user = self.sandbox.registry_user
        return {"username": user, "password": password, "auth": b64(f"{user}:{password}")}

    def _create(self, name: str, secret_type: str, data: dict[str, str]) -> None:
        body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": secret_type, "data": data}
        self.kube.create(f"/api/v1/namespaces/{self.namespace}/secrets", body)


@dataclass(frozen=True)
class Case:
    id: str
    what: str
    arrange: Callable[[Setup], None]
    pod_secrets: tuple[str, ...] | None = None  # None: the pod lists none (it gets the service account's)
    registry: str = "basic"
    pull_policy: str = "Always"
    before: tuple[str, ...] | None = field(default=None)  # a pod with these secrets pulls the image first


def _nothing(setup: Setup) -> None:
    pass


CASES = [
    Case("pod-secret", "the pod's own pull secret", lambda s: s.secret("good", {s.basic: True}), ("good",)),
    Case(
        "sa-secret",
        "the service account's pull secret (the pod lists none)",
        lambda s: (s.secret("good", {s.basic: True}), s.link("good")),
    ),
    Case(
        "pod-list-wins",
        "the pod lists a wrong secret, the service account has the right one",
        lambda s: (s.secret("good", {s.basic: True}), s.link("good"), s.secret("wrong", {s.basic: False})),
        ("wrong",),
    ),
    Case("no-secret", "no pull secret anywhere, no node credentials", _nothing),
    Case(
        "wrong-then-right",
        "two secrets for one registry, a wrong password first and the right one second",
        lambda s: (s.secret("a-wrong", {s.basic: False}), s.secret("b-good", {s.basic: True})),
        ("a-wrong", "b-good"),
    ),
    Case(
        "path-key-beside-host-key",
        "a right path-scoped key REGISTRY/sandbox/app beside a wrong host key",
        lambda s: s.secret("mixed", {s.basic: False, f"{s.basic}/sandbox/app": True}),
        ("mixed",),
    ),
    Case(
        "path-key-other-repository",
        "a right key scoped to another repository beside a wrong host key",
        lambda s: s.secret("mixed", {s.basic: False, f"{s.basic}/sandbox/other": True}),
        ("mixed",),
    ),
    Case(
        "path-prefix-key",
        "a right key scoped to the parent path REGISTRY/sandbox",
        lambda s: s.secret("prefix", {f"{s.basic}/sandbox": True}),
        ("prefix",),
    ),
    Case(
        "key-without-port",
        "a right key 127.0.0.1 without the registry's port",
        lambda s: s.secret("no-port", {"127.0.0.1": True}),
        ("no-port",),
    ),
    Case(
        "key-with-scheme",
        "a right key written https://REGISTRY",
        lambda s: s.secret("scheme", {f"https://{s.basic}": True}),
        ("scheme",),
    ),
    Case("missing-secret", "the pod lists a secret that does not exist", _nothing, ("absent",)),
    Case(
        "missing-then-right",
        "a missing secret, then the right one",
        lambda s: s.secret("good", {s.basic: True}),
        ("absent", "good"),
    ),
    Case(
        "ignored-type",
        "the right credentials in an Opaque secret (a type the kubelet ignores)",
        lambda s: s.raw_secret(
            "opaque",
            "Opaque",
            {".dockerconfigjson": json.dumps({"auths": {s.basic: s.entry(True)}})},
        ),
        ("opaque",),
    ),
    Case(
        "unparsable-beside-right",
        "a dockerconfigjson secret whose auth is not base64, beside the right secret",
        lambda s: (
            s.raw_secret(
                "broken",
                "kubernetes.io/dockerconfigjson",
                {".dockerconfigjson": json.dumps({"auths": {s.basic: {"auth": "%%%not-base64%%%"}}})},
            ),
            s.secret("good", {s.basic: True}),
        ),
        ("broken", "good"),
    ),
    Case(
        "legacy-dockercfg",
        "the right credentials in a legacy kubernetes.io/dockercfg secret",
        lambda s: s.secret("legacy", {s.basic: True}, secret_type="kubernetes.io/dockercfg"),
        ("legacy",),
    ),
    Case(
        "token-registry",
        "the right secret for a bearer-token registry",
        lambda s: s.secret("good", {s.token: True}),
        ("good",),
        registry="token",
    ),
    Case(
        "token-registry-wrong",
        "a wrong password for a bearer-token registry",
        lambda s: s.secret("wrong", {s.token: False}),
        ("wrong",),
        registry="token",
    ),
    Case(
        "pulled-before-with-a-secret",
        "IfNotPresent, no secret, after another pod pulled the image with one",
        lambda s: s.secret("good", {s.basic: True}),
        (),
        pull_policy="IfNotPresent",
        before=("good",),
    ),
]


def _prediction(result: dict[str, Any]) -> dict[str, Any]:
    """What the module says the kubelet will do: pull or not, and the warnings it will give."""
    unparsable = any(secret["status"] == "unparsable" for secret in result["pull_secrets"])
    accepted = [c for c in result["candidates"] if c.get("check", {}).get("outcome") in ("accepted", "anonymous")]
    missing = {
        secret["name"]
        for secret in result["pull_secrets"]
        if secret["status"] == "missing"
        and any(f"/{secret['name']}, listed in" in problem["problem"] for problem in result["problems"])
    }
    return {
        "pulls": bool(accepted) and not unparsable,
        "credential": f"{accepted[0]['secret']} key {accepted[0]['key']}" if accepted and not unparsable else None,
        "warns_missing_secret": sorted(missing),
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_prediction_matches_the_kubelet(case: Case, sandbox: Sandbox, kube: Kube, namespace: str) -> None:
    node = Node(sandbox, kube)
    assert node.name, "the sandbox has no node (SANDBOX_NODE=0)"
    setup = Setup(sandbox, kube, namespace)
    case.arrange(setup)
    image = node.image(setup.basic if case.registry == "basic" else setup.token)
    if case.before is not None:
        node.run_pod(namespace, "before", image, pull_secrets=case.before, pull_policy=case.pull_policy)
        assert node.outcome(namespace, "before").running

    pod_spec: dict[str, Any] = {"containers": [{"name": "app", "image": image}]}
    if case.pod_secrets is not None:
        pod_spec["imagePullSecrets"] = [{"name": name} for name in case.pod_secrets]
    result = assert_ok(
        ModuleRunner(sandbox)(
            "image_pull_access_info",
            {
                "namespace": namespace,
                "image": image,
                "pod": {"spec": pod_spec},
                "check_credentials": True,
                "registry_ca_cert": sandbox.registry_ca,
            },
        )
    )
    predicted = _prediction(result)

    node.run_pod(namespace, "app", image, pull_secrets=case.pod_secrets, pull_policy=case.pull_policy)
    outcome = node.outcome(namespace, "app")
    # Only secrets that really do not exist count: the kubelet may also miss an existing one for a moment (see
    # Node.outcome), which no diagnosis can predict; such a case is marked in the table.
    warned = missed_secret_names(outcome.events)
    observed = {
        "pulls": outcome.running,
        "warns_missing_secret": sorted(name for name in warned if not kube.get(secret_path(namespace, name))),
        "transient_secret_miss": outcome.transient_secret_miss,
        "reason": outcome.reason,
        "message": outcome.message.split(": ")[-1] if outcome.message else "",
    }
    row = {"case": case.id, "what": case.what, "predicted": predicted, "kubelet": observed}
    with (Path(sandbox.state_dir) / "logs" / "pull-table.jsonl").open("a", encoding="utf-8") as table:
        table.write(json.dumps(row) + "\n")
    assert predicted["pulls"] == observed["pulls"], row
    assert predicted["warns_missing_secret"] == observed["warns_missing_secret"], row
