# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make bench``: every tool side by side against the sandbox, in one run on one machine.

- per-task latency of ``debug``, ``ping``, each module (nothing to change, and a change) in the controller's
  process and shipped as a module, kubernetes.core doing the same, and oc (one process per command) when the user
  supplies it: ``SANDBOX_OPENSHIFT_BIN=DIR`` with an executable ``DIR/oc`` (the sandbox has no oc; without one the
  oc rows are left out and the report says so);
- API requests per operation, counted at the API server (audit log);
- scale: 500 tags over 50 image streams, one entry into a 2,000-registry global pull secret, ``secret_link`` of
  200 secrets, image-puller bindings for 200 projects, each also at a tenth of the size: time and peak RSS;
- where the time of an in-process task goes (cProfile of the core).

Writes ``benchmarks/results/<date>.md`` (targets met or missed, the tables), ``<date>-latency.png`` and
``<date>.json``. Timings are reported, never asserted: ``make test`` does not run this.

    python benchmarks/run.py [--quick] [--rounds N] [--operations N] [--skip-scale] [--skip-fleet | --fleet-only]

- the fleet runbook over 100 cluster hosts on two sandboxes (the second started and stopped by the bench): forks
  1, 5, 20 and AWX-style slices, against Ansible's own floor and kubernetes.core, and its growth with hosts
  (benchmarks/fleet.py).

Run it with the bench venv's Python (``make bench`` creates it: ansible 12 from PyPI, which bundles
kubernetes.core and community.okd, and the kubernetes client) and the sandbox's variables (``make bench`` runs it
under tests/sandbox/with_sandbox.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet
import fleet_jobs
import measure
import report
import sandbox_support
import scale
import server_floor
import workloads
from measure import REPO, Bench, Run

RESULTS = REPO / "benchmarks" / "results"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
BINDING = "openshift-ops-bench"
OPENSHIFT_BIN = "SANDBOX_OPENSHIFT_BIN"
# what the report says the numbers were measured against
SANDBOX = (
    "kube-apiserver built from source, with the sandbox's own image.openshift.io API server and OpenShift "
    "controllers, on loopback"
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def supplied_oc() -> dict[str, str]:
    """The oc of the OpenShift binaries the user supplies (``SANDBOX_OPENSHIFT_BIN=DIR``, ``DIR/oc`` executable):
    ``{"path", "version"}``; else ``{"missing": why}``, and the oc workloads are left out."""
    directory = os.environ.get(OPENSHIFT_BIN, "")
    if not directory:
        return {"missing": f"{OPENSHIFT_BIN} is not set"}
    path = Path(directory) / "oc"
    if not (path.is_file() and os.access(path, os.X_OK)):
        return {"missing": f"{OPENSHIFT_BIN} is set, but holds no executable oc"}
    try:
        completed = subprocess.run(
            [str(path), "version", "--client"], capture_output=True, text=True, timeout=60, check=False
        )
        version = completed.stdout.splitlines()[0].strip() if completed.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired, IndexError):
        version = ""
    return {"path": str(path), "version": version or "version unknown"}


# --------------------------------------------------------------------------------------------------------------
# set-up and clean-up, as the cluster admin


def create_namespace(kube: sandbox_support.Kube, name: str) -> None:
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def wait_for_managed_secret(kube: sandbox_support.Kube, namespace: str, account: str) -> None:
    kube.wait_for(
        lambda: sandbox_support.managed_pull_secret(kube, namespace, account),
        timeout=90,
        what=f"the managed pull secret of {namespace}/{account}",
    )


def set_up(kube: sandbox_support.Kube, names: workloads.Names, found: list[workloads.Workload]) -> None:
    # The bench user is a cluster admin through OpenShift's own role: it changes the global pull secret too.
    fleet_jobs.grant_cluster_admin(kube, measure.BENCH_USER, BINDING)
    for namespace in (names.namespace, names.other):
        create_namespace(kube, namespace)
    for namespace in (names.namespace, names.other):
        sandbox_support.wait_for_project_setup(kube, namespace)
    kube.create(
        f"/api/v1/namespaces/{names.namespace}/secrets",
        scale.dockerconfig_secret(workloads.LINKED_SECRET, "registry.example.com"),
    )
    accounts = [workload.key for workload in found if workload.module == "secret_link"]
    for account in accounts:
        kube.create(
            f"/api/v1/namespaces/{names.namespace}/serviceaccounts",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}},
        )
    for account in accounts:
        wait_for_managed_secret(kube, names.namespace, account)
    for workload in found:
        if workload.module == "image_puller_binding":
            kube.create(
                f"/api/v1/namespaces/{names.other}/serviceaccounts",
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": workload.key}},
            )


