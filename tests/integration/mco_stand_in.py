"""The Machine Config Operator, played for the sandbox: it needs nodes, which the sandbox has none of.

Follows machine-config-operator's source (pkg/controller/template, render and node), not our reading of the docs:

- **template controller** (template_controller.go): re-syncs when the *data* of ``openshift-config/pull-secret``
  changes (an update that leaves ``data`` alone does nothing; a deletion is not acted on). It refuses a secret of
  another type than ``kubernetes.io/dockerconfigjson`` ("expected secret type ... found ...") and content that
  ``json.Compact`` rejects ("couldn't compact pullsecret %q: ..."): then ControllerConfig
  ``machine-config-controller`` reports ``TemplateControllerFailing=True`` and nothing is rendered. Otherwise the
  compacted JSON (key order and escapes kept, whitespace dropped) plus a newline becomes
  ``/var/lib/kubelet/config.json`` (mode 0600) of the ``00-master`` and ``00-worker`` MachineConfigs.
- **render controller** (render_controller.go, hash.go): ``render_delay`` after a change of the MachineConfigs a
  pool selects (the MCO waits 5 s to batch changes), their files are merged by path in name order into
  ``rendered-<pool>-<md5 of salt and content>`` (content-addressed: the same content gives the same name, so a
  revert goes back to the old name), created when missing, and ``spec.configuration`` points at it.
- **node controller** (node/status.go): machines move to the new config ``maxUnavailable`` (1) at a time, each
  taking ``node_delay``; the status counts updated, ready, unavailable and degraded machines and sets ``Updated``,
  ``Updating``, ``NodeDegraded``, ``PinnedImageSetsDegraded``, ``ImageBuildDegraded``, ``RenderDegraded`` and
  ``Degraded`` as calculateStatus does; ``status.configuration`` follows the spec once every machine is updated. A
  paused pool reports "Pool is paused; will not update to ..." and starts no machine. Degradations are set with
  :meth:`MachineConfigOperator.degrade`.

Pools are read from the cluster each pass (``create_pool`` adds a custom one), so any set of pools and machine
counts can be played.

- **machine-config daemon** (daemon/update.go), for the sandbox's one real node when a :class:`NodeDaemon` is
  given: the node is the first machine of the pool whose ``nodeSelector`` matches it (it gets the
  ``node-role.kubernetes.io/worker`` label, as OpenShift's workers have). When that machine moves to a rendered
  config, the daemon writes the config's files under ``/var/lib/kubelet/`` into the kubelet's root directory,
  atomically (a temporary file renamed over the old one) with the config's mode, and sets the node's
  ``currentConfig``/``desiredConfig``/``state`` annotations. A change of the pull secret alone needs no drain and
  no reboot (the MCO's built-in node disruption policy for that file), so the kubelet is not restarted: it reads
  the new file the next time its credential cache expires.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__:
    from .sandbox_support import MCP_PATH, PULL_SECRET_PATH, Kube, KubeTestError, _Controller, _ensure, _now
else:  # imported by the sandbox launcher, which has tests/integration on sys.path
    from sandbox_support import (  # type: ignore[no-redef]
        MCP_PATH,
        PULL_SECRET_PATH,
        Kube,
        KubeTestError,
        _Controller,
        _ensure,
        _now,
    )

MCO_API = "/apis/machineconfiguration.openshift.io/v1"
MC_PATH = f"{MCO_API}/machineconfigs"
CONTROLLER_CONFIG_PATH = f"{MCO_API}/controllerconfigs/machine-config-controller"
MACHINE_CONFIGURATION_PATH = "/apis/operator.openshift.io/v1/machineconfigurations/cluster"
INFRASTRUCTURE_PATH = "/apis/config.openshift.io/v1/infrastructures/cluster"
ROLE_LABEL = "machineconfiguration.openshift.io/role"
AUTH_FILE = "/var/lib/kubelet/config.json"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
CONTROLLER_VERSION = "sandbox-mco-stand-in"
DEFAULT_MACHINES = {"master": 3, "worker": 2}
_TEMPLATE_ROLES = ("master", "worker")
# A fixed salt, as the MCO's hash.go has one: names are stable across runs.
_RENDER_SALT = b"openshift_ops.images sandbox render salt"


# --- the template controller's pure part ------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def go_json_compact(raw: bytes) -> bytes:
    """encoding/json.Compact: insignificant whitespace removed, everything else (key order, escapes, duplicate keys)
    exactly as written. ValueError for what Go's decoder rejects."""
    text = raw.decode("utf-8")
    json.loads(text, parse_constant=_reject_constant)  # validates (Go rejects NaN and Infinity too)
    out: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif char not in " \t\r\n":
            out.append(char)
    return "".join(out).encode("utf-8")


