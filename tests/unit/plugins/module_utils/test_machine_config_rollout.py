"""MachineConfigPool rollout evaluation and the wait loop, driven by scripted pools, rendered MachineConfigs and
ControllerConfigs shaped as the Machine Config Operator writes them."""

from __future__ import annotations

import base64
import gzip
import json
import urllib.parse
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ForbiddenError,
    KubeConnectionError,
    NotFoundError,
    ServerError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import (
    CONTROLLER_CONFIG_PATH,
    MACHINE_CONFIGS_PATH,
    POOLS_PATH,
    PoolPhase,
    RenderedConfigs,
    RolloutError,
    RolloutTarget,
    auth_file_disruption,
    decode_data_url,
    evaluate_pool,
    evaluate_rollout,
    is_hosted_control_plane,
    pools_that_block,
    record_pool_configurations,
    redact_template_message,
    rendered_file,
    template_failure,
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
    unavailable: int = 0,
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
        "unavailableMachineCount": unavailable,
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


# --- rendered MachineConfigs --------------------------------------------------------------------------------------

OURS = {"registry.example.com": {"auth": base64.b64encode(b"u:p").decode()}}
THEIRS = {"quay.io": {"auth": base64.b64encode(b"q:q").decode(), "email": "q@example.org"}}
TARGET = RolloutTarget(entries=OURS, removed=("old.example.com",))


def compact(auths: dict[str, Any]) -> bytes:
    """The file as the template controller writes it: json.Compact of the secret, then a newline (YAML ``|``)."""
    return json.dumps({"auths": auths}, separators=(",", ":")).encode() + b"\n"


def machine_config(name: str, content: bytes | None, *, encoding: str = "base64", extra_files: int = 1) -> dict:
    """A rendered MachineConfig whose Ignition config carries ``content`` as /var/lib/kubelet/config.json."""
    files: list[dict[str, Any]] = [
        {"path": f"/etc/other-{index}", "contents": {"source": "data:,x"}, "mode": 420} for index in range(extra_files)
    ]
    if content is not None:
        if encoding == "base64":
            source = "data:;base64," + base64.b64encode(content).decode()
            contents: dict[str, Any] = {"source": source, "compression": ""}
        elif encoding == "gzip":
            source = "data:;base64," + base64.b64encode(gzip.compress(content)).decode()
            contents = {"source": source, "compression": "gzip"}
        else:
            contents = {"source": "data:," + urllib.parse.quote(content)}
        files.append({"path": "/var/lib/kubelet/config.json", "mode": 384, "contents": contents})
    return {
        "kind": "MachineConfig",
        "metadata": {"name": name},
        "spec": {"config": {"ignition": {"version": "3.5.0"}, "storage": {"files": files}}},
    }


@pytest.mark.parametrize("encoding", ["base64", "gzip", "percent"])
def test_rendered_file_reads_every_ignition_encoding(encoding: str) -> None:
    content = compact(OURS | THEIRS)
    assert rendered_file(machine_config("rendered-worker-a", content, encoding=encoding)) == content


def test_rendered_file_takes_the_last_entry_and_tolerates_missing_parts() -> None:
    merged = machine_config("rendered-worker-a", compact(THEIRS))
    merged["spec"]["config"]["storage"]["files"].append(
        {
            "path": "/var/lib/kubelet/config.json",
            "contents": {"source": "data:;base64," + base64.b64encode(b"{}").decode()},
        }
    )
    assert rendered_file(merged) == b"{}"
    assert rendered_file(machine_config("rendered-worker-a", None)) is None
    assert rendered_file(None) is None
    assert rendered_file({"spec": {"config": json.dumps(machine_config("x", b"{}")["spec"]["config"])}}) == b"{}"
    broken = machine_config("x", b"{}")
    broken["spec"]["config"]["storage"]["files"][-1]["contents"] = {"source": "https://example.org/x"}
    assert rendered_file(broken) is None
    broken["spec"]["config"]["storage"]["files"][-1]["contents"] = {"source": "data:,{}", "compression": "xz"}
    assert rendered_file(broken) is None


def test_decode_data_url() -> None:
    assert decode_data_url("data:,a%20b") == b"a b"
    assert decode_data_url("data:text/plain;charset=utf-8;base64,aGk=") == b"hi"
    with pytest.raises(ValueError):
        decode_data_url("file:///etc/passwd")


def test_target_is_reached_by_content_not_by_name() -> None:
    assert TARGET.reached_by(compact(OURS | THEIRS))
    # another writer's entries do not matter; key order and whitespace do not either
    assert TARGET.reached_by(json.dumps({"auths": THEIRS | OURS}, indent=2).encode())
    assert not TARGET.reached_by(compact(THEIRS))  # a revert
    assert not TARGET.reached_by(compact({"registry.example.com": {"auth": "b3RoZXI6eA=="}} | THEIRS))
    assert not TARGET.reached_by(compact(OURS | {"old.example.com": {"auth": "eDp5"}}))  # a removed key came back
    assert not TARGET.reached_by(b"not json")
    assert not TARGET.reached_by(None)
    assert not TARGET.reached_by(b"[]")
    assert RolloutTarget(entries={}, removed=("gone",)).reached_by(b"{}")


def test_rendered_configs_are_read_once_per_name_and_missing_ones_again() -> None:
    cluster = FakeCluster(machine_configs={"rendered-worker-a": machine_config("rendered-worker-a", compact(OURS))})
    rendered = RenderedConfigs(cluster, TARGET)
    assert rendered.has_change("rendered-worker-a") is True
    assert rendered.has_change("rendered-worker-a") is True
    assert rendered.has_change("rendered-worker-b") is None
    assert rendered.has_change("rendered-worker-b") is None
    assert cluster.paths.count(f"{MACHINE_CONFIGS_PATH}/rendered-worker-a") == 1
    assert cluster.paths.count(f"{MACHINE_CONFIGS_PATH}/rendered-worker-b") == 2


# --- the ControllerConfig, the infrastructure and the node disruption policy --------------------------------------


def controller_config(failing: bool, message: str = "") -> dict[str, Any]:
    return {
        "metadata": {"name": "machine-config-controller"},
        "status": {
            "conditions": [
                {"type": "TemplateControllerRunning", "status": "False"},
                {"type": "TemplateControllerCompleted", "status": "False" if failing else "True"},
                {"type": "TemplateControllerFailing", "status": "True" if failing else "False", "message": message},
            ]
        },
    }


def test_template_failure_is_redacted() -> None:
    raw = '{"auths":{"r":{"auth":"c2VjcmV0OnBhc3M="}}, "x": "a \\"quoted\\" b"'
    message = (
        "failed to syncing towards (3) generation using controller version v: couldn't compact pullsecret "
        + json.dumps(raw)
        + ": invalid character 'x' looking for beginning of object key string"
    )
    failure = template_failure(controller_config(True, message))
    assert failure is not None
    assert "c2VjcmV0OnBhc3M=" not in failure and "quoted" not in failure
    assert "couldn't compact pullsecret <redacted>: invalid character 'x'" in failure
    assert template_failure(controller_config(False)) is None
    assert template_failure(None) is None
    assert redact_template_message("expected secret type kubernetes.io/dockerconfigjson found Opaque") == (
        "expected secret type kubernetes.io/dockerconfigjson found Opaque"
    )


def test_hosted_control_plane_is_the_external_topology() -> None:
    assert is_hosted_control_plane({"status": {"controlPlaneTopology": "External"}})
    for topology in ("HighlyAvailable", "SingleReplica", "HighlyAvailableArbiter", None):
        assert not is_hosted_control_plane({"status": {"controlPlaneTopology": topology}})
    assert not is_hosted_control_plane(None)


def disruption(*files: tuple[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "status": {
            "nodeDisruptionPolicyStatus": {
                "clusterPolicies": {"files": [{"path": path, "actions": actions} for path, actions in files]}
            }
        }
    }


def test_auth_file_disruption_follows_the_daemons_closest_match() -> None:
    default = disruption(("/var/lib/kubelet/config.json", [{"type": "None"}]), ("/etc/mco", [{"type": "None"}]))
    assert auth_file_disruption(default) == ["None"]
    overridden = disruption(
        ("/var/lib", [{"type": "None"}]),
        ("/var/lib/kubelet/", [{"type": "Drain"}, {"type": "Restart", "restart": {"serviceName": "crio.service"}}]),
    )
    assert auth_file_disruption(overridden) == ["Drain", "Restart crio.service"]
    assert auth_file_disruption(disruption(("/etc", [{"type": "None"}]))) == ["Reboot"]  # no policy covers it
    assert auth_file_disruption(disruption(("/var/lib/kube", [{"type": "Drain"}]))) == ["Reboot"]  # not a parent
    assert auth_file_disruption({"status": {}}) is None
    assert auth_file_disruption(None) is None


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


def test_pools_that_block_are_the_paused_and_the_degraded() -> None:
    pools = listing(
        pool("worker", paused=True),
        pool("master", paused=False),
        pool("infra", conditions={"PinnedImageSetsDegraded": "True"}, messages={"PinnedImageSetsDegraded": "bad set"}),
        pool("gpu", degraded=1),
        pool("x"),
    )
    blocked = pools_that_block(pools)
    assert [entry.split(":")[0] for entry in blocked] == ["gpu", "infra", "worker"]
    assert "infra: PinnedImageSetsDegraded: bad set" in blocked
    assert "gpu: 1 of 3 machines are degraded" in blocked


# --- evaluation of one pool -----------------------------------------------------------------------------------


def test_finished_pool_is_done_with_counts() -> None:
    status = evaluate_pool(pool(machines=5), name="worker", before="rendered-worker-old", has_change=True)
    assert status.phase is PoolPhase.DONE
    assert status.done
    assert status.as_result() == {
        "before": "rendered-worker-old",
        "after": "rendered-worker-new",
        "machine_count": 5,
        "updated_machine_count": 5,
        "ready_machine_count": 5,
        "unavailable_machine_count": 0,
        "degraded_machine_count": 0,
        "state": "done",
        "detail": "all 5 machines on rendered-worker-new",
        "done": True,
    }


def test_pool_with_zero_machines_is_done_once_rendered() -> None:
    assert evaluate_pool(pool(machines=0), name="worker", before="rendered-worker-old", has_change=True).done


@pytest.mark.parametrize("spec_config", ["rendered-worker-old", None])
def test_pool_not_rerendered_yet_is_rendering_even_if_status_looks_updated(spec_config: str | None) -> None:
    # Right after the write the pool still reports Updated=True for the old config: that is not "done".
    status = evaluate_pool(
        pool(spec_config=spec_config, status_config="rendered-worker-old"),
        name="worker",
        before="rendered-worker-old",
        has_change=False,
    )
    assert status.phase is PoolPhase.RENDERING
    assert not status.done


def test_a_new_name_without_the_change_is_still_rendering() -> None:
    # another writer changed the pull secret after us and removed our entry again: a new name, not our change
    status = evaluate_pool(pool(), name="worker", before="rendered-worker-old", has_change=False)
    assert status.phase is PoolPhase.RENDERING
    assert "rendered-worker-new, which does not hold this task's change" in status.detail
    unreadable = evaluate_pool(pool(), name="worker", before="rendered-worker-old", has_change=None)
    assert unreadable.phase is PoolPhase.RENDERING
    assert "cannot be read yet" in unreadable.detail


def test_the_old_name_with_the_change_is_done() -> None:
    # the change was already rolled out once (a revert of a revert): the same content has the same name
    status = evaluate_pool(
        pool(spec_config="rendered-worker-old"), name="worker", before="rendered-worker-old", has_change=True
    )
    assert status.done


def test_pool_with_no_recorded_config_waits_for_one() -> None:
    status = evaluate_pool(pool(spec_config=None), name="infra", before="", has_change=False)
    assert status.phase is PoolPhase.RENDERING
    assert "no rendered config yet" in status.detail


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status_config": "rendered-worker-old"}, "status reports rendered-worker-old, not rendered-worker-new"),
        ({"status_config": None}, "status reports no config"),
        ({"observed": 3}, "generation 4 not observed yet"),
        ({"observed": None}, "generation 4 not observed yet"),
        ({"updated": 1}, "1 of 3 machines updated, 3 ready, 0 unavailable"),
        ({"ready": 2}, "3 of 3 machines updated, 2 ready"),
        ({"unavailable": 1}, "3 of 3 machines updated, 3 ready, 1 unavailable"),
        ({"conditions": {"Updated": "False"}}, "condition Updated is not True"),
        ({"conditions": {"Updating": "True"}}, "condition Updating is not False"),
        ({"conditions": {"Updating": "Unknown"}}, "condition Updating is not False"),
    ],
)
def test_each_unmet_condition_keeps_the_pool_updating(changes: dict[str, Any], expected: str) -> None:
    status = evaluate_pool(pool(**changes), name="worker", before="rendered-worker-old", has_change=True)
    assert status.phase is PoolPhase.UPDATING
    assert not status.done
    assert expected in status.detail


