# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``image_pull_access_info`` module was asked to do: its request, built and checked from the options before
anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info import diagnose as dx
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import (
    normalize_image,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    validate_dns_subdomain_name,
    validate_namespace_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import RegistryTls


@dataclass(frozen=True)
class PullAccessRequest:
    namespace: str  # "": the kubeconfig context's
    image: str | None
    image_stream: str | None
    service_account: str
    pod: Mapping[str, Any] | None
    check_credentials: bool = False
    registry_tls: RegistryTls = field(default_factory=RegistryTls)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PullAccessRequest:
        image, stream = params.get("image"), params.get("image_stream")
        if bool(image) == bool(stream):
            raise InvalidInputError("give exactly one of image (a pull spec) and image_stream ([project/]stream:tag)")
        if image:
            normalize_image(image)  # the kubelet cannot pull what does not parse
        pod = params.get("pod")
        if pod is not None:
            if not isinstance(pod, Mapping):
                raise InvalidInputError("pod must be a Pod object or a pod spec (a dictionary)")
            dx.pod_pull_secret_names(dx.pod_spec_of(pod))
        namespace = params.get("namespace") or ""
        return cls(
            namespace=validate_namespace_name(namespace) if namespace else "",
            image=image or None,
            image_stream=stream or None,
            service_account=validate_dns_subdomain_name(
                params.get("service_account") or "default", what="service_account", kind="service account"
            ),
            pod=pod,
            check_credentials=bool(params.get("check_credentials")),
            registry_tls=RegistryTls.from_params(params, used=bool(params.get("check_credentials"))),
        )
