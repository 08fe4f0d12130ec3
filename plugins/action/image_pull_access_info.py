# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the task's core in the controller's process, or ships the module (see plugin_utils/_action.py)."""

from __future__ import annotations

from ansible_collections.openshift_ops.images.plugins.plugin_utils._action import InProcessModuleAction, preload_core


class ActionModule(InProcessModuleAction):
    module = "image_pull_access_info"


preload_core(ActionModule.module)
