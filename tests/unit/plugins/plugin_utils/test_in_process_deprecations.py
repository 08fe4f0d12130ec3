"""A deprecated option or alias is reported by the in-process path with the ``deprecations`` a shipped module
reports, on every supported ansible-core (``make test-core-contract`` runs this file on 2.17, 2.18 and 2.19).

What a shipped module reports: ``AnsibleModule`` validates its options with ``ModuleArgumentSpecValidator``, which
records each deprecation with ``common.warnings.deprecate``, and puts them in its result as
``get_deprecation_messages()`` gives them (2.17, 2.18; 2.19 carries the same records as objects, which the controller
exposes in this form). ``test_in_process.py`` compares whole results with a real ``AnsibleModule`` on 2.19.

Every deprecation here names its collection, as sanity's validate-modules requires of a collection's options.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube import client as kube_client
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import (
    ModuleInterface,
    Outcome,
    RunContext,
)
from ansible_collections.openshift_ops.images.plugins.plugin_utils._in_process import run_in_process

COLLECTION = "openshift_ops.images"
PASSWORD = "hunter2-registry"


def request_from_params(params: Mapping[str, Any]) -> dict[str, Any]:
    if params["name"] == "Bad_Name":
        raise InvalidInputError("name: 'Bad_Name' is not a valid name")
    return dict(params)


def apply(client: Any, request: dict[str, Any], run: RunContext) -> Outcome:
    return Outcome({"changed": False, "name": request["name"]})


DEPRECATING = ModuleInterface(
    name="deprecating",
    argument_spec={
        "name": {
            "type": "str",
            "required": True,
            "aliases": ["title"],
            "deprecated_aliases": [{"name": "title", "version": "3.0.0", "collection_name": COLLECTION}],
        },
        "label": {"type": "str", "removed_in_version": "3.0.0", "removed_from_collection": COLLECTION},
        "expires": {"type": "str", "removed_at_date": "2027-06-01", "removed_from_collection": COLLECTION},
        "settings": {
            "type": "dict",
            "options": {
                "mode": {"type": "str", "removed_in_version": "4.0.0", "removed_from_collection": COLLECTION},
                "level": {
                    "type": "int",
                    "aliases": ["lvl"],
                    "deprecated_aliases": [{"name": "lvl", "date": "2027-01-01", "collection_name": COLLECTION}],
                },
            },
        },
        "password": {"type": "str", "no_log": True},
    },
    request_from_params=request_from_params,
    apply=apply,
)

# arguments, and how many deprecations they bring
CASES: dict[str, tuple[dict[str, Any], int]] = {
    "deprecated alias": ({"title": "x"}, 1),
    "removed in a version": ({"name": "x", "label": "l", "password": PASSWORD}, 1),
    "removed at a date": ({"name": "x", "expires": "e"}, 1),
    "suboption and its deprecated alias": ({"name": "x", "settings": {"mode": "m", "lvl": 3}}, 2),
    "all of them, and a failed validation": ({"title": "x", "label": "l", "expires": "e", "colour": "blue"}, 3),
    "all of them, and a failed request": ({"title": "Bad_Name", "label": "l"}, 2),
    "nothing deprecated": ({"name": "x", "settings": {"level": 1}}, 0),
}


@pytest.fixture(autouse=True)
def fresh_module_state(monkeypatch: pytest.MonkeyPatch) -> None:
    # AnsibleModule keeps deprecations in a process-wide store; a shipped module starts with an empty one.
    monkeypatch.setattr(module_warnings, "_global_deprecations", type(module_warnings._global_deprecations)())
    # ansible-core 2.19 sends them to the controller's display once controller code is imported; a module never is.
    internal = sys.modules.get("ansible.module_utils._internal")
    if hasattr(internal, "is_controller"):
        monkeypatch.setattr(internal, "is_controller", False)

    def stand_in(options: object, hide: Any) -> object:
        return SimpleNamespace(config=ClusterConfig(server="https://api.example.com:6443"))

    monkeypatch.setattr(kube_client, "client_for", stand_in)  # the shipped path
    monkeypatch.setattr(kube_client, "kept_client_for", stand_in)  # the in-process path


def shipped_module_deprecations(args: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``deprecations`` of a shipped module's result for ``args``."""
    ModuleArgumentSpecValidator(**DEPRECATING.spec_arguments()).validate(args)
    return list(module_warnings.get_deprecation_messages())


@pytest.mark.parametrize("case", sorted(CASES))
def test_deprecations_are_reported_as_the_shipped_module_reports_them(case: str) -> None:
    args, count = CASES[case]
    expected = shipped_module_deprecations(args)
    assert len(expected) == count
    result = run_in_process(DEPRECATING, "deprecating", args, check_mode=False, diff=False, environment={})
    assert result.get("deprecations", []) == expected
    assert ("deprecations" in result) == bool(count)  # no empty list, as AnsibleModule leaves the key out


def test_deprecations_say_what_and_until_when() -> None:
    args, _count = CASES["all of them, and a failed validation"]
    result = run_in_process(DEPRECATING, "deprecating", args, check_mode=False, diff=False, environment={})
    assert result["failed"] is True
    assert result["deprecations"] == [
        {
            "msg": "Alias 'title' is deprecated. See the module docs for more information",
            "version": "3.0.0",
            "collection_name": COLLECTION,
        },
        {
            "msg": "Param 'label' is deprecated. See the module docs for more information",
            "version": "3.0.0",
            "collection_name": COLLECTION,
        },
        {
            "msg": "Param 'expires' is deprecated. See the module docs for more information",
            "date": "2027-06-01",
            "collection_name": COLLECTION,
        },
    ]
