# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""global_pull_secret against the sandbox's openshift-config/pull-secret (seeded with cloud.openshift.com, quay.io,
registry.redhat.io and registry.connect.redhat.com) and its MachineConfigPools; every test puts both back."""

from __future__ import annotations

import base64
import copy
import fcntl
import json
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import rendered_file
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

from .mco_stand_in import (
    MC_PATH,
    MachineConfigOperator,
    create_pool,
    pause_pool,
    set_control_plane_topology,
    set_node_disruption_policy,
    sync_templates_now,
)
from .sandbox_support import (
    MCP_PATH,
    PULL_SECRET_PATH,
    Kube,
    Sandbox,
    warnings_of,
)

SECRET_ENTRY_FIELDS = ("auth", "password", "identitytoken", "registrytoken")
NEW_REGISTRY = "privateregistry.example.com"
NEW_PASSWORD = "developer-Pa55word-never-shown"
POOLS = ("master", "worker")


class StoredSecret:
    """The pull secret as the API server holds it: object, raw ``.dockerconfigjson`` bytes, parsed document."""

    def __init__(self, kube: Kube, path: str = PULL_SECRET_PATH) -> None:
        self.object = kube.get(path)
        assert self.object is not None, f"{path} is missing"
        self.raw = base64.b64decode(self.object["data"][".dockerconfigjson"])
        self.resource_version = self.object["metadata"]["resourceVersion"]

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.raw)

    @property
    def auths(self) -> dict[str, Any]:
        return self.document["auths"]


def secret_strings(document: dict[str, Any]) -> set[str]:
    """Every credential in a document and its decoded form: none of them may appear in any output."""
    values = set()
    for entry in document.get("auths", {}).values():
        for field in SECRET_ENTRY_FIELDS:
            if entry.get(field):
                values.add(entry[field])
        if entry.get("auth"):
            decoded = base64.b64decode(entry["auth"]).decode()
            values.update({decoded, decoded.partition(":")[2]})
    return values


def assert_no_secret(text: str, document: dict[str, Any], *extra: str) -> None:
    for value in (*secret_strings(document), *extra):
        assert value not in text, "a credential reached the output"


@pytest.fixture
def original(kube: Kube, sandbox: Sandbox) -> Iterator[StoredSecret]:
    """The pull secret and pools before the test; both are put back afterwards, whatever the test did.

    The secret and the pools are one per cluster: a lock file in the sandbox directory keeps two runs of these tests
    (and anything else that takes the lock) from editing them at the same time.
    """
    lock = open(Path(sandbox.kubeconfig).parent / "global-pull-secret.lock", "a")  # noqa: SIM115 - held until teardown
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield from _saved_and_restored(kube)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def _saved_and_restored(kube: Kube) -> Iterator[StoredSecret]:
    saved_secret = kube.get(PULL_SECRET_PATH)
    saved_pools = {name: kube.get(f"{MCP_PATH}/{name}") for name in ("master", "worker")}
    yield StoredSecret(kube)
    current = kube.get(PULL_SECRET_PATH)
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "pull-secret",
            "namespace": "openshift-config",
            "labels": saved_secret["metadata"].get("labels") or {},
            "annotations": saved_secret["metadata"].get("annotations") or {},
            "resourceVersion": current["metadata"]["resourceVersion"],
        },
        "type": saved_secret["type"],
        "data": saved_secret["data"],
    }
    kube.replace(PULL_SECRET_PATH, body)
    sync_templates_now(kube)  # 00-<role> and the ControllerConfig as the template controller leaves them
    for name, saved in saved_pools.items():
        if saved is None:
            continue
        pool = kube.get(f"{MCP_PATH}/{name}")
        pool["spec"] = copy.deepcopy(saved["spec"])
        pool = kube.replace(f"{MCP_PATH}/{name}", pool)
        pool["status"] = copy.deepcopy(saved.get("status") or {})
        pool["status"]["observedGeneration"] = pool["metadata"].get("generation", 1)
        kube.replace(f"{MCP_PATH}/{name}/status", pool)


def _condition(kube: Kube, pool: str, kind: str) -> str | None:
    conditions = (kube.get(f"{MCP_PATH}/{pool}").get("status") or {}).get("conditions") or []
    return next((c["status"] for c in conditions if c["type"] == kind), None)


def secret_writes(audit: Any, mark: Any, namespace: str = "openshift-config", name: str = "pull-secret") -> list:
    return audit.writes(since=mark, resource="secrets", namespace=namespace, name=name)


def assert_untouched(kube: Kube, before: StoredSecret) -> None:
    after = StoredSecret(kube)
    assert after.raw == before.raw
    assert after.resource_version == before.resource_version


def add_registry_params(**extra: Any) -> dict[str, Any]:
    return {
        "registries": [{"server": NEW_REGISTRY, "username": "developer", "password": NEW_PASSWORD}],
        **extra,
    }


# --- the documented procedure, as one task ------------------------------------------------------------------------


def test_appends_a_registry_keeping_every_other_entry_exactly(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    # Another data key, a label and an annotation must survive the update too.
    kube.patch(
        PULL_SECRET_PATH,
        {"metadata": {"labels": {"team": "ops"}, "annotations": {"note": "keep"}}, "data": {"extra": b64("kept")}},
    )
    before = StoredSecret(kube)
    mark = audit.mark()
    result = run_module("global_pull_secret", add_registry_params())
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert (result["added"], result["updated"], result["removed"]) == ([NEW_REGISTRY], [], [])
    assert {"server": NEW_REGISTRY, "username": "developer"} in result["registries"]
    assert len(secret_writes(audit, mark)) == 1
    assert secret_writes(audit, mark)[0]["verb"] == "update"

    after = StoredSecret(kube)
    assert list(after.auths) == [*before.auths, NEW_REGISTRY]
    for key, entry in before.auths.items():
        assert list(after.auths[key].items()) == list(entry.items()), f"entry {key} changed"
    assert after.auths["cloud.openshift.com"]["email"] == before.auths["cloud.openshift.com"]["email"]
    assert after.auths[NEW_REGISTRY] == {
        "username": "developer",
        "password": NEW_PASSWORD,
        "auth": b64(f"developer:{NEW_PASSWORD}"),
    }
    assert after.object["metadata"]["labels"] == {"team": "ops"}
    assert after.object["metadata"]["annotations"] == {"note": "keep"}
    assert after.object["data"]["extra"] == b64("kept")
    assert after.object["type"] == "kubernetes.io/dockerconfigjson"
    assert_no_secret(run_module.last.stdout + run_module.last.stderr, after.document)

    # The same task again: nothing to do, and no write reaches the API server.
    mark = audit.mark()
    again = run_module("global_pull_secret", add_registry_params())
    assert again["changed"] is False
    assert again["added"] == again["updated"] == again["removed"] == []
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, after)


def test_check_mode_predicts_the_change_and_writes_nothing(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    mark = audit.mark()
    predicted = run_module("global_pull_secret", add_registry_params(backup=True), check=True, diff=True)
    assert predicted["changed"] is True
    assert predicted["added"] == [NEW_REGISTRY]
    assert predicted["backup_file"] is None
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, original)

    diff = predicted["diff"]
    assert NEW_REGISTRY not in diff["before"]["auths"]
    assert diff["after"]["auths"][NEW_REGISTRY]["username"] == "developer"
    assert diff["after"]["auths"]["cloud.openshift.com"] == diff["before"]["auths"]["cloud.openshift.com"]
    output = run_module.last.stdout + run_module.last.stderr
    assert_no_secret(output, original.document, NEW_PASSWORD, b64(f"developer:{NEW_PASSWORD}"))

    real = run_module("global_pull_secret", add_registry_params(), diff=True)
    assert real["changed"] is True
    assert real["diff"] == diff
    assert_no_secret(run_module.last.stdout + run_module.last.stderr, StoredSecret(kube).document)
    check_again = run_module("global_pull_secret", add_registry_params(), check=True)
    assert check_again["changed"] is False


def test_whitespace_only_difference_is_no_change(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    # Stored pretty-printed with sorted keys, as people paste it: giving an entry back as it is changes nothing.
    pretty = copy.deepcopy(original.object)
    pretty["data"][".dockerconfigjson"] = b64(json.dumps(original.document, indent=2, sort_keys=True) + "\n")
    kube.replace(PULL_SECRET_PATH, pretty)
    before = StoredSecret(kube)
    assert b"\n  " in before.raw
    entry = original.auths["registry.redhat.io"]
    mark = audit.mark()
    result = run_module("global_pull_secret", {"auth_content": {"auths": {"registry.redhat.io": entry}}})
    assert result["changed"] is False
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, before)


def test_state_absent_removes_keys_without_credentials(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    params = {"state": "absent", "registries": [{"server": "registry.connect.redhat.com"}]}
    result = run_module("global_pull_secret", params)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert result["removed"] == ["registry.connect.redhat.com"]
    after = StoredSecret(kube)
    expected = {key: entry for key, entry in original.auths.items() if key != "registry.connect.redhat.com"}
    assert after.auths == expected
    assert list(after.auths) == list(expected)

    mark = audit.mark()
    again = run_module("global_pull_secret", {"state": "absent", "remove_registries": ["registry.connect.redhat.com"]})
    assert again["changed"] is False
    assert secret_writes(audit, mark) == []


def test_rotation_adds_and_removes_in_one_write(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    mark = audit.mark()
    result = run_module("global_pull_secret", add_registry_params(remove_registries=["quay.io"]))
    assert (result["added"], result["removed"]) == ([NEW_REGISTRY], ["quay.io"])
    assert len(secret_writes(audit, mark)) == 1
    assert set(StoredSecret(kube).auths) == (set(original.auths) - {"quay.io"}) | {NEW_REGISTRY}


# --- Telemetry guard and replace ----------------------------------------------------------------------------------


def test_replace_is_refused_without_telemetry_then_allowed(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    mark = audit.mark()
    refused = run_module("global_pull_secret", add_registry_params(replace=True))
    assert refused["failed"] is True
    assert "remove the cloud.openshift.com entry" in refused["msg"]
    assert "Telemetry and the Insights Operator stop reporting" in refused["msg"]
    assert "allow_telemetry_change: true" in refused["msg"]
    assert "nothing was written" in refused["msg"]
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, original)

    # Keeping the Telemetry entry as it is needs no flag.
    telemetry = original.auths["cloud.openshift.com"]
    before = StoredSecret(kube)
    kept = run_module(
        "global_pull_secret",
        add_registry_params(replace=True, auth_content={"auths": {"cloud.openshift.com": telemetry}}),
    )
    assert not kept.get("failed"), kept.get("msg")
    after = StoredSecret(kube)
    assert list(after.auths) == ["cloud.openshift.com", NEW_REGISTRY]
    assert after.auths["cloud.openshift.com"] == telemetry
    assert kept["removed"] == [key for key in before.auths if key != "cloud.openshift.com"]

    allowed = run_module("global_pull_secret", add_registry_params(replace=True, allow_telemetry_change=True))
    assert not allowed.get("failed"), allowed.get("msg")
    assert allowed["removed"] == ["cloud.openshift.com"]
    assert StoredSecret(kube).document == {"auths": {NEW_REGISTRY: after.auths[NEW_REGISTRY]}}


def test_changing_only_the_telemetry_email_is_refused(kube: Kube, original: StoredSecret, run_module: Any) -> None:
    entry = dict(original.auths["cloud.openshift.com"], email="someone-else@example.org")
    result = run_module("global_pull_secret", {"auth_content": {"auths": {"cloud.openshift.com": entry}}})
    assert result["failed"] is True
    assert "change the cloud.openshift.com entry" in result["msg"]
    assert_untouched(kube, original)


# --- backup ---------------------------------------------------------------------------------------------------------


def test_backup_holds_the_previous_bytes_with_mode_0600(
    kube: Kube, original: StoredSecret, run_module: Any, tmp_path: Path
) -> None:
    backup_dir = tmp_path / "backups"
    result = run_module("global_pull_secret", add_registry_params(backup=True, backup_dir=str(backup_dir)))
    assert not result.get("failed"), result.get("msg")
    backup = Path(result["backup_file"])
    assert backup.parent == backup_dir
    assert backup.read_bytes() == original.raw
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    assert "openshift-config_pull-secret" in backup.name

    again = run_module("global_pull_secret", add_registry_params(backup=True, backup_dir=str(backup_dir)))
    assert again["changed"] is False
    assert again["backup_file"] is None
    assert list(backup_dir.iterdir()) == [backup]


def test_unwritable_backup_dir_stops_the_write(
    kube: Kube, original: StoredSecret, run_module: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = run_module("global_pull_secret", add_registry_params(backup=True, backup_dir=str(blocker / "sub")))
    assert result["failed"] is True
    assert "cannot write the backup" in result["msg"]
    assert "nothing was written" in result["msg"]
    assert_untouched(kube, original)


# --- credential validation ------------------------------------------------------------------------------------------


def test_credentials_are_checked_against_the_sandbox_registries(
    kube: Kube, original: StoredSecret, sandbox: Sandbox, run_module: Any
) -> None:
    good = [
        {"server": sandbox.registry, "username": sandbox.registry_user, "password": sandbox.registry_password},
        {"server": sandbox.token_registry, "username": sandbox.registry_user, "password": sandbox.registry_password},
    ]
    common = {"validate_credentials": True, "registry_ca_cert": sandbox.registry_ca}

    wrong = [dict(good[0], password="wrong-password-for-test")]
    refused = run_module("global_pull_secret", {"registries": wrong, **common})
    assert refused["failed"] is True
    assert sandbox.registry in refused["msg"]
    assert "nothing was written" in refused["msg"]
    assert "wrong-password-for-test" not in run_module.last.stdout + run_module.last.stderr
    assert_untouched(kube, original)

    result = run_module("global_pull_secret", {"registries": good, **common})
    assert not result.get("failed"), result.get("msg")
    assert [check["ok"] for check in result["credential_checks"]] == [True, True]
    assert set(result["added"]) == {sandbox.registry, sandbox.token_registry}
    assert sandbox.registry_password not in run_module.last.stdout + run_module.last.stderr

    # the secret now holds both entries as given: a run that writes nothing checks nothing
    again = run_module("global_pull_secret", {"registries": good, **common})
    assert not again.get("failed"), again.get("msg")
    assert (again["changed"], again["credential_checks"]) == (False, [])


# --- waiting for the MachineConfigPools -----------------------------------------------------------------------------


def _rendered_auths(kube: Kube, pool: str) -> dict[str, Any]:
    """The auths of /var/lib/kubelet/config.json in the rendered config the pool targets."""
    name = kube.get(f"{MCP_PATH}/{pool}")["spec"]["configuration"]["name"]
    content = rendered_file(kube.get(f"{MC_PATH}/{name}"))
    assert content is not None, name
    return json.loads(content)["auths"]


def test_wait_follows_every_pool_to_a_rendered_config_that_holds_the_change(
    kube: Kube, original: StoredSecret, run_module: Any
) -> None:
    create_pool(kube, "infra", machines=4)  # a custom pool: its four machines go one at a time
    try:
        before = {name: kube.get(f"{MCP_PATH}/{name}")["spec"]["configuration"]["name"] for name in (*POOLS, "infra")}
        with MachineConfigOperator(kube, render_delay=0.5, node_delay=0.3) as mco:
            result = run_module("global_pull_secret", add_registry_params(wait=True, wait_timeout=120))
        assert not result.get("failed"), result.get("msg")
        assert mco.renders == 3
        assert set(result["rollout"]) == {"master", "worker", "infra"}
        for name, pool in result["rollout"].items():
            assert pool["done"] is True
            assert pool["state"] == "done"
            assert pool["before"] == before[name] != pool["after"]
            assert pool["updated_machine_count"] == pool["machine_count"] == pool["ready_machine_count"] > 0
            assert pool["unavailable_machine_count"] == 0
            live = kube.get(f"{MCP_PATH}/{name}")
            assert live["spec"]["configuration"]["name"] == live["status"]["configuration"]["name"] == pool["after"]
            # decided by content: the rendered config really carries the entry, with the credential written
            assert _rendered_auths(kube, name)[NEW_REGISTRY] == StoredSecret(kube).auths[NEW_REGISTRY]
        assert result["rollout"]["infra"]["machine_count"] == 4
    finally:
        kube.delete(f"{MCP_PATH}/infra")

    # Nothing changed: no wait, no rollout reported.
    again = run_module("global_pull_secret", add_registry_params(wait=True, wait_timeout=5))
    assert again["changed"] is False
    assert again["rollout"] == {}


def test_wait_refuses_a_paused_pool_before_writing(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    pause_pool(kube, "worker")
    mark = audit.mark()
    result = run_module("global_pull_secret", add_registry_params(wait=True, wait_timeout=60))
    assert result["failed"] is True
    assert "worker: paused (spec.paused: true)" in result["msg"]
    assert "nothing was written" in result["msg"]
    assert "wait: false" in result["msg"]
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, original)


def test_wait_refuses_an_already_degraded_pool_before_writing(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    with MachineConfigOperator(kube) as mco:
        mco.degrade("worker", "PinnedImageSetsDegraded", "Node worker-1 references an invalid PinnedImageSet")
        kube.wait_for(
            lambda: _condition(kube, "worker", "Degraded") == "True", timeout=30, what="the worker pool degraded"
        )
        mark = audit.mark()
        result = run_module("global_pull_secret", add_registry_params(wait=True, wait_timeout=60))
    assert result["failed"] is True
    assert "worker: PinnedImageSetsDegraded: Node worker-1 references an invalid PinnedImageSet" in result["msg"]
    assert "nothing was written" in result["msg"]
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, original)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("NodeDegraded", "Node worker-1 is reporting: failed to write /var/lib/kubelet/config.json"),
        ("ImageBuildDegraded", "Custom OS image build failed"),
    ],
)
def test_a_pool_that_degrades_during_the_wait_fails_it_saying_the_secret_was_written(
    kube: Kube, original: StoredSecret, run_module: Any, tmp_path: Path, *, condition: str, message: str
) -> None:
    params = add_registry_params(wait=True, wait_timeout=120, backup=True, backup_dir=str(tmp_path))
    with MachineConfigOperator(kube) as mco:
        mco.degrade("worker", condition, message, when_rolling_out=True)
        result = run_module("global_pull_secret", params)
    assert result["failed"] is True
    assert "was updated, but the MachineConfigPools did not finish" in result["msg"]
    # and how to go back: the backup of what the write replaced
    assert result["backup_file"] and Path(result["backup_file"]).read_bytes() == original.raw
    assert (
        "To go back to the previous document: oc set data secret/pull-secret -n openshift-config "
        f"--from-file=.dockerconfigjson={result['backup_file']}"
    ) in result["msg"]
    assert f"worker: {condition}: {message}" in result["msg"]
    assert result["changed"] is True
    assert result["added"] == [NEW_REGISTRY]
    assert result["rollout"]["worker"]["state"] == "degraded"
    assert NEW_REGISTRY in StoredSecret(kube).auths


def test_wait_fails_at_once_when_the_mco_cannot_render_the_pull_secret(
    kube: Kube, original: StoredSecret, run_module: Any
) -> None:
    # The template controller's own failure path for an error that is not the secret's (IRI credentials merge)
    with MachineConfigOperator(kube, render_delay=30) as mco:
        mco.fail_template_syncs("could not merge IRI registry credentials into pull secret: secret not found")
        result = run_module("global_pull_secret", add_registry_params(wait=True, wait_timeout=600))
    assert result["failed"] is True
    assert "was updated, but the MachineConfigPools did not finish" in result["msg"]
    assert "ControllerConfig machine-config-controller reports TemplateControllerFailing" in result["msg"]
    assert "could not merge IRI registry credentials into pull secret: secret not found" in result["msg"]
    assert {pool["state"] for pool in result["rollout"].values()} == {"rendering"}


def test_wait_refuses_when_the_mco_renders_nothing_now(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    with MachineConfigOperator(kube) as mco:
        mco.fail_template_syncs("could not merge IRI registry credentials into pull secret: secret not found")
        # someone re-saves the secret (same entries, other whitespace): the template controller syncs and fails
        kube.patch(PULL_SECRET_PATH, {"data": {".dockerconfigjson": b64(json.dumps(original.document, indent=3))}})
        kube.wait_for(lambda: mco.failures, timeout=30, what="the template controller to fail")
        before = StoredSecret(kube)
        mark = audit.mark()
        result = run_module("global_pull_secret", add_registry_params(wait=True, wait_timeout=60))
    assert result["failed"] is True
    assert "renders no pull secret now" in result["msg"]
    assert "nothing was written" in result["msg"]
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, before)


def test_a_newer_config_without_the_change_is_not_taken_for_the_rollout(
    kube: Kube, original: StoredSecret, run_module: Any
) -> None:
    # Another writer replaces the document right after ours with one that adds its registry and drops ours: every
    # pool moves to a new rendered config, which a "the name changed" rule would have called done.
    other = {"other.example.org": {"auth": b64("other:other-token")}}

    def overwrite_once_ours_lands(stop: threading.Event) -> None:
        while not stop.is_set():
            if NEW_REGISTRY in StoredSecret(kube).auths:
                document = copy.deepcopy(original.document)
                document["auths"].update(other)
                kube.patch(PULL_SECRET_PATH, {"data": {".dockerconfigjson": b64(json.dumps(document))}})
                return
            stop.wait(0.05)

    stop = threading.Event()
    writer = threading.Thread(target=overwrite_once_ours_lands, args=(stop,), daemon=True)
    with MachineConfigOperator(kube, render_delay=1.0):
        writer.start()
        result = run_module("global_pull_secret", add_registry_params(wait=True, wait_timeout=12))
        stop.set()
        writer.join(timeout=10)
        for name in POOLS:
            assert "other.example.org" in _rendered_auths(kube, name)
    assert result["failed"] is True
    assert "timed out after 12 s" in result["msg"]
    for pool in result["rollout"].values():
        assert pool["state"] == "rendering", pool
        assert pool["after"] != pool["before"]
        assert "which does not hold this task's change" in pool["detail"]


def test_wait_timeout_names_the_pools_not_done(kube: Kube, original: StoredSecret, run_module: Any) -> None:
    # No MCO stand-in: the pools never move to a new rendered config.
    result = run_module("global_pull_secret", add_registry_params(wait=True, wait_timeout=4))
    assert result["failed"] is True
    assert "timed out after 4 s" in result["msg"]
    assert "master: no new rendered config yet" in result["msg"]
    assert "worker: no new rendered config yet" in result["msg"]
    assert {pool["state"] for pool in result["rollout"].values()} == {"rendering"}


def test_a_node_disruption_policy_that_drains_is_warned_about(
    kube: Kube, original: StoredSecret, run_module: Any
) -> None:
    set_node_disruption_policy(
        kube, [{"type": "Drain"}, {"type": "Restart", "restart": {"serviceName": "crio.service"}}]
    )
    try:
        result = run_module("global_pull_secret", add_registry_params())
    finally:
        set_node_disruption_policy(kube, [{"type": "None"}])
    assert result["changed"] is True
    assert any(
        "node disruption policy applies Drain, Restart crio.service when /var/lib/kubelet/config.json" in warning
        for warning in warnings_of(result)
    ), warnings_of(result)
    # the default policy (None) is no news
    quiet = run_module("global_pull_secret", {"remove_registries": [NEW_REGISTRY]})
    assert quiet["changed"] is True
    assert not any("node disruption" in warning for warning in warnings_of(quiet))


def test_a_hosted_control_plane_is_refused_before_writing(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any
) -> None:
    set_control_plane_topology(kube, "External")
    try:
        mark = audit.mark()
        predicted = run_module("global_pull_secret", add_registry_params(), check=True)
        result = run_module("global_pull_secret", add_registry_params())
        unchanged = run_module("global_pull_secret", {"remove_registries": ["never-there.example.org"]})
    finally:
        set_control_plane_topology(kube, "HighlyAvailable")
    for failed in (predicted, result):
        assert failed["failed"] is True
        assert "controlPlaneTopology: External" in failed["msg"]
        assert "kube-system/additional-pull-secret" in failed["msg"]
        assert "nothing was written" in failed["msg"]
    assert unchanged["changed"] is False and not unchanged.get("failed")  # nothing to do is still fine
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, original)


# --- concurrency ----------------------------------------------------------------------------------------------------

CONCURRENT_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Add one registry to the global pull secret
      openshift_ops.images.global_pull_secret:
        registries:
          - server: "{{ registry }}"
            username: "{{ user }}"
            password: "{{ password }}"
"""


