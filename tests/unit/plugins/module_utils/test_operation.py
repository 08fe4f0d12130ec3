"""The operation boundary: run_operation runs a module's interface; run_module adapts AnsibleModule to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils import _operation
from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
    PartialChangeError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube import client as kube_client
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import (
    ModuleInterface,
    Outcome,
    RunContext,
    run_module,
)


class FakeModule:
    def __init__(self, params: Mapping[str, Any], *, check_mode: bool = False, diff: bool = False) -> None:
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.no_log_values: set[str] = set()
        self.calls: list[tuple[str, Any]] = []
        self.masked_with: list[set[str]] = []  # no_log_values when each warning was recorded

    def warn(self, warning: str) -> None:
        self.calls.append(("warn", warning))
        self.masked_with.append(set(self.no_log_values))

    def fail_json(self, msg: str, **kwargs: Any) -> None:
        self.calls.append(("fail_json", {"msg": msg, **kwargs}))

    def exit_json(self, **kwargs: Any) -> None:
        self.calls.append(("exit_json", kwargs))


def interface(request_from_params: Any, apply: Any) -> ModuleInterface[Any]:
    return ModuleInterface(name="fake", argument_spec={}, request_from_params=request_from_params, apply=apply)


class FakeClient:
    """What run_operation reads of a client: its configuration (the connection's warnings)."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FakeClient) and other.config == self.config

    __hash__ = None  # type: ignore[assignment]


A_CLIENT = FakeClient(ClusterConfig(server="https://api.example.com:6443"))
INSECURE_HOST = "https://insecure.example.com:6443"
INSECURE = FakeClient(ClusterConfig(server=INSECURE_HOST, verify_tls=False, warnings=("unverified",)))


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> list[ConnectionOptions]:
    """The connection options each client was made from; the client itself is a stand-in."""
    made: list[ConnectionOptions] = []

    def fake_client(options: ConnectionOptions, hide: Any) -> object:
        made.append(options)
        return INSECURE if options.host == INSECURE_HOST else A_CLIENT

    monkeypatch.setattr(kube_client, "client_for", fake_client)
    return made


def test_result_and_warnings_reach_the_module(clients: list[Any]) -> None:
    module = FakeModule({"name": "x"}, check_mode=True, diff=True)
    seen: list[Any] = []

    def apply(client: Any, request: dict[str, Any], run: RunContext) -> Outcome:
        seen.append((client, request, run.check_mode, run.want_diff))
        run.hide(["s3cret"])
        return Outcome({"changed": True, "name": request["name"]}, ["careful"])

    run_module(module, interface(dict, apply))
    assert seen == [(A_CLIENT, {"name": "x"}, True, True)]
    assert module.masked_with == [{"s3cret"}]
    assert module.calls == [("warn", "careful"), ("exit_json", {"changed": True, "name": "x"})]
    # exit_json masks with the secrets that occur in the result or the options only: none here
    assert module.no_log_values == set()


def test_exit_json_masks_with_every_secret_that_occurs(clients: list[Any]) -> None:
    module = FakeModule({"name": "x", "token": "tok-en-1"})

    def apply(client: Any, request: dict[str, Any], run: RunContext) -> Outcome:
        run.hide(["s3cret", "tok-en-1", "unused-secret"])
        return Outcome({"changed": True, "msg": "wrote s3cret"}, [])

    run_module(module, interface(dict, apply))
    assert module.no_log_values == {"s3cret", "tok-en-1"}


def test_a_bad_request_fails_before_any_client_is_made(clients: list[Any]) -> None:
    def refuse(params: Mapping[str, Any]) -> None:
        raise InvalidInputError("name: 'X' is not a valid secret name")

    module = FakeModule({})
    run_module(module, interface(refuse, lambda *_args: Outcome({})))
    assert module.calls == [("fail_json", {"msg": "name: 'X' is not a valid secret name"})]
    assert clients == []


def test_the_connection_options_are_parsed_once_before_the_client_is_made(clients: list[ConnectionOptions]) -> None:
    module = FakeModule({"name": "x", "host": "https://api.example.com:6443", "api_key": "t", "request_timeout": 5.0})
    run_module(module, interface(dict, lambda *_args: Outcome({"changed": False})))
    assert clients == [ConnectionOptions(host="https://api.example.com:6443", api_key="t", request_timeout=5.0)]


def test_bad_connection_options_fail_before_any_client_is_made(clients: list[ConnectionOptions]) -> None:
    module = FakeModule({"username": "dev"})
    run_module(module, interface(dict, lambda *_args: Outcome({})))
    assert module.calls == [
        ("fail_json", {"msg": "username and password must be given together (HTTP basic authentication)"})
    ]
    assert clients == []


def test_the_request_is_checked_before_the_connection_options(clients: list[ConnectionOptions]) -> None:
    def refuse(params: Mapping[str, Any]) -> None:
        raise InvalidInputError("name: 'X' is not a valid secret name")

    module = FakeModule({"username": "dev"})
    run_module(module, interface(refuse, lambda *_args: Outcome({})))
    assert module.calls == [("fail_json", {"msg": "name: 'X' is not a valid secret name"})]


def test_a_partial_change_reports_what_was_changed(clients: list[Any]) -> None:
    def apply(client: Any, request: Any, run: RunContext) -> Outcome:
        raise PartialChangeError("the secret was written, the rollout failed", result={"changed": True, "added": ["q"]})

    module = FakeModule({})
    run_module(module, interface(dict, apply))
    assert module.calls == [
        ("fail_json", {"msg": "the secret was written, the rollout failed", "changed": True, "added": ["q"]})
    ]


def test_the_default_context_writes_and_hides_nothing() -> None:
    run = RunContext()
    assert (run.check_mode, run.want_diff) == (False, False)
    run.hide(["ignored"])  # a sink that drops values: callers outside a module (tests, tools)
    assert list(_operation.Outcome({"changed": False}).warnings) == []


def test_spec_arguments_are_copies_in_the_shape_ansible_module_takes() -> None:
    spec: dict[str, dict[str, Any]] = {
        "state": {"type": "str", "choices": ["present", "absent"]},
        "source": {"type": "str"},
    }
    fake = ModuleInterface(
        name="fake",
        argument_spec=spec,
        request_from_params=dict,
        apply=lambda *_args: Outcome({}),
        required_if=(("state", "present", ("source",)),),
    )
    arguments = fake.spec_arguments()
    assert arguments == {"argument_spec": spec, "required_if": [["state", "present", ("source",)]]}
    arguments["argument_spec"]["state"]["choices"].append("gone")
    assert spec["state"]["choices"] == ["present", "absent"]
    bare = ModuleInterface(name="bare", argument_spec={}, request_from_params=dict, apply=fake.apply)
    assert bare.spec_arguments()["required_if"] is None


def test_the_connection_warnings_come_first_and_survive_a_failure(clients: list[Any]) -> None:
    module = FakeModule({"host": INSECURE_HOST})
    run_module(module, interface(dict, lambda *_args: Outcome({"changed": False}, ["from the core"])))
    assert module.calls == [("warn", "unverified"), ("warn", "from the core"), ("exit_json", {"changed": False})]

    def refuse(client: Any, request: Any, run: RunContext) -> Outcome:
        raise InvalidInputError("refused")

    failing = FakeModule({"host": INSECURE_HOST})
    run_module(failing, interface(dict, refuse))
    assert failing.calls == [("warn", "unverified"), ("fail_json", {"msg": "refused"})]
