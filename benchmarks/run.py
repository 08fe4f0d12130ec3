# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the connection layer costs per module run, measured on this machine.

(a) Import + setup of the core (``_errors``, ``_kube/config``, ``_kube/client``, resolve the configuration, build the
    client; no request): inside fresh interpreters, with ``python -X importtime``, and as real ``ansible`` runs of a
    tiny module that does exactly that, next to ``ansible.builtin.ping``.
(b) GET latency against the sandbox API server: keep-alive vs a new connection per request vs a new client per
    request.

Prints a table and writes JSON to benchmarks/results/ (git-ignored). ``make bench`` runs it with the sandbox's
env.sh variables; without a sandbox, (a) uses a throw-away kubeconfig and (b) is skipped. Timings are reported,
never asserted.

    python benchmarks/run.py [--quick]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".build" / "collections"
RESULTS = REPO / "benchmarks" / "results"
ENV_FILE = REPO / ".sandbox" / "env.sh"
UTILS = "ansible_collections.openshift_ops.images.plugins.module_utils"
OUR_MODULES = (
    f"{UTILS}._errors",
    f"{UTILS}._kube.connection_options",
    f"{UTILS}._kube.config",
    f"{UTILS}._kube.client",
)

# The core path of every module run, minus the request: import, resolve, build the client.
SETUP_CODE = f"""
import time
started, started_cpu = time.perf_counter(), time.process_time()
from {UTILS}._errors import ImagesError
from {UTILS}._kube.config import resolve_cluster_config
from {UTILS}._kube.client import KubeClient
client = KubeClient(resolve_cluster_config({{"kubeconfig": KUBECONFIG}}))
print((time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000)
"""
BASIC_CODE = """
import time
started, started_cpu = time.perf_counter(), time.process_time()
import ansible.module_utils.basic
print((time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000)
"""

PROBE_MODULE = f"""
from ansible.module_utils.basic import AnsibleModule
from {UTILS}._kube.connection_options import connection_argument_spec
from {UTILS}._kube.client import client_from_module


def main():
    module = AnsibleModule(argument_spec=connection_argument_spec(), supports_check_mode=True)
    client = client_from_module(module)
    module.exit_json(changed=False, server=client.config.server, namespace=client.default_namespace)


if __name__ == "__main__":
    main()
"""


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _sep, value = words[1].partition("=")
            env[key] = value
    return env


def sandbox_kubeconfig() -> str | None:
    """The sandbox admin kubeconfig from the environment (``make bench``) or from .sandbox/env.sh."""
    if os.environ.get("SANDBOX_API") and os.environ.get("KUBECONFIG"):
        return os.environ["KUBECONFIG"]
    if ENV_FILE.is_file():
        env = read_env_file(ENV_FILE)
        if env.get("KUBECONFIG") and Path(env["KUBECONFIG"]).is_file():
            return env["KUBECONFIG"]
    return None


def throwaway_kubeconfig(directory: Path) -> str:
    """A kubeconfig with a token and no CA, for measuring setup when no sandbox runs (nothing connects)."""
    path = directory / "kubeconfig"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": "benchmark-token"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    path.write_text(json.dumps(document))
    return str(path)


Sample = tuple[float, float]  # (wall ms, CPU ms)


def summary(samples: Sequence[Sample]) -> dict[str, float]:
    """Wall-clock median/p90/min and CPU median. CPU time (user + system, children included) hardly moves when
    other processes share the machine; wall time does."""
    wall = sorted(sample[0] for sample in samples)
    cpu = sorted(sample[1] for sample in samples)
    p90 = wall[min(len(wall) - 1, round(0.9 * (len(wall) - 1)))]
    return {
        "n": len(wall),
        "median_ms": round(statistics.median(wall), 2),
        "p90_ms": round(p90, 2),
        "min_ms": round(wall[0], 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
    }


def child_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("K8S_AUTH_")}
    env.pop("KUBECONFIG", None)
    env.update(
        PYTHONPATH=str(COLLECTIONS),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        PYTHONDONTWRITEBYTECODE="",  # let the interpreter use its bytecode cache, as a module run would
    )
    env.update(extra)
    return env


