# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet runbook (playbooks/fleet_registry_access.yml) over many cluster hosts on two sandboxes: the bench's
and a second one started here (control plane only, its own state directory), always stopped afterwards.

Every host is a cluster target with two namespaces of its own, half of them on each sandbox (the first through the
admin kubeconfig and context, the second by URL, CA and a vaulted token), hosts of the two alternating so that every
AWX-style slice holds both. Wall-clock seconds of whole ``ansible-playbook`` runs (callbacks off, no ``-v``):

- converging (from nothing: no project secrets, no links, the seeded global pull secret) and no-change runs at
  forks 1, 5, 20; the same as AWX slices 1, 2, 4, each slice an ``ansible-runner worker`` process, all at once;
- the floor: the same playbook with an ``ansible.builtin.debug`` twin in place of each of our tasks (floor.py),
  no-change, at the same forks; ours / floor is the target's ratio;
- what no module can leave out: the floor with each twin given its task's arguments (Ansible templates them for any
  module), and the reads our no-change tasks send, by a bare client (request_floor.py), at the same forks;
- growth: no-change at 25, 50, 100 hosts (forks 5 and 20), ours and the floor;
- the peer: the same runbook with kubernetes.core.k8s tasks in place of ours where an equivalent exists.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# fleet_jobs and sandbox_support are the integration tests' (imported as top-level modules, as measure does)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

import fleet_jobs
import floor
import request_floor
import sandbox_support
import yaml
from fleet_jobs import Cluster
from measure import REPO, Bench

FORKS = (1, 5, 20)
SLICES = (1, 2, 4)
SLICE_FORKS = 5
GROWTH_FORKS = (5, 20)
PEER_FORKS = (5, 20)
NAMESPACES_PER_HOST = 2
SECRET = "fleet-registry"
PEER_SECRET = "fleet-registry-k8s"
RUNBOOK = REPO / "playbooks" / "fleet_registry_access.yml"
SERVICE_ACCOUNT = "default"  # the role's registry_onboarding_service_accounts default
RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)
ARGUMENTS_FLOOR = "floor, arguments"
# a run starts once the CPUs are less busy than this for a second, or after the timeout
QUIET_CPU = 0.25
REPEATS = 3  # no-change runs of ours and of each floor at each forks, in turn; the median is reported
QUIET_TIMEOUT = 60.0
LINEAR_TOLERANCE = 1.2  # the largest fleet's time per host at most this times the smallest's
FLOOR_TARGET = 1.2

Log = Callable[[str], None]


# --------------------------------------------------------------------------------------------------------------
# the plan: hosts, sizes, arithmetic (pure)


@dataclass(frozen=True)
class Host:
    name: str
    cluster: int  # 0: the bench's sandbox, 1: the second one
    namespaces: tuple[str, ...]


def host_plan(hosts_per_cluster: int, suffix: str) -> list[Host]:
    """Hosts of both clusters, alternating (``a-001``, ``b-001``, ``a-002``, ...), each with its namespaces."""
    return [
        Host(
            f"{label}-{number:03d}",
            cluster,
            tuple(f"fleet-{suffix}-{label}{number:03d}-{ns}" for ns in range(1, NAMESPACES_PER_HOST + 1)),
        )
        for number in range(1, hosts_per_cluster + 1)
        for cluster, label in enumerate("ab")
    ]


