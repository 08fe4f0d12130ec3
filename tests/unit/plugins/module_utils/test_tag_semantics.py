"""The wanted TagReference, the §1.4 restrictions, comparison with the current tag, and edits of an ImageStream."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ClusterStateError, InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.plan import (
    DesiredTag,
    ResolvedSource,
    TagAction,
    TagChange,
    TagOptions,
    apply_tags,
    describe_change,
    desired_tag,
    find_spec_tag,
    latest_tag_event,
    needs_stream_lookup,
    new_image_stream,
    plan_removal,
    reconcile_tag,
    resolve_from_stream,
    resolve_without_lookup,
    same_tag,
    source_namespace,
    tag_diff,
    validate_tag_request,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import (
    SourceKind,
    StreamTag,
    TagSource,
    parse_source,
)

DIGEST = "sha256:" + "a" * 64
OTHER_DIGEST = "sha256:" + "b" * 64
NS = "project-a"


def dest(value: str = "ruby:static-2.0", namespace: str = NS) -> StreamTag:
    stream_and_ns, _colon, tag = value.rpartition(":")
    if "/" in stream_and_ns:
        namespace, stream = stream_and_ns.split("/")
    else:
        stream = stream_and_ns
    return StreamTag(namespace, stream, tag)


def source(value: str, source_type: str = "auto") -> TagSource:
    return parse_source(value, source_type=source_type, current_namespace=NS)


def stream(tags: list[dict[str, Any]] | None = None, status: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "ruby", "namespace": NS, "resourceVersion": "7"},
        "spec": {"lookupPolicy": {"local": False}, "tags": tags or []},
    }
    if status is not None:
        body["status"] = {"dockerImageRepository": "", "tags": status}
    return body


def event(image: str = DIGEST, reference: str = "registry.example/ns/ruby@" + DIGEST) -> dict[str, Any]:
    return {"created": "2026-01-01T00:00:00Z", "dockerImageReference": reference, "image": image, "generation": 2}


# --- §1.4 restrictions ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "src", "dests", "message"),
    [
        (TagOptions(reference_policy="Local"), "quay.io/a/b:1", ["x:1"], "reference policy must be set to 'source'"),
        (TagOptions(import_mode="legacy"), "quay.io/a/b:1", ["x:1"], "valid ImportMode values are Legacy or"),
        (TagOptions(scheduled=True), "ruby:2.0", ["x:1"], "only container images can have importing flags set"),
        (TagOptions(insecure=True), f"ruby@{DIGEST}", ["x:1"], "only container images can have importing flags"),
        (TagOptions(scheduled=True, alias=True), "ruby:2.0", ["ruby:x"], "only container images can have"),
        (TagOptions(alias=True, insecure=True), "quay.io/a/b:1", ["b:x"], "alias: true makes a tag track"),
        (TagOptions(alias=True), f"ruby@{DIGEST}", ["ruby:x"], "source must be an image stream tag"),
        (TagOptions(alias=True), "mysql", ["mysql:x"], "source must be an image stream tag"),
        (TagOptions(alias=True), "ruby:2.0", ["other:x"], "cannot set alias across different image streams"),
        (TagOptions(alias=True), "ruby:2.0", ["project-b/ruby:x"], "cannot set alias across different image"),
        # unlike oc, the source namespace is compared too: project-b/ruby never tracks project-a/ruby
        (TagOptions(alias=True), "project-b/ruby:2.0", ["ruby:x"], "use a permanent tag (alias: false)"),
        (TagOptions(alias=True), "ruby:2.0", ["ruby:x", "ruby2:y"], "cannot set alias across different image"),
        (TagOptions(alias=True), "ruby:2.0", ["ruby:2.0"], "as an alias of itself"),
        (TagOptions(reimport=True), "ruby:2.0", ["x:1"], "reimport: true asks OpenShift to import the image again"),
        (TagOptions(reimport=True, reference=True), "quay.io/a/b:1", ["x:1"], "with reference: true"),
    ],
)
def test_refused_combinations(options: TagOptions, src: str, dests: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        validate_tag_request(options, source(src), [dest(d) for d in dests], current_namespace=NS)


@pytest.mark.parametrize(
    ("options", "src", "dests"),
    [
        (TagOptions(), "ruby:2.0", ["ruby:static-2.0", "project-b/ruby:prod"]),
        (TagOptions(scheduled=True, insecure=True, import_mode="PreserveOriginal"), "quay.io/a/b:1", ["b:1"]),
        (TagOptions(alias=True), "ruby:2.0", ["ruby:latest", "project-a/ruby:stable"]),
        # oc refuses this when run from another project; the server would track it, so we accept it
        (TagOptions(alias=True), "project-b/ruby:2.0", ["project-b/ruby:x"]),
        (TagOptions(reference=True, reference_policy="local"), f"ruby@{DIGEST}", ["x:1"]),
        (TagOptions(reimport=True), "mysql", ["mysql:latest"]),
        (TagOptions(scheduled=True), "mysql:8.0", ["mysql:8.0"]),  # fine once the kind is DockerImage...
    ],
)
def test_accepted_combinations(options: TagOptions, src: str, dests: list[str]) -> None:
    kind = "docker" if src == "mysql:8.0" else "auto"  # ...which needs source_type for mysql:8.0
    validate_tag_request(options, source(src, kind), [dest(d) for d in dests], current_namespace=NS)


# --- resolving the source (§1.3) --------------------------------------------------------------------------------------
def test_source_namespace() -> None:
    assert source_namespace(source("ruby:2.0"), NS) == NS
    assert source_namespace(source("project-b/ruby:2.0"), NS) == "project-b"
    assert source_namespace(source("quay.io/a/b"), NS) == ""


@pytest.mark.parametrize(
    ("options", "src", "expected"),
    [
        (TagOptions(), "ruby:2.0", True),
        (TagOptions(alias=True), "ruby:2.0", False),
        (TagOptions(), f"ruby@{DIGEST}", False),
        (TagOptions(), "quay.io/a/b:1", False),
    ],
)
def test_needs_stream_lookup(options: TagOptions, src: str, expected: bool) -> None:
    assert needs_stream_lookup(options, source(src)) is expected


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("ruby:2.0", ResolvedSource(SourceKind.IMAGE_STREAM_TAG, "ruby:2.0", NS)),
        ("project-b/ruby:2.0", ResolvedSource(SourceKind.IMAGE_STREAM_TAG, "ruby:2.0", "project-b")),
        (f"ruby@{DIGEST}", ResolvedSource(SourceKind.IMAGE_STREAM_IMAGE, f"ruby@{DIGEST}", NS)),
        ("quay.io/a/b:1", ResolvedSource(SourceKind.DOCKER_IMAGE, "quay.io/a/b:1", "")),
        ("mysql", ResolvedSource(SourceKind.DOCKER_IMAGE, "mysql", "")),
    ],
)
def test_resolve_without_lookup(src: str, expected: ResolvedSource) -> None:
    assert resolve_without_lookup(source(src), current_namespace=NS) == expected


def test_resolve_pins_the_newest_image() -> None:
    current = stream(status=[{"tag": "2.0", "items": [event(DIGEST), event(OTHER_DIGEST)]}])
    resolved = resolve_from_stream(source("project-b/ruby:2.0"), current, current_namespace=NS)
    assert resolved == ResolvedSource(SourceKind.IMAGE_STREAM_IMAGE, f"ruby@{DIGEST}", "project-b")


def test_resolve_without_image_copies_the_pull_spec() -> None:
    current = stream(status=[{"tag": "2.0", "items": [event(image="", reference="quay.io/org/ruby:2.0")]}])
    resolved = resolve_from_stream(source("ruby:2.0"), current, current_namespace=NS)
    assert resolved == ResolvedSource(SourceKind.DOCKER_IMAGE, "quay.io/org/ruby:2.0", "")


@pytest.mark.parametrize(
    ("current", "message"),
    [
        (None, "image stream project-b/ruby does not exist, so project-b/ruby:2.0 cannot be the source of a tag"),
        (
            stream(),
            "image stream tag project-b/ruby:2.0 has no image yet (the stream has no such tag); import it first or "
            "use alias: true",
        ),
        (
            stream([{"name": "2.0", "from": {"kind": "DockerImage", "name": "quay.io/a/ruby:2.0"}}]),
            "has no image yet (the tag exists in spec but nothing has been imported for it); import it first",
        ),
        (
            stream(
                status=[
                    {
                        "tag": "2.0",
                        "items": None,
                        "conditions": [
                            {"type": "ImportSuccess", "status": "False", "message": "manifest unknown", "generation": 2}
                        ],
                    }
                ]
            ),
            "has no image yet (its import failed: manifest unknown); import it first or use alias: true",
        ),
        (
            stream(status=[{"tag": "2.0", "conditions": [{"type": "ImportSuccess", "status": "False"}]}]),
            "(its import failed: no reason)",
        ),
        (stream(status=[{"tag": "2.0", "items": []}]), "has no image yet"),
        (stream(status=[{"tag": "other", "items": [event()]}]), "has no image yet"),
        (stream(status=[{"tag": "2.0", "items": [{"image": "", "dockerImageReference": ""}]}]), "has no image yet"),
        (stream(status=[{"tag": "2.0", "items": [event(image="bogus")]}]), "points at an image with an unusable ID"),
        (stream(status=[{"tag": "2.0", "items": [event(image="", reference="HTTP://x")]}]), "invalid pull spec"),
    ],
)
def test_resolve_failures(current: dict[str, Any] | None, message: str) -> None:
    with pytest.raises(ClusterStateError, match=re.escape(message)):
        resolve_from_stream(source("project-b/ruby:2.0"), current, current_namespace=NS)


def test_latest_tag_event() -> None:
    current = stream(status=[{"tag": "a", "items": [event(OTHER_DIGEST)]}, {"tag": "b", "items": [event()]}])
    assert latest_tag_event(current, "b") == event()
    assert latest_tag_event(current, "c") is None
    assert latest_tag_event({}, "a") is None


# --- the wanted TagReference (§1.5) -----------------------------------------------------------------------------------
DOCKER = ResolvedSource(SourceKind.DOCKER_IMAGE, "quay.io/org/tool:1.4")
PINNED = ResolvedSource(SourceKind.IMAGE_STREAM_IMAGE, f"ruby@{DIGEST}", NS)
PINNED_B = ResolvedSource(SourceKind.IMAGE_STREAM_IMAGE, f"ruby@{DIGEST}", "project-b")
ALIAS = ResolvedSource(SourceKind.IMAGE_STREAM_TAG, "ruby:2.0", NS)


@pytest.mark.parametrize(
    ("options", "resolved", "expected", "imports"),
    [
        (
            TagOptions(),
            PINNED,
            {
                "name": "static-2.0",
                "from": {"kind": "ImageStreamImage", "name": f"ruby@{DIGEST}"},
                "referencePolicy": {"type": "Source"},
                "importPolicy": {},
            },
            False,
        ),
        (
            TagOptions(),
            PINNED_B,
            {
                "name": "static-2.0",
                "from": {"kind": "ImageStreamImage", "name": f"ruby@{DIGEST}", "namespace": "project-b"},
                "referencePolicy": {"type": "Source"},
                "importPolicy": {},
            },
            False,
        ),
        (
            TagOptions(alias=True),
            ALIAS,
            {
                "name": "static-2.0",
                "from": {"kind": "ImageStreamTag", "name": "ruby:2.0"},
                "referencePolicy": {"type": "Source"},
                "importPolicy": {},
            },
            False,
        ),
        (
            TagOptions(scheduled=True, insecure=True, import_mode="PreserveOriginal", reference_policy="local"),
            DOCKER,
            {
                "name": "static-2.0",
                "from": {"kind": "DockerImage", "name": "quay.io/org/tool:1.4"},
                "referencePolicy": {"type": "Local"},
                "importPolicy": {"insecure": True, "scheduled": True, "importMode": "PreserveOriginal"},
            },
            True,
        ),
        (
            TagOptions(reference=True),
            DOCKER,
            {
                "name": "static-2.0",
                "from": {"kind": "DockerImage", "name": "quay.io/org/tool:1.4"},
                "reference": True,
                "referencePolicy": {"type": "Source"},
                "importPolicy": {},
            },
            False,
        ),
    ],
)
def test_desired_tag(options: TagOptions, resolved: ResolvedSource, expected: dict[str, Any], imports: bool) -> None:
    desired = desired_tag(options, resolved, dest())
    assert desired.tag == expected
    assert desired.imports is imports
    assert desired.import_mode_set is (options.import_mode is not None)


# --- reconciling with the current tag ---------------------------------------------------------------------------------
DEFAULT_OPTIONS = TagOptions()


def _desired(options: TagOptions = DEFAULT_OPTIONS, resolved: ResolvedSource = PINNED) -> DesiredTag:
    return desired_tag(options, resolved, dest())


def test_new_docker_tag_asks_for_an_import() -> None:
    tag, action = reconcile_tag(None, _desired(resolved=DOCKER), dest())
    assert action is TagAction.CREATED
    assert tag["generation"] == 0


def test_new_image_stream_tag_leaves_generation_to_the_server() -> None:
    tag, action = reconcile_tag(None, _desired(), dest())
    assert action is TagAction.CREATED
    assert "generation" not in tag


def test_server_defaults_and_managed_fields_are_not_a_change() -> None:
    # what the server stores for the tag we asked for: generation set, defaults filled in, explicit namespace
    stored = {
        "name": "static-2.0",
        "annotations": None,
        "from": {"kind": "ImageStreamImage", "name": f"ruby@{DIGEST}", "namespace": NS},
        "generation": 4,
        "importPolicy": {"importMode": "Legacy"},
        "referencePolicy": {"type": "Source"},
        "reference": False,
    }
    tag, action = reconcile_tag(stored, _desired(), dest())
    assert action is TagAction.UNCHANGED
    assert tag is stored
    stored_docker = {"name": "t", "from": {"kind": "DockerImage", "name": "quay.io/org/tool:1.4"}, "generation": 3}
    assert reconcile_tag(stored_docker, _desired(resolved=DOCKER), dest())[1] is TagAction.UNCHANGED


def test_a_short_from_name_means_the_same_stream() -> None:
    stored = {"name": "latest", "from": {"kind": "ImageStreamTag", "name": "2.0"}}
    assert reconcile_tag(stored, desired_tag(TagOptions(alias=True), ALIAS, dest("ruby:latest")), dest("ruby:latest"))[
        1
    ] is (TagAction.UNCHANGED)
    stored_image = {"name": "x", "from": {"kind": "ImageStreamImage", "name": DIGEST}}
    assert reconcile_tag(stored_image, desired_tag(TagOptions(), PINNED, dest("ruby:x")), dest("ruby:x"))[1] is (
        TagAction.UNCHANGED
    )


def test_unset_import_mode_keeps_the_current_one() -> None:
    stored = {"name": "static-2.0", "from": {"kind": "DockerImage", "name": "quay.io/org/tool:1.4"}}
    stored["importPolicy"] = {"importMode": "PreserveOriginal"}
    assert reconcile_tag(stored, _desired(resolved=DOCKER), dest())[1] is TagAction.UNCHANGED
    tag, action = reconcile_tag(stored, _desired(TagOptions(import_mode="Legacy"), DOCKER), dest())
    assert action is TagAction.UPDATED
    assert tag["importPolicy"]["importMode"] == "Legacy"
    assert tag["generation"] == 0  # a changed imported tag is imported again


def test_repin_keeps_annotations_and_generation() -> None:
    annotations = {"description": "Ruby 2.0", "tags": "builder,ruby"}
    stored = {
        "name": "static-2.0",
        "annotations": annotations,
        "from": {"kind": "ImageStreamImage", "name": f"ruby@{OTHER_DIGEST}"},
        "generation": 5,
        "referencePolicy": {"type": "Source"},
    }
    tag, action = reconcile_tag(stored, _desired(), dest())
    assert action is TagAction.UPDATED
    assert tag["annotations"] == annotations
    assert tag["from"]["name"] == f"ruby@{DIGEST}"
    assert tag["generation"] == 5


@pytest.mark.parametrize(
    "change",
    [
        {"reference": True},
        {"referencePolicy": {"type": "Local"}},
        {"importPolicy": {"scheduled": True}},
        {"importPolicy": {"insecure": True}},
        {"from": {"kind": "DockerImage", "name": "quay.io/org/tool:1.5"}},
        {"from": {"kind": "ImageStreamImage", "name": f"ruby@{DIGEST}", "namespace": "project-b"}},
    ],
)
def test_every_meaningful_field_is_compared(change: dict[str, Any]) -> None:
    wanted = _desired().tag
    current = copy.deepcopy(wanted) | change
    assert not same_tag(current, wanted, dest())


def test_reimport_always_updates_with_generation_zero() -> None:
    desired = _desired(TagOptions(reimport=True), DOCKER)
    stored = {"name": "static-2.0", "from": {"kind": "DockerImage", "name": "quay.io/org/tool:1.4"}, "generation": 9}
    tag, action = reconcile_tag(stored, desired, dest())
    assert (action, tag["generation"]) == (TagAction.UPDATED, 0)


def test_changed_reference_tag_does_not_ask_for_an_import() -> None:
    stored = {"name": "static-2.0", "from": {"kind": "DockerImage", "name": "quay.io/org/tool:1.3"}, "generation": 2}
    tag, action = reconcile_tag(stored, _desired(TagOptions(reference=True), DOCKER), dest())
    assert (action, tag["generation"]) == (TagAction.UPDATED, 2)


# --- editing the stream -----------------------------------------------------------------------------------------------
OTHER_TAG = {"name": "2.0", "annotations": {"a": "b"}, "from": {"kind": "DockerImage", "name": "x/ruby:2.0"}}


def test_apply_creates_a_missing_stream() -> None:
    new, changes = apply_tags(None, [(dest(), _desired())], namespace=NS, name="ruby")
    assert new is not None
    assert new["metadata"] == {"name": "ruby", "namespace": NS}
    assert [tag["name"] for tag in new["spec"]["tags"]] == ["static-2.0"]
    assert [change.action for change in changes] == [TagAction.CREATED]


def test_apply_leaves_other_tags_and_places_alone() -> None:
    existing = {"name": "static-2.0", "from": {"kind": "ImageStreamImage", "name": f"ruby@{OTHER_DIGEST}"}}
    current = stream([existing, OTHER_TAG])
    snapshot = copy.deepcopy(current)
    wanted = [(dest(), _desired()), (dest("ruby:new"), desired_tag(TagOptions(), PINNED, dest("ruby:new")))]
    new, changes = apply_tags(current, wanted, namespace=NS, name="ruby")
    assert current == snapshot  # the input is not modified
    assert new is not None
    assert [tag["name"] for tag in new["spec"]["tags"]] == ["static-2.0", "2.0", "new"]
    assert new["spec"]["tags"][1] == OTHER_TAG
    assert new["metadata"]["resourceVersion"] == "7"
    assert new["spec"]["lookupPolicy"] == {"local": False}
    assert [change.action for change in changes] == [TagAction.UPDATED, TagAction.CREATED]


def test_apply_without_change_returns_none() -> None:
    current = stream([_desired().tag, OTHER_TAG])
    new, changes = apply_tags(current, [(dest(), _desired())], namespace=NS, name="ruby")
    assert new is None
    assert [change.action for change in changes] == [TagAction.UNCHANGED]


def test_duplicate_spec_tags_collapse_like_the_server() -> None:
    first = {"name": "static-2.0", "from": {"kind": "ImageStreamImage", "name": f"ruby@{OTHER_DIGEST}"}}
    last = _desired().tag
    assert find_spec_tag(stream([first, last]), "static-2.0") is last  # the last one wins
    new, changes = apply_tags(stream([last, OTHER_TAG, first]), [(dest(), _desired())], namespace=NS, name="ruby")
    assert new is not None
    assert [tag["name"] for tag in new["spec"]["tags"]] == ["static-2.0", "2.0"]
    assert changes[0].action is TagAction.UPDATED


def test_new_image_stream() -> None:
    assert new_image_stream("p", "s") == {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "s", "namespace": "p"},
        "spec": {"tags": []},
    }


# --- removal (§1.8) ---------------------------------------------------------------------------------------------------
def test_removal_of_spec_and_status() -> None:
    current = stream(
        [_desired().tag, OTHER_TAG],
        status=[{"tag": "static-2.0", "items": [event()]}, {"tag": "2.0", "items": [event()]}],
    )
    changes = plan_removal(current, [dest(), dest("ruby:gone")])
    assert [change.action for change in changes] == [TagAction.DELETED, TagAction.ABSENT]
    assert changes[0].before == _desired().tag


def test_removal_of_history_only() -> None:
    current = stream([OTHER_TAG], status=[{"tag": "old", "items": [event()]}])
    assert [change.action for change in plan_removal(current, [dest("ruby:old")])] == [TagAction.DELETED]


def test_removal_from_a_missing_stream() -> None:
    assert [change.action for change in plan_removal(None, [dest()])] == [TagAction.ABSENT]
    assert [change.action for change in plan_removal(stream(), [dest()])] == [TagAction.ABSENT]


# --- diff and result --------------------------------------------------------------------------------------------------
def test_diff_and_description() -> None:
    before = {"name": "static-2.0", "from": {"kind": "ImageStreamImage", "name": f"ruby@{OTHER_DIGEST}"}}
    after = _desired().tag
    changes = [
        TagChange(dest(), TagAction.UPDATED, before, after),
        TagChange(dest("project-b/ruby:gone"), TagAction.DELETED, OTHER_TAG, None),
        TagChange(dest("ruby:never"), TagAction.ABSENT, None, None),
    ]
    assert tag_diff(changes) == {
        "before": {"project-a/ruby:static-2.0": before, "project-b/ruby:gone": OTHER_TAG},
        "after": {"project-a/ruby:static-2.0": after},
    }
    assert [describe_change(change) for change in changes] == [
        {
            "namespace": NS,
            "image_stream": "ruby",
            "tag": "static-2.0",
            "action": "updated",
            "from": {"kind": "ImageStreamImage", "name": f"ruby@{DIGEST}", "namespace": NS},
            "image": DIGEST,
        },
        {
            "namespace": "project-b",
            "image_stream": "ruby",
            "tag": "gone",
            "action": "deleted",
            "from": {"kind": "DockerImage", "name": "x/ruby:2.0", "namespace": None},
            "image": None,
        },
        {
            "namespace": NS,
            "image_stream": "ruby",
            "tag": "never",
            "action": "absent",
            "from": None,
            "image": None,
        },
    ]
    assert [change.changed for change in changes] == [True, True, False]


# --- properties -------------------------------------------------------------------------------------------------------
_options = st.builds(
    TagOptions,
    reference=st.booleans(),
    reference_policy=st.sampled_from(["source", "local"]),
    import_mode=st.sampled_from([None, "Legacy", "PreserveOriginal"]),
    scheduled=st.booleans(),
    insecure=st.booleans(),
    # a tracking tag is planned from the source as written, and a re-import writes on purpose: neither is here
    alias=st.just(False),
    reimport=st.just(False),
)
_resolved = st.sampled_from([DOCKER, PINNED, PINNED_B, ALIAS])
_annotations = st.one_of(st.none(), st.dictionaries(st.sampled_from(["a", "description"]), st.text(max_size=5)))


@given(st.tuples(_options, _resolved), st.tuples(_options, _resolved), _annotations, st.integers(0, 9))
def test_applying_twice_changes_nothing(
    first_request: tuple[TagOptions, ResolvedSource],
    second_request: tuple[TagOptions, ResolvedSource],
    annotations: dict[str, str] | None,
    generation: int,
) -> None:
    """Whatever was there, after one apply a second apply of the same request is unchanged."""
    (first, first_source), (second, second_source) = first_request, second_request
    existing = desired_tag(first, first_source, dest()).tag | {"annotations": annotations, "generation": generation}
    current = stream([existing, OTHER_TAG])
    wanted = [(dest(), desired_tag(second, second_source, dest()))]
    new, _changes = apply_tags(current, wanted, namespace=NS, name="ruby")
    stored = new if new is not None else current
    again, changes = apply_tags(stored, wanted, namespace=NS, name="ruby")
    assert again is None
    assert changes[0].action is TagAction.UNCHANGED
    kept = find_spec_tag(stored, "static-2.0")
    assert kept is not None
    assert kept.get("annotations") == annotations
    assert find_spec_tag(stored, "2.0") == OTHER_TAG


# --- plans leave what they were given alone ---------------------------------------------------------------------------
def _refuse(*_args: Any, **_kwargs: Any) -> None:
    raise TypeError("a plan modified what it was given")


class _FrozenDict(dict[Any, Any]):
    """A dict that refuses every change; deep copies of it are plain dicts."""

    __setitem__ = __delitem__ = __ior__ = setdefault = _refuse  # type: ignore[assignment]
    update = pop = popitem = clear = _refuse  # type: ignore[assignment]

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Any, Any]:
        return {key: copy.deepcopy(value, memo) for key, value in self.items()}


class _FrozenList(list[Any]):
    """A list that refuses every change; deep copies of it are plain lists."""

    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = extend = insert = _refuse  # type: ignore[assignment]
    pop = remove = clear = sort = reverse = _refuse

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(value, memo) for value in self]


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return _FrozenDict((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, list):
        return _FrozenList(_frozen(item) for item in value)
    return value


def test_frozen_values_refuse_changes() -> None:
    frozen = _frozen({"spec": {"tags": [{"name": "a"}]}})
    with pytest.raises(TypeError):
        frozen["spec"]["tags"].append({"name": "b"})
    with pytest.raises(TypeError):
        frozen["spec"]["tags"][0]["name"] = "b"
    with pytest.raises(TypeError):
        frozen.setdefault("status", {})
    thawed = copy.deepcopy(frozen)  # a deep copy is the caller's own, to change
    thawed["spec"]["tags"].append({"name": "b"})
    thawed["spec"]["tags"][0]["name"] = "c"
    assert thawed == {"spec": {"tags": [{"name": "c"}, {"name": "b"}]}}
    assert frozen == {"spec": {"tags": [{"name": "a"}]}}


_tag_names = st.sampled_from(["static-2.0", "2.0", "latest"])
_stored_tags = st.lists(
    st.fixed_dictionaries(
        {"name": _tag_names, "from": st.sampled_from([{"kind": "DockerImage", "name": "quay.io/org/tool:1.4"}, {}])},
        optional={
            "annotations": _annotations,
            "generation": st.integers(0, 9),
            "reference": st.booleans(),
            "importPolicy": st.fixed_dictionaries({}, optional={"importMode": st.sampled_from(["Legacy", "X"])}),
        },
    ),
    max_size=5,
)


@given(_stored_tags, st.lists(_tag_names, unique=True, min_size=1), _options, _resolved, st.booleans())
def test_plans_do_not_modify_the_stream_or_the_wanted_tags(
    tags: list[dict[str, Any]], names: list[str], options: TagOptions, resolved: ResolvedSource, missing: bool
) -> None:
    """The stream read and the wanted tags can be planned from again (a 409 plans again from the same wanted tags):
    every part of them refuses a change, and the answer is the one from unfrozen input."""
    current = None if missing else stream(tags, status=[{"tag": tag["name"], "items": [event()]} for tag in tags])
    wanted = [(dest(f"ruby:{name}"), desired_tag(options, resolved, dest(f"ruby:{name}"))) for name in names]
    snapshot = copy.deepcopy((current, wanted))
    frozen_wanted = [
        (target, DesiredTag(_frozen(desired.tag), desired.import_mode_set, desired.imports, desired.reimport))
        for target, desired in wanted
    ]
    planned = apply_tags(_frozen(current), frozen_wanted, namespace=NS, name="ruby")
    assert planned == apply_tags(current, wanted, namespace=NS, name="ruby")
    assert plan_removal(_frozen(current), [target for target, _desired in wanted]) == plan_removal(
        current, [target for target, _desired in wanted]
    )
    assert (current, wanted) == snapshot