def run_command(command: Sequence[str], env: dict[str, str]) -> Sample:
    """Wall and CPU time of a command and every process it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def run_python(code: str, env: dict[str, str]) -> Sample:
    """The (wall ms, CPU ms) a snippet prints about itself, timed inside a fresh interpreter."""
    completed = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    wall, cpu = completed.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def interleaved(samplers: dict[str, Callable[[], Sample]], runs: int) -> dict[str, list[Sample]]:
    """Take the samples of competing measurements in turns, so that load from other processes on a shared machine
    falls on all of them alike."""
    samples: dict[str, list[Sample]] = {name: [] for name in samplers}
    for _run in range(runs):
        for name, sampler in samplers.items():
            samples[name].append(sampler())
    return samples


def difference(samples: dict[str, list[Sample]], ours: str, baseline: str, *, per: int = 1) -> dict[str, float]:
    def median(name: str, index: int) -> float:
        return statistics.median(sample[index] for sample in samples[name])

    return {
        "median_ms": round((median(ours, 0) - median(baseline, 0)) / per, 2),
        "min_ms": round((min(s[0] for s in samples[ours]) - min(s[0] for s in samples[baseline])) / per, 2),
        "cpu_median_ms": round((median(ours, 1) - median(baseline, 1)) / per, 2),
    }


# ---------------------------------------------------------------------------------------------------------------
# (a) import and setup


def module_utils_zip(workdir: Path) -> Path:
    """Our module_utils in a zip, as AnsiballZ ships them: imported from there they are compiled on every run."""
    path = workdir / "module_utils.zip"
    package = "ansible_collections/openshift_ops/images/plugins/module_utils"
    with zipfile.ZipFile(path, "w") as archive:
        parts = package.split("/")
        for depth in range(1, len(parts) + 1):
            archive.writestr("/".join(parts[:depth]) + "/__init__.py", "")
        # The lazily imported _kube helpers are packed too, as AnsiballZ packs them; only what runs is compiled.
        utils = REPO / "plugins" / "module_utils"
        sources = {utils / f"{name.removeprefix(UTILS + '.').replace('.', '/')}.py" for name in OUR_MODULES}
        sources.update((utils / "_kube").glob("*.py"))
        for source in sorted(sources):
            archive.write(source, f"{package}/{source.relative_to(utils)}")
    return path


def measure_in_process(kubeconfig: str, runs: int, workdir: Path) -> dict[str, Any]:
    """Each sample a fresh interpreter; the time is taken inside it, so interpreter start-up is not counted."""
    env = child_env()
    code = f"KUBECONFIG = {kubeconfig!r}\n{SETUP_CODE}"
    # Our setup once AnsibleModule's imports are loaded: what a module run actually adds.
    after_basic_code = f"import ansible.module_utils.basic\nKUBECONFIG = {kubeconfig!r}\n{SETUP_CODE}"
    zipped = module_utils_zip(workdir)
    from_zip_code = f"import sys\nsys.path.insert(0, {str(zipped)!r})\n{after_basic_code}"
    zip_env = child_env(PYTHONPATH="")
    samples = interleaved(
        {
            "core_setup_cold": lambda: run_python(code, env),
            "core_setup_after_ansible_basic": lambda: run_python(after_basic_code, env),
            "core_setup_after_basic_from_zip": lambda: run_python(from_zip_code, zip_env),
            "ansible_module_utils_basic_import": lambda: run_python(BASIC_CODE, env),
            "python_startup": lambda: run_command([sys.executable, "-c", "pass"], env),
        },
        runs,
    )
    return {name: summary(values) for name, values in samples.items()}


def importtime_rows(code: str, env: dict[str, str]) -> list[tuple[str, int, int]]:
    """(module, self us, cumulative us) for each import ``python -X importtime`` reports, in order."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, check=True, capture_output=True, text=True
    )
    rows = []
    for line in completed.stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, cumulative_us, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
            rows.append((name, int(self_us), int(cumulative_us)))
    return rows


def measure_importtime(kubeconfig: str) -> dict[str, Any]:
    """``-X importtime`` of the core: our modules' cumulative time in a bare interpreter, and the heaviest imports
    the core adds once ``ansible.module_utils.basic`` (which every module loads) is already imported."""
    env = child_env()
    cold = importtime_rows(f"KUBECONFIG = {kubeconfig!r}\n{SETUP_CODE}", env)
    ours = {name: cumulative / 1000 for name, _self, cumulative in cold if name in OUR_MODULES}
    warm = importtime_rows(f"import ansible.module_utils.basic\nKUBECONFIG = {kubeconfig!r}\n{SETUP_CODE}", env)
    basic_at = next(index for index, row in enumerate(warm) if row[0] == "ansible.module_utils.basic")
    added = warm[basic_at + 1 :]
    heaviest = sorted(added, key=lambda row: row[1], reverse=True)[:8]
    return {
        "our_modules_cumulative_ms": {name.rsplit(".", 1)[1]: round(ms, 2) for name, ms in ours.items()},
        "added_after_basic_total_self_ms": round(sum(row[1] for row in added) / 1000, 2),
        "added_after_basic_heaviest_self_ms": [{"module": row[0], "ms": round(row[1] / 1000, 2)} for row in heaviest],
    }


