"""The private ansible-core names the action plugins use, each pinned with the behaviour the collection relies on.

The in-process path (and the action plugin around it) leans on attributes and methods ansible-core does not promise
to keep: ``ActionBase``'s ``_task``, ``_connection``, ``_compute_environment_string``..., and what
``ArgumentSpecValidator`` keeps beside its public result (``_no_log_values``, ``_warnings``, ``_deprecations``).
``PINS`` is the one list of them. ``make test-core-contract`` runs this file on every supported ansible-core series,
so a release that renames or changes one fails here with the internal's name and the lines that use it;
``test_the_pins_are_the_internals_the_code_uses`` reads ``plugins/plugin_utils/`` and ``plugins/action/`` and fails
on a private ansible-core name used there without a pin, and on a pin nothing uses any more.

No executor, no cluster: the objects a worker hands an action plugin are built here from ansible-core's own classes.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import ansible.template as ansible_template
import pytest
from ansible.errors import AnsibleActionFail, AnsibleActionSkip
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import env_fallback
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.attribute import Attribute
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.action import ActionBase
from ansible.plugins.connection import ConnectionBase
from ansible.plugins.loader import connection_loader
from ansible.plugins.shell import ShellBase
from ansible.release import __version__ as ansible_core_version
from ansible.template import Templar

from ansible_collections.openshift_ops.images.plugins.plugin_utils import _action
from ansible_collections.openshift_ops.images.plugins.plugin_utils._action import InProcessModuleAction

COLLECTION_ROOT = Path(_action.__file__).resolve().parents[2]
SCANNED_DIRECTORIES = ("plugins/plugin_utils", "plugins/action")


class ProbeAction(ActionBase):
    """An action plugin that does only what ``ActionBase.run`` does."""

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        return super().run(tmp, task_vars)


@dataclass
class Worker:
    """What a worker process hands an action plugin, built from ansible-core's own classes."""

    task: Task
    play_context: PlayContext
    connection: Any
    templar: Templar
    action: ProbeAction


def worker(task: Task | None = None, variables: dict[str, Any] | None = None, **class_attributes: Any) -> Worker:
    """A task over a local connection, with ``class_attributes`` on the action plugin's class."""
    loader = DataLoader()
    task = Task() if task is None else task
    templar = Templar(loader=loader, variables=variables or {})
    play_context = PlayContext()
    connection = connection_loader.get("local", play_context)
    action_class = type("Probe", (ProbeAction,), class_attributes)
    action = action_class(task, connection, play_context, loader, templar, None)
    return Worker(task, play_context, connection, templar, action)


def playbook_text(text: str) -> Any:
    """Text as a playbook gives it: ansible-core 2.19 templates only text marked as trusted, older ones any text."""
    trust = getattr(ansible_template, "trust_as_template", None)
    return text if trust is None else trust(text)


def validation(spec: dict[str, Any], args: dict[str, Any]) -> Any:
    return ArgumentSpecValidator(spec).validate(args)


# The checks: each raises (an assertion, a missing attribute, a changed signature) when the pinned behaviour is gone.


def kept_by_action_base(name: str, collaborator: str) -> Callable[[], None]:
    def check() -> None:
        running = worker()
        assert getattr(running.action, name) is getattr(running, collaborator)

    return check


def task_keyword(name: str, *defaults: Any) -> Callable[[], None]:
    """A playbook keyword of the task (the worker gives the action its post-validated value), with its default."""

    def check() -> None:
        assert isinstance(inspect.getattr_static(Task, name), Attribute), f"Task.{name} is not a playbook keyword"
        for default in defaults:
            assert getattr(Task(), name) == default

    return check


def local_connection_has_no_native_async() -> None:
    assert ConnectionBase.has_native_async is False
    assert worker().connection.has_native_async is False


def local_connection_transport() -> None:
    assert worker().connection.transport == "local"


def connection_has_a_shell() -> None:
    assert isinstance(worker().connection._shell, ShellBase)


def tmpdir_made_then_removed() -> None:
    running = worker()
    shell = running.connection._shell
    assert shell.tmpdir is None
    with tempfile.TemporaryDirectory() as remote_tmp:
        shell.set_option("remote_tmp", remote_tmp)
        running.action._make_tmp_path()  # what _execute_module does before it ships a module
        made = shell.tmpdir
        assert made is not None and Path(made).is_dir()
        running.action._remove_tmp_path(shell.tmpdir)
        assert shell.tmpdir is None
        assert not Path(made).exists()


