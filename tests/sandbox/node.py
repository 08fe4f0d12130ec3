"""The sandbox's node: containerd, a kubelet and kube-scheduler, so pods really pull what the modules configured.

One node per machine (the kubelet owns the ``/kubepods`` cgroups), on loopback only. What it changes on the machine
is recorded before it starts (:func:`snapshot`) and put back when it stops (:func:`restore`): the kernel tunables
the kubelet sets, the iptables rules and chains it adds, the cgroups, mounts, network namespaces and links that
pods leave, and the files the kubelet and CNI keep outside the sandbox's directory.

What these machines need, found by running it: containerd's CRI plugin must not try to lower ``oom_score_adj``
(``restrict_oom_score_adj``: only PID 1 keeps CAP_SYS_RESOURCE here), the kubelet must accept cgroup v1
(``failCgroupV1: false``) with the cgroupfs driver, and it refuses a loopback node IP, so the Node has no
InternalIP and container logs are read from ``podLogsDir`` instead of through the API server.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

NODE_NAME = "sandbox-node"
NETWORK_NAME = "openshift-ops-sandbox"
BRIDGE = "ooisbx0"
POD_SUBNET = "10.217.0.0/24"
PAUSE_IMAGE = "localhost/openshift-ops-sandbox/pause:1"
CNI_BIN_DIR = Path("/usr/lib/cni")  # Debian's containernetworking-plugins
SYSTEM_TOOLS = {"containerd": "containerd", "runc": "runc", "ctr": "containerd", "busybox": "busybox-static"}
# The kernel tunables the kubelet sets when protectKernelDefaults is off (pkg/kubelet/cm/container_manager_linux.go),
# and the forwarding switch a CNI plugin may turn on.
TUNABLES = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
)
# Paths outside the sandbox's directory that the kubelet, containerd's shims or CNI write to whatever they are told.
MACHINE_PATHS = (
    Path("/run/netns"),
    Path("/run/containerd"),
    Path("/var/lib/cni"),
    Path("/var/log/containers"),
    Path("/var/log/pods"),
    Path("/var/lib/kubelet"),
)
NODE_LOCK = Path("/run/openshift-ops-sandbox-node.json")
PROCESSES = ("kube-scheduler", "kubelet", "containerd")


class NodeError(RuntimeError):
    """A failure the person starting the sandbox can act on."""


# --------------------------------------------------------------------------------------------------------------------
# What the node changes on the machine, recorded and put back


def _read_tunable(name: str) -> str | None:
    try:
        return Path("/proc/sys", name).read_text(encoding="ascii").strip()
    except OSError:
        return None


def _iptables_save(tool: str) -> str | None:
    save = shutil.which(f"{tool}-save")
    if save is None:
        return None
    result = subprocess.run([save], capture_output=True, text=True, check=False)
    return result.stdout if result.returncode == 0 else None


def _kubepods_cgroups() -> list[str]:
    root = Path("/sys/fs/cgroup")
    found = [root / "kubepods"] + [hierarchy / "kubepods" for hierarchy in root.iterdir() if hierarchy.is_dir()]
    return sorted(str(path) for path in found if path.is_dir())


def _links() -> list[str]:
    return sorted(path.name for path in Path("/sys/class/net").iterdir())


def _listing(path: Path) -> list[str] | None:
    """Every entry under ``path`` (relative), or None when it does not exist."""
    if not path.exists():
        return None
    return sorted(str(entry.relative_to(path)) for entry in path.rglob("*"))


def snapshot() -> dict[str, Any]:
    """The machine state the node may change. Compared by tests before start and after stop."""
    return {
        "tunables": {name: _read_tunable(name) for name in TUNABLES},
        "iptables": {tool: _iptables_save(tool) for tool in ("iptables", "ip6tables")},
        "cgroups": _kubepods_cgroups(),
        "links": _links(),
        "paths": {str(path): _listing(path) for path in MACHINE_PATHS},
    }


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with what changes on its own left out (iptables-save's packet counters and timestamps)."""
    return {
        **state,
        "iptables": {tool: _rules(text) if text is not None else None for tool, text in state["iptables"].items()},
    }


def _rules(text: str) -> dict[str, dict[str, list[str]]]:
    """iptables-save output as {table: {"chains": [...], "policies": [...], "rules": [...]}}, counters dropped.
    Built-in chains are listed with their policy ("INPUT ACCEPT"), chains of one's own with "-"."""
    tables: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        if line.startswith("*"):
            current = tables.setdefault(line[1:], {"chains": [], "policies": [], "rules": []})
        elif current is not None and line.startswith(":"):
            name, policy = line[1:].split()[:2]
            (current["chains"] if policy == "-" else current["policies"]).append(
                name if policy == "-" else f"{name} {policy}"
            )
        elif current is not None and line.startswith("-A "):
            current["rules"].append(line[3:])
    return tables