def growth_sizes(total: int) -> tuple[int, ...]:
    """A quarter, a half and all of the fleet (25, 50, 100)."""
    return (total // 4, total // 2, total)


def subset(hosts: list[Host], count: int) -> list[Host]:
    """The first ``count`` hosts: as many of each cluster, as the plan alternates them."""
    return hosts[:count]


def growth_rows(times: dict[int, float]) -> dict[str, Any]:
    """Seconds per host at each size, and whether the time is linear in hosts: the time per host of the largest
    fleet within ``LINEAR_TOLERANCE`` of the smallest's (fixed costs, a playbook's start, only make small fleets
    dearer per host, so a ratio above it means growth faster than linear)."""
    sizes = sorted(times)
    smallest, largest = sizes[0], sizes[-1]
    per_host = {size: times[size] / size for size in sizes}
    ratio = per_host[largest] / per_host[smallest] if per_host[smallest] else float("inf")
    return {
        "seconds": {str(size): times[size] for size in sizes},
        "per_host": {str(size): per_host[size] for size in sizes},
        "largest_over_scaled_smallest": ratio,
        "linear": ratio <= LINEAR_TOLERANCE,
    }


def ratio(ours: float | None, floor_seconds: float | None) -> float | None:
    return ours / floor_seconds if ours and floor_seconds else None


def unavoidable(floor_seconds: float | None, arguments_seconds: float | None, reads: float | None) -> float | None:
    """What no module doing our tasks' work can leave out, as a fraction of the debug floor: Ansible templating the
    tasks' arguments (the floor given them, less the floor) and the reads alone. Above ``FLOOR_TARGET - 1`` the
    target cannot be met by any such module at those forks; added up, they are exact one task at a time (forks 1)
    and an overestimate when hosts overlap."""
    if not floor_seconds or arguments_seconds is None or reads is None:
        return None
    return (max(arguments_seconds - floor_seconds, 0.0) + reads) / floor_seconds


def recap_counts(stdout: str) -> dict[str, dict[str, int]]:
    return {
        match["host"]: {key: int(match[key]) for key in ("ok", "changed", "unreachable", "failed")}
        for match in RECAP.finditer(stdout)
    }


def problems(counts: dict[str, dict[str, int]], hosts: list[str], *, converge: bool | None) -> list[str]:
    """What is wrong with a run's outcome: a host missing, failed or unreachable, a change where none was due, none
    where one was (``converge`` None: changes not checked)."""
    found = []
    for host in hosts:
        count = counts.get(host)
        if count is None:
            found.append(f"{host}: not in the recap")
        elif count["failed"] or count["unreachable"]:
            found.append(f"{host}: failed={count['failed']} unreachable={count['unreachable']}")
        elif converge is not None and bool(count["changed"]) != converge:
            found.append(f"{host}: changed={count['changed']}")
    return found


# --------------------------------------------------------------------------------------------------------------
# the peer: kubernetes.core.k8s in place of our tasks, where it can do the same


def peer_tasks(module: str, task: dict[str, Any], _arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """kubernetes.core.k8s doing what our task does in the registry_onboarding role: pull_secret as a
    dockerconfigjson Secret (state present), then each service account read and its imagePullSecrets written back
    with the secret added (without the read, a patch would drop the names already there). global_pull_secret has
    no equivalent (merging one entry into the auths document of openshift-config/pull-secret, with a retry on
    conflict): it is left out; so is the credential check."""
    if module != "pull_secret":
        return []
    name = task.get("name", module)
    secret = {k: v for k, v in task.items() if k != "name"} | {
        "name": f"{name} (kubernetes.core: Secret)",
        "kubernetes.core.k8s": {
            "state": "present",
            "definition": {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/dockerconfigjson",
                "metadata": {"name": "{{ registry_onboarding_secret_name }}", "namespace": "{{ item }}"},
                "data": {
                    ".dockerconfigjson": "{{ {'auths': {registry_onboarding_server: {'auth': "
                    "(registry_onboarding_username ~ ':' ~ registry_onboarding_password) | b64encode}}} "
                    "| to_json | b64encode }}"
                },
            },
        },
        "loop": "{{ registry_onboarding_namespaces }}",
        "no_log": True,
    }
    secret.pop("loop_control", None)
    # ServiceAccount.imagePullSecrets has no merge key: any patch replaces the whole list, so kubernetes.core can
    # only add one name by reading the account first and writing the list back with the name added.
    accounts = "{{ registry_onboarding_namespaces | product(registry_onboarding_service_accounts) | list }}"
    read = {
        "name": f"{name} (kubernetes.core: read the service accounts)",
        "kubernetes.core.k8s_info": {"kind": "ServiceAccount", "name": "{{ item[1] }}", "namespace": "{{ item[0] }}"},
        "loop": accounts,
        "register": "peer_service_accounts",
    }
    link = {
        "name": f"{name} (kubernetes.core: link)",
        "kubernetes.core.k8s": {
            "state": "patched",
            "definition": {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "{{ item.item[1] }}", "namespace": "{{ item.item[0] }}"},
                "imagePullSecrets": "{{ (item.resources[0].imagePullSecrets | default([])) "
                "| union([{'name': registry_onboarding_secret_name}]) }}",
            },
        },
        "loop": "{{ peer_service_accounts.results }}",
        "loop_control": {"label": "{{ item.item }}"},
    }
    return [secret, read, link]


def with_peer_connection(playbook: Path) -> None:
    """The peer's modules get each host's connection as ours do: the same module_defaults for kubernetes.core."""
    plays = yaml.safe_load(playbook.read_text(encoding="utf-8"))
    for play in plays:
        defaults = play.get("module_defaults", {})
        ours = defaults.get("group/openshift_ops.images.openshift")
        if ours:
            defaults["group/kubernetes.core.k8s"] = dict(ours)
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False, width=120), encoding="utf-8")


