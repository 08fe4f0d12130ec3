# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running workloads and reading what they cost: task times from the bench_timer callback, requests from the API
server's audit log (the bench user's reads are audited too), peak memory from ``wait4``."""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

import sandbox_support
from workloads import Workload

BENCH_USER = "sandbox-bench"
READ_VERBS = frozenset({"get", "list"})
REVIEW_RESOURCES = frozenset(
    {"subjectaccessreviews", "localsubjectaccessreviews", "selfsubjectaccessreviews", "tokenreviews"}
)


@dataclass
class Bench:
    """Where everything is: the bench venv's ansible, the sandbox, a scratch directory."""

    python: str
    kubeconfig: str  # the bench user's
    admin: sandbox_support.Kube
    audit: sandbox_support.AuditLog
    oc: str | None  # $SANDBOX_OPENSHIFT_BIN/oc when the user supplies OpenShift's binaries; the sandbox has none
    workdir: Path
    verbose: bool = False

    @property
    def ansible_playbook(self) -> str:
        return str(Path(self.python).with_name("ansible-playbook"))

    def environment(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("K8S_AUTH_", "ANSIBLE_", "OPENSHIFT_OPS_"))
            and key not in {"KUBECONFIG", "PYTHONPATH"}
        }
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"),
            ANSIBLE_CALLBACK_PLUGINS=str(REPO / "benchmarks" / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="bench_timer",
            ANSIBLE_PYTHON_INTERPRETER=self.python,
            ANSIBLE_LOCAL_TEMP=str(self.workdir / "ansible-tmp"),
            ANSIBLE_NOCOLOR="1",
            K8S_AUTH_KUBECONFIG=self.kubeconfig,
        )
        env.update(extra)
        return env


@dataclass
class Run:
    """What one workload cost over all its processes: seconds per operation, requests per operation."""

    workload: Workload
    seconds: list[float] = field(default_factory=list)
    requests: list[dict[str, int]] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # operations whose outcome was not the expected one
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "label": self.workload.label,
            "tool": self.workload.tool,
            "module": self.workload.module,
            "change": self.workload.change,
            "wrong_outcomes": self.wrong[:5],
            "wrong_count": len(self.wrong),
            "failures": self.failures[:3],
        }
        if self.seconds:
            result |= spread(self.seconds)
        if self.requests:
            for kind in ("reads", "writes", "reviews"):
                result[f"{kind}_per_op"] = statistics.median(counts[kind] for counts in self.requests)
            result["requests_per_op"] = statistics.median(
                counts["reads"] + counts["writes"] + counts["reviews"] for counts in self.requests
            )
            result["requests_example"] = self.requests[-1]["requests"]
        return result


def spread(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)

    def percentile(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p10": percentile(0.1),
        "p90": percentile(0.9),
        "min": ordered[0],
    }


