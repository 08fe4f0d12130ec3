# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an image stream spec tag should look like (``oc tag`` semantics, §1.3-§1.5), which option combinations are
refused (§1.4), and the pure edit of an ImageStream's ``spec.tags``/``status.tags`` with a per-tag action and diff.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import (
    SourceKind,
    StreamTag,
    TagSource,
    parse_docker_reference,
    validate_digest,
)

TagReference = dict[str, Any]
ImageStream = dict[str, Any]

IMAGE_API_VERSION = "image.openshift.io/v1"
REFERENCE_POLICIES = {"source": "Source", "local": "Local"}
IMPORT_MODES = ("Legacy", "PreserveOriginal")


class TagAction(StrEnum):
    """What happened (or, in check mode, would happen) to one destination tag."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    ABSENT = "absent"


class TagOptions(NamedTuple):
    """The module options that shape the TagReference (``oc tag`` flags)."""

    alias: bool = False
    scheduled: bool = False
    insecure: bool = False
    reference: bool = False
    reference_policy: str = "source"
    import_mode: str | None = None
    reimport: bool = False


def source_namespace(source: TagSource, current_namespace: str) -> str:
    """The namespace an image stream source lives in ("" for a DockerImage source)."""
    if source.kind is SourceKind.DOCKER_IMAGE:
        return ""
    return source.namespace or current_namespace


def validate_tag_request(
    options: TagOptions, source: TagSource, dests: Sequence[StreamTag], *, current_namespace: str
) -> None:
    """Refuse the option combinations ``oc tag`` refuses (§1.4), plus the ones that cannot do what they say.

    Checked on the source kind as written, before any lookup, so the answer never depends on the cluster.
    """
    if options.reference_policy not in REFERENCE_POLICIES:
        raise InvalidInputError(
            f"reference policy must be set to 'source' or 'local', got '{options.reference_policy}'"
        )
    if options.import_mode is not None and options.import_mode not in IMPORT_MODES:
        raise InvalidInputError(f"valid ImportMode values are Legacy or PreserveOriginal, got '{options.import_mode}'")
    if source.kind is not SourceKind.DOCKER_IMAGE and (options.scheduled or options.insecure):
        raise InvalidInputError(
            "only container images can have importing flags set: "
            f'source "{source}" is {_kind_with_article(source.kind)}; '
            "scheduled and insecure apply to a DockerImage source (e.g. quay.io/org/image:tag)"
        )
    if options.reimport and (source.kind is not SourceKind.DOCKER_IMAGE or options.reference):
        raise InvalidInputError(
            "reimport: true asks OpenShift to import the image again; it only applies to a DockerImage source "
            f'without reference: true (source "{source}" is {_kind_with_article(source.kind)}'
            + (" with reference: true)" if options.reference and source.kind is SourceKind.DOCKER_IMAGE else ")")
        )
    if options.alias:
        _validate_alias(source, dests, current_namespace=current_namespace)


def _kind_with_article(kind: str) -> str:
    return f"{'an' if str(kind)[:1] in 'AEIOU' else 'a'} {kind}"


def _validate_alias(source: TagSource, dests: Sequence[StreamTag], *, current_namespace: str) -> None:
    # oc's "alias and also import flags" case cannot arise here: import flags already need a DockerImage source.
    if source.kind is not SourceKind.IMAGE_STREAM_TAG:
        raise InvalidInputError(
            "alias: true makes a tag track another tag, so source must be an image stream tag "
            f'([namespace/]stream:tag); "{source}" is {_kind_with_article(source.kind)}'
        )
    namespace = source_namespace(source, current_namespace)
    tracked = StreamTag(namespace=namespace, stream=source.stream, tag=source.reference.tag)
    for dest in dests:
        # Unlike oc we compare the source's namespace: the server only tracks tags within one stream (§2.3).
        if dest.namespace != namespace or dest.stream != source.stream:
            raise InvalidInputError(
                f"cannot set alias across different image streams: {dest} would never follow {tracked}, because "
                "OpenShift only keeps a tag in sync with a tag of the same image stream in the same namespace; "
                "use a permanent tag (alias: false) and re-run the task when the source moves"
            )
        if dest == tracked:
            raise InvalidInputError(
                f"cannot set {dest} as an alias of itself; make it track another tag of {dest.namespace}/"
                f"{dest.stream}, or drop alias: true to pin it to the image it points at now"
            )


# --- resolving the source -------------------------------------------------------------------------------------------
class ResolvedSource(NamedTuple):
    """The ``from`` the destination tags will get: kind, ``from.name`` and the source namespace ("" for
    DockerImage)."""

    kind: SourceKind
    name: str
    namespace: str = ""


def needs_stream_lookup(options: TagOptions, source: TagSource) -> bool:
    """A permanent tag from an image stream tag pins the image the source points at now: read the source stream."""
    return source.kind is SourceKind.IMAGE_STREAM_TAG and not options.alias


def resolve_without_lookup(source: TagSource, *, current_namespace: str) -> ResolvedSource:
    """The ``from`` of a source that is written as it is: DockerImage, ImageStreamImage, or an alias."""
    return ResolvedSource(
        kind=source.kind, name=source.from_name, namespace=source_namespace(source, current_namespace)
    )


def latest_tag_event(stream: ImageStream, tag: str) -> dict[str, Any] | None:
    """``status.tags[tag].items[0]``, the image the tag points at now, or ``None``."""
    for status_tag in (stream.get("status") or {}).get("tags") or []:
        if status_tag.get("tag") == tag:
            items = status_tag.get("items") or []
            return items[0] if items else None
    return None


def _why_no_image(stream: ImageStream, tag: str) -> str:
    """What the stream says about a tag without an image: a failed import, or a spec tag not imported yet."""
    for status_tag in (stream.get("status") or {}).get("tags") or []:
        if status_tag.get("tag") != tag:
            continue
        for condition in status_tag.get("conditions") or []:
            if condition.get("type") == "ImportSuccess" and condition.get("status") == "False":
                return f" (its import failed: {condition.get('message') or condition.get('reason') or 'no reason'})"
    if find_spec_tag(stream, tag) is not None:
        return " (the tag exists in spec but nothing has been imported for it)"
    return " (the stream has no such tag)"


def resolve_from_stream(source: TagSource, stream: ImageStream | None, *, current_namespace: str) -> ResolvedSource:
    """Pin an image stream tag source to the image its stream's status shows now (§1.3).

    ``stream`` is the source ImageStream as read from the cluster (``None`` when it does not exist).
    """
    namespace = source_namespace(source, current_namespace)
    name = f"{namespace}/{source.stream}:{source.reference.tag}"
    if stream is None:
        raise ClusterStateError(
            f"image stream {namespace}/{source.stream} does not exist, so {name} cannot be the source of a tag; "
            "check source and namespace"
        )
    event = latest_tag_event(stream, source.reference.tag)
    if event is None or not (event.get("image") or event.get("dockerImageReference")):
        raise ClusterStateError(
            f"image stream tag {name} has no image yet{_why_no_image(stream, source.reference.tag)}; "
            "import it first or use alias: true"
        )
    image = event.get("image")
    if image:
        try:
            validate_digest(image)
        except InvalidInputError as error:
            raise ClusterStateError(
                f"image stream tag {name} points at an image with an unusable ID: {error}"
            ) from None
        return ResolvedSource(kind=SourceKind.IMAGE_STREAM_IMAGE, name=f"{source.stream}@{image}", namespace=namespace)
    # A tag with no image ID (e.g. a reference tag) is copied as the pull spec it resolves to, as oc does.
    pull_spec = event["dockerImageReference"]
    try:
        reference = parse_docker_reference(pull_spec)
    except InvalidInputError as error:
        raise ClusterStateError(
            f"image stream tag {name} has an invalid pull spec and cannot be used: {error}"
        ) from None
    return ResolvedSource(kind=SourceKind.DOCKER_IMAGE, name=reference.exact())


# --- the wanted TagReference and its comparison with the current one --------------------------------------------------
class DesiredTag(NamedTuple):
    """The TagReference the user asks for, before it meets the current one (no annotations, no generation)."""

    tag: TagReference
    import_mode_set: bool
    imports: bool
    reimport: bool


def desired_tag(options: TagOptions, source: ResolvedSource, dest: StreamTag) -> DesiredTag:
    """The spec tag ``oc tag`` would send for ``dest`` (§1.5), in the ImageStream JSON shape.

    ``from.namespace`` is written only when it differs from the destination's (the server reads "" as "same").
    ``importMode`` is written only when the user set it, so the cluster default stays in force otherwise.
    """
    from_: dict[str, str] = {"kind": str(source.kind), "name": source.name}
    if source.kind is not SourceKind.DOCKER_IMAGE and source.namespace and source.namespace != dest.namespace:
        from_["namespace"] = source.namespace
    import_policy: dict[str, Any] = {}
    if options.insecure:
        import_policy["insecure"] = True
    if options.scheduled:
        import_policy["scheduled"] = True
    if options.import_mode:
        import_policy["importMode"] = options.import_mode
    tag: TagReference = {"name": dest.tag, "from": from_}
    if options.reference:
        tag["reference"] = True
    tag["referencePolicy"] = {"type": REFERENCE_POLICIES[options.reference_policy]}
    tag["importPolicy"] = import_policy
    return DesiredTag(
        tag=tag,
        import_mode_set=options.import_mode is not None,
        imports=source.kind is SourceKind.DOCKER_IMAGE and not options.reference,
        reimport=options.reimport,
    )


def _comparable(tag: TagReference, dest: StreamTag) -> tuple[Any, ...]:
    """The parts of a spec tag that matter, with the server's defaults filled in and its own fields left out."""
    from_ = tag.get("from") or {}
    kind = from_.get("kind") or ""
    name = from_.get("name") or ""
    namespace = from_.get("namespace") or ""
    if kind == SourceKind.DOCKER_IMAGE or namespace == dest.namespace:
        namespace = ""
    # A bare "<tag>" or "<digest>" means the destination's own stream.
    if kind == SourceKind.IMAGE_STREAM_TAG and ":" not in name:
        name = f"{dest.stream}:{name}"
    elif kind == SourceKind.IMAGE_STREAM_IMAGE and "@" not in name:
        name = f"{dest.stream}@{name}"
    import_policy = tag.get("importPolicy") or {}
    return (
        kind,
        name,
        namespace,
        bool(tag.get("reference")),
        (tag.get("referencePolicy") or {}).get("type") or "Source",
        bool(import_policy.get("insecure")),
        bool(import_policy.get("scheduled")),
        import_policy.get("importMode") or "",
    )