# --------------------------------------------------------------------------------------------------------------
# set-up, reset, runs


@dataclass
class Fleet:
    hosts: list[Host]
    clusters: list[Cluster]  # one per host, in the plan's order
    kubes: list[sandbox_support.Kube]  # the admin client of each sandbox
    workdir: Path
    vault_file: Path
    vault_password: str
    extra_vars_file: Path
    extra_vars: dict[str, Any]
    inventories: dict[int, Path]


def _parallel(function: Callable[[Any], Any], items: list[Any]) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _result in pool.map(function, items):
            pass


def create_namespaces(kubes: list[sandbox_support.Kube], hosts: list[Host]) -> None:
    pairs = [(kubes[host.cluster], namespace) for host in hosts for namespace in host.namespaces]

    def create(pair: tuple[sandbox_support.Kube, str]) -> None:
        kube, namespace = pair
        kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})

    _parallel(create, pairs)
    _parallel(lambda pair: sandbox_support.wait_for_project_setup(pair[0], pair[1], timeout=180), pairs)


def delete_namespaces(kubes: list[sandbox_support.Kube], hosts: list[Host], log: Log) -> None:
    def delete(pair: tuple[sandbox_support.Kube, str]) -> None:
        try:
            pair[0].delete(f"/api/v1/namespaces/{pair[1]}")
        except sandbox_support.KubeTestError as error:
            log(f"fleet: could not delete {pair[1]}: {error}")

    _parallel(delete, [(kubes[host.cluster], namespace) for host in hosts for namespace in host.namespaces])


def reset(kubes: list[sandbox_support.Kube], hosts: list[Host]) -> None:
    """Back to nothing: no project secret, no link to it, the seeded global pull secret on both clusters."""

    def undo(pair: tuple[sandbox_support.Kube, str]) -> None:
        kube, namespace = pair
        with contextlib.suppress(sandbox_support.KubeTestError):
            kube.delete(f"/api/v1/namespaces/{namespace}/secrets/{SECRET}")
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{SERVICE_ACCOUNT}"
        account = kube.get(path)
        kept = [ref for ref in account.get("imagePullSecrets") or [] if ref.get("name") != SECRET]
        if kept != (account.get("imagePullSecrets") or []):
            kube.replace(path, account | {"imagePullSecrets": kept})

    _parallel(undo, [(kubes[host.cluster], namespace) for host in hosts for namespace in host.namespaces])
    for kube in kubes:
        kube.replace(
            sandbox_support.PULL_SECRET_PATH,
            sandbox_support.seeded_pull_secret()
            | {"metadata": {"name": "pull-secret", "namespace": "openshift-config"}},
        )


