# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``image_puller_binding`` module was asked to do: its request, built and checked from the options before
anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_puller_binding import plan
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    validate_namespace_name,
    validate_path_segment_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac.authorization import Subject


class PullerBindingRequest(NamedTuple):
    namespace: str  # "": the kubeconfig context's, filled in when the run starts
    subjects: tuple[Subject, ...]
    role: str = "system:image-puller"
    binding_name: str | None = None
    state: str = "present"
    verify: bool = True
    wait_for_service_accounts: bool = False
    wait_timeout: float = 120

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PullerBindingRequest:
        """The request the module options describe (no namespace: the kubeconfig context's)."""
        namespace = params.get("namespace") or ""
        if namespace:
            validate_namespace_name(namespace, what="namespace")
        role = validate_path_segment_name(params["role"], what="role")
        wanted_binding = params.get("binding_name") or None
        if wanted_binding is not None:
            validate_path_segment_name(wanted_binding, what="binding_name")
        if params.get("wait_timeout", 0) < 0:
            raise InvalidInputError("wait_timeout must be zero or more seconds")
        return cls(
            namespace=namespace,
            subjects=plan.requested_subjects(
                service_accounts=params.get("service_accounts") or (),
                from_namespaces=params.get("from_namespaces") or (),
                groups=params.get("groups") or (),
                users=params.get("users") or (),
            ),
            role=role,
            binding_name=wanted_binding,
            state=params.get("state", "present"),
            verify=params.get("verify", True),
            wait_for_service_accounts=params.get("wait_for_service_accounts", False),
            wait_timeout=params.get("wait_timeout", 120),
        )
