# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``image_tag`` module was asked to do: its request, built and checked from the options before
anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.plan import (
    TagOptions,
)


class ImageTagRequest(NamedTuple):
    """The ``image_tag`` module's options, as the core reads them."""

    dest: tuple[str, ...]
    source: str | None = None
    source_type: str = "auto"
    namespace: str | None = None
    options: TagOptions = TagOptions()
    state: str = "present"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ImageTagRequest:
        dest = params["dest"]
        return cls(
            dest=tuple([dest] if isinstance(dest, str) else dest or ()),
            source=params.get("source"),
            source_type=params.get("source_type") or "auto",
            namespace=params.get("namespace"),
            options=TagOptions(
                alias=bool(params.get("alias")),
                scheduled=bool(params.get("scheduled")),
                insecure=bool(params.get("insecure")),
                reference=bool(params.get("reference")),
                reference_policy=params.get("reference_policy") or "source",
                import_mode=params.get("import_mode"),
                reimport=bool(params.get("reimport")),
            ),
            state=params.get("state") or "present",
        )