def iptables_undo(tool: str, before: str, now: str) -> tuple[list[tuple[list[str], str]], list[str]]:
    """The commands that take iptables from ``now`` back to ``before`` (both iptables-save output), each with what it
    does, and the tables that did not exist before. Rules are matched as a multiset, so a rule that was there twice
    keeps both copies; chains are flushed before any is deleted, as rules may jump between them."""
    old, new = _rules(before), _rules(now)
    commands: list[tuple[list[str], str]] = []
    for table, content in new.items():
        was = old.get(table, {"chains": [], "policies": [], "rules": []})
        kept = Counter(was["rules"])
        for rule in reversed(content["rules"]):
            if kept[rule] > 0:
                kept[rule] -= 1
                continue
            words = shlex.split(rule)
            commands.append(
                ([tool, "-w", "-t", table, "-D", *words], f"{tool} -t {table}: removed a rule of {words[0]}")
            )
        added_chains = [chain for chain in content["chains"] if chain not in was["chains"]]
        commands += [([tool, "-w", "-t", table, "-F", chain], "") for chain in added_chains]
        commands += [
            ([tool, "-w", "-t", table, "-X", chain], f"{tool} -t {table}: removed chain {chain}")
            for chain in added_chains
        ]
        commands += [
            ([tool, "-w", "-t", table, "-P", *policy.split()], f"{tool} -t {table}: policy {policy}")
            for policy in was["policies"]
            if policy not in content["policies"]
        ]
    return commands, [table for table in new if table not in old]


def _restore_iptables(tool: str, before: str | None, done: list[str]) -> None:
    now = _iptables_save(tool)
    if now is None:
        return
    commands, new_tables = iptables_undo(tool, before or "", now)
    for command, what in commands:
        subprocess.run(command, capture_output=True, check=False)
        if what:
            done.append(what)
    for table in new_tables:
        _drop_nft_table(tool, table, done)


def _drop_nft_table(tool: str, table: str, done: list[str]) -> None:
    """A table that did not exist before: with the nf_tables backend, iptables leaves it behind (empty, built-in
    chains accepting); deleting it is what makes the machine look as it was."""
    version = subprocess.run([tool, "-V"], capture_output=True, text=True, check=False).stdout
    left = _rules(_iptables_save(tool) or "").get(table)
    if "nf_tables" not in version or shutil.which("nft") is None or left is None or left["rules"] or left["chains"]:
        return
    family = "ip6" if tool == "ip6tables" else "ip"
    if subprocess.run(["nft", "delete", "table", family, table], capture_output=True, check=False).returncode == 0:
        done.append(f"nft: deleted table {family} {table}")


def mounts_under(prefixes: Sequence[Path]) -> list[str]:
    points = []
    for line in Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines():
        point = line.split()[4].replace("\\040", " ")
        if any(point == str(prefix) or point.startswith(f"{prefix}/") for prefix in prefixes):
            points.append(point)
    return points


def _unmount(points: Sequence[str], done: list[str]) -> None:
    for point in sorted(set(points), key=lambda p: p.count("/"), reverse=True):
        result = subprocess.run(["umount", point], capture_output=True, check=False)
        if result.returncode != 0:
            subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
        done.append(f"unmounted {point}")


def _kill_cgroup_processes(cgroups: Sequence[str]) -> None:
    for _attempt in range(50):
        pids: set[int] = set()
        for root in cgroups:
            for procs in Path(root).rglob("cgroup.procs"):
                with contextlib.suppress(OSError, ValueError):
                    pids.update(int(pid) for pid in procs.read_text(encoding="ascii").split())
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def _remove_cgroup_tree(root: Path) -> None:
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            directory.rmdir()
    with contextlib.suppress(OSError):
        root.rmdir()


