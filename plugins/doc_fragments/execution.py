# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a task of the collection runs: in the controller's process (the action plugin) or as a shipped module;
the choice is ``plugin_utils/_execution_path.in_process_refusal``."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
requirements:
  - Python 3.11 or newer where the module's code runs, in the controller's process (see the C(action) attribute)
    or else on the managed host.
attributes:
  action:
    support: full
    description:
      - The module has an action plugin. When the task runs on the controller over a C(local) connection
        (a play on C(localhost), C(connection=local), C(delegate_to=localhost), an AWX job in an execution
        environment), without C(become) and without C(async), with ansible-core 2.19 or newer, the module's
        code runs inside Ansible's worker
        process instead of being shipped and started as a new Python process; a task then takes a fraction of
        the time of M(ansible.builtin.ping).
      - The result is the same on both paths (options checked with the module's argument spec and
        C(module_defaults), C(no_log) masking of the result, warnings and C(invocation), check and diff mode, the
        task's C(environment)). Set the variable C(openshift_ops_images_in_process=false) or the environment
        variable E(OPENSHIFT_OPS_IMAGES_IN_PROCESS=false) on the controller to always ship the module; the
        variable wins over the environment variable.
  async:
    support: full
    description: An C(async) task runs as a shipped module.
notes:
  - In the controller's process the module runs with the controller's Python, which must be 3.11 or newer (an
    older one makes the task ship the module), and C(ansible_python_interpreter) is not used.
"""
