# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet runbook (playbooks/fleet_registry_access.yml) against two real clusters at once: the session's sandbox
and a second, independent one started for this module (other ports, CA, etcd), stopped at the end whatever
happens. One inventory host per cluster, as docs/fleet_inventory.yml shows: the session's cluster through its admin
kubeconfig and context, the second by URL, CA and a vaulted bearer token (sandbox-user, made cluster-admin there).

- both clusters end with the registry in their global pull secret (next to the seeded entries) and a linked pull
  secret in each listed project; a check run before writes nothing; a second run changes nothing and writes
  nothing on either (audit logs); the timings of forks 1 against forks 2 are printed, never asserted;
- a third host whose API server is down, and a fourth without a connection, fail alone while the two others complete;
- the same run sliced as AWX slices a job (2 slices), each slice through ansible-runner's streaming interface in
  its own ``ansible-runner worker`` process and private data dir, the events of all slices in one report.

The session's global pull secret is shared with other tests: each test holds its lock and puts the seeded secret
back at the end (runbook_support.global_pull_secret_held); the second cluster's is reset as well."""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.openshift_ops.images.tests.unit.support.ports import closed_port

from .fleet_jobs import BIN, GROUP, Cluster, grant_sandbox_user_admin, write_inventory
from .fleet_support import (
    FleetRun,
    format_table,
    run_fleet,
    run_sliced,
    sliced_report,
    started_sandbox,
    vault_password,
)
from .leak_scan import LEAKS
from .runbook_support import (
    Projects,
    collection_writes,
    global_pull_secret_held,
    image_pull_secrets,
    recap,
    stored_auths,
)
from .sandbox_support import (
    REPO_ROOT,
    AuditMark,
    Kube,
    Sandbox,
    read_kubeconfig,
    seed,
    seeded_pull_secret_document,
)

SECRET = "fleet-registry"
SEEDED_KEYS = list(seeded_pull_secret_document()["auths"])
TIMINGS: list[str] = []


class _TimingsReport:
    """Prints the timings and sliced reports at the end of the session's terminal summary (they are measured,
    never asserted)."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in TIMINGS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module", autouse=True)
def timings_report(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    if not manager.has_plugin("fleet-timings"):
        manager.register(_TimingsReport(), "fleet-timings")


@pytest.fixture(scope="module")
def second_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with started_sandbox(tmp_path_factory.mktemp("fleet-sandbox")) as second:
        yield second


@pytest.fixture(scope="module")
def second_kube(second_sandbox: Sandbox) -> Iterator[Kube]:
    """Admin client of the second cluster, where sandbox-user is made cluster-admin (its token is the host's)."""
    kube = Kube(second_sandbox.kubeconfig)
    binding = grant_sandbox_user_admin(kube)
    yield kube
    kube.delete(binding)


@pytest.fixture
def fleet(
    sandbox: Sandbox, kube: Kube, second_sandbox: Sandbox, second_kube: Kube, request: pytest.FixtureRequest
) -> Iterator[list[Cluster]]:
    """The two clusters, each with fresh projects (two on the session's, one on the second), the session's global
    pull secret held for the test; afterwards the projects are deleted and both global pull secrets reseeded."""
    token = read_kubeconfig(second_sandbox.user_kubeconfig).token
    assert token
    first_projects, second_projects = Projects(kube, request.node.name), Projects(second_kube, request.node.name)
    with global_pull_secret_held(sandbox, kube):
        try:
            clusters = [
                Cluster(
                    "cluster-a",
                    sandbox,
                    kube,
                    {
                        "openshift_kubeconfig": sandbox.kubeconfig,
                        "openshift_context": current_context(sandbox.kubeconfig),
                        "registry_onboarding_namespaces": [first_projects.new("a"), first_projects.new("b")],
                    },
                ),
                Cluster(
                    "cluster-b",
                    second_sandbox,
                    second_kube,
                    {
                        "openshift_host": second_sandbox.api,
                        "openshift_ca_cert": second_sandbox.ca,
                        "registry_onboarding_namespaces": [second_projects.new("a")],
                    },
                    vaulted={"openshift_api_key": token},
                ),
            ]
            yield clusters
        finally:
            first_projects.delete_all()
            second_projects.delete_all()
            seed(second_kube, reset=True)


def current_context(kubeconfig: str) -> str:
    return str(yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))["current-context"])


@pytest.fixture
def vault_file(tmp_path: Path) -> Path:
    return vault_password(tmp_path, f"fleet-vault-{secrets.token_hex(12)}")