def template_file_contents(secret: Mapping[str, Any] | None) -> tuple[bytes | None, str | None]:
    """(contents of /var/lib/kubelet/config.json, None) as the template controller renders ``secret``, or
    (None, error) when it refuses the secret. None, None: no secret (a deletion is not acted on)."""
    if secret is None:
        return None, None
    secret_type = secret.get("type") or "Opaque"
    if secret_type != DOCKERCONFIGJSON:
        return None, f"expected secret type {DOCKERCONFIGJSON} found {secret_type}"
    raw = base64.b64decode((secret.get("data") or {}).get(".dockerconfigjson", ""))
    try:
        compacted = go_json_compact(raw)
    except ValueError as error:
        message = str(error) if raw else "unexpected end of JSON input"
        quoted = json.dumps(raw.decode("utf-8", "replace"))
        return None, f"couldn't compact pullsecret {quoted}: {message}"
    # templates/common/_base/files/pull-secret.yaml: `inline: |` followed by the compacted JSON
    return compacted + b"\n", None


def _ignition_file(path: str, contents: bytes, mode: int) -> dict[str, Any]:
    source = "data:;base64," + base64.b64encode(contents).decode()
    return {"path": path, "mode": mode, "overwrite": True, "contents": {"source": source, "compression": ""}}


def template_machine_config(role: str, auth_file: bytes) -> dict[str, Any]:
    """``00-<role>`` with the pull secret file (the real one carries many more files; they play no part here)."""
    return {
        "apiVersion": "machineconfiguration.openshift.io/v1",
        "kind": "MachineConfig",
        "metadata": {
            "name": f"00-{role}",
            "labels": {ROLE_LABEL: role},
            "annotations": {"machineconfiguration.openshift.io/generated-by-controller-version": CONTROLLER_VERSION},
        },
        "spec": {
            "config": {
                "ignition": {"version": "3.5.0"},
                "storage": {
                    "files": [
                        _ignition_file("/etc/mco/sandbox-role", role.encode() + b"\n", 0o644),
                        _ignition_file(AUTH_FILE, auth_file, 0o600),
                    ]
                },
            }
        },
    }


