# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Launcher of the sandbox cluster: a real etcd, kube-apiserver and kube-controller-manager (built from the Go
module in this directory), OpenShift's image API server and controllers (our own, built from the Go module in
`openshift/` on OpenShift's types, or real OpenShift binaries named by SANDBOX_OPENSHIFT_BIN; see openshift.py), all
cached outside the repo, plus two docker-registry instances and a token service, all on 127.0.0.1, with state and
logs under `.sandbox/`.

    sandbox.py up | down | status | build | seed [--reset] | env

`down` and `status` need only the standard library; `up`, `build` and `seed` need PyYAML and cryptography (the
project's venv has both).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import fcntl
import functools
import gzip
import hashlib
import io
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import node  # the node: containerd, kubelet and kube-scheduler, next to this file
import openshift  # the OpenShift servers' build and configuration, next to this file

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
STATE_DIR = Path(os.environ.get("SANDBOX_STATE_DIR") or REPO_ROOT / ".sandbox")
LOG_DIR = STATE_DIR / "logs"
STATE_FILE = STATE_DIR / "state.json"
ENV_FILE = STATE_DIR / "env.sh"
CACHE_ROOT = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "openshift_ops_images" / "sandbox"
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager", "kubelet", "kube-scheduler")
# Stopped in this order (clients before the servers they talk to). The controller managers go before
# openshift-apiserver: their watches proxied through kube-apiserver otherwise hold its shutdown for ~20 s.
PROCESS_ORDER = (
    "kube-scheduler",
    "kubelet",
    "containerd",
    "token-service",
    "token-registry",
    "openshift-controller-manager",
    "kube-controller-manager",
    "openshift-apiserver",
    "registry",
    "kube-apiserver",
    "etcd",
)
CONTROLLERS = (
    "namespace-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "clusterrole-aggregation-controller",
    "root-ca-certificate-publisher-controller",
    # For the node: Deployments become pods, and the node's not-ready taint goes once it is Ready.
    "deployment-controller",
    "replicaset-controller",
    "node-lifecycle-controller",
    "pod-garbage-collector-controller",
)
REGISTRY_USER = "sandbox"
REGISTRY_SERVICE = "sandbox-registry"
TOKEN_ISSUER = "sandbox-token-service"
TEST_IMAGE = "sandbox/hello"
# A runnable image (busybox) in both registries, for pods on the node; it prints a line and waits to be stopped.
APP_IMAGE = "sandbox/app"
APP_ENTRYPOINT = ("/bin/busybox", "sh", "-c", "trap 'exit 0' TERM; echo pulled and running; while :; do sleep 1; done")
NODE_DIR = STATE_DIR / "node"
NODE_BEFORE = STATE_DIR / "node-machine-before.json"
NODE_PROCESSES = ("kube-scheduler", "kubelet", "containerd")


def node_wanted() -> bool:
    """SANDBOX_NODE=0 starts the control plane only (a second sandbox on the same machine, e.g. the fleet test)."""
    return os.environ.get("SANDBOX_NODE", "1") not in ("0", "false", "no")


class SandboxError(RuntimeError):
    """A failure the person running `make sandbox-up` can act on."""


def say(message: str) -> None:
    print(f"[sandbox] {message}", flush=True)


# --------------------------------------------------------------------------------------------------------------------
# Building the binaries (once per go.mod/go.sum, cached outside the repo)


def kubernetes_version() -> str:
    """The k8s.io/kubernetes version go.mod pins (stamped into the binaries, as /version reports it)."""
    for line in (HERE / "go.mod").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] == ["require"]:
            words = words[1:]
        if len(words) >= 2 and words[0] == "k8s.io/kubernetes" and words[1].startswith("v"):
            return words[1]
    raise SandboxError("tests/sandbox/go.mod does not require k8s.io/kubernetes")


def build_key() -> str:
    digest = hashlib.sha256()
    digest.update((HERE / "go.mod").read_bytes())
    digest.update(b"\0")
    digest.update((HERE / "go.sum").read_bytes())
    return digest.hexdigest()[:16]


def binary_dir() -> Path:
    return CACHE_ROOT / build_key()


def binaries_ready(directory: Path) -> bool:
    return (directory / "COMPLETE").is_file() and all(os.access(directory / name, os.X_OK) for name in BINARIES)


def _stream_build(
    command: Sequence[str],
    *,
    env: dict[str, str],
    log: io.TextIOBase,
    total: int,
    label: str,
    unit: str,
    cwd: Path = HERE,
) -> None:
    """Run one `go` command, logging everything and printing a progress line every 15 s (``go build -v`` prints
    one line per package it compiles; ``total`` is the size of the dependency graph, cached packages included)."""
    started = time.monotonic()
    done = 0
    finished = threading.Event()

    def heartbeat() -> None:
        # A thread, so the line also comes while go prints nothing (linking, cached packages).
        while not finished.wait(15):
            of_total = f" of at most {total}" if total else ""
            say(f"{label}: {done}{of_total} {unit}, {int(time.monotonic() - started)}s elapsed")

    log.write(f"$ {shlex.join(command)}\n")
    log.flush()
    reporter = threading.Thread(target=heartbeat, daemon=True)
    reporter.start()
    try:
        with subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                done += 1
            code = process.wait()
    finally:
        finished.set()
        reporter.join()
    log.flush()
    if code != 0:
        raise SandboxError(f"{label} failed (exit {code}); see {getattr(log, 'name', 'the build log')}")
    say(f"{label}: done in {int(time.monotonic() - started)}s")


