"""The in-process path returns what the shipped module returns: the same core run through a real AnsibleModule
(its arguments patched in, its JSON read from stdout) and through run_in_process, compared result for result.

No server: the client is a stand-in, the interface a small one whose core echoes, warns, hides and fails."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from contextlib import redirect_stdout
from types import SimpleNamespace
from typing import Any

import pytest
from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.common.parameters import env_fallback
from ansible.module_utils.testing import patch_module_args

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError, PartialChangeError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube import client as kube_client
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import (
    ModuleInterface,
    Outcome,
    RunContext,
    run_module,
)
from ansible_collections.openshift_ops.images.plugins.plugin_utils._in_process import (
    plain_data,
    run_in_process,
    task_environment,
)

TOKEN = "sha256~not-for-anyone"
PASSWORD = "hunter2-registry"


def request_from_params(params: Mapping[str, Any]) -> dict[str, Any]:
    if params["name"] == "Bad_Name":
        raise InvalidInputError(f"name: {params['name']!r} is not a valid name; use lower case letters and '-'")
    return dict(params)


def apply(client: Any, request: dict[str, Any], run: RunContext) -> Outcome:
    run.hide([TOKEN])
    if request["name"] == "partial":
        raise PartialChangeError(
            f"the secret was written but the rollout failed (token {TOKEN})", result={"changed": True, "added": ["q"]}
        )
    if request["name"] == "crash":
        raise KeyError(f"unexpected {PASSWORD}")
    return Outcome(
        {
            "changed": not run.check_mode,
            "name": request["name"],
            "echo": f"Bearer {TOKEN}",
            "registry_password_seen": request.get("registry_password"),
            "nested": [{"value": PASSWORD}, ("tuple", 1)],
            "empty": None,
            "diff": {"before": "a", "after": "b"} if run.want_diff else None,
            "env": os.environ.get("FAKE_MODULE_ENV"),
        },
        [f"careful with {TOKEN}", "plain warning"],
    )


FAKE = ModuleInterface(
    name="fake",
    argument_spec={
        "name": {"type": "str", "required": True},
        "registry_password": {"type": "str", "no_log": True},
        "validate_certs": {"type": "bool", "aliases": ["verify_ssl"]},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "source": {"type": "str"},
        "count": {"type": "int", "default": 1},
        "from_env": {"type": "str", "fallback": (env_fallback, ["FAKE_MODULE_FALLBACK"])},
        "label": {
            "type": "str",
            "aliases": ["tag"],
            "deprecated_aliases": [{"name": "tag", "version": "3.0.0", "collection_name": "openshift_ops.images"}],
            "removed_in_version": "3.0.0",
            "removed_from_collection": "openshift_ops.images",
        },
    },
    request_from_params=request_from_params,
    apply=apply,
    required_if=(("state", "present", ("source",)),),
)


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    # AnsibleModule keeps warnings and deprecations in process-wide stores; a shipped module gets a fresh process.
    monkeypatch.setattr(module_warnings, "_global_warnings", {})
    monkeypatch.setattr(module_warnings, "_global_deprecations", {})
    # ...and sends them to the display instead once controller code was imported (other tests do).
    monkeypatch.setattr(module_utils_internal, "is_controller", False)

    def stand_in(options: ConnectionOptions, hide: Any) -> object:
        return SimpleNamespace(config=ClusterConfig(server="https://api.example.com:6443"))

    monkeypatch.setattr(kube_client, "client_for", stand_in)  # the shipped path
    monkeypatch.setattr(kube_client, "kept_client_for", stand_in)  # the in-process path


def shipped(args: dict[str, Any], *, check: bool = False, diff: bool = False) -> dict[str, Any]:
    """The module path: a real AnsibleModule over the same interface, as the module files build it."""
    internal = {"_ansible_check_mode": check, "_ansible_diff": diff, "_ansible_module_name": "fake"}
    out = io.StringIO()
    with patch_module_args({**args, **internal}), redirect_stdout(out), pytest.raises(SystemExit):
        run_module(AnsibleModule(**FAKE.spec_arguments(), supports_check_mode=True), FAKE)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    result.pop("exception", None)  # a traceback of the test itself, only with tracebacks enabled
    if "warnings" in result:
        # ansible-core 2.19 sends warnings as events that the controller turns back into their messages
        result["warnings"] = [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]]
    if "deprecations" in result:
        # ...and deprecations as events too, which it shows to playbooks as message, removal and collection
        result["deprecations"] = [as_playbooks_see_it(deprecation) for deprecation in result["deprecations"]]
    return result


def as_playbooks_see_it(deprecation: dict[str, Any]) -> dict[str, Any]:
    removal = {"date": deprecation["date"]} if "date" in deprecation else {"version": deprecation.get("version")}
    return {
        "msg": deprecation["event"]["msg"],
        **removal,
        "collection_name": deprecation["deprecator"]["resolved_name"],
    }


def in_process(args: dict[str, Any], *, check: bool = False, diff: bool = False, env: Any = None) -> dict[str, Any]:
    return run_in_process(FAKE, "fake", args, check_mode=check, diff=diff, environment=env or {})


CASES: dict[str, dict[str, Any]] = {
    "success": {"name": "ok", "source": "s", "registry_password": PASSWORD},
    "alias warning": {"name": "ok", "source": "s", "validate_certs": True, "verify_ssl": False},
    "deprecated option by its deprecated alias": {"name": "ok", "source": "s", "tag": "old", "password": PASSWORD},
    "missing required": {"source": "s"},
    "unsupported option": {"name": "ok", "source": "s", "colour": "blue"},
    "wrong type": {"name": "ok", "source": "s", "count": "many", "registry_password": PASSWORD},
    "bad choice": {"name": "ok", "source": "s", "state": "gone"},
    "required_if": {"name": "ok"},
    "invalid input": {"name": "Bad_Name", "source": "s", "registry_password": PASSWORD},
    "partial change": {"name": "partial", "source": "s"},
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("check", "diff"), [(False, False), (True, True)])
def test_both_paths_return_the_same_result(case: str, check: bool, diff: bool) -> None:
    args = CASES[case]
    expected = shipped(args, check=check, diff=diff)
    assert in_process(args, check=check, diff=diff) == expected
    assert TOKEN not in json.dumps(expected)
    if "registry_password" in args:
        assert PASSWORD not in json.dumps(expected)


def test_what_the_shipped_module_returns_is_what_the_comparison_relies_on() -> None:
    result = shipped(CASES["success"], diff=True)
    assert result["changed"] is True
    assert result["echo"] == "Bearer ********"
    assert result["nested"] == [{"value": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}, ["tuple", 1]]
    assert result["invocation"]["module_args"]["registry_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result["diff"] == {"before": "a", "after": "b"}
    assert result["warnings"] == ["careful with ********", "plain warning"]
    failed = shipped(CASES["unsupported option"])
    assert failed["failed"] is True
    assert failed["msg"].startswith("Unsupported parameters for (fake) module: colour.")


def test_an_unexpected_error_is_a_masked_failure_not_a_crash() -> None:
    result = in_process({"name": "crash", "source": "s", "registry_password": PASSWORD})
    assert result["failed"] is True
    assert result["msg"].startswith("fake failed in the controller's process: KeyError:")
    assert "Traceback" in result["exception"]
    assert PASSWORD not in json.dumps(result) and TOKEN not in json.dumps(result)


def test_the_task_environment_is_seen_by_fallbacks_and_the_core_then_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAKE_MODULE_FALLBACK", raising=False)
    monkeypatch.setenv("FAKE_MODULE_ENV", "before")
    result = in_process(
        {"name": "ok", "source": "s"}, env={"FAKE_MODULE_FALLBACK": "from-task", "FAKE_MODULE_ENV": "task"}
    )
    assert result["invocation"]["module_args"]["from_env"] == "from-task"
    assert result["env"] == "task"
    assert os.environ["FAKE_MODULE_ENV"] == "before"
    assert "FAKE_MODULE_FALLBACK" not in os.environ


def test_task_environment_restores_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAKE_MODULE_ENV", raising=False)
    with pytest.raises(RuntimeError), task_environment({"FAKE_MODULE_ENV": 1}):
        assert os.environ["FAKE_MODULE_ENV"] == "1"
        raise RuntimeError
    assert "FAKE_MODULE_ENV" not in os.environ


class TemplatedText(str):
    """Like the string types templating hands over (tagged or unsafe text)."""


def test_arguments_become_plain_json_data() -> None:
    given = {"a": TemplatedText("x"), "b": (1, 2.5, True, None), "c": {TemplatedText("k"): {"v"}}}
    plain = plain_data(given)
    assert plain == {"a": "x", "b": [1, 2.5, True, None], "c": {"k": ["v"]}}
    assert not isinstance(plain["a"], TemplatedText)
