# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The I/O of the ``image_tag`` module: validate everything, resolve the source, then read each destination
ImageStream once and write it at most once, several streams at a time; deleting sends one DELETE of
``imagestreamtags/<stream>:<tag>`` per tag, as ``oc tag -d`` does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    ConflictError,
    ForbiddenError,
    ImagesError,
    InvalidInputError,
    PartialChangeError,
    UncertainWriteError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.plan import (
    DesiredTag,
    ImageStream,
    ResolvedSource,
    TagAction,
    TagChange,
    TagOptions,
    apply_tags,
    describe_change,
    desired_tag,
    needs_stream_lookup,
    plan_removal,
    resolve_from_stream,
    resolve_without_lookup,
    source_namespace,
    tag_diff,
    validate_tag_request,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.request import ImageTagRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import (
    StreamTag,
    TagSource,
    parse_source,
    parse_stream_tag,
    validate_namespace_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.listing import list_all
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    image_stream_path,
    image_stream_tag_path,
    self_subject_access_review_path,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.read_modify_write import read_modify_write
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import Outcome, RunContext

# Image streams read or written at once. Each stream is one or two round trips to the API server, so a task over
# many streams waits mostly on latency: eight at a time make 50 streams take 7 rounds instead of 50, while staying
# under client-go's default burst of 10 requests, so one task takes no more of the API server's concurrency (shared
# between every client by API Priority and Fairness) than a well-behaved controller does.
STREAM_WORKERS = 8
# From this many streams of one namespace to read, one LIST of the namespace's streams costs the API servers less
# than a GET of each (each GET is authenticated, authorized and proxied on its own); below it, a namespace with many
# other streams would make the LIST the heavier read.
LIST_FROM = 8


def parse_dests(values: Sequence[str], *, current_namespace: str, deleting: bool) -> list[StreamTag]:
    """Every ``dest``, parsed and checked; the same tag named twice is refused."""
    if not values:
        raise InvalidInputError("dest is required: one or more [namespace/]stream:tag")
    dests: dict[StreamTag, None] = {}  # a set that keeps the order given
    for value in values:
        try:
            dest = parse_stream_tag(value, default_namespace=current_namespace, check_tag=not deleting)
        except InvalidInputError as error:
            raise InvalidInputError(f'invalid dest "{value}": {error}') from None
        if dest in dests:
            raise InvalidInputError(f'dest names {dest} twice (as "{value}"); list each tag once')
        dests[dest] = None
    return list(dests)


def _group_by_stream(dests: Sequence[StreamTag]) -> dict[tuple[str, str], list[StreamTag]]:
    groups: dict[tuple[str, str], list[StreamTag]] = {}
    for dest in dests:
        groups.setdefault((dest.namespace, dest.stream), []).append(dest)
    return groups


def _run_in_order(count: int, work: Callable[[int], None]) -> tuple[dict[int, ImagesError], int]:
    """Call ``work(0)``, ``work(1)``, ... up to ``count``, started in that order, at most ``STREAM_WORKERS`` at once;
    this thread is one of the workers, so a single call starts no thread. Once a call has failed no other is
    started; those under way finish. Returns what each failed call raised, by index, and how many were started
    (always the first ones)."""
    failures: dict[int, Exception] = {}
    started = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal started
        while True:
            with lock:
                if failures or started == count:
                    return
                index = started
                started += 1
            try:
                work(index)
            # whatever a call raises is handed to the caller's thread, which decides
            except Exception as error:  # pylint: disable=broad-exception-caught
                with lock:
                    failures[index] = error

    helpers = [threading.Thread(target=worker, daemon=True) for _helper in range(min(STREAM_WORKERS, count) - 1)]
    for helper in helpers:
        helper.start()
    worker()
    for helper in helpers:
        helper.join()
    errors = {index: error for index, error in failures.items() if isinstance(error, ImagesError)}
    defects = sorted(failures.keys() - errors.keys())
    if defects:  # a defect, not an API answer: raised as it is
        raise failures[defects[0]]
    return errors, started


class _StreamReader:
    """Reads ImageStreams at most once each, so a source stream that is also a destination is read once; many
    streams of one namespace with one LIST of its streams."""

    def __init__(self, client: KubeApi) -> None:
        self._client = client
        self._streams: dict[str, ImageStream | None] = {}

    def get(self, namespace: str, name: str) -> ImageStream | None:
        path = image_stream_path(namespace, name)
        if path not in self._streams:
            self._streams[path] = self._client.get(path, allow_missing=True)
        return self._streams[path]

    def read_all(self, streams: Sequence[tuple[str, str]]) -> None:
        """Read those of ``streams`` (namespace, name) not read yet, several at once: a namespace with
        ``LIST_FROM`` of them or more by one LIST, unless the caller may not list there, the others by a GET each.
        The first read to fail (lists first, then GETs in the order given) raises its error."""
        unread = [stream for stream in dict.fromkeys(streams) if image_stream_path(*stream) not in self._streams]
        by_namespace: dict[str, list[str]] = {}
        for namespace, name in unread:
            by_namespace.setdefault(namespace, []).append(name)
        listed = self._list_namespaces([ns for ns, names in by_namespace.items() if len(names) >= LIST_FROM])
        for namespace in listed:
            for name in by_namespace[namespace]:
                self._streams[image_stream_path(namespace, name)] = listed[namespace].get(name)
        paths = [image_stream_path(*stream) for stream in unread if stream[0] not in listed]
        read: list[ImageStream | None] = [None] * len(paths)

        def get(index: int) -> None:
            read[index] = self._client.get(paths[index], allow_missing=True)

        failures, _started = _run_in_order(len(paths), get)
        if failures:
            raise failures[min(failures)]
        self._streams.update(zip(paths, read, strict=True))

    def _list_namespaces(self, namespaces: Sequence[str]) -> dict[str, dict[str, ImageStream]]:
        """The image streams of each of ``namespaces`` by name; a namespace where listing is forbidden is left out
        (its streams are read one by one: a role may grant get without list)."""
        listed: list[dict[str, ImageStream] | None] = [None] * len(namespaces)

        def list_namespace(index: int) -> None:
            try:
                items, _version = list_all(self._client, image_stream_path(namespaces[index]))
            except ForbiddenError:
                return
            listed[index] = {item["metadata"]["name"]: item for item in items}

        failures, _started = _run_in_order(len(namespaces), list_namespace)
        if failures:
            raise failures[min(failures)]
        return {namespace: found for namespace, found in zip(namespaces, listed, strict=True) if found is not None}


def check_cross_namespace_access(
    client: KubeApi, source: TagSource, namespace: str, dests: Sequence[StreamTag]
) -> None:
    """Refuse early, with the fix, when the caller may not pull from the source namespace into another one.

    The server's own check (TagVerifier, §2.3) asks for ``get imagestreams/layers`` on the source stream, which
    OpenShift's ``system:image-puller``, ``view`` (through ``registry-viewer``), ``edit`` and ``admin`` grant.
    """
    targets = sorted({dest.namespace for dest in dests if dest.namespace != namespace})
    if not targets:
        return
    review = client.create(
        self_subject_access_review_path(),
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {
                "resourceAttributes": {
                    "namespace": namespace,
                    "verb": "get",
                    "group": "image.openshift.io",
                    "resource": "imagestreams",
                    "subresource": "layers",
                    "name": source.stream,
                }
            },
        },
    )
    status = review.get("status") or {}
    if status.get("allowed"):
        return
    reason = f" (API server: {status['reason']})" if status.get("reason") else ""
    raise ClusterStateError(
        f"you may not tag images from namespace {namespace} into {', '.join(targets)}: tagging across namespaces "
        f"needs 'get' on imagestreams/layers (group image.openshift.io) for {namespace}/{source.stream}, which the "
        f"roles system:image-puller, view, edit and admin grant{reason}. Ask an admin of {namespace} to run "
        f"'oc policy add-role-to-user system:image-puller $(oc whoami) -n {namespace}' "
        "(or use openshift_ops.images.image_puller_binding)"
    )


def resolve_source(
    client: KubeApi,
    reader: _StreamReader,
    options: TagOptions,
    source: TagSource,
    dests: Sequence[StreamTag],
    *,
    current_namespace: str,
) -> ResolvedSource:
    """The ``from`` every destination gets; reads the source stream only for a permanent tag from a stream tag."""
    namespace = source_namespace(source, current_namespace)
    if namespace:
        check_cross_namespace_access(client, source, namespace, dests)
    if not needs_stream_lookup(options, source):
        return resolve_without_lookup(source, current_namespace=current_namespace)
    try:
        stream = reader.get(namespace, source.stream)
    except ForbiddenError as error:
        error.message = (
            f"{error.message}; a permanent tag reads the source image stream {namespace}/{source.stream} to pin its "
            f"current image, which needs 'get imagestreams' in {namespace} (or use alias: true within one stream)"
        )
        raise
    return resolve_from_stream(source, stream, current_namespace=current_namespace)


class _StreamPlan:
    """One destination ImageStream: what was read, what to write, and what happens to each of its tags (and, for
    ``state: present``, the tags wanted in it, to plan again from after a conflict); once written, the tags the
    writes changed (for a failed removal, those removed before the failure). A plain class: a dataclass is
    compiled on every run of the shipped module."""

    __slots__ = ("changes", "current", "dests", "name", "namespace", "spec_update", "wanted", "written")

    def __init__(
        self,
        namespace: str,
        name: str,
        dests: list[StreamTag],
        current: ImageStream | None,
        changes: list[TagChange],
        *,
        spec_update: ImageStream | None = None,
        wanted: list[tuple[StreamTag, DesiredTag]] | None = None,
    ) -> None:
        self.namespace = namespace
        self.name = name
        self.dests = dests
        self.current = current
        self.changes = changes
        self.spec_update = spec_update
        self.wanted: list[tuple[StreamTag, DesiredTag]] = wanted or []
        self.written: list[StreamTag] = []

    @property
    def path(self) -> str:
        return image_stream_path(self.namespace, self.name)

    @property
    def changes_something(self) -> bool:
        return any(change.changed for change in self.changes)


def _plan_present(
    reader: _StreamReader, resolved: ResolvedSource, options: TagOptions, dests: Sequence[StreamTag]
) -> list[_StreamPlan]:
    plans = []
    groups = _group_by_stream(dests)
    reader.read_all(list(groups))
    for (namespace, name), group in groups.items():
        current = reader.get(namespace, name)
        wanted = [(dest, desired_tag(options, resolved, dest)) for dest in group]
        update, changes = apply_tags(current, wanted, namespace=namespace, name=name)
        plans.append(_StreamPlan(namespace, name, group, current, changes, spec_update=update, wanted=wanted))
    return plans


class _TagsUpdate(NamedTuple):
    """The stream to write (None: nothing to do) and what happens to each destination tag in it."""

    write: ImageStream | None
    changes: list[TagChange]


def _write_present(client: KubeApi, plan: _StreamPlan) -> None:
    """Write what was planned from the stream already read; on 409 read it again and plan again
    (``read_modify_write``)."""
    if plan.spec_update is None:
        return

    def update(current: ImageStream | None) -> _TagsUpdate:
        stream, changes = apply_tags(current, plan.wanted, namespace=plan.namespace, name=plan.name)
        return _TagsUpdate(stream, changes)

    outcome = read_modify_write(
        client,
        plan.path,
        update,
        current=plan.current,
        planned=_TagsUpdate(plan.spec_update, plan.changes),
        create_path=image_stream_path(plan.namespace),
    )
    if outcome.plan is not None:
        plan.changes = outcome.plan.changes
    plan.written = [change.dest for change in plan.changes if change.changed]


def _plan_absent(reader: _StreamReader, dests: Sequence[StreamTag]) -> list[_StreamPlan]:
    plans = []
    groups = _group_by_stream(dests)
    reader.read_all(list(groups))
    for (namespace, name), group in groups.items():
        current = reader.get(namespace, name)
        plans.append(_StreamPlan(namespace, name, group, current, plan_removal(current, group)))
    return plans


def _write_absent(client: KubeApi, plan: _StreamPlan) -> None:
    """DELETE ``imagestreamtags/<stream>:<tag>`` for each tag in spec or status, as ``oc tag -d`` does.

    The server removes the spec tag and its status history in one update of the stream. That is what ``edit`` and
    ``admin`` may do; they may not write ``imagestreams/status``, so removing the history with a PUT of the
    stream's status would be refused (403). The stream's uid is a precondition: a stream deleted and re-created
    since it was read is not touched. A 404 means someone else removed the tag meanwhile: nothing is left to do.
    """
    if plan.current is None:
        return
    uid = plan.current["metadata"].get("uid")
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid}} if uid else None
    for index, change in enumerate(plan.changes):
        if not change.changed:
            continue
        path = image_stream_tag_path(plan.namespace, plan.name, change.dest.tag)
        try:
            removed = client.delete(path, allow_missing=True, body=body)
        except ConflictError as error:
            error.message = (
                f"image stream {plan.namespace}/{plan.name} was deleted and created again while its tags were being "
                f"removed ({error.message}); run the task again to act on the new stream"
            )
            raise
        if removed is None:
            plan.changes[index] = change._replace(action=TagAction.ABSENT, before=None)
        else:
            plan.written.append(change.dest)


