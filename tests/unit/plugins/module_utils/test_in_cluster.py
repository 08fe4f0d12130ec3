"""The in-cluster configuration: the service host and port, and the service account's token, CA and namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import KubeAuthConfigError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.in_cluster import (
    config_in_cluster,
    in_cluster_available,
)
from ansible_collections.openshift_ops.images.tests.unit.support.kubeconfigs import (
    CA_PEM,
    IN_CLUSTER_ENV,
)


def test_in_cluster(service_account: Path) -> None:
    config = config_in_cluster(IN_CLUSTER_ENV, str(service_account))
    assert config.server == "https://10.0.0.1:443"
    assert config.token == "sa-token"
    assert (config.ca_data, config.ca_origin) == (CA_PEM, f"CA file {service_account / 'ca.crt'}")
    assert config.namespace == "pod-ns"
    assert config.source == f"in-cluster service account ({service_account})"
    assert config.user_label == "the pod's service account"


def test_in_cluster_ipv6_pod_namespace_and_no_ca(service_account: Path) -> None:
    (service_account / "ca.crt").unlink()
    environ = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443", "POD_NAMESPACE": "downward"}
    config = config_in_cluster(environ, str(service_account))
    assert config.server == "https://[fd00::1]:6443"
    assert config.namespace == "downward"
    assert (config.ca_data, config.ca_origin) == (None, "the system trust store")


def test_in_cluster_without_a_namespace_file(service_account: Path) -> None:
    (service_account / "namespace").unlink()
    assert config_in_cluster(IN_CLUSTER_ENV, str(service_account)).namespace == "default"


def test_in_cluster_needs_env_and_token(service_account: Path) -> None:
    assert in_cluster_available(IN_CLUSTER_ENV, str(service_account))
    assert not in_cluster_available({"KUBERNETES_SERVICE_HOST": "h"}, str(service_account))
    (service_account / "token").unlink()
    assert not in_cluster_available(IN_CLUSTER_ENV, str(service_account))


def test_an_unreadable_token_is_explained(service_account: Path) -> None:
    (service_account / "token").unlink()
    (service_account / "token").mkdir()
    with pytest.raises(KubeAuthConfigError, match=r"cannot read service account token .*automountServiceAccountToken"):
        config_in_cluster(IN_CLUSTER_ENV, str(service_account))