def _shim_pids(node_dir: Path) -> list[int]:
    """containerd's runc shims started for this node (they outlive containerd by design)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and str(node_dir).encode() in b" ".join(argv):
                pids.append(int(proc.name))
    return pids


def restore(before: dict[str, Any], node_dir: Path) -> list[str]:
    """Put back what the (stopped) node changed: returns one line per thing done, for the launcher to print."""
    done: list[str] = []
    new_cgroups = [c for c in _kubepods_cgroups() if c not in before["cgroups"]]
    _kill_cgroup_processes(new_cgroups)
    for pid in _shim_pids(node_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            done.append(f"killed containerd shim {pid}")
    before_netns = set(before["paths"].get("/run/netns") or [])
    netns = [p for p in (_listing(Path("/run/netns")) or []) if p not in before_netns]
    _unmount([*mounts_under([node_dir]), *(f"/run/netns/{name}" for name in netns)], done)
    for name in netns:
        with contextlib.suppress(OSError):
            (Path("/run/netns") / name).unlink()
    for link in _links():
        if link not in before["links"]:
            subprocess.run(["ip", "link", "delete", link], capture_output=True, check=False)
            done.append(f"deleted link {link}")
    for root in new_cgroups:
        _remove_cgroup_tree(Path(root))
        done.append(f"removed cgroup {root}")
    for name, value in before["tunables"].items():
        if value is not None and _read_tunable(name) != value:
            with contextlib.suppress(OSError):
                Path("/proc/sys", name).write_text(value + "\n", encoding="ascii")
                done.append(f"sysctl {name.replace('/', '.')} = {value}")
    for tool, text in before["iptables"].items():
        _restore_iptables(tool, text, done)
    for path_text, listing in before["paths"].items():
        _restore_path(Path(path_text), listing, done)
    return done


def _restore_path(path: Path, listing: list[str] | None, done: list[str]) -> None:
    """Remove what was created under ``path`` (``path`` itself too when it did not exist)."""
    if not path.exists() and not path.is_symlink():
        return
    if listing is None:
        shutil.rmtree(path, ignore_errors=True)
        done.append(f"removed {path}")
        return
    kept = set(listing)
    for entry in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if str(entry.relative_to(path)) in kept:
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                entry.rmdir()
            else:
                entry.unlink()
            done.append(f"removed {entry}")


# --------------------------------------------------------------------------------------------------------------------
# Configuration


def missing_tools() -> list[str]:
    """Debian packages the node needs that are not installed."""
    missing = {package for tool, package in SYSTEM_TOOLS.items() if shutil.which(tool) is None}
    if not (CNI_BIN_DIR / "bridge").exists():
        missing.add("containernetworking-plugins")
    return sorted(missing)


def containerd_config(node_dir: Path) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    daemon_dir = node_dir / "containerd"
    return f"""\
version = 2
root = "{daemon_dir}/root"
state = "{daemon_dir}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "{socket(node_dir)}"

[ttrpc]
  address = "{daemon_dir}/ttrpc.sock"

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "{daemon_dir}/opt"

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  # Only PID 1 keeps CAP_SYS_RESOURCE on these machines: runc cannot lower a sandbox's oom_score_adj.
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = "{CNI_BIN_DIR}"
  conf_dir = "{node_dir}/cni"

[{cri}.registry]
  config_path = "{node_dir}/certs.d"
"""


def socket(node_dir: Path) -> Path:
    return node_dir / "containerd" / "containerd.sock"


def cni_config(node_dir: Path) -> dict[str, Any]:
    # A bridge with no address on the host and no masquerading: pods get an address the host never routes.
    return {
        "cniVersion": "0.4.0",
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": False,
                "ipMasq": False,
                "hairpinMode": False,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET}]],
                    "dataDir": str(node_dir / "cni-ipam"),
                },
            },
            {"type": "loopback"},
        ],
    }


def registry_hosts(registry: str, ca_file: Path) -> str:
    """certs.d/<registry>/hosts.toml: containerd trusts the sandbox CA for that registry (and nothing else)."""
    return f'server = "https://{registry}"\n\n[host."https://{registry}"]\n  ca = "{ca_file}"\n'


def kubelet_config(node_dir: Path, *, port: int, healthz_port: int, ca_file: Path, pki: Path) -> dict[str, Any]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": "127.0.0.1",
        "port": port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": healthz_port,
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca_file)},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "cgroupfs",
        "failCgroupV1": False,  # these machines are cgroup v1
        "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{socket(node_dir)}",
        "podLogsDir": str(node_dir / "pod-logs"),
        "clusterDomain": "cluster.local",
        "resolvConf": "",
        "registerNode": True,
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "nodeStatusUpdateFrequency": "5s",
        # Eviction and image GC are not what the tests are about: a busy disk must not evict their pods.
        "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "maxPods": 50,
    }


def write_config(
    node_dir: Path,
    *,
    registries: Sequence[str],
    registry_ca: Path,
    ca_file: Path,
    pki: Path,
    port: int,
    healthz_port: int,
    write_private: Callable[[Path, str], None],
) -> None:
    for child in ("containerd", "cni", "certs.d", "pod-logs", "kubelet", "home"):
        (node_dir / child).mkdir(parents=True, exist_ok=True)
    (node_dir / "containerd.toml").write_text(containerd_config(node_dir), encoding="utf-8")
    (node_dir / "cni" / f"10-{NETWORK_NAME}.conflist").write_text(json.dumps(cni_config(node_dir)), encoding="utf-8")
    for registry in registries:
        hosts = node_dir / "certs.d" / registry
        hosts.mkdir(parents=True, exist_ok=True)
        (hosts / "hosts.toml").write_text(registry_hosts(registry, registry_ca), encoding="utf-8")
    write_private(
        node_dir / "kubelet.yaml",
        json.dumps(kubelet_config(node_dir, port=port, healthz_port=healthz_port, ca_file=ca_file, pki=pki)),
    )


def root_dir(node_dir: Path) -> Path:
    """The kubelet's root directory: where OpenShift's /var/lib/kubelet is, so its config.json is the node's
    credentials (the kubelet reads <root dir>/config.json first)."""
    return node_dir / "kubelet"


def kubelet_command(binaries: Path, node_dir: Path, kubeconfig: Path) -> list[str]:
    return [
        str(binaries / "kubelet"),
        f"--config={node_dir / 'kubelet.yaml'}",
        f"--kubeconfig={kubeconfig}",
        f"--root-dir={root_dir(node_dir)}",
        f"--cert-dir={node_dir / 'kubelet-pki'}",
        f"--hostname-override={NODE_NAME}",
        "--v=2",  # "Refreshing cache for provider" lines show when the node's config.json is read again
    ]


def scheduler_command(binaries: Path, kubeconfig: Path, port: int) -> list[str]:
    return [
        str(binaries / "kube-scheduler"),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        "--leader-elect=false",
        "--profiling=false",
    ]


def node_env(node_dir: Path) -> dict[str, str]:
    """The environment of containerd and the kubelet: a HOME of their own, so no ~/.docker/config.json of the
    person running the sandbox becomes node credentials."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DOCKER_", "REGISTRY_AUTH"))}
    env["HOME"] = str(node_dir / "home")
    env["PATH"] = f"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:{env.get('PATH', '')}"
    return env