def test_missing_updated_condition_is_not_done() -> None:
    bare = pool()
    bare["status"]["conditions"] = []
    status = evaluate_pool(bare, name="worker", before="rendered-worker-old", has_change=True)
    assert status.phase is PoolPhase.UPDATING
    assert "Updated is not True" in status.detail


def test_absent_generation_does_not_block() -> None:
    assert evaluate_pool(pool(generation=None, observed=None), name="worker", before="old", has_change=True).done


def test_missing_degraded_conditions_do_not_block_but_updated_must_be_true() -> None:
    minimal = pool()
    minimal["status"]["conditions"] = [{"type": "Updated", "status": "True"}]
    assert evaluate_pool(minimal, name="worker", before="old", has_change=True).done


def test_several_unmet_conditions_are_all_reported() -> None:
    status = evaluate_pool(
        pool(updated=0, ready=1, unavailable=1, conditions={"Updated": "False", "Updating": "True"}),
        name="worker",
        before="old",
        has_change=True,
    )
    assert status.detail == (
        "0 of 3 machines updated, 1 ready, 1 unavailable; condition Updated is not True; "
        "condition Updating is not False"
    )
    assert status.as_result()["unavailable_machine_count"] == 1


def test_paused_pool_is_reported_with_the_unpause_command() -> None:
    status = evaluate_pool(
        pool(paused=True, spec_config="rendered-worker-old"),
        name="worker",
        before="rendered-worker-old",
        has_change=False,
    )
    assert status.phase is PoolPhase.PAUSED
    assert not status.done
    assert "spec.paused: true" in status.detail
    assert "oc patch mcp/worker" in status.detail


