# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The in-cluster configuration of a pod: ``KUBERNETES_SERVICE_HOST``/``_PORT`` and its service account's token, CA
and namespace."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import (
    ClusterConfig,
    normalize_server_url,
    read_named_file,
)

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def in_cluster_available(environ: Mapping[str, str], service_account_dir: str) -> bool:
    return bool(
        environ.get("KUBERNETES_SERVICE_HOST")
        and environ.get("KUBERNETES_SERVICE_PORT")
        and os.path.exists(os.path.join(service_account_dir, "token"))
    )


def config_in_cluster(environ: Mapping[str, str], service_account_dir: str) -> ClusterConfig:
    """The service account's configuration; ``POD_NAMESPACE`` wins over its namespace file."""
    host = environ["KUBERNETES_SERVICE_HOST"]
    port = environ["KUBERNETES_SERVICE_PORT"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    server = normalize_server_url(f"https://{host}:{port}", where="KUBERNETES_SERVICE_HOST/PORT")
    directory = Path(service_account_dir)
    token_path = directory / "token"
    token = read_named_file(str(token_path), "service account token", "check the pod's automountServiceAccountToken")
    ca_path = directory / "ca.crt"
    trust: dict[str, Any] = {}  # without a CA file, the system trust store (ClusterConfig's default)
    if ca_path.exists():
        ca_data = read_named_file(str(ca_path), "service account CA", "check the pod's service account mount")
        trust = {"ca_data": ca_data, "ca_origin": f"CA file {ca_path}"}
    namespace = environ.get("POD_NAMESPACE")
    if not namespace:
        try:
            namespace = (directory / "namespace").read_text(encoding="utf-8").strip()
        except OSError:
            namespace = None
    return ClusterConfig(
        server=server,
        namespace=namespace or "default",
        token=token.strip(),
        source=f"in-cluster service account ({service_account_dir})",
        user_label="the pod's service account",
        **trust,
    )