def build(*, force: bool = False) -> Path:
    """The directory holding etcd, kube-apiserver and kube-controller-manager, building them when absent."""
    target = binary_dir()
    if binaries_ready(target) and not force:
        return target
    go = shutil.which("go")
    if go is None:
        raise SandboxError(
            "the sandbox's first start builds kube-apiserver, kube-controller-manager and etcd from Go modules, and "
            "`go` is not on PATH: install Go >= 1.26 (https://go.dev/dl/) and run `make sandbox-up` again"
        )
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with (CACHE_ROOT / f"{target.name}.lock").open("w") as lock:
        if _locked(lock):
            say(f"another process is building the binaries; waiting for {lock.name}")
        fcntl.flock(lock, fcntl.LOCK_EX)
        if binaries_ready(target) and not force:  # another process built it while we waited
            return target
        version = kubernetes_version()
        major, minor = version.lstrip("v").split(".")[:2]
        # Holding the lock, every .partial directory is a failed or interrupted build's (kept for its log until now).
        for stale in CACHE_ROOT.glob(f"{target.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = CACHE_ROOT / f"{target.name}.partial-{os.getpid()}"
        partial.mkdir(parents=True)
        env = {**os.environ, "CGO_ENABLED": "0"}
        say(
            f"building Kubernetes {version} control plane into {target} (first start on this machine: about 20-30 "
            f"minutes on 2 cores; later starts take seconds). Log: {partial / 'build.log'}"
        )
        started = time.monotonic()
        ldflags = " ".join(
            [
                "-s -w",
                *(
                    f"-X {package}.{name}={value}"
                    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
                    for name, value in (
                        ("gitVersion", version),
                        ("gitMajor", major),
                        ("gitMinor", minor),
                        ("gitTreeState", "clean"),
                    )
                ),
            ]
        )
        with (partial / "build.log").open("w", encoding="utf-8") as log:
            _stream_build(
                [go, "mod", "download", "-x"], env=env, log=log, total=0, label="go mod download", unit="log lines"
            )
            packages = [
                f"k8s.io/kubernetes/cmd/{name}"
                for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet")
            ]
            total = _count_packages(go, [*packages, "go.etcd.io/etcd/server/v3"], env)
            build_flags = ["-v", "-trimpath", "-buildvcs=false"]  # no git metadata: the checkout may be anywhere
            _stream_build(
                [go, "build", *build_flags, "-ldflags", ldflags, "-o", f"{partial}/", *packages],
                env=env,
                log=log,
                total=total,
                label="go build kube-apiserver kube-controller-manager kube-scheduler kubelet",
                unit="packages compiled",
            )
            _stream_build(
                [
                    go,
                    "build",
                    *build_flags,
                    "-ldflags",
                    "-s -w",
                    "-o",
                    str(partial / "etcd"),
                    "go.etcd.io/etcd/server/v3",
                ],
                env=env,
                log=log,
                total=0,
                label="go build etcd",
                unit="packages compiled",
            )
        (partial / "COMPLETE").write_text(
            json.dumps({"kubernetes": version, "seconds": round(time.monotonic() - started), "built": _now()}) + "\n",
            encoding="utf-8",
        )
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        say(f"binaries ready in {target} after {int(time.monotonic() - started)}s")
        return target


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        if _locked(lock):
            say(f"another process is building; waiting for {path}")
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def build_openshift(*, force: bool = False) -> Path:
    """The directory holding our image API server, controllers and the config.openshift.io CRDs, building them
    when absent."""
    try:
        return openshift.build(CACHE_ROOT, stream=_stream_build, say=say, lock=_file_lock, force=force)
    except openshift.BuildError as error:
        raise SandboxError(str(error)) from None


def _locked(lock: io.TextIOBase) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def _count_packages(go: str, packages: Sequence[str], env: dict[str, str]) -> int:
    listing = subprocess.run(
        [go, "list", "-deps", *packages], cwd=HERE, env=env, capture_output=True, text=True, check=False
    )
    return len(listing.stdout.split()) if listing.returncode == 0 else 0


# --------------------------------------------------------------------------------------------------------------------
# Processes: started detached, recorded with their start time, stopped by recorded pid only


@dataclass
class Proc:
    name: str
    pid: int
    start_ticks: int

    def alive(self) -> bool:
        ticks = process_start_ticks(self.pid)
        return ticks is not None and ticks == self.start_ticks


def process_start_ticks(pid: int, *, zombies: bool = False) -> int | None:
    """The process's start time (field 22 of /proc/<pid>/stat), or None when it is gone (or a zombie, unless
    ``zombies``); used so a recycled pid is never mistaken for ours."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X") and not zombies:
        return None
    return int(fields[19])


def start_process(name: str, command: Sequence[str], *, env: dict[str, str] | None = None) -> Proc:
    log = (LOG_DIR / f"{name}.log").open("ab")
    process = subprocess.Popen(
        list(command),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in the terminal that ran `make test` must not kill the cluster
        close_fds=True,
        cwd=STATE_DIR,
        env=env,
    )
    log.close()
    ticks = process_start_ticks(process.pid)
    if ticks is None:
        raise SandboxError(f"{name} exited immediately; see {LOG_DIR / f'{name}.log'}")
    return Proc(name, process.pid, ticks)


def stop_processes(procs: Sequence[Proc], *, timeout: float = 15.0) -> list[str]:
    """SIGTERM each live recorded process (in PROCESS_ORDER), SIGKILL after ``timeout``; returns the names stopped."""
    ordered = sorted(procs, key=lambda p: PROCESS_ORDER.index(p.name) if p.name in PROCESS_ORDER else -1)
    stopped = []
    for proc in ordered:
        if not proc.alive():
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while proc.alive() and time.monotonic() < deadline:
            _reap(proc.pid)
            time.sleep(0.05)
        if proc.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            while proc.alive():
                _reap(proc.pid)
                time.sleep(0.05)
        stopped.append(proc.name)
    # Wait (briefly) until whoever is their parent has reaped them too, so `ps` shows nothing left behind.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        process_start_ticks(p.pid, zombies=True) == p.start_ticks for p in ordered
    ):
        for proc in ordered:
            _reap(proc.pid)
        time.sleep(0.05)
    return stopped


def _reap(pid: int) -> None:
    # Our own children (when `with_sandbox.py` started them) must be waited for, or they linger as zombies.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def read_state() -> dict[str, Any] | None:
    try:
        return json.loads(STATE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def recorded_processes(state: dict[str, Any] | None) -> list[Proc]:
    return [Proc(**entry) for entry in (state or {}).get("processes", [])]


def _write_private(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
    tmp.replace(path)


def write_state(state: dict[str, Any]) -> None:
    _write_private(STATE_FILE, json.dumps(state, indent=2) + "\n")


# --------------------------------------------------------------------------------------------------------------------
# Health


def _https_context(ca_file: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file))
    if cert and key:
        context.load_cert_chain(cert, key)
    return context


def http_get(url: str, *, context: ssl.SSLContext | None = None, timeout: float = 5.0) -> tuple[int, str]:
    if not url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
        raise ValueError(f"the launcher only talks to loopback services, not {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "sandbox-launcher"})  # noqa: S310 (checked above)
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def wait_until(what: str, check: Any, *, timeout: float, procs: Sequence[Proc] = ()) -> None:
    """Poll ``check()`` until truthy; fail early when a process it depends on has died."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        for proc in procs:
            if not proc.alive():
                raise SandboxError(f"{proc.name} died while waiting for {what}; see {LOG_DIR / (proc.name + '.log')}")
        try:
            if check():
                return
        except (OSError, ValueError) as error:
            last_error = error
        time.sleep(0.2)
    raise SandboxError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error})")


def api_ready(state: dict[str, Any]) -> bool:
    pki = Path(state["pki"])
    context = _https_context(pki / "ca.crt", pki / "admin.crt", pki / "admin.key")
    try:
        status, body = http_get(f"{state['api']}/readyz", context=context, timeout=3)
    except OSError:
        return False
    return status == 200 and body.strip() == "ok"