def connections(first: sandbox_support.Sandbox, second: sandbox_support.Sandbox) -> list[tuple[dict, dict]]:
    """(host variables, vaulted host variables) of each cluster, as test_fleet.py reaches them."""
    context = yaml.safe_load(Path(first.kubeconfig).read_text(encoding="utf-8"))["current-context"]
    token = sandbox_support.read_kubeconfig(second.user_kubeconfig).token
    return [
        ({"openshift_kubeconfig": first.kubeconfig, "openshift_context": context}, {}),
        ({"openshift_host": second.api, "openshift_ca_cert": second.ca}, {"openshift_api_key": token or ""}),
    ]


def host_reads(fleet: Fleet) -> list[list[list[tuple[request_floor.Reach, list[str]]]]]:
    """Each host's no-change reads (request_floor.host_tasks), through the connection its host variables give."""
    reaches: dict[str, request_floor.Reach] = {}
    reads = []
    for host, cluster in zip(fleet.hosts, fleet.clusters, strict=True):
        variables = cluster.host_vars
        key = str(variables.get("openshift_kubeconfig") or variables["openshift_host"])
        if key not in reaches:
            if "openshift_kubeconfig" in variables:
                reaches[key] = request_floor.reach_from_kubeconfig(
                    variables["openshift_kubeconfig"], variables.get("openshift_context")
                )
            else:
                reaches[key] = request_floor.Reach(
                    server=variables["openshift_host"],
                    ca_pem=Path(variables["openshift_ca_cert"]).read_text(encoding="utf-8"),
                    token=cluster.vaulted["openshift_api_key"],
                )
        reads.append(request_floor.host_tasks(reaches[key], host.namespaces, SECRET))
    return reads


def fleet_clusters(
    hosts: list[Host], sandboxes: list[sandbox_support.Sandbox], kubes: list[sandbox_support.Kube]
) -> list[Cluster]:
    reach = connections(*sandboxes)
    return [
        Cluster(
            host.name,
            sandboxes[host.cluster],
            kubes[host.cluster],
            {**reach[host.cluster][0], "registry_onboarding_namespaces": list(host.namespaces)},
            vaulted=dict(reach[host.cluster][1]),
        )
        for host in hosts
    ]


def environment(bench: Bench) -> dict[str, str]:
    """The bench's environment without its cluster (each host has its own) and without its timer callback."""
    env = bench.environment(ANSIBLE_RETRY_FILES_ENABLED="false")
    for name in ("K8S_AUTH_KUBECONFIG", "ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_PLUGINS"):
        env.pop(name)
    return env


def cpu_busy(stat_lines: tuple[str, str]) -> float:
    """The share of CPU time not idle between two readings of /proc/stat's first line."""
    before, after = ([int(value) for value in line.split()[1:]] for line in stat_lines)
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])  # idle and iowait
    return 1.0 - idle / total if total > 0 else 0.0


def _stat_line() -> str:
    with open("/proc/stat", encoding="ascii") as stat:
        return stat.readline()


