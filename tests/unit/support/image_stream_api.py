"""An image API stand-in for ``image_tag``'s tests: ImageStreams held in memory behind the endpoints the module uses
(GET, LIST, POST and PUT of imagestreams with the resourceVersion checked, DELETE of imagestreamtags under a uid
precondition, and SelfSubjectAccessReviews, always allowed), served by the recording server of
``registry_server.py``. Each answer waits ``latency`` seconds, the most requests in flight at once are recorded, and
a test scripts refusals and conflicts per stream."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import Answer, Seen
from ansible_collections.openshift_ops.images.tests.unit.support.watch_server import JSON, status

STREAMS = "/apis/image.openshift.io/v1/namespaces/"
REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
WRITES = ("POST", "PUT", "DELETE")
# A spec tag another writer adds to a stream when the test scripts a conflict for it.
THEIRS = {"name": "theirs", "from": {"kind": "DockerImage", "name": "quay.io/other/theirs:1"}, "reference": True}


@dataclass(frozen=True)
class Refusal:
    """The answer to one method on one stream, once ``after`` of those requests were answered as usual: a Status
    with ``code`` and ``reason``, sent only when ``in_flight`` requests of that method are under way (itself
    included), so that a test knows which others had started when it failed."""

    code: int
    reason: str
    after: int = 0
    in_flight: int = 0


@dataclass
class ImageStreamApi:
    """``streams`` by (namespace, name); each answer waits ``latency`` seconds, or ``delays`` of its stream's name;
    ``refusals`` by (method, stream name); ``conflicts``: how many PUTs of a stream are answered 409, each after
    another writer added ``THEIRS`` to it. ``requests`` holds (method, path) of every request in the order they
    arrived, ``peaks`` the most requests of each method in flight at once and ``peak`` of any method."""

    streams: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    latency: float = 0.0
    delays: dict[str, float] = field(default_factory=dict)
    refusals: dict[tuple[str, str], Refusal] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    peaks: Counter[str] = field(default_factory=Counter)
    peak: int = 0
    _in_flight: Counter[str] = field(default_factory=Counter)
    _version: int = 100
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, seen: Seen) -> Answer:
        method, path = seen.method, unquote(urlsplit(seen.path).path)
        name = _stream_name(path)
        with self._lock:
            refusal = self.refusals.get((method, name))
            if refusal is not None and self.requests_of(name).count(method) < refusal.after:
                refusal = None
            self.requests.append((method, path))
            self._in_flight[method] += 1
            self.peaks[method] = max(self.peaks[method], self._in_flight[method])
            self.peak = max(self.peak, self._in_flight.total())
        try:
            if refusal is not None:
                self._wait_for(method, refusal.in_flight)
            time.sleep(self.delays.get(name, self.latency))
            with self._lock:
                if refusal is not None:
                    return status(refusal.code, refusal.reason, f"{method} {path} refused by the test")
                return self._answer(method, path, json.loads(seen.body) if seen.body else None)
        finally:
            with self._lock:
                self._in_flight[method] -= 1

    def _wait_for(self, method: str, in_flight: int) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight[method] >= in_flight:
                    return
            time.sleep(0.005)
        raise AssertionError(f"{in_flight} {method} requests were never in flight at once")

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path in self.requests if method in WRITES and path != REVIEWS]

    def requests_of(self, name: str) -> list[str]:
        """The methods sent to stream ``name`` (its imagestreams and imagestreamtags paths), in order."""
        return [method for method, path in self.requests if _stream_name(path) == name]

    # -- the API -------------------------------------------------------------------------------------------------

    def _answer(self, method: str, path: str, body: Any) -> Answer:
        if path == REVIEWS and method == "POST":
            return _ok({**body, "status": {"allowed": True}})
        namespace, _sep, rest = path.removeprefix(STREAMS).partition("/")
        kind, _sep, name = rest.partition("/")
        if kind == "imagestreams" and not name and method in ("GET", "POST"):
            return self._list(namespace) if method == "GET" else self._create(namespace, body)
        if kind == "imagestreams" and method == "GET":
            stream = self.streams.get((namespace, name))
            return _ok(stream) if stream is not None else _not_found(path)
        if kind == "imagestreams" and method == "PUT":
            return self._replace(namespace, name, body, path)
        if kind == "imagestreamtags" and method == "DELETE":
            stream_name, _sep, tag = name.partition(":")
            return self._delete_tag(namespace, stream_name, tag, body, path)
        return status(405, "MethodNotAllowed", f"{method} {path} is not served by the stand-in")

    def _list(self, namespace: str) -> Answer:
        """All of them in one page, their items without kind and apiVersion, as the API server lists."""
        items = [
            {key: value for key, value in stream.items() if key not in ("kind", "apiVersion")}
            for (stream_namespace, _name), stream in sorted(self.streams.items())
            if stream_namespace == namespace
        ]
        metadata = {"resourceVersion": str(self._version)}
        return _ok(
            {"kind": "ImageStreamList", "apiVersion": "image.openshift.io/v1", "metadata": metadata, "items": items}
        )

    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def _create(self, namespace: str, body: dict[str, Any]) -> Answer:
        name = body["metadata"]["name"]
        if (namespace, name) in self.streams:
            return status(409, "AlreadyExists", f'imagestreams.image.openshift.io "{name}" already exists')
        metadata = {**body["metadata"], "resourceVersion": self._next_version(), "uid": f"uid-{namespace}-{name}"}
        self.streams[namespace, name] = {**body, "metadata": metadata}
        return _ok(self.streams[namespace, name], code=201)

    def _replace(self, namespace: str, name: str, body: dict[str, Any], path: str) -> Answer:
        stored = self.streams.get((namespace, name))
        if stored is None:
            return _not_found(path)
        if self.conflicts.get(name):
            self.conflicts[name] -= 1
            stored["spec"]["tags"] = [*stored["spec"].get("tags", []), copy.deepcopy(THEIRS)]
            stored["metadata"]["resourceVersion"] = self._next_version()
        if body["metadata"].get("resourceVersion") != stored["metadata"]["resourceVersion"]:
            message = f'Operation cannot be fulfilled on imagestreams.image.openshift.io "{name}": the object has been'
            return status(409, "Conflict", f"{message} modified; please apply your changes to the latest version")
        self.streams[namespace, name] = {
            **body,
            "metadata": {**body["metadata"], "resourceVersion": self._next_version()},
        }
        return _ok(self.streams[namespace, name])

    def _delete_tag(self, namespace: str, name: str, tag: str, body: dict[str, Any] | None, path: str) -> Answer:
        stored = self.streams.get((namespace, name))
        if stored is None:
            return _not_found(path)
        uid = ((body or {}).get("preconditions") or {}).get("uid")
        if uid is not None and uid != stored["metadata"].get("uid"):
            return status(409, "Conflict", f"Precondition failed: UID in precondition: {uid}")
        spec_tags = stored["spec"].get("tags") or []
        status_tags = (stored.get("status") or {}).get("tags") or []
        if not any(entry["name"] == tag for entry in spec_tags) and not any(
            entry["tag"] == tag for entry in status_tags
        ):
            return _not_found(path)
        stored["spec"]["tags"] = [entry for entry in spec_tags if entry["name"] != tag]
        if status_tags:
            stored["status"]["tags"] = [entry for entry in status_tags if entry["tag"] != tag]
        stored["metadata"]["resourceVersion"] = self._next_version()
        return _ok({"kind": "Status", "apiVersion": "v1", "status": "Success"})


def _stream_name(path: str) -> str:
    """The stream an imagestreams or imagestreamtags path names ("" for the collection and other paths)."""
    parts = path.removeprefix(STREAMS).split("/")
    return parts[2].partition(":")[0] if path.startswith(STREAMS) and len(parts) == 3 else ""


def _ok(document: dict[str, Any], *, code: int = 200) -> Answer:
    return code, JSON, json.dumps(document).encode()


def _not_found(path: str) -> Answer:
    return status(404, "NotFound", f"{path} not found")
