# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A runbook with each of our tasks replaced: the same playbook, and the roles and task files of this repository
it uses, copied into a scratch directory with every task whose action is one of our modules
(``openshift_ops.images.<module>``) replaced by what a ``Replace`` gives: an ``ansible.builtin.debug`` twin for
Ansible's own floor, or a peer's tasks (kubernetes.core). Everything else stays as it is.

A replaced task's ``register`` is renamed (``<name>_replaced``), and the original name becomes a play variable
holding what the module documents it returns (the samples of its RETURN, ``changed: false``; under a loop, one
such result per item in ``results``): later tasks that template fields of the result get what they need."""

from __future__ import annotations

import ast
import copy
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

OURS = "openshift_ops.images."
ROLE_ACTIONS = frozenset({"import_role", "include_role", "ansible.builtin.import_role", "ansible.builtin.include_role"})
TASK_FILE_ACTIONS = frozenset(
    {"import_tasks", "include_tasks", "ansible.builtin.import_tasks", "ansible.builtin.include_tasks"}
)
TASK_LISTS = ("pre_tasks", "tasks", "post_tasks", "handlers")
BLOCK_LISTS = ("block", "rescue", "always")

GROUP = "group/openshift_ops.images.openshift"

# (module, the task without its action, register renamed, the module's arguments) -> the tasks in its place
Replace = Callable[[str, dict[str, Any], dict[str, Any]], list[dict[str, Any]]]


def debug_twin(module: str, task: dict[str, Any], _arguments: dict[str, Any]) -> list[dict[str, Any]]:
    """The floor: an ``ansible.builtin.debug`` task with the same name, loop, when, register, vars."""
    return [task | {"ansible.builtin.debug": {"msg": f"in place of {OURS}{module}"}}]


def arguments_twin(module_defaults: dict[str, Any]) -> Replace:
    """The floor with the task's own arguments: a ``debug`` twin whose message is what our module would be given
    (the play's ``module_defaults`` for it, then the task's arguments), so that Ansible templates the same
    expressions for it as for our task. ``no_log``: the arguments hold the registry password."""

    def twin(module: str, task: dict[str, Any], arguments: dict[str, Any]) -> list[dict[str, Any]]:
        given = {**module_defaults.get(GROUP, {}), **module_defaults.get(f"{OURS}{module}", {}), **arguments}
        return [task | {"ansible.builtin.debug": {"msg": given}, "no_log": True}]

    return twin


def play_module_defaults(playbook: Path) -> dict[str, Any]:
    """The ``module_defaults`` of the playbook's plays, merged (the fleet runbook has one play)."""
    merged: dict[str, Any] = {}
    for play in _load(playbook) or []:
        for key, values in (play.get("module_defaults") or {}).items():
            merged[key] = {**merged.get(key, {}), **values}
    return merged


def our_module(task: dict[str, Any]) -> str | None:
    """The module of ours a task runs (``pull_secret``), or None."""
    for key in task:
        if key.startswith(OURS):
            return key[len(OURS) :]
    return None


@dataclass
class Found:
    """What a transformation met: our roles and the task files it refers to, and the registers it took over
    (register name -> (module, the task's loop or None))."""

    roles: set[str] = field(default_factory=set)
    task_files: set[str] = field(default_factory=set)
    registers: dict[str, tuple[str, Any]] = field(default_factory=dict)


def replace_tasks(tasks: list[dict[str, Any]], replace: Replace, found: Found) -> list[dict[str, Any]]:
    """``tasks`` with our tasks replaced, blocks walked, our roles renamed to their copies' local names."""
    result: list[dict[str, Any]] = []
    for original in tasks:
        task = copy.deepcopy(original)
        for key in BLOCK_LISTS:
            if key in task:
                task[key] = replace_tasks(task[key], replace, found)
        module = our_module(task)
        if module is not None:
            arguments = task.pop(f"{OURS}{module}") or {}
            register = task.pop("register", None)
            if register:
                found.registers[register] = (module, task.get("loop"))
                task["register"] = f"{register}_replaced"
            result.extend(replace(module, task, arguments))
            continue
        for key in ROLE_ACTIONS & task.keys():
            role = task[key]["name"]
            if role.startswith(OURS):
                found.roles.add(role[len(OURS) :])
                task[key] = task[key] | {"name": role[len(OURS) :]}
        for key in TASK_FILE_ACTIONS & task.keys():
            target = task[key] if isinstance(task[key], str) else task[key].get("file", "")
            if "{{" not in target:
                found.task_files.add(target)
        result.append(task)
    return result