def wait_for_quiet(*, limit: float = QUIET_CPU, seconds: float = QUIET_TIMEOUT) -> float:
    """Wait until the CPUs are mostly idle for a second (the sandboxes' controllers done with what the last run
    wrote), at most ``seconds``: a run then pays for its own work only. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        first = _stat_line()
        time.sleep(1.0)
        if cpu_busy((first, _stat_line())) < limit:
            break
    return time.monotonic() - started


def run_playbook(bench: Bench, fleet: Fleet, playbook: Path, size: int, forks: int, **extra: Any) -> dict[str, Any]:
    """One ansible-playbook process over the ``size``-host inventory: wall seconds and the per-host recap."""
    vars_file = fleet.extra_vars_file
    if extra:
        vars_file = fleet.workdir / f"extra-{secrets.token_hex(3)}.json"
        vars_file.touch(mode=0o600)
        vars_file.write_text(json.dumps(fleet.extra_vars | extra), encoding="utf-8")
    quiet_after = wait_for_quiet()
    command = [
        bench.ansible_playbook, "-i", str(fleet.inventories[size]), "-f", str(forks), "-e", f"@{vars_file}",
        "--vault-password-file", str(fleet.vault_file), str(playbook),
    ]  # fmt: skip
    started = time.monotonic()
    completed = subprocess.run(
        command, env=environment(bench), cwd=fleet.workdir, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    return {
        "seconds": seconds,
        "quiet_after": quiet_after,
        "rc": completed.returncode,
        "counts": recap_counts(completed.stdout),
        "tail": completed.stdout[-1500:] + completed.stderr[-800:],
    }


def run_slices(fleet: Fleet, slices: int, root: Path) -> dict[str, Any]:
    started = time.monotonic()
    jobs = fleet_jobs.run_sliced(
        inventory=fleet.inventories[len(fleet.hosts)],
        vault_password=fleet.vault_password,
        extra_vars=fleet.extra_vars,
        slices=slices,
        root=root,
        forks=SLICE_FORKS,
        diff=False,
    )
    seconds = time.monotonic() - started
    counts = {}
    for job in jobs:
        stats = job.stats
        for host in job.hosts:
            counts[host] = {
                "ok": int(stats.get("ok", {}).get(host, 0)),
                "changed": int(stats.get("changed", {}).get(host, 0)),
                "unreachable": int(stats.get("dark", {}).get(host, 0)),
                "failed": int(stats.get("failures", {}).get(host, 0)),
            }
    return {"seconds": seconds, "rc": max(job.rc or 0 for job in jobs), "counts": counts, "tail": ""}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median seconds among repeats of the same run, with every repeat's seconds and recap (a repeat
    with a wrong outcome makes the row wrong)."""
    chosen = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return chosen | {"repeats": [run["seconds"] for run in runs], "repeat_counts": [run["counts"] for run in runs]}


def measured(run: dict[str, Any], hosts: list[Host], *, converge: bool | None) -> dict[str, Any]:
    names = [host.name for host in hosts]
    wrong = [
        problem
        for counts in run.get("repeat_counts", [run["counts"]])
        for problem in problems(counts, names, converge=converge)
    ]
    row = {"seconds": run["seconds"], "hosts": len(hosts), "wrong": wrong[:5], "wrong_count": len(wrong)}
    if len(run.get("repeats", [])) > 1:
        row["repeats"] = run["repeats"]
    if run.get("quiet_after") is not None:
        row["waited_for_quiet"] = run["quiet_after"]
    if wrong:
        row["tail"] = run["tail"]
    return row


