# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real OpenShift servers of the sandbox: openshift-apiserver (the image, project, authorization... APIs,
aggregated behind kube-apiserver), openshift-controller-manager (imports, service-account pull secrets, default
bindings) and `oc`, built offline from pinned sources (`openshift-sources.json`) and cached outside the repo.

How they build and run, flag by flag: ../shared/spec/openshift-sandbox.md. This file needs only the standard
library for building; the configuration builders return plain dicts (sandbox.py writes them as YAML).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
PINS_FILE = HERE / "openshift-sources.json"
# Changing how the binaries are built must change the cache key too.
BUILD_RECIPE = "1:-trimpath -buildvcs=false -ldflags=-s -w CGO_ENABLED=0 -mod=vendor"
BINARIES = ("openshift-apiserver", "openshift-controller-manager", "oc")
INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"
# The groups openshift-apiserver serves that get an APIService. quota and security stay CRDs on kube-apiserver
# (an APIService for them would shadow the CRDs its informers read). authorization.openshift.io gets none: its
# rolebindingrestrictions answer deletecollection with "Internal error occurred: unsupported" without their CRD,
# which leaves every deleted namespace Terminating (the namespace controller sweeps every listed resource).
AGGREGATED_GROUPS = (
    "image.openshift.io",
    "project.openshift.io",
    "route.openshift.io",
    "template.openshift.io",
)
# openshift-controller-manager's controllers the sandbox runs (names: openshift/api openshiftcontrolplane/v1).
OCM_CONTROLLERS = (
    "openshift.io/image-import",
    "openshift.io/image-puller-rolebindings",
    "openshift.io/serviceaccount-pull-secrets",
    "openshift.io/serviceaccount",
)
# Namespaces OpenShift's operators would create before these servers start (spec §3.2).
PLATFORM_NAMESPACES = (
    "openshift-apiserver",
    "openshift-infra",
    "openshift-controller-manager",
    "openshift-config",
    "openshift-config-managed",
    "openshift",
    "openshift-kube-apiserver",
    "openshift-image-registry",
)
# The sandbox's scheduled-import interval (OpenShift's default is 900 s): short enough to test.
SCHEDULED_IMPORT_INTERVAL_SECONDS = 30


class BuildError(RuntimeError):
    """A failure the person building the sandbox can act on."""


@dataclass(frozen=True)
class Component:
    name: str
    repository: str
    commit: str
    archive: str
    sha256: str
    package: str
    tags: tuple[str, ...]
    version: str
    version_packages: tuple[str, ...]
    kube_version: str | None

    @property
    def directory(self) -> str:
        """The directory the archive unpacks to: `<repo>-<12-hex commit>`."""
        return f"{self.name}-{self.commit[:12]}"

    def ldflags(self, build_date: str) -> str:
        flags = ["-s", "-w"]
        major, minor = self.version.lstrip("v").split(".")[:2]
        for package in self.version_packages:
            for variable, value in (
                ("versionFromGit", self.version),
                ("commitFromGit", self.commit[:9]),
                ("majorFromGit", major),
                ("minorFromGit", minor),
                ("gitTreeState", "clean"),
                ("buildDate", build_date),
            ):
                flags.append(f"-X {package}.{variable}={value}")
        if self.kube_version:
            kube_major, kube_minor = self.kube_version.lstrip("v").split(".")[:2]
            for variable, value in (
                ("gitMajor", kube_major),
                ("gitMinor", kube_minor),
                ("gitVersion", self.kube_version),
                ("gitCommit", self.commit),
                ("gitTreeState", "clean"),
                ("buildDate", build_date),
            ):
                flags.append(f"-X k8s.io/component-base/version.{variable}={value}")
            for variable, value in (("gitVersion", self.version), ("gitCommit", self.commit)):
                flags.append(f"-X k8s.io/client-go/pkg/version.{variable}={value}")
        return " ".join(flags)


@dataclass(frozen=True)
class Pins:
    components: tuple[Component, ...]
    crd_repository: str
    crd_commit: str
    crd_directory: str
    crd_files: dict[str, str]