def same_tag(current: TagReference, wanted: TagReference, dest: StreamTag) -> bool:
    """Whether two spec tags mean the same, ignoring ``generation`` and ``annotations`` and server defaults."""
    return _comparable(current, dest) == _comparable(wanted, dest)


def reconcile_tag(current: TagReference | None, desired: DesiredTag, dest: StreamTag) -> tuple[TagReference, TagAction]:
    """The spec tag to store for ``dest`` and what that does to the current one.

    Existing annotations are kept (oc wipes them); an unset ``import_mode`` keeps the current mode; ``generation`` is
    sent as 0 (the server's "import now") only for a new or changed imported DockerImage tag, or for ``reimport``.
    """
    wanted = dict(desired.tag)  # a new tag that shares the parts it does not change: neither input is modified
    if current is not None:
        if current.get("annotations") is not None:
            wanted["annotations"] = current["annotations"]
        current_mode = (current.get("importPolicy") or {}).get("importMode")
        if not desired.import_mode_set and current_mode:
            wanted["importPolicy"] = {**wanted["importPolicy"], "importMode": current_mode}
        if same_tag(current, wanted, dest) and not desired.reimport:
            return current, TagAction.UNCHANGED
    if desired.imports or desired.reimport:
        wanted["generation"] = 0
    elif current is not None and current.get("generation") is not None:
        wanted["generation"] = current["generation"]
    return wanted, TagAction.CREATED if current is None else TagAction.UPDATED


