# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one action plugin every module of the collection has: its core in the controller's process when the task
would run the module on the controller anyway, and the module shipped as usual otherwise.

The private ``ActionBase`` attributes and methods used here are pinned, with the behaviour relied on, for every
supported ansible-core by ``tests/unit/plugins/plugin_utils/test_core_contract.py`` (``make test-core-contract``).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import ssl
import sys
from typing import TYPE_CHECKING, Any, ClassVar

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.release import __version__ as ansible_version
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

from ansible_collections.openshift_ops.images.plugins.plugin_utils._execution_path import (
    IN_PROCESS_VARIABLE,
    MINIMUM_ANSIBLE_CORE,
    MINIMUM_PYTHON,
    ExecutionPathError,
    in_process_refusal,
)

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._operation import ModuleInterface

display = Display()


class InProcessModuleAction(ActionBase):
    """Subclasses name their module; nothing else."""

    _supports_check_mode = True
    _supports_async = True
    module: ClassVar[str]  # e.g. "image_tag": its interface is module_utils/_image_tag/interface.py

    def interface(self) -> ModuleInterface[Any]:
        """The module's options and core entry points (preloaded where the in-process path can run)."""
        return module_interface(self.module)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp  # no effect, as in every action plugin since ansible-core 2.5

        refusal = self._in_process_refusal(task_vars)
        if refusal is None:
            display.vvv(f"{self._task.action}: running in the controller's process", host=self._host_name())
            return merge_hash(result, self._run_in_process())

        display.vvv(f"{self._task.action}: running as a module ({refusal})", host=self._host_name())
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _in_process_refusal(self, task_vars: dict[str, Any]) -> str | None:
        variable = task_vars.get(IN_PROCESS_VARIABLE)
        try:
            return in_process_refusal(
                variable=None if variable is None else self._templar.template(variable),
                environ=os.environ,
                transport=str(getattr(self._connection, "transport", "")),
                become=bool(self._play_context.become),
                async_seconds=int(self._task.async_val or 0),
                python=sys.version_info[:2],
                ansible_core=_version_numbers(ansible_version),
            )
        except ExecutionPathError as error:
            raise AnsibleActionFail(str(error)) from None

    def _run_in_process(self) -> dict[str, Any]:
        # Imported only here: the core needs the Python that in_process_refusal checked for.
        from ansible_collections.openshift_ops.images.plugins.plugin_utils._in_process import (  # noqa: PLC0415
            run_in_process,
        )

        environment: dict[str, Any] = {}
        self._compute_environment_string(environment)
        return run_in_process(
            self.interface(),
            self._task.action,
            self._task.args,
            check_mode=bool(self._task.check_mode),
            diff=bool(self._task.diff),
            environment=environment,
        )

    def _host_name(self) -> str | None:
        return getattr(self._play_context, "remote_addr", None)


MODULE_UTILS = "ansible_collections.openshift_ops.images.plugins.module_utils"
IN_PROCESS = "ansible_collections.openshift_ops.images.plugins.plugin_utils._in_process"


def module_interface(module: str) -> ModuleInterface[Any]:
    """``<MODULE>`` of ``module_utils/_<module>/interface.py``."""
    return getattr(importlib.import_module(f"{MODULE_UTILS}._{module}.interface"), module.upper())


def preload_core(module: str) -> None:
    """Import the module's core when the controller loads its action plugin. Ansible loads an action plugin in its
    main process (the strategy looks at its class) before it forks a worker for each task, so every worker starts
    with the core already imported instead of importing it again, compiling it too where no bytecode cache can be
    written. Only where the in-process path can run: the core needs the Python and ansible-core it checks for."""
    if sys.version_info[:2] >= MINIMUM_PYTHON and _version_numbers(ansible_version) >= MINIMUM_ANSIBLE_CORE:
        importlib.import_module(IN_PROCESS)
        module_interface(module)
        _preload_module_utils()
        warm_tls()


_preloaded: list[str] = []


def _preload_module_utils() -> None:
    """Every module_utils file, once per controller: a shipped module imports some of them only when its options
    need them (the registry check, a YAML kubeconfig, an exec plugin), which in-process would be an import in each
    forked worker, i.e. in every task of every host of a fleet."""
    if _preloaded:
        return
    package = importlib.import_module(MODULE_UTILS)
    for found in pkgutil.walk_packages(package.__path__, f"{MODULE_UTILS}."):
        importlib.import_module(found.name)
        _preloaded.append(found.name)


def warm_tls() -> None:
    """Make one TLS context in the controller's process: OpenSSL sets itself up on a process's first context (about
    2 ms here), and every forked worker then starts past that instead of paying it in each task of each host."""
    if not _tls_warmed:
        _tls_warmed.append(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))


_tls_warmed: list[ssl.SSLContext] = []


def _version_numbers(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split(".")[:2]:
        digits = "".join(character for character in part if character.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)