def clean_up(kube: sandbox_support.Kube, namespaces: list[str]) -> None:
    for namespace in namespaces:
        try:
            kube.delete(f"/api/v1/namespaces/{namespace}")
        except sandbox_support.KubeTestError as error:
            log(f"could not delete {namespace}: {error}")
    kube.replace(
        "/api/v1/namespaces/openshift-config/secrets/pull-secret",
        sandbox_support.seeded_pull_secret() | {"metadata": {"name": "pull-secret", "namespace": "openshift-config"}},
    )
    kube.delete(f"{RBAC}/clusterrolebindings/{BINDING}")


# --------------------------------------------------------------------------------------------------------------


def check_paths(bench: Bench, names: workloads.Names) -> dict[str, bool]:
    """Each tool label really takes its path: the action plugin says which at -vvv."""
    found = {}
    for tool, mark in (("in_process", "running in the controller's process"), ("module", "running as a module")):
        workload = workloads.Workload(
            f"path-{tool}",
            tool,
            "image_tag",
            False,
            tasks=workloads.ours("image_tag", names, f"path-{tool.replace('_', '')}", False),
        )
        path = bench.workdir / f"{workload.key}.yml"
        path.write_text(json.dumps(measure.playbook(workload, 0, {})))
        env = bench.environment(OPENSHIFT_OPS_IMAGES_IN_PROCESS="true" if tool == "in_process" else "false")
        completed = subprocess.run(
            [bench.ansible_playbook, "-vvv", "-i", "localhost,", "-c", "local", str(path)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        found[tool] = completed.returncode == 0 and mark in completed.stdout
    return found


def latency(bench: Bench, found: list[workloads.Workload], rounds: int, operations: int) -> list[dict[str, Any]]:
    runs = {workload.key: Run(workload) for workload in found}
    for number in range(rounds):
        # rounds over every workload, so that load from elsewhere falls on all of them alike
        for workload in found:
            log(f"latency round {number + 1}/{rounds}: {workload.label}")
            measure.run_workload(bench, runs[workload.key], operations)
    return [run.summary() for run in runs.values()]


# image_tag's STREAM_WORKERS: the bare client sends as many writes at once as the task does.
IMAGE_TAG_WORKERS = 8


def scale_section(
    bench: Bench, kube: sandbox_support.Kube, names: workloads.Names, operations: int, quick: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], dict[str, Any]]:
    namespace = names.namespace
    full = {"tags": (50, 10), "global": 2000, "link": 200, "puller": 200}
    if quick:
        full = {"tags": (10, 5), "global": 200, "link": 20, "puller": 20}
    streams, per_stream = full["tags"]
    projects = [f"{names.namespace}-p{number}" for number in range(full["puller"])]
    log(f"scale: creating {len(projects)} projects and {full['link']} secrets")
    for project in projects:
        create_namespace(kube, project)
    for number in range(full["link"]):
        kube.create(
            f"/api/v1/namespaces/{namespace}/secrets",
            scale.dockerconfig_secret(f"scale-pull-{number}", f"r{number}.registry.example.com"),
        )
    for count in (full["link"] // 10, full["link"]):
        kube.create(
            f"/api/v1/namespaces/{namespace}/serviceaccounts",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": f"scale-link-{count}"}},
        )
        wait_for_managed_secret(kube, namespace, f"scale-link-{count}")
    pairs = [
        (
            "image_tag",
            scale.image_tag_case(namespace, streams // 10, per_stream),
            scale.image_tag_case(namespace, streams, per_stream),
        ),
        ("global_pull_secret", scale.global_case(full["global"] // 10), scale.global_case(full["global"])),
        (
            "secret_link",
            scale.secret_link_case(namespace, full["link"] // 10),
            scale.secret_link_case(namespace, full["link"]),
        ),
        (
            "image_puller_binding",
            scale.puller_case(namespace, projects[: len(projects) // 10]),
            scale.puller_case(namespace, projects),
        ),
    ]
    cases = [case for _module, small, big in pairs for case in (small, big)]
    cases.insert(2, scale.global_case(10))  # the 10-registry secret the 2,000-registry target compares with
    measured: dict[str, dict[str, Any]] = {}
    for case in cases:
        log(f"scale: {case.label}")
        if case.module == "global_pull_secret":
            scale.set_global_registries(bench, case.size)
        measured[case.key] = scale.measure_case(bench, case, operations, core_runs=3)
        if case.module == "global_pull_secret" and case.size in (10, full["global"]):
            # the size target on the shipped path too, where a task costs ten times more to start with
            row = scale.measure_case(bench, case, operations, core_runs=1, tool="module")
            measured[row["key"]] = row
    big_tags = pairs[0][2]
    log(f"scale: the writes of {big_tags.label}, from a bare client")
    floor = server_floor.bare_writes(
        bench.kubeconfig,
        namespace,
        scale.image_tag_streams(streams),
        scale.IMAGE_TAG_SOURCES,
        workers=IMAGE_TAG_WORKERS,
        rounds=3 if quick else 10,
    )
    floor["case"] = big_tags.key
    growth = []
    for module, small, big in pairs:
        low, high = measured[small.key], measured[big.key]
        if low.get("median") and high.get("median"):
            growth.append(
                {
                    "what": f"{module}: {small.size} → {big.size}",
                    "size": big.size / small.size,
                    "time": high["median"] / low["median"],
                    "core_time": high["core_seconds"] / low["core_seconds"],
                    "rss": high["core_maxrss_mib"] / low["core_maxrss_mib"],
                }
            )
    return list(measured.values()), growth, projects, floor


def profiles(bench: Bench, names: workloads.Names, found: list[workloads.Workload]) -> dict[str, Any]:
    """cProfile of the core for each module's in-process "no change" operation, plus its time alone."""
    result = {}
    for workload in found:
        if workload.tool == "in_process" and not workload.change and workload.tasks is not None:
            task = workload.tasks(0)[0]
            params = task[f"openshift_ops.images.{workload.module}"]
            timed = scale.core_run(bench, workload.module, params)
            profiled = scale.core_run(bench, workload.module, params, profile=18)
            text = "\n".join(
                line for line in profiled.get("profile", "").splitlines() if line.strip() and "Ordered by" not in line
            )
            result[workload.module] = {"core_seconds": timed.get("seconds"), "text": text}
    return result


def _import_self_times(stderr: str) -> dict[str, int]:
    """Module name -> self microseconds, from ``python -X importtime``."""
    found = {}
    for line in stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, _cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
            found[name] = int(self_us)
    return found


def shipped_profiles(bench: Bench, found: list[workloads.Workload], runs: int) -> list[dict[str, Any]]:
    """Each module's AnsiballZ payload (kept with ANSIBLE_KEEP_REMOTE_FILES) run alone, next to ping's: its size,
    its time, and what its imports cost: our module_utils come from the zip, so they are compiled on every run."""
    tasks = [{"name": "ping", "ansible.builtin.ping": {}}]
    for workload in found:
        if workload.tool == "module" and not workload.change and workload.tasks is not None:
            tasks.append(workload.tasks(0)[0] | {"name": workload.module})
    path = bench.workdir / "shipped.yml"
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    remote = bench.workdir / "remote"
    env = bench.environment(
        OPENSHIFT_OPS_IMAGES_IN_PROCESS="false", ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(remote)
    )
    subprocess.run(
        [bench.ansible_playbook, "-i", "localhost,", "-c", "local", str(path)], env=env, capture_output=True, check=True
    )
    rows = []
    for name in ["ping", *workloads.MODULES]:
        payloads = sorted(remote.glob(f"*/AnsiballZ_{name}.py"))
        if not payloads:
            continue
        payload = str(payloads[0])
        walls = []
        for _number in range(runs):
            started = time.perf_counter()
            subprocess.run([bench.python, payload], env=env, capture_output=True, check=True)
            walls.append(time.perf_counter() - started)
        traced = subprocess.run(
            [bench.python, "-X", "importtime", payload], env=env, capture_output=True, text=True, check=True
        )
        imports = _import_self_times(traced.stderr)
        ours = sum(us for module, us in imports.items() if module.startswith("ansible_collections.openshift_ops"))
        heaviest = sorted(
            ((us, module) for module, us in imports.items() if module.startswith("ansible_collections.openshift_ops")),
            reverse=True,
        )[:4]
        rows.append(
            {
                "module": name,
                "payload_kib": payloads[0].stat().st_size / 1024,
                "run_alone": statistics.median(walls),
                "our_imports": ours / 1e6,
                "other_imports": (sum(imports.values()) - ours) / 1e6,
                "heaviest": [
                    (module.rsplit(".", 2)[-2] + "." + module.rsplit(".", 1)[-1], us / 1e3) for us, module in heaviest
                ],
            }
        )
    return rows


def paired(bench: Bench, found: list[workloads.Workload], rounds: int, operations: int) -> list[dict[str, Any]]:
    """Each shipped module with nothing to change, next to ``ping`` in the same process (measure.paired_playbook):
    the ratio of their medians, which drift of the machine's speed between the latency rows does not move."""
    rows = []
    shipped = [w for w in found if w.tool == "module" and not w.change and w.tasks is not None]
    collected = {workload.key: ([], [], []) for workload in shipped}
    for number in range(rounds):
        for workload in shipped:
            log(f"paired round {number + 1}/{rounds}: {workload.module} next to ping")
            pings, ours, wrong = measure.run_paired(bench, workload, operations)
            for into, values in zip(collected[workload.key], (pings, ours, wrong), strict=True):
                into.extend(values)
    for workload in shipped:
        pings, ours, wrong = collected[workload.key]
        row: dict[str, Any] = {"module": workload.module, "wrong_count": len(wrong), "wrong": wrong[:3]}
        if pings and ours:
            per_operation = measure.spread([o / p for p, o in zip(pings, ours, strict=True)])
            row |= {
                "n": len(ours),
                "ping": statistics.median(pings),
                "ours": statistics.median(ours),
                "ratio": statistics.median(ours) / statistics.median(pings),
                "ratio_p10": per_operation["p10"],
                "ratio_p90": per_operation["p90"],
            }
        rows.append(row)
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round of 5 operations, scale at a tenth")
    parser.add_argument("--rounds", type=int, help="ansible-playbook processes per workload (default 2)")
    parser.add_argument("--operations", type=int, help="timed operations per process (default 20)")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-fleet", action="store_true", help="leave out the fleet runbook over two sandboxes")
    parser.add_argument(
        "--fleet-only",
        action="store_true",
        help="only the fleet runbook section, written into the day's earlier results (their other sections stay)",
    )
    parser.add_argument("--render", metavar="JSON", help="only write the report and chart of an earlier run")
    args = parser.parse_args(argv)
    if args.skip_fleet and args.fleet_only:
        parser.error("--skip-fleet and --fleet-only exclude each other")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        results = json.loads(Path(args.render).read_text(encoding="utf-8"))
        write_report(results)
        return 0
    rounds = args.rounds or (1 if args.quick else 2)
    operations = args.operations or (5 if args.quick else 20)

    # SANDBOX_ENV_FILE or SANDBOX_STATE_DIR when the sandbox is not the default one
    sandbox = sandbox_support.load_sandbox()
    sandbox_env = sandbox.env
    admin = sandbox_support.Kube(sandbox_env["KUBECONFIG"], user_agent="openshift-ops-bench-setup")
    suffix = secrets.token_hex(3)
    names = workloads.Names(namespace=f"bench-{suffix}", other=f"bench-{suffix}-other")
    date = dt.date.today().isoformat()
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    oc = supplied_oc()
    log(f"oc: {oc['path']} ({oc['version']})" if "path" in oc else f"oc: not supplied ({oc['missing']}), no oc rows")
    found = workloads.workloads(names, with_oc="path" in oc)
    namespaces = [names.namespace, names.other]
    namespaces_made = False
    from ansible.release import __version__ as ansible_core  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="openshift_ops-bench-") as scratch:
        bench = Bench(
            python=sys.executable,
            kubeconfig=sandbox_env["SANDBOX_BENCH_KUBECONFIG"],
            admin=admin,
            audit=sandbox_support.AuditLog(Path(sandbox.state_dir) / "logs" / "audit.log", admin),
            oc=oc.get("path"),
            workdir=Path(scratch),
        )
        (bench.workdir / "ansible-tmp").mkdir()
        results: dict[str, Any] = {
            "date": date,
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "ansible_core": ansible_core,
                "peers": peers(),
            },
            "sandbox": SANDBOX,
            "oc": oc,
            "rounds": rounds,
            "operations": operations,
            "load_before": load_before,
        }
        try:
            if not args.fleet_only:
                log("set-up")
                namespaces_made = True
                set_up(admin, names, found)
                other_sections(bench, names, found, results, args)
                namespaces += results.pop("scale_projects", [])
            if not args.skip_fleet:
                results["fleet"] = fleet_results(bench, sandbox, args.quick)
        finally:
            if namespaces_made:
                log("clean-up")
                clean_up(admin, namespaces)
    results["load_after"] = os.getloadavg()[0]

    day_file = RESULTS / f"{date}.json"
    if args.fleet_only and day_file.exists():
        results = with_earlier_sections(results, json.loads(day_file.read_text(encoding="utf-8")))
    day_file.write_text(json.dumps(results, indent=2, default=str) + "\n")
    write_report(results)
    return 0 if all(results.get("paths_checked", {}).values()) else 1


def with_earlier_sections(fleet_run: dict[str, Any], earlier: dict[str, Any]) -> dict[str, Any]:
    """A ``--fleet-only`` run written over the same day's earlier run: its fleet section replaces the earlier one,
    which is kept as ``fleet_earlier_run``, and every other section of the earlier run stays, so the day's report
    still has them."""
    merged = dict(earlier)
    if "fleet" in earlier:
        merged["fleet_earlier_run"] = earlier["fleet"]
    merged["fleet"] = fleet_run["fleet"]
    merged["fleet_load"] = {"before": fleet_run["load_before"], "after": fleet_run["load_after"]}
    return merged


def other_sections(
    bench: Bench, names: workloads.Names, found: list[workloads.Workload], results: dict[str, Any], args: Any
) -> None:
    """Latency, profiles and scale: everything but the fleet."""
    results["paths_checked"] = check_paths(bench, names)
    log(f"execution paths: {results['paths_checked']}")
    results["latency"] = latency(bench, found, results["rounds"], results["operations"])
    results["profiles"] = profiles(bench, names, found)
    results["shipped"] = shipped_profiles(bench, found, 3 if args.quick else 10)
    results["paired"] = paired(bench, found, results["rounds"], results["operations"])
    debug = report._median(report._find(results["latency"], "debug"))
    results["profile_note"] = (
        f"An in-process task is Ansible's own per-task cost (an action that runs on the controller, "
        f"`debug`: {report._seconds(debug)} s here) plus the core's work. The profiles below are of the "
        'core alone for each module\'s "no change" operation (validation, configuration, the TLS '
        "connection, the requests, masking), in a fresh process, sorted by cumulative time."
    )
    if not args.skip_scale:
        results["scale"], results["growth"], results["scale_projects"], results["scale_floor"] = scale_section(
            bench, bench.admin, names, results["operations"], args.quick
        )


def fleet_results(bench: Bench, sandbox: sandbox_support.Sandbox, quick: bool) -> dict[str, Any]:
    """The fleet section, or what stopped it: the sections before it keep their results."""
    try:
        return fleet.fleet_section(bench, sandbox, quick, log)
    except (AssertionError, OSError, subprocess.SubprocessError, sandbox_support.KubeTestError) as error:
        log(f"fleet: stopped by {type(error).__name__}: {str(error)[:2000]}")
        return {"error": f"{type(error).__name__}: {str(error)[:2000]}"}


def write_report(results: dict[str, Any]) -> None:
    date = results["date"]
    chart_path = RESULTS / f"{date}-latency.png"
    has_chart = report.chart(results, chart_path)
    (RESULTS / f"{date}.md").write_text(report.markdown(results, chart_path.name if has_chart else None))
    print((RESULTS / f"{date}.md").read_text())
    log(f"written: {RESULTS / date}.md, .json{', ' + str(chart_path) if has_chart else ''}")


def peers() -> str:
    from importlib import metadata  # noqa: PLC0415

    found = []
    for package in ("ansible", "kubernetes"):
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package} missing")
    return ", ".join(found)


if __name__ == "__main__":
    sys.exit(main())