# --- the render controller's pure part --------------------------------------------------------------------------------


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def selected_machine_configs(pool: Mapping[str, Any], machine_configs: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The non-rendered MachineConfigs a pool's ``machineConfigSelector`` picks, by name."""
    selector = pool["spec"].get("machineConfigSelector") or {}
    picked = [
        mc
        for mc in machine_configs
        if not mc["metadata"]["name"].startswith("rendered-")
        and _selector_matches(selector, mc["metadata"].get("labels") or {})
    ]
    return sorted(picked, key=lambda mc: mc["metadata"]["name"])


def rendered_machine_config(pool_name: str, sources: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The merge of ``sources`` (files by path, the later name wins), named by a hash of its content."""
    files: dict[str, dict[str, Any]] = {}
    for mc in sources:
        for entry in ((mc["spec"].get("config") or {}).get("storage") or {}).get("files") or []:
            files[entry["path"]] = copy.deepcopy(entry)
    spec = {"config": {"ignition": {"version": "3.5.0"}, "storage": {"files": [files[p] for p in sorted(files)]}}}
    digest = hashlib.md5(_RENDER_SALT + json.dumps(spec, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
    return {
        "apiVersion": "machineconfiguration.openshift.io/v1",
        "kind": "MachineConfig",
        "metadata": {
            "name": f"rendered-{pool_name}-{digest}",
            "annotations": {"machineconfiguration.openshift.io/generated-by-controller-version": CONTROLLER_VERSION},
        },
        "spec": spec,
    }


def configuration_source(sources: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    return [
        {"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "MachineConfig", "name": mc["metadata"]["name"]}
        for mc in sources
    ]


# --- the node controller's pure part ----------------------------------------------------------------------------------


@dataclass
class Degradation:
    """A degraded condition the stand-in reports for a pool, with the machines it affects."""

    condition: str
    message: str
    machines: int = 1


@dataclass
class PoolMachines:
    """The machines of one pool: the config each is on, and since when the updating ones have been updating."""

    configs: list[str]
    updating_since: dict[int, float] = field(default_factory=dict)


def _condition(kind: str, value: bool, message: str = "", reason: str = "") -> dict[str, str]:
    return {
        "type": kind,
        "status": "True" if value else "False",
        "lastTransitionTime": _now(),
        "reason": reason,
        "message": message,
    }


def pool_status(
    pool: Mapping[str, Any],
    machines: PoolMachines,
    degradations: Iterable[Degradation] = (),
    *,
    render_failure: str | None = None,
) -> dict[str, Any]:
    """The status the node controller computes (calculateStatus) from the machines' states."""
    target = pool["spec"].get("configuration", {}).get("name", "")
    previous = pool.get("status") or {}
    total = len(machines.configs)
    degradations = list(degradations)
    node_degraded = [d for d in degradations if d.condition == "NodeDegraded"]
    degraded_machines = min(total, sum(d.machines for d in node_degraded))
    updating = len(machines.updating_since)
    updated = sum(
        1 for index, config in enumerate(machines.configs) if config == target and index not in machines.updating_since
    )
    unavailable = min(total, updating + degraded_machines)
    ready = total - unavailable
    all_updated = updated == total and ready == total and unavailable == 0
    configuration = previous.get("configuration") or {}
    if all_updated:
        configuration = copy.deepcopy(pool["spec"].get("configuration") or {})
    by_kind = {d.condition: d.message for d in degradations}
    conditions = [_condition("Updated", all_updated, f"All nodes are updated with {target}" if all_updated else "")]
    if all_updated:
        conditions.append(_condition("Updating", False))
    elif pool["spec"].get("paused"):
        conditions.append(_condition("Updating", False, f"Pool is paused; will not update to {target}"))
    else:
        conditions.append(_condition("Updating", True, f"All nodes are updating to {target}"))
    conditions.append(
        _condition(
            "NodeDegraded",
            bool(node_degraded),
            ", ".join(d.message for d in node_degraded),
            f"{degraded_machines} nodes are reporting degraded status on sync" if node_degraded else "",
        )
    )
    render_message = render_failure or by_kind.get("RenderDegraded")
    conditions.append(_condition("RenderDegraded", render_message is not None, render_message or ""))
    for kind in ("PinnedImageSetsDegraded", "ImageBuildDegraded"):
        conditions.append(_condition(kind, kind in by_kind, by_kind.get(kind, "")))
    degraded = bool(node_degraded) or any(c["status"] == "True" for c in conditions[3:])
    conditions.append(_condition("Degraded", degraded, ", ".join(d.message for d in node_degraded)))
    _keep_transition_times(conditions, previous.get("conditions") or [])
    return {
        "observedGeneration": pool["metadata"].get("generation", 1),
        "configuration": configuration,
        "machineCount": total,
        "updatedMachineCount": updated,
        "readyMachineCount": ready,
        "unavailableMachineCount": unavailable,
        "degradedMachineCount": degraded_machines,
        "conditions": conditions,
    }


def _keep_transition_times(conditions: list[dict[str, str]], previous: list[Mapping[str, Any]]) -> None:
    before = {c.get("type"): c for c in previous}
    for condition in conditions:
        old = before.get(condition["type"])
        if old is not None and old.get("status") == condition["status"] and old.get("lastTransitionTime"):
            condition["lastTransitionTime"] = old["lastTransitionTime"]


def _same_status(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# --- seeding ----------------------------------------------------------------------------------------------------------


def _pool_object(name: str, roles: Iterable[str]) -> dict[str, Any]:
    roles = list(roles)
    selector: dict[str, Any] = (
        {"matchLabels": {ROLE_LABEL: roles[0]}}
        if len(roles) == 1
        else {"matchExpressions": [{"key": ROLE_LABEL, "operator": "In", "values": roles}]}
    )
    return {
        "apiVersion": "machineconfiguration.openshift.io/v1",
        "kind": "MachineConfigPool",
        "metadata": {
            "name": name,
            "labels": {f"pools.operator.machineconfiguration.openshift.io/{name}": ""},
        },
        "spec": {
            "configuration": {"name": ""},
            "machineConfigSelector": selector,
            "nodeSelector": {"matchLabels": {f"node-role.kubernetes.io/{name}": ""}},
            "maxUnavailable": 1,
            "paused": False,
        },
    }


def _set_status(kube: Kube, path: str, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["status"] = status
    return kube.replace(f"{path}/status", obj)


def _controller_config_status(generation: int, failure: str | None) -> dict[str, Any]:
    reason = f"towards ({generation}) generation using controller version {CONTROLLER_VERSION}"
    return {
        "observedGeneration": generation,
        "conditions": [
            _condition("TemplateControllerRunning", False),
            _condition("TemplateControllerCompleted", failure is None, "" if failure else f"sync completed {reason}"),
            _condition(
                "TemplateControllerFailing",
                failure is not None,
                f"failed to syncing {reason}: {failure}" if failure else "",
            ),
        ],
    }


def render_pool_now(kube: Kube, name: str, *, machines: int | None = None) -> dict[str, Any]:
    """Render the pool from the current MachineConfigs and mark every machine updated on it at once (a cluster
    that converged before the test)."""
    pool = kube.get(f"{MCP_PATH}/{name}")
    sources = selected_machine_configs(pool, kube.get(MC_PATH)["items"])
    rendered = rendered_machine_config(name, sources)
    _ensure(kube, MC_PATH, rendered, reset=False)
    pool["spec"]["configuration"] = {"name": rendered["metadata"]["name"], "source": configuration_source(sources)}
    pool = kube.replace(f"{MCP_PATH}/{name}", pool)
    count = machines if machines is not None else (pool.get("status") or {}).get("machineCount")
    if not isinstance(count, int):
        count = DEFAULT_MACHINES.get(name, 2)
    machines = PoolMachines([rendered["metadata"]["name"]] * count)
    return _set_status(kube, f"{MCP_PATH}/{name}", pool, pool_status(pool, machines))


def sync_templates_now(kube: Kube, *, failure_after_read: str | None = None) -> str | None:
    """One template controller sync of the current pull secret; returns the failure, if any.

    ``failure_after_read`` plays a failure of a later step of the sync (merging the internal release image
    credentials, generating the templates, applying the MachineConfigs), which fails the same way."""
    contents, failure = template_file_contents(kube.get(PULL_SECRET_PATH))
    if failure is None and failure_after_read is not None:
        contents, failure = None, failure_after_read
    if contents is not None:
        for role in _TEMPLATE_ROLES:
            _ensure(kube, MC_PATH, template_machine_config(role, contents), reset=True)
    controller = kube.get(CONTROLLER_CONFIG_PATH)
    if controller is not None and (contents is not None or failure is not None):
        status = _controller_config_status(controller["metadata"].get("generation", 1), failure)
        _keep_transition_times(status["conditions"], (controller.get("status") or {}).get("conditions") or [])
        _set_status(kube, CONTROLLER_CONFIG_PATH, controller, status)
    return failure


def create_pool(kube: Kube, name: str, *, machines: int, roles: Iterable[str] | None = None) -> dict[str, Any]:
    """A custom pool (for example ``infra``, selecting the worker and its own MachineConfigs), rendered and fully
    updated. Delete it with ``kube.delete(f"{MCP_PATH}/{name}")``."""
    _ensure(kube, MCP_PATH, _pool_object(name, roles or ["worker", name]), reset=True)
    return render_pool_now(kube, name, machines=machines)


def seed_machine_config_operator(kube: Kube, *, reset: bool) -> None:
    """What the MCO and the installer leave on a converged cluster: ControllerConfig, 00-<role> MachineConfigs from
    the pull secret, the pools master (3 machines) and worker (2) on their rendered configs, MachineConfiguration
    ``cluster`` with the default node disruption policy for the pull secret file, and Infrastructure ``cluster``."""
    controller = {
        "apiVersion": "machineconfiguration.openshift.io/v1",
        "kind": "ControllerConfig",
        "metadata": {"name": "machine-config-controller"},
        "spec": {"pullSecret": {"namespace": "openshift-config", "name": "pull-secret"}},
    }
    created = _ensure(kube, f"{MCO_API}/controllerconfigs", controller, reset=reset)
    if reset or not created.get("status"):
        _set_status(kube, CONTROLLER_CONFIG_PATH, created, {"conditions": []})
    sync_templates_now(kube)
    for name, count in DEFAULT_MACHINES.items():
        pool = _ensure(kube, MCP_PATH, _pool_object(name, [name]), reset=reset)
        if reset or not (pool.get("status") or {}).get("configuration"):
            render_pool_now(kube, name, machines=count)
    operator = {
        "apiVersion": "operator.openshift.io/v1",
        "kind": "MachineConfiguration",
        "metadata": {"name": "cluster"},
        "spec": {"managementState": "Managed"},
    }
    stored = _ensure(kube, "/apis/operator.openshift.io/v1/machineconfigurations", operator, reset=reset)
    set_node_disruption_policy(kube, [{"type": "None"}], machine_configuration=stored)
    infrastructure = {
        "apiVersion": "config.openshift.io/v1",
        "kind": "Infrastructure",
        "metadata": {"name": "cluster"},
        "spec": {"platformSpec": {"type": "None"}},
    }
    stored = _ensure(kube, "/apis/config.openshift.io/v1/infrastructures", infrastructure, reset=reset)
    set_control_plane_topology(kube, "HighlyAvailable", infrastructure=stored)


def set_node_disruption_policy(
    kube: Kube, actions: list[dict[str, Any]], *, machine_configuration: dict[str, Any] | None = None
) -> None:
    """The merged policy the MCO reports for /var/lib/kubelet/config.json (its default is ``None``)."""
    current = machine_configuration or kube.get(MACHINE_CONFIGURATION_PATH)
    status = {
        "observedGeneration": current["metadata"].get("generation", 1),
        "nodeDisruptionPolicyStatus": {
            "clusterPolicies": {
                "files": [
                    {"path": AUTH_FILE, "actions": actions},
                    {"path": "/etc/mco/internal-registry-pull-secret.json", "actions": [{"type": "None"}]},
                    {"path": "/var/lib/kubelet/ca.crt", "actions": [{"type": "None"}]},
                ],
                "sshkey": {"actions": [{"type": "None"}]},
            }
        },
    }
    _set_status(kube, MACHINE_CONFIGURATION_PATH, current, status)


def set_control_plane_topology(kube: Kube, topology: str, *, infrastructure: dict[str, Any] | None = None) -> None:
    current = infrastructure or kube.get(INFRASTRUCTURE_PATH)
    status = {
        "controlPlaneTopology": topology,
        "infrastructureTopology": "HighlyAvailable",
        "platform": "None",
        "platformStatus": {"type": "None"},
    }
    _set_status(kube, INFRASTRUCTURE_PATH, current, status)


def pause_pool(kube: Kube, name: str) -> None:
    """``spec.paused: true``: the pool gets new rendered configs but never rolls them out."""
    kube.patch(f"{MCP_PATH}/{name}", {"spec": {"paused": True}})


def unpause_pool(kube: Kube, name: str) -> None:
    kube.patch(f"{MCP_PATH}/{name}", {"spec": {"paused": False}})


# --- the machine-config daemon of the real node -------------------------------------------------------------------

KUBELET_DIR = "/var/lib/kubelet/"
NODE_ANNOTATION = "machineconfiguration.openshift.io/"


def file_contents(entry: Mapping[str, Any]) -> bytes:
    """The bytes of an Ignition file entry (``data:`` URLs, base64 or percent-encoded)."""
    source = (entry.get("contents") or {}).get("source") or "data:,"
    header, _comma, payload = source.partition(",")
    if header.endswith(";base64"):
        return base64.b64decode(payload)
    return urllib.parse.unquote_to_bytes(payload)


@dataclass
class NodeDaemon:
    """The daemon on the sandbox's node: ``root`` is where the node's ``/var/lib/kubelet`` is."""

    kube: Kube
    name: str
    root: Path
    writes: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, rendered config) per update

    @property
    def path(self) -> str:
        return f"/api/v1/nodes/{self.name}"

    def labels(self) -> dict[str, str]:
        return (self.kube.get(self.path) or {}).get("metadata", {}).get("labels") or {}

    def join(self, role: str = "worker") -> None:
        self.kube.patch(self.path, {"metadata": {"labels": {f"node-role.kubernetes.io/{role}": ""}}})

    def apply(self, rendered: Mapping[str, Any]) -> None:
        """Write the rendered config's kubelet files, then report the node done, as the daemon's update does."""
        name = rendered["metadata"]["name"]
        for entry in ((rendered["spec"].get("config") or {}).get("storage") or {}).get("files") or []:
            if entry["path"].startswith(KUBELET_DIR):
                self._write(self.root / entry["path"][len(KUBELET_DIR) :], file_contents(entry), entry.get("mode"))
        annotations = {f"{NODE_ANNOTATION}{key}": name for key in ("currentConfig", "desiredConfig")}
        annotations[f"{NODE_ANNOTATION}state"] = "Done"
        self.kube.patch(self.path, {"metadata": {"annotations": annotations}})
        self.writes.append((time.monotonic(), name))

    @staticmethod
    def _write(target: Path, contents: bytes, mode: int | None) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(contents)
            os.chmod(temporary, mode if mode is not None else 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


# --- the stand-in -----------------------------------------------------------------------------------------------------


class MachineConfigOperator(_Controller):
    """The template, render and node controllers in one loop (see the module docstring).

    On entry every pool is settled on a rendering of the current pull secret (what earlier tests left is rolled
    out at once). ``renders`` counts the pool targets it moved afterwards; ``failures`` the template syncs that
    failed.
    """

    def __init__(
        self,
        kube: Kube,
        *,
        render_delay: float = 0.5,
        node_delay: float = 0.3,
        interval: float = 0.1,
        node: NodeDaemon | None = None,
    ) -> None:
        super().__init__("MachineConfigOperator")
        self.kube = kube
        self.node = node
        self._node_pool: str | None = None
        self.render_delay = render_delay
        self.node_delay = node_delay
        self.interval = interval
        self.renders = 0
        self.failures = 0
        self._degradations: dict[str, list[Degradation]] = {}
        self._degrade_on_rollout: dict[str, list[Degradation]] = {}
        self._machines: dict[str, PoolMachines] = {}
        self._seen_data: Any = None
        self._pending_render: dict[str, float] = {}
        self._render_failures: dict[str, str] = {}
        self._forced_failure: str | None = None

    def degrade(
        self, pool: str, condition: str, message: str, *, machines: int = 1, when_rolling_out: bool = False
    ) -> None:
        """Report ``condition`` (NodeDegraded, PinnedImageSetsDegraded, ImageBuildDegraded, RenderDegraded) on
        ``pool`` from the next pass on, or from the moment its next rollout starts; a NodeDegraded machine stops
        updating, as a real one would."""
        waiting = self._degrade_on_rollout if when_rolling_out else self._degradations
        waiting.setdefault(pool, []).append(Degradation(condition, message, machines))

    def fail_template_syncs(self, message: str) -> None:
        """From now on every template sync fails with ``message`` after reading the secret, as one does when the
        MCO cannot merge the internal release image credentials."""
        self._forced_failure = message

    def __enter__(self) -> MachineConfigOperator:
        failure = sync_templates_now(self.kube)
        secret = self.kube.get(PULL_SECRET_PATH)
        self._seen_data = (secret or {}).get("data")
        if failure is None:
            for pool in self.kube.get(MCP_PATH)["items"]:
                render_pool_now(self.kube, pool["metadata"]["name"])
        for pool in self.kube.get(MCP_PATH)["items"]:
            status = pool.get("status") or {}
            current = (status.get("configuration") or {}).get("name", "")
            self._machines[pool["metadata"]["name"]] = PoolMachines([current] * int(status.get("machineCount") or 0))
        if self.node is not None:
            self._attach_node(self.node)
        super().__enter__()
        return self

    def _attach_node(self, node: NodeDaemon) -> None:
        """The real node joins the worker pool as its first machine, on the config the pool is settled on."""
        node.join()
        labels = node.labels()
        for pool in self.kube.get(MCP_PATH)["items"]:
            if _selector_matches(pool["spec"].get("nodeSelector") or {}, labels) and self._machines.get(
                pool["metadata"]["name"]
            ):
                self._node_pool = pool["metadata"]["name"]
                current = (pool.get("status") or {}).get("configuration", {}).get("name", "")
                if current:
                    node.apply(self.kube.get(f"{MC_PATH}/{current}"))
                return

    def _run(self) -> None:
        while not self._sleep(self.interval):
            self._template_pass()
            machine_configs = self.kube.get(MC_PATH)["items"]
            for pool in self.kube.get(MCP_PATH)["items"]:
                try:
                    self._render_pass(pool, machine_configs)
                    self._node_pass(pool["metadata"]["name"])
                except KubeTestError as error:
                    if error.status not in (404, 409):  # deleted or changed meanwhile: the next pass sees it
                        raise

    # template controller
    def _template_pass(self) -> None:
        secret = self.kube.get(PULL_SECRET_PATH)
        if secret is None:
            return  # deleteSecret does not enqueue the ControllerConfig
        if secret.get("data") == self._seen_data:
            return
        self._seen_data = secret.get("data")
        if sync_templates_now(self.kube, failure_after_read=self._forced_failure) is not None:
            self.failures += 1

    # render controller
    def _render_pass(self, pool: dict[str, Any], machine_configs: list[dict[str, Any]]) -> None:
        name = pool["metadata"]["name"]
        sources = selected_machine_configs(pool, machine_configs)
        if not sources:
            self._render_failures[name] = f"Failed to render configuration for pool {name}: no MachineConfigs found"
            return
        self._render_failures.pop(name, None)
        rendered = rendered_machine_config(name, sources)
        wanted = rendered["metadata"]["name"]
        if pool["spec"].get("configuration", {}).get("name") == wanted:
            self._pending_render.pop(name, None)
            return
        since = self._pending_render.setdefault(name, time.monotonic())
        if time.monotonic() - since < self.render_delay:
            return
        _ensure(self.kube, MC_PATH, rendered, reset=False)
        pool["spec"]["configuration"] = {"name": wanted, "source": configuration_source(sources)}
        self.kube.replace(f"{MCP_PATH}/{name}", pool)
        self._pending_render.pop(name, None)
        self.renders += 1

    # node controller
    def _node_pass(self, name: str) -> None:
        pool = self.kube.get(f"{MCP_PATH}/{name}")
        if pool is None:
            self._machines.pop(name, None)
            return
        status = pool.get("status") or {}
        machines = self._machines.setdefault(
            name,
            PoolMachines([(status.get("configuration") or {}).get("name", "")] * int(status.get("machineCount") or 0)),
        )
        target = pool["spec"].get("configuration", {}).get("name", "")
        now = time.monotonic()
        for index, since in list(machines.updating_since.items()):
            if now - since >= self.node_delay:
                machines.configs[index] = target
                del machines.updating_since[index]
                if index == 0 and name == self._node_pool and self.node is not None:
                    self.node.apply(self.kube.get(f"{MC_PATH}/{target}"))
        degradations = self._degradations.get(name, [])
        blocked = any(d.condition == "NodeDegraded" for d in degradations)
        max_unavailable = int(pool["spec"].get("maxUnavailable") or 1)
        if not pool["spec"].get("paused") and not blocked:
            for index, config in enumerate(machines.configs):
                if len(machines.updating_since) >= max_unavailable:
                    break
                if config != target and index not in machines.updating_since:
                    machines.updating_since[index] = now
                    self._degradations.setdefault(name, []).extend(self._degrade_on_rollout.pop(name, []))
        new = pool_status(pool, machines, degradations, render_failure=self._render_failures.get(name))
        if not _same_status(new, status):
            _set_status(self.kube, f"{MCP_PATH}/{name}", pool, new)