def load_pins(path: Path = PINS_FILE) -> Pins:
    document = json.loads(path.read_text(encoding="utf-8"))
    components = tuple(
        Component(
            name=entry["name"],
            repository=entry["repository"],
            commit=entry["commit"],
            archive=entry["archive"],
            sha256=entry["sha256"],
            package=entry["package"],
            tags=tuple(entry["tags"]),
            version=entry["version"],
            version_packages=tuple(entry["version_packages"]),
            kube_version=entry["kube_version"],
        )
        for entry in document["components"]
    )
    crds = document["crds"]
    return Pins(components, crds["repository"], crds["commit"], crds["directory"], dict(crds["files"]))


def build_key(pins: Pins) -> str:
    """The cache key: what the binaries are built from (commits, archive hashes) and how."""
    digest = hashlib.sha256(BUILD_RECIPE.encode())
    for component in pins.components:
        digest.update(f"\0{component.name}\0{component.commit}\0{component.sha256}\0{component.ldflags('')}".encode())
        digest.update(("\0" + ",".join(component.tags)).encode())
    return digest.hexdigest()[:16]


def source_directories() -> list[Path]:
    """Where the pinned archives are looked for, in order."""
    named = os.environ.get("SANDBOX_OPENSHIFT_SRC")
    candidates = [Path(named)] if named else []
    candidates.append(REPO_ROOT.parent / "shared" / "openshift-src")
    return candidates


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_archive(component: Component) -> Path | None:
    """The pinned archive of ``component``, checked against its sha256; None when no source directory has it."""
    for directory in source_directories():
        candidate = directory / component.archive
        if candidate.is_file():
            actual = sha256_file(candidate)
            if actual != component.sha256:
                raise BuildError(
                    f"{candidate} has sha256 {actual}, but tests/sandbox/openshift-sources.json pins "
                    f"{component.sha256}: replace the file with the pinned one (or update the pin deliberately)"
                )
            return candidate
    return None


def crd_paths(pins: Pins, *, stash: Path | None = None) -> list[Path]:
    """The pinned CRD files, checked against their sha256: from a source directory, else from ``stash`` (the copy
    kept beside the built binaries, so a checkout without ../shared still starts)."""
    for crd_dir in [*(d / pins.crd_directory for d in source_directories()), *([stash] if stash else [])]:
        if crd_dir.is_dir():
            paths = []
            for name, expected in sorted(pins.crd_files.items()):
                path = crd_dir / name
                if not path.is_file():
                    raise BuildError(f"{path} is missing (pinned from {pins.crd_repository} at {pins.crd_commit})")
                actual = sha256_file(path)
                if actual != expected:
                    raise BuildError(f"{path} has sha256 {actual}, but openshift-sources.json pins {expected}")
                paths.append(path)
            return paths
    raise BuildError(
        "the OpenShift CRDs are not found: looked in "
        + ", ".join(str(d / pins.crd_directory) for d in source_directories())
        + f" (copy them from {pins.crd_repository} at {pins.crd_commit}, or set SANDBOX_OPENSHIFT_SRC)"
    )


def stash_crds(pins: Pins, binaries: Path) -> None:
    """Keep a checked copy of the CRDs in ``binaries/crds`` (once), for starts from a checkout without them."""
    stash = binaries / "crds"
    if stash.is_dir():
        return
    try:
        paths = crd_paths(pins)
    except BuildError:
        return  # nothing to copy from; crd_paths() at start-up explains what is missing
    partial = binaries / f"crds.partial-{os.getpid()}"
    partial.mkdir(exist_ok=True)
    for path in paths:
        shutil.copyfile(path, partial / path.name)
    partial.rename(stash)


def crd_stash(binaries: Path) -> Path:
    return binaries / "crds"