def become_from_the_task() -> None:
    task = Task()
    task.become = True
    running = worker(task)
    assert not running.play_context.become
    overridden = running.play_context.set_task_and_variable_override(task=task, variables={}, templar=running.templar)
    assert overridden.become is True


def remote_addr_from_the_inventory() -> None:
    running = worker()
    overridden = running.play_context.set_task_and_variable_override(
        task=running.task, variables={"ansible_host": "cluster-admin-host"}, templar=running.templar
    )
    assert overridden.remote_addr == "cluster-admin-host"


def templar_renders_the_switch_variable() -> None:
    templar = worker(variables={"in_process": False}).templar
    assert boolean(templar.template(playbook_text("{{ in_process }}")), strict=True) is False
    assert templar.template(True) is True


def execute_module_signature() -> None:
    parameters = inspect.signature(ActionBase._execute_module).parameters
    assert parameters["module_name"].default is None, "module_name no longer defaults to the task's action"
    assert parameters["task_vars"].default is None
    assert parameters["wrap_async"].default is False


def environment_into_a_dict() -> None:
    task = Task()
    task.environment = [{"KUBECONFIG": playbook_text("{{ kubeconfig }}")}, {"K8S_AUTH_VERIFY_SSL": "false"}]
    running = worker(task, variables={"kubeconfig": "/home/ops/.kube/config"})
    environment = {"LEFT_OVER": "from before"}
    running.action._compute_environment_string(environment)
    assert environment == {"KUBECONFIG": "/home/ops/.kube/config", "K8S_AUTH_VERIFY_SSL": "false"}


def check_mode_gate() -> None:
    task = Task()
    task.check_mode = True
    with pytest.raises(AnsibleActionSkip):
        worker(task, _supports_check_mode=False).action.run(task_vars={})
    assert worker(task, _supports_check_mode=InProcessModuleAction._supports_check_mode).action.run(task_vars={}) == {}


def async_gate() -> None:
    task = Task()
    task.async_val = 30
    with pytest.raises(AnsibleActionFail):
        worker(task, _supports_async=False).action.run(task_vars={})
    assert worker(task, _supports_async=InProcessModuleAction._supports_async).action.run(task_vars={}) == {}


def no_log_values_of_options_and_fallbacks() -> None:
    spec = {
        "password": {"type": "str", "no_log": True},
        "token": {"type": "str", "no_log": True, "fallback": (env_fallback, ["CONTRACT_TOKEN"])},
        "name": {"type": "str"},
    }
    with mock.patch.dict(os.environ, {"CONTRACT_TOKEN": "token-from-env"}):
        result = validation(spec, {"password": "hunter2", "name": "visible"})
    assert isinstance(result._no_log_values, set)
    assert result._no_log_values == {"hunter2", "token-from-env"}


def alias_warnings() -> None:
    spec = {"validate_certs": {"type": "bool", "aliases": ["verify_ssl"]}}
    result = validation(spec, {"validate_certs": True, "verify_ssl": False})
    assert result._warnings == [{"option": "validate_certs", "alias": "verify_ssl"}]


def deprecation_records() -> None:
    spec = {
        "name": {
            "type": "str",
            "aliases": ["title"],
            "deprecated_aliases": [{"name": "title", "version": "3.0.0", "collection_name": "openshift_ops.images"}],
        },
        "label": {"type": "str", "removed_at_date": "2027-06-01", "removed_from_collection": "openshift_ops.images"},
    }
    records = validation(spec, {"title": "x", "label": "y"})._deprecations
    assert isinstance(records, list)
    assert [
        (record["msg"], record.get("version"), record.get("date"), record["collection_name"]) for record in records
    ] == [
        (
            "Alias 'title' is deprecated. See the module docs for more information",
            "3.0.0",
            None,
            "openshift_ops.images",
        ),
        (
            "Param 'label' is deprecated. See the module docs for more information",
            None,
            "2027-06-01",
            "openshift_ops.images",
        ),
    ]


@dataclass(frozen=True)
class Pin:
    path: str  # as the code reaches it from its owner, e.g. "_connection._shell.tmpdir" of an ActionBase
    owner: str
    reliance: str  # completes "... no longer <reliance>"
    check: Callable[[], None]


