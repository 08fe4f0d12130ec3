# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's core inside the controller's process, with the result a shipped module would return.

What ``AnsibleModule`` does around a module is done here the same way: the options are validated with the
module's own argument spec (``ArgumentSpecValidator``, the class ``AnsibleModule`` uses, with the same error
messages), the core runs through the same ``run_operation`` as the shipped module, and the result gets the same
``invocation.module_args``, the same alias warnings and deprecations, and the same masking (``remove_values`` over
the whole result with the values of ``no_log`` options and every secret the core registered, booleans and ``None``
at the top level kept).

What this takes from ``ArgumentSpecValidator``'s result beyond its public API (``_no_log_values``, ``_warnings``,
``_deprecations``) is pinned, with the behaviour relied on, for every supported ansible-core by
``tests/unit/plugins/plugin_utils/test_core_contract.py`` (``make test-core-contract``).

Everything here is free of ``ansible.plugins`` so it can be run and tested without an executor.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.openshift_ops.images.plugins.module_utils._masking import masked
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import ModuleInterface, run_operation


def run_in_process(
    interface: ModuleInterface[Any],
    module_name: str,
    args: Mapping[str, Any],
    *,
    check_mode: bool,
    diff: bool,
    environment: Mapping[str, Any],
) -> dict[str, Any]:
    """Validate ``args`` (the task's module arguments, ``module_defaults`` included) and run the module's core
    under the task's ``environment``; return the task result, masked as ``AnsibleModule`` masks it.

    The client is kept for the next run in this process (the next item of a loop, in the same worker) when that
    run reaches the same cluster the same way."""
    plain_args = plain_data(dict(args))
    no_log_values: set[str] = set()
    with task_environment(environment):
        validation = ArgumentSpecValidator(**interface.spec_arguments()).validate(plain_args)
        params = {**plain_args, **validation.validated_parameters}
        no_log_values.update(validation._no_log_values)
        warnings = [
            f"Both option {alias_warning['option']} and its alias {alias_warning['alias']} are set."
            for alias_warning in validation._warnings
        ]
        deprecations = [reported_deprecation(deprecation) for deprecation in validation._deprecations]
        if validation.errors.errors:
            failure = validation.errors.msg
            if isinstance(validation.errors.errors[0], UnsupportedError):
                failure = f"Unsupported parameters for ({module_name}) module: {failure}"
            return masked_result(
                {"failed": True, "msg": failure}, params, warnings, deprecations, no_log_values=no_log_values
            )
        try:
            report = run_operation(
                interface, params, check_mode=check_mode, want_diff=diff, hide=no_log_values.update, keep_client=True
            )
        except Exception as error:  # a shipped module would crash with a traceback: report it, masked, instead
            unexpected = {
                "failed": True,
                "msg": f"{module_name} failed in the controller's process: {type(error).__name__}: {error}",
                "exception": traceback.format_exc(),
            }
            return masked_result(unexpected, params, warnings, deprecations, no_log_values=no_log_values)
    result = dict(report.result)
    if report.failed:
        result["failed"] = True
    return masked_result(result, params, warnings + report.warnings, deprecations, no_log_values=no_log_values)


def reported_deprecation(deprecation: Mapping[str, Any]) -> dict[str, Any]:
    """A deprecation the validator recorded (a deprecated option or alias), as ``AnsibleModule`` reports it in the
    result's ``deprecations``: its message, the removal date or else version, and the collection.

    This is the form ansible-core 2.17 and 2.18 modules return. 2.19 modules return an object instead, and the 2.19
    controller turns this form into the same object (same message, removal and collection).
    """
    if deprecation.get("date") is not None:
        removal = {"date": deprecation["date"]}
    else:
        removal = {"version": deprecation.get("version")}
    return {"msg": deprecation["msg"], **removal, "collection_name": deprecation.get("collection_name")}


def masked_result(
    result: dict[str, Any],
    params: Mapping[str, Any],
    warnings: list[str],
    deprecations: list[dict[str, Any]],
    *,
    no_log_values: set[str],
) -> dict[str, Any]:
    """The result as ``AnsibleModule._return_formatted`` builds it, then as JSON would carry it back."""
    formatted = dict(result)
    formatted.setdefault("invocation", {"module_args": dict(params)})
    if warnings:
        formatted["warnings"] = list(warnings)
    if deprecations:
        formatted["deprecations"] = list(deprecations)
    preserved = {key: value for key, value in formatted.items() if value is None or isinstance(value, bool)}
    formatted = masked(formatted, no_log_values)
    formatted.update(preserved)
    return json.loads(json.dumps(formatted))


def plain_data(value: Any) -> Any:
    """Arguments as a module receives them through JSON: plain dicts, lists, strings and numbers (templating may hand
    over its own string, mapping and sequence types, and vaulted values that decrypt on ``str()``)."""
    if isinstance(value, Mapping):
        return {str(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_data(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value
    return str(value)


@contextmanager
def task_environment(environment: Mapping[str, Any]) -> Iterator[None]:
    """The task's ``environment:`` in ``os.environ`` while the core runs, as the shipped module would see it.

    Each task runs in its own forked worker process, so nothing else in the process sees these values; they are
    put back anyway, so a caller that is not a worker (a test) is left as it was.
    """
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update({str(name): str(value) for name, value in environment.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
