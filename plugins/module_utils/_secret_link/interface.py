# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``secret_link`` module's options and core entry points, for both execution paths."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import ModuleInterface
from ansible_collections.openshift_ops.images.plugins.module_utils._secret_link.apply import apply_secret_link
from ansible_collections.openshift_ops.images.plugins.module_utils._secret_link.request import SecretLinkRequest

SECRET_LINK_ARGS: dict[str, dict[str, Any]] = {
    "service_account": {"type": "str", "required": True},
    "namespace": {"type": "str"},
    # Secret names, not secret values.
    "secrets": {"type": "list", "elements": "str", "required": True, "no_log": False},
    "purpose": {"type": "list", "elements": "str", "choices": ["pull", "mount"]},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "allow_missing": {"type": "bool", "default": False},
    "wait_for_service_account": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 120},
}

SECRET_LINK = ModuleInterface(
    name="secret_link",
    argument_spec=connection_argument_spec() | SECRET_LINK_ARGS,
    request_from_params=SecretLinkRequest.from_params,
    apply=apply_secret_link,
)