def unpack_source(component: Component, work: Path, say: Callable[[str], None]) -> Path:
    """The component's source tree under ``work``: from its pinned archive, else a git clone of its commit."""
    tree = work / component.directory
    shutil.rmtree(tree, ignore_errors=True)
    archive = find_archive(component)
    if archive is not None:
        say(f"unpacking {archive.name}")
        with tarfile.open(archive) as bundle:
            bundle.extractall(work, filter="data")
        if not (tree / "go.mod").is_file():
            raise BuildError(f"{archive} did not unpack to {component.directory}/")
        return tree
    git = shutil.which("git")
    looked = ", ".join(str(d) for d in source_directories())
    if git is None:
        raise BuildError(f"{component.archive} is not in {looked}, and git is not installed to clone it")
    say(f"{component.archive} is not in {looked}: cloning {component.repository} at {component.commit[:12]}")
    try:
        subprocess.run([git, "init", "-q", str(tree)], check=True, capture_output=True)
        subprocess.run(
            [git, "-C", str(tree), "fetch", "-q", "--depth=1", component.repository, component.commit],
            check=True,
            capture_output=True,
            text=True,
        )
        subprocess.run([git, "-C", str(tree), "checkout", "-q", "FETCH_HEAD"], check=True, capture_output=True)
    except subprocess.CalledProcessError as error:
        raise BuildError(
            f"could not clone {component.repository} at {component.commit}: {error.stderr or error}; put "
            f"{component.archive} in one of {looked} or set SANDBOX_OPENSHIFT_SRC"
        ) from None
    return tree


def binaries_ready(directory: Path) -> bool:
    return (directory / "COMPLETE").is_file() and all(os.access(directory / name, os.X_OK) for name in BINARIES)


def build_environment(work: Path) -> dict[str, str]:
    """Offline by construction: vendored modules only, no proxy, no toolchain download, no cgo."""
    env = dict(os.environ)
    env.update(
        {
            "GOFLAGS": "-mod=vendor",
            "GOTOOLCHAIN": "local",
            "GOPROXY": "off",
            "GOSUMDB": "off",
            "CGO_ENABLED": "0",
            "GOPATH": str(work / "gopath"),
        }
    )
    return env


def go_build_command(go: str, component: Component, output: Path, *, build_date: str) -> list[str]:
    command = [go, "build", "-v", "-trimpath", "-buildvcs=false"]
    if component.tags:
        command += ["-tags", " ".join(component.tags)]
    return [*command, "-ldflags", component.ldflags(build_date), "-o", str(output), component.package]


