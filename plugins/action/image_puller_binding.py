# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the task's core in the controller's process, or ships the module (see plugin_utils/_action.py)."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.plugin_utils._action import (
    InProcessModuleAction,
    module_interface,
    preload_core,
)


class ActionModule(InProcessModuleAction):
    def interface(self) -> Any:
        return module_interface("image_puller_binding")


preload_core("image_puller_binding")
