# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet's moving parts, shared by test_fleet.py (through fleet_support, which adds the leak scan) and the
fleet benchmark (benchmarks/fleet.py): a second, independent sandbox cluster started and always stopped, an
inventory of cluster hosts (tokens vaulted), and the fleet runbook sliced as AWX slices a job, each slice streamed
through ansible-runner to its own ``ansible-runner worker`` process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner
import yaml

try:
    from .sandbox_support import COLLECTIONS_ROOT, REPO_ROOT, AuditLog, Kube, Sandbox, load_sandbox
except ImportError:  # imported as a top-level module by the benchmarks
    from sandbox_support import (  # type: ignore[no-redef]
        COLLECTIONS_ROOT,
        REPO_ROOT,
        AuditLog,
        Kube,
        Sandbox,
        load_sandbox,
    )

PLAYBOOK = "fleet_registry_access.yml"
GROUP = "openshift_clusters"
LAUNCHER = REPO_ROOT / "tests" / "sandbox" / "sandbox.py"
# ansible-playbook, ansible-vault and ansible-runner of the Python running this (the test venv, or the bench venv)
BIN = Path(sys.executable).parent
RBAC = "/apis/rbac.authorization.k8s.io/v1"
SANDBOX_USER_BINDING = "fleet-sandbox-user"


# --------------------------------------------------------------------------------------------------------------------
# The second cluster


def _launcher(state_dir: Path, command: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("SANDBOX_ENV_FILE", "KUBECONFIG")}
    env["SANDBOX_STATE_DIR"] = str(state_dir)
    env["SANDBOX_NODE"] = "0"  # one node per machine: the first sandbox has it
    return subprocess.run(
        [sys.executable, str(LAUNCHER), command],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@contextlib.contextmanager
def started_sandbox(state_dir: Path) -> Iterator[Sandbox]:
    """A sandbox of its own in ``state_dir`` (other ports, other CA, other etcd), stopped afterwards whatever
    happened, also when its start failed half-way."""
    try:
        started = _launcher(state_dir, "up")
        if started.returncode != 0:
            raise AssertionError(f"second sandbox did not start:\n{started.stdout[-3000:]}\n{started.stderr[-3000:]}")
        yield load_sandbox(state_dir / "env.sh")
    finally:
        stopped = _launcher(state_dir, "down")
        if stopped.returncode != 0:
            print(f"second sandbox down failed: {stopped.stdout[-2000:]} {stopped.stderr[-2000:]}")


def grant_cluster_admin(kube: Kube, user: str, binding: str) -> str:
    """Make ``user`` cluster-admin through the ClusterRoleBinding ``binding``; returns the binding's path."""
    kube.create(
        f"{RBAC}/clusterrolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": binding},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        },
    )
    return f"{RBAC}/clusterrolebindings/{binding}"


def grant_sandbox_user_admin(kube: Kube) -> str:
    """sandbox-user (whose token a host of the fleet holds) made cluster-admin; returns the binding's path."""
    return grant_cluster_admin(kube, "sandbox-user", SANDBOX_USER_BINDING)


@dataclass
class Cluster:
    """One host of the fleet (a cluster to the runbook): its inventory name, sandbox, admin client and audit log."""

    name: str
    sandbox: Sandbox
    kube: Kube
    host_vars: dict[str, Any]
    vaulted: dict[str, str] = field(default_factory=dict)  # host variables that go to the host's vault file

    @property
    def audit(self) -> AuditLog:
        return AuditLog(Path(self.sandbox.state_dir) / "logs" / "audit.log", self.kube)


# --------------------------------------------------------------------------------------------------------------------
# The inventory


def inventory_document(clusters: list[Cluster]) -> dict[str, Any]:
    """``hosts.yml`` of docs/fleet_inventory.yml's shape: one host per cluster, each vaulted variable ``name``
    referring to ``vault_<name>`` of the host's vault file."""
    hosts = {
        cluster.name: {**cluster.host_vars, **{name: f"{{{{ vault_{name} }}}}" for name in cluster.vaulted}}
        for cluster in clusters
    }
    return {
        GROUP: {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "hosts": hosts,
        }
    }


