# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``image_puller_binding`` module's options and core entry points, for both execution paths."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._image_puller_binding.apply import (
    apply_image_puller_binding,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_puller_binding.request import (
    PullerBindingRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import ModuleInterface

IMAGE_PULLER_BINDING_ARGS: dict[str, dict[str, Any]] = {
    "namespace": {"type": "str"},
    "service_accounts": {"type": "list", "elements": "raw", "default": []},
    "from_namespaces": {"type": "list", "elements": "str", "default": []},
    "groups": {"type": "list", "elements": "str", "default": []},
    "users": {"type": "list", "elements": "str", "default": []},
    "role": {"type": "str", "default": "system:image-puller"},
    "binding_name": {"type": "str"},
    "verify": {"type": "bool", "default": True},
    "wait_for_service_accounts": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 120},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}

IMAGE_PULLER_BINDING = ModuleInterface(
    name="image_puller_binding",
    argument_spec=connection_argument_spec() | IMAGE_PULLER_BINDING_ARGS,
    request_from_params=PullerBindingRequest.from_params,
    apply=apply_image_puller_binding,
)
