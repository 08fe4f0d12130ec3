"""Which path a task takes, and the switch that turns the in-process path off."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.plugin_utils._execution_path import (
    IN_PROCESS_ENVIRONMENT,
    ExecutionPathError,
    in_process_refusal,
)

LOCAL: dict[str, Any] = {
    "variable": None,
    "environ": {},
    "transport": "local",
    "become": False,
    "async_seconds": 0,
    "python": (3, 11),
    "ansible_core": (2, 19),
}


def refusal(**changes: Any) -> str | None:
    return in_process_refusal(**(LOCAL | changes))


def test_a_local_task_runs_in_process() -> None:
    assert refusal() is None
    assert refusal(python=(3, 13, 1)) is None
    assert refusal(variable=True, environ={IN_PROCESS_ENVIRONMENT: "0"}) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"transport": "ssh"}, "the connection is 'ssh', not local"),
        ({"become": True}, "the task uses become"),
        ({"async_seconds": 30}, "the task is async"),
        ({"python": (3, 10, 12)}, "the controller's Python 3.10 is older than 3.11"),
        ({"ansible_core": (2, 17)}, "ansible-core 2.17 is older than 2.19"),
        ({"variable": False}, "openshift_ops_images_in_process is false"),
        ({"variable": "no"}, "openshift_ops_images_in_process is false"),
        ({"environ": {IN_PROCESS_ENVIRONMENT: "false"}}, f"{IN_PROCESS_ENVIRONMENT} is false"),
        ({"environ": {IN_PROCESS_ENVIRONMENT: "0"}, "transport": "ssh"}, f"{IN_PROCESS_ENVIRONMENT} is false"),
    ],
)
def test_what_sends_a_task_to_the_shipped_module(changes: dict[str, Any], reason: str) -> None:
    assert refusal(**changes) == reason


def test_an_empty_environment_variable_is_unset() -> None:
    assert refusal(environ={IN_PROCESS_ENVIRONMENT: " "}) is None


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"variable": "sometimes"}, "the variable openshift_ops_images_in_process"),
        ({"environ": {IN_PROCESS_ENVIRONMENT: "maybe"}}, f"the environment variable {IN_PROCESS_ENVIRONMENT}"),
    ],
)
def test_a_switch_that_is_not_a_boolean_is_an_error(changes: dict[str, Any], where: str) -> None:
    with pytest.raises(ExecutionPathError, match=f"{where} must be a boolean"):
        refusal(**changes)
