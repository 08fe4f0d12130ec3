"""``image_tag`` over many image streams: the reads, then the writes, of different streams run side by side, never
more than ``STREAM_WORKERS`` at once and no thread for a single stream; each stream keeps its own conflict handling;
a failure stops new writes and the report names, in the order of ``dest``, every tag written, the first error and
what was not touched; and every result is the one the streams written one after another give. Against the image API
stand-in of ``tests/unit/support/image_stream_api.py`` over TLS, with the collection's real client."""

from __future__ import annotations

import copy
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ForbiddenError,
    ImagesError,
    PartialChangeError,
    UnprocessableError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag import apply as image_tag_apply
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.apply import (
    LIST_FROM,
    STREAM_WORKERS,
    apply_image_tags,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.plan import TagOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.request import ImageTagRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import RunContext
from ansible_collections.openshift_ops.images.tests.unit.support.certificates import loopback_tls, new_authority
from ansible_collections.openshift_ops.images.tests.unit.support.image_stream_api import (
    THEIRS,
    ImageStreamApi,
    Refusal,
)
from ansible_collections.openshift_ops.images.tests.unit.support.image_streams import image_stream
from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import RecordingRegistry

SOURCE = "quay.io/org/tool:1.4"
TLS = tuple[Callable[[], ssl.SSLContext], str]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLS:
    return loopback_tls(tmp_path_factory.mktemp("tls"), new_authority("image API test CA"))


@contextmanager
def serving(api: ImageStreamApi, tls: TLS | None) -> Iterator[KubeClient]:
    """A client of the collection talking to ``api`` over TLS (plain HTTP without ``tls``), on connections kept open
    as an API server keeps them."""
    contexts, ca = tls or (None, None)
    with RecordingRegistry(api.route, context=contexts and contexts(), keep_alive=True) as server:
        config = ClusterConfig(server=server.base, namespace="p", token="t", ca_data=ca)
        with KubeClient(config, sleep=lambda _delay: None) as client:
            yield client


def streams(*names: str, tags: tuple[str, ...] = ("old",)) -> dict[tuple[str, str], dict[str, Any]]:
    """Image streams in namespace p, each with spec tags ``tags``."""
    sources = {tag: f"quay.io/org/{tag}:1" for tag in tags}
    return {("p", name): image_stream(name, "p", sources=sources) for name in names}


def tag(*dests: str, check_mode: bool = False, state: str = "present") -> tuple[ImageTagRequest, RunContext]:
    source = SOURCE if state == "present" else None
    request = ImageTagRequest(dest=dests, source=source, namespace="p", state=state, options=TagOptions())
    return request, RunContext(check_mode=check_mode, want_diff=True)


def spec_tags(api: ImageStreamApi, name: str) -> list[str]:
    return [entry["name"] for entry in api.streams["p", name]["spec"]["tags"]]


NAMES = [f"s{index:02d}" for index in range(10)]


# --- side by side, within the bound ----------------------------------------------------------------------------------
# A user who may get image streams but not list them: every stream is read by a GET of its own.
NO_LIST = {("GET", ""): Refusal(403, "Forbidden")}


def test_reads_and_writes_of_different_streams_overlap_never_beyond_the_bound(tls: TLS) -> None:
    names = [f"s{index:02d}" for index in range(2 * STREAM_WORKERS)]
    api = ImageStreamApi(streams(*names), latency=0.4, refusals=dict(NO_LIST))
    with serving(api, tls) as client:
        result = apply_image_tags(client, *tag(*(f"{name}:v1" for name in names))).result
        opened = client.connections_opened
    assert [(entry["image_stream"], entry["action"]) for entry in result["tags"]] == [(n, "created") for n in names]
    assert api.peaks["GET"] == STREAM_WORKERS
    assert api.peaks["PUT"] == STREAM_WORKERS
    assert api.peak == STREAM_WORKERS  # the reads are all answered before the first write
    assert opened == STREAM_WORKERS  # a connection per request in flight, reused for the next stream
    assert all(spec_tags(api, name) == ["old", "v1"] for name in names)


def test_a_single_stream_starts_no_thread(tls: TLS, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[threading.Thread] = []

    class RecordedThread(threading.Thread):
        def start(self) -> None:
            started.append(self)
            super().start()

    monkeypatch.setattr(image_tag_apply, "threading", SimpleNamespace(Thread=RecordedThread, Lock=threading.Lock))
    api = ImageStreamApi(streams("one"))
    with serving(api, tls) as client:
        result = apply_image_tags(client, *tag("one:a", "one:b", "one:c")).result
    assert [entry["action"] for entry in result["tags"]] == ["created"] * 3
    assert api.requests_of("one") == ["GET", "PUT"]
    assert started == []


def test_a_conflict_is_read_and_planned_again_for_that_stream_only(tls: TLS) -> None:
    api = ImageStreamApi(streams(*NAMES[:4]), latency=0.05, conflicts={"s02": 1})
    with serving(api, tls) as client:
        result = apply_image_tags(client, *tag(*(f"{name}:v1" for name in NAMES[:4]))).result
    assert api.requests_of("s02") == ["GET", "PUT", "GET", "PUT"]
    assert [api.requests_of(name) for name in ("s00", "s01", "s03")] == [["GET", "PUT"]] * 3
    assert spec_tags(api, "s02") == ["old", THEIRS["name"], "v1"]  # the other writer's tag is kept
    assert result["changed"] is True


def test_check_mode_reads_every_stream_and_writes_nothing(tls: TLS) -> None:
    api = ImageStreamApi(streams(*NAMES), latency=0.05, refusals=dict(NO_LIST))
    dests = [f"{name}:{tag_name}" for name in NAMES for tag_name in ("old", "new")]
    with serving(api, tls) as client:
        predicted = apply_image_tags(client, *tag(*dests, check_mode=True)).result
        assert api.writes() == []
        assert api.peaks["GET"] > 1
        assert apply_image_tags(client, *tag(*dests)).result == predicted


# --- many streams of one namespace: one LIST ------------------------------------------------------------------------
LISTED = "/apis/image.openshift.io/v1/namespaces/p/imagestreams"


def test_many_streams_of_a_namespace_are_read_by_one_list(tls: TLS) -> None:
    names = NAMES[:LIST_FROM]
    api = ImageStreamApi(streams(*names, "unrelated"))
    with serving(api, tls) as client:
        result = apply_image_tags(client, *tag(*(f"{name}:v1" for name in [*names, "fresh"]))).result
    reads = [(method, path) for method, path in api.requests if method == "GET"]
    assert reads == [("GET", LISTED)]
    assert [api.requests_of(name) for name in names] == [["PUT"]] * len(names)
    assert api.requests_of("fresh") == []  # not in the list: created (POST to the collection)
    assert ("POST", LISTED) in api.requests
    assert [entry["action"] for entry in result["tags"]] == ["created"] * (len(names) + 1)
    assert all(spec_tags(api, name) == ["old", "v1"] for name in [*names])
    assert spec_tags(api, "fresh") == ["v1"]
    assert spec_tags(api, "unrelated") == ["old"]


def test_fewer_streams_of_a_namespace_are_read_one_by_one(tls: TLS) -> None:
    names = NAMES[: LIST_FROM - 1]
    api = ImageStreamApi(streams(*names))
    with serving(api, tls) as client:
        apply_image_tags(client, *tag(*(f"{name}:v1" for name in names)))
    assert ("GET", LISTED) not in api.requests
    assert [api.requests_of(name) for name in names] == [["GET", "PUT"]] * len(names)


def test_where_listing_is_forbidden_each_stream_is_read_with_a_get(tls: TLS) -> None:
    names = NAMES[:LIST_FROM]
    listed_api, got_api = ImageStreamApi(streams(*names)), ImageStreamApi(streams(*names), refusals=dict(NO_LIST))
    dests = [f"{name}:{tag_name}" for name in names for tag_name in ("old", "v1")]
    with serving(listed_api, tls) as client:
        by_list = apply_image_tags(client, *tag(*dests)).result
    with serving(got_api, tls) as client:
        by_get = apply_image_tags(client, *tag(*dests)).result
    assert by_get == by_list
    assert got_api.requests[0] == ("GET", LISTED)  # refused, then:
    assert [got_api.requests_of(name) for name in names] == [["GET", "PUT"]] * len(names)
    assert {key: stream["spec"] for key, stream in got_api.streams.items()} == {
        key: stream["spec"] for key, stream in listed_api.streams.items()
    }


def test_a_list_failing_otherwise_is_raised_and_nothing_is_written(tls: TLS) -> None:
    api = ImageStreamApi(streams(*NAMES), refusals={("GET", ""): Refusal(503, "ServiceUnavailable")})
    with serving(api, tls) as client, pytest.raises(ImagesError, match="503"):
        apply_image_tags(client, *tag(*(f"{name}:v1" for name in NAMES)))
    assert api.writes() == []


def test_each_namespace_with_many_streams_is_listed_once() -> None:
    many = {("a", name): image_stream(name, "a") for name in NAMES}
    few = {("b", name): image_stream(name, "b") for name in NAMES[:2]}
    api = ImageStreamApi({**many, **few})
    dests = [f"a/{name}:v1" for name in NAMES] + [f"b/{name}:v1" for name in NAMES[:2]]
    with serving(api, None) as client:
        apply_image_tags(client, *tag(*dests))
    reads = sorted(path for method, path in api.requests if method == "GET")
    assert reads == [
        "/apis/image.openshift.io/v1/namespaces/a/imagestreams",
        *(f"/apis/image.openshift.io/v1/namespaces/b/imagestreams/{name}" for name in NAMES[:2]),
    ]


# --- a failure: no new writes, a report in the order of dest ---------------------------------------------------------
@pytest.mark.parametrize(
    ("refusal", "message"),
    [
        (
            Refusal(403, "Forbidden", in_flight=STREAM_WORKERS),
            "PUT /apis/image.openshift.io/v1/namespaces/p/imagestreams/s03 ",
        ),
        (
            Refusal(422, "Invalid", in_flight=STREAM_WORKERS),
            "PUT /apis/image.openshift.io/v1/namespaces/p/imagestreams/s03:",
        ),
        # a lost answer: read again, written again, five times
        (
            Refusal(500, "InternalError", in_flight=STREAM_WORKERS),
            "writes of /apis/image.openshift.io/v1/namespaces/p/imagestreams/s03 were lost",
        ),
    ],
    ids=["403", "422", "500"],
)
def test_one_stream_failing_stops_new_writes_and_names_every_tag_written(
    tls: TLS, refusal: Refusal, message: str
) -> None:
    # s03 fails first, once the first eight writes are under way and long before any other is answered: s08 and s09
    # are not started
    api = ImageStreamApi(streams(*NAMES), latency=0.5, delays={"s03": 0.0}, refusals={("PUT", "s03"): refusal})
    with serving(api, tls) as client, pytest.raises(PartialChangeError) as raised:
        apply_image_tags(client, *tag(*(f"{name}:v1" for name in NAMES)))
    written = [f"p/{name}:v1" for name in ("s00", "s01", "s02", "s04", "s05", "s06", "s07")]
    assert message in str(raised.value)
    assert str(raised.value).endswith(
        f" (not touched: p/s08:v1, p/s09:v1; already changed before this error: {', '.join(written)}: run the task "
        "again once the cause is fixed)"
    )
    assert raised.value.result == {"changed": True, "written": written}
    assert [name for name in NAMES if "v1" in spec_tags(api, name)] == [dest[2:5] for dest in written]
    assert [method for method, _path in api.writes() if _path.endswith(("s08", "s09"))] == []


def test_the_first_error_in_dest_order_is_reported_whichever_came_first(tls: TLS) -> None:
    # s05 fails first, s02 later: the report leads with s02's error and lists s05 as failed too
    refusals = {
        ("PUT", "s02"): Refusal(403, "Forbidden"),
        ("PUT", "s05"): Refusal(422, "Invalid", in_flight=STREAM_WORKERS),
    }
    api = ImageStreamApi(streams(*NAMES), latency=0.5, delays={"s05": 0.0}, refusals=refusals)
    with serving(api, tls) as client, pytest.raises(PartialChangeError) as raised:
        apply_image_tags(client, *tag(*(f"{name}:v1" for name in NAMES)))
    message = str(raised.value)
    assert message.startswith("PUT /apis/image.openshift.io/v1/namespaces/p/imagestreams/s02"), message
    written = ", ".join(f"p/{name}:v1" for name in ("s00", "s01", "s03", "s04", "s06", "s07"))
    assert message.endswith(
        f" (also failed: p/s05; not touched: p/s08:v1, p/s09:v1; already changed before this error: {written}: run "
        "the task again once the cause is fixed)"
    ), message


def test_a_stream_whose_lost_write_could_not_be_read_back_is_named_as_uncertain(tls: TLS) -> None:
    refusals = {
        ("PUT", "s00"): Refusal(403, "Forbidden", in_flight=3),
        ("PUT", "s02"): Refusal(500, "InternalError"),
        ("GET", "s02"): Refusal(500, "InternalError", after=1),  # its first read, before the writes, succeeds
    }
    api = ImageStreamApi(streams(*NAMES[:3]), latency=0.05, refusals=refusals)
    with serving(api, tls) as client, pytest.raises(PartialChangeError) as raised:
        apply_image_tags(client, *tag(*(f"{name}:v1" for name in NAMES[:3])))
    assert re.search(
        r"^PUT \S+/imagestreams/s00 .* \(also failed: p/s02 \(its write may or may not have been applied\); already "
        r"changed before this error: p/s01:v1: run the task again once the cause is fixed\)$",
        str(raised.value),
        flags=re.DOTALL,
    ), str(raised.value)


def test_when_nothing_was_written_the_first_error_in_dest_order_is_raised_as_it_is(tls: TLS) -> None:
    refusals = {("PUT", "s00"): Refusal(403, "Forbidden", in_flight=2), ("PUT", "s01"): Refusal(422, "Invalid")}
    api = ImageStreamApi(streams(*NAMES[:2]), delays={"s01": 0.2}, refusals=refusals)
    with serving(api, tls) as client, pytest.raises(UnprocessableError) as raised:
        apply_image_tags(client, *tag("s01:v1", "s00:v1"))
    assert str(raised.value).startswith("PUT /apis/image.openshift.io/v1/namespaces/p/imagestreams/s01")
    assert "already changed" not in str(raised.value)


def test_a_removal_failing_halfway_names_the_tags_it_removed(tls: TLS) -> None:
    # s01's second DELETE is refused: its first tag is gone, and said so, as are both of s00's
    api = ImageStreamApi(
        streams("s00", "s01", tags=("a", "b")),
        latency=0.05,
        refusals={("DELETE", "s01"): Refusal(403, "Forbidden", after=1)},
    )
    with serving(api, tls) as client, pytest.raises(PartialChangeError) as raised:
        apply_image_tags(client, *tag("s00:a", "s01:a", "s00:b", "s01:b", state="absent"))
    assert str(raised.value).startswith("DELETE /apis/image.openshift.io/v1/namespaces/p/imagestreamtags/s01:b ")
    assert str(raised.value).endswith(
        " (already changed before this error: p/s00:a, p/s01:a, p/s00:b: run the task again once the cause is fixed)"
    )
    assert raised.value.result["written"] == ["p/s00:a", "p/s01:a", "p/s00:b"]
    assert (spec_tags(api, "s00"), spec_tags(api, "s01")) == ([], ["b"])


def test_a_defect_in_one_stream_is_raised_as_it_is_once_the_others_have_finished() -> None:
    finished: list[int] = []
    all_started = threading.Barrier(4)

    def work(index: int) -> None:
        all_started.wait()
        if index == 1:
            raise KeyError("a defect")
        if index == 2:
            raise ForbiddenError("refused", status=403)
        time.sleep(0.1)
        finished.append(index)

    with pytest.raises(KeyError, match="a defect"):
        image_tag_apply._run_in_order(4, work)
    assert sorted(finished) == [0, 3]


# --- the same results as one stream after another --------------------------------------------------------------------
@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[tuple[str, str], dict[str, Any]], ImageTagRequest, RunContext]:
    """Streams (some missing) with some of the tags a, b, c, and a request naming some of those tags."""
    names = draw(st.lists(st.sampled_from(NAMES[:6]), min_size=1, max_size=6, unique=True))
    stored = {}
    for name in names:
        if draw(st.booleans()):
            held = draw(st.lists(st.sampled_from(["a", "b", "c"]), unique=True))
            sources = {tag_name: draw(st.sampled_from([SOURCE, "quay.io/org/tool:1.3"])) for tag_name in held}
            stored["p", name] = image_stream(name, "p", sources=sources, images=dict.fromkeys(held))
    pairs = st.tuples(st.sampled_from(names), st.sampled_from(["a", "b", "c"]))
    dests = draw(st.lists(pairs, min_size=1, max_size=12, unique=True))
    state = draw(st.sampled_from(["present", "absent"]))
    request, _run = tag(*(f"{name}:{tag_name}" for name, tag_name in dests), state=state)
    return stored, request, RunContext(check_mode=draw(st.booleans()), want_diff=draw(st.booleans()))


@pytest.fixture(scope="module")
def shared_api() -> Iterator[tuple[ImageStreamApi, KubeClient]]:
    """One API for every example (plain HTTP: the examples are many), each answer after a few milliseconds so that
    requests overlap."""
    api = ImageStreamApi(latency=0.003)
    with serving(api, None) as client:
        yield api, client


@settings(max_examples=100)
@given(scenario=scenarios())
def test_the_results_are_those_of_one_stream_after_another(
    shared_api: tuple[ImageStreamApi, KubeClient],
    scenario: tuple[dict[tuple[str, str], dict[str, Any]], ImageTagRequest, RunContext],
) -> None:
    api, client = shared_api
    stored, request, run = scenario
    outcomes = []
    for workers in (1, STREAM_WORKERS):
        api.streams = copy.deepcopy(stored)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(image_tag_apply, "STREAM_WORKERS", workers)
            result = apply_image_tags(client, request, run).result
        outcomes.append((result, {key: stream["spec"]["tags"] for key, stream in api.streams.items()}))
    assert outcomes[0] == outcomes[1]