def registry_vars(sandbox: Sandbox, **more: Any) -> dict[str, Any]:
    """One registry (the session sandbox's) for the whole fleet, with its CA for the credential check."""
    return {
        "registry_onboarding_server": sandbox.registry,
        "registry_onboarding_username": sandbox.registry_user,
        "registry_onboarding_password": sandbox.registry_password,
        "registry_onboarding_registry_ca_cert": sandbox.registry_ca,
        "registry_onboarding_secret_name": SECRET,
        **more,
    }


def output(run: FleetRun) -> str:
    return run.completed.stdout[-8000:] + run.completed.stderr[-3000:]


def fleet_succeeded(run: FleetRun, clusters: list[Cluster]) -> dict[str, dict[str, int]]:
    assert run.completed.returncode == 0, output(run)
    counts = {cluster.name: recap(run.completed, cluster.name) for cluster in clusters}
    assert all(count["failed"] == 0 and count["unreachable"] == 0 for count in counts.values()), output(run)
    return counts


def global_keys(cluster: Cluster) -> list[str]:
    return list(stored_auths(cluster.kube, "openshift-config", "pull-secret"))


def writes_since(cluster: Cluster, mark: AuditMark) -> list[Any]:
    """The collection's writes to the cluster: its projects and openshift-config."""
    namespaces = [*cluster.host_vars["registry_onboarding_namespaces"], "openshift-config"]
    return [write for ns in namespaces for write in collection_writes(cluster.audit, mark, namespace=ns)]


def assert_onboarded(cluster: Cluster, registry: str) -> None:
    assert global_keys(cluster) == [*SEEDED_KEYS, registry], cluster.name
    for namespace in cluster.host_vars["registry_onboarding_namespaces"]:
        assert list(stored_auths(cluster.kube, namespace, SECRET)) == [registry]
        assert SECRET in image_pull_secrets(cluster.kube, namespace, "default")


