# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What test_fleet.py needs on top of fleet_jobs (the second sandbox, the inventory, the AWX-style slices): every
secret of it and every output of its runs handed to the session's leak scan, and ansible-playbook over the
inventory with forks."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import fleet_jobs
from .fleet_jobs import BIN, PLAYBOOK, Slice
from .leak_scan import LEAKS, sandbox_secrets
from .sandbox_support import Sandbox, _register_inputs, _subprocess_env


@contextlib.contextmanager
def started_sandbox(state_dir: Path) -> Iterator[Sandbox]:
    """fleet_jobs.started_sandbox, its secrets given to the leak scan."""
    with fleet_jobs.started_sandbox(state_dir) as second:
        sandbox_secrets(LEAKS, second.env)
        yield second


def vault_password(directory: Path, password: str) -> Path:
    LEAKS.add_secret(password)
    return fleet_jobs.write_vault_password(directory, password)


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


def run_sliced(
    *, inventory: Path, vault_password: str, extra_vars: Mapping[str, Any], slices: int, root: Path
) -> list[Slice]:
    """fleet_jobs.run_sliced with ``--diff``, every event, artifact and worker stderr handed to the leak scan."""
    _register_inputs(extra_vars)
    jobs = fleet_jobs.run_sliced(
        inventory=inventory, vault_password=vault_password, extra_vars=extra_vars, slices=slices, root=root
    )
    for job in jobs:
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
