# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one operation boundary every module goes through.

A module's request is built and checked from its options before any connection is made; its core entry point,
``apply(client, request, run) -> Outcome``, never sees an ``AnsibleModule``: ``run`` says whether this is check
mode or diff mode and takes every secret value the core meets (to hide it), and the ``Outcome`` carries the result
and the warnings. A failure after something was changed is a ``PartialChangeError`` whose ``result`` says what.
``run_module`` is the adapter to ``AnsibleModule`` and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ImagesError, PartialChangeError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube import client as kube_client


@dataclass(frozen=True)
class RunContext:
    """How the core runs: check mode (nothing is written), diff mode, and where secret values go to be hidden."""

    check_mode: bool = False
    want_diff: bool = False
    hide: Callable[[Iterable[str]], None] = lambda _values: None


@dataclass
class Outcome:
    """What a module run returns: its result (``changed`` and every return value) and the warnings to show."""

    result: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


RequestT = TypeVar("RequestT")


class _Module(Protocol):
    params: Mapping[str, Any]
    check_mode: bool
    _diff: bool
    no_log_values: set[str]

    def warn(self, warning: str) -> None: ...
    def fail_json(self, **kwargs: Any) -> None: ...
    def exit_json(self, **kwargs: Any) -> None: ...


def run_module(
    module: _Module,
    request_from_params: Callable[[Mapping[str, Any]], RequestT],
    apply: Callable[[Any, RequestT, RunContext], Outcome],
) -> None:
    """Build the request, connect, run the core and report, as every module does."""
    try:
        request = request_from_params(module.params)
        client = kube_client.client_from_module(module)
        run = RunContext(check_mode=module.check_mode, want_diff=module._diff, hide=module.no_log_values.update)
        outcome = apply(client, request, run)
    except PartialChangeError as error:
        module.fail_json(msg=str(error), **error.result)
        return
    except ImagesError as error:
        module.fail_json(msg=str(error))
        return
    for warning in outcome.warnings:
        module.warn(warning)
    module.exit_json(**outcome.result)
