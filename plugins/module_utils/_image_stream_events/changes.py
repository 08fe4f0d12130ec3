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


class HistoryItem(NamedTuple):
    """One image a tag has pointed at (a ``status.tags[].items`` entry)."""

    image: str | None
    reference: str | None  # where that image is pulled from (dockerImageReference)
    generation: int | None  # the spec generation that image came from


class TagState(NamedTuple):
    """What one tag of a stream's status says."""

    image: str | None  # the digest it points at, None before its first image
    reference: str | None
    generation: int | None
    failure: ImportFailure | None
    history: tuple[HistoryItem, ...] = ()  # newest first, as the status keeps it


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
        history = tuple(
            HistoryItem(
                image=_text(item.get("image")),
                reference=_text(item.get("dockerImageReference")),
                generation=_number(item.get("generation")),
            )
            for item in map(_mapping, _list(entry.get("items")))
        )
        newest = history[0] if history else HistoryItem(None, None, None)
        states[name] = TagState(
            image=newest.image,
            reference=newest.reference,
            generation=newest.generation,
            failure=_import_failure(entry.get("conditions")),
            history=history,
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


def _steps(old: TagState, new: TagState) -> list[tuple[str | None, HistoryItem]]:
    """The images a tag went through from ``old`` to ``new``, oldest first, each with the image before it.

    When the image known before is still in the new history, every newer entry is a step: changes made while the
    watch was behind (an API server restart, a 410 Gone) are each reported, not only the last. Otherwise (a first
    image, a history pruned past it, a tag that went away) there is one step to what the tag points at now."""
    newest = HistoryItem(new.image, new.reference, new.generation)
    if old.image is None or new.image is None:
        return [(old.image, newest)]
    images = [item.image for item in new.history]
    if old.image not in images:
        return [(old.image, newest)]
    newer = list(reversed(new.history[: images.index(old.image)]))
    return list(zip([old.image, *(item.image for item in newer[:-1])], newer, strict=True))


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
        # (change, image before, the item it points at after, generation, import failure)
        changes: list[tuple[Change, str | None, HistoryItem, int | None, dict[str, str] | None]] = []
        if _image_change(old.image, new.image) is not None:
            for before_image, item in _steps(old, new):
                change = _image_change(before_image, item.image)
                if change is not None:
                    changes.append((change, before_image, item, item.generation, None))
        if new.failure is not None and new.failure != old.failure:
            failure = {"reason": new.failure.reason, "message": new.failure.message}
            newest = HistoryItem(new.image, new.reference, new.generation)
            changes.append(("import_failed", new.image, newest, new.failure.generation, failure))
        events.extend(
            {
                EVENT_KEY: {
                    "change": change,
                    "namespace": _text(metadata.get("namespace")) or "",
                    "image_stream": _text(metadata.get("name")) or "",
                    "tag": tag,
                    "previous_image": before_image,
                    "image": item.image,
                    "image_reference": item.reference,
                    "source": sources.get(tag),
                    "generation": generation,
                    "import_failure": import_failure,
                    "resource_version": _text(metadata.get("resourceVersion")),
                }
            }
            for change, before_image, item, generation, import_failure in changes
        )
    return events