def debug_messages(run: FleetRun, key: str) -> dict[str, dict[str, Any]]:
    """The summary messages holding ``key`` (the debug tasks' ``msg``, printed as JSON), by host."""
    found: dict[str, dict[str, Any]] = {}
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^ok: \[(?P<host>[^\]]+)\] => (?=\{)", run.completed.stdout, re.MULTILINE):
        value, _end = decoder.raw_decode(run.completed.stdout, match.end())
        message = value.get("msg")
        if isinstance(message, dict) and key in message:
            found[match["host"]] = message
    return found


def failures_of(run: FleetRun, host: str) -> list[dict[str, Any]]:
    """The results of the failed tasks (or loop items) of ``host``, printed as JSON after ``fatal: [host]: FAILED!
    =>`` or ``failed: [host] (item=...) =>``."""
    decoder = json.JSONDecoder()
    name = re.escape(host)
    pattern = rf"^(?:fatal: \[{name}\]: FAILED!|failed: \[{name}\] \(item=[^)\n]*\)) => (?=\{{)"
    return [
        decoder.raw_decode(run.completed.stdout, match.end())[0]
        for match in re.finditer(pattern, run.completed.stdout, re.MULTILINE)
    ]


def cluster_summaries(run: FleetRun) -> dict[str, dict[str, Any]]:
    return debug_messages(run, "cluster")


def test_the_example_inventory_parses() -> None:
    listed = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(REPO_ROOT / "docs" / "fleet_inventory.yml"), "--list"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    inventory = json.loads(listed.stdout)
    assert inventory[GROUP]["hosts"] == ["prod-eu", "prod-us"]


def test_one_registry_for_two_clusters(
    sandbox: Sandbox, fleet: list[Cluster], vault_file: Path, tmp_path: Path
) -> None:
    inventory = write_inventory(tmp_path / "inventory", fleet, vault_password_file=vault_file)
    extra = registry_vars(sandbox)

    def run(name: str, *, forks: int, check: bool = False, shipped_modules: bool = False, **more: Any) -> FleetRun:
        return run_fleet(
            sandbox,
            inventory,
            vault_password_file=vault_file,
            extra_vars={**extra, **more},
            forks=forks,
            work_dir=tmp_path / name,
            check=check,
            shipped_modules=shipped_modules,
        )

    marks = [cluster.audit.mark() for cluster in fleet]
    predicted = run("check", forks=2, check=True)
    predicted_counts = fleet_succeeded(predicted, fleet)
    assert all(count["changed"] == 2 for count in predicted_counts.values()), predicted_counts  # secrets, global
    for cluster, mark in zip(fleet, marks, strict=True):
        assert writes_since(cluster, mark) == [], cluster.name
        assert global_keys(cluster) == SEEDED_KEYS

    first = run("first", forks=2)
    assert {name: count["changed"] for name, count in fleet_succeeded(first, fleet).items()} == {
        name: count["changed"] for name, count in predicted_counts.items()
    }
    for cluster in fleet:
        assert_onboarded(cluster, sandbox.registry)
    summaries = cluster_summaries(first)
    assert summaries["cluster-a"]["global_pull_secret"] == "added"
    assert summaries["cluster-b"]["project_pull_secrets"] == dict.fromkeys(
        fleet[1].host_vars["registry_onboarding_namespaces"], "created"
    )
    # the token reached the modules of cluster-b only, masked
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in first.completed.stdout

    marks = [cluster.audit.mark() for cluster in fleet]
    second = run("second", forks=2)
    assert all(count["changed"] == 0 for count in fleet_succeeded(second, fleet).values()), output(second)
    serial = run("second-serial", forks=1)
    assert all(count["changed"] == 0 for count in fleet_succeeded(serial, fleet).values()), output(serial)
    # the same on the shipped-module path (each task a module process), where the forks have more to overlap
    shipped = {forks: run(f"second-modules-{forks}", forks=forks, shipped_modules=True) for forks in (2, 1)}
    for each in shipped.values():
        assert all(count["changed"] == 0 for count in fleet_succeeded(each, fleet).values()), output(each)
    for cluster, mark in zip(fleet, marks, strict=True):
        assert writes_since(cluster, mark) == [], cluster.name
    assert {summary["changed"] for summary in cluster_summaries(second).values()} == {False}

    # converging serially: take it all away (forks 1), then put it back (forks 1)
    removed = run("absent-serial", forks=1, registry_onboarding_state="absent")
    fleet_succeeded(removed, fleet)
    for cluster in fleet:
        assert global_keys(cluster) == SEEDED_KEYS
    converged_serially = run("first-serial", forks=1)
    fleet_succeeded(converged_serially, fleet)
    for cluster in fleet:
        assert_onboarded(cluster, sandbox.registry)

    TIMINGS.extend(
        [
            "fleet timings (2 clusters, ansible-playbook -vvv --diff, wall clock):",
            f"  converging run:           forks 2 {first.seconds:5.1f} s   forks 1 {converged_serially.seconds:5.1f} s",
            f"  no-change run:            forks 2 {second.seconds:5.1f} s   forks 1 {serial.seconds:5.1f} s",
            f"  no-change, shipped:       forks 2 {shipped[2].seconds:5.1f} s   forks 1 {shipped[1].seconds:5.1f} s",
            f"  check run:                forks 2 {predicted.seconds:5.1f} s",
            f"  removal (state absent):   forks 1 {removed.seconds:5.1f} s",
        ]
    )
    print("\n".join(TIMINGS[-6:]))


def test_a_cluster_that_is_down_fails_alone(
    sandbox: Sandbox, fleet: list[Cluster], vault_file: Path, tmp_path: Path
) -> None:
    """A host whose API server is down fails at its first request, one without a connection of its own before any;
    the two clusters that are up complete their changes."""
    down_token = f"fleet-down-{secrets.token_hex(16)}"
    down = Cluster(
        "cluster-down",
        sandbox,
        fleet[0].kube,
        {
            "openshift_host": f"https://127.0.0.1:{closed_port()}",
            "openshift_ca_cert": sandbox.ca,
            "registry_onboarding_namespaces": ["team-a"],
        },
        vaulted={"openshift_api_key": down_token},
    )
    LEAKS.add_secret(down_token)
    unset = Cluster("cluster-unset", sandbox, fleet[0].kube, {"registry_onboarding_namespaces": ["team-a"]})
    inventory = write_inventory(tmp_path / "inventory", [*fleet, down, unset], vault_password_file=vault_file)
    run = run_fleet(
        sandbox,
        inventory,
        vault_password_file=vault_file,
        extra_vars=registry_vars(sandbox),
        forks=4,
        work_dir=tmp_path / "run",
    )
    print(f"fleet run with a cluster down: rc={run.completed.returncode} in {run.seconds:.1f} s")
    assert run.completed.returncode == 2, output(run)  # ansible-playbook: some host failed
    counts = {cluster.name: recap(run.completed, cluster.name) for cluster in [*fleet, down, unset]}
    print(counts)
    for failing in (down, unset):
        assert (counts[failing.name]["failed"], counts[failing.name]["changed"]) == (1, 0), counts
    for cluster in fleet:
        assert counts[cluster.name]["failed"] == 0, counts
        assert counts[cluster.name]["changed"] == 2, counts
        assert_onboarded(cluster, sandbox.registry)
    [failure] = failures_of(run, "cluster-down")
    print(f"cluster-down failed with: {failure.get('msg')}")
    port = down.host_vars["openshift_host"].rpartition(":")[2]
    assert f"connection to 127.0.0.1:{port} was refused" in str(failure.get("msg")), failure
    [refused] = failures_of(run, "cluster-unset")
    assert "cluster-unset has neither openshift_kubeconfig nor openshift_host" in str(refused.get("msg")), refused
    [fleet_summary] = list(debug_messages(run, "clusters_failed").values())
    assert sorted(fleet_summary["clusters_failed"]) == ["cluster-down", "cluster-unset"], fleet_summary
    assert sorted(fleet_summary["clusters_done"]) == sorted(cluster.name for cluster in fleet), fleet_summary
    assert sorted(fleet_summary["clusters_changed"]) == sorted(cluster.name for cluster in fleet), fleet_summary


def test_the_fleet_sliced_like_awx(sandbox: Sandbox, fleet: list[Cluster], vault_file: Path, tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "inventory", fleet, vault_password_file=vault_file)
    password = vault_file.read_text(encoding="utf-8").strip()
    secrets_shown = [
        sandbox.registry_password,
        base64.b64encode(f"{sandbox.registry_user}:{sandbox.registry_password}".encode()).decode(),
        str(fleet[1].vaulted["openshift_api_key"]),
        password,
    ]
    hosts = [cluster.name for cluster in fleet]

    started = time.monotonic()
    first_jobs = run_sliced(
        inventory=inventory, vault_password=password, extra_vars=registry_vars(sandbox), slices=2, root=tmp_path / "1"
    )
    first_seconds = time.monotonic() - started
    first = sliced_report(first_jobs)
    print(f"\nsliced run 1 (2 slices, one worker each):\n{format_table(first)}")
    assert [job.hosts for job in first_jobs] == [[hosts[0]], [hosts[1]]]
    assert all(job.status == "successful" and job.rc == 0 for job in first_jobs), [j.status for j in first_jobs]
    assert list(first) == hosts
    for host in hosts:
        assert (first[host]["failures"], first[host]["dark"]) == (0, 0), first
        assert first[host]["changed"] == 2, first
    for cluster in fleet:
        assert_onboarded(cluster, sandbox.registry)
    summaries = {
        host: res["msg"]
        for job in first_jobs
        for host, res in job.results_of("ansible.builtin.debug")
        if isinstance(res.get("msg"), dict) and "cluster" in res["msg"]
    }
    assert {host: summary["global_pull_secret"] for host, summary in summaries.items()} == dict.fromkeys(hosts, "added")

    marks = [cluster.audit.mark() for cluster in fleet]
    started = time.monotonic()
    second_jobs = run_sliced(
        inventory=inventory, vault_password=password, extra_vars=registry_vars(sandbox), slices=2, root=tmp_path / "2"
    )
    second_seconds = time.monotonic() - started
    second = sliced_report(second_jobs)
    print(f"sliced run 2:\n{format_table(second)}")
    TIMINGS.extend(
        ["sliced run 1 (AWX-style, 2 slices, transmit + 2 workers + process):", format_table(first).rstrip()]
    )
    TIMINGS.extend(["sliced run 2:", format_table(second).rstrip()])
    TIMINGS.append(f"sliced runs, wall clock: first {first_seconds:.1f} s, second {second_seconds:.1f} s")
    assert all(job.status == "successful" for job in second_jobs)
    for host in hosts:
        assert (second[host]["changed"], second[host]["failures"], second[host]["dark"]) == (0, 0, 0), second
        assert second[host]["ok"] == first[host]["ok"], (first, second)
    for cluster, mark in zip(fleet, marks, strict=True):
        assert writes_since(cluster, mark) == [], cluster.name

    for job in [*first_jobs, *second_jobs]:
        for event in job.events:
            text = json.dumps(event)
            assert not any(secret in text for secret in secrets_shown), f"slice {job.index + 1} event {event['event']}"
