"""A 403 that refused ``system:anonymous`` to a client that sent credentials: an aggregated API server just started
(openshift-apiserver's pods rolling) has not yet seen who sent the request, so nothing was authorized or written and
the request is sent again, writes included. A 403 naming the real user, or one sent without credentials, is final."""

from __future__ import annotations

import json

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ForbiddenError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient, refused_as_anonymous
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import Answer, RecordingRegistry, Seen
from ansible_collections.openshift_ops.images.tests.unit.support.watch_server import JSON, status

PATH = "/apis/image.openshift.io/v1/namespaces/p/imagestreams/web"
STREAM = {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": "web"}}
ANONYMOUS = status(
    403,
    "Forbidden",
    'imagestreams.image.openshift.io "web" is forbidden: User "system:anonymous" cannot update resource '
    '"imagestreams" in API group "image.openshift.io" in the namespace "p"',
)
DEVELOPER = status(
    403, "Forbidden", 'imagestreams.image.openshift.io "web" is forbidden: User "dev" cannot update resource'
)
STORED: Answer = (200, JSON, json.dumps(STREAM).encode())


def answers(*script: Answer) -> tuple[RecordingRegistry, list[str]]:
    methods: list[str] = []
    remaining = list(script)

    def route(seen: Seen) -> Answer:
        methods.append(seen.method)
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return RecordingRegistry(route), methods


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_an_anonymous_refusal_is_retried_until_the_server_sees_the_user(method: str) -> None:
    server, methods = answers(ANONYMOUS, ANONYMOUS, STORED)
    with server, KubeClient(ClusterConfig(server=server.base, token="token"), sleep=lambda _delay: None) as client:
        answer = client.get(PATH) if method == "GET" else client.replace(PATH, STREAM)
    assert answer == STREAM
    assert methods == [method] * 3


def test_an_anonymous_refusal_that_lasts_is_raised_after_the_attempts() -> None:
    server, methods = answers(ANONYMOUS)
    client = KubeClient(ClusterConfig(server=server.base, token="token"), sleep=lambda _delay: None)
    with server, client, pytest.raises(ForbiddenError, match="system:anonymous"):
        client.replace(PATH, STREAM)
    assert methods == ["PUT"] * 4


@pytest.mark.parametrize(
    ("answer", "token"),
    [(DEVELOPER, "token"), (ANONYMOUS, None)],
    ids=["the-user-refused", "no-credentials-sent"],
)
def test_other_refusals_are_final(answer: Answer, token: str | None) -> None:
    server, methods = answers(answer)
    client = KubeClient(ClusterConfig(server=server.base, token=token), sleep=lambda _delay: None)
    with server, client, pytest.raises(ForbiddenError):
        client.replace(PATH, STREAM)
    assert methods == ["PUT"]


def test_refused_as_anonymous_reads_the_status_message() -> None:
    anonymous, developer = ANONYMOUS[2], DEVELOPER[2]
    assert isinstance(anonymous, bytes)
    assert isinstance(developer, bytes)
    assert refused_as_anonymous(anonymous)
    assert not refused_as_anonymous(developer)
    assert not refused_as_anonymous(b'User "system:anonymous" cannot get')  # not a Status
