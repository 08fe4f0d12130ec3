# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the task's core in the controller's process, or ships the module (see plugin_utils/_action.py)."""

from __future__ import annotations

from typing import Any

from ansible_collections.openshift_ops.images.plugins.plugin_utils._action import InProcessModuleAction


class ActionModule(InProcessModuleAction):
    def interface(self) -> Any:
        # Imported only on the in-process path, which checked the controller's Python first.
        from ansible_collections.openshift_ops.images.plugins.module_utils._secret_link import interface  # noqa: PLC0415

        return interface.SECRET_LINK
