"""Pure parts of the ``image_tag`` module: its options, their documentation, and reading them into a request."""

from __future__ import annotations

import re

import pytest
import yaml

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.apply import parse_dests
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.interface import IMAGE_TAG_ARGS
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.plan import TagOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.request import ImageTagRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import StreamTag
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import image_stream_path
from ansible_collections.openshift_ops.images.plugins.modules import image_tag


def _defaults() -> dict[str, object]:
    return {name: spec.get("default") for name, spec in IMAGE_TAG_ARGS.items()}


def test_documented_options_match_the_argument_spec() -> None:
    documented = yaml.safe_load(image_tag.DOCUMENTATION)["options"]
    assert set(documented) == set(IMAGE_TAG_ARGS)
    for name, spec in IMAGE_TAG_ARGS.items():
        assert documented[name]["type"] == spec["type"], name
        assert documented[name].get("default") == spec.get("default"), name
        assert documented[name].get("choices") == spec.get("choices"), name
    assert not set(IMAGE_TAG_ARGS) & set(connection_argument_spec())


def test_examples_and_return_are_yaml() -> None:
    assert yaml.safe_load(image_tag.EXAMPLES)
    assert set(yaml.safe_load(image_tag.RETURN)) == {"tags", "diff"}


def test_request_from_defaults() -> None:
    request = ImageTagRequest.from_params(_defaults() | {"source": "ruby:2.0", "dest": ["ruby:x"]})
    assert request == ImageTagRequest(dest=("ruby:x",), source="ruby:2.0", options=TagOptions())


def test_request_from_every_option() -> None:
    params = _defaults() | {
        "source": "quay.io/a/b:1",
        "source_type": "docker",
        "dest": "b:1",
        "namespace": "p",
        "alias": False,
        "scheduled": True,
        "insecure": True,
        "reference": True,
        "reference_policy": "local",
        "import_mode": "PreserveOriginal",
        "reimport": False,
        "state": "present",
    }
    assert ImageTagRequest.from_params(params) == ImageTagRequest(
        dest=("b:1",),
        source="quay.io/a/b:1",
        source_type="docker",
        namespace="p",
        options=TagOptions(
            scheduled=True, insecure=True, reference=True, reference_policy="local", import_mode="PreserveOriginal"
        ),
    )


def test_parse_dests_keeps_order_and_namespaces() -> None:
    assert parse_dests(["ruby:a", "project-b/ruby:b", "other:"], current_namespace="p", deleting=False) == [
        StreamTag("p", "ruby", "a"),
        StreamTag("project-b", "ruby", "b"),
        StreamTag("p", "other", "latest"),
    ]


@pytest.mark.parametrize(
    ("values", "deleting", "message"),
    [
        ([], False, "dest is required"),
        (["ruby:a", "p/ruby:a"], False, 'dest names p/ruby:a twice (as "p/ruby:a")'),
        (["ruby:a", "ruby:b", "other:a", "p/ruby:a"], False, 'dest names p/ruby:a twice (as "p/ruby:a")'),
        (["a/b/c:d"], False, 'invalid dest "a/b/c:d": invalid image stream "a/b/c:d"'),
        (["ruby"], True, 'invalid dest "ruby": "ruby" must be of the form <stream_name>:<tag>'),
        (["ruby:-x"], False, 'invalid dest "ruby:-x": invalid tag "-x" format'),
    ],
)
def test_parse_dests_rejects(values: list[str], deleting: bool, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        parse_dests(values, current_namespace="p", deleting=deleting)


def test_deleting_accepts_odd_tag_names() -> None:
    assert parse_dests(["ruby:-x"], current_namespace="p", deleting=True) == [StreamTag("p", "ruby", "-x")]


def test_paths() -> None:
    assert image_stream_path("p") == "/apis/image.openshift.io/v1/namespaces/p/imagestreams"
    assert image_stream_path("p", "s") == "/apis/image.openshift.io/v1/namespaces/p/imagestreams/s"
