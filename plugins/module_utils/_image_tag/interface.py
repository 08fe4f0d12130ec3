# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``image_tag`` module's options and core entry points, for both execution paths."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.apply import apply_image_tags
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.request import ImageTagRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import ModuleInterface

IMAGE_TAG_ARGS: dict[str, dict[str, Any]] = {
    "source": {"type": "str"},
    "source_type": {
        "type": "str",
        "choices": ["auto", "ImageStreamTag", "ImageStreamImage", "DockerImage", "istag", "isimage", "docker"],
        "default": "auto",
    },
    "dest": {"type": "list", "elements": "str", "required": True},
    "namespace": {"type": "str"},
    "alias": {"type": "bool", "default": False},
    "scheduled": {"type": "bool", "default": False},
    "insecure": {"type": "bool", "default": False},
    "reference": {"type": "bool", "default": False},
    "reference_policy": {"type": "str", "choices": ["source", "local"], "default": "source"},
    "import_mode": {"type": "str", "choices": ["Legacy", "PreserveOriginal"]},
    "reimport": {"type": "bool", "default": False},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}

IMAGE_TAG = ModuleInterface(
    name="image_tag",
    argument_spec=connection_argument_spec() | IMAGE_TAG_ARGS,
    request_from_params=ImageTagRequest.from_params,
    apply=apply_image_tags,
    required_if=(("state", "present", ("source",)),),
)
