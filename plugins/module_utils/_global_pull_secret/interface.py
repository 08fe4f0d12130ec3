# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``global_pull_secret`` module's options and core entry points, for both execution paths."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.apply import (
    apply_global_pull_secret,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.request import (
    GlobalPullSecretRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import ModuleInterface
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    credential_check_argument_spec,
    registry_credentials_argument_spec,
)

GLOBAL_PULL_SECRET_ARGS: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "default": "pull-secret"},
    "namespace": {"type": "str", "default": "openshift-config"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "remove_registries": {"type": "list", "elements": "str", "default": []},
    "replace": {"type": "bool", "default": False},
    "allow_telemetry_change": {"type": "bool", "default": False},
    "backup": {"type": "bool", "default": False},
    "backup_dir": {"type": "path"},
    "wait": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 1800},
}

GLOBAL_PULL_SECRET = ModuleInterface(
    name="global_pull_secret",
    argument_spec=connection_argument_spec()
    | registry_credentials_argument_spec()
    | credential_check_argument_spec()
    | GLOBAL_PULL_SECRET_ARGS,
    request_from_params=GlobalPullSecretRequest.from_params,
    secret_values=GlobalPullSecretRequest.secret_values,
    apply=apply_global_pull_secret,
)