# --------------------------------------------------------------------------------------------------------------------
# One node per machine


def claim(state_dir: Path) -> None:
    """Refuse to start a second node on this machine (two kubelets would share /kubepods)."""
    try:
        owner = json.loads(NODE_LOCK.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        owner = None
    if owner and owner.get("state_dir") != str(state_dir) and _alive(owner.get("pid"), owner.get("ticks")):
        raise NodeError(
            f"a sandbox node already runs on this machine (sandbox {owner['state_dir']}); stop it first with "
            f"`SANDBOX_STATE_DIR={owner['state_dir']} make sandbox-down`, or start this sandbox without a node "
            "(SANDBOX_NODE=0)"
        )


def record_owner(state_dir: Path, pid: int, ticks: int) -> None:
    NODE_LOCK.write_text(json.dumps({"state_dir": str(state_dir), "pid": pid, "ticks": ticks}), encoding="utf-8")


def release(state_dir: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        if json.loads(NODE_LOCK.read_text(encoding="utf-8")).get("state_dir") == str(state_dir):
            NODE_LOCK.unlink()


def _alive(pid: Any, ticks: Any) -> bool:
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text(encoding="ascii")
    except (OSError, TypeError, ValueError):
        return False
    return int(stat[stat.rindex(")") + 2 :].split()[19]) == ticks


# --------------------------------------------------------------------------------------------------------------------
# Images the node needs


def ctr(node_dir: Path, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", "--address", str(socket(node_dir)), "--namespace", "k8s.io", *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def import_pause_image(node_dir: Path, layout_tar: Path) -> None:
    """The pod sandbox image, made here from busybox (nothing is pulled from the internet)."""
    ctr(node_dir, "images", "import", str(layout_tar), timeout=120)


def stop_pods(node_dir: Path) -> None:
    """Kill and delete every task and container containerd runs for the node, so its shims exit."""
    if not socket(node_dir).exists():
        return
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        tasks = ctr(node_dir, "tasks", "list", "--quiet", check=False, timeout=20).stdout.split()
        for task in tasks:
            ctr(node_dir, "tasks", "kill", "--all", "--signal", "SIGKILL", task, check=False, timeout=20)
        for task in tasks:
            for _attempt in range(20):
                if ctr(node_dir, "tasks", "delete", "--force", task, check=False, timeout=20).returncode == 0:
                    break
                time.sleep(0.1)
        containers = ctr(node_dir, "containers", "list", "--quiet", check=False, timeout=20).stdout.split()
        for container in containers:
            ctr(node_dir, "containers", "delete", container, check=False, timeout=20)


@contextlib.contextmanager
def unchanged_on_failure(node_dir: Path, before: dict[str, Any]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        stop_pods(node_dir)
        restore(before, node_dir)
        raise
