# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MachineConfigPool rollout tracking for the global pull secret (openshift-semantics.md §8.2).

Pure evaluation of each pool's state against the rendered config recorded before a write, and a wait loop that
takes the API client, the clock and the sleep function as arguments so it can be driven without a cluster.
"""

from __future__ import annotations

import time
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

POOLS_PATH = "/apis/machineconfiguration.openshift.io/v1/machineconfigpools"

# A True in any of these stops the rollout; the more specific ones carry the more useful message.
_DEGRADED_CONDITIONS = ("RenderDegraded", "NodeDegraded", "Degraded")


class PoolPhase(StrEnum):
    RENDERING = "rendering"  # spec.configuration.name still the one recorded before the write
    UPDATING = "updating"  # new rendered config chosen, machines not all on it yet
    DONE = "done"
    PAUSED = "paused"  # spec.paused: the pool never rolls out until someone unpauses it
    DEGRADED = "degraded"
    GONE = "gone"  # the pool was deleted while we waited: nothing left to roll out


_FINISHED = frozenset({PoolPhase.DONE, PoolPhase.GONE})
_FAILED = frozenset({PoolPhase.PAUSED, PoolPhase.DEGRADED})


@dataclass(frozen=True)
class PoolStatus:
    """One pool's progress towards the configuration that contains the new pull secret."""

    name: str
    before: str
    after: str
    machine_count: int
    updated_machine_count: int
    ready_machine_count: int
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
            "degraded_machine_count": self.degraded_machine_count,
            "state": str(self.phase),
            "detail": self.detail,
            "done": self.done,
        }


class RolloutError(ClusterStateError):
    """The rollout stopped (paused or degraded pool) or did not finish in time; ``pools`` holds the last states."""

    def __init__(self, message: str, *, pools: Mapping[str, PoolStatus]) -> None:
        super().__init__(message)
        self.pools = dict(pools)


class _PoolReader(Protocol):
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


def _conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for condition in status.get("conditions") or []:
        if isinstance(condition, Mapping) and condition.get("type"):
            found[str(condition["type"])] = condition
    return found


def record_pool_configurations(pool_list: Mapping[str, Any] | None) -> dict[str, str]:
    """Each pool's ``spec.configuration.name`` (empty when not rendered yet), keyed by pool name."""
    return {_pool_name(pool): _spec_configuration(pool) for pool in _items(pool_list) if _pool_name(pool)}


def paused_pools(pool_list: Mapping[str, Any] | None) -> list[str]:
    """Names of the pools with ``spec.paused: true``, sorted."""
    return sorted(_pool_name(pool) for pool in _items(pool_list) if (pool.get("spec") or {}).get("paused") is True)


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


def _pending(pool: Mapping[str, Any], after: str) -> list[str]:
    """What still separates a re-rendered pool from "updated" (§8.2 step 3); empty when done."""
    status = pool.get("status") or {}
    conditions = _conditions(status)
    machines = _count(status, "machineCount")
    updated = _count(status, "updatedMachineCount")
    ready = _count(status, "readyMachineCount")
    waiting: list[str] = []
    current = str((status.get("configuration") or {}).get("name") or "")
    if current != after:
        waiting.append(f"status reports {current or 'no config'}, not {after}")
    generation = (pool.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    if isinstance(generation, int) and not (isinstance(observed, int) and observed >= generation):
        waiting.append(f"generation {generation} not observed yet")
    if updated != machines or ready != machines:
        waiting.append(f"{updated} of {machines} machines updated, {ready} ready")
    if (conditions.get("Updated") or {}).get("status") != "True":
        waiting.append("condition Updated is not True")
    if (conditions.get("Updating") or {}).get("status", "False") != "False":
        waiting.append("condition Updating is not False")
    return waiting


def evaluate_pool(pool: Mapping[str, Any] | None, *, name: str, before: str) -> PoolStatus:
    """Where ``pool`` stands in rolling out a config newer than ``before`` (all conditions of §8.2 step 3)."""
    if pool is None:
        return PoolStatus(name, before, "", 0, 0, 0, 0, PoolPhase.GONE, "the pool was deleted during the wait")

    status = pool.get("status") or {}
    after = _spec_configuration(pool)
    stopped = _stopped(name, pool.get("spec") or {}, status)
    if stopped is not None:
        phase, detail = stopped
    elif not after or after == before:
        phase, detail = PoolPhase.RENDERING, f"no new rendered config yet (still {before or 'none'})"
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
        degraded_machine_count=_count(status, "degradedMachineCount"),
        phase=phase,
        detail=detail,
    )


def evaluate_rollout(pool_list: Mapping[str, Any] | None, before: Mapping[str, str]) -> dict[str, PoolStatus]:
    """The state of every pool recorded in ``before``; pools created after the recording are not waited for."""
    by_name = {_pool_name(pool): pool for pool in _items(pool_list)}
    return {name: evaluate_pool(by_name.get(name), name=name, before=config) for name, config in before.items()}


def describe_pools(pools: Iterable[PoolStatus]) -> str:
    return "; ".join(f"{pool.name}: {pool.detail}" for pool in pools)


def wait_for_rollout(
    client: _PoolReader,
    before: Mapping[str, str],
    *,
    timeout: float,
    interval: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, PoolStatus]:
    """Poll the pools until every one recorded in ``before`` has rolled out a newer config.

    Raises RolloutError at once for a paused or degraded pool, and when ``timeout`` seconds pass. Transient API
    errors (connection, 429, 5xx) are retried until the deadline: the write has already happened by now.
    """
    deadline = clock() + timeout
    pools: dict[str, PoolStatus] = {}
    last_error: Exception | None = None
    while True:
        try:
            listing = client.get(POOLS_PATH)
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
            pools = evaluate_rollout(listing, before)
            stopped = [pool for pool in pools.values() if pool.phase in _FAILED]
            if stopped:
                raise RolloutError(
                    f"the rollout cannot finish: {describe_pools(stopped)}",
                    pools=pools,
                )
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
