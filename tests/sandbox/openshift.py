# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenShift's side of the sandbox: the image API server and controllers, aggregated behind kube-apiserver.

By default they are our own Go servers on OpenShift's types (the module in ``tests/sandbox/openshift/``: built from
packages the Go module proxy serves, cached outside the repo, keyed by their sources). ``SANDBOX_OPENSHIFT_BIN=DIR``
runs real OpenShift binaries from DIR instead (``openshift-apiserver``, ``openshift-controller-manager`` and
optionally ``oc``, e.g. from an OpenShift release's images); nothing here fetches or builds those.

This file needs only the standard library; the configuration builders return plain dicts (sandbox.py writes them
as YAML).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MODULE_DIR = HERE / "openshift"
# Changing how the servers are built must change the cache key too.
BUILD_RECIPE = "1:-trimpath -buildvcs=false -ldflags=-s -w CGO_ENABLED=0"
OUR_COMMANDS = ("sandbox-openshift-apiserver", "sandbox-openshift-controller-manager")
REAL_BINARIES = ("openshift-apiserver", "openshift-controller-manager")
INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"
# The config.openshift.io CRDs installed from github.com/openshift/api (the module go.mod pins, never a copy):
# images.config is read by every import and tag write. Real openshift-apiserver also watches the others.
CRD_PATTERNS = ("*_config-operator_01_images.crd.yaml",)
REAL_SERVER_CRD_PATTERNS = (
    "*_clusterresourcequotas.crd.yaml",
    "*_securitycontextconstraints.crd.yaml",
    "*_config-operator_01_imagecontentsourcepolicies.crd.yaml",
    "*_config-operator_01_imagedigestmirrorsets.crd.yaml",
    "*_config-operator_01_imagetagmirrorsets.crd.yaml",
    "*_config-operator_01_ingresses-Default.crd.yaml",
)
# Our server serves only the image group. Real openshift-apiserver serves these too (authorization.openshift.io gets
# no APIService: without its CRDs its rolebindingrestrictions refuse deletecollection, which leaves deleted
# namespaces Terminating).
IMAGE_GROUP = "image.openshift.io"
REAL_SERVER_GROUPS = (IMAGE_GROUP, "project.openshift.io", "route.openshift.io", "template.openshift.io")
# openshift-controller-manager's controllers a real server runs (names: openshift/api openshiftcontrolplane/v1).
OCM_CONTROLLERS = (
    "openshift.io/image-import",
    "openshift.io/image-puller-rolebindings",
    "openshift.io/serviceaccount-pull-secrets",
    "openshift.io/serviceaccount",
)
# Namespaces OpenShift's operators would create before these servers start.
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
class Servers:
    """Where the image API server and controllers come from."""

    directory: Path
    real: bool  # True: OpenShift's own binaries from SANDBOX_OPENSHIFT_BIN

    @property
    def apiserver(self) -> Path:
        return self.directory / ("openshift-apiserver" if self.real else OUR_COMMANDS[0])

    @property
    def controller_manager(self) -> Path:
        return self.directory / ("openshift-controller-manager" if self.real else OUR_COMMANDS[1])

    @property
    def oc(self) -> Path | None:
        candidate = self.directory / "oc"
        return candidate if self.real and os.access(candidate, os.X_OK) else None

    @property
    def groups(self) -> tuple[str, ...]:
        return REAL_SERVER_GROUPS if self.real else (IMAGE_GROUP,)


def supplied_binaries() -> Servers | None:
    """The real OpenShift binaries a user named with SANDBOX_OPENSHIFT_BIN, checked; None when unset."""
    named = os.environ.get("SANDBOX_OPENSHIFT_BIN")
    if not named:
        return None
    directory = Path(named).expanduser().resolve()
    missing = [name for name in REAL_BINARIES if not os.access(directory / name, os.X_OK)]
    if missing:
        raise BuildError(
            f"SANDBOX_OPENSHIFT_BIN={named} has no executable {', '.join(missing)}: point it at a directory holding "
            "openshift-apiserver and openshift-controller-manager (and optionally oc) from an OpenShift release, "
            "or unset it to use the sandbox's own servers (docs/sandbox.md)"
        )
    return Servers(directory, real=True)


def source_files() -> list[Path]:
    """Everything our servers are built from: go.mod, go.sum and every Go file of the module but its tests."""
    files = [MODULE_DIR / "go.mod", MODULE_DIR / "go.sum"]
    files += sorted(
        path for path in MODULE_DIR.rglob("*.go") if "testdata" not in path.parts and not path.name.endswith("_test.go")
    )
    return files


def build_key() -> str:
    """The cache key: the module's sources and how they are built."""
    digest = hashlib.sha256(BUILD_RECIPE.encode())
    for path in source_files():
        digest.update(b"\0" + str(path.relative_to(MODULE_DIR)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def binaries_ready(directory: Path) -> bool:
    return (directory / "COMPLETE").is_file() and all(os.access(directory / name, os.X_OK) for name in OUR_COMMANDS)


def module_directory(go: str, module: str, env: Mapping[str, str]) -> Path:
    """Where the Go module cache holds ``module`` at the version go.mod requires (downloaded if needed)."""
    listing = subprocess.run(
        [go, "list", "-m", "-f", "{{.Dir}}", module],
        cwd=MODULE_DIR,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    directory = Path(listing.stdout.strip())
    if listing.returncode != 0 or not directory.is_dir():
        raise BuildError(f"`go list -m {module}` failed in {MODULE_DIR}: {listing.stderr.strip()}")
    return directory


def copy_crds(go: str, target: Path, env: Mapping[str, str]) -> None:
    """The config.openshift.io CRDs, from the openshift/api module go.mod pins, into ``target/crds``."""
    manifests = module_directory(go, "github.com/openshift/api", env) / "payload-manifests" / "crds"
    destination = target / "crds"
    destination.mkdir(parents=True, exist_ok=True)
    for pattern in (*CRD_PATTERNS, *REAL_SERVER_CRD_PATTERNS):
        found = sorted(manifests.glob(pattern))
        if not found:
            raise BuildError(f"github.com/openshift/api has no CRD matching {pattern} under {manifests}")
        for path in found:
            shutil.copyfile(path, destination / path.name)


def crd_paths(directory: Path, *, real: bool) -> list[Path]:
    """The CRDs to install: images.config for our servers, and those real openshift-apiserver watches too."""
    crds = directory / "crds"
    patterns = (*CRD_PATTERNS, *REAL_SERVER_CRD_PATTERNS) if real else CRD_PATTERNS
    paths = sorted({path for pattern in patterns for path in crds.glob(pattern)})
    if not paths:
        raise BuildError(f"no CRDs in {crds}: run `make sandbox-build` (it copies them from github.com/openshift/api)")
    return paths


def build(
    cache_root: Path,
    *,
    stream: Callable[..., None],
    say: Callable[[str], None],
    lock: Callable[[Path], Any],
    force: bool = False,
) -> Path:
    """The directory holding our two servers and the CRDs, building them when absent.

    ``stream(command, env=, log=, total=, label=, unit=, cwd=)`` runs one go command with progress lines;
    ``lock(path)`` is a context manager holding an exclusive lock on ``path``."""
    target = cache_root / f"openshift-servers-{build_key()}"
    if binaries_ready(target) and not force:
        return target
    go = shutil.which("go")
    if go is None:
        raise BuildError("building the sandbox's image API server needs `go` (>= 1.26) on PATH: see go.dev/dl")
    cache_root.mkdir(parents=True, exist_ok=True)
    with lock(cache_root / f"{target.name}.lock"):
        if binaries_ready(target) and not force:
            return target
        for stale in cache_root.glob(f"{target.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = cache_root / f"{target.name}.partial-{os.getpid()}"
        partial.mkdir(parents=True)
        env = {**os.environ, "CGO_ENABLED": "0"}
        say(f"building the sandbox's image API server and controllers into {target}. Log: {partial / 'build.log'}")
        started = time.monotonic()
        with (partial / "build.log").open("w", encoding="utf-8") as log:
            stream(
                [go, "mod", "download"],
                env=env,
                log=log,
                total=0,
                label="go mod download",
                unit="lines",
                cwd=MODULE_DIR,
            )
            packages = [f"./cmd/{name}" for name in OUR_COMMANDS]
            stream(
                [
                    go,
                    "build",
                    "-v",
                    "-trimpath",
                    "-buildvcs=false",
                    "-ldflags",
                    "-s -w",
                    "-o",
                    f"{partial}/",
                    *packages,
                ],
                env=env,
                log=log,
                total=0,
                label="go build " + " ".join(OUR_COMMANDS),
                unit="packages compiled",
                cwd=MODULE_DIR,
            )
        copy_crds(go, partial, env)
        (partial / "COMPLETE").write_text(
            json.dumps({"seconds": round(time.monotonic() - started), "key": build_key()}) + "\n", encoding="utf-8"
        )
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        say(f"image API server and controllers ready in {target} after {int(time.monotonic() - started)}s")
        return target


# --------------------------------------------------------------------------------------------------------------------
# Configuration (pure: ports and paths in, documents and command lines out)


def apiserver_config(
    *,
    port: int,
    etcd_port: int,
    pki: Path,
    kubeconfig: Path,
    allowed_registries_for_import: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """OpenShiftAPIServerConfig for a real openshift-apiserver on 127.0.0.1 (SANDBOX_OPENSHIFT_BIN), storing in
    the sandbox's etcd under its own prefix. ``allowed_registries_for_import`` is images.config's
    ``spec.allowedRegistriesForImport`` as cluster-openshift-apiserver-operator copies it into
    ``imagePolicyConfig`` (empty: every registry allowed). Our own server reads images.config live instead."""
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
        "storageConfig": {"urls": [f"http://127.0.0.1:{etcd_port}"], "storagePrefix": "openshift.io"},
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
    """OpenShiftControllerManagerConfig for a real openshift-controller-manager (SANDBOX_OPENSHIFT_BIN)."""
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


def aggregation_objects(*, port: int, ca_pem: bytes, groups: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """(collection path, object) for the ExternalName Service in front of the image API server and one APIService
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
    for group in groups:
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
    """What OpenShift's operators write and the service-account pull-secret controllers wait for: the bound-token
    signing key and the internal registry's Service (its names become the dockercfg keys)."""
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
    """images.config.openshift.io/cluster: its allowedRegistriesForImport governs every import and tag write."""
    return (
        "/apis/config.openshift.io/v1/images",
        {"apiVersion": "config.openshift.io/v1", "kind": "Image", "metadata": {"name": "cluster"}, "spec": {}},
    )


def process_commands(
    servers: Servers, *, state_dir: Path, port: int, etcd_port: int, pki: Path, log_level: int = 2
) -> dict[str, Sequence[str]]:
    """The command lines of the image API server and the controllers."""
    apiserver_kubeconfig = state_dir / "openshift-apiserver.kubeconfig"
    controllers_kubeconfig = state_dir / "openshift-controller-manager.kubeconfig"
    if servers.real:
        return {
            "openshift-apiserver": [
                str(servers.apiserver),
                "start",
                f"--config={state_dir / 'openshift-apiserver.yaml'}",
                f"--authentication-kubeconfig={apiserver_kubeconfig}",
                f"--authorization-kubeconfig={apiserver_kubeconfig}",
                f"-v={log_level}",
            ],
            "openshift-controller-manager": [
                str(servers.controller_manager),
                "start",
                f"--config={state_dir / 'openshift-controller-manager.yaml'}",
                f"--kubeconfig={controllers_kubeconfig}",
                "--namespace=openshift-controller-manager",
                f"-v={log_level}",
            ],
        }
    return {
        "openshift-apiserver": [
            str(servers.apiserver),
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--tls-cert-file={pki / 'openshift-apiserver.crt'}",
            f"--tls-private-key-file={pki / 'openshift-apiserver.key'}",
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            f"--kubeconfig={apiserver_kubeconfig}",
            f"--authentication-kubeconfig={apiserver_kubeconfig}",
            f"--authorization-kubeconfig={apiserver_kubeconfig}",
            f"--registry-ca-file={pki / 'ca.crt'}",
            f"--internal-registry-hostname={INTERNAL_REGISTRY}",
            "--profiling=false",
            f"-v={log_level}",
        ],
        "openshift-controller-manager": [
            str(servers.controller_manager),
            f"--kubeconfig={controllers_kubeconfig}",
            f"--internal-registry-hostname={INTERNAL_REGISTRY}",
            f"--scheduled-import-interval={SCHEDULED_IMPORT_INTERVAL_SECONDS}s",
            f"-v={log_level}",
        ],
    }
