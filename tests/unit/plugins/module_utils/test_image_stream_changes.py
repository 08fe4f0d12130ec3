"""The events of the image_stream_events source, from two versions of an image stream (pure, no server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.changes import (
    EVENT_KEY,
    HistoryItem,
    ImportFailure,
    TagState,
    tag_events,
    tag_sources,
    tag_states,
)
from ansible_collections.openshift_ops.images.tests.unit.support.image_streams import REGISTRY, digest, image_stream

A, B, C = digest("a"), digest("b"), digest("c")


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str | None, str | None]]:
    """(change, tag, previous image, image) of each event."""
    return [
        (body["change"], body["tag"], body["previous_image"], body["image"])
        for body in (event[EVENT_KEY] for event in events)
    ]


def test_tag_states_read_the_newest_item_and_the_import_condition() -> None:
    stream = image_stream(
        images={"latest": A, "pending": None}, failures={"broken": ("NotFound", "no such image", 3)}, generation=2
    )
    assert tag_states(stream) == {
        "latest": TagState(
            A, f"{REGISTRY}/builds/app@{A}", 2, None, (HistoryItem(A, f"{REGISTRY}/builds/app@{A}", 2),)
        ),
        "pending": TagState(None, None, None, None),
        "broken": TagState(None, None, None, ImportFailure("NotFound", "no such image", 3)),
    }
    assert tag_states(None) == {}


def test_tag_states_take_the_first_item_and_the_first_entry_of_a_tag() -> None:
    stream = image_stream(images={"latest": A})
    entry = stream["status"]["tags"][0]
    entry["items"].append({"image": B, "generation": 0})
    stream["status"]["tags"].append({"tag": "latest", "items": [{"image": C}]})
    assert tag_states(stream)["latest"].image == A


@pytest.mark.parametrize(
    "stream",
    [
        {},
        {"status": None},
        {"status": {"tags": "latest"}},
        {"status": {"tags": [None, 3, {"tag": 5}, {"items": []}]}},
        {"status": {"tags": [{"tag": "x", "items": [None], "conditions": "x"}]}},
        {"status": {"tags": [{"tag": "x", "items": [{"image": 7, "generation": True}]}]}},
    ],
)
def test_tag_states_survive_any_shape(stream: dict[str, Any]) -> None:
    assert all(state.image is None for state in tag_states(stream).values())


def test_a_successful_import_condition_is_no_failure() -> None:
    stream = image_stream(images={"latest": A})
    stream["status"]["tags"][0]["conditions"] = [{"type": "ImportSuccess", "status": "True", "generation": 1}]
    assert tag_states(stream)["latest"].failure is None


def test_tag_sources() -> None:
    stream = image_stream(sources={"latest": "quay.io/org/app:latest"})
    stream["spec"]["tags"].append({"name": "prod", "from": {"kind": "ImageStreamTag", "name": "app:latest"}})
    stream["spec"]["tags"].append({"name": "local"})
    assert tag_sources(stream) == {
        "latest": {"kind": "DockerImage", "name": "quay.io/org/app:latest"},
        "prod": {"kind": "ImageStreamTag", "name": "app:latest"},
    }


# ---------------------------------------------------------------------------------------------------------------
# Events between two versions


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param({}, {"latest": A}, [("tag_added", "latest", None, A)], id="first image"),
        pytest.param({"latest": None}, {"latest": A}, [("tag_added", "latest", None, A)], id="listed, then imaged"),
        pytest.param({"latest": A}, {"latest": B}, [("image_changed", "latest", A, B)], id="new digest"),
        pytest.param({"latest": A}, {}, [("tag_removed", "latest", A, None)], id="tag gone"),
        pytest.param({"latest": A}, {"latest": A}, [], id="same image"),
        pytest.param({"latest": None}, {}, [], id="imageless tag gone"),
        pytest.param(
            {"a": A, "b": B, "c": C},
            {"a": B, "c": C, "d": A},
            [("image_changed", "a", A, B), ("tag_removed", "b", B, None), ("tag_added", "d", None, A)],
            id="several, by tag name",
        ),
    ],
)
def test_image_events(
    before: dict[str, str | None], after: dict[str, str | None], expected: list[tuple[str, str, str | None, str | None]]
) -> None:
    previous = image_stream(images=before, resource_version="5")
    current = image_stream(images=after, resource_version="6")
    assert summary(tag_events(previous, current)) == expected


def test_an_image_changed_event_in_full() -> None:
    previous = image_stream(images={"latest": A}, sources={"latest": "quay.io/org/app:latest"}, resource_version="5")
    current = image_stream(
        images={"latest": B}, sources={"latest": "quay.io/org/app:latest"}, resource_version="6", generation=4
    )
    [event] = tag_events(previous, current)
    assert event == {
        "image_stream_tag": {
            "change": "image_changed",
            "namespace": "builds",
            "image_stream": "app",
            "tag": "latest",
            "previous_image": A,
            "image": B,
            "image_reference": f"{REGISTRY}/builds/app@{B}",
            "source": {"kind": "DockerImage", "name": "quay.io/org/app:latest"},
            "generation": 4,
            "import_failure": None,
            "resource_version": "6",
        }
    }
    assert json.loads(json.dumps(event)) == event


def test_a_removed_tag_keeps_the_source_its_spec_had() -> None:
    previous = image_stream(images={"old": A}, sources={"old": "quay.io/org/app:old"})
    [event] = tag_events(previous, image_stream(resource_version="2"))
    assert event[EVENT_KEY]["source"] == {"kind": "DockerImage", "name": "quay.io/org/app:old"}
    assert (event[EVENT_KEY]["image_reference"], event[EVENT_KEY]["generation"]) == (None, None)


def test_a_new_stream_and_a_deleted_one() -> None:
    stream = image_stream(images={"v1": A, "v2": B})
    assert summary(tag_events(None, stream)) == [("tag_added", "v1", None, A), ("tag_added", "v2", None, B)]
    deleted = summary(tag_events(stream, None))
    assert deleted == [("tag_removed", "v1", A, None), ("tag_removed", "v2", B, None)]
    assert tag_events(None, None) == []


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda s: s["metadata"].update(annotations={"owner": "team-a"}), id="annotation"),
        pytest.param(lambda s: s["metadata"].update(labels={"app": "x"}), id="label"),
        pytest.param(
            lambda s: s["spec"]["tags"].append({"name": "next", "from": {"kind": "DockerImage", "name": "q/x:2"}}),
            id="spec tag not imported yet",
        ),
        pytest.param(lambda s: s["spec"].update(lookupPolicy={"local": True}), id="lookup policy"),
        pytest.param(lambda s: s["status"]["tags"][0]["items"].append({"image": B}), id="older item added"),
        pytest.param(
            lambda s: s["status"]["tags"][0]["items"][0].update(dockerImageReference="mirror/app@x"),
            id="pull spec only",
        ),
    ],
)
def test_unrelated_writes_send_nothing(rewrite: Any) -> None:
    previous = image_stream(images={"latest": A}, sources={"latest": "quay.io/org/app:latest"})
    current = image_stream(images={"latest": A}, sources={"latest": "quay.io/org/app:latest"}, resource_version="2")
    rewrite(current)
    assert tag_events(previous, current) == []


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(None, ("NotFound", "manifest unknown", 2), 1, id="new failure"),
        pytest.param(("NotFound", "manifest unknown", 2), ("NotFound", "manifest unknown", 2), 0, id="seen already"),
        pytest.param(("NotFound", "manifest unknown", 2), ("NotFound", "manifest unknown", 3), 1, id="new attempt"),
        pytest.param(("NotFound", "manifest unknown", 2), ("Unauthorized", "denied", 2), 1, id="other reason"),
        pytest.param(("NotFound", "manifest unknown", 2), None, 0, id="healed"),
    ],
)
def test_import_failures(
    before: tuple[str, str, int] | None, after: tuple[str, str, int] | None, expected: int
) -> None:
    previous = image_stream(images={"latest": A}, failures={"latest": before} if before else None)
    current = image_stream(images={"latest": A}, failures={"latest": after} if after else None, resource_version="2")
    events = tag_events(previous, current)
    assert [event[EVENT_KEY]["change"] for event in events] == ["import_failed"] * expected
    if expected and after is not None:
        body = events[0][EVENT_KEY]
        assert body["import_failure"] == {"reason": after[0], "message": after[1]}
        assert (body["generation"], body["previous_image"], body["image"]) == (after[2], A, A)


def test_a_tag_that_never_imported_reports_its_failure_only() -> None:
    previous = image_stream(sources={"next": "quay.io/org/app:next"})
    current = image_stream(
        sources={"next": "quay.io/org/app:next"},
        failures={"next": ("Unauthorized", "you may not pull quay.io/org/app", 1)},
        resource_version="2",
    )
    [event] = tag_events(previous, current)
    body = event[EVENT_KEY]
    assert (body["change"], body["image"], body["image_reference"]) == ("import_failed", None, None)
    assert body["source"] == {"kind": "DockerImage", "name": "quay.io/org/app:next"}


def test_an_image_change_comes_before_the_failure_of_the_same_tag() -> None:
    previous = image_stream(images={"latest": A})
    current = image_stream(images={"latest": B}, failures={"latest": ("NotFound", "gone", 3)}, resource_version="2")
    assert [event[EVENT_KEY]["change"] for event in tag_events(previous, current)] == ["image_changed", "import_failed"]


def _with_history(stream: dict[str, Any], tag: str, images: list[str]) -> dict[str, Any]:
    """``stream`` with ``tag``'s status items set to ``images``, newest first, as imports leave them."""
    for entry in stream["status"]["tags"]:
        if entry["tag"] == tag:
            entry["items"] = [
                {"image": image, "dockerImageReference": f"{REGISTRY}/builds/app@{image}", "generation": index}
                for index, image in zip(range(len(images), 0, -1), images, strict=True)
            ]
    return stream


def test_every_image_the_history_holds_since_the_known_one_is_reported_in_order() -> None:
    # The watch was behind (an API server restart, a 410 Gone): two imports happened; both are reported.
    before = _with_history(image_stream(images={"latest": A}), "latest", [A])
    after = _with_history(image_stream(images={"latest": C}), "latest", [C, B, A])
    assert summary(tag_events(before, after)) == [
        ("image_changed", "latest", A, B),
        ("image_changed", "latest", B, C),
    ]
    generations = [event[EVENT_KEY]["generation"] for event in tag_events(before, after)]
    assert generations == [2, 3]


def test_a_history_pruned_past_the_known_image_gives_one_step() -> None:
    before = _with_history(image_stream(images={"latest": A}), "latest", [A])
    after = _with_history(image_stream(images={"latest": C}), "latest", [C, B])
    assert summary(tag_events(before, after)) == [("image_changed", "latest", A, C)]


def test_a_new_tag_with_a_history_is_one_tag_added() -> None:
    # emit_existing and new streams: what a tag pointed at before the source knew it is not replayed
    after = _with_history(image_stream(images={"latest": C}), "latest", [C, B, A])
    assert summary(tag_events(None, after)) == [("tag_added", "latest", None, C)]