def test_twenty_concurrent_playbooks_all_land(
    kube: Kube, original: StoredSecret, run_playbook: Any, audit: Any
) -> None:
    count = 20
    mark = audit.mark()
    start = threading.Barrier(count)
    outcomes: dict[int, Any] = {}

    def one(index: int) -> None:
        start.wait()
        outcomes[index] = run_playbook(
            CONCURRENT_PLAY,
            extra_vars={
                "registry": f"registry-{index:02d}.example.com",
                "user": f"user{index}",
                "password": f"concurrent-secret-{index}",
            },
        )

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for index, completed in sorted(outcomes.items()):
        assert completed.returncode == 0, f"playbook {index}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        assert f"concurrent-secret-{index}" not in completed.stdout + completed.stderr
    after = StoredSecret(kube)
    added = {f"registry-{index:02d}.example.com" for index in range(count)}
    # A superset: the sandbox is shared, and an entry someone else added meanwhile must not be lost either.
    assert set(after.auths) >= set(original.auths) | added
    for key, entry in original.auths.items():
        assert after.auths[key] == entry
    for index in range(count):
        assert after.auths[f"registry-{index:02d}.example.com"]["password"] == f"concurrent-secret-{index}"
    codes = [event.get("responseStatus", {}).get("code") for event in secret_writes(audit, mark)]
    print(f"PUTs of the pull secret: {codes.count(200)} accepted, {codes.count(409)} conflicts")
    assert codes.count(200) >= count


