"""MachineConfigPool rollout evaluation (§8.2) and the wait loop, driven by scripted pool listings."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ForbiddenError,
    KubeConnectionError,
    NotFoundError,
    ServerError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._machine_config_rollout import (
    POOLS_PATH,
    PoolPhase,
    RolloutError,
    evaluate_pool,
    evaluate_rollout,
    paused_pools,
    record_pool_configurations,
    wait_for_rollout,
)


def pool(
    name: str = "worker",
    *,
    spec_config: str | None = "rendered-worker-new",
    status_config: str | None = "same",
    machines: int = 3,
    updated: int | None = None,
    ready: int | None = None,
    degraded: int = 0,
    generation: int | None = 4,
    observed: int | None = 4,
    paused: bool | None = None,
    conditions: dict[str, str] | None = None,
    messages: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A MachineConfigPool as the MCO reports it; defaults describe a pool that finished on its spec config."""
    if status_config == "same":
        status_config = spec_config
    wanted = {
        "Updated": "True",
        "Updating": "False",
        "Degraded": "False",
        "NodeDegraded": "False",
        "RenderDegraded": "False",
    }
    wanted.update(conditions or {})
    spec: dict[str, Any] = {}
    if spec_config is not None:
        spec["configuration"] = {"name": spec_config}
    if paused is not None:
        spec["paused"] = paused
    metadata: dict[str, Any] = {"name": name}
    if generation is not None:
        metadata["generation"] = generation
    status: dict[str, Any] = {
        "machineCount": machines,
        "updatedMachineCount": machines if updated is None else updated,
        "readyMachineCount": machines if ready is None else ready,
        "degradedMachineCount": degraded,
        "conditions": [
            {"type": kind, "status": value, "message": (messages or {}).get(kind, "")} for kind, value in wanted.items()
        ],
    }
    if status_config is not None:
        status["configuration"] = {"name": status_config}
    if observed is not None:
        status["observedGeneration"] = observed
    return {"metadata": metadata, "spec": spec, "status": status}


def listing(*pools: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "MachineConfigPoolList", "items": list(pools)}


# --- recording before the write -------------------------------------------------------------------------------


def test_record_pool_configurations_reads_spec_names() -> None:
    pools = listing(pool("master", spec_config="rendered-master-a"), pool("worker", spec_config="rendered-worker-b"))
    assert record_pool_configurations(pools) == {"master": "rendered-master-a", "worker": "rendered-worker-b"}


def test_record_pool_configurations_keeps_unrendered_pool_and_skips_nameless_items() -> None:
    pools = listing(pool("infra", spec_config=None), {"metadata": {}}, "not-a-pool")  # type: ignore[arg-type]
    assert record_pool_configurations(pools) == {"infra": ""}


@pytest.mark.parametrize("empty", [None, {}, {"items": None}, {"items": []}])
def test_record_pool_configurations_of_empty_listing(empty: dict[str, Any] | None) -> None:
    assert record_pool_configurations(empty) == {}


def test_paused_pools_lists_only_paused_true_sorted() -> None:
    pools = listing(pool("worker", paused=True), pool("master", paused=False), pool("infra", paused=True), pool("x"))
    assert paused_pools(pools) == ["infra", "worker"]


# --- evaluation of one pool -----------------------------------------------------------------------------------


def test_finished_pool_is_done_with_counts() -> None:
    status = evaluate_pool(pool(machines=5), name="worker", before="rendered-worker-old")
    assert status.phase is PoolPhase.DONE
    assert status.done
    assert status.as_result() == {
        "before": "rendered-worker-old",
        "after": "rendered-worker-new",
        "machine_count": 5,
        "updated_machine_count": 5,
        "ready_machine_count": 5,
        "degraded_machine_count": 0,
        "state": "done",
        "detail": "all 5 machines on rendered-worker-new",
        "done": True,
    }


def test_pool_with_zero_machines_is_done_once_rendered() -> None:
    assert evaluate_pool(pool(machines=0), name="worker", before="rendered-worker-old").done


@pytest.mark.parametrize("spec_config", ["rendered-worker-old", None])
def test_pool_not_rerendered_yet_is_rendering_even_if_status_looks_updated(spec_config: str | None) -> None:
    # Right after the write the pool still reports Updated=True for the old config: that is not "done".
    status = evaluate_pool(
        pool(spec_config=spec_config, status_config="rendered-worker-old"), name="worker", before="rendered-worker-old"
    )
    assert status.phase is PoolPhase.RENDERING
    assert not status.done
    assert "rendered-worker-old" in status.detail


