"""A read or delete that may find nothing, against a loopback server: a 404 about the object itself answers None
without building an error (a shipped module with nothing to change imports no error explanations for it), and any
other 404 still fails as before."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import NotFoundError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import (
    Answer,
    RecordingRegistry,
)
from ansible_collections.openshift_ops.images.tests.unit.support.watch_server import JSON, status

PATH = "/api/v1/namespaces/project-a/secrets/pull"
OBJECT_MISSING = status(404, "NotFound", 'secrets "pull" not found')
# what a server that does not serve an API answers: no Status reason, or no Status at all
API_MISSING = [status(404, "", "the server could not find the requested resource"), (404, JSON, b"404 page")]


def answer_of(method: str, answer: Answer, *, allow_missing: bool) -> dict | None:
    with RecordingRegistry(lambda _seen: answer) as server:
        client = KubeClient(ClusterConfig(server=server.base, token="token"), sleep=lambda _delay: None)
        with client:
            if method == "GET":
                return client.get(PATH, allow_missing=allow_missing)
            return client.delete(PATH, allow_missing=allow_missing)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_missing_object_is_none_when_allowed(method: str) -> None:
    assert answer_of(method, OBJECT_MISSING, allow_missing=True) is None


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("answer", [OBJECT_MISSING, *API_MISSING])
def test_a_404_fails_when_not_allowed_or_not_about_the_object(method: str, answer: Answer) -> None:
    for allow_missing in (False, answer is not OBJECT_MISSING):
        with pytest.raises(NotFoundError) as raised:
            answer_of(method, answer, allow_missing=allow_missing)
        assert raised.value.status == 404
        assert f"{method} {PATH}" in str(raised.value)


def test_a_missing_object_builds_no_error() -> None:
    script = (
        "import json, sys\n"
        "from ansible_collections.openshift_ops.images.tests.unit.plugins.module_utils import "
        "test_kube_client_missing as missing\n"
        "answer = missing.answer_of('GET', missing.OBJECT_MISSING, allow_missing=True)\n"
        "print(json.dumps([answer, sorted(name for name in sys.modules if name.endswith('_kube.api_errors'))]))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(run.stdout) == [None, []]