def _write_streams(
    client: KubeApi, plans: Sequence[_StreamPlan], order: dict[StreamTag, int], *, deleting: bool
) -> None:
    """Write each stream, several at once (each with its own conflict handling). After a failure no other stream is
    started; when something was written by then, ``PartialChangeError`` names it, in the order of ``dest``, with
    the first error in that order, the other streams that failed and the destinations not touched."""
    write = _write_absent if deleting else _write_present
    failures, started = _run_in_order(len(plans), lambda index: write(client, plans[index]))
    if not failures:
        return
    first = failures[min(failures)]
    written = [str(dest) for dest in sorted((dest for plan in plans for dest in plan.written), key=order.__getitem__)]
    if not written:
        raise first
    others = [_failed_stream(plans[index], error) for index, error in sorted(failures.items())[1:]]
    untouched = sorted(
        (change.dest for plan in plans[started:] for change in plan.changes if change.changed), key=order.__getitem__
    )
    also_failed = f"also failed: {', '.join(others)}; " if others else ""
    not_touched = f"not touched: {', '.join(map(str, untouched))}; " if untouched else ""
    raise PartialChangeError(
        f"{first.message} ({also_failed}{not_touched}already changed before this error: {', '.join(written)}: run "
        "the task again once the cause is fixed)",
        result={"changed": True, "written": written},
    ) from None