def measure_ansible_runs(kubeconfig: str, runs: int, workdir: Path) -> dict[str, Any]:
    """Real ad-hoc runs on localhost: ansible.builtin.ping against a module doing the core setup."""
    library = workdir / "library"
    library.mkdir(exist_ok=True)
    (library / "openshift_ops_connection_probe.py").write_text(PROBE_MODULE)
    ansible = str(Path(sys.executable).with_name("ansible"))
    base = [
        ansible,
        "localhost",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
    ]
    env = child_env(ANSIBLE_LIBRARY=str(library), ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_NOCOLOR="1")
    probe = [*base, "-m", "openshift_ops_connection_probe", "-a", f"kubeconfig={kubeconfig}"]
    check = subprocess.run(probe, env=env, capture_output=True, text=True, check=False)
    if check.returncode != 0 or "SUCCESS" not in check.stdout:
        raise RuntimeError(f"the probe module failed: {check.stdout[-800:]} {check.stderr[-800:]}")
    samples = interleaved(
        {
            "ping": lambda: run_command([*base, "-m", "ansible.builtin.ping"], env),
            "probe": lambda: run_command(probe, env),
        },
        runs,
    )
    return {
        "ansible_ping": summary(samples["ping"]),
        "ansible_probe_module": summary(samples["probe"]),
        "probe_minus_ping": difference(samples, "probe", "ping"),
    }


PLAYBOOK_TASKS = 10