def test_pool_with_no_recorded_config_waits_for_one() -> None:
    status = evaluate_pool(pool(spec_config=None), name="infra", before="")
    assert status.phase is PoolPhase.RENDERING
    assert "still none" in status.detail


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status_config": "rendered-worker-old"}, "status reports rendered-worker-old, not rendered-worker-new"),
        ({"status_config": None}, "status reports no config"),
        ({"observed": 3}, "generation 4 not observed yet"),
        ({"observed": None}, "generation 4 not observed yet"),
        ({"updated": 1}, "1 of 3 machines updated, 3 ready"),
        ({"ready": 2}, "3 of 3 machines updated, 2 ready"),
        ({"conditions": {"Updated": "False"}}, "condition Updated is not True"),
        ({"conditions": {"Updating": "True"}}, "condition Updating is not False"),
        ({"conditions": {"Updating": "Unknown"}}, "condition Updating is not False"),
    ],
)
def test_each_unmet_condition_keeps_the_pool_updating(changes: dict[str, Any], expected: str) -> None:
    status = evaluate_pool(pool(**changes), name="worker", before="rendered-worker-old")
    assert status.phase is PoolPhase.UPDATING
    assert not status.done
    assert expected in status.detail


def test_missing_updated_condition_is_not_done() -> None:
    bare = pool()
    bare["status"]["conditions"] = []
    status = evaluate_pool(bare, name="worker", before="rendered-worker-old")
    assert status.phase is PoolPhase.UPDATING
    assert "Updated is not True" in status.detail


def test_absent_generation_does_not_block() -> None:
    assert evaluate_pool(pool(generation=None, observed=None), name="worker", before="old").done


def test_missing_degraded_conditions_do_not_block_but_updated_must_be_true() -> None:
    minimal = pool()
    minimal["status"]["conditions"] = [{"type": "Updated", "status": "True"}]
    assert evaluate_pool(minimal, name="worker", before="old").done


def test_several_unmet_conditions_are_all_reported() -> None:
    status = evaluate_pool(
        pool(updated=0, ready=1, conditions={"Updated": "False", "Updating": "True"}), name="worker", before="old"
    )
    assert status.detail == (
        "0 of 3 machines updated, 1 ready; condition Updated is not True; condition Updating is not False"
    )


def test_paused_pool_is_reported_with_the_unpause_command() -> None:
    status = evaluate_pool(
        pool(paused=True, spec_config="rendered-worker-old"), name="worker", before="rendered-worker-old"
    )
    assert status.phase is PoolPhase.PAUSED
    assert not status.done
    assert "spec.paused: true" in status.detail
    assert "oc patch mcp/worker" in status.detail


@pytest.mark.parametrize("kind", ["Degraded", "NodeDegraded", "RenderDegraded"])
def test_degraded_condition_fails_with_its_message(kind: str) -> None:
    status = evaluate_pool(
        pool(conditions={kind: "True"}, messages={kind: "Node worker-1 is reporting: disk full"}),
        name="worker",
        before="old",
    )
    assert status.phase is PoolPhase.DEGRADED
    assert status.detail == f"{kind}: Node worker-1 is reporting: disk full"


def test_most_specific_degraded_condition_wins() -> None:
    status = evaluate_pool(
        pool(
            conditions={"Degraded": "True", "NodeDegraded": "True"},
            messages={"Degraded": "summary", "NodeDegraded": "node worker-2 failed"},
        ),
        name="worker",
        before="old",
    )
    assert status.detail == "NodeDegraded: node worker-2 failed"


def test_degraded_condition_without_message_uses_reason() -> None:
    degraded = pool()
    degraded["status"]["conditions"].append({"type": "RenderDegraded", "status": "True", "reason": "RenderFailed"})
    del degraded["status"]["conditions"][4]  # the False RenderDegraded from the defaults
    status = evaluate_pool(degraded, name="worker", before="old")
    assert status.detail == "RenderDegraded: RenderFailed"


def test_degraded_machine_count_alone_fails() -> None:
    status = evaluate_pool(pool(degraded=1), name="worker", before="old")
    assert status.phase is PoolPhase.DEGRADED
    assert status.detail == "1 of 3 machines are degraded"


def test_counts_ignore_non_integers() -> None:
    odd = pool()
    odd["status"]["machineCount"] = "3"
    odd["status"]["updatedMachineCount"] = True
    status = evaluate_pool(odd, name="worker", before="old")
    assert (status.machine_count, status.updated_machine_count) == (0, 0)


def test_deleted_pool_counts_as_finished() -> None:
    status = evaluate_pool(None, name="infra", before="rendered-infra-a")
    assert status.phase is PoolPhase.GONE
    assert status.done
    assert status.as_result()["after"] == ""


def test_evaluate_rollout_covers_recorded_pools_only() -> None:
    pools = listing(pool("worker"), pool("extra", spec_config="rendered-extra-x"))
    result = evaluate_rollout(pools, {"worker": "rendered-worker-old", "master": "rendered-master-old"})
    assert set(result) == {"worker", "master"}
    assert result["worker"].done
    assert result["master"].phase is PoolPhase.GONE


# --- the wait loop ---------------------------------------------------------------------------------------------


