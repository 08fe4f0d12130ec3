# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which path a task takes: the module's core in the controller's process, or the module shipped as usual."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

IN_PROCESS_VARIABLE = "openshift_ops_images_in_process"
IN_PROCESS_ENVIRONMENT = "OPENSHIFT_OPS_IMAGES_IN_PROCESS"
MINIMUM_PYTHON = (3, 11)
# The oldest ansible-core whose results the in-process path is tested to match; older ones ship the module.
MINIMUM_ANSIBLE_CORE = (2, 19)


class ExecutionPathError(ValueError):
    """The switch between the two paths is set to something that is not a boolean."""


def in_process_refusal(
    *,
    variable: Any,
    environ: Mapping[str, str],
    transport: str,
    become: bool,
    async_seconds: int,
    python: tuple[int, ...],
    ansible_core: tuple[int, ...],
) -> str | None:
    """Why the task must run as a shipped module, or ``None`` when its core can run in the controller's process.

    The core can run here only when running the module would mean running it on this machine, as this user, to
    completion: a local connection without ``become`` or ``async``, on a Python the core supports. The variable
    (``openshift_ops_images_in_process``) wins over the environment variable; both default to on.
    """
    switch = _switch_setting(variable, environ)
    if switch is not None:
        return switch
    checks = (
        (transport != "local", f"the connection is {transport!r}, not local"),
        (become, "the task uses become"),
        (bool(async_seconds), "the task is async"),
        (
            tuple(python[:2]) < MINIMUM_PYTHON,
            f"the controller's Python {_dotted(python)} is older than {_dotted(MINIMUM_PYTHON)}",
        ),
        (
            tuple(ansible_core[:2]) < MINIMUM_ANSIBLE_CORE,
            f"ansible-core {_dotted(ansible_core)} is older than {_dotted(MINIMUM_ANSIBLE_CORE)}",
        ),
    )
    return next((reason for refused, reason in checks if refused), None)


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version[:2]))


def _switch_setting(variable: Any, environ: Mapping[str, str]) -> str | None:
    if variable is not None:
        return None if _switch(variable, f"the variable {IN_PROCESS_VARIABLE}") else f"{IN_PROCESS_VARIABLE} is false"
    setting = environ.get(IN_PROCESS_ENVIRONMENT, "")
    if setting.strip() and not _switch(setting, f"the environment variable {IN_PROCESS_ENVIRONMENT}"):
        return f"{IN_PROCESS_ENVIRONMENT} is false"
    return None


def _switch(value: Any, where: str) -> bool:
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise ExecutionPathError(
            f"{where} must be a boolean (true or false), not {str(value)!r}: it says whether the modules of "
            "openshift_ops.images run in the controller's process"
        ) from None