@pytest.mark.parametrize(
    "kind", ["Degraded", "NodeDegraded", "RenderDegraded", "PinnedImageSetsDegraded", "ImageBuildDegraded"]
)
def test_degraded_condition_fails_with_its_message(kind: str) -> None:
    status = evaluate_pool(
        pool(conditions={kind: "True"}, messages={kind: "Node worker-1 is reporting: disk full"}),
        name="worker",
        before="old",
        has_change=True,
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
        has_change=True,
    )
    assert status.detail == "NodeDegraded: node worker-2 failed"


def test_degraded_condition_without_message_uses_reason() -> None:
    degraded = pool()
    degraded["status"]["conditions"].append({"type": "RenderDegraded", "status": "True", "reason": "RenderFailed"})
    del degraded["status"]["conditions"][4]  # the False RenderDegraded from the defaults
    status = evaluate_pool(degraded, name="worker", before="old", has_change=True)
    assert status.detail == "RenderDegraded: RenderFailed"


def test_degraded_machine_count_alone_fails() -> None:
    status = evaluate_pool(pool(degraded=1), name="worker", before="old", has_change=True)
    assert status.phase is PoolPhase.DEGRADED
    assert status.detail == "1 of 3 machines are degraded"


def test_counts_ignore_non_integers() -> None:
    odd = pool()
    odd["status"]["machineCount"] = "3"
    odd["status"]["updatedMachineCount"] = True
    status = evaluate_pool(odd, name="worker", before="old", has_change=True)
    assert (status.machine_count, status.updated_machine_count) == (0, 0)


