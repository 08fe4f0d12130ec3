# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What test_fleet.py needs: a second, independent sandbox cluster started for the test and always stopped, an
inventory with one host per cluster (the shape of docs/fleet_inventory.yml, the token vaulted), ansible-playbook
over that inventory with forks (every output to the session's leak scan), and the same run sliced as AWX slices a
job, each slice streamed through ansible-runner to its own ``ansible-runner worker`` process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner
import yaml

from .leak_scan import LEAKS, sandbox_secrets
from .sandbox_support import (
    COLLECTIONS_ROOT,
    REPO_ROOT,
    AuditLog,
    Kube,
    Sandbox,
    _register_inputs,
    _subprocess_env,
    load_sandbox,
)

PLAYBOOK = "fleet_registry_access.yml"
GROUP = "openshift_clusters"
LAUNCHER = REPO_ROOT / "tests" / "sandbox" / "sandbox.py"
BIN = Path(sys.executable).parent


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
        second = load_sandbox(state_dir / "env.sh")
        sandbox_secrets(LEAKS, second.env)
        yield second
    finally:
        stopped = _launcher(state_dir, "down")
        if stopped.returncode != 0:
            print(f"second sandbox down failed: {stopped.stdout[-2000:]} {stopped.stderr[-2000:]}")


@dataclass
class Cluster:
    """One cluster of the fleet: its inventory host name, sandbox, admin client and audit log."""

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


def write_inventory(directory: Path, clusters: list[Cluster], *, vault_password_file: Path) -> Path:
    """``hosts.yml`` with one host per cluster, in the shape of docs/fleet_inventory.yml; vaulted variables in
    ``host_vars/<host>/vault.yml`` (encrypted with ansible-vault) as ``vault_<name>``, referred to by the host."""
    directory.mkdir(parents=True, exist_ok=True)
    hosts: dict[str, Any] = {}
    for cluster in clusters:
        hosts[cluster.name] = {**cluster.host_vars, **{name: f"{{{{ vault_{name} }}}}" for name in cluster.vaulted}}
        if cluster.vaulted:
            vault_file = directory / "host_vars" / cluster.name / "vault.yml"
            vault_file.parent.mkdir(parents=True)
            vault_file.touch(mode=0o600)
            vault_file.write_text(
                yaml.safe_dump({f"vault_{name}": value for name, value in cluster.vaulted.items()}), encoding="utf-8"
            )
            encrypted = subprocess.run(
                [str(BIN / "ansible-vault"), "encrypt", "--vault-password-file", str(vault_password_file),
                 str(vault_file)],
                capture_output=True, text=True, check=False, timeout=120,
            )  # fmt: skip
            assert encrypted.returncode == 0, encrypted.stderr
            assert "$ANSIBLE_VAULT" in vault_file.read_text(encoding="utf-8")
    inventory = {
        GROUP: {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "hosts": hosts,
        }
    }
    path = directory / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False), encoding="utf-8")
    return path


def vault_password(directory: Path, password: str) -> Path:
    path = directory / "vault-password"
    path.touch(mode=0o600)
    path.write_text(password + "\n", encoding="utf-8")
    LEAKS.add_secret(password)
    return path


# --------------------------------------------------------------------------------------------------------------------
# ansible-playbook over the fleet


@dataclass
class FleetRun:
    completed: subprocess.CompletedProcess[str]
    seconds: float
    forks: int