def is_up() -> bool:
    state = read_state()
    if not state or not ENV_FILE.is_file():
        return False
    procs = recorded_processes(state)
    return bool(procs) and all(p.alive() for p in procs) and api_ready(state)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64file(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


# --------------------------------------------------------------------------------------------------------------------
# The small test image, built as an OCI layout and pushed with skopeo


def build_oci_layout(layout: Path, *, tag: str, text: bytes = b"hello from the openshift_ops.images sandbox\n") -> None:
    """A one-layer image holding /hello.txt, deterministic bytes for a given ``text`` (the default image has the
    same digest on every start; tests push images of their own text to get new digests)."""
    write_oci_layout(layout, tag=tag, files={"hello.txt": (text, 0o644)})


def build_busybox_layout(layout: Path, *, tag: str, entrypoint: Sequence[str], name: str | None = None) -> None:
    """A runnable image: Debian's static busybox as /bin/busybox, started with ``entrypoint``. ``name`` is the
    reference containerd gives it when the layout is imported."""
    busybox = Path(shutil.which("busybox") or "/bin/busybox").read_bytes()
    write_oci_layout(
        layout,
        tag=tag,
        files={"bin/": (b"", 0o755), "tmp/": (b"", 0o1777), "bin/busybox": (busybox, 0o755)},
        config={"Entrypoint": list(entrypoint), "Env": ["PATH=/bin"]},
        annotations={"io.containerd.image.name": name} if name else {},
    )


def write_oci_layout(
    layout: Path,
    *,
    tag: str,
    files: dict[str, tuple[bytes, int]],
    config: dict[str, Any] | None = None,
    annotations: dict[str, str] | None = None,
) -> None:
    """An OCI image layout with one layer of ``files`` (path: (content, mode); a path ending in / is a directory),
    byte-for-byte the same for the same input."""
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, (content, mode) in files.items():
            info = tarfile.TarInfo(path.rstrip("/"))
            info.mode, info.mtime, info.uname, info.gname = mode, 0, "root", "root"
            if path.endswith("/"):
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    layer_tar = tar_buffer.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)

    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(data: bytes) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    image_config = {
        "created": "2024-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {"io.openshift_ops.images.sandbox": "true"}, **(config or {})},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer_tar).hexdigest()}"]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "tests/sandbox/sandbox.py"}],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(json.dumps(image_config).encode())},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **blob(layer)}],
    }
    manifest_descriptor = blob(json.dumps(manifest).encode())
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}', encoding="utf-8")
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **manifest_descriptor,
                "annotations": {"org.opencontainers.image.ref.name": tag, **(annotations or {})},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index), encoding="utf-8")


# --------------------------------------------------------------------------------------------------------------------
# Start / stop


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _attempt in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
# One event per request (ResponseComplete), Metadata only: never request or response bodies, so no secret.
omitStages: [RequestReceived]
rules:
  # The benchmark's own user: its reads too, so `make bench` can count every request an operation sends.
  - level: Metadata
    users: ["sandbox-bench"]
    verbs: [get, list]
  - level: None
    verbs: [get, list, watch]
  # The node's own traffic (status, leases, pod status, bindings): steady, and nothing a test counts.
  - level: None
    userGroups: ["system:nodes"]
  - level: None
    users: ["system:kube-scheduler"]
  # The namespace controller's sweep of a deleted namespace (~40 deletecollections each): most of the volume.
  - level: None
    users: ["system:kube-controller-manager"]
    verbs: [deletecollection]
  - level: None
    resources:
      - group: coordination.k8s.io
        resources: [leases]
      - group: ""
        resources: [events]
      - group: events.k8s.io
        resources: [events]
  - level: Metadata