def _failed_stream(plan: _StreamPlan, error: ImagesError) -> str:
    """A stream whose write failed, as the partial-change report lists it after the first error."""
    if isinstance(error, UncertainWriteError):
        return f"{plan.namespace}/{plan.name} (its write may or may not have been applied)"
    return f"{plan.namespace}/{plan.name}"


def apply_image_tags(client: KubeApi, request: ImageTagRequest, run: RunContext) -> Outcome:
    """Run the ``image_tag`` module's request: its result holds ``changed``, ``tags`` and, in diff mode, ``diff``.

    Everything is validated and the source resolved before the first write; then each destination stream is read
    once and written at most once, the reads and then the writes of different streams running side by side.
    """
    current_namespace = request.namespace or client.default_namespace
    validate_namespace_name(current_namespace)
    deleting = request.state == "absent"
    dests = parse_dests(request.dest, current_namespace=current_namespace, deleting=deleting)
    reader = _StreamReader(client)
    if deleting:
        plans = _plan_absent(reader, dests)
    else:
        source = parse_source(
            request.source or "", source_type=request.source_type, current_namespace=current_namespace
        )
        validate_tag_request(request.options, source, dests, current_namespace=current_namespace)
        resolved = resolve_source(client, reader, request.options, source, dests, current_namespace=current_namespace)
        plans = _plan_present(reader, resolved, request.options, dests)

    order = {dest: index for index, dest in enumerate(dests)}
    if not run.check_mode:
        _write_streams(client, [plan for plan in plans if plan.changes_something], order, deleting=deleting)

    changes = sorted((change for plan in plans for change in plan.changes), key=lambda change: order[change.dest])
    result: dict[str, Any] = {
        "changed": any(change.changed for change in changes),
        "tags": [describe_change(change) for change in changes],
    }
    if run.want_diff:
        result["diff"] = tag_diff(changes)
    return Outcome(result)
