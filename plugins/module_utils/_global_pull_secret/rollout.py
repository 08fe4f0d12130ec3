# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a global pull secret change reaches the nodes, read the way the Machine Config Operator reports it.

The MCO's template controller compacts ``.dockerconfigjson`` into ``/var/lib/kubelet/config.json`` of the
``00-<role>`` MachineConfigs (or reports ``TemplateControllerFailing`` on its ControllerConfig and renders nothing);
the render controller merges each pool's MachineConfigs into ``rendered-<pool>-<hash of the content>`` and points
``spec.configuration.name`` at it; the node controller moves the machines over ``maxUnavailable`` at a time.

A pool has the change when the rendered config it targets holds this task's entries in that file: by content, not
by a change of name, which a quick revert (same content, same name) or another writer's change would fool. Pure
evaluation functions, and a wait loop that takes the API client, the clock and the sleep function as arguments so
it can be driven without a cluster.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    KubeConnectionError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
)

_MCO_API = "/apis/machineconfiguration.openshift.io/v1"
POOLS_PATH = f"{_MCO_API}/machineconfigpools"
MACHINE_CONFIGS_PATH = f"{_MCO_API}/machineconfigs"
# The one ControllerConfig the MCO keeps (ctrlcommon.ControllerConfigName); its template controller renders the pull
# secret into the 00-<role> MachineConfigs and reports here when it cannot.
CONTROLLER_CONFIG_PATH = f"{_MCO_API}/controllerconfigs/machine-config-controller"
# MachineConfiguration "cluster": its status carries the node disruption policy the daemons apply (defaults merged
# with the user's spec.nodeDisruptionPolicy).
MACHINE_CONFIGURATION_PATH = "/apis/operator.openshift.io/v1/machineconfigurations/cluster"
INFRASTRUCTURE_PATH = "/apis/config.openshift.io/v1/infrastructures/cluster"
KUBELET_AUTH_FILE = "/var/lib/kubelet/config.json"

# A True in any of these stops the rollout; the more specific ones come first, as they carry the useful message.
_DEGRADED_CONDITIONS = (
    "RenderDegraded",
    "NodeDegraded",
    "PinnedImageSetsDegraded",
    "ImageBuildDegraded",
    "Degraded",
)


class PoolPhase(StrEnum):
    RENDERING = "rendering"  # the pool's rendered config does not hold the change yet
    UPDATING = "updating"  # it does; machines not all on it yet
    DONE = "done"
    PAUSED = "paused"  # spec.paused: the pool never rolls out until someone unpauses it
    DEGRADED = "degraded"
    GONE = "gone"  # the pool was deleted while we waited: nothing left to roll out


_FINISHED = frozenset({PoolPhase.DONE, PoolPhase.GONE})
_FAILED = frozenset({PoolPhase.PAUSED, PoolPhase.DEGRADED})


@dataclass(frozen=True)
class PoolStatus:
    """One pool's progress towards a rendered config that holds the new pull secret entries."""

    name: str
    before: str
    after: str
    machine_count: int
    updated_machine_count: int
    ready_machine_count: int
    unavailable_machine_count: int
    degraded_machine_count: int
    phase: PoolPhase
    detail: str

    @property
    def done(self) -> bool:
        return self.phase in _FINISHED

    def as_result(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "machine_count": self.machine_count,
            "updated_machine_count": self.updated_machine_count,
            "ready_machine_count": self.ready_machine_count,
            "unavailable_machine_count": self.unavailable_machine_count,
            "degraded_machine_count": self.degraded_machine_count,
            "state": str(self.phase),
            "detail": self.detail,
            "done": self.done,
        }


class RolloutError(ClusterStateError):
    """The rollout stopped (paused or degraded pool, MCO cannot render) or did not finish in time; ``pools`` holds the
    last states."""

    def __init__(self, message: str, *, pools: Mapping[str, PoolStatus]) -> None:
        super().__init__(message)
        self.pools = dict(pools)


@dataclass(frozen=True)
class RolloutTarget:
    """What ``/var/lib/kubelet/config.json`` of a rendered config must hold for this task's change to be in it:
    every entry the task wrote, exactly, and none of the keys it removed. Entries of other writers do not matter."""

    entries: Mapping[str, Any]
    removed: tuple[str, ...] = ()

    def reached_by(self, content: bytes | None) -> bool:
        if content is None:
            return False
        try:
            document = json.loads(content)
        except ValueError:
            return False
        auths = document.get("auths") if isinstance(document, dict) else None
        if not isinstance(auths, dict):
            return not self.entries
        if any(auths.get(key) != entry for key, entry in self.entries.items()):
            return False
        return not any(key in auths for key in self.removed)


