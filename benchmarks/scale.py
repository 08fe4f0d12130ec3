# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Large operations at full size and at a tenth of it: time per task (in the controller's process, through
ansible-playbook), requests per operation, and the core's time and peak RSS in a process of its own."""

from __future__ import annotations

import base64
import json
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sandbox_support
from measure import REPO, Bench, Run, run_tasks
from workloads import GLOBAL, Workload

Params = Callable[[int], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    key: str
    module: str
    label: str
    size: int
    params: Params


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _alternate(index: int) -> bool:
    return index % 2 == 0


IMAGE_TAG_SOURCES = ("registry.example.com/bench/app:1.0", "registry.example.com/bench/app:2.0")


def image_tag_streams(streams: int) -> list[str]:
    return [f"scale-{stream}" for stream in range(streams)]


def image_tag_case(namespace: str, streams: int, tags_per_stream: int) -> Case:
    dest = [f"{stream}:t{tag}" for stream in image_tag_streams(streams) for tag in range(tags_per_stream)]

    def params(index: int) -> dict[str, Any]:
        return {
            "namespace": namespace,
            "source": IMAGE_TAG_SOURCES[0] if _alternate(index) else IMAGE_TAG_SOURCES[1],
            "source_type": "DockerImage",
            "reference": True,
            "dest": dest,
        }

    size = streams * tags_per_stream
    return Case(f"scale-tags-{size}", "image_tag", f"{size} tags over {streams} image streams", size, params)


def global_case(registries: int) -> Case:
    def params(index: int) -> dict[str, Any]:
        password = "scale-passw0rd-a" if _alternate(index) else "scale-passw0rd-b"
        return {"registries": [{"server": "scale.bench.example.com", "username": "robot", "password": password}]}

    return Case(
        f"scale-global-{registries}",
        "global_pull_secret",
        f"1 entry into a {registries}-registry global pull secret",
        registries,
        params,
    )


def secret_link_case(namespace: str, count: int) -> Case:
    names = [f"scale-pull-{number}" for number in range(count)]

    def params(index: int) -> dict[str, Any]:
        return {
            "namespace": namespace,
            "service_account": f"scale-link-{count}",
            "secrets": names,
            "purpose": ["pull"],
            "state": "present" if _alternate(index) else "absent",
        }

    return Case(f"scale-link-{count}", "secret_link", f"secret_link of {count} secrets", count, params)


def puller_case(namespace: str, projects: list[str]) -> Case:
    def params(index: int) -> dict[str, Any]:
        return {
            "namespace": namespace,
            "from_namespaces": projects,
            "binding_name": f"scale-pull-{len(projects)}",
            "state": "present" if _alternate(index) else "absent",
        }

    return Case(
        f"scale-puller-{len(projects)}",
        "image_puller_binding",
        f"image-puller bindings for {len(projects)} projects",
        len(projects),
        params,
    )


# --------------------------------------------------------------------------------------------------------------
# set-up


def dockerconfig_secret(name: str, server: str) -> dict[str, Any]:
    document = json.dumps({"auths": {server: {"auth": b64(f"robot:{name}-passw0rd")}}})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": b64(document)},
    }


def set_global_registries(bench: Bench, registries: int) -> None:
    """The seeded global pull secret plus ``registries`` - (seeded entries) filler entries."""
    seeded = sandbox_support.seeded_pull_secret_document()
    auths = seeded["auths"]
    for number in range(max(0, registries - len(auths))):
        auths[f"filler-{number}.registry.example.com"] = {
            "auth": b64(f"robot:filler-{number}-passw0rd"),
            "email": f"robot{number}@example.com",
        }
    path = f"/api/v1/namespaces/{GLOBAL['namespace']}/secrets/{GLOBAL['name']}"
    bench.admin.patch(path, {"data": {".dockerconfigjson": b64(json.dumps(seeded))}})


def core_run(bench: Bench, module: str, params: dict[str, Any], *, profile: int = 0) -> dict[str, Any]:
    """The core once in a fresh process of the bench venv's Python."""
    params_file = bench.workdir / f"core-{module}.json"
    params_file.write_text(json.dumps(params))
    command = [bench.python, str(REPO / "benchmarks" / "core_runner.py"), module, str(params_file)]
    if profile:
        command += ["--profile", str(profile)]
    env = bench.environment(PYTHONPATH=str(REPO / ".build" / "collections"))
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def measure_case(bench: Bench, case: Case, operations: int, core_runs: int, tool: str = "in_process") -> dict[str, Any]:
    workload = Workload(
        case.key if tool == "in_process" else f"{case.key}-{tool}",
        tool,
        case.module,
        True,
        tasks=lambda index: [{"name": "main", f"openshift_ops.images.{case.module}": case.params(index)}],
    )
    run = Run(workload)
    run_tasks(bench, run, operations)
    summary = run.summary()
    # the core alone: every run is a change (alternating from the state the playbook left)
    cores = [core_run(bench, case.module, case.params(operations + 1 + number)) for number in range(core_runs)]
    summary |= {
        "key": workload.key,
        "case": case.label if tool == "in_process" else f"{case.label}, shipped module",
        "size": case.size,
        "core_seconds": statistics.median(core["seconds"] for core in cores),
        "core_maxrss_mib": max(core["maxrss_kib"] for core in cores) / 1024,
        "core_changed": [core.get("changed") for core in cores],
        "core_failed": [core.get("msg") for core in cores if core.get("failed")],
    }
    return summary