def build(
    cache_root: Path,
    *,
    stream: Callable[..., None],
    say: Callable[[str], None],
    lock: Callable[[Path], Any],
    force: bool = False,
) -> Path:
    """The directory holding openshift-apiserver, openshift-controller-manager and oc, building them when absent.

    ``stream(command, env=, log=, total=, label=, unit=, cwd=)`` runs one go command with progress lines;
    ``lock(path)`` is a context manager holding an exclusive lock on ``path``."""
    pins = load_pins()
    target = cache_root / f"openshift-{build_key(pins)}"
    if binaries_ready(target) and not force:
        stash_crds(pins, target)
        return target
    go = shutil.which("go")
    if go is None:
        raise BuildError("building the OpenShift servers needs `go` (>= 1.26) on PATH: install it from go.dev/dl")
    cache_root.mkdir(parents=True, exist_ok=True)
    with lock(cache_root / f"{target.name}.lock"):
        if binaries_ready(target) and not force:
            return target
        for stale in cache_root.glob(f"{target.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = cache_root / f"{target.name}.partial-{os.getpid()}"
        work = partial / "src"
        work.mkdir(parents=True)
        env = build_environment(work)
        build_date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        say(
            f"building openshift-apiserver, openshift-controller-manager and oc from source into {target} (first "
            f"start on this machine: about 10-15 minutes on 2 cores; later starts take seconds). "
            f"Log: {partial / 'build.log'}"
        )
        started = time.monotonic()
        timings: dict[str, int] = {}
        with (partial / "build.log").open("w", encoding="utf-8") as log:
            for component in pins.components:
                tree = unpack_source(component, work, say)
                total = _count_packages(go, tree, component, env)
                began = time.monotonic()
                stream(
                    go_build_command(go, component, partial / component.name, build_date=build_date),
                    env=env,
                    log=log,
                    total=total,
                    label=f"go build {component.name} {component.commit[:9]}",
                    unit="packages compiled",
                    cwd=tree,
                )
                timings[component.name] = round(time.monotonic() - began)
                shutil.rmtree(tree, ignore_errors=True)  # the GOCACHE keeps what a rebuild needs
        shutil.rmtree(work, ignore_errors=True)
        (partial / "COMPLETE").write_text(
            json.dumps(
                {
                    "components": {c.name: c.commit for c in pins.components},
                    "seconds": timings,
                    "built": build_date,
                }
            )
            + "\n",
            encoding="utf-8",
        )
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        stash_crds(pins, target)
        say(f"OpenShift binaries ready in {target} after {int(time.monotonic() - started)}s")
        return target


def _count_packages(go: str, tree: Path, component: Component, env: dict[str, str]) -> int:
    command = [go, "list", "-deps"]
    if component.tags:
        command += ["-tags", " ".join(component.tags)]
    listing = subprocess.run(
        [*command, component.package], cwd=tree, env=env, capture_output=True, text=True, check=False
    )
    return len(listing.stdout.split()) if listing.returncode == 0 else 0


# --------------------------------------------------------------------------------------------------------------------
# Configuration (pure: ports and paths in, documents out)


def apiserver_config(
    *,
    port: int,
    etcd_port: int,
    pki: Path,
    kubeconfig: Path,
    allowed_registries_for_import: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """OpenShiftAPIServerConfig for openshift-apiserver on 127.0.0.1, storing in the sandbox's etcd under its own
    prefix (keys /openshift.io/imagestreams/...). ``allowed_registries_for_import`` is images.config's
    ``spec.allowedRegistriesForImport`` as cluster-openshift-apiserver-operator copies it into
    ``imagePolicyConfig`` (empty: every registry allowed)."""
    image_policy: dict[str, Any] = {"internalRegistryHostname": INTERNAL_REGISTRY}
    if allowed_registries_for_import:
        image_policy["allowedRegistriesForImport"] = [dict(entry) for entry in allowed_registries_for_import]
    return {
        "apiVersion": "openshiftcontrolplane.config.openshift.io/v1",
        "kind": "OpenShiftAPIServerConfig",
        "servingInfo": {
            "bindAddress": f"127.0.0.1:{port}",  # must be IP:port; the default is 0.0.0.0:8443
            "bindNetwork": "tcp4",
            "certFile": str(pki / "openshift-apiserver.crt"),
            "keyFile": str(pki / "openshift-apiserver.key"),
            "clientCA": str(pki / "ca.crt"),
        },
        "storageConfig": {
            "urls": [f"http://127.0.0.1:{etcd_port}"],
            "storagePrefix": "openshift.io",
        },
        "kubeClientConfig": {"kubeConfig": str(kubeconfig)},
        "auditConfig": {"enabled": False},
        "imagePolicyConfig": image_policy,
        "apiServers": {
            "perGroupOptions": [
                {"name": "apps.openshift.io", "disabledVersions": ["v1"]},
                {"name": "build.openshift.io", "disabledVersions": ["v1"]},
            ]
        },
        "apiServerArguments": {
            "shutdown-delay-duration": ["0s"],
            # Plain-http etcd: library-go defaults empty paths to /var/run/secrets/etcd-client/*; blank them again.
            "etcd-cafile": [""],
            "etcd-certfile": [""],
            "etcd-keyfile": [""],
        },
    }


def controller_manager_config(*, port: int, pki: Path) -> dict[str, Any]:
    return {
        "apiVersion": "openshiftcontrolplane.config.openshift.io/v1",
        "kind": "OpenShiftControllerManagerConfig",
        "servingInfo": {
            "bindAddress": f"127.0.0.1:{port}",
            "bindNetwork": "tcp4",
            # Without them library-go writes a self-signed pair under $TMPDIR/serving-cert-* at every start.
            "certFile": str(pki / "openshift-controller-manager.crt"),
            "keyFile": str(pki / "openshift-controller-manager.key"),
        },
        "controllers": list(OCM_CONTROLLERS),
        "serviceAccount": {"managedNames": ["builder", "deployer"]},
        "dockerPullSecret": {"internalRegistryHostname": INTERNAL_REGISTRY},
        "imageImport": {
            "scheduledImageImportMinimumIntervalSeconds": SCHEDULED_IMPORT_INTERVAL_SECONDS,
            "maxScheduledImageImportsPerMinute": 60,
        },
    }


def aggregation_objects(*, port: int, ca_pem: bytes) -> list[tuple[str, dict[str, Any]]]:
    """(collection path, object) for the ExternalName Service in front of openshift-apiserver and one APIService
    per group it serves. kube-aggregator dials https://127.0.0.1:<port> with TLS server name
    api.openshift-apiserver.svc (--enable-aggregator-routing=false)."""
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "api", "namespace": "openshift-apiserver"},
        "spec": {
            "type": "ExternalName",
            "externalName": "127.0.0.1",
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        },
    }
    objects = [("/api/v1/namespaces/openshift-apiserver/services", service)]
    for group in AGGREGATED_GROUPS:
        objects.append(
            (
                "/apis/apiregistration.k8s.io/v1/apiservices",
                {
                    "apiVersion": "apiregistration.k8s.io/v1",
                    "kind": "APIService",
                    "metadata": {"name": f"v1.{group}"},
                    "spec": {
                        "group": group,
                        "version": "v1",
                        "service": {"namespace": "openshift-apiserver", "name": "api", "port": port},
                        "caBundle": base64.b64encode(ca_pem).decode(),
                        "groupPriorityMinimum": 9900,
                        "versionPriority": 15,
                    },
                },
            )
        )
    return objects


