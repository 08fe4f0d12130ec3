"""An API server stand-in for the watch's tests: the recording server of ``registry_server.py`` answering list and
watch requests of one collection from a script, in order; a watch asked for beyond the script is held open, silent,
until the server stops."""

from __future__ import annotations

import json
import ssl
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import (
    Answer,
    RecordingRegistry,
    Seen,
    Streamed,
)

JSON = {"Content-Type": "application/json"}


def status(code: int, reason: str, message: str) -> Answer:
    """An error answer with the API's Status object."""
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason}
    return code, JSON, json.dumps({**body, "code": code}).encode()


def watch(*lines: bytes, ending: Literal["end", "drop", "hold"] = "end") -> Answer:
    """A watch answer streaming ``lines`` (one chunk each), then ending as ``Streamed`` says."""
    return 200, JSON, Streamed(list(lines), ending=ending)


def listed(body: bytes) -> Answer:
    return 200, JSON, body


@dataclass
class WatchScript:
    """The answers to lists (GETs without ``watch``) and to watches, each taken in turn."""

    lists: deque[Answer] = field(default_factory=deque)
    watches: deque[Answer] = field(default_factory=deque)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, query) of each request
    lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, seen: Seen) -> Answer:
        parts = urlsplit(seen.path)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append((parts.path, query))
            if query.get("watch"):
                return self.watches.popleft() if self.watches else watch(ending="hold")
            return self.lists.popleft() if self.lists else status(500, "InternalError", "no list in the script")

    def watch_queries(self) -> list[dict[str, str]]:
        with self.lock:
            return [query for _path, query in self.requests if query.get("watch")]

    def list_queries(self) -> list[dict[str, str]]:
        with self.lock:
            return [query for _path, query in self.requests if not query.get("watch")]


def serve(
    script: WatchScript,
    *,
    lists: Iterable[Answer] = (),
    watches: Iterable[Answer] = (),
    port: int = 0,
    context: ssl.SSLContext | None = None,
) -> RecordingRegistry:
    """A recording server answering from ``script``, with ``lists`` and ``watches`` added to it; HTTPS with a server
    ``context``."""
    script.lists.extend(lists)
    script.watches.extend(watches)
    return RecordingRegistry(script.route, context=context, port=port)