# --- bad input and a bad cluster document ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"auth_content": '{"auths": {"quay.io": '}, "auth_content is not valid JSON"),
        ({"registries": [{"server": "bad.example.com", "auth": "bm8tY29sb24="}]}, 'does not decode to "user:password"'),
        ({"registries": [{"server": "quay.io/ns/repo:latest", "username": "u", "password": "p"}]}, "not a tag"),
        (
            {
                "remove_registries": ["quay.io"],
                "registries": [{"server": "https://quay.io", "username": "u", "password": "p"}],
            },
            "both given with credentials",
        ),
        (
            {
                "replace": True,
                "remove_registries": ["quay.io"],
                "registries": [{"server": "a.io", "username": "u", "password": "p"}],
            },
            "no effect",
        ),
        ({"state": "absent", "auth_content": {"auths": {}}}, "not used with it"),
        ({}, "nothing to do"),
    ],
)
def test_bad_input_is_refused_and_the_cluster_document_is_untouched(
    kube: Kube, original: StoredSecret, run_module: Any, params: dict[str, Any], expected: str
) -> None:
    result = run_module("global_pull_secret", params)
    assert result["failed"] is True
    assert expected in result["msg"]
    assert_untouched(kube, original)


@pytest.mark.parametrize(
    "case",
    [
        # The API server accepts these (it only unmarshals into a map); merging into them would write a document
        # holding only the new entry.
        ("null", "is JSON NoneType, not an object"),
        ('{"auths": ["quay.io"]}', "auths field of the secret openshift-config/pull-secret is not an object"),
        # Valid JSON the kubelet cannot use: every pull through this secret fails.
        ('{"auths": {"quay.io": {"auth": "bm8tY29sb24="}}}', "already invalid"),
    ],
)
def test_a_cluster_document_we_cannot_merge_into_is_never_overwritten(
    kube: Kube, original: StoredSecret, run_module: Any, audit: Any, case: tuple[str, str]
) -> None:
    stored, expected = case
    broken = copy.deepcopy(original.object)
    broken["data"][".dockerconfigjson"] = b64(stored)
    kube.replace(PULL_SECRET_PATH, broken)
    before = StoredSecret(kube)
    mark = audit.mark()
    result = run_module("global_pull_secret", add_registry_params())
    assert result["failed"] is True
    assert expected in result["msg"]
    assert "nothing was written" in result["msg"]
    assert secret_writes(audit, mark) == []
    assert_untouched(kube, before)


