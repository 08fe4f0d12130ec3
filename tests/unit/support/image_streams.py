"""ImageStream objects as the API server returns them, and watch events carrying them, for the tests of the
``image_stream_events`` source and of the watch."""

from __future__ import annotations

import json
from typing import Any

REGISTRY = "image-registry.openshift-image-registry.svc:5000"


def digest(label: str) -> str:
    """A well-formed image digest named by ``label`` (the same label, the same digest)."""
    return "sha256:" + label.encode().hex().ljust(64, "0")[:64]


def image_stream(
    name: str = "app",
    namespace: str = "builds",
    *,
    resource_version: str = "1",
    images: dict[str, str | None] | None = None,
    sources: dict[str, str] | None = None,
    failures: dict[str, tuple[str, str, int]] | None = None,
    generation: int = 1,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An ImageStream: ``images`` maps each status tag to the digest it points at (None: listed without an image),
    ``sources`` each spec tag to the DockerImage it imports, ``failures`` a tag to the (reason, message, generation)
    of a failed ImportSuccess condition."""
    images = images or {}
    failures = failures or {}
    status_tags = []
    for tag in dict.fromkeys([*images, *failures]):
        entry: dict[str, Any] = {"tag": tag, "items": []}
        image = images.get(tag)
        if image is not None:
            entry["items"] = [
                {
                    "created": "2030-01-01T00:00:00Z",
                    "dockerImageReference": f"{REGISTRY}/{namespace}/{name}@{image}",
                    "image": image,
                    "generation": generation,
                }
            ]
        if tag in failures:
            reason, message, failed_generation = failures[tag]
            entry["conditions"] = [
                {
                    "type": "ImportSuccess",
                    "status": "False",
                    "lastTransitionTime": "2030-01-01T00:00:00Z",
                    "reason": reason,
                    "message": message,
                    "generation": failed_generation,
                }
            ]
        status_tags.append(entry)
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "resourceVersion": resource_version,
        "generation": generation,
        "uid": f"uid-{namespace}-{name}",
    }
    if annotations:
        metadata["annotations"] = annotations
    return {
        "kind": "ImageStream",
        "apiVersion": "image.openshift.io/v1",
        "metadata": metadata,
        "spec": {
            "lookupPolicy": {"local": False},
            "tags": [
                {"name": tag, "from": {"kind": "DockerImage", "name": pull_spec}, "generation": generation}
                for tag, pull_spec in (sources or {}).items()
            ],
        },
        "status": {"dockerImageRepository": f"{REGISTRY}/{namespace}/{name}", "tags": status_tags},
    }


def stream_list(items: list[dict[str, Any]], resource_version: str, continue_token: str | None = None) -> bytes:
    """An ImageStreamList answer (its items without kind and apiVersion, as the API server sends them)."""
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    bare = [{key: value for key, value in item.items() if key not in ("kind", "apiVersion")} for item in items]
    return json.dumps(
        {"kind": "ImageStreamList", "apiVersion": "image.openshift.io/v1", "metadata": metadata, "items": bare}
    ).encode()


def watch_line(kind: str, item: dict[str, Any]) -> bytes:
    """One event of a watch stream, as the API server writes it: a JSON object and a newline."""
    return json.dumps({"type": kind, "object": item}, separators=(",", ":")).encode() + b"\n"


def bookmark(resource_version: str) -> bytes:
    metadata = {"resourceVersion": resource_version}
    return watch_line("BOOKMARK", {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1", "metadata": metadata})


def expired(message: str = "too old resource version: 5 (9)") -> bytes:
    """The ERROR event of a watch whose resourceVersion was compacted away."""
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": "Expired"}
    return watch_line("ERROR", {**status, "code": 410})