class ScriptedPools:
    """Answers each GET of the pool list with the next scripted listing (or raises it); repeats the last one."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []

    def get(self, path: str, *, allow_missing: bool = False) -> dict[str, Any] | None:
        self.paths.append(path)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


BEFORE = {"master": "rendered-master-old", "worker": "rendered-worker-old"}


def test_wait_returns_when_every_pool_is_done() -> None:
    not_rendered = listing(
        pool("master", spec_config="rendered-master-old", status_config="rendered-master-old"),
        pool("worker", spec_config="rendered-worker-old", status_config="rendered-worker-old"),
    )
    rolling = listing(
        pool("master", spec_config="rendered-master-new", status_config="rendered-master-old", updated=0),
        pool("worker", status_config="rendered-worker-old", updated=1),
    )
    finished = listing(pool("master", spec_config="rendered-master-new"), pool("worker"))
    client = ScriptedPools(not_rendered, rolling, finished)
    clock = FakeClock()
    result = wait_for_rollout(client, BEFORE, timeout=60, interval=5, clock=clock, sleep=clock.sleep)
    assert {name: status.done for name, status in result.items()} == {"master": True, "worker": True}
    assert result["master"].after == "rendered-master-new"
    assert clock.sleeps == [5, 5]
    assert client.paths == [POOLS_PATH] * 3


def test_wait_with_nothing_recorded_returns_at_once() -> None:
    clock = FakeClock()
    assert wait_for_rollout(ScriptedPools(listing()), {}, timeout=10, clock=clock, sleep=clock.sleep) == {}
    assert clock.sleeps == []


def test_wait_times_out_naming_the_pools_not_done() -> None:
    stuck = listing(
        pool("master", spec_config="rendered-master-new"),
        pool("worker", status_config="rendered-worker-old", updated=1),
    )
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait_for_rollout(ScriptedPools(stuck), BEFORE, timeout=12, interval=5, clock=clock, sleep=clock.sleep)
    message = str(caught.value)
    assert "timed out after 12 s" in message
    assert "worker: status reports rendered-worker-old" in message
    assert "1 of 3 machines updated" in message
    assert "master" not in message.split("not done:")[1]
    assert caught.value.pools["master"].done
    assert clock.sleeps == [5, 5, 2]  # never sleeps past the deadline


def test_wait_fails_at_once_on_a_paused_pool() -> None:
    paused = listing(
        pool("master", spec_config="rendered-master-new"),
        pool("worker", spec_config="rendered-worker-old", paused=True),
    )
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait_for_rollout(ScriptedPools(paused), BEFORE, timeout=600, clock=clock, sleep=clock.sleep)
    assert "worker: paused" in str(caught.value)
    assert clock.sleeps == []
    assert caught.value.pools["worker"].phase is PoolPhase.PAUSED


def test_wait_fails_at_once_on_a_degraded_pool_with_its_message() -> None:
    degraded = listing(
        pool("master", spec_config="rendered-master-new"),
        pool("worker", conditions={"NodeDegraded": "True"}, messages={"NodeDegraded": "boom"}),
    )
    clock = FakeClock()
    with pytest.raises(RolloutError, match="worker: NodeDegraded: boom"):
        wait_for_rollout(ScriptedPools(degraded), BEFORE, timeout=600, clock=clock, sleep=clock.sleep)


def test_wait_rides_out_transient_errors() -> None:
    finished = listing(pool("master", spec_config="rendered-master-new"), pool("worker"))
    client = ScriptedPools(
        KubeConnectionError("connection refused"),
        ServerError("etcd timeout", status=503),
        finished,
    )
    clock = FakeClock()
    result = wait_for_rollout(client, BEFORE, timeout=60, interval=3, clock=clock, sleep=clock.sleep)
    assert all(status.done for status in result.values())
    assert clock.sleeps == [3, 3]


def test_wait_timeout_reports_the_last_transient_error() -> None:
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait_for_rollout(
            ScriptedPools(KubeConnectionError("connection refused")),
            BEFORE,
            timeout=4,
            interval=3,
            clock=clock,
            sleep=clock.sleep,
        )
    assert "could not be read even once" in str(caught.value)
    assert "last error reading the pools: connection refused" in str(caught.value)


def test_wait_stops_when_the_pool_api_disappears() -> None:
    clock = FakeClock()
    with pytest.raises(RolloutError, match="MachineConfigPool API disappeared"):
        wait_for_rollout(
            ScriptedPools(NotFoundError("not found", status=404)), BEFORE, timeout=60, clock=clock, sleep=clock.sleep
        )


def test_wait_does_not_swallow_permission_errors() -> None:
    clock = FakeClock()
    with pytest.raises(ForbiddenError):
        wait_for_rollout(
            ScriptedPools(ForbiddenError("forbidden", status=403)), BEFORE, timeout=60, clock=clock, sleep=clock.sleep
        )