PINS: tuple[Pin, ...] = (
    Pin("_task", "ActionBase", "holds the task it was built with", kept_by_action_base("_task", "task")),
    Pin("_task.action", "ActionBase", "gives the task's action (the module's name)", task_keyword("action", None)),
    Pin("_task.args", "ActionBase", "gives the task's module arguments", task_keyword("args", {})),
    Pin(
        "_task.async_val", "ActionBase", "gives the task's async seconds, 0 without async", task_keyword("async_val", 0)
    ),
    Pin("_task.check_mode", "ActionBase", "gives the task's check mode", task_keyword("check_mode")),
    Pin("_task.diff", "ActionBase", "gives the task's diff mode", task_keyword("diff")),
    Pin(
        "_connection",
        "ActionBase",
        "holds the connection it was built with",
        kept_by_action_base("_connection", "connection"),
    ),
    Pin(
        "_connection.has_native_async",
        "ActionBase",
        "says whether the connection runs async itself (False for local)",
        local_connection_has_no_native_async,
    ),
    Pin("_connection.transport", "ActionBase", "names a local connection 'local'", local_connection_transport),
    Pin("_connection._shell", "ActionBase", "gives the connection's shell plugin", connection_has_a_shell),
    Pin(
        "_connection._shell.tmpdir",
        "ActionBase",
        "is None until a tmp path is made, its path then, None again after _remove_tmp_path",
        tmpdir_made_then_removed,
    ),
    Pin(
        "_play_context",
        "ActionBase",
        "holds the play context it was built with",
        kept_by_action_base("_play_context", "play_context"),
    ),
    Pin("_play_context.become", "ActionBase", "says whether the task uses become", become_from_the_task),
    Pin("_play_context.remote_addr", "ActionBase", "gives the host's address", remote_addr_from_the_inventory),
    Pin("_templar", "ActionBase", "holds the templar it was built with", kept_by_action_base("_templar", "templar")),
    Pin(
        "_templar.template",
        "ActionBase",
        "renders a variable's template with the task's variables",
        templar_renders_the_switch_variable,
    ),
    Pin(
        "_execute_module",
        "ActionBase",
        "takes task_vars and wrap_async and runs the task's own module by default",
        execute_module_signature,
    ),
    Pin(
        "_remove_tmp_path",
        "ActionBase",
        "removes the tmp path _execute_module made and clears _shell.tmpdir",
        tmpdir_made_then_removed,
    ),
    Pin(
        "_compute_environment_string",
        "ActionBase",
        "fills a given dict with the task's templated environment",
        environment_into_a_dict,
    ),
    Pin("_supports_check_mode", "ActionBase", "decides in run() whether check mode is refused", check_mode_gate),
    Pin("_supports_async", "ActionBase", "decides in run() whether async is refused", async_gate),
    Pin(
        "_no_log_values",
        "ArgumentSpecValidator(...).validate() result",
        "holds the values of no_log options, fallbacks included",
        no_log_values_of_options_and_fallbacks,
    ),
    Pin(
        "_warnings",
        "ArgumentSpecValidator(...).validate() result",
        "lists an option set with its alias as {'option', 'alias'}",
        alias_warnings,
    ),
    Pin(
        "_deprecations",
        "ArgumentSpecValidator(...).validate() result",
        "lists deprecated aliases and options as {'msg', 'version' or 'date', 'collection_name'}",
        deprecation_records,
    ),
)


@pytest.mark.parametrize("pin", PINS, ids=[pin.path for pin in PINS])
def test_ansible_core_still_behaves_as_pinned(pin: Pin) -> None:
    try:
        pin.check()
    except Exception as error:  # whatever the change, the message must name the internal and its users
        users = ", ".join(
            internal_uses().get(pin.path, ["nothing (see test_the_pins_are_the_internals_the_code_uses)"])
        )
        pytest.fail(
            f"ansible-core {ansible_core_version}: {pin.owner} `{pin.path}` no longer {pin.reliance} "
            f"({type(error).__name__}: {error}). Used by {users}: adapt that code to this ansible-core and update "
            "the pin in tests/unit/plugins/plugin_utils/test_core_contract.py.",
            pytrace=False,
        )


def test_the_pins_are_the_internals_the_code_uses() -> None:
    uses = internal_uses()
    pinned = {pin.path for pin in PINS}
    unpinned = "; ".join(f"{path} at {', '.join(users)}" for path, users in sorted(uses.items()) if path not in pinned)
    assert not unpinned, (
        f"private ansible-core names used without a pin: {unpinned}. Pin each in PINS of "
        "tests/unit/plugins/plugin_utils/test_core_contract.py with the behaviour relied on, or use a public API."
    )
    unused = sorted(pinned - uses.keys())
    assert not unused, f"pinned but no longer used by plugins/plugin_utils/ or plugins/action/ (remove them): {unused}"


