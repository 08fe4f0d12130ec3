# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""List, then watch, one collection of the API, as client-go's reflector does: the last version of every object is
kept (``ObjectCache``, pure), each change is handed on as (previous, current), a dropped watch resumes from the last
resourceVersion, and an expired one (410 Gone) gives way to a new list reconciled against what was known, so no
change is handed on twice and none is lost. The I/O (``ListWatch``) goes through ``KubeClient``.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ForbiddenError,
    ImagesError,
    KubeApiError,
    KubeConnectionError,
    ServerError,
    TooManyRequestsError,
    UnauthorizedError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._http.transport import LineStream, TransportFailure
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.listing import LIST_PAGE_SIZE, list_all

# The server ends a watch after timeoutSeconds; client-go picks it between 5 and 10 minutes so that watches of many
# clients do not all end together.
WATCH_SECONDS = (300.0, 600.0)
RECONNECT_BASE = 0.5
RECONNECT_CAP = 30.0
# An aggregated API server that has just started serves a moment before it trusts kube-apiserver's front-proxy
# certificate, and answers that moment's requests as system:anonymous (403). Refusals after a working start are
# retried for this long before they are taken as a permission really withdrawn.
REFUSAL_GRACE = 60.0


class Change(NamedTuple):
    """One object before and after a change: ``previous`` None when it is new, ``current`` None when it was
    deleted."""

    previous: dict[str, Any] | None
    current: dict[str, Any] | None


class WatchExpired(Exception):
    """The resourceVersion a watch started from is too old for the server (410 Gone): list again."""


class WatchStreamError(Exception):
    """A watch answer that is not a stream of watch events, or an ERROR event other than 410."""


def object_key(item: Mapping[str, Any]) -> tuple[str, str]:
    metadata = item.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def resource_version(item: Mapping[str, Any]) -> str | None:
    value = (item.get("metadata") or {}).get("resourceVersion")
    return value if isinstance(value, str) and value else None


def decode_event(line: bytes) -> tuple[str, dict[str, Any]]:
    """The type and object of one watch event (one JSON line of the stream). An ERROR event raises: ``WatchExpired``
    for 410, ``WatchStreamError`` otherwise, with the server's message."""
    try:
        event = json.loads(line)
    except ValueError:
        raise WatchStreamError(f"the watch sent a line that is not JSON ({line[:80]!r})") from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("object"), dict)
    ):
        raise WatchStreamError("the watch sent JSON that is not a watch event (type and object)")
    kind, item = event["type"], event["object"]
    if kind == "ERROR":
        if item.get("code") == 410:
            raise WatchExpired(str(item.get("message") or "resourceVersion too old"))
        raise WatchStreamError(
            f"the watch answered with an error: {item.get('code')} {item.get('reason') or ''}: {item.get('message')}"
        )
    return kind, item