@contextlib.contextmanager
def fleet_set_up(bench: Bench, first: sandbox_support.Sandbox, total: int, workdir: Path, log: Log) -> Iterator[Fleet]:
    """The second sandbox, the namespaces of every host on both, the inventories of each growth size; all taken
    down afterwards."""
    hosts = host_plan(total // 2, secrets.token_hex(3))
    with fleet_jobs.started_sandbox(workdir / "second-sandbox") as second:
        kubes = [bench.admin, sandbox_support.Kube(second.kubeconfig, user_agent="openshift-ops-bench-setup")]
        binding = fleet_jobs.grant_sandbox_user_admin(kubes[1])
        try:
            log(f"fleet: creating {len(hosts) * NAMESPACES_PER_HOST} namespaces over 2 sandboxes")
            create_namespaces(kubes, hosts)
            clusters = fleet_clusters(hosts, [first, second], kubes)
            password = f"bench-vault-{secrets.token_hex(12)}"
            vault_file = fleet_jobs.write_vault_password(workdir, password)
            inventories = {
                size: fleet_jobs.write_inventory(
                    workdir / f"inventory-{size}", subset(clusters, size), vault_password_file=vault_file
                )
                for size in growth_sizes(total)
            }
            extra_vars = {
                "registry_onboarding_server": first.registry,
                "registry_onboarding_username": first.registry_user,
                "registry_onboarding_password": first.registry_password,
                "registry_onboarding_registry_ca_cert": first.registry_ca,
                "registry_onboarding_secret_name": SECRET,
                "registry_onboarding_wait_for_rollout": False,
            }
            extra_vars_file = workdir / "extra_vars.json"
            extra_vars_file.touch(mode=0o600)
            extra_vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
            yield Fleet(hosts, clusters, kubes, workdir, vault_file, password, extra_vars_file, extra_vars, inventories)
        finally:
            log("fleet: clean-up")
            delete_namespaces(kubes, hosts, log)
            kubes[0].replace(
                sandbox_support.PULL_SECRET_PATH,
                sandbox_support.seeded_pull_secret()
                | {"metadata": {"name": "pull-secret", "namespace": "openshift-config"}},
            )
            kubes[1].delete(binding)
            log("fleet: stopping the second sandbox")


def fleet_section(bench: Bench, first: sandbox_support.Sandbox, quick: bool, log: Log) -> dict[str, Any]:
    total = 20 if quick else 100
    workdir = bench.workdir / "fleet"
    workdir.mkdir()
    ours_playbook = workdir / "ours.yml"
    ours_playbook.write_text("- ansible.builtin.import_playbook: openshift_ops.images.fleet_registry_access\n")
    roles, modules = REPO / "roles", REPO / "plugins" / "modules"
    floor_playbook, _found = floor.write_replaced(
        RUNBOOK, workdir / "floor", floor.debug_twin, roles_dir=roles, modules_dir=modules
    )
    peer_playbook, _found = floor.write_replaced(
        RUNBOOK, workdir / "peer", peer_tasks, roles_dir=roles, modules_dir=modules
    )
    with_peer_connection(peer_playbook)
    arguments_playbook, _found = floor.write_replaced(
        RUNBOOK,
        workdir / "floor-arguments",
        floor.arguments_twin(floor.play_module_defaults(RUNBOOK)),
        roles_dir=roles,
        modules_dir=modules,
    )
    result: dict[str, Any] = {
        "hosts": total,
        "namespaces_per_host": NAMESPACES_PER_HOST,
        "slice_forks": SLICE_FORKS,
        "tasks_per_host": None,
    }
    started = time.monotonic()
    with fleet_set_up(bench, first, total, workdir, log) as fleet:
        everyone = fleet.hosts
        runs: list[dict[str, Any]] = []

        def record(
            what: str, tool: str, forks: int | str, size: int, run: dict[str, Any], *, converge: bool | None
        ) -> dict[str, Any]:
            row = {"what": what, "tool": tool, "forks": forks} | measured(
                run, subset(everyone, size), converge=converge
            )
            runs.append(row)
            log(f"fleet: {tool} {what}, {size} hosts, forks {forks}: {row['seconds']:.1f} s"
                + (f" ({row['wrong_count']} wrong: {row['wrong'][:2]})" if row["wrong_count"] else ""))  # fmt: skip
            return row

        for forks in FORKS:
            reset(fleet.kubes, everyone)
            record(
                "converge", "ours", forks, total, run_playbook(bench, fleet, ours_playbook, total, forks), converge=True
            )
            # ours and both floors in turn, so that a slow spell of the machine falls on all three alike
            compared = {"ours": ours_playbook, "floor": floor_playbook, ARGUMENTS_FLOOR: arguments_playbook}
            repeated: dict[str, list[dict[str, Any]]] = {tool: [] for tool in compared}
            for _repeat in range(1 if quick else REPEATS):
                for tool, playbook in compared.items():
                    repeated[tool].append(run_playbook(bench, fleet, playbook, total, forks))
            for tool, tool_runs in repeated.items():
                converge = False if tool == "ours" else None
                record("no change", tool, forks, total, median_run(tool_runs), converge=converge)
            floor_run = repeated["floor"][0]
            result.setdefault("request_floor", {})[str(forks)] = reads_alone(fleet, forks, log)
            if result["tasks_per_host"] is None and floor_run["counts"]:
                result["tasks_per_host"] = max(count["ok"] for count in floor_run["counts"].values())
        for slices in SLICES:
            reset(fleet.kubes, everyone)
            for what, converge in (("converge", True), ("no change", False)):
                root = workdir / f"slices-{slices}-{what.replace(' ', '-')}"
                record(
                    what, "ours", f"{slices} × {SLICE_FORKS}", total, run_slices(fleet, slices, root), converge=converge
                )
        growth_times: dict[str, dict[int, float]] = {}
        for forks in GROWTH_FORKS:
            for tool, playbook in (("ours", ours_playbook), ("floor", floor_playbook)):
                times = {}
                for size in growth_sizes(total):
                    if size == total:
                        times[size] = next(
                            row["seconds"] for row in runs
                            if (row["what"], row["tool"], row["forks"]) == ("no change", tool, forks)
                        )  # fmt: skip
                        continue
                    run = run_playbook(bench, fleet, playbook, size, forks)
                    times[size] = record(
                        f"no change ({size} hosts)", tool, forks, size, run, converge=None if tool == "floor" else False
                    )["seconds"]
                growth_times[f"{tool}, forks {forks}"] = times
        result["growth"] = {key: growth_rows(times) for key, times in growth_times.items()}
        # kubernetes.core ships a module per task (about 2 s of CPU per host here): a quarter of the fleet keeps the
        # section within its time; its seconds per host compare with ours
        peer_size = growth_sizes(total)[0]
        result["peer_hosts"] = peer_size
        peer_extra = {"registry_onboarding_secret_name": PEER_SECRET}
        for what, forks, converge in (
            ("converge", PEER_FORKS[-1], None),
            *(("no change", f, False) for f in PEER_FORKS),
        ):
            run = run_playbook(bench, fleet, peer_playbook, peer_size, forks, **peer_extra)
            record(what, "kubernetes.core", forks, peer_size, run, converge=converge)
        result["runs"] = runs
    result |= target_ratios(runs, result.get("request_floor", {}))
    result["section_seconds"] = time.monotonic() - started
    return result


def reads_alone(fleet: Fleet, forks: int, log: Log) -> dict[str, Any]:
    reads = request_floor.fleet_reads(host_reads(fleet), forks=forks)
    log(f"fleet: the reads alone, forks {forks}: {reads['median']:.2f} s")
    return reads


def target_ratios(runs: list[dict[str, Any]], reads: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Ours over each floor at each forks, and what no module can leave out (:func:`unavoidable`)."""
    ours = {f: _seconds(runs, "ours", f) for f in FORKS}
    return {
        "ratios": {str(f): ratio(ours[f], _seconds(runs, "floor", f)) for f in FORKS},
        "ratios_arguments": {str(f): ratio(ours[f], _seconds(runs, ARGUMENTS_FLOOR, f)) for f in FORKS},
        "unavoidable": {
            str(f): unavoidable(
                _seconds(runs, "floor", f), _seconds(runs, ARGUMENTS_FLOOR, f), (reads.get(str(f)) or {}).get("median")
            )
            for f in FORKS
        },
    }


def _seconds(runs: list[dict[str, Any]], tool: str, forks: int) -> float | None:
    for row in runs:
        if (row["what"], row["tool"], row["forks"]) == ("no change", tool, forks) and not row["wrong_count"]:
            return float(row["seconds"])
    return None