def _timestamp(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def bench_requests(bench: Bench, mark: sandbox_support.AuditMark) -> list[tuple[float, str, str]]:
    """(received at, kind, "verb resource") for each request of the bench user since ``mark``."""
    found = []
    for event in bench.audit.events(since=mark):
        if event.get("user", {}).get("username") != BENCH_USER:
            continue
        verb = event.get("verb", "")
        resource = (event.get("objectRef") or {}).get("resource", "")
        kind = "reads" if verb in READ_VERBS else "reviews" if resource in REVIEW_RESOURCES else "writes"
        found.append((_timestamp(event["requestReceivedTimestamp"]), kind, f"{verb} {resource}"))
    return found


def per_window(requests: list[tuple[float, str, str]], windows: list[tuple[float, float]]) -> list[dict[str, Any]]:
    counts = []
    for start, end in windows:
        inside = [request for request in requests if start <= request[0] < end]
        count: dict[str, Any] = {
            kind: sum(1 for r in inside if r[1] == kind) for kind in ("reads", "writes", "reviews")
        }
        count["requests"] = sorted(r[2] for r in inside)
        counts.append(count)
    return counts


# --------------------------------------------------------------------------------------------------------------
# playbooks


def playbook(workload: Workload, operations: int, play_vars: dict[str, Any]) -> list[dict[str, Any]]:
    """Operation 0 (the warm-up) then ``operations`` timed ones, then a marker task whose start ends the last."""
    assert workload.tasks is not None
    tasks: list[dict[str, Any]] = []
    for index in range(operations + 1):
        for task in workload.tasks(index):
            tasks.append(task | {"name": f"op{index} {task['name']}"})
    tasks.append({"name": "bench end", "ansible.builtin.debug": {"msg": "end"}})
    return [{"hosts": "localhost", "gather_facts": False, "vars": play_vars, "tasks": tasks}]


def op_windows(timer: dict[str, Any], operations: int) -> tuple[list[tuple[float, float]], list[float], list[dict]]:
    """(wall-clock windows, durations, main-task outcomes) of operations 1..``operations``."""
    starts: dict[str, dict[str, Any]] = {}
    mains: dict[int, dict[str, Any]] = {}
    for task in timer["tasks"]:
        name = task["name"]
        op = name.split(" ", 1)[0]
        starts.setdefault(op, task)
        if name.endswith(" main"):
            mains[int(op[2:])] = task
    end = starts["bench"]
    windows, durations, outcomes = [], [], []
    for index in range(1, operations + 1):
        first = starts[f"op{index}"]
        following = starts.get(f"op{index + 1}", end)
        windows.append((first["wall"], following["wall"]))
        durations.append(following["clock"] - first["clock"])
        outcomes.append(mains.get(index, {}))
    return windows, durations, outcomes


def run_tasks(bench: Bench, run: Run, operations: int, play_vars: dict[str, Any] | None = None) -> None:
    """One ansible-playbook process of the workload; adds its timed operations to ``run``."""
    workload = run.workload
    path = bench.workdir / f"{workload.key}.yml"
    path.write_text(yaml.safe_dump(playbook(workload, operations, play_vars or {}), sort_keys=False))
    timer_out = bench.workdir / f"{workload.key}.timer.json"
    timer_out.unlink(missing_ok=True)
    env_extra = {"OPENSHIFT_OPS_BENCH_TIMER_OUT": str(timer_out)}
    if workload.tool in {"in_process", "module"}:
        env_extra["OPENSHIFT_OPS_IMAGES_IN_PROCESS"] = "true" if workload.tool == "in_process" else "false"
    mark = bench.audit.mark()
    completed = subprocess.run(
        [bench.ansible_playbook, "-i", "localhost,", "-c", "local", str(path)],
        env=bench.environment(**env_extra),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0 or not timer_out.exists():
        run.failures.append(f"rc={completed.returncode}: {completed.stdout[-1500:]} {completed.stderr[-800:]}")
        return
    timer = json.loads(timer_out.read_text())
    windows, durations, outcomes = op_windows(timer, operations)
    run.seconds.extend(durations)
    run.requests.extend(per_window(bench_requests(bench, mark), windows))
    for index, outcome in enumerate(outcomes, start=1):
        expected = workload.change if workload.module else outcome.get("changed")
        if outcome.get("status") != "ok" or outcome.get("changed") != expected:
            run.wrong.append(
                f"op{index}: {outcome.get('status')} changed={outcome.get('changed')} {outcome.get('msg', '')}"
            )


def paired_playbook(workload: Workload, operations: int) -> list[dict[str, Any]]:
    """Each operation a ``ping`` and then the workload's tasks, in one process: the two are timed side by side, so
    that whatever slows the machine for a while slows both."""
    assert workload.tasks is not None
    tasks: list[dict[str, Any]] = []
    for index in range(operations + 1):
        tasks.append({"name": f"op{index} ping", "ansible.builtin.ping": {}})
        for task in workload.tasks(index):
            tasks.append(task | {"name": f"op{index} {task['name']}"})
    tasks.append({"name": "bench end", "ansible.builtin.debug": {"msg": "end"}})
    return [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def paired_durations(timer: dict[str, Any], operations: int) -> tuple[list[float], list[float], list[dict]]:
    """(ping's durations, the workload's, its main tasks' outcomes) in operations 1..``operations`` of a
    :func:`paired_playbook`: ping from its start to the start of the workload's first task, the workload from there
    to the next operation's start."""
    order = [task["name"] for task in timer["tasks"]]
    clock = {task["name"]: task["clock"] for task in timer["tasks"]}
    mains = {task["name"].split(" ", 1)[0]: task for task in timer["tasks"] if task["name"].endswith(" main")}
    pings, ours, outcomes = [], [], []
    for index in range(1, operations + 1):
        ping = f"op{index} ping"
        following = f"op{index + 1} ping" if index < operations else "bench end"
        first_of_ours = order[order.index(ping) + 1]
        pings.append(clock[first_of_ours] - clock[ping])
        ours.append(clock[following] - clock[first_of_ours])
        outcomes.append(mains.get(f"op{index}", {}))
    return pings, ours, outcomes


def run_paired(bench: Bench, workload: Workload, operations: int) -> tuple[list[float], list[float], list[str]]:
    """One ansible-playbook process of :func:`paired_playbook` (the workload shipped as a module): (ping's
    durations, the workload's, what went wrong)."""
    path = bench.workdir / f"paired-{workload.key}.yml"
    path.write_text(yaml.safe_dump(paired_playbook(workload, operations), sort_keys=False))
    timer_out = bench.workdir / f"paired-{workload.key}.timer.json"
    timer_out.unlink(missing_ok=True)
    completed = subprocess.run(
        [bench.ansible_playbook, "-i", "localhost,", "-c", "local", str(path)],
        env=bench.environment(OPENSHIFT_OPS_BENCH_TIMER_OUT=str(timer_out), OPENSHIFT_OPS_IMAGES_IN_PROCESS="false"),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0 or not timer_out.exists():
        return [], [], [f"rc={completed.returncode}: {completed.stdout[-1500:]} {completed.stderr[-800:]}"]
    pings, ours, outcomes = paired_durations(json.loads(timer_out.read_text()), operations)
    wrong = [
        f"op{index}: {outcome.get('status')} changed={outcome.get('changed')} {outcome.get('msg', '')}"
        for index, outcome in enumerate(outcomes, start=1)
        if outcome.get("status") != "ok" or outcome.get("changed") is not False
    ]
    return pings, ours, wrong


def run_commands(bench: Bench, run: Run, operations: int) -> None:
    """Each operation's commands as separate processes, each fed the previous one's output (a shell pipeline);
    ``>{file}`` sends a command's output to the operation's file instead."""
    assert run.workload.commands is not None
    assert bench.oc is not None, "oc workloads are only built when oc is supplied"
    env = bench.environment(KUBECONFIG=bench.kubeconfig)
    file = bench.workdir / f"{run.workload.key}.json"
    mark = bench.audit.mark()
    windows = []
    for index in range(operations + 1):
        started_wall, started = time.time(), time.perf_counter()
        piped = b""
        for command in run.workload.commands(index):
            argv = [part.replace("{oc}", bench.oc).replace("{file}", str(file)) for part in command]
            redirect = argv[-1][1:] if argv[-1].startswith(">") else None
            if redirect:
                argv = argv[:-1]
            completed = subprocess.run(argv, input=piped, env=env, capture_output=True, check=False)
            if completed.returncode != 0:
                run.failures.append(f"op{index} {' '.join(argv[:4])}: {completed.stderr.decode()[-600:]}")
                return
            if redirect:
                Path(redirect).write_bytes(completed.stdout)
                piped = b""
            else:
                piped = completed.stdout
        if index:
            run.seconds.append(time.perf_counter() - started)
            windows.append((started_wall, time.time()))
    run.requests.extend(per_window(bench_requests(bench, mark), windows))


def run_workload(bench: Bench, run: Run, operations: int, play_vars: dict[str, Any] | None = None) -> None:
    if run.workload.commands is not None:
        run_commands(bench, run, operations)
    else:
        run_tasks(bench, run, operations, play_vars)