def test_deleted_pool_counts_as_finished() -> None:
    status = evaluate_pool(None, name="infra", before="rendered-infra-a", has_change=None)
    assert status.phase is PoolPhase.GONE
    assert status.done
    assert status.as_result()["after"] == ""


def test_evaluate_rollout_covers_recorded_pools_only() -> None:
    pools = listing(pool("worker"), pool("extra", spec_config="rendered-extra-x"))
    asked: list[str] = []

    def has_change(name: str) -> bool:
        asked.append(name)
        return True

    result = evaluate_rollout(pools, {"worker": "rendered-worker-old", "master": "rendered-master-old"}, has_change)
    assert set(result) == {"worker", "master"}
    assert result["worker"].done
    assert result["master"].phase is PoolPhase.GONE
    assert asked == ["rendered-worker-new"]


# --- the wait loop ---------------------------------------------------------------------------------------------


class FakeCluster:
    """Answers GETs of the pool list with the next scripted listing (or raises it; the last one repeats), of
    rendered MachineConfigs from a dict, and of the ControllerConfig with the next scripted object."""

    def __init__(
        self,
        *answers: dict[str, Any] | Exception,
        machine_configs: dict[str, dict[str, Any]] | None = None,
        controller_configs: list[dict[str, Any] | Exception] | None = None,
    ) -> None:
        self.answers = list(answers)
        self.machine_configs = machine_configs or {}
        self.controller_configs = controller_configs or [controller_config(False)]
        self.paths: list[str] = []

    @staticmethod
    def _next(answers: list[Any]) -> Any:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get(self, path: str, *, allow_missing: bool = False) -> dict[str, Any] | None:
        self.paths.append(path)
        if path == POOLS_PATH:
            return self._next(self.answers)
        if path == CONTROLLER_CONFIG_PATH:
            return self._next(self.controller_configs)
        if path.startswith(f"{MACHINE_CONFIGS_PATH}/"):
            return self.machine_configs.get(path.rsplit("/", 1)[1])
        raise AssertionError(f"unexpected GET {path}")


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
RENDERED = {
    "rendered-master-old": machine_config("rendered-master-old", compact(THEIRS)),
    "rendered-worker-old": machine_config("rendered-worker-old", compact(THEIRS)),
    "rendered-master-new": machine_config("rendered-master-new", compact(THEIRS | OURS)),
    "rendered-worker-new": machine_config("rendered-worker-new", compact(THEIRS | OURS)),
}