# --- editing the ImageStream -----------------------------------------------------------------------------------------
class TagChange(NamedTuple):
    """One destination tag: what is done to it, and the spec tag before and after (``None`` when absent)."""

    dest: StreamTag
    action: TagAction
    before: TagReference | None
    after: TagReference | None

    @property
    def changed(self) -> bool:
        return self.action not in (TagAction.UNCHANGED, TagAction.ABSENT)


def spec_tags(stream: ImageStream | None) -> list[TagReference]:
    return list(((stream or {}).get("spec") or {}).get("tags") or [])


def _spec_tags_by_name(stream: ImageStream | None) -> dict[str | None, TagReference]:
    """The spec tags by name; with duplicates the last one wins, as on the server."""
    return {entry.get("name"): entry for entry in spec_tags(stream)}


def find_spec_tag(stream: ImageStream | None, tag: str) -> TagReference | None:
    """The spec tag named ``tag``; with duplicates the last one wins, as on the server."""
    return _spec_tags_by_name(stream).get(tag)


def new_image_stream(namespace: str, name: str) -> ImageStream:
    """An empty ImageStream to create a missing destination stream from."""
    return {
        "apiVersion": IMAGE_API_VERSION,
        "kind": "ImageStream",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"tags": []},
    }


def _with_spec_tags(stream: ImageStream, tags: list[TagReference]) -> ImageStream:
    """A new stream with these spec tags; what it shares with ``stream`` (metadata, status) is left as it is."""
    return {**stream, "spec": {**(stream.get("spec") or {}), "tags": tags}}


