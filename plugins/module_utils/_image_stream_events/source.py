# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``image_stream_events`` event source as ansible-rulebook runs it: the arguments checked, one list-and-watch
of image streams per namespace (or one of every namespace) in a thread of its own over the collection's client, and
the events of each change put on ansible-rulebook's queue in the order the changes came. Every credential met is
kept out of the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ForbiddenError, ImagesError
from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.changes import tag_events
from ansible_collections.openshift_ops.images.plugins.module_utils._image_stream_events.request import (
    ImageStreamEventsRequest,
    validated_arguments,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config import ClusterConfig
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config_resolution import (
    resolve_cluster_config,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.watch import Change, ListWatch

LOG = logging.getLogger("openshift_ops.images.image_stream_events")
MASK = "********"


class EventQueue(Protocol):
    """What ansible-rulebook hands a source: an asyncio queue, or its filtering wrapper, with an awaitable put."""

    async def put(self, item: Any) -> None: ...


class SecretRedaction(logging.Filter):
    """Replaces every secret it was told about in the records of the logger it is attached to. The watch threads
    tell it about refreshed credentials while others log."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def hide(self, values: Iterable[str]) -> None:
        with self._lock:
            self._secrets.update(value for value in values if value)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)  # a secret inside a longer one is hidden too
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


async def run_event_source(queue: EventQueue, args: Mapping[str, Any], *, log: logging.Logger = LOG) -> None:
    """Check ``args`` (the rulebook's), connect, and put the events of image stream changes on ``queue`` until
    cancelled. A failure that does not heal by itself ends it with ``ImagesError``, its message free of secrets."""
    redaction = SecretRedaction()
    log.addFilter(redaction)
    try:
        await _watch_image_streams(queue, args, log, redaction)
    except ImagesError as error:
        _reword(error, redaction.redact(error.message))
        raise
    finally:
        log.removeFilter(redaction)


async def _watch_image_streams(
    queue: EventQueue, args: Mapping[str, Any], log: logging.Logger, redaction: SecretRedaction
) -> None:
    params = validated_arguments(args)
    request = ImageStreamEventsRequest.from_params(params)
    options = ConnectionOptions.from_params(params)  # checked before a kubeconfig is read or an exec plugin runs
    redaction.hide(value for value in (options.api_key, options.password) if value)
    config = await asyncio.to_thread(resolve_cluster_config, options)  # an exec plugin may take a while
    redaction.hide(config.secret_values())
    for warning in config.warnings:
        log.warning("%s", warning)

    loop = asyncio.get_running_loop()
    failed: asyncio.Future[None] = loop.create_future()
    watches = [
        _image_stream_watch(config, path, queue=queue, loop=loop, log=log, redaction=redaction)
        for path in request.paths
    ]

    def report(error: BaseException) -> None:
        if not failed.done():
            failed.set_exception(error)

    def run(watch: ListWatch) -> None:
        try:
            watch.run(emit_initial=request.emit_existing)
        except BaseException as error:  # handed to the event loop, which raises it
            if isinstance(error, ForbiddenError) and not request.namespaces:
                _reword(
                    error,
                    f"{error}. With no namespaces given the image streams of every namespace are watched, which "
                    "needs list and watch on imagestreams cluster-wide: set namespaces to the projects to watch",
                )
            with contextlib.suppress(RuntimeError):  # the loop is closed: ansible-rulebook is ending anyway
                loop.call_soon_threadsafe(report, error)
        finally:
            watch.client.close()

    threads = [
        threading.Thread(target=run, args=(watch,), name=f"image_stream_events {watch.path}", daemon=True)
        for watch in watches
    ]
    for thread in threads:
        thread.start()
    log.info("watching image streams in %s", ", ".join(request.namespaces) or "every namespace")
    try:
        await failed  # set only when a watch fails; ansible-rulebook cancels this task to stop the source
    finally:
        for watch in watches:
            watch.stop()


def _reword(error: ImagesError, message: str) -> None:
    """Change an error's message, keeping its type (ansible-rulebook names it) and its other attributes."""
    error.message = message
    error.args = (message,)


def _image_stream_watch(
    config: ClusterConfig,
    path: str,
    *,
    queue: EventQueue,
    loop: asyncio.AbstractEventLoop,
    log: logging.Logger,
    redaction: SecretRedaction,
) -> ListWatch:
    """A watch of one image stream collection with a client of its own (a client serves one thread), putting the
    events of each change on ``queue`` and waiting while the queue is full."""
    client = KubeClient(config)
    client.on_new_secrets = redaction.hide  # a refreshed exec credential

    def deliver(changes: list[Change]) -> None:
        for change in changes:
            for event in tag_events(change.previous, change.current):
                asyncio.run_coroutine_threadsafe(queue.put(event), loop).result()

    return ListWatch(client, path, deliver=deliver, log=log)