def wait(cluster: FakeCluster, clock: FakeClock, **options: Any) -> dict[str, Any]:
    options.setdefault("timeout", 600)
    return wait_for_rollout(cluster, BEFORE, TARGET, clock=clock, sleep=clock.sleep, **options)


def test_wait_returns_when_every_pool_is_done() -> None:
    not_rendered = listing(
        pool("master", spec_config="rendered-master-old", status_config="rendered-master-old"),
        pool("worker", spec_config="rendered-worker-old", status_config="rendered-worker-old"),
    )
    rolling = listing(
        pool("master", spec_config="rendered-master-new", status_config="rendered-master-old", updated=0),
        pool("worker", status_config="rendered-worker-old", updated=1, unavailable=1),
    )
    finished = listing(pool("master", spec_config="rendered-master-new"), pool("worker"))
    cluster = FakeCluster(not_rendered, rolling, finished, machine_configs=RENDERED)
    clock = FakeClock()
    result = wait(cluster, clock, timeout=60, interval=5)
    assert {name: status.done for name, status in result.items()} == {"master": True, "worker": True}
    assert result["master"].after == "rendered-master-new"
    assert clock.sleeps == [5, 5]
    assert cluster.paths.count(POOLS_PATH) == 3
    # the ControllerConfig is read only while a pool waits for a render
    assert cluster.paths.count(CONTROLLER_CONFIG_PATH) == 1


def test_wait_with_nothing_recorded_returns_at_once() -> None:
    clock = FakeClock()
    assert wait_for_rollout(FakeCluster(listing()), {}, TARGET, timeout=10, clock=clock, sleep=clock.sleep) == {}
    assert clock.sleeps == []


def test_a_quick_revert_is_not_taken_for_the_rollout() -> None:
    # the pools moved to a new name and straight back to the old one (someone reverted): same name, old content
    reverted = listing(
        pool("master", spec_config="rendered-master-old"), pool("worker", spec_config="rendered-worker-old")
    )
    cluster = FakeCluster(reverted, machine_configs=RENDERED)
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait(cluster, clock, timeout=9, interval=3)
    assert "no new rendered config yet (still rendered-worker-old)" in str(caught.value)


def test_a_concurrent_writers_newer_config_counts_when_it_holds_the_change() -> None:
    both = machine_config("rendered-worker-both", compact(THEIRS | OURS | {"other.example.org": {"auth": "eDp5"}}))
    without = machine_config("rendered-master-without", compact(THEIRS | {"other.example.org": {"auth": "eDp5"}}))
    cluster = FakeCluster(
        listing(
            pool("master", spec_config="rendered-master-without"), pool("worker", spec_config="rendered-worker-both")
        ),
        machine_configs={**RENDERED, "rendered-worker-both": both, "rendered-master-without": without},
    )
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait(cluster, clock, timeout=6, interval=3)
    assert caught.value.pools["worker"].done
    assert caught.value.pools["master"].phase is PoolPhase.RENDERING
    assert "master: targets rendered-master-without, which does not hold this task's change" in str(caught.value)