def measure_playbook_runs(kubeconfig: str, runs: int, workdir: Path) -> dict[str, Any]:
    """One play of ``PLAYBOOK_TASKS`` ping tasks against one of as many probe tasks: the per-task cost once the
    module payload is built (it is built once per play), which is what a playbook pays."""
    library = workdir / "library"
    library.mkdir(exist_ok=True)
    (library / "openshift_ops_connection_probe.py").write_text(PROBE_MODULE)
    playbooks = {}
    for name, task in (
        ("ping", {"ansible.builtin.ping": {}}),
        ("probe", {"openshift_ops_connection_probe": {"kubeconfig": kubeconfig}}),
    ):
        play = [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "vars": {"ansible_python_interpreter": sys.executable},
                "tasks": [{"name": f"{name} {number}", **task} for number in range(PLAYBOOK_TASKS)],
            }
        ]
        path = workdir / f"{name}.yml"
        path.write_text(json.dumps(play))
        playbooks[name] = path
    playbook = str(Path(sys.executable).with_name("ansible-playbook"))
    env = child_env(ANSIBLE_LIBRARY=str(library), ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"), ANSIBLE_NOCOLOR="1")
    base = [playbook, "-i", "localhost,", "-c", "local"]
    samplers: dict[str, Callable[[], Sample]] = {
        name: functools.partial(run_command, [*base, str(path)], env) for name, path in playbooks.items()
    }
    samples = interleaved(samplers, runs)
    return {
        "playbook_ping": summary(samples["ping"]),
        "playbook_probe": summary(samples["probe"]),
        "tasks_per_playbook": PLAYBOOK_TASKS,
        "probe_minus_ping_per_task": difference(samples, "probe", "ping", per=PLAYBOOK_TASKS),
    }


# ---------------------------------------------------------------------------------------------------------------
# (b) request latency


def measure_latency(kubeconfig: str, runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(COLLECTIONS))
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient  # noqa: PLC0415
    from ansible_collections.openshift_ops.images.plugins.module_utils._kube.config import (  # noqa: PLC0415
        resolve_cluster_config,
    )

    config = resolve_cluster_config({"kubeconfig": kubeconfig}, {"PATH": os.environ.get("PATH", "")})
    path = "/api/v1/namespaces/default"

    def timed(action: Callable[[], Any]) -> Callable[[], Sample]:
        def run() -> Sample:
            started, started_cpu = time.perf_counter(), time.process_time()
            action()
            return (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000

        return run

    keep_alive_client = KubeClient(config)
    keep_alive_client.get(path)  # connect once before measuring
    reconnect_client = KubeClient(config)

    def reconnecting_get() -> None:
        reconnect_client.close()
        reconnect_client.get(path)

    def fresh_client_get() -> None:
        with KubeClient(config) as client:
            client.get(path)

    samples = interleaved(
        {
            "keep_alive": timed(lambda: keep_alive_client.get(path)),
            "new_connection": timed(reconnecting_get),
            "new_client": timed(fresh_client_get),
        },
        runs,
    )
    keep_alive, reconnect, fresh = samples["keep_alive"], samples["new_connection"], samples["new_client"]
    result = {
        "get_keep_alive": summary(keep_alive),
        "get_new_connection": summary(reconnect),
        "get_new_client": summary(fresh),
        "connections_opened": {
            "keep_alive": keep_alive_client.connections_opened,
            "new_connection": reconnect_client.connections_opened,
        },
        "credential": config.credential_kind,
    }
    keep_alive_client.close()
    reconnect_client.close()
    return result


# ---------------------------------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    columns = f"{'median ms':>10} {'p90 ms':>9} {'min ms':>9} {'CPU ms':>9} {'n':>4}"
    lines = [f"{'measurement':<50} {columns}", "-" * (51 + len(columns))]

    def row(label: str, value: dict[str, float]) -> None:
        p90 = f"{value['p90_ms']:>9.2f}" if "p90_ms" in value else " " * 9
        count = f"{int(value['n']):>4}" if "n" in value else ""
        lines.append(
            f"{label:<50} {value['median_ms']:>10.2f} {p90} {value['min_ms']:>9.2f} {value['cpu_median_ms']:>9.2f} "
            f"{count}".rstrip()
        )

    for section in ("in_process", "ansible_runs", "playbook_runs", "latency"):
        for name, value in (results.get(section) or {}).items():
            if isinstance(value, dict) and "median_ms" in value:
                row(f"{section}: {name}", value)
    importtime = results.get("importtime") or {}
    for name, ms in (importtime.get("our_modules_cumulative_ms") or {}).items():
        lines.append(f"{'importtime, cumulative: ' + name:<50} {ms:>10.2f}")
    if "added_after_basic_total_self_ms" in importtime:
        label = "importtime: all imports added after ansible basic"
        lines.append(f"{label:<50} {importtime['added_after_basic_total_self_ms']:>10.2f}")
    for section, reason in (results.get("skipped") or {}).items():
        lines.append(f"{section}: skipped ({reason})")
    for section, error in (results.get("errors") or {}).items():
        lines.append(f"{section}: FAILED ({error})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    args = parser.parse_args(argv)
    runs = (
        {"in_process": 5, "ansible": 3, "playbook": 1, "latency": 20}
        if args.quick
        else {"in_process": 20, "ansible": 10, "playbook": 3, "latency": 100}
    )

    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "runs": runs,
        "load_average_before": os.getloadavg(),
        "skipped": {},
        "errors": {},
    }
    with tempfile.TemporaryDirectory(prefix="openshift_ops-bench-") as scratch:
        workdir = Path(scratch)
        sandbox = sandbox_kubeconfig()
        kubeconfig = sandbox or throwaway_kubeconfig(workdir)
        results["kubeconfig"] = "sandbox admin (client certificate)" if sandbox else "throw-away (token, no CA)"
        sections: list[tuple[str, Callable[[], Any]]] = [
            ("in_process", lambda: measure_in_process(kubeconfig, runs["in_process"], workdir)),
            ("importtime", lambda: measure_importtime(kubeconfig)),
            ("ansible_runs", lambda: measure_ansible_runs(kubeconfig, runs["ansible"], workdir)),
            ("playbook_runs", lambda: measure_playbook_runs(kubeconfig, runs["playbook"], workdir)),
        ]
        if sandbox:
            sections.append(("latency", lambda: measure_latency(sandbox, runs["latency"])))
        else:
            results["skipped"]["latency"] = "no sandbox: run `make bench` or `make sandbox-up`"
        for name, measure in sections:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            try:
                results[name] = measure()
            except (OSError, RuntimeError, subprocess.CalledProcessError, ValueError) as error:
                detail = getattr(error, "stderr", None) or str(error)
                results["errors"][name] = textwrap.shorten(str(detail), 600)
            except Exception as error:
                results["errors"][name] = f"{type(error).__name__}: {textwrap.shorten(str(error), 600)}"

    results["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = RESULTS / f"connection-{stamp}.json"
    output.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "connection-latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    before, after = results["load_average_before"][0], results["load_average_after"][0]
    print(f"load average (1 min) before/after: {before:.1f}/{after:.1f} on {os.cpu_count()} CPUs")
    print(f"\nwritten to {output.relative_to(REPO)}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