def run_fleet(
    sandbox: Sandbox,
    inventory: Path,
    *,
    vault_password_file: Path,
    extra_vars: Mapping[str, Any],
    forks: int,
    work_dir: Path,
    check: bool = False,
    verbosity: int = 3,
    shipped_modules: bool = False,
) -> FleetRun:
    """The installed collection's fleet runbook over ``inventory`` with ``forks``, at ``-vvv --diff`` like every
    run of the session, its output and new files handed to the leak scan. No KUBECONFIG nor K8S_AUTH_* reaches it:
    each host's connection comes from its own variables. ``shipped_modules`` switches the in-process path off
    (every task ships its module, as ``PlaybookRunner``'s ``module`` path does)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    playbook = work_dir / "playbook.yml"
    playbook.write_text(f"- ansible.builtin.import_playbook: openshift_ops.images.{PLAYBOOK[:-4]}\n", encoding="utf-8")
    vars_file = work_dir / "extra_vars.json"
    vars_file.touch(mode=0o600)
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    _register_inputs(extra_vars)
    command = [
        str(BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(forks), "-e", f"@{vars_file}",
        "--vault-password-file", str(vault_password_file), "--diff", str(playbook),
    ]  # fmt: skip
    if check:
        command.append("--check")
    if verbosity:
        command.append("-" + "v" * verbosity)
    env = _subprocess_env(
        sandbox,
        kubeconfig=None,
        extra={
            "KUBECONFIG": None,
            "K8S_AUTH_KUBECONFIG": None,
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_LOCAL_TEMP": str(work_dir / "local"),
            "ANSIBLE_REMOTE_TEMP": str(work_dir / "remote"),
            "OPENSHIFT_OPS_IMAGES_IN_PROCESS": "false" if shipped_modules else "",
        },
    )
    known = set(work_dir.rglob("*"))
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=work_dir, timeout=900, check=False)
    seconds = time.monotonic() - started
    label = f"fleet playbook (forks {forks}{', check' if check else ''}{', modules' if shipped_modules else ''})"
    LEAKS.runs += 1
    LEAKS.record(f"{label}: stdout", completed.stdout)
    LEAKS.record(f"{label}: stderr", completed.stderr)
    LEAKS.record_new_files(label, work_dir, known=known)
    # kept for a post-mortem (pytest's tmp_path), after the leak scan has searched it
    (work_dir / "ansible-playbook.out").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    return FleetRun(completed, seconds, forks)


# --------------------------------------------------------------------------------------------------------------------
# The same run sliced as AWX slices a job, each slice on its own worker


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


def run_sliced(
    *,
    inventory: Path,
    vault_password: str,
    extra_vars: Mapping[str, Any],
    slices: int,
    root: Path,
) -> list[Slice]:
    """The fleet runbook as an AWX sliced job: slice i holds hosts i, i+n, ... of the inventory's group; for each,
    ``ansible_runner.run(streamer='transmit')`` writes the job (kwargs and the zipped private data dir) to a stream,
    an ``ansible-runner worker`` process of its own (what receptor starts on an execution node) reads it into its
    own private data dir and runs it, all slices at once, and ``ansible_runner.run(streamer='process')`` turns
    each worker's output into events. The vault password goes as AWX sends it: ``--ask-vault-pass`` answered from
    ``passwords``."""
    source = yaml.safe_load(inventory.read_text(encoding="utf-8"))
    hosts = list(source[GROUP]["hosts"])
    jobs: list[Slice] = []
    _register_inputs(extra_vars)
    for index in range(slices):
        job = Slice(index, slice_of(hosts, index, slices), root / f"slice-{index + 1}")
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
        stream = job.root / "job.stream"
        with stream.open("wb") as output:
            ansible_runner.run(
                streamer="transmit",
                _output=output,
                private_data_dir=str(controller),
                playbook=PLAYBOOK,
                inventory=str(controller / "inventory"),  # made relative to the private data dir for the worker
                cmdline="--diff --ask-vault-pass",
                passwords={r"Vault password:\s*?$": vault_password},
                envvars={
                    "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_ROOT),
                    "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                    "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_LOCAL_TEMP": str(job.worker_dir / "tmp" / "local"),
                    "ANSIBLE_REMOTE_TEMP": str(job.worker_dir / "tmp" / "remote"),
                },
                suppress_env_files=True,
                ident=f"slice-{index + 1}",
                quiet=True,
            )
        jobs.append(job)

    # the execution nodes: one worker process per slice, all at once, nothing of the test's cluster settings
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

    for job in jobs:
        with (job.root / "worker.out").open("rb") as worker_output:
            processed = ansible_runner.run(
                streamer="process",
                _input=worker_output,
                private_data_dir=str(job.controller_dir),
                ident=f"slice-{job.index + 1}",
                event_handler=lambda event, job=job: job.events.append(event) or True,
                quiet=True,
            )
        # the Processor reports the status; the worker's rc arrives as the artifact file it writes (its .rc is None)
        rc_file = job.controller_dir / "artifacts" / f"slice-{job.index + 1}" / "rc"
        job.status = processed.status
        job.rc = int(rc_file.read_text(encoding="utf-8")) if rc_file.is_file() else processed.rc
        LEAKS.runs += 1
        LEAKS.record(f"slice {job.index + 1}: worker stderr", job.worker_stderr)
        for event in job.events:
            LEAKS.record(f"slice {job.index + 1}: event {event.get('counter')} {event['event']}", json.dumps(event))
        for path in sorted((job.controller_dir / "artifacts").rglob("*")):
            if path.is_file() and path.name != "command":  # command holds the job's environment (docs/awx.md)
                LEAKS.record(f"slice {job.index + 1}: artifact {path.name}", path.read_bytes())
    return jobs


def sliced_report(jobs: list[Slice]) -> dict[str, dict[str, Any]]:
    """One report for all slices, per host: its slice, ok/changed/failed/unreachable from the slice's stats."""
    report: dict[str, dict[str, Any]] = {}
    for job in jobs:
        stats = job.stats
        for host in job.hosts:
            report[host] = {
                "slice": job.index + 1,
                "status": job.status,
                **{kind: int(stats.get(kind, {}).get(host, 0)) for kind in ("ok", "changed", "failures", "dark")},
            }
    return report


def format_table(rows: dict[str, dict[str, Any]]) -> str:
    buffer = io.StringIO()
    for host, row in rows.items():
        buffer.write(f"  {host:<14} " + " ".join(f"{key}={value}" for key, value in row.items()) + "\n")
    return buffer.getvalue()