def write_inventory(directory: Path, clusters: list[Cluster], *, vault_password_file: Path) -> Path:
    """``hosts.yml`` (:func:`inventory_document`), the vaulted variables in ``host_vars/<host>/vault.yml``,
    encrypted with ansible-vault (all files in one call)."""
    directory.mkdir(parents=True, exist_ok=True)
    vault_files = []
    for cluster in clusters:
        if cluster.vaulted:
            vault_file = directory / "host_vars" / cluster.name / "vault.yml"
            vault_file.parent.mkdir(parents=True)
            vault_file.touch(mode=0o600)
            vault_file.write_text(
                yaml.safe_dump({f"vault_{name}": value for name, value in cluster.vaulted.items()}), encoding="utf-8"
            )
            vault_files.append(vault_file)
    if vault_files:
        encrypted = subprocess.run(
            [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(vault_password_file),
             *map(str, vault_files)],
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert encrypted.returncode == 0, encrypted.stderr
        assert all("$ANSIBLE_VAULT" in path.read_text(encoding="utf-8") for path in vault_files)
    path = directory / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory_document(clusters), sort_keys=False), encoding="utf-8")
    return path


def write_vault_password(directory: Path, password: str) -> Path:
    path = directory / "vault-password"
    path.touch(mode=0o600)
    path.write_text(password + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------------------------
# The runbook sliced as AWX slices a job, each slice on its own worker


def slice_of(hosts: list[str], index: int, count: int) -> list[str]:
    """The hosts of slice ``index`` (0-based) of ``count``: every count-th host, as AWX slices an inventory."""
    return hosts[index::count]


@dataclass
class Slice:
    """One slice job: the controller's private data dir (what is transmitted), the worker's own one, the events."""

    index: int
    hosts: list[str]
    root: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""
    rc: int | None = None
    worker_stderr: str = ""

    @property
    def controller_dir(self) -> Path:
        return self.root / "controller"

    @property
    def worker_dir(self) -> Path:
        return self.root / "worker"

    @property
    def stats(self) -> dict[str, Any]:
        found = [event["event_data"] for event in self.events if event["event"] == "playbook_on_stats"]
        assert len(found) == 1, f"slice {self.index}: {len(found)} playbook_on_stats events ({self.status})"
        return found[0]

    def results_of(self, action: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (event["event_data"]["host"], event["event_data"]["res"])
            for event in self.events
            if event["event"] == "runner_on_ok" and event["event_data"].get("resolved_action") == action
        ]


def _private_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(text, encoding="utf-8")


def _transmit(
    job: Slice,
    source: dict[str, Any],
    inventory: Path,
    *,
    vault_password: str,
    extra_vars: Mapping[str, Any],
    forks: int | None,
    diff: bool,
) -> None:
    """The slice's private data dir (project, its hosts and their vault files, extra vars), written as a job
    stream by ``ansible_runner.run(streamer='transmit')``."""
    controller = job.controller_dir
    (controller / "project").mkdir(parents=True)
    (controller / "project" / PLAYBOOK).write_text(
        f"- ansible.builtin.import_playbook: openshift_ops.images.{PLAYBOOK[:-4]}\n", encoding="utf-8"
    )
    sliced = {GROUP: {**source[GROUP], "hosts": {name: source[GROUP]["hosts"][name] for name in job.hosts}}}
    (controller / "inventory").mkdir()
    (controller / "inventory" / "hosts.yml").write_text(yaml.safe_dump(sliced, sort_keys=False), encoding="utf-8")
    for name in job.hosts:
        vault_file = inventory.parent / "host_vars" / name / "vault.yml"
        if vault_file.is_file():
            _private_file(controller / "inventory" / "host_vars" / name / "vault.yml", vault_file.read_text())
    _private_file(controller / "env" / "extravars", json.dumps(extra_vars))
    job.worker_dir.mkdir()
    with (job.root / "job.stream").open("wb") as output:
        ansible_runner.run(
            streamer="transmit",
            _output=output,
            private_data_dir=str(controller),
            playbook=PLAYBOOK,
            inventory=str(controller / "inventory"),  # made relative to the private data dir for the worker
            cmdline=("--diff " if diff else "") + "--ask-vault-pass",
            passwords={r"Vault password:\s*?$": vault_password},
            forks=forks,
            envvars={
                "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(job.worker_dir / "tmp" / "local"),
                "ANSIBLE_REMOTE_TEMP": str(job.worker_dir / "tmp" / "remote"),
            },
            suppress_env_files=True,
            ident=f"slice-{job.index + 1}",
            quiet=True,
        )


def _run_workers(jobs: list[Slice]) -> None:
    """The execution nodes: one ``ansible-runner worker`` process per slice, all at once, none of the caller's
    cluster settings."""
    worker_env = {key: value for key, value in os.environ.items() if not key.startswith("K8S_AUTH_")}
    worker_env.pop("KUBECONFIG", None)
    worker_env["PATH"] = os.pathsep.join([str(BIN), worker_env.get("PATH", "")])
    workers = []
    for job in jobs:
        with (
            (job.root / "job.stream").open("rb") as stdin,
            (job.root / "worker.out").open("wb") as stdout,
            (job.root / "worker.err").open("wb") as stderr,
        ):
            workers.append(
                subprocess.Popen(
                    [str(BIN / "ansible-runner"), "worker", "--private-data-dir", str(job.worker_dir)],
                    stdin=stdin,
                    stdout=stdout,
                    stderr=stderr,
                    env=worker_env,
                )
            )
    for job, worker in zip(jobs, workers, strict=True):
        worker.wait(timeout=900)
        job.worker_stderr = (job.root / "worker.err").read_text(encoding="utf-8", errors="replace")
        assert worker.returncode == 0, (
            f"worker of slice {job.index + 1} exited {worker.returncode}: {job.worker_stderr}"
        )


def _process(job: Slice) -> None:
    """The worker's output turned into the job's events and artifacts by ``ansible_runner.run(streamer='process')``."""
    with (job.root / "worker.out").open("rb") as worker_output:
        processed = ansible_runner.run(
            streamer="process",
            _input=worker_output,
            private_data_dir=str(job.controller_dir),
            ident=f"slice-{job.index + 1}",
            event_handler=lambda event: job.events.append(event) or True,
            quiet=True,
        )
    # the Processor reports the status; the worker's rc arrives as the artifact file it writes (its .rc is None)
    rc_file = job.controller_dir / "artifacts" / f"slice-{job.index + 1}" / "rc"
    job.status = processed.status
    job.rc = int(rc_file.read_text(encoding="utf-8")) if rc_file.is_file() else processed.rc


def run_sliced(
    *,
    inventory: Path,
    vault_password: str,
    extra_vars: Mapping[str, Any],
    slices: int,
    root: Path,
    forks: int | None = None,
    diff: bool = True,
) -> list[Slice]:
    """The fleet runbook as an AWX sliced job: slice i holds hosts i, i+n, ... of the inventory's group; for each,
    ``ansible_runner.run(streamer='transmit')`` writes the job (kwargs and the zipped private data dir) to a stream,
    an ``ansible-runner worker`` process of its own (what receptor starts on an execution node) reads it into its
    own private data dir and runs it, all slices at once, and ``ansible_runner.run(streamer='process')`` turns
    each worker's output into events. The vault password goes as AWX sends it: ``--ask-vault-pass`` answered from
    ``passwords``; ``forks`` is each slice's (the job template's)."""
    source = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    hosts = list(source[GROUP]["hosts"])
    jobs = [Slice(index, slice_of(hosts, index, slices), root / f"slice-{index + 1}") for index in range(slices)]
    for job in jobs:
        _transmit(job, source, inventory, vault_password=vault_password, extra_vars=extra_vars, forks=forks, diff=diff)
    _run_workers(jobs)
    for job in jobs:
        _process(job)
    return jobs