def documented_return(module_source: str) -> dict[str, Any]:
    """The module's result as its RETURN documents it: each key with its sample."""
    for node in ast.parse(module_source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "RETURN" for t in node.targets):
            documented = yaml.safe_load(ast.literal_eval(node.value)) or {}
            return {key: spec.get("sample") for key, spec in documented.items()}
    return {}


def stand_ins(register: str, result: dict[str, Any], loop: Any) -> dict[str, Any]:
    """Play variables that stand in for ``register``: a registered result of ``result``'s shape, unchanged; under a
    loop, one per item of the loop (the result itself then in ``<register>_sample``)."""
    single = result | {"changed": False, "failed": False}
    if loop is None:
        return {register: single}
    if isinstance(loop, list):
        return {register: {"changed": False, "results": [single] * len(loop)}}
    expression = str(loop).strip().removeprefix("{{").removesuffix("}}").strip()
    sample = f"{register}_sample"
    return {
        sample: single,
        register: f"{{{{ {{'changed': false, 'results': [{sample}] * (({expression}) | length)}} }}}}",
    }


def replace_in_playbook(plays: list[dict[str, Any]], replace: Replace, found: Found) -> list[dict[str, Any]]:
    """The plays with our tasks replaced (:func:`replace_tasks`) and our roles renamed."""
    result = []
    for original in plays:
        play = copy.deepcopy(original)
        for key in TASK_LISTS:
            if key in play:
                play[key] = replace_tasks(play[key], replace, found)
        roles = []
        for entry in play.get("roles", []):
            name = entry if isinstance(entry, str) else entry.get("role", entry.get("name", ""))
            if not name.startswith(OURS):
                roles.append(entry)
                continue
            local = name[len(OURS) :]
            found.roles.add(local)
            roles.append(local if isinstance(entry, str) else entry | {"role" if "role" in entry else "name": local})
        if roles:
            play["roles"] = roles
        result.append(play)
    return result


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dump(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=120), encoding="utf-8")


def write_replaced(
    playbook: Path, out_dir: Path, replace: Replace, *, roles_dir: Path, modules_dir: Path
) -> tuple[Path, Found]:
    """The playbook in ``out_dir`` with our tasks replaced, with its task files and copies of our roles in
    ``out_dir/roles`` treated alike; the registers taken over become play variables of every play."""
    found = Found()

    def returns(module: str) -> dict[str, Any]:
        return documented_return((modules_dir / f"{module}.py").read_text(encoding="utf-8"))

    plays = replace_in_playbook(_load(playbook), replace, found)
    done: set[str] = set()
    while found.task_files - done:  # task files may import others (relative to the playbook's directory)
        name = sorted(found.task_files - done)[0]
        done.add(name)
        _dump(out_dir / name, replace_tasks(_load(playbook.parent / name) or [], replace, found))
    copied: set[str] = set()
    while found.roles - copied:  # a role's tasks may use other roles of ours
        role = sorted(found.roles - copied)[0]
        copied.add(role)
        target = out_dir / "roles" / role
        shutil.copytree(roles_dir / role, target)
        for directory in ("tasks", "handlers"):
            for path in sorted((target / directory).glob("*.yml")):
                _dump(path, replace_tasks(_load(path) or [], replace, found))
    defined: dict[str, Any] = {}
    for register, (module, loop) in found.registers.items():
        defined |= stand_ins(register, returns(module), loop)
    for play in plays:
        if "hosts" in play:
            play["vars"] = {**play.get("vars", {}), **defined}
    path = out_dir / playbook.name
    _dump(path, plays)
    return path, found