"""


def sandbox_support() -> Any:
    # The seeding code is shared with the tests (which reset seeded objects), so it lives in sandbox_support.
    sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
    import sandbox_support  # noqa: PLC0415

    return sandbox_support


@contextlib.contextmanager
def state_lock() -> Iterator[None]:
    """One `up`/`down` at a time per state directory (two `make test` runs may race to start it)."""
    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    with (STATE_DIR / "lock").open("w") as lock:
        if _locked(lock):
            say(f"waiting for another sandbox start/stop ({lock.name})")
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def up() -> bool:
    """Start everything (building first if needed); a no-op when the sandbox is already up. True when this call
    started it."""
    with state_lock():
        return _up()


def _up() -> bool:
    import materials  # noqa: PLC0415 (needs cryptography and PyYAML, which `down` and `status` do without)

    if is_up():
        say(f"already up (API {read_state()['api']}); `source {ENV_FILE}`")  # type: ignore[index]
        return False
    started = time.monotonic()
    leftovers = recorded_processes(read_state())
    if leftovers or NODE_BEFORE.exists():
        stopped = _stop_all(leftovers)
        if stopped:
            say(f"stopped the leftovers of a broken sandbox: {', '.join(stopped)}")
    for tool in ("docker-registry", "skopeo", "htpasswd"):
        if shutil.which(tool) is None and not Path(f"/usr/bin/{tool}").exists():
            raise SandboxError(f"`{tool}` is missing: run `make system-packages` (Debian packages)")
    with_node = node_wanted()
    if with_node:
        if missing := node.missing_tools():
            raise SandboxError(f"the node needs {', '.join(missing)}: run `make system-packages` (Debian packages)")
        try:
            node.claim(STATE_DIR)
        except node.NodeError as error:
            raise SandboxError(str(error)) from None
    binaries = build()
    own_servers = build_openshift()  # also where the CRDs come from when real binaries run
    try:
        servers = openshift.supplied_binaries() or openshift.Servers(own_servers, real=False)
    except openshift.BuildError as error:
        raise SandboxError(str(error)) from None
    if servers.real:
        say(f"running OpenShift's own servers from SANDBOX_OPENSHIFT_BIN={servers.directory}")

    # A fresh start: wipe the runtime state (logs of the previous run go too).
    for child in ("pki", "etcd", "registry", "oci", "logs", "tmp", "bin", "node", "state.json", "env.sh"):
        path = STATE_DIR / child
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    STATE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    pki = STATE_DIR / "pki"
    for name, data in materials.make_pki(token_signer=TOKEN_ISSUER, node_name=node.NODE_NAME).items():
        _write_private(pki / name, data)
    registry_ca_dir = STATE_DIR / "registry-ca"
    registry_ca_dir.mkdir(exist_ok=True)
    shutil.copyfile(pki / "ca.crt", registry_ca_dir / "ca.crt")

    etcd_port, etcd_peer, api_port, kcm_port, reg_port, token_reg_port, token_port, oas_port, ocm_port = free_ports(9)
    kubelet_port, kubelet_healthz_port, scheduler_port = free_ports(3)
    api = f"https://127.0.0.1:{api_port}"
    user_token = secrets.token_hex(24)
    bench_token = secrets.token_hex(24)
    _write_private(
        STATE_DIR / "tokens.csv",
        f'{user_token},sandbox-user,sandbox-user-uid,"system:authenticated"\n'
        f'{bench_token},sandbox-bench,sandbox-bench-uid,"system:authenticated"\n',
    )
    _write_private(STATE_DIR / "audit-policy.yaml", AUDIT_POLICY)
    ca_pem = (pki / "ca.crt").read_bytes()
    admin_kubeconfig = STATE_DIR / "admin.kubeconfig"
    user_kubeconfig = STATE_DIR / "user.kubeconfig"
    bench_kubeconfig = STATE_DIR / "bench.kubeconfig"
    kcm_kubeconfig = STATE_DIR / "kcm.kubeconfig"
    oas_kubeconfig = STATE_DIR / "openshift-apiserver.kubeconfig"
    ocm_kubeconfig = STATE_DIR / "openshift-controller-manager.kubeconfig"
    for path, user, cert in (
        (oas_kubeconfig, "system:openshift-apiserver", "openshift-apiserver-client"),
        (ocm_kubeconfig, "system:openshift-controller-manager", "ocm-client"),
    ):
        _write_private(
            path,
            materials.kubeconfig(
                server=api,
                ca_pem=ca_pem,
                user=user,
                **{
                    "client-certificate-data": _b64file(pki / f"{cert}.crt"),
                    "client-key-data": _b64file(pki / f"{cert}.key"),
                },
            ),
        )
    _write_private(
        admin_kubeconfig,
        materials.kubeconfig(
            server=api,
            ca_pem=ca_pem,
            user="system:admin",
            **{
                "client-certificate-data": _b64file(pki / "admin.crt"),
                "client-key-data": _b64file(pki / "admin.key"),
            },
        ),
    )
    _write_private(
        user_kubeconfig, materials.kubeconfig(server=api, ca_pem=ca_pem, user="sandbox-user", token=user_token)
    )
    _write_private(
        bench_kubeconfig, materials.kubeconfig(server=api, ca_pem=ca_pem, user="sandbox-bench", token=bench_token)
    )
    _write_private(
        kcm_kubeconfig,
        materials.kubeconfig(
            server=api,
            ca_pem=ca_pem,
            user="system:kube-controller-manager",
            namespace="kube-system",
            **{"client-certificate-data": _b64file(pki / "kcm.crt"), "client-key-data": _b64file(pki / "kcm.key")},
        ),
    )

    state: dict[str, Any] = {
        "api": api,
        "pki": str(pki),
        "binaries": str(binaries),
        "openshift_binaries": str(servers.directory),
        "openshift_real": servers.real,
        "openshift_crds": str(own_servers),
        "ports": {
            "etcd": etcd_port,
            "etcd-peer": etcd_peer,
            "kube-apiserver": api_port,
            "kube-controller-manager": kcm_port,
            "registry": reg_port,
            "token-registry": token_reg_port,
            "token-service": token_port,
            "openshift-apiserver": oas_port,
            "openshift-controller-manager": ocm_port,
            "kubelet": kubelet_port,
            "kubelet-healthz": kubelet_healthz_port,
            "kube-scheduler": scheduler_port,
        },
        "node": with_node,
        "processes": [],
    }
    procs: list[Proc] = []

    def launch(name: str, command: Sequence[str], env: dict[str, str] | None = None) -> Proc:
        proc = start_process(name, command, env=env)
        procs.append(proc)
        state["processes"] = [vars(p) for p in procs]
        write_state(state)  # recorded at once, so `down` can stop it even if the start fails later
        return proc

    try:
        etcd = launch(
            "etcd",
            [
                str(binaries / "etcd"),
                "--name=sandbox",
                f"--data-dir={STATE_DIR / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}",
                f"--initial-cluster=sandbox=http://127.0.0.1:{etcd_peer}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )
        wait_until(
            "etcd health",
            lambda: http_get(f"http://127.0.0.1:{etcd_port}/health")[0] == 200,
            timeout=60,
            procs=[etcd],
        )
        apiserver = launch(
            "kube-apiserver",
            [
                str(binaries / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={api_port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={STATE_DIR / 'tokens.csv'}",
                "--authorization-mode=Node,RBAC",  # as OpenShift: the kubelet reads only its pods' secrets
                "--enable-admission-plugins=NodeRestriction",
                f"--service-account-issuer={api}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                "--endpoint-reconciler-type=none",
                "--shutdown-delay-duration=0s",
                f"--audit-policy-file={STATE_DIR / 'audit-policy.yaml'}",
                f"--audit-log-path={LOG_DIR / 'audit.log'}",
                "--audit-log-mode=blocking",
                "--audit-log-maxsize=0",
                "--profiling=false",
                # Aggregation: kube-apiserver proxies image.openshift.io & co. to openshift-apiserver with a
                # front-proxy client certificate, and publishes these settings in
                # kube-system/extension-apiserver-authentication for openshift-apiserver's delegated authentication.
                f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-uid-headers=X-Remote-Uid",
                f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
                f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
                "--enable-aggregator-routing=false",  # ExternalName services are dialled by name (spec §2.4)
            ],
        )
        wait_until("kube-apiserver /readyz", lambda: api_ready(state), timeout=180, procs=[etcd, apiserver])
        kcm = launch(
            "kube-controller-manager",
            [
                str(binaries / "kube-controller-manager"),
                f"--kubeconfig={kcm_kubeconfig}",
                f"--authentication-kubeconfig={kcm_kubeconfig}",
                f"--authorization-kubeconfig={kcm_kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={kcm_port}",
                "--leader-elect=false",
                "--use-service-account-credentials=false",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--controllers={','.join(CONTROLLERS)}",
                "--profiling=false",
            ],
        )

        support = sandbox_support()
        kube = support.Kube(admin_kubeconfig, user_agent="sandbox-launcher")
        say("seeding what OpenShift's operators provide (namespaces, CRDs, images.config, pull secret, pools)")
        support.seed(kube)
        start_openshift(
            state,
            launch,
            kube,
            servers=servers,
            ports=(oas_port, ocm_port, etcd_port),
            depends_on=[etcd, apiserver],
        )
        wait_until(
            "the default ServiceAccount (kube-controller-manager)",
            lambda: kube.get("/api/v1/namespaces/default/serviceaccounts/default") is not None,
            timeout=60,
            procs=[apiserver, kcm],
        )

        password = secrets.token_urlsafe(18)
        start_registries(state, launch, password=password, ports=(reg_port, token_reg_port, token_port))
        push_test_image(registry=f"127.0.0.1:{reg_port}", password=password, ca_dir=registry_ca_dir)
        push_app_image(registry=f"127.0.0.1:{reg_port}", password=password, ca_dir=registry_ca_dir)
        if with_node:
            start_node(
                state,
                launch,
                kube,
                registries=(f"127.0.0.1:{reg_port}", f"127.0.0.1:{token_reg_port}"),
                ports=(kubelet_port, kubelet_healthz_port, scheduler_port),
            )

        env = {
            "KUBECONFIG": str(admin_kubeconfig),
            "K8S_AUTH_KUBECONFIG": str(admin_kubeconfig),
            "SANDBOX_USER_KUBECONFIG": str(user_kubeconfig),
            "SANDBOX_BENCH_KUBECONFIG": str(bench_kubeconfig),
            "SANDBOX_API": api,
            "SANDBOX_CA": str(pki / "ca.crt"),
            "SANDBOX_REGISTRY": f"127.0.0.1:{reg_port}",
            "SANDBOX_REGISTRY_CA": str(registry_ca_dir / "ca.crt"),
            "SANDBOX_REGISTRY_USER": REGISTRY_USER,
            "SANDBOX_REGISTRY_PASSWORD": password,
            "SANDBOX_TOKEN_REGISTRY": f"127.0.0.1:{token_reg_port}",
            "SANDBOX_APP_IMAGE": APP_IMAGE,
        }
        if with_node:
            env |= {"SANDBOX_NODE": node.NODE_NAME, "SANDBOX_NODE_DIR": str(NODE_DIR)}
        if servers.oc is not None:
            # Real binaries with oc: the parity tests also run it live (tests/integration/test_oc_parity.py).
            bin_dir = STATE_DIR / "bin"
            bin_dir.mkdir()
            (bin_dir / "oc").symlink_to(servers.oc)
            env = {"PATH": f"{bin_dir}:$PATH", "SANDBOX_OC": str(servers.oc), **env}
        lines = ["# Written by tests/sandbox/sandbox.py: `source` it to talk to the sandbox cluster."]
        lines += [
            # PATH is the one value that refers to the environment it is sourced in.
            f'export {key}={shlex.quote(value[: -len("$PATH")])}"$PATH"'
            if key == "PATH"
            else f"export {key}={shlex.quote(value)}"
            for key, value in env.items()
        ]
        state["started"] = _now()
        write_state(state)
        _write_private(ENV_FILE, "\n".join(lines) + "\n")
    except BaseException:
        _stop_all(procs)
        raise
    elapsed = time.monotonic() - started
    say(f"up in {elapsed:.1f}s: API {api}, registry 127.0.0.1:{reg_port}, token registry 127.0.0.1:{token_reg_port}")
    say(f"`source {ENV_FILE}` to use it; logs in {LOG_DIR}")
    return True


def _servers(state: dict[str, Any]) -> openshift.Servers:
    return openshift.Servers(Path(state["openshift_binaries"]), real=bool(state.get("openshift_real")))


def start_openshift(
    state: dict[str, Any],
    launch: Any,
    kube: Any,
    *,
    servers: openshift.Servers,
    ports: tuple[int, int, int],
    depends_on: Sequence[Proc],
) -> None:
    """The image API server aggregated behind kube-apiserver, then the controllers."""
    import materials  # noqa: PLC0415 (see up())

    oas_port, ocm_port, _etcd_port = ports
    pki = Path(state["pki"])
    if servers.real:
        _write_apiserver_config(state)
        _write_private(
            STATE_DIR / "openshift-controller-manager.yaml",
            materials.to_yaml(openshift.controller_manager_config(port=ocm_port, pki=pki)),
        )
    oas = _launch_openshift_apiserver(state, launch, depends_on)
    for collection, body in openshift.aggregation_objects(
        port=oas_port, ca_pem=(pki / "ca.crt").read_bytes(), groups=servers.groups
    ):
        kube.create(collection, body)
    _wait_for_apiservices(kube, servers.groups, [*depends_on, oas])
    for collection, body in openshift.controller_prerequisites(sa_pub=(pki / "sa.pub").read_bytes()):
        kube.create(collection, body)
    tmp = STATE_DIR / "tmp"
    tmp.mkdir(exist_ok=True)
    commands = _commands(state)
    ocm = launch(
        "openshift-controller-manager", commands["openshift-controller-manager"], env={**os.environ, "TMPDIR": str(tmp)}
    )
    if servers.real:
        log = LOG_DIR / "openshift-controller-manager.log"
        wait_until(
            "openshift-controller-manager to start its image-import controller",
            lambda: 'Started "openshift.io/image-import"' in log.read_text(encoding="utf-8", errors="replace"),
            timeout=120,
            procs=[*depends_on, oas, ocm],
        )
        return
    # Our controllers are working once the namespace `default` is set up as a project.
    wait_until(
        "the controllers to set up namespace default (builder, deployer, system:image-pullers)",
        lambda: all(
            kube.get(path) is not None
            for path in (
                "/api/v1/namespaces/default/serviceaccounts/builder",
                "/api/v1/namespaces/default/serviceaccounts/deployer",
                "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/system:image-pullers",
            )
        ),
        timeout=120,
        procs=[*depends_on, oas, ocm],
    )


def _commands(state: dict[str, Any]) -> dict[str, Sequence[str]]:
    return openshift.process_commands(
        _servers(state),
        state_dir=STATE_DIR,
        port=state["ports"]["openshift-apiserver"],
        etcd_port=state["ports"]["etcd"],
        pki=Path(state["pki"]),
    )


def _write_apiserver_config(state: dict[str, Any], allowed_registries_for_import: Sequence[Any] = ()) -> None:
    import materials  # noqa: PLC0415 (see up())

    config = openshift.apiserver_config(
        port=state["ports"]["openshift-apiserver"],
        etcd_port=state["ports"]["etcd"],
        pki=Path(state["pki"]),
        kubeconfig=STATE_DIR / "openshift-apiserver.kubeconfig",
        allowed_registries_for_import=allowed_registries_for_import,
    )
    _write_private(STATE_DIR / "openshift-apiserver.yaml", materials.to_yaml(config))


def _launch_openshift_apiserver(state: dict[str, Any], launch: Any, depends_on: Sequence[Proc]) -> Proc:
    """Start the image API server and wait until it serves (readyz)."""
    pki = Path(state["pki"])
    # Real openshift-apiserver verifies registries against Go's system pool, which honours SSL_CERT_FILE
    # (imagePolicyConfig.additionalTrustedCA is read but unused); ours takes --registry-ca-file.
    oas = launch(
        "openshift-apiserver",
        _commands(state)["openshift-apiserver"],
        env={**os.environ, "SSL_CERT_FILE": str(pki / "ca.crt")},
    )
    admin = _https_context(pki / "ca.crt", pki / "admin.crt", pki / "admin.key")
    port = state["ports"]["openshift-apiserver"]
    wait_until(
        "openshift-apiserver /readyz",
        lambda: http_get(f"https://127.0.0.1:{port}/readyz", context=admin, timeout=3)[0] == 200,
        timeout=120,
        procs=[*depends_on, oas],
    )
    return oas


def _wait_for_apiservices(kube: Any, groups: Sequence[str], procs: Sequence[Proc]) -> None:
    for group in groups:
        wait_until(
            f"APIService v1.{group} to be Available",
            lambda group=group: _apiservice_available(kube, f"v1.{group}"),
            timeout=60,
            procs=procs,
        )


def restart_openshift_apiserver(*, allowed_registries_for_import: Sequence[Any] = ()) -> None:
    """Stop the image API server and start it again, then wait until its APIs are Available. Real binaries get
    their config re-rendered with images.config's ``allowedRegistriesForImport`` as the operator would copy it in;
    ours reads images.config live. Requests to the image API fail with 503 in between, as on a cluster whose
    openshift-apiserver pods roll."""
    with state_lock():
        state = read_state()
        if state is None or not is_up():
            raise SandboxError("the sandbox is not up; run `make sandbox-up`")
        procs = recorded_processes(state)
        old = [proc for proc in procs if proc.name == "openshift-apiserver"]
        stop_processes(old)
        if _servers(state).real:
            _write_apiserver_config(state, allowed_registries_for_import)
        others = [proc for proc in procs if proc.name != "openshift-apiserver"]

        def launch(name: str, command: Sequence[str], env: dict[str, str] | None = None) -> Proc:
            proc = start_process(name, command, env=env)
            state["processes"] = [vars(p) for p in [*others, proc]]
            write_state(state)
            return proc

        depends_on = [proc for proc in others if proc.name in ("etcd", "kube-apiserver")]
        oas = _launch_openshift_apiserver(state, launch, depends_on)
        support = sandbox_support()
        kube = support.Kube(STATE_DIR / "admin.kubeconfig", user_agent="sandbox-launcher")
        # The APIServices still say Available from before the stop, and kube-apiserver's proxy answers 503 until
        # its availability check has seen the new process: wait for real answers through kube-apiserver.
        for group in _servers(state).groups:
            wait_until(
                f"{group} to be served through kube-apiserver again",
                functools.partial(_served_steadily, kube, f"/apis/{group}/v1"),
                timeout=90,
                procs=[*depends_on, oas],
            )


def _served_steadily(kube: Any, path: str, *, times: int = 3, interval: float = 0.3) -> bool:
    """``path`` answered without error ``times`` times in a row."""
    for attempt in range(times):
        try:
            kube.request("GET", path)
        except Exception:  # any failure means "not yet"
            return False
        if attempt < times - 1:
            time.sleep(interval)
    return True


def _apiservice_available(kube: Any, name: str) -> bool:
    service = kube.get(f"/apis/apiregistration.k8s.io/v1/apiservices/{name}") or {}
    conditions = (service.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Available" and c.get("status") == "True" for c in conditions)


def start_registries(state: dict[str, Any], launch: Any, *, password: str, ports: tuple[int, int, int]) -> None:
    import materials  # noqa: PLC0415 (see up())

    reg_port, token_reg_port, token_port = ports
    pki = Path(state["pki"])
    registry_dir = STATE_DIR / "registry"
    (registry_dir / "data").mkdir(parents=True)
    hashed = subprocess.run(
        ["htpasswd", "-Bbn", REGISTRY_USER, password], capture_output=True, text=True, check=True
    ).stdout.strip()
    _write_private(registry_dir / "htpasswd", hashed + "\n")

    def config(port: int, auth: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(registry_dir / "data")},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": f"127.0.0.1:{port}",
                "secret": secrets.token_hex(16),
                "tls": {"certificate": str(pki / "registry.crt"), "key": str(pki / "registry.key")},
            },
            "auth": auth,
        }

    basic = config(reg_port, {"htpasswd": {"realm": "sandbox-registry", "path": str(registry_dir / "htpasswd")}})
    token = config(
        token_reg_port,
        {
            "token": {
                "realm": f"https://127.0.0.1:{token_port}/token",
                "service": REGISTRY_SERVICE,
                "issuer": TOKEN_ISSUER,
                "rootcertbundle": str(pki / "ca.crt"),
            }
        },
    )
    _write_private(registry_dir / "basic.yml", materials.to_yaml(basic))
    _write_private(registry_dir / "token.yml", materials.to_yaml(token))
    token_service_config = {
        "listen": ["127.0.0.1", token_port],
        "tls_cert": str(pki / "registry.crt"),
        "tls_key": str(pki / "registry.key"),
        "signing_key": str(pki / "token-signer.key"),
        "signing_cert": str(pki / "token-signer.crt"),
        "issuer": TOKEN_ISSUER,
        "service": REGISTRY_SERVICE,
        "user": REGISTRY_USER,
        "password": password,
        "ttl": 300,
    }
    _write_private(registry_dir / "token-service.json", json.dumps(token_service_config))
    registry_bin = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    procs = [
        launch("registry", [registry_bin, "serve", str(registry_dir / "basic.yml")]),
        launch("token-registry", [registry_bin, "serve", str(registry_dir / "token.yml")]),
        launch(
            "token-service",
            [sys.executable, str(HERE / "token_service.py"), str(registry_dir / "token-service.json")],
        ),
    ]
    context = _https_context(pki / "ca.crt")
    for port in (reg_port, token_reg_port):
        wait_until(
            f"the registry on 127.0.0.1:{port}",
            lambda port=port: http_get(f"https://127.0.0.1:{port}/v2/", context=context)[0] == 401,
            timeout=30,
            procs=procs,
        )
    wait_until(
        "the token service",
        lambda: http_get(f"https://127.0.0.1:{token_port}/healthz", context=context)[0] == 200,
        timeout=30,
        procs=procs,
    )


def push_test_image(*, registry: str, password: str, ca_dir: Path) -> None:
    layout = STATE_DIR / "oci" / "hello"
    build_oci_layout(layout, tag="1.0")
    _push_layout(layout, f"{registry}/{TEST_IMAGE}", ("1.0", "latest"), password=password, ca_dir=ca_dir)


def push_app_image(*, registry: str, password: str, ca_dir: Path) -> None:
    """sandbox/app:1 and :latest, runnable on the node. Both registries serve the same storage."""
    layout = STATE_DIR / "oci" / "app"
    build_busybox_layout(layout, tag="1.0", entrypoint=APP_ENTRYPOINT)
    _push_layout(layout, f"{registry}/{APP_IMAGE}", ("1", "latest"), password=password, ca_dir=ca_dir)


def _push_layout(layout: Path, repository: str, tags: Sequence[str], *, password: str, ca_dir: Path) -> None:
    registry = repository.split("/", 1)[0]
    auth = STATE_DIR / "oci" / "auth.json"
    encoded = base64.b64encode(f"{REGISTRY_USER}:{password}".encode()).decode()
    _write_private(auth, json.dumps({"auths": {registry: {"auth": encoded}}}))
    try:
        for tag in tags:
            subprocess.run(
                [
                    "skopeo",
                    "copy",
                    "--quiet",
                    "--format=v2s2",  # the Docker schema 2 form every registry client accepts
                    "--authfile",
                    str(auth),
                    "--dest-cert-dir",
                    str(ca_dir),
                    f"oci:{layout}:1.0",
                    f"docker://{repository}:{tag}",
                ],
                check=True,
                capture_output=True,
                text=True,
            )
    finally:
        auth.unlink()


# --------------------------------------------------------------------------------------------------------------------
# The node


def start_node(
    state: dict[str, Any],
    launch: Any,
    kube: Any,
    *,
    registries: Sequence[str],
    ports: tuple[int, int, int],
) -> None:
    """containerd, the kubelet and kube-scheduler; returns once the Node is Ready and schedulable."""
    import materials  # noqa: PLC0415 (see up())

    kubelet_port, healthz_port, scheduler_port = ports
    binaries, pki = Path(state["binaries"]), Path(state["pki"])
    started = time.monotonic()
    if mounted := node.mounts_under([NODE_DIR]):
        raise SandboxError(f"{NODE_DIR} still has mounts from an earlier node ({mounted[0]}, ...): unmount them")
    shutil.rmtree(NODE_DIR, ignore_errors=True)
    # Recorded before anything touches the machine: `down` puts back what differs from it.
    _write_private(NODE_BEFORE, json.dumps(node.snapshot()))
    node.write_config(
        NODE_DIR,
        registries=registries,
        registry_ca=STATE_DIR / "registry-ca" / "ca.crt",
        ca_file=pki / "ca.crt",
        pki=pki,
        port=kubelet_port,
        healthz_port=healthz_port,
        write_private=_write_private,
    )
    ca_pem = (pki / "ca.crt").read_bytes()
    kubeconfigs = {}
    for name, user, cert in (
        ("kubelet", f"system:node:{node.NODE_NAME}", "kubelet-client"),
        ("kube-scheduler", "system:kube-scheduler", "scheduler-client"),
    ):
        kubeconfigs[name] = STATE_DIR / f"{name}.kubeconfig"
        _write_private(
            kubeconfigs[name],
            materials.kubeconfig(
                server=state["api"],
                ca_pem=ca_pem,
                user=user,
                **{
                    "client-certificate-data": _b64file(pki / f"{cert}.crt"),
                    "client-key-data": _b64file(pki / f"{cert}.key"),
                },
            ),
        )
    env = node.node_env(NODE_DIR)
    containerd = launch("containerd", ["containerd", "--config", str(NODE_DIR / "containerd.toml")], env=env)
    node.record_owner(STATE_DIR, containerd.pid, containerd.start_ticks)
    wait_until(
        "containerd",
        lambda: node.ctr(NODE_DIR, "version", check=False, timeout=5).returncode == 0,
        timeout=60,
        procs=[containerd],
    )
    pause = STATE_DIR / "oci" / "pause"
    shutil.rmtree(pause, ignore_errors=True)
    build_busybox_layout(pause, tag="1", entrypoint=("/bin/busybox", "sleep", "2147483647"), name=node.PAUSE_IMAGE)
    with tarfile.open(STATE_DIR / "oci" / "pause.tar", "w") as archive:
        archive.add(pause, arcname=".")
    node.import_pause_image(NODE_DIR, STATE_DIR / "oci" / "pause.tar")
    kubelet_started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    kubelet = launch("kubelet", node.kubelet_command(binaries, NODE_DIR, kubeconfigs["kubelet"]), env=env)
    scheduler = launch(
        "kube-scheduler", node.scheduler_command(binaries, kubeconfigs["kube-scheduler"], scheduler_port)
    )
    # A Node left by an earlier kubelet still says Ready: only a heartbeat of this one counts.
    since = kubelet_started
    wait_until(
        f"node {node.NODE_NAME} Ready and schedulable",
        lambda: node_schedulable(kube.get(f"/api/v1/nodes/{node.NODE_NAME}"), since=since),
        timeout=120,
        procs=[containerd, kubelet, scheduler],
    )
    state["node_seconds"] = round(time.monotonic() - started, 1)
    say(f"node {node.NODE_NAME} Ready in {state['node_seconds']}s (containerd, kubelet, kube-scheduler)")


def node_schedulable(found: dict[str, Any] | None, *, since: dt.datetime) -> bool:
    if not found:
        return False
    ready = any(
        c.get("type") == "Ready"
        and c.get("status") == "True"
        and dt.datetime.fromisoformat(c.get("lastHeartbeatTime", "1970-01-01T00:00:00Z")) >= since
        for c in found.get("status", {}).get("conditions", [])
    )
    tainted = any(t.get("key", "").startswith("node.kubernetes.io/") for t in found.get("spec", {}).get("taints", []))
    return ready and not tainted


def _stop_all(procs: Sequence[Proc]) -> list[str]:
    """Stop the recorded processes, the node first, and put back what the node changed on the machine (the
    snapshots before start and after the restore stay in the logs, for tests to compare)."""
    stopped = stop_processes([p for p in procs if p.name in ("kube-scheduler", "kubelet")])
    if NODE_BEFORE.exists():
        node.stop_pods(NODE_DIR)  # while containerd still runs: its shims exit with their tasks
    stopped += stop_processes([p for p in procs if p.name == "containerd"])
    if NODE_BEFORE.exists():
        done = node.restore(json.loads(NODE_BEFORE.read_text(encoding="utf-8")), NODE_DIR)
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        (LOG_DIR / "node-restore.log").write_text("".join(f"{line}\n" for line in done), encoding="utf-8")
        say(f"node: {len(done)} machine changes put back (sysctls, iptables, cgroups, mounts); see node-restore.log")
        (LOG_DIR / "node-machine-after.json").write_text(json.dumps(node.snapshot()), encoding="utf-8")
        NODE_BEFORE.replace(LOG_DIR / NODE_BEFORE.name)
        node.release(STATE_DIR)
    stopped += stop_processes([p for p in procs if p.name not in NODE_PROCESSES])
    return stopped


def machine_left_changed() -> list[str]:
    """After the node stopped: what still differs from the machine before it started (empty when restored)."""
    before_file, after_file = LOG_DIR / NODE_BEFORE.name, LOG_DIR / "node-machine-after.json"
    if not before_file.exists() or not after_file.exists():
        return []
    before = node.comparable(json.loads(before_file.read_text(encoding="utf-8")))
    after = node.comparable(json.loads(after_file.read_text(encoding="utf-8")))
    return [f"{key}: before {before[key]!r}, after {after[key]!r}" for key in before if before[key] != after.get(key)]


def restart_node(*, start: bool = True, stop: bool = True) -> None:
    """Stop the node (putting the machine back as it was) and/or start it again, the control plane left running:
    what the node tests use to show the machine restored, and to recover a node they broke."""
    with state_lock():
        state = read_state()
        if state is None or not is_up():
            raise SandboxError("the sandbox is not up; run `make sandbox-up`")
        procs = recorded_processes(state)
        others = [proc for proc in procs if proc.name not in NODE_PROCESSES]
        if stop:
            _stop_all([proc for proc in procs if proc.name in NODE_PROCESSES])
            state["processes"] = [vars(p) for p in others]
            write_state(state)
        if not start:
            return
        if any(proc.alive() for proc in procs if proc.name in NODE_PROCESSES) and not stop:
            raise SandboxError("the node is running; stop it first")
        try:
            node.claim(STATE_DIR)
        except node.NodeError as error:
            raise SandboxError(str(error)) from None
        started: list[Proc] = []

        def launch(name: str, command: Sequence[str], env: dict[str, str] | None = None) -> Proc:
            proc = start_process(name, command, env=env)
            started.append(proc)
            state["processes"] = [vars(p) for p in [*others, *started]]
            write_state(state)
            return proc

        kube = sandbox_support().Kube(STATE_DIR / "admin.kubeconfig", user_agent="sandbox-launcher")
        ports = state["ports"]
        try:
            start_node(
                state,
                launch,
                kube,
                registries=(f"127.0.0.1:{ports['registry']}", f"127.0.0.1:{ports['token-registry']}"),
                ports=(ports["kubelet"], ports["kubelet-healthz"], ports["kube-scheduler"]),
            )
        except BaseException:
            _stop_all(started)
            raise
        write_state(state)


def down() -> int:
    with state_lock():
        return _down()


def _down() -> int:
    state = read_state()
    procs = recorded_processes(state)
    stopped = _stop_all(procs)
    leftover = [p.name for p in procs if p.alive()]
    if leftover:
        raise SandboxError(f"could not stop {', '.join(leftover)}")
    for child in ("state.json", "env.sh"):
        with contextlib.suppress(FileNotFoundError):
            (STATE_DIR / child).unlink()
    say(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
    say(f"logs of the last run kept in {LOG_DIR}")
    return 0


def status() -> int:
    state = read_state()
    if not state:
        say(f"down (no {STATE_FILE}); start it with `make sandbox-up`")
        return 1
    procs = recorded_processes(state)
    for proc in procs:
        port = state.get("ports", {}).get(proc.name)
        where = f" 127.0.0.1:{port}" if port else ""
        say(f"{proc.name:<24} pid {proc.pid:<8} {'running' if proc.alive() else 'NOT RUNNING'}{where}")
    ready = api_ready(state) if procs and procs[0].alive() else False
    say(f"API {state['api']} /readyz: {'ok' if ready else 'not ready'}")
    if ready and all(p.alive() for p in procs) and ENV_FILE.is_file():
        say(f"up; `source {ENV_FILE}`")
        return 0
    say("not (fully) up: `make sandbox-down sandbox-up` restarts it")
    return 1


def seed_command(*, reset: bool) -> int:
    if not is_up():
        raise SandboxError("the sandbox is not up; run `make sandbox-up`")
    support = sandbox_support()
    support.seed(support.Kube(STATE_DIR / "admin.kubeconfig", user_agent="sandbox-launcher"), reset=reset)
    say("seeded (reset)" if reset else "seeded (missing objects only)")
    return 0


@contextlib.contextmanager
def errors_to_exit() -> Iterator[None]:
    try:
        yield
    except SandboxError as error:
        print(f"[sandbox] ERROR: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    except subprocess.CalledProcessError as error:
        print(f"[sandbox] ERROR: {shlex.join(map(str, error.cmd))} failed:\n{error.stderr}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the sandbox (build the binaries first if needed); no-op when up")
    sub.add_parser("down", help="stop the recorded processes and forget the runtime state (logs stay)")
    sub.add_parser("status", help="exit 0 when up")
    build_parser = sub.add_parser("build", help="build (or find) the cached binaries and print their directory")
    build_parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    seed_parser = sub.add_parser("seed", help="create the seeded OpenShift objects that are missing")
    seed_parser.add_argument("--reset", action="store_true", help="also put modified seeded objects back")
    sub.add_parser("env", help="print .sandbox/env.sh")
    sub.add_parser("stop-node", help="stop the node and put the machine back as it was; the control plane stays up")
    sub.add_parser("start-node", help="start the node of a sandbox that is up without one")
    sub.add_parser("build-openshift", help="build (or find) the cached OpenShift binaries and print their directory")
    restart_parser = sub.add_parser(
        "restart-openshift-apiserver", help="stop and start openshift-apiserver, optionally with an import allowlist"
    )
    restart_parser.add_argument(
        "--allowed-registry",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="allowedRegistriesForImport entry (repeat; DOMAIN may carry :port and * globs); none: every registry",
    )
    args = parser.parse_args(argv)

    def print_env() -> int:
        if not ENV_FILE.is_file():
            raise SandboxError("the sandbox is not up")
        print(ENV_FILE.read_text(encoding="utf-8"), end="")
        return 0

    def print_up() -> int:
        up()  # says whether it started the sandbox or found it up
        return 0

    def print_build() -> int:
        print(build(force=args.force))
        print(build_openshift(force=args.force))
        return 0

    commands = {
        "up": print_up,
        "down": down,
        "status": status,
        "build": print_build,
        "build-openshift": lambda: print(build_openshift()) or 0,
        "seed": lambda: seed_command(reset=args.reset),
        "env": print_env,
        "stop-node": lambda: restart_node(start=False) or 0,
        "start-node": lambda: restart_node(stop=False) or 0,
        "restart-openshift-apiserver": lambda: (
            restart_openshift_apiserver(
                allowed_registries_for_import=[{"domainName": domain} for domain in args.allowed_registry]
            )
            or 0
        ),
    }
    with errors_to_exit():
        return commands[args.command]()


if __name__ == "__main__":
    sys.exit(main())
