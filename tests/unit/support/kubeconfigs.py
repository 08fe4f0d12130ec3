"""Kubeconfig documents and files, PEM stand-ins and exec plugins as small real scripts, for the unit tests of the
connection configuration (kubeconfig, in-cluster, exec credentials, resolution)."""

from __future__ import annotations

import stat
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

NOW = datetime(2030, 1, 1, tzinfo=UTC)
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
CA_PEM = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
CERT_PEM = "-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n"
KEY_PEM = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n"


def kubeconfig(
    *,
    contexts: list[tuple[str, str, str, str | None]] = (("ctx", "c1", "u1", None),),  # type: ignore[assignment]
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    current: str | None = "ctx",
) -> dict[str, Any]:
    """A kubeconfig document: contexts as (name, cluster, user, namespace)."""
    clusters = clusters if clusters is not None else {"c1": {"server": "https://api.one:6443"}}
    users = users if users is not None else {"u1": {"token": "tok-one"}}
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": body} for name, body in clusters.items()],
        "users": [{"name": name, "user": body} for name, body in users.items()],
        "contexts": [
            {"name": name, "context": {"cluster": cluster, "user": user, **({"namespace": ns} if ns else {})}}
            for name, cluster, user, ns in contexts
        ],
    }
    if current is not None:
        document["current-context"] = current
    return document


def write(path: Path, document: dict[str, Any] | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    return str(path)


def script(tmp_path: Path, body: str, name: str = "plugin") -> str:
    """An executable Python script: an exec credential plugin."""
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


IN_CLUSTER_ENV = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def service_account_files(directory: Path) -> Path:
    """A pod's service account mount: token, CA and namespace."""
    directory.mkdir()
    (directory / "token").write_text("sa-token\n")
    (directory / "ca.crt").write_text(CA_PEM)
    (directory / "namespace").write_text("pod-ns\n")
    return directory
