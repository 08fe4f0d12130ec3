"""``read_modify_write`` carrying out a plan the caller already made: not planned twice, planned again after a new
read; and ``image_tag``, which hands it the plan made when the stream was read. The loop against a real API server
(conflicts, create, check mode, lost writes) is tested in the integration suite."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ConflictError,
    UncertainWriteError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag import apply as image_tag_apply
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.plan import TagOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.request import ImageTagRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import image_stream_path
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.read_modify_write import read_modify_write
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import RunContext
from ansible_collections.openshift_ops.images.tests.unit.support.kube_fakes import UnexpectedRequests

PATH = "/api/v1/namespaces/p/configmaps/c"


def configmap(data: dict[str, str], version: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "p", "resourceVersion": version},
        "data": data,
    }


# What happens to the first PUT: the object stored instead of the body, and the error answered.
FirstPut = Callable[[dict[str, Any]], tuple[dict[str, Any], Exception]]


class OneObject(UnexpectedRequests):
    """One stored object at ``path`` behind the client methods its writers use; ``first_put`` scripts the answer to
    the first write, every later write is stored with the next resourceVersion."""

    default_namespace = "p"

    def __init__(self, stored: dict[str, Any], *, path: str = PATH, first_put: FirstPut | None = None) -> None:
        self.stored = copy.deepcopy(stored)
        self.path = path
        self.first_put = first_put
        self.requests: list[tuple[str, str | None]] = []

    def get(self, path: str, *, allow_missing: bool = False, query: Mapping[str, Any] | None = None) -> dict:
        assert path == self.path
        self.requests.append(("GET", None))
        return copy.deepcopy(self.stored)

    def replace(self, path: str, body: Mapping[str, Any]) -> dict:
        assert path == self.path
        self.requests.append(("PUT", body["metadata"]["resourceVersion"]))
        if self.first_put is not None:
            self.stored, error = self.first_put(copy.deepcopy(dict(body)))
            self.first_put = None
            raise error
        version = str(int(self.stored["metadata"]["resourceVersion"]) + 1)
        self.stored = copy.deepcopy(dict(body)) | {"metadata": {**body["metadata"], "resourceVersion": version}}
        return copy.deepcopy(self.stored)


class Decision(NamedTuple):
    """A plan that names the object to write, and which planning made it."""

    write: dict[str, Any] | None
    made_by: str


def set_a(read: dict[str, Any] | None) -> Decision:
    assert read is not None
    return Decision({**read, "data": {**read["data"], "a": "2"}}, "plan")


def never_planned(_read: dict[str, Any] | None) -> Decision:
    raise AssertionError("planned again from the object the plan given was made from")


def test_a_plan_already_made_is_written_without_planning_again() -> None:
    current = configmap({"a": "1"}, "5")
    client = OneObject(current)
    planned = Decision(configmap({"a": "2"}, "5"), "caller")
    outcome = read_modify_write(client, PATH, never_planned, current=current, planned=planned)
    assert client.requests == [("PUT", "5")]
    assert client.stored["data"] == {"a": "2"}
    assert outcome.plan is planned
    assert (outcome.before, outcome.changed, outcome.conflicts) == (current, True, 0)


def test_a_plan_already_made_that_writes_nothing_sends_nothing() -> None:
    current = configmap({"a": "1"}, "5")
    client = OneObject(current)
    planned = Decision(None, "caller")
    outcome = read_modify_write(client, PATH, never_planned, current=current, planned=planned)
    assert client.requests == []
    assert outcome.plan is planned
    assert not outcome.changed


def test_after_a_conflict_the_object_read_again_is_planned_from_its_own_copy() -> None:
    current = configmap({"a": "1"}, "5")
    theirs = configmap({"a": "1", "b": "theirs"}, "6")
    client = OneObject(current, first_put=lambda _body: (theirs, ConflictError("conflict", status=409)))
    read: list[dict[str, Any] | None] = []

    def plan(copy_read: dict[str, Any] | None) -> Decision:
        read.append(copy_read)
        return set_a(copy_read)

    outcome = read_modify_write(
        client, PATH, plan, current=current, planned=Decision(configmap({"a": "2"}, "5"), "caller")
    )
    assert client.requests == [("PUT", "5"), ("GET", None), ("PUT", "6")]
    assert read == [theirs]
    assert client.stored["data"] == {"a": "2", "b": "theirs"}
    assert outcome.plan is not None
    assert (outcome.plan.made_by, outcome.conflicts, outcome.before) == ("plan", 1, theirs)


def test_a_lost_write_of_a_plan_already_made_found_applied_reports_that_plan() -> None:
    current = configmap({"a": "1"}, "5")

    def applied_but_lost(body: dict[str, Any]) -> tuple[dict[str, Any], Exception]:
        return body | {"metadata": {**body["metadata"], "resourceVersion": "6"}}, UncertainWriteError(
            "PUT: the connection broke", method="PUT", path=PATH
        )

    client = OneObject(current, first_put=applied_but_lost)
    planned = Decision(configmap({"a": "2"}, "5"), "caller")
    outcome = read_modify_write(client, PATH, set_a, current=current, planned=planned)
    assert client.requests == [("PUT", "5"), ("GET", None)]
    assert outcome.plan is planned
    assert (outcome.before, outcome.changed) == (current, True)


def test_a_plan_already_made_needs_the_object_it_was_made_from() -> None:
    client = OneObject(configmap({"a": "1"}, "5"))
    with pytest.raises(ValueError, match="current must be given too"):
        read_modify_write(client, PATH, set_a, planned=Decision(None, "caller"))
    assert client.requests == []


# --- image_tag: the plan made when the stream was read is the one written ---------------------------------------------
STREAM_PATH = image_stream_path("p", "ruby")
RETAG = ImageTagRequest(
    dest=("ruby:a",), source="quay.io/org/tool:1.4", namespace="p", options=TagOptions(reference=True)
)


def image_stream(tags: list[dict[str, Any]], version: str) -> dict[str, Any]:
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "ruby", "namespace": "p", "resourceVersion": version},
        "spec": {"tags": tags},
    }


def docker_tag(name: str, image: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "from": {"kind": "DockerImage", "name": image}, **fields}


def retagged_a(**fields: Any) -> dict[str, Any]:
    """Tag ``a`` as ``RETAG`` writes it."""
    policies = {"reference": True, "referencePolicy": {"type": "Source"}, "importPolicy": {}}
    return docker_tag("a", "quay.io/org/tool:1.4", **policies, **fields)


@pytest.fixture
def stream_plans(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any] | None]:
    """The streams ``image_tag`` plans its tags in, one per plan made."""
    planned_from: list[dict[str, Any] | None] = []
    apply_tags = image_tag_apply.apply_tags

    def recorded(stream: dict[str, Any] | None, *args: Any, **kwargs: Any) -> Any:
        planned_from.append(copy.deepcopy(stream))
        return apply_tags(stream, *args, **kwargs)

    monkeypatch.setattr(image_tag_apply, "apply_tags", recorded)
    return planned_from


def test_image_tag_writes_the_plan_it_made_when_it_read_the_stream(stream_plans: list[Any]) -> None:
    stored = image_stream([docker_tag("a", "quay.io/org/tool:1.3", generation=2)], "5")
    client = OneObject(stored, path=STREAM_PATH)
    outcome = image_tag_apply.apply_image_tags(client, RETAG, RunContext())
    assert client.requests == [("GET", None), ("PUT", "5")]
    assert stream_plans == [stored]
    assert client.stored["spec"]["tags"] == [retagged_a(generation=2)]
    assert [tag["action"] for tag in outcome.result["tags"]] == ["updated"]


def test_image_tag_plans_again_from_a_stream_changed_since_it_was_read(stream_plans: list[Any]) -> None:
    stored = image_stream([docker_tag("a", "quay.io/org/tool:1.3", generation=2)], "5")
    theirs_a = docker_tag("a", "quay.io/org/tool:1.3", generation=2, annotations={"owner": "them"})
    theirs = image_stream([theirs_a, docker_tag("b", "quay.io/org/other:1")], "6")
    client = OneObject(
        stored, path=STREAM_PATH, first_put=lambda _body: (theirs, ConflictError("conflict", status=409))
    )
    outcome = image_tag_apply.apply_image_tags(client, RETAG, RunContext(want_diff=True))
    assert client.requests == [("GET", None), ("PUT", "5"), ("GET", None), ("PUT", "6")]
    assert stream_plans == [stored, theirs]
    assert client.stored["spec"]["tags"] == [
        retagged_a(annotations={"owner": "them"}, generation=2),
        docker_tag("b", "quay.io/org/other:1"),
    ]
    assert outcome.result["diff"]["before"] == {"p/ruby:a": theirs_a}
