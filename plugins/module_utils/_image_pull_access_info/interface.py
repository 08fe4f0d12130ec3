# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``image_pull_access_info`` module's options and core entry point, for both execution paths."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info.read import (
    diagnose_image_pull_access,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info.request import (
    PullAccessRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import ModuleInterface
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    registry_tls_argument_spec,
)

IMAGE_PULL_ACCESS_INFO_ARGS: dict[str, dict[str, Any]] = {
    "namespace": {"type": "str"},
    "image": {"type": "str"},
    "image_stream": {"type": "str"},
    "service_account": {"type": "str", "default": "default"},
    "pod": {"type": "dict"},
    "check_credentials": {"type": "bool", "default": False},
}

IMAGE_PULL_ACCESS_INFO = ModuleInterface(
    name="image_pull_access_info",
    argument_spec=connection_argument_spec() | registry_tls_argument_spec() | IMAGE_PULL_ACCESS_INFO_ARGS,
    request_from_params=PullAccessRequest.from_params,
    apply=diagnose_image_pull_access,
)
