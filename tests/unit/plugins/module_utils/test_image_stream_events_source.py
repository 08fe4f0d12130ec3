"""The image_stream_events source as ansible-rulebook runs it: its arguments, its events on an asyncio queue from a
loopback server streaming watch JSON, and no credential in its log or its errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ForbiddenError, InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.changes import EVENT_KEY
from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.request import (
    ImageStreamEventsRequest,
    validated_arguments,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.source import (
    MASK,
    SecretRedaction,
    run_event_source,
)
from ansible_collections.openshift_ops.images.tests.unit.support.image_streams import (
    digest,
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

A, B = digest("a"), digest("b")
TOKEN = "sha256~source-token-9876543210"
LOG = logging.getLogger("test_image_stream_events")

# ---------------------------------------------------------------------------------------------------------------
# Arguments


def test_arguments_are_checked_as_module_options_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_AUTH_HOST", "https://api.example.com:6443")
    params = validated_arguments(
        {"namespaces": "builds, prod", "emit_existing": "yes", "verify_ssl": "no", "eda_feedback_queue": object()}
    )
    assert (params["host"], params["validate_certs"], params["emit_existing"]) == (
        "https://api.example.com:6443",
        False,
        True,
    )
    request = ImageStreamEventsRequest.from_params(params)
    assert request == ImageStreamEventsRequest(namespaces=("builds", "prod"), emit_existing=True)
    assert request.paths == (
        "/apis/image.openshift.io/v1/namespaces/builds/imagestreams",
        "/apis/image.openshift.io/v1/namespaces/prod/imagestreams",
    )


def test_no_namespaces_watch_every_namespace_and_repeats_are_dropped() -> None:
    assert ImageStreamEventsRequest.from_params(validated_arguments({})).paths == (
        "/apis/image.openshift.io/v1/imagestreams",
    )
    assert ImageStreamEventsRequest.from_params({"namespaces": ["a", "b", "a"]}).namespaces == ("a", "b")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"namespace": "builds"}, "unsupported arguments: namespace. Supported parameters include: "),
        ({"emit_existing": "sometimes"}, "argument 'emit_existing' is of type str"),
        ({"request_timeout": "soon"}, "argument 'request_timeout'"),
    ],
)
def test_bad_arguments_are_named(args: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^image_stream_events: .*{message}"):
        validated_arguments(args)


def test_a_bad_namespace_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="namespaces: 'Builds' is not a valid namespace name"):
        ImageStreamEventsRequest.from_params({"namespaces": ["Builds"]})


# ---------------------------------------------------------------------------------------------------------------
# Redaction


def test_redaction_hides_the_longest_secret_first() -> None:
    redaction = SecretRedaction()
    redaction.hide(["abc", "abcdef", ""])
    assert redaction.redact("x abcdef y abc") == f"x {MASK} y {MASK}"
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "token %s in %s", ("abcdef", "here"), None)
    assert redaction.filter(record)
    assert record.getMessage() == f"token {MASK} in here"
    untouched = logging.LogRecord("x", logging.WARNING, __file__, 1, "nothing %s", ("secret",), None)
    assert redaction.filter(untouched)
    assert (untouched.msg, untouched.args) == ("nothing %s", ("secret",))


# ---------------------------------------------------------------------------------------------------------------
# Events from a loopback server


def source_args(base: str, **more: Any) -> dict[str, Any]:
    return {"host": base, "api_key": TOKEN, "request_timeout": 5, "namespaces": ["builds"], **more}


async def _events(args: dict[str, Any], count: int, until: Callable[[], bool]) -> list[dict[str, Any]]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(run_event_source(queue, args, log=LOG))
    try:
        found = [await asyncio.wait_for(queue.get(), 10) for _event in range(count)]
        deadline = asyncio.get_running_loop().time() + 10
        while not until():
            assert asyncio.get_running_loop().time() < deadline, "the source never got there"
            await asyncio.sleep(0.01)
        return found
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def events(args: dict[str, Any], count: int, *, until: Callable[[], bool] = lambda: True) -> list[dict[str, Any]]:
    """The first ``count`` events of the source, which is then (once ``until()`` holds) cancelled as
    ansible-rulebook stops it."""
    return asyncio.run(_events(args, count, until))


def failure(args: dict[str, Any]) -> BaseException:
    """What the source ends with."""

    async def scenario() -> BaseException:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        try:
            await asyncio.wait_for(run_event_source(queue, args, log=LOG), 15)
        except Exception as error:  # handed to the test
            return error
        raise AssertionError("the source ended without an error")

    return asyncio.run(scenario())


def test_events_of_a_changed_tag_reach_the_queue_as_plain_data() -> None:
    v5 = image_stream(resource_version="5", images={"latest": A})
    v6 = image_stream(resource_version="6", images={"latest": B, "new": A})
    script = WatchScript()
    with serve(script, lists=[listed(stream_list([v5], "5"))], watches=[watch(watch_line("MODIFIED", v6))]) as server:
        found = events(source_args(server.base), 2)
    assert [(event[EVENT_KEY]["change"], event[EVENT_KEY]["tag"]) for event in found] == [
        ("image_changed", "latest"),
        ("tag_added", "new"),
    ]
    assert json.loads(json.dumps(found)) == found
    assert {path for path, _query in script.requests} == {"/apis/image.openshift.io/v1/namespaces/builds/imagestreams"}


def test_emit_existing_reports_the_tags_found_at_start() -> None:
    v5 = image_stream(resource_version="5", images={"latest": A, "stable": B})
    with serve(WatchScript(), lists=[listed(stream_list([v5], "5"))]) as server:
        found = events(source_args(server.base, emit_existing=True), 2)
    assert [(event[EVENT_KEY]["change"], event[EVENT_KEY]["image"]) for event in found] == [
        ("tag_added", A),
        ("tag_added", B),
    ]


def test_one_watch_per_namespace() -> None:
    script = WatchScript()
    streams = [
        image_stream("x", resource_version="5", images={"v1": A}),
        image_stream("y", resource_version="6", images={"v2": B}),
    ]
    lists = [listed(stream_list([streams[0]], "5")), listed(stream_list([streams[1]], "6"))]
    with serve(script, lists=lists) as server:
        # one event from each namespace's list: both lists were sent before the source stops, however slow the machine
        found = events(source_args(server.base, namespaces=["builds", "prod"], emit_existing=True), 2)
    assert sorted(event[EVENT_KEY]["tag"] for event in found) == ["v1", "v2"]
    assert sorted(path for path, query in script.requests if "watch" not in query) == [
        "/apis/image.openshift.io/v1/namespaces/builds/imagestreams",
        "/apis/image.openshift.io/v1/namespaces/prod/imagestreams",
    ]


def test_every_namespace_without_the_right_to_list_them_says_what_to_do() -> None:
    denied = status(403, "Forbidden", 'imagestreams.image.openshift.io is forbidden: User "dev" cannot list')
    script = WatchScript()
    with serve(script, lists=[denied]) as server:
        error = failure(source_args(server.base, namespaces=[]))
    assert isinstance(error, ForbiddenError)  # the type ansible-rulebook names
    assert "forbidden (403)" in str(error)
    assert "set namespaces to the projects to watch" in str(error)
    assert [path for path, _query in script.requests] == ["/apis/image.openshift.io/v1/imagestreams"]


def test_bad_arguments_fail_before_connecting() -> None:
    script = WatchScript()
    with serve(script) as server:
        error = failure(source_args(server.base, namespaces=["Not_A_Namespace"]))
    assert isinstance(error, InvalidInputError)
    assert script.requests == []


def test_no_credential_reaches_the_log_or_the_error(caplog: pytest.LogCaptureFixture) -> None:
    """A server that echoes the token in its messages (seen in proxies and webhooks): the source's log and the
    error it ends with show a mask instead; the token was sent all along."""
    v5, v6 = image_stream(resource_version="5"), image_stream(resource_version="6", images={"latest": A})
    echo = status(503, "ServiceUnavailable", f"webhook down while checking Bearer {TOKEN}")
    watches = [watch(watch_line("MODIFIED", v6), ending="drop"), echo]
    with caplog.at_level(logging.DEBUG, logger=LOG.name):
        with serve(WatchScript(), lists=[listed(stream_list([v5], "5"))], watches=watches) as server:
            found = events(
                source_args(server.base), 1, until=lambda: any(MASK in record.getMessage() for record in caplog.records)
            )
        denied = status(403, "Forbidden", f"token {TOKEN} is not allowed to list imagestreams")
        with serve(WatchScript(), lists=[denied]) as server:
            error = failure(source_args(server.base))
    assert found[0][EVENT_KEY]["change"] == "tag_added"
    assert all(seen.headers["Authorization"] == f"Bearer {TOKEN}" for seen in server.seen)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "webhook down while checking Bearer ********" in logged
    assert TOKEN not in logged
    assert TOKEN not in str(error) and MASK in str(error)
    assert TOKEN not in json.dumps(found)