@cache
def internal_uses() -> dict[str, list[str]]:
    """Every private ansible-core name the scanned files use, with the lines that use it."""
    sources = {
        path.relative_to(COLLECTION_ROOT).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for directory in SCANNED_DIRECTORIES
        for path in sorted((COLLECTION_ROOT / directory).glob("*.py"))
    }
    overrides = {(file, use, line) for file, tree in sources.items() for use, line in ansible_overrides(file, tree)}
    overridden = {use for _file, use, _line in overrides}
    own = {name for tree in sources.values() for name in own_private_names(tree)} - overridden
    uses: dict[str, list[str]] = {}
    found = [(file, use, line) for file, tree in sources.items() for use, line in private_uses(tree, own)]
    for file, use, line in sorted(set(found) | overrides):
        uses.setdefault(use, []).append(f"{file}:{line}")
    return uses


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def attribute_names(node: ast.expr) -> list[str]:
    """``self._connection._shell`` → ``["self", "_connection", "_shell"]``."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
    return names[::-1]


def private_path(names: list[str], own: set[str]) -> str | None:
    """The path from the first private name that is not the collection's own, e.g. ``_shell.tmpdir``."""
    start = next((index for index, name in enumerate(names) if is_private(name) and name not in own), None)
    return None if start is None else ".".join(names[start:])


def private_uses(tree: ast.Module, own: set[str]) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield from ((name, node.lineno) for name in private_ansible_imports(node))
        elif isinstance(node, ast.Attribute | ast.Call) and (path := private_path(reached_names(node), own)):
            yield path, node.lineno


def reached_names(node: ast.Attribute | ast.Call) -> list[str]:
    """The names an attribute access or a ``getattr``-like call goes through."""
    if isinstance(node, ast.Attribute):
        return attribute_names(node)
    if (
        isinstance(node.func, ast.Name)
        and node.func.id in {"getattr", "hasattr", "setattr", "delattr"}
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        return [*attribute_names(node.args[0]), node.args[1].value]
    return []


def private_ansible_imports(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        imported = [alias.name for alias in node.names]
    else:
        module = node.module or ""
        imported = [module, *(f"{module}.{alias.name}" for alias in node.names)]
    return [name for name in imported if name.split(".")[0] == "ansible" and any(map(is_private, name.split(".")))]


def own_private_names(tree: ast.Module) -> Iterator[str]:
    """Private names the collection defines: functions, classes, variables, attributes it sets on ``self``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            yield node.attr


def ansible_overrides(file: str, tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Private names a class of the collection defines that an ansible-core base class already has: ansible-core's
    hooks (``_supports_check_mode``), not the collection's own names."""
    module = importlib.import_module(
        "ansible_collections.openshift_ops.images." + file.removesuffix(".py").replace("/", ".")
    )
    for class_node in (node for node in tree.body if isinstance(node, ast.ClassDef)):
        bases = [
            base for base in getattr(module, class_node.name).__mro__[1:] if base.__module__.startswith("ansible.")
        ]
        for statement in class_node.body:
            for name in defined_names(statement):
                if is_private(name) and any(name in vars(base) for base in bases):
                    yield name, statement.lineno


def defined_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return [statement.name]
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return [statement.target.id]
    if isinstance(statement, ast.Assign):
        return [target.id for target in statement.targets if isinstance(target, ast.Name)]
    return []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = self._connection._shell.tmpdir", {"_connection", "_connection._shell", "_connection._shell.tmpdir"}),
        ("getattr(self._play_context, '_hidden', None)", {"_play_context", "_play_context._hidden"}),
        (
            "from ansible.module_utils._internal import _messages",
            {"ansible.module_utils._internal", "ansible.module_utils._internal._messages"},
        ),
        ("import ansible._internal._json", {"ansible._internal._json"}),
        ("self._own_helper(validation.errors)", set()),
        ("def _own_helper(): pass\nself._own_helper()", set()),
    ],
)
def test_the_scan_finds_private_names(source: str, expected: set[str]) -> None:
    tree = ast.parse(source)
    own = set(own_private_names(tree)) | {"_own_helper"}
    assert {path for path, _line in private_uses(tree, own)} == expected