def controller_prerequisites(*, sa_pub: bytes) -> list[tuple[str, dict[str, Any]]]:
    """What OpenShift's operators write and the service-account pull-secret controllers wait for (spec §3.3): the
    bound-token signing key and the internal registry's Service (its names become the dockercfg keys)."""
    return [
        (
            "/api/v1/namespaces/openshift-kube-apiserver/secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "bound-service-account-signing-key", "namespace": "openshift-kube-apiserver"},
                "type": "Opaque",
                "data": {"service-account.pub": base64.b64encode(sa_pub).decode()},
            },
        ),
        (
            "/api/v1/namespaces/openshift-image-registry/services",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "image-registry", "namespace": "openshift-image-registry"},
                "spec": {"type": "ClusterIP", "ports": [{"name": "5000-tcp", "port": 5000, "protocol": "TCP"}]},
            },
        ),
    ]


def image_config_cluster() -> tuple[str, dict[str, Any]]:
    """images.config.openshift.io/cluster: every import reads it (500 without it)."""
    return (
        "/apis/config.openshift.io/v1/images",
        {"apiVersion": "config.openshift.io/v1", "kind": "Image", "metadata": {"name": "cluster"}, "spec": {}},
    )


def process_commands(binaries: Path, *, state_dir: Path, log_level: int = 2) -> dict[str, Sequence[str]]:
    return {
        "openshift-apiserver": [
            str(binaries / "openshift-apiserver"),
            "start",
            f"--config={state_dir / 'openshift-apiserver.yaml'}",
            f"--authentication-kubeconfig={state_dir / 'openshift-apiserver.kubeconfig'}",
            f"--authorization-kubeconfig={state_dir / 'openshift-apiserver.kubeconfig'}",
            f"-v={log_level}",
        ],
        "openshift-controller-manager": [
            str(binaries / "openshift-controller-manager"),
            "start",
            f"--config={state_dir / 'openshift-controller-manager.yaml'}",
            f"--kubeconfig={state_dir / 'openshift-controller-manager.kubeconfig'}",
            "--namespace=openshift-controller-manager",
            f"-v={log_level}",
        ],
    }