class _Reader(Protocol):
    def get(self, path: str, *, allow_missing: bool = False) -> dict[str, Any] | None: ...


def _items(pool_list: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    items = (pool_list or {}).get("items") or []
    return [item for item in items if isinstance(item, Mapping)]


def _pool_name(pool: Mapping[str, Any]) -> str:
    return str((pool.get("metadata") or {}).get("name") or "")


def _spec_configuration(pool: Mapping[str, Any]) -> str:
    return str(((pool.get("spec") or {}).get("configuration") or {}).get("name") or "")


def _count(status: Mapping[str, Any], field: str) -> int:
    value = status.get(field)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _conditions(status: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for condition in (status or {}).get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type"):
            found[str(condition["type"])] = condition
    return found


# --- reading rendered MachineConfigs ----------------------------------------------------------------------------------


def decode_data_url(source: str) -> bytes:
    """The bytes of an RFC 2397 ``data:`` URL (Ignition file contents): ``data:[<type>][;base64],<data>``."""
    if not source.startswith("data:") or "," not in source:
        raise ValueError("not a data URL")
    header, _comma, payload = source[len("data:") :].partition(",")
    if header.split(";")[-1].strip().lower() == "base64":
        return base64.b64decode(urllib.parse.unquote(payload), validate=False)
    return urllib.parse.unquote_to_bytes(payload)


def rendered_file(machine_config: Mapping[str, Any] | None, path: str = KUBELET_AUTH_FILE) -> bytes | None:
    """The contents of ``path`` in a MachineConfig's Ignition config (the last entry wins, as in a merge), or None
    when the file is not there or cannot be decoded."""
    config = ((machine_config or {}).get("spec") or {}).get("config")
    if isinstance(config, str):  # a raw extension may come back as a JSON string
        try:
            config = json.loads(config)
        except ValueError:
            return None
    files = ((config or {}).get("storage") or {}).get("files") if isinstance(config, Mapping) else None
    matching = [f for f in files or [] if isinstance(f, Mapping) and f.get("path") == path]
    if not matching:
        return None
    contents = matching[-1].get("contents") or {}
    source = contents.get("source")
    if not isinstance(source, str):
        return None
    try:
        data = decode_data_url(source)
        if contents.get("compression") == "gzip":
            data = gzip.decompress(data)
        elif contents.get("compression") not in (None, ""):
            return None
    except (ValueError, OSError):
        return None
    return data


# --- what the cluster says before a write -----------------------------------------------------------------------------

# The template controller quotes the whole pull secret when it cannot compact it (`couldn't compact pullsecret %q`):
# that part never leaves the module.
_QUOTED_PULL_SECRET = re.compile(r'(couldn\'t compact pullsecret )"(?:[^"\\]|\\.)*"')


def redact_template_message(message: str) -> str:
    return _QUOTED_PULL_SECRET.sub(r"\1<redacted>", message)


def template_failure(controller_config: Mapping[str, Any] | None) -> str | None:
    """The message of ControllerConfig's ``TemplateControllerFailing=True`` (the MCO cannot render the pull secret:
    wrong type, invalid JSON, ...), redacted; None when it is not failing."""
    condition = _conditions((controller_config or {}).get("status")).get("TemplateControllerFailing")
    if condition is None or condition.get("status") != "True":
        return None
    message = str(condition.get("message") or condition.get("reason") or "no message")
    return redact_template_message(message)


def is_hosted_control_plane(infrastructure: Mapping[str, Any] | None) -> bool:
    """``infrastructures.config.openshift.io/cluster`` ``status.controlPlaneTopology: External``: HyperShift."""
    return ((infrastructure or {}).get("status") or {}).get("controlPlaneTopology") == "External"


def auth_file_disruption(machine_configuration: Mapping[str, Any] | None) -> list[str] | None:
    """The node disruption actions the cluster's policy applies when ``/var/lib/kubelet/config.json`` changes
    (MachineConfiguration ``cluster`` status, defaults and user policy merged: ``None`` by default), or None when
    the policy is not known."""
    status = (machine_configuration or {}).get("status") or {}
    files = (((status.get("nodeDisruptionPolicyStatus") or {}).get("clusterPolicies")) or {}).get("files")
    if not isinstance(files, list):
        return None
    # The daemon takes the policy of the file itself or of its closest parent directory (FindClosestFilePolicyPathMatch)
    best: Mapping[str, Any] | None = None
    for entry in files:
        path = entry.get("path") if isinstance(entry, Mapping) else None
        if not isinstance(path, str) or not path:
            continue
        covers = path == KUBELET_AUTH_FILE or KUBELET_AUTH_FILE.startswith(path.rstrip("/") + "/")
        if covers and (best is None or len(path) > len(str(best["path"]))):
            best = entry
    if best is None:
        return ["Reboot"]  # a file no policy covers reboots the node (the daemon's default)
    actions = [a for a in best.get("actions") or [] if isinstance(a, Mapping)]
    return [_describe_action(action) for action in actions] or ["None"]


def _describe_action(action: Mapping[str, Any]) -> str:
    kind = str(action.get("type") or "")
    for detail in ("reload", "restart"):
        service = (action.get(detail) or {}).get("serviceName") if isinstance(action.get(detail), Mapping) else None
        if service:
            return f"{kind} {service}"
    return kind


def record_pool_configurations(pool_list: Mapping[str, Any] | None) -> dict[str, str]:
    """Each pool's ``spec.configuration.name`` (empty when not rendered yet), keyed by pool name."""
    return {_pool_name(pool): _spec_configuration(pool) for pool in _items(pool_list) if _pool_name(pool)}


def _stopped(name: str, spec: Mapping[str, Any], status: Mapping[str, Any]) -> tuple[PoolPhase, str] | None:
    """Why the pool cannot roll anything out (paused, degraded), or None."""
    if spec.get("paused") is True:
        return (
            PoolPhase.PAUSED,
            f"paused (spec.paused: true); it will not roll out until unpaused, e.g. "
            f'oc patch mcp/{name} --type merge -p \'{{"spec":{{"paused":false}}}}\'',
        )
    conditions = _conditions(status)
    for kind in _DEGRADED_CONDITIONS:
        condition = conditions.get(kind)
        if condition is not None and condition.get("status") == "True":
            reason = condition.get("message") or condition.get("reason") or "no message"
            return PoolPhase.DEGRADED, f"{kind}: {reason}"
    degraded = _count(status, "degradedMachineCount")
    if degraded > 0:
        return PoolPhase.DEGRADED, f"{degraded} of {_count(status, 'machineCount')} machines are degraded"
    return None


def pools_that_block(pool_list: Mapping[str, Any] | None) -> list[str]:
    """``<pool>: <why>`` for each pool that is paused or degraded now, so a wait could not finish, sorted."""
    blocked = []
    for pool in _items(pool_list):
        stopped = _stopped(_pool_name(pool), pool.get("spec") or {}, pool.get("status") or {})
        if stopped is not None:
            blocked.append(f"{_pool_name(pool)}: {stopped[1]}")
    return sorted(blocked)


# --- a pool's progress ------------------------------------------------------------------------------------------------


def _pending(pool: Mapping[str, Any], after: str) -> list[str]:
    """What still separates a pool whose rendered config holds the change from "updated" (the node controller's
    ``allUpdated``, and its conditions); empty when done."""
    status = pool.get("status") or {}
    conditions = _conditions(status)
    machines = _count(status, "machineCount")
    updated = _count(status, "updatedMachineCount")
    ready = _count(status, "readyMachineCount")
    unavailable = _count(status, "unavailableMachineCount")
    waiting: list[str] = []
    current = str((status.get("configuration") or {}).get("name") or "")
    if current != after:
        waiting.append(f"status reports {current or 'no config'}, not {after}")
    generation = (pool.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if isinstance(generation, int) and not (isinstance(observed, int) and observed >= generation):
        waiting.append(f"generation {generation} not observed yet")
    if updated != machines or ready != machines or unavailable:
        waiting.append(f"{updated} of {machines} machines updated, {ready} ready, {unavailable} unavailable")
    if (conditions.get("Updated") or {}).get("status") != "True":
        waiting.append("condition Updated is not True")
    if (conditions.get("Updating") or {}).get("status", "False") != "False":
        waiting.append("condition Updating is not False")
    return waiting


def evaluate_pool(pool: Mapping[str, Any] | None, *, name: str, before: str, has_change: bool | None) -> PoolStatus:
    """Where ``pool`` stands; ``has_change`` says whether the rendered config it targets holds the change (None:
    that MachineConfig could not be read yet)."""
    if pool is None:
        return PoolStatus(name, before, "", 0, 0, 0, 0, 0, PoolPhase.GONE, "the pool was deleted during the wait")

    status = pool.get("status") or {}
    after = _spec_configuration(pool)
    stopped = _stopped(name, pool.get("spec") or {}, status)
    if stopped is not None:
        phase, detail = stopped
    elif not after:
        phase, detail = PoolPhase.RENDERING, "no rendered config yet"
    elif has_change is not True:
        if has_change is None:
            detail = f"targets {after}, which cannot be read yet"
        elif after == before:
            detail = f"no new rendered config yet (still {before})"
        else:
            detail = (
                f"targets {after}, which does not hold this task's change (the pull secret changed again since, "
                "or the new config is not rendered yet)"
            )
        phase = PoolPhase.RENDERING
    elif waiting := _pending(pool, after):
        phase, detail = PoolPhase.UPDATING, "; ".join(waiting)
    else:
        phase, detail = PoolPhase.DONE, f"all {_count(status, 'machineCount')} machines on {after}"
    return PoolStatus(
        name=name,
        before=before,
        after=after,
        machine_count=_count(status, "machineCount"),
        updated_machine_count=_count(status, "updatedMachineCount"),
        ready_machine_count=_count(status, "readyMachineCount"),
        unavailable_machine_count=_count(status, "unavailableMachineCount"),
        degraded_machine_count=_count(status, "degradedMachineCount"),
        phase=phase,
        detail=detail,
    )


def evaluate_rollout(
    pool_list: Mapping[str, Any] | None, before: Mapping[str, str], has_change: Callable[[str], bool | None]
) -> dict[str, PoolStatus]:
    """The state of every pool recorded in ``before``; pools created after the recording are not waited for."""
    by_name = {_pool_name(pool): pool for pool in _items(pool_list)}
    states = {}
    for name, config in before.items():
        pool = by_name.get(name)
        rendered = _spec_configuration(pool) if pool is not None else ""
        known = has_change(rendered) if rendered else False
        states[name] = evaluate_pool(pool, name=name, before=config, has_change=known)
    return states


def describe_pools(pools: Iterable[PoolStatus]) -> str:
    return "; ".join(f"{pool.name}: {pool.detail}" for pool in pools)


class RenderedConfigs:
    """Whether a rendered MachineConfig holds the change, read once per name: a rendered config's name is a hash of
    its content, so its answer never changes. Its content (every credential of the cluster) is never kept."""

    def __init__(self, client: _Reader, target: RolloutTarget) -> None:
        self._client = client
        self._target = target
        self._known: dict[str, bool] = {}

    def has_change(self, name: str) -> bool | None:
        if name in self._known:
            return self._known[name]
        machine_config = self._client.get(f"{MACHINE_CONFIGS_PATH}/{name}", allow_missing=True)
        if machine_config is None:
            return None  # not created yet, or garbage-collected: ask again next time
        self._known[name] = self._target.reached_by(rendered_file(machine_config))
        return self._known[name]


def wait_for_rollout(
    client: _Reader,
    before: Mapping[str, str],
    target: RolloutTarget,
    *,
    timeout: float,
    interval: float = 5.0,
    watch_template_controller: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, PoolStatus]:
    """Poll until every pool recorded in ``before`` targets a rendered config holding ``target`` and has every
    machine on it.

    Raises RolloutError at once for a paused or degraded pool, for ``TemplateControllerFailing`` while the change is
    not rendered everywhere, and when ``timeout`` seconds pass. Transient API errors (connection, 429, 5xx) are
    retried until the deadline: the write has already happened by now.
    """
    deadline = clock() + timeout
    rendered = RenderedConfigs(client, target)
    pools: dict[str, PoolStatus] = {}
    last_error: Exception | None = None
    while True:
        try:
            listing = client.get(POOLS_PATH)
            pools = evaluate_rollout(listing, before, rendered.has_change)
            failing = None
            if watch_template_controller and any(pool.phase is PoolPhase.RENDERING for pool in pools.values()):
                failing = template_failure(client.get(CONTROLLER_CONFIG_PATH, allow_missing=True))
        except (KubeConnectionError, ServerError, TooManyRequestsError) as error:
            last_error = error
        except NotFoundError as error:
            raise RolloutError(
                f"the MachineConfigPool API disappeared while waiting ({error}); cannot tell whether the pull "
                "secret was rolled out",
                pools=pools,
            ) from error
        else:
            last_error = None
            if failing is not None:
                raise RolloutError(
                    "the Machine Config Operator cannot render the pull secret: ControllerConfig "
                    f"machine-config-controller reports TemplateControllerFailing: {failing}",
                    pools=pools,
                )
            stopped = [pool for pool in pools.values() if pool.phase in _FAILED]
            if stopped:
                raise RolloutError(f"the rollout cannot finish: {describe_pools(stopped)}", pools=pools)
            if all(pool.done for pool in pools.values()):
                return pools

        remaining = deadline - clock()
        if remaining <= 0:
            pending = [pool for pool in pools.values() if not pool.done]
            detail = f"not done: {describe_pools(pending)}" if pools else "the pools could not be read even once"
            if last_error is not None:
                detail += f"; last error reading the pools: {last_error}"
            raise RolloutError(
                f"timed out after {timeout:g} s waiting for the MachineConfigPools to roll out; {detail}. "
                "The rollout goes on in the cluster; check with: oc get mcp",
                pools=pools,
            )
        sleep(min(interval, remaining))
