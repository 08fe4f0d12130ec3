"""The watch (``_kube/watch.py``): its pure cache and event decoding, the property that re-lists lose and repeat
nothing, and the list-and-watch loop against a loopback server that streams watch JSON as the API server does."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ForbiddenError, KubeConnectionError
from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.changes import (
    EVENT_KEY,
    tag_events,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.exec_credential import ExecCredential
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.watch import (
    RECONNECT_BASE,
    RECONNECT_CAP,
    Change,
    ListWatch,
    ObjectCache,
    WatchExpired,
    WatchStreamError,
    decode_event,
    reconnect_delay,
)
from ansible_collections.openshift_ops.images.tests.unit.support.certificates import loopback_tls, new_authority
from ansible_collections.openshift_ops.images.tests.unit.support.image_streams import (
    bookmark,
    digest,
    expired,
    image_stream,
    stream_list,
    watch_line,
)
from ansible_collections.openshift_ops.images.tests.unit.support.watch_server import (
    WatchScript,
    listed,
    serve,
    status,
    watch,
)

A, B, C = digest("a"), digest("b"), digest("c")
PATH = "/apis/image.openshift.io/v1/namespaces/builds/imagestreams"

# ---------------------------------------------------------------------------------------------------------------
# Decoding the stream


def test_decode_event() -> None:
    stream = image_stream(resource_version="7")
    assert decode_event(watch_line("MODIFIED", stream)) == ("MODIFIED", stream)
    assert decode_event(bookmark("9"))[0] == "BOOKMARK"
    with pytest.raises(WatchExpired, match="too old resource version"):
        decode_event(expired())


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json\n", "not JSON"),
        (b"[1, 2]\n", "not a watch event"),
        (b'{"type": "ADDED"}\n', "not a watch event"),
        (b'{"type": "ERROR", "object": {"code": 500, "reason": "InternalError", "message": "etcd"}}', "500"),
    ],
)
def test_decode_event_refuses_what_is_not_an_event(line: bytes, message: str) -> None:
    with pytest.raises(WatchStreamError, match=message):
        decode_event(line)


# ---------------------------------------------------------------------------------------------------------------
# The cache


def test_cache_applies_watch_events() -> None:
    cache = ObjectCache()
    first, second = image_stream(resource_version="2"), image_stream(resource_version="3", images={"latest": A})
    assert cache.apply("ADDED", first) == Change(None, first)
    assert cache.apply("MODIFIED", second) == Change(first, second)
    assert cache.apply("MODIFIED", second) is None  # seen already
    assert cache.apply("BOOKMARK", {"metadata": {"resourceVersion": "8"}}) is None
    assert cache.resource_version == "8"
    deleted = image_stream(resource_version="9", images={"latest": A})
    assert cache.apply("DELETED", deleted) == Change(second, None)
    assert cache.apply("DELETED", deleted) is None  # never known (any more)
    assert (cache.objects, cache.resource_version) == ({}, "9")
    with pytest.raises(WatchStreamError, match="unknown type 'SYNC'"):
        cache.apply("SYNC", first)


def test_cache_reconciles_a_new_list() -> None:
    cache = ObjectCache()
    same, changed, gone = (image_stream(name, resource_version="1") for name in ("same", "changed", "gone"))
    assert cache.replace([same, changed, gone], "1") == [Change(None, changed), Change(None, gone), Change(None, same)]
    new_version, new = image_stream("changed", resource_version="4"), image_stream("new", resource_version="5")
    other_namespace = image_stream("same", "other", resource_version="3")
    changes = cache.replace([same, new_version, new, other_namespace], "6")
    assert changes == [
        Change(changed, new_version),
        Change(gone, None),
        Change(None, new),
        Change(None, other_namespace),
    ]
    assert cache.replace([same, new_version, new, other_namespace], "7") == []
    assert cache.resource_version == "7"


def test_reconnect_delay_grows_to_its_cap() -> None:
    delays = [reconnect_delay(attempt, 0.99) for attempt in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[0] < 1 and RECONNECT_CAP / 2 <= delays[-1] <= RECONNECT_CAP
    assert reconnect_delay(3, 0.0) == RECONNECT_BASE * 4 / 2


# ---------------------------------------------------------------------------------------------------------------
# Re-lists lose nothing and repeat nothing (the property behind 410 Gone)

STREAMS = ("app", "db", "web")
TAGS = ("latest", "stable")

# One write to the cluster: a stream's tags set to these images (None: the stream deleted).
writes = st.tuples(
    st.sampled_from(STREAMS),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(TAGS), st.sampled_from((A, B, C)), max_size=2)),
)


@dataclass
class Cluster:
    """The image streams of one namespace and its resourceVersion counter."""

    streams: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int = 1

    def write(self, name: str, images: dict[str, str] | None) -> tuple[str, dict[str, Any]] | None:
        """The watch event of the write, None when it deletes a stream that does not exist."""
        self.version += 1
        if images is None:
            gone = self.streams.pop(name, None)
            if gone is None:
                return None
            gone = {**gone, "metadata": {**gone["metadata"], "resourceVersion": str(self.version)}}
            return "DELETED", gone
        kind = "MODIFIED" if name in self.streams else "ADDED"
        self.streams[name] = image_stream(name, resource_version=str(self.version), images=dict(images))
        return kind, self.streams[name]

    def listing(self) -> list[dict[str, Any]]:
        return list(self.streams.values())


def events_of(changes: list[Change]) -> list[dict[str, Any]]:
    return [event[EVENT_KEY] for change in changes for event in tag_events(change.previous, change.current)]


def replay(
    history: list[tuple[str, dict[str, str] | None]], missed: list[bool], relists: list[bool]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Cluster]:
    """The events of ``history`` delivered straight, and delivered by a watch that misses the writes ``missed``
    flags (a watch that broke and expired: it lists again before the next write it sees, and at the end) and lists
    again after each write ``relists`` flags."""
    cluster = Cluster()
    straight, cache = ObjectCache(), ObjectCache()
    straight.replace([], "1")
    cache.replace([], "1")
    direct: list[Change] = []
    watched: list[Change] = []
    behind = False
    for (name, images), miss, relist in zip(history, missed, relists, strict=True):
        if behind and not miss:  # the watch expired after the writes it missed: a new list, then the watch
            watched.extend(cache.replace(cluster.listing(), str(cluster.version)))
            behind = False
        event = cluster.write(name, images)
        if event is None:
            continue
        direct.extend(change for change in [straight.apply(*event)] if change)
        if miss:
            behind = True
            continue
        watched.extend(change for change in [cache.apply(*event)] if change)
        if relist:
            watched.extend(cache.replace(cluster.listing(), str(cluster.version)))
    if behind:
        watched.extend(cache.replace(cluster.listing(), str(cluster.version)))
    return events_of(direct), events_of(watched), cluster


def by_tag(events: list[dict[str, Any]]) -> dict[tuple[str, str], list[tuple[str, str | None, str | None]]]:
    found: dict[tuple[str, str], list[tuple[str, str | None, str | None]]] = {}
    for event in events:
        found.setdefault((event["image_stream"], event["tag"]), []).append(
            (event["change"], event["previous_image"], event["image"])
        )
    return found


@given(st.data())
def test_relists_give_the_same_events_as_the_writes_delivered_straight(data: st.DataObject) -> None:
    """When each stream is written at most once while the watch is behind, a re-list hands on exactly the events
    the missed watch events would have (per tag, in order), and a re-list with nothing missed hands on nothing."""
    history = data.draw(st.lists(writes, max_size=12))
    missed = data.draw(st.lists(st.booleans(), min_size=len(history), max_size=len(history)))
    relists = data.draw(st.lists(st.booleans(), min_size=len(history), max_size=len(history)))
    behind: set[str] = set()  # the streams written while the watch is behind
    for index, (name, _images) in enumerate(history):
        if missed[index] and name in behind:
            missed[index] = False  # seen by the watch: the re-list came before it
        behind = behind | {name} if missed[index] else set()
    direct, watched, _cluster = replay(history, missed, relists)
    assert by_tag(watched) == by_tag(direct)
    assert len(watched) == len(direct)


@given(
    st.lists(writes, max_size=16).flatmap(
        lambda history: st.tuples(
            st.just(history),
            st.lists(st.booleans(), min_size=len(history), max_size=len(history)),
            st.lists(st.booleans(), min_size=len(history), max_size=len(history)),
        )
    )
)
def test_any_relists_lose_no_change_and_repeat_none(
    case: tuple[list[tuple[str, dict[str, str] | None]], list[bool], list[bool]],
) -> None:
    """However many writes a watch misses, each tag's events follow on from each other (no repeat, no gap) and end
    where the cluster ends."""
    history, missed, relists = case
    _direct, watched, cluster = replay(history, missed, relists)
    last: dict[tuple[str, str], str | None] = {}
    for event in watched:
        key = (event["image_stream"], event["tag"])
        assert event["previous_image"] == last.get(key)
        assert event["previous_image"] != event["image"]
        last[key] = event["image"]
    final = {
        (name, tag): image
        for name, stream in cluster.streams.items()
        for tag, image in ((entry["tag"], entry["items"][0]["image"]) for entry in stream["status"]["tags"])
    }
    assert {key: image for key, image in last.items() if image is not None} == final


# ---------------------------------------------------------------------------------------------------------------
# The loop, against a loopback server streaming watch JSON

TOKEN = "sha256~watch-token-0123456789"


@dataclass
class Running:
    watch: ListWatch
    delivered: list[Change]
    errors: list[BaseException]
    thread: threading.Thread

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Change]:
        deadline = time.monotonic() + timeout
        while len(self.delivered) < count and not self.errors and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not self.errors, self.errors
        assert len(self.delivered) >= count, f"{len(self.delivered)} changes delivered, {count} expected"
        return self.delivered


def _label(item: dict[str, Any] | None) -> str | None:
    return None if item is None else f"{item['metadata']['name']}@{item['metadata']['resourceVersion']}"


def versions(changes: list[Change]) -> list[tuple[str | None, str | None]]:
    """Each change as (name@resourceVersion before, after): list items come without kind and apiVersion."""
    return [(_label(change.previous), _label(change.current)) for change in changes]


def versions_of(*pairs: tuple[dict[str, Any] | None, dict[str, Any] | None]) -> list[tuple[str | None, str | None]]:
    return [(_label(before), _label(after)) for before, after in pairs]


def client_of(base: str, **config: Any) -> KubeClient:
    return KubeClient(ClusterConfig(server=base, token=TOKEN, request_timeout=5, **config), sleep=lambda _s: None)


@contextmanager
def running(
    client: KubeClient,
    *,
    emit_initial: bool = False,
    watch_seconds: tuple[float, float] = (30, 30),
    page_size: int = 500,
    refusal_grace: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Running]:
    delivered: list[Change] = []
    errors: list[BaseException] = []
    list_watch = ListWatch(
        client,
        PATH,
        deliver=delivered.extend,
        log=logging.getLogger("test_kube_watch"),
        watch_seconds=watch_seconds,
        page_size=page_size,
        backoff=lambda _attempt, _jitter: 0.01,
        refusal_grace=refusal_grace,
        clock=clock,
    )

    def run() -> None:
        try:
            list_watch.run(emit_initial=emit_initial)
        except BaseException as error:  # handed to the test
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield Running(list_watch, delivered, errors, thread)
    finally:
        list_watch.stop()
        thread.join(timeout=5)
        assert not thread.is_alive(), "stop() did not end the watch"
        client.close()


def test_list_then_watch_hands_on_each_change_and_follows_bookmarks() -> None:
    v5, v6 = image_stream(resource_version="5"), image_stream(resource_version="6", images={"latest": A})
    other = image_stream("other", resource_version="9")
    script = WatchScript()
    lists = [listed(stream_list([v5], "5"))]
    watches = [
        watch(watch_line("MODIFIED", v6), b"\n", bookmark("8")),  # ends as the server's timeoutSeconds does
        watch(watch_line("ADDED", other)),
    ]
    with serve(script, lists=lists, watches=watches) as server, running(client_of(server.base)) as run:
        assert versions(run.wait_for(2)) == versions_of((v5, v6), (None, other))
    first, second, *_more = script.watch_queries()
    assert first == {"watch": "1", "resourceVersion": "5", "allowWatchBookmarks": "true", "timeoutSeconds": "30"}
    assert second["resourceVersion"] == "8"  # the bookmark's
    assert script.list_queries() == [{"limit": "500"}]
    assert all(seen.headers["Authorization"] == f"Bearer {TOKEN}" for seen in server.seen)


def test_the_first_list_is_handed_on_only_when_asked() -> None:
    v5 = image_stream(resource_version="5", images={"latest": A})
    for emit_initial, expected in ((True, versions_of((None, v5))), (False, [])):
        script = WatchScript()
        with serve(script, lists=[listed(stream_list([v5], "5"))]) as server:
            with running(client_of(server.base), emit_initial=emit_initial) as run:
                run.wait_for(len(expected))
                while not script.watch_queries():
                    time.sleep(0.01)
            assert versions(run.delivered) == expected


def test_an_expired_watch_lists_again_and_hands_on_only_what_it_missed() -> None:
    app5, db5 = image_stream("app", resource_version="5"), image_stream("db", resource_version="5")
    app7, cache6 = (
        image_stream("app", resource_version="7", images={"latest": B}),
        image_stream("cache", resource_version="6"),
    )
    script = WatchScript()
    lists = [listed(stream_list([app5, db5], "5")), listed(stream_list([app7, cache6], "10"))]
    with serve(script, lists=lists, watches=[watch(expired())]) as server, running(client_of(server.base)) as run:
        assert versions(run.wait_for(3)) == versions_of((app5, app7), (None, cache6), (db5, None))
        while len(script.watch_queries()) < 2:
            time.sleep(0.01)
    assert [query.get("resourceVersion") for query in script.watch_queries()[:2]] == ["5", "10"]
    assert len(script.list_queries()) == 2


def test_a_410_answer_to_the_watch_lists_again() -> None:
    v5, v6 = image_stream(resource_version="5"), image_stream(resource_version="6", images={"latest": C})
    script = WatchScript()
    lists = [listed(stream_list([v5], "5")), listed(stream_list([v6], "6"))]
    gone = status(410, "Expired", "too old resource version: 5 (6)")
    with serve(script, lists=lists, watches=[gone]) as server, running(client_of(server.base)) as run:
        assert versions(run.wait_for(1)) == versions_of((v5, v6))


def test_a_dropped_connection_resumes_from_the_last_resource_version(caplog: pytest.LogCaptureFixture) -> None:
    v5, v6, v7 = (
        image_stream(resource_version=rv, images={"latest": image}) for rv, image in (("5", A), ("6", B), ("7", C))
    )
    script = WatchScript()
    watches = [watch(watch_line("MODIFIED", v6), ending="drop"), watch(watch_line("MODIFIED", v7))]
    with (
        caplog.at_level(logging.WARNING, logger="test_kube_watch"),
        serve(script, lists=[listed(stream_list([v5], "5"))], watches=watches) as server,
        running(client_of(server.base)) as run,
    ):
        assert versions(run.wait_for(2)) == versions_of((v5, v6), (v6, v7))
    assert [query["resourceVersion"] for query in script.watch_queries()[:2]] == ["5", "6"]
    assert len(script.list_queries()) == 1
    assert any("the watch of" in message and "broke" in message for message in caplog.messages)
    assert any("watching again from resourceVersion 6" in message for message in caplog.messages)


def test_an_api_server_restart_is_waited_out_and_the_watch_resumed(caplog: pytest.LogCaptureFixture) -> None:
    """The server goes away in the middle of a watch (connections refused meanwhile), a new one starts on the same
    port with the same data, and the watch goes on from where it was, without a new list."""
    v5, v6, v7 = (
        image_stream(resource_version=rv, images={"latest": image}) for rv, image in (("5", A), ("6", B), ("7", C))
    )
    before, after = WatchScript(), WatchScript()
    first_watch = watch(watch_line("MODIFIED", v6), ending="hold")
    with caplog.at_level(logging.WARNING, logger="test_kube_watch"), ExitStack() as first_server:
        first = first_server.enter_context(serve(before, lists=[listed(stream_list([v5], "5"))], watches=[first_watch]))
        with running(client_of(first.base)) as run:
            run.wait_for(1)
            first_server.close()  # the API server stops
            while not any("refused" in message for message in caplog.messages):
                time.sleep(0.01)
            with serve(after, watches=[watch(watch_line("MODIFIED", v7))], port=first.port):
                assert versions(run.wait_for(2)) == versions_of((v5, v6), (v6, v7))
    assert after.watch_queries()[0]["resourceVersion"] == "6"
    assert after.list_queries() == []


def test_server_errors_are_retried() -> None:
    v5, v6 = image_stream(resource_version="5"), image_stream(resource_version="6", images={"latest": A})
    script = WatchScript()
    busy = [status(503, "ServiceUnavailable", "apiserver is starting"), status(429, "TooManyRequests", "slow down")]
    watches = [*busy, watch(watch_line("MODIFIED", v6))]
    with (
        serve(script, lists=[listed(stream_list([v5], "5"))], watches=watches) as server,
        running(client_of(server.base)) as run,
    ):
        assert versions(run.wait_for(1)) == versions_of((v5, v6))


ANONYMOUS = 'imagestreams.image.openshift.io is forbidden: User "system:anonymous" cannot watch resource "imagestreams"'


def test_a_refusal_right_after_a_restart_is_retried_and_the_watch_resumed(caplog: pytest.LogCaptureFixture) -> None:
    """An aggregated API server just started answers as system:anonymous until it trusts the front proxy (seen in
    the sandbox's restart test): the refusals are waited out, and nothing is missed or listed again."""
    v5, v6, v7 = (
        image_stream(resource_version=rv, images={"latest": image}) for rv, image in (("5", A), ("6", B), ("7", C))
    )
    script = WatchScript()
    refusals = [status(403, "Forbidden", ANONYMOUS), status(401, "Unauthorized", "Unauthorized")]
    watches = [watch(watch_line("MODIFIED", v6), ending="drop"), *refusals, watch(watch_line("MODIFIED", v7))]
    with (
        caplog.at_level(logging.WARNING, logger="test_kube_watch"),
        serve(script, lists=[listed(stream_list([v5], "5"))], watches=watches) as server,
        running(client_of(server.base)) as run,
    ):
        assert versions(run.wait_for(2)) == versions_of((v5, v6), (v6, v7))
    assert [query["resourceVersion"] for query in script.watch_queries()[:4]] == ["5", "6", "6", "6"]
    assert len(script.list_queries()) == 1
    assert any("forbidden (403)" in message and "retried for up to 60 s" in message for message in caplog.messages)


class SteppedClock:
    """A clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_refusal_that_lasts_past_the_grace_stops_the_watch() -> None:
    v5 = image_stream(resource_version="5")
    denied = status(403, "Forbidden", 'imagestreams.image.openshift.io is forbidden: User "dev" cannot watch')
    script = WatchScript()
    with (
        serve(script, lists=[listed(stream_list([v5], "5"))], watches=[denied] * 10) as server,
        running(client_of(server.base), refusal_grace=60, clock=SteppedClock(25)) as run,
    ):
        run.thread.join(timeout=5)
        [error] = run.errors
    assert isinstance(error, ForbiddenError)
    assert "forbidden (403)" in str(error)
    assert len(script.watch_queries()) == 4  # refused at 25 s, 50 s and 75 s after the first refusal (at 0 s)


def test_a_watch_that_opens_ends_the_refusals_in_a_row() -> None:
    """Refusals separated by a watch the server let open are not added up: each run of them gets the whole grace."""
    v5, v6 = image_stream(resource_version="5"), image_stream(resource_version="6", images={"latest": A})
    denied = status(403, "Forbidden", ANONYMOUS)
    opened = watch(bookmark("5"))
    watches = [denied, denied, opened, denied, denied, opened, watch(watch_line("MODIFIED", v6))]
    script = WatchScript()
    with (
        serve(script, lists=[listed(stream_list([v5], "5"))], watches=watches) as server,
        running(client_of(server.base), refusal_grace=60, clock=SteppedClock(25)) as run,
    ):
        assert versions(run.wait_for(1)) == versions_of((v5, v6))


def test_the_first_list_failing_is_raised() -> None:
    denied = status(403, "Forbidden", 'imagestreams.image.openshift.io is forbidden: User "dev" cannot list')
    with serve(WatchScript(), lists=[denied]) as server, running(client_of(server.base)) as run:
        run.thread.join(timeout=5)
        [error] = run.errors
    assert isinstance(error, ForbiddenError)


def test_a_list_comes_in_pages_and_falls_back_to_one_answer_when_its_token_expires() -> None:
    streams = [image_stream(name, resource_version="3") for name in ("a", "b", "c")]
    script = WatchScript()
    lists = [
        listed(stream_list(streams[:2], "4", continue_token="page-2")),
        status(410, "Expired", "The provided continue parameter is too old"),
        listed(stream_list(streams, "5")),
    ]
    with serve(script, lists=lists) as server, running(client_of(server.base), emit_initial=True, page_size=2) as run:
        assert versions(run.wait_for(3)) == versions_of(*((None, stream) for stream in streams))
        while not script.watch_queries():
            time.sleep(0.01)
    assert script.list_queries() == [{"limit": "2"}, {"limit": "2", "continue": "page-2"}, {}]
    assert script.watch_queries()[0]["resourceVersion"] == "5"


def test_an_exec_credential_refused_mid_run_is_fetched_again() -> None:
    """A watch opened with a token the server no longer accepts runs the exec plugin again, as requests do."""
    issued = iter(["fresh-token-2"])
    refresh: Callable[[], ExecCredential] = lambda: ExecCredential(token=next(issued))  # noqa: E731
    v5, v6 = image_stream(resource_version="5"), image_stream(resource_version="6", images={"latest": A})
    script = WatchScript()
    refused = status(401, "Unauthorized", "Unauthorized")
    with serve(
        script, lists=[listed(stream_list([v5], "5"))], watches=[refused, watch(watch_line("MODIFIED", v6))]
    ) as server:
        with running(client_of(server.base, refresh_credentials=refresh)) as run:
            assert versions(run.wait_for(1)) == versions_of((v5, v6))
        tokens = [seen.headers["Authorization"] for seen in server.seen]
    assert tokens[:3] == [f"Bearer {TOKEN}", f"Bearer {TOKEN}", "Bearer fresh-token-2"]


def test_stop_ends_a_silent_watch_at_once() -> None:
    script = WatchScript()
    with serve(script, lists=[listed(stream_list([], "5"))]) as server, running(client_of(server.base)) as run:
        while not script.watch_queries():
            time.sleep(0.01)
        started = time.monotonic()
        run.watch.stop()
        run.thread.join(timeout=5)
        assert not run.thread.is_alive()
        assert time.monotonic() - started < 2
        assert run.errors == []


def test_a_silent_connection_is_given_up_after_the_idle_timeout() -> None:
    """A watch that sends nothing for its timeoutSeconds plus request_timeout is a dead connection: opened again."""
    v5, v6 = image_stream(resource_version="5"), image_stream(resource_version="6", images={"latest": A})
    script = WatchScript()
    watches = [watch(ending="hold"), watch(watch_line("MODIFIED", v6))]
    with serve(script, lists=[listed(stream_list([v5], "5"))], watches=watches) as server:
        client = KubeClient(ClusterConfig(server=server.base, token=TOKEN, request_timeout=0.2))
        with running(client, watch_seconds=(1, 1)) as run:
            assert versions(run.wait_for(1)) == versions_of((v5, v6))


def test_a_stream_that_cannot_connect_says_where_it_went() -> None:
    with pytest.raises(KubeConnectionError, match=f"^GET {PATH}: connection to 127.0.0.1:1 was refused: nothing"):
        client_of("http://127.0.0.1:1").open_stream(PATH, idle_timeout=1)


def test_a_watch_over_tls_streams_and_stops(tmp_path: Path) -> None:
    authority = new_authority("watch-test cluster CA")
    server_tls, ca_pem = loopback_tls(tmp_path, authority)
    v5, v6 = image_stream(resource_version="5"), image_stream(resource_version="6", images={"latest": A})
    script = WatchScript()
    lists, watches = [listed(stream_list([v5], "5"))], [watch(watch_line("MODIFIED", v6), ending="hold")]
    with serve(script, lists=lists, watches=watches, context=server_tls()) as server:
        client = KubeClient(ClusterConfig(server=server.base, token=TOKEN, ca_data=ca_pem, request_timeout=5))
        with running(client) as run:
            assert versions(run.wait_for(1)) == versions_of((v5, v6))
            started = time.monotonic()
            run.watch.stop()
            run.thread.join(timeout=5)
            assert time.monotonic() - started < 2
    assert server.scheme == "https"