def apply_tags(
    stream: ImageStream | None, wanted: Iterable[tuple[StreamTag, DesiredTag]], *, namespace: str, name: str
) -> tuple[ImageStream | None, list[TagChange]]:
    """Put every wanted tag into ``stream`` (``None``: the stream is missing and will be created).

    Returns the new stream, or ``None`` when nothing changes, and one ``TagChange`` per wanted tag. Other tags stay
    as they are; a replaced tag keeps its place, a new one is appended. Neither ``stream`` nor the wanted tags are
    modified: the new stream is built beside them and shares what it does not change.
    """
    current_tags = _spec_tags_by_name(stream)
    changes: list[TagChange] = []
    replacements: dict[str, TagReference] = {}
    for dest, desired in wanted:
        current = current_tags.get(dest.tag)
        after, action = reconcile_tag(current, desired, dest)
        changes.append(TagChange(dest=dest, action=action, before=current, after=after))
        if action is not TagAction.UNCHANGED:
            replacements[dest.tag] = after
    if stream is not None and not replacements:
        return None, changes
    tags: list[TagReference] = []
    placed: set[str] = set()
    for entry in spec_tags(stream):
        tag_name = entry.get("name")
        if tag_name in replacements:
            if tag_name not in placed:  # duplicates collapse into the one replacement
                tags.append(replacements[tag_name])
                placed.add(tag_name)
            continue
        tags.append(entry)
    tags.extend(tag for tag_name, tag in replacements.items() if tag_name not in placed)
    return _with_spec_tags(stream if stream is not None else new_image_stream(namespace, name), tags), changes


def _status_tag_names(stream: ImageStream | None) -> set[str]:
    return {entry.get("tag") for entry in ((stream or {}).get("status") or {}).get("tags") or []}


def plan_removal(stream: ImageStream | None, dests: Sequence[StreamTag]) -> list[TagChange]:
    """What ``state: absent`` does to each destination: ``deleted`` when the tag is in spec or status."""
    in_status = _status_tag_names(stream)
    in_spec = _spec_tags_by_name(stream)
    changes = []
    for dest in dests:
        before = in_spec.get(dest.tag)
        present = before is not None or dest.tag in in_status
        changes.append(
            TagChange(dest=dest, action=TagAction.DELETED if present else TagAction.ABSENT, before=before, after=None)
        )
    return changes


def tag_diff(changes: Iterable[TagChange]) -> dict[str, dict[str, TagReference]]:
    """Ansible's ``diff``: the destination spec tags before and after, keyed ``namespace/stream:tag``."""
    before: dict[str, TagReference] = {}
    after: dict[str, TagReference] = {}
    for change in changes:
        if change.before is not None:
            before[str(change.dest)] = change.before
        if change.after is not None:
            after[str(change.dest)] = change.after
    return {"before": before, "after": after}


def describe_change(change: TagChange) -> dict[str, Any]:
    """The ``tags`` item the module returns for one destination."""
    shown = change.after if change.after is not None else change.before
    from_ = (shown or {}).get("from") or None
    described: dict[str, Any] = {
        "namespace": change.dest.namespace,
        "image_stream": change.dest.stream,
        "tag": change.dest.tag,
        "action": str(change.action),
        "from": None,
        "image": None,
    }
    if from_:
        kind = from_.get("kind")
        namespace = from_.get("namespace") or (None if kind == SourceKind.DOCKER_IMAGE else change.dest.namespace)
        described["from"] = {"kind": kind, "name": from_.get("name"), "namespace": namespace}
        if kind == SourceKind.IMAGE_STREAM_IMAGE and change.after is not None and "@" in from_.get("name", ""):
            described["image"] = from_["name"].split("@", 1)[1]
    return described