def test_wait_times_out_naming_the_pools_not_done() -> None:
    stuck = listing(
        pool("master", spec_config="rendered-master-new"),
        pool("worker", status_config="rendered-worker-old", updated=1),
    )
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait(FakeCluster(stuck, machine_configs=RENDERED), clock, timeout=12, interval=5)
    message = str(caught.value)
    assert "timed out after 12 s" in message
    assert "worker: status reports rendered-worker-old" in message
    assert "1 of 3 machines updated" in message
    assert "master" not in message.split("not done:")[1]
    assert caught.value.pools["master"].done
    assert clock.sleeps == [5, 5, 2]  # never sleeps past the deadline


def test_wait_fails_at_once_when_the_template_controller_fails() -> None:
    not_rendered = listing(
        pool("master", spec_config="rendered-master-old"), pool("worker", spec_config="rendered-worker-old")
    )
    message = 'couldn\'t compact pullsecret "{\\"auths\\":{\\"r\\":{\\"auth\\":\\"c2VjcmV0\\"}}": unexpected end'
    cluster = FakeCluster(
        not_rendered,
        machine_configs=RENDERED,
        controller_configs=[controller_config(False), controller_config(True, message)],
    )
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait(cluster, clock, interval=3)
    text = str(caught.value)
    assert "ControllerConfig machine-config-controller reports TemplateControllerFailing" in text
    assert "couldn't compact pullsecret <redacted>: unexpected end" in text
    assert "c2VjcmV0" not in text
    assert clock.sleeps == [3]
    assert caught.value.pools["worker"].phase is PoolPhase.RENDERING


def test_template_controller_is_not_read_when_not_watched() -> None:
    finished = listing(
        pool("master", spec_config="rendered-master-new"), pool("worker", spec_config="rendered-worker-old")
    )
    cluster = FakeCluster(finished, machine_configs=RENDERED, controller_configs=[ForbiddenError("no", status=403)])
    clock = FakeClock()
    with pytest.raises(RolloutError, match="timed out"):
        wait(cluster, clock, timeout=3, interval=3, watch_template_controller=False)
    assert CONTROLLER_CONFIG_PATH not in cluster.paths


def test_wait_fails_at_once_on_a_paused_pool() -> None:
    paused = listing(
        pool("master", spec_config="rendered-master-new"),
        pool("worker", spec_config="rendered-worker-old", paused=True),
    )
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait(FakeCluster(paused, machine_configs=RENDERED), clock)
    assert "worker: paused" in str(caught.value)
    assert clock.sleeps == []
    assert caught.value.pools["worker"].phase is PoolPhase.PAUSED


@pytest.mark.parametrize("kind", ["NodeDegraded", "PinnedImageSetsDegraded", "ImageBuildDegraded"])
def test_wait_fails_at_once_on_a_degraded_pool_with_its_message(kind: str) -> None:
    degraded = listing(
        pool("master", spec_config="rendered-master-new"),
        pool("worker", conditions={kind: "True"}, messages={kind: "boom"}),
    )
    clock = FakeClock()
    with pytest.raises(RolloutError, match=f"worker: {kind}: boom"):
        wait(FakeCluster(degraded, machine_configs=RENDERED), clock)


def test_wait_rides_out_transient_errors() -> None:
    finished = listing(pool("master", spec_config="rendered-master-new"), pool("worker"))
    cluster = FakeCluster(
        KubeConnectionError("connection refused"),
        ServerError("etcd timeout", status=503),
        finished,
        machine_configs=RENDERED,
    )
    clock = FakeClock()
    result = wait(cluster, clock, timeout=60, interval=3)
    assert all(status.done for status in result.values())
    assert clock.sleeps == [3, 3]


def test_wait_timeout_reports_the_last_transient_error() -> None:
    clock = FakeClock()
    with pytest.raises(RolloutError) as caught:
        wait(FakeCluster(KubeConnectionError("connection refused")), clock, timeout=4, interval=3)
    assert "could not be read even once" in str(caught.value)
    assert "last error reading the pools: connection refused" in str(caught.value)


def test_wait_stops_when_the_pool_api_disappears() -> None:
    clock = FakeClock()
    with pytest.raises(RolloutError, match="MachineConfigPool API disappeared"):
        wait(FakeCluster(NotFoundError("not found", status=404)), clock, timeout=60)


def test_wait_does_not_swallow_permission_errors() -> None:
    clock = FakeClock()
    with pytest.raises(ForbiddenError):
        wait(FakeCluster(ForbiddenError("forbidden", status=403)), clock, timeout=60)