class ObjectCache:
    """The last version of every object of one watched collection, and the resourceVersion the watch goes on from."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.resource_version: str | None = None

    def replace(self, items: Iterable[dict[str, Any]], list_resource_version: str | None) -> list[Change]:
        """Take a new list in place of what was known: a change for each object that is new, gone or at another
        resourceVersion (by namespace and name), and none for one seen already."""
        listed = {object_key(item): item for item in items}
        changes = []
        for key in sorted(self.objects.keys() | listed.keys()):
            before, after = self.objects.get(key), listed.get(key)
            if before is None or after is None or resource_version(before) != resource_version(after):
                changes.append(Change(before, after))
        self.objects = listed
        self.resource_version = list_resource_version
        return changes

    def apply(self, kind: str, item: dict[str, Any]) -> Change | None:
        """One watch event: the change it makes, or None (a BOOKMARK, a version seen already, a deletion of an
        object never seen)."""
        self.resource_version = resource_version(item) or self.resource_version
        if kind == "BOOKMARK":
            return None
        key = object_key(item)
        before = self.objects.get(key)
        if kind == "DELETED":
            self.objects.pop(key, None)
            return None if before is None else Change(before, None)
        if kind not in ("ADDED", "MODIFIED"):
            raise WatchStreamError(f"the watch sent an event of unknown type {kind!r}")
        if before is not None and resource_version(before) == resource_version(item):
            return None
        self.objects[key] = item
        return Change(before, item)


def reconnect_delay(attempt: int, jitter: float) -> float:
    """Seconds before watching or listing again after ``attempt`` (1-based) failures in a row, scaled by ``jitter``
    in [0, 1) into 50-100 %."""
    return min(RECONNECT_CAP, RECONNECT_BASE * 2 ** (attempt - 1)) * (0.5 + jitter / 2)


def _retryable(error: Exception) -> bool:
    """A failure that heals by itself: the server restarting or overloaded, the network. Refused credentials or
    permissions, a missing API and bad configuration do not."""
    return isinstance(error, KubeConnectionError | ServerError | TooManyRequestsError | WatchStreamError)


def _refused(error: Exception) -> bool:
    return isinstance(error, UnauthorizedError | ForbiddenError)


def _expired(error: Exception) -> bool:
    return isinstance(error, WatchExpired) or (isinstance(error, KubeApiError) and error.status == 410)


class ListWatch:
    """Lists ``path`` (a collection's API path), then watches it from the list's resourceVersion, handing each change
    to ``deliver`` (in this thread, in order) until ``stop`` is called from another thread.

    The first list must succeed: its failure is raised. Afterwards a broken watch is opened again from the last
    resourceVersion after a backoff, a 410 Gone lists again (the changes since are reconciled against the cache),
    a 401 or 403 is retried the same way until refusals in a row have lasted ``refusal_grace`` seconds (a server
    restarting refuses for a moment), and failures that cannot heal by themselves (a refusal that lasts, 404, bad
    configuration) are raised.
    """

    def __init__(
        self,
        client: KubeClient,
        path: str,
        *,
        deliver: Callable[[list[Change]], None],
        log: logging.Logger,
        watch_seconds: tuple[float, float] = WATCH_SECONDS,
        page_size: int = LIST_PAGE_SIZE,
        rng: random.Random | None = None,
        backoff: Callable[[int, float], float] = reconnect_delay,
        refusal_grace: float = REFUSAL_GRACE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.path = path
        self.cache = ObjectCache()
        self._deliver = deliver
        self._log = log
        self._watch_seconds = watch_seconds
        self._page_size = page_size
        self._backoff = backoff
        self._refusal_grace = refusal_grace
        self._clock = clock
        self._refused_since: float | None = None  # when the refusals in a row began
        self._random = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._stream: LineStream | None = None  # the one being read, for stop()
        self._heard = False  # the current watch has sent something

    def stop(self) -> None:
        """End ``run`` from another thread: a wait or a read in progress ends at once."""
        self._stopped.set()
        with self._lock:
            if self._stream is not None:
                self._stream.abort()

    def run(self, *, emit_initial: bool = False) -> None:
        """List, then watch until stopped. ``emit_initial``: hand on the objects of the first list as new ones."""
        initial = self.cache.replace(*self._list())
        self._log.info(
            "listed %d objects of %s at resourceVersion %s", len(initial), self.path, self.cache.resource_version
        )
        if emit_initial and initial:
            self._deliver(initial)
        failures = 0
        relist = False
        while not self._stopped.is_set():
            self._heard = False
            try:
                if relist:
                    changes = self.cache.replace(*self._list())
                    relist = False
                    self._refused_since = None
                    self._log.info(
                        "listed %s again at resourceVersion %s: %d objects changed meanwhile",
                        self.path,
                        self.cache.resource_version,
                        len(changes),
                    )
                    if changes:
                        self._deliver(changes)
                self._watch()
            except (ImagesError, WatchExpired, WatchStreamError) as error:
                if _expired(error) and not relist:
                    self._log.info(
                        "the watch of %s expired at resourceVersion %s (410 Gone: %s); listing again",
                        self.path,
                        self.cache.resource_version,
                        error,
                    )
                    relist = True
                    continue
                reason = str(error)
                if _refused(error):
                    if not self._refusal_tolerated():
                        raise
                    reason += f" (retried for up to {self._refusal_grace:g} s: a server just started refuses a moment)"
                elif not (_retryable(error) or _expired(error)):
                    raise
                failures = 1 if self._heard else failures + 1  # a watch that worked a while starts the backoff anew
                self._wait_after(failures, reason, relist)
                continue
            if self._heard:  # the server ended the watch (its timeoutSeconds): watch again at once
                failures = 0
            else:  # ended at once without a word: not a server to hammer
                failures += 1
                self._wait_after(failures, "the watch ended without sending anything", relist)

    # -- internals ---------------------------------------------------------------------------------------------

    def _list(self) -> tuple[list[dict[str, Any]], str | None]:
        return list_all(self.client, self.path, page_size=self._page_size)

    def _watch(self) -> None:
        """One watch from the cache's resourceVersion, read until the server ends it (or ``stop``); ``_heard`` tells
        whether it sent anything. Raises what opening it raises, ``WatchExpired`` and ``WatchStreamError``, and
        ``KubeConnectionError`` when the connection breaks or stays silent too long."""
        seconds = int(self._random.uniform(*self._watch_seconds))
        query = {"watch": "1", "allowWatchBookmarks": "true", "timeoutSeconds": str(seconds)}
        if self.cache.resource_version:
            query["resourceVersion"] = self.cache.resource_version
        idle_timeout = seconds + self.client.config.request_timeout
        self._log.debug("watching %s from resourceVersion %s", self.path, self.cache.resource_version)
        stream = self.client.open_stream(self.path, query=query, idle_timeout=idle_timeout)
        self._refused_since = None  # the server let this watch open
        with stream:
            with self._lock:
                self._stream = stream
            if self._stopped.is_set():
                return
            try:
                for line in stream:
                    if self._stopped.is_set():
                        break
                    if not line.strip():
                        continue
                    self._heard = True
                    change = self.cache.apply(*decode_event(line))
                    if change is not None:
                        self._deliver([change])
            except TransportFailure as failure:
                if self._stopped.is_set():
                    return
                raise KubeConnectionError(
                    f"the watch of {self.path} broke: {_broken(failure.error, idle_timeout)}"
                ) from None
            finally:
                with self._lock:
                    self._stream = None

    def _refusal_tolerated(self) -> bool:
        """Whether a 401 or 403 now is still within the grace given to refusals in a row."""
        now = self._clock()
        if self._refused_since is None:
            self._refused_since = now
        return now - self._refused_since < self._refusal_grace

    def _wait_after(self, failures: int, reason: str, relist: bool) -> None:
        delay = self._backoff(failures, self._random.random())
        what = "listing again" if relist else f"watching again from resourceVersion {self.cache.resource_version}"
        self._log.warning("%s; %s in %.1f s", reason, what, delay)
        self._stopped.wait(delay)


def _broken(error: BaseException, idle_timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"nothing arrived for {idle_timeout:g} s"
    return f"the connection closed in the middle of the answer ({type(error).__name__})"
