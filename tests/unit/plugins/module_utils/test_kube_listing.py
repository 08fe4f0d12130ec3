"""``list_all``: pages followed by their continue token, an expired token answered by one whole list, and the items
given the kind and apiVersion their list leaves out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ForbiddenError, KubeApiError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.listing import list_all
from ansible_collections.openshift_ops.images.tests.unit.support.kube_fakes import UnexpectedRequests

PATH = "/apis/image.openshift.io/v1/namespaces/p/imagestreams"


def page(names: list[str], *, version: str = "7", token: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": version}
    if token:
        metadata["continue"] = token
    items = [{"metadata": {"name": name}} for name in names]
    return {"kind": "ImageStreamList", "apiVersion": "image.openshift.io/v1", "metadata": metadata, "items": items}


class Pages(UnexpectedRequests):
    """Answers each GET with the next of ``answers`` (an exception is raised), recording the queries."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self.answers = list(answers)
        self.queries: list[dict[str, Any] | None] = []

    def get(self, path: str, *, allow_missing: bool = False, query: Mapping[str, Any] | None = None) -> dict | None:
        assert path == PATH
        self.queries.append(dict(query) if query is not None else None)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_pages_are_followed_and_items_given_their_kind() -> None:
    client = Pages(page(["a", "b"], token="t1"), page(["c"], version="9"))
    items, version = list_all(client, PATH, page_size=2)
    assert [item["metadata"]["name"] for item in items] == ["a", "b", "c"]
    assert {(item["kind"], item["apiVersion"]) for item in items} == {("ImageStream", "image.openshift.io/v1")}
    assert version == "9"
    assert client.queries == [{"limit": 2}, {"limit": 2, "continue": "t1"}]


def test_an_expired_continue_token_gets_the_whole_list_in_one_answer() -> None:
    gone = KubeApiError("the continue token expired", status=410)
    client = Pages(page(["a"], token="t1"), gone, page(["a", "b", "c"], version="12"))
    items, version = list_all(client, PATH, page_size=1)
    assert [item["metadata"]["name"] for item in items] == ["a", "b", "c"]  # the first page's item not twice
    assert version == "12"
    assert client.queries == [{"limit": 1}, {"limit": 1, "continue": "t1"}, None]


@pytest.mark.parametrize("error", [KubeApiError("gone", status=410), ForbiddenError("no", status=403)])
def test_a_first_page_refused_is_raised(error: KubeApiError) -> None:
    with pytest.raises(type(error)):
        list_all(Pages(error), PATH)
