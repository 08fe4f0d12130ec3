# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``image_stream_events`` event source was asked to watch: its argument spec (with the connection options)
and its request, checked from the arguments of the rulebook before anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import (
    connection_argument_spec,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    all_image_streams_path,
    image_stream_path,
    validate_namespace_name,
)

IMAGE_STREAM_EVENTS_ARGS: dict[str, dict[str, Any]] = {
    "namespaces": {"type": "list", "elements": "str", "default": []},
    "emit_existing": {"type": "bool", "default": False},
}

# ansible-rulebook adds arguments of its own (eda_feedback_queue) to those of the rulebook.
_ENGINE_PREFIX = "eda_"


def argument_spec() -> dict[str, dict[str, Any]]:
    return connection_argument_spec() | IMAGE_STREAM_EVENTS_ARGS


def validated_arguments(args: Mapping[str, Any]) -> dict[str, Any]:
    """The rulebook's arguments checked and converted as a module's options are (types, aliases, defaults and the
    ``K8S_AUTH_*`` fallbacks), or ``InvalidInputError`` naming every problem."""
    given = {name: value for name, value in args.items() if not name.startswith(_ENGINE_PREFIX)}
    result = ArgumentSpecValidator(argument_spec()).validate(given)
    if result.error_messages:
        problems = [
            f"unsupported arguments: {error}" if isinstance(error, UnsupportedError) else str(error)
            for error in result.errors.errors
        ]
        raise InvalidInputError("image_stream_events: " + "; ".join(problems))
    return result.validated_parameters


@dataclass(frozen=True)
class ImageStreamEventsRequest:
    """The namespaces to watch (none: every namespace, with one cluster-wide watch) and whether the tags found at
    start are reported."""

    namespaces: tuple[str, ...] = ()
    emit_existing: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ImageStreamEventsRequest:
        # the argument spec splits "a, b" at the commas only
        namespaces = [
            validate_namespace_name(str(name).strip(), what="namespaces") for name in params.get("namespaces") or []
        ]
        return cls(namespaces=tuple(dict.fromkeys(namespaces)), emit_existing=bool(params.get("emit_existing")))

    @property
    def paths(self) -> tuple[str, ...]:
        """The image stream collections to watch, one watch each."""
        if not self.namespaces:
            return (all_image_streams_path(),)
        return tuple(image_stream_path(namespace) for namespace in self.namespaces)
