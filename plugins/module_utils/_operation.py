# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one operation boundary every module goes through, on either execution path.

A module is a ``ModuleInterface``: its argument spec, how a request is built and checked from its options (before
any connection is made: files the options name are read then too), the secrets that request holds, and its core
entry point ``apply(client, request, run) -> Outcome``, which never sees an ``AnsibleModule``: ``run`` says whether
this is check mode or diff mode and takes every secret value the core meets (to hide it), and the ``Outcome``
carries the result and the warnings. A failure after something was changed is a ``PartialChangeError`` whose
``result`` says what.

``run_operation`` runs an interface on validated options and returns a ``Report``; ``run_module`` is the adapter
to ``AnsibleModule`` (a shipped module), and the action plugins' in-process path (``plugins/plugin_utils``) is the
other adapter. Both report the same ``Report``, so a task's result is the same on both paths.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ImagesError, PartialChangeError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube import client as kube_client
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._masking import secrets_in

# The immutable records are NamedTuples: a shipped module creates these classes on every run, and a frozen
# dataclass costs several times more to create (its methods are generated as source and compiled).


class RunContext(NamedTuple):
    """How the core runs: check mode (nothing is written), diff mode, and where secret values go to be hidden."""

    check_mode: bool = False
    want_diff: bool = False
    hide: Callable[[Iterable[str]], None] = lambda _values: None


class Outcome(NamedTuple):
    """What a module run returns: its result (``changed`` and every return value) and the warnings to show."""

    result: dict[str, Any]
    warnings: Sequence[str] = ()


RequestT = TypeVar("RequestT")


def no_secret_values(_request: object) -> Iterable[str]:
    """For a request that holds no secret beyond its ``no_log`` options (which the argument spec hides)."""
    return ()


class ModuleInterface(NamedTuple, Generic[RequestT]):
    """Everything either execution path needs to run one module: its options and its core entry points."""

    name: str
    argument_spec: Mapping[str, Mapping[str, Any]]
    request_from_params: Callable[[Mapping[str, Any]], RequestT]
    apply: Callable[[KubeApi, RequestT, RunContext], Outcome]
    required_if: Sequence[tuple[str, Any, Sequence[str]]] = ()
    # Secrets the request read from files or found inside options (a password in an auth file): hidden before the
    # connection is made, so nothing printed afterwards can show them.
    secret_values: Callable[[RequestT], Iterable[str]] = no_secret_values

    def spec_arguments(self) -> dict[str, Any]:
        """The argument spec and its rules, as ``AnsibleModule`` and ``ArgumentSpecValidator`` take them (copies,
        since both may add to what they are given)."""
        return {
            "argument_spec": copy.deepcopy(dict(self.argument_spec)),
            "required_if": [list(rule) for rule in self.required_if] or None,
        }


class Report(NamedTuple):
    """The end of a run: the result (with ``msg`` when it failed) and the warnings, before any masking."""

    result: dict[str, Any]
    warnings: list[str]
    failed: bool = False


def run_operation(
    interface: ModuleInterface[Any],
    params: Mapping[str, Any],
    *,
    check_mode: bool,
    want_diff: bool,
    hide: Callable[[Iterable[str]], None],
    keep_client: bool = False,
) -> Report:
    """Build the request (every option checked, nothing connected yet), hide its secrets, connect, run the core;
    typed errors become a failed report, anything else propagates.

    ``keep_client``: connect with the client an earlier run in this process made for the same cluster, if any
    (``kube_client.kept_client_for``), as the in-process path does for the items of a loop.

    The connection's own warnings (verification turned off, plain HTTP) come first, failed or not."""
    connection_warnings: list[str] = []
    try:
        request = interface.request_from_params(params)
        # checked before anything reads a kubeconfig or runs an exec plugin
        connection = ConnectionOptions.from_params(params)
        hide(interface.secret_values(request))
        client = (kube_client.kept_client_for if keep_client else kube_client.client_for)(connection, hide)
        connection_warnings = list(client.config.warnings)
        outcome = interface.apply(client, request, RunContext(check_mode=check_mode, want_diff=want_diff, hide=hide))
    except PartialChangeError as error:
        return Report(result={**error.result, "msg": str(error)}, warnings=connection_warnings, failed=True)
    except ImagesError as error:
        return Report(result={"msg": str(error)}, warnings=connection_warnings, failed=True)
    return Report(result=outcome.result, warnings=[*connection_warnings, *outcome.warnings])


class _Module(Protocol):
    params: Mapping[str, Any]
    check_mode: bool
    _diff: bool
    no_log_values: set[str]

    def warn(self, warning: str) -> None: ...
    def fail_json(self, msg: str, **kwargs: Any) -> None: ...
    def exit_json(self, **kwargs: Any) -> None: ...


def run_module(module: _Module, interface: ModuleInterface[Any]) -> None:
    """Run the interface for a shipped module: ``AnsibleModule`` validated the options and masks the result."""
    report = run_operation(
        interface,
        module.params,
        check_mode=module.check_mode,
        want_diff=module._diff,
        hide=module.no_log_values.update,
    )
    for warning in report.warnings:
        # ansible-core 2.19 carries warnings as events, which the masking of exit_json does not reach.
        module.warn(remove_values(warning, module.no_log_values))
    # exit_json masks the result and module_args with no_log_values; those that occur in neither cannot change
    # them, and a large pull secret registers thousands (see _masking.py)
    module.no_log_values = set(secrets_in({"result": report.result, "params": module.params}, module.no_log_values))
    if report.failed:
        result = dict(report.result)
        module.fail_json(msg=result.pop("msg"), **result)
        return
    module.exit_json(**report.result)
