# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``pull_secret`` module's options and core entry points, for both execution paths."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import ModuleInterface
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.apply import apply_pull_secret
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.plan import (
    DOCKERCONFIGJSON,
    SECRET_TYPE_CHOICES,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.request import PullSecretRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    credential_check_argument_spec,
    registry_credentials_argument_spec,
)

PULL_SECRET_ARGS: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "namespace": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "type": {"type": "str", "choices": list(SECRET_TYPE_CHOICES), "default": DOCKERCONFIGJSON},
    "merge": {"type": "bool", "default": False},
    "remove_registries": {"type": "list", "elements": "str", "default": []},
    "link_service_accounts": {"type": "list", "elements": "str", "default": []},
    "force": {"type": "bool", "default": False},
}

PULL_SECRET = ModuleInterface(
    name="pull_secret",
    argument_spec=connection_argument_spec()
    | registry_credentials_argument_spec()
    | credential_check_argument_spec()
    | PULL_SECRET_ARGS,
    request_from_params=PullSecretRequest.from_params,
    apply=apply_pull_secret,
    secret_values=PullSecretRequest.secret_values,
)
