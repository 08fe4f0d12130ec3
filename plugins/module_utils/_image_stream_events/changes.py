# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The events of ``image_stream_events`` (pure): from the version of an ImageStream seen before and the one seen now
(either may be missing), one event per tag whose image changed, appeared or went, and one per new import failure.

What a tag points at is the image of its newest status item (``status.tags[].items[0].image``), as ``oc`` shows it.
Writes that do not change that (annotations, labels, a spec change the controllers have not acted on) give no event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

# Every event is {EVENT_KEY: {...}}, so a rulebook condition reads event.image_stream_tag.change.
EVENT_KEY = "image_stream_tag"

Change = Literal["tag_added", "image_changed", "tag_removed", "import_failed"]


class ImportFailure(NamedTuple):
    """A tag's ``ImportSuccess`` condition with status False. A new one (a new generation, reason or message) is a new
    failure; the same one seen again is not."""

    reason: str
    message: str
    generation: int | None


class TagState(NamedTuple):
    """What one tag of a stream's status says."""

    image: str | None  # the digest it points at, None before its first image
    reference: str | None  # where that image is pulled from (dockerImageReference)
    generation: int | None  # the spec generation that image came from
    failure: ImportFailure | None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _import_failure(conditions: Any) -> ImportFailure | None:
    for condition in map(_mapping, _list(conditions)):
        if condition.get("type") == "ImportSuccess" and condition.get("status") == "False":
            return ImportFailure(
                reason=_text(condition.get("reason")) or "",
                message=_text(condition.get("message")) or "",
                generation=_number(condition.get("generation")),
            )
    return None


def tag_states(stream: Mapping[str, Any] | None) -> dict[str, TagState]:
    """Each tag of ``status.tags`` by name (a tag listed twice: its first entry, as the API server keeps one)."""
    states: dict[str, TagState] = {}
    for entry in map(_mapping, _list(_mapping(_mapping(stream).get("status")).get("tags"))):
        name = _text(entry.get("tag"))
        if name is None or name in states:
            continue
        items = _list(entry.get("items"))
        newest = _mapping(items[0]) if items else {}
        states[name] = TagState(
            image=_text(newest.get("image")),
            reference=_text(newest.get("dockerImageReference")),
            generation=_number(newest.get("generation")),
            failure=_import_failure(entry.get("conditions")),
        )
    return states


def tag_sources(stream: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    """Where each spec tag takes its image from (``spec.tags[].from``: kind, name and namespace when set)."""
    sources: dict[str, dict[str, str]] = {}
    for entry in map(_mapping, _list(_mapping(_mapping(stream).get("spec")).get("tags"))):
        name = _text(entry.get("name"))
        source = _mapping(entry.get("from"))
        if name is None or name in sources or not source:
            continue
        sources[name] = {key: source[key] for key in ("kind", "name", "namespace") if _text(source.get(key))}
    return sources


_NO_TAG = TagState(image=None, reference=None, generation=None, failure=None)


def _image_change(before: str | None, after: str | None) -> Change | None:
    if before == after:
        return None
    if before is None:
        return "tag_added"
    return "tag_removed" if after is None else "image_changed"


def tag_events(previous: Mapping[str, Any] | None, current: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The events between two versions of one image stream (``previous`` None: it is new; ``current`` None: it was
    deleted), by tag name; for one tag its image event comes before its import failure."""
    latest = current if current is not None else previous
    if latest is None:
        return []
    metadata = _mapping(latest.get("metadata"))
    before, after = tag_states(previous), tag_states(current)
    sources = tag_sources(previous) | tag_sources(current)  # a removed tag's source may be gone from the spec
    events: list[dict[str, Any]] = []
    for tag in sorted(before.keys() | after.keys()):
        old, new = before.get(tag, _NO_TAG), after.get(tag, _NO_TAG)
        changes: list[tuple[Change, int | None, dict[str, str] | None]] = []
        image_change = _image_change(old.image, new.image)
        if image_change is not None:
            changes.append((image_change, new.generation, None))
        if new.failure is not None and new.failure != old.failure:
            failure = {"reason": new.failure.reason, "message": new.failure.message}
            changes.append(("import_failed", new.failure.generation, failure))
        events.extend(
            {
                EVENT_KEY: {
                    "change": change,
                    "namespace": _text(metadata.get("namespace")) or "",
                    "image_stream": _text(metadata.get("name")) or "",
                    "tag": tag,
                    "previous_image": old.image,
                    "image": new.image,
                    "image_reference": new.reference,
                    "source": sources.get(tag),
                    "generation": generation,
                    "import_failure": import_failure,
                    "resource_version": _text(metadata.get("resourceVersion")),
                }
            }
            for change, generation, import_failure in changes
        )
    return events