def test_a_broken_entry_in_the_cluster_can_be_removed(kube: Kube, original: StoredSecret, run_module: Any) -> None:
    document = original.document
    document["auths"]["broken.example.com"] = {"auth": "bm8tY29sb24="}
    broken = copy.deepcopy(original.object)
    broken["data"][".dockerconfigjson"] = b64(json.dumps(document))
    kube.replace(PULL_SECRET_PATH, broken)
    result = run_module("global_pull_secret", {"state": "absent", "remove_registries": ["broken.example.com"]})
    assert not result.get("failed"), result.get("msg")
    assert result["removed"] == ["broken.example.com"]
    assert StoredSecret(kube).auths == original.auths


def test_a_secret_of_another_type_is_refused(kube: Kube, namespace: str, run_module: Any, audit: Any) -> None:
    path = f"/api/v1/namespaces/{namespace}/secrets"
    kube.create(
        path,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "pull-secret"},
            "type": "Opaque",
            "data": {".dockerconfigjson": b64('{"auths": {}}')},
        },
    )
    mark = audit.mark()
    result = run_module("global_pull_secret", add_registry_params(namespace=namespace))
    assert result["failed"] is True
    assert "has type Opaque, not kubernetes.io/dockerconfigjson" in result["msg"]
    assert secret_writes(audit, mark, namespace=namespace) == []


def test_a_missing_secret_is_not_created(namespace: str, kube: Kube, run_module: Any) -> None:
    result = run_module("global_pull_secret", add_registry_params(namespace=namespace))
    assert result["failed"] is True
    assert f"the secret {namespace}/pull-secret does not exist" in result["msg"]
    assert kube.get(f"/api/v1/namespaces/{namespace}/secrets/pull-secret") is None


def test_playbook_output_shows_no_secret_even_verbose(
    kube: Kube, original: StoredSecret, run_playbook: Any, tmp_path: Path
) -> None:
    play = """
- hosts: localhost
  gather_facts: false
  tasks:
    - openshift_ops.images.global_pull_secret:
        registries:
          - server: privateregistry.example.com
            username: developer
            password: "{{ password }}"
        backup: true
        backup_dir: "{{ backup_dir }}"
      register: result
    - ansible.builtin.debug:
        var: result
"""
    completed = run_playbook(
        play, extra_vars={"password": NEW_PASSWORD, "backup_dir": str(tmp_path)}, diff=True, verbosity=3
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "privateregistry.example.com" in completed.stdout
    assert_no_secret(completed.stdout + completed.stderr, StoredSecret(kube).document, NEW_PASSWORD)
